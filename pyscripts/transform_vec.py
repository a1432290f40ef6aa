#!/usr/bin/env python3
"""transform-vec: applies a linear or affine transform (e.g. LDA) to each vector of a table."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.backend.tables import read_vectors, write_vectors
from phonsid.backend.vectors import apply_transform
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """This program applies a linear or affine transform to individual vectors, e.g. iVectors. It is
transform-feats, except it works on vectors rather than matrices, and expects a single transform matrix
rather than possibly a table of matrices.

Usage: transform-vec [options] <transform-rxfilename> <feats-rspecifier> <feats-wspecifier>
See also: transform-feats, est-pca"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("transform-vec", USAGE)
    parser.add_argument("transform_rxfilename")
    parser.add_argument("rspecifier")
    parser.add_argument("wspecifier")
    args = parser.parse_args(argv)
    log = get_logger("transform-vec")
    try:
        from phonsid.io import read_kaldi_matrix

        transform = np.asarray(read_kaldi_matrix(args.transform_rxfilename), dtype=np.float32)
        keys, mat = read_vectors(args.rspecifier)
        out = apply_transform(transform, mat, source=args.transform_rxfilename)
        write_vectors(args.wspecifier, keys, out)
        log.info(f"Applied transform to {len(keys)} vectors.")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
