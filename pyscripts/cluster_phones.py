#!/usr/bin/env python3
"""cluster-phones: phone-set questions for tree building, by top-down clustering of phone statistics."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Clusters phones (or sets of phones) into a binary tree by their statistics and writes each tree node
as a question (a line of phone ids). Sets on one line of <phone-sets> stay together.

Usage: cluster_phones.py [options] <tree-stats-in> <phone-sets-in> <clustered-phones-out>
 e.g.: cluster_phones.py exp/tri1/treeacc data/lang/phones/sets.int exp/tri1/questions.int"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("cluster_phones.py", USAGE)
    p.add_argument("--pdf-class-list", default="1", help="colon-separated pdf-classes whose statistics are used (1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the 2-means restarts")
    p.add_argument("stats")
    p.add_argument("sets")
    p.add_argument("out")
    a = p.parse_args(argv)
    log = get_logger("cluster_phones.py")

    def body() -> int:
        from phonsid.hmm.tree_build import cluster_phones, read_tree_stats
        from phonsid.io.atomic import atomic_write_text

        stats = read_tree_stats(a.stats)
        sets = []
        with open(a.sets, encoding="utf-8") as f:
            for line in f:
                if line.split():
                    sets.append([int(x) for x in line.split()])
        pcs = [int(x) for x in a.pdf_class_list.split(":") if x.strip()]
        qs = cluster_phones(stats, sets, pcs, seed=a.seed)
        atomic_write_text(a.out, "".join(" ".join(str(p) for p in q) + "\n" for q in qs))
        log.info(f"Wrote {len(qs)} questions from {len(sets)} phone sets")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
