"""M-step of i-vector extractor training, as Kaldi's IvectorExtractorStats::Update (ivector-extractor-est):

1. projections: per Gaussian, maximise tr(M_iᵀΣ_i⁻¹Y_i) − ½ tr(Σ_i⁻¹M_iR_iM_iᵀ) (Kaldi's
   SolveQuadraticMatrixProblem: diagonal preconditioning, eigenvalues of R floored at max/1e4, change rejected
   if the auxiliary function would decrease);
2. weight projections, if the extractor regresses its log-weights on the i-vector;
3. variances: S_i − Y_iM_iᵀ − M_iY_iᵀ + M_iR_iM_iᵀ over γ_i, floored (in the metric of) at
   variance_floor_factor × their count-weighted average;
4. prior (minimum divergence): transform the i-vector space so the i-vectors' covariance is unit and their mean
   is along e0 (a Householder reflection), optionally rotating the other dimensions to diagonalise the average
   quadratic term (dimensions then sorted by importance); the new prior offset is the mean's length.

Gaussians are processed in chunks with batched eigendecompositions (torch float64, any device).
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np
import torch

from phonsid.gmm import linalg as la
from phonsid.ivector.extractor import IvectorExtractor
from phonsid.ivector.stats import IvectorExtractorStats

_LOG = logging.getLogger("phonsid.ivector")


@dataclasses.dataclass
class IvectorEstimationOptions:
    """Kaldi's IvectorExtractorEstimationOptions (same defaults)."""

    variance_floor_factor: float = 0.1
    gaussian_min_count: float = 100.0
    diagonalize: bool = True


@dataclasses.dataclass
class UpdateReport:
    """Per-frame objective-function improvements of each part, as Kaldi logs them."""

    auxf_per_frame: float
    impr_projections: float
    impr_weights: float
    impr_variances: float
    impr_prior: float
    prior_offset: float
    variance_explained: float

    @property
    def total(self) -> float:
        return self.impr_projections + self.impr_weights + self.impr_variances + self.impr_prior


def solve_quadratic_matrix_problems(Q: torch.Tensor, Y: torch.Tensor, sigma_inv: torch.Tensor, M: torch.Tensor,
                                    K: float = 1.0e4, eps: float = 1.0e-40) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched Kaldi SolveQuadraticMatrixProblem (diagonal preconditioning, optimise the change):
    maximises tr(MᵀΣ⁻¹Y) − ½ tr(Σ⁻¹MQMᵀ) over M (B, D, S); returns the new M and the improvements (B,)."""
    qd = torch.diagonal(Q, dim1=1, dim2=2).clamp(min=torch.finfo(torch.float64).tiny * 1.0e3)
    dq = torch.sqrt(qd)
    Ms = M * dq.unsqueeze(1)
    Ys = Y / dq.unsqueeze(1)
    Qs = Q / (dq.unsqueeze(2) * dq.unsqueeze(1))
    Ybar = Ys - Ms @ Qs
    # Δ = Ȳ Q⁻¹ with Q's eigenvalues floored at max/K. Most Q need no flooring: then a Cholesky solve gives
    # the same Δ at a fraction of the cost of the eigendecomposition, which only the others get.
    lam = torch.linalg.eigvalsh(Qs)
    floor = torch.clamp(lam.max(dim=1, keepdim=True).values / K, min=eps)
    needs_floor = (lam < floor).any(dim=1)
    delta = torch.empty_like(Ybar)
    plain = torch.nonzero(~needs_floor).squeeze(1)
    if plain.numel():
        chol, info = torch.linalg.cholesky_ex(Qs[plain])
        delta[plain] = torch.cholesky_solve(Ybar[plain].transpose(1, 2), chol).transpose(1, 2)
        bad = plain[info != 0]
        needs_floor[bad] = True
    floored = torch.nonzero(needs_floor).squeeze(1)
    if floored.numel():
        lam_f, U = torch.linalg.eigh(Qs[floored])
        lam_f = torch.maximum(lam_f, floor[floored])
        delta[floored] = ((Ybar[floored] @ U) / lam_f.unsqueeze(1)) @ U.transpose(1, 2)
    sig_y = sigma_inv @ Ys

    def objective(m: torch.Tensor) -> torch.Tensor:
        mqm = m @ Qs @ m.transpose(1, 2)
        return (m * sig_y).sum((1, 2)) - 0.5 * (sigma_inv * mqm).sum((1, 2))

    before = objective(Ms)
    Mhat = Ms + delta
    after = objective(Mhat)
    accept = after >= before
    new_m = torch.where(accept[:, None, None], Mhat / dq.unsqueeze(1), M)
    return new_m, torch.where(accept, after - before, torch.zeros_like(after))


def solve_quadratic_problems(H: torch.Tensor, g: torch.Tensor, x: torch.Tensor, K: float = 1.0e4,
                             eps: float = 1.0e-40) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched Kaldi SolveQuadraticProblem (diagonal preconditioning): maximises gᵀx − ½ xᵀHx; returns the
    new x (B, S) and the improvements (B,). Zero H leaves x unchanged."""
    hd = torch.diagonal(H, dim1=1, dim2=2).clamp(min=torch.finfo(torch.float64).tiny * 1.0e3)
    dh = torch.sqrt(hd)
    xs = x * dh
    gs = g / dh
    Hs = H / (dh.unsqueeze(2) * dh.unsqueeze(1))
    gbar = gs - (Hs @ xs.unsqueeze(2)).squeeze(2)
    lam, U = torch.linalg.eigh(Hs)
    floor = torch.clamp(lam.max(dim=1, keepdim=True).values / K, min=eps)
    lam = torch.maximum(lam, floor)
    delta = (U @ ((U.transpose(1, 2) @ gbar.unsqueeze(2)).squeeze(2) / lam).unsqueeze(2)).squeeze(2)
    xhat = xs + delta

    def objective(v: torch.Tensor) -> torch.Tensor:
        return (gs * v).sum(1) - 0.5 * (v * (Hs @ v.unsqueeze(2)).squeeze(2)).sum(1)

    before, after = objective(xs), objective(xhat)
    zero = (H == 0).flatten(1).all(1)
    accept = (after >= before) & ~zero
    return (torch.where(accept[:, None], xhat / dh, x),
            torch.where(accept, after - before, torch.zeros_like(after)))


