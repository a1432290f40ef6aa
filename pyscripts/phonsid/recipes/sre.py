"""Speaker side of the SRE10 recipe (the paper's setup): NIST SRE 2004-2008 + Switchboard-2 for training, SRE10
for enrolment and trials.

:func:`prepare_sre10` writes three Kaldi data dirs under the data root:

* ``<prefix>_train``: every call side of NIST SRE 2004, 2005, 2006, 2008 and Switchboard-2 Phases I, II, III and
  Switchboard Cellular Parts 1, 2 that carries a speaker label, one utterance per side (the paper: 3,769
  speakers, 54,450 sessions); speakers with fewer than ``min_utts_per_spk`` sides are dropped.
* ``<prefix>_enroll``: the SRE10 models of the chosen trials; ``spk2utt`` maps each MODEL id to its side(s).
* ``<prefix>_test``: the SRE10 test sides of the chosen trials (utt2spk maps a side to itself, as Kaldi's
  ``make_sre_2010_test.pl``), with ``trials`` (``<model> <test-utt> target|nontarget``) of the main condition and
  ``trials_<cond>`` for every condition of the key that has trials.

Layouts read (the LDC releases as Kaldi's ``egs/sre08``, ``sre10``, ``sre16`` recipes prepare them; audio is
found by walking each release for ``*.sph`` and matching the file stem, so any unpacking works):

* SRE speaker labels, one of (per year; the first that has entries for the year wins):

  - ``sre_speaker_list``: the SRE04-08 speaker list Kaldi's sre10/sre16 recipes use (OpenSLR 15,
    ``speaker_list``): lines ``<speaker> <m|f> sre<YYYY> <segment> <A|B>``.
  - SRE2004: NIST's key ``sre04_key-v2.txt`` (OpenSLR 10; whitespace fields, segment 1st, side 4th,
    speaker 6th, gender 7th).
  - SRE2005: NIST's key ``sre05-key-v7b.txt`` (OpenSLR 10; speaker 1st, segment 2nd, side 5th, gender 9th).
  - SRE2008: the keys in the test release (LDC2011S08)
    ``data/keys/NIST_SRE08_KEYS.v0.1/model-keys/NIST_SRE08_short2.model.key`` (``model,gender,seg:side,speaker``)
    and ``.../trial-keys/NIST_SRE08_short2-short3.trial.key`` (``model,seg,side,target|nontarget,...``): the
    enrolment side of each model and the test sides of its target trials.

  SRE06 has labels only through the speaker list. Speaker ids are LDC speaker PINs, shared across the years
  (the same person in SRE05 and SRE08 is one speaker, as in Kaldi's sre10 recipe): ``sre-<pin>``.
* Switchboard-2 (``callstat.tbl`` found anywhere in the release, comma-separated): Phase I (LDC98S75) call file
  1st, speakers 3rd/4th, genders 6th/7th; Phase II (LDC99S79) speakers 3rd/4th, genders 5th/6th, the call file from
  ``callinfo.tbl`` (the second of each pair of lines, as Kaldi reads it); Phase III (LDC2002S06) call number 1st
  (audio ``sw_<n>.sph``), speakers 4th/5th, genders 6th/7th. Cellular Parts 1, 2 (LDC2001S13, LDC2004S07)
  ``swb_callstats.tbl``: call number 1st, speakers 2nd/3rd, genders 4th/5th (calls 40019, 45024, 40022 have bad
  audio and are skipped, as Kaldi does). Speaker 1 is channel 1 (side A). Speaker ids ``sw-<pin>``; calls are
  matched to audio by number (``sw_10001.sph``, ``sw10001`` and ``10001`` are call ``10001``).
* SRE10 evaluation (``keys/``, ``train/``, ``data/`` of the eval release): ``train/coreext.trn``
  (``<model> <m|f> <path>.sph:<A|B>``), ``keys/coreext-coreext.trialkey.csv`` (header, then
  ``model,segment,side,target|nontarget,<scored Y|N>,<c1>,...,<c9>`` with Y/N for the nine common conditions).
  Only scored trials are used. The main ``trials`` are all of them ("coreext", the paper's extended core-core
  condition) or those of common condition 5 (telephone-telephone, Kaldi's sre10 recipe): ``trials_condition``.

Utterance ids start with the speaker id and a ``-`` (which sorts before every digit and letter, so utt2spk and
spk2utt agree in C order): ``sre-<pin>-sre08-<segment>-<A|B>``, ``sw-<pin>-<swbd2p1|...|swbdc2>-<call number>-<A|B>``,
enrolment ``<model>-<segment>_<A|B>``, test ``<segment>_<A|B>`` (Kaldi's test ids).

Audio: ``<sph2pipe> -f wav -p -c <1|2> <file.sph> |`` (sph2pipe decodes shorten and mu-law). With ``sph2pipe``
empty, ``<python> -m phonsid.io.sphere -c <1|2> <file.sph> |`` instead: :func:`read_sphere` decodes
uncompressed SPHERE (16/8-bit PCM, mu-law, a-law) without sph2pipe; shorten-compressed files need sph2pipe.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shlex
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence


from phonsid.data.kaldi_map import DataDirError
from phonsid.io.pipeline import own_command
from phonsid.io.sphere import (SphereHeader, parse_sphere_header, read_sphere, read_sphere_header,
                               sphere_to_wav)
from phonsid.io.sphere import main as sphere_main

_LOG = logging.getLogger("phonsid.recipes.sre")

# ----------------------------------------------------------------------------------------- corpora.conf


def read_corpora_conf(path: str | os.PathLike) -> dict[str, str]:
    """Reads a corpora file: ``key=path`` lines, ``#`` comments (whole-line or trailing), blank lines ignored.

    A key given twice or a line without ``=`` is an error naming the file and line; an empty value means "not
    set" and is left out. Values keep inner spaces, not surrounding ones.
    """
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise DataDirError(f"{path}: cannot read the corpora file: {e.strerror}") from None
    for lineno, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            raise DataDirError(f"{path}:{lineno}: expected 'key=path', got '{raw.strip()}'")
        if key in seen:
            raise DataDirError(f"{path}:{lineno}: key '{key}' already set on line {seen[key]}")
        seen[key] = lineno
        if value:
            out[key] = value
    return out


def add_corpora_options(parser, keys: Sequence[str], what: dict[str, str] | None = None) -> None:
    """One ``--<key>`` option per corpora-file key (default None: not given), overriding the file's value."""
    for key in keys:
        about = f" ({what[key]})" if what and key in what else ""
        parser.add_argument("--" + key.replace("_", "-"), dest=key, default=None,
                            help=f"overrides '{key}' of <corpora-conf>{about}")


