"""Audio as Kaldi reads it: wav.scp values (paths or ``cmd |`` pipes), segments, samples in 16-bit scale.

Kaldi keeps samples as floats in the integer range of 16-bit PCM (a full-scale sine peaks at 32767), so
MFCC energies and VAD thresholds depend on that scale; ``WaveData.data`` follows it for every input format
(flac, 24-bit and float files are rescaled to the 16-bit range).
"""

from __future__ import annotations

import dataclasses
import io
import os
import struct
import subprocess
from typing import BinaryIO, Callable, Iterator

import numpy as np
import soundfile

from phonsid.data.kaldi_map import DataDirError, read_map


class WavError(IOError):
    """Audio could not be read or cut; the message names the spec or utterance."""


@dataclasses.dataclass
class WaveData:
    sample_rate: float
    data: np.ndarray  # float32, (channels, samples), 16-bit scale

    @property
    def num_samples(self) -> int:
        return int(self.data.shape[1])

    @property
    def duration(self) -> float:
        return self.num_samples / self.sample_rate

    def channel(self, index: int = -1) -> np.ndarray:
        """One channel as Kaldi's ``--channel`` selects it (-1: the only channel, else channel 0)."""
        if index == -1:
            index = 0
        if not 0 <= index < self.data.shape[0]:
            raise WavError(f"channel {index} requested but the audio has {self.data.shape[0]} channel(s)")
        return self.data[index]


def _parse_riff(raw: bytes, name: str) -> WaveData:
    """A minimal RIFF/WAVE reader for streams soundfile refuses (e.g. pipes with unknown data length)."""
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise WavError(f"{name}: not a RIFF/WAVE stream")
    pos, fmt = 12, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        body = pos + 8
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", raw[body:body + 16])
        elif cid == b"data":
            if fmt is None:
                raise WavError(f"{name}: data chunk before fmt chunk")
            tag, channels, rate, _, _, bits = fmt
            end = len(raw) if size in (0, 0xFFFFFFFF) or body + size > len(raw) else body + size
            payload = raw[body:end]
            if tag not in (1, 0xFFFE) or bits not in (8, 16, 32):
                raise WavError(f"{name}: unsupported wav encoding (format {tag}, {bits} bits)")
            width = bits // 8
            payload = payload[: len(payload) - len(payload) % (width * channels)]
            if bits == 8:
                x = (np.frombuffer(payload, np.uint8).astype(np.float32) - 128.0) * 256.0
            elif bits == 16:
                x = np.frombuffer(payload, "<i2").astype(np.float32)
            else:
                x = np.frombuffer(payload, "<i4").astype(np.float32) / 65536.0
            return WaveData(float(rate), np.ascontiguousarray(x.reshape(-1, channels).T))
        pos = body + size + (size & 1)
    raise WavError(f"{name}: no data chunk")


def decode_audio(raw: bytes, name: str) -> WaveData:
    """Decodes wav/flac/other libsndfile formats from bytes into 16-bit-scale float32."""
    if not raw:
        raise WavError(f"{name}: empty audio")
    try:
        x, rate = soundfile.read(io.BytesIO(raw), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as e:
        if raw[:4] == b"RIFF":
            return _parse_riff(raw, name)
        raise WavError(f"{name}: cannot decode audio: {e}") from None
    return WaveData(float(rate), np.ascontiguousarray(x.T) * np.float32(32768.0))


PipeReader = Callable[[str], "WaveData | None"]
_PIPE_READERS: list[PipeReader] = []


def register_pipe_reader(reader: PipeReader) -> None:
    """Lets a higher layer read some ``cmd |`` values in-process: ``reader(spec)`` returns the samples the command
    would write, or None to have the command run. (``phonsid.augment`` registers its own reverberation pipes, so
    feature extraction on augmented data does not start a Python per utterance.)"""
    if reader not in _PIPE_READERS:
        _PIPE_READERS.append(reader)


def read_wav_spec(spec: str) -> WaveData:
    """Reads one wav.scp value: a path (any format libsndfile reads) or a shell pipe ending in ``|``."""
    spec = spec.strip()
    if spec.endswith("|"):
        for reader in _PIPE_READERS:
            wave = reader(spec)
            if wave is not None:
                return wave
        command = spec[:-1]
        proc = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise WavError(f"command '{command}' failed with status {proc.returncode}: {' | '.join(tail)}")
        return decode_audio(proc.stdout, spec)
    if not os.path.isfile(spec):
        raise WavError(f"{spec}: no such audio file")
    with open(spec, "rb") as f:
        return decode_audio(f.read(), spec)


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


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM RIFF/WAVE bytes; ``samples`` in 16-bit scale, (n,) or (channels, n); rounded and clipped."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    channels, n = x.shape
    pcm = np.clip(np.rint(x), -32768, 32767).astype("<i2").T.tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, int(sample_rate), int(sample_rate) * 2 * channels,
                                    2 * channels, 16)
    header += b"data" + struct.pack("<I", len(pcm))
    return header + pcm


def write_wav(target: str | os.PathLike | BinaryIO, samples: np.ndarray, sample_rate: int) -> None:
    """Writes 16-bit PCM wav to a path (atomically) or a binary file object (stdout, pipes)."""
    data = wav_bytes(samples, sample_rate)
    if isinstance(target, (str, os.PathLike)):
        from phonsid.io.atomic import atomic_write_bytes

        atomic_write_bytes(target, data)
    else:
        target.write(data)
        target.flush()
