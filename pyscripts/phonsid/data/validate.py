"""Checking a data directory the way Kaldi's ``utils/validate_data_dir.sh`` does, with one-line errors.

Every problem raises :class:`DataDirError` with a single line ``<file>:<line>: <problem>`` (the line number is
left out where the problem is a missing entry, which has no line in that file). Checks, in Kaldi's order:
utt2spk/spk2utt present, well formed, C-sorted, unique, consistent, and utt2spk sorted by speaker too
(``no_spk_sort`` turns that off); text (unless ``no_text``), wav.scp (unless ``no_wav``), segments,
reco2file_and_channel, feats.scp (unless ``no_feats``), cmvn.scp, spk2gender, spk2warp, utt2warp, vad.scp,
utt2lang, utt2uniq, utt2dur, utt2num_frames, reco2dur: each sorted and unique, with exactly the key set of
utt2spk (or of the speakers / recordings for the files indexed by those).

Beyond Kaldi, ``check_wavs=True`` (implied by ``sample_rate``) opens the header of every plain-path audio file in
wav.scp (pipes are skipped): a missing or unreadable file, a sample rate other than ``sample_rate``, or a
segment ending past its recording is an error naming the wav.scp/segments line.
"""

from __future__ import annotations

import os
import re
from typing import Sequence

from phonsid.data.datadir import DataDir, Line, check_sorted_unique, read_lines, recordings_of
from phonsid.data.kaldi_map import DataDirError

_ILLEGAL_TEXT = re.compile(r"(?<![A-Za-z0-9_])(<s>|</s>|#0)(?![A-Za-z0-9_])")
_TILDE = re.compile(r"^\S+\s+~")
_ARK_OFFSET = re.compile(r"^(.*):(\d+)$")
# Kaldi's extract-segments accepts a segment ending this far past its recording (then truncates it).
_SEGMENT_OVERSHOOT = 0.5


def _load(data: DataDir, name: str) -> list[Line]:
    """Reads one file for validation: no blank lines, final newline, C-sorted unique keys."""
    path = data.file(name)
    lines = read_lines(path, blank="error", need_newline=True)
    check_sorted_unique(path, lines)
    return lines


def _same_keys(path: os.PathLike | str, lines: Sequence[Line], ref: Sequence[Line], ref_name: str,
               what: str) -> None:
    """Raises unless ``lines`` has exactly the keys of ``ref``, naming the first extra or missing key."""
    keys = {ln.key for ln in lines}
    ref_keys = {ln.key for ln in ref}
    if keys == ref_keys:
        return
    extra = [ln for ln in lines if ln.key not in ref_keys]
    missing = [ln for ln in ref if ln.key not in keys]
    counts = f"{len(missing)} {what}(s) of {ref_name} missing, {len(extra)} not in {ref_name}"
    if extra:
        ln = extra[0]
        raise DataDirError(f"{path}:{ln.lineno}: {what} '{ln.key}' is not in {ref_name} ({counts})")
    ln = missing[0]
    raise DataDirError(f"{path}: {what} '{ln.key}' (line {ln.lineno} of {ref_name}) is missing ({counts})")


def _speaker_lines(spk2utt: Sequence[Line]) -> list[Line]:
    return [Line(ln.lineno, ln.key, ln.key) for ln in spk2utt]


def _check_fields(path, lines: Sequence[Line], n: int, form: str) -> None:
    for ln in lines:
        if len(ln.fields) != n:
            raise DataDirError(f"{path}:{ln.lineno}: expected '{form}', got '{ln.text.strip()}'")


def _check_positive(path, lines: Sequence[Line], what: str, integer: bool = False) -> None:
    for ln in lines:
        f = ln.fields
        ok = len(f) == 2
        if ok:
            try:
                v = float(f[1])
                ok = v > 0 and (not integer or (v == int(v) and re.fullmatch(r"[0-9]+", f[1]) is not None))
            except ValueError:
                ok = False
        if not ok:
            kind = "a positive integer" if integer else "a positive number"
            raise DataDirError(f"{path}:{ln.lineno}: expected '<key> <{what}>' with {kind}, got '{ln.text.strip()}'")