def corpora_values(conf_path: str | os.PathLike, args, keys: Sequence[str]) -> dict[str, str]:
    """The corpora file's ``key=path`` values with the options of ``add_corpora_options`` given on the command
    line put over them (keys set in neither are absent)."""
    values = read_corpora_conf(conf_path)
    for key in keys:
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    return values


def sph2pipe_program(values: dict[str, str]) -> str:
    """The sph2pipe program of a corpora file (default ``sph2pipe``); '' for 'none'/empty: phonsid reads
    uncompressed SPHERE itself."""
    program = values.get("sph2pipe")
    program = "sph2pipe" if program is None else program.strip()
    return "" if program.lower() in ("", "none") else program


def split_paths(value: str | Sequence[str] | None) -> list[str]:
    """A comma-separated conf value as a list of paths (a list is returned as it is)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return [str(p) for p in value]


# ----------------------------------------------------------------------------------------- SPHERE


def sph_pipe(path: str | os.PathLike, channel: int, sph2pipe: str | None = "sph2pipe") -> str:
    """The wav.scp value for one channel (1-based) of a SPHERE file: sph2pipe, or :mod:`phonsid.io.sphere`
    when empty (run in process by the readers)."""
    if sph2pipe:
        return f"{shlex.quote(sph2pipe)} -f wav -p -c {channel} {shlex.quote(str(path))} |"
    return own_command("sph2wav", ["-c", str(channel), shlex.quote(str(path))]) + " |"


# ----------------------------------------------------------------------------------------- audio index


def index_sph(roots: Iterable[str | os.PathLike]) -> tuple[dict[str, Path], int]:
    """Walks ``roots`` (following links) for ``*.sph``; returns (lower-cased stem -> absolute path, number of
    duplicate stems ignored: the first in sorted walk order is kept)."""
    out: dict[str, Path] = {}
    dups = 0
    for root in roots:
        for dirpath, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                if name.lower().endswith(".sph"):
                    stem = name[:-4].lower()
                    if stem in out:
                        dups += 1
                        continue
                    out[stem] = (Path(dirpath) / name).absolute()
    return out, dups


def _find_file(roots: Iterable[str | os.PathLike], name: str) -> Path | None:
    """The first file called ``name`` (case-insensitive) under ``roots``."""
    want = name.lower()
    for root in roots:
        for dirpath, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            for f in sorted(files):
                if f.lower() == want:
                    return Path(dirpath) / f
    return None


def _stem(field: str) -> str:
    """A segment or call name from a key field: no directory, no ``.sph``, lower case."""
    name = field.strip().replace("\\", "/").rsplit("/", 1)[-1]
    if name.lower().endswith(".sph"):
        name = name[:-4]
    return name.lower()


def _side(value: str, where: str) -> str:
    s = value.strip().upper()
    if s not in ("A", "B"):
        raise DataDirError(f"{where}: side must be A or B, got '{value.strip()}'")
    return s


def _gender(value: str, where: str) -> str:
    g = value.strip().lower()
    if g in ("m", "male"):
        return "m"
    if g in ("f", "female"):
        return "f"
    raise DataDirError(f"{where}: unknown gender '{value.strip()}' (expected M or F)")


# ----------------------------------------------------------------------------------------- labelled sides


@dataclasses.dataclass(frozen=True)
class Side:
    """One speaker-labelled call side: ``speaker`` (already namespaced), ``source`` tag, recording ``stem``."""

    speaker: str
    gender: str | None
    source: str
    stem: str
    side: str  # "A" or "B"

    @property
    def channel(self) -> int:
        return 1 if self.side == "A" else 2

    @property
    def utt(self) -> str:
        return f"{self.speaker}-{self.source}-{self.stem}-{self.side}"


_YEAR = re.compile(r"^sre(?:20)?(\d\d)$", re.IGNORECASE)


def _key_rows(path: str | os.PathLike, parses: Callable[[list[str]], bool], expected: str,
              sep: str | None = ",", header: bool = True) -> Iterator[tuple[str, list[str]]]:
    """The non-empty rows of a key or list file split at ``sep`` (None: whitespace), fields stripped, with their
    ``file:line``. A row that does not parse is an error naming ``expected``, except a first line when the file
    may have a ``header``."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            a = [x.strip() for x in line.strip().split(sep)] if sep else line.split()
            if a in ([""], []):
                continue
            where = f"{path}:{lineno}"
            if not parses(a):
                if header and lineno == 1:
                    continue
                raise DataDirError(f"{where}: expected {expected}, got '{line.strip()}'")
            yield where, a


