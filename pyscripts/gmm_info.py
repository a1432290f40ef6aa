#!/usr/bin/env python3
"""gmm-info: sizes of a GMM-HMM (phones, pdfs, transition ids, Gaussians, feature dimension)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Prints the sizes of a GMM-HMM model, one "name value" a line (as Kaldi's gmm-info).

Usage: gmm_info.py [options] <model-in>
 e.g.: gmm_info.py exp/tri1/final.mdl"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_info.py", USAGE)
    p.add_argument("model")
    a = p.parse_args(argv)
    log = get_logger("gmm_info.py")

    def body() -> int:
        from phonsid.hmm.model import read_gmm_model

        m = read_gmm_model(a.model)
        sys.stdout.write(f"number of phones {len(m.trans.phones)}\n"
                         f"number of pdfs {m.num_pdfs}\n"
                         f"number of transition-ids {m.trans.num_transition_ids}\n"
                         f"number of transition-states {m.trans.num_transition_states}\n"
                         f"feature dimension {m.am.dim}\n"
                         f"number of gaussians {m.am.num_gauss}\n")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
