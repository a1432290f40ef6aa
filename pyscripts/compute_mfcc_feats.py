#!/usr/bin/env python3
"""Kaldi's compute-mfcc-feats: MFCC features of a wav table (see phonsid.features.compute)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.features.frontend_cli import add_pipeline_options, expand_vad_config, run_feature_cli
from phonsid.features.options import add_mfcc_options, mfcc_options_from_args

USAGE = """Create MFCC feature files.
Usage:  compute_mfcc_feats.py [options...] <wav-rspecifier> <feats-wspecifier>
 e.g.: compute_mfcc_feats.py --config=conf/mfcc.conf scp:data/train/wav.scp ark,scp:mfcc/raw.ark,mfcc/raw.scp
 In one pass (phonsid extension): --segments=data/train/segments --compress=true
   --write-num-frames=ark,t:utt2num_frames --write-vad=ark,scp:vad.ark,vad.scp --vad-config=conf/vad.conf"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("compute_mfcc_feats.py", USAGE)
    add_mfcc_options(parser)
    add_pipeline_options(parser)
    parser.add_argument("wav_rspecifier")
    parser.add_argument("feats_wspecifier")
    args = parser.parse_args(expand_vad_config(argv))
    logger = get_logger("compute_mfcc_feats.py")
    try:
        opts = mfcc_options_from_args(args)
    except ValueError as e:
        logger.error(str(e))
        return 1
    return run_feature_cli("mfcc", opts, args, logger)


if __name__ == "__main__":
    sys.exit(main())
