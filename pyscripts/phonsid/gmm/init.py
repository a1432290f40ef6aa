"""GMM initialisation: a diagonal GMM from a random subset of frames with in-memory E-M and mixture splitting
(gmm-global-init-from-feats), and a full GMM from accumulated statistics (fgmm-global-init-from-accs), which
with DNN senone posteriors gives the "supervised" UBM of the DNN/i-vector system.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from phonsid.gmm import linalg as la
from phonsid.gmm.diag_gmm import DiagGmm
from phonsid.gmm.full_gmm import FullGmm
from phonsid.gmm.mle import DiagGmmAccs, FullGmmAccs, MleDiagGmmOptions, accumulate_diag, mle_diag_update

_LOG = logging.getLogger("phonsid.gmm")


class FrameReservoir:
    """Keeps a uniform random subset of at most ``capacity`` frames of a stream (Kaldi's scheme in
    gmm-global-init-from-feats: the first ``capacity`` frames, then frame n replaces a random slot with
    probability capacity / n)."""

    def __init__(self, capacity: int, rng: np.random.Generator) -> None:
        if capacity <= 0:
            raise ValueError(f"--num-frames must be positive, got {capacity}")
        self.capacity = capacity
        self.rng = rng
        self.buffer: np.ndarray | None = None
        self.num_read = 0

    def add(self, frames: np.ndarray, key: str = "") -> None:
        frames = np.asarray(frames, dtype=np.float32)
        if frames.ndim != 2:
            raise ValueError(f"utterance {key}: expected a feature matrix, got shape {frames.shape}")
        if self.buffer is None:
            self.buffer = np.empty((self.capacity, frames.shape[1]), dtype=np.float32)
        elif frames.shape[1] != self.buffer.shape[1]:
            raise ValueError(f"Features have inconsistent dims {frames.shape[1]} vs. {self.buffer.shape[1]} "
                             f"(current utt is {key})")
        n = frames.shape[0]
        take = min(n, max(self.capacity - self.num_read, 0))
        if take:
            self.buffer[self.num_read:self.num_read + take] = frames[:take]
        rest = frames[take:]
        if rest.shape[0]:
            counts = self.num_read + take + np.arange(1, rest.shape[0] + 1)
            keep = self.rng.random(rest.shape[0]) < self.capacity / counts
            slots = self.rng.integers(0, self.capacity, size=rest.shape[0])[keep]
            kept = rest[keep]
            # later frames overwrite earlier ones in the same slot, as when processed in order
            _, last = np.unique(slots[::-1], return_index=True)
            idx = len(slots) - 1 - last
            self.buffer[slots[idx]] = kept[idx]
        self.num_read += n

    def frames(self) -> np.ndarray:
        if self.buffer is None:
            return np.zeros((0, 0), dtype=np.float32)
        return self.buffer[: min(self.num_read, self.capacity)]


def init_from_random_frames(feats: np.ndarray, num_gauss: int, rng: np.random.Generator) -> DiagGmm:
    """Means at distinct random frames, every variance the global variance, equal weights."""
    n, d = feats.shape
    if n < 10 * num_gauss:
        raise ValueError(f"Too few frames to train on: {n} frames for {num_gauss} Gaussians (need 10 per Gaussian)")
    x = feats.astype(np.float64)
    mean = x.mean(0)
    var = (x * x).mean(0) - mean * mean
    if var.max() <= 0.0:
        raise ValueError("Features do not have positive variance")
    idx = rng.choice(n, size=num_gauss, replace=False)
    return DiagGmm.from_normal(np.full(num_gauss, 1.0 / num_gauss), x[idx], np.tile(var, (num_gauss, 1)))


def train_diag_gmm_in_memory(feats: np.ndarray, num_gauss: int, num_gauss_init: int = 0, num_iters: int = 50,
                             opts: MleDiagGmmOptions | None = None, rng: np.random.Generator | None = None,
                             device: torch.device | str = "cpu", logger: logging.Logger | None = None) -> DiagGmm:
    """gmm-global-init-from-feats on frames held in memory: random-frame initialisation, ``num_iters`` E-M
    iterations on all frames, splitting towards ``num_gauss`` during the first half."""
    opts = opts or MleDiagGmmOptions()
    log = logger or _LOG
    rng = rng or np.random.default_rng(0)
    if num_gauss_init <= 0 or num_gauss_init > num_gauss:
        num_gauss_init = num_gauss
    log.info(f"Initializing GMM means from random frames to {num_gauss_init} Gaussians.")
    gmm = init_from_random_frames(feats, num_gauss_init, rng)
    x = torch.as_tensor(feats, device=device)
    # Kaldi's increment per iteration, except that it is at least 1 (Kaldi's integer division gives 0, and so
    # never reaches num_gauss, when num_gauss - num_gauss_init < num_iters / 2).
    half = num_iters // 2
    inc = (num_gauss - num_gauss_init) // half if half > 0 else num_gauss - num_gauss_init
    if num_gauss > num_gauss_init:
        inc = max(inc, 1)
    cur = num_gauss_init
    for it in range(num_iters):
        acc = DiagGmmAccs.zeros(gmm.num_gauss, gmm.dim)
        tot_like, tot_weight = accumulate_diag(gmm, x, acc)
        log.info(f"Likelihood per frame on iteration {it} was {tot_like / tot_weight:.6g} over "
                 f"{tot_weight:.0f} frames.")
        res = mle_diag_update(gmm, acc, opts, logger=log)
        gmm = res.gmm
        log.info(f"Objective-function change on iteration {it} was {res.objf_change / res.count:.6g} over "
                 f"{res.count:.6g} frames.")
        nxt = min(num_gauss, cur + inc)
        if nxt > gmm.num_gauss:
            log.info(f"Splitting to {nxt} Gaussians.")
            gmm = gmm.split(nxt, 0.1, rng)
            cur = nxt
    return gmm


def init_full_gmm_from_accs(acc: FullGmmAccs, num_components: int | None = None,
                            variance_floor: float = 0.001, logger: logging.Logger | None = None) -> FullGmm:
    """fgmm-global-init-from-accs: weights, means and covariances straight from the statistics.

    Kaldi does not guard against components without data or with singular covariances (it reports "bad
    GConsts"); here a component with no data is an error naming it, and covariance eigenvalues below
    ``variance_floor`` are floored (counted in the log)."""
    log = logger or _LOG
    g = acc.num_gauss
    if num_components is not None and num_components != g:
        raise ValueError(f"statistics have {g} components but {num_components} were asked for")
    occ = acc.occupancy
    empty = np.flatnonzero(occ <= 0)
    if empty.size:
        shown = ", ".join(str(i) for i in empty[:20]) + (" ..." if empty.size > 20 else "")
        raise ValueError(f"{empty.size} of {g} components have no data (indices {shown}); the posteriors never "
                         "select them (more data, or fewer posterior classes)")
    weights = occ / occ.sum()
    means = acc.mean_acc / occ[:, None]
    covars = acc.cov_acc / occ[:, None, None] - np.einsum("gi,gj->gij", means, means)
    covars = 0.5 * (covars + np.swapaxes(covars, 1, 2))
    lam, p = la.eigh(covars)
    n_floor = int((lam < variance_floor).sum())
    if n_floor:
        log.warning(f"Floored {n_floor} covariance eigenvalues (in {int((lam < variance_floor).any(1).sum())} "
                    f"components) at {variance_floor}")
        covars = np.einsum("gij,gj,gkj->gik", p, np.maximum(lam, variance_floor), p)
    gmm = FullGmm.from_normal(weights, means, covars)
    log.info(f"FullGmm has {int(np.isinf(gmm.gconsts).sum())} bad GConsts")
    return gmm
