"""wav-reverberate: parity with Kaldi's golden outputs, the convolution quirk, power/delay, lengths."""

from __future__ import annotations

import shlex
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from phonsid.augment import reverb
from phonsid.io.wav import read_wav_spec

SCRIPT_REL = "pyscripts/wav_reverberate.py"


def _read_int16(path) -> np.ndarray:
    x, _ = soundfile.read(str(path), dtype="int16", always_2d=True)
    return x[:, 0].astype(np.int64)


def _golden_commands(golden):
    lines = (golden / "reverb" / "COMMANDS").read_text().splitlines()
    return [shlex.split(line) for line in lines if line.startswith("wav-reverberate")]


def test_golden_parity_within_one_lsb(golden, repo_root, script_env, tmp_path):
    commands = _golden_commands(golden)
    assert len(commands) >= 9
    for argv in commands:
        out_name = argv[-1]
        cmd = [sys.executable, str(repo_root / SCRIPT_REL), *argv[1:-1], str(tmp_path / out_name)]
        proc = subprocess.run(cmd, cwd=golden / "reverb", env=script_env, capture_output=True, text=True)
        assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stderr}"
        want = _read_int16(golden / "reverb" / out_name)
        got = _read_int16(tmp_path / out_name)
        assert len(got) == len(want), out_name
        diff = np.abs(got - want)
        assert diff.max() <= 1, f"{out_name}: max difference {diff.max()} LSB"
        assert np.mean(diff > 0) < 0.05, f"{out_name}: {np.mean(diff > 0):.1%} of samples differ"


