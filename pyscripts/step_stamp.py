#!/usr/bin/env python3
"""step_stamp.py: whether a step may skip its work (check), and the record that it finished (write)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser
from phonsid.data.cliutil import run_tool
from phonsid.data.stamp import StepFiles, check_stamp, write_stamp

PROG = "step_stamp.py"
USAGE = """Usage: step_stamp.py check|write [options] <stamp>
 e.g.: step_stamp.py check --key="$0 $*" --in-scp data/train/wav.scp --in data/train/utt2spk --in conf/mfcc.conf \\
         --out-scp data/train/feats.scp data/train/.stamps/make_mfcc.json
check: exit 0 if the step is up to date (stamp present, key and inputs as recorded, outputs complete), else print
       why, remove the stale stamp, note the inputs as they are now in <stamp>.pending and exit 1.
write: after the step finished: record key, inputs and outputs in <stamp> (atomically); exit 1 naming the output
       when one is missing or an scp points past the end of its archive. If the inputs changed since 'check',
       warn and write no stamp (the next run redoes the step).
Every option can be repeated; pass the same options to check and write. See phonsid/data/stamp.py."""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    p.add_argument("command", choices=("check", "write"))
    p.add_argument("--key", default="", help="the step's command line or options, compared as text")
    p.add_argument("--in", dest="inputs", action="append", default=[], metavar="FILE",
                   help="input compared by content (tables, configs, models)")
    p.add_argument("--in-scp", dest="input_scps", action="append", default=[], metavar="FILE",
                   help="input table compared by content and by the size/mtime of the files its entries name")
    p.add_argument("--in-stat", dest="input_stats", action="append", default=[], metavar="FILE",
                   help="input compared by size and modification time (large binaries)")
    p.add_argument("--out", dest="outputs", action="append", default=[], metavar="FILE",
                   help="output file: must exist with the recorded size")
    p.add_argument("--out-scp", dest="output_scps", action="append", default=[], metavar="FILE",
                   help="output scp: every archive it points into must exist with the recorded size")
    p.add_argument("stamp", help="the stamp file, by convention <out-dir>/.stamps/<step>.json")
    args = p.parse_args(argv)
    step = StepFiles(key=args.key, inputs=args.inputs, input_scps=args.input_scps, input_stats=args.input_stats,
                     outputs=args.outputs, output_scps=args.output_scps)

    def body() -> int:
        if args.command == "check":
            verdict = check_stamp(args.stamp, step)
            for r in verdict.reasons[:5]:
                print(f"{PROG}: {args.stamp}: must run: {r}")
            if len(verdict.reasons) > 5:
                print(f"{PROG}: {args.stamp}: ... and {len(verdict.reasons) - 5} more reasons")
            return 0 if verdict.up_to_date else 1
        for w in write_stamp(args.stamp, step):
            print(f"{PROG}: warning: {args.stamp} not written: {w}", file=sys.stderr)
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
