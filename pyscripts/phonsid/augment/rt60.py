"""Reverberation time and related measures of a room impulse response (Schroeder backward integration).

The energy decay curve (EDC) is the energy still to come after each sample, ``EDC(t) = sum_{s >= t} h(s)^2``,
in dB relative to the total. RT60 is extrapolated from a straight-line fit of the EDC between two levels
(-5 and -35 dB by default, i.e. T30 as in ISO 3382): ``RT60 = -60 / slope``.
"""

from __future__ import annotations

import numpy as np


class Rt60Error(ValueError):
    """The response does not decay enough to measure (silent, or never reaches the fit range)."""


def energy_decay_curve(h: np.ndarray) -> np.ndarray:
    """Schroeder's backward-integrated energy in dB re the total (0 dB at the first sample, -inf after the end)."""
    e = np.asarray(h, dtype=np.float64) ** 2
    tail = np.cumsum(e[::-1])[::-1]
    total = tail[0] if len(tail) else 0.0
    if total <= 0:
        raise Rt60Error("the impulse response is silent")
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(tail / total)


def measure_rt60(h: np.ndarray, sample_rate: float, fit_db: tuple[float, float] = (-5.0, -35.0)) -> float:
    """RT60 (s) from a least-squares line through the EDC between ``fit_db`` levels (default T30)."""
    hi, lo = fit_db
    if not hi > lo:
        raise ValueError(f"fit range {fit_db}: the first level must be above the second")
    edc = energy_decay_curve(h)
    start = int(np.argmax(edc <= hi))
    end = int(np.argmax(edc <= lo))
    if edc[-1] > lo or end - start < 3:
        raise Rt60Error(f"the energy decay curve does not span {hi:g} .. {lo:g} dB")
    t = np.arange(start, end) / float(sample_rate)
    slope, _ = np.polyfit(t, edc[start:end], 1)
    if slope >= 0:
        raise Rt60Error("the energy decay curve does not decay")
    return float(-60.0 / slope)


def decay_length(h: np.ndarray, decay_db: float = 60.0) -> int:
    """Number of samples up to where the remaining energy has fallen ``decay_db`` below the total."""
    edc = energy_decay_curve(h)
    below = np.nonzero(edc <= -abs(decay_db))[0]
    return int(below[0]) if len(below) else len(edc)


def direct_to_reverberant_ratio(h: np.ndarray, sample_rate: float, window_s: float = 0.0025) -> float:
    """DRR (dB): energy within ``window_s`` of the largest peak against all the rest."""
    x = np.asarray(h, dtype=np.float64)
    peak = int(np.argmax(np.abs(x)))
    w = int(round(window_s * sample_rate))
    lo, hi = max(0, peak - w), min(len(x), peak + w + 1)
    direct = float(np.sum(x[lo:hi] ** 2))
    rest = float(np.sum(x ** 2)) - direct
    if rest <= 0:
        return float("inf")
    return float(10.0 * np.log10(direct / rest))
