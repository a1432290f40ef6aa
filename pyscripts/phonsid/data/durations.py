"""Per-utterance durations and frame counts: ``utils/data/get_utt2dur.sh`` and ``get_utt2num_frames.sh``.

utt2dur (seconds) comes, as in Kaldi, from ``segments`` (end - start) if present, else from the audio in
wav.scp (headers of plain files via soundfile, pipes run and read whole), else from feats.scp
(frames x frame shift). Values are written the way Kaldi's tools print them: from segments and features as awk
prints numbers (``%.6g``), from audio as ``wav-to-duration`` prints a float (samples / rate in single precision,
6 significant digits).

utt2num_frames comes from feats.scp (the row count of each matrix, read from the Kaldi binary header without
loading the data: plain ``FM``/``DM`` and compressed ``CM``/``CM2``/``CM3`` matrices, and ``[r1:r2]`` row ranges;
anything else is loaded through :mod:`phonsid.io`), or, without features, from utt2dur as
``int((duration - frame_overlap) / frame_shift)``.
"""

from __future__ import annotations

import os
import re
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from phonsid.data.datadir import DataDir, make_lines, read_lines, write_lines
from phonsid.data.kaldi_map import DataDirError

_RANGE = re.compile(r"^(.*)\[([^\]]*)\]\s*$")
_OFFSET = re.compile(r"^(.*):(\d+)$")


def awk_number(x: float) -> str:
    """A number as awk's ``print`` writes it: integers plainly, others with ``%.6g``."""
    if x == int(x) and abs(x) < 1e16:
        return str(int(x))
    return "%.6g" % x


def kaldi_float(x: float) -> str:
    """A single-precision float as Kaldi's text output writes it (C++ ostream default: 6 significant digits)."""
    import numpy as np

    return "%.6g" % float(np.float32(x))


# ----------------------------------------------------------------------------------------------------------
# audio durations


def _audio_duration(spec: str, read_entire_file: bool) -> float:
    import numpy as np

    spec = spec.strip()
    if not spec.endswith("|") and not read_entire_file:
        try:
            import soundfile

            info = soundfile.info(spec)
            if info.frames > 0:
                return float(np.float32(info.frames) / np.float32(info.samplerate))
        except Exception:  # unreadable header (e.g. a streamed wav with a bogus size): read the whole file
            pass
    from phonsid.io.wav import read_wav_spec

    wave = read_wav_spec(spec)
    return float(np.float32(wave.num_samples) / np.float32(wave.sample_rate))


def compute_utt2dur(data_dir: str | os.PathLike, *, frame_shift: float = 0.01, nj: int = 4,
                    read_entire_file: bool = False, log: Callable[[str], None] | None = None) -> dict[str, str]:
    """Durations of the utterances of a data dir as formatted strings (utt → seconds), without writing.

    Utterances whose audio cannot be read are left out (each reported through ``log``).
    """
    data = DataDir(data_dir)
    say = log or (lambda m: None)
    if data.has("segments"):
        say(f"working out {data.file('utt2dur')} from {data.file('segments')}")
        out = {}
        for ln in data.lines("segments"):
            f = ln.fields
            if len(f) < 4:
                raise DataDirError(f"{data.file('segments')}:{ln.lineno}: expected '<utt> <recording> <start> <end>'")
            try:
                out[ln.key] = awk_number(float(f[3]) - float(f[2]))
            except ValueError:
                raise DataDirError(f"{data.file('segments')}:{ln.lineno}: start/end are not numbers") from None
        return out
    if data.has("wav.scp"):
        say("segments file does not exist so getting durations from wave files")
        lines = data.lines("wav.scp")

        def one(ln):
            try:
                return ln.key, kaldi_float(_audio_duration(ln.value, read_entire_file)), None
            except Exception as e:  # WavError, OSError, soundfile errors: reported per utterance
                return ln.key, None, f"{data.file('wav.scp')}:{ln.lineno}: utterance '{ln.key}': {e}"

        out = {}
        with ThreadPoolExecutor(max_workers=max(1, nj)) as pool:
            for key, dur, err in pool.map(one, lines):
                if err is not None:
                    say(f"warning: could not get the duration: {err}")
                else:
                    out[key] = dur
        return out
    if data.has("feats.scp"):
        say("wave file does not exist so getting durations from feats files")
        return {k: awk_number(n * frame_shift) for k, n in feature_lengths(data.file("feats.scp")).items()}
    raise DataDirError(f"{data.path}: expected wav.scp, segments or feats.scp to exist")


