"""LDA for embeddings as Kaldi's ``ivector-compute-lda``.

The vectors are centred (their mean is removed, and folded back into the output as an offset). From the
per-speaker statistics we get the total covariance ``T = Σ x xᵀ / N`` and the within-class covariance
``W = (Σ x xᵀ − Σ_s n_s m_s m_sᵀ) / N``. The matrix ``f·T + (1 − f)·W`` (``f`` = total-covariance factor) is
whitened by its eigen-decomposition (eigenvalues floored at ``covariance_floor`` times the largest), the
between-class covariance ``T − W`` is projected into that space and diagonalised, and the ``dim`` leading
directions are kept. The output is the affine matrix ``[A, −A·mean]`` of shape ``(dim, input_dim + 1)``, so
applying it (``transform-vec``) also centres the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from phonsid.backend.checks import BackendError, examples


def sorted_eigh(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric matrix, eigenvalues in decreasing order (Kaldi's Eig + SortSvd)."""
    sym = 0.5 * (mat + mat.T)
    s, u = np.linalg.eigh(sym)
    order = np.argsort(-s, kind="stable")
    return s[order], u[:, order]


@dataclass
class LdaResult:
    """Output of :func:`compute_lda`."""

    transform: np.ndarray  # (lda_dim, dim + 1) float64: [A, -A mean]
    mean: np.ndarray  # (dim,) the mean that was removed
    eigenvalues: np.ndarray  # (dim,) of the projected between-class covariance (Kaldi logs them)
    num_speakers: int
    num_utterances: int
    num_floored: int = 0
    warnings: list[str] = field(default_factory=list)


def group_by_speaker(
    keys: Sequence[str], utt2spk: Mapping[str, str]
) -> tuple[dict[str, list[int]], list[str]]:
    """Row indices per speaker (speakers sorted, as Kaldi's std::map) and the keys absent from utt2spk."""
    spk2rows: dict[str, list[int]] = {}
    missing: list[str] = []
    for i, k in enumerate(keys):
        spk = utt2spk.get(k)
        if spk is None:
            missing.append(k)
            continue
        spk2rows.setdefault(spk, []).append(i)
    return {s: spk2rows[s] for s in sorted(spk2rows)}, missing


def compute_lda(
    mat: np.ndarray,
    spk2rows: Mapping[str, Sequence[int]],
    lda_dim: int,
    total_covariance_factor: float = 0.0,
    covariance_floor: float = 1.0e-6,
) -> LdaResult:
    """Computes the affine LDA transform from vectors ``mat`` grouped by speaker (``spk2rows``: row indices).

    Rows not named in ``spk2rows`` are ignored. Raises :class:`BackendError` for impossible requests (``lda_dim``
    outside ``1..dim``, no speaker with two utterances, fewer utterances than dimensions).
    """
    if not 0.0 <= total_covariance_factor <= 1.0:
        raise BackendError(f"--total-covariance-factor must be in [0, 1], got {total_covariance_factor}")
    if covariance_floor < 0.0:
        raise BackendError(f"--covariance-floor must be >= 0, got {covariance_floor}")
    used = np.asarray([i for rows in spk2rows.values() for i in rows], dtype=np.int64)
    if used.size == 0:
        raise BackendError("no utterances to compute LDA from")
    x32 = np.asarray(mat)
    dim = x32.shape[1]
    if not 0 < lda_dim <= dim:
        raise BackendError(f"LDA dimension {lda_dim} is not in 1..{dim} (the input dimension)")
    # Mean in double over the used utterances, stored as float like Kaldi, then subtracted.
    mean = (x32[used].astype(np.float64).sum(axis=0) / used.size).astype(x32.dtype).astype(np.float64)
    x = x32.astype(np.float64) - mean

    num_utt = int(used.size)
    num_spk = len(spk2rows)
    tot = np.zeros((dim, dim))
    between = np.zeros((dim, dim))
    sizes = []
    for rows in spk2rows.values():
        grp = x[np.asarray(rows, dtype=np.int64)]
        tot += grp.T @ grp
        m = grp.mean(axis=0)
        between += len(rows) * np.outer(m, m)
        sizes.append(len(rows))
    if num_utt == num_spk:
        raise BackendError(
            f"LDA needs speakers with several utterances: all {num_spk} speakers have a single one "
            f"(e.g. {examples(list(spk2rows)[:5])})"
        )
    if num_utt < dim:
        raise BackendError(
            f"too little data for LDA: {num_utt} utterances for vectors of dimension {dim} "
            f"(the total covariance would be singular)"
        )
    warnings: list[str] = []
    singles = [s for s, rows in spk2rows.items() if len(rows) == 1]
    if singles:
        warnings.append(
            f"{len(singles)} of {num_spk} speakers have a single utterance and add nothing to the "
            f"within-class covariance (e.g. {examples(singles)})"
        )

    total_covar = tot / num_utt
    within_covar = (tot - between) / num_utt
    to_normalize = total_covariance_factor * total_covar + (1.0 - total_covariance_factor) * within_covar

    s, u = sorted_eigh(to_normalize)
    floor = covariance_floor * s[0]
    num_floored = int((s < floor).sum())
    if num_floored:
        warnings.append(
            f"floored {num_floored} of {dim} eigenvalues of the covariance to {floor:g} "
            f"(the within-class scatter is singular or nearly so)"
        )
    s = np.maximum(s, floor)
    if not s[0] > 0.0:
        raise BackendError("the covariance to normalise is zero: all vectors are identical")
    whiten = (s**-0.5)[:, None] * u.T  # whiten @ C @ whiten.T = I

    between_covar = total_covar - within_covar
    between_proj = whiten @ between_covar @ whiten.T
    ev, ub = sorted_eigh(between_proj)
    linear = ub[:, :lda_dim].T @ whiten
    # Kaldi holds the linear part in float before computing the offset from it.
    linear = linear.astype(np.float32).astype(np.float64)
    offset = -linear @ mean
    transform = np.concatenate([linear, offset[:, None]], axis=1)
    return LdaResult(transform, mean, ev, num_spk, num_utt, num_floored, warnings)
