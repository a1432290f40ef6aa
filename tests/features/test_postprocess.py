"""Energy VAD, sliding CMN, deltas and voiced-frame selection against Kaldi's outputs (given Kaldi's own
input features) and their defining properties."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.features import (
    add_deltas,
    apply_cmvn_sliding,
    compute_vad,
    delta_scales,
    select_voiced_frames,
    sliding_windows,
)


def _ark(golden, name):
    import kaldiio

    return dict(kaldiio.load_ark(str(golden / name)))


def test_vad_matches_kaldi(golden):
    cases = [("mfcc_sre10.ark", "vad_sre10.ark", dict(energy_threshold=5.5, energy_mean_scale=0.5)),
             ("mfcc_vox.ark", "vad_sre16_on_vox.ark",
              dict(energy_threshold=5.5, energy_mean_scale=0.5, frames_context=2, proportion_threshold=0.12)),
             ("train_mfcc.ark", "train_vad.ark", dict(energy_threshold=5.5, energy_mean_scale=0.5))]
    for feats_name, vad_name, opts in cases:
        feats, kaldi = _ark(golden, feats_name), _ark(golden, vad_name)
        same = total = 0
        for utt, f in feats.items():
            v = compute_vad(f, **opts)
            assert v.dtype == np.float32 and set(np.unique(v)) <= {0.0, 1.0}
            same += int((v == kaldi[utt]).sum())
            total += len(v)
        assert same / total >= 0.999, f"{vad_name}: {same}/{total} frames agree"


def test_sliding_cmn_and_deltas_match_kaldi(golden):
    mfcc, cmvn, deltas = _ark(golden, "mfcc_sre10.ark"), _ark(golden, "cmvn_sliding.ark"), _ark(golden, "deltas.ark")
    for utt, f in mfcc.items():
        assert np.abs(apply_cmvn_sliding(f, 300, 100, center=True, norm_vars=False) - cmvn[utt]).max() <= 1e-4
        assert np.abs(add_deltas(f) - deltas[utt]).max() <= 1e-4


def test_ivector_feature_chain_matches_kaldi(golden):
    """add-deltas | apply-cmvn-sliding (300, centred) | select-voiced-frames, as the sid scripts run it."""
    mfcc, vad, kaldi = _ark(golden, "mfcc_sre10.ark"), _ark(golden, "vad_sre10.ark"), _ark(golden, "ivector_feats.ark")
    for utt, f in mfcc.items():
        ours = select_voiced_frames(apply_cmvn_sliding(add_deltas(f), 300, center=True), vad[utt])
        assert ours.shape == kaldi[utt].shape
        assert np.abs(ours - kaldi[utt]).max() <= 1e-4


def test_vad_context_and_proportion():
    energy = np.array([0, 0, 10, 0, 0, 0, 0, 10, 10, 0], dtype=np.float32)
    feats = np.c_[energy, np.zeros_like(energy)]
    plain = compute_vad(feats, energy_threshold=5.0, energy_mean_scale=0.0)
    assert plain.tolist() == (energy > 5).astype(float).tolist()
    # context 1: voiced if >= 0.6 of the frames in [t-1, t+1] (2 of 3; at the edges 2 of 2) are above
    ctx = compute_vad(feats, energy_threshold=5.0, energy_mean_scale=0.0, frames_context=1, proportion_threshold=0.6)
    assert ctx.tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 1, 0]
    lenient = compute_vad(feats, energy_threshold=5.0, energy_mean_scale=0.0, frames_context=1,
                          proportion_threshold=0.3)
    assert lenient.tolist() == [0, 1, 1, 1, 0, 0, 1, 1, 1, 1]
    # mean scale: threshold 5 + 0.5 * mean(3.0) = 6.5
    scaled = compute_vad(np.c_[np.array([6.0, 7.0, 0.0, 0.0], np.float32)], 5.0, 0.5)
    assert scaled.tolist() == [0, 1, 0, 0]
    assert compute_vad(np.zeros((0, 3), np.float32)).shape == (0,)
    with pytest.raises(ValueError):
        compute_vad(feats, proportion_threshold=1.5)


def test_sliding_windows_follow_kaldi_rules():
    start, end = sliding_windows(10, cmn_window=4, center=True)
    assert start.tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 6, 6] and end.tolist() == [4, 4, 4, 5, 6, 7, 8, 9, 10, 10]
    start, end = sliding_windows(10, cmn_window=4, min_cmn_window=3, center=False)
    # not centred: the 4 frames before t and t itself; at least 3 frames at the start
    assert start.tolist() == [0, 0, 0, 0, 0, 1, 2, 3, 4, 5] and end.tolist() == [3, 3, 3, 4, 5, 6, 7, 8, 9, 10]
    start, end = sliding_windows(3, cmn_window=600, center=True)  # shorter than the window: whole utterance
    assert start.tolist() == [0, 0, 0] and end.tolist() == [3, 3, 3]


def test_sliding_cmn_against_direct_loop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)).astype(np.float32) * 3 + 7
    for center in (True, False):
        start, end = sliding_windows(50, 11, 5, center)
        out = apply_cmvn_sliding(x, 11, 5, center=center, norm_vars=True)
        for t in (0, 7, 25, 49):
            w = x[start[t]:end[t]].astype(np.float64)
            assert np.allclose(out[t], (x[t] - w.mean(0)) / w.std(0), atol=1e-5)
    assert np.allclose(apply_cmvn_sliding(x[:1], norm_vars=True), 0.0)  # one frame: zero, as Kaldi
    assert apply_cmvn_sliding(np.zeros((0, 3), np.float32)).shape == (0, 3)


def test_delta_filters_and_edges():
    s = delta_scales(2, 2)
    assert np.allclose(s[1], np.array([-2, -1, 0, 1, 2]) / 10.0)
    assert len(s[2]) == 9 and np.isclose(s[2].sum(), 0.0)
    ramp = np.arange(20, dtype=np.float32)[:, None]
    d = add_deltas(ramp, order=2, window=2)
    assert d.shape == (20, 3)
    assert np.allclose(d[4:16, 1], 1.0) and np.allclose(d[6:14, 2], 0.0)
    assert d[0, 1] == pytest.approx((0 * -2 + 0 * -1 + 1 * 1 + 2 * 2) / 10.0)  # first frame repeated
    assert add_deltas(ramp, order=0).shape == (20, 1)


def test_select_voiced_frames():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert select_voiced_frames(x, np.array([1, 0, 0, 1, 1, 0], np.float32)).tolist() == [[0, 1], [6, 7], [8, 9]]
    assert select_voiced_frames(x, np.zeros(6)).shape == (0, 2)
    with pytest.raises(ValueError, match="mismatch in number of frames"):
        select_voiced_frames(x, np.ones(5))
