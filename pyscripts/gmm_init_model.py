#!/usr/bin/env python3
"""gmm-init-model: a GMM-HMM for a tree, one Gaussian per pdf from the tree statistics."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Initializes a GMM-HMM from a tree and tree statistics: each pdf one Gaussian with the mean and variance of
the statistics the tree maps to it (pdfs without data get the global ones).

Usage: gmm_init_model.py [options] <tree-in> <tree-stats-in> <topo-file> <model-out>
 e.g.: gmm_init_model.py --write-occs=exp/tri1/1.occs exp/tri1/tree exp/tri1/treeacc data/lang/topo 1.mdl"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_init_model.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    p.add_argument("--write-occs", default=None, help="write the pdf occupancies (Kaldi vector) here")
    p.add_argument("tree")
    p.add_argument("stats")
    p.add_argument("topo")
    p.add_argument("model_out")
    a = p.parse_args(argv)
    log = get_logger("gmm_init_model.py")

    def body() -> int:
        from phonsid.hmm.model import write_gmm_model
        from phonsid.hmm.topology import read_hmm_topology
        from phonsid.hmm.train import init_model_from_tree_stats
        from phonsid.hmm.tree import read_tree
        from phonsid.hmm.tree_build import read_tree_stats
        from phonsid.io import write_kaldi_vector

        ctx = read_tree(a.tree)
        model, occs = init_model_from_tree_stats(ctx, read_hmm_topology(a.topo), read_tree_stats(a.stats))
        write_gmm_model(a.model_out, model, a.binary)
        if a.write_occs:
            write_kaldi_vector(a.write_occs, occs, binary=a.binary)
        log.info(f"Initialized model with {model.num_pdfs} pdfs, {model.trans.num_transition_ids} transition ids; "
                 f"{int((occs == 0).sum())} pdfs without data")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
