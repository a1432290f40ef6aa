"""Data-directory augmentation as Kaldi's ``steps/data/reverberate_data_dir.py`` and ``augment_data_dir.py``.

Both write a lazy wav.scp: each augmented recording is a pipe that runs ``pyscripts/wav_reverberate.py`` (by
absolute path, through this venv's Python) on the source recording and writes the wav to stdout, so nothing is
materialised until features are computed. The random draws are made as in Kaldi's scripts (Python's ``random``
seeded the same way, the same calls in the same order), so the same input files and seed should give the same
RIRs, noises, SNRs and start times as Kaldi's scripts.

The output dir follows Kaldi too: ids get a suffix (``<utt>-noise``) or prefix, speakers stay the same (except
with reverberate_data_dir's ``--prefix``, which Kaldi also puts on speakers), ``utt2uniq`` maps each new
utterance to its clean one, and the per-utterance tables (``text``, ``segments``, ``utt2dur``, ``reco2dur``,
``vad.scp`` ...) are copied under the new ids.
``copy_vad_from_clean`` does what Kaldi recipes do by hand after feature extraction: give the augmented
utterances the VAD of their clean originals.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
import shlex
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from phonsid.augment import command
from phonsid.data import DataDirError, read_map, utt2spk_to_spk2utt, write_list_map, write_map

# ------------------------------------------------------------------------------------------- small helpers

def add_value_bool(parser, flag: str, default: bool, help: str) -> None:
    """A boolean option that takes its value as Kaldi's Python scripts do: ``--x true`` or ``--x=false``."""
    from phonsid.cli import parse_bool

    parser.add_argument(flag, type=parse_bool, default=default, metavar="true|false",
                        help=f"{help} (default: {str(default).lower()})")


def read_ordered(path: str | os.PathLike) -> list[tuple[str, str]]:
    """``key value`` lines in file order (Kaldi's scripts draw random numbers in wav.scp order)."""
    return list(read_map(path).items())


def absolute_spec(spec: str, base: str | os.PathLike | None = None) -> str:
    """A wav.scp value usable from any directory: a relative path to an existing file becomes absolute;
    pipes and everything else are kept as written."""
    spec = spec.strip()
    if spec.endswith("|") or len(spec.split()) != 1:
        return spec
    path = Path(base or os.getcwd()) / spec if not os.path.isabs(spec) else Path(spec)
    return str(path.resolve()) if path.is_file() else spec


def is_pipe(spec: str) -> bool:
    return spec.strip().endswith("|")


def _plain_path(path: str, what: str) -> str:
    if shlex.quote(path) != path:
        raise DataDirError(f"{what} '{path}' contains spaces or shell characters; wav.scp pipes cannot carry it")
    return path


def _number(value: float) -> str:
    """An SNR as Kaldi's augment_data_dir.py prints it: ``15`` for integers, ``7.5`` otherwise."""
    return str(int(value)) if value == int(value) else str(value)


def parse_colon_list(text: str, option: str, cast: Callable[[str], object] = float) -> list:
    try:
        values = [cast(t) for t in text.split(":") if t.strip() != ""]
    except ValueError:
        raise DataDirError(f"{option}: cannot parse '{text}' (expected values separated by ':')") from None
    if not values:
        raise DataDirError(f"{option}: empty list '{text}'")
    return values


def recording_durations(data_dir: str | os.PathLike, log=None) -> dict[str, float]:
    """reco2dur of a data dir: its ``reco2dur``, else ``utt2dur`` when there are no segments (recordings are the
    utterances), else measured from the audio."""
    d = Path(data_dir)
    for name in ("reco2dur",) + (() if (d / "segments").exists() else ("utt2dur",)):
        if (d / name).is_file():
            table = read_map(d / name)
            out = {}
            for k, v in table.items():
                try:
                    out[k] = float(v.split()[0])
                except ValueError:
                    raise DataDirError(f"{d / name}: duration of '{k}' is not a number: '{v}'") from None
            return out
    if log is not None:
        log.info(f"{d} has no reco2dur; measuring the recordings")
    from phonsid.io.wav import read_wav_spec

    out = {}
    for reco, spec in read_map(d / "wav.scp").items():
        out[reco] = read_wav_spec(spec).duration
    return out


