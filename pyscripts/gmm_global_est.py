#!/usr/bin/env python3
"""gmm-global-est: estimate a diagonal-covariance GMM from accumulated statistics."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.diag_gmm import read_diag_gmm, write_diag_gmm
from phonsid.gmm.kaldi_io import string_to_gmm_flags
from phonsid.gmm.mle import mle_diag_update, read_diag_gmm_accs
from phonsid.gmm.options import add_mle_diag_options, mle_diag_options, single_threaded
from phonsid.io import KaldiIOError

USAGE = """Estimate a diagonal-covariance GMM from the accumulated stats.
Usage:  gmm-global-est [options] <model-in> <stats-in> <model-out>"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm-global-est", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--update-flags", default="mvw", help="Which GMM parameters will be updated: subset of mvw.")
    p.add_argument("--mix-up", type=int, default=0, help="Increase number of mixture components to this overall "
                   "target.")
    p.add_argument("--perturb-factor", type=float, default=0.01, help="While mixing up, perturb means by standard "
                   "deviation times this factor.")
    p.add_argument("--srand", type=int, default=0, help="phonsid: seed for the mixing-up perturbation")
    p.add_argument("--verbose", type=int, default=0, help="Verbose level (accepted for Kaldi compatibility)")
    add_mle_diag_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    model_in, stats_in, model_out = a.args
    log = get_logger("gmm-global-est")
    single_threaded()
    try:
        gmm = read_diag_gmm(model_in)
        accs = read_diag_gmm_accs(stats_in)
        res = mle_diag_update(gmm, accs, mle_diag_options(a), string_to_gmm_flags(a.update_flags), log)
        log.info(f"Overall objective function improvement is {res.objf_change / max(res.count, 1e-300):.6g} per "
                 f"frame over {res.count:.6g} frames.")
        gmm = res.gmm
        if a.mix_up:
            gmm = gmm.split(a.mix_up, a.perturb_factor, np.random.default_rng(a.srand))
        write_diag_gmm(model_out, gmm, a.binary)
        log.info(f"Written model to {model_out}")
        return 0
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
