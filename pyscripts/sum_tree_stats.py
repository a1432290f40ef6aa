#!/usr/bin/env python3
"""sum-tree-stats: sums tree statistics files."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Sums statistics written by acc_tree_stats.py.

Usage: sum_tree_stats.py [options] <stats-out> <stats-in1> <stats-in2> ...
 e.g.: sum_tree_stats.py treeacc 1.treeacc 2.treeacc"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("sum_tree_stats.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    p.add_argument("stats_out")
    p.add_argument("stats_in", nargs="+")
    a = p.parse_args(argv)
    log = get_logger("sum_tree_stats.py")

    def body() -> int:
        from phonsid.hmm.tree_build import read_tree_stats, write_tree_stats

        parts = [read_tree_stats(x) for x in a.stats_in]
        total = parts[0].merged(parts[1:])
        write_tree_stats(a.stats_out, total, a.binary)
        log.info(f"Wrote summed accs ({len(total.count)} separate stats, {total.count.sum():g} frames)")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
