#!/usr/bin/env python3
"""Imports pdf-id alignments made elsewhere (Kaldi's ali-to-pdf output): checks the ids and copies them."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Copies pdf alignments (one int vector of pdf ids per utterance, e.g. from Kaldi's
"ali-to-pdf final.mdl 'ark:gunzip -c ali.*.gz|' ark:-") after checking every id is in [0, <num-pdfs>).
With --utt2num-frames, frame counts are checked too (utterances that do not match are dropped and named).

Usage: import_pdf_ali.py [options] <num-pdfs> <pdf-ali-rspecifier> <pdf-ali-wspecifier>
 e.g.: import_pdf_ali.py 1976 "ark:ali-to-pdf final.mdl 'ark:gunzip -c ali.1.gz|' ark:- |" \\
         ark,scp:exp/kaldi_ali/pdf_ali.1.ark,exp/kaldi_ali/pdf_ali.1.scp"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("import_pdf_ali.py", USAGE)
    p.add_argument("--utt2num-frames", default=None, help="utt2num_frames file to check lengths against")
    p.add_argument("--length-tolerance", type=int, default=0, help="allowed frame-count difference (0)")
    p.add_argument("num_pdfs", type=int)
    p.add_argument("ali")
    p.add_argument("out")
    a = p.parse_args(argv)
    log = get_logger("import_pdf_ali.py")

    def body() -> int:
        import numpy as np

        from phonsid.data import read_map
        from phonsid.io import SequentialReader, TableWriter

        if a.num_pdfs < 1:
            log.error(f"<num-pdfs> must be positive, got {a.num_pdfs}")
            return 1
        lengths = {u: int(v) for u, v in read_map(a.utt2num_frames).items()} if a.utt2num_frames else None
        n = dropped = 0
        counts = np.zeros(a.num_pdfs, np.int64)
        with SequentialReader(a.ali, "int_vector") as r, TableWriter(a.out, "int_vector") as w:
            for utt, pdfs in r:
                pdfs = np.asarray(pdfs)
                if pdfs.size and (pdfs.min() < 0 or pdfs.max() >= a.num_pdfs):
                    raise ValueError(f"{a.ali}: utterance '{utt}' has pdf ids in [{pdfs.min()}, {pdfs.max()}], "
                                     f"outside [0, {a.num_pdfs}) — is <num-pdfs> right?")
                if lengths is not None:
                    if utt not in lengths or abs(lengths[utt] - len(pdfs)) > a.length_tolerance:
                        log.warning(f"utterance '{utt}': {len(pdfs)} alignment frames, "
                                    f"{lengths.get(utt, 'no')} feature frames; dropped")
                        dropped += 1
                        continue
                w.write(utt, pdfs.astype(np.int32))
                counts += np.bincount(pdfs, minlength=a.num_pdfs)
                n += 1
        log.info(f"Imported {n} alignments ({int(counts.sum())} frames; {int((counts > 0).sum())} of {a.num_pdfs} "
                 f"pdfs seen), dropped {dropped}")
        return 0 if n else 1

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
