"""Data preparation for speechocean762 (OpenSLR 101) as a speaker-recognition corpus (data prefix ``so762``).

speechocean762 is 5,000 read English sentences by 250 Mandarin-native speakers (half children, half adults),
published as two Kaldi-style halves of 125 speakers each::

    <root>/WAVE/SPEAKERnnnn/<utt>.WAV            16 kHz wav, utterance ids like 000010011 (speaker 0001)
    <root>/train/ and <root>/test/               wav.scp (relative paths WAVE/...), text, utt2spk, spk2utt,
                                                 spk2gender, spk2age (children are under 16)
    <root>/resource/lexicon.txt                  ARPAbet with stress; also text-phone, scores.json

:func:`prepare_speechocean762` also takes ready Kaldi data dirs: a folder with ``train/`` (and ``test/``) data
dirs, or one data dir (the train half only, e.g. the 8 kHz FLAC subset in ``../shared/data/speechocean762``,
which lists its audio in ``wav.list`` instead of ``wav.scp``). Relative audio paths are resolved against the
data dir, the corpus root and their parents (the first that holds the file).

It writes, under ``<data-root>`` (every table C-sorted; each dir passes ``validate_data_dir(no_feats=True)``)::

    so762_asr/     the training half with its transcripts (GMM-HMM alignment, DNN-1, DNN-2)
    so762_train/   the same speakers and utterances (UBM, T matrix, x-vectors, LDA/PLDA)
    so762_enroll/  for each evaluation speaker its first ``num_enroll`` utterances (C order of the ids);
                   the model id is the speaker id
    so762_test/    the remaining evaluation utterances, with
                   trials        every target trial and, per test utterance, a seeded sample of non-target models
                   trials_adult  the trials whose model speaker and test speaker are both adults (age >= 16)
                   trials_child  the same for children (age < 16)
    local/dict_so762/  a Kaldi dict dir from resource/lexicon.txt (stress removed by default), when present

All speech dirs carry wav.scp, utt2spk, spk2utt, text (when the corpus has it), spk2gender, spk2age,
utt2dur and reco2dur (durations read from the file headers; left out when a recording is a pipe).

Ids: the corpus's utterance ids do not start with the speaker id (``000010011`` is speaker ``0001``), so each
utterance becomes ``<speaker>-<utt>`` unless it already starts with ``<speaker>-``. Speaker keys written
``SPEAKERnnnn`` in spk2age/spk2gender are matched to speaker ``nnnn``.

Evaluation speakers: the test half. When only the train half exists, its speakers are split into a training
part and an evaluation part: within each age group (adults, children, speakers without an age), a seeded
permutation of the C-sorted speakers puts ``floor(n * test_fraction)`` of them in the evaluation part.

Trials: for each test utterance, the target trial with its own speaker's model, and ``nontargets`` models drawn
without replacement from the other models (an integer count, a fraction of the other models, or ``all``; default
10: 1,875 target + 18,750 non-target trials on the full test half, 434 + 4,340 on the shared subset split in
halves); the draw for an utterance depends only on the seed, the utterance id and the set of models, so it is
reproducible and does not change when other utterances are added or removed. The age lists split trials by the age
group of the enrolled model's speaker; a non-target trial whose test speaker is in the other group (cross-age) is
dropped from both lists by default (``cross_age="drop"``: each list measures discrimination within its group, as
same-sex trial lists do in the SRE evaluations), or kept in the model's group (``cross_age="model"``, then
trials_adult and trials_child partition trials).

Sample rate: the recipe runs at ``sample_rate`` (8 kHz by default); recordings at another rate become pipes
through phonsid's resampler (:func:`phonsid.augment.datadir.resampled_spec`).

Output dirs are built in a temporary folder under ``<data-root>``, validated, then replace any dirs of the same
names (nothing half-written is left where a later stage reads).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from phonsid.augment.datadir import is_pipe, resampled_spec
from phonsid.data import (DataDirError, c_sorted, read_map, replace_dir, utt2spk_to_spk2utt, validate_data_dir,
                          write_list_map, write_map)
from phonsid.hmm.lexicon import count_words, make_dict, read_pron_dict, write_dict_dir
from phonsid.io.atomic import atomic_write_text

PREFIX = "so762"
DEFAULT_SAMPLE_RATE = 8000
DEFAULT_NUM_ENROLL = 5
#: non-target models per test utterance: 10 gives ~20k trials on the full corpus (1,875 target, 18,750
#: non-target) and ~4.8k on the 125-speaker shared subset split in halves (434 target, 4,340 non-target)
DEFAULT_NONTARGETS = "10"
DEFAULT_SEED = 762
DEFAULT_TEST_FRACTION = 0.5
#: the corpus README: children are under 16
ADULT_AGE = 16
CROSS_AGE_CHOICES = ("drop", "model")
ADULT, CHILD, UNKNOWN = "adult", "child", "unknown"

SETS = tuple(f"{PREFIX}_{s}" for s in ("asr", "train", "enroll", "test"))
DICT_DIR = os.path.join("local", f"dict_{PREFIX}")


# ------------------------------------------------------------------------------------------------ input


@dataclasses.dataclass
class Half:
    """One half of the corpus as read from disk (original utterance ids)."""

    name: str
    path: Path
    utt2spk: dict[str, str]
    wav: dict[str, str]  # utterance -> wav.scp value with absolute paths
    text: dict[str, str] | None
    spk2gender: dict[str, str]
    spk2age: dict[str, int]


def _is_data_dir(path: Path) -> bool:
    return (path / "utt2spk").is_file() and ((path / "wav.scp").is_file() or (path / "wav.list").is_file())


def find_halves(src: str | os.PathLike) -> tuple[dict[str, Path], Path]:
    """The data dirs of the halves in ``src`` (``{"train": dir, "test": dir}``, ``test`` possibly absent) and
    the corpus root (where ``resource/`` and ``WAVE/`` are looked for)."""
    root = Path(src)
    if not root.is_dir():
        raise DataDirError(f"{src}: no such directory (speechocean762 root or data dir)")
    if (root / "train").is_dir() and _is_data_dir(root / "train"):
        halves = {"train": root / "train"}
        if (root / "test").is_dir():
            if not _is_data_dir(root / "test"):
                raise DataDirError(f"{root / 'test'}: not a data dir (needs utt2spk and wav.scp or wav.list)")
            halves["test"] = root / "test"
        return halves, root
    if _is_data_dir(root):
        return {"train": root}, root
    raise DataDirError(f"{src}: neither the speechocean762 layout (train/ and test/ data dirs) nor a data dir "
                       f"(utt2spk and wav.scp or wav.list)")


def _resolve_spec(spec: str, bases: Sequence[Path], path: Path, utt: str) -> str:
    """An absolute-path wav.scp value; pipes are kept as they are."""
    if is_pipe(spec):
        return spec
    if len(spec.split()) != 1:
        raise DataDirError(f"{path}: utterance '{utt}': '{spec}' is neither a file path nor a pipe ending in '|'")
    if os.path.isabs(spec):
        if not os.path.isfile(spec):
            raise DataDirError(f"{path}: utterance '{utt}': audio file {spec} does not exist")
        return spec
    for base in bases:
        cand = base / spec
        if cand.is_file():
            return str(cand.resolve())
    tried = ", ".join(str(b) for b in bases)
    raise DataDirError(f"{path}: utterance '{utt}': audio file '{spec}' not found relative to any of {tried}")


def _speaker_table(path: Path, speakers: set[str], log) -> dict[str, str]:
    """A speaker-indexed table with keys matched to the utt2spk speakers (``SPEAKERnnnn`` -> ``nnnn``)."""
    out: dict[str, str] = {}
    unknown: list[str] = []
    for key, value in read_map(path).items():
        spk = key
        if spk not in speakers and spk.upper().startswith("SPEAKER") and spk[7:] in speakers:
            spk = spk[7:]
        if spk not in speakers:
            unknown.append(key)
            continue
        if spk in out:
            raise DataDirError(f"{path}: speaker '{spk}' is listed twice (as '{key}')")
        out[spk] = value
    if unknown and log is not None:
        log.warning(f"{path}: {len(unknown)} speaker(s) not in utt2spk ignored, e.g. '{unknown[0]}'")
    return out


def _parse_ages(path: Path, table: Mapping[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for spk, value in table.items():
        try:
            age = int(value)
        except ValueError:
            raise DataDirError(f"{path}: speaker '{spk}': age '{value}' is not an integer") from None
        if age <= 0:
            raise DataDirError(f"{path}: speaker '{spk}': age {age} is not positive")
        out[spk] = age
    return out


def read_half(name: str, path: Path, root: Path, log=None) -> Half:
    """Reads one half: utt2spk, wav.scp (or wav.list), and text, spk2gender, spk2age when present."""
    utt2spk = read_map(path / "utt2spk")
    if not utt2spk:
        raise DataDirError(f"{path / 'utt2spk'}: empty")
    for utt, spk in utt2spk.items():
        if len(spk.split()) != 1:
            raise DataDirError(f"{path / 'utt2spk'}: utterance '{utt}': expected one speaker id, got '{spk}'")
    wav_path = path / "wav.scp" if (path / "wav.scp").is_file() else path / "wav.list"
    raw_wav = read_map(wav_path)
    bases: list[Path] = []
    for b in (path, root, path.parent, root.parent):
        if b.resolve() not in [x.resolve() for x in bases]:
            bases.append(b)
    wav: dict[str, str] = {}
    for utt in utt2spk:
        if utt not in raw_wav:
            raise DataDirError(f"{wav_path}: utterance '{utt}' (in {path / 'utt2spk'}) has no audio")
        wav[utt] = _resolve_spec(raw_wav[utt], bases, wav_path, utt)
    extra = [u for u in raw_wav if u not in utt2spk]
    if extra and log is not None:
        log.warning(f"{wav_path}: {len(extra)} recording(s) not in utt2spk ignored, e.g. '{extra[0]}'")
    text = None
    if (path / "text").is_file():
        raw_text = read_map(path / "text")
        missing = [u for u in utt2spk if u not in raw_text]
        if missing:
            raise DataDirError(f"{path / 'text'}: utterance '{missing[0]}' has no transcript "
                               f"({len(missing)} of {len(utt2spk)} missing)")
        text = {u: raw_text[u].upper() for u in utt2spk}
    speakers = set(utt2spk.values())
    gender = _speaker_table(path / "spk2gender", speakers, log) if (path / "spk2gender").is_file() else {}
    ages = {}
    if (path / "spk2age").is_file():
        ages = _parse_ages(path / "spk2age", _speaker_table(path / "spk2age", speakers, log))
    return Half(name, path, utt2spk, wav, text, {s: g.lower() for s, g in gender.items()}, ages)


# ------------------------------------------------------------------------------------------------ speakers


def age_group(age: int | None, adult_age: int = ADULT_AGE) -> str:
    """``adult`` (age >= adult_age), ``child`` or ``unknown`` (no age)."""
    if age is None:
        return UNKNOWN
    return ADULT if age >= adult_age else CHILD


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key.encode("utf-8"))])


def split_speakers(speakers: Iterable[str], spk2age: Mapping[str, int], test_fraction: float = DEFAULT_TEST_FRACTION,
                   seed: int = DEFAULT_SEED, adult_age: int = ADULT_AGE) -> tuple[list[str], list[str]]:
    """Splits speakers into (train, test), stratified by age group (see the module docstring)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"--test-fraction={test_fraction}: must be between 0 and 1 (exclusive)")
    groups: dict[str, list[str]] = {}
    for spk in c_sorted(set(speakers)):
        groups.setdefault(age_group(spk2age.get(spk), adult_age), []).append(spk)
    train: list[str] = []
    test: list[str] = []
    for group in (ADULT, CHILD, UNKNOWN):
        members = groups.get(group, [])
        n_test = int(math.floor(len(members) * test_fraction))
        perm = _rng(seed, f"split-{group}").permutation(len(members))
        chosen = {members[i] for i in perm[:n_test]}
        test.extend(s for s in members if s in chosen)
        train.extend(s for s in members if s not in chosen)
    if len(test) < 2 or not train:
        raise ValueError(f"splitting {len(train) + len(test)} speakers with test fraction {test_fraction} gives "
                         f"{len(train)} training and {len(test)} evaluation speakers (need >= 1 and >= 2)")
    return c_sorted(train), c_sorted(test)


