#!/usr/bin/env python3
"""gmm-global-to-fgmm: convert a diagonal GMM to a full-covariance GMM."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import single_threaded
from phonsid.gmm.diag_gmm import read_diag_gmm
from phonsid.gmm.full_gmm import FullGmm, write_full_gmm
from phonsid.io import KaldiIOError

USAGE = """Convert single diagonal-covariance GMM to single full-covariance GMM.
Usage: gmm-global-to-fgmm [options] 1.gmm 1.fgmm"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm-global-to-fgmm", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 2:
        p.print_help(sys.stderr)
        return 1
    log = get_logger("gmm-global-to-fgmm")
    single_threaded()
    try:
        write_full_gmm(a.args[1], FullGmm.from_diag(read_diag_gmm(a.args[0])), a.binary)
        log.info(f"Written full GMM to {a.args[1]}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
