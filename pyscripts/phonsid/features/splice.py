"""Frame splicing, as Kaldi's ``splice-feats``: each frame with its neighbours at given offsets, frames beyond the
utterance's ends replaced by its first/last frame.

The GMM pipeline splices ``-N..N`` (``--splice-context``); the bottleneck DNNs splice their configured offsets
(``-5..5``, or ``-10,-5,0,5,10`` for the stacked DNN-2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch


def check_offsets(offsets: Sequence[int]) -> np.ndarray:
    """Validated splice offsets as an int64 array (non-empty, strictly increasing, contains no duplicates)."""
    off = np.asarray(list(offsets), dtype=np.int64)
    if off.ndim != 1 or off.size == 0:
        raise ValueError(f"splice offsets must be a non-empty list of integers, got {list(offsets)}")
    if np.any(np.diff(off) <= 0):
        raise ValueError(f"splice offsets must be strictly increasing, got {off.tolist()}")
    return off


def splice_utterance(feats: np.ndarray | torch.Tensor, offsets: Sequence[int]) -> np.ndarray | torch.Tensor:
    """``(T, D)`` → ``(T, K·D)``: each frame with its context at ``offsets``, edges replicated. Works on numpy
    arrays and torch tensors (on any device)."""
    off = check_offsets(offsets)
    n = feats.shape[0]
    if n == 0:
        return feats.reshape(0, feats.shape[1] * len(off))
    idx = np.clip(np.arange(n)[:, None] + off[None, :], 0, n - 1)
    if isinstance(feats, np.ndarray):
        rows = feats[idx.reshape(-1)]
    else:
        import torch  # only when given a tensor: the front end does not need torch

        rows = feats[torch.from_numpy(idx.reshape(-1)).to(feats.device)]
    return rows.reshape(n, len(off) * feats.shape[1])
