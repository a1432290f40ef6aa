"""Framing arithmetic, windows, mel banks, DCT and lifter against Kaldi's definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phonsid.features.mel import (
    dct_matrix,
    first_sample_of_frame,
    lifter_coeffs,
    mel_banks,
    num_frames,
    reflect_indices,
    window_function,
)
from phonsid.features.options import FeatureOptionError, FrameExtractionOptions, MelBanksOptions


def test_num_frames_snip_edges_and_rounding():
    snip = FrameExtractionOptions(samp_freq=8000, snip_edges=True)  # 200 / 80 samples
    assert [num_frames(n, snip) for n in (0, 199, 200, 279, 280, 1000)] == [0, 0, 1, 1, 2, 11]
    full = FrameExtractionOptions(samp_freq=8000, snip_edges=False)  # round(n / 80)
    assert [num_frames(n, full) for n in (0, 39, 40, 119, 120, 1000)] == [0, 0, 1, 1, 2, 13]
    assert first_sample_of_frame(0, full) == 40 - 100 and first_sample_of_frame(3, full) == 240 + 40 - 100
    assert first_sample_of_frame(3, snip) == 240


def test_reflect_indices_repeats_until_inside():
    assert reflect_indices(np.array([-1, -2, 0, 4, 5, 6]), 5).tolist() == [0, 1, 0, 4, 4, 3]
    # a signal shorter than the overhang reflects more than once (Kaldi's loop)
    assert reflect_indices(np.array([-5, 7]), 3).tolist() == [1, 1]


@pytest.mark.parametrize("kind", ["hamming", "hanning", "povey", "rectangular", "sine", "blackman"])
def test_windows_are_symmetric_and_match_formulas(kind):
    opts = FrameExtractionOptions(samp_freq=16000, window_type=kind)
    w = window_function(opts)
    n = len(w)
    assert n == 400 and np.allclose(w, w[::-1], atol=1e-7)
    a = 2 * math.pi / (n - 1)
    i = 37
    expected = {"hamming": 0.54 - 0.46 * math.cos(a * i), "hanning": 0.5 - 0.5 * math.cos(a * i),
                "povey": (0.5 - 0.5 * math.cos(a * i)) ** 0.85, "rectangular": 1.0, "sine": math.sin(0.5 * a * i),
                "blackman": 0.42 - 0.5 * math.cos(a * i) + 0.08 * math.cos(2 * a * i)}[kind]
    assert w[i] == pytest.approx(expected, rel=1e-6)


def test_mel_banks_shape_support_and_peaks():
    fo = FrameExtractionOptions(samp_freq=8000)
    banks = mel_banks(MelBanksOptions(num_bins=23, low_freq=20, high_freq=3700), fo)
    assert banks.shape == (128, 23) and banks.dtype == np.float32
    assert banks.max() <= 1.0 and banks.min() >= 0.0
    freqs = np.arange(128) * 8000 / 256
    used = freqs[banks.any(axis=1)]
    assert used.min() > 20 and used.max() < 3700
    # triangles: peaks move up in frequency, neighbouring filters overlap
    peaks = banks.argmax(axis=0)
    assert np.all(np.diff(peaks) >= 0) and (banks[:, :-1] * banks[:, 1:]).sum() > 0


def test_mel_banks_reject_bad_options():
    fo = FrameExtractionOptions(samp_freq=8000)
    with pytest.raises(FeatureOptionError, match="high-freq"):
        mel_banks(MelBanksOptions(num_bins=23, low_freq=20, high_freq=5000), fo)
    with pytest.raises(FeatureOptionError, match="num-mel-bins"):
        mel_banks(MelBanksOptions(num_bins=120, low_freq=20, high_freq=3700), fo)


def test_vtln_warp_moves_the_filters():
    fo = FrameExtractionOptions(samp_freq=16000)
    mo = MelBanksOptions(num_bins=23, low_freq=20, high_freq=7600, vtln_low=100, vtln_high=-500)
    plain = mel_banks(mo, fo).argmax(axis=0)
    lower = mel_banks(mo, fo, vtln_warp=1.1).argmax(axis=0)  # factor > 1: filters at lower frequencies
    assert np.all(lower <= plain) and np.any(lower < plain)


def test_dct_is_orthonormal_and_lifter_as_kaldi():
    d = dct_matrix(23, 23)
    assert np.allclose(d @ d.T, np.eye(23), atol=1e-12)
    assert dct_matrix(13, 23).shape == (13, 23)
    lift = lifter_coeffs(13, 22.0)
    assert lift[0] == 1.0 and lift[11] == pytest.approx(1 + 11 * math.sin(math.pi * 11 / 22))
