#!/usr/bin/env python3
"""acc-tree-stats: context-dependent (triphone) Gaussian statistics for building a decision tree."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.feats import add_feature_options, pipeline_from_args
from phonsid.hmm.tools import run_tool

USAGE = """Accumulates statistics per (left phone, phone, right phone, pdf-class) from alignments, for
build_tree.py. Phones in --ci-phones get no context (their statistics are kept with context 0).

Usage: acc_tree_stats.py [options] <model-in> <feature-rspecifier> <alignments-rspecifier> <tree-accs-out>
 e.g.: acc_tree_stats.py --ci-phones=1:2 exp/mono_ali/final.mdl scp:feats.scp ark:ali.1.ark 1.treeacc"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("acc_tree_stats.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    p.add_argument("--ci-phones", default="", help="colon-separated context-independent phones, e.g. 1:2:3")
    p.add_argument("--context-width", type=int, default=3, help="phone window (only 3 is supported)")
    p.add_argument("--central-position", type=int, default=1, help="central position (only 1 is supported)")
    add_feature_options(p)
    p.add_argument("model")
    p.add_argument("feats")
    p.add_argument("ali")
    p.add_argument("out")
    a = p.parse_args(argv)
    log = get_logger("acc_tree_stats.py")

    def body() -> int:
        from phonsid.io.kaldi_object import read_object_file
        from phonsid.hmm.transition_model import read_transition_model_from
        from phonsid.hmm.tree_build import accumulate_tree_stats, write_tree_stats
        from phonsid.io import RandomReader

        ci = [int(x) for x in a.ci_phones.split(":") if x.strip()]
        tm = read_object_file(a.model, read_transition_model_from)
        feats = dict(pipeline_from_args(a).read(a.feats))
        items, missing = [], 0
        with RandomReader(a.ali, "int_vector") as ali:
            for utt, m in feats.items():
                if utt not in ali or len(ali[utt]) != len(m):
                    missing += 1
                    continue
                items.append((utt, m, ali[utt]))
        stats = accumulate_tree_stats(tm, items, ci, a.context_width, a.central_position)
        write_tree_stats(a.out, stats, a.binary)
        log.info(f"Accumulated stats for {len(items)} files, {missing} failed due to no (matching) alignment; "
                 f"{len(stats.count)} separate stats")
        return 0 if items else 1

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
