"""Reading and writing the back end's Kaldi tables through :mod:`phonsid.io`, with the back end's checks.

- vectors (``ark:``/``scp:`` rspecifiers, pipes) → ``(keys, matrix)`` with dimension / NaN / duplicate checks;
- token tables as Kaldi's token readers see them: ``spk2utt`` (key → list of tokens) and ``utt2spk``
  (key → token), given as rspecifiers (``ark:data/spk2utt``) or plain paths;
- integer tables (``num_utts``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from phonsid.backend.checks import BackendError, stack_vectors


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


def _text_path(rspecifier: str) -> str:
    """The file behind a text-table rspecifier (``ark:f``, ``ark,t:f``, ``ark:cmd |``) or a plain path."""
    from phonsid.io import SpecifierError, parse_rspecifier

    try:
        spec = parse_rspecifier(rspecifier)
    except SpecifierError:
        return rspecifier
    if spec.kind != "ark":
        raise BackendError(f"{rspecifier}: token tables are read from archives (ark:file), not scp")
    return spec.path


def read_token_lists(rspecifier: str) -> dict[str, list[str]]:
    """``key tok1 tok2 ...`` lines (e.g. spk2utt), in file order; duplicate keys are an error."""
    from phonsid.io import open_rxfilename

    path = _text_path(rspecifier)
    out: dict[str, list[str]] = {}
    with open_rxfilename(path) as f:
        for lineno, raw in enumerate(f, 1):
            fields = raw.decode("utf-8").split()
            if not fields:
                continue
            if fields[0] in out:
                raise BackendError(f"{path}:{lineno}: duplicate key {fields[0]}")
            out[fields[0]] = fields[1:]
    return out


def read_token_map(rspecifier: str) -> dict[str, str]:
    """``key token`` lines (e.g. utt2spk); every line must have exactly two fields."""
    from phonsid.io import open_rxfilename

    path = _text_path(rspecifier)
    out: dict[str, str] = {}
    with open_rxfilename(path) as f:
        for lineno, raw in enumerate(f, 1):
            fields = raw.decode("utf-8").split()
            if not fields:
                continue
            if len(fields) != 2:
                raise BackendError(f"{path}:{lineno}: expected '<key> <value>', got '{raw.decode().strip()}'")
            out[fields[0]] = fields[1]
    return out


def read_int_table(rspecifier: str) -> dict[str, int]:
    """An integer table (e.g. ``ark:num_utts.ark``)."""
    from phonsid.io import read_table

    return {k: int(v) for k, v in read_table(rspecifier, "int").items()}