def read_sre_speaker_list(path: str | os.PathLike) -> dict[int, list[Side]]:
    """OpenSLR-15 ``speaker_list``: ``<speaker> <gender> sre<YYYY> <segment> <A|B>`` -> sides per year."""
    out: dict[int, list[Side]] = defaultdict(list)
    for where, fields in _key_rows(path, lambda a: len(a) == 5, "'<speaker> <gender> sre<YYYY> <segment> <A|B>'",
                                   sep=None, header=False):
        m = _YEAR.match(fields[2])
        if not m:
            raise DataDirError(f"{where}: bad SRE year '{fields[2]}' (expected e.g. sre2004)")
        year = 2000 + int(m.group(1))
        out[year].append(Side(f"sre-{fields[0]}", _gender(fields[1], where), f"sre{year % 100:02d}",
                              _stem(fields[3]), _side(fields[4], where)))
    return dict(out)


def read_sre04_key(path: str | os.PathLike) -> list[Side]:
    """NIST's SRE04 key (``sre04_key-v2.txt``): segment, -, -, side, -, speaker, gender, ... per line; summed
    (two-speaker) and unknown sides are skipped."""
    out: list[Side] = []
    for where, a in _key_rows(path, lambda a: len(a) >= 7,
                              "at least 7 fields (segment .. side .. speaker gender)", sep=None, header=False):
        if a[3].upper() not in ("A", "B"):
            continue
        out.append(Side(f"sre-{a[5]}", _gender(a[6], where), "sre04", _stem(a[0]), a[3].upper()))
    return out


def read_sre05_key(path: str | os.PathLike) -> list[Side]:
    """NIST's SRE05 key (``sre05-key-v7b.txt``): speaker, segment, -, -, side, -, -, -, gender per line; summed
    sides and speakers of unknown gender are skipped (as Kaldi does)."""
    out: list[Side] = []
    for where, a in _key_rows(path, lambda a: len(a) >= 9,
                              "at least 9 fields (speaker segment .. side .. gender)", sep=None, header=False):
        if a[4].upper() not in ("A", "B") or a[8].lower() not in ("m", "f"):
            continue
        out.append(Side(f"sre-{a[0]}", a[8].lower(), "sre05", _stem(a[1]), a[4].upper()))
    return out


SRE08_MODEL_KEY = "NIST_SRE08_short2.model.key"
SRE08_TRIAL_KEY = "NIST_SRE08_short2-short3.trial.key"


def read_sre08_keys(model_key: str | os.PathLike, trial_key: str | os.PathLike) -> list[Side]:
    """SRE08 short2 model key (``model,gender,seg:side,speaker``) and short2-short3 trial key
    (``model,seg,side,target|nontarget,...``): each model's enrolment side and the test sides of its target
    trials, labelled with the model's speaker. A header line (first line that does not parse) is skipped."""
    model2spk: dict[str, tuple[str, str]] = {}
    out: list[Side] = []
    for where, a in _key_rows(model_key, lambda a: len(a) >= 4 and ":" in a[2]
                              and a[1].lower() in ("m", "f", "male", "female"), "'model,gender,segment:side,speaker'"):
        seg, _, side = a[2].partition(":")
        gender = _gender(a[1], where)
        model2spk[a[0]] = (f"sre-{a[3]}", gender)
        out.append(Side(f"sre-{a[3]}", gender, "sre08", _stem(seg), _side(side, where)))
    for where, a in _key_rows(trial_key, lambda a: len(a) >= 4 and a[3].lower() in ("target", "nontarget"),
                              "'model,segment,side,target|nontarget,...'"):
        if a[3].lower() != "target" or a[0] not in model2spk:
            continue
        spk, gender = model2spk[a[0]]
        out.append(Side(spk, gender, "sre08", _stem(a[1]), _side(a[2], where)))
    return out


