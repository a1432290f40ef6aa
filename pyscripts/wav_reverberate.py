#!/usr/bin/env python3
"""Kaldi's ``wav-reverberate``: RIR convolution and additive signals at SNRs (see phonsid.augment.reverb)."""

from __future__ import annotations

import sys

from phonsid.augment import command
from phonsid.augment.reverb import ReverbError
from phonsid.cli import get_logger
from phonsid.io.kaldi_object import open_wxfilename
from phonsid.io.wav import WavError, wav_bytes
from phonsid.io.xfilename import KaldiIOError


def main(argv: list[str] | None = None) -> int:
    args = command.build_parser().parse_args(argv)
    log = get_logger("wav-reverberate")
    try:
        wave, clipped = command.run(args, log=log)
        with open_wxfilename(args.wav_out) as f:
            f.write(wav_bytes(wave.data, int(wave.sample_rate)))
    except (ReverbError, WavError, KaldiIOError) as e:
        log.error(f"{args.wav_in}: {e}")
        return 1
    except BrokenPipeError:
        log.error(f"{args.wav_in}: the reader of {args.wav_out} went away")
        return 1
    if clipped:
        log.warning(f"clipped {clipped} samples out of {wave.data.size} in {args.wav_in}. Reduce volume?")
    return 0


if __name__ == "__main__":
    sys.exit(main())
