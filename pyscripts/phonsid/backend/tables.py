"""Reading and writing the back end's Kaldi tables through :mod:`phonsid.io`, with the back end's checks.

- vectors (``ark:``/``scp:`` rspecifiers, pipes) → ``(keys, matrix)`` with dimension / NaN / duplicate checks;
- integer tables (``num_utts``).

Token tables (``spk2utt``, ``utt2spk``) are read with :func:`phonsid.data.read_token_lists` and
:func:`phonsid.data.read_token_map`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from phonsid.backend.checks import stack_vectors


def read_vectors(rspecifier: str, what: str = "vector", dim: int | None = None) -> tuple[list[str], np.ndarray]:
    """All vectors of a table, stacked (float32), checked (see :func:`phonsid.backend.checks.stack_vectors`)."""
    from phonsid.io import SequentialReader

    with SequentialReader(rspecifier, "vector") as reader:
        return stack_vectors(reader, source=rspecifier, what=what, dim=dim)


def write_vectors(wspecifier: str, keys: Sequence[str], mat: np.ndarray) -> None:
    """Writes rows of ``mat`` as float vectors under ``keys``."""
    from phonsid.io import TableWriter

    with TableWriter(wspecifier, "vector") as writer:
        for k, row in zip(keys, np.asarray(mat, dtype=np.float32)):
            writer.write(k, row)


def read_int_table(rspecifier: str) -> dict[str, int]:
    """An integer table (e.g. ``ark:num_utts.ark``)."""
    from phonsid.io import read_table

    return {k: int(v) for k, v in read_table(rspecifier, "int").items()}
