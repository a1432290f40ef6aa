"""WAV (and other libsndfile formats) bytes <-> samples in Kaldi's 16-bit scale.

Kaldi keeps samples as floats in the integer range of 16-bit PCM (a full-scale sine peaks at 32767), so
MFCC energies and VAD thresholds depend on that scale; ``WaveData.data`` follows it for every input format
(flac, 24-bit and float files are rescaled to the 16-bit range).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import struct
from typing import BinaryIO

import numpy as np
import soundfile


_LOG = logging.getLogger("phonsid.io.wav")


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


# Data sizes that mean "unknown, read to the end" (a streamed wav; 0x7FFFF000 is what SoX writes), as in Kaldi's
# WaveInfo::Read (feat/wave-reader.cc).
_STREAM_SIZES = (0, 0xFFFFFFFF, 0x7FFFF000)


@dataclasses.dataclass
class _RiffLayout:
    """What a RIFF/WAVE header says: the format and where the samples are."""

    tag: int
    channels: int
    rate: int
    bits: int
    data_start: int
    data_size: int  # bytes the data chunk header promises (one of _STREAM_SIZES: unknown)

    @property
    def block_align(self) -> int:
        return self.channels * max(self.bits // 8, 1)

    def promised_samples(self) -> int | None:
        """Samples per channel the header promises; None for a streamed (unknown-length) wav."""
        return None if self.data_size in _STREAM_SIZES else self.data_size // self.block_align


def _riff_layout(raw: bytes, name: str) -> _RiffLayout:
    """Walks the RIFF chunks up to the data chunk; a header cut short is a WavError saying what is missing."""
    if len(raw) < 12 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise WavError(f"{name}: not a RIFF/WAVE stream ({len(raw)} bytes)")
    pos, fmt = 12, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt ":
            found = min(size, len(raw) - body)
            if found < 16:
                raise WavError(f"{name}: truncated wav header: the fmt chunk needs 16 bytes, found {found} "
                               f"(the file has {len(raw)} bytes)")
            fmt = struct.unpack_from("<HHIIHH", raw, body)
        elif cid == b"data":
            if fmt is None:
                raise WavError(f"{name}: data chunk before fmt chunk")
            tag, channels, rate, _, _, bits = fmt
            if channels == 0 or rate == 0:
                raise WavError(f"{name}: bad wav header: {channels} channels at {rate} Hz")
            return _RiffLayout(tag, channels, rate, bits, body, size)
        pos = body + size + (size & 1)
    missing = "data" if fmt is not None else "fmt"
    raise WavError(f"{name}: truncated wav header: no {missing} chunk in its {len(raw)} bytes")


def _warn_if_truncated(layout: _RiffLayout, found: int, name: str) -> None:
    """Kaldi's "Truncated file?" warning when the data chunk holds fewer samples than its header promises."""
    promised = layout.promised_samples()
    if promised is not None and found < promised:
        _LOG.warning(f"{name}: the wav header promises {promised} samples, found {found}; truncated file? "
                     f"Using the {found} samples there are")


def _parse_riff(raw: bytes, name: str) -> WaveData:
    """A minimal RIFF/WAVE reader for streams soundfile refuses (e.g. pipes with unknown data length)."""
    layout = _riff_layout(raw, name)
    if layout.tag not in (1, 0xFFFE) or layout.bits not in (8, 16, 32):
        raise WavError(f"{name}: unsupported wav encoding (format {layout.tag}, {layout.bits} bits)")
    body, size = layout.data_start, layout.data_size
    end = len(raw) if size in _STREAM_SIZES or body + size > len(raw) else body + size
    payload = raw[body:end]
    payload = payload[: len(payload) - len(payload) % layout.block_align]
    if layout.bits == 8:
        x = (np.frombuffer(payload, np.uint8).astype(np.float32) - 128.0) * 256.0
    elif layout.bits == 16:
        x = np.frombuffer(payload, "<i2").astype(np.float32)
    else:
        x = np.frombuffer(payload, "<i4").astype(np.float32) / 65536.0
    x = x.reshape(-1, layout.channels)
    _warn_if_truncated(layout, x.shape[0], name)
    return WaveData(float(layout.rate), np.ascontiguousarray(x.T))


def decode_audio(raw: bytes, name: str) -> WaveData:
    """Decodes wav/flac/other libsndfile formats from bytes into 16-bit-scale float32.

    A wav whose data chunk holds fewer samples than its header promises is read as far as it goes, with a
    warning naming ``name`` (Kaldi: "Truncated file?"); a header cut short is a WavError.
    """
    if not raw:
        raise WavError(f"{name}: empty audio")
    is_riff = raw[:4] == b"RIFF"
    try:
        x, rate = soundfile.read(io.BytesIO(raw), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as e:
        if is_riff:
            return _parse_riff(raw, name)
        raise WavError(f"{name}: cannot decode audio: {e}") from None
    if is_riff:
        _warn_if_truncated(_riff_layout(raw, name), x.shape[0], name)
    return WaveData(float(rate), np.ascontiguousarray(x.T) * np.float32(32768.0))


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