def _check_text(path, lines: Sequence[Line], non_print: bool) -> None:
    for ln in lines:
        t = ln.text
        if t.replace("\t", " ").isprintable() and "<" not in t and "#0" not in t:
            continue  # the common case, checked in C; the loop below finds what is wrong
        if "\r" in t:
            raise DataDirError(f"{path}:{ln.lineno}: utterance '{ln.key}' contains a CR (0x0D) character")
        for ch in t:
            if ch.isspace() and ch not in " \t":
                raise DataDirError(f"{path}:{ln.lineno}: utterance '{ln.key}' contains the disallowed whitespace "
                                   f"U+{ord(ch):04X}")
            if not non_print and not ch.isprintable() and not ch.isspace():
                raise DataDirError(f"{path}:{ln.lineno}: utterance '{ln.key}' contains the non-printable character "
                                   f"U+{ord(ch):04X} (use --non-print to allow it)")
        m = _ILLEGAL_TEXT.search(t)
        if m:
            raise DataDirError(f"{path}:{ln.lineno}: utterance '{ln.key}' contains the illegal symbol {m.group(1)}")


def _check_utt2spk(data: DataDir, no_spk_sort: bool) -> tuple[list[Line], list[Line]]:
    for name in ("utt2spk", "spk2utt"):
        p = data.require(name)
        if os.path.getsize(p) == 0:
            raise DataDirError(f"{p}: empty file")
    u_path, s_path = data.file("utt2spk"), data.file("spk2utt")
    utt2spk = _load(data, "utt2spk")
    _check_fields(u_path, utt2spk, 2, "utterance speaker")
    if not no_spk_sort:
        prev: Line | None = None
        for ln in utt2spk:
            if prev is not None:
                a = (prev.fields[1].encode(), prev.text.encode())
                b = (ln.fields[1].encode(), ln.text.encode())
                if b < a:
                    raise DataDirError(
                        f"{u_path}:{ln.lineno}: not sorted by speaker: speaker '{ln.fields[1]}' comes after "
                        f"'{prev.fields[1]}' (line {prev.lineno}); make speaker-ids prefixes of utterance-ids "
                        f"(or pass --no-spk-sort)")
            prev = ln
    spk2utt = _load(data, "spk2utt")
    owner = {ln.key: (ln.fields[1], ln.lineno) for ln in utt2spk}
    listed: dict[str, tuple[str, int]] = {}
    for ln in spk2utt:
        f = ln.fields
        if len(f) < 2:
            raise DataDirError(f"{s_path}:{ln.lineno}: speaker '{ln.key}' has no utterances")
        spk = f[0]
        prev_utt = None
        for utt in f[1:]:
            if utt in listed:
                raise DataDirError(f"{s_path}:{ln.lineno}: utterance '{utt}' is listed twice (speaker "
                                   f"'{listed[utt][0]}' on line {listed[utt][1]} and speaker '{spk}')")
            listed[utt] = (spk, ln.lineno)
            if utt not in owner:
                raise DataDirError(f"{s_path}:{ln.lineno}: utterance '{utt}' of speaker '{spk}' is not in {u_path}; "
                                   f"spk2utt and utt2spk do not match")
            if owner[utt][0] != spk:
                raise DataDirError(f"{s_path}:{ln.lineno}: utterance '{utt}' is listed under speaker '{spk}' but "
                                   f"{u_path} line {owner[utt][1]} gives speaker '{owner[utt][0]}'; spk2utt and "
                                   f"utt2spk do not match")
            if prev_utt is not None and utt.encode() <= prev_utt.encode():
                raise DataDirError(f"{s_path}:{ln.lineno}: utterances of speaker '{spk}' are not in sorted order "
                                   f"('{utt}' after '{prev_utt}')")
            prev_utt = utt
    for ln in utt2spk:
        if ln.key not in listed:
            raise DataDirError(f"{u_path}:{ln.lineno}: utterance '{ln.key}' (speaker '{ln.fields[1]}') is not listed "
                               f"in {s_path}; spk2utt and utt2spk do not match")
    return utt2spk, spk2utt


def _audio_header(path: str):
    import soundfile

    return soundfile.info(path)