def get_utt2dur(data_dir: str | os.PathLike, *, frame_shift: float = 0.01, nj: int = 4,
                read_entire_file: bool = False, log: Callable[[str], None] | None = None) -> Path:
    """Writes ``<data>/utt2dur`` unless it exists with one line per utterance; returns its path.

    Fails (DataDirError) when fewer than half of the utterances got a duration, as Kaldi does; otherwise a
    shortfall is a warning (fix_data_dir.sh then drops the utterances without one).
    """
    data = DataDir(data_dir)
    data.require_dir()
    say = log or (lambda m: None)
    target = data.file("utt2dur")
    n_utts = len(data.lines("utt2spk")) if data.has("utt2spk") else None
    if target.is_file() and target.stat().st_size > 0 and n_utts is not None:
        if len(DataDir(data_dir).lines("utt2dur")) == n_utts:
            say(f"{target} already exists with the expected length.  We won't recompute it.")
            return target
    durs = compute_utt2dur(data_dir, frame_shift=frame_shift, nj=nj, read_entire_file=read_entire_file, log=say)
    if n_utts is not None and len(durs) != n_utts:
        say(f"warning: length of utt2dur does not equal that of utt2spk, {len(durs)} != {n_utts}")
        if n_utts > 2 * len(durs):
            raise DataDirError(f"{target}: less than half of the utterances got a duration ({len(durs)} of {n_utts})")
    write_lines(target, make_lines(durs))
    say(f"computed {target}")
    return target


# ----------------------------------------------------------------------------------------------------------
# feature lengths


def _rows_from_header(path: str, offset: int) -> int | None:
    """Rows of the binary Kaldi matrix at ``path``/``offset`` from its header, or None if not a plain binary
    matrix (text mode, vectors, unknown tokens)."""
    with open(path, "rb") as f:
        f.seek(offset)
        head = f.read(32)
    if head[:2] != b"\0B":
        return None
    sp = head.find(b" ", 2)
    if sp < 0:
        return None
    token, body = head[2:sp], head[sp + 1:]
    if token in (b"FM", b"DM"):
        if len(body) < 5 or body[0] != 4:
            return None
        return struct.unpack("<i", body[1:5])[0]
    if token in (b"CM", b"CM2", b"CM3"):
        if len(body) < 16:
            return None
        return struct.unpack("<i", body[8:12])[0]
    return None


def _entry_rows(entry: str) -> int | None:
    spec = entry.strip()
    if spec.endswith("|"):
        return None
    rows_range = None
    m = _RANGE.match(spec)
    if m:
        spec = m.group(1)
        rpart = m.group(2).split(",")[0].strip()
        rm = re.fullmatch(r"(\d+):(\d+)", rpart)
        if rm:
            rows_range = int(rm.group(2)) - int(rm.group(1)) + 1
        elif rpart not in ("", ":"):
            return None
    if rows_range is not None:
        return rows_range
    om = _OFFSET.match(spec)
    path, offset = (om.group(1), int(om.group(2))) if om and not os.path.isfile(spec) else (spec, 0)
    if not os.path.isfile(path):
        return None
    return _rows_from_header(path, offset)


def feature_lengths(feats_scp: str | os.PathLike) -> dict[str, int]:
    """utt → number of feature frames for every entry of a feats.scp, in its order (headers only where
    possible; other entries are loaded through phonsid.io)."""
    lines = read_lines(feats_scp, blank="skip")
    rows: list[int | None] = []
    for ln in lines:
        if not ln.value:
            raise DataDirError(f"{feats_scp}:{ln.lineno}: utterance '{ln.key}' has no feature location")
        try:
            rows.append(_entry_rows(ln.value))
        except OSError:
            rows.append(None)
    if any(n is None for n in rows):
        from phonsid.io import RandomReader

        with RandomReader(f"scp:{feats_scp}", "matrix") as r:
            for i, ln in enumerate(lines):
                if rows[i] is None:
                    try:
                        rows[i] = int(r[ln.key].shape[0])
                    except Exception as e:  # KaldiIOError, format errors: name the entry
                        raise DataDirError(f"{feats_scp}:{ln.lineno}: cannot read the features of '{ln.key}': "
                                           f"{e}") from None
    return {ln.key: int(n) for ln, n in zip(lines, rows)}


def get_utt2num_frames(data_dir: str | os.PathLike, *, frame_shift: float = 0.01, frame_overlap: float = 0.015,
                       nj: int = 4, log: Callable[[str], None] | None = None) -> Path:
    """Writes ``<data>/utt2num_frames`` unless it exists (non-empty); returns its path."""
    data = DataDir(data_dir)
    data.require_dir()
    say = log or (lambda m: None)
    target = data.file("utt2num_frames")
    if target.is_file() and target.stat().st_size > 0:
        say(f"{target} already present!")
        return target
    if not data.has("feats.scp"):
        get_utt2dur(data_dir, frame_shift=frame_shift, nj=nj, log=say)
        frames = {}
        for ln in DataDir(data_dir).lines("utt2dur"):
            frames[ln.key] = str(int((float(ln.fields[1]) - frame_overlap) / frame_shift))
    else:
        frames = {k: str(v) for k, v in feature_lengths(data.file("feats.scp")).items()}
    write_lines(target, make_lines(frames))
    say(f"Computed and wrote {target}")
    return target
