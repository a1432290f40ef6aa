#!/usr/bin/env python3
"""ivector-subtract-global-mean: copies a table of vectors, subtracting the global mean (given or computed)."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.backend.tables import read_vectors, write_vectors
from phonsid.backend.vectors import global_mean, subtract_mean
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Copies a table of iVectors but subtracts the global mean as it does so. The mean may be specified as
the first argument; if not, the mean of the input iVectors is used.

Usage: ivector-subtract-global-mean <ivector-rspecifier> <ivector-wspecifier>
 or:   ivector-subtract-global-mean <mean-rxfilename> <ivector-rspecifier> <ivector-wspecifier>
e.g.: ivector-subtract-global-mean scp:ivectors.scp ark:-
 or:  ivector-subtract-global-mean mean.vec scp:ivectors.scp ark:-
See also: ivector-mean"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-subtract-global-mean", USAGE)
    parser.add_bool("--subtract-mean", True, "If true, subtract mean; if false, just copy the input.")
    parser.add_argument("args", nargs="*")
    args = parser.parse_args(argv)
    if len(args.args) not in (2, 3):
        parser.print_help(sys.stderr)
        return 1
    log = get_logger("ivector-subtract-global-mean")
    try:
        if len(args.args) == 2:
            rspec, wspec = args.args
            keys, mat = read_vectors(rspec, "iVector")
            log.info(f"Read {len(keys)} iVectors.")
            mean = global_mean(mat)
            log.info(f"Norm of iVector mean was {np.linalg.norm(mean):g}")
            # Kaldi subtracts the double mean from each float vector
            out = (mat - mean).astype(np.float32) if args.subtract_mean else mat
        else:
            from phonsid.io import read_kaldi_vector

            mean_rx, rspec, wspec = args.args
            mean = np.asarray(read_kaldi_vector(mean_rx), dtype=np.float32)
            keys, mat = read_vectors(rspec, "iVector", dim=mean.shape[0])
            out = subtract_mean(mat, mean)
        write_vectors(wspec, keys, out)
        log.info(f"Wrote {len(keys)} mean-subtracted iVectors")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
