"""combine_data and copy_data_dir."""

from __future__ import annotations

import pytest
from helpers.datadir import keys, read, write

from phonsid.data import DataDirError, combine_data, copy_data_dir, validate_data_dir


def test_combine_merges_and_sorts(data_dir, tmp_path):
    a = data_dir({"B": 2, "a": 1}, name="a", feats=True, spk2gender=True)
    b = data_dir({"C": 1, "x": 2}, name="b", feats=True, spk2gender=True, vad=True)
    out = tmp_path / "ab"
    report = combine_data(out, [a, b])
    assert report is not None and report.kept_utts == 6
    assert keys(out / "utt2spk") == ["B-u01", "B-u02", "C-u01", "a-u01", "x-u01", "x-u02"]  # C order
    for name in ("feats.scp", "text", "wav.scp"):
        assert keys(out / name) == keys(out / "utt2spk")
    assert keys(out / "spk2gender") == ["B", "C", "a", "x"]
    assert not (out / "vad.scp").exists()  # not in every source
    validate_data_dir(out)


def test_combine_fails_on_repeated_utterance(data_dir, tmp_path):
    a = data_dir({"s": 2}, name="a")
    b = data_dir({"s": 3}, name="b")
    with pytest.raises(DataDirError) as e:
        combine_data(tmp_path / "ab", [a, b])
    msg = str(e.value)
    assert msg.startswith(f"{b}/utt2spk:1: utterance id 's-u01' is also in {a}/utt2spk (line 1)")
    assert "\n" not in msg
    assert not (tmp_path / "ab").exists()


def test_combine_shared_speaker_files_and_utt2uniq(data_dir, tmp_path):
    a = data_dir({"s": 2}, name="a", spk2gender=True)
    b = data_dir({"t": 1}, name="b", spk2gender=True)
    write(b / "utt2spk", ["t-u01 s"])  # speaker s is in both sources
    write(b / "spk2utt", ["s t-u01"])
    write(b / "spk2gender", ["s m"])
    write(a / "utt2uniq", ["s-u01 orig1", "s-u02 orig2"])
    out = tmp_path / "ab"
    combine_data(out, [a, b])
    assert read(out / "spk2gender") == ["s m"]
    assert read(out / "utt2uniq") == ["s-u01 orig1", "s-u02 orig2", "t-u01 t-u01"]
    assert read(out / "spk2utt") == ["s s-u01 s-u02 t-u01"]
    write(b / "spk2gender", ["s f"])
    with pytest.raises(DataDirError, match="with a different value"):
        combine_data(tmp_path / "ab2", [a, b])


def test_combine_makes_missing_segments(data_dir, tmp_path):
    a = data_dir({"s": 2}, name="a", segments=True)
    b = data_dir({"t": 1}, name="b", utt2dur=True)
    out = tmp_path / "ab"
    combine_data(out, [a, b])
    assert read(out / "segments")[-1] == "t-u01 t-u01 0 1.5"
    assert keys(out / "wav.scp") == ["rec-s", "t-u01"]
    validate_data_dir(out, no_feats=True)


def test_combine_refuses_dest_among_sources_and_repeated_sources(data_dir, tmp_path):
    a = data_dir({"s": 2}, name="a")
    with pytest.raises(DataDirError, match="would be deleted"):
        combine_data(a, [a])
    with pytest.raises(DataDirError, match="the same source data dir is given twice"):
        combine_data(tmp_path / "aa", [a, tmp_path / "." / "a"])


def test_copy_renames_consistently(data_dir, tmp_path):
    d = data_dir({"spkA": 2, "spkB": 1}, segments=True, feats=True, spk2gender=True, cmvn=True, utt2dur=True)
    out = tmp_path / "copy"
    copy_data_dir(d, out, utt_prefix="p-", spk_prefix="p-")
    assert read(out / "utt2spk") == ["p-spkA-u01 p-spkA", "p-spkA-u02 p-spkA", "p-spkB-u01 p-spkB"]
    assert read(out / "spk2utt") == ["p-spkA p-spkA-u01 p-spkA-u02", "p-spkB p-spkB-u01"]
    assert read(out / "segments")[0] == "p-spkA-u01 rec-spkA 0.00 1.50"  # recording ids untouched
    assert read(out / "wav.scp") == read(d / "wav.scp")
    for name in ("feats.scp", "text", "utt2dur"):
        assert [line.split(None, 1)[1] for line in read(out / name)] == [line.split(None, 1)[1] for line in read(d / name)]
        assert keys(out / name) == keys(out / "utt2spk")
    assert keys(out / "spk2gender") == keys(out / "cmvn.scp") == ["p-spkA", "p-spkB"]
    assert read(out / "utt2uniq") == ["p-spkA-u01 spkA-u01", "p-spkA-u02 spkA-u02", "p-spkB-u01 spkB-u01"]
    # a second copy with suffixes keeps the original ids in utt2uniq
    out2 = tmp_path / "copy2"
    copy_data_dir(out, out2, utt_suffix="-noise")
    assert read(out2 / "utt2uniq")[0] == "p-spkA-u01-noise spkA-u01"


def test_copy_suffix_resorts_and_moves_stale_files(data_dir, tmp_path):
    # "a" < "a-x" but "a_r" > "a-x_r" ('_' sorts after '-'): suffixes can change the C order
    d = tmp_path / "d"
    d.mkdir()
    write(d / "utt2spk", ["a s", "a-x s"])
    write(d / "spk2utt", ["s a a-x"])
    write(d / "wav.scp", ["a /a.wav", "a-x /ax.wav"])
    out = tmp_path / "o"
    out.mkdir()
    write(out / "feats.scp", ["old /f.ark:1"])
    copy_data_dir(d, out, utt_suffix="_r", validate_opts={"no_text": True})
    assert read(out / "utt2spk") == ["a-x_r s", "a_r s"]
    assert read(out / "wav.scp") == ["a-x_r /ax.wav", "a_r /a.wav"]
    assert read(out / "spk2utt") == ["s a-x_r a_r"]
    assert not (out / "feats.scp").exists() and (out / ".backup" / "feats.scp").exists()


def test_copy_refuses_same_dir(data_dir):
    d = data_dir()
    with pytest.raises(DataDirError, match="to be different"):
        copy_data_dir(d, d, utt_prefix="x")
