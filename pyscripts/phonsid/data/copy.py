"""Copying a data directory with renamed utterances and speakers, like Kaldi's ``utils/copy_data_dir.sh``.

Utterance ids become ``utt_prefix + utt + utt_suffix`` in every utterance-indexed file (and inside utt2spk and
spk2utt), speaker ids ``spk_prefix + spk + spk_suffix`` in utt2spk, spk2utt and the speaker-indexed files.
Recording ids stay as they are: with ``segments``, wav.scp, reco2file_and_channel and reco2dur are copied
unchanged and only the first field of segments is renamed; without segments those files are indexed by
utterance and renamed like the others. ``utt2uniq`` maps each new utterance id to the original one (created
when the utterance ids change and the source has none; kept, with renamed keys, when it has one). Renaming can
change the C order (suffixes), so every file is re-sorted. Files in the destination that the source lacks are
moved to ``<dest>/.backup/``, and the result is validated.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from phonsid.data.datadir import (
    KNOWN_FILES,
    RECO_FILES,
    SPK_FILES,
    UTT_FILES,
    VERBATIM_FILES,
    DataDir,
    Line,
    read_lines,
    sort_unique,
    spk2utt_lines_from_utt2spk,
    write_lines,
)
from phonsid.data.kaldi_map import DataDirError
from phonsid.data.validate import validate_data_dir


def _rename(path: Path, lines: list[Line], mapping: dict[str, str], what: str) -> list[Line]:
    out = []
    for ln in lines:
        new = mapping.get(ln.key)
        if new is None:
            raise DataDirError(f"{path}:{ln.lineno}: {what} '{ln.key}' is not in utt2spk/spk2utt, so it cannot be "
                               f"renamed")
        rest = ln.text.lstrip()[len(ln.key):]
        out.append(Line(ln.lineno, new, new + rest))
    srt, dups = sort_unique(out)
    if dups:
        raise DataDirError(f"{path}: renaming made {dups} {what} ids collide")
    return srt


def copy_data_dir(src: str | os.PathLike, dest: str | os.PathLike, *, utt_prefix: str = "", utt_suffix: str = "",
                  spk_prefix: str = "", spk_suffix: str = "", validate: bool = True,
                  validate_opts: dict | None = None, log: Callable[[str], None] | None = None) -> None:
    """Copies ``src`` to ``dest`` renaming utterances and speakers (see the module doc), then validates ``dest``
    (with no_feats/no_text/no_wav for files the source lacks; ``validate_opts`` adds keyword options)."""
    data = DataDir(src)
    data.require_dir()
    data.require("utt2spk")
    out = Path(dest)
    if out.resolve() == data.path.resolve():
        raise DataDirError(f"{dest}: copy_data_dir needs <srcdir> and <destdir> to be different")
    for p in (utt_prefix, utt_suffix, spk_prefix, spk_suffix):
        if any(c.isspace() for c in p):
            raise DataDirError(f"prefix/suffix '{p}' contains whitespace")
    u_path = data.file("utt2spk")
    utt2spk = data.lines("utt2spk")
    for ln in utt2spk:
        if len(ln.fields) != 2:
            raise DataDirError(f"{u_path}:{ln.lineno}: expected 'utterance speaker', got '{ln.text.strip()}'")
    utt_map = {ln.key: f"{utt_prefix}{ln.key}{utt_suffix}" for ln in utt2spk}
    spk_map = {s: f"{spk_prefix}{s}{spk_suffix}" for s in {ln.fields[1] for ln in utt2spk}}
    if data.has("spk2utt"):
        for ln in data.lines("spk2utt"):
            spk_map.setdefault(ln.key, f"{spk_prefix}{ln.key}{spk_suffix}")

    out.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    new_utt2spk = [Line(ln.lineno, utt_map[ln.key], f"{utt_map[ln.key]} {spk_map[ln.fields[1]]}") for ln in utt2spk]
    new_utt2spk, dups = sort_unique(new_utt2spk)
    if dups:
        raise DataDirError(f"{u_path}: {dups} repeated utterance id(s)")
    write_lines(out / "utt2spk", new_utt2spk)
    write_lines(out / "spk2utt", spk2utt_lines_from_utt2spk(new_utt2spk, sort=True))
    written |= {"utt2spk", "spk2utt"}

    renames_utts = bool(utt_prefix or utt_suffix)
    if data.has("utt2uniq"):
        write_lines(out / "utt2uniq", _rename(data.file("utt2uniq"), data.lines("utt2uniq"), utt_map, "utterance"))
        written.add("utt2uniq")
    elif renames_utts:
        uniq = [Line(ln.lineno, utt_map[ln.key], f"{utt_map[ln.key]} {ln.key}") for ln in utt2spk]
        write_lines(out / "utt2uniq", sort_unique(uniq)[0])
        written.add("utt2uniq")

    has_segments = data.has_segments
    utt_files = [n for n in UTT_FILES if n not in ("utt2spk", "utt2uniq")] + ([] if has_segments else list(RECO_FILES))
    for name in utt_files:
        if data.has(name):
            write_lines(out / name, _rename(data.file(name), data.lines(name), utt_map, "utterance"))
            written.add(name)
    for name in SPK_FILES:
        if name != "spk2utt" and data.has(name):
            write_lines(out / name, _rename(data.file(name), data.lines(name), spk_map, "speaker"))
            written.add(name)
    copied = (list(RECO_FILES) if has_segments else []) + list(VERBATIM_FILES)
    for name in copied:
        if data.has(name):
            write_lines(out / name, read_lines(data.file(name), blank="skip"))
            written.add(name)
    for name in KNOWN_FILES + VERBATIM_FILES:
        if name not in written and (out / name).is_file():
            backup = out / ".backup"
            backup.mkdir(exist_ok=True)
            shutil.move(str(out / name), str(backup / name))
            if log is not None:
                log(f"file {name} exists in dest {out} but not in src {data.path}; moved it to {backup / name}")
    if log is not None:
        log(f"copied data from {data.path} to {out}")
    if validate:
        opts = dict(no_feats=not data.has("feats.scp"), no_text=not data.has("text"), no_wav=not data.has("wav.scp"))
        opts.update(validate_opts or {})
        for w in validate_data_dir(out, **opts):
            if log is not None:
                log(w)
