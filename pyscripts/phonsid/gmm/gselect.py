"""Gaussian selection with a diagonal GMM (gmm-gselect) and full-GMM posteriors of the selected Gaussians
(fgmm-global-gselect-to-post), batched in torch.

Selections are (T, n) int64 tensors, best Gaussian first (-1 pads frames with fewer, which happens only when
an input selection is ragged).
"""

from __future__ import annotations

import numpy as np
import torch

from phonsid.gmm.diag_gmm import DiagGmm
from phonsid.gmm.full_gmm import FullGmm
from phonsid.gmm.posterior import Posterior


def gselect_to_tensor(gselect: list | np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """phonsid.io's ``int_vector_vector`` value (list of index arrays per frame) → (T, n) int64, -1 padded."""
    if isinstance(gselect, np.ndarray):
        return torch.as_tensor(gselect, dtype=torch.int64, device=device)
    if not len(gselect):
        return torch.zeros((0, 0), dtype=torch.int64, device=device)
    lengths = {len(g) for g in gselect}
    if len(lengths) == 1:
        return torch.as_tensor(np.stack(gselect), dtype=torch.int64, device=device)
    out = np.full((len(gselect), max(lengths)), -1, dtype=np.int64)
    for t, g in enumerate(gselect):
        out[t, : len(g)] = g
    return torch.as_tensor(out, device=device)


def gselect_to_lists(gselect: torch.Tensor) -> list[np.ndarray]:
    """(T, n) selection → list of int32 arrays per frame (padding dropped), for ``int_vector_vector``."""
    arr = gselect.cpu().numpy()
    if arr.size and arr.min() >= 0:
        return list(arr.astype(np.int32))
    return [row[row >= 0].astype(np.int32) for row in arr]


def gaussian_selection(gmm: DiagGmm, feats: torch.Tensor, n: int, preselect: torch.Tensor | None = None,
                       chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``n`` best Gaussians per frame, best first (Kaldi's GaussianSelection), and the per-frame
    log-likelihood summed over the selected Gaussians. With ``preselect`` (T, m) the choice is limited to it."""
    if n <= 0:
        raise ValueError(f"gaussian_selection: n must be positive, got {n}")
    n = min(n, gmm.num_gauss if preselect is None else preselect.shape[1])
    sels, likes = [], []
    for s in range(0, feats.shape[0], chunk):
        x = feats[s:s + chunk]
        if preselect is None:
            ll = gmm.log_likelihoods(x)
            vals, idx = torch.topk(ll, n, dim=1, sorted=True)
        else:
            pre = preselect[s:s + chunk].to(x.device)
            ll = gmm.log_likelihoods_preselect(x, pre)
            vals, pos = torch.topk(ll, n, dim=1, sorted=True)
            idx = torch.gather(pre, 1, pos)
            idx = idx.masked_fill(torch.isinf(vals) & (vals < 0), -1)
        sels.append(idx)
        likes.append(torch.logsumexp(vals, dim=1))
    if not sels:
        return (torch.zeros((0, n), dtype=torch.int64, device=feats.device),
                torch.zeros(0, dtype=torch.float64, device=feats.device))
    return torch.cat(sels), torch.cat(likes)


def gselect_posteriors(fgmm: FullGmm, feats: torch.Tensor, gselect: torch.Tensor, min_post: float = 0.0,
                       chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-GMM posteriors of the selected Gaussians (T, n), pruned below ``min_post`` and renormalised (the best
    kept if all fall below), as fgmm-global-gselect-to-post; and the per-frame log-likelihood."""
    posts, likes = [], []
    for s in range(0, feats.shape[0], chunk):
        x = feats[s:s + chunk]
        gs = gselect[s:s + chunk].to(x.device)
        ll = fgmm.log_likelihoods_preselect(x, gs)
        tot = torch.logsumexp(ll, dim=1)
        # Kaldi keeps posteriors in float32 (BaseFloat) from here on.
        post = torch.exp(ll - tot[:, None]).to(torch.float32)
        if min_post != 0.0:
            best = torch.argmax(post, dim=1)
            post = torch.where(post < min_post, torch.zeros_like(post), post)
            total = post.sum(1)
            empty = total == 0
            post = post / torch.where(empty, torch.ones_like(total), total)[:, None]
            if bool(empty.any()):
                rows = torch.nonzero(empty).squeeze(1)
                post[rows] = 0.0
                post[rows, best[rows]] = 1.0
        posts.append(post)
        likes.append(tot)
    if not posts:
        return (torch.zeros(gselect.shape, dtype=torch.float32, device=feats.device),
                torch.zeros(0, dtype=torch.float64, device=feats.device))
    return torch.cat(posts), torch.cat(likes)


def ubm_posteriors(dgmm: DiagGmm, fgmm: FullGmm, feats: torch.Tensor, num_gselect: int = 20,
                   min_post: float = 0.025, posterior_scale: float = 1.0) -> tuple[Posterior, float]:
    """gmm-gselect --n | fgmm-global-gselect-to-post --min-post | scale-post in one call: sparse posteriors of
    one utterance and its total log-likelihood under the full GMM (over the selected Gaussians)."""
    gsel, _ = gaussian_selection(dgmm, feats, num_gselect)
    post, ll = gselect_posteriors(fgmm, feats, gsel, min_post)
    p = Posterior.from_dense(gsel, post)
    if posterior_scale != 1.0:
        p = p.scaled(posterior_scale)
    return p, float(ll.sum())


def ubm_posteriors_batch(dgmm: DiagGmm, fgmm: FullGmm, feats: list[np.ndarray], num_gselect: int = 20,
                         min_post: float = 0.025, posterior_scale: float = 1.0, device: torch.device | str = "cpu",
                         max_frames: int = 1 << 16) -> list[tuple[Posterior, float]]:
    """``ubm_posteriors`` of several utterances, computed on their frames together (frames are independent;
    the per-Gaussian work of the full likelihoods is then shared), in chunks of at most ``max_frames``."""
    out: list[tuple[Posterior, float]] = []
    start = 0
    while start < len(feats):
        end, n = start, 0
        while end < len(feats) and (end == start or n + feats[end].shape[0] <= max_frames):
            n += feats[end].shape[0]
            end += 1
        x = torch.as_tensor(np.concatenate(feats[start:end]), device=device)
        gsel, _ = gaussian_selection(dgmm, x, num_gselect)
        post, ll = gselect_posteriors(fgmm, x, gsel, min_post)
        bounds = np.cumsum([0] + [f.shape[0] for f in feats[start:end]])
        for a, b in zip(bounds[:-1], bounds[1:]):
            p = Posterior.from_dense(gsel[a:b], post[a:b])
            if posterior_scale != 1.0:
                p = p.scaled(posterior_scale)
            out.append((p, float(ll[a:b].sum())))
        start = end
    return out
