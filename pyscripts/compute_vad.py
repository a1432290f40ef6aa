#!/usr/bin/env python3
"""Kaldi's compute-vad: energy-based voice activity decisions from features whose column 0 is log energy."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.features.options import FeatureOptionError, add_vad_options, vad_options_from_args

USAGE = """This program reads input features and writes out, for each utterance,
a vector of floats that are 1.0 if we judge the frame voiced and 0.0
otherwise.  The algorithm thresholds the log energy (column 0) against
--vad-energy-threshold plus --vad-energy-mean-scale times its mean, and takes
the consensus of the decisions within --vad-frames-context frames each side.
Usage: compute_vad.py [options] <feats-rspecifier> <vad-wspecifier>
e.g.: compute_vad.py scp:feats.scp ark:vad.ark"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("compute_vad.py", USAGE)
    parser.add_bool("--omit-unvoiced-utts", False,
                    "do not write out voicing information for utterances judged 100%% unvoiced")
    add_vad_options(parser)
    parser.add_argument("feats_rspecifier")
    parser.add_argument("vad_wspecifier")
    args = parser.parse_args(argv)
    logger = get_logger("compute_vad.py")

    from phonsid.features.vad import compute_vad_opts
    from phonsid.io import KaldiIOError, SequentialReader, SpecifierError, TableWriter

    try:
        opts = vad_options_from_args(args)
    except FeatureOptionError as e:
        logger.error(str(e))
        return 1
    num_done = num_err = num_unvoiced = 0
    tot_length = tot_voiced = 0.0
    try:
        # finite=True: a NaN energy would silently make every frame unvoiced
        with SequentialReader(args.feats_rspecifier, finite=True) as reader, \
                TableWriter(args.vad_wspecifier, "vector") as writer:
            for utt, feats in reader:
                if feats.shape[0] == 0:
                    logger.warning(f"Empty feature matrix for utterance {utt}")
                    num_err += 1
                    continue
                vad = compute_vad_opts(feats, opts)
                voiced = float(vad.sum())
                if voiced == 0.0:
                    logger.warning(f"No frames were judged voiced for utterance {utt}")
                    num_unvoiced += 1
                else:
                    num_done += 1
                tot_voiced += voiced
                tot_length += vad.shape[0]
                if not (args.omit_unvoiced_utts and voiced == 0.0):
                    writer.write(utt, vad)
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        logger.error(str(e))
        return 1
    logger.info(f"Applied energy based voice activity detection; processed {num_done} utterances successfully; "
                f"{num_err} had empty features, and {num_unvoiced} were completely unvoiced.")
    proportion = tot_voiced / tot_length if tot_length else 0.0
    logger.info(f"Proportion of voiced frames was {proportion:.6g} over {tot_length:.0f} frames.")
    return 0 if num_done else 1


if __name__ == "__main__":
    sys.exit(main())
