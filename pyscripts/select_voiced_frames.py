#!/usr/bin/env python3
"""Kaldi's select-voiced-frames: keep the frames a VAD vector marks as voiced."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Select a subset of frames of the input files, based on the output of
compute-vad or a similar program (a vector of length num-frames,
containing 1.0 for voiced, 0.0 for unvoiced).  Caution: this is
mostly useful only in speaker identification applications.
Usage: select_voiced_frames.py [options] <feats-rspecifier>  <vad-rspecifier> <feats-wspecifier>
E.g.: select_voiced_frames.py [options] scp:feats.scp scp:vad.scp ark:-"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("select_voiced_frames.py", USAGE)
    parser.add_argument("feats_rspecifier")
    parser.add_argument("vad_rspecifier")
    parser.add_argument("feats_wspecifier")
    args = parser.parse_args(argv)
    logger = get_logger("select_voiced_frames.py")

    from phonsid.features.vad import select_voiced_frames
    from phonsid.io import KaldiIOError, RandomReader, SequentialReader, SpecifierError, TableWriter

    num_done = num_err = 0
    try:
        with SequentialReader(args.feats_rspecifier) as reader, RandomReader(args.vad_rspecifier, "vector") as vads, \
                TableWriter(args.feats_wspecifier) as writer:
            for utt, feats in reader:
                if feats.shape[0] == 0:
                    logger.warning(f"Empty feature matrix for utterance {utt}")
                    num_err += 1
                    continue
                if utt not in vads:
                    logger.warning(f"No VAD input found for utterance {utt}")
                    num_err += 1
                    continue
                vad = vads[utt]
                if vad.shape[0] != feats.shape[0]:
                    logger.warning(f"Mismatch in number for frames {feats.shape[0]} for features and VAD "
                                   f"{vad.shape[0]}, for utterance {utt}")
                    num_err += 1
                    continue
                if not vad.any():
                    logger.warning(f"No features were judged as voiced for utterance {utt}")
                    num_err += 1
                    continue
                writer.write(utt, select_voiced_frames(feats, vad))
                num_done += 1
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        logger.error(str(e))
        return 1
    logger.info(f"Done selecting voiced frames; processed {num_done} utterances, {num_err} had errors.")
    return 0 if num_done else 1


if __name__ == "__main__":
    sys.exit(main())
