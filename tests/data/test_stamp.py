"""phonsid.data.stamp and step_stamp.py: a step skips only when its inputs are as stamped and its outputs complete."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers.scripts import load_script
from phonsid.data.stamp import FORMAT, StampError, StepFiles, check_stamp, pending_path, read_stamp, write_stamp


def _touch_later(path: Path, seconds: int = 10) -> None:
    """Moves the modification time forward (a replaced file), without sleeping."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 10**9))


def _set_mtime(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def step(tmp_path: Path) -> tuple[StepFiles, Path]:
    """A finished step: a config and tables in, a wav.scp naming files and a pipe, an scp + archives out."""
    d = tmp_path
    (d / "a.wav").write_bytes(b"RIFF" + bytes(100))
    (d / "b.sph").write_bytes(b"NIST" + bytes(200))
    (d / "wav.scp").write_text(f"u1 {d}/a.wav\nu2 sph2pipe -f wav -p -c 1 {d}/b.sph |\nu3 {d}/missing.wav\n")
    (d / "utt2spk").write_text("u1 s\nu2 s\nu3 s\n")
    (d / "mfcc.conf").write_text("--num-ceps=20\n")
    (d / "model.bin").write_bytes(bytes(50))
    (d / "raw.1.ark").write_bytes(bytes(300))
    (d / "raw.2.ark").write_bytes(bytes(120))
    (d / "feats.scp").write_text(f"u1 {d}/raw.1.ark:3\nu2 {d}/raw.1.ark:150\nu3 {d}/raw.2.ark:3\n")
    (d / "final.mdl").write_bytes(bytes(40))
    spec = StepFiles(key="steps/x.sh --opt 1 data", inputs=[str(d / "utt2spk"), str(d / "mfcc.conf")],
                     input_scps=[str(d / "wav.scp")], input_stats=[str(d / "model.bin")],
                     outputs=[str(d / "final.mdl")], output_scps=[str(d / "feats.scp")])
    stamp = d / ".stamps" / "x.json"
    assert check_stamp(stamp, spec).reasons == ["no stamp: the step has not run here, or did not finish"]
    assert write_stamp(stamp, spec) == []
    return spec, stamp


def _why(stamp: Path, spec: StepFiles, note_inputs: bool = False) -> str:
    verdict = check_stamp(stamp, spec, note_inputs=note_inputs)
    assert not verdict.up_to_date
    return " | ".join(verdict.reasons)


def test_unchanged_is_up_to_date_even_when_tables_and_configs_are_touched(step):
    spec, stamp = step
    rec = read_stamp(stamp)
    assert rec["format"] == FORMAT and rec["key"] == spec.key
    assert set(rec["inputs"]) == {*spec.inputs, *spec.input_scps, *spec.input_stats}
    assert rec["inputs"][spec.input_scps[0]]["named_files"] == 3  # a.wav, b.sph from the pipe, missing.wav
    assert rec["outputs"][spec.output_scps[0]]["archives"] == {str(stamp.parents[1] / "raw.1.ark"): 300,
                                                              str(stamp.parents[1] / "raw.2.ark"): 120}
    assert not pending_path(stamp).exists()
    for p in spec.inputs:
        _touch_later(Path(p))  # same content, newer: tables and configs are compared by content
    assert check_stamp(stamp, spec).up_to_date


def test_changed_options_or_declared_files_must_run(step):
    spec, stamp = step
    assert "the step's options changed (were 'steps/x.sh --opt 1 data', now 'steps/x.sh --opt 2 data')" in _why(
        stamp, StepFiles(**{**spec.__dict__, "key": "steps/x.sh --opt 2 data"}))
    extra = str(stamp.parents[1] / "segments")
    Path(extra).write_text("")
    assert f"{extra} is a new input" in _why(stamp, StepFiles(**{**spec.__dict__, "inputs": [*spec.inputs, extra]}))
    assert f"{spec.inputs[0]} is no longer an input" in _why(
        stamp, StepFiles(**{**spec.__dict__, "inputs": spec.inputs[1:]}))


def test_changed_config_must_run_even_with_its_old_mtime(step):
    spec, stamp = step
    conf = Path(spec.inputs[1])
    mtime = conf.stat().st_mtime_ns
    conf.write_text("--num-ceps=13\n")
    _set_mtime(conf, mtime)  # e.g. restored with cp -p
    assert _why(stamp, spec, note_inputs=True) == f"{conf} changed"
    assert not stamp.exists() and pending_path(stamp).exists()  # the stale stamp is gone


@pytest.mark.parametrize("which", ["a.wav", "b.sph"])
def test_replaced_audio_must_run(step, which):
    """A plain wav.scp path and a file inside a pipe command: new content and time under the same name."""
    spec, stamp = step
    audio = stamp.parents[1] / which
    audio.write_bytes(audio.read_bytes()[:4] + bytes(64))
    _touch_later(audio)
    assert _why(stamp, spec) == (f"a file named in {spec.input_scps[0]} changed (size or modification time; it "
                                 f"names 3 files)")


def test_audio_with_same_size_but_new_mtime_must_run_and_appearing_file_too(step):
    spec, stamp = step
    _touch_later(stamp.parents[1] / "a.wav")
    assert "a file named in" in _why(stamp, spec)
    assert write_stamp(stamp, spec) == [] and check_stamp(stamp, spec).up_to_date
    (stamp.parents[1] / "missing.wav").write_bytes(bytes(10))
    assert "a file named in" in _why(stamp, spec)


def test_changed_wav_scp_entry_must_run(step):
    spec, stamp = step
    scp = Path(spec.input_scps[0])
    mtime = scp.stat().st_mtime_ns
    scp.write_text(scp.read_text().replace("a.wav", "b.sph"))
    _set_mtime(scp, mtime)
    assert _why(stamp, spec).startswith(f"{scp} changed")


def test_pipe_words_that_are_not_files_are_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("wav").write_text("a file named like a pipe option, in the current dir")
    Path("x.sph").write_bytes(bytes(8))
    Path("wav.scp").write_text("u sph2pipe -f wav --opt=x.sph -c 1 |\n")
    spec = StepFiles(input_scps=["wav.scp"])
    write_stamp("s.json", spec)
    assert read_stamp("s.json")["inputs"]["wav.scp"]["named_files"] == 2  # 'wav' and x.sph (after --opt=)
    _touch_later(Path("x.sph"))
    assert not check_stamp("s.json", spec).up_to_date


def test_input_stat_compares_size_and_time(step):
    spec, stamp = step
    _touch_later(Path(spec.input_stats[0]))
    assert _why(stamp, spec) == f"{spec.input_stats[0]} changed (size or modification time)"


def test_missing_input_must_run(step):
    spec, stamp = step
    Path(spec.inputs[0]).unlink()
    assert _why(stamp, spec) == f"input {spec.inputs[0]} is missing"


def test_deleted_archive_must_run(step):
    spec, stamp = step
    ark = stamp.parents[1] / "raw.2.ark"
    ark.unlink()
    assert _why(stamp, spec) == f"archive {ark} named by {spec.output_scps[0]} is missing"


def test_truncated_archive_must_run(step):
    spec, stamp = step
    ark = stamp.parents[1] / "raw.1.ark"
    with open(ark, "r+b") as f:
        f.truncate(200)  # every offset still inside: only the recorded size tells
    assert _why(stamp, spec) == f"archive {ark} has 200 bytes, the stamp says 300"
    with open(ark, "r+b") as f:
        f.truncate(100)  # the entry at offset 150 now points past the end
    why = _why(stamp, spec)
    assert f"{spec.output_scps[0]}:2 ('u2') points to offset 150 of {ark}, which has only 100 bytes" in why


def test_scp_pointing_into_an_archive_the_step_did_not_write_must_run(step):
    spec, stamp = step
    other = stamp.parents[1] / "other.ark"
    other.write_bytes(bytes(10))
    scp = Path(spec.output_scps[0])
    scp.write_text(scp.read_text() + f"u4 {other}:3\n")
    assert _why(stamp, spec) == f"{scp} points into {other}, which this step did not write"


def test_a_subset_of_the_scp_is_still_complete(step):
    """fix_data_dir.sh may drop utterances from feats.scp: the archives it still names are complete."""
    spec, stamp = step
    scp = Path(spec.output_scps[0])
    scp.write_text(scp.read_text().splitlines(keepends=True)[0])
    assert check_stamp(stamp, spec).up_to_date


def test_missing_or_resized_output_must_run(step):
    spec, stamp = step
    mdl = Path(spec.outputs[0])
    mdl.write_bytes(bytes(41))
    assert _why(stamp, spec) == f"output {mdl} has 41 bytes, the stamp says 40"
    mdl.unlink()
    write_stamp_fails = pytest.raises(StampError, match=f"output {mdl} is missing")
    with write_stamp_fails:
        write_stamp(stamp, spec)


def test_unreadable_stamp_must_run(step):
    spec, stamp = step
    stamp.write_text("k 1\n")  # an old-style marker
    assert "not a stamp (invalid JSON" in _why(stamp, spec)


def test_write_refuses_incomplete_outputs(tmp_path):
    (tmp_path / "a.ark").write_bytes(bytes(10))
    (tmp_path / "feats.scp").write_text(f"u1 {tmp_path}/a.ark:3\nu2 {tmp_path}/a.ark:10\nu3 {tmp_path}/b.ark:0\n")
    spec = StepFiles(output_scps=[str(tmp_path / "feats.scp")])
    with pytest.raises(StampError) as e:
        write_stamp(tmp_path / "s.json", spec)
    assert f"'u2') points to offset 10 of {tmp_path}/a.ark, which has only 10 bytes" in str(e.value)
    assert f"archive {tmp_path}/b.ark named by {tmp_path}/feats.scp is missing" in str(e.value)
    assert not (tmp_path / "s.json").exists()


def test_write_refuses_when_inputs_changed_while_the_step_ran(step):
    spec, stamp = step
    conf = Path(spec.inputs[1])
    conf.write_text("--num-ceps=13\n")
    assert not check_stamp(stamp, spec).up_to_date  # the run starts; the pending inputs are noted
    conf.write_text("--num-ceps=30\n")  # ... and change before it ends
    assert write_stamp(stamp, spec) == [f"inputs changed while the step ran: {conf} changed"]
    assert not stamp.exists()
    assert not check_stamp(stamp, spec).up_to_date
    assert write_stamp(stamp, spec) == [] and check_stamp(stamp, spec).up_to_date


def test_stamp_is_plain_json_and_written_atomically(step):
    spec, stamp = step
    rec = json.loads(stamp.read_text())
    assert sorted(rec) == ["format", "inputs", "key", "outputs", "written"]
    assert sorted(p.name for p in stamp.parent.iterdir()) == ["x.json"]  # no temporary file left


def test_cli_check_and_write(step, capsys):
    step_stamp = load_script("pyscripts/step_stamp.py")

    spec, stamp = step
    args = [f"--key={spec.key}", *[a for p in spec.inputs for a in ("--in", p)], "--in-scp", spec.input_scps[0],
            "--in-stat", spec.input_stats[0], "--out", spec.outputs[0], "--out-scp", spec.output_scps[0], str(stamp)]
    assert step_stamp.main(["check", *args]) == 0
    assert capsys.readouterr().out == ""
    (stamp.parents[1] / "raw.1.ark").unlink()
    assert step_stamp.main(["check", *args]) == 1
    assert f"step_stamp.py: {stamp}: must run: archive {stamp.parents[1]}/raw.1.ark named by" in capsys.readouterr().out
    assert step_stamp.main(["write", *args]) == 1  # the step did not remake it: no stamp
    assert "outputs are incomplete, not stamping" in capsys.readouterr().err and not stamp.exists()
    (stamp.parents[1] / "raw.1.ark").write_bytes(bytes(300))
    assert step_stamp.main(["write", *args]) == 0 and step_stamp.main(["check", *args]) == 0