# ----------------------------------------------------------------------------------------- Switchboard-2

SWBD_CELLULAR_BAD = {"swbdc1": {"40019", "45024", "40022"}, "swbdc2": {"45024", "40022"}}


def _csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    out = []
    with open(path, encoding="latin-1") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                out.append((lineno, [x.strip() for x in line.strip().split(",")]))
    return out


def _call_stem(value: str) -> str:
    """A Switchboard call as its number: ``sw_10001.sph``, ``sw10001`` and ``10001`` are all ``10001``."""
    return re.sub(r"^sw_?", "", _stem(value))


def _pair(source: str, call: str, spk1: str, spk2: str, g1: str, g2: str, where: str) -> list[Side]:
    if not spk1 or not spk2:
        raise DataDirError(f"{where}: empty speaker id")
    return [Side(f"sw-{spk1}", _gender(g1, where), source, call, "A"),
            Side(f"sw-{spk2}", _gender(g2, where), source, call, "B")]


def read_swbd2_phase1(root: str | os.PathLike) -> list[Side]:
    """Switchboard-2 Phase I (LDC98S75) ``callstat.tbl``: call file, -, speaker 1, speaker 2, -, gender 1,
    gender 2, ..."""
    tbl = _find_file([root], "callstat.tbl")
    if tbl is None:
        raise DataDirError(f"{root}: no callstat.tbl (Switchboard-2 Phase I, LDC98S75)")
    out = []
    for lineno, a in _csv_lines(tbl):
        where = f"{tbl}:{lineno}"
        if len(a) < 7:
            raise DataDirError(f"{where}: expected at least 7 comma-separated fields")
        out += _pair("swbd2p1", _call_stem(a[0]), a[2], a[3], a[5], a[6], where)
    return out


def read_swbd2_phase2(root: str | os.PathLike) -> list[Side]:
    """Switchboard-2 Phase II (LDC99S79): ``callstat.tbl`` (-, -, speaker 1, speaker 2, gender 1, gender 2, ...)
    with the call file taken from the second of each pair of ``callinfo.tbl`` lines (Kaldi's reading)."""
    tbl = _find_file([root], "callstat.tbl")
    info = _find_file([root], "callinfo.tbl")
    if tbl is None or info is None:
        raise DataDirError(f"{root}: no callstat.tbl / callinfo.tbl (Switchboard-2 Phase II, LDC99S79)")
    stats, infos = _csv_lines(tbl), _csv_lines(info)
    if len(infos) < 2 * len(stats):
        raise DataDirError(f"{info}: {len(infos)} lines for the {len(stats)} calls of {tbl} (expected 2 per call)")
    out = []
    for k, (lineno, a) in enumerate(stats):
        where = f"{tbl}:{lineno}"
        if len(a) < 6:
            raise DataDirError(f"{where}: expected at least 6 comma-separated fields")
        call = _call_stem(infos[2 * k + 1][1][0])
        out += _pair("swbd2p2", call, a[2], a[3], a[4], a[5], where)
    return out


def read_swbd2_phase3(root: str | os.PathLike) -> list[Side]:
    """Switchboard-2 Phase III (LDC2002S06) ``callstat.tbl``: call number, -, -, speaker 1, speaker 2,
    gender 1, gender 2, ..."""
    tbl = _find_file([root], "callstat.tbl")
    if tbl is None:
        raise DataDirError(f"{root}: no callstat.tbl (Switchboard-2 Phase III, LDC2002S06)")
    out = []
    for lineno, a in _csv_lines(tbl):
        where = f"{tbl}:{lineno}"
        if len(a) < 7:
            raise DataDirError(f"{where}: expected at least 7 comma-separated fields")
        out += _pair("swbd2p3", _call_stem(a[0]), a[3], a[4], a[5], a[6], where)
    return out


def read_swbd_cellular(root: str | os.PathLike, part: int) -> list[Side]:
    """Switchboard Cellular Part 1 (LDC2001S13) / 2 (LDC2004S07) ``swb_callstats.tbl``: call number, speaker 1,
    speaker 2, gender 1, gender 2, ...; the calls Kaldi lists as bad audio are skipped."""
    source = f"swbdc{part}"
    tbl = _find_file([root], "swb_callstats.tbl")
    if tbl is None:
        raise DataDirError(f"{root}: no swb_callstats.tbl (Switchboard Cellular Part {part})")
    out = []
    for lineno, a in _csv_lines(tbl):
        where = f"{tbl}:{lineno}"
        if len(a) < 5:
            raise DataDirError(f"{where}: expected at least 5 comma-separated fields")
        if a[0] in SWBD_CELLULAR_BAD[source]:
            continue
        out += _pair(source, _call_stem(a[0]), a[1], a[2], a[3], a[4], where)
    return out


