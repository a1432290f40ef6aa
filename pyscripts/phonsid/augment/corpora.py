"""Preparation of the augmentation corpora from their published layouts: MUSAN and RIRS_NOISES.

MUSAN (openslr 17): ``music/<source>/*.wav`` with an ``ANNOTATIONS`` file per source (``utt genres vocals
musician``), ``speech/<source>/*.wav``, ``noise/<source>/*.wav``; 16 kHz. ``prepare_musan`` writes
``musan_music``, ``musan_speech`` and ``musan_noise`` data dirs (wav.scp, utt2spk, spk2utt, utt2dur, reco2dur;
each recording is its own speaker) as Kaldi's ``make_musan.py`` + ``make_musan.sh`` + ``get_utt2dur.sh`` do.
Music without an annotation is left out (as in Kaldi); ``use_vocals=False`` drops music with vocals.

RIRS_NOISES (openslr 28): ``simulated_rirs/{smallroom,mediumroom,largeroom}/rir_list``,
``real_rirs_isotropic_noises/{rir_list,noise_list}``, ``pointsource_noises/noise_list``, whose locations are
relative to the folder holding ``RIRS_NOISES``. ``prepare_rirs`` copies the lists with absolute locations
(checked to exist) so that ``reverberate_data_dir.py`` can use them from any directory.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Iterable

from phonsid.augment.datadir import resampled_spec
from phonsid.data import DataDirError, utt2spk_to_spk2utt, write_list_map, write_map

MUSAN_PARTS = ("music", "speech", "noise")
RIR_LISTS = {
    "smallroom": ("simulated_rirs/smallroom/rir_list",),
    "mediumroom": ("simulated_rirs/mediumroom/rir_list",),
    "largeroom": ("simulated_rirs/largeroom/rir_list",),
    "real_rirs": ("real_rirs_isotropic_noises/rir_list", "real_rirs_isotropic_noises/noise_list"),
    "pointsource_noises": ("pointsource_noises/noise_list",),
}


def _wav_files(root: Path) -> Iterable[Path]:
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()  # the file system's order varies; of two files with one name, the first in sorted order wins
        for name in sorted(files):
            if name.endswith(".wav"):
                yield Path(dirpath) / name


def _duration(path: Path) -> float:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception as e:  # noqa: BLE001 - libsndfile raises several types
        raise DataDirError(f"{path}: cannot read the audio header: {e}") from None
    return info.frames / float(info.samplerate)


def _read_music_annotations(path: Path) -> dict[str, bool]:
    """utt -> has vocals, from a MUSAN music ANNOTATIONS file."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 4:
                raise DataDirError(f"{path}:{lineno}: expected 'utt genres vocals musician', got '{line.strip()}'")
            out[fields[0]] = fields[2] == "Y"
    return out


def prepare_musan(musan_dir: str | os.PathLike, out_dir: str | os.PathLike, use_vocals: bool = True,
                  sampling_rate: int = 16000, log=None) -> dict[str, int]:
    """Writes ``<out_dir>/musan_{music,speech,noise}``; returns the number of recordings of each."""
    root = Path(musan_dir).resolve()
    if not root.is_dir():
        raise DataDirError(f"{musan_dir}: no such directory (MUSAN root)")
    for part in MUSAN_PARTS:
        if not (root / part).is_dir():
            raise DataDirError(f"{root / part}: missing (expected MUSAN's music/, speech/ and noise/)")
    counts: dict[str, int] = {}
    for part in MUSAN_PARTS:
        part_dir = root / part
        wavs = {p.stem: p for p in _wav_files(part_dir)}
        if part == "music":
            vocals: dict[str, bool] = {}
            for ann in sorted(part_dir.rglob("ANNOTATIONS")):
                vocals.update(_read_music_annotations(ann))
            missing = [u for u in vocals if u not in wavs]
            if missing and log is not None:
                log.warning(f"{len(missing)} annotated music files have no wav, e.g. {missing[0]}")
            keep = [u for u in vocals if u in wavs and (use_vocals or not vocals[u])]
        else:
            keep = list(wavs)
        if not keep:
            raise DataDirError(f"{part_dir}: no usable wav files")
        wav_scp = {u: resampled_spec(str(wavs[u]), None if sampling_rate == 16000 else sampling_rate)
                   for u in keep}
        durations = {u: f"{_duration(wavs[u]):.3f}" for u in keep}
        d = Path(out_dir) / f"musan_{part}"
        d.mkdir(parents=True, exist_ok=True)
        utt2spk = {u: u for u in keep}
        write_map(d / "wav.scp", wav_scp)
        write_map(d / "utt2spk", utt2spk)
        write_list_map(d / "spk2utt", utt2spk_to_spk2utt(utt2spk))
        write_map(d / "utt2dur", durations)
        write_map(d / "reco2dur", durations)
        counts[part] = len(keep)
        if log is not None:
            log.info(f"{d}: {len(keep)} recordings")
    return counts


