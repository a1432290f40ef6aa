"""Per-pdf diagonal-covariance GMMs (Kaldi's ``AmDiagGmm``): batched log-likelihoods in torch, Viterbi
statistics, maximum-likelihood update and mixing up (Gaussian splitting).

All Gaussians of all pdfs are kept in flat arrays (``weights`` (G,), ``means``/``variances`` (G, D)) grouped by
pdf (``offsets`` (P+1,)), so one matrix product scores any subset of pdfs on a batch of frames.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

from phonsid.io import KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import KaldiFormatError

LOG_2PI = math.log(2 * math.pi)


@dataclasses.dataclass
class GmmUpdateOptions:
    """Kaldi's ``MleDiagGmmOptions`` defaults, plus a variance floor relative to the global variance.

    ``variance_floor_factor`` (ours; 0 gives Kaldi's behaviour): variances are also floored at this fraction of
    the variance of all the data, per dimension (HTK's vFloor). Without it, repeated identical frames (digital
    silence in undithered features) collapse a Gaussian to ``min_variance`` and its pdf's other frames then
    score hundreds of thousands of nats below it."""

    min_gaussian_weight: float = 1e-5
    min_gaussian_occupancy: float = 10.0
    min_variance: float = 0.001
    remove_low_count_gaussians: bool = True
    variance_floor_factor: float = 0.01


@dataclasses.dataclass
class GmmUpdateStats:
    objf_change: float
    count: float
    num_removed: int
    num_not_updated: int
    num_floored: int


class AmDiagGmm:
    """Diagonal GMMs, one per pdf, in flat arrays (float64)."""

    def __init__(self, weights: list[np.ndarray], means: list[np.ndarray], variances: list[np.ndarray]) -> None:
        if not (len(weights) == len(means) == len(variances)) or not weights:
            raise ValueError("AmDiagGmm needs the same non-zero number of weight, mean and variance arrays")
        dims = {m.shape[1] for m in means}
        if len(dims) != 1:
            raise ValueError(f"pdfs have different feature dimensions {sorted(dims)}")
        self.dim = dims.pop()
        counts = [len(w) for w in weights]
        if min(counts) < 1:
            raise ValueError("every pdf needs at least one Gaussian")
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.weights = np.concatenate([np.asarray(w, np.float64) for w in weights])
        self.means = np.concatenate([np.asarray(m, np.float64) for m in means])
        self.variances = np.concatenate([np.asarray(v, np.float64) for v in variances])
        self.pdf_of = np.repeat(np.arange(len(counts)), counts)
        self._torch_cache: dict = {}

    # --- structure ---
    @property
    def num_pdfs(self) -> int:
        return len(self.offsets) - 1

    @property
    def num_gauss(self) -> int:
        return len(self.weights)

    def num_gauss_in_pdf(self, pdf: int) -> int:
        return int(self.offsets[pdf + 1] - self.offsets[pdf])

    def pdf_slice(self, pdf: int) -> slice:
        return slice(int(self.offsets[pdf]), int(self.offsets[pdf + 1]))

    def split_by_pdf(self) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        sl = [self.pdf_slice(p) for p in range(self.num_pdfs)]
        return ([self.weights[s].copy() for s in sl], [self.means[s].copy() for s in sl],
                [self.variances[s].copy() for s in sl])

    @classmethod
    def single_gaussians(cls, num_pdfs: int, mean: np.ndarray, var: np.ndarray) -> "AmDiagGmm":
        """Every pdf one Gaussian with the given mean and variance (gmm-init-mono's flat start)."""
        mean = np.asarray(mean, np.float64).reshape(1, -1)
        var = np.asarray(var, np.float64).reshape(1, -1)
        return cls([np.ones(1)] * num_pdfs, [mean.copy() for _ in range(num_pdfs)],
                   [var.copy() for _ in range(num_pdfs)])

    def invalidate(self) -> None:
        self._torch_cache.clear()

    # --- likelihoods ---
    def gconsts(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            logw = np.log(self.weights)
        return logw - 0.5 * (self.dim * LOG_2PI + np.sum(np.log(self.variances), 1)
                             + np.sum(self.means ** 2 / self.variances, 1))

    def _tables(self, device: "torch.device", dtype: "torch.dtype"):
        import torch

        key = (str(device), dtype)
        t = self._torch_cache.get(key)
        if t is None:
            ivar = 1.0 / self.variances
            t = (torch.as_tensor(self.gconsts(), dtype=dtype, device=device),
                 torch.as_tensor(self.means * ivar, dtype=dtype, device=device),
                 torch.as_tensor(-0.5 * ivar, dtype=dtype, device=device))
            self._torch_cache[key] = t
        return t

    def log_likelihoods(self, feats: "torch.Tensor", pdfs: "torch.Tensor | np.ndarray") -> "torch.Tensor":
        """``(T, U)`` log-likelihoods of frames ``feats`` (T, D) under pdfs ``pdfs`` (U,).

        All Gaussians of the pdfs are scored with two matrix products, then each pdf's log-sum-exp is taken
        over its own Gaussians (maximum by ``scatter_reduce``, sum by ``index_add``), so pdfs with few
        Gaussians cost nothing for the pdfs with many."""
        import torch

        gconst, mi, nhiv = self._tables(feats.device, feats.dtype)
        pdfs = np.asarray(pdfs, dtype=np.int64)
        counts = np.diff(self.offsets)[pdfs]
        U = len(pdfs)
        seg = np.repeat(np.arange(U), counts)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        idx = np.arange(len(seg)) + np.repeat(self.offsets[pdfs] - first, counts)
        idx_t = torch.as_tensor(idx, device=feats.device)
        ll = torch.addmm(gconst[idx_t], feats, mi[idx_t].T)
        ll.addmm_(feats * feats, nhiv[idx_t].T)
        if len(idx) == U:  # one Gaussian per pdf
            return ll
        seg_t = torch.as_tensor(seg, device=feats.device)
        T = ll.shape[0]
        top = torch.full((T, U), float("-inf"), dtype=ll.dtype, device=feats.device)
        top.scatter_reduce_(1, seg_t.expand(T, -1), ll, "amax")
        e = (ll - top[:, seg_t]).exp_()
        total = torch.zeros((T, U), dtype=ll.dtype, device=feats.device).index_add_(1, seg_t, e)
        return total.log_() + top

    # --- update ---
    def mle_update(self, acc: "GmmAccs", opts: GmmUpdateOptions | None = None) -> GmmUpdateStats:
        """Maximum-likelihood update of weights, means and variances from Viterbi statistics (Kaldi's
        ``MleAmDiagGmmUpdate``): Gaussians with occupancy below ``min_gaussian_occupancy`` keep their mean and
        variance and are removed when their pdf has others; variances are floored at ``min_variance`` and at
        ``variance_floor_factor`` times the global variance of the statistics."""
        opts = opts or GmmUpdateOptions()
        if acc.occ.shape[0] != self.num_gauss or acc.sum.shape != self.means.shape:
            raise ValueError(f"statistics for {acc.occ.shape[0]} Gaussians of dim {acc.sum.shape[1]}, model has "
                             f"{self.num_gauss} of dim {self.dim}")
        old_aux = self._aux(acc.occ, acc.sum, acc.sumsq)
        floor = np.full(self.dim, opts.min_variance)
        n = acc.occ.sum()
        if opts.variance_floor_factor > 0 and n > 0:
            gmean = acc.sum.sum(0) / n
            gvar = acc.sumsq.sum(0) / n - gmean ** 2
            floor = np.maximum(floor, opts.variance_floor_factor * gvar)
        W, M, V, kept_idx = [], [], [], []
        removed = not_updated = floored = 0
        for p in range(self.num_pdfs):
            s = self.pdf_slice(p)
            occ = acc.occ[s]
            w, mu, var = self.weights[s].copy(), self.means[s].copy(), self.variances[s].copy()
            tot = occ.sum()
            if tot <= 0:
                W.append(w), M.append(mu), V.append(var)
                kept_idx.append(np.arange(s.start, s.stop))
                not_updated += len(w)
                continue
            w = occ / tot
            ok = occ >= opts.min_gaussian_occupancy
            if ok.any():
                new_mu = acc.sum[s][ok] / occ[ok, None]
                new_var = acc.sumsq[s][ok] / occ[ok, None] - new_mu ** 2
                floored += int(np.sum(new_var < floor))
                mu[ok] = new_mu
                var[ok] = np.maximum(new_var, floor)
            not_updated += int(np.sum(~ok))
            keep = np.ones(len(w), bool)
            if opts.remove_low_count_gaussians and len(w) > 1:
                keep = ok & (w >= opts.min_gaussian_weight)
                if not keep.any():
                    keep[np.argmax(occ)] = True
                removed += int(np.sum(~keep))
            w = np.maximum(w[keep], opts.min_gaussian_weight)
            W.append(w / w.sum()), M.append(mu[keep]), V.append(var[keep])
            kept_idx.append(np.arange(s.start, s.stop)[keep])
        idx = np.concatenate(kept_idx)
        old = float(np.sum(old_aux[idx]))
        self.__init__(W, M, V)
        new = float(np.sum(self._aux(acc.occ[idx], acc.sum[idx], acc.sumsq[idx])))
        return GmmUpdateStats(new - old, float(acc.occ.sum()), removed, not_updated, floored)

    def _aux(self, occ: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """Per-Gaussian auxiliary function of Viterbi statistics under the current parameters."""
        iv = 1.0 / self.variances
        with np.errstate(invalid="ignore", divide="ignore"):
            val = occ * self.gconsts() - 0.5 * np.sum(s2 * iv, 1) + np.sum(s1 * self.means * iv, 1)
        return np.where(occ > 0, val, 0.0)

    def mix_up(self, target: int, pdf_occs: np.ndarray, power: float = 0.2, perturb_factor: float = 0.01,
               min_count: float = 20.0, seed: int = 0) -> int:
        """Splits Gaussians so the total approaches ``target``, allocating ∝ occupancy^power with at most one
        Gaussian per ``min_count`` frames (Kaldi's ``GetSplitTargets`` + ``DiagGmm::Split``). Returns the new
        total."""
        targets = split_targets(np.asarray(pdf_occs, np.float64), target, power, min_count)
        rng = np.random.default_rng(seed)
        W, M, V = self.split_by_pdf()
        for p in range(self.num_pdfs):
            w, mu, var = W[p], M[p], V[p]
            while len(w) < targets[p]:
                g = int(np.argmax(w))
                r = rng.standard_normal(self.dim) * perturb_factor * np.sqrt(var[g])
                w = np.concatenate([w, [w[g] / 2]])
                w[g] /= 2
                mu = np.concatenate([mu, (mu[g] + r)[None]])
                mu[g] = mu[g] - r
                var = np.concatenate([var, var[g][None]])
            W[p], M[p], V[p] = w, mu, var
        self.__init__(W, M, V)
        return self.num_gauss


def split_targets(occs: np.ndarray, target: int, power: float, min_count: float) -> np.ndarray:
    """Number of Gaussians per pdf for a total of ``target`` (Kaldi's ``GetSplitTargets``)."""
    n = len(occs)
    num = np.ones(n, dtype=np.int64)
    score = np.power(np.maximum(occs, 0.0), power)
    heap = [(-score[i], i) for i in range(n)]
    heapq.heapify(heap)
    total = n
    while total < target and heap:
        neg, i = heapq.heappop(heap)
        if -neg <= 0:
            break
        total += 1
        if (num[i] + 1) * min_count >= occs[i]:
            continue  # this pdf has too little data for another Gaussian: drop it from the queue
        num[i] += 1
        heapq.heappush(heap, (-score[i] / num[i], i))
    return num


@dataclasses.dataclass
class GmmAccs:
    """Viterbi statistics for an ``AmDiagGmm`` (per Gaussian) and the transition model (per transition id)."""

    occ: np.ndarray  # (G,)
    sum: np.ndarray  # (G, D)
    sumsq: np.ndarray  # (G, D)
    trans: np.ndarray  # (num_tids + 1,)
    tot_like: float = 0.0
    tot_frames: float = 0.0

    @classmethod
    def zeros(cls, am: AmDiagGmm, num_transition_ids: int) -> "GmmAccs":
        G, D = am.num_gauss, am.dim
        return cls(np.zeros(G), np.zeros((G, D)), np.zeros((G, D)), np.zeros(num_transition_ids + 1))

    def add(self, other: "GmmAccs") -> None:
        if self.occ.shape != other.occ.shape or self.sum.shape != other.sum.shape or \
                self.trans.shape != other.trans.shape:
            raise ValueError("statistics of different models cannot be summed "
                             f"({self.occ.shape[0]} vs {other.occ.shape[0]} Gaussians, "
                             f"{self.trans.shape[0]} vs {other.trans.shape[0]} transitions)")
        self.occ += other.occ
        self.sum += other.sum
        self.sumsq += other.sumsq
        self.trans += other.trans
        self.tot_like += other.tot_like
        self.tot_frames += other.tot_frames

    def pdf_occs(self, am: AmDiagGmm) -> np.ndarray:
        return np.add.reduceat(self.occ, am.offsets[:-1]) if am.num_gauss else np.zeros(0)

    def accumulate(self, am: AmDiagGmm, feats: np.ndarray, pdfs: np.ndarray, tids: np.ndarray | None = None,
                   weight: float = 1.0) -> float:
        """Adds frames (T, D) with known pdfs (and transition ids); returns their total log-likelihood.

        Frames are grouped by pdf and each group is scored against its own Gaussians with matrix products
        (numpy, float64: tools that only accumulate start without loading torch)."""
        feats = np.asarray(feats, dtype=np.float64)
        pdfs = np.asarray(pdfs, dtype=np.int64)
        if len(feats) == 0:
            return 0.0
        if pdfs.min() < 0 or pdfs.max() >= am.num_pdfs:
            raise ValueError(f"pdf ids outside 0..{am.num_pdfs - 1}")
        order = np.argsort(pdfs, kind="stable")
        sorted_pdfs = pdfs[order]
        present, starts = np.unique(sorted_pdfs, return_index=True)
        ends = np.append(starts[1:], len(order))
        gconst = am.gconsts()
        ivar = 1.0 / am.variances
        like = 0.0
        for p, a, b in zip(present, starts, ends):
            x = feats[order[a:b]]
            g = am.pdf_slice(int(p))
            ll = x @ (am.means[g] * ivar[g]).T - 0.5 * (x * x) @ ivar[g].T + gconst[g]
            top = ll.max(1, keepdims=True)
            e = np.exp(ll - top)
            tot = e.sum(1, keepdims=True)
            post = e / tot * weight
            like += float(np.sum(np.log(tot) + top))
            self.occ[g] += post.sum(0)
            self.sum[g] += post.T @ x
            self.sumsq[g] += post.T @ (x * x)
        if tids is not None:
            self.trans += np.bincount(np.asarray(tids), minlength=len(self.trans))[: len(self.trans)] * weight
        self.tot_like += like * weight
        self.tot_frames += len(feats) * weight
        return like


# ---------------------------------------------------------------------------------------------------------
# Kaldi serialisation

def write_diag_gmm_to(w: KaldiWriter, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> None:
    iv = 1.0 / variances
    D = means.shape[1]
    with np.errstate(divide="ignore"):
        gconst = np.log(weights) - 0.5 * (D * LOG_2PI + np.sum(np.log(variances), 1) + np.sum(means ** 2 * iv, 1))
    w.write_token("<DiagGMM>")
    w.write_newline()
    w.write_token("<GCONSTS>")
    w.write_vector(gconst.astype(np.float32))
    w.write_token("<WEIGHTS>")
    w.write_vector(weights.astype(np.float32))
    w.write_token("<MEANS_INVVARS>")
    w.write_matrix((means * iv).astype(np.float32))
    w.write_token("<INV_VARS>")
    w.write_matrix(iv.astype(np.float32))
    w.write_token("</DiagGMM>")
    w.write_newline()


def read_diag_gmm_from(r: KaldiReader) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tok = r.read_token()
    if tok not in ("<DiagGMM>", "<DiagGMMBegin>"):
        raise KaldiFormatError(f"{r.name}: expected <DiagGMM>, got {tok}")
    tok = r.read_token()
    if tok == "<GCONSTS>":
        r.read_vector()
        tok = r.read_token()
    if tok != "<WEIGHTS>":
        raise KaldiFormatError(f"{r.name}: expected <WEIGHTS>, got {tok}")
    weights = np.asarray(r.read_vector(), np.float64)
    r.expect_token("<MEANS_INVVARS>")
    mi = np.asarray(r.read_matrix(), np.float64)
    r.expect_token("<INV_VARS>")
    iv = np.asarray(r.read_matrix(), np.float64)
    tok = r.read_token()
    if tok not in ("</DiagGMM>", "<DiagGMMEnd>"):
        raise KaldiFormatError(f"{r.name}: expected </DiagGMM>, got {tok}")
    if mi.shape != iv.shape or mi.shape[0] != len(weights):
        raise KaldiFormatError(f"{r.name}: DiagGMM with {len(weights)} weights, means {mi.shape}, inv-vars {iv.shape}")
    var = 1.0 / iv
    return weights, mi * var, var


def write_am_diag_gmm_to(w: KaldiWriter, am: AmDiagGmm) -> None:
    w.write_token("<DIMENSION>")
    w.write_int(am.dim)
    w.write_token("<NUMPDFS>")
    w.write_int(am.num_pdfs)
    for p in range(am.num_pdfs):
        s = am.pdf_slice(p)
        write_diag_gmm_to(w, am.weights[s], am.means[s], am.variances[s])


def read_am_diag_gmm_from(r: KaldiReader) -> AmDiagGmm:
    r.expect_token("<DIMENSION>")
    dim = r.read_int()
    r.expect_token("<NUMPDFS>")
    n = r.read_int()
    W, M, V = [], [], []
    for p in range(n):
        w, m, v = read_diag_gmm_from(r)
        if m.shape[1] != dim:
            raise KaldiFormatError(f"{r.name}: pdf {p} has dimension {m.shape[1]}, the model says {dim}")
        W.append(w), M.append(m), V.append(v)
    return AmDiagGmm(W, M, V)


def write_gmm_accs_to(w: KaldiWriter, acc: GmmAccs) -> None:
    """Our accumulator format (Kaldi-serialised fields; not Kaldi's own acc layout)."""
    w.write_token("<PhonsidGmmHmmAccs>")
    w.write_token("<TransAccs>")
    w.write_vector(acc.trans, double=True)
    w.write_token("<Occ>")
    w.write_vector(acc.occ, double=True)
    w.write_token("<Sum>")
    w.write_matrix(acc.sum, double=True)
    w.write_token("<SumSq>")
    w.write_matrix(acc.sumsq, double=True)
    w.write_token("<TotLike>")
    w.write_float(acc.tot_like, double=True)
    w.write_token("<TotFrames>")
    w.write_float(acc.tot_frames, double=True)
    w.write_token("</PhonsidGmmHmmAccs>")


def read_gmm_accs_from(r: KaldiReader) -> GmmAccs:
    r.expect_token("<PhonsidGmmHmmAccs>")
    r.expect_token("<TransAccs>")
    trans = np.asarray(r.read_vector(), np.float64)
    r.expect_token("<Occ>")
    occ = np.asarray(r.read_vector(), np.float64)
    r.expect_token("<Sum>")
    s1 = np.asarray(r.read_matrix(), np.float64)
    r.expect_token("<SumSq>")
    s2 = np.asarray(r.read_matrix(), np.float64)
    r.expect_token("<TotLike>")
    like = r.read_float()
    r.expect_token("<TotFrames>")
    frames = r.read_float()
    r.expect_token("</PhonsidGmmHmmAccs>")
    return GmmAccs(occ, s1.reshape(len(occ), -1), s2.reshape(len(occ), -1), trans, like, frames)
