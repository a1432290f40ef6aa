#!/usr/bin/env python3
"""ali-to-phones: phone sequences (or phones per frame, or phone lengths) from transition-id alignments."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Converts transition-id alignments to phone sequences; --per-frame gives one phone per frame,
--write-lengths "phone length ; phone length ..." pairs (as int_vector_vector tables).

Usage: ali_to_phones.py [options] <model> <alignments-rspecifier> <phones-wspecifier>
 e.g.: ali_to_phones.py --per-frame exp/tri1_ali/final.mdl ark:ali.1.ark ark,t:-"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("ali_to_phones.py", USAGE)
    p.add_bool("--per-frame", default=False, help="one phone per frame")
    p.add_bool("--write-lengths", default=False, help="write (phone, length) pairs")
    p.add_argument("model")
    p.add_argument("ali")
    p.add_argument("out")
    a = p.parse_args(argv)
    log = get_logger("ali_to_phones.py")

    def body() -> int:
        import numpy as np

        from phonsid.hmm.alignment import split_to_phones, tids_to_phones
        from phonsid.io.kaldi_object import read_object_file
        from phonsid.hmm.transition_model import read_transition_model_from
        from phonsid.io import SequentialReader, TableWriter

        if a.per_frame and a.write_lengths:
            log.error("--per-frame and --write-lengths exclude each other")
            return 1
        tm = read_object_file(a.model, read_transition_model_from)
        n = 0
        holder = "int_vector_vector" if a.write_lengths else "int_vector"
        with SequentialReader(a.ali, "int_vector") as r, TableWriter(a.out, holder) as w:
            for utt, tids in r:
                if a.per_frame:
                    w.write(utt, tids_to_phones(tm, tids, utt))
                else:
                    segs = split_to_phones(tm, tids, utt)
                    if a.write_lengths:
                        w.write(utt, [np.array([s.phone, s.length], np.int32) for s in segs])
                    else:
                        w.write(utt, np.array([s.phone for s in segs], np.int32))
                n += 1
        log.info(f"Done {n} utterances")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