def utt_id(utt: str, spk: str) -> str:
    """The recipe's utterance id: ``<speaker>-<utt>`` unless ``utt`` already starts with ``<speaker>-``."""
    return utt if utt.startswith(spk + "-") else f"{spk}-{utt}"


# ------------------------------------------------------------------------------------------------ trials


def parse_nontargets(value: str | int | float) -> tuple[str, float]:
    """``("all", 0)``, ``("count", k)`` (k >= 0) or ``("fraction", r)`` (0 < r <= 1) from an option value."""
    text = str(value).strip().lower()
    if text == "all":
        return "all", 0.0
    try:
        if "." not in text and "e" not in text:
            k = int(text)
            if k >= 0:
                return "count", float(k)
        else:
            r = float(text)
            if 0.0 < r <= 1.0:
                return "fraction", r
    except ValueError:
        pass
    raise ValueError(f"--nontargets={value}: expected a count >= 0, a fraction in (0, 1] of the other models, "
                     f"or 'all'")


def num_nontargets(spec: tuple[str, float], num_others: int) -> int:
    kind, v = spec
    if kind == "all":
        return num_others
    if kind == "count":
        return min(int(v), num_others)
    return min(num_others, max(1, int(math.floor(v * num_others + 0.5))))


def make_trials(models: Iterable[str], test_utt2spk: Mapping[str, str],
                nontargets: str | int | float = DEFAULT_NONTARGETS,
                seed: int = DEFAULT_SEED) -> list[tuple[str, str, bool]]:
    """``(model, test utterance, is_target)`` triples in C order: every target trial and a seeded sample of
    non-target models per test utterance (see the module docstring)."""
    spec = parse_nontargets(nontargets)
    model_list = c_sorted(set(models))
    model_set = set(model_list)
    trials: list[tuple[str, str, bool]] = []
    for utt in c_sorted(test_utt2spk):
        spk = test_utt2spk[utt]
        if spk in model_set:
            trials.append((spk, utt, True))
        others = [m for m in model_list if m != spk]
        k = num_nontargets(spec, len(others))
        if k == len(others):
            picked = others
        else:
            idx = _rng(seed, f"trials-{utt}").choice(len(others), size=k, replace=False)
            picked = [others[i] for i in sorted(idx)]
        trials.extend((m, utt, False) for m in picked)
    trials.sort(key=lambda t: (t[0].encode("utf-8"), t[1].encode("utf-8")))
    return trials


