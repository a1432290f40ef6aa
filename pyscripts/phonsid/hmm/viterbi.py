"""Batched Viterbi over utterance graphs (torch).

The recursion runs frame by frame; each step takes, for all states of all utterances in the batch at once,
the best of the ``K`` padded predecessors: ``delta_t[s] = max_k(delta_{t-1}[pred[s, k]] + w[s, k]) + e_t[s]``.
Utterances of different lengths are padded; a finished utterance's scores are frozen. Back-pointers are kept
as small integers (the winning predecessor slot) and traced back for the whole batch at once.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import torch


@dataclasses.dataclass
class ViterbiResult:
    states: np.ndarray  # (T,) graph state per frame
    tids: np.ndarray  # (T,) transition id per frame (the arc leaving the frame's state)
    score: float  # total path score (-inf: no path)


def viterbi_batch(emissions: Sequence[torch.Tensor], pred_src: Sequence[np.ndarray], pred_w: Sequence[np.ndarray],
                  pred_tid: Sequence[np.ndarray], init_w: Sequence[np.ndarray], final_w: Sequence[np.ndarray],
                  final_tid: Sequence[np.ndarray]) -> list[ViterbiResult]:
    """Best paths for a batch of utterances.

    ``emissions[b]``: (T_b, S_b) scaled log-likelihoods of each graph state; per utterance graph arrays as in
    ``phonsid.hmm.graph.UttGraph`` (``pred_w`` the total arc weights, ``final_w`` the exit weights).
    """
    B = len(emissions)
    if B == 0:
        return []
    device = emissions[0].device
    dtype = emissions[0].dtype
    T = [int(e.shape[0]) for e in emissions]
    S = [int(e.shape[1]) for e in emissions]
    Tm, Sm = max(T), max(S)
    Km = max(int(p.shape[1]) for p in pred_src)
    neg = float("-inf")
    E = torch.full((B, Tm, Sm), neg, dtype=dtype, device=device)
    PS = torch.zeros((B, Sm, Km), dtype=torch.long, device=device)
    PW = torch.full((B, Sm, Km), neg, dtype=dtype, device=device)
    IW = torch.full((B, Sm), neg, dtype=dtype, device=device)
    FW = torch.full((B, Sm), neg, dtype=dtype, device=device)
    for b in range(B):
        s, k = pred_src[b].shape
        E[b, : T[b], :s] = emissions[b]
        PS[b, :s, :k] = torch.as_tensor(pred_src[b], device=device)
        PW[b, :s, :k] = torch.as_tensor(pred_w[b], dtype=dtype, device=device)
        IW[b, :s] = torch.as_tensor(init_w[b], dtype=dtype, device=device)
        FW[b, :s] = torch.as_tensor(final_w[b], dtype=dtype, device=device)
    lengths = torch.as_tensor(T, device=device)
    flat_src = PS.view(B, Sm * Km)
    bp_dtype = torch.int8 if Km < 127 else torch.int16
    bp = torch.zeros((Tm, B, Sm), dtype=bp_dtype, device=device)
    delta = IW + E[:, 0]
    all_active_until = min(T)  # utterances are frozen once finished; before this frame none is
    for t in range(1, Tm):
        cand = torch.gather(delta, 1, flat_src).view(B, Sm, Km).add_(PW)
        best, arg = cand.max(dim=-1)
        bp[t].copy_(arg)
        new = best.add_(E[:, t])
        delta = new if t < all_active_until else torch.where((lengths > t)[:, None], new, delta)
    score, last = (delta + FW).max(dim=-1)
    # trace back on the CPU with numpy (sequential, small steps)
    bp_np = bp.cpu().numpy()
    ps_np = PS.cpu().numpy()
    T_np = np.asarray(T)
    path_np = np.zeros((B, Tm), dtype=np.int64)
    k_np = np.zeros((B, Tm), dtype=np.int64)
    state = last.cpu().numpy().astype(np.int64)
    ar = np.arange(B)
    for t in range(Tm - 1, -1, -1):
        active = T_np > t
        path_np[:, t] = state
        if t > 0:
            k = bp_np[t, ar, state].astype(np.int64)
            k_np[:, t] = k
            state = np.where(active, ps_np[ar, state, k], state)
    score_np = score.cpu().numpy()
    out = []
    for b in range(B):
        tb = T[b]
        st = path_np[b, :tb]
        if not np.isfinite(score_np[b]):
            out.append(ViterbiResult(st, np.zeros(tb, np.int64), float("-inf")))
            continue
        tids = np.empty(tb, np.int64)
        if tb > 1:
            tids[:-1] = pred_tid[b][st[1:], k_np[b, 1:tb]]
        tids[-1] = final_tid[b][st[-1]]
        out.append(ViterbiResult(st, tids, float(score_np[b])))
    return out
