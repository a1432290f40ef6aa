"""Maximum-likelihood training of diagonal and full GMMs, as Kaldi's ``mle-diag-gmm.cc``/``mle-full-gmm.cc``.

Statistics (``AccumDiagGmm``/``AccumFullGmm``): per Gaussian the occupancy, the posterior-weighted sum of the
frames and of their squares (diagonal) or outer products (full), in float64; on disk they are float32 and the
full-covariance scatter is stored centred (minus mean_acc mean_accᵀ / occ), both as Kaldi writes them.

The update follows Kaldi's rules: a Gaussian is updated only if its occupancy exceeds ``min_gaussian_occupancy``
and its weight ``min_gaussian_weight``; otherwise it is removed (``remove_low_count_gaussians``, never the last
one) or kept with weight max(weight, min_gaussian_weight). Diagonal variances are floored at ``min_variance``;
full covariances have their eigenvalues floored at max(variance_floor, max|eig| / max_condition). The
objective-function change is reported before the removal, as Kaldi does.

Accumulation is batched in torch: posteriors of the selected Gaussians (``gselect``) or of all Gaussians, then
occupancies and first-order stats by index_add / GEMM, second-order full stats Gaussian by Gaussian over the
frames that selected it.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import torch

from phonsid.gmm.flags import GMM_MEANS, GMM_VARIANCES, GMM_WEIGHTS, augment_flags
from phonsid.gmm import linalg as la
from phonsid.gmm.diag_gmm import LIKELIHOOD_DTYPE, DiagGmm
from phonsid.gmm.full_gmm import FullGmm
from phonsid.io import KaldiFormatError, KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import read_object_file, write_object_file

_LOG = logging.getLogger("phonsid.gmm")


# ----------------------------------------------------------------------------------------------------------
# options


@dataclasses.dataclass
class MleDiagGmmOptions:
    """Kaldi's MleDiagGmmOptions (same defaults)."""

    min_gaussian_weight: float = 1.0e-5
    min_gaussian_occupancy: float = 10.0
    min_variance: float = 0.001
    remove_low_count_gaussians: bool = True


@dataclasses.dataclass
class MleFullGmmOptions:
    """Kaldi's MleFullGmmOptions (same defaults)."""

    min_gaussian_weight: float = 1.0e-5
    min_gaussian_occupancy: float = 100.0
    variance_floor: float = 0.001
    max_condition: float = 1.0e4
    remove_low_count_gaussians: bool = True


# ----------------------------------------------------------------------------------------------------------
# accumulators


@dataclasses.dataclass
class DiagGmmAccs:
    """Sufficient statistics of a diagonal GMM: occupancy (G,), mean_acc Σγx (G, D), var_acc Σγx² (G, D)."""

    occupancy: np.ndarray
    mean_acc: np.ndarray
    var_acc: np.ndarray
    flags: int = GMM_MEANS | GMM_VARIANCES | GMM_WEIGHTS

    @classmethod
    def zeros(cls, num_gauss: int, dim: int, flags: int = 7) -> "DiagGmmAccs":
        return cls(np.zeros(num_gauss), np.zeros((num_gauss, dim)), np.zeros((num_gauss, dim)),
                   augment_flags(flags))

    @property
    def num_gauss(self) -> int:
        return int(self.occupancy.shape[0])

    @property
    def dim(self) -> int:
        return int(self.mean_acc.shape[1])

    def add(self, other: "DiagGmmAccs") -> None:
        if other.occupancy.shape != self.occupancy.shape or other.mean_acc.shape != self.mean_acc.shape \
                or other.flags != self.flags:
            raise ValueError(f"cannot add GMM accumulators of {other.num_gauss} Gaussians, dim {other.dim}, flags "
                             f"{other.flags} to {self.num_gauss}, dim {self.dim}, flags {self.flags}")
        self.occupancy += other.occupancy
        self.mean_acc += other.mean_acc
        self.var_acc += other.var_acc