def _packed_kaldi_convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Slow reference: Kaldi's block loop over its packed real FFT layout [re0, reN, re1, im1, ...], where the
    per-bin complex product also multiplies the first (DC, Nyquist) pair as if it were a complex number."""
    n, m = len(x), len(h)
    out_len = n + m - 1
    fft_len = 1
    while fft_len < 4 * m:
        fft_len *= 2
    block = fft_len - m + 1

    def packed(v):
        f = np.fft.rfft(v, fft_len)
        p = np.empty(fft_len)
        p[0], p[1] = f[0].real, f[-1].real
        p[2::2], p[3::2] = f[1:-1].real, f[1:-1].imag
        return p

    def unpacked(p):
        f = np.empty(fft_len // 2 + 1, dtype=complex)
        f[0], f[-1] = p[0], p[1]
        f[1:-1] = p[2::2] + 1j * p[3::2]
        return np.fft.irfft(f, fft_len)

    hp = packed(h)
    sig = np.concatenate([x, np.zeros(m - 1)])
    carry = np.zeros(m - 1)
    for po in range(0, out_len, block):
        length = min(block, out_len - po)
        bp = packed(sig[po:po + length])
        prod = np.empty(fft_len)
        for i in range(fft_len // 2):
            a, b = hp[2 * i], hp[2 * i + 1]
            c, d = bp[2 * i], bp[2 * i + 1]
            prod[2 * i], prod[2 * i + 1] = a * c - b * d, a * d + b * c
        y = unpacked(prod)
        if po + block < out_len:
            sig[po:po + block] = y[:block]
            sig[po:po + m - 1] += carry
            carry = y[block:block + m - 1].copy()
        else:
            sig[po:out_len] = y[:out_len - po]
            k = min(m - 1, out_len - po)
            sig[po:po + k] += carry[:k]
    return sig


def test_block_convolution_matches_kaldi_loop_and_differs_from_plain():
    rng = np.random.default_rng(3)
    x = rng.normal(size=3000) * 1000
    h = rng.normal(size=37) * np.exp(-np.arange(37) / 8)
    ref = _packed_kaldi_convolve(x, h)
    got = reverb.kaldi_block_convolve(x, h, max_block_batch=2)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-8 * np.abs(ref).max())
    np.testing.assert_allclose(got, reverb.kaldi_block_convolve(x, h), rtol=0, atol=1e-9 * np.abs(ref).max())
    plain = np.convolve(x, h)
    assert len(got) == len(plain)
    assert np.abs(got - plain).max() > 1e-3  # the DC/Nyquist quirk is really there


def test_output_lengths_follow_kaldi():
    x = np.sin(np.arange(1000) / 5.0) * 1000
    h = np.zeros(50)
    h[7] = 20000.0
    fs = 100.0
    assert len(reverb.reverberate(x, fs, rir=h)) == 1000
    assert len(reverb.reverberate(x, fs, rir=h, shift_output=False)) == 1049
    assert len(reverb.reverberate(x, fs, shift_output=False)) == 999  # Kaldi: n + 0 - 1 without an RIR
    looped = reverb.reverberate(x, fs, duration=25.0)
    assert len(looped) == 2500
    np.testing.assert_allclose(looped[1000:2000], looped[:1000])
    np.testing.assert_allclose(looped[2000:], looped[:500])
    # A pure-delay RIR: the shift removes the delay (up to Kaldi's DC/Nyquist block error).
    y = reverb.reverberate(x, fs, rir=h)
    assert np.corrcoef(y, x)[0, 1] > 0.99


def test_additive_signal_starting_after_the_end_is_ignored():
    x = np.ones(100) * 100.0
    noise = np.ones(10)
    y = reverb.reverberate(x, 10.0, additive=[reverb.Additive(noise, 0.0, 20.0)], normalize_output=False)
    np.testing.assert_array_equal(y, x)


def test_errors_name_the_problem():
    with pytest.raises(reverb.ReverbError, match="noise.wav: all samples are zero"):
        reverb.reverberate(np.ones(10), 8000, additive=[reverb.Additive(np.zeros(5), 5.0, 0.0, "noise.wav")])
    with pytest.raises(reverb.ReverbError, match="input signal is empty"):
        reverb.reverberate(np.zeros(0), 8000)


def test_quantisation_truncates_and_clips_like_kaldi():
    data, clipped = reverb.to_int16_scale(np.array([1.7, -1.7, 40000.0, -40000.0, 0.4]))
    np.testing.assert_array_equal(data, [1, -1, 32767, -32768, 0])
    assert clipped == 2


def output_lag(x: np.ndarray, y: np.ndarray, max_lag: int) -> int:
    """Lag (samples) of y against x at the cross-correlation maximum within +-max_lag."""
    n = 1 << int(np.ceil(np.log2(2 * len(x))))
    xc = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)
    lags = np.concatenate([np.arange(0, max_lag + 1), np.arange(-max_lag, 0)])
    window = np.concatenate([xc[:max_lag + 1], xc[-max_lag:]])
    return int(lags[int(np.argmax(window))])


# real_ch0 is a measured RIR whose strongest reflection (at 46 ms) is larger than its direct path: its output
# is only checked for power; the others have the direct path as their peak, which the output must align with.
@pytest.mark.parametrize("rir_name, direct_peak", [("real_ch0.wav", False), ("sim.wav", True), ("rir1.wav", True),
                                                   ("rir4.wav", True)])
def test_reverberated_speech_keeps_power_and_timing(shared_data, rir_name, direct_peak):
    speech = read_wav_spec(str(shared_data / "librispeech" / "train-clean-100" / "103" / "103-1240-0000.flac"))
    rir = read_wav_spec(str(shared_data / "rirs" / rir_name))
    x = speech.data[0].astype(np.float64)
    y = reverb.reverberate(x, speech.sample_rate, rir=rir.data[0], rir_sample_rate=rir.sample_rate)
    assert len(y) == len(x)
    # Kaldi scales the full convolution (n + m - 1 samples) to the input power, then keeps the n samples from the
    # peak on: their energy is nearly all of it, so their power is the input's times (n + m - 1) / n.
    m = rir.num_samples
    expected = np.mean(x ** 2) * (len(x) + m - 1) / len(x)
    ratio_db = 10 * np.log10(np.mean(y ** 2) / expected)
    assert abs(ratio_db) < 0.2, f"{rir_name}: output power {ratio_db:+.2f} dB from the input's"
    if direct_peak:
        assert output_lag(x, y, int(0.1 * speech.sample_rate)) == 0, f"{rir_name}: output is delayed"
        unshifted = reverb.reverberate(x, speech.sample_rate, rir=rir.data[0], shift_output=False)
        assert output_lag(x, unshifted[:len(x)], int(0.2 * speech.sample_rate)) == int(np.argmax(rir.data[0]))
