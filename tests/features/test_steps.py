"""steps/make_mfcc.sh, steps/make_fbank.sh and sid/compute_vad_decision.sh on a small data dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from phonsid.io import read_table


def _data_dir(golden: Path, root: Path, extra: dict[str, str] | None = None) -> Path:
    data = root / "data" / "test"
    data.mkdir(parents=True)
    wav = {line.split()[0]: str(golden / line.split()[1]) for line in (golden / "wav8k.scp").read_text().splitlines()}
    wav.update(extra or {})
    keys = sorted(wav)
    (data / "wav.scp").write_text("".join(f"{k} {wav[k]}\n" for k in keys))
    (data / "utt2spk").write_text("".join(f"{k} {k.split('-')[0]}\n" for k in keys))
    spk: dict[str, list[str]] = {}
    for k in keys:
        spk.setdefault(k.split("-")[0], []).append(k)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(u)}\n" for s, u in sorted(spk.items())))
    return data


def _bash(repo_root: Path, env, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", *cmd], cwd=repo_root, env=env, capture_output=True, text=True)


def test_make_mfcc_with_vad_failures_and_rerun(repo_root, golden, script_env, tmp_path):
    conf = tmp_path / "mfcc.conf"
    conf.write_text((golden / "conf" / "mfcc_sre10.conf").read_text())
    data = _data_dir(golden, tmp_path, {"zz-bad": "false |"})
    args = ["steps/make_mfcc.sh", "--nj", "2", "--mfcc-config", str(conf), "--vad-config", "conf/vad.conf",
            "--max-failed-fraction", "0.2", str(data), str(tmp_path / "log"), str(tmp_path / "mfcc")]
    proc = _bash(repo_root, script_env, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 of 11 utterances of test have no features" in proc.stderr and "zz-bad" in proc.stderr
    assert "made mfcc features for test: 10 utterances (1 failed), with VAD" in proc.stdout
    feats = read_table(f"scp:{data / 'feats.scp'}")
    kaldi = read_table(f"ark:{golden / 'mfcc_sre10.ark'}")
    assert sorted(feats) == sorted(kaldi)
    # compressed on disk: within the 8-bit quantisation of Kaldi's features
    assert all(np.abs(feats[k] - kaldi[k]).max() < (kaldi[k].max(0) - kaldi[k].min(0)).max() / 100 for k in kaldi)
    vad = read_table(f"scp:{data / 'vad.scp'}", "vector")
    assert sorted(vad) == sorted(kaldi) and all(len(vad[k]) == len(kaldi[k]) for k in kaldi)
    num_frames = dict(line.split() for line in (data / "utt2num_frames").read_text().splitlines())
    assert {k: int(v) for k, v in num_frames.items()} == {k: v.shape[0] for k, v in kaldi.items()}
    assert len((data / "utt2dur").read_text().splitlines()) == 10
    assert (data / "feats.scp").read_text().splitlines() == sorted((data / "feats.scp").read_text().splitlines())
    # the same command again: up to date, nothing recomputed
    again = _bash(repo_root, script_env, *args)
    assert again.returncode == 0 and "is up to date" in again.stdout

    # VAD from the stored features with sid/compute_vad_decision.sh agrees with the fused pass
    (data / "vad.scp").rename(data / "vad_fused.scp")
    proc = _bash(repo_root, script_env, "sid/compute_vad_decision.sh", "--nj", "2", "--vad-config", "conf/vad.conf",
                 str(data), str(tmp_path / "log"), str(tmp_path / "vad"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "computed VAD for test: 10 utterances" in proc.stdout
    separate = read_table(f"scp:{data / 'vad.scp'}", "vector")
    agree = sum(int((separate[k] == vad[k]).sum()) for k in vad) / sum(len(v) for v in vad.values())
    assert agree >= 0.995  # the stored features are compressed: a few frames at the threshold may flip


def test_make_mfcc_fails_above_the_limit_and_make_fbank(repo_root, golden, script_env, tmp_path):
    conf = tmp_path / "fbank.conf"
    conf.write_text((golden / "conf" / "fbank80.conf").read_text().replace("16000", "8000"))
    data = _data_dir(golden, tmp_path, {"zz-bad1": "false |", "zz-bad2": str(tmp_path / "missing.wav")})
    proc = _bash(repo_root, script_env, "steps/make_fbank.sh", "--nj", "1", "--fbank-config", str(conf),
                 "--max-failed-fraction", "0.1", str(data))
    assert proc.returncode != 0
    assert "zz-bad1" in (proc.stdout + proc.stderr) + "".join(p.read_text() for p in (data / "log").glob("*.log"))
    assert not (data / "feats.scp").exists()
    proc = _bash(repo_root, script_env, "steps/make_fbank.sh", "--nj", "1", "--fbank-config", str(conf),
                 "--max-failed-fraction", "0.2", "--compress", "false", str(data))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    feats = read_table(f"scp:{data / 'feats.scp'}")
    assert len(feats) == 10 and all(f.shape[1] == 80 for f in feats.values())
    assert (data / "data").is_dir() and (data / "log").is_dir()  # Kaldi's default log and archive dirs


def test_make_mfcc_with_segments(repo_root, golden, script_env, tmp_path):
    data = tmp_path / "seg"
    data.mkdir()
    recs = ["1688-142285-0000", "1998-15444-0000"]
    (data / "wav.scp").write_text("".join(f"{r} {golden / 'wav8k' / r}.wav\n" for r in recs))
    segs = [(f"{r}-{i}", r, 2.0 * i, 2.0 * i + 1.5) for r in recs for i in range(2)]
    (data / "segments").write_text("".join(f"{s} {r} {b} {e}\n" for s, r, b, e in segs))
    (data / "utt2spk").write_text("".join(f"{s} {r.split('-')[0]}\n" for s, r, _, _ in segs))
    (data / "spk2utt").write_text("".join(f"{r.split('-')[0]} {r}-0 {r}-1\n" for r in recs))
    conf = tmp_path / "mfcc.conf"
    conf.write_text((golden / "conf" / "mfcc_sre10.conf").read_text())
    proc = _bash(repo_root, script_env, "steps/make_mfcc.sh", "--nj", "2", "--mfcc-config", str(conf),
                 "--compress", "false", str(data))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    feats = read_table(f"scp:{data / 'feats.scp'}")
    kaldi = read_table(f"ark:{golden / 'mfcc_sre10.ark'}")
    assert sorted(feats) == [s for s, _, _, _ in segs] and all(f.shape == (150, 20) for f in feats.values())
    # away from the segment edges the frames are those of the whole recording
    assert np.abs(feats["1998-15444-0000-1"][10:140] - kaldi["1998-15444-0000"][210:340]).max() < 2e-3


# ----------------------------------------------------------------------------------------------------------
# rerunning steps/make_mfcc.sh: it skips only when its stamp says the inputs are unchanged and the archives complete


def _tiny_data_dir(root: Path) -> Path:
    """Three generated 0.5 s utterances of two speakers (8 kHz), in a data dir with its own wav files."""
    rng = np.random.default_rng(7)
    data, wavs = root / "data" / "tiny", root / "wav"
    data.mkdir(parents=True)
    wavs.mkdir()
    utts = ["s1-a", "s1-b", "s2-a"]
    for u in utts:
        t = np.arange(4000) / 8000
        x = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 400) * t) + 0.05 * rng.standard_normal(4000)
        soundfile.write(wavs / f"{u}.wav", x, 8000, subtype="PCM_16")
    (data / "wav.scp").write_text("".join(f"{u} {wavs / u}.wav\n" for u in utts))
    (data / "utt2spk").write_text("".join(f"{u} {u.split('-')[0]}\n" for u in utts))
    (data / "spk2utt").write_text("s1 s1-a s1-b\ns2 s2-a\n")
    return data


def _shift_mtime(path: Path, seconds: int) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 10**9))


def _keep_mtime(path: Path, change) -> None:
    """Changes a file and gives it back its old modification time (as cp -p, rsync -t or tar restore it)."""
    st = path.stat()
    change(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _touch_inputs(data: Path, conf: Path) -> None:
    for p in (data / "wav.scp", data / "utt2spk", conf):
        _shift_mtime(p, 60)  # newer, same content


def _delete_archive(data: Path, conf: Path) -> None:
    (data / "data" / "raw_mfcc_tiny.1.ark").unlink()


def _truncate_archive(data: Path, conf: Path) -> None:
    ark = data / "data" / "raw_mfcc_tiny.1.ark"
    with open(ark, "r+b") as f:
        f.truncate(ark.stat().st_size - 1)  # the last matrix loses its last byte; every offset is still inside


def _replace_wav(data: Path, conf: Path) -> None:
    wav = data.parents[1] / "wav" / "s1-a.wav"
    x, sr = soundfile.read(wav)
    soundfile.write(wav, x[::-1], sr, subtype="PCM_16")  # same name and size, new content
    _shift_mtime(wav, 60)


def _change_wav_scp_entry(data: Path, conf: Path) -> None:
    wav = data.parents[1] / "wav"
    x, sr = soundfile.read(wav / "s1-a.wav")
    soundfile.write(wav / "s1-a.v2.wav", x[::-1], sr, subtype="PCM_16")
    os.utime(wav / "s1-a.v2.wav", ns=(0, (data / "wav.scp").stat().st_mtime_ns))
    _keep_mtime(data / "wav.scp", lambda p: p.write_text(p.read_text().replace("s1-a.wav", "s1-a.v2.wav")))


def _change_config(data: Path, conf: Path) -> None:
    _keep_mtime(conf, lambda p: p.write_text(p.read_text().replace("--num-ceps=20", "--num-ceps=13")))


@pytest.mark.parametrize("change, why, skips", [
    (_touch_inputs, None, True),
    (_delete_archive, "raw_mfcc_tiny.1.ark named by {data}/feats.scp is missing", False),
    (_truncate_archive, "raw_mfcc_tiny.1.ark has {size_minus_1} bytes, the stamp says {size}", False),
    (_replace_wav, "a file named in {data}/wav.scp changed", False),
    (_change_wav_scp_entry, "{data}/wav.scp changed", False),
    (_change_config, "{conf} changed", False),
], ids=["unchanged", "archive-deleted", "archive-truncated", "wav-replaced", "wav-scp-entry-changed",
        "config-changed"])
def test_make_mfcc_rerun_skips_only_when_inputs_unchanged_and_archives_complete(repo_root, script_env, tmp_path,
                                                                                change, why, skips):
    data = _tiny_data_dir(tmp_path)
    conf = tmp_path / "mfcc.conf"
    conf.write_text((repo_root / "conf" / "mfcc.conf").read_text())
    args = ["steps/make_mfcc.sh", "--nj", "1", "--mfcc-config", str(conf), str(data)]
    first = _bash(repo_root, script_env, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "made mfcc features for tiny: 3 utterances (0 failed)" in first.stdout
    before = read_table(f"scp:{data / 'feats.scp'}")
    size = (data / "data" / "raw_mfcc_tiny.1.ark").stat().st_size

    change(data, conf)
    again = _bash(repo_root, script_env, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    if skips:
        assert f"{data}/feats.scp is up to date" in again.stdout and "made mfcc" not in again.stdout
        return
    assert "is up to date" not in again.stdout
    assert why.format(data=data, conf=conf, size=size, size_minus_1=size - 1) in again.stdout
    assert "made mfcc features for tiny: 3 utterances (0 failed)" in again.stdout
    after = read_table(f"scp:{data / 'feats.scp'}")
    assert sorted(after) == sorted(before)
    if change is _change_config:
        assert all(m.shape[1] == 13 for m in after.values())
    elif change in (_replace_wav, _change_wav_scp_entry):
        assert not np.allclose(after["s1-a"], before["s1-a"]) and np.array_equal(after["s2-a"], before["s2-a"])
    # recomputed and stamped again: the next run skips
    third = _bash(repo_root, script_env, *args)
    assert third.returncode == 0 and f"{data}/feats.scp is up to date" in third.stdout


def test_make_mfcc_failure_prints_the_cause_from_the_job_log(repo_root, script_env, tmp_path):
    from phonsid.io.wav import wav_bytes

    data = tmp_path / "trunc"
    data.mkdir()
    good = wav_bytes(np.round(8000 * np.sin(np.arange(8000) * 0.3)), 8000)
    (tmp_path / "good.wav").write_bytes(good)
    (tmp_path / "trunc.wav").write_bytes(good[:30])  # the header cut inside the fmt chunk
    (data / "wav.scp").write_text(f"s1-good {tmp_path}/good.wav\ns1-trunc {tmp_path}/trunc.wav\n")
    (data / "utt2spk").write_text("s1-good s1\ns1-trunc s1\n")
    (data / "spk2utt").write_text("s1 s1-good s1-trunc\n")
    proc = _bash(repo_root, script_env, "steps/make_mfcc.sh", "--nj", "1", "--mfcc-config", "conf/mfcc.conf",
                 "--max-failed-fraction", "0", str(data))
    assert proc.returncode == 1
    log = data / "log" / "make_mfcc_trunc.1.log"
    cause = (f"utterance s1-trunc: {tmp_path}/trunc.wav: truncated wav header: the fmt chunk needs 16 bytes, "
             "found 10")
    assert "ERROR (compute_mfcc_feats.py) 1 of 2 utterances failed" in log.read_text()
    assert cause in log.read_text() and "Traceback" not in log.read_text()
    assert f"see {data}/log/make_mfcc_trunc.*.log" in proc.stderr
    assert f"  {log}: ERROR (compute_mfcc_feats.py) 1 of 2" in proc.stderr and cause in proc.stderr
    assert not (data / "feats.scp").exists()