@dataclasses.dataclass
class FullGmmAccs:
    """Sufficient statistics of a full GMM: occupancy (G,), mean_acc (G, D), cov_acc Σγxxᵀ (G, D, D) uncentred."""

    occupancy: np.ndarray
    mean_acc: np.ndarray
    cov_acc: np.ndarray
    flags: int = GMM_MEANS | GMM_VARIANCES | GMM_WEIGHTS

    @classmethod
    def zeros(cls, num_gauss: int, dim: int, flags: int = 7) -> "FullGmmAccs":
        return cls(np.zeros(num_gauss), np.zeros((num_gauss, dim)), np.zeros((num_gauss, dim, dim)),
                   augment_flags(flags))

    @property
    def num_gauss(self) -> int:
        return int(self.occupancy.shape[0])

    @property
    def dim(self) -> int:
        return int(self.mean_acc.shape[1])

    def add(self, other: "FullGmmAccs") -> None:
        if other.occupancy.shape != self.occupancy.shape or other.mean_acc.shape != self.mean_acc.shape \
                or other.flags != self.flags:
            raise ValueError(f"cannot add full-GMM accumulators of {other.num_gauss} Gaussians, dim {other.dim}, "
                             f"flags {other.flags} to {self.num_gauss}, dim {self.dim}, flags {self.flags}")
        self.occupancy += other.occupancy
        self.mean_acc += other.mean_acc
        self.cov_acc += other.cov_acc


def _read_acc_header(r: KaldiReader) -> tuple[int, int, int]:
    r.expect_token("<GMMACCS>")
    r.expect_token("<VECSIZE>")
    dim = r.read_int()
    r.expect_token("<NUMCOMPONENTS>")
    num = r.read_int()
    r.expect_token("<FLAGS>")
    flags = r.read_int()
    if dim <= 0 or num <= 0:
        raise KaldiFormatError(f"{r.name}: GMM accumulators with dim {dim} and {num} components")
    return dim, num, flags


def _write_acc_header(w: KaldiWriter, num: int, dim: int, flags: int) -> None:
    w.write_token("<GMMACCS>")
    w.write_token("<VECSIZE>")
    w.write_int(dim)
    w.write_token("<NUMCOMPONENTS>")
    w.write_int(num)
    w.write_token("<FLAGS>")
    w.write_uint16(flags)


def read_diag_gmm_accs_from(r: KaldiReader) -> DiagGmmAccs:
    dim, num, flags = _read_acc_header(r)
    acc = DiagGmmAccs.zeros(num, dim, flags)
    while True:
        tok = r.read_token()
        if tok == "</GMMACCS>":
            break
        if tok == "<OCCUPANCY>":
            v = r.read_vector(double=True)
            if v.shape != (num,):
                raise KaldiFormatError(f"{r.name}: occupancy of size {v.shape[0]}, expected {num}")
            acc.occupancy = v
        elif tok in ("<MEANACCS>", "<DIAGVARACCS>"):
            m = r.read_matrix(double=True)
            if m.size == 0:
                continue
            if m.shape != (num, dim):
                raise KaldiFormatError(f"{r.name}: {tok} of shape {m.shape}, expected {(num, dim)}")
            if tok == "<MEANACCS>":
                acc.mean_acc = m
            else:
                acc.var_acc = m
        else:
            raise KaldiFormatError(f"{r.name}: unexpected token {tok} in diagonal GMM accumulators")
    return acc


def write_diag_gmm_accs_to(w: KaldiWriter, acc: DiagGmmAccs) -> None:
    _write_acc_header(w, acc.num_gauss, acc.dim, acc.flags)
    w.write_token("<OCCUPANCY>")
    w.write_vector(acc.occupancy)
    w.write_token("<MEANACCS>")
    w.write_matrix(acc.mean_acc if acc.flags & GMM_MEANS else np.zeros((0, 0)))
    w.write_token("<DIAGVARACCS>")
    w.write_matrix(acc.var_acc if acc.flags & GMM_VARIANCES else np.zeros((0, 0)))
    w.write_token("</GMMACCS>")


