#!/usr/bin/env python3
"""ivector-extractor-sum-accs: sum i-vector extractor training statistics."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import single_threaded
from phonsid.io import KaldiIOError
from phonsid.ivector.stats import sum_ivector_stats, write_ivector_stats

USAGE = """Sum accumulators for training of iVector extractor
Usage: ivector-extractor-sum-accs [options] <stats-in1> <stats-in2> ... <stats-inN> <stats-out>"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("ivector-extractor-sum-accs", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_bool("--parallel", False, "If true, the program makes sure to open all filehandles before reading for any "
               "(accepted; inputs are read one after another)")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) < 2:
        p.print_help(sys.stderr)
        return 1
    log = get_logger("ivector-extractor-sum-accs")
    single_threaded()
    try:
        for rx in a.args[:-1]:
            log.info(f"Reading stats from {rx}")
        total = sum_ivector_stats(a.args[:-1])
        write_ivector_stats(a.args[-1], total, a.binary)
        log.info(f"Wrote summed stats to {a.args[-1]}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
