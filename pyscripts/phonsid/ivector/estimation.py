"""Per-utterance i-vector estimation, batched over utterances: Baum-Welch statistics from sparse posteriors,
the Gaussian posterior of the i-vector, and Kaldi's auxiliary function (``GetIvectorDistribution``,
``GetAuxf`` in ivector-extractor.cc), all in float64 torch on the caller's device.

A batch is B utterances: ``gamma`` (B, G) zeroth-order and ``X`` (B, G, D) first-order statistics.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import torch

from phonsid.gmm.mle import sorted_index_groups
from phonsid.gmm.posterior import Posterior
from phonsid.ivector.extractor import LOG_2PI, DerivedVars, IvectorExtractor, unpack


class PosteriorMismatchError(ValueError):
    """Posteriors that do not fit the features or the model (wrong frame count, Gaussian out of range)."""


@dataclasses.dataclass
class BatchStats:
    """Statistics of a batch of utterances: ``gamma`` (B, G), ``X`` (B, G, D); ``S`` (G, D, D) the batch's
    summed second-order statistics Σ γ_ti x_t x_tᵀ when asked for (only totals are ever needed)."""

    gamma: torch.Tensor
    X: torch.Tensor
    S: torch.Tensor | None = None

    @property
    def num_frames(self) -> torch.Tensor:
        return self.gamma.sum(1)


def batch_stats(feats: Sequence[np.ndarray], posts: Sequence[Posterior], num_gauss: int,
                device: torch.device | str = "cpu", second_order: bool = False, keys: Sequence[str] | None = None,
                chunk: int = 1 << 12) -> BatchStats:
    """Zeroth/first(/second)-order statistics of utterances from their features (T_b, D) and posteriors."""
    b = len(feats)
    if b != len(posts):
        raise ValueError(f"batch_stats: {b} feature matrices but {len(posts)} posteriors")
    for i, (f, p) in enumerate(zip(feats, posts)):
        name = keys[i] if keys is not None else f"#{i}"
        if p.num_frames != f.shape[0]:
            raise PosteriorMismatchError(f"utterance {name}: posteriors for {p.num_frames} frames but "
                                         f"{f.shape[0]} feature frames")
        if p.ids.size and (p.ids.max() >= num_gauss or p.ids.min() < 0):
            raise PosteriorMismatchError(f"utterance {name}: posterior index {int(p.ids.max())} out of range for a "
                                         f"model of {num_gauss} Gaussians (mismatched posteriors?)")
    d = feats[0].shape[1] if b else 0
    # frames stay in their own precision (float32 features: half the memory); gathered rows become float64
    x = torch.as_tensor(np.concatenate(feats) if b else np.zeros((0, d)), device=device)
    offsets = np.concatenate([[0], np.cumsum([f.shape[0] for f in feats])])[:-1] if b else np.zeros(0, np.int64)
    frames = torch.as_tensor(np.concatenate([p.frames + o for p, o in zip(posts, offsets)]) if b else
                             np.zeros(0, np.int64), device=device)
    ids = torch.as_tensor(np.concatenate([p.ids for p in posts]) if b else np.zeros(0, np.int64), device=device)
    w = torch.as_tensor(np.concatenate([p.weights for p in posts]) if b else np.zeros(0), dtype=torch.float64,
                        device=device)
    utt = torch.as_tensor(np.repeat(np.arange(b), [p.ids.size for p in posts]), device=device)
    rows = utt * num_gauss + ids
    gamma = torch.zeros(b * num_gauss, dtype=torch.float64, device=device).index_add_(0, rows, w)
    X = torch.zeros(b * num_gauss, d, dtype=torch.float64, device=device)
    S = None
    if second_order:
        # (frame, Gaussian) pairs sorted by Gaussian, in cache-sized groups: each group's frames, gathered once,
        # serve both X and S (one GEMM per Gaussian)
        S = torch.zeros(num_gauss, d, d, dtype=torch.float64, device=device)
        for pos, runs in sorted_index_groups(ids, num_gauss, chunk):
            xs = x.index_select(0, frames[pos]).to(torch.float64)
            xw = xs * w[pos].unsqueeze(1)
            X.index_add_(0, rows[pos], xw)
            for g, lo, hi in runs:
                S[g].addmm_(xw[lo:hi].T, xs[lo:hi])
    else:
        for s in range(0, rows.shape[0], chunk):
            sl = slice(s, s + chunk)
            X.index_add_(0, rows[sl], x.index_select(0, frames[sl]).to(torch.float64) * w[sl, None])
    return BatchStats(gamma.view(b, num_gauss), X.view(b, num_gauss, d), S)


def scale_stats(stats: BatchStats, scale: torch.Tensor) -> BatchStats:
    """Statistics times a per-utterance scale (B,) (Kaldi's acoustic weight / --max-count scaling). Not for
    statistics with second-order totals, which cannot be scaled per utterance."""
    if stats.S is not None:
        raise ValueError("scale_stats: second-order statistics are batch totals; scale the posteriors instead")
    return BatchStats(stats.gamma * scale[:, None], stats.X * scale[:, None, None])


def pooled_stats(stats: BatchStats) -> BatchStats:
    """The batch's statistics summed into one (a speaker's, as ivector-extract --spk2utt pools its utterances)."""
    return BatchStats(stats.gamma.sum(0, keepdim=True), stats.X.sum(0, keepdim=True),
                      stats.S)


def max_count_scale(count: float, max_count: float) -> float:
    """Kaldi's --max-count: the scale that brings a (weighted) frame count down to ``max_count``; 1 when the count
    is within it or ``max_count`` is 0 (no limit)."""
    return max_count / count if max_count > 0 and count > max_count else 1.0


def linear_quadratic(d: DerivedVars, stats: BatchStats, with_prior: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear (B, S) and quadratic (B, S, S) terms of log p(x | data) ∝ xᵀ linear − ½ xᵀ quadratic x, from the
    Gaussian means (and the prior N(p e0, I) if ``with_prior``)."""
    b, g, dim = stats.X.shape
    s = d.M.shape[2]
    linear = stats.X.reshape(b, g * dim) @ d.sigma_inv_M.reshape(g * dim, s)
    quadratic = unpack(stats.gamma @ d.U, s)
    if with_prior:
        linear[:, 0] += d.prior_offset
        quadratic.diagonal(dim1=1, dim2=2).add_(1.0)
    return linear, quadratic


