"""Delta features, as Kaldi's ``add-deltas`` (``DeltaFeatures`` in feat/feature-functions.cc).

The order-i filter is the order-(i-1) filter convolved with the regression window ``j / sum(j^2)``,
``j = -window..window``; frames past the utterance edges repeat the first/last frame.
"""

from __future__ import annotations

import numpy as np


def delta_scales(order: int = 2, window: int = 2) -> list[np.ndarray]:
    """The filters for orders 0..order (order 0 is ``[1]``; order i has ``2 * i * window + 1`` taps)."""
    if not 0 <= order < 1000 or not 0 < window < 1000:
        raise ValueError(f"bad delta options: order {order}, window {window}")
    scales = [np.ones(1)]
    j = np.arange(-window, window + 1, dtype=np.float64)
    normaliser = float(np.sum(j * j))
    for _ in range(order):
        scales.append(np.convolve(scales[-1], j) / normaliser)
    return scales


def add_deltas(feats: np.ndarray, order: int = 2, window: int = 2) -> np.ndarray:
    """``[x, delta x, delta^2 x, ...]`` along columns: ``(frames, dim * (order + 1))`` float32."""
    x = np.asarray(feats)
    if x.ndim != 2:
        raise ValueError(f"add_deltas: expected a (frames, dim) matrix, got shape {x.shape}")
    num, dim = x.shape
    scales = delta_scales(order, window)
    out = np.empty((num, dim * (order + 1)), dtype=np.float32)
    if num == 0:
        return out
    reach = order * window
    padded = np.concatenate([np.repeat(x[:1], reach, axis=0), x, np.repeat(x[-1:], reach, axis=0)])
    padded = padded.astype(np.float64)
    for i, filt in enumerate(scales):
        half = (len(filt) - 1) // 2
        acc = np.zeros((num, dim))
        for k, scale in enumerate(filt):
            if scale != 0.0:
                first = reach - half + k
                acc += scale * padded[first:first + num]
        out[:, i * dim:(i + 1) * dim] = acc
    return out