def read_full_gmm_accs_from(r: KaldiReader) -> FullGmmAccs:
    dim, num, flags = _read_acc_header(r)
    acc = FullGmmAccs.zeros(num, dim, flags)
    centred = None
    while True:
        tok = r.read_token()
        if tok == "</GMMACCS>":
            break
        if tok == "<OCCUPANCY>":
            acc.occupancy = r.read_vector(double=True)
            if acc.occupancy.shape != (num,):
                raise KaldiFormatError(f"{r.name}: occupancy of size {acc.occupancy.shape[0]}, expected {num}")
        elif tok == "<MEANACCS>":
            m = r.read_matrix(double=True)
            if m.size and m.shape != (num, dim):
                raise KaldiFormatError(f"{r.name}: mean accumulators of shape {m.shape}, expected {(num, dim)}")
            if m.size:
                acc.mean_acc = m
        elif tok == "<FULLVARACCS>":
            centred = np.stack([r.read_sp_matrix() for _ in range(num)])
        else:
            raise KaldiFormatError(f"{r.name}: unexpected token {tok} in full GMM accumulators")
    if centred is not None:
        # Kaldi stores the scatter minus mean_acc mean_accᵀ / occ; add it back.
        occ = acc.occupancy
        safe = np.where(occ != 0, occ, 1.0)
        outer = np.einsum("gi,gj->gij", acc.mean_acc, acc.mean_acc) / safe[:, None, None]
        acc.cov_acc = centred + np.where(occ[:, None, None] != 0, outer, 0.0)
    return acc


def write_full_gmm_accs_to(w: KaldiWriter, acc: FullGmmAccs) -> None:
    _write_acc_header(w, acc.num_gauss, acc.dim, acc.flags)
    w.write_token("<OCCUPANCY>")
    w.write_vector(acc.occupancy)
    w.write_token("<MEANACCS>")
    w.write_matrix(acc.mean_acc if acc.flags & GMM_MEANS else np.zeros((0, 0)))
    if acc.flags & GMM_VARIANCES:
        w.write_token("<FULLVARACCS>")
        occ = acc.occupancy
        safe = np.where(occ != 0, occ, 1.0)
        outer = np.einsum("gi,gj->gij", acc.mean_acc, acc.mean_acc) / safe[:, None, None]
        centred = acc.cov_acc - np.where(occ[:, None, None] != 0, outer, 0.0)
        for m in centred:
            w.write_sp_matrix(m)
    w.write_token("</GMMACCS>")


def read_diag_gmm_accs(rxfilename: str) -> DiagGmmAccs:
    return read_object_file(rxfilename, read_diag_gmm_accs_from)


def write_diag_gmm_accs(wxfilename: str, acc: DiagGmmAccs, binary: bool = True) -> None:
    write_object_file(wxfilename, binary, lambda w: write_diag_gmm_accs_to(w, acc))


def read_full_gmm_accs(rxfilename: str) -> FullGmmAccs:
    return read_object_file(rxfilename, read_full_gmm_accs_from)


def write_full_gmm_accs(wxfilename: str, acc: FullGmmAccs, binary: bool = True) -> None:
    write_object_file(wxfilename, binary, lambda w: write_full_gmm_accs_to(w, acc))


def sum_accs(rxfilenames: list[str], full: bool):
    """Reads and sums accumulator files (gmm-global-sum-accs / fgmm-global-sum-accs)."""
    read = read_full_gmm_accs if full else read_diag_gmm_accs
    total = None
    for rx in rxfilenames:
        acc = read(rx)
        if total is None:
            total = acc
        else:
            try:
                total.add(acc)
            except ValueError as e:
                raise ValueError(f"{rx}: {e}") from None
    if total is None:
        raise ValueError("no accumulator files given")
    return total


# ----------------------------------------------------------------------------------------------------------
# accumulation


def _frame_posteriors(loglikes: torch.Tensor, frame_weights: torch.Tensor | None):
    """Softmax over the last axis; returns (posteriors scaled by frame weights, per-frame log-likelihood)."""
    ll = torch.logsumexp(loglikes, dim=1)
    post = torch.exp(loglikes - ll[:, None]).to(torch.float64)
    if frame_weights is not None:
        post = post * frame_weights[:, None]
    return post, ll.to(torch.float64)


def sorted_index_groups(index: torch.Tensor, num_values: int, chunk: int = 1 << 12
                        ) -> list[tuple[torch.Tensor, list[tuple[int, int, int]]]]:
    """Positions of ``index`` (1-D int in [0, num_values)) sorted by value, stably, cut into groups of about
    ``chunk`` positions that never split a value's run (a longer run is a group of its own); with each group
    the runs in it as (value, start, end) offsets into the group's positions."""
    n = int(index.shape[0])
    if n == 0:
        return []
    if index.device.type == "cpu" and num_values <= 1 << 16:
        # a radix sort (numpy's stable sort of 16-bit keys) is several times faster than a comparison sort
        keys = index.numpy().astype(np.uint16)
        order = torch.from_numpy(np.argsort(keys, kind="stable"))
        counts = np.bincount(keys, minlength=num_values)
    else:
        order = torch.argsort(index, stable=True)
        counts = torch.bincount(index, minlength=num_values).cpu().numpy()
    present = np.flatnonzero(counts)
    ends = np.cumsum(counts[present])
    groups, runs, start = [], [], 0
    for g, end in zip(present.tolist(), ends.tolist()):
        runs.append((g, end - int(counts[g]) - start, end - start))
        if end - start >= chunk:
            groups.append((order[start:end], runs))
            runs, start = [], end
    if runs:
        groups.append((order[start:n], runs))
    return groups


