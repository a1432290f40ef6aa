#!/usr/bin/env python3
"""Kaldi's nnet3-xvector-get-egs (+ nnet3-shuffle-egs): cuts the allocated chunks into memory-mapped archives."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.io import KaldiIOError, RandomReader, SpecifierError
from phonsid.nnet.xvector_egs import EgsError, read_ranges, write_egs_archives

USAGE = """Writes x-vector training examples: for every line of the ranges file (from nnet-xvector-allocate-egs),
the chunk <start-frame>..+<num-frames> of the utterance's features with its speaker label, into the archive
given by the line's relative archive index. Each archive <out> becomes <out>.feats.npy (examples x frames x dim,
memory-mappable), <out>.labels.npy and <out>.ranges, with the examples in shuffled order.

Usage: nnet-xvector-get-egs [options] <ranges-filename> <features-rspecifier> <egs-out1> [<egs-out2> ...]
   or: nnet-xvector-get-egs [options] --outputs-file=<outputs.job> <ranges-filename> <features-rspecifier>
e.g.: nnet-xvector-get-egs --num-pdfs=7185 exp/egs/temp/ranges.1 scp:data/train/feats.scp exp/egs/egs.1 exp/egs/egs.2"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet-xvector-get-egs", USAGE)
    p.add_bool("--compress", True, "Store features as float16 (half the disk; float32 otherwise)")
    p.add_argument("--num-pdfs", type=int, default=-1, help="Number of speakers (labels are checked against it)")
    p.add_argument("--srand", type=int, default=0, help="Seed of the within-archive shuffle (with the archive index)")
    p.add_argument("ranges_filename")
    p.add_argument("features_rspecifier")
    p.add_argument("--outputs-file", default="", help="Read the archive names from this file (one job's "
                   "outputs.<job> from nnet-xvector-allocate-egs) instead of the command line")
    p.add_argument("outputs", nargs="*")
    args = p.parse_args(argv)
    log = get_logger("nnet-xvector-get-egs")
    try:
        if args.outputs_file:
            with open(args.outputs_file, encoding="utf-8") as f:
                args.outputs = args.outputs + f.read().split()
        if not args.outputs:
            raise EgsError("no output archive given (positional <egs-out> or --outputs-file)")
        ranges = read_ranges(args.ranges_filename)
        if not ranges:
            raise EgsError(f"{args.ranges_filename} is empty")
        with RandomReader(args.features_rspecifier, finite=True) as feats:  # NaN/inf: an error naming the utterance
            def get(utt: str):
                if utt not in feats:
                    raise EgsError(f"utterance {utt} of {args.ranges_filename} has no features in "
                                   f"{args.features_rspecifier}")
                return feats[utt]

            counts = write_egs_archives(ranges, args.outputs, get, compress=args.compress, num_pdfs=args.num_pdfs,
                                        srand=args.srand, log=log.info)
    except (EgsError, KaldiIOError, SpecifierError, OSError, ValueError) as e:
        log.error(str(e))
        return 1
    log.info(f"Finished generating {counts['egs']} examples from {counts['utts']} utterances into "
             f"{len(args.outputs)} archive(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