def _absolute_location(location: str, bases: Iterable[Path]) -> str | None:
    """An existing absolute path for a list location (a path or a pipe whose path tokens resolve)."""
    bases = list(bases)
    if location.strip().endswith("|"):
        tokens = shlex.split(location)
        changed = False
        for i, tok in enumerate(tokens):
            for base in bases:
                cand = base / tok
                if not os.path.isabs(tok) and "/" in tok and cand.is_file():
                    tokens[i], changed = str(cand.resolve()), True
                    break
        return " ".join(shlex.quote(t) if t != "|" else t for t in tokens) if changed else location
    if os.path.isabs(location):
        return location if os.path.isfile(location) else None
    for base in bases:
        cand = base / location
        if cand.is_file():
            return str(cand.resolve())
    return None


def rewrite_list(list_path: Path, bases: Iterable[Path]) -> tuple[list[str], list[str]]:
    """Lines of a rir_list/noise_list with absolute locations, and the locations that do not exist."""
    lines, missing = [], []
    for lineno, line in enumerate(list_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            tokens = shlex.split(line)
        except ValueError as e:
            raise DataDirError(f"{list_path}:{lineno}: {e}") from None
        if len(tokens) < 2:
            raise DataDirError(f"{list_path}:{lineno}: expected options and a location, got '{line.strip()}'")
        location = _absolute_location(tokens[-1], bases)
        if location is None:
            missing.append(tokens[-1])
            continue
        lines.append(" ".join(shlex.quote(t) for t in tokens[:-1]) + " " + shlex.quote(location))
    return lines, missing


def prepare_rirs(rirs_dir: str | os.PathLike, out_dir: str | os.PathLike, sets: Iterable[str] | None = None,
                 log=None) -> dict[str, int]:
    """Copies RIRS_NOISES lists into ``<out_dir>/<set>/`` with absolute locations; returns lines per set.
    Sets that are absent in ``rirs_dir`` are skipped (all absent is an error)."""
    from phonsid.io.atomic import atomic_write_text

    root = Path(rirs_dir).resolve()
    if not root.is_dir():
        raise DataDirError(f"{rirs_dir}: no such directory (RIRS_NOISES root)")
    bases = [root.parent, root, Path.cwd()]
    wanted = list(RIR_LISTS) if sets is None else list(sets)
    counts: dict[str, int] = {}
    for name in wanted:
        if name not in RIR_LISTS:
            raise DataDirError(f"unknown RIR set '{name}' (known: {', '.join(RIR_LISTS)})")
        for rel in RIR_LISTS[name]:
            src = root / rel
            if not src.is_file():
                continue
            lines, missing = rewrite_list(src, bases)
            if missing:
                if log is not None:
                    log.warning(f"{src}: {len(missing)} locations do not exist, e.g. {missing[0]}; left out")
            if not lines:
                raise DataDirError(f"{src}: none of its locations exist")
            dst = Path(out_dir) / name / Path(rel).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(dst, "".join(line + "\n" for line in lines))
            counts[f"{name}/{Path(rel).name}"] = len(lines)
            if log is not None:
                log.info(f"{dst}: {len(lines)} entries")
    if not counts:
        raise DataDirError(f"{rirs_dir}: none of the RIRS_NOISES lists ({', '.join(wanted)}) is there")
    return counts
