#!/usr/bin/env python3
"""compute-eer: the equal error rate of '<score> target|nontarget' lines, exactly as Kaldi computes it."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.metrics.eer import compute_eer
from phonsid.metrics.scorefile import read_eer_input

USAGE = """Computes Equal Error Rate
Input is a series of lines, each with two fields. The first field must be a numeric score, and the second
either the string 'target' or 'nontarget'. The EER will be printed to the standard output.

Usage: compute-eer <scores-in>
e.g.: compute-eer -"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("compute-eer", USAGE)
    parser.add_argument("scores_in")
    args = parser.parse_args(argv)
    log = get_logger("compute-eer")
    try:
        tgt, non = read_eer_input(args.scores_in)
        res = compute_eer(tgt, non)
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1
    log.info(f"Equal error rate is {100.0 * res.eer:g}%, at threshold {res.threshold:g}")
    sys.stdout.write(res.kaldi_text())
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
