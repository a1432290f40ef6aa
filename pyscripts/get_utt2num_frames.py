#!/usr/bin/env python3
"""get_utt2num_frames.sh: writes <data>/utt2num_frames from feats.scp (or from utt2dur without features)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser
from phonsid.data.cliutil import join_option_values, run_tool
from phonsid.data.durations import get_utt2num_frames

PROG = "get_utt2num_frames.sh"
USAGE = """Usage: get_utt2num_frames.sh [options] <data>
Writes <data>/utt2num_frames (frames per utterance) unless it is already present: from the feature matrices in
feats.scp (header reads), or, without feats.scp, from utt2dur as int((duration - frame_overlap) / frame_shift).
Options:
  --frame-shift <s>     # default: 0.01
  --frame-overlap <s>   # default: 0.015
  --nj <n>, --cmd <c>   # accepted for compatibility"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    p.add_argument("--frame-shift", type=float, default=0.01)
    p.add_argument("--frame-overlap", type=float, default=0.015)
    p.add_argument("--nj", type=int, default=4)
    p.add_argument("--cmd", default="run.pl")
    p.add_argument("data", help="data directory")
    args = p.parse_args(join_option_values(sys.argv[1:] if argv is None else argv,
                                           ["--frame-shift", "--frame-overlap", "--nj", "--cmd"]))

    def body() -> int:
        get_utt2num_frames(args.data, frame_shift=args.frame_shift, frame_overlap=args.frame_overlap, nj=args.nj,
                           log=lambda m: print(f"{PROG}: {m}"))
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
