"""Transcribed telephone speech for the SRE10 recipe's ASR DNNs: Fisher English + Switchboard-1.

The paper trains DNN-1 on Fisher English and Switchboard-1 (about 2300 hours with transcripts) and DNN-2 on
Switchboard-1 only (about 319 hours). :func:`prepare_fisher_swbd` writes the two Kaldi data dirs
``<prefix>_asr`` (both corpora) and ``<prefix>_asr2`` (the Switchboard-1 utterances of it), one utterance per
transcribed turn of one side of a call, each side of a call being a recording and a speaker (Kaldi's convention
for both corpora: sides, not speaker PINs).

Published layouts read (found by walking the trees, so any unpacking works):

* Switchboard-1 Release 2 audio (LDC97S62): ``.../sw02001.sph`` etc., two-channel 8 kHz mu-law SPHERE
  (shorten-compressed), side A on channel 1, side B on channel 2.
* The Mississippi State transcripts (``swb_ms98_transcriptions``): ``<nn>/<nnnn>/sw2001A-ms98-a-trans.text``,
  lines ``sw2001A-ms98-a-0001 0.000000 0.977625 [silence]``. Conversation ``sw2001`` is audio ``sw02001``.
* Fisher English audio (LDC2004S13, LDC2005S13): ``fe_03_p1_sph1/audio/000/fe_03_00001.sph`` (the second
  part is also distributed as ``fisher_eng_tr_sp_d1/...``), two-channel 8 kHz SPHERE.
* Fisher English transcripts (LDC2004T19, LDC2005T19): ``fe_03_p1_tran/data/trans/000/fe_03_00001.txt``, a first
  line ``# fe_03_00001.sph`` then turns ``7.38 8.78 A: an- so the topic is``.

Ids follow Kaldi's fisher_swbd preparation so that our data dirs and Kaldi's can be mixed: Switchboard
``sw02001-A_000098-001156`` (speaker and recording ``sw02001-A``; times are hundredths of a second rounded to
nearest), Fisher ``fe_03_00001-A-000738-000877`` (speaker and recording ``fe_03_00001-A``; times are hundredths
*truncated*, as Kaldi's ``sprintf("%06d", t*100)`` does, so an end time ``8.78`` (``8.78*100`` is
877.99999... in floating point) becomes ``000877`` and the segment ends at 8.77 s). Audio is
``<sph2pipe> -f wav -p -c <1|2> <file.sph> |``: sph2pipe decodes shorten and mu-law to 16-bit PCM (soundfile
reads mu-law SPHERE but not shorten, and a wav.scp path could not pick the channel).

Text normalisation (all words lower-case in the output, the case both corpora are transcribed in):

* Switchboard (the mapping of Kaldi's ``swbd1_map_words.pl``, written anew; see :func:`normalize_swbd_word`):
  ``[silence]`` and the ``<b_aside>``/``<e_aside>`` markers are removed; ``[noise]``, ``[vocalized-noise]`` and
  ``[laughter]`` stay (the lexicon gives bracketed tokens a noise phone); a word laughed while spoken,
  ``[laughter-yes]``, becomes ``yes``; a mispronunciation ``[it'n/isn't]`` becomes what was said (``it'n``); partial
  words keep the spoken part and a hyphen where the rest was cut: ``ab[solute]-`` -> ``ab-``, ``-[an]y`` ->
  ``-y``; a word with an unpronounced inner part ``ammu[n]it-`` -> ``ammu-it-``; coinages ``{yuppiedom}`` ->
  ``yuppiedom``; word-sense tags ``them_1`` -> ``them``. Turns left without words are dropped. (Kaldi's s5c also
  rewrites Switchboard acronyms to Fisher's ``a._b._c.`` spelling with a map built from its own lexicon; we do
  not have that lexicon, so acronyms stay as transcribed.)
* Fisher (as Kaldi's ``fisher_data_prep.sh``): a turn containing ``((`` (a stretch the transcriber could not
  make out) is dropped whole; ``[laugh]`` -> ``[laughter]``; ``[sigh]``, ``[cough]``, ``[mn]``, ``[breath]``,
  ``[lipsmack]`` -> ``[noise]``; partial words (``an-``) stay.

Turns whose audio file is missing, zero-length turns (after rounding to hundredths) and repeated utterance ids
are dropped with a warning giving their number.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from phonsid.data import DataDirError
from phonsid.recipes.dataset import DataSet, write_data_set
from phonsid.recipes.sre import sph_pipe, split_paths


def find_files(roots: Iterable[str | os.PathLike], pattern: str, what: str) -> dict[str, Path]:
    """Walks ``roots`` (following links) for files whose name fully matches ``pattern`` (case-insensitive);
    returns lower-cased stem -> absolute path. The same name found twice is an error naming both paths."""
    rx = re.compile(pattern, re.IGNORECASE)
    out: dict[str, Path] = {}
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            raise DataDirError(f"{root}: no such directory ({what})")
        for dirpath, dirs, files in os.walk(root, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                if rx.fullmatch(name):
                    stem = name.rsplit(".", 1)[0].lower()
                    path = (Path(dirpath) / name).absolute()
                    if stem in out and out[stem] != path:
                        raise DataDirError(f"{what}: '{name}' found twice: {out[stem]} and {path}")
                    out[stem] = path
    return out


# ----------------------------------------------------------------------------------------- Switchboard text

_SWBD_DROP = {"[silence]", "<b_aside>", "<e_aside>"}
_LAUGH_WORD = re.compile(r"^\[laughter-(.+)\](-?)$")
_MISPRONOUNCED = re.compile(r"^\[(.+)/.+\](-?)$")
_CUT_START = re.compile(r"^-?\[[^\[\]]+\](.+)$")
_CUT_END = re.compile(r"^(.+)\[[^\[\]]+\]-?$")
_BROKEN_TAIL = re.compile(r"^([^\[\]]+)\[.+\]$")
_COINAGE = re.compile(r"^\{(.+)\}$")
_INNER_DROP = re.compile(r"([a-z])\[[^\[\]]+\]([a-z])")
_SENSE_TAG = re.compile(r"_\d")


def normalize_swbd_word(word: str) -> str:
    """One Switchboard (MS-State) token in Kaldi's spelling, lower-cased; see the module docstring.

    The rules apply in order, each to the result of the one before (a mispronunciation may hold a partial word:
    ``[lem[guini]-/linguini]`` -> ``lem[guini]-`` -> ``lem-``).
    """
    w = word.lower()
    w = _LAUGH_WORD.sub(r"\1\2", w)
    w = _MISPRONOUNCED.sub(r"\1\2", w)
    w = _CUT_START.sub(r"-\1", w)
    w = _CUT_END.sub(r"\1-", w)
    w = _BROKEN_TAIL.sub(r"\1", w)  # e.g. ex[specially]-/especially] (a transcription slip) -> ex
    w = _COINAGE.sub(r"\1", w)
    w = _INNER_DROP.sub(r"\1-\2", w)
    w = _SENSE_TAG.sub("", w, count=1)
    return w


def normalize_swbd_words(words: Sequence[str]) -> list[str]:
    """A Switchboard turn's tokens, normalised, without silence and aside markers (may come back empty)."""
    return [normalize_swbd_word(w) for w in words if w.lower() not in _SWBD_DROP]