# ----------------------------------------------------------------------------------------- SRE10


@dataclasses.dataclass(frozen=True)
class Sre10Trial:
    model: str
    stem: str
    side: str
    target: bool
    conditions: frozenset[int]  # common conditions 1..9 flagged Y

    @property
    def test_utt(self) -> str:
        return f"{self.stem}_{self.side}"


def read_sre10_train_list(path: str | os.PathLike) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """An SRE10 ``train/<cond>.trn``: ``<model> <gender> <path.sph:side>[,<path.sph:side>...]`` -> model ->
    (gender, [(stem, side)])."""
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for where, a in _key_rows(path, lambda a: len(a) >= 3, "'<model> <gender> <file.sph:side>'", sep=None,
                              header=False):
        segs = []
        for item in ",".join(a[2:]).split(","):
            if not item:
                continue
            seg, colon, side = item.rpartition(":")
            if not colon:
                raise DataDirError(f"{where}: '{item}' has no ':<side>'")
            segs.append((_stem(seg), _side(side, where)))
        if a[0] in out:
            raise DataDirError(f"{where}: model '{a[0]}' listed twice")
        out[a[0]] = (_gender(a[1], where), segs)
    return out


def read_sre10_trial_key(path: str | os.PathLike) -> list[Sre10Trial]:
    """An SRE10 ``keys/<a>-<b>.trialkey.csv``: scored trials with their common-condition flags (the header and
    unscored trials are skipped)."""
    out: list[Sre10Trial] = []
    for where, a in _key_rows(path, lambda a: len(a) >= 5 and a[3].lower() in ("target", "nontarget"),
                              "'model,segment,side,target|nontarget,scored,c1..c9'"):
        if a[4].upper() != "Y":
            continue
        conds = frozenset(i for i, flag in enumerate(a[5:14], 1) if flag.upper() == "Y")
        out.append(Sre10Trial(a[0], _stem(a[1]), _side(a[2], where), a[3].lower() == "target", conds))
    return out


# ----------------------------------------------------------------------------------------- writing


@dataclasses.dataclass
class SetSummary:
    name: str
    utterances: int
    speakers: int
    hours: float | None = None
    trials: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)  # list -> (target, nontarget)


def _write_dir(out: Path, utt2spk: Mapping[str, str], wav: Mapping[str, str],
               spk2gender: Mapping[str, str] | None = None,
               trials: Mapping[str, Sequence[str]] | None = None) -> None:
    """Writes a data dir beside ``out``, validates it and renames it into place (nothing half-written is left)."""
    from phonsid.recipes.dataset import DataSet, write_data_set

    write_data_set(out, DataSet(dict(utt2spk), dict(wav), spk2gender=dict(spk2gender) if spk2gender else None),
                   trials)


def _hours(paths: Iterable[Path], channels_used: Mapping[Path, int]) -> float | None:
    """Hours of audio from the SPHERE headers (sample_count / sample_rate) times the sides used per file."""
    total = 0.0
    for p in sorted(set(paths)):  # a fixed order: the float sum is the same in every run
        try:
            h = read_sphere_header(p)
        except (OSError, DataDirError):
            return None
        if h.sample_count is None:
            return None
        total += h.sample_count / h.sample_rate * channels_used[p]
    return total / 3600.0


# ----------------------------------------------------------------------------------------- training set

SRE_YEARS = {2004: ("sre04",), 2005: ("sre05_train", "sre05_test"), 2006: ("sre06_train", "sre06_test"),
             2008: ("sre08_train", "sre08_test")}
SWBD_KEYS = ("swbd2_phase1", "swbd2_phase2", "swbd2_phase3", "swbd_cellular1", "swbd_cellular2")
TRAIN_KEYS = tuple(k for keys in SRE_YEARS.values() for k in keys) + SWBD_KEYS
LABEL_KEYS = ("sre_speaker_list", "sre04_key", "sre05_key")


def _existing(conf: Mapping[str, str], key: str, log: logging.Logger, what: str) -> list[str]:
    """The directories of ``key`` that exist; an unset key or a missing path is a WARNING and skipped."""
    paths = split_paths(conf.get(key))
    if not paths:
        log.warning(f"'{key}' ({what}) is not set: skipped")
        return []
    out = []
    for p in paths:
        if os.path.isdir(p):
            out.append(p)
        else:
            log.warning(f"'{key}' ({what}): no such directory {p}: skipped")
    return out


