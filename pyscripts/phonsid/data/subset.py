"""Subsets of a data directory, like Kaldi's ``utils/subset_data_dir.sh``.

Selections (one at a time, as in Kaldi):

* ``num_utt`` alone: ``num_utt`` utterances spread evenly over utt2spk by Kaldi's ``subset_scp.pl`` rule
  (recursive halving: half of the lines and half of the count to each side, the odd one to the second half);
* ``first`` / ``last``: the first / last ``num_utt`` lines of utt2spk;
* ``shortest``: the ``num_utt`` shortest utterances, by utt2num_frames, else feature length from feats.scp,
  else utt2dur (Kaldi: utt2num_frames or feats.scp), ties broken by the line's bytes (``sort -n -k2``);
* ``per_spk``: ``num_utt`` utterances of every speaker, evenly spaced in its spk2utt list (all of them when it
  has fewer), by Kaldi's rule;
* ``speakers``: whole speakers in a seeded random order until ``num_utt`` utterances are reached (Kaldi shuffles
  with perl's generator, so its choice is not reproduced; the rule is);
* ``utt_list`` / ``spk_list``: the utterances / speakers listed (first field of each line) that the source has.

Every file of the source is carried over, filtered to the selection: the utterance-indexed files, the speaker
files of the selected speakers, and wav.scp/reco2file_and_channel/reco2dur/stm of the recordings used.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable, Sequence

from phonsid.data.datadir import (
    KNOWN_FILES,
    RECO_FILES,
    SPK_FILES,
    UTT_FILES,
    VERBATIM_FILES,
    DataDir,
    Line,
    filter_lines,
    read_lines,
    recordings_of,
    spk2utt_lines_from_utt2spk,
    write_lines,
)
from phonsid.data.kaldi_map import DataDirError


def select_uniform(num_lines: int, n: int) -> list[int]:
    """Indices of ``n`` of ``num_lines`` lines spread evenly, by Kaldi's subset_scp.pl rule."""
    if n < 1:
        raise DataDirError(f"the number of utterances to select must be a positive integer, got {n}")
    if n > num_lines:
        raise DataDirError(f"cannot select {n} utterances out of {num_lines}: cannot subset to more utterances than "
                           f"you originally had")
    out: list[int] = []
    stack = [(0, num_lines, n)]
    while stack:  # depth-first, first half first: the same order as the recursion
        start, end, need = stack.pop()
        diff = end - start
        if diff == 1:
            if need > 0:
                out.append(start)
            continue
        half, half_need = diff // 2, need // 2
        stack.append((start + half, end, need - half_need))
        stack.append((start, start + half, half_need))
    return out


def select_per_speaker(utts: Sequence[str], n: int) -> list[str]:
    """Kaldi's --per-spk choice within one speaker: every ``skip``-th utterance, ``n`` of them (or all)."""
    skip = 1
    while n * (skip + 1) <= len(utts):
        skip += 1
    return list(utts[::skip][:n])


def _lengths(data: DataDir) -> tuple[str, dict[str, float]]:
    """Per-utterance lengths for --shortest: utt2num_frames, else feats.scp rows, else utt2dur."""
    if data.has("utt2num_frames"):
        return "utt2num_frames", {ln.key: float(ln.fields[1]) for ln in data.lines("utt2num_frames")}
    if data.has("feats.scp"):
        from phonsid.data.durations import feature_lengths

        return "feats.scp", {k: float(v) for k, v in feature_lengths(data.file("feats.scp")).items()}
    if data.has("utt2dur"):
        return "utt2dur", {ln.key: float(ln.fields[1]) for ln in data.lines("utt2dur")}
    raise DataDirError(f"{data.path}: --shortest needs utt2num_frames, feats.scp or utt2dur")


def _read_ids(path: str | os.PathLike) -> set[str]:
    return {ln.key for ln in read_lines(path, blank="skip")}


