#!/usr/bin/env python3
"""gmm-init-mono: monophone tree and flat-start model (every pdf one Gaussian with the global mean/variance)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.feats import add_feature_options, pipeline_from_args
from phonsid.hmm.gmm import AmDiagGmm
from phonsid.hmm.model import GmmHmmModel, write_gmm_model
from phonsid.hmm.topology import read_hmm_topology
from phonsid.hmm.tools import run_tool
from phonsid.hmm.train import global_mean_var
from phonsid.hmm.transition_model import TransitionModel
from phonsid.hmm.tree import monophone_tree, write_tree

USAGE = """Initializes a monophone GMM-HMM and its tree. With --train-feats the Gaussians get the mean and
variance of those features (after the feature pipeline options); <dim> 0 means "the dimension of --train-feats".

Usage: gmm_init_mono.py [options] <topology-in> <dim> <model-out> <tree-out>
 e.g.: gmm_init_mono.py --shared-phones=data/lang/phones/sets.int --train-feats=scp:data/train/feats.scp \\
         data/lang/topo 0 exp/mono/0.mdl exp/mono/tree"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_init_mono.py", USAGE)
    p.add_argument("--shared-phones", default=None, help="file with sets of phones (one set a line) sharing pdfs")
    p.add_argument("--train-feats", default=None, help="rspecifier of features for the initial mean/variance")
    p.add_argument("--max-frames", type=int, default=200000, help="frames of --train-feats used (200000)")
    p.add_bool("--binary", default=True, help="write in binary mode")
    add_feature_options(p)
    p.add_argument("topo")
    p.add_argument("dim", type=int)
    p.add_argument("model_out")
    p.add_argument("tree_out")
    a = p.parse_args(argv)
    log = get_logger("gmm_init_mono.py")

    def body() -> int:
        import numpy as np

        topo = read_hmm_topology(a.topo)
        phones = topo.phones
        if a.shared_phones:
            sets = []
            with open(a.shared_phones, encoding="utf-8") as f:
                for line in f:
                    if line.split():
                        sets.append([int(x) for x in line.split()])
            covered = {p for s in sets for p in s}
            sets += [[ph] for ph in phones if ph not in covered]
        else:
            sets = [[ph] for ph in phones]
        ctx = monophone_tree(sets, {ph: topo.num_pdf_classes(ph) for ph in phones})
        tm = TransitionModel.from_tree(ctx, topo)
        if a.train_feats:
            pipe = pipeline_from_args(a)
            mean, var = global_mean_var((m for _, m in pipe.read(a.train_feats)), a.max_frames)
            if a.dim not in (0, len(mean)):
                log.error(f"<dim> is {a.dim} but the features from {a.train_feats} have dimension {len(mean)}")
                return 1
        else:
            if a.dim <= 0:
                log.error("<dim> must be positive without --train-feats")
                return 1
            mean, var = np.zeros(a.dim), np.ones(a.dim)
        am = AmDiagGmm.single_gaussians(ctx.num_pdfs, mean, var)
        write_gmm_model(a.model_out, GmmHmmModel(tm, am), a.binary)
        write_tree(a.tree_out, ctx, a.binary)
        log.info(f"initialized monophone model: {ctx.num_pdfs} pdfs, {tm.num_transition_ids} transition ids, "
                 f"feature dimension {len(mean)}")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