def _wav_rate(spec: str) -> float | None:
    """Sampling rate from a plain file's header (None for pipes or unreadable files)."""
    if is_pipe(spec) or len(spec.split()) != 1:
        return None
    try:
        import soundfile

        return float(soundfile.info(spec).samplerate)
    except Exception:  # noqa: BLE001 - any failure means "unknown": the pipe then resamples
        return None


def resampled_spec(spec: str, sample_rate: int | None) -> str:
    """``spec`` resampled to ``sample_rate`` through a pipe (Kaldi uses sox here); unchanged when ``sample_rate``
    is None or a plain file's header already has that rate."""
    if sample_rate is None:
        return spec
    if _wav_rate(spec) == float(sample_rate):
        return spec
    if is_pipe(spec):
        return f"{spec} {command.resample_command('-', sample_rate)} |"
    return command.resample_command(spec, sample_rate) + " |"


def _tool_prefix() -> None:
    _plain_path(command.python_executable(), "the Python interpreter path")
    _plain_path(str(command.SCRIPT), "the wav_reverberate.py path")


# ----------------------------------------------------------------------------------- copying the tables

@dataclasses.dataclass
class IdMap:
    """How ids change: ``utt`` maps utterance (and recording) ids, ``spk`` speaker ids."""

    utt: Callable[[str], str]
    spk: Callable[[str], str] = staticmethod(lambda s: s)  # type: ignore[assignment]


# file name -> fields holding utterance/recording ids (0 = key); speaker-valued files handled separately
_UTT_TABLES = {
    "text": (0,), "utt2lang": (0,), "utt2dur": (0,), "reco2dur": (0,), "utt2num_frames": (0,),
    "vad.scp": (0,), "segments": (0, 1), "reco2file_and_channel": (0, 1),
}


def _copy_table(src: Path, dst: Path, maps: Sequence[Callable[[str], str]], fields: Sequence[int]) -> None:
    """Copies a ``key value...`` table once per id map, mapping the key and the given value fields (1 = first
    value field)."""
    table = read_map(src)
    out: dict[str, str] = {}
    for idmap in maps:
        for key, value in table.items():
            if any(f >= 1 for f in fields):
                parts = value.split()
                for f in fields:
                    if 1 <= f <= len(parts):
                        parts[f - 1] = idmap(parts[f - 1])
                value = " ".join(parts)
            out[idmap(key)] = value
    write_map(dst, out)


def write_augmented_tables(in_dir: Path, out_dir: Path, idmaps: Sequence[IdMap], skip: Iterable[str] = (),
                           copy_durations: bool = True) -> None:
    """utt2spk, spk2utt, utt2uniq and every per-utterance table of ``in_dir`` under each id map."""
    skip = set(skip)
    utt2spk = read_map(in_dir / "utt2spk")
    new_utt2spk = {m.utt(u): m.spk(s) for m in idmaps for u, s in utt2spk.items()}
    write_map(out_dir / "utt2spk", new_utt2spk)
    write_list_map(out_dir / "spk2utt", utt2spk_to_spk2utt(new_utt2spk))
    if (in_dir / "utt2uniq").is_file():
        uniq = read_map(in_dir / "utt2uniq")
        write_map(out_dir / "utt2uniq", {m.utt(u): uniq[u] for m in idmaps for u in uniq})
    else:
        write_map(out_dir / "utt2uniq", {m.utt(u): u for m in idmaps for u in utt2spk})
    for name, fields in _UTT_TABLES.items():
        if name in skip or not (in_dir / name).is_file():
            continue
        if name in ("utt2dur", "reco2dur", "utt2num_frames") and not copy_durations:
            continue
        _copy_table(in_dir / name, out_dir / name, [m.utt for m in idmaps], fields)
    if (in_dir / "spk2gender").is_file() and "spk2gender" not in skip:
        genders = read_map(in_dir / "spk2gender")
        write_map(out_dir / "spk2gender", {m.spk(s): g for m in idmaps for s, g in genders.items()})


