"""Input checks shared by the back end: stacking keyed vectors, finite values, dimensions.

Every check raises :class:`BackendError` with a message that names the source (file or rspecifier), how many
entries are affected and a few of them, so a user can find the bad utterance without a debugger.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

MAX_EXAMPLES = 5


class BackendError(ValueError):
    """Bad input to the back end (missing keys, non-finite values, dimension mismatches, degenerate data)."""


def examples(items: Iterable[object], limit: int = MAX_EXAMPLES) -> str:
    """``a, b, c, ...`` of the first ``limit`` items (for error messages)."""
    items = list(items)
    text = ", ".join(str(i) for i in items[:limit])
    if len(items) > limit:
        text += ", ..."
    return text


def _where(source: str | None) -> str:
    return f" in {source}" if source else ""


def check_finite(keys: Sequence[str], mat: np.ndarray, source: str | None = None, what: str = "vector") -> None:
    """Raises if any row of ``mat`` holds NaN or inf, naming the keys of the bad rows."""
    if mat.size == 0:
        return
    bad = ~np.isfinite(mat).all(axis=1)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise BackendError(
            f"{len(idx)} of {len(keys)} {what}s{_where(source)} contain NaN or inf values "
            f"(e.g. {examples(keys[i] for i in idx)})"
        )


def stack_vectors(
    items: Iterable[tuple[str, np.ndarray]],
    source: str | None = None,
    what: str = "vector",
    dim: int | None = None,
    dtype=np.float32,
) -> tuple[list[str], np.ndarray]:
    """Stacks ``(key, vector)`` pairs into ``(keys, matrix)``, checking dimension, duplicates and finiteness.

    ``dim`` is the expected dimension (e.g. the PLDA's); when None the first vector fixes it. Raises
    :class:`BackendError` naming the source, the count and examples of offending keys.
    """
    keys: list[str] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    dups: list[str] = []
    wrong: list[tuple[str, int]] = []
    for key, vec in items:
        v = np.asarray(vec)
        if v.ndim != 1:
            raise BackendError(f"{what} '{key}'{_where(source)} is not a vector (shape {v.shape})")
        if key in seen:
            dups.append(key)
            continue
        seen.add(key)
        if dim is None:
            dim = v.shape[0]
        if v.shape[0] != dim:
            wrong.append((key, v.shape[0]))
            continue
        keys.append(key)
        rows.append(v)
    if dups:
        raise BackendError(f"{len(dups)} duplicate keys{_where(source)} (e.g. {examples(dups)})")
    if wrong:
        raise BackendError(
            f"dimension mismatch{_where(source)}: expected {what}s of dimension {dim}, but {len(wrong)} "
            f"have another dimension (e.g. {examples(f'{k} (dim {d})' for k, d in wrong)})"
        )
    if not rows:
        raise BackendError(f"no {what}s read{_where(source)}")
    mat = np.stack(rows).astype(dtype, copy=False)
    check_finite(keys, mat, source, what)
    return keys, mat


def check_dim(actual: int, expected: int, what: str, source: str | None = None) -> None:
    """Raises a dimension-mismatch error naming both dimensions."""
    if actual != expected:
        raise BackendError(f"dimension mismatch{_where(source)}: {what} has dimension {actual}, expected {expected}")


def index_of(keys: Sequence[str]) -> dict[str, int]:
    """Key → row index."""
    return {k: i for i, k in enumerate(keys)}


def require_keys(
    wanted: Iterable[str], available: Mapping[str, object], what: str, source: str | None = None
) -> None:
    """Raises if some of ``wanted`` are absent from ``available`` (count and examples)."""
    missing = [k for k in wanted if k not in available]
    if missing:
        raise BackendError(f"{len(missing)} {what}s have no entry{_where(source)} (e.g. {examples(missing)})")
