"""Training statistics of the i-vector extractor (Kaldi's IvectorExtractorStats): accumulation over batches of
utterances (the E-step), sum, and Kaldi's binary/text format.

Per Gaussian i, over utterances u with i-vector posterior N(m_u, V_u):
  gamma_i = Σ_u γ_ui,   Y_i = Σ_u X_ui m_uᵀ (D, S),   R_i = Σ_u γ_ui (V_u + m_u m_uᵀ) (S, S),
  S_i = Σ_t γ_ti x_t x_tᵀ (if variances are updated);
for the prior: the number of i-vectors, Σ m_u and Σ (V_u + m_u m_uᵀ); with i-vector-dependent weights the
sampled-point statistics G (G, S) and Q (G, S, S) of the weight projections; and the total auxiliary function.
R and Q are kept as Kaldi keeps them, one packed lower triangle per Gaussian (a (G, S(S+1)/2) matrix: at 2048
Gaussians and 600 dimensions 2.9 GB in float64 instead of 5.9 GB unpacked), and written in float32, as Kaldi does.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from phonsid.io import KaldiFormatError, KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import read_object_file, write_object_file
from phonsid.ivector.estimation import BatchStats, auxf, ivector_posterior, second_order_auxf
from phonsid.ivector.extractor import IvectorExtractor, pack, unpack


@dataclasses.dataclass
class IvectorExtractorStats:
    """Accumulated statistics (numpy float64). Empty arrays (size 0) mean "not accumulated" (S, Q, G).

    ``R_packed`` / ``Q_packed`` hold R_i / Q_i as packed lower triangles, one row per Gaussian (Kaldi's R_ / Q_
    layout); ``R`` / ``Q`` (and ``R_of`` for a few Gaussians) unpack them."""

    tot_auxf: float
    gamma: np.ndarray           # (G,)
    Y: np.ndarray               # (G, D, S)
    R_packed: np.ndarray        # (G, S(S+1)/2)
    Q_packed: np.ndarray        # (G, S(S+1)/2) or empty
    G: np.ndarray               # (G, S) or empty
    S: np.ndarray               # (G, D, D) or empty
    num_ivectors: float
    ivector_sum: np.ndarray     # (S,)
    ivector_scatter: np.ndarray  # (S, S)

    @classmethod
    def zeros(cls, ext: IvectorExtractor, update_variances: bool = True) -> "IvectorExtractorStats":
        g, d, s = ext.num_gauss, ext.feat_dim, ext.ivector_dim
        weights = ext.ivector_dependent_weights
        p = s * (s + 1) // 2
        return cls(0.0, np.zeros(g), np.zeros((g, d, s)), np.zeros((g, p)),
                   np.zeros((g, p)) if weights else np.zeros((0, 0)),
                   np.zeros((g, s)) if weights else np.zeros((0, 0)),
                   np.zeros((g, d, d)) if update_variances else np.zeros((0, 0, 0)),
                   0.0, np.zeros(s), np.zeros((s, s)))

    @property
    def num_gauss(self) -> int:
        return int(self.gamma.shape[0])

    @property
    def ivector_dim(self) -> int:
        return int(self.ivector_sum.shape[0])

    @property
    def R(self) -> np.ndarray:
        """R_i unpacked (G, S, S) (a new array)."""
        return _unpacked_rows(self.R_packed, self.ivector_dim)

    @property
    def Q(self) -> np.ndarray:
        """Q_i unpacked (G, S, S), or an empty array without weight statistics (a new array)."""
        return _unpacked_rows(self.Q_packed, self.ivector_dim)

    def R_of(self, idx: np.ndarray | slice) -> np.ndarray:
        """R_i of the Gaussians ``idx`` unpacked (len(idx), S, S)."""
        return _unpacked_rows(self.R_packed[idx], self.ivector_dim)

    def Q_of(self, idx: np.ndarray | slice) -> np.ndarray:
        """Q_i of the Gaussians ``idx`` unpacked (len(idx), S, S)."""
        return _unpacked_rows(self.Q_packed[idx], self.ivector_dim)

    def add(self, other: "IvectorExtractorStats") -> None:
        """Kaldi's IvectorExtractorStats::Add."""
        for name in ("gamma", "Y", "R_packed", "Q_packed", "G", "S", "ivector_sum", "ivector_scatter"):
            a, b = getattr(self, name), getattr(other, name)
            if a.shape != b.shape:
                raise ValueError(f"cannot add i-vector statistics: {name} of shape {b.shape} vs {a.shape}")
        self.tot_auxf += other.tot_auxf
        self.gamma += other.gamma
        self.Y += other.Y
        self.R_packed += other.R_packed
        self.Q_packed += other.Q_packed
        self.G += other.G
        self.S += other.S
        self.num_ivectors += other.num_ivectors
        self.ivector_sum += other.ivector_sum
        self.ivector_scatter += other.ivector_scatter

    def check_model(self, ext: IvectorExtractor) -> None:
        g, d, s = ext.num_gauss, ext.feat_dim, ext.ivector_dim
        p = s * (s + 1) // 2
        if self.Y.shape != (g, d, s) or self.R_packed.shape != (g, p):
            raise ValueError(f"statistics (Y {self.Y.shape}, packed R {self.R_packed.shape}) do not match the "
                             f"extractor ({g} Gaussians, feature dim {d}, i-vector dim {s})")
        if ext.ivector_dependent_weights and self.Q_packed.shape != (g, p):
            raise ValueError("the extractor regresses its weights on the i-vector but the statistics have no "
                             "weight statistics (Q, G)")
        if self.S.size and self.S.shape != (g, d, d):
            raise ValueError(f"variance statistics of shape {self.S.shape}, expected {(g, d, d)}")