def copy_vad_from_clean(clean_dirs: Sequence[str | os.PathLike], aug_dir: str | os.PathLike, log=None) -> int:
    """Writes ``aug_dir/vad.scp``: each augmented utterance gets the vad.scp entry of its clean utterance
    (``utt2uniq``; an utterance without one maps to itself). Returns the number written; utterances whose
    clean VAD is missing are left out and logged (``utils/fix_data_dir.sh`` then drops them)."""
    aug = Path(aug_dir)
    utt2spk = read_map(aug / "utt2spk")
    uniq = read_map(aug / "utt2uniq") if (aug / "utt2uniq").is_file() else {}
    clean_vad: dict[str, str] = {}
    for d in clean_dirs:
        path = Path(d) / "vad.scp"
        if not path.is_file():
            raise DataDirError(f"{path}: no vad.scp in the clean data dir (run VAD on it first)")
        clean_vad.update(read_map(path))
    out, missing = {}, []
    for utt in utt2spk:
        src = uniq.get(utt, utt)
        if src in clean_vad:
            out[utt] = clean_vad[src]
        else:
            missing.append(utt)
    if not out:
        raise DataDirError(f"{aug}: none of its {len(utt2spk)} utterances has a clean VAD entry in "
                           f"{', '.join(str(d) for d in clean_dirs)} (check utt2uniq)")
    write_map(aug / "vad.scp", out)
    if missing and log is not None:
        log.warning(f"{len(missing)} utterances of {aug} have no clean VAD, e.g. {missing[0]}")
    return len(out)


# ----------------------------------------------------------------------------------- augment_data_dir

@dataclasses.dataclass
class NoiseSet:
    """A noise/music/speech data dir: recordings in wav.scp order, their specs and durations."""

    ids: list[str]
    wavs: dict[str, str]
    durations: dict[str, float]

    @classmethod
    def load(cls, data_dir: str | os.PathLike, sample_rate: int | None = None, log=None) -> "NoiseSet":
        d = Path(data_dir)
        if not (d / "wav.scp").is_file():
            raise DataDirError(f"{d}/wav.scp: no such file (noise directory)")
        entries = read_ordered(d / "wav.scp")
        wavs = {}
        for k, v in entries:
            spec = resampled_spec(absolute_spec(v), sample_rate)
            command.check_spec_quotable(spec, f"{d}/wav.scp: recording '{k}'")
            wavs[k] = spec
        durs = recording_durations(d, log)
        missing = [k for k, _ in entries if k not in durs]
        if missing:
            raise DataDirError(f"{d}: no duration for '{missing[0]}' ({len(missing)} recordings); "
                               f"write reco2dur first")
        if not entries:
            raise DataDirError(f"{d}/wav.scp is empty")
        return cls([k for k, _ in entries], wavs, durs)


