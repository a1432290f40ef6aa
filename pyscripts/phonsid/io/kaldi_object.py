"""Kaldi's serialisation of objects (binary and text): tokens, basic types, vectors, matrices, packed
symmetric matrices, compressed matrices, integer vectors. Model readers/writers (PLDA, GMMs, i-vector extractors,
HMM objects) are built on ``KaldiReader``/``KaldiWriter`` next to the models themselves.

Binary mode starts with ``\\0B``. Basic types are a size byte then the little-endian value (int32: ``\\x04``;
float: ``\\x04``/``\\x08`` for float/double; an unsigned type carries the negated size, uint32: ``\\xfc``);
tokens are words followed by a space; vectors/matrices are ``FV``/``DV``/``FM``/``DM``/``FP``/``DP`` tokens,
sizes and raw values, or ``CM``/``CM2``/``CM3`` for compressed matrices; integer vectors
(``WriteIntegerVector``) are the element size (4), the count as a raw int32 and the raw int32 values. Text mode
writes the same fields as whitespace-separated words and ``[ ... ]`` blocks.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Callable, Sequence, TypeVar

import numpy as np
from kaldiio.compression_header import GlobalHeader, PerColHeader

from phonsid.io.xfilename import KaldiIOError, open_rxfilename, open_wxfilename

_WS = b" \t\n\r"


class KaldiFormatError(KaldiIOError):
    """The bytes do not hold the Kaldi object that was expected."""


class NonFiniteError(KaldiIOError, ValueError):
    """NaN or ±inf where only finite numbers belong (a table entry, a model parameter, an input matrix); the
    message names the file, the key or parameter, and where the first bad value is."""


def nonfinite_where(value, allow_neg_inf: bool = False) -> str:
    """``""`` when every value is finite (or -inf, with ``allow_neg_inf``); otherwise where the first bad one is,
    e.g. ``"NaN at row 3, column 7 (0-based; 12 of 4000 values are not finite)"`` (the first in row-major order).

    One ``np.isfinite(x).all()`` pass when the values are fine; integers are always fine."""
    a = np.asarray(value)
    if a.dtype.kind not in "fc" or a.size == 0:
        return ""
    ok = np.isfinite(a)
    if ok.all():
        return ""
    if allow_neg_inf:
        ok |= np.isneginf(a)
        if ok.all():
            return ""
    bad = ~ok
    idx = np.unravel_index(int(np.argmax(bad)), a.shape)
    v = a[idx]
    kind = "NaN" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    if a.ndim == 0:
        return f"{kind} as its value"
    if a.ndim == 1:
        loc = f"element {idx[0]}"
    elif a.ndim == 2:
        loc = f"row {idx[0]}, column {idx[1]}"
    else:
        loc = f"index {tuple(int(i) for i in idx)}"
    n = int(bad.sum())
    return f"{kind} at {loc} (0-based; {n} of {a.size} values {'is' if n == 1 else 'are'} not finite)"


def _is_float(word: bytes) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


class KaldiReader:
    """Reads Kaldi objects from a binary file object, in binary or text mode.

    ``detect_header=True`` (default) consumes the ``\\0B`` binary marker if present and sets ``binary``.
    """

    def __init__(self, f: BinaryIO, detect_header: bool = True, binary: bool | None = None, name: str = "") -> None:
        self.f = f
        self.name = name or getattr(f, "name", "<stream>")
        self._pushback = b""
        if binary is not None:
            self.binary = binary
        elif detect_header:
            self.binary = self._peek(2) == b"\0B"
            if self.binary:
                self._read(2)
        else:
            self.binary = False

    # --- low-level byte access with a small push-back buffer (works on pipes) ---
    def _read(self, n: int) -> bytes:
        if self._pushback:
            head, self._pushback = self._pushback[:n], self._pushback[n:]
            if len(head) == n:
                return head
            return head + self.f.read(n - len(head))
        return self.f.read(n)

    def _read_exact(self, n: int, what: str) -> bytes:
        data = self._read(n)
        if len(data) != n:
            raise KaldiFormatError(f"{self.name}: unexpected end of file reading {what}")
        return data

    def _peek(self, n: int) -> bytes:
        data = self._read(n)
        self._pushback = data + self._pushback
        return data

    def _skip_ws(self) -> None:
        while True:
            c = self._read(1)
            if not c:
                return
            if c not in _WS:
                self._pushback = c + self._pushback
                return

    def _word(self) -> bytes:
        self._skip_ws()
        out = bytearray()
        while True:
            c = self._read(1)
            if not c:
                break
            if c in _WS:
                if c == b"\n":  # kept: line ends delimit text int vectors
                    self._pushback = c + self._pushback
                break
            out += c
        return bytes(out)

    def at_eof(self) -> bool:
        """True when only whitespace remains."""
        self._skip_ws()
        return self._peek(1) == b""

    def read_key(self) -> str | None:
        """The key of the next table entry (text up to a space), or None at the end of the stream."""
        self._skip_ws()
        out = bytearray()
        while True:
            c = self._read(1)
            if not c:
                if out:
                    raise KaldiFormatError(f"{self.name}: end of file after key '{out.decode(errors='replace')}'")
                return None
            if c == b" ":
                return out.decode()
            if c in b"\t\n\r":
                raise KaldiFormatError(f"{self.name}: key '{out.decode(errors='replace')}' is not followed by a value")
            out += c

    def read_rest_of_line(self) -> bytes:
        """Text mode: everything up to the end of the current line (consumed, newline excluded)."""
        out = bytearray()
        while True:
            c = self._read(1)
            if not c or c == b"\n":
                return bytes(out)
            out += c

    def read_bytes(self, n: int, what: str) -> bytes:
        """Exactly ``n`` raw bytes (binary payloads of tables)."""
        return self._read_exact(n, what)

    def read_binary_header(self) -> None:
        """Consumes a ``\\0B`` marker (for objects inside tables, where each object carries its own)."""
        if self._peek(2) == b"\0B":
            self._read(2)
            self.binary = True
        else:
            self.binary = False

    # --- tokens and basic types ---
    def read_token(self) -> str:
        """Reads a token such as ``<Plda>``."""
        if self.binary:
            out = bytearray()
            while True:
                c = self._read(1)
                if not c or c == b" ":
                    break
                out += c
            if not out:
                raise KaldiFormatError(f"{self.name}: expected a token, found end of file")
            return out.decode()
        word = self._word()
        if not word:
            raise KaldiFormatError(f"{self.name}: expected a token, found end of file")
        return word.decode()

    def peek_token(self) -> str:
        """The next token, without consuming it."""
        if self.binary:
            buf = bytearray()
            while True:
                c = self._read(1)
                if not c:
                    break
                buf += c
                if c == b" ":
                    break
            self._pushback = bytes(buf) + self._pushback
            return buf.decode().strip()
        self._skip_ws()
        word = self._word()
        self._pushback = word + b" " + self._pushback
        return word.decode()

    def expect_token(self, token: str) -> None:
        got = self.read_token()
        if got != token:
            raise KaldiFormatError(f"{self.name}: expected token {token}, got {got}")

    def expect_one_of(self, tokens: tuple[str, ...]) -> str:
        """Reads a token that must be one of ``tokens`` (e.g. a model's opening tag in either spelling)."""
        tok = self.read_token()
        if tok not in tokens:
            raise KaldiFormatError(f"{self.name}: expected {' or '.join(tokens)}, got {tok}")
        return tok

    def read_int(self) -> int:
        if self.binary:
            size = self._read_exact(1, "an integer")[0]
            if size == 4:
                return struct.unpack("<i", self._read_exact(4, "int32"))[0]
            if size == 8:
                return struct.unpack("<q", self._read_exact(8, "int64"))[0]
            if size == 2:
                return struct.unpack("<h", self._read_exact(2, "int16"))[0]
            if size == 1:
                return struct.unpack("<b", self._read_exact(1, "int8"))[0]
            raise KaldiFormatError(f"{self.name}: bad integer size byte {size}")
        word = self._word()
        try:
            return int(word)
        except ValueError:
            raise KaldiFormatError(f"{self.name}: expected an integer, got '{word.decode(errors='replace')}'") from None

    def read_uint32(self) -> int:
        """An unsigned 32-bit basic type (size byte -4)."""
        if self.binary:
            size_byte = self._read_exact(1, "an unsigned integer")[0]
            if size_byte != 0xFC:
                raise KaldiFormatError(f"{self.name}: expected an unsigned 32-bit integer, got size byte {size_byte}")
            return struct.unpack("<I", self._read_exact(4, "uint32"))[0]
        return self.read_int()

    def read_int_vector(self) -> np.ndarray:
        """Kaldi's ``ReadIntegerVector`` for int32 elements."""
        if self.binary:
            size_byte = self._read_exact(1, "integer vector")[0]
            if size_byte != 4:
                raise KaldiFormatError(f"{self.name}: integer vector with element size {size_byte} (expected 4)")
            n = struct.unpack("<i", self._read_exact(4, "integer vector size"))[0]
            return np.frombuffer(self._read_exact(4 * n, "integer vector data"), dtype="<i4").astype(np.int32)
        tok = self.read_token()
        if tok != "[":
            raise KaldiFormatError(f"{self.name}: expected '[' starting an integer vector, got {tok}")
        out: list[int] = []
        while True:
            tok = self.read_token()
            if tok == "]":
                return np.asarray(out, dtype=np.int32)
            try:
                out.append(int(tok))
            except ValueError:
                raise KaldiFormatError(f"{self.name}: expected an integer in an integer vector, got {tok}") from None

    def read_float(self) -> float:
        if self.binary:
            size = self._read_exact(1, "a float")[0]
            if size == 4:
                return struct.unpack("<f", self._read_exact(4, "float"))[0]
            if size == 8:
                return struct.unpack("<d", self._read_exact(8, "double"))[0]
            raise KaldiFormatError(f"{self.name}: bad float size byte {size}")
        word = self._word()
        try:
            return float(word)
        except ValueError:
            raise KaldiFormatError(f"{self.name}: expected a number, got '{word.decode(errors='replace')}'") from None

    def read_bool(self) -> bool:
        if self.binary:
            c = self._read_exact(1, "a bool")
        else:
            word = self._word()
            c = word[:1]
        if c == b"T":
            return True
        if c == b"F":
            return False
        raise KaldiFormatError(f"{self.name}: expected T or F, got {c!r}")

    # --- vectors and matrices ---
    def _text_block(self) -> list[list[float]]:
        """Rows of a text ``[ ... ]`` block (one row per line)."""
        self._skip_ws()
        if self._read(1) != b"[":
            raise KaldiFormatError(f"{self.name}: expected '[' starting a vector or matrix")
        rows: list[list[float]] = []
        line = bytearray()
        while True:
            c = self._read(1)
            if not c:
                raise KaldiFormatError(f"{self.name}: no ']' closing a vector or matrix")
            if c == b"]":
                break
            if c == b"\n":
                if line.strip():
                    rows.append(self._text_row(line, len(rows)))
                line = bytearray()
            else:
                line += c
        if line.strip():
            rows.append(self._text_row(line, len(rows)))
        return rows

    def _text_row(self, line: bytearray, index: int) -> list[float]:
        """The numbers of one text row; a word that is not a number is an error naming the row."""
        words = line.split()
        try:
            return [float(x) for x in words]
        except ValueError:
            bad = next(w for w in words if not _is_float(w))
            raise KaldiFormatError(f"{self.name}: row {index + 1} of a text vector/matrix: expected a number, "
                                   f"found '{bad.decode(errors='replace')}'") from None

    def read_vector(self, double: bool = False) -> np.ndarray:
        """A Kaldi Vector (float32 for FV, float64 for DV; text is parsed as float32). With ``double``, float64 in
        every case: the values as stored, text at full precision (what double-precision models need)."""
        if not self.binary:
            rows = self._text_block()
            return np.array([x for r in rows for x in r], dtype=np.float64 if double else np.float32)
        token = self.read_token()
        if token not in ("FV", "DV"):
            raise KaldiFormatError(f"{self.name}: expected a vector (FV/DV), got {token}")
        dim = self.read_int()
        dtype = np.dtype("<f4") if token == "FV" else np.dtype("<f8")
        data = self._read_exact(dim * dtype.itemsize, "vector data")
        return np.frombuffer(data, dtype=dtype).astype(np.float64 if double else dtype.newbyteorder("="))

    def read_matrix(self, double: bool = False) -> np.ndarray:
        """A Kaldi Matrix (FM/DM) or CompressedMatrix (CM/CM2/CM3, decompressed to float32); text is parsed as
        float32. With ``double``, float64 in every case: the values as stored, text at full precision (as Kaldi
        parses text into a double matrix)."""
        if not self.binary:
            dtype = np.float64 if double else np.float32
            rows = self._text_block()
            if not rows:
                return np.zeros((0, 0), dtype=dtype)
            if len({len(r) for r in rows}) != 1:
                raise KaldiFormatError(f"{self.name}: text matrix has rows of different lengths")
            return np.array(rows, dtype=dtype)
        token = self.read_token()
        if token in ("CM", "CM2", "CM3"):
            m = self._read_compressed(token)
            return m.astype(np.float64) if double else m
        if token not in ("FM", "DM"):
            raise KaldiFormatError(f"{self.name}: expected a matrix (FM/DM/CM), got {token}")
        rows = self.read_int()
        cols = self.read_int()
        dtype = np.dtype("<f4") if token == "FM" else np.dtype("<f8")
        data = self._read_exact(rows * cols * dtype.itemsize, "matrix data")
        out = np.frombuffer(data, dtype=dtype).reshape(rows, cols)
        return out.astype(np.float64 if double else dtype.newbyteorder("="))

    def _read_compressed(self, kind: str) -> np.ndarray:
        # kaldiio's header classes do the (de)quantisation; they read from a file-like object.
        fd = _Reread(self)
        header = GlobalHeader.read(fd, kind, "<")
        if kind == "CM":
            percol = PerColHeader.read(fd, header)
            raw = self._read_exact(header.rows * header.cols, "compressed matrix data")
            arr = np.frombuffer(raw, dtype=np.uint8).reshape(header.cols, header.rows)
            return np.ascontiguousarray(percol.char_to_float(arr).T, dtype=np.float32)
        width = 2 if kind == "CM2" else 1
        raw = self._read_exact(header.rows * header.cols * width, "compressed matrix data")
        arr = np.frombuffer(raw, dtype=np.dtype("<u2") if width == 2 else np.uint8).reshape(header.rows, header.cols)
        return np.asarray(header.uint_to_float(arr), dtype=np.float32)

    def read_sp_matrix(self) -> np.ndarray:
        """A packed symmetric matrix (SpMatrix, FP/DP), returned full (float64)."""
        if not self.binary:
            rows = self._text_block()
            dim = len(rows)
            out = np.zeros((dim, dim))
            for i, r in enumerate(rows):
                if len(r) != i + 1:
                    raise KaldiFormatError(f"{self.name}: packed symmetric matrix row {i} has {len(r)} values")
                out[i, : i + 1] = r
            return out + np.tril(out, -1).T
        token = self.read_token()
        if token not in ("FP", "DP"):
            raise KaldiFormatError(f"{self.name}: expected a packed symmetric matrix (FP/DP), got {token}")
        dim = self.read_int()
        dtype = np.dtype("<f4") if token == "FP" else np.dtype("<f8")
        n = dim * (dim + 1) // 2
        packed = np.frombuffer(self._read_exact(n * dtype.itemsize, "packed matrix data"), dtype=dtype)
        out = np.zeros((dim, dim))
        out[np.tril_indices(dim)] = packed
        return out + np.tril(out, -1).T


class _Reread:
    """A file-like view of a KaldiReader for kaldiio's header readers."""

    def __init__(self, reader: KaldiReader) -> None:
        self.reader = reader

    def read(self, n: int) -> bytes:
        return self.reader._read_exact(n, "compressed matrix header")


class KaldiWriter:
    """Writes Kaldi objects to a binary file object; ``binary=True`` writes the ``\\0B`` marker first.

    Non-finite values are refused (``check_finite``, the default): a vector, matrix or float holding NaN or ±inf
    raises :class:`NonFiniteError` before it is written, naming ``name`` (the file) and the parameter: the
    ``name=`` given to the write call, else the last token written (``<MEANS_INVVARS>``; ``<M>[3]`` for the
    fourth object after the same token). -inf is allowed after the tokens of :data:`NEG_INF_FIELDS`, which
    Kaldi defines as logarithms of values that may be zero. Writers of files on a plain path write atomically, so
    a refused model leaves no file behind. Table writers (:class:`phonsid.io.table.TableWriter`) check each entry
    themselves, with its key, and pass ``check_finite=False``.
    """

    #: Fields that hold logarithms of quantities that may be zero, where Kaldi writes -inf: the Gaussian
    #: constants of GMMs (log of a zero weight) and a transition model's log-probabilities.
    NEG_INF_FIELDS = frozenset({"<GCONSTS>", "<LogProbs>"})

    def __init__(self, f: BinaryIO, binary: bool = True, write_header: bool = True, name: str = "",
                 check_finite: bool = True) -> None:
        self.f = f
        self.binary = binary
        self.name = name or str(getattr(f, "name", "<stream>"))
        self.check_finite = check_finite
        self._field = ""  # the last token written
        self._items = 0  # values written since it
        if binary and write_header:
            f.write(b"\0B")

    def check(self, value, name: str | None = None, allow_neg_inf: bool | None = None) -> None:
        """Raises :class:`NonFiniteError` if ``value`` (about to be written) holds NaN or ±inf (see the class doc);
        for writers that lay values out themselves. ``allow_neg_inf`` None: as the current field allows."""
        if not self.check_finite:
            return
        param = name
        if param is None:
            param = self._field or "value"
            if self._items:
                param += f"[{self._items}]"
            self._items += 1
        if allow_neg_inf is None:
            allow_neg_inf = name is None and self._field in self.NEG_INF_FIELDS
        where = nonfinite_where(value, allow_neg_inf)
        if where:
            raise NonFiniteError(f"{self.name}: refusing to write non-finite values: {param}: {where}")

    def write_token(self, token: str) -> None:
        self.f.write(token.encode() + b" ")
        self._field, self._items = token, 0

    def write_int(self, value: int) -> None:
        if self.binary:
            self.f.write(b"\x04" + struct.pack("<i", int(value)))
        else:
            self.f.write(f"{int(value)} ".encode())

    def write_uint16(self, value: int) -> None:
        """A 16-bit basic type (GMM update flags): size byte 2 then the value in binary, a number in text."""
        if self.binary:
            self.f.write(b"\x02" + struct.pack("<H", int(value)))
        else:
            self.f.write(f"{int(value)} ".encode())

    def write_uint32(self, value: int) -> None:
        """An unsigned 32-bit basic type (size byte -4)."""
        if self.binary:
            self.f.write(b"\xfc" + struct.pack("<I", int(value)))
        else:
            self.f.write(f"{int(value)} ".encode())

    def write_int_vector(self, values: Sequence[int]) -> None:
        """Kaldi's ``WriteIntegerVector`` for int32 elements."""
        arr = np.asarray(values, dtype="<i4").reshape(-1)
        if self.binary:
            self.f.write(b"\x04" + struct.pack("<i", arr.size) + arr.tobytes())
        else:
            self.f.write(("[ " + "".join(f"{int(x)} " for x in arr) + "]\n").encode())

    def write_float(self, value: float, double: bool = False, name: str | None = None) -> None:
        self.check(value, name)
        if self.binary:
            self.f.write(b"\x08" + struct.pack("<d", value) if double else b"\x04" + struct.pack("<f", value))
        else:
            self.f.write(f"{_fmt(value, double)} ".encode())

    def write_bool(self, value: bool) -> None:
        self.f.write(b"T" if value else b"F")
        if not self.binary:
            self.f.write(b" ")

    def write_newline(self) -> None:
        """A line break in text mode (Kaldi puts them between model fields); nothing in binary mode."""
        if not self.binary:
            self.f.write(b"\n")

    def write_vector(self, v: np.ndarray, double: bool = False, name: str | None = None) -> None:
        v = np.asarray(v).reshape(-1)
        self.check(v, name)
        if self.binary:
            dtype = np.dtype("<f8") if double else np.dtype("<f4")
            self.f.write(b"DV " if double else b"FV ")
            self.write_int(v.size)
            self.f.write(v.astype(dtype).tobytes())
        else:
            self.f.write(b" [ " + b"".join(f"{_fmt(x, double)} ".encode() for x in v) + b"]\n")

    def write_matrix(self, m: np.ndarray, double: bool = False, name: str | None = None) -> None:
        m = np.asarray(m)
        if m.ndim != 2:
            raise ValueError(f"write_matrix: expected a 2-D array, got shape {m.shape}")
        self.check(m, name)
        if self.binary:
            dtype = np.dtype("<f8") if double else np.dtype("<f4")
            self.f.write(b"DM " if double else b"FM ")
            self.write_int(m.shape[0])
            self.write_int(m.shape[1])
            self.f.write(np.ascontiguousarray(m, dtype=dtype).tobytes())
        elif m.size == 0:
            self.f.write(b" [ ]\n")
        else:
            rows = [b"  " + b" ".join(_fmt(x, double).encode() for x in r) + b" " for r in m]
            self.f.write(b" [\n" + b"\n".join(rows) + b"]\n")

    def write_compressed_matrix(self, m: np.ndarray, method: int = 1, name: str | None = None) -> None:
        """A CompressedMatrix (Kaldi's compression methods; 1 = automatic, as copy-feats --compress=true)."""
        if not self.binary:
            self.write_matrix(np.asarray(m, dtype=np.float32), name=name)
            return
        m = np.ascontiguousarray(m, dtype=np.float32)
        self.check(m, name, allow_neg_inf=False)  # a compressed matrix cannot hold -inf (its range would be infinite)
        header = GlobalHeader.compute(m, method, "<")
        header.write(self.f)
        if header.type == "CM":
            percol = PerColHeader.compute(m, header)
            percol.write(self.f, header)
            self.f.write(percol.float_to_char(m.T).tobytes())
        else:
            self.f.write(header.float_to_uint(m).tobytes())

    def write_sp_matrix(self, m: np.ndarray, double: bool = False, name: str | None = None) -> None:
        """A packed symmetric matrix (lower triangle); text in the layout of Kaldi's ``PackedMatrix::Write``
        (``[`` newline, one row per line, ``]``; floats with 7 significant digits), so that text models are
        re-written byte for byte."""
        m = np.asarray(m)
        self.check(m, name)
        dim = m.shape[0]
        if self.binary:
            dtype = np.dtype("<f8") if double else np.dtype("<f4")
            self.f.write(b"DP " if double else b"FP ")
            self.write_int(dim)
            self.f.write(m[np.tril_indices(dim)].astype(dtype).tobytes())
        elif dim == 0:
            self.f.write(b"[ ]\n")
        else:
            fmt = (lambda x: repr(float(x))) if double else (lambda x: f"{float(np.float32(x)):.7g}")
            rows = ["".join(fmt(x) + " " for x in m[i, : i + 1]) for i in range(dim)]
            self.f.write(("[\n" + "\n".join(rows) + "]\n").encode())


def _fmt(x: float, double: bool = False) -> str:
    """Shortest text that reads back to the same float32 (or float64) value; integers without a point."""
    value = float(x)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if double else str(np.float32(value))


T = TypeVar("T")


def read_object_file(rxfilename: str, read: Callable[[KaldiReader], T]) -> T:
    """Opens a Kaldi object file (binary or text; a path, ``-`` or ``cmd |``) and returns ``read(reader)``; a value
    the reader cannot parse is a ``KaldiFormatError`` naming the file."""
    with open_rxfilename(rxfilename) as f:
        r = KaldiReader(f, name=rxfilename)
        try:
            return read(r)
        except KaldiFormatError:
            raise
        except (ValueError, IndexError, KeyError) as e:
            raise KaldiFormatError(f"{rxfilename}: {e}") from e


def write_object_file(wxfilename: str, binary: bool, write: Callable[[KaldiWriter], None]) -> None:
    """Opens ``wxfilename`` for writing (atomically for plain paths) and calls ``write(writer)``; a parameter
    holding NaN or inf is a :class:`NonFiniteError` naming the file and the parameter, and leaves no file."""
    with open_wxfilename(wxfilename) as f:
        write(KaldiWriter(f, binary, name=wxfilename))


def read_kaldi_matrix(rxfilename: str) -> np.ndarray:
    """A matrix file (binary or text), e.g. an LDA ``transform.mat``."""
    with open_rxfilename(rxfilename) as f:
        return KaldiReader(f, name=rxfilename).read_matrix()


def write_kaldi_matrix(wxfilename: str, m: np.ndarray, binary: bool = True, double: bool = False) -> None:
    """A matrix file (e.g. an LDA ``transform.mat``); NaN or inf is refused (:class:`NonFiniteError`)."""
    with open_wxfilename(wxfilename) as f:
        KaldiWriter(f, binary, name=wxfilename).write_matrix(m, double=double, name="matrix")


def read_kaldi_vector(rxfilename: str) -> np.ndarray:
    """A vector file (binary or text), e.g. ``mean.vec``."""
    with open_rxfilename(rxfilename) as f:
        return KaldiReader(f, name=rxfilename).read_vector()


def write_kaldi_vector(wxfilename: str, v: np.ndarray, binary: bool = True, double: bool = False) -> None:
    """A vector file (e.g. ``mean.vec``); NaN or inf is refused (:class:`NonFiniteError`)."""
    with open_wxfilename(wxfilename) as f:
        KaldiWriter(f, binary, name=wxfilename).write_vector(v, double=double, name="vector")
