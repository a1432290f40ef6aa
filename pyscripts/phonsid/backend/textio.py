"""Fast text I/O for trial lists and score files (millions of lines, streamed in blocks).

Trial lists (``<key1> <key2>`` per line) are read in blocks of bytes, split with C-speed ``bytes.split`` and
checked with numpy (every line must have exactly two fields, as Kaldi's ``ivector-plda-scoring`` demands).
Score lines are written by :mod:`phonsid.backend.score_writer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator

import numpy as np

from phonsid.backend.checks import BackendError

# ASCII whitespace as bytes.split() sees it: space, \t, \n, \v, \f, \r
_WS_LUT = np.zeros(256, dtype=bool)
_WS_LUT[[9, 10, 11, 12, 13, 32]] = True


def format_scores(values, precision: int = 7) -> list[str]:
    """``'%.{precision}g'`` of each value (Kaldi's text precision is 7)."""
    return ["%.*g" % (precision, v) for v in np.asarray(values, dtype=np.float64).tolist()]


@dataclass
class PairBlock:
    """A block of two-field lines: the raw bytes and the keys of each line."""

    data: bytes
    key1: list[bytes]
    key2: list[bytes]
    first_line: int  # 1-based number of the block's first line in the file
    canonical: bool  # every line is exactly "<key1> <key2>" (one space, nothing else)

    def __len__(self) -> int:
        return len(self.key1)


def _token_starts(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Offsets where whitespace-separated tokens start (as ``bytes.split()`` finds them), and the number of
    whitespace bytes."""
    word = ~_WS_LUT[arr]
    starts = np.flatnonzero(word[1:] & ~word[:-1]) + 1
    if len(word) and word[0]:
        starts = np.concatenate(([0], starts))
    return starts, len(word) - int(np.count_nonzero(word))


def check_fields(
    data: bytes, nfields: int, source: str, first_line: int = 1, what: str = "line", expect: str = ""
) -> tuple[int, int]:
    """Checks that every line of ``data`` has ``nfields`` whitespace-separated fields; returns the number of
    lines and of whitespace bytes.

    Raises :class:`BackendError` naming the file and line number of the first bad line (and how many there
    are).
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    num_lines = len(nl) + (1 if len(arr) and arr[-1] != 10 else 0)
    line_ends = np.concatenate([nl, [len(arr)]])[:num_lines] if num_lines else nl
    starts, num_ws = _token_starts(arr)
    if len(starts) == nfields * num_lines:
        # Tokens are in order and as many as needed: every line has exactly nfields of them iff the first and
        # last token of each line's share fall inside that line.
        if num_lines == 0:
            return 0, num_ws
        line_starts = np.concatenate(([0], line_ends[:-1] + 1))
        per_line = starts.reshape(num_lines, nfields)
        if (per_line[:, 0] >= line_starts).all() and (per_line[:, -1] < line_ends).all():
            return num_lines, num_ws
    line_of_tok = np.searchsorted(line_ends, starts)  # line index of each token
    counts = np.bincount(line_of_tok, minlength=num_lines) if num_lines else np.zeros(0, np.int64)
    bad = np.flatnonzero(counts != nfields)
    i = int(bad[0])
    line_start = 0 if i == 0 else int(line_ends[i - 1]) + 1
    text = data[line_start : int(line_ends[i])].decode("utf-8", "replace").rstrip("\r")
    more = f"; {bad.size} bad lines" if bad.size > 1 else ""
    raise BackendError(
        f"{source}:{first_line + i}: bad {what} (expected {nfields} fields{': ' + expect if expect else ''})"
        f": '{text}'{more}"
    )


def split_fields(data: bytes, nfields: int, source: str, first_line: int = 1, what: str = "line",
                 expect: str = "") -> list[list[bytes]]:
    """The fields of each line, as ``nfields`` lists (column-wise), after :func:`check_fields`."""
    check_fields(data, nfields, source, first_line, what, expect)
    tokens = data.split()
    return [tokens[i::nfields] for i in range(nfields)]


def _canonical_pairs(data: bytes) -> bool:
    """True when every line is exactly ``<key1> <key2>``: one space inside it, no other whitespace."""
    if any(c in data for c in (b"\t", b"\r", b"\v", b"\f")):
        return False
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    if len(arr) and arr[-1] != 10:
        nl = np.concatenate((nl, [len(arr)]))
    sp = np.flatnonzero(arr == 32)
    if len(sp) != len(nl):
        return False
    line_starts = np.concatenate(([0], nl[:-1] + 1))
    # one space per line (the spaces are sorted, as many as lines), with a key on either side
    return bool(((sp > line_starts) & (sp < nl - 1)).all())


def parse_pair_block(data: bytes, source: str, first_line: int = 1) -> PairBlock:
    """Parses complete lines (``data`` ends with a newline or is the file's tail) of ``<key1> <key2>``.

    Raises :class:`BackendError` naming the file and line of the first line that does not have two fields.
    """
    canonical = _canonical_pairs(data)
    if not canonical:
        check_fields(data, 2, source, first_line, "trials line", "<key1> <key2>")
    tokens = data.split()
    return PairBlock(data, tokens[0::2], tokens[1::2], first_line, canonical)


def iter_pair_blocks(f: BinaryIO, source: str, block_bytes: int = 4 << 20) -> Iterator[PairBlock]:
    """Reads a binary stream of two-field lines in blocks of whole lines."""
    rest = b""
    line_no = 1
    while True:
        chunk = f.read(block_bytes)
        if not chunk:
            break
        buf = rest + chunk
        cut = buf.rfind(b"\n")
        if cut < 0:
            rest = buf
            continue
        data, rest = buf[: cut + 1], buf[cut + 1 :]
        block = parse_pair_block(data, source, line_no)
        line_no += len(block)
        if len(block):
            yield block
    if rest:
        block = parse_pair_block(rest, source, line_no)
        if len(block):
            yield block
