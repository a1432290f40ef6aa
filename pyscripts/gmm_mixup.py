#!/usr/bin/env python3
"""gmm-mixup: increases the number of Gaussians of a GMM-HMM by splitting."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Splits Gaussians so the model has about --mix-up Gaussians, allocated by pdf occupancy^power.

Usage: gmm_mixup.py [options] <model-in> <state-occs-in> <model-out>
 e.g.: gmm_mixup.py --mix-up=4000 1.mdl 1.occs 2.mdl"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_mixup.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    p.add_argument("--mix-up", type=int, required=True, help="target number of Gaussians")
    p.add_argument("--power", type=float, default=0.2, help="Gaussians per pdf ∝ occupancy^power (0.2)")
    p.add_argument("--perturb-factor", type=float, default=0.01, help="mean perturbation when splitting (0.01)")
    p.add_argument("--min-count", type=float, default=20.0, help="frames needed per Gaussian (20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the splitting perturbation")
    p.add_argument("model_in")
    p.add_argument("occs")
    p.add_argument("model_out")
    a = p.parse_args(argv)
    log = get_logger("gmm_mixup.py")

    def body() -> int:
        from phonsid.hmm.model import read_gmm_model, write_gmm_model
        from phonsid.io import read_kaldi_vector

        model = read_gmm_model(a.model_in)
        occs = read_kaldi_vector(a.occs)
        if len(occs) != model.num_pdfs:
            log.error(f"{a.occs} has {len(occs)} occupancies, {a.model_in} {model.num_pdfs} pdfs")
            return 1
        before = model.am.num_gauss
        if a.mix_up > before:
            model.am.mix_up(a.mix_up, occs, a.power, a.perturb_factor, a.min_count, a.seed)
        write_gmm_model(a.model_out, model, a.binary)
        log.info(f"Mixed up from {before} to {model.am.num_gauss} Gaussians (target {a.mix_up})")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
