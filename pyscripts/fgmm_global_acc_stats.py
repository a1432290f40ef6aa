#!/usr/bin/env python3
"""fgmm-global-acc-stats: accumulate statistics for training a full-covariance GMM."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.full_gmm import read_full_gmm
from phonsid.gmm.kaldi_io import string_to_gmm_flags
from phonsid.gmm.mle import write_full_gmm_accs
from phonsid.gmm.options import add_compute_options, select_device
from phonsid.gmm.sid_features import add_feature_options, feature_options, iter_features
from phonsid.gmm.tools import accumulate_table, new_accs
from phonsid.io import KaldiIOError

USAGE = """Accumulate stats for training a full-covariance GMM.
Usage:  fgmm-global-acc-stats [options] <model-in> <feature-rspecifier> <stats-out>
e.g.: fgmm-global-acc-stats 1.mdl scp:train.scp 1.acc"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("fgmm-global-acc-stats", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--update-flags", default="mvw", help="Which GMM parameters will be updated: subset of mvw.")
    p.add_argument("--gselect", default="", help="rspecifier for gselect objects to limit the #Gaussians accessed "
                   "on each frame.")
    p.add_argument("--weights", default="", help="rspecifier for a vector of floats for each utterance, that's a "
                   "per-frame weight.")
    add_feature_options(p)
    add_compute_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    model_in, feature_rspecifier, accs_out = a.args
    log = get_logger("fgmm-global-acc-stats")
    try:
        device = select_device(a, log)
        gmm = read_full_gmm(model_in)
        accs = new_accs(gmm, string_to_gmm_flags(a.update_flags))
        s = accumulate_table(gmm, iter_features(feature_rspecifier, feature_options(a), log), accs, a.gselect,
                             a.weights, device, log)
        log.info(f"Done {s.num_done} files; {s.num_err} with errors.")
        log.info(f"Overall likelihood per frame = {s.tot_like / max(s.tot_weight, 1e-300):.6g} over "
                 f"{s.tot_weight:.6g} (weighted) frames.")
        write_full_gmm_accs(accs_out, accs, a.binary)
        log.info(f"Written accs to {accs_out}")
        return 0 if s.num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
