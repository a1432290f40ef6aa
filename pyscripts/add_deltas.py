#!/usr/bin/env python3
"""Kaldi's add-deltas: append delta (and delta-delta...) features."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Add deltas (typically to raw mfcc or plp features
Usage: add_deltas.py [options] in-rspecifier out-wspecifier
e.g.: add_deltas.py --delta-order=2 scp:feats.scp ark:-"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("add_deltas.py", USAGE)
    parser.add_argument("--delta-order", type=int, default=2, help="order of delta computation (default: 2)")
    parser.add_argument("--delta-window", type=int, default=2,
                        help="parameter controlling window for delta computation (actual window size for each "
                             "delta order is 1 + 2*delta-window-size) (default: 2)")
    parser.add_argument("--truncate", type=int, default=0,
                        help="if nonzero, first truncate features to this dimension (default: 0)")
    parser.add_argument("in_rspecifier")
    parser.add_argument("out_wspecifier")
    args = parser.parse_args(argv)
    logger = get_logger("add_deltas.py")

    from phonsid.features.deltas import add_deltas
    from phonsid.io import KaldiIOError, SequentialReader, SpecifierError, TableWriter

    if not 0 <= args.delta_order < 1000 or not 0 < args.delta_window < 1000 or args.truncate < 0:
        logger.error(f"bad options: --delta-order={args.delta_order} --delta-window={args.delta_window} "
                     f"--truncate={args.truncate}")
        return 1
    num_done = 0
    try:
        with SequentialReader(args.in_rspecifier) as reader, TableWriter(args.out_wspecifier) as writer:
            for utt, feats in reader:
                if feats.shape[0] == 0:
                    logger.warning(f"Empty feature matrix for utterance {utt}")
                    continue
                if args.truncate:
                    if args.truncate > feats.shape[1]:
                        logger.error(f"utterance {utt}: cannot truncate features of dimension {feats.shape[1]} "
                                     f"to {args.truncate}")
                        raise SystemExit(1)
                    feats = feats[:, :args.truncate]
                writer.write(utt, add_deltas(feats, args.delta_order, args.delta_window))
                num_done += 1
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        logger.error(str(e))
        return 1
    logger.info(f"Added deltas to {num_done} utterances")
    return 0 if num_done else 1


if __name__ == "__main__":
    sys.exit(main())
