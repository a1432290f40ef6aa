"""NIST SPHERE audio (the LDC's SRE and Switchboard releases), decoded without sph2pipe.

:func:`read_sphere` decodes uncompressed SPHERE: 16-bit PCM in either byte order, 8-bit PCM, mu-law and a-law.
Shorten-compressed files need sph2pipe. As a program in wav.scp pipes (``<python> -m phonsid.io.sphere -c N
file.sph |``, sph2pipe's ``-f wav -p -c N``) it writes one channel as 16-bit WAV; readers run it in process
(:mod:`phonsid.io.pipeline`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from phonsid.data.kaldi_map import DataDirError
from phonsid.io.pipeline import parse_quietly
from phonsid.io.wavcodec import WaveData, wav_bytes


@dataclasses.dataclass
class SphereHeader:
    header_size: int
    fields: dict[str, str | int | float]

    def get(self, name: str, default=None):
        return self.fields.get(name, default)

    @property
    def channels(self) -> int:
        return int(self.fields.get("channel_count", 1))

    @property
    def sample_rate(self) -> int:
        return int(self.fields.get("sample_rate", 8000))

    @property
    def sample_count(self) -> int | None:
        n = self.fields.get("sample_count")
        return None if n is None else int(n)

    @property
    def coding(self) -> str:
        return str(self.fields.get("sample_coding", "pcm")).lower()

    @property
    def sample_bytes(self) -> int:
        default = 1 if self.coding.split(",")[0] in ("ulaw", "mu-law", "alaw") else 2
        return int(self.fields.get("sample_n_bytes", default))


def parse_sphere_header(raw: bytes, name: str) -> SphereHeader:
    """Parses a NIST SPHERE header (``NIST_1A``, its size, ``name -type value`` lines, ``end_head``)."""
    if raw[:8] != b"NIST_1A\n":
        raise DataDirError(f"{name}: not a NIST SPHERE file (no NIST_1A header)")
    try:
        size = int(raw[8:16].split()[0])
    except (ValueError, IndexError):
        raise DataDirError(f"{name}: bad SPHERE header size field") from None
    if size < 16 or len(raw) < size:
        raise DataDirError(f"{name}: SPHERE header of {size} bytes but the file has {len(raw)}")
    fields: dict[str, str | int | float] = {}
    for line in raw[16:size].decode("latin-1").splitlines():
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        if line == "end_head":
            break
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        key, typ, value = parts
        if typ == "-i":
            fields[key] = int(value)
        elif typ == "-r":
            fields[key] = float(value)
        else:
            fields[key] = value
    return SphereHeader(size, fields)


def read_sphere_header(path: str | os.PathLike) -> SphereHeader:
    with open(path, "rb") as f:
        head = f.read(1024)
        if head[:8] == b"NIST_1A\n":
            try:
                size = int(head[8:16].split()[0])
            except (ValueError, IndexError):
                size = 1024
            if size > len(head):
                head += f.read(size - len(head))
    return parse_sphere_header(head, str(path))


def _ulaw_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


def read_sphere(path: str | os.PathLike) -> tuple[int, np.ndarray]:
    """Decodes an uncompressed SPHERE file to ``(sample_rate, int16 array (channels, samples))``.

    Handles 16-bit PCM in either byte order, 8-bit PCM, mu-law and a-law. Shorten-compressed files
    (``sample_coding`` with ``embedded-shorten``) are an error telling to use sph2pipe.
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise DataDirError(f"{name}: cannot read: {e.strerror}") from None
    head = parse_sphere_header(raw, name)
    coding = head.coding
    if "shorten" in coding or "wavpack" in coding or "shorten" in str(head.get("sample_byte_format", "")):
        raise DataDirError(f"{name}: SPHERE audio is compressed ('{coding}'): decode it with sph2pipe "
                           f"(set sph2pipe in the corpora file)")
    base = coding.split(",")[0]
    data = raw[head.header_size:]
    width = head.sample_bytes
    if base == "pcm" and width == 2:
        order = str(head.get("sample_byte_format", "01"))
        dtype = ">i2" if order == "10" else "<i2"
        x = np.frombuffer(data[: len(data) - len(data) % 2], dtype=dtype).astype(np.int16)
    elif base == "pcm" and width == 1:
        x = (np.frombuffer(data, dtype=np.int8).astype(np.int16) * 256).astype(np.int16)
    elif base in ("ulaw", "mu-law"):
        x = _ulaw_table()[np.frombuffer(data, dtype=np.uint8)]
    elif base == "alaw":
        x = _alaw_table()[np.frombuffer(data, dtype=np.uint8)]
    else:
        raise DataDirError(f"{name}: unsupported SPHERE sample coding '{coding}' ({width} bytes per sample)")
    channels = head.channels
    if channels < 1:
        raise DataDirError(f"{name}: SPHERE channel_count {channels}")
    count = head.sample_count
    x = x[: len(x) - len(x) % channels].reshape(-1, channels).T
    if count is not None:
        x = x[:, :count]
    return head.sample_rate, np.ascontiguousarray(x)


def sphere_to_wav(path: str | os.PathLike, channel: int) -> bytes:
    """One channel (1-based, as sph2pipe's ``-c``) of an uncompressed SPHERE file as 16-bit mono WAV bytes."""
    rate, x = read_sphere(path)
    if not 1 <= channel <= x.shape[0]:
        raise DataDirError(f"{path}: channel {channel} requested but the file has {x.shape[0]} channel(s)")
    return wav_bytes(x[channel - 1], rate)


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m phonsid.io.sphere",
                                description="Writes one channel of an uncompressed SPHERE file as 16-bit WAV.")
    p.add_argument("-c", dest="channel", type=int, default=1, help="channel, 1-based (default 1)")
    p.add_argument("file")
    return p


def read_channel(path: str | os.PathLike, channel: int) -> WaveData:
    """One channel (1-based) of an uncompressed SPHERE file, as the pipe program writes it."""
    rate, x = read_sphere(path)
    if not 1 <= channel <= x.shape[0]:
        raise DataDirError(f"{path}: channel {channel} requested but the file has {x.shape[0]} channel(s)")
    return WaveData(float(rate), x[channel - 1: channel].astype(np.float32))


def pipe_stage(args: list[str]):
    """The in-process stage of ``python -m phonsid.io.sphere -c N file`` (see :mod:`phonsid.io.pipeline`)."""
    parsed = parse_quietly(_build_parser(), args)
    return None if parsed is None else lambda read: read_channel(parsed.file, parsed.channel)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m phonsid.io.sphere [-c N] file.sph``: one channel as 16-bit WAV on stdout."""
    args = _build_parser().parse_args(None if argv is None else list(argv))
    try:
        data = sphere_to_wav(args.file, args.channel)
    except DataDirError as e:
        print(f"ERROR (phonsid.io.sphere) {e}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


__all__ = ["SphereHeader", "main", "parse_sphere_header", "pipe_stage", "read_channel", "read_sphere",
           "read_sphere_header", "sphere_to_wav"]


if __name__ == "__main__":
    sys.exit(main())
