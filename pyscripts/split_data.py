#!/usr/bin/env python3
"""split_data.sh: splits a Kaldi data directory into <data>/split<N>/{1..N} (by speaker) or split<N>utt."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser
from phonsid.data.cliutil import run_tool
from phonsid.data.split import split_data

PROG = "split_data.sh"
USAGE = """Usage: split_data.sh [--per-utt] <data-dir> <num-to-split>
Splits the data dir into <data-dir>/split<N>/1..N, each speaker in only one part (parts balanced by utterance
count as Kaldi's split_scp.pl does); with --per-utt it ignores speakers and writes <data-dir>/split<N>utt/1..N.
Does nothing if the split exists and is not older than the data dir's files."""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    p.add_argument("--per-utt", action="store_true", help="split by utterance, ignoring speakers")
    p.add_argument("--force", action="store_true", help="split even if the split looks up to date")
    p.add_argument("data", help="data directory")
    p.add_argument("num_to_split", type=int, help="number of parts")
    args = p.parse_args(argv)

    def body() -> int:
        split_data(args.data, args.num_to_split, per_utt=args.per_utt, force=args.force,
                   warn=lambda m: print(f"** {PROG}: {m}", file=sys.stderr))
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
