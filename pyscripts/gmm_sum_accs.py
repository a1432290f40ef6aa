#!/usr/bin/env python3
"""gmm-sum-accs: sums GMM-HMM statistics files."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Sums statistics written by gmm_acc_stats_ali.py.

Usage: gmm_sum_accs.py [options] <stats-out> <stats-in1> <stats-in2> ...
 e.g.: gmm_sum_accs.py 1.acc 1.1.acc 1.2.acc"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_sum_accs.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    p.add_argument("stats_out")
    p.add_argument("stats_in", nargs="+")
    a = p.parse_args(argv)
    log = get_logger("gmm_sum_accs.py")

    def body() -> int:
        from phonsid.hmm.gmm import read_gmm_accs_from, write_gmm_accs_to
        from phonsid.io.kaldi_object import read_object_file, write_object_file

        total = None
        for path in a.stats_in:
            acc = read_object_file(path, read_gmm_accs_from)
            if total is None:
                total = acc
            else:
                try:
                    total.add(acc)
                except ValueError as e:
                    raise ValueError(f"{path}: {e}") from None
        write_object_file(a.stats_out, a.binary, lambda w: write_gmm_accs_to(w, total))
        log.info(f"Summed {len(a.stats_in)} stats, total count {total.tot_frames:g}, avg like/frame "
                 f"{total.tot_like / max(total.tot_frames, 1.0):.4f}")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