def scatter_second_order(num_gauss: int, feats: torch.Tensor, frames: torch.Tensor, gauss: torch.Tensor,
                         weights: torch.Tensor, chunk: int = 1 << 12) -> torch.Tensor:
    """Σ_t w · x_t x_tᵀ per Gaussian (G, D, D), float64, from (frame, Gaussian, weight) triples.

    The triples are sorted by Gaussian (frame order kept within one) and taken in groups of about ``chunk``
    (small enough for the gathered rows to stay in cache): a group's frames are gathered once, then one GEMM
    per Gaussian adds ``(w x)ᵀ x`` into its matrix."""
    d = feats.shape[1]
    out = torch.zeros(num_gauss, d, d, dtype=torch.float64, device=feats.device)
    for pos, runs in sorted_index_groups(gauss, num_gauss, chunk):
        xs = feats.index_select(0, frames[pos]).to(torch.float64)
        xw = xs * weights[pos].to(torch.float64).unsqueeze(1)
        for g, a, b in runs:
            out[g].addmm_(xw[a:b].T, xs[a:b])
    return out


def accumulate_diag(gmm: DiagGmm, feats: torch.Tensor, accs: DiagGmmAccs, gselect: torch.Tensor | None = None,
                    frame_weights: torch.Tensor | None = None, chunk: int = 4096,
                    emulate_kaldi_quirk: bool = False, dtype: torch.dtype = LIKELIHOOD_DTYPE) -> tuple[float, float]:
    """Adds one utterance's statistics (gmm-global-acc-stats); returns (total log-likelihood, total weight).

    ``gselect`` (T, n) restricts each frame to its selected Gaussians (-1 = padding); frames of weight 0 are
    skipped, as Kaldi does. ``emulate_kaldi_quirk``: see DiagGmm.log_likelihoods_preselect."""
    x_all = feats.to(torch.float64)
    if frame_weights is not None:
        keep = frame_weights != 0
        x_all, frame_weights = x_all[keep], frame_weights[keep].to(torch.float64)
        gselect = gselect[keep] if gselect is not None else None
    g_count, d = gmm.num_gauss, gmm.dim
    dev = x_all.device
    occ = torch.zeros(g_count, dtype=torch.float64, device=dev)
    macc = torch.zeros(g_count, d, dtype=torch.float64, device=dev)
    vacc = torch.zeros(g_count, d, dtype=torch.float64, device=dev)
    tot_like = 0.0
    for s in range(0, x_all.shape[0], chunk):
        x = x_all[s:s + chunk]
        fw = frame_weights[s:s + chunk] if frame_weights is not None else None
        if gselect is None:
            post, ll = _frame_posteriors(gmm.log_likelihoods(x, dtype), fw)
            occ += post.sum(0)
            macc += post.T @ x
            vacc += post.T @ (x * x)
        else:
            gs = gselect[s:s + chunk].to(dev)
            post, ll = _frame_posteriors(gmm.log_likelihoods_preselect(x, gs, emulate_kaldi_quirk, dtype), fw)
            valid = gs.reshape(-1) >= 0
            g_flat = gs.reshape(-1)[valid]
            p_flat = post.reshape(-1)[valid]
            t_flat = torch.arange(x.shape[0], device=dev).repeat_interleave(gs.shape[1])[valid]
            occ.index_add_(0, g_flat, p_flat)
            xt = x[t_flat] * p_flat[:, None]
            macc.index_add_(0, g_flat, xt)
            vacc.index_add_(0, g_flat, xt * x[t_flat])
        tot_like += float((ll * fw).sum() if fw is not None else ll.sum())
    accs.occupancy += occ.cpu().numpy()
    accs.mean_acc += macc.cpu().numpy()
    accs.var_acc += vacc.cpu().numpy()
    tot_weight = float(frame_weights.sum()) if frame_weights is not None else float(x_all.shape[0])
    return tot_like, tot_weight


