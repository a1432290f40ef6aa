#!/usr/bin/env python3
"""fgmm-global-to-gmm: convert a full-covariance GMM to a diagonal one, keeping the covariance diagonals (see
phonsid.gmm.global_cli)."""

from __future__ import annotations

import sys

from phonsid.gmm.global_cli import FULL, convert_main


def main(argv: list[str] | None = None) -> int:
    return convert_main(FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