def subset_data_dir(src: str | os.PathLike, dest: str | os.PathLike, num_utt: int | None = None, *,
                    utt_list: str | os.PathLike | None = None, spk_list: str | os.PathLike | None = None,
                    first: bool = False, last: bool = False, shortest: bool = False, per_spk: bool = False,
                    speakers: bool = False, seed: int = 0, log: Callable[[str], None] | None = None) -> int:
    """Writes the selected subset of ``src`` to ``dest``; returns the number of utterances kept.

    Exactly one selection: ``num_utt`` (with at most one of first/last/shortest/per_spk/speakers), or
    ``utt_list``, or ``spk_list``. Raises DataDirError for a bad request or an empty selection.
    """
    data = DataDir(src)
    data.require_dir()
    data.require("utt2spk")
    out = Path(dest)
    if out.resolve() == data.path.resolve():
        raise DataDirError(f"{dest}: the destination must differ from the source directory")
    modes = [m for m, on in (("first", first), ("last", last), ("shortest", shortest), ("per_spk", per_spk),
                             ("speakers", speakers)) if on]
    lists = [x for x in (utt_list, spk_list) if x is not None]
    if len(modes) + len(lists) > 1:
        raise DataDirError("the selection options are exclusive: give only one of --utt-list, --spk-list, --first, "
                           "--last, --shortest, --per-spk, --speakers")
    if lists and num_utt is not None:
        raise DataDirError("--utt-list/--spk-list take no <num-utt>")
    if not lists and num_utt is None:
        raise DataDirError("give <num-utt>, --utt-list or --spk-list")

    utt2spk = data.lines("utt2spk")
    for ln in utt2spk:
        if len(ln.fields) != 2:
            raise DataDirError(f"{data.file('utt2spk')}:{ln.lineno}: expected 'utterance speaker', "
                               f"got '{ln.text.strip()}'")
    if num_utt is not None and num_utt > len(utt2spk):
        raise DataDirError(f"cannot subset to more utterances ({num_utt}) than you originally had ({len(utt2spk)})")
    if num_utt is not None and num_utt < 1:
        raise DataDirError(f"<num-utt> must be a positive integer, got {num_utt}")

    if spk_list is not None:
        wanted = _read_ids(spk_list)
        sel = [ln for ln in utt2spk if ln.fields[1] in wanted]
    elif utt_list is not None:
        wanted = _read_ids(utt_list)
        sel = [ln for ln in utt2spk if ln.key in wanted]
    elif per_spk:
        spk2utt = spk2utt_lines_from_utt2spk(utt2spk, sort=False) if not data.has("spk2utt") else data.lines("spk2utt")
        keep = {u for ln in spk2utt for u in select_per_speaker(ln.fields[1:], num_utt)}
        sel = [ln for ln in utt2spk if ln.key in keep]
    elif speakers:
        spk2utt = spk2utt_lines_from_utt2spk(utt2spk, sort=True)
        order = list(spk2utt)
        random.Random(seed).shuffle(order)
        chosen, total = set(), 0
        for ln in order:
            if total >= num_utt:
                break
            chosen.add(ln.key)
            total += len(ln.fields) - 1
        sel = [ln for ln in utt2spk if ln.fields[1] in chosen]
    elif shortest:
        source, lengths = _lengths(data)
        ranked = sorted(((lengths[ln.key], f"{ln.key} {lengths[ln.key]}".encode()) for ln in utt2spk
                         if ln.key in lengths))
        if len(ranked) < num_utt and log is not None:
            log(f"only {len(ranked)} utterances have a length in {source}")
        keep = {r[1].split(b" ", 1)[0].decode() for r in ranked[:num_utt]}
        sel = [ln for ln in utt2spk if ln.key in keep]
    elif first:
        sel = utt2spk[:num_utt]
    elif last:
        sel = utt2spk[len(utt2spk) - num_utt:]
    else:
        sel = [utt2spk[i] for i in select_uniform(len(utt2spk), num_utt)]
    if not sel:
        raise DataDirError(f"{data.path}: the selection is empty: no utterances to write to {dest}")

    write_selection(data, out, sel)
    if log is not None:
        log(f"reducing #utt from {len(utt2spk)} to {len(sel)}")
    return len(sel)


def write_selection(data: DataDir, out: Path, utt2spk: Sequence[Line]) -> None:
    """Writes ``out`` with the given utt2spk lines and every other file of ``data`` filtered to match."""
    out.mkdir(parents=True, exist_ok=True)
    utts = {ln.key for ln in utt2spk}
    speakers = {ln.fields[1] for ln in utt2spk}
    written = {"utt2spk", "spk2utt"}
    write_lines(out / "utt2spk", utt2spk)
    if data.has("spk2utt"):  # keep the source's order of utterances within each speaker
        spk2utt = []
        for ln in data.lines("spk2utt"):
            if ln.key in speakers:
                kept = [u for u in ln.fields[1:] if u in utts]
                if kept:
                    spk2utt.append(Line(ln.lineno, ln.key, f"{ln.key} {' '.join(kept)}"))
        if {ln.key for ln in spk2utt} != speakers or sum(len(ln.fields) - 1 for ln in spk2utt) != len(utts):
            spk2utt = spk2utt_lines_from_utt2spk(utt2spk, sort=False)  # source spk2utt was stale
    else:
        spk2utt = spk2utt_lines_from_utt2spk(utt2spk, sort=False)
    write_lines(out / "spk2utt", spk2utt)
    has_segments = data.has_segments
    for name in UTT_FILES + (() if has_segments else RECO_FILES):
        if name != "utt2spk" and data.has(name):
            write_lines(out / name, filter_lines(data.lines(name), utts))
            written.add(name)
    for name in SPK_FILES:
        if name != "spk2utt" and data.has(name):
            write_lines(out / name, filter_lines(data.lines(name), speakers))
            written.add(name)
    recos = recordings_of(filter_lines(data.lines("segments"), utts)) if has_segments else utts
    if has_segments:
        for name in RECO_FILES:
            if data.has(name):
                write_lines(out / name, filter_lines(data.lines(name), recos))
                written.add(name)
    for name in VERBATIM_FILES:
        if not data.has(name):
            continue
        if name == "stm":  # comment lines (;;) and the lines of the kept recordings
            lines = read_lines(data.file(name), blank="skip")
            write_lines(out / name, [ln for ln in lines if ln.text.startswith(";;") or ln.key in recos])
        else:
            write_lines(out / name, read_lines(data.file(name), blank="skip"))
        written.add(name)
    for name in KNOWN_FILES + VERBATIM_FILES:  # stale files of an earlier run would contradict the new ones
        if name not in written and (out / name).is_file():
            (out / name).unlink()