class StatsAccumulator:
    """E-step of extractor training over batches of utterances (ivector-extractor-acc-stats)."""

    def __init__(self, ext: IvectorExtractor, update_variances: bool = True, compute_auxf: bool = True,
                 num_samples_for_weights: int = 10, device: torch.device | str = "cpu",
                 rng: np.random.Generator | None = None) -> None:
        if num_samples_for_weights <= 1:
            raise ValueError(f"--num-samples-for-weights must be > 1, got {num_samples_for_weights}")
        self.ext = ext
        self.device = torch.device(device)
        self.update_variances = update_variances
        self.compute_auxf = compute_auxf
        self.num_samples = num_samples_for_weights
        self.rng = rng or np.random.default_rng(0)
        g, d, s = ext.num_gauss, ext.feat_dim, ext.ivector_dim
        dev, f64 = self.device, torch.float64
        self.tot_auxf = 0.0
        self.gamma = torch.zeros(g, dtype=f64, device=dev)
        self.Y = torch.zeros(g * d, s, dtype=f64, device=dev)
        self.R = torch.zeros(g, s * (s + 1) // 2, dtype=f64, device=dev)
        self.S = torch.zeros(g, d, d, dtype=f64, device=dev) if update_variances else None
        self.num_ivectors = 0.0
        self.ivector_sum = torch.zeros(s, dtype=f64, device=dev)
        self.ivector_scatter = torch.zeros(s, s, dtype=f64, device=dev)
        weights = ext.ivector_dependent_weights
        self.Q = torch.zeros(g, s * (s + 1) // 2, dtype=f64, device=dev) if weights else None
        self.Gw = torch.zeros(g, s, dtype=f64, device=dev) if weights else None

    def add(self, stats: BatchStats) -> None:
        """Adds a batch (its ``S`` must be present when variances are updated)."""
        ext = self.ext
        if self.update_variances and stats.S is None:
            raise ValueError("variance update needs second-order statistics (batch_stats(..., second_order=True))")
        b, g, d = stats.X.shape
        post = ivector_posterior(ext, stats, need_var=True)
        mean, var = post.mean, post.var
        if self.compute_auxf:
            self.tot_auxf += float(auxf(ext, stats, mean, var, second_order_in_total=self.update_variances,
                                        post=post).sum())
            if self.update_variances:
                self.tot_auxf += second_order_auxf(ext, stats.S)
        if self.Q is not None:
            self._add_weight_stats(stats, mean, var)
        scatter = var.baddbmm_(mean.unsqueeze(2), mean.unsqueeze(1))  # V + m mᵀ, in place of V
        self.gamma += stats.gamma.sum(0)
        # Y and R grow in place (float64, as Kaldi): at 2048 Gaussians / 600 dims a product formed first and
        # added after is a 0.6 GB (Y) and a 2.9 GB (R) temporary per batch, which cost more than the GEMMs.
        self.Y.addmm_(stats.X.reshape(b, g * d).T, mean)
        self.R.addmm_(stats.gamma.T, pack(scatter))
        self.num_ivectors += b
        self.ivector_sum += mean.sum(0)
        self.ivector_scatter += scatter.sum(0)
        if self.S is not None:
            self.S += stats.S

    def _add_weight_stats(self, stats: BatchStats, mean: torch.Tensor, var: torch.Tensor) -> None:
        """Kaldi's CommitStatsForW: samples of the i-vector (zero-mean, variance-corrected) around the mean."""
        n, s = self.num_samples, self.ext.ivector_dim
        d = self.ext.derived(self.device)
        chol = torch.linalg.cholesky(var)
        for u in range(mean.shape[0]):
            rand = torch.as_tensor(self.rng.standard_normal((n, s)), device=self.device)
            ivecs = rand @ chol[u].T
            ivecs = (ivecs - ivecs.mean(0)) * math.sqrt(n / (n - 1.0)) + mean[u]
            logw = ivecs @ d.w.T                                     # (n, G)
            w = torch.softmax(logw, dim=1)
            gam = stats.gamma[u]
            tot = gam.sum()
            max_term = torch.maximum(gam.unsqueeze(0), tot * w)
            lin = gam.unsqueeze(0) - tot * w + max_term * logw      # (n, G)
            self.Gw += (lin.T @ ivecs) / n
            outer = pack(ivecs.unsqueeze(2) * ivecs.unsqueeze(1))   # (n, S(S+1)/2)
            self.Q += (max_term.T @ outer) / n

    def finish(self) -> IvectorExtractorStats:
        g, d, s = self.ext.num_gauss, self.ext.feat_dim, self.ext.ivector_dim
        cpu = lambda t: t.detach().cpu().numpy()  # noqa: E731
        return IvectorExtractorStats(
            self.tot_auxf, cpu(self.gamma), cpu(self.Y).reshape(g, d, s), cpu(self.R),
            cpu(self.Q) if self.Q is not None else np.zeros((0, 0)),
            cpu(self.Gw) if self.Gw is not None else np.zeros((0, 0)),
            cpu(self.S) if self.S is not None else np.zeros((0, 0, 0)),
            self.num_ivectors, cpu(self.ivector_sum), cpu(self.ivector_scatter))


# --- Kaldi format ---

def _unpacked_rows(rows: np.ndarray, s: int) -> np.ndarray:
    """(G, S(S+1)/2) packed lower triangles → (G, S, S) symmetric (empty stays empty)."""
    if rows.size == 0:
        return np.zeros((0, 0, 0))
    return unpack(torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float64)), s).numpy()


