#!/usr/bin/env python3
"""Kaldi's compute-fbank-feats: log mel filter-bank features of a wav table (see phonsid.features.compute)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.features.frontend_cli import add_pipeline_options, expand_vad_config, run_feature_cli
from phonsid.features.options import add_fbank_options, fbank_options_from_args

USAGE = """Create Mel-filter bank (FBANK) feature files.
Usage:  compute_fbank_feats.py [options...] <wav-rspecifier> <feats-wspecifier>
 e.g.: compute_fbank_feats.py --config=conf/fbank.conf scp:data/train/wav.scp ark,scp:fbank/raw.ark,fbank/raw.scp"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("compute_fbank_feats.py", USAGE)
    add_fbank_options(parser)
    add_pipeline_options(parser)
    parser.add_argument("wav_rspecifier")
    parser.add_argument("feats_wspecifier")
    args = parser.parse_args(expand_vad_config(argv))
    logger = get_logger("compute_fbank_feats.py")
    try:
        opts = fbank_options_from_args(args)
    except ValueError as e:
        logger.error(str(e))
        return 1
    return run_feature_cli("fbank", opts, args, logger)


if __name__ == "__main__":
    sys.exit(main())