def age_trials(trials: Sequence[tuple[str, str, bool]], test_utt2spk: Mapping[str, str], spk2age: Mapping[str, int],
               adult_age: int = ADULT_AGE, cross_age: str = "drop") -> dict[str, list[tuple[str, str, bool]]]:
    """``{"adult": [...], "child": [...]}``: trials by the age group of the model's speaker (model id = speaker
    id); cross-age non-target trials dropped (``cross_age="drop"``) or kept by the model (``"model"``)."""
    if cross_age not in CROSS_AGE_CHOICES:
        raise ValueError(f"--cross-age-trials={cross_age}: expected one of {', '.join(CROSS_AGE_CHOICES)}")
    out: dict[str, list[tuple[str, str, bool]]] = {ADULT: [], CHILD: []}
    for trial in trials:
        model, utt, _ = trial
        g_model = age_group(spk2age.get(model), adult_age)
        if g_model == UNKNOWN:
            continue
        if cross_age == "drop" and age_group(spk2age.get(test_utt2spk[utt]), adult_age) != g_model:
            continue
        out[g_model].append(trial)
    return out


def split_enrollment(speakers: Iterable[str], spk2utts: Mapping[str, Sequence[str]],
                     num_enroll: int = DEFAULT_NUM_ENROLL, log=None) -> tuple[list[str], list[str], dict[str, str]]:
    """(models, enrolment utterances, test utt2spk): each speaker's first ``num_enroll`` utterances in C order
    enrol its model (model id = speaker id), the rest are test utterances; a speaker without test utterances
    left is left out (with a warning)."""
    models: list[str] = []
    enroll: list[str] = []
    test_u2s: dict[str, str] = {}
    for spk in c_sorted(speakers):
        utts = c_sorted(spk2utts[spk])
        if len(utts) <= num_enroll:
            if log is not None:
                log.warning(f"speaker '{spk}' has {len(utts)} utterance(s), not more than --num-enroll="
                            f"{num_enroll}: left out of the evaluation")
            continue
        models.append(spk)
        enroll.extend(utts[:num_enroll])
        test_u2s.update({u: spk for u in utts[num_enroll:]})
    return models, enroll, test_u2s


