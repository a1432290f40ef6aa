"""Operations on embedding vectors as Kaldi's ``ivector-*`` tools do them.

- :func:`global_mean` — ``ivector-mean <in> <mean-out>`` (mean accumulated in double);
- :func:`speaker_means` — ``ivector-mean <spk2utt> <in> <out> [<num-utts>]``;
- :func:`normalize_length` — ``ivector-normalize-length`` (length √dim, or 1 with ``scaleup=False``);
- :func:`apply_transform` — ``transform-vec`` / ``ivector-transform`` (linear, or affine when the matrix has one
  column more than the vectors).

Inputs are ``(n, dim)`` float arrays, one row per vector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from phonsid.backend.checks import BackendError, examples


def global_mean(mat: np.ndarray) -> np.ndarray:
    """Mean of the rows, accumulated in double as ``ivector-mean`` does (returns float64)."""
    if mat.shape[0] == 0:
        raise BackendError("cannot compute the mean of zero vectors")
    return np.asarray(mat, dtype=np.float64).sum(axis=0) / mat.shape[0]


def subtract_mean(mat: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``mat - mean`` row-wise in the precision of ``mat`` (Kaldi keeps float vectors)."""
    if mean.shape[-1] != mat.shape[1]:
        raise BackendError(f"dimension mismatch: vectors have dimension {mat.shape[1]}, the mean {mean.shape[-1]}")
    return (mat - mean.astype(mat.dtype)).astype(mat.dtype, copy=False)


@dataclass
class LengthNormStats:
    """Diagnostics of :func:`normalize_length` (Kaldi logs the mean and stddev of the ratio)."""

    num_done: int
    mean_ratio: float
    stddev_ratio: float
    num_zero: int


def normalize_length(
    mat: np.ndarray, scaleup: bool = True, normalize: bool = True
) -> tuple[np.ndarray, np.ndarray, LengthNormStats]:
    """Scales each row to length √dim (``scaleup``) or 1, as ``ivector-normalize-length``.

    Returns ``(normalized, ratios, stats)``: ``ratios`` are the factors each row was divided by (its length over
    √dim, or its length when ``scaleup`` is False). Zero rows are left as they are (Kaldi warns about them).
    ``normalize=False`` computes the ratios only (Kaldi's ``--normalize=false``).
    """
    x = np.asarray(mat)
    dim = x.shape[1]
    norms = np.sqrt(np.einsum("ij,ij->i", x.astype(np.float64), x.astype(np.float64)))
    ratios = norms / math.sqrt(dim) if scaleup else norms
    zero = ratios == 0.0
    out = x
    if normalize:
        scale = np.where(zero, 1.0, 1.0 / np.where(zero, 1.0, ratios))
        out = (x * scale[:, None]).astype(x.dtype, copy=False)
    n = len(ratios)
    mean = float(ratios.mean()) if n else 0.0
    var = float((ratios**2).mean() - mean * mean) if n else 0.0
    return out, ratios, LengthNormStats(n, mean, math.sqrt(max(var, 0.0)), int(zero.sum()))


def apply_transform(transform: np.ndarray, mat: np.ndarray, source: str | None = None) -> np.ndarray:
    """Applies a linear ``(out, dim)`` or affine ``(out, dim + 1)`` transform to each row of ``mat``.

    Mirrors ``transform-vec``: the last column of an affine matrix is the offset. Computes in double and
    returns the dtype of ``mat``.
    """
    t = np.asarray(transform, dtype=np.float64)
    x = np.asarray(mat)
    dim = x.shape[1]
    if t.ndim != 2:
        raise BackendError(f"transform{' ' + source if source else ''} is not a matrix")
    if t.shape[1] == dim:
        out = x.astype(np.float64) @ t.T
    elif t.shape[1] == dim + 1:
        out = x.astype(np.float64) @ t[:, :dim].T + t[:, dim]
    else:
        raise BackendError(
            f"dimension mismatch: vectors have dimension {dim} but the transform"
            f"{' ' + source if source else ''} has {t.shape[1]} columns (expected {dim} or {dim + 1})"
        )
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float32)


@dataclass
class SpeakerMeans:
    """Result of :func:`speaker_means`."""

    speakers: list[str]
    means: np.ndarray  # (num_spk, dim), dtype of the input
    num_utts: np.ndarray  # (num_spk,) int32
    missing_utts: list[str]  # utterances listed in spk2utt without a vector
    empty_speakers: list[str]  # speakers none of whose utterances had a vector


def speaker_means(
    spk2utt: Mapping[str, Sequence[str]], keys: Sequence[str], mat: np.ndarray
) -> SpeakerMeans:
    """Averages the vectors of each speaker's utterances (``ivector-mean`` with a spk2utt).

    Utterances without a vector are skipped (listed in ``missing_utts``); speakers with none are left out
    (``empty_speakers``). Raises when a speaker has an empty utterance list. Speakers come in the order of
    ``spk2utt``.
    """
    index = {k: i for i, k in enumerate(keys)}
    speakers: list[str] = []
    rows: list[np.ndarray] = []
    counts: list[int] = []
    missing: list[str] = []
    empty: list[str] = []
    for spk, utts in spk2utt.items():
        if not utts:
            raise BackendError(f"speaker {spk} has no utterances in spk2utt")
        idx = [index[u] for u in utts if u in index]
        missing.extend(u for u in utts if u not in index)
        if not idx:
            empty.append(spk)
            continue
        speakers.append(spk)
        rows.append(mat[idx].astype(np.float64).sum(axis=0) / len(idx))
        counts.append(len(idx))
    dim = mat.shape[1]
    means = np.stack(rows).astype(mat.dtype) if rows else np.zeros((0, dim), mat.dtype)
    return SpeakerMeans(speakers, means, np.asarray(counts, dtype=np.int32), missing, empty)


def describe_missing(missing: Sequence[str], what: str = "utterance") -> str:
    """``"3 utterances have no vector (e.g. a, b, c)"`` for logs."""
    return f"{len(missing)} {what}s have no vector (e.g. {examples(missing)})"
