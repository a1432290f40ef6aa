#!/usr/bin/env python3
"""fgmm-global-to-gmm: convert a full-covariance GMM to a diagonal one (keeping the covariance diagonals)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import single_threaded
from phonsid.gmm.diag_gmm import write_diag_gmm
from phonsid.gmm.full_gmm import read_full_gmm
from phonsid.io import KaldiIOError

USAGE = """Convert single full-covariance GMM to single diagonal-covariance GMM.
Usage: fgmm-global-to-gmm [options] 1.fgmm 1.gmm"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("fgmm-global-to-gmm", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 2:
        p.print_help(sys.stderr)
        return 1
    log = get_logger("fgmm-global-to-gmm")
    single_threaded()
    try:
        write_diag_gmm(a.args[1], read_full_gmm(a.args[0]).to_diag(), a.binary)
        log.info(f"Written diagonal GMM to {a.args[1]}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