def _check_wavs(data: DataDir, wav: Sequence[Line], segments: Sequence[Line] | None,
                sample_rate: int | None) -> None:
    wav_path = data.file("wav.scp")
    what = "recording" if segments is not None else "utterance"
    durations: dict[str, float] = {}
    for ln in wav:
        spec = ln.value
        if spec.endswith("|"):
            continue  # a pipe: reading it would run it; left to the tools that read the audio
        if not os.path.isfile(spec):
            m = _ARK_OFFSET.match(spec)
            if m and os.path.isfile(m.group(1)):
                continue  # an offset into a wav archive
            raise DataDirError(f"{wav_path}:{ln.lineno}: {what} '{ln.key}': audio file '{spec}' does not exist")
        try:
            info = _audio_header(spec)
        except Exception as e:  # soundfile raises RuntimeError/LibsndfileError subclasses
            raise DataDirError(f"{wav_path}:{ln.lineno}: {what} '{ln.key}': cannot read the audio header of "
                               f"'{spec}': {e}") from None
        if sample_rate is not None and int(info.samplerate) != int(sample_rate):
            raise DataDirError(f"{wav_path}:{ln.lineno}: {what} '{ln.key}': '{spec}' has sample rate "
                               f"{info.samplerate} Hz, expected {sample_rate} Hz")
        durations[ln.key] = info.frames / float(info.samplerate)
    if segments is not None:
        seg_path = data.file("segments")
        for ln in segments:
            _, reco, _, end = ln.fields
            if reco in durations and float(end) > durations[reco] + _SEGMENT_OVERSHOOT:
                raise DataDirError(f"{seg_path}:{ln.lineno}: segment '{ln.key}' ends at {end} s, past the end of "
                                   f"recording '{reco}' ({durations[reco]:.3f} s)")


def _check_reco2file_and_channel(path, lines: Sequence[Line], warnings: list[str]) -> None:
    ones = 0
    for ln in lines:
        f = ln.fields
        if len(f) == 3 and f[2] == "1":
            ones += 1
        elif len(f) != 3 or f[2] not in ("A", "B"):
            raise DataDirError(f"{path}:{ln.lineno}: expected '<recording> <file> <A|B>', got '{ln.text.strip()}'")
    if ones:
        warnings.append(f"{path}: the channel should be marked as A or B, not 1 ({ones} line(s))")


