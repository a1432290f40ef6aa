"""Kaldi's i-vector extractor (``ivector/ivector-extractor.cc``): model, binary/text format, initialisation
from a full-covariance UBM, and the i-vector posterior of utterances, batched in torch float64.

Model (G Gaussians, D feature dims, S i-vector dims), all float64 as Kaldi keeps them:
  ``M`` (G, D, S)          mean projections: the mean of Gaussian i given i-vector x is M_i x;
  ``sigma_inv`` (G, D, D)  inverse covariances;
  ``w`` (G, S) or empty    log-weight projections (``--use-weights``); else ``w_vec`` (G,) fixed UBM weights;
  ``prior_offset``         the prior over x is N(prior_offset · e0, I) (the offset carries the global mean).

For an utterance with zeroth/first-order statistics γ_i, X_i = Σ_t γ_ti x_t the posterior of x is Gaussian
with precision  I + Σ_i γ_i U_i  (U_i = M_iᵀ Σ_i⁻¹ M_i)  and linear term  p e0 + Σ_i M_iᵀ Σ_i⁻¹ X_i.
The i-vector written out is the posterior mean minus p e0.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from phonsid.gmm.full_gmm import FullGmm
from phonsid.io import KaldiFormatError, KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import read_object_file, write_object_file

LOG_2PI = math.log(2.0 * math.pi)


_INDEX_CACHE: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}


def _flat_indices(s: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Flat (row-major) positions of the packed lower triangle, of its transpose, and of the diagonal."""
    key = (s, str(torch.device(device)))
    if key not in _INDEX_CACHE:
        r, c = torch.tril_indices(s, s, device=device)
        diag = torch.arange(s, device=device)
        _INDEX_CACHE[key] = (r * s + c, c * s + r, diag * (diag + 3) // 2)
    return _INDEX_CACHE[key]


def packed_index(s: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Row/column indices of Kaldi's packed lower triangle (row-major: (0,0), (1,0), (1,1), (2,0), …)."""
    return tuple(torch.tril_indices(s, s, device=device))  # type: ignore[return-value]


def pack(m: torch.Tensor) -> torch.Tensor:
    """(..., S, S) symmetric → (..., S(S+1)/2) packed lower triangle."""
    s = m.shape[-1]
    lower, _, _ = _flat_indices(s, m.device)
    return m.reshape(*m.shape[:-2], s * s).index_select(-1, lower)


def unpack(p: torch.Tensor, s: int) -> torch.Tensor:
    """(..., S(S+1)/2) packed lower triangle → (..., S, S) symmetric."""
    lower, upper, _ = _flat_indices(s, p.device)
    lead = p.shape[:-1]
    flat = p.reshape(-1, p.shape[-1])
    out = torch.empty(flat.shape[0], s * s, dtype=p.dtype, device=p.device)
    out.index_copy_(1, upper, flat)
    out.index_copy_(1, lower, flat)  # the diagonal is in both; same values
    return out.view(*lead, s, s)


@dataclasses.dataclass
class IvectorExtractor:
    """Kaldi's IvectorExtractor. Arrays are numpy float64; ``derived(device)`` gives the cached torch terms."""

    w: np.ndarray
    w_vec: np.ndarray
    M: np.ndarray
    sigma_inv: np.ndarray
    prior_offset: float

    def __post_init__(self) -> None:
        self.M = np.asarray(self.M, dtype=np.float64)
        self.sigma_inv = np.asarray(self.sigma_inv, dtype=np.float64)
        self.w = np.asarray(self.w, dtype=np.float64)
        if self.w.size == 0:
            self.w = np.zeros((0, 0))
        self.w_vec = np.asarray(self.w_vec, dtype=np.float64).reshape(-1)
        self.prior_offset = float(self.prior_offset)
        g, d, s = self.M.shape
        if self.sigma_inv.shape != (g, d, d):
            raise ValueError(f"IvectorExtractor: {g} projections of shape {(d, s)} but inverse variances of shape "
                             f"{self.sigma_inv.shape}")
        if self.w.size and self.w.shape != (g, s):
            raise ValueError(f"IvectorExtractor: weight projections of shape {self.w.shape}, expected {(g, s)}")
        if not self.w.size and self.w_vec.shape != (g,):
            raise ValueError(f"IvectorExtractor: w_vec of size {self.w_vec.shape[0]} for {g} Gaussians")
        self._derived: dict[str, "DerivedVars"] = {}

    @property
    def num_gauss(self) -> int:
        return int(self.M.shape[0])

    @property
    def feat_dim(self) -> int:
        return int(self.M.shape[1])

    @property
    def ivector_dim(self) -> int:
        return int(self.M.shape[2])

    @property
    def ivector_dependent_weights(self) -> bool:
        return self.w.size > 0

    def copy(self) -> "IvectorExtractor":
        return IvectorExtractor(self.w.copy(), self.w_vec.copy(), self.M.copy(), self.sigma_inv.copy(),
                                self.prior_offset)

    def derived(self, device: torch.device | str = "cpu") -> "DerivedVars":
        """Tensors on ``device`` used by extraction and training (computed once per device)."""
        key = str(torch.device(device))
        if key not in self._derived:
            self._derived[key] = DerivedVars.compute(self, torch.device(device))
        return self._derived[key]


@dataclasses.dataclass
class DerivedVars:
    """Kaldi's derived variables: gconsts (G,), U_i = M_iᵀΣ_i⁻¹M_i packed (G, S(S+1)/2), Σ_i⁻¹M_i (G, D, S),
    plus the model itself as tensors."""

    M: torch.Tensor
    sigma_inv: torch.Tensor
    sigma_inv_M: torch.Tensor
    U: torch.Tensor
    gconsts: torch.Tensor
    log_w_vec: torch.Tensor
    w: torch.Tensor
    prior_offset: float

    @classmethod
    def compute(cls, ext: IvectorExtractor, device: torch.device, chunk: int = 64) -> "DerivedVars":
        M = torch.as_tensor(ext.M, device=device)
        sig = torch.as_tensor(ext.sigma_inv, device=device)
        sig = 0.5 * (sig + sig.transpose(1, 2))
        chol, info = torch.linalg.cholesky_ex(sig)
        if bool((info != 0).any()):
            raise ValueError(f"IvectorExtractor: inverse variance of Gaussian {int(torch.nonzero(info)[0, 0])} is "
                             "not positive definite")
        logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(1)
        gconsts = -0.5 * (-logdet + ext.feat_dim * LOG_2PI)
        sig_M = sig @ M
        s = ext.ivector_dim
        U = torch.empty(ext.num_gauss, s * (s + 1) // 2, dtype=torch.float64, device=device)
        for a in range(0, ext.num_gauss, chunk):
            U[a:a + chunk] = pack(M[a:a + chunk].transpose(1, 2) @ sig_M[a:a + chunk])
        with np.errstate(divide="ignore"):
            log_w_vec = torch.as_tensor(np.log(ext.w_vec) if ext.w_vec.size else np.zeros(0), device=device)
        return cls(M, sig, sig_M, U, gconsts, log_w_vec, torch.as_tensor(ext.w, device=device), ext.prior_offset)


def init_ivector_extractor(fgmm: FullGmm, ivector_dim: int, use_weights: bool = True,
                           rng: np.random.Generator | None = None, prior_offset: float = 100.0) -> IvectorExtractor:
    """ivector-extractor-init: M_i random N(0, 1) except its first column, the UBM mean / prior_offset; the
    UBM's inverse covariances; weights regressed on x (zeros) or the UBM weights."""
    if ivector_dim <= 0:
        raise ValueError(f"ivector dimension must be positive, got {ivector_dim}")
    rng = rng or np.random.default_rng(0)
    g, d = fgmm.num_gauss, fgmm.dim
    M = rng.standard_normal((g, d, ivector_dim))
    M[:, :, 0] = fgmm.means() / prior_offset
    if use_weights:
        w, w_vec = np.zeros((g, ivector_dim)), np.zeros(0)
    else:
        w, w_vec = np.zeros((0, 0)), fgmm.weights.copy()
    return IvectorExtractor(w, w_vec, M, fgmm.inv_covars.copy(), prior_offset)


# --- Kaldi format ---

def read_ivector_extractor_from(r: KaldiReader) -> IvectorExtractor:
    r.expect_token("<IvectorExtractor>")
    r.expect_token("<w>")
    w = r.read_matrix(double=True)
    r.expect_token("<w_vec>")
    w_vec = r.read_vector(double=True)
    r.expect_token("<M>")
    n = r.read_int()
    if n <= 0:
        raise KaldiFormatError(f"{r.name}: i-vector extractor with {n} Gaussians")
    M = [r.read_matrix(double=True) for _ in range(n)]
    if len({m.shape for m in M}) != 1:
        raise KaldiFormatError(f"{r.name}: projection matrices of different shapes")
    r.expect_token("<SigmaInv>")
    sigma_inv = np.stack([r.read_sp_matrix() for _ in range(n)])
    r.expect_token("<IvectorOffset>")
    offset = r.read_float()
    r.expect_token("</IvectorExtractor>")
    try:
        return IvectorExtractor(w, w_vec, np.stack(M), sigma_inv, offset)
    except ValueError as e:
        raise KaldiFormatError(f"{r.name}: {e}") from None


def write_ivector_extractor_to(w: KaldiWriter, ext: IvectorExtractor) -> None:
    w.write_token("<IvectorExtractor>")
    w.write_token("<w>")
    w.write_matrix(ext.w if ext.w.size else np.zeros((0, 0)), double=True)
    w.write_token("<w_vec>")
    w.write_vector(ext.w_vec, double=True)
    w.write_token("<M>")
    w.write_int(ext.num_gauss)
    for m in ext.M:
        w.write_matrix(m, double=True)
    w.write_token("<SigmaInv>")
    for m in ext.sigma_inv:
        w.write_sp_matrix(m, double=True)
    w.write_token("<IvectorOffset>")
    w.write_float(float(ext.prior_offset), double=True)
    w.write_token("</IvectorExtractor>")


def read_ivector_extractor(rxfilename: str) -> IvectorExtractor:
    """Reads a Kaldi ``.ie`` file (binary or text)."""
    return read_object_file(rxfilename, read_ivector_extractor_from)


def write_ivector_extractor(wxfilename: str, ext: IvectorExtractor, binary: bool = True) -> None:
    write_object_file(wxfilename, binary, lambda w: write_ivector_extractor_to(w, ext))
