#!/usr/bin/env python3
"""score_report.py: EER / minDCF table (markdown) and DET plot (PNG) of several scored systems; with
--paper-tables, the whole results report (exp/results.md) in the paper's layout."""

from __future__ import annotations

import os
import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.metrics import paper
from phonsid.metrics.det import plot_det
from phonsid.metrics.eer import MetricsError
from phonsid.metrics.plots import plot_eer_bars
from phonsid.metrics.report import (
    ReportSetup,
    eer_bar_series,
    evaluate_system,
    markdown_table,
    restrict_to_trials,
    results_report,
    summarize_data_dir,
    summarize_trials,
)
from phonsid.metrics.scorefile import TrialList, label_scores, read_scores, read_trials

USAGE = """Evaluates score files ('<enroll> <test> <score>' lines) against trials ('<enroll> <test> target|nontarget')
and writes a markdown table: system, number of trials, EER (%), minDCF at p-target 0.01 and 0.001 (Kaldi's
definitions), and with --baseline the relative change of each against the named system. --det-plot writes the
DET curves (probit axes) as PNG, --bar-plot a bar chart of the EERs. Each system is given as <name>=<scores-file>,
or <name>=<scores-file>,<trials> when it has its own trials (otherwise --trials is used). Every trial must be scored.
--subset <name>=<trials> (repeatable) also scores every system on that trial list alone (e.g. adults, children):
its trials must all be in the system's score file, other scores are ignored; it adds a column 'EER <name>'.

--paper-tables writes the results report of the paper (Rahman et al., Interspeech 2018) instead of the plain
table: a header with --corpus, --info key=value lines (configuration, repeatable) and the sizes of each
--data-dir <role>=<dir> (speakers and utterances from utt2spk, hours from utt2dur or segments) and trial list;
Table 1 (ivector, dnn_ivector, bnf_ivector, xvector_mfcc, xvector_mfcc_aug) and Figure 3 (xvector_mfcc_aug,
xvector_bnf, xvector_sbnf, xvector_mt_sbnf) with the EER gain 100*(EER_ref-EER)/EER_ref against --baseline
(default xvector_mfcc_aug), the paper's statements checked on our scores, links to the plots (relative to --out).
Systems are recognised by these names; others go to an 'Other systems' table. --paper-numbers puts the paper's
published EERs (NIST SRE10) beside ours in the tables and the bar chart; without it they are listed once, for
reference.

Usage: score_report.py [options] <name>=<scores>[,<trials>] [<name>=<scores>[,<trials>] ...]
e.g.: score_report.py --trials=data/test/trials --baseline=mfcc --det-plot=exp/det.png --out=exp/results.md \\
        mfcc=exp/scores/mfcc sbnf=exp/scores/sbnf mt_sbnf=exp/scores/mt_sbnf
  score_report.py --paper-tables --corpus=sre10 --paper-numbers --trials=data/sre10_test/trials \\
        --data-dir=train=data/train --data-dir=enroll=data/sre10_enroll --data-dir=test=data/sre10_test \\
        --info="UBM / i-vector=2048 / 600" --det-plot=exp/results_det.png --bar-plot=exp/results_eer.png \\
        --out=exp/results.md ivector=exp/scores/ivector/scores xvector_mfcc_aug=exp/scores/xvector_mfcc_aug/scores"""


def _pairs(values: list[str], option: str, what: str) -> list[tuple[str, str]]:
    """``name=value`` option values → pairs; names must be unique and non-empty."""
    out: list[tuple[str, str]] = []
    for v in values:
        name, eq, rest = v.partition("=")
        name = name.strip()
        if not eq or not name or not rest:
            raise MetricsError(f"bad {option} '{v}' (expected {what})")
        if any(n == name for n, _ in out):
            raise MetricsError(f"{option}: name '{name}' given twice")
        out.append((name, rest))
    return out


