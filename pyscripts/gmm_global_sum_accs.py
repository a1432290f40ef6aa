#!/usr/bin/env python3
"""gmm-global-sum-accs: sum diagonal-GMM accumulators."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import single_threaded
from phonsid.gmm.mle import sum_accs, write_diag_gmm_accs
from phonsid.io import KaldiIOError

USAGE = """Sum multiple accumulated stats files for diagonal-covariance GMM training.
Usage: gmm-global-sum-accs [options] stats-out stats-in1 stats-in2 ..."""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm-global-sum-accs", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) < 2:
        p.print_help(sys.stderr)
        return 1
    log = get_logger("gmm-global-sum-accs")
    single_threaded()
    try:
        total = sum_accs(a.args[1:], full=False)
        write_diag_gmm_accs(a.args[0], total, a.binary)
        log.info(f"Summed {len(a.args) - 1} stats, total count {total.occupancy.sum():.6g}")
        log.info(f"Written stats to {a.args[0]}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
