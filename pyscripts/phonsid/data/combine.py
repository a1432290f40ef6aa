"""Combining data directories, like Kaldi's ``utils/combine_data.sh``.

A file is combined when every source has it (otherwise it is left out, with a note), except ``utt2uniq`` and
``segments``: if some sources have them, they are made for the others (``utt2uniq``: each utterance maps to
itself; ``segments``: one segment per recording from 0 to its duration, taken from utt2dur or from the audio).
The result is sorted in C order, spk2utt is rebuilt, and fix_data_dir runs on it (unless ``skip_fix``).

Unlike Kaldi (whose ``sort`` then ``fix_data_dir.sh`` silently keep one of two lines with the same key), an
utterance id present in two sources is an error naming both; a speaker- or recording-indexed key repeated with
an identical line (the same speaker or recording in two sources) is merged, with different lines an error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Iterable, Sequence

from phonsid.data.datadir import (
    RECO_FILES,
    SPK_FILES,
    DataDir,
    Line,
    spk2utt_lines_from_utt2spk,
    write_lines,
)
from phonsid.data.fix import FixReport, fix_data_dir
from phonsid.data.kaldi_map import DataDirError, c_sorted

# The files combined when every source has them (utt2uniq and segments are handled separately).
COMBINED_FILES = ("utt2spk", "utt2lang", "utt2dur", "utt2num_frames", "utt2warp", "reco2dur", "feats.scp", "text",
                  "cmvn.scp", "vad.scp", "reco2file_and_channel", "wav.scp", "spk2gender", "spk2warp")


def _merge(per_source: Sequence[tuple[Path, list[Line]]], *, shared_ok: bool) -> list[Line]:
    """Merges the lines of one file across sources, C-sorted; repeated keys as described in the module doc."""
    seen: dict[str, tuple[Path, Line]] = {}
    for path, lines in per_source:
        for ln in lines:
            if ln.key in seen:
                p0, l0 = seen[ln.key]
                if shared_ok and l0.text.split() == ln.text.split():
                    continue
                if p0 == path:
                    raise DataDirError(f"{path}:{ln.lineno}: duplicate key '{ln.key}' (also on line {l0.lineno})")
                kind = "key" if shared_ok else "utterance id"
                extra = "" if not shared_ok else " with a different value"
                raise DataDirError(f"{path}:{ln.lineno}: {kind} '{ln.key}' is also in {p0} (line {l0.lineno})"
                                   f"{extra}; combined data dirs must not share utterance ids (use "
                                   f"copy_data_dir.sh --utt-prefix/--utt-suffix to make them unique)")
            seen[ln.key] = (path, ln)
    return [seen[k][1] for k in c_sorted(seen)]


def _segments_for(src: DataDir) -> list[Line]:
    """Whole-recording segments for a source without segments (utt utt 0 duration)."""
    if src.has("utt2dur"):
        durs = {ln.key: ln.fields[1] for ln in src.lines("utt2dur")}
    else:
        from phonsid.data.durations import compute_utt2dur

        durs = compute_utt2dur(src.path)
    missing = [ln.key for ln in src.lines("utt2spk") if ln.key not in durs]
    if missing:
        raise DataDirError(f"{src.path}: cannot make segments: no duration for utterance '{missing[0]}' "
                           f"({len(missing)} missing)")
    return [Line(ln.lineno, ln.key, f"{ln.key} {ln.key} 0 {durs[ln.key]}") for ln in src.lines("utt2spk")]


def combine_data(dest: str | os.PathLike, sources: Sequence[str | os.PathLike], *,
                 extra_files: Iterable[str] = (), skip_fix: bool = False,
                 log: Callable[[str], None] | None = None) -> FixReport | None:
    """Combines ``sources`` into ``dest`` (which is removed first); returns fix_data_dir's report (None when
    ``skip_fix``). Raises DataDirError for a missing utt2spk, a destination that is one of the sources, or an
    utterance id found in two sources."""
    say = log or (lambda m: None)
    if not sources:
        raise DataDirError("no source data dirs given")
    srcs = [DataDir(s) for s in sources]
    out = Path(dest)
    for s in srcs:
        s.require_dir()
        s.require("utt2spk")
        if out.exists() and s.path.resolve() == out.resolve():
            raise DataDirError(f"{dest}: the destination is also a source; it would be deleted")
    resolved = [s.path.resolve() for s in srcs]
    for i, r in enumerate(resolved):
        if r in resolved[:i]:
            raise DataDirError(f"{srcs[i].path}: the same source data dir is given twice")
    extra = [f for f in extra_files if f and f != "utt2uniq"]
    tables: dict[str, list[Line]] = {}

    if any(s.has("utt2uniq") for s in srcs):
        per = [(s.file("utt2uniq"), s.lines("utt2uniq") if s.has("utt2uniq")
                else [Line(ln.lineno, ln.key, f"{ln.key} {ln.key}") for ln in s.lines("utt2spk")]) for s in srcs]
        tables["utt2uniq"] = _merge(per, shared_ok=False)
        say("combined utt2uniq")
    else:
        say("[info]: not combining utt2uniq as it does not exist")

    if any(s.has("segments") for s in srcs):
        per = []
        for s in srcs:
            if s.has("segments"):
                per.append((s.file("segments"), s.lines("segments")))
            else:
                say(f"[info]: will generate missing segments for {s.path}")
                per.append((s.file("segments"), _segments_for(s)))
        tables["segments"] = _merge(per, shared_ok=False)
        say("combined segments")
    else:
        say("[info]: not combining segments as it does not exist")

    with_segments = "segments" in tables
    for name in list(COMBINED_FILES) + [f for f in extra if f not in COMBINED_FILES]:
        have = [s.has(name) for s in srcs]
        if all(have):
            shared = name in SPK_FILES or (with_segments and name in RECO_FILES)
            tables[name] = _merge([(s.file(name), s.lines(name)) for s in srcs], shared_ok=shared)
            say(f"combined {name}")
        elif any(have):
            say(f"[info]: **not combining {name} as it does not exist everywhere**")

    # validate the merged utt2spk before touching dest
    for ln in tables["utt2spk"]:
        if len(ln.fields) != 2:
            raise DataDirError(f"utt2spk line for '{ln.key}' is malformed: '{ln.text.strip()}'")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, lines in tables.items():
        write_lines(out / name, lines)
    write_lines(out / "spk2utt", spk2utt_lines_from_utt2spk(tables["utt2spk"], sort=True))
    if skip_fix:
        return None
    return fix_data_dir(out, utt_extra_files=[f for f in extra if f in tables])
