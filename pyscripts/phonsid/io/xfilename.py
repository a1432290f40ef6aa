"""Kaldi extended filenames: ``-`` (stdin/stdout), ``cmd |`` (input pipe), ``| cmd`` (output pipe),
``path:offset`` (input at a byte offset, as scp entries point into arks) and plain paths.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from typing import BinaryIO, Iterator

from phonsid.io.atomic import atomic_open

_OFFSET = re.compile(r"^(.*):(\d+)$")


class KaldiIOError(IOError):
    """Reading or writing a Kaldi file, pipe or table failed; the message names it."""


def split_offset(rxfilename: str) -> tuple[str, int | None]:
    """``a.ark:123`` → (``a.ark``, 123); anything else → (rxfilename, None)."""
    m = _OFFSET.match(rxfilename)
    if m and not rxfilename.rstrip().endswith("|"):
        return m.group(1), int(m.group(2))
    return rxfilename, None


class _PipeReader(io.RawIOBase):
    """stdout of a shell command as a readable stream; closing it checks the exit status."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self._out = self.proc.stdout

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        return self._out.readinto(b)

    def close(self) -> None:
        if self.closed:
            return
        self._out.close()
        status = self.proc.wait()
        super().close()
        if status != 0:
            raise KaldiIOError(f"command '{self.command}' exited with status {status}")


@contextlib.contextmanager
def open_rxfilename(rxfilename: str) -> Iterator[BinaryIO]:
    """Opens a Kaldi rxfilename for binary reading (positioned at the offset when one is given)."""
    spec = rxfilename.strip()
    if spec in ("-", ""):
        yield sys.stdin.buffer
        return
    if spec.endswith("|"):
        raw = _PipeReader(spec[:-1])
        reader = io.BufferedReader(raw, buffer_size=1 << 16)
        try:
            yield reader  # type: ignore[misc]
        finally:
            reader.close()
        return
    path, offset = split_offset(spec)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise KaldiIOError(f"cannot open {path} for reading: {e.strerror}") from None
    with f:
        if offset is not None:
            f.seek(offset)
        yield f


class _PipeWriter(io.RawIOBase):
    """stdin of a shell command as a writable stream; closing it waits and checks the exit status."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE)
        assert self.proc.stdin is not None
        self._in = self.proc.stdin

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self._in.write(b)
        return len(b)

    def close(self) -> None:
        if self.closed:
            return
        self._in.close()
        status = self.proc.wait()
        super().close()
        if status != 0:
            raise KaldiIOError(f"command '{self.command}' exited with status {status}")


@contextlib.contextmanager
def open_wxfilename(wxfilename: str) -> Iterator[BinaryIO]:
    """Opens a Kaldi wxfilename for binary writing; plain paths are written atomically (temp + rename)."""
    spec = wxfilename.strip()
    if spec in ("-", ""):
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    if spec.startswith("|"):
        writer = io.BufferedWriter(_PipeWriter(spec[1:]), buffer_size=1 << 16)
        try:
            yield writer  # type: ignore[misc]
        finally:
            writer.close()
        return
    with atomic_open(spec, "wb") as f:
        yield f
