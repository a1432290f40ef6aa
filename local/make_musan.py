#!/usr/bin/env python3
"""Prepares MUSAN (music, speech, noise) as data dirs <out-dir>/musan_{music,speech,noise}, as Kaldi's
make_musan.sh / make_musan.py, with utt2dur and reco2dur."""

from __future__ import annotations

import sys

from phonsid.augment.corpora import prepare_musan
from phonsid.augment.datadir import add_value_bool
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError

USAGE = """Creates data dirs for the MUSAN corpus: <out-dir>/musan_music, musan_speech, musan_noise.
Usage: local/make_musan.py [options] <musan-dir> <out-dir>
e.g. local/make_musan.py --sampling-rate 8000 /export/corpora/JHU/musan data"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("make_musan.py", USAGE)
    add_value_bool(p, "--use-vocals", True, "Use music with vocals")
    p.add_argument("--sampling-rate", type=int, default=16000,
                   help="Rate of the data (Hz); MUSAN (16 kHz) is resampled to it in the wav.scp pipes")
    p.add_argument("in_dir", metavar="<musan-dir>")
    p.add_argument("out_dir", metavar="<out-dir>")
    args = p.parse_args(argv)
    log = get_logger("make_musan.py")
    try:
        counts = prepare_musan(args.in_dir, args.out_dir, args.use_vocals, args.sampling_rate, log=log)
    except (DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    log.info("prepared MUSAN: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