def _trial_lists(models: Sequence[str], test_u2s: Mapping[str, str], spk2age: Mapping[str, int], nontargets,
                 seed: int, adult_age: int, cross_age: str, log) -> dict[str, list[tuple[str, str, bool]]]:
    trials = make_trials(models, test_u2s, nontargets, seed)
    lists = {"trials": trials}
    if any(s in spk2age for s in models):
        by_age = age_trials(trials, test_u2s, spk2age, adult_age, cross_age)
        lists["trials_adult"] = by_age[ADULT]
        lists["trials_child"] = by_age[CHILD]
        no_age = [s for s in models if s not in spk2age]
        if no_age and log is not None:
            log.warning(f"{len(no_age)} model speaker(s) have no age (e.g. '{no_age[0]}'): their trials are in "
                        f"neither trials_adult nor trials_child")
    elif log is not None:
        log.warning("no spk2age for the evaluation speakers: trials_adult / trials_child not written")
    return lists


def _trial_counts(trials: Sequence[tuple[str, str, bool]]) -> tuple[int, int]:
    n_target = sum(1 for t in trials if t[2])
    return n_target, len(trials) - n_target


def _write_trials(path: Path, trials: Sequence[tuple[str, str, bool]]) -> None:
    atomic_write_text(path, "".join(f"{m} {u} {'target' if t else 'nontarget'}\n" for m, u, t in trials))