def accumulate_full(gmm: FullGmm, feats: torch.Tensor, accs: FullGmmAccs, gselect: torch.Tensor | None = None,
                    frame_weights: torch.Tensor | None = None, chunk: int = 4096,
                    dtype: torch.dtype = LIKELIHOOD_DTYPE) -> tuple[float, float]:
    """Adds one utterance's statistics (fgmm-global-acc-stats); returns (total log-likelihood, total weight)."""
    x_all = feats.to(torch.float64)
    if frame_weights is not None:
        keep = frame_weights != 0
        x_all, frame_weights = x_all[keep], frame_weights[keep].to(torch.float64)
        gselect = gselect[keep] if gselect is not None else None
    g_count, d = gmm.num_gauss, gmm.dim
    dev = x_all.device
    occ = torch.zeros(g_count, dtype=torch.float64, device=dev)
    macc = torch.zeros(g_count, d, dtype=torch.float64, device=dev)
    cacc = torch.zeros(g_count, d, d, dtype=torch.float64, device=dev)
    tot_like = 0.0
    for s in range(0, x_all.shape[0], chunk):
        x = x_all[s:s + chunk]
        fw = frame_weights[s:s + chunk] if frame_weights is not None else None
        if gselect is None:
            gs = torch.arange(g_count, device=dev).expand(x.shape[0], g_count)
            post, ll = _frame_posteriors(gmm.log_likelihoods(x, dtype), fw)
        else:
            gs = gselect[s:s + chunk].to(dev)
            post, ll = _frame_posteriors(gmm.log_likelihoods_preselect(x, gs, dtype), fw)
        valid = gs.reshape(-1) >= 0
        g_flat = gs.reshape(-1)[valid]
        p_flat = post.reshape(-1)[valid]
        t_flat = torch.arange(x.shape[0], device=dev).repeat_interleave(gs.shape[1])[valid]
        nz = p_flat != 0
        g_flat, p_flat, t_flat = g_flat[nz], p_flat[nz], t_flat[nz]
        occ.index_add_(0, g_flat, p_flat)
        macc.index_add_(0, g_flat, x[t_flat] * p_flat[:, None])
        cacc += scatter_second_order(g_count, x, t_flat, g_flat, p_flat)
        tot_like += float((ll * fw).sum() if fw is not None else ll.sum())
    accs.occupancy += occ.cpu().numpy()
    accs.mean_acc += macc.cpu().numpy()
    accs.cov_acc += cacc.cpu().numpy()
    tot_weight = float(frame_weights.sum()) if frame_weights is not None else float(x_all.shape[0])
    return tot_like, tot_weight


def accumulate_full_from_posteriors(feats: torch.Tensor, frames: torch.Tensor, gauss: torch.Tensor,
                                    weights: torch.Tensor, accs: FullGmmAccs) -> float:
    """Adds statistics from given posteriors (fgmm-global-acc-stats-post); returns the total posterior mass."""
    x = feats.to(torch.float64)
    g_count, d = accs.num_gauss, accs.dim
    w = weights.to(torch.float64)
    if gauss.numel() and (int(gauss.max()) >= g_count or int(gauss.min()) < 0):
        raise ValueError(f"posterior index {int(gauss.max())} out of range for {g_count} components")
    occ = torch.zeros(g_count, dtype=torch.float64, device=x.device).index_add_(0, gauss, w)
    macc = torch.zeros(g_count, d, dtype=torch.float64, device=x.device).index_add_(0, gauss, x[frames] * w[:, None])
    accs.occupancy += occ.cpu().numpy()
    accs.mean_acc += macc.cpu().numpy()
    accs.cov_acc += scatter_second_order(g_count, x, frames, gauss, w).cpu().numpy()
    return float(w.sum())


# ----------------------------------------------------------------------------------------------------------
# objective and updates


def ml_objective_diag(gmm: DiagGmm, acc: DiagGmmAccs) -> float:
    """Σ occ·gconst + Σ mean_acc·means_invvars − ½ Σ var_acc·inv_vars (Kaldi's MlObjective)."""
    with np.errstate(invalid="ignore"):
        obj = float(np.dot(acc.occupancy, np.where(acc.occupancy != 0, gmm.gconsts, 0.0)))
    if acc.flags & GMM_MEANS:
        obj += float((acc.mean_acc * gmm.means_invvars).sum())
    if acc.flags & GMM_VARIANCES:
        obj -= 0.5 * float((acc.var_acc * gmm.inv_vars).sum())
    return obj


