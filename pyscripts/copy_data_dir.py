#!/usr/bin/env python3
"""copy_data_dir.sh: copies a data dir, optionally adding prefixes/suffixes to utterance and speaker ids."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser
from phonsid.data.cliutil import join_option_values, run_tool
from phonsid.data.copy import copy_data_dir

PROG = "copy_data_dir.sh"
USAGE = """Usage: copy_data_dir.sh [options] <srcdir> <destdir>
e.g.: copy_data_dir.sh --spk-prefix=1- --utt-prefix=1- data/train data/train_1
Options:
   --spk-prefix=<prefix>     # Prefix for speaker ids, default empty
   --utt-prefix=<prefix>     # Prefix for utterance ids, default empty
   --spk-suffix=<suffix>     # Suffix for speaker ids, default empty
   --utt-suffix=<suffix>     # Suffix for utterance ids, default empty
   --validate-opts=<opts>    # Options for the final validation, e.g. "--no-spk-sort"
Recording ids (segments' second field, wav.scp with segments) are not changed."""

_VALIDATE_FLAGS = {"--no-feats": "no_feats", "--no-text": "no_text", "--no-wav": "no_wav",
                   "--no-spk-sort": "no_spk_sort", "--non-print": "non_print"}


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser(PROG, USAGE)
    for opt in ("--spk-prefix", "--utt-prefix", "--spk-suffix", "--utt-suffix", "--validate-opts"):
        p.add_argument(opt, default="")
    p.add_argument("src", help="source data dir")
    p.add_argument("dest", help="destination data dir")
    args = p.parse_args(join_option_values(sys.argv[1:] if argv is None else argv,
                                           ["--spk-prefix", "--utt-prefix", "--spk-suffix", "--utt-suffix",
                                            "--validate-opts"]))
    vopts = {}
    for word in args.validate_opts.split():
        if word not in _VALIDATE_FLAGS:
            p.error(f"--validate-opts: unknown option '{word}' (known: {', '.join(_VALIDATE_FLAGS)})")
        vopts[_VALIDATE_FLAGS[word]] = True

    def body() -> int:
        copy_data_dir(args.src, args.dest, utt_prefix=args.utt_prefix, utt_suffix=args.utt_suffix,
                      spk_prefix=args.spk_prefix, spk_suffix=args.spk_suffix, validate_opts=vopts,
                      log=lambda m: print(f"{PROG}: {m}"))
        print(f"validate_data_dir.sh: Successfully validated data-directory {args.dest}")
        return 0

    return run_tool(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
