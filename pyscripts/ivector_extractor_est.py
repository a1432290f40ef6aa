#!/usr/bin/env python3
"""ivector-extractor-est: re-estimate an i-vector extractor from statistics (the M-step)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import add_compute_options, env_threads, select_device
from phonsid.io import KaldiIOError
from phonsid.ivector.extractor import read_ivector_extractor, write_ivector_extractor
from phonsid.ivector.stats import read_ivector_stats
from phonsid.ivector.update import IvectorEstimationOptions, update_extractor

USAGE = """Do model re-estimation of iVector extractor (this is
the update phase of a single pass of E-M)
Usage: ivector-extractor-est [options] <model-in> <stats-in> <model-out>"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("ivector-extractor-est", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--variance-floor-factor", type=float, default=0.1, help="Factor that determines variance "
                   "flooring (we floor each covar to this times global average covariance")
    p.add_argument("--gaussian-min-count", type=float, default=100.0, help="Minimum total count per Gaussian, below "
                   "which we refuse to update any associated parameters.")
    p.add_bool("--diagonalize", True, "If true, diagonalize the quadratic term in the objective function. This "
               "reorders the ivector dimensionsfrom most to least important.")
    add_compute_options(p, threads_default=min(4, env_threads()))
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    ie_in, stats_in, ie_out = a.args
    log = get_logger("ivector-extractor-est")
    try:
        device = select_device(a, log)
        log.info("Reading model")
        ext = read_ivector_extractor(ie_in)
        log.info("Reading statistics")
        stats = read_ivector_stats(stats_in)
        opts = IvectorEstimationOptions(a.variance_floor_factor, a.gaussian_min_count, a.diagonalize)
        new, _ = update_extractor(ext, stats, opts, device, log)
        write_ivector_extractor(ie_out, new, a.binary)
        log.info(f"Updated model and wrote it to {ie_out}")
        return 0
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
