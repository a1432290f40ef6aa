"""Writing score lines, optionally in a forked helper process so that formatting overlaps reading and scoring.

Formatting millions of ``<key1> <key2> <score>`` lines costs about as much CPU as parsing the trial list and
scoring it; with two cores the two halves can run side by side. :class:`ScoreWriter` formats a block in this
process, or — once the list is known to be long (``start_at_block``: from the first block of a large file,
from the second of a stream), when the output has a file descriptor and there is more than one CPU — hands
the raw trial bytes and the scores to a forked child that formats and writes them, in order, through the
same (already opened, atomically renamed) output file. The pipe between the two holds at most a block or
so, so memory stays bounded. Errors in the child come back as exceptions in the parent. Each block is formatted by one C-level ``bytes %`` operation (scores as ``%.7g``, Kaldi's text
precision, with correctly rounded digits like C's printf), not a Python loop per line.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from typing import BinaryIO

import numpy as np

from phonsid.backend.checks import BackendError

_HEADER = struct.Struct("<qqqq")  # kind (1 block, 0 end), data bytes, rows (-1: all lines), canonical
_FORMATS: dict[tuple[int, int, int], bytes] = {}


def _line_format(n: int, fields: int, precision: int) -> bytes:
    key = (n, fields, precision)
    fmt = _FORMATS.get(key)
    if fmt is None:
        if len(_FORMATS) > 16:
            _FORMATS.clear()
        fmt = _FORMATS.setdefault(key, (b"%s " * fields + b"%%.%dg\n" % precision) * n)
    return fmt


def format_block(
    data: bytes, canonical: bool, rows: np.ndarray | None, scores: np.ndarray, precision: int = 7
) -> bytes:
    """Score lines for a block of trial lines (``data``), for all lines or the selected ``rows``.

    ``canonical`` blocks have every line exactly ``<key1> <key2>`` (one space), so a line is the key part of its
    output as it stands; otherwise the keys are re-joined with one space.
    """
    values = np.asarray(scores, dtype=np.float64).tolist()
    n = len(values)
    if n == 0:
        return b""
    args: list = [None] * ((2 if canonical else 3) * n)
    if canonical:
        lines = data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        if rows is not None:
            lines = [lines[i] for i in rows.tolist()]
        args[0::2] = lines
        args[1::2] = values
        return _line_format(n, 1, precision) % tuple(args)
    tokens = data.split()
    k1, k2 = tokens[0::2], tokens[1::2]
    if rows is not None:
        idx = rows.tolist()
        k1 = [k1[i] for i in idx]
        k2 = [k2[i] for i in idx]
    args[0::3] = k1
    args[1::3] = k2
    args[2::3] = values
    return _line_format(n, 2, precision) % tuple(args)


def _read_exact(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise EOFError("score writer: the scoring process went away")
    return data


def _child_main(read_fd: int, status_fd: int, out_fd: int, precision: int) -> None:
    """The helper process: format and write blocks until told to stop; report errors on ``status_fd``."""
    code = 1
    try:
        src = os.fdopen(read_fd, "rb", buffering=1 << 20)
        out = os.fdopen(out_fd, "wb", buffering=1 << 20, closefd=False)
        while True:
            kind, ndata, nrows, canonical = _HEADER.unpack(_read_exact(src, _HEADER.size))
            if kind == 0:
                out.flush()
                code = 0
                break
            data = _read_exact(src, ndata)
            rows = None
            if nrows >= 0:
                rows = np.frombuffer(_read_exact(src, 8 * nrows), dtype="<i8")
            nscores = struct.unpack("<q", _read_exact(src, 8))[0]
            scores = np.frombuffer(_read_exact(src, 4 * nscores), dtype="<f4")
            out.write(format_block(data, bool(canonical), rows, scores, precision))
    except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
        try:
            os.write(status_fd, f"{type(e).__name__}: {e}".encode()[:4000])
        except OSError:
            pass
    finally:
        os._exit(code)


class ScoreWriter:
    """Writes score lines to ``out`` (an open binary file), in a helper process when worthwhile."""

    def __init__(self, out: BinaryIO, precision: int = 7, parallel: bool | None = None, start_at_block: int = 2):
        self.out = out
        self.start_at_block = start_at_block
        self.precision = precision
        self.parallel = parallel
        self.blocks = 0
        self._pid: int | None = None
        self._pipe: BinaryIO | None = None
        self._status_fd: int | None = None

    def _can_fork(self) -> bool:
        if self.parallel is False or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
            return False
        try:
            self.out.fileno()
        except (OSError, AttributeError, io.UnsupportedOperation):
            return False
        return True

    def _start(self) -> None:
        self.out.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        read_fd, write_fd = os.pipe()
        status_r, status_w = os.pipe()
        out_fd = self.out.fileno()
        pid = os.fork()
        if pid == 0:  # child
            os.close(write_fd)
            os.close(status_r)
            _child_main(read_fd, status_w, out_fd, self.precision)
        os.close(read_fd)
        os.close(status_w)
        self._pid = pid
        self._pipe = os.fdopen(write_fd, "wb", buffering=1 << 16)
        self._status_fd = status_r

    def write(self, data: bytes, canonical: bool, rows: np.ndarray | None, scores: np.ndarray) -> None:
        """Writes the lines of one block (``rows`` None: all of its lines)."""
        self.blocks += 1
        if (self._pid is None and self.blocks == self.start_at_block and (self.parallel or self.parallel is None)
                and self._can_fork()):
            self._start()
        if self._pid is None:
            self.out.write(format_block(data, canonical, rows, scores, self.precision))
            return
        assert self._pipe is not None
        scores32 = np.ascontiguousarray(scores, dtype="<f4")
        try:
            self._pipe.write(_HEADER.pack(1, len(data), -1 if rows is None else len(rows), int(canonical)))
            self._pipe.write(data)
            if rows is not None:
                self._pipe.write(np.ascontiguousarray(rows, dtype="<i8").tobytes())
            self._pipe.write(struct.pack("<q", len(scores32)))
            self._pipe.write(scores32.tobytes())
        except BrokenPipeError:
            self._finish(ok=False)

    def _finish(self, ok: bool) -> None:
        if self._pid is None:
            return
        pid, self._pid = self._pid, None
        assert self._pipe is not None and self._status_fd is not None
        try:
            if ok:
                self._pipe.write(_HEADER.pack(0, 0, 0, 0))
            self._pipe.close()
        except OSError:
            pass
        _, status = os.waitpid(pid, 0)
        message = b""
        while True:
            chunk = os.read(self._status_fd, 4096)
            if not chunk:
                break
            message += chunk
        os.close(self._status_fd)
        if ok and (status != 0 or message):
            raise BackendError(f"writing the scores failed: {message.decode(errors='replace') or f'status {status}'}")

    def close(self) -> None:
        """Waits for the helper (if any) to write everything; raises if it failed."""
        self._finish(ok=True)

    def abort(self) -> None:
        """Stops the helper without completing the output (the caller discards the file)."""
        self._finish(ok=False)
