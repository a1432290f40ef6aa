#!/usr/bin/env python3
"""Kaldi's feat-to-dim: the feature dimension (of the first matrix, or of each as a table)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.features.frontend_cli import is_table_specifier

USAGE = """Reads an archive of features.  If second argument is wxfilename, writes
the feature dimension of the first feature file; if second argument is
wspecifier, writes an archive of the feature dimension, indexed by utterance
id.
Usage: feat_to_dim.py [options] <feat-rspecifier> (<dim-wspecifier>|<dim-wxfilename>)
e.g.: feat_to_dim.py scp:feats.scp -"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("feat_to_dim.py", USAGE)
    parser.add_argument("rspecifier")
    parser.add_argument("output")
    args = parser.parse_args(argv)
    logger = get_logger("feat_to_dim.py")

    from phonsid.io import KaldiIOError, SequentialReader, SpecifierError, TableWriter
    from phonsid.io.kaldi_object import read_kaldi_matrix
    from phonsid.io.xfilename import open_wxfilename

    try:
        if is_table_specifier(args.output, write=True):
            with SequentialReader(args.rspecifier) as reader, TableWriter(args.output, "int") as writer:
                for utt, feats in reader:
                    writer.write(utt, int(feats.shape[1]))
            return 0
        if is_table_specifier(args.rspecifier, write=False):
            with SequentialReader(args.rspecifier) as reader:
                first = next(iter(reader), None)
            if first is None:
                logger.error(f"Could not read any features from {args.rspecifier} (empty archive?)")
                return 1
            dim = first[1].shape[1]
        else:
            dim = read_kaldi_matrix(args.rspecifier).shape[1]
        with open_wxfilename(args.output) as f:
            f.write(f"{dim}\n".encode())
        return 0
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        logger.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