def augment_recording(wav: str, dur: float, rng: random.Random, fg: NoiseSet | None, bg: NoiseSet | None,
                      fg_snrs: Sequence[str], bg_snrs: Sequence[str], num_bg_noises: Sequence[int],
                      fg_interval: float) -> str:
    """The augmented wav.scp value of one recording (Kaldi's augment_wav, draws in the same order)."""
    snrs: list[str] = []
    noises: list[str] = []
    starts: list[str] = []
    if bg is not None and bg.ids:
        for _ in range(rng.choice(list(num_bg_noises))):
            noise = rng.choice(bg.ids)
            noises.append(command.wav_reverberate_command([f"--duration={dur}"], f'"{bg.wavs[noise]}"') + " |")
            snrs.append(rng.choice(list(bg_snrs)))
            starts.append("0")
    if fg is not None and fg.ids:
        total: float = 0  # an int until the first duration is added, printed "0" as Kaldi does
        while total < dur:
            noise = rng.choice(fg.ids)
            noises.append(fg.wavs[noise])
            snrs.append(rng.choice(list(fg_snrs)))
            starts.append(str(total))
            total += fg.durations[noise] + fg_interval
    options = ["--shift-output=true", f"--additive-signals='{','.join(noises).strip()}'",
               f"--start-times='{','.join(starts)}'", f"--snrs='{','.join(snrs)}'"]
    if is_pipe(wav):
        return f"{wav} {command.wav_reverberate_command(options, '-')} |"
    return command.wav_reverberate_command(options, wav) + " |"


def _affix(suffix: str | None, prefix: str | None) -> Callable[[str], str]:
    if suffix and prefix:
        raise DataDirError("give either a suffix or a prefix for the new ids, not both")
    if suffix:
        return lambda i: f"{i}-{suffix}"
    if prefix:
        return lambda i: f"{prefix}-{i}"
    return lambda i: i


def augment_data_dir(in_dir: str | os.PathLike, out_dir: str | os.PathLike, *, fg_noise_dir: str | None = None,
                     bg_noise_dir: str | None = None, fg_snrs: str = "20:10:0", bg_snrs: str = "20:10:0",
                     num_bg_noises: str = "1", fg_interval: float = 0, utt_suffix: str | None = None,
                     utt_prefix: str | None = None, random_seed: int = 123, modify_spk_id: bool = False,
                     source_sampling_rate: int | None = None, log=None) -> int:
    """Kaldi's ``augment_data_dir.py``: additive foreground noises one after another with ``fg_interval`` s
    gaps, and/or ``num_bg_noises`` background signals looped over the whole recording. Returns #recordings."""
    _tool_prefix()
    src, dst = Path(in_dir), Path(out_dir)
    if fg_noise_dir is None and bg_noise_dir is None:
        raise DataDirError("give --fg-noise-dir and/or --bg-noise-dir")
    if fg_interval < 0:
        raise DataDirError(f"--fg-interval must be 0 or more, got {fg_interval}")
    if not (src / "wav.scp").is_file():
        raise DataDirError(f"{src}/wav.scp: no such file")
    fg_list = [_number(v) for v in parse_colon_list(fg_snrs, "--fg-snrs", float)]
    bg_list = [_number(v) for v in parse_colon_list(bg_snrs, "--bg-snrs", float)]
    nums = parse_colon_list(num_bg_noises, "--num-bg-noises", int)
    if any(n < 1 for n in nums):
        raise DataDirError(f"--num-bg-noises: counts must be positive, got '{num_bg_noises}'")
    durations = recording_durations(src, log)
    bg = NoiseSet.load(bg_noise_dir, source_sampling_rate, log) if bg_noise_dir else None
    fg = NoiseSet.load(fg_noise_dir, source_sampling_rate, log) if fg_noise_dir else None
    for noise_set, d in ((fg, fg_noise_dir), (bg, bg_noise_dir)):
        if noise_set is not None:
            short = [k for k in noise_set.ids if noise_set.durations[k] <= 0]
            if short:
                raise DataDirError(f"{d}: recording '{short[0]}' has duration 0")
    rename = _affix(utt_suffix, utt_prefix)
    rng = random.Random(random_seed)
    interval = int(fg_interval) if float(fg_interval) == int(fg_interval) else float(fg_interval)
    new_wavs: dict[str, str] = {}
    for reco, wav in read_ordered(src / "wav.scp"):
        if reco not in durations:
            raise DataDirError(f"{src}: no duration for recording '{reco}' (reco2dur)")
        wav = absolute_spec(wav)
        if not is_pipe(wav):
            command.check_spec_quotable(wav, f"{src}/wav.scp: recording '{reco}'")
        new_wavs[rename(reco)] = augment_recording(wav, durations[reco], rng, fg, bg, fg_list, bg_list, nums,
                                                   interval)
    dst.mkdir(parents=True, exist_ok=True)
    write_map(dst / "wav.scp", new_wavs)
    spk_map = rename if modify_spk_id else (lambda s: s)
    write_augmented_tables(src, dst, [IdMap(rename, spk_map)])
    return len(new_wavs)