def _floor_eig(m: torch.Tensor, floor: float) -> tuple[torch.Tensor, int]:
    lam, p = torch.linalg.eigh(m)
    n = int((lam < floor).sum())
    return (p * lam.clamp(min=floor)) @ p.T, n


def update_extractor(ext: IvectorExtractor, stats: IvectorExtractorStats,
                     opts: IvectorEstimationOptions | None = None, device: torch.device | str = "cpu",
                     logger: logging.Logger | None = None, chunk: int = 32) -> tuple[IvectorExtractor, UpdateReport]:
    """One M-step; returns the new extractor and the per-frame improvements."""
    opts = opts or IvectorEstimationOptions()
    log = logger or _LOG
    stats.check_model(ext)
    dev = torch.device(device)
    g_count, d, s = ext.num_gauss, ext.feat_dim, ext.ivector_dim
    gamma = torch.as_tensor(stats.gamma, device=dev)
    count = float(gamma.sum())
    if count <= 0:
        raise ValueError("i-vector statistics have no data (total count 0)")
    auxf_pf = stats.tot_auxf / count
    if stats.tot_auxf != 0.0:
        log.info(f"Overall auxf/frame on training data was {auxf_pf:.6g} per frame over {count:.6g} frames.")
    ok = gamma >= opts.gaussian_min_count
    for i in torch.nonzero(~ok).squeeze(1).tolist():
        log.warning(f"Skipping Gaussian index {i} because count {float(gamma[i]):.6g} is below min-count.")

    # 1. projections
    M = torch.as_tensor(ext.M, device=dev).clone()
    sig = torch.as_tensor(ext.sigma_inv, device=dev)
    impr_m = 0.0
    for a in range(0, g_count, chunk):
        sl = slice(a, a + chunk)
        sel = ok[sl]
        if not bool(sel.any()):
            continue
        idx = torch.arange(a, min(a + chunk, g_count), device=dev)[sel]
        R = torch.as_tensor(stats.R_of(idx.cpu().numpy()), device=dev)
        Y = torch.as_tensor(stats.Y[idx.cpu().numpy()], device=dev)
        new_m, impr = solve_quadratic_matrix_problems(R, Y, sig[idx], M[idx])
        M[idx] = new_m
        impr_m += float(impr.sum())
    impr_m /= count
    log.info(f"Overall objective function improvement for M (mean projections) was {impr_m:.6g} per frame over "
             f"{count:.6g} frames.")

    # 2. weight projections
    w = torch.as_tensor(ext.w, device=dev).clone() if ext.ivector_dependent_weights else None
    impr_w = 0.0
    if w is not None:
        Gw = torch.as_tensor(stats.G, device=dev)
        for a in range(0, g_count, chunk):
            Qw = torch.as_tensor(stats.Q_of(slice(a, a + chunk)), device=dev)
            new_w, impr = solve_quadratic_problems(Qw, Gw[a:a + chunk], w[a:a + chunk])
            w[a:a + chunk] = new_w
            impr_w += float(impr.sum())
        impr_w /= count
        log.info(f"Overall auxf impr/frame from weight update is {impr_w:.6g} over {count:.6g} frames.")

    # 3. variances
    impr_v = 0.0
    if stats.S.size:
        sig, impr_v = _update_variances(stats, M, sig, ok, gamma, opts, dev, log, count, chunk)

    # 4. prior
    new = IvectorExtractor(w.cpu().numpy() if w is not None else np.zeros((0, 0)), ext.w_vec.copy(),
                           M.cpu().numpy(), sig.cpu().numpy(), ext.prior_offset)
    new, impr_p = _update_prior(new, stats, opts, dev, log)
    report = UpdateReport(auxf_pf, impr_m, impr_w, impr_v, impr_p, new.prior_offset,
                          variance_explained(new, stats.gamma))
    log.info(f"Overall objective-function improvement per frame was {report.total:.6g}")
    log.info(f"The proportion of within-Gaussian variance explained by the iVectors is "
             f"{report.variance_explained:.6g}.")
    return new, report


