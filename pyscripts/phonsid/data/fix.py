"""Repairing a data directory like Kaldi's ``utils/fix_data_dir.sh``: sort, de-duplicate, and keep only the
utterances, speakers and recordings that every file agrees on.

Steps (Kaldi's, in its order):

1. every known table is sorted in C order with one line per key (the first line of a repeated key wins, as
   ``sort -k1,1 -u`` keeps it); the originals are copied to ``<data>/.backup/`` first;
2. recordings: with ``segments``, only segments whose recording is in wav.scp are kept, and wav.scp,
   reco2file_and_channel and reco2dur keep only recordings some segment uses;
3. speakers: speakers missing from cmvn.scp or spk2gender (when those exist) are dropped with their utterances;
4. utterances: an utterance is kept only if it is in utt2spk and in every utterance-indexed file present;
5. speakers and recordings again (a speaker or recording left without utterances disappears), and spk2utt is
   written from utt2spk.

One deliberate difference from Kaldi: in step 4 Kaldi intersects only feats.scp, text, segments, utt2lang and
(without segments) wav.scp, and merely filters vad.scp, utt2dur, utt2num_frames and utt2uniq, which can leave a
directory that validate_data_dir.sh rejects (an utterance with features but no VAD). Here every
utterance-indexed file that validation requires to match utt2spk takes part in the intersection, so the output
always has consistent key sets.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable

from phonsid.data.datadir import (
    KNOWN_FILES,
    RECO_FILES,
    SPK_FILES,
    UTT_FILES,
    DataDir,
    Line,
    backup_files,
    filter_lines,
    read_lines,
    recordings_of,
    sort_unique,
    spk2utt_lines_from_utt2spk,
    write_lines,
)
from phonsid.data.kaldi_map import DataDirError

# Utterance-indexed files whose entries define which utterances survive (wav.scp joins them without segments).
RESTRICTING_UTT_FILES = ("feats.scp", "text", "segments", "utt2lang", "vad.scp", "utt2dur", "utt2num_frames",
                         "utt2uniq", "utt2warp")
# Speaker-indexed files whose entries define which speakers survive (Kaldi's choice).
RESTRICTING_SPK_FILES = ("cmvn.scp", "spk2gender")


@dataclasses.dataclass
class FixReport:
    """What fix_data_dir changed.

    ``kept_utts`` of ``total_utts`` utterances were kept; ``missing_from[file]`` counts the utterances of utt2spk
    that had no entry in that file (the reasons utterances were dropped; one utterance can miss several files);
    ``removed_lines[file]`` is how many lines each file lost (duplicates included); ``duplicates[file]`` the
    repeated keys dropped while sorting; ``sorted_files`` the files that were unsorted or had duplicates;
    ``dropped_utts`` the utterance ids removed; ``backup`` where the originals are.
    """

    data: Path
    total_utts: int = 0
    kept_utts: int = 0
    dropped_utts: list[str] = dataclasses.field(default_factory=list)
    missing_from: dict[str, int] = dataclasses.field(default_factory=dict)
    removed_lines: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    duplicates: dict[str, int] = dataclasses.field(default_factory=dict)
    malformed: dict[str, int] = dataclasses.field(default_factory=dict)
    sorted_files: list[str] = dataclasses.field(default_factory=list)
    written_files: list[str] = dataclasses.field(default_factory=list)
    backup: Path | None = None

    def messages(self, prog: str = "fix_data_dir.sh") -> list[str]:
        """Human-readable summary lines (what the CLI prints)."""
        out = []
        for name in self.sorted_files:
            dup = self.duplicates.get(name, 0)
            extra = f" ({dup} repeated key(s) dropped)" if dup else ""
            out.append(f"{prog}: file {self.data / name} is not in sorted order or not unique, sorting it{extra}")
        for name, n in self.malformed.items():
            out.append(f"{prog}: dropped {n} malformed line(s) of {self.data / name}")
        for name, n in self.missing_from.items():
            if n:
                out.append(f"{prog}: {n} utterance(s) of utt2spk have no entry in {name}")
        for name, (before, after) in self.removed_lines.items():
            out.append(f"{prog}: filtered {self.data / name} from {before} to {after} lines")
        if self.kept_utts != self.total_utts:
            out.append(f"{prog}: kept {self.kept_utts} utterances out of {self.total_utts} "
                       f"(dropped {self.total_utts - self.kept_utts})")
        else:
            out.append(f"{prog}: kept all {self.total_utts} utterances.")
        if self.backup is not None:
            out.append(f"{prog}: old files are kept in {self.backup}")
        return out


def _well_formed(name: str, ln: Line) -> bool:
    if name not in ("utt2spk", "segments"):
        return name == "text" or len(ln.text.split(None, 2)) >= 2
    n = len(ln.fields)
    if name == "utt2spk":
        return n == 2
    if name == "segments":
        return n == 4
    return n >= 2 or name == "text"  # an utterance with an empty transcript is allowed


def fix_data_dir(path: str | os.PathLike, *, utt_extra_files: Iterable[str] = (),
                 spk_extra_files: Iterable[str] = ()) -> FixReport:
    """Fixes a data dir in place (see the module docstring) and returns what was done.

    ``utt_extra_files`` / ``spk_extra_files``: more files (names inside the dir) indexed by utterance / speaker
    to sort and filter (Kaldi's ``--utt-extra-files`` / ``--spk-extra-files``); they are filtered, not used to
    decide which utterances survive. Raises DataDirError when utt2spk is missing, when no utterance would
    remain, or when utt2spk cannot be sorted by speaker and utterance at once; nothing is written then.
    """
    data = DataDir(path)
    data.require_dir()
    data.require("utt2spk")
    report = FixReport(data=data.path)
    utt_extra = [n for n in utt_extra_files if n and data.has(n)]
    spk_extra = [n for n in spk_extra_files if n and data.has(n)]
    names = [n for n in KNOWN_FILES if data.has(n)] + [n for n in utt_extra + spk_extra if n not in KNOWN_FILES]
    has_segments = data.has("segments")
    if has_segments and not data.has("wav.scp"):
        raise DataDirError(f"{data.file('segments')}: segments exists but there is no wav.scp")

    # 1. sort and de-duplicate (C order, first line of a key wins)
    tables: dict[str, list[Line]] = {}
    original: dict[str, list[Line]] = {}
    for name in names:
        lines = read_lines(data.file(name), blank="skip")
        original[name] = lines
        good = [ln for ln in lines if _well_formed(name, ln)]
        if len(good) != len(lines):
            report.malformed[name] = len(lines) - len(good)
        srt, dups = sort_unique(good)
        if dups or [ln.key for ln in good] != [ln.key for ln in srt]:
            report.sorted_files.append(name)
            if dups:
                report.duplicates[name] = dups
        tables[name] = srt

    utt_files = [n for n in UTT_FILES if n in tables and n != "utt2spk"] + utt_extra
    reco_files = [n for n in RECO_FILES if n in tables]
    if not has_segments:
        utt_files += reco_files
        reco_files = []
    spk_files = [n for n in SPK_FILES if n in tables and n != "spk2utt"] + spk_extra
    utt2spk = tables["utt2spk"]
    report.total_utts = len(utt2spk)

    # 2. recordings: segments must point into wav.scp
    def filter_recordings() -> None:
        if not has_segments:
            return
        wav_keys = {ln.key for ln in tables["wav.scp"]}
        tables["segments"] = [ln for ln in tables["segments"] if ln.fields[1] in wav_keys]
        used = recordings_of(tables["segments"])
        for name in reco_files:
            tables[name] = filter_lines(tables[name], used)

    # 3. speakers: those of utt2spk that the restricting speaker files know
    def filter_speakers() -> None:
        speakers = {ln.fields[1] for ln in tables["utt2spk"]}
        for name in RESTRICTING_SPK_FILES:
            if name in tables:
                speakers &= {ln.key for ln in tables[name]}
        tables["utt2spk"] = [ln for ln in tables["utt2spk"] if ln.fields[1] in speakers]
        for name in spk_files:
            tables[name] = filter_lines(tables[name], speakers)

    filter_recordings()
    filter_speakers()

    # utt2spk must be sortable by utterance and speaker at once (Kaldi refuses otherwise)
    prev = None
    for ln in tables["utt2spk"]:
        cur = (ln.fields[1].encode(), ln.text.encode())
        if prev is not None and cur < prev[0]:
            raise DataDirError(f"{data.file('utt2spk')}: utterance '{ln.key}' of speaker '{ln.fields[1]}' sorts "
                               f"before the previous line's speaker '{prev[1]}': utt2spk is not in sorted order "
                               f"when sorted first on speaker-id (fix this by making speaker-ids prefixes of "
                               f"utt-ids); nothing was changed")
        prev = (cur, ln.fields[1])

    # 4. utterances present everywhere
    utts = {ln.key for ln in tables["utt2spk"]}
    restricting = [n for n in utt_files if n in RESTRICTING_UTT_FILES or (not has_segments and n == "wav.scp")]
    for name in restricting:
        keys = {ln.key for ln in tables[name]}
        report.missing_from[name] = sum(1 for ln in utt2spk if ln.key not in keys)
        utts &= keys
    if not utts:
        raise DataDirError(f"{data.path}: no utterances would remain (utt2spk has {len(utt2spk)}; missing from: "
                           + ", ".join(f"{n} {c}" for n, c in report.missing_from.items() if c)
                           + "); not proceeding, nothing was changed")
    tables["utt2spk"] = filter_lines(tables["utt2spk"], utts)
    for name in utt_files:
        tables[name] = filter_lines(tables[name], utts)

    # 5. speakers and recordings again
    filter_speakers()
    filter_recordings()
    kept = {ln.key for ln in tables["utt2spk"]}
    report.kept_utts = len(kept)
    report.dropped_utts = [ln.key for ln in utt2spk if ln.key not in kept]
    tables["spk2utt"] = spk2utt_lines_from_utt2spk(tables["utt2spk"], path=data.file("utt2spk"))

    for name in names + (["spk2utt"] if "spk2utt" not in names else []):
        before = len(original.get(name, []))
        after = len(tables[name])
        if name in original and after != before:
            report.removed_lines[name] = (before, after)

    # write: back up the originals, then replace only the files whose bytes change
    report.backup = backup_files(data, names)
    for name in tables:
        if write_lines(data.file(name), tables[name], only_if_changed=True):
            report.written_files.append(name)
    return report
