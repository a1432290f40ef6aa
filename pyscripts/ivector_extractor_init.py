#!/usr/bin/env python3
"""ivector-extractor-init: initialise an i-vector extractor from a full-covariance UBM."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import single_threaded
from phonsid.gmm.full_gmm import read_full_gmm
from phonsid.io import KaldiIOError
from phonsid.ivector.extractor import init_ivector_extractor, write_ivector_extractor

USAGE = """Initialize ivector-extractor
Usage:  ivector-extractor-init [options] <fgmm-in> <ivector-extractor-out>
e.g.:
 ivector-extractor-init 4.fgmm 0.ie"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("ivector-extractor-init", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--ivector-dim", type=int, default=400, help="Dimension of iVector")
    p.add_bool("--use-weights", True, "If true, regress the log-weights on the iVector")
    p.add_argument("--num-iters", type=int, default=2, help="Number of iterations in iVector estimation (>1 needed "
                   "due to weights) (accepted; unused, as in Kaldi)")
    p.add_argument("--srand", type=int, default=0, help="phonsid: seed for the random initial projections")
    p.add_argument("--verbose", type=int, default=0, help="Verbose level (accepted for Kaldi compatibility)")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 2:
        p.print_help(sys.stderr)
        return 1
    fgmm_in, ie_out = a.args
    log = get_logger("ivector-extractor-init")
    single_threaded()
    try:
        fgmm = read_full_gmm(fgmm_in)
        ext = init_ivector_extractor(fgmm, a.ivector_dim, a.use_weights, np.random.default_rng(a.srand))
        write_ivector_extractor(ie_out, ext, a.binary)
        log.info(f"Initialized iVector extractor with iVector dimension {a.ivector_dim} and wrote it to {ie_out}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