def _update_variances(stats: IvectorExtractorStats, M: torch.Tensor, sig_old: torch.Tensor, ok: torch.Tensor,
                      gamma: torch.Tensor, opts: IvectorEstimationOptions, dev: torch.device, log: logging.Logger,
                      count: float, chunk: int = 32) -> tuple[torch.Tensor, float]:
    g_count, d = sig_old.shape[0], sig_old.shape[1]
    idx = torch.nonzero(ok).squeeze(1)
    idx_np = idx.cpu().numpy()
    S = torch.as_tensor(stats.S[idx_np], device=dev)
    Y = torch.as_tensor(stats.Y[idx_np], device=dev)
    Mi = M[idx]
    ym = Y @ Mi.transpose(1, 2)
    mrm = torch.empty_like(S)
    for a in range(0, len(idx_np), chunk):  # R unpacked a chunk of Gaussians at a time
        R = torch.as_tensor(stats.R_of(idx_np[a:a + chunk]), device=dev)
        mrm[a:a + chunk] = Mi[a:a + chunk] @ R @ Mi[a:a + chunk].transpose(1, 2)
    raw = S - ym - ym.transpose(1, 2) + mrm
    raw = 0.5 * (raw + raw.transpose(1, 2))
    var_floor = raw.sum(0) * (opts.variance_floor_factor / float(gamma[idx].sum()))
    if not 0.0 < opts.variance_floor_factor <= 1.0:
        raise ValueError(f"--variance-floor-factor must be in (0, 1], got {opts.variance_floor_factor}")
    raw = raw / gamma[idx].view(-1, 1, 1)
    max_abs = float(torch.linalg.eigvalsh(var_floor).abs().max())
    var_floor, n_floor = _floor_eig(var_floor, max_abs * 1.0e-4)
    if n_floor > 0:
        log.warning(f"Floored {n_floor} eigenvalues of the variance floor matrix.  This is not expected.  Maybe "
                    "your feature data is linearly dependent.")
    L = torch.linalg.cholesky(var_floor)
    Linv = torch.linalg.inv(L)
    Dm = Linv @ raw @ Linv.T
    lam, P = torch.linalg.eigh(0.5 * (Dm + Dm.transpose(1, 2)))
    floored_counts = (lam < 1.0).sum(1)
    floored = L @ ((P * lam.clamp(min=1.0).unsqueeze(1)) @ P.transpose(1, 2)) @ L.T
    new_inv = torch.linalg.inv(floored)
    new_inv = 0.5 * (new_inv + new_inv.transpose(1, 2))
    old_inv = sig_old[idx]

    def objf(inv: torch.Tensor) -> torch.Tensor:
        return -0.5 * ((raw * inv).sum((1, 2)) - torch.linalg.slogdet(inv)[1])

    impr = float((gamma[idx] * (objf(new_inv) - objf(old_inv))).sum())
    for i, n in zip(idx.tolist(), floored_counts.tolist()):
        if n > 0:
            log.info(f"For Gaussian index {i}, floored {n} eigenvalues of variance.")
    total_floored = int(floored_counts.sum())
    log.info(f"Floored {total_floored * 100.0 / (g_count * d):.6g}% of all Gaussian eigenvalues")
    log.info(f"Overall objf impr/frame for variances was {impr / count:.6g} over {count:.6g} frames.")
    sig = sig_old.clone()
    sig[idx] = new_inv
    return sig, impr / count


