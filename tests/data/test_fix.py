"""fix_data_dir: sorts, removes exactly the inconsistent entries, reports per file, keeps a backup."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
from helpers.datadir import keys, read, write

from phonsid.data import DataDirError, fix_data_dir, validate_data_dir


def test_drops_exactly_the_inconsistent_utterances(data_dir):
    d = data_dir(feats=True, vad=True, utt2dur=True)
    all_utts = keys(d / "utt2spk")
    # spkA-u02 has no features, spkC-u03 no VAD, spkB-u01 no text and no VAD; feats has an utterance utt2spk lacks
    write(d / "feats.scp", [ln for ln in read(d / "feats.scp") if not ln.startswith("spkA-u02 ")] + ["zz /f.ark:1"])
    write(d / "vad.scp", [ln for ln in read(d / "vad.scp") if ln.split()[0] not in ("spkC-u03", "spkB-u01")])
    write(d / "text", [ln for ln in read(d / "text") if not ln.startswith("spkB-u01 ")])
    report = fix_data_dir(d)
    dropped = {"spkA-u02", "spkC-u03", "spkB-u01"}
    kept = [u for u in all_utts if u not in dropped]
    assert report.total_utts == 9 and report.kept_utts == 6
    assert sorted(report.dropped_utts) == sorted(dropped)
    assert report.missing_from == {"text": 1, "feats.scp": 1, "vad.scp": 2, "utt2dur": 0, "wav.scp": 0}
    for name in ("utt2spk", "text", "feats.scp", "vad.scp", "utt2dur", "wav.scp"):
        assert keys(d / name) == kept, name
    assert report.removed_lines["feats.scp"] == (9, 6)  # 8 real lines + zz, minus 3
    assert report.removed_lines["utt2spk"] == (9, 6)
    assert read(d / "spk2utt") == ["spkA spkA-u01 spkA-u03", "spkB spkB-u02", "spkC spkC-u01 spkC-u02 spkC-u04"]
    assert validate_data_dir(d) == []
    messages = report.messages()
    assert "fix_data_dir.sh: kept 6 utterances out of 9 (dropped 3)" in messages
    assert "fix_data_dir.sh: 2 utterance(s) of utt2spk have no entry in vad.scp" in messages
    # the originals are in .backup
    assert "zz /f.ark:1" in read(d / ".backup" / "feats.scp")


def test_sorts_and_removes_duplicates_keeping_the_first(data_dir):
    d = data_dir()
    lines = read(d / "wav.scp")
    write(d / "wav.scp", [lines[3], lines[0], lines[1].replace(".wav", "-first.wav"), lines[1]] + lines[2:3] + lines[4:])
    report = fix_data_dir(d)
    assert report.sorted_files == ["wav.scp"] and report.duplicates == {"wav.scp": 1}
    assert report.kept_utts == report.total_utts == 9
    out = read(d / "wav.scp")
    assert keys(d / "wav.scp") == keys(d / "utt2spk")
    assert out[1] == "spkA-u02 /audio/spkA-u02-first.wav"
    assert "fix_data_dir.sh: kept all 9 utterances." in report.messages()


def test_speakers_filtered_by_spk2gender_and_cmvn(data_dir):
    d = data_dir(spk2gender=True, cmvn=True)
    write(d / "spk2gender", ["spkA m", "spkC f"])  # spkB has no gender: Kaldi drops the speaker
    report = fix_data_dir(d)
    assert report.kept_utts == 7 and all(u.startswith("spkB") for u in report.dropped_utts)
    assert keys(d / "cmvn.scp") == ["spkA", "spkC"]
    assert keys(d / "spk2utt") == ["spkA", "spkC"]
    assert validate_data_dir(d, no_feats=True) == []


def test_segments_and_recordings(data_dir):
    d = data_dir(segments=True)
    # recording rec-spkB disappears from wav.scp: its segments go, and so does speaker spkB
    write(d / "wav.scp", [ln for ln in read(d / "wav.scp") if not ln.startswith("rec-spkB")])
    # all of spkA's utterances lose their text except u01: rec-spkA stays (still used)
    write(d / "text", [ln for ln in read(d / "text") if ln.split()[0] not in ("spkA-u02", "spkA-u03")])
    report = fix_data_dir(d)
    assert sorted(report.dropped_utts) == ["spkA-u02", "spkA-u03", "spkB-u01", "spkB-u02"]
    assert keys(d / "segments") == ["spkA-u01", "spkC-u01", "spkC-u02", "spkC-u03", "spkC-u04"]
    assert keys(d / "wav.scp") == ["rec-spkA", "rec-spkC"]
    assert validate_data_dir(d, no_feats=True) == []
    # a recording no segment uses any more is dropped from wav.scp
    write(d / "text", [ln for ln in read(d / "text") if not ln.startswith("spkA-u01")])
    fix_data_dir(d)
    assert keys(d / "wav.scp") == ["rec-spkC"]


def test_unchanged_files_are_not_rewritten(data_dir):
    d = data_dir(feats=True)
    before = {n: os.stat(d / n).st_mtime_ns for n in ("utt2spk", "text", "wav.scp", "feats.scp")}
    write(d / "feats.scp", read(d / "feats.scp")[:-1])
    os.utime(d / "feats.scp", ns=(before["feats.scp"], before["feats.scp"]))
    report = fix_data_dir(d)
    assert report.kept_utts == 8
    assert set(report.written_files) == {"utt2spk", "spk2utt", "text", "wav.scp"}
    assert os.stat(d / "feats.scp").st_mtime_ns == before["feats.scp"]


def test_nothing_left_is_an_error_and_changes_nothing(data_dir):
    d = data_dir(feats=True)
    write(d / "feats.scp", ["other /f.ark:1"])
    original = {n: read(d / n) for n in ("utt2spk", "text", "wav.scp")}
    with pytest.raises(DataDirError, match=r"no utterances would remain .*feats.scp 9.*nothing was changed"):
        fix_data_dir(d)
    assert {n: read(d / n) for n in original} == original


def test_utt2spk_not_sortable_by_speaker(data_dir):
    d = data_dir({"s1": 1, "s2": 1})
    write(d / "utt2spk", ["u1 s2", "u2 s1"])
    for name in ("text", "wav.scp"):
        write(d / name, ["u1 a", "u2 b"])
    with pytest.raises(DataDirError, match="not in sorted order when sorted first on speaker-id"):
        fix_data_dir(d)


def test_extra_files(data_dir):
    d = data_dir()
    write(d / "utt2extra", [f"{u} x" for u in keys(d / "utt2spk")])
    write(d / "text", read(d / "text")[1:])
    report = fix_data_dir(d, utt_extra_files=["utt2extra"])
    assert report.kept_utts == 8
    assert keys(d / "utt2extra") == keys(d / "utt2spk")


def test_a_failed_backup_write_leaves_no_partial_backup(data_dir, repo_root, script_env):
    """A disk that fills up while .backup/wav.scp is written (simulated: a 4 KiB file-size limit on the
    process) is reported, and leaves neither a partial backup nor a temporary file; nothing is changed."""
    d = data_dir()
    lines = [f"{u} sox /audio/{u}.wav -t wav - remix 1 {'x' * 1000} |" for u in reversed(keys(d / "utt2spk"))]
    write(d / "wav.scp", lines)  # unsorted: fix_data_dir would rewrite it
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # Python ignores SIGXFSZ: writes fail (EFBIG)

    proc = subprocess.run([sys.executable, str(repo_root / "pyscripts" / "fix_data_dir.py"), str(d)], env=script_env,
                          capture_output=True, text=True, preexec_fn=limit_file_size)
    assert proc.returncode == 1
    assert f"fix_data_dir.sh: error: cannot back up {d / 'wav.scp'} to {d / '.backup' / 'wav.scp'}: File too large" \
        in proc.stderr
    assert not (d / ".backup" / "wav.scp").exists()
    assert [p.name for p in d.rglob("*.tmp")] == []
    assert {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()} == before
