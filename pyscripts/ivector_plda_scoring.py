#!/usr/bin/env python3
"""ivector-plda-scoring: PLDA log-likelihood ratios for a trial list (scored in blocks of matrix products)."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.backend.checks import examples
from phonsid.backend.plda import read_plda
from phonsid.backend.scoring import PldaScorer, score_trials_file
from phonsid.backend.tables import read_int_table, read_vectors
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Computes log-likelihood ratios for trials using PLDA model
Note: the 'trials-file' has lines of the form
<key1> <key2>
and the output will have the form
<key1> <key2> <score>
A trial naming a key with no vector is an error, unless --skip-missing (then it is left out and counted).
For training examples, the input is the iVectors averaged over speakers; a separate archive containing the
number of utterances per speaker may be optionally supplied using the --num-utts option; this affects the
PLDA scoring (if not supplied, it defaults to 1 per speaker).

Usage: ivector-plda-scoring <plda> <train-ivector-rspecifier> <test-ivector-rspecifier>
 <trials-rxfilename> <scores-wxfilename>

e.g.: ivector-plda-scoring --num-utts=ark:exp/train/num_utts.ark plda ark:exp/train/spk_ivectors.ark
 ark:exp/test/ivectors.ark trials scores
See also: ivector-compute-plda"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-plda-scoring", USAGE)
    parser.add_argument("--num-utts", default="", help="Table to read the number of utterances per speaker, "
                        "e.g. ark:num_utts.ark")
    parser.add_bool("--normalize-length", True, "If true, do length normalization as part of PLDA: scale so that "
                    "the inner product with the PLDA model's inverse variance (a function of how many utterances the "
                    "iVector was averaged over) equals the iVector dimension.")
    parser.add_bool("--simple-length-normalization", False, "If true, replace the default length normalization by "
                    "an alternative that normalizes the length of the iVectors to be equal to the square root of the "
                    "iVector dimension.")
    parser.add_bool("--skip-missing", False, "Leave out (and count) trials naming a key with no vector instead of "
                    "failing (phonsid extension)")
    parser.add_argument("--engine", default="numpy", choices=["numpy", "torch"],
                        help="Matrix products with numpy (BLAS) or torch (phonsid extension; default: numpy)")
    parser.add_argument("--device", default="cpu", help="torch device for --engine=torch (default: cpu)")
    parser.add_argument("plda")
    parser.add_argument("train_ivector_rspecifier")
    parser.add_argument("test_ivector_rspecifier")
    parser.add_argument("trials_rxfilename")
    parser.add_argument("scores_wxfilename")
    args = parser.parse_args(argv)
    log = get_logger("ivector-plda-scoring")
    try:
        plda = read_plda(args.plda)
        log.info("Reading train iVectors")
        mkeys, models = read_vectors(args.train_ivector_rspecifier, "training iVector", dim=plda.dim)
        num_errs = 0
        if args.num_utts:
            counts = read_int_table(args.num_utts)
            absent = [k for k in mkeys if k not in counts]
            if absent:
                log.warning(f"Number of utterances not given for {len(absent)} speakers, skipping them "
                            f"(e.g. {examples(absent)})")
                keep = [i for i, k in enumerate(mkeys) if k in counts]
                mkeys = [mkeys[i] for i in keep]
                models = models[keep]
                num_errs = len(absent)
            num_utts = np.asarray([counts[k] for k in mkeys], dtype=np.float64)
            bad = [k for k, n in zip(mkeys, num_utts) if n <= 0]
            if bad:
                log.error(f"{args.num_utts}: {len(bad)} speakers have a non-positive utterance count "
                          f"(e.g. {examples(bad)})")
                return 1
        else:
            num_utts = np.ones(len(mkeys))
        log.info(f"Read {len(mkeys)} training iVectors, errors on {num_errs}")
        if not mkeys:
            log.error("No training iVectors present.")
            return 1
        log.info("Reading test iVectors")
        tkeys, tests = read_vectors(args.test_ivector_rspecifier, "test iVector", dim=plda.dim)
        log.info(f"Read {len(tkeys)} test iVectors.")
        device = args.device if args.engine == "torch" else None
        scorer = PldaScorer(plda, mkeys, models, tkeys, tests, num_utts, args.normalize_length,
                            args.simple_length_normalization, engine=args.engine, device=device)
        log.info(f"Average renormalization scale on training iVectors was {scorer.model_factors.mean():g}")
        log.info(f"Average renormalization scale on test iVectors was {scorer.test_factors.mean():g}")
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