CORPUS_NAMES = {
    "sre04": "NIST SRE 2004, LDC2006S44", "sre05_train": "NIST SRE 2005 train, LDC2011S01",
    "sre05_test": "NIST SRE 2005 test, LDC2011S04", "sre06_train": "NIST SRE 2006 train, LDC2011S09",
    "sre06_test": "NIST SRE 2006 test, LDC2011S10,LDC2012S01", "sre08_train": "NIST SRE 2008 train, LDC2011S05",
    "sre08_test": "NIST SRE 2008 test, LDC2011S08", "swbd2_phase1": "Switchboard-2 Phase I, LDC98S75",
    "swbd2_phase2": "Switchboard-2 Phase II, LDC99S79", "swbd2_phase3": "Switchboard-2 Phase III, LDC2002S06",
    "swbd_cellular1": "Switchboard Cellular Part 1, LDC2001S13",
    "swbd_cellular2": "Switchboard Cellular Part 2, LDC2004S07", "sre10_eval": "NIST SRE 2010 evaluation",
}


def collect_training_sides(conf: Mapping[str, str], log: logging.Logger = _LOG
                           ) -> tuple[list[tuple[Side, Path]], dict[str, int]]:
    """Every labelled call side with audio of the training corpora in ``conf``; returns the (side, audio) pairs and
    per-source side counts. Sides whose audio is missing, and the same call side labelled twice, are dropped with
    a WARNING giving their number."""
    out: list[tuple[Side, Path]] = []
    counts: dict[str, int] = {}
    speaker_list = None
    if conf.get("sre_speaker_list"):
        if not os.path.isfile(conf["sre_speaker_list"]):
            raise DataDirError(f"'sre_speaker_list': no such file {conf['sre_speaker_list']}")
        speaker_list = read_sre_speaker_list(conf["sre_speaker_list"])

    def add(source: str, sides: list[Side], audio: Mapping[str, Path], dups: int) -> None:
        seen: dict[tuple[str, str], Side] = {}
        missing, relabelled = [], 0
        for s in sides:
            key = (s.stem, s.side)
            if key in seen:
                if seen[key].speaker != s.speaker:
                    relabelled += 1
                continue
            if s.stem not in audio:
                missing.append(s.stem)
                continue
            seen[key] = s
            out.append((s, audio[s.stem]))
        counts[source] = len(seen)
        if missing:
            log.warning(f"{source}: {len(missing)} labelled side(s) have no audio (e.g. '{missing[0]}'): skipped")
        if relabelled:
            log.warning(f"{source}: {relabelled} call side(s) labelled again with another speaker: "
                        f"the first label kept")
        if dups:
            log.warning(f"{source}: {dups} .sph file name(s) found more than once: the first kept")
        log.info(f"{source}: {len(seen)} call sides of {len({s.speaker for s in seen.values()})} speakers")

    for year, keys in SRE_YEARS.items():
        roots = [r for k in keys for r in _existing(conf, k, log, CORPUS_NAMES[k])]
        if not roots:
            continue
        source = f"sre{year % 100:02d}"
        sides = (speaker_list or {}).get(year, [])
        if not sides:
            if year == 2004 and conf.get("sre04_key"):
                sides = read_sre04_key(conf["sre04_key"])
            elif year == 2005 and conf.get("sre05_key"):
                sides = read_sre05_key(conf["sre05_key"])
            elif year == 2008:
                model_key = _find_file(roots, SRE08_MODEL_KEY)
                trial_key = _find_file(roots, SRE08_TRIAL_KEY)
                if model_key and trial_key:
                    sides = read_sre08_keys(model_key, trial_key)
        if not sides:
            hint = {2004: "sre04_key", 2005: "sre05_key", 2006: "sre_speaker_list",
                    2008: f"{SRE08_MODEL_KEY} in the release"}[year]
            log.warning(f"SRE{year}: no speaker labels (set sre_speaker_list, or {hint}): skipped")
            continue
        audio, dups = index_sph(roots)
        add(source, sides, audio, dups)

    readers = {"swbd2_phase1": read_swbd2_phase1, "swbd2_phase2": read_swbd2_phase2,
               "swbd2_phase3": read_swbd2_phase3, "swbd_cellular1": lambda r: read_swbd_cellular(r, 1),
               "swbd_cellular2": lambda r: read_swbd_cellular(r, 2)}
    for key in SWBD_KEYS:
        for root in _existing(conf, key, log, CORPUS_NAMES[key]):
            sides = readers[key](root)
            found, dups = index_sph([root])
            audio = {_call_stem(stem): path for stem, path in found.items()}
            add(sides[0].source if sides else key, sides, audio, dups)
    return out, counts


