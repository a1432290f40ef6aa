#!/usr/bin/env python3
"""score_norm.py: scores a trial list with PLDA or cosine similarity, with S-norm / adaptive S-norm."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.backend.checks import examples
from phonsid.backend.plda import read_plda
from phonsid.backend.score_norm import NormalizedScorer, cohort_stats
from phonsid.backend.scoring import CosineScorer, PldaScorer, score_trials_file
from phonsid.backend.tables import read_int_table, read_vectors
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Scores trials ('<enroll> <test>' lines) with PLDA log-likelihood ratios (--plda) or cosine similarity
(no --plda), normalised with a cohort: S-norm (--method=snorm), adaptive S-norm over the --top-n highest cohort
scores of each side (--method=asnorm), or raw scores (--method=none). Output lines: '<enroll> <test> <score>'.
With PLDA the vectors are used as ivector-plda-scoring uses them (enrolment averages with --num-utts, tests
and cohort as single utterances).

Usage: score_norm.py [options] <enroll-rspecifier> <test-rspecifier> <cohort-rspecifier> <trials-rxfilename>
  <scores-wxfilename>
e.g.: score_norm.py --plda=exp/plda --num-utts=ark:exp/num_utts.ark --method=asnorm --top-n=300 \\
  ark:exp/enroll_lda.ark ark:exp/test_lda.ark ark:exp/cohort_lda.ark data/test/trials_keys exp/scores_asnorm"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("score_norm.py", USAGE)
    parser.add_argument("--plda", default="", help="PLDA model (rxfilename); cosine scoring when not given")
    parser.add_argument("--num-utts", default="", help="Utterances per enrolment model, e.g. ark:num_utts.ark")
    parser.add_bool("--normalize-length", True, "PLDA length normalization (as ivector-plda-scoring)")
    parser.add_bool("--simple-length-normalization", False, "Simple PLDA length normalization (to sqrt(dim))")
    parser.add_argument("--method", default="asnorm", choices=["asnorm", "snorm", "none"],
                        help="Score normalization (default: asnorm)")
    parser.add_argument("--top-n", type=int, default=300,
                        help="Cohort size per side for adaptive S-norm (default: 300)")
    parser.add_bool("--skip-missing", False, "Leave out (and count) trials naming a key with no vector")
    parser.add_argument("--engine", default="numpy", choices=["numpy", "torch"], help="Matrix products engine")
    parser.add_argument("--device", default="cpu", help="torch device for --engine=torch")
    parser.add_argument("enroll_rspecifier")
    parser.add_argument("test_rspecifier")
    parser.add_argument("cohort_rspecifier")
    parser.add_argument("trials_rxfilename")
    parser.add_argument("scores_wxfilename")
    args = parser.parse_args(argv)
    log = get_logger("score_norm.py")
    device = args.device if args.engine == "torch" else None
    try:
        plda = read_plda(args.plda) if args.plda else None
        dim = plda.dim if plda is not None else None
        mkeys, models = read_vectors(args.enroll_rspecifier, "enrolment vector", dim=dim)
        dim = models.shape[1]
        tkeys, tests = read_vectors(args.test_rspecifier, "test vector", dim=dim)
        ckeys, cohort = read_vectors(args.cohort_rspecifier, "cohort vector", dim=dim)
        num_utts = None
        if args.num_utts:
            counts = read_int_table(args.num_utts)
            absent = [k for k in mkeys if k not in counts]
            if absent:
                log.error(f"{args.num_utts} has no count for {len(absent)} enrolment models (e.g. {examples(absent)})")
                return 1
            num_utts = np.asarray([counts[k] for k in mkeys], dtype=np.float64)

        def make(mk, m, tk, t, n):
            if plda is None:
                return CosineScorer(mk, m, tk, t, engine=args.engine, device=device)
            return PldaScorer(plda, mk, m, tk, t, n, args.normalize_length, args.simple_length_normalization,
                              engine=args.engine, device=device)

        scorer = make(mkeys, models, tkeys, tests, num_utts)
        if args.method != "none":
            top_n = args.top_n if args.method == "asnorm" else None
            if top_n is not None and top_n > len(ckeys):
                log.warning(f"--top-n={top_n} exceeds the cohort size {len(ckeys)}; using the whole cohort")
            enroll_stats = cohort_stats(make(mkeys, models, ckeys, cohort, num_utts), "model", top_n)
            test_stats = cohort_stats(make(ckeys, cohort, tkeys, tests, None), "test", top_n)
            scorer = NormalizedScorer(scorer, enroll_stats, test_stats)
            log.info(f"{args.method}: cohort of {len(ckeys)} vectors"
                     + (f", top {min(top_n, len(ckeys))} per side" if top_n else ""))
        summary = score_trials_file(scorer, args.trials_rxfilename, args.scores_wxfilename, args.skip_missing)
        if summary.num_missing:
            log.warning(summary.missing_message(args.trials_rxfilename) + "; they were skipped")
        if summary.num_scored:
            log.info(f"Mean score was {summary.mean:g}, standard deviation was {summary.stddev:g}")
        log.info(f"Processed {summary.num_scored} trials, {summary.num_missing} had errors.")
        return 0 if summary.num_scored else 1
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