def _link(path: str, out: str) -> str:
    """``path`` relative to the directory of the report ``out`` (the current one for stdout)."""
    base = os.path.dirname(os.path.abspath(out)) if out != "-" else os.getcwd()
    return os.path.relpath(os.path.abspath(path), base)


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("score_report.py", USAGE)
    parser.add_argument("--trials", default="", help="Trials for systems that do not name their own")
    parser.add_argument("--baseline", default="",
                        help="Name of the system the others are compared with (--paper-tables: xvector_mfcc_aug)")
    parser.add_argument("--det-plot", default="", help="Write a DET plot (PNG) here")
    parser.add_argument("--bar-plot", default="", help="Write a bar chart of the EERs (PNG) here")
    parser.add_argument("--title", default="", help="Title of the plots (and of the report with --paper-tables)")
    parser.add_argument("--out", default="-", help="Markdown output (default: stdout)")
    parser.add_bool("--llr", False, "Scores are calibrated log-likelihood ratios: add Cllr and actual DCF columns")
    parser.add_argument("--subset", action="append", default=[], metavar="NAME=TRIALS",
                        help="Also score every system on this trial list alone (repeatable): column 'EER NAME'")
    parser.add_bool("--paper-tables", False, "Write the results report in the paper's layout (Table 1, Figure 3)")
    parser.add_bool("--paper-numbers", False, "With --paper-tables: the paper's published EERs beside ours")
    parser.add_argument("--corpus", default="", help="With --paper-tables: the corpus, recorded in the header")
    parser.add_argument("--data-dir", action="append", default=[], metavar="ROLE=DIR",
                        help="With --paper-tables: a data dir whose sizes the header records (repeatable)")
    parser.add_argument("--info", action="append", default=[], metavar="KEY=VALUE",
                        help="With --paper-tables: a configuration line of the header (repeatable)")
    parser.add_argument("systems", nargs="+", metavar="name=scores[,trials]")
    args = parser.parse_args(argv)
    log = get_logger("score_report.py")
    try:
        if not args.paper_tables:
            for opt, given in (("--paper-numbers", args.paper_numbers), ("--corpus", args.corpus),
                               ("--data-dir", args.data_dir), ("--info", args.info)):
                if given:
                    raise MetricsError(f"{opt} needs --paper-tables")
        subsets = _pairs(args.subset, "--subset", "<name>=<trials>")
        data_dirs = _pairs(args.data_dir, "--data-dir", "<role>=<dir>")
        info = _pairs(args.info, "--info", "<key>=<value>")
        trials_cache: dict[str, TrialList] = {}

        def trials_of(path: str) -> TrialList:
            if path not in trials_cache:
                trials_cache[path] = read_trials(path)
            return trials_cache[path]

        for _, path in subsets:
            trials_of(path)  # bad subset files fail before any scoring
        results = []
        names = set()
        trials_used: list[str] = []
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
            if trials_file not in trials_used:
                trials_used.append(trials_file)
            scores = read_scores(scores_file)
            labels = label_scores(scores, trials_of(trials_file), scores_file, require_all_trials=True)
            res = evaluate_system(name, scores.scores, labels, llr=args.llr, det=bool(args.det_plot))
            for sub, sub_file in subsets:
                s, lab = restrict_to_trials(scores, trials_of(sub_file), scores_file, sub_file)
                res.subsets[sub] = evaluate_system(f"{name}:{sub}", s, lab, llr=args.llr, det=False)
            results.append(res)
            log.info(f"{name}: {res.num_trials} trials ({res.num_targets} target), EER {res.eer:.2f}%, "
                     + ", ".join(f"minDCF({p:g}) {v:.4f}" for p, v in res.min_dcf.items())
                     + "".join(f", EER {k} {v.eer:.2f}%" for k, v in res.subsets.items()))
        if args.paper_tables:
            setup = ReportSetup(corpus=args.corpus, title=args.title, info=info)
            setup.data = [summarize_data_dir(role, d) for role, d in data_dirs]
            setup.trials = [summarize_trials("all" if len(trials_used) == 1 else f"all ({t})", t, trials_of(t))
                            for t in trials_used]
            setup.trials += [summarize_trials(n, t, trials_of(t)) for n, t in subsets]
            setup.det_plot = _link(args.det_plot, args.out) if args.det_plot else ""
            setup.bar_plot = _link(args.bar_plot, args.out) if args.bar_plot else ""
            unknown = [r.name for r in results if r.name not in paper.BY_NAME]
            if unknown:
                log.warning(f"systems not in the paper (reported under 'Other systems'): {', '.join(unknown)}")
            text = results_report(results, setup, args.baseline or None, paper_numbers=args.paper_numbers)
        else:
            text = markdown_table(results, args.baseline or None)
        # the pictures first: the report links to them
        if args.det_plot:
            label = paper.label if args.paper_tables else (lambda n: n)
            plot_det([(label(r.name), r.det) for r in results], args.det_plot, args.title or None,
                     eer_points=[r.eer / 100.0 for r in results])
            log.info(f"Wrote DET plot {args.det_plot}")
        if args.bar_plot:
            labels, series = eer_bar_series(results, args.paper_tables, args.paper_tables and args.paper_numbers)
            with_paper = args.paper_tables and args.paper_numbers
            plot_eer_bars(labels, series, args.bar_plot, args.title or None,
                          missing_text="not published" if with_paper else "")
            log.info(f"Wrote EER bar chart {args.bar_plot}")
        from phonsid.io import open_wxfilename

        with open_wxfilename(args.out) as f:
            f.write(text.encode())
        if args.out != "-":
            log.info(f"Wrote {args.out} ({len(results)} systems)")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
