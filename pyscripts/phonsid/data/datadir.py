"""The files of a Kaldi data directory, what each is indexed by, and line-exact reading of them.

A data directory holds small text tables, one entry per line, first field the key:

* indexed by utterance: ``utt2spk``, ``text``, ``feats.scp``, ``vad.scp``, ``utt2dur``, ``utt2num_frames``,
  ``utt2lang``, ``utt2uniq``, ``utt2warp``, ``segments``; and, when there is no ``segments`` file,
  ``wav.scp``, ``reco2file_and_channel`` and ``reco2dur`` (recording = utterance);
* indexed by speaker: ``spk2utt``, ``cmvn.scp``, ``spk2gender``, ``spk2warp``;
* indexed by recording (only with ``segments``): ``wav.scp``, ``reco2file_and_channel``, ``reco2dur``.

Tools that filter or split tables keep the lines verbatim (as Kaldi's ``filter_scp.pl`` does), so the readers
here return each line's key, its full text and its line number; sorting is C-locale (byte) order of the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from phonsid.data.kaldi_map import DataDirError, c_sorted, utt2spk_to_spk2utt
from phonsid.io.atomic import atomic_copy, atomic_open

# Files indexed by utterance in every data dir (wav.scp and the reco2* files join them when there is no segments).
UTT_FILES = ("utt2spk", "text", "feats.scp", "vad.scp", "utt2dur", "utt2num_frames", "utt2lang", "utt2uniq",
             "utt2warp", "segments")
# Files indexed by speaker.
SPK_FILES = ("spk2utt", "cmvn.scp", "spk2gender", "spk2warp")
# Files indexed by recording when segments exists, else by utterance.
RECO_FILES = ("wav.scp", "reco2file_and_channel", "reco2dur")
# Every table the tools here know about, in the order they are processed.
KNOWN_FILES = UTT_FILES + SPK_FILES + RECO_FILES
# Plain files copied along unchanged by copy/subset when present.
VERBATIM_FILES = ("frame_shift", "stm", "glm", "ctm")


class Line(NamedTuple):
    """One non-blank line of a table: 1-based line number, first field, and the line without its newline."""

    lineno: int
    key: str
    text: str

    @property
    def fields(self) -> list[str]:
        return self.text.split()

    @property
    def value(self) -> str:
        """The rest of the line after the key (inner spacing kept, outer stripped)."""
        parts = self.text.strip().split(maxsplit=1)
        return parts[1] if len(parts) > 1 else ""


def _ckey(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def read_lines(path: str | os.PathLike, *, blank: str = "error", need_newline: bool = False) -> list[Line]:
    """All entries of a table with their line numbers.

    ``blank``: what a blank (empty or whitespace-only) line does: ``"error"`` raises DataDirError naming the
    file and line, ``"skip"`` drops it. ``need_newline``: a last line without a newline is an error (Kaldi's
    validate_data_dir.sh rejects it). Text that is not UTF-8 raises DataDirError naming the line.
    """
    with open(path, "rb") as f:
        raw = f.read()
    if need_newline and raw and not raw.endswith(b"\n"):
        last = raw.count(b"\n") + 1
        raise DataDirError(f"{path}:{last}: last line has no newline at the end")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        lineno = raw.count(b"\n", 0, e.start) + 1
        raise DataDirError(f"{path}:{lineno}: line is not valid UTF-8 ({e.reason})") from None
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()  # the empty piece after the final newline
    out: list[Line] = []
    append = out.append
    for lineno, line in enumerate(rows, 1):
        parts = line.split(None, 1)
        if parts:
            append(Line(lineno, parts[0], line))
        elif blank == "error":
            raise DataDirError(f"{path}:{lineno}: empty line")
    return out


def check_sorted_unique(path: str | os.PathLike, lines: Sequence[Line]) -> None:
    """Raises DataDirError at the first key that is not strictly after the previous one in C order."""
    prev: Line | None = None
    prev_key = b""
    for ln in lines:
        k = _ckey(ln.key)
        if prev is not None and k <= prev_key:
            if k == prev_key:
                raise DataDirError(f"{path}:{ln.lineno}: duplicate key '{ln.key}' (also on line {prev.lineno})")
            raise DataDirError(
                f"{path}:{ln.lineno}: not sorted: key '{ln.key}' comes after '{prev.key}' (line {prev.lineno}); "
                f"Kaldi needs C-locale order (LC_ALL=C sort)")
        prev, prev_key = ln, k
    return None


def sort_unique(lines: Iterable[Line]) -> tuple[list[Line], int]:
    """Lines sorted by key in C order, keeping the first line of each key in input order (``sort -k1,1 -u``).

    Returns (lines, number of duplicate lines dropped).
    """
    seen: dict[str, Line] = {}
    dups = 0
    for ln in lines:
        if ln.key in seen:
            dups += 1
        else:
            seen[ln.key] = ln
    return [seen[k] for k in c_sorted(seen)], dups


def filter_lines(lines: Iterable[Line], keep: Callable[[str], bool] | set[str] | dict) -> list[Line]:
    """Lines whose key is in ``keep`` (a set/dict, or a predicate)."""
    if callable(keep):
        return [ln for ln in lines if keep(ln.key)]
    return [ln for ln in lines if ln.key in keep]


def render(lines: Iterable[Line]) -> str:
    """Lines back to file text (each ending in a newline)."""
    return "".join(ln.text + "\n" for ln in lines)


def write_lines(path: str | os.PathLike, lines: Iterable[Line], *, only_if_changed: bool = False) -> bool:
    """Writes lines atomically; with ``only_if_changed`` an identical file is left alone (its mtime too).

    Returns True when the file was written.
    """
    data = render(lines).encode("utf-8", "surrogateescape")
    if only_if_changed and os.path.isfile(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    write_bytes(path, data)
    return True


def _default_mode(path: str | os.PathLike) -> int:
    """The mode a replaced file keeps, or what a plain ``open(path, "w")`` would give under the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Atomic write (temp file, rename) that keeps ordinary file permissions (temp files are created 0600)."""
    mode = _default_mode(path)
    with atomic_open(path, "wb") as f:
        f.write(data)
        os.fchmod(f.fileno(), mode)


def write_text(path: str | os.PathLike, text: str) -> None:
    """``write_bytes`` for UTF-8 text."""
    write_bytes(path, text.encode("utf-8", "surrogateescape"))


def make_lines(table: dict[str, str] | Iterable[tuple[str, str]], *, sort: bool = True) -> list[Line]:
    """``key value`` pairs as Lines (C-sorted unless ``sort`` is False)."""
    items = list(table.items()) if isinstance(table, dict) else list(table)
    if sort:
        items.sort(key=lambda kv: _ckey(kv[0]))
    return [Line(i, k, f"{k} {v}" if v != "" else k) for i, (k, v) in enumerate(items, 1)]


def spk2utt_lines_from_utt2spk(utt2spk: Sequence[Line], *, sort: bool = True, path: str | os.PathLike = "utt2spk",
                               ) -> list[Line]:
    """spk2utt from utt2spk lines. With ``sort``, speakers and utterances in C order; without, in order of
    first appearance (what Kaldi's utt2spk_to_spk2utt.pl prints)."""
    def pairs() -> Iterator[tuple[str, str]]:
        for ln in utt2spk:
            f = ln.fields
            if len(f) != 2:
                raise DataDirError(f"{path}:{ln.lineno}: expected 'utterance speaker', got '{ln.text.strip()}'")
            yield f[0], f[1]

    spk2utts = utt2spk_to_spk2utt(pairs(), sort=sort)
    return [Line(i, spk, f"{spk} {' '.join(utts)}") for i, (spk, utts) in enumerate(spk2utts.items(), 1)]


def recordings_of(segments: Sequence[Line]) -> set[str]:
    """Recording ids (second field) used by segments lines."""
    return {f[1] for f in (ln.fields for ln in segments) if len(f) > 1}


class DataDir:
    """A data directory on disk: paths of its files and cached reads (``lines(name)``)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._cache: dict[str, list[Line]] = {}

    def __repr__(self) -> str:
        return f"DataDir({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    @property
    def has_segments(self) -> bool:
        return self.has("segments")

    def present(self, names: Iterable[str] = KNOWN_FILES) -> list[str]:
        return [n for n in names if self.has(n)]

    def lines(self, name: str, *, blank: str = "skip") -> list[Line]:
        """The entries of one file (cached; blank lines skipped unless ``blank='error'``)."""
        if name not in self._cache:
            self._cache[name] = read_lines(self.file(name), blank=blank)
        return self._cache[name]

    def utt_indexed(self) -> list[str]:
        """Files present that are indexed by utterance (wav.scp and reco2* included when there is no segments)."""
        names = list(UTT_FILES)
        if not self.has_segments:
            names += list(RECO_FILES)
        return self.present(names)

    def spk_indexed(self) -> list[str]:
        return self.present(SPK_FILES)

    def reco_indexed(self) -> list[str]:
        return self.present(RECO_FILES) if self.has_segments else []

    def require(self, name: str) -> Path:
        p = self.file(name)
        if not p.is_file():
            raise DataDirError(f"{p}: no such file")
        return p

    def require_dir(self) -> None:
        if not self.path.is_dir():
            raise DataDirError(f"{self.path}: no such directory")


def backup_files(data: DataDir, names: Iterable[str]) -> Path:
    """Copies the named files (those present) to ``<data>/.backup/`` (like Kaldi's fix_data_dir.sh), each
    atomically: a copy that fails (a full disk) is a DataDirError and leaves no partial backup."""
    backup = data.path / ".backup"
    backup.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = data.file(name)
        if src.is_file():
            try:
                atomic_copy(src, backup / name)
            except OSError as e:
                raise DataDirError(f"cannot back up {src} to {backup / name}: {e.strerror or e}") from None
    return backup
