#!/usr/bin/env python3
"""ivector-copy-plda: copies a PLDA model (binary/text), optionally smoothing its within-class covariance."""

from __future__ import annotations

import sys

from phonsid.backend.plda import read_plda, smooth_within_class_covariance, write_plda
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Copy a PLDA object, possibly applying smoothing to the within-class covariance

Usage: ivector-copy-plda <plda-in> <plda-out>
e.g.: ivector-copy-plda --smoothing=0.1 plda plda.smooth0.1"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-copy-plda", USAGE)
    parser.add_argument("--smoothing", type=float, default=0.0,
                        help="Factor used in smoothing within-class covariance (add this factor times "
                             "between-class covar) (default: 0.0)")
    parser.add_bool("--binary", True, "Write output in binary mode")
    # Registered by Kaldi's binary too (PldaConfig); they do not affect copying.
    parser.add_bool("--normalize-length", True, "Unused here (accepted for compatibility)")
    parser.add_bool("--simple-length-normalization", False, "Unused here (accepted for compatibility)")
    parser.add_argument("plda_in")
    parser.add_argument("plda_out")
    args = parser.parse_args(argv)
    log = get_logger("ivector-copy-plda")
    try:
        plda = read_plda(args.plda_in)
        if args.smoothing != 0.0:
            log.info(f"Smoothing within-class covariance by {args.smoothing:g}")
            plda = smooth_within_class_covariance(plda, args.smoothing)
        write_plda(args.plda_out, plda, binary=args.binary)
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
