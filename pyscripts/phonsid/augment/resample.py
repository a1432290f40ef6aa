"""Resampling wav files for augmentation (what Kaldi's recipes do with ``sox <in> -r <rate> -t wav - |``).

Kaldi's ``reverberate_data_dir.py --source-sampling-rate`` and ``make_musan.py --sampling-rate`` resample RIRs
and noises with sox in the wav.scp pipes. sox is not a dependency here, so those pipes call this module instead
(readers run it in process: ``pipe_stage``, declared in :mod:`phonsid.io.pipeline`):

    <venv>/bin/python -m phonsid.augment.resample --sample-rate=8000 <wav-in-rxfilename> <wav-out-wxfilename>

Polyphase resampling (``scipy.signal.resample_poly``, Kaiser window) of every channel; output rounded to 16 bits.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.io.kaldi_object import open_wxfilename
from phonsid.io.pipeline import Reader, Stage, parse_quietly, read_wav_input
from phonsid.io.wavcodec import WaveData, wav_bytes

USAGE = """Resamples a wave file to another sampling rate (polyphase filter), writing 16-bit PCM.
Usage:  python -m phonsid.augment.resample --sample-rate=<Hz> <wav-in-rxfilename> <wav-out-wxfilename>
e.g.
 python -m phonsid.augment.resample --sample-rate=8000 rir.wav - | ..."""


def resample(samples: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """Resamples (channels, n) or (n,) samples from ``rate_in`` to ``rate_out`` (both integral Hz); float64."""
    x = np.asarray(samples, dtype=np.float64)
    if int(rate_in) != rate_in or int(rate_out) != rate_out or rate_in <= 0 or rate_out <= 0:
        raise ValueError(f"cannot resample from {rate_in} Hz to {rate_out} Hz (integral positive rates only)")
    if rate_in == rate_out:
        return x.copy()
    from scipy.signal import resample_poly  # slow import: only when a rate really changes

    g = math.gcd(int(rate_in), int(rate_out))
    return resample_poly(x, int(rate_out) // g, int(rate_in) // g, axis=-1)


def build_parser(prog: str = "python -m phonsid.augment.resample") -> KaldiOptionParser:
    p = KaldiOptionParser(prog, USAGE)
    p.add_argument("--sample-rate", type=int, required=True, help="Output sampling rate (Hz)")
    p.add_argument("wav_in", metavar="<wav-in-rxfilename>")
    p.add_argument("wav_out", metavar="<wav-out-wxfilename>")
    return p


def run(args, read: Reader = read_wav_input) -> WaveData:
    """The resampled wave as it is written (16-bit valued float32)."""
    wave = read(args.wav_in)
    y = resample(wave.data, wave.sample_rate, args.sample_rate)
    return WaveData(float(args.sample_rate), np.clip(np.rint(y), -32768, 32767).astype(np.float32))


def pipe_stage(argv: list[str]) -> Stage | None:
    """``resample <argv>`` as an in-process pipe stage, when it writes to stdout (else None)."""
    args = parse_quietly(build_parser(), argv)
    if args is None or args.wav_out != "-":
        return None
    return lambda read: run(args, read)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = get_logger("resample")
    try:
        wave = run(args)
        with open_wxfilename(args.wav_out) as f:
            f.write(wav_bytes(wave.data, int(wave.sample_rate)))
    except (OSError, ValueError) as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
