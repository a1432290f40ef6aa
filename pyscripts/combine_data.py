#!/usr/bin/env python3
"""combine_data.sh: combines several data dirs into one (sorted, fixed; repeated utterance ids are an error)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, parse_bool
from phonsid.data.cliutil import join_option_values, run_tool
from phonsid.data.combine import combine_data

PROG = "combine_data.sh"
USAGE = """Usage: combine_data.sh [--extra-files 'file1 file2'] [--skip-fix true|false] <dest-data-dir> <src-data-dir1> <src-data-dir2> ...
Files that do not appear in all source dirs are not combined, except utt2uniq and segments, which are created
where necessary. <dest-data-dir> is replaced. An utterance id found in two sources is an error.
--skip-fix true: do not run fix_data_dir.sh on the result."""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    p.add_argument("--extra-files", default="", help="more files to combine (space separated)")
    p.add_argument("--skip-fix", type=parse_bool, default=False, metavar="true|false",
                   help="skip fix_data_dir.sh at the end (default: false)")
    p.add_argument("dest", help="destination data dir")
    p.add_argument("sources", nargs="+", help="source data dirs")
    args = p.parse_args(join_option_values(sys.argv[1:] if argv is None else argv, ["--extra-files", "--skip-fix"]))
    print(f"{PROG} {' '.join(sys.argv[1:] if argv is None else argv)}")

    def body() -> int:
        report = combine_data(args.dest, args.sources, extra_files=args.extra_files.split(), skip_fix=args.skip_fix,
                              log=lambda m: print(f"{PROG}: {m}"))
        if report is not None:
            for line in report.messages("fix_data_dir.sh"):
                print(line)
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