# ------------------------------------------------------------------------------------------------ output


@dataclasses.dataclass
class Utterance:
    spk: str
    wav: str
    text: str | None
    duration: float | None


@dataclasses.dataclass
class Summary:
    """What :func:`prepare_speechocean762` wrote: per set (speakers, utterances, hours or None), trial counts
    per list (target, nontarget), whether the train half was split, and the dict dir (or None)."""

    sets: dict[str, tuple[int, int, float | None]]
    trials: dict[str, tuple[int, int]]
    split: bool
    dict_dir: str | None
    dict_words: int = 0
    dict_oov_tokens: int = 0


def _duration(spec: str) -> float | None:
    if is_pipe(spec):
        return None
    import soundfile

    try:
        return float(soundfile.info(spec).duration)
    except (RuntimeError, soundfile.LibsndfileError) as e:
        raise DataDirError(f"{spec}: cannot read the audio header ({e})") from None


def _write_set(d: Path, utts: Sequence[str], info: Mapping[str, Utterance], spk2gender: Mapping[str, str],
               spk2age: Mapping[str, int], log=None) -> None:
    """Writes one data dir for ``utts`` (speaker-indexed tables restricted to its speakers)."""
    d.mkdir(parents=True)
    u2s = {u: info[u].spk for u in utts}
    speakers = set(u2s.values())
    write_map(d / "wav.scp", {u: info[u].wav for u in utts})
    write_map(d / "utt2spk", u2s)
    write_list_map(d / "spk2utt", utt2spk_to_spk2utt(u2s))
    if all(info[u].text is not None for u in utts):
        write_map(d / "text", {u: info[u].text or "" for u in utts})
    if spk2gender and all(s in spk2gender for s in speakers):
        write_map(d / "spk2gender", {s: spk2gender[s] for s in speakers})
    elif spk2gender and log is not None:
        log.warning(f"{d}: some speakers have no gender; spk2gender left out")
    ages = {s: str(spk2age[s]) for s in speakers if s in spk2age}
    if ages:
        write_map(d / "spk2age", ages)
    if all(info[u].duration is not None for u in utts):
        durs = {u: f"{info[u].duration:.3f}" for u in utts}
        write_map(d / "utt2dur", durs)
        write_map(d / "reco2dur", durs)