def _orthogonal_transform(ext: IvectorExtractor, T: torch.Tensor, dev: torch.device, log: logging.Logger
                          ) -> torch.Tensor:
    """Kaldi's GetOrthogonalIvectorTransform: A such that A·T diagonalises the average quadratic term
    (dimensions 1.. only), rows sorted by decreasing eigenvalue."""
    d = ext.derived(dev)
    s = ext.ivector_dim
    from phonsid.ivector.extractor import unpack
    if ext.ivector_dependent_weights:
        weights = torch.full((ext.num_gauss,), 1.0 / ext.num_gauss, dtype=torch.float64, device=dev)
    else:
        weights = torch.as_tensor(ext.w_vec, device=dev)
    uavg = unpack((weights @ d.U).unsqueeze(0), s)[0]
    tinv = torch.linalg.inv(T)
    vavg = tinv.T @ uavg[1:, 1:] @ tinv
    lam, P = torch.linalg.eigh(0.5 * (vavg + vavg.T))
    order = torch.argsort(lam, descending=True)
    lam, P = lam[order], P[:, order]
    log.info("Eigenvalues of Vavg:  [ " + " ".join(f"{float(v):.6g}" for v in lam) + " ]")
    return P.T


def _update_prior(ext: IvectorExtractor, stats: IvectorExtractorStats, opts: IvectorEstimationOptions,
                  dev: torch.device, log: logging.Logger) -> tuple[IvectorExtractor, float]:
    n = stats.num_ivectors
    if n <= 0:
        raise ValueError("i-vector statistics hold no i-vectors (NumIvectors is 0)")
    s = ext.ivector_dim
    mean = torch.as_tensor(stats.ivector_sum, device=dev) / n
    covar = torch.as_tensor(stats.ivector_scatter, device=dev) / n - torch.outer(mean, mean)
    covar = 0.5 * (covar + covar.T)
    lam, P = torch.linalg.eigh(covar)
    log.info(f"Eigenvalues of iVector covariance range from {float(lam.min()):.6g} to {float(lam.max()):.6g}")
    n_floor = int((lam < 1.0e-7).sum())
    if n_floor:
        log.warning(f"Floored {n_floor} eigenvalues of covar of iVectors.")
    lam = lam.clamp(min=1.0e-7)
    T = P.T / torch.sqrt(lam).unsqueeze(1)           # makes covar unit
    sum_proj = T @ mean
    norm = float(torch.linalg.norm(sum_proj))
    if norm == 0.0:
        raise ValueError("the mean of the training i-vectors is zero; cannot re-estimate the prior")
    x = sum_proj / norm
    alpha = 1.0 / (math.sqrt(2.0) * math.sqrt(max(1.0 - float(x[0]), 1e-300)))
    a = alpha * x
    a[0] -= alpha
    U = torch.eye(s, dtype=torch.float64, device=dev) - 2.0 * torch.outer(a, a)
    V = U @ T
    if opts.diagonalize and s > 1:
        A = _orthogonal_transform(ext, V[1:, 1:], dev, log)
        V[1:] = A @ V[1:]
    sum_vproj = V @ mean
    # prior diagnostics (objective change per frame from modelling the covariance and mean)
    mean_offset = mean.clone()
    mean_offset[0] -= ext.prior_offset
    old_like = -0.5 * float(torch.trace(covar + torch.outer(mean_offset, mean_offset)))
    new_like = -0.5 * (s + float(torch.linalg.slogdet(covar)[1]))
    change = new_like - old_like
    count = float(stats.gamma.sum())
    per_frame = change * n / count
    log.info(f"Overall auxf improvement from prior is {per_frame:.6g} per frame, or {change:.6g} per iVector.")
    new_offset = float(sum_vproj[0])
    log.info(f"Setting iVector prior offset to {new_offset:.6g}")
    vinv = torch.linalg.inv(V)
    M = torch.as_tensor(ext.M, device=dev) @ vinv
    w = ext.w @ vinv.cpu().numpy() if ext.ivector_dependent_weights else ext.w
    return IvectorExtractor(w, ext.w_vec, M.cpu().numpy(), ext.sigma_inv, new_offset), per_frame


def variance_explained(ext: IvectorExtractor, gamma: np.ndarray) -> float:
    """Kaldi's IvectorVarianceDiagnostic: tr(B) / (tr(B) + tr(W)), W the count-weighted within-Gaussian
    covariance (eigenvalues of Σ⁻¹ floored at 1 before inverting) and B the weighted Σ_i M_i M_iᵀ."""
    w = gamma / gamma.sum()
    lam, P = la.eigh(ext.sigma_inv)
    sigma = np.einsum("gij,gj,gkj->gik", P, 1.0 / np.maximum(lam, 1.0), P)
    tr_w = float((w * np.trace(sigma, axis1=1, axis2=2)).sum())
    tr_b = float((w * np.einsum("gds,gds->g", ext.M, ext.M)).sum())
    return tr_b / (tr_b + tr_w)
