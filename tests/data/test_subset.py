"""subset_data_dir: Kaldi's selection rules (uniform, per speaker, shortest, first/last, lists) and the files."""

from __future__ import annotations

import pytest
from helpers.datadir import keys, read, write

from phonsid.data import DataDirError, subset_data_dir, validate_data_dir
from phonsid.data.subset import select_per_speaker, select_uniform


def test_uniform_rule_by_hand():
    # subset_scp.pl: (0,10,3) -> (0,5,1) + (5,10,2); (0,5,1) -> (0,2,0) + (2,5,1) -> ... -> 4;
    # (5,10,2) -> (5,7,1) -> 6 and (7,10,1) -> (8,10,1) -> 9
    assert select_uniform(10, 3) == [4, 6, 9]
    assert select_uniform(4, 4) == [0, 1, 2, 3]
    assert select_uniform(7, 1) == [6]
    picked = select_uniform(1000, 100)
    assert len(picked) == 100 and picked == sorted(set(picked))
    assert max(b - a for a, b in zip(picked, picked[1:])) <= 16  # spread over the whole list
    with pytest.raises(DataDirError, match="cannot subset to more utterances"):
        select_uniform(3, 4)


def test_per_speaker_rule_by_hand():
    utts = [f"u{i}" for i in range(10)]
    assert select_per_speaker(utts, 3) == ["u0", "u3", "u6"]  # skip 3: 3*4 > 10
    assert select_per_speaker(utts[:4], 3) == ["u0", "u1", "u2"]
    assert select_per_speaker(utts[:1], 2) == ["u0"]
    assert select_per_speaker(utts, 5) == ["u0", "u2", "u4", "u6", "u8"]


def test_uniform_subset_copies_filtered_files(data_dir, tmp_path):
    d = data_dir(feats=True, vad=True, utt2dur=True, spk2gender=True, cmvn=True)
    out = tmp_path / "sub"
    assert subset_data_dir(d, out, 3) == 3
    expected = [keys(d / "utt2spk")[i] for i in select_uniform(9, 3)]
    assert keys(out / "utt2spk") == expected
    for name in ("feats.scp", "vad.scp", "utt2dur", "text", "wav.scp"):
        assert keys(out / name) == expected
    speakers = sorted({line.split()[1] for line in read(out / "utt2spk")})
    assert keys(out / "spk2gender") == keys(out / "cmvn.scp") == keys(out / "spk2utt") == speakers
    validate_data_dir(out)


def test_first_last_per_spk(data_dir, tmp_path):
    d = data_dir()
    utts = keys(d / "utt2spk")
    subset_data_dir(d, tmp_path / "f", 2, first=True)
    assert keys(tmp_path / "f" / "utt2spk") == utts[:2]
    subset_data_dir(d, tmp_path / "l", 2, last=True)
    assert keys(tmp_path / "l" / "utt2spk") == utts[-2:]
    subset_data_dir(d, tmp_path / "p", 2, per_spk=True)
    # spkA: 3 utts -> skip 1 -> u01 u02; spkB: 2 -> both; spkC: 4 -> skip 2 -> u01 u03
    assert keys(tmp_path / "p" / "utt2spk") == ["spkA-u01", "spkA-u02", "spkB-u01", "spkB-u02", "spkC-u01", "spkC-u03"]


def test_shortest(data_dir, tmp_path):
    d = data_dir(utt2dur=True)
    write(d / "utt2dur", [f"{u} {v}" for u, v in zip(keys(d / "utt2spk"), [5, 1, 3, 2, 2, 9, 0.5, 7, 4])])
    subset_data_dir(d, tmp_path / "s", 4, shortest=True)
    # 0.5 spkC-u02, 1 spkA-u02, then the tie at 2 (spkB-u01, spkB-u02), by line bytes
    assert keys(tmp_path / "s" / "utt2spk") == ["spkA-u02", "spkB-u01", "spkB-u02", "spkC-u02"]
    # utt2num_frames wins over utt2dur, as in Kaldi
    write(d / "utt2num_frames", [f"{u} {v}" for u, v in zip(keys(d / "utt2spk"), [1, 2, 3, 4, 5, 6, 7, 8, 9])])
    subset_data_dir(d, tmp_path / "s2", 2, shortest=True)
    assert keys(tmp_path / "s2" / "utt2spk") == ["spkA-u01", "spkA-u02"]
    with pytest.raises(DataDirError, match="--shortest needs"):
        subset_data_dir(data_dir(name="bare"), tmp_path / "s3", 2, shortest=True)


def test_lists(data_dir, tmp_path):
    d = data_dir(segments=True)
    write(tmp_path / "utts", ["spkC-u02", "spkA-u01 extra fields", "not-there"])
    subset_data_dir(d, tmp_path / "u", utt_list=tmp_path / "utts")
    assert keys(tmp_path / "u" / "utt2spk") == ["spkA-u01", "spkC-u02"]
    assert keys(tmp_path / "u" / "wav.scp") == ["rec-spkA", "rec-spkC"]
    validate_data_dir(tmp_path / "u", no_feats=True)
    write(tmp_path / "spks", ["spkB"])
    subset_data_dir(d, tmp_path / "k", spk_list=tmp_path / "spks")
    assert keys(tmp_path / "k" / "utt2spk") == ["spkB-u01", "spkB-u02"]
    assert keys(tmp_path / "k" / "wav.scp") == ["rec-spkB"]
    write(tmp_path / "none", ["nobody"])
    with pytest.raises(DataDirError, match="the selection is empty"):
        subset_data_dir(d, tmp_path / "n", spk_list=tmp_path / "none")


def test_bad_requests(data_dir, tmp_path):
    d = data_dir()
    with pytest.raises(DataDirError, match=r"more utterances \(10\) than you originally had \(9\)"):
        subset_data_dir(d, tmp_path / "x", 10)
    with pytest.raises(DataDirError, match="exclusive"):
        subset_data_dir(d, tmp_path / "x", 2, first=True, last=True)
    with pytest.raises(DataDirError, match="must differ"):
        subset_data_dir(d, d, 2)


def test_stale_files_in_dest_are_removed(data_dir, tmp_path):
    d = data_dir(feats=True)
    subset_data_dir(d, tmp_path / "o", 3)
    (d / "feats.scp").unlink()
    subset_data_dir(d, tmp_path / "o", 3)
    assert not (tmp_path / "o" / "feats.scp").exists()
