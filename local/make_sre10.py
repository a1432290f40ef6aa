#!/usr/bin/env python3
"""Prepares the speaker side of the SRE10 recipe: <prefix>_train (NIST SRE 2004-2008 + Switchboard-2),
<prefix>_enroll and <prefix>_test with trials (NIST SRE 2010 extended core); see phonsid.recipes.sre."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError
from phonsid.recipes.sre import (CORPUS_NAMES, LABEL_KEYS, SRE10_CONDITIONS, add_corpora_options, corpora_values,
                                 prepare_sre10, sph2pipe_program)

USAGE = """Creates <data-root>/<prefix>_train (every speaker-labelled call side of NIST SRE 2004, 2005, 2006, 2008 and
Switchboard-2 Phases I-III, Cellular 1-2), <data-root>/<prefix>_enroll (SRE10 models) and <data-root>/<prefix>_test
(SRE10 test sides, 'trials' of the main condition and 'trials_coreext', 'trials_cond<N>' lists), 8 kHz audio
through sph2pipe. Corpus locations come from <corpora-conf> ('key=path' lines, see conf/sre10/corpora.conf);
the same-named options override the file. sre10_eval is required; a training corpus that is not set or not
there is skipped with a warning.

Usage: local/make_sre10.py [options] <corpora-conf> <data-root>
 e.g.: local/make_sre10.py conf/sre10/corpora.conf data
       local/make_sre10.py --trials-condition=5 --min-utts-per-spk=8 conf/sre10/corpora.conf data"""

KEYS = tuple(CORPUS_NAMES) + LABEL_KEYS + ("sph2pipe",)


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("make_sre10.py", USAGE)
    p.add_argument("--prefix", default="sre10", help="names the sets <prefix>_train/_enroll/_test (default: sre10)")
    add_corpora_options(p, KEYS, {**CORPUS_NAMES,
                                  "sre_speaker_list": "SRE04-08 speaker list (OpenSLR 15)",
                                  "sre04_key": "NIST SRE04 key sre04_key-v2.txt",
                                  "sre05_key": "NIST SRE05 key sre05-key-v7b.txt",
                                  "sph2pipe": "sph2pipe program; 'none' or empty reads uncompressed SPHERE with "
                                              "phonsid"})
    p.add_argument("--min-utts-per-spk", type=int, default=1,
                   help="drop training speakers with fewer utterances (call sides) than this (default: 1)")
    p.add_argument("--trials-condition", default="coreext", choices=SRE10_CONDITIONS,
                   help="main 'trials': all scored coreext-coreext trials (the paper) or common condition 5 "
                        "(telephone-telephone, Kaldi's sre10 recipe) (default: coreext)")
    p.add_bool("--extra-trials", default=True,
               help="also write trials_coreext and trials_cond<N> and keep the sides they need")
    p.add_argument("conf", metavar="<corpora-conf>")
    p.add_argument("data_root", metavar="<data-root>")
    args = p.parse_args(argv)
    log = get_logger("make_sre10.py")
    try:
        conf = corpora_values(args.conf, args, KEYS)
        sph2pipe = sph2pipe_program(conf)
        prepare_sre10(args.data_root, conf, prefix=args.prefix, sph2pipe=sph2pipe,
                      min_utts_per_spk=args.min_utts_per_spk, condition=args.trials_condition,
                      extra_trials=args.extra_trials, log=log)
    except (DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
