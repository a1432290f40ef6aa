#!/usr/bin/env python3
"""subset_data_dir.sh: writes a data dir with a subset of the utterances of another."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser
from phonsid.data.cliutil import join_option_values, run_tool
from phonsid.data.subset import subset_data_dir

PROG = "subset_data_dir.sh"
USAGE = """Usage:
  subset_data_dir.sh [--speakers|--shortest|--first|--last|--per-spk] <srcdir> <num-utt> <destdir>
  subset_data_dir.sh --spk-list <speaker-list-file> <srcdir> <destdir>
  subset_data_dir.sh --utt-list <utt-list-file> <srcdir> <destdir>
By default selects <num-utt> utterances spread evenly through utt2spk (Kaldi's subset_scp.pl rule).
With --speakers, selects whole speakers in a random (seeded) order until there are <num-utt> utterances.
With --per-spk, selects <num-utt> utterances per speaker, if available.
With --first / --last, selects the first / last <num-utt> utterances.
With --shortest, selects the <num-utt> shortest utterances (utt2num_frames, else feats.scp, else utt2dur).
With --spk-list / --utt-list, keeps the speakers / utterances listed in the file."""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    g = p.add_mutually_exclusive_group()
    for flag, help_ in (("--speakers", "whole random speakers up to <num-utt> utterances"),
                        ("--shortest", "the shortest utterances"), ("--first", "the first utterances"),
                        ("--last", "the last utterances"), ("--per-spk", "<num-utt> utterances per speaker")):
        g.add_argument(flag, action="store_true", help=help_)
    g.add_argument("--spk-list", metavar="FILE", help="keep the speakers listed in FILE")
    g.add_argument("--utt-list", metavar="FILE", help="keep the utterances listed in FILE")
    p.add_argument("--seed", type=int, default=0, help="random seed for --speakers")
    p.add_argument("args", nargs="+", metavar="<srcdir> [<num-utt>] <destdir>")
    args = p.parse_args(join_option_values(sys.argv[1:] if argv is None else argv,
                                           ["--spk-list", "--utt-list", "--seed"]))
    lists = args.spk_list is not None or args.utt_list is not None
    if len(args.args) != (2 if lists else 3):
        p.error("wrong number of arguments")
    if lists:
        src, dest, num = args.args[0], args.args[1], None
    else:
        src, dest = args.args[0], args.args[2]
        try:
            num = int(args.args[1])
        except ValueError:
            p.error(f"<num-utt> must be an integer, got '{args.args[1]}'")

    def body() -> int:
        subset_data_dir(src, dest, num, utt_list=args.utt_list, spk_list=args.spk_list, first=args.first,
                        last=args.last, shortest=args.shortest, per_spk=args.per_spk, speakers=args.speakers,
                        seed=args.seed, log=lambda m: print(f"{PROG}: {m}"))
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
