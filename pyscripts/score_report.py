#!/usr/bin/env python3
"""score_report.py: EER / minDCF table (markdown) and DET plot (PNG) of several scored systems."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.metrics.det import plot_det
from phonsid.metrics.eer import MetricsError
from phonsid.metrics.report import evaluate_system, markdown_table
from phonsid.metrics.scorefile import label_scores, read_scores, read_trials

USAGE = """Evaluates score files ('<enroll> <test> <score>' lines) against trials ('<enroll> <test> target|nontarget')
and writes a markdown table: system, number of trials, EER (%), minDCF at p-target 0.01 and 0.001 (Kaldi's
definitions), and with --baseline the relative change of each against the named system. --det-plot writes the
DET curves (probit axes) as PNG. Each system is given as <name>=<scores-file>, or <name>=<scores-file>,<trials>
when it has its own trials (otherwise --trials is used). Every trial must be scored.

Usage: score_report.py [options] <name>=<scores>[,<trials>] [<name>=<scores>[,<trials>] ...]
e.g.: score_report.py --trials=data/test/trials --baseline=mfcc --det-plot=exp/det.png --out=exp/results.md \\
        mfcc=exp/scores/mfcc sbnf=exp/scores/sbnf mt_sbnf=exp/scores/mt_sbnf"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("score_report.py", USAGE)
    parser.add_argument("--trials", default="", help="Trials for systems that do not name their own")
    parser.add_argument("--baseline", default="", help="Name of the system the others are compared with")
    parser.add_argument("--det-plot", default="", help="Write a DET plot (PNG) here")
    parser.add_argument("--title", default="", help="Title of the DET plot")
    parser.add_argument("--out", default="-", help="Markdown output (default: stdout)")
    parser.add_bool("--llr", False, "Scores are calibrated log-likelihood ratios: add Cllr and actual DCF columns")
    parser.add_argument("systems", nargs="+", metavar="name=scores[,trials]")
    args = parser.parse_args(argv)
    log = get_logger("score_report.py")
    try:
        results = []
        names = set()
        for spec in args.systems:
            name, eq, rest = spec.partition("=")
            if not eq or not name or not rest:
                raise MetricsError(f"bad system '{spec}' (expected <name>=<scores>[,<trials>])")
            if name in names:
                raise MetricsError(f"system name '{name}' given twice")
            names.add(name)
            scores_file, _, trials_file = rest.partition(",")
            trials_file = trials_file or args.trials
            if not trials_file:
                raise MetricsError(f"system '{name}' has no trials (give --trials or <name>=<scores>,<trials>)")
            scores = read_scores(scores_file)
            labels = label_scores(scores, read_trials(trials_file), scores_file, require_all_trials=True)
            res = evaluate_system(name, scores.scores, labels, llr=args.llr, det=bool(args.det_plot))
            results.append(res)
            log.info(f"{name}: {res.num_trials} trials ({res.num_targets} target), EER {res.eer:.2f}%, "
                     + ", ".join(f"minDCF({p:g}) {v:.4f}" for p, v in res.min_dcf.items()))
        table = markdown_table(results, args.baseline or None)
        from phonsid.io import open_wxfilename

        with open_wxfilename(args.out) as f:
            f.write(table.encode())
        if args.det_plot:
            plot_det([(r.name, r.det) for r in results], args.det_plot, args.title or None,
                     eer_points=[r.eer / 100.0 for r in results])
            log.info(f"Wrote DET plot {args.det_plot}")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