# ------------------------------------------------------------------------------- reverberate_data_dir

@dataclasses.dataclass
class Rir:
    rir_id: str
    room_id: str
    rspecifier: str
    receiver_position_id: str | None = None
    source_position_id: str | None = None
    rt60: float | None = None
    drr: float | None = None
    cte: float | None = None
    probability: float | None = None


@dataclasses.dataclass
class Noise:
    noise_id: str
    noise_type: str
    rspecifier: str
    bg_fg_type: str = "background"
    room_linkage: str | None = None
    probability: float | None = None


@dataclasses.dataclass
class _Set:
    filename: str
    probability: float | None = None


@dataclasses.dataclass
class Room:
    rir_list: list[Rir]
    probability: float = 0.0


class _ListParser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise DataDirError(message)


def _rir_line_parser() -> _ListParser:
    p = _ListParser(add_help=False, allow_abbrev=False)
    p.add_argument("--rir-id", required=True)
    p.add_argument("--room-id", required=True)
    p.add_argument("--receiver-position-id", default=None)
    p.add_argument("--source-position-id", default=None)
    p.add_argument("--rt60", type=float, default=None)
    p.add_argument("--drr", type=float, default=None)
    p.add_argument("--cte", type=float, default=None)
    p.add_argument("--probability", type=float, default=None)
    p.add_argument("rspecifier")
    return p


def _noise_line_parser() -> _ListParser:
    p = _ListParser(add_help=False, allow_abbrev=False)
    p.add_argument("--noise-id", required=True)
    p.add_argument("--noise-type", required=True, choices=["isotropic", "point-source"])
    p.add_argument("--bg-fg-type", default="background", choices=["background", "foreground"])
    p.add_argument("--room-linkage", default=None)
    p.add_argument("--probability", type=float, default=None)
    p.add_argument("rspecifier")
    return p


def _read_list(path: str, parser: _ListParser, kind: type, log=None) -> list:
    out = []
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        raise DataDirError(f"cannot read {path}: {e.strerror}") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            ns = parser.parse_args(shlex.split(line.strip()))
        except (DataDirError, ValueError) as e:
            raise DataDirError(f"{path}:{lineno}: {e}") from None
        out.append(kind(**{k.replace("-", "_"): v for k, v in vars(ns).items()}))
    return out


def smooth_probabilities(items: list, smoothing_weight: float = 0.0, target_sum: float = 1.0, log=None) -> list:
    """Kaldi's smoothing: items without a probability share what is left of 1; given ones are mixed with that
    uniform share by ``smoothing_weight``; then all are scaled to sum to ``target_sum``."""
    if not items:
        return items
    unspecified = sum(1 for it in items if it.probability is None)
    accumulated = sum(it.probability for it in items if it.probability is not None)
    uniform = 0.0
    if unspecified > 0 and accumulated < 1:
        uniform = (1 - accumulated) / float(unspecified)
    elif unspecified > 0 and log is not None:
        log.warning("the given probabilities sum to 1 or more; items without one get probability 0")
    for it in items:
        if it.probability is None:
            it.probability = uniform
        else:
            it.probability = (1 - smoothing_weight) * it.probability + smoothing_weight * uniform
    total = sum(it.probability for it in items)
    if total <= 0:
        raise DataDirError("all probabilities are zero")
    for it in items:
        it.probability = it.probability / total * target_sum
    return items


