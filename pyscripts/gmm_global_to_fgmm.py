#!/usr/bin/env python3
"""gmm-global-to-fgmm: convert a diagonal GMM to a full-covariance GMM (see phonsid.gmm.global_cli)."""

from __future__ import annotations

import sys

from phonsid.gmm.global_cli import DIAG, convert_main


def main(argv: list[str] | None = None) -> int:
    return convert_main(DIAG, argv)


if __name__ == "__main__":
    sys.exit(main())
