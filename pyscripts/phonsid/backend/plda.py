"""Two-covariance PLDA with Kaldi's semantics (``ivector/plda.{h,cc}``) and its file format.

Model: a vector is ``x = μ + y + e`` with speaker variable ``y ~ N(0, B)`` and residual ``e ~ N(0, W)``. The
model is stored diagonalised: ``transform`` ``A`` makes ``A W Aᵀ = I`` and ``A B Aᵀ = diag(ψ)`` (ψ decreasing),
so a stored PLDA is ``(mean μ, transform A, psi ψ)``, exactly Kaldi's ``<Plda>`` object.

- :func:`estimate_plda` — EM from per-speaker groups (Kaldi's initialisation ``W = B = I``, the mean is the mean
  of the class means, the statistics are processed per distinct class size, then the final diagonalisation).
- :func:`transform_ivectors` — into the model space, with Kaldi's length normalisation (by the expected
  covariance ``ψ + I/n``, or the simple one to length √dim).
- :func:`log_likelihood_ratio` — the per-trial LLR exactly as Kaldi writes it; :func:`score_coefficients` gives
  the same LLR as ``b_m + a_m·v + Σ_i w_{n,i} v_i²`` so that many trials become one matrix product
  (see :mod:`phonsid.backend.scoring`).
- :func:`smooth_within_class_covariance`, :func:`apply_transform_to_plda`, :func:`adapt_plda` (unsupervised
  adaptation, ``ivector-adapt-plda``).
- :func:`read_plda` / :func:`write_plda` — Kaldi's binary and text formats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from phonsid.backend.checks import BackendError, examples
from phonsid.backend.lda import sorted_eigh

LOG_2PI = math.log(2.0 * math.pi)


class PldaError(BackendError):
    """Degenerate PLDA training data or an unusable model."""


@dataclass
class Plda:
    """A diagonalised PLDA model: ``mean`` (d,), ``transform`` (d, d), ``psi`` (d,), all float64."""

    mean: np.ndarray
    transform: np.ndarray
    psi: np.ndarray

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        self.transform = np.asarray(self.transform, dtype=np.float64)
        self.psi = np.asarray(self.psi, dtype=np.float64).reshape(-1)
        d = self.mean.shape[0]
        if d == 0 or self.transform.shape != (d, d) or self.psi.shape != (d,):
            raise PldaError(
                f"inconsistent PLDA: mean dim {d}, transform {self.transform.shape}, psi dim {self.psi.shape[0]}"
            )

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    @property
    def offset(self) -> np.ndarray:
        """``−A μ`` (Kaldi's derived ``offset_``)."""
        return -self.transform @ self.mean

    def copy(self) -> "Plda":
        return Plda(self.mean.copy(), self.transform.copy(), self.psi.copy())

    def within_covariance(self) -> np.ndarray:
        """``W`` in the input space (``A⁻¹ A⁻ᵀ``)."""
        inv = np.linalg.inv(self.transform)
        return inv @ inv.T

    def between_covariance(self) -> np.ndarray:
        """``B`` in the input space (``A⁻¹ diag(ψ) A⁻ᵀ``)."""
        inv = np.linalg.inv(self.transform)
        return (inv * self.psi) @ inv.T


# ----------------------------------------------------------------------------------------------------------
# Transforming and scoring


def transform_ivectors(
    plda: Plda,
    mat: np.ndarray,
    num_examples: int | np.ndarray = 1,
    normalize_length: bool = True,
    simple_length_norm: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Projects rows of ``mat`` into the PLDA space (``A (x − μ)``), optionally length-normalised.

    Kaldi's default normalisation scales ``t`` so that ``Σ t_i² / (ψ_i + 1/n) = dim`` (``n`` = the number of
    utterances averaged into the vector); ``simple_length_norm`` scales it to length √dim instead. Returns
    ``(transformed float64, normalization factors)``; the factors are returned even when
    ``normalize_length`` is False (as Kaldi does).
    """
    x = np.asarray(mat, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != plda.dim:
        raise BackendError(
            f"dimension mismatch: vectors have dimension {x.shape[-1]}, the PLDA model {plda.dim}"
        )
    t = x @ plda.transform.T + plda.offset
    if simple_length_norm:
        norms = np.sqrt(np.einsum("ij,ij->i", t, t))
        with np.errstate(divide="ignore"):
            factor = math.sqrt(plda.dim) / norms
    else:
        n = np.broadcast_to(np.asarray(num_examples, dtype=np.float64), (x.shape[0],))
        if (n <= 0).any():
            raise BackendError("the number of examples per vector must be positive")
        inv_covar = 1.0 / (plda.psi[None, :] + (1.0 / n)[:, None])
        dot = np.einsum("ij,ij->i", t * t, inv_covar)
        with np.errstate(divide="ignore"):
            factor = np.sqrt(plda.dim / dot)
    if normalize_length:
        t = t * factor[:, None]
    return t, factor


def log_likelihood_ratio(plda: Plda, train: np.ndarray, n: int, test: np.ndarray) -> float:
    """Kaldi's ``Plda::LogLikelihoodRatio`` for one trial (vectors already transformed), term by term.

    The reference implementation; :mod:`phonsid.backend.scoring` computes the same quantity in matrix form.
    """
    psi = plda.psi
    u = np.asarray(train, dtype=np.float64)
    v = np.asarray(test, dtype=np.float64)
    mean = n * psi / (n * psi + 1.0) * u
    var = 1.0 + psi / (n * psi + 1.0)
    given = -0.5 * (np.log(var).sum() + LOG_2PI * plda.dim + ((v - mean) ** 2 / var).sum())
    var0 = 1.0 + psi
    without = -0.5 * (np.log(var0).sum() + LOG_2PI * plda.dim + (v * v / var0).sum())
    return float(given - without)


@dataclass
class ScoreCoefficients:
    """The LLR of model ``m`` (``n`` utterances) against test ``v``: ``bias[m] + lin[m]·v + quad[n]·v²``."""

    lin: np.ndarray  # (num_models, d)
    bias: np.ndarray  # (num_models,)
    quad: np.ndarray  # (num_distinct_n, d)
    n_index: np.ndarray  # (num_models,) index into quad


def score_coefficients(plda: Plda, train: np.ndarray, num_utts: np.ndarray) -> ScoreCoefficients:
    """Expands Kaldi's LLR into a bilinear form, one row per model.

    With ``r = nψ/(nψ+1)`` and ``σ² = 1 + ψ/(nψ+1)``:
    ``LLR = ½Σ[log(1+ψ) − log σ²] − ½Σ r²u²/σ² + Σ (r u/σ²) v + Σ (½/(1+ψ) − ½/σ²) v²``.
    """
    psi = plda.psi
    u = np.asarray(train, dtype=np.float64)
    n_all = np.asarray(num_utts, dtype=np.float64).reshape(-1)
    if n_all.shape[0] != u.shape[0]:
        raise BackendError(f"{u.shape[0]} models but {n_all.shape[0]} utterance counts")
    if (n_all <= 0).any():
        raise BackendError("utterance counts must be positive")
    distinct, n_index = np.unique(n_all, return_inverse=True)
    r = distinct[:, None] * psi / (distinct[:, None] * psi + 1.0)  # (K, d)
    var = 1.0 + psi / (distinct[:, None] * psi + 1.0)  # (K, d)
    const = 0.5 * (np.log1p(psi)[None, :] - np.log(var)).sum(axis=1)  # (K,)
    quad = 0.5 / (1.0 + psi)[None, :] - 0.5 / var  # (K, d)
    rm = r[n_index]
    vm = var[n_index]
    lin = rm * u / vm
    bias = const[n_index] - 0.5 * (rm * rm * u * u / vm).sum(axis=1)
    return ScoreCoefficients(lin, bias, quad, n_index.astype(np.int64))


# ----------------------------------------------------------------------------------------------------------
# Estimation


@dataclass
class PldaStats:
    """Sufficient statistics for PLDA EM (Kaldi's ``PldaStats``), classes sorted by size."""

    dim: int
    class_means: np.ndarray  # (num_classes, d)
    class_sizes: np.ndarray  # (num_classes,) int
    class_weights: np.ndarray  # (num_classes,)
    offset_scatter: np.ndarray  # (d, d): Σ w (x − m_class)(x − m_class)ᵀ
    num_examples: int
    class_names: list[str] | None = None  # in the sorted order, when given

    @property
    def class_weight(self) -> float:
        return float(self.class_weights.sum())

    @property
    def example_weight(self) -> float:
        return float((self.class_weights * self.class_sizes).sum())

    @property
    def sum(self) -> np.ndarray:
        return (self.class_weights[:, None] * self.class_means).sum(axis=0)


def accumulate_plda_stats(
    groups: Iterable[np.ndarray], weights: Sequence[float] | None = None, names: Sequence[str] | None = None
) -> PldaStats:
    """Statistics from one ``(n_i, d)`` matrix per class (speaker), accumulated in double.

    ``weights`` (one per class, default 1) scale each class's contribution, as Kaldi's ``AddSamples``;
    ``names`` (one per class) are kept for messages.
    """
    means: list[np.ndarray] = []
    sizes: list[int] = []
    wts: list[float] = []
    scatter = np.zeros((0, 0))
    dim = None
    wit = iter(weights) if weights is not None else None
    for g in groups:
        wi = 1.0 if wit is None else float(next(wit))
        x = np.asarray(g, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise PldaError("each PLDA class needs at least one vector")
        if dim is None:
            dim = x.shape[1]
            scatter = np.zeros((dim, dim))
        elif x.shape[1] != dim:
            raise BackendError(f"dimension mismatch in PLDA training data: {x.shape[1]} vs {dim}")
        m = x.sum(axis=0) / x.shape[0]
        c = x - m
        scatter += wi * (c.T @ c)
        means.append(m)
        sizes.append(x.shape[0])
        wts.append(wi)
    if dim is None:
        raise PldaError("no PLDA training data")
    sizes_arr = np.asarray(sizes, dtype=np.int64)
    order = np.argsort(sizes_arr, kind="stable")  # Kaldi sorts classes by their number of examples
    return PldaStats(
        dim=dim,
        class_means=np.stack(means)[order],
        class_sizes=sizes_arr[order],
        class_weights=np.asarray(wts, dtype=np.float64)[order],
        offset_scatter=0.5 * (scatter + scatter.T),
        num_examples=int(sizes_arr.sum()),
        class_names=[list(names)[i] for i in order] if names is not None else None,
    )


@dataclass
class PldaEstimationInfo:
    """Per-iteration diagnostics of :func:`estimate_plda`."""

    within_traces: list[float] = field(default_factory=list)
    between_traces: list[float] = field(default_factory=list)
    objf: list[float] = field(default_factory=list)  # per example, after each iteration
    num_floored: int = 0


def _inv_logdet(mat: np.ndarray, what: str) -> tuple[np.ndarray, float]:
    try:
        c = np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        raise PldaError(f"the {what} covariance became singular during PLDA estimation") from None
    ci = np.linalg.inv(c)
    return ci.T @ ci, 2.0 * float(np.log(np.diag(c)).sum())


def plda_objective(stats: PldaStats, within: np.ndarray, between: np.ndarray) -> float:
    """Log-likelihood per example of the data under ``(W, B)`` (Kaldi's ``ComputeObjf``)."""
    d = stats.dim
    inv_w, logdet_w = _inv_logdet(within, "within-class")
    count = stats.example_weight - stats.class_weight
    part1 = -0.5 * (count * (logdet_w + LOG_2PI * d) + float((inv_w * stats.offset_scatter).sum()))
    glob = stats.sum / stats.class_weight
    part2 = 0.0
    for n in np.unique(stats.class_sizes):
        sel = stats.class_sizes == n
        inv_c, logdet_c = _inv_logdet(between + within / n, "combined")
        m = stats.class_means[sel] - glob
        quad = np.einsum("ij,jk,ik->i", m, inv_c, m)
        part2 += float((stats.class_weights[sel] * -0.5 * (logdet_c + LOG_2PI * d + quad)).sum())
    return (part1 + part2) / stats.example_weight


def _em_iteration(stats: PldaStats, within: np.ndarray, between: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = stats.dim
    within_stats = stats.offset_scatter.copy()
    within_count = stats.example_weight - stats.class_weight
    between_stats = np.zeros((d, d))
    between_count = 0.0
    inv_b = np.linalg.inv(between)
    inv_w = np.linalg.inv(within)
    glob = stats.sum / stats.class_weight
    for n in np.unique(stats.class_sizes):  # one inversion per distinct class size, as Kaldi
        sel = stats.class_sizes == n
        wts = stats.class_weights[sel]
        mixed = np.linalg.inv(inv_b + n * inv_w)  # posterior covariance of the speaker variable
        mixed = 0.5 * (mixed + mixed.T)
        m = stats.class_means[sel] - glob
        w = (n * m @ inv_w) @ mixed  # posterior means (rows)
        mw = m - w
        wsum = float(wts.sum())
        between_stats += wsum * mixed + (w * wts[:, None]).T @ w
        between_count += wsum
        within_stats += n * wsum * mixed + n * ((mw * wts[:, None]).T @ mw)
        within_count += wsum
    within_new = within_stats / within_count
    between_new = between_stats / between_count
    return 0.5 * (within_new + within_new.T), 0.5 * (between_new + between_new.T)


def check_plda_training_data(stats: PldaStats) -> list[str]:
    """Rejects data PLDA cannot be trained on; returns warnings for data it can but should not be.

    Errors: no speaker with two or more utterances (Kaldi's condition), a training set that spans fewer
    dimensions than the vectors have (constant or linearly dependent dimensions), a within-class scatter
    that is singular although there are enough within-speaker degrees of freedom (duplicated vectors, a
    direction with no within-speaker variation). Warnings: single-utterance speakers (they inform only the
    between-class covariance), fewer within-speaker degrees of freedom than dimensions.
    """
    d = stats.dim
    num_spk = len(stats.class_sizes)
    names = stats.class_names
    warnings: list[str] = []
    singles = [names[i] for i in np.flatnonzero(stats.class_sizes == 1)] if names is not None else []
    num_single = int((stats.class_sizes == 1).sum())
    if num_single == num_spk:
        raise PldaError(
            f"no speakers with multiple utterances ({num_spk} speakers, each with one utterance"
            f"{', e.g. ' + examples(singles) if singles else ''}): unable to estimate PLDA"
        )
    if num_single:
        warnings.append(
            f"{num_single} of {num_spk} speakers have a single utterance; they inform only the between-class "
            f"covariance{' (e.g. ' + examples(singles) + ')' if singles else ''}"
        )
    glob = stats.sum / stats.class_weight
    dm = stats.class_means - glob
    total = stats.offset_scatter + (stats.class_sizes[:, None] * dm).T @ dm
    tol = 1e-10
    ev_t = np.linalg.eigvalsh(total)
    if ev_t[-1] <= 0.0:
        raise PldaError("the PLDA training vectors are all identical")
    rank_t = int((ev_t > tol * ev_t[-1]).sum())
    if rank_t < d:
        const = [i for i in range(d) if total[i, i] <= tol * ev_t[-1]]
        hint = f" (e.g. constant dimension {examples(const)})" if const else ""
        raise PldaError(
            f"the PLDA training vectors span only {rank_t} of {d} dimensions{hint}: reduce the dimension "
            f"(LDA) or remove the dependent dimensions"
        )
    dof = stats.num_examples - num_spk
    ev_w = np.linalg.eigvalsh(stats.offset_scatter)
    rank_w = int((ev_w > tol * ev_t[-1]).sum())
    if rank_w < d:
        msg = (
            f"the within-class scatter is singular: rank {rank_w} of {d} from {stats.num_examples} utterances of "
            f"{num_spk} speakers ({dof} within-speaker degrees of freedom)"
        )
        if dof >= d:
            raise PldaError(
                msg + "; some direction has no within-speaker variation (duplicated vectors per speaker?)"
            )
        warnings.append(msg + "; the estimate of the within-class covariance relies on the class means")
    return warnings


def estimate_plda(
    stats: PldaStats,
    num_em_iters: int = 10,
    compute_objf: bool = False,
    on_iter: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
) -> tuple[Plda, PldaEstimationInfo]:
    """EM estimation of the PLDA (Kaldi's ``PldaEstimator::Estimate``), then diagonalisation.

    ``on_iter(i, within, between)`` is called after each iteration (for logging).
    """
    if stats.example_weight <= 0:
        raise PldaError("cannot estimate PLDA with no statistics")
    if num_em_iters < 0:
        raise BackendError(f"--num-em-iters must be >= 0, got {num_em_iters}")
    d = stats.dim
    within = np.eye(d)
    between = np.eye(d)
    info = PldaEstimationInfo()
    for it in range(num_em_iters):
        within, between = _em_iteration(stats, within, between)
        info.within_traces.append(float(np.trace(within)))
        info.between_traces.append(float(np.trace(between)))
        if compute_objf:
            info.objf.append(plda_objective(stats, within, between))
        if on_iter is not None:
            on_iter(it, within, between)
    plda, floored = _diagonalise(stats.sum / stats.class_weight, within, between)
    info.num_floored = floored
    return plda, info


def _normalizing_transform(covar: np.ndarray, what: str) -> np.ndarray:
    """``C⁻¹`` for the Cholesky factor ``C Cᵀ = covar`` (so ``C⁻¹ covar C⁻ᵀ = I``)."""
    try:
        c = np.linalg.cholesky(0.5 * (covar + covar.T))
    except np.linalg.LinAlgError:
        ev = np.linalg.eigvalsh(covar)
        raise PldaError(
            f"the {what} covariance is not positive definite (smallest eigenvalue {ev[0]:.3g}, largest "
            f"{ev[-1]:.3g}): the training data have a direction without {what} variation"
        ) from None
    return np.linalg.inv(c)


def _diagonalise(mean: np.ndarray, within: np.ndarray, between: np.ndarray) -> tuple[Plda, int]:
    t1 = _normalizing_transform(within, "within-class")
    between_proj = t1 @ between @ t1.T
    s, u = sorted_eigh(between_proj)
    floored = int((s < 0.0).sum())
    s = np.maximum(s, 0.0)
    return Plda(mean, u.T @ t1, s), floored


def smooth_within_class_covariance(plda: Plda, smoothing_factor: float) -> Plda:
    """Adds ``smoothing_factor`` times the between-class covariance to the within-class one (a new model)."""
    if not 0.0 <= smoothing_factor <= 1.0:
        raise BackendError(f"smoothing factor must be in [0, 1], got {smoothing_factor}")
    within = 1.0 + smoothing_factor * plda.psi
    return Plda(plda.mean.copy(), plda.transform * (within**-0.5)[:, None], plda.psi / within)


def apply_transform_to_plda(plda: Plda, transform: np.ndarray) -> Plda:
    """The PLDA of the data after a linear ``transform`` (Kaldi's ``Plda::ApplyTransform``), re-diagonalised."""
    t = np.asarray(transform, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] != plda.dim:
        raise BackendError(f"transform of shape {t.shape} cannot apply to a PLDA of dimension {plda.dim}")
    within = t @ plda.within_covariance() @ t.T
    between = t @ plda.between_covariance() @ t.T
    out, _ = _diagonalise(t @ plda.mean, within, between)
    return out


# ----------------------------------------------------------------------------------------------------------
# Unsupervised adaptation


@dataclass
class PldaAdaptationConfig:
    """Kaldi's ``PldaUnsupervisedAdaptorConfig`` (same defaults)."""

    mean_diff_scale: float = 1.0
    within_covar_scale: float = 0.3
    between_covar_scale: float = 0.7


@dataclass
class PldaAdaptationInfo:
    """Diagnostics Kaldi logs: eigenvalues of the adaptation data's covariance in the model's unit space."""

    eigenvalues: np.ndarray
    within_in_directions: np.ndarray
    between_in_directions: np.ndarray


def adapt_plda(
    plda: Plda, mat: np.ndarray, config: PldaAdaptationConfig | None = None, weights: np.ndarray | None = None
) -> tuple[Plda, PldaAdaptationInfo]:
    """Unsupervised adaptation to in-domain vectors (Kaldi's ``PldaUnsupervisedAdaptor::UpdatePlda``).

    In the space where the model's total covariance is unit, the directions where the adaptation data vary
    more than 1 get the excess added, ``within_covar_scale`` of it to the within-class and
    ``between_covar_scale`` to the between-class covariance; the mean becomes the adaptation-data mean.
    """
    cfg = config or PldaAdaptationConfig()
    if cfg.mean_diff_scale < 0.0:
        raise BackendError(f"--mean-diff-scale must be >= 0, got {cfg.mean_diff_scale}")
    x = np.asarray(mat, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != plda.dim:
        raise BackendError(f"dimension mismatch: adaptation vectors have dimension {x.shape[-1]}, the PLDA {plda.dim}")
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    tot = float(w.sum())
    if tot <= 0.0:
        raise BackendError("no adaptation data")
    d = plda.dim
    mean = (w[:, None] * x).sum(axis=0) / tot
    variance = (x * w[:, None]).T @ x / tot - np.outer(mean, mean)
    mean_diff = mean - plda.mean
    variance += cfg.mean_diff_scale * np.outer(mean_diff, mean_diff)

    transform_mod = plda.transform * (1.0 / np.sqrt(1.0 + plda.psi))[:, None]
    variance_proj = transform_mod @ variance @ transform_mod.T
    s, p = sorted_eigh(variance_proj)
    wdiag = 1.0 / (1.0 + plda.psi)
    bdiag = plda.psi / (1.0 + plda.psi)
    w_proj = (p.T * wdiag) @ p
    b_proj = (p.T * bdiag) @ p
    w_mod = w_proj.copy()
    b_mod = b_proj.copy()
    excess = np.maximum(s - 1.0, 0.0)
    idx = np.arange(d)
    w_mod[idx, idx] += excess * cfg.within_covar_scale
    b_mod[idx, idx] += excess * cfg.between_covar_scale

    combined = p.T @ transform_mod
    combined_inv = np.linalg.inv(combined)
    w_orig = combined_inv @ w_mod @ combined_inv.T
    b_orig = combined_inv @ b_mod @ combined_inv.T
    cinv = _normalizing_transform(w_orig, "adapted within-class")
    b_cproj = cinv @ b_orig @ cinv.T
    psi_new, q = sorted_eigh(b_cproj)
    adapted = Plda(mean, q.T @ cinv, psi_new)
    return adapted, PldaAdaptationInfo(s, np.diag(w_proj).copy(), np.diag(b_proj).copy())


# ----------------------------------------------------------------------------------------------------------
# Kaldi file format


def _read_double(reader, kind: str) -> np.ndarray:
    """A vector or matrix in double precision (Kaldi parses text straight into the double object)."""
    method = reader.read_vector if kind == "vector" else reader.read_matrix
    return np.asarray(method(double=True), dtype=np.float64)


def read_plda_from(reader) -> Plda:
    """Reads a ``<Plda>`` object from a :class:`phonsid.io.KaldiReader` (binary or text), in double."""
    reader.expect_token("<Plda>")
    mean = _read_double(reader, "vector")
    transform = _read_double(reader, "matrix")
    psi = _read_double(reader, "vector")
    reader.expect_token("</Plda>")
    return Plda(mean, transform, psi)


def write_plda_to(writer, plda: Plda) -> None:
    """Writes ``plda`` with a :class:`phonsid.io.kaldi_object.KaldiWriter` (double precision, as Kaldi)."""
    writer.write_token("<Plda>")
    writer.write_vector(plda.mean, double=True, name="mean")
    writer.write_matrix(plda.transform, double=True, name="transform")
    writer.write_vector(plda.psi, double=True, name="psi")
    writer.write_token("</Plda>")


def read_plda(rxfilename: str) -> Plda:
    """Reads a Kaldi PLDA file (binary or text; a path, ``-`` or a ``cmd |`` pipe)."""
    from phonsid.io import KaldiIOError, KaldiReader, open_rxfilename

    try:
        with open_rxfilename(rxfilename) as f:
            return read_plda_from(KaldiReader(f, name=rxfilename))
    except PldaError as e:
        raise PldaError(f"{rxfilename}: {e}") from None
    except KaldiIOError as e:
        raise PldaError(f"cannot read a PLDA model from {rxfilename}: {e}") from None


def write_plda(wxfilename: str, plda: Plda, binary: bool = True) -> None:
    """Writes a Kaldi PLDA file (atomically for paths; ``-`` and ``| cmd`` accepted); a parameter holding NaN or
    inf is refused (:class:`phonsid.io.NonFiniteError` naming the file and the parameter) and no file is left."""
    from phonsid.io import KaldiWriter, open_wxfilename

    with open_wxfilename(wxfilename) as f:
        write_plda_to(KaldiWriter(f, binary, name=wxfilename), plda)
