#!/usr/bin/env python3
"""calibrate_scores.py: linear calibration of scores into log-likelihood ratios (logistic regression)."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.backend.calibration import read_calibration, train_linear_calibration, write_calibration
from phonsid.backend.textio import format_scores
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.metrics.cllr import cllr, min_cllr
from phonsid.metrics.dcf import compute_actual_dcf, compute_min_dcf
from phonsid.metrics.scorefile import label_scores, read_scores, read_trials

USAGE = """Calibrates scores ('<enroll> <test> <score>' lines) with a linear map a*score + b trained by prior-weighted
logistic regression, so that the output scores are natural-log likelihood ratios. Train on a development set
(--train-scores and --train-trials; --model-out keeps the map) or apply a stored map (--model-in). With
--trials, Cllr, min Cllr, actual DCF and min DCF of the input and output scores are reported.

Usage: calibrate_scores.py [options] <scores-in> <scores-out>
e.g.: calibrate_scores.py --train-scores=exp/dev_scores --train-trials=data/dev/trials --model-out=exp/cal \\
        --trials=data/eval/trials exp/eval_scores exp/eval_scores_cal
      calibrate_scores.py --model-in=exp/cal exp/eval_scores exp/eval_scores_cal"""


def _report(log, name: str, scores: np.ndarray, labels: np.ndarray, p_target: float) -> None:
    act = compute_actual_dcf(scores, labels, p_target)
    mind = compute_min_dcf(scores, labels, p_target)
    log.info(f"{name}: Cllr {cllr(scores, labels):.4f} (min {min_cllr(scores, labels):.4f}), actual DCF "
             f"{act.dcf:.4f} (min {mind.min_dcf:.4f}) at p-target {p_target:g}")


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("calibrate_scores.py", USAGE)
    parser.add_argument("--train-scores", default="", help="Scores to train the calibration on")
    parser.add_argument("--train-trials", default="", help="Trials (with target/nontarget) of --train-scores")
    parser.add_argument("--model-in", default="", help="Apply this calibration instead of training one")
    parser.add_argument("--model-out", default="", help="Write the trained calibration here")
    parser.add_argument("--p-target", type=float, default=0.01,
                        help="Effective target prior the calibration is trained for, and of the reported DCFs "
                             "(default: 0.01)")
    parser.add_argument("--trials", default="", help="Trials of <scores-in>, to report metrics before and after")
    parser.add_argument("scores_in")
    parser.add_argument("scores_out")
    args = parser.parse_args(argv)
    log = get_logger("calibrate_scores.py")
    try:
        if bool(args.model_in) == bool(args.train_scores or args.train_trials):
            log.error("give either --model-in, or --train-scores and --train-trials")
            return 1
        if args.model_in:
            cal = read_calibration(args.model_in)
        else:
            if not (args.train_scores and args.train_trials):
                log.error("--train-scores and --train-trials go together")
                return 1
            tr = read_scores(args.train_scores)
            tl = label_scores(tr, read_trials(args.train_trials), args.train_scores)
            cal = train_linear_calibration(tr.scores, tl, args.p_target)
            log.info(f"Trained on {len(tr)} trials ({int(tl.sum())} target): llr = {cal.scale:.6g} * score "
                     f"+ {cal.offset:.6g}")
            _report(log, f"{args.train_scores} after calibration", cal.apply(tr.scores), tl, args.p_target)
            if args.model_out:
                write_calibration(args.model_out, cal)
        sc = read_scores(args.scores_in)
        out = cal.apply(sc.scores)
        if args.trials:
            labels = label_scores(sc, read_trials(args.trials), args.scores_in)
            _report(log, f"{args.scores_in} before", sc.scores, labels, args.p_target)
            _report(log, f"{args.scores_in} after", out, labels, args.p_target)
        from phonsid.io import open_wxfilename

        text = format_scores(out.astype(np.float32))
        with open_wxfilename(args.scores_out) as f:
            f.write(b"".join(b"%s %s %s\n" % (a, b, s.encode()) for a, b, s in zip(sc.key1, sc.key2, text)))
        log.info(f"Calibrated {len(sc)} scores")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
