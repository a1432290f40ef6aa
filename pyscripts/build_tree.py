#!/usr/bin/env python3
"""build-tree: a triphone decision tree with a requested number of leaves (tied states)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Builds a phonetic decision tree by greedy likelihood-based splitting of one root per (phone root,
pdf-class), asking the questions (phone sets, one a line) about the left/right phone, until --max-leaves
leaves. Unlike Kaldi, leaves are not merged again afterwards unless --cluster-thresh > 0, so the tree has
exactly --max-leaves leaves when the data allow (the log says why otherwise).

Usage: build_tree.py [options] <tree-stats-in> <roots-file> <questions-file> <topo-file> <tree-out>
 e.g.: build_tree.py --max-leaves=2000 treeacc data/lang/phones/roots.int questions.int data/lang/topo tree"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("build_tree.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    p.add_argument("--max-leaves", type=int, required=True, help="number of leaves (tied states) wanted")
    p.add_argument("--thresh", type=float, default=0.0, help="minimum likelihood gain of a split (0)")
    p.add_argument("--min-count", type=float, default=20.0, help="minimum frames on each side of a split (20)")
    p.add_argument("--cluster-thresh", type=float, default=0.0,
                   help="merge leaves of a root whose merge costs less than this after splitting (0: none)")
    p.add_argument("--context-width", type=int, default=3, help="phone window (only 3 is supported)")
    p.add_argument("--central-position", type=int, default=1, help="central position (only 1 is supported)")
    p.add_argument("stats")
    p.add_argument("roots")
    p.add_argument("questions")
    p.add_argument("topo")
    p.add_argument("tree_out")
    a = p.parse_args(argv)
    log = get_logger("build_tree.py")

    def body() -> int:
        from phonsid.hmm.topology import read_hmm_topology
        from phonsid.hmm.tree import write_tree
        from phonsid.hmm.tree_build import build_tree, read_tree_stats

        if (a.context_width, a.central_position) != (3, 1):
            log.error("only --context-width=3 --central-position=1 is supported")
            return 1
        stats = read_tree_stats(a.stats)
        roots = []
        with open(a.roots, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) < 3 or fields[0] not in ("shared", "not-shared") or \
                        fields[1] not in ("split", "not-split"):
                    log.error(f"{a.roots}:{lineno}: expected '[not-]shared [not-]split phone-ids...'")
                    return 1
                roots.append(([int(x) for x in fields[2:]], fields[0] == "shared", fields[1] == "split"))
        questions = []
        with open(a.questions, encoding="utf-8") as f:
            for line in f:
                if line.split():
                    questions.append([int(x) for x in line.split()])
        topo = read_hmm_topology(a.topo)
        res = build_tree(stats, roots, questions, topo, a.max_leaves, a.thresh, a.min_count, a.cluster_thresh)
        write_tree(a.tree_out, res.ctx, a.binary)
        log.info(f"Tree has {res.num_leaves} leaves ({res.stop_reason}); likelihood gain {res.objf_gain:.1f} over "
                 f"{stats.count.sum():g} frames ({res.objf_gain / max(stats.count.sum(), 1):.4f} per frame); "
                 f"{int((res.leaf_counts == 0).sum())} leaves without data")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
