"""Pieces of Kaldi's serialisation that the HMM objects need on top of ``KaldiReader``/``KaldiWriter``:
integer vectors (``WriteIntegerVector``), unsigned 32-bit basic types, and opening model files.

Binary integer vectors are one byte with the element size (4), the element count as a raw int32 and the raw
int32 values; in text they are ``[ 1 2 3 ]``. An unsigned basic type carries a negative size byte (-4).
"""

from __future__ import annotations

import struct
from typing import Sequence

import numpy as np

from phonsid.io import KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import KaldiFormatError


def write_int_vector(w: KaldiWriter, values: Sequence[int]) -> None:
    """Kaldi's ``WriteIntegerVector`` for int32 elements."""
    arr = np.asarray(values, dtype="<i4").reshape(-1)
    if w.binary:
        w.f.write(b"\x04" + struct.pack("<i", arr.size) + arr.tobytes())
    else:
        w.f.write(("[ " + "".join(f"{int(x)} " for x in arr) + "]\n").encode())


def read_int_vector(r: KaldiReader) -> np.ndarray:
    """Kaldi's ``ReadIntegerVector`` for int32 elements."""
    if r.binary:
        size_byte = r.read_bytes(1, "integer vector")[0]
        if size_byte != 4:
            raise KaldiFormatError(f"{r.name}: integer vector with element size {size_byte} (expected 4)")
        n = struct.unpack("<i", r.read_bytes(4, "integer vector size"))[0]
        return np.frombuffer(r.read_bytes(4 * n, "integer vector data"), dtype="<i4").astype(np.int32)
    tok = r.read_token()
    if tok != "[":
        raise KaldiFormatError(f"{r.name}: expected '[' starting an integer vector, got {tok}")
    out: list[int] = []
    while True:
        tok = r.read_token()
        if tok == "]":
            return np.asarray(out, dtype=np.int32)
        try:
            out.append(int(tok))
        except ValueError:
            raise KaldiFormatError(f"{r.name}: expected an integer in an integer vector, got {tok}") from None


def write_uint32(w: KaldiWriter, value: int) -> None:
    if w.binary:
        w.f.write(b"\xfc" + struct.pack("<I", int(value)))
    else:
        w.f.write(f"{int(value)} ".encode())


def read_uint32(r: KaldiReader) -> int:
    if r.binary:
        size_byte = r.read_bytes(1, "an unsigned integer")[0]
        if size_byte != 0xFC:
            raise KaldiFormatError(f"{r.name}: expected an unsigned 32-bit integer, got size byte {size_byte}")
        return struct.unpack("<I", r.read_bytes(4, "uint32"))[0]
    return r.read_int()
