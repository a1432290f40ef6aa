"""Audio as Kaldi reads it: wav.scp values (paths or ``cmd |`` pipes), segments, samples in 16-bit scale.

The codec (bytes <-> ``WaveData``) is :mod:`phonsid.io.wavcodec`; pipes, with phonsid's own programs run in
process, are :mod:`phonsid.io.pipeline`. This module reads wav.scp values and tables and re-exports both.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from phonsid.data.kaldi_map import DataDirError, read_map
from phonsid.io.pipeline import read_wav_spec
from phonsid.io.wavcodec import WaveData, WavError, decode_audio, wav_bytes, write_wav


def read_segments(path: str | os.PathLike) -> dict[str, tuple[str, float, float]]:
    """``segments``: utt → (recording, start, end) with end -1 meaning the end of the recording."""
    out: dict[str, tuple[str, float, float]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) not in (4, 5):
                raise DataDirError(f"{path}:{lineno}: expected 'utt recording start end', got '{line.strip()}'")
            try:
                start, end = float(fields[2]), float(fields[3])
            except ValueError:
                raise DataDirError(f"{path}:{lineno}: start/end times are not numbers: '{line.strip()}'") from None
            if start < 0 or (end != -1 and end <= start):
                raise DataDirError(f"{path}:{lineno}: bad segment times {start} .. {end}")
            out[fields[0]] = (fields[1], start, end)
    return out


def cut_segment(wave: WaveData, start: float, end: float, name: str, max_overshoot: float = 0.5) -> WaveData:
    """Samples from ``start`` to ``end`` seconds (``end`` -1 = to the end), as Kaldi's extract-segments:
    an end up to ``max_overshoot`` s past the recording is truncated, more is an error."""
    rate = wave.sample_rate
    first = int(round(start * rate))
    last = wave.num_samples if end == -1 else int(round(end * rate))
    if last > wave.num_samples:
        if (last - wave.num_samples) / rate > max_overshoot:
            raise WavError(f"segment {name}: end {end:.3f}s is past the recording ({wave.duration:.3f}s)")
        last = wave.num_samples
    if first >= last:
        raise WavError(f"segment {name}: empty after cutting ({start:.3f}..{end:.3f}s of {wave.duration:.3f}s)")
    return WaveData(rate, np.ascontiguousarray(wave.data[:, first:last]))


def iter_wav_table(wav_scp: str | os.PathLike, segments: str | os.PathLike | None = None,
                   ) -> Iterator[tuple[str, WaveData | WavError]]:
    """``(utt, WaveData)`` for each utterance (recording, or segment when ``segments`` is given), in file order.

    A recording that cannot be read yields ``(utt, WavError)`` instead of raising, so a job can skip it, count
    it and go on; callers that want to stop re-raise it.
    """
    table = read_map(wav_scp)
    if segments is None:
        for utt, spec in table.items():
            try:
                yield utt, read_wav_spec(spec)
            except WavError as e:
                yield utt, WavError(f"utterance {utt}: {e}")
        return
    cached: tuple[str, WaveData | WavError] | None = None
    for utt, (reco, start, end) in read_segments(segments).items():
        if reco not in table:
            yield utt, WavError(f"utterance {utt}: recording '{reco}' is not in {wav_scp}")
            continue
        if cached is None or cached[0] != reco:
            try:
                cached = (reco, read_wav_spec(table[reco]))
            except WavError as e:
                cached = (reco, e)
        wave = cached[1]
        if isinstance(wave, WavError):
            yield utt, WavError(f"utterance {utt}: {wave}")
            continue
        try:
            yield utt, cut_segment(wave, start, end, utt)
        except WavError as e:
            yield utt, e



__all__ = ["DataDirError", "WaveData", "WavError", "cut_segment", "decode_audio", "iter_wav_table", "read_segments",
           "read_wav_spec", "wav_bytes", "write_wav"]