# ----------------------------------------------------------------------------------------- Fisher text

FISHER_NOISE_MAP = {"[laugh]": "[laughter]", "[sigh]": "[noise]", "[cough]": "[noise]", "[mn]": "[noise]",
                    "[breath]": "[noise]", "[lipsmack]": "[noise]"}


def normalize_fisher_words(text: str) -> list[str] | None:
    """A Fisher turn's words, lower-cased with the noise markers mapped; None when the turn is to be dropped
    (it holds ``((``, the mark of speech the transcriber could not make out)."""
    if "((" in text:
        return None
    words = text.lower().split()
    return [FISHER_NOISE_MAP.get(w, w) for w in words]


# ----------------------------------------------------------------------------------------- turns


@dataclasses.dataclass(frozen=True)
class Turn:
    """One transcribed turn of one side of a call."""

    utt: str
    reco: str  # <call>-<A|B>, also the speaker
    call: str  # audio file stem
    side: str  # A or B
    start_cs: int  # hundredths of a second
    end_cs: int
    words: tuple[str, ...]
    source: str  # file:line, for messages


_MS98_NAME = re.compile(r"sw(\d{4})([ab])-ms98-a-trans\.text", re.IGNORECASE)
_MS98_UTT = re.compile(r"^sw(\d{4})([AB])-ms98-a-\d+$", re.IGNORECASE)


def read_ms98_transcripts(root: str | os.PathLike) -> list[Turn]:
    """All turns of the MS-State Switchboard transcripts under ``root`` (``*-ms98-a-trans.text`` files)."""
    files = find_files([root], _MS98_NAME.pattern, "Switchboard-1 transcripts (swb_ms98_transcriptions)")
    if not files:
        raise DataDirError(f"{root}: no sw*-ms98-a-trans.text files (expected swb_ms98_transcriptions/"
                           f"<nn>/<nnnn>/sw2001A-ms98-a-trans.text)")
    turns: list[Turn] = []
    for stem in sorted(files):
        path = files[stem]
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                fields = line.split()
                if not fields:
                    continue
                m = _MS98_UTT.match(fields[0])
                if len(fields) < 3 or not m:
                    raise DataDirError(f"{path}:{lineno}: expected 'sw<nnnn><A|B>-ms98-a-<n> <start> <end> "
                                       f"words...', got '{line.strip()}'")
                try:
                    start, end = float(fields[1]), float(fields[2])
                except ValueError:
                    raise DataDirError(f"{path}:{lineno}: bad times '{fields[1]} {fields[2]}'") from None
                call = f"sw0{m.group(1)}"
                side = m.group(2).upper()
                s_cs, e_cs = int(100 * start + 0.5), int(100 * end + 0.5)
                reco = f"{call}-{side}"
                turns.append(Turn(f"{reco}_{s_cs:06d}-{e_cs:06d}", reco, call, side, s_cs, e_cs,
                                  tuple(normalize_swbd_words(fields[3:])), f"{path}:{lineno}"))
    return turns


