"""The fixed pieces of Kaldi's MFCC/fbank front end: framing arithmetic, window functions, mel filter bank,
DCT and lifter (after ``feat/feature-window.cc`` and ``feat/mel-computations.cc``).

The mel bank is computed in single precision like Kaldi's (``BaseFloat``), so bin edges fall on the same FFT
bins; everything else is built in double precision and cast once.
"""

from __future__ import annotations

import math

import numpy as np

from phonsid.features.options import FeatureOptionError, FrameExtractionOptions, MelBanksOptions

FLOAT_EPS = float(np.finfo(np.float32).eps)  # Kaldi's std::numeric_limits<float>::epsilon()


def _load_libm():
    """The C library's single-precision math (``cosf``, ``sinf``, ``logf``, ``expf``).

    Kaldi computes its mel scale and FFT twiddle factors with these float functions, whose results are not
    always the correctly rounded ones; using the same functions keeps those constants bit-identical, which
    the Kaldi-rounding spectrum depends on. None where no C math library can be loaded (then the correctly
    rounded values are used).
    """
    import ctypes
    import ctypes.util

    for name in ("libm.so.6", ctypes.util.find_library("m")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            for fn in (lib.cosf, lib.sinf, lib.logf, lib.expf):
                fn.restype = ctypes.c_float
                fn.argtypes = [ctypes.c_float]
            return lib
        except (OSError, AttributeError):
            continue
    return None


_LIBM = _load_libm()


def _logf(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if _LIBM is None:
        return np.log(x.astype(np.float64)).astype(np.float32)
    return np.array([_LIBM.logf(float(v)) for v in x.ravel()], dtype=np.float32).reshape(x.shape)


def _expf(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if _LIBM is None:
        return np.exp(x.astype(np.float64)).astype(np.float32)
    return np.array([_LIBM.expf(float(v)) for v in x.ravel()], dtype=np.float32).reshape(x.shape)


def num_frames(num_samples: int, opts: FrameExtractionOptions) -> int:
    """Frames Kaldi extracts from ``num_samples`` samples (whole utterance, flushed).

    snip-edges true: only frames that fit, ``1 + (N - length) // shift``; false: ``round(N / shift)``.
    """
    shift, length = opts.window_shift(), opts.window_size()
    if opts.snip_edges:
        return 0 if num_samples < length else 1 + (num_samples - length) // shift
    return (num_samples + shift // 2) // shift


def first_sample_of_frame(frame: int, opts: FrameExtractionOptions) -> int:
    """Index of the first sample of ``frame`` (negative before the signal start when snip-edges is false)."""
    shift = opts.window_shift()
    if opts.snip_edges:
        return frame * shift
    return shift * frame + shift // 2 - opts.window_size() // 2


def reflect_indices(idx: np.ndarray, n: int) -> np.ndarray:
    """Maps sample indices outside ``[0, n)`` back inside by reflection at the edges, repeatedly if needed
    (-1 → 0, -2 → 1, n → n-1, n+1 → n-2), as Kaldi extracts frames that overhang the signal."""
    idx = np.asarray(idx, dtype=np.int64).copy()
    while True:
        low, high = idx < 0, idx >= n
        if not (low.any() or high.any()):
            return idx
        idx[low] = -idx[low] - 1
        idx[high] = 2 * n - 1 - idx[high]


def window_function(opts: FrameExtractionOptions) -> np.ndarray:
    """The analysis window (length ``window_size()``), as float32 values held in float64.

    Evaluated per sample with the C library's double-precision ``cos``/``pow`` (Python's ``math``), as
    Kaldi does, so each coefficient rounds to the same float32: the Kaldi-rounding path depends on it.
    """
    n = opts.window_size()
    a = 2.0 * math.pi / (n - 1)
    kind = opts.window_type
    if kind == "hanning":
        f = lambda i: 0.5 - 0.5 * math.cos(a * i)  # noqa: E731
    elif kind == "sine":
        f = lambda i: math.sin(0.5 * a * i)  # noqa: E731
    elif kind == "hamming":
        f = lambda i: 0.54 - 0.46 * math.cos(a * i)  # noqa: E731
    elif kind == "povey":
        f = lambda i: math.pow(0.5 - 0.5 * math.cos(a * i), 0.85)  # noqa: E731
    elif kind == "rectangular":
        f = lambda i: 1.0  # noqa: E731
    elif kind == "blackman":
        b = opts.blackman_coeff
        f = lambda i: b - 0.5 * math.cos(a * i) + (0.5 - b) * math.cos(2 * a * i)  # noqa: E731
    else:
        raise FeatureOptionError(f"invalid window type '{kind}'")
    w = np.array([f(float(i)) for i in range(n)], dtype=np.float64)
    return w.astype(np.float32).astype(np.float64)  # Kaldi stores it as float


def _mel32(freq) -> np.ndarray:
    f = np.asarray(freq, dtype=np.float32)
    return np.float32(1127.0) * _logf(np.float32(1.0) + f / np.float32(700.0))


def _inv_mel32(mel) -> np.ndarray:
    m = np.asarray(mel, dtype=np.float32)
    return np.float32(700.0) * (_expf(m / np.float32(1127.0)) - np.float32(1.0))


def vtln_warp_freq(vtln_low: float, vtln_high: float, low_freq: float, high_freq: float, warp: float,
                   freq: np.ndarray) -> np.ndarray:
    """Kaldi's piecewise-linear VTLN warping of frequencies (identity outside ``[low_freq, high_freq]``).

    The middle piece scales by ``1 / warp`` between the inflection points ``l = vtln_low * max(1, warp)``
    and ``h = vtln_high * min(1, warp)``; the outer pieces join it to the fixed end points.
    """
    if not (vtln_low > low_freq and vtln_high < high_freq):
        raise FeatureOptionError(f"VTLN cutoffs {vtln_low}..{vtln_high} must lie inside {low_freq}..{high_freq} Hz")
    f = np.asarray(freq, dtype=np.float64)
    lo = vtln_low * max(1.0, warp)
    hi = vtln_high * min(1.0, warp)
    scale = 1.0 / warp
    f_lo, f_hi = scale * lo, scale * hi
    slope_left = (f_lo - low_freq) / (lo - low_freq)
    slope_right = (high_freq - f_hi) / (high_freq - hi)
    out = np.where(f < lo, low_freq + slope_left * (f - low_freq),
                   np.where(f < hi, scale * f, high_freq + slope_right * (f - high_freq)))
    return np.where((f < low_freq) | (f > high_freq), f, out)


def mel_banks(mel_opts: MelBanksOptions, frame_opts: FrameExtractionOptions, vtln_warp: float = 1.0) -> np.ndarray:
    """Triangular mel filters as a dense ``(padded_window_size // 2, num_bins)`` float32 matrix.

    Column ``b`` weights FFT bin ``i`` (centre frequency ``i * fs / N``) by its position on the triangle
    between mel points ``b`` and ``b + 2`` (peak at ``b + 1``) of ``num_bins + 2`` equally spaced points from
    ``low_freq`` to ``high_freq``. The Nyquist bin is never used, as in Kaldi.
    """
    num_bins = mel_opts.num_bins
    if num_bins < 3:
        raise FeatureOptionError("must have at least 3 mel bins")
    fs = float(frame_opts.samp_freq)
    n_pad = frame_opts.padded_window_size()
    num_fft_bins = n_pad // 2
    nyquist = 0.5 * fs
    low = float(mel_opts.low_freq)
    high = float(mel_opts.high_freq) if mel_opts.high_freq > 0 else nyquist + float(mel_opts.high_freq)
    if low < 0 or low >= nyquist or high <= 0 or high > nyquist or high <= low:
        raise FeatureOptionError(f"bad values in options: low-freq {low} and high-freq {high} vs. nyquist {nyquist}")
    mel_low, mel_high = _mel32(low), _mel32(high)
    delta = (mel_high - mel_low) / np.float32(num_bins + 1)
    b = np.arange(num_bins, dtype=np.float32)
    left = mel_low + b * delta
    center = mel_low + (b + np.float32(1)) * delta
    right = mel_low + (b + np.float32(2)) * delta
    if vtln_warp != 1.0:
        vlow = float(mel_opts.vtln_low)
        vhigh = float(mel_opts.vtln_high) + (nyquist if mel_opts.vtln_high < 0 else 0.0)
        if vlow < 0 or vlow <= low or vlow >= high or vhigh <= 0 or vhigh >= high or vhigh <= vlow:
            raise FeatureOptionError(f"bad values in options: vtln-low {vlow} and vtln-high {vhigh}, versus "
                                     f"low-freq {low} and high-freq {high}")
        left, center, right = (_mel32(vtln_warp_freq(vlow, vhigh, low, high, vtln_warp, _inv_mel32(m)))
                               for m in (left, center, right))
    bin_width = np.float32(fs / n_pad)
    mel = _mel32(bin_width * np.arange(num_fft_bins, dtype=np.float32))[:, None]
    rising = (mel - left) / (center - left)
    falling = (right - mel) / (right - center)
    inside = (mel > left) & (mel < right)
    weights = np.where(inside, np.where(mel <= center, rising, falling), np.float32(0)).astype(np.float32)
    empty = np.flatnonzero(~inside.any(axis=0))
    if empty.size:
        raise FeatureOptionError(f"mel bin {int(empty[0])} covers no FFT bin: you may have set --num-mel-bins too "
                                 f"large ({num_bins} bins for an FFT of {n_pad} points)")
    if mel_opts.htk_mode and mel_low != 0.0:
        first = int(np.flatnonzero(weights[:, 0])[0])
        weights[first, 0] = 0.0  # HTK's off-by-one on the first bin, as Kaldi reproduces it
    return weights


def dct_matrix(num_ceps: int, num_bins: int) -> np.ndarray:
    """First ``num_ceps`` rows of the orthonormal DCT-II of size ``num_bins`` (float64, ``(num_ceps, num_bins)``)."""
    if num_ceps > num_bins:
        raise FeatureOptionError(f"num-ceps ({num_ceps}) cannot exceed num-mel-bins ({num_bins})")
    k = np.arange(num_ceps, dtype=np.float64)[:, None]
    n = np.arange(num_bins, dtype=np.float64)[None, :]
    m = np.sqrt(2.0 / num_bins) * np.cos(math.pi / num_bins * (n + 0.5) * k)
    m[0, :] = math.sqrt(1.0 / num_bins)
    return m


def lifter_coeffs(num_ceps: int, q: float) -> np.ndarray:
    """Cepstral lifter ``1 + Q/2 sin(pi i / Q)`` (C0 is left unchanged)."""
    i = np.arange(num_ceps, dtype=np.float64)
    return 1.0 + 0.5 * q * np.sin(math.pi * i / q)
