#!/usr/bin/env python3
"""compute_min_dcf.py: Kaldi's normalised minimum detection cost of a score file against a trials file."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.metrics.dcf import compute_min_dcf
from phonsid.metrics.scorefile import label_scores, read_scores, read_trials

USAGE = """Compute the minimum detection cost function along with the threshold at which it occurs.

Usage: compute_min_dcf.py [options...] <scores-file> <trials-file>
e.g.: compute_min_dcf.py --p-target 0.01 --c-miss 1 --c-fa 1 exp/scores/trials data/test/trials
The scores file has lines '<utt1> <utt2> <score>', the trials file '<utt1> <utt2> <target/nontarget>'; every
scored trial must be in the trials file."""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("compute_min_dcf.py", USAGE)
    parser.add_argument("--p-target", type=float, default=0.01,
                        help="The prior probability of the target speaker in a trial. (default: 0.01)")
    parser.add_argument("--c-miss", type=float, default=1.0, help="Cost of a missed detection. (default: 1)")
    parser.add_argument("--c-fa", type=float, default=1.0, help="Cost of a spurious detection. (default: 1)")
    parser.add_argument("scores_filename")
    parser.add_argument("trials_filename")
    args = parser.parse_args(argv)
    log = get_logger("compute_min_dcf.py")
    try:
        scores = read_scores(args.scores_filename)
        trials = read_trials(args.trials_filename)
        labels = label_scores(scores, trials, args.scores_filename)
        res = compute_min_dcf(scores.scores, labels, args.p_target, args.c_miss, args.c_fa)
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1
    sys.stdout.write(f"{res.min_dcf:.4f}\n")
    log.info(f"minDCF is {res.min_dcf:.4f} at threshold {res.threshold:.4f} (p-target={args.p_target:g}, "
             f"c-miss={args.c_miss:g}, c-fa={args.c_fa:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
