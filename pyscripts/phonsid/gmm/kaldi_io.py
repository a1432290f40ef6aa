"""Small Kaldi-serialisation helpers shared by the GMM and i-vector model readers/writers.

``phonsid.io.KaldiReader``/``KaldiWriter`` do the tokens, vectors and matrices; here are the few pieces the
model formats need on top: GMM update flags (a ``uint16`` basic type), doubles written as basic types, and
packed symmetric matrices in Kaldi's exact text layout (``[`` newline, one row per line, ``]``), so that text
models are re-written byte for byte. Helpers that write accept ``KaldiWriter`` and honour its ``binary`` flag.
"""

from __future__ import annotations

import struct

import numpy as np

from phonsid.io import KaldiFormatError, KaldiReader, KaldiWriter


#: GMM update flags (Kaldi's GmmUpdateFlags): m = means, v = variances, w = weights, t = transitions.
GMM_MEANS, GMM_VARIANCES, GMM_WEIGHTS, GMM_TRANSITIONS = 1, 2, 4, 8
GMM_ALL = 15


def string_to_gmm_flags(text: str) -> int:
    """``"mvw"`` → 7, as Kaldi's ``StringToGmmFlags`` (letters m, v, w, t, a)."""
    flags = 0
    for c in text:
        if c == "m":
            flags |= GMM_MEANS
        elif c == "v":
            flags |= GMM_VARIANCES
        elif c == "w":
            flags |= GMM_WEIGHTS
        elif c == "t":
            flags |= GMM_TRANSITIONS
        elif c == "a":
            flags |= GMM_ALL
        else:
            raise ValueError(f"invalid GMM update flag '{c}' in '{text}' (use a subset of m, v, w, t, a)")
    return flags


def augment_flags(flags: int) -> int:
    """Kaldi's AugmentGmmFlags: variances imply means, means imply weights (occupancies are always kept)."""
    if flags & ~GMM_ALL:
        raise ValueError(f"invalid GMM flags {flags}")
    if flags & GMM_VARIANCES:
        flags |= GMM_MEANS
    if flags & GMM_MEANS:
        flags |= GMM_WEIGHTS
    if not flags & GMM_WEIGHTS:
        raise ValueError("GMM accumulators need at least the weight (occupancy) statistics")
    return flags


def write_uint16(w: KaldiWriter, value: int) -> None:
    """A ``uint16`` basic type (GmmFlagsType): size byte 2 then the value in binary, a number in text."""
    if w.binary:
        w.f.write(b"\x02" + struct.pack("<H", int(value)))
    else:
        w.f.write(f"{int(value)} ".encode())


def write_double(w: KaldiWriter, value: float) -> None:
    """A ``double`` basic type."""
    w.write_float(float(value), double=True)


def write_matrix(w: KaldiWriter, m: np.ndarray, double: bool = False) -> None:
    """A Kaldi matrix (``FM``/``DM`` in binary; Kaldi's ``[`` … ``]`` block in text)."""
    w.write_matrix(np.asarray(m), double=double)


def write_vector(w: KaldiWriter, v: np.ndarray, double: bool = False) -> None:
    w.write_vector(np.asarray(v), double=double)


def _fmt(x: float) -> str:
    """Kaldi's text output of a float: 7 significant digits (as in the golden text models)."""
    return f"{float(np.float32(x)):.7g}"


def write_sp_matrix(w: KaldiWriter, m: np.ndarray, double: bool = False) -> None:
    """A packed symmetric matrix (lower triangle). Text layout as Kaldi's ``PackedMatrix::Write``."""
    m = np.asarray(m)
    if w.binary:
        w.write_sp_matrix(m, double=double)
        return
    w.check(m)  # NaN/inf refused, as KaldiWriter's own writers do
    dim = m.shape[0]
    if dim == 0:
        w.f.write(b"[ ]\n")
        return
    fmt = (lambda x: repr(float(x))) if double else _fmt
    rows = ["".join(fmt(x) + " " for x in m[i, : i + 1]) for i in range(dim)]
    w.f.write(("[\n" + "\n".join(rows) + "]\n").encode())


def _text_values(r: KaldiReader) -> list[list[float]]:
    """The rows of a text ``[ ... ]`` block at full precision (KaldiReader's text readers return float32, which
    would lose the double-precision models' values)."""
    return r._text_block()


def read_vector64(r: KaldiReader) -> np.ndarray:
    """A vector as float64 (the values as stored: FV, DV, or text at full precision)."""
    if not r.binary:
        return np.array([x for row in _text_values(r) for x in row], dtype=np.float64)
    return np.asarray(r.read_vector(), dtype=np.float64)


def read_matrix64(r: KaldiReader) -> np.ndarray:
    if not r.binary:
        rows = _text_values(r)
        if not rows:
            return np.zeros((0, 0))
        if len({len(row) for row in rows}) != 1:
            raise KaldiFormatError(f"{r.name}: text matrix has rows of different lengths")
        return np.array(rows, dtype=np.float64)
    return np.asarray(r.read_matrix(), dtype=np.float64)


def read_sp_matrix64(r: KaldiReader) -> np.ndarray:
    if not r.binary:
        rows = _text_values(r)
        dim = len(rows)
        out = np.zeros((dim, dim))
        for i, row in enumerate(rows):
            if len(row) != i + 1:
                raise KaldiFormatError(f"{r.name}: packed symmetric matrix row {i} has {len(row)} values")
            out[i, : i + 1] = row
        return out + np.tril(out, -1).T
    return np.asarray(r.read_sp_matrix(), dtype=np.float64)


def expect_one_of(r: KaldiReader, tokens: tuple[str, ...]) -> str:
    tok = r.read_token()
    if tok not in tokens:
        raise KaldiFormatError(f"{r.name}: expected {' or '.join(tokens)}, got {tok}")
    return tok