def validate_data_dir(path: str | os.PathLike, *, no_feats: bool = False, no_text: bool = False,
                      no_wav: bool = False, no_spk_sort: bool = False, non_print: bool = False,
                      check_wavs: bool = False, sample_rate: int | None = None) -> list[str]:
    """Validates a data dir; raises DataDirError (one line: file, line, problem) at the first problem.

    The ``no_*`` flags mean the file need not exist (it is still checked when present). Returns the warnings
    (e.g. a single speaker) for the caller to print.
    """
    data = DataDir(path)
    data.require_dir()
    warnings: list[str] = []
    utt2spk, spk2utt = _check_utt2spk(data, no_spk_sort)
    if len(spk2utt) == 1:
        warnings.append(f"WARNING: {data.file('spk2utt')} has only one speaker; this is probably a bad idea "
                        f"(see 'bold' in http://kaldi-asr.org/doc/data_prep.html)")
    speakers = _speaker_lines(spk2utt)

    if data.has("text"):
        p = data.file("text")
        text = _load(data, "text")
        _check_text(p, text, non_print)
        _same_keys(p, text, utt2spk, "utt2spk", "utterance")
    elif not no_text:
        raise DataDirError(f"{data.file('text')}: no such file (if this is by design, specify --no-text)")

    segments: list[Line] | None = None
    if data.has("segments") and not data.has("wav.scp"):
        raise DataDirError(f"{data.file('segments')}: segments file exists but there is no wav.scp")
    if data.has("wav.scp"):
        wav_path = data.file("wav.scp")
        wav = _load(data, "wav.scp")
        for ln in wav:
            if not ln.value:
                raise DataDirError(f"{wav_path}:{ln.lineno}: '{ln.key}' has no audio file or command")
            if _TILDE.match(ln.text):
                raise DataDirError(f"{wav_path}:{ln.lineno}: do not use tilde (~) in wav.scp: the file is opened "
                                   f"without shell expansion")
        recordings: list[Line]
        if data.has("segments"):
            seg_path = data.file("segments")
            segments = _load(data, "segments")
            for ln in segments:
                f = ln.fields
                bad = len(f) != 4
                if not bad:
                    try:
                        start, end = float(f[2]), float(f[3])
                        bad = start < 0 or end <= start
                    except ValueError:
                        bad = True
                if bad:
                    raise DataDirError(f"{seg_path}:{ln.lineno}: bad segment: expected "
                                       f"'<utterance> <recording> <start> <end>' with 0 <= start < end, "
                                       f"got '{ln.text.strip()}'")
            _same_keys(seg_path, segments, utt2spk, "utt2spk", "utterance")
            used = recordings_of(segments)
            seg_reco = {r: ln for ln in reversed(segments) for r in [ln.fields[1]]}
            for ln in wav:
                if ln.key not in used:
                    raise DataDirError(f"{wav_path}:{ln.lineno}: recording '{ln.key}' is not used by any segment "
                                       f"in {seg_path}")
            wav_keys = {ln.key for ln in wav}
            for reco, ln in sorted(seg_reco.items(), key=lambda kv: kv[1].lineno):
                if reco not in wav_keys:
                    raise DataDirError(f"{seg_path}:{ln.lineno}: segment '{ln.key}' refers to recording '{reco}' "
                                       f"which is not in {wav_path}")
            recordings = wav
        else:
            _same_keys(wav_path, wav, utt2spk, "utt2spk", "utterance")
            recordings = utt2spk
        ref_name = "wav.scp" if segments is not None else "utt2spk"
        what = "recording" if segments is not None else "utterance"
        if data.has("reco2file_and_channel"):
            p = data.file("reco2file_and_channel")
            lines = _load(data, "reco2file_and_channel")
            _check_reco2file_and_channel(p, lines, warnings)
            _same_keys(p, lines, recordings, ref_name, what)
        if data.has("reco2dur"):
            p = data.file("reco2dur")
            lines = _load(data, "reco2dur")
            _check_positive(p, lines, "duration")
            _same_keys(p, lines, recordings, ref_name, what)
        if check_wavs or sample_rate is not None:
            _check_wavs(data, wav, segments, sample_rate)
    elif not no_wav:
        raise DataDirError(f"{data.file('wav.scp')}: no such file (if this is by design, specify --no-wav)")

    if data.has("feats.scp"):
        p = data.file("feats.scp")
        lines = _load(data, "feats.scp")
        for ln in lines:
            if not ln.value:
                raise DataDirError(f"{p}:{ln.lineno}: utterance '{ln.key}' has no feature location")
        _same_keys(p, lines, utt2spk, "utt2spk", "utterance")
    elif not no_feats:
        raise DataDirError(f"{data.file('feats.scp')}: no such file (if this is by design, specify --no-feats)")

    if data.has("cmvn.scp"):
        p = data.file("cmvn.scp")
        _same_keys(p, _load(data, "cmvn.scp"), speakers, "spk2utt", "speaker")
    if data.has("spk2gender"):
        p = data.file("spk2gender")
        lines = _load(data, "spk2gender")
        for ln in lines:
            f = ln.fields
            if len(f) != 2 or f[1] not in ("m", "f"):
                raise DataDirError(f"{p}:{ln.lineno}: expected '<speaker> <m|f>', got '{ln.text.strip()}'")
        _same_keys(p, lines, speakers, "spk2utt", "speaker")
    for name, ref, ref_name, what in (("spk2warp", speakers, "spk2utt", "speaker"),
                                      ("utt2warp", utt2spk, "utt2spk", "utterance")):
        if data.has(name):
            p = data.file(name)
            lines = _load(data, name)
            for ln in lines:
                f = ln.fields
                try:
                    ok = len(f) == 2 and 0.5 < float(f[1]) < 1.5
                except ValueError:
                    ok = False
                if not ok:
                    raise DataDirError(f"{p}:{ln.lineno}: expected '<key> <warp factor between 0.5 and 1.5>', "
                                       f"got '{ln.text.strip()}'")
            _same_keys(p, lines, ref, ref_name, what)
    for name in ("vad.scp", "utt2lang", "utt2uniq"):
        if data.has(name):
            p = data.file(name)
            lines = _load(data, name)
            for ln in lines:
                if not ln.value:
                    raise DataDirError(f"{p}:{ln.lineno}: utterance '{ln.key}' has no value")
            _same_keys(p, lines, utt2spk, "utt2spk", "utterance")
    if data.has("utt2dur"):
        p = data.file("utt2dur")
        lines = _load(data, "utt2dur")
        _check_positive(p, lines, "duration")
        _same_keys(p, lines, utt2spk, "utt2spk", "utterance")
    if data.has("utt2num_frames"):
        p = data.file("utt2num_frames")
        lines = _load(data, "utt2num_frames")
        _check_positive(p, lines, "num-frames", integer=True)
        _same_keys(p, lines, utt2spk, "utt2spk", "utterance")
    if data.has("reco2dur") and not data.has("wav.scp"):
        p = data.file("reco2dur")
        lines = _load(data, "reco2dur")
        _check_positive(p, lines, "duration")
        _same_keys(p, lines, utt2spk, "utt2spk", "utterance")
    return warnings