def parse_set_parameters(values: Sequence[str], what: str) -> list[_Set]:
    """``'0.3, rir_list'`` or ``'rir_list'`` strings → sets with probabilities (unspecified share the rest)."""
    sets = []
    for value in values:
        parts = value.split(",")
        if len(parts) == 2:
            try:
                s = _Set(parts[1].strip(), float(parts[0]))
            except ValueError:
                raise DataDirError(f"{what} '{value}': '{parts[0]}' is not a probability") from None
        elif len(parts) == 1:
            s = _Set(parts[0].strip())
        else:
            raise DataDirError(f"{what} '{value}': expected 'probability, file' or 'file'")
        if not os.path.isfile(s.filename):
            raise DataDirError(f"{what}: {s.filename} not found")
        sets.append(s)
    return smooth_probabilities(sets)


def _fix_spec(spec: str, sample_rate: int | None, what: str) -> str:
    spec = resampled_spec(absolute_spec(spec), sample_rate)
    command.check_spec_quotable(spec, what)
    if '"' in spec:
        raise DataDirError(f"{what} '{spec}' contains a double quote, which the command line cannot carry")
    return spec


def parse_rir_lists(set_parameters: Sequence[str], smoothing_weight: float, sample_rate: int | None,
                    log=None) -> list[Rir]:
    rirs: list[Rir] = []
    for s in parse_set_parameters(set_parameters, "--rir-set-parameters"):
        current = _read_list(s.filename, _rir_line_parser(), Rir, log)
        if not current:
            raise DataDirError(f"{s.filename}: empty RIR list")
        for r in current:
            r.rspecifier = _fix_spec(r.rspecifier, sample_rate, f"{s.filename}: RIR '{r.rir_id}'")
        rirs += smooth_probabilities(current, smoothing_weight, s.probability, log)
    return rirs


def parse_noise_lists(set_parameters: Sequence[str], smoothing_weight: float, sample_rate: int | None,
                      log=None) -> tuple[list[Noise], dict[str, list[Noise]]]:
    point: list[Noise] = []
    iso: dict[str, list[Noise]] = {}
    for s in parse_set_parameters(set_parameters, "--noise-set-parameters"):
        current_point = []
        for n in _read_list(s.filename, _noise_line_parser(), Noise, log):
            n.rspecifier = _fix_spec(n.rspecifier, sample_rate, f"{s.filename}: noise '{n.noise_id}'")
            if n.noise_type == "isotropic":
                if n.room_linkage is None:
                    raise DataDirError(f"{s.filename}: isotropic noise '{n.noise_id}' needs --room-linkage")
                iso.setdefault(n.room_linkage, []).append(n)
            else:
                current_point.append(n)
        point += smooth_probabilities(current_point, smoothing_weight, s.probability, log)
    point = smooth_probabilities(point, smoothing_weight, 1.0, log)
    for room in iso:
        iso[room] = smooth_probabilities(iso[room])
    return point, iso


def make_rooms(rirs: Sequence[Rir]) -> dict[str, Room]:
    rooms: dict[str, Room] = {}
    for r in rirs:
        rooms.setdefault(r.room_id, Room([])).rir_list.append(r)
    for room in rooms.values():
        room.probability = sum(r.probability for r in room.rir_list)
    return rooms


def pick(items, rng: random.Random):
    """Kaldi's pick_item_with_probability: dict keys sorted then shuffled; one uniform draw over the mass."""
    if isinstance(items, Mapping):
        keys = sorted(items)
        rng.shuffle(keys)
        plist = [items[k] for k in keys]
    else:
        plist = list(items)
    total = sum(it.probability for it in plist)
    p = rng.uniform(0, total)
    acc = 0.0
    for it in plist:
        if acc + it.probability >= p:
            return it
        acc += it.probability
    return plist[-1]