def make_training_set(sides: Sequence[tuple[Side, Path]], sph2pipe: str | None, min_utts_per_spk: int = 1,
                      log: logging.Logger = _LOG) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """utt2spk, wav.scp and spk2gender of the labelled sides, keeping speakers with ``min_utts_per_spk`` sides."""
    per_spk = Counter(s.speaker for s, _ in sides)
    keep = {spk for spk, n in per_spk.items() if n >= min_utts_per_spk}
    if len(keep) < len(per_spk):
        log.info(f"dropped {len(per_spk) - len(keep)} speaker(s) with fewer than {min_utts_per_spk} utterances "
                 f"({sum(n for s, n in per_spk.items() if s not in keep)} utterances)")
    utt2spk, wav, spk2gender = {}, {}, {}
    conflicts = 0
    for s, path in sides:
        if s.speaker not in keep:
            continue
        utt2spk[s.utt] = s.speaker
        wav[s.utt] = sph_pipe(path, s.channel, sph2pipe)
        if s.gender:
            if spk2gender.setdefault(s.speaker, s.gender) != s.gender:
                conflicts += 1
    if conflicts:
        log.warning(f"{conflicts} side(s) give their speaker another gender than an earlier side: the first kept")
    return utt2spk, wav, spk2gender


# ----------------------------------------------------------------------------------------- SRE10 eval

SRE10_CONDITIONS = ("coreext", "5")


def make_sre10_eval(root: str | os.PathLike, sph2pipe: str | None, condition: str = "coreext",
                    extra_trials: bool = True, log: logging.Logger = _LOG):
    """The SRE10 enrolment and test tables and trial lists of the extended core (coreext-coreext) key.

    Returns (enroll (utt2spk, wav, spk2gender), test (utt2spk, wav, spk2gender), trial lists name -> lines).
    ``condition``: "coreext" (all scored trials) or "5" (common condition 5). With ``extra_trials`` the sets
    hold every side the extra lists ``trials_coreext`` / ``trials_cond<N>`` need; without, only the main list's.
    """
    if condition not in SRE10_CONDITIONS:
        raise DataDirError(f"unknown SRE10 condition '{condition}' (expected one of {', '.join(SRE10_CONDITIONS)})")
    root = Path(root)
    trn = _find_file([root / "train", root], "coreext.trn")
    key = _find_file([root / "keys", root], "coreext-coreext.trialkey.csv")
    if trn is None:
        raise DataDirError(f"'sre10_eval': no train/coreext.trn under {root}")
    if key is None:
        raise DataDirError(f"'sre10_eval': no keys/coreext-coreext.trialkey.csv under {root}")
    models = read_sre10_train_list(trn)
    trials = read_sre10_trial_key(key)
    audio, dups = index_sph([root / "data"] if (root / "data").is_dir() else [root])
    if dups:
        log.warning(f"SRE10: {dups} .sph file name(s) found more than once: the first kept")

    missing_models = {m for m, (_, segs) in models.items() if any(s not in audio for s, _ in segs)}
    unknown = {t.model for t in trials if t.model not in models}
    missing_tests = {t.stem for t in trials if t.stem not in audio}
    usable = [t for t in trials if t.model in models and t.model not in missing_models and t.stem in audio]
    if unknown:
        log.warning(f"SRE10: {len(unknown)} model(s) of {key} are not in {trn} (e.g. {sorted(unknown)[0]}): "
                    f"their trials are dropped")
    if missing_models or missing_tests:
        log.warning(f"SRE10: audio missing for {len(missing_models)} model(s) and {len(missing_tests)} test "
                    f"segment(s) (e.g. {sorted(missing_tests or missing_models)[0]}): their trials are dropped")
    if len(usable) < len(trials):
        log.warning(f"SRE10: {len(trials) - len(usable)} of {len(trials)} scored trials dropped")

    def lines(ts: Iterable[Sre10Trial]) -> list[str]:
        return [f"{t.model} {t.test_utt} {'target' if t.target else 'nontarget'}" for t in ts]

    lists: dict[str, list[str]] = {}
    main = usable if condition == "coreext" else [t for t in usable if 5 in t.conditions]
    lists["trials"] = lines(main)
    chosen = list(main)
    if extra_trials:
        lists["trials_coreext"] = lines(usable)
        for c in range(1, 10):
            sub = [t for t in usable if c in t.conditions]
            if sub:
                lists[f"trials_cond{c}"] = lines(sub)
        chosen = usable
    if not main:
        raise DataDirError(f"{key}: no scored trials with audio for condition '{condition}'")

    used_models = {t.model for t in chosen}
    e_utt2spk, e_wav, e_gender = {}, {}, {}
    for m in used_models:
        gender, segs = models[m]
        e_gender[m] = gender
        for stem, side in segs:
            utt = f"{m}-{stem}_{side}"
            e_utt2spk[utt] = m
            e_wav[utt] = sph_pipe(audio[stem], 1 if side == "A" else 2, sph2pipe)
    t_utt2spk, t_wav, t_gender = {}, {}, {}
    for t in chosen:
        utt = t.test_utt
        t_utt2spk[utt] = utt
        t_wav[utt] = sph_pipe(audio[t.stem], 1 if t.side == "A" else 2, sph2pipe)
        t_gender.setdefault(utt, models[t.model][0])  # SRE10 trials are same-gender
    return (e_utt2spk, e_wav, e_gender), (t_utt2spk, t_wav, t_gender), lists


