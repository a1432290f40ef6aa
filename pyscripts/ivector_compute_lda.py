#!/usr/bin/env python3
"""ivector-compute-lda: an affine LDA transform (with the mean offset) from vectors and utt2spk."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.backend.checks import examples
from phonsid.backend.lda import compute_lda, group_by_speaker
from phonsid.backend.tables import read_vectors
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import read_token_map

USAGE = """Compute an LDA matrix for iVector system. Reads in iVectors per utterance, and an utt2spk file which it
uses to help work out the within-speaker and between-speaker covariance matrices. Outputs an LDA projection
to a specified dimension. By default it will normalize so that the projected within-class covariance is unit,
but if you set --total-covariance-factor to 1.0, it will normalize the total covariance.
Note: the transform we produce is actually an affine transform which will also set the global mean to zero.

Usage: ivector-compute-lda [options] <ivector-rspecifier> <utt2spk-rspecifier> <lda-matrix-out>
e.g.: ivector-compute-lda ark:ivectors.ark ark:utt2spk lda.mat"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-compute-lda", USAGE)
    parser.add_argument("--dim", type=int, default=100, help="Dimension we keep with the LDA transform (default: 100)")
    parser.add_argument("--total-covariance-factor", type=float, default=0.0,
                        help="If this is 0.0 we normalize to make the within-class covariance unit; if 1.0, the "
                             "total covariance; if between, we normalize an interpolated matrix. (default: 0.0)")
    parser.add_argument("--covariance-floor", type=float, default=1.0e-6,
                        help="Floor the eigenvalues of the interpolated covariance matrix to the product of its "
                             "largest eigenvalue and this number. (default: 1e-06)")
    parser.add_bool("--binary", True, "Write output in binary mode")
    parser.add_bool("--clip-dim", False, "Reduce --dim to what the data allow, min(--dim, input dimension, "
                    "number of speakers - 1), with a warning, instead of failing (phonsid extension)")
    parser.add_argument("ivector_rspecifier")
    parser.add_argument("utt2spk_rspecifier")
    parser.add_argument("lda_matrix_out")
    args = parser.parse_args(argv)
    log = get_logger("ivector-compute-lda")
    try:
        keys, mat = read_vectors(args.ivector_rspecifier, "iVector")
        utt2spk = read_token_map(args.utt2spk_rspecifier)
        spk2rows, missing = group_by_speaker(keys, utt2spk)
        if missing:
            log.warning(f"utt2spk has no entry for {len(missing)} utterances, skipping them (e.g. {examples(missing)})")
        num_done = len(keys) - len(missing)
        log.info(f"Read {num_done} utterances, {len(missing)} with errors.")
        if num_done == 0:
            log.error("Did not read any utterances.")
            return 1
        dim = args.dim
        if args.clip_dim:
            allowed = max(1, min(mat.shape[1], len(spk2rows) - 1))
            if dim > allowed:
                log.warning(f"--dim={dim} reduced to {allowed}: the data have dimension {mat.shape[1]} and "
                            f"{len(spk2rows)} speakers (LDA keeps at most #speakers - 1 directions)")
                dim = allowed
        res = compute_lda(mat, spk2rows, dim, args.total_covariance_factor, args.covariance_floor)
        log.info(f"2-norm of iVector mean is {np.linalg.norm(res.mean):g}")
        log.info(f"Stats have {res.num_speakers} speakers, {res.num_utterances} utterances.")
        for w in res.warnings:
            log.warning(w)
        ev = " ".join(f"{x:g}" for x in res.eigenvalues)
        log.info(f"Singular values of between-class covariance after projecting with interpolated [total/within] "
                 f"covariance with a weight of {args.total_covariance_factor:g} on the total covariance, are: [ {ev} ]")
        if dim > res.num_speakers - 1:
            log.warning(f"--dim={dim} exceeds the number of speakers minus one ({res.num_speakers - 1}); the "
                        f"between-class covariance has no more than {res.num_speakers - 1} non-zero directions")
        from phonsid.io import write_kaldi_matrix

        write_kaldi_matrix(args.lda_matrix_out, res.transform.astype(np.float32), binary=args.binary)
        log.info(f"Wrote LDA transform to {args.lda_matrix_out}")
        return 0
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
