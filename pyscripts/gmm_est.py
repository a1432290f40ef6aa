#!/usr/bin/env python3
"""gmm-est: maximum-likelihood re-estimation of a GMM-HMM (GMMs and transitions), then mixing up."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Re-estimates a GMM-HMM from statistics and optionally increases the number of Gaussians.

Usage: gmm_est.py [options] <model-in> <stats-in> <model-out>
 e.g.: gmm_est.py --mix-up=1000 --power=0.25 1.mdl "gmm_sum_accs.py - 1.*.acc |" 2.mdl"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_est.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    p.add_argument("--mix-up", type=int, default=0, help="increase the total number of Gaussians to this (0: no)")
    p.add_argument("--power", type=float, default=0.2, help="Gaussians per pdf ∝ occupancy^power (0.2)")
    p.add_argument("--perturb-factor", type=float, default=0.01, help="mean perturbation when splitting (0.01)")
    p.add_argument("--min-count", type=float, default=20.0, help="frames needed per Gaussian when mixing up (20)")
    p.add_argument("--min-gaussian-occupancy", type=float, default=10.0,
                   help="Gaussians with less occupancy are not updated, and removed if their pdf has others (10)")
    p.add_argument("--min-gaussian-weight", type=float, default=1e-5, help="weight floor (1e-5)")
    p.add_argument("--min-variance", type=float, default=0.001, help="variance floor (0.001)")
    p.add_argument("--var-floor-factor", type=float, default=0.01,
                   help="also floor variances at this fraction of the global variance (0.01; 0: Kaldi's behaviour)")
    p.add_argument("--transition-floor", type=float, default=0.01, help="transition probability floor (0.01)")
    p.add_argument("--transition-min-count", type=float, default=5.0,
                   help="transition states with fewer counts keep their probabilities (5)")
    p.add_argument("--update-flags", default="mvwt", help="mvw (GMMs) and optionally t (transitions) (mvwt)")
    p.add_argument("--write-occs", default=None, help="write the pdf occupancies (a Kaldi vector) here")
    p.add_argument("--seed", type=int, default=0, help="seed of the splitting perturbation")
    p.add_argument("model_in")
    p.add_argument("stats_in")
    p.add_argument("model_out")
    a = p.parse_args(argv)
    log = get_logger("gmm_est.py")

    def body() -> int:
        from phonsid.hmm.gmm import GmmUpdateOptions, read_gmm_accs_from
        from phonsid.io.kaldi_object import read_object_file
        from phonsid.hmm.model import read_gmm_model, write_gmm_model
        from phonsid.hmm.train import EstimateOptions, estimate
        from phonsid.io import write_kaldi_vector

        flags = set(a.update_flags)
        if not flags <= set("mvwt") or flags & set("mvw") != set("mvw"):
            log.error(f"--update-flags={a.update_flags}: means, variances and weights are updated together "
                      "(mvw, optionally t)")
            return 1
        model = read_gmm_model(a.model_in)
        acc = read_object_file(a.stats_in, read_gmm_accs_from)
        if acc.occ.shape[0] != model.am.num_gauss:
            log.error(f"{a.stats_in} holds statistics for {acc.occ.shape[0]} Gaussians, {a.model_in} has "
                      f"{model.am.num_gauss}: statistics and model do not match")
            return 1
        occs = acc.pdf_occs(model.am)
        opts = EstimateOptions(mix_up=a.mix_up, power=a.power, perturb_factor=a.perturb_factor, min_count=a.min_count,
                               transition_floor=a.transition_floor, transition_mincount=a.transition_min_count,
                               update_transitions="t" in flags, seed=a.seed,
                               gmm=GmmUpdateOptions(a.min_gaussian_weight, a.min_gaussian_occupancy, a.min_variance,
                                                    variance_floor_factor=a.var_floor_factor))
        summary = estimate(model, acc, opts)
        write_gmm_model(a.model_out, model, a.binary)
        if a.write_occs:
            write_kaldi_vector(a.write_occs, occs, binary=a.binary)
        log.info(f"GMM update: objf change per frame {summary['gmm_objf_change_per_frame']:.4f} over "
                 f"{summary['frames']:g} frames; {int(summary['gauss_removed'])} Gaussians removed")
        if "trans_objf_change_per_frame" in summary:
            log.info(f"Transition update: objf change per frame {summary['trans_objf_change_per_frame']:.5f}")
        log.info(f"Average like per frame of the statistics {acc.tot_like / max(acc.tot_frames, 1.0):.4f}; "
                 f"{model.am.num_pdfs} pdfs, {model.am.num_gauss} Gaussians")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