class _Cycle:
    """Kaldi's list_cyclic_iterator: shuffled once, then cycled."""

    def __init__(self, values: list, rng: random.Random) -> None:
        self.values = list(values)
        rng.shuffle(self.values)
        self.i = 0

    def __next__(self):
        v = self.values[self.i]
        self.i = (self.i + 1) % len(self.values)
        return v


def _noise_pipe(noise_spec: str, options: list[str]) -> str:
    if len(noise_spec.split()) == 1:
        return command.wav_reverberate_command(options, noise_spec) + " |"
    return f"{noise_spec} {command.wav_reverberate_command(options, '-')} |"


def reverberation_options(rooms: dict[str, Room], point_noises: list[Noise], iso_noises: dict[str, list[Noise]],
                          fg_snrs: _Cycle, bg_snrs: _Cycle, speech_rvb_probability: float,
                          iso_probability: float, point_probability: float, speech_dur: float,
                          max_noises: int, rng: random.Random) -> list[str]:
    """wav-reverberate options for one recording (Kaldi's generate_reverberation_opts, same draws)."""
    options: list[str] = []
    noise_io: list[str] = []
    starts: list[str] = []
    snrs: list[str] = []
    room = pick(rooms, rng)
    speech_rir = pick(room.rir_list, rng)
    if rng.random() < speech_rvb_probability:
        options.append(f'--impulse-response="{speech_rir.rspecifier}"')
    room_iso = iso_noises.get(speech_rir.room_id, [])
    if room_iso and rng.random() < iso_probability:
        noise = pick(room_iso, rng)
        noise_io.append(_noise_pipe(noise.rspecifier, [f"--duration={speech_dur}"]))
        starts.append("0")
        snrs.append(str(next(bg_snrs)))
    if point_noises and rng.random() < point_probability and max_noises >= 1:
        for _ in range(rng.randint(1, max_noises)):
            noise = pick(point_noises, rng)
            noise_rir = pick(room.rir_list, rng)
            if noise.bg_fg_type == "background":
                opts = [f'--impulse-response="{noise_rir.rspecifier}"', f"--duration={speech_dur}"]
                starts.append("0")
                snrs.append(str(next(bg_snrs)))
            else:
                opts = [f'--impulse-response="{noise_rir.rspecifier}"']
                starts.append(str(round(rng.random() * speech_dur, 2)))
                snrs.append(str(next(fg_snrs)))
            noise_io.append(_noise_pipe(noise.rspecifier, opts))
    if noise_io:
        options += [f"--additive-signals='{','.join(noise_io)}'", f"--start-times='{','.join(starts)}'",
                    f"--snrs='{','.join(snrs)}'"]
    return options


