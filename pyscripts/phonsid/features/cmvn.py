"""Sliding-window cepstral mean (and variance) normalisation, as Kaldi's ``apply-cmvn-sliding``
(``SlidingWindowCmn`` in feat/feature-functions.cc), vectorised with cumulative sums in double precision.

Window of frame t: centred ``[t - W/2, t - W/2 + W)`` or, not centred, the ``W`` frames before t and t
itself; shifted right at the start (not centred: at least ``min_window`` frames long) and left at the end,
never longer than the utterance.
"""

from __future__ import annotations

import numpy as np

_VAR_FLOOR = 1.0e-10


def sliding_windows(num_frames: int, cmn_window: int = 600, min_cmn_window: int = 100,
                    center: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of each frame's normalisation window (end exclusive), as Kaldi chooses them."""
    if cmn_window <= 0:
        raise ValueError(f"cmn_window must be positive, got {cmn_window}")
    if min_cmn_window <= 0:  # (Kaldi also asserts min <= window when centred, where min is unused)
        raise ValueError(f"min_cmn_window must be positive, got {min_cmn_window}")
    t = np.arange(num_frames, dtype=np.int64)
    if center:
        start = t - cmn_window // 2
        end = start + cmn_window
    else:
        start = t - cmn_window
        end = t + 1
    shift = np.minimum(start, 0)  # start < 0: move the window right
    end = end - shift
    start = start - shift
    if not center:
        end = np.where(end > t, np.maximum(t + 1, min_cmn_window), end)
    over = np.maximum(end - num_frames, 0)  # past the end: move it left
    start = np.maximum(start - over, 0)
    end = end - over
    return start, end


def apply_cmvn_sliding(feats: np.ndarray, cmn_window: int = 600, min_cmn_window: int = 100,
                       center: bool = False, norm_vars: bool = False) -> np.ndarray:
    """Subtracts from each frame the mean over its sliding window (and divides by the standard deviation
    with ``norm_vars``). Kaldi's defaults in the signature; SRE recipes use ``cmn_window=300, center=True``.
    Returns float32 (float64 input stays float64)."""
    x = np.asarray(feats)
    if x.ndim != 2:
        raise ValueError(f"apply_cmvn_sliding: expected a (frames, dim) matrix, got shape {x.shape}")
    out_dtype = np.float64 if x.dtype == np.float64 else np.float32
    num = x.shape[0]
    if num == 0:
        return x.astype(out_dtype)
    xd = x.astype(np.float64)
    start, end = sliding_windows(num, cmn_window, min_cmn_window, center)
    count = (end - start).astype(np.float64)[:, None]
    csum = np.zeros((num + 1, x.shape[1]))
    np.cumsum(xd, axis=0, out=csum[1:])
    mean = (csum[end] - csum[start]) / count
    out = xd - mean
    if norm_vars:
        csq = np.zeros((num + 1, x.shape[1]))
        np.cumsum(xd * xd, axis=0, out=csq[1:])
        var = (csq[end] - csq[start]) / count - mean * mean
        np.maximum(var, _VAR_FLOOR, out=var)
        out /= np.sqrt(var)
        out[count[:, 0] == 1] = 0.0
    return out.astype(out_dtype)
