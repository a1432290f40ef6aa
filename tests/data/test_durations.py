"""get_utt2dur / get_utt2num_frames: sources, Kaldi's number formats, header-only frame counts."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from helpers.datadir import keys, read, write

from phonsid.data import DataDirError, feature_lengths, get_utt2dur, get_utt2num_frames
from phonsid.data.durations import awk_number, kaldi_float
from phonsid.io import SequentialReader, TableWriter, write_kaldi_matrix


def test_number_formats():
    assert awk_number(3.45 - 1.2) == "2.25"
    assert awk_number(2.0) == "2"
    assert awk_number(123 * 0.01) == "1.23"
    # samples / rate in float32 (1.54312503...), then 6 significant digits: not the double's "1.54312"
    assert kaldi_float(12345 / 8000) == "1.54313"
    assert kaldi_float(1 / 3) == "0.333333"


def test_utt2dur_from_segments(data_dir):
    d = data_dir(segments=True)
    get_utt2dur(d)
    assert read(d / "utt2dur")[:2] == ["spkA-u01 1.5", "spkA-u02 1.5"]
    assert keys(d / "utt2dur") == keys(d / "utt2spk")


def _wav(path, seconds: float, rate: int) -> None:
    soundfile.write(path, np.zeros(int(round(seconds * rate)), dtype=np.int16), rate, subtype="PCM_16")


def test_utt2dur_from_audio_files_and_pipes(data_dir, tmp_path):
    d = data_dir({"a": 2, "b": 1})
    _wav(tmp_path / "a1.wav", 1.25, 8000)
    _wav(tmp_path / "a2.wav", 0.5, 16000)
    _wav(tmp_path / "b1.wav", 12345 / 8000, 8000)
    write(d / "wav.scp", [f"a-u01 {tmp_path}/a1.wav", f"a-u02 {tmp_path}/a2.wav", f"b-u01 cat {tmp_path}/b1.wav |"])
    msgs: list[str] = []
    get_utt2dur(d, nj=2, log=msgs.append)
    assert read(d / "utt2dur") == ["a-u01 1.25", "a-u02 0.5", "b-u01 1.54313"]
    # already there with the right length: not recomputed
    write(d / "utt2dur", ["a-u01 9", "a-u02 9", "b-u01 9"])
    get_utt2dur(d, log=msgs.append)
    assert read(d / "utt2dur") == ["a-u01 9", "a-u02 9", "b-u01 9"]
    assert any("won't recompute" in m for m in msgs)


def test_utt2dur_failures(data_dir, tmp_path):
    d = data_dir({"a": 3})
    _wav(tmp_path / "ok.wav", 1.0, 8000)
    write(d / "wav.scp", [f"a-u01 {tmp_path}/ok.wav", f"a-u02 {tmp_path}/ok.wav", f"a-u03 {tmp_path}/nope.wav"])
    msgs: list[str] = []
    get_utt2dur(d, log=msgs.append)  # one of three missing: a warning, the rest written
    assert keys(d / "utt2dur") == ["a-u01", "a-u02"]
    assert any(f"{d}/wav.scp:3: utterance 'a-u03'" in m for m in msgs)
    (d / "utt2dur").unlink()
    write(d / "wav.scp", [f"a-u01 {tmp_path}/ok.wav", f"a-u02 {tmp_path}/x.wav", "a-u03 false |"])
    with pytest.raises(DataDirError, match="less than half of the utterances got a duration"):
        get_utt2dur(d)


def _feats(tmp_path, d, compress: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    mats = {u: rng.standard_normal((int(rng.integers(5, 60)), 13)).astype(np.float32) for u in keys(d / "utt2spk")}
    ark = tmp_path / ("c.ark" if compress else "f.ark")
    with TableWriter(f"ark,scp:{ark},{d}/feats.scp", compress=compress) as w:
        for u, m in mats.items():
            w[u] = m
    return mats


@pytest.mark.parametrize("compress", [False, True])
def test_utt2num_frames_from_feature_headers(data_dir, tmp_path, compress):
    d = data_dir()
    mats = _feats(tmp_path, d, compress)
    get_utt2num_frames(d)
    assert read(d / "utt2num_frames") == [f"{u} {m.shape[0]}" for u, m in mats.items()]


def test_row_ranges_and_fallback(data_dir, tmp_path):
    d = data_dir({"a": 3})
    mats = _feats(tmp_path, d, False)
    lines = read(d / "feats.scp")
    u1, u2, u3 = keys(d / "utt2spk")
    text_mat = tmp_path / "t.mat"
    write_kaldi_matrix(str(text_mat), mats[u3], binary=False)
    write(d / "feats.scp", [lines[0] + "[2:4]", lines[1], f"{u3} copy-feats {text_mat} - |"])
    with pytest.raises(DataDirError, match=f"feats.scp:3: cannot read the features of '{u3}'"):
        feature_lengths(d / "feats.scp")  # no Kaldi binaries here: the pipe fails, and the error names it
    write(d / "feats.scp", [lines[0] + "[2:4]", lines[1], f"{u3} cat {text_mat} |"])
    lengths = feature_lengths(d / "feats.scp")
    assert lengths == {u1: 3, u2: mats[u2].shape[0], u3: mats[u3].shape[0]}


def test_utt2num_frames_and_utt2dur_without_wavs(data_dir, tmp_path):
    d = data_dir({"a": 2}, wav=False, utt2dur=True)
    write(d / "utt2dur", ["a-u01 1.5", "a-u02 0.3"])
    get_utt2num_frames(d)
    assert read(d / "utt2num_frames") == ["a-u01 148", "a-u02 28"]  # int((dur - 0.015) / 0.01)
    e = data_dir({"b": 2}, name="e", wav=False)
    mats = _feats(tmp_path, e, False)
    get_utt2dur(e, frame_shift=0.01)
    assert read(e / "utt2dur") == [f"{u} {awk_number(m.shape[0] * 0.01)}" for u, m in mats.items()]


def test_golden_compressed_feature_lengths(golden, tmp_path):
    """Frame counts read from headers equal the decoded matrices of Kaldi-written compressed features."""
    rows = {k: v.shape[0] for k, v in SequentialReader(f"ark:{golden}/train_mfcc.ark")}
    scp = tmp_path / "feats.scp"
    offsets = []
    with open(golden / "train_mfcc.ark", "rb") as f:
        raw = f.read()
    pos = 0
    for key in rows:  # archive order: "key \0B..." entries
        start = raw.index(key.encode() + b" \0B", pos)
        offsets.append(f"{key} {golden}/train_mfcc.ark:{start + len(key) + 1}")
        pos = start + 1
    write(scp, offsets)
    assert feature_lengths(scp) == rows
