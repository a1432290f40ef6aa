#!/usr/bin/env python3
"""ivector-compute-plda: trains a PLDA model (two-covariance EM, Kaldi's) from vectors and spk2utt."""

from __future__ import annotations

import sys

from phonsid.backend.checks import examples
from phonsid.backend.plda import accumulate_plda_stats, check_plda_training_data, estimate_plda, write_plda
from phonsid.backend.tables import read_vectors
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import read_token_lists

USAGE = """Computes a Plda object (for Probabilistic Linear Discriminant Analysis) from a set of iVectors. Uses
speaker information from a spk2utt file to compute within and between class variances.

Usage: ivector-compute-plda [options] <spk2utt-rspecifier> <ivector-rspecifier> <plda-out>
e.g.: ivector-compute-plda ark:spk2utt ark,s,cs:ivectors.ark plda"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-compute-plda", USAGE)
    parser.add_argument("--num-em-iters", type=int, default=10,
                        help="Number of iterations of E-M used for PLDA estimation (default: 10)")
    parser.add_bool("--binary", True, "Write output in binary mode")
    parser.add_argument("spk2utt_rspecifier")
    parser.add_argument("ivector_rspecifier")
    parser.add_argument("plda_out")
    args = parser.parse_args(argv)
    log = get_logger("ivector-compute-plda")
    try:
        spk2utt = read_token_lists(args.spk2utt_rspecifier)
        empty = [s for s, u in spk2utt.items() if not u]
        if empty:
            log.error(f"{args.spk2utt_rspecifier}: {len(empty)} speakers with no utterances (e.g. {examples(empty)})")
            return 1
        keys, mat = read_vectors(args.ivector_rspecifier, "iVector")
        index = {k: i for i, k in enumerate(keys)}
        groups, names, missing, spk_err = [], [], [], []
        for spk, utts in spk2utt.items():
            rows = [index[u] for u in utts if u in index]
            missing.extend(u for u in utts if u not in index)
            if not rows:
                spk_err.append(spk)
                continue
            groups.append(mat[rows])
            names.append(spk)
        if missing:
            log.warning(f"No iVector present in input for {len(missing)} utterances (e.g. {examples(missing)})")
        if spk_err:
            log.warning(f"Not producing output for {len(spk_err)} speakers since no utterances had iVectors "
                        f"(e.g. {examples(spk_err)})")
        num_utt = sum(len(g) for g in groups)
        log.info(f"Accumulated stats from {len(groups)} speakers ({len(spk_err)} with no utterances), consisting of "
                 f"{num_utt} utterances ({len(missing)} absent from input).")
        if not groups:
            log.error("No stats accumulated, unable to estimate PLDA.")
            return 1
        stats = accumulate_plda_stats(groups, names=names)
        for w in check_plda_training_data(stats):
            log.warning(w)

        def on_iter(i, within, between):
            log.info(f"Plda estimation iteration {i} of {args.num_em_iters}: trace of within-class variance is "
                     f"{within.trace():g}, of between-class variance {between.trace():g}")

        plda, info = estimate_plda(stats, args.num_em_iters, on_iter=on_iter)
        if info.num_floored:
            log.warning(f"Floored {info.num_floored} eigenvalues of between-class variance to zero.")
        import numpy as np

        log.info(f"Norm of mean of iVector distribution is {np.linalg.norm(plda.mean):g}")
        log.info("Diagonal of between-class variance in normalized space is [ "
                 + " ".join(f"{x:g}" for x in plda.psi) + " ]")
        write_plda(args.plda_out, plda, binary=args.binary)
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
