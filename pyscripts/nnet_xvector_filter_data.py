#!/usr/bin/env python3
"""Kaldi's x-vector training filters on a data dir: utterances with at most --min-len frames and speakers with
fewer than --min-num-utts utterances are removed (egs/sre16/v2/run.sh stage 3)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError
from phonsid.nnet.xvector_data import XvectorDataError, filter_data_dir

USAGE = """Removes, in place, the utterances of a data dir with --min-len frames or fewer (utt2num_frames; Kaldi
keeps '$2 > min_len'), then the speakers left with fewer than --min-num-utts utterances, and utterances that
have no features. Prints what was removed, with examples.

Usage: nnet-xvector-filter-data [options] <data-dir>
e.g.: nnet-xvector-filter-data --min-len=500 --min-num-utts=8 data/train_combined_no_sil"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet-xvector-filter-data", USAGE)
    p.add_argument("--min-len", type=int, default=500, help="Keep utterances with more frames than this (default 500)")
    p.add_argument("--min-num-utts", type=int, default=8, help="Keep speakers with at least this many utterances "
                   "(default 8)")
    p.add_argument("data_dir")
    args = p.parse_args(argv)
    log = get_logger("nnet-xvector-filter-data")
    try:
        report = filter_data_dir(args.data_dir, args.min_len, args.min_num_utts)
    except (XvectorDataError, DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    for line in report.lines():
        log.info(f"{args.data_dir}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