def prepare_speechocean762(src: str | os.PathLike, data_root: str | os.PathLike, *,
                           sample_rate: int | None = DEFAULT_SAMPLE_RATE, num_enroll: int = DEFAULT_NUM_ENROLL,
                           nontargets: str | int | float = DEFAULT_NONTARGETS, seed: int = DEFAULT_SEED,
                           test_fraction: float = DEFAULT_TEST_FRACTION, adult_age: int = ADULT_AGE,
                           cross_age: str = "drop", lexicon: str | os.PathLike | None = None,
                           keep_stress: bool = False, log=None) -> Summary:
    """Writes the so762 data dirs (and the dict dir) under ``data_root``; see the module docstring.

    ``lexicon``: a pronunciation dictionary instead of ``<root>/resource/lexicon.txt`` (looked for in the
    input dir and its parent); without one, no dict dir is written (run.sh then uses CMUdict).
    Existing output dirs of the same names are replaced once every new one has been validated.
    """
    if num_enroll < 1:
        raise ValueError(f"--num-enroll={num_enroll}: must be at least 1")
    if cross_age not in CROSS_AGE_CHOICES:
        raise ValueError(f"--cross-age-trials={cross_age}: expected one of {', '.join(CROSS_AGE_CHOICES)}")
    parse_nontargets(nontargets)
    if sample_rate is not None and sample_rate <= 0:
        sample_rate = None

    halves_dirs, root = find_halves(src)
    halves = {name: read_half(name, p, root, log) for name, p in halves_dirs.items()}
    spk2gender: dict[str, str] = {}
    spk2age: dict[str, int] = {}
    spk_half: dict[str, str] = {}
    for half in halves.values():
        for spk in c_sorted(set(half.utt2spk.values())):
            if spk in spk_half:
                raise DataDirError(f"speaker '{spk}' is in both {halves[spk_half[spk]].path / 'utt2spk'} and "
                                   f"{half.path / 'utt2spk'}: the halves must have disjoint speakers")
            spk_half[spk] = half.name
        spk2gender.update(half.spk2gender)
        spk2age.update(half.spk2age)
    if halves["train"].text is None:
        raise DataDirError(f"{halves['train'].path / 'text'}: missing (the training half needs transcripts "
                           f"for {PREFIX}_asr)")

    split = "test" not in halves
    if split:
        train_spk, test_spk = split_speakers(spk_half, spk2age, test_fraction, seed, adult_age)
        if log is not None:
            n_child = sum(1 for s in test_spk if age_group(spk2age.get(s), adult_age) == CHILD)
            n_child_tr = sum(1 for s in train_spk if age_group(spk2age.get(s), adult_age) == CHILD)
            log.info(f"only the train half is in {src} (no test/): its {len(spk_half)} speakers are split by "
                     f"age group into {len(train_spk)} training speakers ({n_child_tr} children) and "
                     f"{len(test_spk)} evaluation speakers ({n_child} children) "
                     f"(test fraction {test_fraction}, seed {seed})")
    else:
        train_spk = c_sorted(s for s, h in spk_half.items() if h == "train")
        test_spk = c_sorted(s for s, h in spk_half.items() if h == "test")

    info: dict[str, Utterance] = {}
    for half in halves.values():
        for utt, spk in half.utt2spk.items():
            new = utt_id(utt, spk)
            if new in info:
                raise DataDirError(f"{half.path / 'utt2spk'}: utterance '{utt}' gives the id '{new}' twice")
            spec = half.wav[utt]
            info[new] = Utterance(spk, resampled_spec(spec, sample_rate), half.text[utt] if half.text else None,
                                  _duration(spec))
    spk2utts: dict[str, list[str]] = {}
    for u in c_sorted(info):
        spk2utts.setdefault(info[u].spk, []).append(u)

    train_utts = [u for s in train_spk for u in spk2utts[s]]
    models, enroll_utts, test_u2s = split_enrollment(test_spk, spk2utts, num_enroll, log)
    if len(models) < 2:
        raise DataDirError(f"{src}: {len(models)} evaluation speaker(s) with more than {num_enroll} utterances; "
                           f"need at least 2 for non-target trials")
    lists = _trial_lists(models, test_u2s, spk2age, nontargets, seed, adult_age, cross_age, log)

    lex_path = _find_lexicon(lexicon, Path(src), halves_dirs)
    data_root = Path(data_root)
    data_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{PREFIX}.tmp-", dir=data_root))
    try:
        sets = {f"{PREFIX}_asr": train_utts, f"{PREFIX}_train": train_utts, f"{PREFIX}_enroll": enroll_utts,
                f"{PREFIX}_test": c_sorted(test_u2s)}
        summary = Summary({}, {}, split, None)
        for name, utts in sets.items():
            _write_set(tmp / name, utts, info, spk2gender, spk2age, log=log)
            durs = [info[u].duration for u in utts]
            hours = sum(durs) / 3600.0 if all(x is not None for x in durs) else None  # type: ignore[misc]
            summary.sets[name] = (len({info[u].spk for u in utts}), len(utts), hours)
        for list_name, rows in lists.items():
            _write_trials(tmp / f"{PREFIX}_test" / list_name, rows)
            summary.trials[list_name] = _trial_counts(rows)
        for name in sets:
            validate_data_dir(tmp / name, no_feats=True, no_text=(name != f"{PREFIX}_asr"))
        if lex_path is not None:
            counts = count_words([tmp / f"{PREFIX}_asr" / "text"])
            res = make_dict(counts, read_pron_dict(lex_path), keep_stress=keep_stress)
            write_dict_dir(tmp / "dict", res)
            summary.dict_dir = str(data_root / DICT_DIR)
            summary.dict_words = len({w for w, _ in res.lexicon}) - 2
            summary.dict_oov_tokens = sum(res.oov_counts.values())
        for name in sets:
            replace_dir(tmp / name, data_root / name)
        if lex_path is not None:
            (data_root / "local").mkdir(exist_ok=True)
            replace_dir(tmp / "dict", data_root / DICT_DIR)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if log is not None:
        _log_summary(log, summary, data_root, sample_rate, lex_path, nontargets, num_enroll, cross_age, seed)
    return summary


