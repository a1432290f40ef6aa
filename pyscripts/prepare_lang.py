#!/usr/bin/env python3
"""prepare-lang: a lang dir (phones.txt, words.txt, topo, phones/*, lexicon) from a dict dir, without FSTs."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.lang import prepare_lang, read_lang
from phonsid.hmm.tools import run_tool

USAGE = """Makes a lang directory from a dict directory (Kaldi's utils/prepare_lang.sh, minus the FSTs: the
lexicon goes to <lang-dir>/phones/lexiconp.txt and the optional-silence probability to phones/sil_prob.txt).
Phones are not word-position dependent.

Usage: prepare_lang.py [options] <dict-src-dir> <oov-dict-entry> <lang-dir>
 e.g.: prepare_lang.py data/local/dict_demo "<unk>" data/lang_demo"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("prepare_lang.py", USAGE)
    p.add_argument("--sil-prob", type=float, default=0.5, help="optional silence probability between words (0.5)")
    p.add_argument("--num-sil-states", type=int, default=5, help="HMM states of silence phones (5)")
    p.add_argument("--num-nonsil-states", type=int, default=3, help="HMM states of other phones (3)")
    p.add_bool("--position-dependent-phones", default=False, help="word-position-dependent phones (not supported)")
    p.add_argument("dict_dir")
    p.add_argument("oov")
    p.add_argument("lang_dir")
    a = p.parse_args(argv)
    log = get_logger("prepare_lang.py")

    def body() -> int:
        if a.position_dependent_phones:
            log.error("--position-dependent-phones=true is not supported")
            return 1
        prepare_lang(a.dict_dir, a.oov, a.lang_dir, a.sil_prob, a.num_sil_states, a.num_nonsil_states)
        lang = read_lang(a.lang_dir)
        log.info(f"wrote {a.lang_dir}: {len(lang.silence)} silence + {len(lang.nonsilence)} non-silence phones, "
                 f"{len(lang.lexicon)} words, OOV '{lang.oov}', optional silence probability {lang.sil_prob:g}")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