def count_trials(lines: Iterable[str]) -> tuple[int, int]:
    """(target, nontarget) counts of trial lines."""
    c = Counter(line.split()[2] for line in lines)
    return c["target"], c["nontarget"]


# ----------------------------------------------------------------------------------------- the recipe


def prepare_sre10(data_root: str | os.PathLike, conf: Mapping[str, str], *, prefix: str = "sre10",
                  sph2pipe: str | None = "sph2pipe", min_utts_per_spk: int = 1, condition: str = "coreext",
                  extra_trials: bool = True, log: logging.Logger = _LOG) -> list[SetSummary]:
    """Writes ``<prefix>_train``, ``<prefix>_enroll`` and ``<prefix>_test`` (with trial lists) under
    ``data_root`` from the corpora in ``conf`` (keys as in ``conf/sre10/corpora.conf``).

    ``sre10_eval`` is required; the training corpora are optional (each missing one is a WARNING) but at least
    one must give labelled sides. ``sph2pipe`` empty or None reads uncompressed SPHERE through this module.
    """
    eval_root = conf.get("sre10_eval")
    if not eval_root:
        raise DataDirError("'sre10_eval' (the NIST SRE 2010 evaluation release) is required but not set")
    if not os.path.isdir(eval_root):
        raise DataDirError(f"'sre10_eval': no such directory {eval_root}")
    for k in LABEL_KEYS:
        if conf.get(k) and not os.path.isfile(conf[k]):
            raise DataDirError(f"'{k}': no such file {conf[k]}")
    if min_utts_per_spk < 1:
        raise DataDirError(f"min_utts_per_spk must be at least 1, got {min_utts_per_spk}")

    # Read everything before writing anything.
    enroll, test, lists = make_sre10_eval(eval_root, sph2pipe, condition, extra_trials, log)
    sides, _ = collect_training_sides(conf, log)
    if not sides:
        raise DataDirError("no labelled training speech: set at least one of " + ", ".join(TRAIN_KEYS)
                           + " (and sre_speaker_list for the NIST SRE years)")
    utt2spk, wav, spk2gender = make_training_set(sides, sph2pipe, min_utts_per_spk, log)
    if not utt2spk:
        raise DataDirError(f"no training speaker has {min_utts_per_spk} utterances")

    root = Path(data_root)
    summaries = []
    kept = {u for u in utt2spk}
    used: Counter = Counter(p for s, p in sides if s.utt in kept)
    train = SetSummary(f"{prefix}_train", len(utt2spk), len(set(utt2spk.values())), _hours(used, used))
    _write_dir(root / train.name, utt2spk, wav, spk2gender)
    summaries.append(train)

    e = SetSummary(f"{prefix}_enroll", len(enroll[0]), len(set(enroll[0].values())))
    _write_dir(root / e.name, *enroll)
    summaries.append(e)
    t = SetSummary(f"{prefix}_test", len(test[0]), len(test[0]),
                   trials={name: count_trials(ls) for name, ls in lists.items()})
    _write_dir(root / t.name, *test, trials=lists)
    summaries.append(t)

    for s in summaries:
        hours = "" if s.hours is None else f", {s.hours:.1f} hours"
        log.info(f"{root / s.name}: {s.utterances} utterances, {s.speakers} speakers{hours}")
        for name, (tar, non) in s.trials.items():
            log.info(f"{root / s.name}/{name}: {tar + non} trials ({tar} target, {non} nontarget)")
    return summaries


__all__ = [
    "LABEL_KEYS", "SRE10_CONDITIONS", "SWBD_KEYS", "TRAIN_KEYS", "SetSummary", "Side", "Sre10Trial",
    "SphereHeader", "collect_training_sides", "count_trials", "index_sph", "make_sre10_eval", "make_training_set",
    "parse_sphere_header", "prepare_sre10", "read_corpora_conf", "read_sphere", "read_sphere_header",
    "read_sre04_key", "read_sre05_key", "read_sre08_keys", "read_sre10_train_list", "read_sre10_trial_key",
    "read_sre_speaker_list", "read_swbd2_phase1", "read_swbd2_phase2", "read_swbd2_phase3", "read_swbd_cellular",
    "sph_pipe", "sphere_to_wav", "split_paths",
]


if __name__ == "__main__":  # wav.scp files written before phonsid.io.sphere name this module
    sys.exit(sphere_main(sys.argv[1:]))
