"""Diagonal-covariance GMM in Kaldi's natural parameterisation (``DiagGmm``), with its binary/text format.

Kaldi keeps ``weights``, ``means_invvars`` (mean / variance), ``inv_vars`` and ``gconsts`` (log weight plus the
log-likelihood at x = 0) in float32. We keep the same four arrays as float64 holding float32 values (so a model
read from disk is written back bit for bit). Log-likelihoods are computed with torch in float32 by default, as
Kaldi does (``LIKELIHOOD_DTYPE``; about 4x faster than float64 on CPU), statistics in float64.

Per-frame log-likelihood of Gaussian g: ``gconst[g] + x · means_invvars[g] - 0.5 x² · inv_vars[g]``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
import torch

from phonsid.io import KaldiFormatError, KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import read_object_file, write_object_file

LOG_2PI = math.log(2.0 * math.pi)

#: Precision of frame log-likelihoods and posteriors (Kaldi's BaseFloat); pass torch.float64 for more.
LIKELIHOOD_DTYPE = torch.float32


def as_float32_values(a: np.ndarray) -> np.ndarray:
    """Rounds to float32 precision (Kaldi stores model parameters as float) and returns float64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


@dataclasses.dataclass
class DiagGmm:
    """A diagonal GMM: ``weights`` (G,), ``means_invvars`` (G, D), ``inv_vars`` (G, D), ``gconsts`` (G,)."""

    weights: np.ndarray
    means_invvars: np.ndarray
    inv_vars: np.ndarray
    gconsts: np.ndarray

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.float64).reshape(-1)
        self.means_invvars = np.asarray(self.means_invvars, dtype=np.float64)
        self.inv_vars = np.asarray(self.inv_vars, dtype=np.float64)
        self.gconsts = np.asarray(self.gconsts, dtype=np.float64).reshape(-1)
        g = self.weights.shape[0]
        if self.means_invvars.ndim != 2 or self.means_invvars.shape[0] != g or self.inv_vars.shape != \
                self.means_invvars.shape or self.gconsts.shape[0] != g:
            raise ValueError(f"DiagGmm: inconsistent shapes weights {self.weights.shape}, means_invvars "
                             f"{self.means_invvars.shape}, inv_vars {self.inv_vars.shape}, gconsts {self.gconsts.shape}")
        self._cache: dict[str, tuple[torch.Tensor, ...]] = {}

    # --- construction ---
    @classmethod
    def from_params(cls, weights: np.ndarray, means_invvars: np.ndarray, inv_vars: np.ndarray) -> "DiagGmm":
        """From natural parameters (rounded to float32 as Kaldi stores them); gconsts are computed."""
        w, miv, iv = as_float32_values(weights), as_float32_values(means_invvars), as_float32_values(inv_vars)
        return cls(w, miv, iv, compute_diag_gconsts(w, miv, iv))

    @classmethod
    def from_normal(cls, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> "DiagGmm":
        """From weights, means and variances (Kaldi's DiagGmmNormal → DiagGmm, computed in double)."""
        means = np.asarray(means, dtype=np.float64)
        inv_vars = 1.0 / np.asarray(variances, dtype=np.float64)
        return cls.from_params(weights, means * inv_vars, inv_vars)

    # --- accessors ---
    @property
    def num_gauss(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dim(self) -> int:
        return int(self.means_invvars.shape[1])

    def means(self) -> np.ndarray:
        return self.means_invvars / self.inv_vars

    def variances(self) -> np.ndarray:
        return 1.0 / self.inv_vars

    def copy(self) -> "DiagGmm":
        return DiagGmm(self.weights.copy(), self.means_invvars.copy(), self.inv_vars.copy(), self.gconsts.copy())

    def tensors(self, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(gconsts, means_invvars, inv_vars) as tensors on ``device`` (cached)."""
        key = f"{torch.device(device)}/{dtype}"
        if key not in self._cache:
            self._cache[key] = tuple(torch.as_tensor(a, dtype=dtype, device=device)
                                     for a in (self.gconsts, self.means_invvars, self.inv_vars))
        return self._cache[key]  # type: ignore[return-value]

    # --- likelihoods ---
    def log_likelihoods(self, feats: torch.Tensor, dtype: torch.dtype = LIKELIHOOD_DTYPE) -> torch.Tensor:
        """Per-Gaussian log-likelihoods (T, G) of the rows of ``feats`` (T, D)."""
        if feats.shape[-1] != self.dim:
            raise ValueError(f"DiagGmm: feature dimension {feats.shape[-1]} does not match the model's {self.dim}")
        gc, miv, iv = self.tensors(feats.device, dtype)
        x = feats.to(dtype)
        out = x @ miv.T
        out.addmm_(x * x, iv.T, alpha=-0.5)
        out += gc
        return out

    def log_likelihoods_preselect(self, feats: torch.Tensor, gselect: torch.Tensor,
                                  emulate_kaldi_quirk: bool = False,
                                  dtype: torch.dtype = LIKELIHOOD_DTYPE) -> torch.Tensor:
        """Log-likelihoods of the selected Gaussians: ``gselect`` (T, n) indices (-1 = padding → -inf).

        ``emulate_kaldi_quirk``: Kaldi's DiagGmm::LogLikelihoodsPreselect treats a selection whose last index
        minus its first is n - 1 as the ascending range first..first+n-1, although Gaussian selections are
        sorted by likelihood, so on such frames it returns the log-likelihoods of the Gaussians of that range
        (≈1% of frames with 32 Gaussians, far fewer with 2048). gmm-global-acc-stats --gselect is affected;
        set this to reproduce Kaldi's numbers exactly (the default computes what the selection names).
        """
        gc, miv, iv = self.tensors(feats.device, dtype)
        x = feats.to(dtype)
        idx = gselect.clamp(min=0)
        if emulate_kaldi_quirk and gselect.shape[1] > 0:
            n = gselect.shape[1]
            quirk = (gselect[:, -1] + 1 - gselect[:, 0] == n) & (gselect >= 0).all(1)
            ranged = gselect[:, :1] + torch.arange(n, device=gselect.device)
            idx = torch.where(quirk[:, None], ranged, idx).clamp(max=self.num_gauss - 1)
        ll = gc[idx] + torch.einsum("td,tnd->tn", x, miv[idx]) - 0.5 * torch.einsum("td,tnd->tn", x * x, iv[idx])
        return ll.masked_fill(gselect < 0, -math.inf)

    # --- structural changes (return new models) ---
    def remove_components(self, indices: Sequence[int], renormalize: bool = True) -> "DiagGmm":
        """Removes the given Gaussians (Kaldi's RemoveComponents); weights renormalised if asked."""
        keep = np.ones(self.num_gauss, dtype=bool)
        keep[list(indices)] = False
        if not keep.any():
            raise ValueError("DiagGmm: cannot remove every Gaussian")
        w = self.weights[keep]
        if renormalize:
            w = w / w.sum()
        return DiagGmm.from_params(w, self.means_invvars[keep], self.inv_vars[keep])

    def split(self, target: int, perturb_factor: float, rng: np.random.Generator) -> "DiagGmm":
        """Kaldi's DiagGmm::Split: repeatedly halves the heaviest Gaussian, perturbing the two means by
        ±perturb_factor · N(0, 1) · stddev (in the means_invvars domain)."""
        g = self.num_gauss
        if target < g:
            raise ValueError(f"DiagGmm: cannot split from {g} to {target} Gaussians")
        if target == g:
            return self.copy()
        w = np.zeros(target)
        miv = np.zeros((target, self.dim))
        iv = np.zeros((target, self.dim))
        w[:g], miv[:g], iv[:g] = self.weights, self.means_invvars, self.inv_vars
        cur = g
        while cur < target:
            j = int(np.argmax(w[:cur]))
            w[j] /= 2.0
            w[cur] = w[j]
            rand = rng.standard_normal(self.dim) * np.sqrt(iv[j])
            iv[cur] = iv[j]
            miv[cur] = miv[j] + perturb_factor * rand
            miv[j] = miv[j] - perturb_factor * rand
            cur += 1
        return DiagGmm.from_params(w, miv, iv)


def compute_diag_gconsts(weights: np.ndarray, means_invvars: np.ndarray, inv_vars: np.ndarray) -> np.ndarray:
    """log w - D/2 log 2π + 1/2 Σ log inv_var - 1/2 Σ mean² inv_var, rounded to float32 (−inf for zero weight)."""
    with np.errstate(divide="ignore"):
        gc = (np.log(weights) - 0.5 * LOG_2PI * means_invvars.shape[1]
              + 0.5 * np.log(inv_vars).sum(1) - 0.5 * (means_invvars ** 2 / inv_vars).sum(1))
    if np.isnan(gc).any():
        bad = int(np.flatnonzero(np.isnan(gc))[0])
        raise ValueError(f"DiagGmm: not a number in the gconst of Gaussian {bad} (bad variance?)")
    gc[np.isposinf(gc)] = -np.inf
    return as_float32_values(gc)


# --- Kaldi format ---

def read_diag_gmm_from(r: KaldiReader) -> DiagGmm:
    """Reads ``<DiagGMM>`` … ``</DiagGMM>`` from an open reader (binary or text)."""
    r.expect_one_of(("<DiagGMM>", "<DiagGMMBegin>"))
    tok = r.expect_one_of(("<GCONSTS>", "<WEIGHTS>"))
    gconsts = None
    if tok == "<GCONSTS>":
        gconsts = r.read_vector(double=True)
        r.expect_token("<WEIGHTS>")
    weights = r.read_vector(double=True)
    r.expect_token("<MEANS_INVVARS>")
    miv = r.read_matrix(double=True)
    r.expect_token("<INV_VARS>")
    iv = r.read_matrix(double=True)
    r.expect_one_of(("</DiagGMM>", "<DiagGMMEnd>"))
    if miv.shape != iv.shape or miv.shape[0] != weights.shape[0]:
        raise KaldiFormatError(f"{r.name}: DiagGMM with {weights.shape[0]} weights, means_invvars {miv.shape}, "
                               f"inv_vars {iv.shape}")
    if gconsts is None or gconsts.shape != weights.shape:
        gconsts = compute_diag_gconsts(weights, miv, iv)
    return DiagGmm(weights, miv, iv, gconsts)


def write_diag_gmm_to(w: KaldiWriter, gmm: DiagGmm) -> None:
    w.write_token("<DiagGMM>")
    w.write_newline()
    w.write_token("<GCONSTS>")
    w.write_vector(gmm.gconsts)
    w.write_token("<WEIGHTS>")
    w.write_vector(gmm.weights)
    w.write_token("<MEANS_INVVARS>")
    w.write_matrix(gmm.means_invvars)
    w.write_token("<INV_VARS>")
    w.write_matrix(gmm.inv_vars)
    w.write_token("</DiagGMM>")
    w.write_newline()


def read_diag_gmm(rxfilename: str) -> DiagGmm:
    """Reads a Kaldi DiagGmm (``.dubm``; binary or text; path, ``-`` or ``cmd |``)."""
    return read_object_file(rxfilename, read_diag_gmm_from)


def write_diag_gmm(wxfilename: str, gmm: DiagGmm, binary: bool = True) -> None:
    write_object_file(wxfilename, binary, lambda w: write_diag_gmm_to(w, gmm))
