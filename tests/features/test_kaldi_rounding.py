"""The vectorised emulation of Kaldi's float32 split-radix FFT: a correct DFT at every size, and the
per-frame processing (DC removal, pre-emphasis, window) of Kaldi's ProcessWindow."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.features.kaldi_rounding import KaldiRoundingSpectrum, strided_sdot_sum
from phonsid.features.mel import window_function
from phonsid.features.options import FrameExtractionOptions


@pytest.mark.parametrize("n_fft", [4, 8, 16, 32, 64, 128, 256, 512, 1024])
def test_power_spectrum_is_the_dft(n_fft):
    rate = n_fft * 100  # frame_length 10 ms = n_fft samples
    opts = FrameExtractionOptions(samp_freq=rate, frame_length_ms=10.0, frame_shift_ms=5.0)
    spec = KaldiRoundingSpectrum(opts)
    rng = np.random.default_rng(n_fft)
    frames = (rng.standard_normal((7, n_fft)) * 1000).astype(np.float32)
    ours = spec.power_spectrum(frames)
    exact = np.abs(np.fft.rfft(frames.astype(np.float64), axis=1)) ** 2
    assert ours.shape == exact.shape == (7, n_fft // 2 + 1)
    assert np.abs(ours - exact).max() <= 1e-5 * exact.max()


def test_process_matches_kaldi_processing_in_double():
    opts = FrameExtractionOptions(samp_freq=8000)
    spec = KaldiRoundingSpectrum(opts)
    rng = np.random.default_rng(1)
    raw = np.round(rng.standard_normal((5, 200)) * 500 + 300).astype(np.float32)
    power, energy = spec.process(raw, window_energy=True)
    x = raw.astype(np.float64)
    x -= x.mean(axis=1, keepdims=True)
    c = float(np.float32(0.97))
    z = np.concatenate([x[:, :1] * (1 - c), x[:, 1:] - c * x[:, :-1]], axis=1) * window_function(opts)
    exact = np.abs(np.fft.rfft(z, n=256, axis=1)) ** 2
    assert np.abs(power - exact).max() <= 1e-5 * exact.max()
    assert np.allclose(energy, np.log((z * z).sum(axis=1)), atol=1e-5)


def test_strided_sum_accumulates_in_pairs():
    x = np.arange(1, 11, dtype=np.float32)[:, None]  # 10 samples, one frame
    assert strided_sdot_sum(x)[0] == 55.0
    # order matters in float32: (1e8 + 1 + 1 ...) differs from the pairwise order only in the last bits
    big = np.array([1e8, 1, -1e8, 1, 3], dtype=np.float32)[:, None]
    assert strided_sdot_sum(big)[0] == np.float32(np.float32(np.float32(1e8) + np.float32(-1e8)) + 3) + 2


def test_non_power_of_two_is_refused():
    with pytest.raises(ValueError, match="power-of-two"):
        KaldiRoundingSpectrum(FrameExtractionOptions(samp_freq=8000, frame_length_ms=24, round_to_power_of_two=False))
