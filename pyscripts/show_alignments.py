#!/usr/bin/env python3
"""show-alignments: words, phones and times of alignments, human-readable."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool

USAGE = """Prints alignments as phones (and words, with --lang and --text) with start/end times in seconds.

Usage: show_alignments.py [options] <phone-syms> <model> <alignments-rspecifier>
 e.g.: show_alignments.py --utt=asr0001-001 --lang=data/lang_demo --text=data/demo_asr/text \\
         data/lang_demo/phones.txt exp/tri1_ali/final.mdl ark:exp/tri1_ali/ali.1.ark"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("show_alignments.py", USAGE)
    p.add_argument("--utt", default=None, help="show only this utterance")
    p.add_argument("--lang", default=None, help="lang dir (lexicon) to group phones into words; needs --text")
    p.add_argument("--text", default=None, help="transcripts (data-dir text) to group phones into words")
    p.add_argument("--frame-shift", type=float, default=0.01, help="seconds per frame (0.01)")
    p.add_argument("phones")
    p.add_argument("model")
    p.add_argument("ali")
    a = p.parse_args(argv)
    log = get_logger("show_alignments.py")

    def body() -> int:
        from phonsid.hmm.alignment import AlignmentError, align_words, format_alignment, split_to_phones
        from phonsid.io.kaldi_object import read_object_file
        from phonsid.data import read_list_map
        from phonsid.hmm.lang import read_lang, read_symbol_table
        from phonsid.hmm.transition_model import read_transition_model_from
        from phonsid.io import SequentialReader

        if bool(a.lang) != bool(a.text):
            log.error("--lang and --text go together")
            return 1
        phones = read_symbol_table(a.phones)
        tm = read_object_file(a.model, read_transition_model_from)
        lang = read_lang(a.lang) if a.lang else None
        texts = read_list_map(a.text) if a.text else None
        shown = 0
        with SequentialReader(a.ali, "int_vector") as r:
            for utt, tids in r:
                if a.utt is not None and utt != a.utt:
                    continue
                segs = split_to_phones(tm, tids, utt)
                words = None
                if lang is not None and texts is not None:
                    if utt not in texts:
                        log.warning(f"no transcript for '{utt}' in {a.text}: showing phones only")
                    else:
                        try:
                            words = align_words(segs, lang.map_oov(texts[utt]), lang.lexicon,
                                                lang.optional_silence, utt)
                        except AlignmentError as e:
                            log.warning(f"{e}: showing phones only")
                sys.stdout.write(format_alignment(utt, segs, phones.symbol, words, a.frame_shift))
                shown += 1
        if a.utt is not None and shown == 0:
            log.error(f"utterance '{a.utt}' is not in {a.ali}")
            return 1
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
