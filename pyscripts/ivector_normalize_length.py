#!/usr/bin/env python3
"""ivector-normalize-length: scales vectors to length sqrt(dim) (or 1 with --scaleup=false)."""

from __future__ import annotations

import sys

from phonsid.backend.tables import read_vectors, write_vectors
from phonsid.backend.vectors import normalize_length
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Normalize length of iVectors to equal sqrt(feature-dimension)

Usage: ivector-normalize-length [options] <ivector-rspecifier> <ivector-wspecifier>
e.g.: ivector-normalize-length ark:ivectors.ark ark:normalized_ivectors.ark"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-normalize-length", USAGE)
    parser.add_bool("--normalize", True, "Set this to false to disable normalization")
    parser.add_bool("--scaleup", True, "If 'true', the normalized iVector is scaled-up by 'sqrt(dim)'")
    parser.add_argument("ivector_rspecifier")
    parser.add_argument("ivector_wspecifier")
    args = parser.parse_args(argv)
    log = get_logger("ivector-normalize-length")
    try:
        keys, mat = read_vectors(args.ivector_rspecifier, "iVector")
        out, _, stats = normalize_length(mat, scaleup=args.scaleup, normalize=args.normalize)
        if stats.num_zero:
            log.warning(f"{stats.num_zero} zero iVectors (left as they are)")
        write_vectors(args.ivector_wspecifier, keys, out)
        log.info(f"Processed {stats.num_done} iVectors.")
        log.info(f"Average ratio of iVector to expected length was {stats.mean_ratio:g}, standard deviation was "
                 f"{stats.stddev_ratio:g}")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
