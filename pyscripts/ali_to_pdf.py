#!/usr/bin/env python3
"""ali-to-pdf: pdf ids (tied states, "senones") per frame from transition-id alignments."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Converts transition-id alignments to pdf ids per frame (zero-based).

Usage: ali_to_pdf.py [options] <model> <alignments-rspecifier> <pdfs-wspecifier>
 e.g.: ali_to_pdf.py exp/tri1_ali/final.mdl ark:exp/tri1_ali/ali.1.ark ark,scp:pdf_ali.1.ark,pdf_ali.1.scp"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("ali_to_pdf.py", USAGE)
    p.add_argument("model")
    p.add_argument("ali")
    p.add_argument("out")
    a = p.parse_args(argv)
    log = get_logger("ali_to_pdf.py")

    def body() -> int:
        from phonsid.hmm.alignment import tids_to_pdfs
        from phonsid.io.kaldi_object import read_object_file
        from phonsid.hmm.transition_model import read_transition_model_from
        from phonsid.io import SequentialReader, TableWriter

        tm = read_object_file(a.model, read_transition_model_from)
        n = 0
        with SequentialReader(a.ali, "int_vector") as r, TableWriter(a.out, "int_vector") as w:
            for utt, tids in r:
                w.write(utt, tids_to_pdfs(tm, tids, utt))
                n += 1
        log.info(f"Converted {n} alignments to pdf sequences ({tm.num_pdfs} pdfs)")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
