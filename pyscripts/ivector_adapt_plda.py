#!/usr/bin/env python3
"""ivector-adapt-plda: unsupervised adaptation of a PLDA model to in-domain vectors."""

from __future__ import annotations

import sys

from phonsid.backend.plda import PldaAdaptationConfig, adapt_plda, read_plda, write_plda
from phonsid.backend.tables import read_vectors
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Adapts a PLDA model to in-domain data using unsupervised adaptation-data iVectors from a different
domain to the training data.

Usage: ivector-adapt-plda [options] <plda-in> <ivectors-rspecifier> <plda-out>
e.g.: ivector-adapt-plda plda ark:ivectors.ark plda.adapted"""


def _vec(v) -> str:
    return "[ " + " ".join(f"{x:g}" for x in v) + " ]"


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-adapt-plda", USAGE)
    parser.add_bool("--binary", True, "Write output in binary mode")
    parser.add_argument("--mean-diff-scale", type=float, default=1.0,
                        help="Scale with which to add to the total data variance, the outer product of the "
                             "difference between the original mean and the adaptation-data mean (default: 1.0)")
    parser.add_argument("--within-covar-scale", type=float, default=0.3,
                        help="Scale that determines how much of excess variance in a particular direction gets "
                             "attributed to within-class covar. (default: 0.3)")
    parser.add_argument("--between-covar-scale", type=float, default=0.7,
                        help="Scale that determines how much of excess variance in a particular direction gets "
                             "attributed to between-class covar. (default: 0.7)")
    parser.add_argument("plda_in")
    parser.add_argument("ivectors_rspecifier")
    parser.add_argument("plda_out")
    args = parser.parse_args(argv)
    log = get_logger("ivector-adapt-plda")
    try:
        plda = read_plda(args.plda_in)
        keys, mat = read_vectors(args.ivectors_rspecifier, "iVector", dim=plda.dim)
        cfg = PldaAdaptationConfig(args.mean_diff_scale, args.within_covar_scale, args.between_covar_scale)
        adapted, info = adapt_plda(plda, mat, cfg)
        log.info(f"Adapting with {len(keys)} iVectors")
        log.info("Eigenvalues of adaptation-data total-covariance in space where training-data total-covariance "
                 f"is unit, is: {_vec(info.eigenvalues)}")
        log.info(f"Old diagonal of between-class covar was: {_vec(plda.psi)}, new diagonal is {_vec(adapted.psi)}")
        write_plda(args.plda_out, adapted, binary=args.binary)
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
