#!/usr/bin/env python3
"""Kaldi's apply-cmvn-sliding: sliding-window cepstral mean (and variance) normalisation per utterance."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Apply sliding-window cepstral mean (and optionally variance)
normalization per utterance.  If center == false, window is to the left
of the current frame; if center == true, window is centered on the current
frame.  Note: this program is not for normal CMN, but for sliding-window
CMN, e.g. for speaker ID.
Usage: apply_cmvn_sliding.py [options] <feats-rspecifier> <feats-wspecifier>
e.g.: apply_cmvn_sliding.py --norm-vars=false --center=true --cmn-window=300 scp:feats.scp ark:-"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("apply_cmvn_sliding.py", USAGE)
    parser.add_argument("--cmn-window", type=int, default=600,
                        help="window in frames for running average CMN computation (default: 600)")
    parser.add_argument("--min-cmn-window", type=int, default=100,
                        help="minimum CMN window used at start of decoding (only if center == false) (default: 100)")
    parser.add_argument("--max-warnings", type=int, default=5,
                        help="maximum warnings to report per utterance (accepted; default: 5)")
    parser.add_bool("--center", False, "use a window centered on the current frame")
    parser.add_bool("--norm-vars", False, "normalize variance to one")
    parser.add_argument("feats_rspecifier")
    parser.add_argument("feats_wspecifier")
    args = parser.parse_args(argv)
    logger = get_logger("apply_cmvn_sliding.py")

    from phonsid.features.cmvn import apply_cmvn_sliding
    from phonsid.io import KaldiIOError, SequentialReader, SpecifierError, TableWriter

    if args.cmn_window <= 0 or args.min_cmn_window <= 0:
        logger.error(f"bad window options: --cmn-window={args.cmn_window} --min-cmn-window={args.min_cmn_window}")
        return 1
    num_done = num_err = 0
    try:
        with SequentialReader(args.feats_rspecifier) as reader, TableWriter(args.feats_wspecifier) as writer:
            for utt, feats in reader:
                if feats.shape[0] == 0:
                    logger.warning(f"Empty feature matrix for utterance {utt}")
                    num_err += 1
                    continue
                writer.write(utt, apply_cmvn_sliding(feats, args.cmn_window, args.min_cmn_window, args.center,
                                                     args.norm_vars))
                num_done += 1
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        logger.error(str(e))
        return 1
    logger.info(f"Applied sliding-window cepstral mean normalization to {num_done} utterances, {num_err} had errors.")
    return 0 if num_done else 1


if __name__ == "__main__":
    sys.exit(main())