_FISHER_NAME = re.compile(r"fe_03_\d{5}\.txt", re.IGNORECASE)
_FISHER_TURN = re.compile(r"^\s*([0-9.]+)\s+([0-9.]+)\s+([AB]):\s*(.*?)\s*$")


def read_fisher_transcripts(roots: Iterable[str | os.PathLike]) -> list[Turn]:
    """All turns of the Fisher English transcripts (``fe_03_NNNNN.txt`` files) under ``roots``; turns that
    Kaldi drops (see :func:`normalize_fisher_words`) come back with no words."""
    roots = list(roots)
    files = find_files(roots, _FISHER_NAME.pattern, "Fisher English transcripts")
    if not files:
        raise DataDirError(f"{', '.join(map(str, roots))}: no fe_03_NNNNN.txt transcript files (expected "
                           f"fe_03_p1_tran/data/trans/000/fe_03_00001.txt)")
    turns: list[Turn] = []
    for call in sorted(files):
        path = files[call]
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline()
            m = re.match(r"#\s*(\S+)\.sph", first)
            if not m:
                raise DataDirError(f"{path}:1: expected '# {call}.sph' as the first line, got '{first.strip()}'")
            if m.group(1).lower() != call:
                raise DataDirError(f"{path}:1: names call '{m.group(1)}' but the file is {call}.txt")
            for lineno, line in enumerate(f, 2):
                t = _FISHER_TURN.match(line)
                if not t or not t.group(4):
                    continue  # comments, blank lines
                try:
                    s_cs, e_cs = int(float(t.group(1)) * 100.0), int(float(t.group(2)) * 100.0)
                except ValueError:
                    raise DataDirError(f"{path}:{lineno}: bad times in '{line.strip()}'") from None
                if e_cs >= 10 ** 6:
                    raise DataDirError(f"{path}:{lineno}: end time {t.group(2)} s is too long for a call")
                side = t.group(3)
                reco = f"{call}-{side}"
                words = normalize_fisher_words(t.group(4))
                turns.append(Turn(f"{reco}-{s_cs:06d}-{e_cs:06d}", reco, call, side, s_cs, e_cs,
                                  tuple(words or ()), f"{path}:{lineno}"))
    return turns


# ----------------------------------------------------------------------------------------- audio


@dataclasses.dataclass
class TurnReport:
    kept: int = 0
    no_words: int = 0
    no_audio: int = 0
    empty_segment: int = 0
    duplicate: int = 0
    calls_without_audio: int = 0


def turns_to_data_set(turns: Sequence[Turn], audio: Mapping[str, Path], sph2pipe: str | None,
                      sample_rate: int | None = None) -> tuple[DataSet, TurnReport]:
    """A data set (segments per turn, one recording and speaker per call side) from ``turns`` with audio."""
    from phonsid.augment.datadir import resampled_spec

    rep = TurnReport()
    ds = DataSet(utt2spk={}, wav={}, text={}, segments={}, reco2file_and_channel={})
    calls_missing: set[str] = set()
    for t in turns:
        if not t.words:
            rep.no_words += 1
            continue
        if t.call not in audio:
            rep.no_audio += 1
            calls_missing.add(t.call)
            continue
        if t.end_cs <= t.start_cs:
            rep.empty_segment += 1
            continue
        if t.utt in ds.utt2spk:
            rep.duplicate += 1
            continue
        rep.kept += 1
        ds.utt2spk[t.utt] = t.reco
        ds.text[t.utt] = " ".join(t.words)
        ds.segments[t.utt] = (t.reco, t.start_cs / 100.0, t.end_cs / 100.0)
        if t.reco not in ds.wav:
            spec = sph_pipe(audio[t.call], 1 if t.side == "A" else 2, sph2pipe)
            ds.wav[t.reco] = resampled_spec(spec, sample_rate)
            ds.reco2file_and_channel[t.reco] = f"{t.call} {t.side}"
    rep.calls_without_audio = len(calls_missing)
    return ds, rep


