"""split_data: Kaldi's speaker assignment, speakers kept together, every file split, up-to-date skipping."""

from __future__ import annotations

import os

import pytest
from helpers.datadir import keys, read, write

from phonsid.data import DataDirError, split_data, validate_data_dir
from phonsid.data.split import split_by_speaker, split_evenly


def _pairs(counts: list[int]) -> list[tuple[str, str]]:
    return [(f"s{i}-u{j}", f"s{i}") for i, c in enumerate(counts, 1) for j in range(c)]


def test_kaldi_assignment_rule():
    # initial blocks s1..s3 | s4 s5 (sizes 3 | 11); moving s4 left makes it 4 | 10, nothing more helps
    assert split_by_speaker(_pairs([1, 1, 1, 1, 10]), 2) == [["s1", "s2", "s3", "s4"], ["s5"]]
    # initial s1 s2 | s3 s4 (6 | 2); moving s2 right gives 5 | 3
    assert split_by_speaker(_pairs([5, 1, 1, 1]), 2) == [["s1"], ["s2", "s3", "s4"]]
    # equal speakers: contiguous blocks of i*N//S
    assert split_by_speaker(_pairs([2] * 6), 3) == [["s1", "s2"], ["s3", "s4"], ["s5", "s6"]]


def test_too_many_splits():
    with pytest.raises(DataDirError, match="number of speakers 2 is less than the number of splits 3"):
        split_by_speaker(_pairs([4, 4]), 3)
    with pytest.raises(DataDirError, match="too many pieces"):
        split_evenly(2, 3)


def test_split_evenly_sizes():
    assert [len(r) for r in split_evenly(10, 4)] == [3, 3, 2, 2]
    assert [list(r) for r in split_evenly(5, 5)] == [[0], [1], [2], [3], [4]]


def test_split_keeps_speakers_together_and_splits_every_file(data_dir):
    counts = {f"spk{i}": c for i, c in enumerate([3, 5, 2, 4, 4, 1, 6], 1)}
    d = data_dir(counts, feats=True, vad=True, utt2dur=True, spk2gender=True, cmvn=True)
    parts = split_data(d, 3)
    assert parts == [d / "split3" / str(j) for j in (1, 2, 3)]
    all_utts: list[str] = []
    speakers_seen: set[str] = set()
    for p in parts:
        utts = keys(p / "utt2spk")
        spks = {line.split()[1] for line in read(p / "utt2spk")}
        assert not spks & speakers_seen, "a speaker is in two splits"
        speakers_seen |= spks
        all_utts += utts
        for name in ("feats.scp", "vad.scp", "utt2dur", "text", "wav.scp"):
            assert keys(p / name) == utts, name
        for name in ("spk2gender", "cmvn.scp", "spk2utt"):
            assert keys(p / name) == sorted(spks), name
        validate_data_dir(p)  # raises on any inconsistency (a single-speaker part only warns)
    assert all_utts == keys(d / "utt2spk")
    sizes = [len(keys(p / "utt2spk")) for p in parts]
    expected = split_by_speaker([tuple(line.split()) for line in read(d / "utt2spk")], 3)
    assert sizes == [sum(counts[s] for s in part) for part in expected]
    assert max(sizes) - min(sizes) <= max(counts.values())


def test_split_with_segments(data_dir):
    d = data_dir({"a": 2, "b": 3, "c": 1}, segments=True)
    parts = split_data(d, 2)
    for p in parts:
        recos = {line.split()[1] for line in read(p / "segments")}
        assert set(keys(p / "wav.scp")) == recos
        assert keys(p / "segments") == keys(p / "utt2spk")


def test_per_utt(data_dir):
    d = data_dir({"a": 7, "b": 3})
    parts = split_data(d, 4, per_utt=True)
    assert parts[0].parent.name == "split4utt"
    assert [len(keys(p / "utt2spk")) for p in parts] == [3, 3, 2, 2]
    assert read(parts[2] / "spk2utt") == ["a a-u07", "b b-u01"]
    assert [keys(p / "spk2utt") for p in parts] == [["a"], ["a"], ["a", "b"], ["b"]]  # speakers may be shared


def test_up_to_date_split_is_skipped_and_stale_one_redone(data_dir):
    d = data_dir(feats=True)
    parts = split_data(d, 2)
    mtimes = {p: os.stat(p / "feats.scp").st_mtime_ns for p in parts}
    split_data(d, 2)
    assert {p: os.stat(p / "feats.scp").st_mtime_ns for p in parts} == mtimes
    # a data file newer than the split forces a new split
    write(d / "feats.scp", [line.replace("raw.ark", "new.ark") for line in read(d / "feats.scp")])
    later = max(mtimes.values()) + 10**9
    os.utime(d / "feats.scp", ns=(later, later))
    split_data(d, 2)
    assert "new.ark" in (parts[0] / "feats.scp").read_text()
    # a file removed from the data dir is removed from the split too
    (d / "feats.scp").unlink()
    split_data(d, 2, force=True)
    assert not (parts[0] / "feats.scp").exists()


def test_more_splits_than_speakers(data_dir):
    d = data_dir({"a": 5, "b": 5})
    with pytest.raises(DataDirError, match="number of speakers 2 is less than the number of splits 3"):
        split_data(d, 3)
    assert len(split_data(d, 3, per_utt=True)) == 3