def ml_objective_full(gmm: FullGmm, acc: FullGmmAccs) -> float:
    with np.errstate(invalid="ignore"):
        obj = float(np.dot(acc.occupancy, np.where(acc.occupancy != 0, gmm.gconsts, 0.0)))
    if acc.flags & GMM_MEANS:
        obj += float((acc.mean_acc * gmm.means_invcovars).sum())
    if acc.flags & GMM_VARIANCES:
        obj -= 0.5 * float((acc.cov_acc * gmm.inv_covars).sum())
    return obj


@dataclasses.dataclass
class UpdateResult:
    """What an M-step did: the new model, objective change (before removals) and count, and diagnostics."""

    gmm: object
    objf_change: float
    count: float
    removed: list[int]
    num_floored: int
    gauss_floored: int


def _low_count(occ: float, prob: float, min_occ: float, min_weight: float) -> bool:
    return not (occ > min_occ and prob > min_weight)


def mle_diag_update(gmm: DiagGmm, acc: DiagGmmAccs, opts: MleDiagGmmOptions | None = None,
                    flags: int = 7, logger: logging.Logger | None = None) -> UpdateResult:
    """One M-step of a diagonal GMM (Kaldi's MleDiagGmmUpdate)."""
    opts = opts or MleDiagGmmOptions()
    log = logger or _LOG
    if flags & ~acc.flags & 7:
        raise ValueError(f"update flags {flags} ask for statistics the accumulators do not have ({acc.flags})")
    if acc.num_gauss != gmm.num_gauss or acc.dim != gmm.dim:
        raise ValueError(f"accumulators ({acc.num_gauss} Gaussians, dim {acc.dim}) do not match the model "
                         f"({gmm.num_gauss}, dim {gmm.dim})")
    g_count = gmm.num_gauss
    occ_sum = float(acc.occupancy.sum())
    obj_old = ml_objective_diag(gmm, acc)
    weights = gmm.weights.copy()
    means = gmm.means()
    variances = gmm.variances()
    removed: list[int] = []
    tot_floored = gauss_floored = 0
    for g in range(g_count):
        occ = float(acc.occupancy[g])
        prob = occ / occ_sum if occ_sum != 0.0 else 1.0 / g_count
        if not _low_count(occ, prob, opts.min_gaussian_occupancy, opts.min_gaussian_weight):
            if flags & GMM_WEIGHTS:
                weights[g] = prob
            if flags & GMM_MEANS or flags & GMM_VARIANCES:
                mean = acc.mean_acc[g] / occ
            if flags & GMM_MEANS and not flags & GMM_VARIANCES:
                means[g] = mean
            elif flags & GMM_VARIANCES:
                var = acc.var_acc[g] / occ - mean * mean
                if not flags & GMM_MEANS:
                    var = var + (means[g] - mean) ** 2
                floored = int((var < opts.min_variance).sum())
                var = np.maximum(var, opts.min_variance)
                if floored:
                    tot_floored += floored
                    gauss_floored += 1
                variances[g] = var
                if flags & GMM_MEANS:
                    means[g] = mean
        else:
            if opts.remove_low_count_gaussians and len(removed) < g_count - 1:
                log.warning(f"Too little data - removing Gaussian (weight {prob:.6f}, occupation count {occ:.6f}, "
                            f"vector size {gmm.dim})")
                removed.append(g)
            else:
                log.warning(f"Gaussian has too little data but not removing it because "
                            f"{'it is the last Gaussian' if opts.remove_low_count_gaussians else 'remove-low-count-gaussians == false'}"
                            f": g = {g}, occ = {occ}, weight = {prob}")
                if flags & GMM_WEIGHTS:
                    weights[g] = max(prob, opts.min_gaussian_weight)
    new = DiagGmm.from_normal(weights, means, variances)
    obj_new = ml_objective_diag(new, acc)
    if removed:
        new = new.remove_components(removed, renormalize=True)
    if tot_floored:
        log.warning(f"{tot_floored} variances floored in {gauss_floored} Gaussians.")
    return UpdateResult(new, obj_new - obj_old, occ_sum, removed, tot_floored, gauss_floored)


