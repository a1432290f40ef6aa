"""Splitting a data directory into N parts like Kaldi's ``utils/split_data.sh`` (and ``split_scp.pl``).

By speaker (default): speakers, in the order they first appear in utt2spk, are dealt to the parts in
contiguous blocks (speaker i goes to part ``i*N // S``), then the boundary speakers are moved between
neighbouring parts while that reduces the difference in their utterance counts, until nothing changes -- the
rule of Kaldi's ``split_scp.pl --utt2spk``, so the same data dir splits the same way. Every speaker is in one
part only; fewer speakers than parts is an error.

By utterance (``per_utt``): contiguous chunks of utt2spk, the first ``U mod N`` chunks one line longer; the
parts go to ``split<N>utt/`` instead of ``split<N>/``.

Each part gets utt2spk, spk2utt and every utterance-indexed file (lines kept verbatim, in the original order),
the speaker-indexed files of its speakers, and with ``segments`` the wav.scp / reco2file_and_channel / reco2dur
lines of the recordings its segments use. An existing split that is complete and not older than the data dir's
files is left alone (Kaldi's ``-ot`` test), so calling this from every step script is cheap.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

from phonsid.data.datadir import (
    KNOWN_FILES,
    RECO_FILES,
    SPK_FILES,
    UTT_FILES,
    DataDir,
    Line,
    spk2utt_lines_from_utt2spk,
    write_lines,
)
from phonsid.data.kaldi_map import DataDirError


def split_by_speaker(utt2spk: Sequence[tuple[str, str]], n: int) -> list[list[str]]:
    """Assigns speakers to ``n`` parts by Kaldi's split_scp.pl --utt2spk rule; returns the speakers of each part.

    ``utt2spk``: (utterance, speaker) pairs in file order.
    """
    order: list[str] = []
    count: dict[str, int] = {}
    for _, spk in utt2spk:
        if spk not in count:
            order.append(spk)
            count[spk] = 0
        count[spk] += 1
    num_spk = len(order)
    if n <= 0:
        raise DataDirError(f"invalid number of splits {n}")
    if num_spk < n:
        raise DataDirError(f"refusing to split data because the number of speakers {num_spk} is less than the "
                           f"number of splits {n} (use --per-utt, or fewer jobs)")
    parts: list[list[str]] = [[] for _ in range(n)]
    sizes = [0] * n
    for i, spk in enumerate(order):
        j = (i * n) // num_spk
        parts[j].append(spk)
        sizes[j] += count[spk]
    changed = True
    while changed:
        changed = False
        for j in range(n):
            if j < n - 1 and parts[j]:
                spk = parts[j][-1]
                c = count[spk]
                if abs((sizes[j + 1] + c) - (sizes[j] - c)) < abs(sizes[j + 1] - sizes[j]):
                    sizes[j + 1] += c
                    sizes[j] -= c
                    parts[j + 1].insert(0, parts[j].pop())
                    changed = True
            if j > 0 and parts[j]:
                spk = parts[j][0]
                c = count[spk]
                if abs((sizes[j] - c) - (sizes[j - 1] + c)) < abs(sizes[j] - sizes[j - 1]):
                    sizes[j - 1] += c
                    sizes[j] -= c
                    parts[j - 1].append(parts[j].pop(0))
                    changed = True
    for j, p in enumerate(parts, 1):
        if not p:
            raise DataDirError(f"split {j} of {n} would be empty (too many splits and too few speakers?)")
    return parts


def split_evenly(num_lines: int, n: int) -> list[range]:
    """Line ranges of Kaldi's plain split_scp.pl: equal chunks, the first ``num_lines % n`` one line longer."""
    if n <= 0:
        raise DataDirError(f"invalid number of splits {n}")
    per, rem = divmod(num_lines, n)
    if per < 1:
        raise DataDirError(f"cannot split {num_lines} lines into {n} parts: you are splitting into too many "
                           f"pieces (reduce the number of jobs)")
    out, start = [], 0
    for j in range(n):
        size = per + (1 if j < rem else 0)
        out.append(range(start, start + size))
        start += size
    return out


def split_dir_name(n: int, per_utt: bool = False) -> str:
    """``split<N>`` or ``split<N>utt``."""
    return f"split{n}utt" if per_utt else f"split{n}"


def _mtime(p: Path) -> int:
    return p.stat().st_mtime_ns


