"""Full-covariance GMM in Kaldi's natural parameterisation (``FullGmm``), with its binary/text format.

Parameters as Kaldi stores them (float32 values, kept here in float64 arrays): ``weights`` (G,),
``means_invcovars`` (G, D) = Σ⁻¹μ, ``inv_covars`` (G, D, D) = Σ⁻¹ (packed symmetric on disk) and ``gconsts``.
Log-likelihood of Gaussian g: ``gconst[g] + x · means_invcovars[g] - 0.5 xᵀ inv_covars[g] x``.

Full log-likelihoods are needed only for a few selected Gaussians per frame (Gaussian selection by the diagonal
model). On CPU they are computed Gaussian by Gaussian over the frames that selected it (``x L_g`` with
``L_g`` the Cholesky factor of Σ_g⁻¹, a small GEMM each); on GPU for all Gaussians at once from the packed
quadratic features of the frames, then gathered.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
import torch

from phonsid.gmm import linalg as la
from phonsid.gmm.diag_gmm import LIKELIHOOD_DTYPE, LOG_2PI, DiagGmm, as_float32_values
from phonsid.io import KaldiFormatError, KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import read_object_file, write_object_file


@dataclasses.dataclass
class FullGmm:
    """A full-covariance GMM."""

    weights: np.ndarray
    means_invcovars: np.ndarray
    inv_covars: np.ndarray
    gconsts: np.ndarray

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.float64).reshape(-1)
        self.means_invcovars = np.asarray(self.means_invcovars, dtype=np.float64)
        self.inv_covars = np.asarray(self.inv_covars, dtype=np.float64)
        self.gconsts = np.asarray(self.gconsts, dtype=np.float64).reshape(-1)
        g, d = self.means_invcovars.shape
        if g != self.weights.shape[0] or self.inv_covars.shape != (g, d, d) or self.gconsts.shape[0] != g:
            raise ValueError(f"FullGmm: inconsistent shapes weights {self.weights.shape}, means_invcovars "
                             f"{self.means_invcovars.shape}, inv_covars {self.inv_covars.shape}")
        self._cache: dict[str, tuple[torch.Tensor, ...]] = {}

    # --- construction ---
    @classmethod
    def from_params(cls, weights: np.ndarray, means_invcovars: np.ndarray, inv_covars: np.ndarray) -> "FullGmm":
        w = as_float32_values(weights)
        miv = as_float32_values(means_invcovars)
        ic = as_float32_values(_symmetrise(np.asarray(inv_covars, dtype=np.float64)))
        return cls(w, miv, ic, compute_full_gconsts(w, miv, ic))

    @classmethod
    def from_normal(cls, weights: np.ndarray, means: np.ndarray, covars: np.ndarray) -> "FullGmm":
        """From weights, means and covariances (inverted in double; Σ⁻¹μ from the float32 Σ⁻¹ and μ as Kaldi)."""
        inv = as_float32_values(_symmetrise(la.inv(np.asarray(covars, dtype=np.float64))))
        miv = np.einsum("gde,ge->gd", inv, as_float32_values(means))
        return cls.from_params(weights, miv, inv)

    @classmethod
    def from_diag(cls, diag: DiagGmm) -> "FullGmm":
        """Kaldi's gmm-global-to-fgmm: the same Gaussians with diagonal inverse covariances."""
        g, d = diag.num_gauss, diag.dim
        inv = np.zeros((g, d, d))
        inv[:, np.arange(d), np.arange(d)] = diag.inv_vars
        return cls(diag.weights.copy(), diag.means_invvars.copy(), inv,
                   compute_full_gconsts(diag.weights, diag.means_invvars, inv))

    def to_diag(self) -> DiagGmm:
        """Kaldi's fgmm-global-to-gmm: keeps the diagonal of each covariance (not of its inverse)."""
        covars = la.inv(self.inv_covars)
        inv_vars = as_float32_values(1.0 / np.diagonal(covars, axis1=1, axis2=2))
        means = as_float32_values(self.means())
        return DiagGmm.from_params(self.weights, means * inv_vars, inv_vars)

    # --- accessors ---
    @property
    def num_gauss(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dim(self) -> int:
        return int(self.means_invcovars.shape[1])

    def means(self) -> np.ndarray:
        return la.solve(self.inv_covars, self.means_invcovars)

    def covars(self) -> np.ndarray:
        return _symmetrise(la.inv(self.inv_covars))

    def copy(self) -> "FullGmm":
        return FullGmm(self.weights.copy(), self.means_invcovars.copy(), self.inv_covars.copy(), self.gconsts.copy())

    def tensors(self, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(gconsts, means_invcovars, inv_covars, chol) tensors on ``device`` (cached); ``chol[g]`` is the lower
        Cholesky factor L of inv_covars[g] (xᵀΣ⁻¹x = |x L|², factorised in float64)."""
        key = f"{torch.device(device)}/{dtype}"
        if key not in self._cache and dtype != torch.float64:
            self._cache[key] = tuple(t.to(dtype) for t in self.tensors(device, torch.float64))
        if key not in self._cache:
            gc, miv, ic = (torch.as_tensor(a, dtype=torch.float64, device=device)
                           for a in (self.gconsts, self.means_invcovars, self.inv_covars))
            chol, info = torch.linalg.cholesky_ex(ic)
            if bool((info != 0).any()):
                bad = int(torch.nonzero(info)[0, 0])
                raise ValueError(f"FullGmm: inverse covariance of Gaussian {bad} is not positive definite")
            self._cache[key] = (gc, miv, ic, chol)
        return self._cache[key]  # type: ignore[return-value]

    def _augmented(self, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """(G, D, D + 1): the Cholesky factor of each inverse covariance with Σ⁻¹μ as an extra column (cached)."""
        key = f"aug/{torch.device(device)}/{dtype}"
        if key not in self._cache:
            _, miv, _, chol = self.tensors(device, dtype)
            self._cache[key] = (torch.cat([chol, miv.unsqueeze(2)], dim=2).contiguous(),)
        return self._cache[key][0]

    # --- likelihoods ---
    def log_likelihoods(self, feats: torch.Tensor, dtype: torch.dtype = LIKELIHOOD_DTYPE) -> torch.Tensor:
        """Log-likelihoods of every Gaussian (T, G) (quadratic-feature GEMM)."""
        gc, miv, ic, _ = self.tensors(feats.device, dtype)
        x = feats.to(dtype)
        d = self.dim
        rows, cols = torch.tril_indices(d, d, device=x.device)
        scale = torch.where(rows == cols, 0.5, 1.0).to(dtype)  # 0.5 xᵀPx over the lower triangle
        quad = (x[:, rows] * x[:, cols]) @ (ic[:, rows, cols] * scale).T
        return gc + x @ miv.T - quad

    def log_likelihoods_preselect(self, feats: torch.Tensor, gselect: torch.Tensor,
                                  dtype: torch.dtype = LIKELIHOOD_DTYPE) -> torch.Tensor:
        """Log-likelihoods (T, n) of the Gaussians in ``gselect`` (T, n) (-1 = padding → -inf)."""
        if feats.shape[-1] != self.dim:
            raise ValueError(f"FullGmm: feature dimension {feats.shape[-1]} does not match the model's {self.dim}")
        x = feats.to(dtype)
        if x.is_cuda:
            full = self.log_likelihoods(x, dtype)
            out = torch.gather(full, 1, gselect.clamp(min=0))
        else:
            gc, _, _, _ = self.tensors(x.device, dtype)
            aug = self._augmented(x.device, dtype)
            d = self.dim
            t_idx = torch.arange(x.shape[0], device=x.device).unsqueeze(1).expand_as(gselect).reshape(-1)
            g_flat = gselect.reshape(-1)
            valid = g_flat >= 0
            t_idx, g_flat = t_idx[valid], g_flat[valid]
            pos = torch.nonzero(valid).squeeze(1)
            order = torch.argsort(g_flat, stable=True)
            uniq, counts = torch.unique_consecutive(g_flat[order], return_counts=True)
            xs_all = x.index_select(0, t_idx[order])  # frames grouped by Gaussian, contiguous
            vals_sorted = torch.empty(g_flat.shape[0], dtype=dtype, device=x.device)
            start = 0
            for g, c in zip(uniq.tolist(), counts.tolist()):
                y = xs_all[start:start + c] @ aug[g]  # [x L_g | x·Σ_g⁻¹μ_g]
                vals_sorted[start:start + c] = gc[g] + y[:, d] - 0.5 * torch.linalg.vector_norm(y[:, :d], dim=1) ** 2
                start += c
            vals = torch.empty_like(vals_sorted)
            vals[order] = vals_sorted
            out = torch.full((gselect.numel(),), -math.inf, dtype=dtype, device=x.device)
            out[pos] = vals
            out = out.view_as(gselect)
        return out.masked_fill(gselect < 0, -math.inf)

    # --- structural changes ---
    def remove_components(self, indices: Sequence[int], renormalize: bool = True) -> "FullGmm":
        keep = np.ones(self.num_gauss, dtype=bool)
        keep[list(indices)] = False
        if not keep.any():
            raise ValueError("FullGmm: cannot remove every Gaussian")
        w = self.weights[keep]
        if renormalize:
            w = w / w.sum()
        return FullGmm.from_params(w, self.means_invcovars[keep], self.inv_covars[keep])

    def split(self, target: int, perturb_factor: float, rng: np.random.Generator) -> "FullGmm":
        """Kaldi's FullGmm::Split: halves the heaviest Gaussian, perturbing Σ⁻¹μ by ±perturb_factor · Lᵀ r."""
        g, d = self.num_gauss, self.dim
        if target <= g:
            raise ValueError(f"FullGmm: cannot split from {g} to {target} Gaussians")
        w = np.zeros(target)
        miv = np.zeros((target, d))
        ic = np.zeros((target, d, d))
        w[:g], miv[:g], ic[:g] = self.weights, self.means_invcovars, self.inv_covars
        cur = g
        while cur < target:
            j = int(np.argmax(w[:cur]))
            w[j] /= 2.0
            w[cur] = w[j]
            rand = la.cholesky(ic[j]).T @ rng.standard_normal(d)
            ic[cur] = ic[j]
            miv[cur] = miv[j] + perturb_factor * rand
            miv[j] = miv[j] - perturb_factor * rand
            cur += 1
        return FullGmm.from_params(w, miv, ic)


def _symmetrise(m: np.ndarray) -> np.ndarray:
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def compute_full_gconsts(weights: np.ndarray, means_invcovars: np.ndarray, inv_covars: np.ndarray) -> np.ndarray:
    """log w - D/2 log 2π - 1/2 (log|Σ| + (Σ⁻¹μ)ᵀ Σ (Σ⁻¹μ)), rounded to float32."""
    d = means_invcovars.shape[1]
    sign, logdet_inv = la.slogdet(inv_covars)
    if np.any(sign <= 0):
        bad = int(np.flatnonzero(sign <= 0)[0])
        raise ValueError(f"FullGmm: inverse covariance of Gaussian {bad} is not positive definite")
    means = la.solve(inv_covars, means_invcovars)
    with np.errstate(divide="ignore"):
        gc = np.log(weights) - 0.5 * LOG_2PI * d - 0.5 * (-logdet_inv + (means_invcovars * means).sum(1))
    if np.isnan(gc).any():
        raise ValueError(f"FullGmm: not a number in the gconst of Gaussian {int(np.flatnonzero(np.isnan(gc))[0])}")
    gc[np.isposinf(gc)] = -np.inf
    return as_float32_values(gc)


# --- Kaldi format ---

def read_full_gmm_from(r: KaldiReader) -> FullGmm:
    r.expect_one_of(("<FullGMM>", "<FullGMMBegin>"))
    tok = r.expect_one_of(("<GCONSTS>", "<WEIGHTS>"))
    gconsts = None
    if tok == "<GCONSTS>":
        gconsts = r.read_vector(double=True)
        r.expect_token("<WEIGHTS>")
    weights = r.read_vector(double=True)
    r.expect_token("<MEANS_INVCOVARS>")
    miv = r.read_matrix(double=True)
    r.expect_token("<INV_COVARS>")
    g = weights.shape[0]
    if miv.shape[0] != g:
        raise KaldiFormatError(f"{r.name}: FullGMM with {g} weights but means_invcovars of shape {miv.shape}")
    inv = np.stack([r.read_sp_matrix() for _ in range(g)]) if g else np.zeros((0, miv.shape[1], miv.shape[1]))
    r.expect_one_of(("</FullGMM>", "<FullGMMEnd>"))
    if inv.shape[1:] != (miv.shape[1], miv.shape[1]):
        raise KaldiFormatError(f"{r.name}: FullGMM inverse covariances of dim {inv.shape[1]} vs means dim {miv.shape[1]}")
    if gconsts is None or gconsts.shape != weights.shape:
        gconsts = compute_full_gconsts(weights, miv, inv)
    return FullGmm(weights, miv, inv, gconsts)


def write_full_gmm_to(w: KaldiWriter, gmm: FullGmm) -> None:
    w.write_token("<FullGMM>")
    w.write_newline()
    w.write_token("<GCONSTS>")
    w.write_vector(gmm.gconsts)
    w.write_token("<WEIGHTS>")
    w.write_vector(gmm.weights)
    w.write_token("<MEANS_INVCOVARS>")
    w.write_matrix(gmm.means_invcovars)
    w.write_token("<INV_COVARS>")
    for m in gmm.inv_covars:
        w.write_sp_matrix(m)
    w.write_token("</FullGMM>")
    w.write_newline()


def read_full_gmm(rxfilename: str) -> FullGmm:
    """Reads a Kaldi FullGmm (``.ubm``; binary or text)."""
    return read_object_file(rxfilename, read_full_gmm_from)


def write_full_gmm(wxfilename: str, gmm: FullGmm, binary: bool = True) -> None:
    write_object_file(wxfilename, binary, lambda w: write_full_gmm_to(w, gmm))