@dataclasses.dataclass
class IvectorPosterior:
    """The i-vector posterior of a batch: ``mean`` (B, S) (prior offset included), ``var`` (B, S, S) or None,
    the terms it came from (``linear``, ``quadratic``, prior included) and, without i-vector-dependent weights,
    the Cholesky factor of ``quadratic`` (reused for log-determinants)."""

    mean: torch.Tensor
    var: torch.Tensor | None
    linear: torch.Tensor
    quadratic: torch.Tensor
    chol: torch.Tensor | None = None


def _weight_terms(d: DerivedVars, gamma: torch.Tensor, mean: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear and quadratic terms from the i-vector-dependent weights, expanded around ``mean`` (Kaldi's
    GetIvectorDistWeight, with its max(γ_i, γ w_i) safety factor)."""
    logw_unnorm = mean @ d.w.T                      # (B, G)
    w = torch.softmax(logw_unnorm, dim=1)
    tot = gamma.sum(1, keepdim=True)
    max_term = torch.maximum(gamma, tot * w)
    lin_coeff = gamma - tot * w + max_term * logw_unnorm
    linear = lin_coeff @ d.w
    quadratic = torch.einsum("bg,gs,gt->bst", max_term, d.w, d.w)
    return linear, quadratic


def _invert_with_flooring(quadratic: torch.Tensor) -> torch.Tensor:
    """Inverse of a quadratic term whose eigenvalues are floored at 1 (they cannot be smaller, by the prior)."""
    s, p = torch.linalg.eigh(quadratic)
    s = s.clamp(min=1.0)
    return (p / s[:, None, :]) @ p.transpose(1, 2)


def ivector_posterior(ext: IvectorExtractor, stats: BatchStats, need_var: bool = True) -> IvectorPosterior:
    """Kaldi's GetIvectorDistribution for a batch."""
    d = ext.derived(stats.gamma.device)
    linear, quadratic = linear_quadratic(d, stats)
    if not ext.ivector_dependent_weights:
        chol, info = torch.linalg.cholesky_ex(quadratic)
        if bool((info != 0).any()):
            raise ValueError("i-vector precision matrix is not positive definite (corrupt statistics?)")
        mean = torch.cholesky_solve(linear.unsqueeze(2), chol).squeeze(2)
        var = torch.cholesky_inverse(chol) if need_var else None
        return IvectorPosterior(mean, var, linear, quadratic, chol)
    # i-vector-dependent weights: a few Newton-like iterations of the weight term's quadratic expansion.
    inv = _invert_with_flooring(quadratic)
    mean = (inv @ linear.unsqueeze(2)).squeeze(2)
    active = torch.ones(mean.shape[0], dtype=torch.bool, device=mean.device)
    for _ in range(4):
        lin_w, quad_w = _weight_terms(d, stats.gamma, mean)
        this_inv = _invert_with_flooring(quadratic + quad_w)
        new_mean = (this_inv @ (linear + lin_w).unsqueeze(2)).squeeze(2)
        change = torch.linalg.norm(new_mean - mean, dim=1)
        mean = torch.where(active[:, None], new_mean, mean)
        inv = torch.where(active[:, None, None], this_inv, inv)
        active = active & (change >= 0.1)
        if not bool(active.any()):
            break
    return IvectorPosterior(mean, inv if need_var else None, linear, quadratic)


def ivector_distribution(ext: IvectorExtractor, stats: BatchStats, need_var: bool = True
                         ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Posterior mean (B, S) of the i-vectors (prior offset included) and, if asked, covariance (B, S, S)."""
    post = ivector_posterior(ext, stats, need_var)
    return post.mean, post.var


def auxf(ext: IvectorExtractor, stats: BatchStats, mean: torch.Tensor, var: torch.Tensor | None = None,
         second_order_in_total: bool = False, post: IvectorPosterior | None = None) -> torch.Tensor:
    """Kaldi's GetAuxf per utterance (B,): acoustic (weights, gconsts, means, variance) plus prior parts, for a
    point i-vector (``var`` None) or a Gaussian distribution over it.

    With ``second_order_in_total`` the utterances' own scatter term −½ Σ_i tr(S_i Σ_i⁻¹) is left out (it is the
    same for every i-vector and is added once from the summed statistics by the caller, see
    ``second_order_auxf``); otherwise the variance term is Kaldi's default −½ γ D (statistics without S).
    ``post``: the batch's IvectorPosterior, whose terms are then reused (``var`` must be its variance)."""
    d = ext.derived(mean.device)
    gamma, X = stats.gamma, stats.X
    s = ext.ivector_dim
    if post is not None:
        lin = post.linear.clone()
        lin[:, 0] -= ext.prior_offset
        quad_with_prior = post.quadratic
    else:
        lin, quad = linear_quadratic(d, stats, with_prior=False)
        quad_with_prior = quad.clone()
        quad_with_prior.diagonal(dim1=1, dim2=2).add_(1.0)
    # weights
    if ext.ivector_dependent_weights:
        logw = torch.log_softmax(mean @ d.w.T, dim=1)
        weight = (logw * gamma).sum(1)
        if var is not None:
            # Kaldi's GetAcousticAuxfWeight forms its "Jacobian" as W + w (Wᵀw)ᵀ; reproduced as is (it only
            # enters the reported auxiliary function, not any update).
            w = torch.exp(logw)
            jac = d.w.unsqueeze(0) + w.unsqueeze(2) * (w @ d.w).unsqueeze(1)
            S = torch.einsum("bgs,bg,bgt->bst", jac, gamma, jac)
            weight = weight - 0.5 * (S * var).sum((1, 2))
    else:
        logw = d.log_w_vec.unsqueeze(0)
        weight = torch.where(gamma != 0, gamma * logw, torch.zeros_like(gamma)).sum(1)
    gconst = gamma @ d.gconsts
    # mean part: x·a − ½ xᵀBx − ½ tr(V B), with B = quadratic − I
    quad_term = torch.einsum("bs,bst,bt->b", mean, quad_with_prior, mean) - (mean * mean).sum(1)
    mean_part = (mean * lin).sum(1) - 0.5 * quad_term
    if var is not None:
        mean_part = mean_part - 0.5 * ((var * quad_with_prior).sum((1, 2)) - torch.diagonal(var, dim1=1, dim2=2).sum(1))
    if second_order_in_total:
        var_part = torch.zeros_like(gconst)  # K cancels between the mean and variance parts
    else:
        # K = −½ Σ_i X_iᵀ Σ_i⁻¹ X_i / γ_i belongs to the mean part; the variance part is −½ γ D.
        safe = torch.where(gamma != 0, gamma, torch.ones_like(gamma))
        k = -0.5 * (torch.einsum("bgd,gde,bge->bg", X, d.sigma_inv, X) / safe).sum(1)
        mean_part = mean_part + k
        var_part = -0.5 * gamma.sum(1) * ext.feat_dim
    offset = mean.clone()
    offset[:, 0] -= ext.prior_offset
    if var is None:
        prior = -0.5 * ((offset * offset).sum(1) + s * LOG_2PI)
    else:
        if post is not None and post.chol is not None:
            logdet = -2.0 * torch.log(torch.diagonal(post.chol, dim1=1, dim2=2)).sum(1)
        else:
            logdet = torch.linalg.slogdet(var)[1]
        prior = -0.5 * ((offset * offset).sum(1) + torch.diagonal(var, dim1=1, dim2=2).sum(1) - s - logdet)
    return weight + gconst + mean_part + var_part + prior


def second_order_auxf(ext: IvectorExtractor, S: torch.Tensor) -> float:
    """−½ Σ_i tr(S_i Σ_i⁻¹) for summed second-order statistics S (G, D, D)."""
    d = ext.derived(S.device)
    return float(-0.5 * (S * d.sigma_inv).sum())


def extract_ivectors(ext: IvectorExtractor, stats: BatchStats, compute_objf_change: bool = True
                     ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """ivector-extract for a batch: i-vectors (B, S) as written by Kaldi (posterior mean minus p e0) and the
    auxiliary-function change from the default i-vector p e0 (B,), if asked."""
    post = ivector_posterior(ext, stats, need_var=False)
    mean = post.mean
    change = None
    if compute_objf_change:
        default = torch.zeros_like(mean)
        default[:, 0] = ext.prior_offset
        if ext.ivector_dependent_weights:
            change = auxf(ext, stats, mean) - auxf(ext, stats, default)
        else:
            # Only x·a − ½ xᵀBx − ½ |x − p e0|² depends on x = the i-vector (a, B: acoustic terms).
            lin = post.linear.clone()
            lin[:, 0] -= ext.prior_offset

            def part(x: torch.Tensor) -> torch.Tensor:
                off = x.clone()
                off[:, 0] -= ext.prior_offset
                quad = torch.einsum("bs,bst,bt->b", x, post.quadratic, x) - (x * x).sum(1)
                return (x * lin).sum(1) - 0.5 * quad - 0.5 * (off * off).sum(1)

            change = part(mean) - part(default)
    out = mean.clone()
    out[:, 0] -= ext.prior_offset
    return out, change
