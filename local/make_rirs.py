#!/usr/bin/env python3
"""Prepares the RIRS_NOISES lists (simulated small/medium/large rooms, real RIRs with isotropic noises,
point-source noises) with absolute locations under <out-dir>/<set>/, for steps/data/reverberate_data_dir.py."""

from __future__ import annotations

import sys

from phonsid.augment.corpora import RIR_LISTS, prepare_rirs
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError

USAGE = f"""Copies the RIRS_NOISES rir_list / noise_list files with absolute, checked locations.
Usage: local/make_rirs.py [options] <RIRS_NOISES-dir> <out-dir>
e.g. local/make_rirs.py RIRS_NOISES data/rirs
  -> data/rirs/smallroom/rir_list, data/rirs/mediumroom/rir_list, data/rirs/real_rirs/noise_list, ...
Sets: {', '.join(RIR_LISTS)}"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("make_rirs.py", USAGE)
    p.add_argument("--sets", default=",".join(RIR_LISTS), help="Comma-separated sets to prepare (default: all)")
    p.add_argument("in_dir", metavar="<RIRS_NOISES-dir>")
    p.add_argument("out_dir", metavar="<out-dir>")
    args = p.parse_args(argv)
    log = get_logger("make_rirs.py")
    try:
        counts = prepare_rirs(args.in_dir, args.out_dir, [s for s in args.sets.split(",") if s], log=log)
    except (DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    log.info("prepared " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