def floor_eigenvalues(m: np.ndarray, floor: float) -> tuple[np.ndarray, int]:
    """Symmetric matrix with its eigenvalues below ``floor`` raised to it (SpMatrix::ApplyFloor); returns the
    matrix and the number floored."""
    s, p = la.eigh(m)
    n = int((s < floor).sum())
    if n == 0:
        return m, 0
    s = np.maximum(s, floor)
    return (p * s) @ p.T, n


def mle_full_update(gmm: FullGmm, acc: FullGmmAccs, opts: MleFullGmmOptions | None = None,
                    flags: int = 7, logger: logging.Logger | None = None) -> UpdateResult:
    """One M-step of a full-covariance GMM (Kaldi's MleFullGmmUpdate)."""
    opts = opts or MleFullGmmOptions()
    log = logger or _LOG
    if flags & ~acc.flags & 7:
        raise ValueError(f"update flags {flags} ask for statistics the accumulators do not have ({acc.flags})")
    if acc.num_gauss != gmm.num_gauss or acc.dim != gmm.dim:
        raise ValueError(f"accumulators ({acc.num_gauss} Gaussians, dim {acc.dim}) do not match the model "
                         f"({gmm.num_gauss}, dim {gmm.dim})")
    g_count = gmm.num_gauss
    occ_sum = float(acc.occupancy.sum())
    obj_old = ml_objective_full(gmm, acc)
    weights = gmm.weights.copy()
    old_means = gmm.means()
    means = old_means.copy()
    covars = gmm.covars()
    removed: list[int] = []
    tot_floored = gauss_floored = 0
    for g in range(g_count):
        occ = float(acc.occupancy[g])
        prob = occ / occ_sum if occ_sum > 0.0 else 1.0 / g_count
        if not _low_count(occ, prob, opts.min_gaussian_occupancy, opts.min_gaussian_weight):
            new_weight = prob
            if acc.flags & GMM_MEANS:
                means[g] = acc.mean_acc[g] / occ
            if acc.flags & GMM_VARIANCES:
                cov = acc.cov_acc[g] / occ - np.outer(means[g], means[g])
                if not flags & GMM_MEANS:
                    diff = old_means[g] - means[g]
                    cov = cov + np.outer(diff, diff)
                cov = 0.5 * (cov + cov.T)
                floor = max(opts.variance_floor, float(np.abs(la.eigvalsh(cov)).max()) / opts.max_condition)
                cov, n = floor_eigenvalues(cov, floor)
                if n:
                    tot_floored += n
                    gauss_floored += 1
                covars[g] = cov
            weights[g] = new_weight if flags & GMM_WEIGHTS else weights[g]
        else:
            if opts.remove_low_count_gaussians and len(removed) < g_count - 1:
                log.warning(f"Too little data - removing Gaussian (weight {prob:.6f}, occupation count {occ:.6f}, "
                            f"vector size {gmm.dim})")
                removed.append(g)
            else:
                log.warning(f"Gaussian has too little data but not removing it because "
                            f"{'it is the last Gaussian' if opts.remove_low_count_gaussians else 'remove-low-count-gaussians == false'}"
                            f": i = {g}, occ = {occ}, weight = {prob}")
                if flags & GMM_WEIGHTS:
                    weights[g] = max(prob, opts.min_gaussian_weight)
    # natural parameters as Kaldi's FullGmmNormal::CopyToFullGmm (per the update flags)
    if flags & GMM_VARIANCES:
        inv = la.inv(covars)
        inv = 0.5 * (inv + np.swapaxes(inv, 1, 2))
    else:
        inv = gmm.inv_covars
    inv32 = inv.astype(np.float32).astype(np.float64)
    src_means = means if flags & GMM_MEANS else old_means
    if flags & (GMM_MEANS | GMM_VARIANCES):
        miv = np.einsum("gde,ge->gd", inv32, src_means.astype(np.float32).astype(np.float64))
    else:
        miv = gmm.means_invcovars
    new = FullGmm.from_params(weights, miv, inv32)
    obj_new = ml_objective_full(new, acc)
    if removed:
        new = new.remove_components(removed, renormalize=True)
    if tot_floored:
        log.warning(f"{tot_floored} variances floored in {gauss_floored} Gaussians.")
    return UpdateResult(new, obj_new - obj_old, occ_sum, removed, tot_floored, gauss_floored)
