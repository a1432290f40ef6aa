#!/usr/bin/env python3
"""gmm-global-acc-stats: accumulate statistics for training a diagonal-covariance GMM (see phonsid.gmm.global_cli)."""

from __future__ import annotations

import sys

from phonsid.gmm.global_cli import DIAG, acc_stats_main


def main(argv: list[str] | None = None) -> int:
    return acc_stats_main(DIAG, argv)


if __name__ == "__main__":
    sys.exit(main())
