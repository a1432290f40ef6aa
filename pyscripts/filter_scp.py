#!/usr/bin/env python3
"""filter_scp.pl: prints the lines of a table whose key (or -f N'th field) is in an id list (or, with --exclude,
is not). Byte-exact: lines are printed verbatim, in input order."""

from __future__ import annotations

import sys

from phonsid.data.scp import main_filter_scp


def main(argv: list[str] | None = None) -> int:
    return main_filter_scp(argv)


if __name__ == "__main__":
    sys.exit(main())
