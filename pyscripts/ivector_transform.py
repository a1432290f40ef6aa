#!/usr/bin/env python3
"""ivector-transform: multiplies vectors (on the left) by a linear or affine transform matrix."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.backend.tables import read_vectors, write_vectors
from phonsid.backend.vectors import apply_transform
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Multiplies iVectors (on the left) by a supplied transformation matrix

Usage: ivector-transform [options] <matrix-in> <ivector-rspecifier> <ivector-wspecifier>
e.g.: ivector-transform transform.mat ark:ivectors.ark ark:transformed_ivectors.ark"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-transform", USAGE)
    parser.add_argument("matrix_in")
    parser.add_argument("rspecifier")
    parser.add_argument("wspecifier")
    args = parser.parse_args(argv)
    log = get_logger("ivector-transform")
    try:
        from phonsid.io import read_kaldi_matrix

        transform = np.asarray(read_kaldi_matrix(args.matrix_in), dtype=np.float32)
        keys, mat = read_vectors(args.rspecifier)
        out = apply_transform(transform, mat, source=args.matrix_in)
        write_vectors(args.wspecifier, keys, out)
        log.info(f"Applied transform to {len(keys)} vectors.")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