def split_is_current(data_dir: str | os.PathLike, n: int, per_utt: bool = False) -> bool:
    """True when all ``n`` parts exist and each of their files is at least as new as the data dir's file."""
    data = DataDir(data_dir)
    root = data.path / split_dir_name(n, per_utt)
    present = data.present(KNOWN_FILES)
    for j in range(1, n + 1):
        part = root / str(j)
        if not part.is_dir():
            return False
        for name in present:
            q = part / name
            if not q.is_file() or _mtime(q) < _mtime(data.file(name)):
                return False
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (parallel jobs may split the same dir at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def split_data(data_dir: str | os.PathLike, n: int, per_utt: bool = False, *, force: bool = False,
               warn: Callable[[str], None] | None = None) -> list[Path]:
    """Splits ``data_dir`` into ``<data_dir>/split<N>[utt]/{1..N}``; returns the part directories.

    Skipped when the split is already current (unless ``force``). ``warn`` receives Kaldi's warnings about
    feats.scp/text line counts that differ from utt2spk (suggesting fix_data_dir.sh).
    """
    data = DataDir(data_dir)
    data.require_dir()
    data.require("utt2spk")
    if n <= 0:
        raise DataDirError(f"invalid number of splits {n}")
    root = data.path / split_dir_name(n, per_utt)
    parts = [root / str(j) for j in range(1, n + 1)]
    if not force and split_is_current(data.path, n, per_utt):
        return parts
    with _locked(data.path / ".split_lock"):
        if not force and split_is_current(data.path, n, per_utt):
            return parts
        _do_split(data, n, per_utt, parts, warn)
    return parts


def _do_split(data: DataDir, n: int, per_utt: bool, parts: list[Path], warn: Callable[[str], None] | None) -> None:
    utt2spk = data.lines("utt2spk")
    for ln in utt2spk:
        if len(ln.fields) != 2:
            raise DataDirError(f"{data.file('utt2spk')}:{ln.lineno}: expected 'utterance speaker', "
                               f"got '{ln.text.strip()}'")
    if warn is not None:
        for name in ("feats.scp", "text"):
            if data.has(name) and len(data.lines(name)) != len(utt2spk):
                warn(f"warning: #lines of (utt2spk, {name}) is ({len(utt2spk)}, {len(data.lines(name))}); you can "
                     f"use utils/fix_data_dir.sh {data.path} to fix this")

    if per_utt:
        chunks = [utt2spk[r.start:r.stop] for r in split_evenly(len(utt2spk), n)]
    else:
        speaker_parts = split_by_speaker([(ln.key, ln.fields[1]) for ln in utt2spk], n)
        # each part keeps utt2spk's own line order (Kaldi's grouping by speaker is the same when utt2spk is
        # sorted by speaker too, and keeps the part sorted when it is not)
        part_of = {spk: j for j, sp in enumerate(speaker_parts) for spk in sp}
        chunks = [[] for _ in range(n)]
        for ln in utt2spk:
            chunks[part_of[ln.fields[1]]].append(ln)

    has_segments = data.has_segments
    utt_files = [f for f in UTT_FILES if f != "utt2spk" and data.has(f)]
    reco_files = [f for f in RECO_FILES if data.has(f)]
    if not has_segments:
        utt_files += reco_files
        reco_files = []
    spk_files = [f for f in SPK_FILES if f != "spk2utt" and data.has(f)]
    produced = {"utt2spk", "spk2utt", *utt_files, *reco_files, *spk_files}

    # one pass over each file: every line goes to the part(s) that own its key
    part_of_utt = {ln.key: j for j, chunk in enumerate(chunks) for ln in chunk}
    spk2utts = [spk2utt_lines_from_utt2spk(chunk, sort=False, path=data.file("utt2spk")) for chunk in chunks]
    parts_of_spk: dict[str, list[int]] = {}
    for j, lines in enumerate(spk2utts):
        for ln in lines:
            parts_of_spk.setdefault(ln.key, []).append(j)
    parts_of_reco: dict[str, list[int]] = {}
    if has_segments:
        for ln in data.lines("segments"):
            j = part_of_utt.get(ln.key)
            f = ln.fields
            if j is not None and len(f) > 1:
                owners = parts_of_reco.setdefault(f[1], [])
                if not owners or owners[-1] != j:
                    owners.append(j)

    def by_utt(lines: list[Line]) -> list[list[Line]]:
        out: list[list[Line]] = [[] for _ in range(n)]
        for ln in lines:
            j = part_of_utt.get(ln.key)
            if j is not None:
                out[j].append(ln)
        return out

    def by_owner(lines: list[Line], owners: dict[str, list[int]]) -> list[list[Line]]:
        out: list[list[Line]] = [[] for _ in range(n)]
        for ln in lines:
            for j in owners.get(ln.key, ()):
                if not out[j] or out[j][-1] is not ln:
                    out[j].append(ln)
        return out

    tables: dict[str, list[list[Line]]] = {"utt2spk": chunks, "spk2utt": spk2utts}
    for name in utt_files:
        tables[name] = by_utt(data.lines(name))
    for name in spk_files:
        tables[name] = by_owner(data.lines(name), parts_of_spk)
    for name in reco_files:
        tables[name] = by_owner(data.lines(name), parts_of_reco)
    for j, part in enumerate(parts):
        part.mkdir(parents=True, exist_ok=True)
        for name, split_lines in tables.items():
            write_lines(part / name, split_lines[j])
        for name in KNOWN_FILES:  # files the data dir no longer has must not linger in the split
            if name not in produced and (part / name).is_file():
                (part / name).unlink()
