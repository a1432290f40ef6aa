#!/usr/bin/env python3
"""fgmm-global-init-from-accs: a full-covariance GMM straight from accumulated statistics."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.full_gmm import write_full_gmm
from phonsid.gmm.init import init_full_gmm_from_accs
from phonsid.gmm.mle import read_full_gmm_accs
from phonsid.gmm.options import add_mle_full_options, single_threaded
from phonsid.io import KaldiIOError

USAGE = """Initialize a full-covariance GMM from the accumulated stats.
This binary is similar to fgmm-global-est, but does not use a preexisting model.  See also fgmm-global-est.
Usage:  fgmm-global-init-from-accs [options] <stats-in> <number-of-components> <model-out>"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("fgmm-global-init-from-accs", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--verbose", type=int, default=0, help="Verbose level (accepted for Kaldi compatibility)")
    add_mle_full_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    stats_in, num_comp_str, model_out = a.args
    log = get_logger("fgmm-global-init-from-accs")
    single_threaded()
    try:
        num_comp = int(num_comp_str)
        gmm = init_full_gmm_from_accs(read_full_gmm_accs(stats_in), num_comp, a.variance_floor, log)
        write_full_gmm(model_out, gmm, a.binary)
        log.info(f"Written model to {model_out}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
