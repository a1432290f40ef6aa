#!/usr/bin/env python3
"""fgmm-global-est: estimate a full-covariance GMM from accumulated statistics (see phonsid.gmm.global_cli)."""

from __future__ import annotations

import sys

from phonsid.gmm.global_cli import FULL, est_main


def main(argv: list[str] | None = None) -> int:
    return est_main(FULL, argv)


if __name__ == "__main__":
    sys.exit(main())
