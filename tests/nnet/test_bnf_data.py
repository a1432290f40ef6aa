"""Targets and training frames of the bottleneck DNNs: alignment dirs (phone targets, the aligner's layouts, bad
ids), the held-out split, per-speaker normalisation and the utterances that are skipped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from phonsid.data import read_map, utt2spk_to_spk2utt, write_list_map, write_map
from phonsid.io import TableWriter, read_table
from phonsid.nnet.bnf import load_bnf_config
from phonsid.nnet.bnf_data import (
    AlignmentDirError,
    PrepareError,
    normalize_features,
    open_alignment_dir,
    phone_targets_to_alignment_dir,
    prepare_bnf_egs,
)
from phonsid.nnet.frames import FrameSet

PHONES = "<eps> 0\nSIL 1\nAA 2\nB 3\n#0 4\n"


def test_phone_targets_skip_eps_and_disambiguation(tmp_path):
    (tmp_path / "phones.txt").write_text(PHONES)
    (tmp_path / "phone_ali.txt").write_text("u1 1 1 2 3 3 1\nu2 2 2 1\n")
    n, k = phone_targets_to_alignment_dir(f"ark,t:{tmp_path / 'phone_ali.txt'}", tmp_path / "phones.txt",
                                          tmp_path / "ali")
    assert (n, k) == (2, 3)
    assert (tmp_path / "ali" / "num_pdfs").read_text() == "3\n"
    assert (tmp_path / "ali" / "targets.txt").read_text() == "0 SIL\n1 AA\n2 B\n"
    ali = open_alignment_dir(tmp_path / "ali")
    assert ali.rspecifiers == [f"scp:{tmp_path / 'ali' / 'pdf_ali.scp'}"]
    got = ali.load()
    np.testing.assert_array_equal(got["u1"], [0, 0, 1, 2, 2, 0])
    np.testing.assert_array_equal(got["u2"], [1, 1, 0])
    (tmp_path / "bad.txt").write_text("u3 1 4 1\n")
    with pytest.raises(AlignmentDirError, match="utterance 'u3' has phone id 4"):
        phone_targets_to_alignment_dir(f"ark,t:{tmp_path / 'bad.txt'}", tmp_path / "phones.txt", tmp_path / "ali2")


def test_alignment_dir_layouts_and_errors(tmp_path):
    d = tmp_path / "tri1_ali"
    d.mkdir()
    with pytest.raises(AlignmentDirError, match="num_pdfs is missing"):
        open_alignment_dir(d)
    (d / "num_pdfs").write_text("5\n")
    with pytest.raises(AlignmentDirError, match="no pdf_ali.scp"):
        open_alignment_dir(d)
    # the aligner's per-job archives, in job order (10 after 2)
    for j, utt in ((1, "a"), (2, "b"), (10, "c")):
        with TableWriter(f"ark:{d / f'ali.{j}.ark'}", "int_vector") as w:
            w.write(utt, np.array([0, 1, 4], np.int32))
    ali = open_alignment_dir(d)
    assert [s.rsplit("/", 1)[1] for s in ali.rspecifiers] == ["ali.1.ark", "ali.2.ark", "ali.10.ark"]
    assert sorted(ali.load()) == ["a", "b", "c"]
    with TableWriter(f"ark:{d / 'ali.3.ark'}", "int_vector") as w:
        w.write("d", np.array([0, 7], np.int32))  # a transition id, not a pdf id
    with pytest.raises(AlignmentDirError, match="utterance 'd' has target ids in 0..7, outside 0..4"):
        open_alignment_dir(d).load()


def _corpus(root, num_spk=5, utts=4, dim=3, seed=0):
    """Speakers with their own offset and scale; targets = a function of the frame."""
    rng = np.random.default_rng(seed)
    data = root / "data"
    ali = root / "ali"
    data.mkdir(parents=True)
    ali.mkdir()
    feats, targets, utt2spk = {}, {}, {}
    for s in range(num_spk):
        for u in range(utts):
            utt = f"spk{s}-u{u}"
            n = int(rng.integers(20, 40))
            feats[utt] = (rng.standard_normal((n, dim)) * (1 + s) + 10 * s).astype(np.float32)
            targets[utt] = (np.arange(n) % 3).astype(np.int32)
            utt2spk[utt] = f"spk{s}"
    with TableWriter(f"ark,scp:{data / 'feats.ark'},{data / 'feats.scp'}") as w:
        for utt in sorted(feats):
            w.write(utt, feats[utt])
    write_map(data / "utt2spk", utt2spk)
    write_list_map(data / "spk2utt", utt2spk_to_spk2utt(utt2spk))
    with TableWriter(f"ark,scp:{ali / 'pdf_ali.ark'},{ali / 'pdf_ali.scp'}", "int_vector") as w:
        for utt in sorted(targets):
            w.write(utt, targets[utt])
    (ali / "num_pdfs").write_text("3\n")
    return data, ali, feats, targets, utt2spk


def test_prepare_split_speaker_normalisation_and_targets(tmp_path):
    data, ali, feats, targets, utt2spk = _corpus(tmp_path)
    cfg = load_bnf_config(None, ["input.normalization=speaker-mvn", "input.splice=[0]", "data.valid_speakers=1",
                                 "data.valid_utts_per_speaker=1"])
    s = prepare_bnf_egs(f"scp:{data / 'feats.scp'}", data / "utt2spk", ali, tmp_path / "egs", cfg)
    info = json.loads((tmp_path / "egs" / "info.json").read_text())
    held = info["valid_heldout_speakers"]
    assert len(held) == 1 and s.num_speakers == 4
    spk2int = read_map(tmp_path / "egs" / "spk2int")
    assert sorted(spk2int) == sorted(set(utt2spk.values()) - set(held))
    train = FrameSet.open(tmp_path / "egs", "train")
    valid = FrameSet.open(tmp_path / "egs", "valid")
    # held out: all 4 utterances of one speaker + one of each of the other 4 speakers
    assert len(valid.utts) == 8 and len(train.utts) == 12 and not set(train.utts) & set(valid.utts)
    assert sum(utt2spk[u] in held for u in valid.utts) == 4
    assert s.train_frames + s.valid_frames == sum(len(t) for t in targets.values())
    # every frame keeps its target; speakers of held-out utterances of training speakers keep their index
    for fs in (train, valid):
        for i, utt in enumerate(fs.utts):
            a, b = fs.offsets[i], fs.offsets[i + 1]
            np.testing.assert_array_equal(fs.targets[a:b], targets[utt])
            spk = utt2spk[utt]
            assert np.all(fs.spk[a:b] == (int(spk2int[spk]) if spk in spk2int else -1))
    # per-speaker normalisation: over all of a speaker's frames (train + valid), mean 0 and variance 1
    for spk in set(utt2spk.values()):
        rows = [np.asarray(fs.feats[fs.offsets[i]:fs.offsets[i + 1]])
                for fs in (train, valid) for i, u in enumerate(fs.utts) if utt2spk[u] == spk]
        allx = np.concatenate(rows).astype(np.float64)
        np.testing.assert_allclose(allx.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(allx.std(axis=0), 1, atol=1e-4)
    stats = np.load(tmp_path / "egs" / "input_stats.npz")
    np.testing.assert_allclose(stats["mean"], np.asarray(train.feats[:train.num_frames], np.float64).mean(0),
                               atol=1e-5)
    counts = (tmp_path / "egs" / "target_counts").read_text().split()[1:-1]
    assert sum(int(c) for c in counts) == s.train_frames


def test_prepare_skips_unusable_utterances(tmp_path):
    data, ali, feats, targets, utt2spk = _corpus(tmp_path, num_spk=3)
    # one alignment too short by more than the tolerance, one missing
    table = read_table(f"scp:{ali / 'pdf_ali.scp'}", "int_vector")
    table["spk0-u0"] = table["spk0-u0"][:-5]
    table["spk1-u1"] = table["spk1-u1"][:-2]  # within the default tolerance: truncated features
    del table["spk2-u3"]
    with TableWriter(f"ark,scp:{ali / 'pdf_ali2.ark'},{ali / 'pdf_ali.scp'}", "int_vector") as w:
        for k in sorted(table):
            w.write(k, table[k])
    warnings = []
    cfg = load_bnf_config(None, ["data.valid_speakers=0", "data.valid_utts_per_speaker=0"])
    s = prepare_bnf_egs(f"scp:{data / 'feats.scp'}", data / "utt2spk", ali, tmp_path / "egs", cfg,
                        log=lambda m: None, warn=warnings.append)
    assert s.skipped["length_mismatch"] == 1 and s.skipped["no_alignment"] == 1
    assert "spk0-u0" in warnings[0] and "2 utterances" in warnings[0]
    train = FrameSet.open(tmp_path / "egs", "train")
    i = train.utts.index("spk1-u1")
    assert train.offsets[i + 1] - train.offsets[i] == len(targets["spk1-u1"]) - 2
    assert s.valid_frames == 0 and FrameSet.open(tmp_path / "egs", "valid").num_frames == 0
    # nothing matches: a clear error
    (data / "utt2spk").write_text("other x\n")
    with pytest.raises(PrepareError, match="no utterance of .* has features, a speaker and an alignment"):
        prepare_bnf_egs(f"scp:{data / 'feats.scp'}", data / "utt2spk", ali, tmp_path / "egs2", cfg,
                        log=lambda m: None)


def test_normalisations():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((50, 4)) * 3 + 5).astype(np.float32)
    cfg = load_bnf_config(None, ["input.normalization=utterance-mvn"]).input
    y = normalize_features(x, cfg)
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-4)
    cmn = load_bnf_config(None, ["input.cmn_window=600"]).input  # window longer than the utterance: its mean
    np.testing.assert_allclose(normalize_features(x, cmn), x - x.mean(0), atol=1e-4)
    spk = load_bnf_config(None, ["input.normalization=speaker-mvn"]).input
    with pytest.raises(ValueError, match="speaker's statistics"):
        normalize_features(x, spk)
