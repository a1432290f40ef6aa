#!/usr/bin/env python3
"""Kaldi's feat-to-len: number of frames per utterance (table), or the total over all of them."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.features.frontend_cli import is_table_specifier

USAGE = """Reads an archive of features and writes a corresponding archive
that maps utterance-id to utterance length in frames, or (with
one argument) print to stdout the total number of frames in the
input archive.
Usage: feat_to_len.py [options] <in-rspecifier> [<out-wspecifier>]
e.g.: feat_to_len.py scp:feats.scp ark,t:feats.lengths
or: feat_to_len.py scp:feats.scp"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("feat_to_len.py", USAGE)
    parser.add_argument("rspecifier")
    parser.add_argument("wspecifier", nargs="?")
    args = parser.parse_args(argv)
    logger = get_logger("feat_to_len.py")

    from phonsid.io import KaldiIOError, SequentialReader, SpecifierError, TableWriter
    from phonsid.io.kaldi_object import read_kaldi_matrix

    try:
        if args.wspecifier is not None:
            with SequentialReader(args.rspecifier) as reader, TableWriter(args.wspecifier, "int") as writer:
                for utt, feats in reader:
                    writer.write(utt, int(feats.shape[0]))
            return 0
        if is_table_specifier(args.rspecifier, write=False):
            with SequentialReader(args.rspecifier) as reader:
                total = sum(int(feats.shape[0]) for _, feats in reader)
        else:
            total = read_kaldi_matrix(args.rspecifier).shape[0]
        sys.stdout.write(f"{total}\n")
        return 0
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        logger.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
