#!/usr/bin/env python3
"""gmm-global-sum-accs: sum diagonal-covariance GMM accumulators (see phonsid.gmm.global_cli)."""

from __future__ import annotations

import sys

from phonsid.gmm.global_cli import DIAG, sum_accs_main


def main(argv: list[str] | None = None) -> int:
    return sum_accs_main(DIAG, argv)


if __name__ == "__main__":
    sys.exit(main())