def _triangle_side(rows: np.ndarray, name: str) -> int:
    n = rows.shape[1]
    s = int(round((math.sqrt(8 * n + 1) - 1) / 2))
    if s * (s + 1) // 2 != n:
        raise KaldiFormatError(f"{name}: a packed row of {n} values is not a triangle")
    return s


def read_ivector_stats_from(r: KaldiReader) -> IvectorExtractorStats:
    r.expect_token("<IvectorExtractorStats>")
    r.expect_token("<TotAuxf>")
    tot_auxf = r.read_float()
    r.expect_token("<gamma>")
    gamma = r.read_vector(double=True)
    r.expect_token("<Y>")
    n = r.read_int()
    Y = np.stack([r.read_matrix(double=True) for _ in range(n)]) if n else np.zeros((0, 0, 0))
    r.expect_token("<R>")
    R = r.read_matrix(double=True)
    r.expect_token("<Q>")
    Q = r.read_matrix(double=True)
    if Q.size == 0:
        Q = np.zeros((0, 0))
    r.expect_token("<G>")
    Gw = r.read_matrix(double=True)
    r.expect_token("<S>")
    n_s = r.read_int()
    S = np.stack([r.read_sp_matrix() for _ in range(n_s)]) if n_s else np.zeros((0, 0, 0))
    r.expect_token("<NumIvectors>")
    num = r.read_float()
    r.expect_token("<IvectorSum>")
    ivector_sum = r.read_vector(double=True)
    r.expect_token("<IvectorScatter>")
    scatter = r.read_sp_matrix()
    r.expect_token("</IvectorExtractorStats>")
    if gamma.shape[0] != n or R.shape[0] != n:
        raise KaldiFormatError(f"{r.name}: i-vector statistics for {gamma.shape[0]} Gaussians but {n} Y matrices "
                               f"and {R.shape[0]} R rows")
    if Gw.size == 0:
        Gw = np.zeros((0, 0))
    s = ivector_sum.shape[0]
    for name, rows in (("R", R), ("Q", Q)):
        if rows.size and _triangle_side(rows, r.name) != s:
            raise KaldiFormatError(f"{r.name}: packed {name} rows of {rows.shape[1]} values for i-vectors of dim {s}")
    return IvectorExtractorStats(tot_auxf, gamma, Y, R, Q, Gw, S, num, ivector_sum, scatter)


