#!/usr/bin/env python3
"""fix_data_dir.sh: sorts a Kaldi data directory and keeps only the utterances every file agrees on."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser
from phonsid.data.cliutil import join_option_values, run_tool
from phonsid.data.fix import fix_data_dir

PROG = "fix_data_dir.sh"
USAGE = """Usage: fix_data_dir.sh [--utt-extra-files "f1 f2"] [--spk-extra-files "f1 f2"] <data-dir>
e.g.: fix_data_dir.sh data/train
Sorts every file of the data dir (C locale, one line per key), keeps only the utterances present in utt2spk and
in every utterance-indexed file (feats.scp, text, segments/wav.scp, vad.scp, utt2dur, utt2num_frames, utt2lang,
utt2uniq, utt2warp), the speakers present in cmvn.scp/spk2gender, and the recordings that segments use; rewrites
spk2utt. The original files are copied to <data-dir>/.backup. Prints what was dropped, per file."""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    p.add_argument("--utt-extra-files", default="", help="more utterance-indexed files to filter (space separated)")
    p.add_argument("--spk-extra-files", default="", help="more speaker-indexed files to filter (space separated)")
    p.add_argument("data", help="data directory")
    args = p.parse_args(join_option_values(sys.argv[1:] if argv is None else argv,
                                           ["--utt-extra-files", "--spk-extra-files"]))

    def body() -> int:
        report = fix_data_dir(args.data, utt_extra_files=args.utt_extra_files.split(),
                              spk_extra_files=args.spk_extra_files.split())
        for line in report.messages(PROG):
            print(line)
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
