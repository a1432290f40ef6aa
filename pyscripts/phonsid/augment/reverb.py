"""Kaldi's ``wav-reverberate`` arithmetic: RIR convolution, early-reverb energy, additive signals at an SNR.

What Kaldi does (``featbin/wav-reverberate.cc``, ``feat/signal.cc``), and so what this module does:

- The RIR is read as 16-bit-scale samples and divided by 2^15. The input is convolved with it in full
  (length ``n + m - 1``) by overlap-add FFT blocks whose FFT size is the power of two at or above ``4 m``.
- Kaldi's block convolution multiplies the two packed real FFTs bin by bin as complex numbers, including the
  first pair, which holds the real DC and Nyquist values. So each block's DC bin becomes
  ``X0 H0 - XN HN`` and its Nyquist bin ``X0 HN + XN H0`` instead of ``X0 H0`` and ``XN HN``: a small
  constant plus an alternating (+-1) term over every block. ``kaldi_block_convolve`` reproduces that, which is
  what makes the output match Kaldi's within one 16-bit step (plain convolution differs by up to tens of steps
  for long RIRs).
- Noise power is the mean square over the whole additive signal; its scale is
  ``sqrt(10^(-snr/10) * P_ref / P_noise)`` where ``P_ref`` is the input power, or, with an RIR, the power of
  the input convolved with the RIR's early part (1 ms before its peak to 50 ms after it). The signal is added
  from ``int(start * fs)`` on and cut at the end of the (reverberated, unshifted) signal.
- Output normalisation scales the result to the input's power (computed over the full convolution length);
  ``--volume`` > 0 scales by that instead. Shifting drops the first ``argmax(rir)`` samples; the output keeps
  the input length, or ``--duration`` seconds (cut, or repeated from the shifted start to fill).
- Samples are written truncated toward zero and clipped to 16 bits.

Samples are float64 here; Kaldi computes in float32, so a sample near a rounding boundary may land one step
away, never more.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

EARLY_BEFORE_PEAK_S = 0.001  # early reverberation starts this long before the RIR peak (direct path)
EARLY_AFTER_PEAK_S = 0.05  # ... and ends this long after it

_F32 = np.float32


class ReverbError(ValueError):
    """Inputs to the reverberation cannot be combined; the message says which one and why."""


def _next_pow2(n: int) -> int:
    p = 1
    while p < n:
        p *= 2
    return p


def kaldi_block_convolve(signal: np.ndarray, rir: np.ndarray, max_block_batch: int = 64) -> np.ndarray:
    """Full linear convolution (length ``len(signal) + len(rir) - 1``) as Kaldi's ``FFTbasedBlockConvolveSignals``
    computes it, DC/Nyquist packing quirk included (see the module docstring). Returns float64."""
    x = np.asarray(signal, dtype=np.float64)
    h = np.asarray(rir, dtype=np.float64)
    n, m = len(x), len(h)
    if m == 0:
        raise ReverbError("the impulse response is empty")
    if n == 0:
        return np.zeros(m - 1)
    out_len = n + m - 1
    fft_len = _next_pow2(4 * m)
    block = fft_len - m + 1
    num_blocks = -(-out_len // block)
    H = np.fft.rfft(h, fft_len)
    h_dc, h_ny = H[0].real, H[-1].real
    # out[b*block : b*block + fft_len] += ifft(block b); the tails (m - 1 < block samples) never overlap each other.
    out = np.zeros((num_blocks + 1) * block)
    for first in range(0, num_blocks, max_block_batch):
        last = min(num_blocks, first + max_block_batch)
        seg = np.zeros((last - first) * block)
        lo, hi = first * block, min(n, last * block)
        if hi > lo:
            seg[: hi - lo] = x[lo:hi]
        X = np.fft.rfft(seg.reshape(last - first, block), fft_len, axis=1)
        x_dc, x_ny = X[:, 0].real.copy(), X[:, -1].real.copy()
        X *= H
        X[:, 0] = x_dc * h_dc - x_ny * h_ny
        X[:, -1] = x_dc * h_ny + x_ny * h_dc
        y = np.fft.irfft(X, fft_len, axis=1)
        out[first * block: last * block].reshape(last - first, block)[:] += y[:, :block]
        if m > 1:
            out[(first + 1) * block: (last + 1) * block].reshape(last - first, block)[:, : m - 1] += y[:, block:]
    return out[:out_len]


def early_reverb_window(rir: np.ndarray, sample_rate: float) -> tuple[int, int]:
    """[start, end) of the early part of an RIR: 1 ms before its (signed) maximum to 50 ms after it,
    computed in float32 and truncated as Kaldi does."""
    peak = int(np.argmax(rir))
    fs = _F32(sample_rate)
    start = int(_F32(peak) - _F32(_F32(EARLY_BEFORE_PEAK_S) * fs))
    end = int(_F32(peak) + _F32(_F32(EARLY_AFTER_PEAK_S) * fs))
    return max(start, 0), min(end, len(rir))


def early_reverb_energy(rir: np.ndarray, signal: np.ndarray, sample_rate: float) -> float:
    """Mean square of ``signal`` convolved with the early part of ``rir`` (the SNR reference with reverb)."""
    start, end = early_reverb_window(rir, sample_rate)
    early = kaldi_block_convolve(signal, rir[start:end])
    return float(np.dot(early, early) / len(early))


@dataclasses.dataclass
class Additive:
    """One additive signal: samples (16-bit scale), its SNR in dB and where it starts in the output (s)."""

    samples: np.ndarray
    snr_db: float
    start_time: float
    name: str = "additive signal"


def output_length(num_input: int, num_rir: int, sample_rate: float, duration: float, shift_output: bool) -> int:
    """Kaldi's output length: ``duration * fs`` (float32, truncated) if ``duration`` > 0, else the input length
    when shifting, else ``n + m - 1`` (``m`` = 0 without an RIR, so unshifted output without one loses its last
    sample, as in Kaldi)."""
    if duration > 0:
        return int(_F32(sample_rate) * _F32(duration))
    return num_input if shift_output else num_input + num_rir - 1


def reverberate(
    signal: np.ndarray,
    sample_rate: float,
    rir: np.ndarray | None = None,
    rir_sample_rate: float | None = None,
    additive: Sequence[Additive] = (),
    shift_output: bool = True,
    normalize_output: bool = True,
    volume: float = 0.0,
    duration: float = 0.0,
) -> np.ndarray:
    """One output channel of ``wav-reverberate`` (float64, 16-bit scale, not yet quantised).

    ``rir`` is in 16-bit scale as read from its wav (it is divided by 2^15 here); ``rir_sample_rate`` (default:
    ``sample_rate``) only places the early-reverb window, as in Kaldi.
    """
    x = np.asarray(signal, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ReverbError("the input signal is empty")
    power_before = float(np.dot(x, x) / n)
    reference = power_before
    shift = 0
    num_rir = 0
    if rir is not None:
        h = np.asarray(rir, dtype=np.float64) / 32768.0
        num_rir = len(h)
        if num_rir == 0:
            raise ReverbError("the impulse response is empty")
        reference = early_reverb_energy(h, x, sample_rate if rir_sample_rate is None else rir_sample_rate)
        y = kaldi_block_convolve(x, h)
        if shift_output:
            shift = int(np.argmax(h))
    else:
        y = x.copy()
    for add in additive:
        noise = np.asarray(add.samples, dtype=np.float64)
        if len(noise) == 0:
            raise ReverbError(f"{add.name}: empty")
        noise_power = float(np.dot(noise, noise) / len(noise))
        if noise_power <= 0.0:
            raise ReverbError(f"{add.name}: all samples are zero, it cannot be scaled to an SNR")
        scale = np.sqrt(10.0 ** (-float(add.snr_db) / 10.0) * reference / noise_power)
        offset = int(_F32(add.start_time) * _F32(sample_rate))
        length = min(len(y) - offset, len(noise))
        if length > 0 and offset >= 0:
            y[offset:offset + length] += scale * noise[:length]
    power_after = float(np.dot(y, y) / len(y))
    if volume > 0:
        y *= volume
    elif normalize_output:
        if power_after <= 0.0:
            raise ReverbError("the output is all zeros and cannot be normalised to the input power")
        y *= np.sqrt(power_before / power_after)
    num_out = output_length(n, num_rir, sample_rate, duration, shift_output)
    if num_out <= n:
        return y[shift:shift + num_out]
    period = y[shift:shift + n]
    reps = -(-num_out // len(period))
    return np.tile(period, reps)[:num_out]


def to_int16_scale(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Samples as Kaldi writes them to 16-bit PCM: truncated toward zero, clipped; returns (float32, #clipped)."""
    t = np.trunc(np.asarray(samples, dtype=np.float64))
    clipped = int(np.count_nonzero((t < -32768) | (t > 32767)))
    return np.clip(t, -32768, 32767).astype(np.float32), clipped
