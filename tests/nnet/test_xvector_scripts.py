"""The x-vector step scripts: prepare_feats_for_egs.sh (CMN, VAD, filters) and the train/extract chain."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from phonsid.data import read_list_map, read_map
from phonsid.io import read_table
from phonsid.nnet.xvector_data import cmn_and_select_voiced, filter_training_utts

REPO = Path(__file__).resolve().parents[2]


def test_filters_are_kaldis():
    utt2num_frames = {"a1": 501, "a2": 500, "a3": 900, "b1": 800, "b2": 700, "c1": 600, "c2": 10}
    utt2spk = {"a1": "a", "a2": "a", "a3": "a", "b1": "b", "b2": "b", "c1": "c", "c2": "c", "d1": "d"}
    kept, rep = filter_training_utts(utt2num_frames, utt2spk, min_len=500, min_num_utts=2)
    # '$2 > min_len' keeps 501 and drops 500; then c (one utterance left) goes; d had no features
    assert kept == {"a1": "a", "a3": "a", "b1": "b", "b2": "b"}
    assert rep.too_short == ["a2", "c2"] and rep.few_utts_speakers == ["c"] and rep.no_features == ["d1"]
    text = "\n".join(rep.lines())
    assert "dropped 2 utterances of 500 frames or fewer (--min-len 500) (e.g. a2, c2)" in text
    assert "dropped 1 speakers with fewer than 2 utterances (--min-num-utts 2), 1 utterances (e.g. c)" in text
    assert "kept 4 utterances of 2 speakers, 2901 frames" in text


def test_prepare_feats_for_egs(tmp_path, env, make_speakers, write_data_dir):
    sp = make_speakers(num_spk=4, utts_per_spk=4, dim=5, min_len=80, max_len=200, voiced_fraction=0.75, seed=8)
    sp.vad["spk00-utt01"][:] = 0.0  # no voiced frame at all
    for u in ("spk03-utt00", "spk03-utt01", "spk03-utt02"):  # leaves spk03 with one long utterance
        sp.vad[u][40:] = 0.0
    data = write_data_dir(tmp_path / "data", sp)
    res = subprocess.run(["sid/nnet/prepare_feats_for_egs.sh", "--nj", "2", "--min-len", "50", "--min-num-utts", "3",
                          str(data), str(tmp_path / "out"), str(tmp_path / "feats")],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    out = tmp_path / "out"
    utt2spk = read_map(out / "utt2spk")
    assert "spk00-utt01" not in utt2spk and not any(u.startswith("spk03") for u in utt2spk)
    assert len(utt2spk) == 11 and sorted(read_list_map(out / "spk2utt")) == ["spk00", "spk01", "spk02"]
    log = (tmp_path / "feats" / "log" / "filter.log").read_text()
    assert "dropped 1 utterances with no features left" in log and "spk00-utt01" in log
    assert "dropped 3 utterances of 50 frames or fewer (--min-len 50)" in log
    assert "dropped 1 speakers with fewer than 3 utterances (--min-num-utts 3), 1 utterances (e.g. spk03)" in log
    assert f"wrote {out}: 11 of 16 utterances, 3 speakers" in res.stdout
    res = subprocess.run(res.args, cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode == 0 and f"{out} is up to date" in res.stdout
    feats = read_table(f"scp:{out}/feats.scp")
    num_frames = {u: int(n) for u, n in read_map(out / "utt2num_frames").items()}
    assert sorted(feats) == sorted(utt2spk) == sorted(num_frames)
    for utt, mat in feats.items():
        expect = cmn_and_select_voiced(sp.feats[utt], sp.vad[utt], cmn_window=300)
        assert mat.shape == expect.shape == (num_frames[utt], 5)
        np.testing.assert_allclose(mat, expect, atol=0.02 * np.abs(expect).max())  # compressed on disk
    assert "no voiced frame" in (tmp_path / "feats" / "log" / "create_xvector_feats_data.1.log").read_text()


def test_egs_train_extract_chain(tmp_path, env, make_speakers, write_data_dir, tiny_overrides):
    sp = make_speakers(num_spk=5, utts_per_spk=5, dim=6, min_len=120, max_len=220, seed=9)
    data = write_data_dir(tmp_path / "data", sp)
    run = lambda *cmd: subprocess.run(list(cmd), cwd=REPO, env=env, capture_output=True, text=True)  # noqa: E731
    res = run("sid/nnet/get_egs.sh", "--nj", "2", "--num-heldout-utts", "3", "--num-repeats", "12",
              "--frames-per-iter", "15000", "--frames-per-iter-diagnostic", "3000", "--num-diagnostic-archives", "1",
              "--min-frames-per-chunk", "40", "--max-frames-per-chunk", "60", str(data), str(tmp_path / "egs"))
    assert res.returncode == 0, res.stdout + res.stderr
    again = run(*res.args)
    assert again.returncode == 0 and "is up to date" in again.stdout
    opts = " ".join(tiny_overrides + ["train.num_epochs=1"])
    train = ("sid/nnet/train_xvector.sh", "--use-gpu", "no", "--xvector-opts", opts, str(tmp_path / "egs"),
             str(tmp_path / "nnet"))
    res = run(*train)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "wrote" in res.stdout and "valid accuracy" in res.stdout
    log = (tmp_path / "nnet" / "log" / "train.log").read_text()
    assert "x-vector network: 6-dim input, 5 speakers" in log and "train objective" in log
    res = run(*train)
    assert res.returncode == 0 and "up to date" in res.stdout and "nothing to do" in res.stdout
    res = run("sid/nnet/extract_xvectors.sh", "--nj", "1", str(tmp_path / "nnet"), str(data), str(tmp_path / "xv"))
    assert res.returncode == 0, res.stdout + res.stderr
    again = run(*res.args)
    assert again.returncode == 0 and "xvector.scp is up to date" in again.stdout
    xv = read_table(f"scp:{tmp_path}/xv/xvector.scp", "vector")
    assert len(xv) == 25 and all(v.shape == (24,) and np.isfinite(v).all() for v in xv.values())


def test_feature_transform_matches_kaldi_golden(golden):
    """apply-cmvn-sliding --cmn-window=300 --center=true | select-voiced-frames, on Kaldi's own outputs."""
    mfcc = read_table(f"ark:{golden}/mfcc_sre10.ark")
    vad = read_table(f"ark:{golden}/vad_sre10.ark", "vector")
    cmn = read_table(f"ark:{golden}/cmvn_sliding.ark")
    assert mfcc and sorted(mfcc) == sorted(vad) == sorted(cmn)
    for utt, feats in mfcc.items():
        got = cmn_and_select_voiced(feats, vad[utt], cmn_window=300)
        expect = cmn[utt][vad[utt] != 0]
        assert got.shape == expect.shape
        np.testing.assert_allclose(got, expect, rtol=0, atol=1e-5)  # measured: 1.2e-7