def reverberate_data_dir(in_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                         rir_set_parameters: Sequence[str], noise_set_parameters: Sequence[str] = (),
                         num_replications: int = 1, foreground_snrs: str = "20:10:0",
                         background_snrs: str = "20:10:0", prefix: str | None = None,
                         speech_rvb_probability: float = 1.0, pointsource_noise_addition_probability: float = 1.0,
                         isotropic_noise_addition_probability: float = 1.0, rir_smoothing_weight: float = 0.3,
                         noise_smoothing_weight: float = 0.3, max_noises_per_minute: int = 2, random_seed: int = 0,
                         shift_output: bool = True, source_sampling_rate: int | None = None,
                         include_original_data: bool = False, utt_suffix: str | None = None, log=None) -> int:
    """Kaldi's ``reverberate_data_dir.py`` (RIRs, isotropic and point-source noises), plus ``utt_suffix``
    (``<utt>-<suffix>``, speakers unchanged: what Kaldi recipes do afterwards with ``copy_data_dir.sh``).
    Returns the number of output recordings."""
    _tool_prefix()
    src, dst = Path(in_dir), Path(out_dir)
    for name, value in (("--speech-rvb-probability", speech_rvb_probability),
                        ("--pointsource-noise-addition-probability", pointsource_noise_addition_probability),
                        ("--isotropic-noise-addition-probability", isotropic_noise_addition_probability),
                        ("--rir-smoothing-weight", rir_smoothing_weight),
                        ("--noise-smoothing-weight", noise_smoothing_weight)):
        if not 0 <= value <= 1:
            raise DataDirError(f"{name} must be between 0 and 1, got {value}")
    if num_replications < 1:
        raise DataDirError(f"--num-replications must be positive, got {num_replications}")
    if max_noises_per_minute < 0:
        raise DataDirError(f"--max-noises-per-minute cannot be negative, got {max_noises_per_minute}")
    if source_sampling_rate is not None and source_sampling_rate <= 0:
        raise DataDirError(f"--source-sampling-rate must be positive, got {source_sampling_rate}")
    if not rir_set_parameters:
        raise DataDirError("give at least one --rir-set-parameters")
    if prefix is None and (num_replications > 1 or include_original_data):
        prefix = "rvb"
        if log is not None:
            log.warning("--prefix is set to 'rvb' as more than one copy of the data is made")
    if not (src / "wav.scp").is_file():
        raise DataDirError(f"{src}/wav.scp: no such file")

    rng = random.Random(random_seed)
    rirs = parse_rir_lists(rir_set_parameters, rir_smoothing_weight, source_sampling_rate, log)
    point, iso = ([], {})
    if noise_set_parameters:
        point, iso = parse_noise_lists(noise_set_parameters, noise_smoothing_weight, source_sampling_rate, log)
    rooms = make_rooms(rirs)
    if log is not None:
        log.info(f"{len(rirs)} RIRs in {len(rooms)} rooms, {len(point)} point-source noises, "
                 f"{sum(len(v) for v in iso.values())} isotropic noises")

    wav_scp = read_map(src / "wav.scp")
    durations = recording_durations(src, log)
    fg_snrs = _Cycle(parse_colon_list(foreground_snrs, "--foreground-snrs", float), rng)
    bg_snrs = _Cycle(parse_colon_list(background_snrs, "--background-snrs", float), rng)
    shift = "true" if shift_output else "false"

    def new_id(ident: str, copy: int) -> str:
        out = f"{prefix}{copy}-{ident}" if prefix is not None else ident
        return f"{out}-{utt_suffix}" if utt_suffix else out

    first = 0 if include_original_data else 1
    new_wavs: dict[str, str] = {}
    for copy in range(first, num_replications + 1):
        for reco in sorted(wav_scp):
            if reco not in durations:
                raise DataDirError(f"{src}: no duration for recording '{reco}' (reco2dur)")
            original = absolute_spec(wav_scp[reco])
            dur = durations[reco]
            max_noises = math.floor(max_noises_per_minute * dur / 60)
            options = reverberation_options(rooms, point, iso, fg_snrs, bg_snrs, speech_rvb_probability,
                                            isotropic_noise_addition_probability,
                                            pointsource_noise_addition_probability, dur, max_noises, rng)
            if not options or copy == 0:
                value = original
            else:
                opts = [f"--shift-output={shift}", *options]
                if is_pipe(original):
                    value = f"{original} {command.wav_reverberate_command(opts, '-')} |"
                else:
                    command.check_spec_quotable(original, f"{src}/wav.scp: recording '{reco}'")
                    value = command.wav_reverberate_command(opts, original) + " |"
            new_wavs[new_id(reco, copy)] = value

    dst.mkdir(parents=True, exist_ok=True)
    write_map(dst / "wav.scp", new_wavs)
    maps = [IdMap((lambda c: (lambda i: new_id(i, c)))(c),
                  (lambda c: (lambda s: f"{prefix}{c}-{s}" if prefix is not None else s))(c))
            for c in range(first, num_replications + 1)]
    write_augmented_tables(src, dst, maps, copy_durations=shift_output)
    return len(new_wavs)
