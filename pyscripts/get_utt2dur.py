#!/usr/bin/env python3
"""get_utt2dur.sh: writes <data>/utt2dur from segments, the audio in wav.scp, or feats.scp."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, parse_bool
from phonsid.data.cliutil import join_option_values, run_tool
from phonsid.data.durations import get_utt2dur

PROG = "get_utt2dur.sh"
USAGE = """Usage: get_utt2dur.sh [options] <datadir>
e.g.: get_utt2dur.sh data/train
Writes <datadir>/utt2dur (seconds) unless it already has one line per utterance: from segments if present,
else from wav.scp (audio headers; pipes are run), else from feats.scp.
Options:
  --frame-shift <s>        # frame shift in seconds, used with feats.scp (default: 0.01)
  --nj <n>                 # number of audio files read at once (default: 4)
  --cmd <cmd>              # accepted for compatibility; the reading runs locally
  --read-entire-file <b>   # read whole audio files instead of headers (default: false)"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    p.add_argument("--frame-shift", type=float, default=0.01)
    p.add_argument("--nj", type=int, default=4)
    p.add_argument("--cmd", default="run.pl")
    p.add_argument("--read-entire-file", type=parse_bool, default=False)
    p.add_argument("data", help="data directory")
    args = p.parse_args(join_option_values(sys.argv[1:] if argv is None else argv,
                                           ["--frame-shift", "--nj", "--cmd", "--read-entire-file"]))

    def body() -> int:
        get_utt2dur(args.data, frame_shift=args.frame_shift, nj=args.nj, read_entire_file=args.read_entire_file,
                    log=lambda m: print(f"{PROG}: {m}"))
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