def write_ivector_stats_to(w: KaldiWriter, st: IvectorExtractorStats) -> None:
    w.write_token("<IvectorExtractorStats>")
    w.write_token("<TotAuxf>")
    w.write_float(float(st.tot_auxf), double=True)
    w.write_token("<gamma>")
    w.write_vector(st.gamma, double=True)
    w.write_token("<Y>")
    w.write_int(st.Y.shape[0])
    for m in st.Y:
        w.write_matrix(m, double=True)
    w.write_token("<R>")
    w.write_matrix(st.R_packed if st.R_packed.size else np.zeros((0, 0)))
    w.write_token("<Q>")
    w.write_matrix(st.Q_packed if st.Q_packed.size else np.zeros((0, 0)))
    w.write_token("<G>")
    w.write_matrix(st.G if st.G.size else np.zeros((0, 0)), double=True)
    w.write_token("<S>")
    w.write_int(st.S.shape[0] if st.S.size else 0)
    for m in (st.S if st.S.size else []):
        w.write_sp_matrix(m, double=True)
    w.write_token("<NumIvectors>")
    w.write_float(float(st.num_ivectors), double=True)
    w.write_token("<IvectorSum>")
    w.write_vector(st.ivector_sum, double=True)
    w.write_token("<IvectorScatter>")
    w.write_sp_matrix(st.ivector_scatter, double=True)
    w.write_token("</IvectorExtractorStats>")


def read_ivector_stats(rxfilename: str) -> IvectorExtractorStats:
    return read_object_file(rxfilename, read_ivector_stats_from)


def write_ivector_stats(wxfilename: str, stats: IvectorExtractorStats, binary: bool = True) -> None:
    write_object_file(wxfilename, binary, lambda w: write_ivector_stats_to(w, stats))


def sum_ivector_stats(rxfilenames: list[str]) -> IvectorExtractorStats:
    """ivector-extractor-sum-accs."""
    total = None
    for rx in rxfilenames:
        st = read_ivector_stats(rx)
        if total is None:
            total = st
        else:
            try:
                total.add(st)
            except ValueError as e:
                raise ValueError(f"{rx}: {e}") from None
    if total is None:
        raise ValueError("no statistics files given")
    return total
