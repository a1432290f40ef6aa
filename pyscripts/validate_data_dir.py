#!/usr/bin/env python3
"""validate_data_dir.sh: checks a Kaldi data directory (sorted unique keys, consistent files), one-line errors."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser
from phonsid.data.cliutil import join_option_values, run_tool
from phonsid.data.validate import validate_data_dir

PROG = "validate_data_dir.sh"
USAGE = """Usage: validate_data_dir.sh [--no-feats] [--no-text] [--non-print] [--no-wav] [--no-spk-sort]
                            [--check-wavs] [--sample-rate <hz>] <data-dir>
Checks that every file of the data dir is sorted (C locale) with unique keys and that the files agree with
utt2spk/spk2utt. The --no-xxx options mean that xxx need not be present (it is checked if it is).
--no-spk-sort: utt2spk need not also be sorted by speaker. --non-print: allow non-printable characters in text.
--check-wavs: open the header of every plain-path audio file in wav.scp (pipes are skipped);
--sample-rate N: also require that sample rate (implies --check-wavs).
e.g.: validate_data_dir.sh --no-feats data/train"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    p.add_argument("--no-feats", action="store_true", help="feats.scp need not exist")
    p.add_argument("--no-text", action="store_true", help="text need not exist")
    p.add_argument("--no-wav", action="store_true", help="wav.scp need not exist")
    p.add_argument("--no-spk-sort", action="store_true", help="utt2spk need not be sorted by speaker too")
    p.add_argument("--non-print", action="store_true", help="allow non-printable characters in text")
    p.add_argument("--check-wavs", action="store_true", help="check that plain-path audio files exist and are readable")
    p.add_argument("--sample-rate", type=int, default=None, help="expected sample rate in Hz (implies --check-wavs)")
    p.add_argument("data", help="data directory")
    args = p.parse_args(join_option_values(sys.argv[1:] if argv is None else argv, ["--sample-rate"]))

    def body() -> int:
        warnings = validate_data_dir(args.data, no_feats=args.no_feats, no_text=args.no_text, no_wav=args.no_wav,
                                     no_spk_sort=args.no_spk_sort, non_print=args.non_print,
                                     check_wavs=args.check_wavs, sample_rate=args.sample_rate)
        for w in warnings:
            print(f"{PROG}: {w}", file=sys.stderr)
        print(f"{PROG}: Successfully validated data-directory {args.data}")
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