def _find_lexicon(lexicon: str | os.PathLike | None, src: Path, halves: Mapping[str, Path]) -> Path | None:
    if lexicon is not None and str(lexicon) != "":
        p = Path(lexicon)
        if not p.is_file():
            raise DataDirError(f"{lexicon}: no such lexicon file")
        return p
    for base in (src, src.parent, *[h.parent for h in halves.values()]):
        cand = base / "resource" / "lexicon.txt"
        if cand.is_file():
            return cand
    return None


def _log_summary(log, s: Summary, data_root: Path, sample_rate: int | None, lex_path: Path | None,
                 nontargets, num_enroll: int, cross_age: str, seed: int) -> None:
    rate = f"{sample_rate} Hz" if sample_rate else "the corpus rate"
    for name, (n_spk, n_utt, hours) in s.sets.items():
        h = f", {hours:.2f} h" if hours is not None else ""
        log.info(f"{data_root / name}: {n_spk} speakers, {n_utt} utterances{h} (audio at {rate})")
    log.info(f"enrolment: the first {num_enroll} utterances (C order) of each evaluation speaker; non-targets per "
             f"test utterance: {nontargets} (seed {seed}); age lists: model's speaker under {ADULT_AGE} = child, "
             f"cross-age trials {'dropped' if cross_age == 'drop' else 'kept by the model'}")
    for name, (n_t, n_n) in s.trials.items():
        log.info(f"{data_root / f'{PREFIX}_test' / name}: {n_t + n_n} trials, {n_t} target, {n_n} nontarget")
    if lex_path is None:
        log.info("no resource/lexicon.txt: no dict dir written; the dictionary is left to CMUdict "
                 "(local/prepare_dict.py)")
    else:
        log.info(f"{s.dict_dir}: {s.dict_words} words from {lex_path}, {s.dict_oov_tokens} OOV token(s) "
                 f"in {PREFIX}_asr/text")