def _merge(a: DataSet, b: DataSet) -> DataSet:
    for name in ("utt2spk", "wav", "text", "segments", "reco2file_and_channel"):
        x, y = getattr(a, name), getattr(b, name)
        clash = x.keys() & y.keys()
        if clash:
            raise DataDirError(f"Fisher and Switchboard share the {name} key '{sorted(clash)[0]}'")
        x.update(y)
    return a


def _log_report(log, what: str, rep: TurnReport) -> None:
    if log is None:
        return
    log.info(f"{what}: {rep.kept} turns kept; dropped {rep.no_words} without words, {rep.no_audio} without "
             f"audio ({rep.calls_without_audio} calls), {rep.empty_segment} of zero length, "
             f"{rep.duplicate} repeated ids")
    if rep.calls_without_audio:
        log.warning(f"{what}: {rep.calls_without_audio} transcribed calls have no audio file; their "
                    f"{rep.no_audio} turns are left out")


def prepare_fisher_swbd(data_root: str | os.PathLike, *, swbd1: str | os.PathLike | None,
                        swbd1_transcripts: str | os.PathLike | None,
                        fisher_audio: str | Sequence[str] = (), fisher_transcripts: str | Sequence[str] = (),
                        prefix: str = "sre10", sph2pipe: str | None = "sph2pipe", use_fisher: bool = True,
                        sample_rate: int | None = None, log=None) -> dict[str, DataSet]:
    """Writes ``<data_root>/<prefix>_asr`` (Fisher + Switchboard-1) and ``<prefix>_asr2`` (Switchboard-1 only).

    ``fisher_audio`` / ``fisher_transcripts`` take one or more roots (a list or a comma-separated string);
    ``use_fisher=False`` leaves Fisher out (then both sets hold Switchboard-1). ``sample_rate`` other than None
    or 8000 adds phonsid's resampler to the pipes. An empty ``sph2pipe`` reads (uncompressed) SPHERE with
    :mod:`phonsid.recipes.sre` instead of sph2pipe. Returns the two sets by name.
    """
    if not swbd1 or not swbd1_transcripts:
        raise DataDirError("Switchboard-1 is needed: set 'swbd1' (LDC97S62 audio) and 'swbd1_transcripts' "
                           "(swb_ms98_transcriptions)")
    if sample_rate == 8000:
        sample_rate = None
    swbd_audio = find_files([swbd1], r"sw0\d{4}\.sph", "Switchboard-1 audio (LDC97S62)")
    if not swbd_audio:
        raise DataDirError(f"{swbd1}: no sw0NNNN.sph files (Switchboard-1 audio, LDC97S62)")
    swbd_turns = read_ms98_transcripts(swbd1_transcripts)
    swbd, rep = turns_to_data_set(swbd_turns, swbd_audio, sph2pipe, sample_rate)
    _log_report(log, "Switchboard-1", rep)
    if not swbd.utt2spk:
        raise DataDirError(f"{swbd1_transcripts}: no Switchboard-1 turn has both words and audio under {swbd1}")
    swbd_utts = list(swbd.utt2spk)

    full = swbd
    if use_fisher:
        f_audio, f_trans = split_paths(fisher_audio), split_paths(fisher_transcripts)
        if not f_audio or not f_trans:
            raise DataDirError("Fisher English is needed (or turn it off): set 'fisher_audio' (LDC2004S13,"
                               "LDC2005S13) and 'fisher_transcripts' (LDC2004T19,LDC2005T19)")
        audio = find_files(f_audio, r"fe_03_\d{5}\.sph", "Fisher English audio")
        if not audio:
            raise DataDirError(f"{', '.join(f_audio)}: no fe_03_NNNNN.sph files (Fisher English audio)")
        fisher, rep = turns_to_data_set(read_fisher_transcripts(f_trans), audio, sph2pipe, sample_rate)
        _log_report(log, "Fisher English", rep)
        if not fisher.utt2spk:
            raise DataDirError(f"{', '.join(f_trans)}: no Fisher turn has both words and audio")
        full = _merge(swbd.subset(swbd_utts), fisher)

    sets = {f"{prefix}_asr": full, f"{prefix}_asr2": swbd.subset(swbd_utts)}
    for name, ds in sets.items():
        warnings = write_data_set(Path(data_root) / name, ds)
        if log is not None:
            for w in warnings:
                log.warning(w)
            log.info(f"{Path(data_root) / name}: {len(ds.utt2spk)} utterances, {ds.num_speakers} speakers "
                     f"(call sides), {len(ds.wav)} recordings, {ds.hours():.2f} hours")
    return sets


__all__ = [
    "FISHER_NOISE_MAP", "Turn", "TurnReport", "find_files", "normalize_fisher_words",
    "normalize_swbd_word", "normalize_swbd_words", "prepare_fisher_swbd",
    "read_fisher_transcripts", "read_ms98_transcripts", "turns_to_data_set",
]
