#!/usr/bin/env python3
"""convert-ali: maps alignments to a new model and tree with the same topology."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Converts transition-id alignments from one model to another (same phones and topology, new tree): every
frame keeps its phone, HMM state and transition; the pdf comes from the new tree.

Usage: convert_ali.py [options] <old-model> <new-model> <new-tree> <old-alignments-rspecifier> <new-alignments-wspecifier>
 e.g.: convert_ali.py exp/mono_ali/final.mdl exp/tri1/1.mdl exp/tri1/tree ark:ali.1.ark ark:new.1.ark"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("convert_ali.py", USAGE)
    p.add_argument("old_model")
    p.add_argument("new_model")
    p.add_argument("new_tree")
    p.add_argument("old_ali")
    p.add_argument("new_ali")
    a = p.parse_args(argv)
    log = get_logger("convert_ali.py")

    def body() -> int:
        from phonsid.hmm.alignment import AlignmentError, convert_alignment
        from phonsid.io.kaldi_object import read_object_file
        from phonsid.hmm.transition_model import read_transition_model_from
        from phonsid.hmm.tree import read_tree
        from phonsid.io import SequentialReader, TableWriter

        old = read_object_file(a.old_model, read_transition_model_from)
        new = read_object_file(a.new_model, read_transition_model_from)
        ctx = read_tree(a.new_tree)
        done = failed = 0
        with SequentialReader(a.old_ali, "int_vector") as r, TableWriter(a.new_ali, "int_vector") as w:
            for utt, tids in r:
                try:
                    w.write(utt, convert_alignment(old, new, ctx, tids, utt).astype("int32"))
                    done += 1
                except AlignmentError as e:
                    log.warning(str(e))
                    failed += 1
        log.info(f"Succeeded converting alignments for {done} files, failed for {failed}")
        return 0 if done else 1

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
