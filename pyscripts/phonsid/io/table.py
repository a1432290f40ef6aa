"""Kaldi tables: archives (``ark``) and script files (``scp``) read and written by specifier.

Specifiers follow Kaldi: ``ark:foo.ark``, ``scp:foo.scp``, ``ark,t:-``, ``ark:cmd |``, ``ark:| cmd``,
``ark,scp:foo.ark,foo.scp``, with options (``s``, ``cs``, ``o``, ``p``, ``f``, ``nf``, ``t``, ``b``) before the
colon. scp entries may be ``file.ark:offset``, a file or a pipe, optionally with a row/column range
``[r1:r2]`` / ``[r1:r2,c1:c2]`` (inclusive, as Kaldi).

A *holder* says what each entry holds: ``matrix``, ``vector``, ``int_vector``, ``int_vector_vector``,
``posterior``, ``int``, ``float``, or ``auto`` (matrix or vector as stored; reading only).

Non-finite numbers: :class:`TableWriter` refuses an entry holding NaN or ±inf (matrices, vectors, floats,
posterior weights) with a :class:`~phonsid.io.kaldi_object.NonFiniteError` naming the wspecifier, the key and
where the first bad value is, before anything of the entry is written, so a caller may skip it and go on
(``allow_neg_inf=True`` lets log-domain tables hold -inf). Readers check what they read with ``finite=True``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from collections import OrderedDict
from itertools import chain
from operator import itemgetter
from typing import Any, BinaryIO, Iterator

import numpy as np

from phonsid.io.atomic import atomic_open
from phonsid.io.kaldi_object import KaldiFormatError, KaldiReader, KaldiWriter, NonFiniteError, nonfinite_where
from phonsid.io.xfilename import KaldiIOError, open_rxfilename, open_wxfilename, split_offset

HOLDERS = ("matrix", "vector", "int_vector", "int_vector_vector", "posterior", "int", "float", "auto")
_KNOWN_OPTS = {"s", "cs", "ns", "ncs", "o", "no", "p", "np", "f", "nf", "t", "b", "ark", "scp"}


class SpecifierError(ValueError):
    """An rspecifier or wspecifier Kaldi would reject."""


@dataclasses.dataclass(frozen=True)
class RSpecifier:
    kind: str  # "ark" or "scp"
    path: str
    opts: frozenset[str]


@dataclasses.dataclass(frozen=True)
class WSpecifier:
    ark: str | None
    scp: str | None
    text: bool
    opts: frozenset[str]


def _split_spec(spec: str) -> tuple[list[str], str]:
    head, sep, rest = spec.partition(":")
    if not sep:
        raise SpecifierError(f"'{spec}' is not a Kaldi table specifier (expected e.g. ark:file or scp:file)")
    opts = [o.strip() for o in head.split(",") if o.strip()]
    unknown = [o for o in opts if o not in _KNOWN_OPTS]
    if unknown:
        raise SpecifierError(f"'{spec}': unknown option(s) {','.join(unknown)}")
    return opts, rest


def parse_rspecifier(spec: str) -> RSpecifier:
    opts, rest = _split_spec(spec)
    kinds = [o for o in opts if o in ("ark", "scp")]
    if len(kinds) != 1:
        raise SpecifierError(f"'{spec}': an rspecifier names exactly one of ark or scp")
    return RSpecifier(kinds[0], rest, frozenset(o for o in opts if o not in ("ark", "scp")))


def parse_wspecifier(spec: str) -> WSpecifier:
    opts, rest = _split_spec(spec)
    has_ark, has_scp = "ark" in opts, "scp" in opts
    if not has_ark:
        raise SpecifierError(f"'{spec}': writing needs an archive (ark: or ark,scp:); scp-only output is not supported")
    if has_scp:
        if opts.index("ark") > opts.index("scp"):
            raise SpecifierError(f"'{spec}': write ark,scp (the archive comes first)")
        ark, sep, scp = rest.partition(",")
        if not sep or not ark or not scp:
            raise SpecifierError(f"'{spec}': ark,scp needs two filenames, 'foo.ark,foo.scp'")
        if ark.strip() in ("-", "") or ark.strip().startswith("|"):
            raise SpecifierError(f"'{spec}': an scp cannot point into a pipe or stdout")
    else:
        ark, scp = rest, None
    plain = frozenset(o for o in opts if o not in ("ark", "scp"))
    return WSpecifier(ark, scp, "t" in plain and "b" not in plain, plain)


# ----------------------------------------------------------------------------------------------------------
# holders: reading and writing one object

_INT_PAIR = np.dtype([("size", "u1"), ("value", "<i4")])
_POST_PAIR = np.dtype([("s1", "u1"), ("id", "<i4"), ("s2", "u1"), ("weight", "<f4")])


def _read_int_array(r: KaldiReader, n: int, what: str) -> np.ndarray:
    raw = np.frombuffer(r.read_bytes(n * 5, what), dtype=_INT_PAIR)
    if n and np.any(raw["size"] != 4):
        raise KaldiFormatError(f"{r.name}: {what}: expected int32 elements")
    return raw["value"].astype(np.int32)


def _int_array_bytes(values: np.ndarray) -> bytes:
    out = np.empty(len(values), dtype=_INT_PAIR)
    out["size"] = 4
    out["value"] = values
    return out.tobytes()


def _text_ints(r: KaldiReader, words: list, what: str) -> np.ndarray:
    """Integers of a text table entry; a word that is not an integer is an error naming it."""
    try:
        return np.array(words, dtype=np.int32)
    except ValueError:
        for w in words:
            try:
                int(w)
            except ValueError:
                text = w.decode(errors="replace") if isinstance(w, bytes) else w
                raise KaldiFormatError(f"{r.name}: {what}: expected an integer, found '{text}'") from None
        raise


def read_object(r: KaldiReader, holder: str) -> Any:
    """Reads one table value of the given holder type (after its key and binary marker)."""
    if holder == "matrix":
        return r.read_matrix()
    if holder == "vector":
        return r.read_vector()
    if holder == "auto":
        if r.binary:
            token = r.peek_token()
            return r.read_vector() if token in ("FV", "DV") else r.read_matrix()
        m = r.read_matrix()
        return m[0] if m.shape[0] == 1 else m
    if holder == "int":
        return r.read_int()
    if holder == "float":
        return r.read_float()
    if holder == "int_vector":
        if r.binary:
            return _read_int_array(r, r.read_int(), "int vector")
        return _text_ints(r, r.read_rest_of_line().split(), "int vector")
    if holder == "int_vector_vector":
        if r.binary:
            return [_read_int_array(r, r.read_int(), "int vector") for _ in range(r.read_int())]
        groups = r.read_rest_of_line().decode().split(";")
        if groups and not groups[-1].strip():
            groups.pop()  # the text form ends every inner vector with ';'
        return [_text_ints(r, g.split(), "int vector vector") for g in groups]
    if holder == "posterior":
        if r.binary:
            frames = []
            for _ in range(r.read_int()):
                n = r.read_int()
                raw = np.frombuffer(r.read_bytes(n * 10, "posterior"), dtype=_POST_PAIR)
                frames.append(list(zip(raw["id"].tolist(), raw["weight"].tolist())))
            return frames
        line = r.read_rest_of_line().decode()
        frames = []
        for chunk in line.split("]"):
            chunk = chunk.strip()
            if not chunk:
                continue
            if not chunk.startswith("["):
                raise KaldiFormatError(f"{r.name}: bad text posterior near '{chunk[:30]}'")
            vals = chunk[1:].split()
            try:
                frames.append([(int(vals[i]), float(vals[i + 1])) for i in range(0, len(vals), 2)])
            except (ValueError, IndexError):
                raise KaldiFormatError(f"{r.name}: bad text posterior near '{chunk[:30]}': expected "
                                       "'[ <id> <weight> ... ]' pairs") from None
        return frames
    raise ValueError(f"unknown holder '{holder}' (one of {', '.join(HOLDERS)})")


def nonfinite_in(holder: str, value: Any, allow_neg_inf: bool = False) -> str:
    """``""`` when a table value of ``holder`` holds only finite numbers (-inf allowed with ``allow_neg_inf``),
    else where the first NaN/inf is (see :func:`phonsid.io.kaldi_object.nonfinite_where`). Integer holders are
    always fine."""
    if holder in ("matrix", "vector", "auto", "float"):
        return nonfinite_where(value, allow_neg_inf)
    if holder == "posterior":
        if math.isfinite(sum(map(itemgetter(1), chain.from_iterable(value)))):  # C-speed path: all finite
            return ""
        for t, frame in enumerate(value):
            for j, (_, weight) in enumerate(frame):
                w = float(weight)
                if not (math.isfinite(w) or (allow_neg_inf and w == -math.inf)):
                    kind = "NaN" if math.isnan(w) else ("inf" if w > 0 else "-inf")
                    return f"{kind} as the weight of entry {j} of frame {t}"
    return ""


def write_object(w: KaldiWriter, holder: str, value: Any, compress: bool = False) -> None:
    """Writes one table value (the binary marker included) of the given holder type."""
    f = w.f
    if w.binary:
        f.write(b"\0B")
    if holder == "matrix":
        arr = np.asarray(value)
        if arr.ndim != 2:
            raise ValueError(f"matrix holder: expected a 2-D array, got shape {arr.shape}")
        if compress:
            w.write_compressed_matrix(arr)
        else:
            w.write_matrix(arr, double=arr.dtype == np.float64)
        return
    if holder == "vector":
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise ValueError(f"vector holder: expected a 1-D array, got shape {arr.shape}")
        w.write_vector(arr, double=arr.dtype == np.float64)
        return
    if holder == "int":
        w.write_int(value)
        if not w.binary:
            f.write(b"\n")
        return
    if holder == "float":
        w.write_float(value)
        if not w.binary:
            f.write(b"\n")
        return
    if holder == "int_vector":
        arr = np.asarray(value, dtype=np.int64)
        if w.binary:
            w.write_int(len(arr))
            f.write(_int_array_bytes(arr))
        else:
            f.write(("".join(f"{int(x)} " for x in arr) + "\n").encode())
        return
    if holder == "int_vector_vector":
        if w.binary:
            w.write_int(len(value))
            for inner in value:
                w.write_int(len(inner))
                f.write(_int_array_bytes(np.asarray(inner)))
        else:
            f.write(("".join("".join(f"{int(x)} " for x in inner) + "; " for inner in value) + "\n").encode())
        return
    if holder == "posterior":
        if w.binary:
            w.write_int(len(value))
            for frame in value:
                out = np.empty(len(frame), dtype=_POST_PAIR)
                out["s1"], out["s2"] = 4, 4
                if len(frame):
                    ids, weights = zip(*frame)
                    out["id"], out["weight"] = ids, weights
                w.write_int(len(frame))
                f.write(out.tobytes())
        else:
            parts = ["[ " + "".join(f"{int(i)} {float(p):.7g} " for i, p in frame) + "]" for frame in value]
            f.write((" ".join(parts) + " \n").encode())
        return
    raise ValueError(f"unknown holder '{holder}' for writing")


# ----------------------------------------------------------------------------------------------------------
# scp entries

_RANGE = re.compile(r"^(.*)\[([^\[\]]*)\]\s*$")


def _parse_range(text: str, entry: str) -> tuple[slice, slice]:
    parts = text.split(",")
    if len(parts) > 2:
        raise SpecifierError(f"bad range '[{text}]' in scp entry '{entry}'")

    def one(p: str) -> slice:
        p = p.strip()
        if p in ("", ":"):
            return slice(None)
        a, sep, b = p.partition(":")
        if not sep:
            raise SpecifierError(f"bad range '[{text}]' in scp entry '{entry}'")
        return slice(int(a), int(b) + 1)

    rows = one(parts[0])
    cols = one(parts[1]) if len(parts) == 2 else slice(None)
    return rows, cols


class _ScpLoader:
    """Loads scp entries, keeping a few archive files open for seeks."""

    def __init__(self, holder: str, max_open: int = 32) -> None:
        self.holder = holder
        self.max_open = max_open
        self._files: OrderedDict[str, BinaryIO] = OrderedDict()

    def load(self, key: str, entry: str) -> Any:
        spec, ranges = entry.strip(), None
        m = _RANGE.match(spec)
        if m and not spec.endswith("|"):
            spec, ranges = m.group(1), _parse_range(m.group(2), entry)
        path, offset = split_offset(spec)
        try:
            if offset is not None:
                f = self._file(path)
                f.seek(offset)
                value = read_object(KaldiReader(f, name=path), self.holder)
            else:
                with open_rxfilename(spec) as f:
                    value = read_object(KaldiReader(f, name=spec), self.holder)
        except (KaldiIOError, OSError) as e:
            raise KaldiIOError(f"cannot read '{key}' from scp entry '{entry}': {e}") from None
        if ranges is not None:
            value = np.asarray(value)
            if value.ndim != 2:
                raise KaldiFormatError(f"range given for '{key}' ({entry}) but the object is not a matrix")
            rows, cols = ranges
            if (rows.stop is not None and rows.stop > value.shape[0]) or (cols.stop is not None and cols.stop > value.shape[1]):
                raise KaldiFormatError(f"range in scp entry '{entry}' exceeds the matrix size {value.shape}")
            value = np.ascontiguousarray(value[rows, cols])
        return value

    def _file(self, path: str) -> BinaryIO:
        f = self._files.get(path)
        if f is None:
            try:
                f = open(path, "rb")
            except OSError as e:
                raise KaldiIOError(f"cannot open {path}: {e.strerror}") from None
            self._files[path] = f
            if len(self._files) > self.max_open:
                _, old = self._files.popitem(last=False)
                old.close()
        else:
            self._files.move_to_end(path)
        return f

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()


def _read_scp_lines(path: str) -> Iterator[tuple[str, str]]:
    with open_rxfilename(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.decode("utf-8").strip()
            if not line:
                continue
            key, _, value = line.partition(" ")
            if not value.strip():
                raise KaldiFormatError(f"{path}:{lineno}: scp line '{line}' has no filename")
            yield key, value.strip()


# ----------------------------------------------------------------------------------------------------------
# readers and writers


def _check_read(rspecifier: str, holder: str, key: str, value: Any, entry: str | None = None) -> Any:
    """``value`` if it holds only finite numbers, else :class:`NonFiniteError` naming the table, key and place."""
    where = nonfinite_in(holder, value)
    if where:
        source = f"{rspecifier} ({entry})" if entry else rspecifier
        raise NonFiniteError(f"{source}: key '{key}': non-finite input refused: {where}")
    return value


class SequentialReader:
    """Iterates ``(key, value)`` over an rspecifier. With ``finite=True`` a value holding NaN or ±inf is a
    :class:`NonFiniteError` naming the table, the key and where (for readers feeding accumulations)."""

    def __init__(self, rspecifier: str, holder: str = "matrix", finite: bool = False) -> None:
        if holder not in HOLDERS:
            raise ValueError(f"unknown holder '{holder}' (one of {', '.join(HOLDERS)})")
        self.spec = parse_rspecifier(rspecifier)
        self.rspecifier = rspecifier
        self.holder = holder
        self.finite = finite
        self._stack = contextlib.ExitStack()

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        if self.spec.kind == "scp":
            loader = _ScpLoader(self.holder)
            try:
                for key, entry in _read_scp_lines(self.spec.path):
                    value = loader.load(key, entry)
                    if self.finite:
                        _check_read(self.rspecifier, self.holder, key, value, entry)
                    yield key, value
            finally:
                loader.close()
            return
        with open_rxfilename(self.spec.path) as f:
            r = KaldiReader(f, detect_header=False, name=self.spec.path)
            while True:
                key = r.read_key()
                if key is None:
                    return
                r.read_binary_header()
                try:
                    value = read_object(r, self.holder)
                except KaldiFormatError as e:
                    raise KaldiFormatError(f"{self.rspecifier}: entry '{key}': {e}") from None
                if self.finite:
                    _check_read(self.rspecifier, self.holder, key, value)
                yield key, value

    def __enter__(self) -> "SequentialReader":
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()


class RandomReader:
    """Random access by key: scp entries load lazily, archives are read into memory once. ``finite=True``: as
    :class:`SequentialReader` (a value with NaN or ±inf is an error when it is read)."""

    def __init__(self, rspecifier: str, holder: str = "matrix", finite: bool = False) -> None:
        self.spec = parse_rspecifier(rspecifier)
        self.rspecifier = rspecifier
        self.holder = holder
        self.finite = finite
        self._loader: _ScpLoader | None = None
        if self.spec.kind == "scp":
            self._entries = dict(_read_scp_lines(self.spec.path))
            self._loader = _ScpLoader(holder)
            self._values: dict[str, Any] = {}
        else:
            self._values = dict(SequentialReader(rspecifier, holder, finite=finite))
            self._entries = {}

    def __contains__(self, key: str) -> bool:
        return key in self._values or key in self._entries

    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        if key in self._entries and self._loader is not None:
            value = self._loader.load(key, self._entries[key])
            if self.finite:
                _check_read(self.rspecifier, self.holder, key, value, self._entries[key])
            return value
        raise KeyError(f"key '{key}' not found in {self.rspecifier}")

    def keys(self) -> list[str]:
        return list(self._entries) if self.spec.kind == "scp" else list(self._values)

    def __len__(self) -> int:
        return len(self.keys())

    def close(self) -> None:
        if self._loader is not None:
            self._loader.close()

    def __enter__(self) -> "RandomReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_table(rspecifier: str, holder: str = "matrix") -> dict[str, Any]:
    """The whole table as a dict (insertion order = table order)."""
    return dict(SequentialReader(rspecifier, holder))


class TableWriter:
    """Writes ``key value`` entries to a wspecifier. Archive and scp files are written atomically: they appear
    (both) only when the writer is closed without an exception; on an exception the temporary files are removed.

    A value holding NaN or ±inf is refused: :meth:`write` raises :class:`NonFiniteError` naming the wspecifier,
    the key and the first bad value, before writing anything of that entry, so the table stays valid and a
    caller that skips bad utterances can catch it and go on. ``allow_neg_inf``: the table holds logarithms
    (log-likelihoods, log-posteriors) and may hold -inf (a zero probability); never in compressed matrices,
    whose range cannot include it. NaN and +inf are always refused.
    """

    def __init__(self, wspecifier: str, holder: str = "matrix", compress: bool = False,
                 allow_neg_inf: bool = False) -> None:
        if holder not in HOLDERS or holder == "auto":
            raise ValueError(f"cannot write holder '{holder}'")
        self.spec = parse_wspecifier(wspecifier)
        self.wspecifier = wspecifier
        self.holder = holder
        self.compress = compress
        self.allow_neg_inf = allow_neg_inf and not (compress and holder == "matrix")
        self._stack = contextlib.ExitStack()
        ark = self.spec.ark or "-"
        if self.spec.scp is not None:
            self._ark = self._stack.enter_context(atomic_open(ark, "wb"))
            self._scp = self._stack.enter_context(atomic_open(self.spec.scp, "w"))
        else:
            self._ark = self._stack.enter_context(open_wxfilename(ark))
            self._scp = None
        self._writer = KaldiWriter(self._ark, binary=not self.spec.text, write_header=False, name=wspecifier,
                                   check_finite=False)
        self._closed = False
        self.num_written = 0

    def write(self, key: str, value: Any) -> None:
        if not key or any(c.isspace() for c in key):
            raise ValueError(f"{self.wspecifier}: invalid key '{key}' (empty or containing whitespace)")
        where = nonfinite_in(self.holder, value, self.allow_neg_inf)
        if where:
            raise NonFiniteError(f"{self.wspecifier}: key '{key}': refusing to write non-finite values: {where}")
        self._ark.write(key.encode() + b" ")
        if self._scp is not None:
            self._scp.write(f"{key} {self.spec.ark}:{self._ark.tell()}\n")
        write_object(self._writer, self.holder, value, self.compress)
        self.num_written += 1

    __setitem__ = write

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._stack.close()

    def abort(self, exc: BaseException | None = None) -> None:
        """Discards what was written (temporary files removed)."""
        if not self._closed:
            self._closed = True
            error = exc or RuntimeError("table writer aborted")
            with contextlib.suppress(BaseException):
                self._stack.__exit__(type(error), error, error.__traceback__)

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
        else:
            self.abort(exc)
