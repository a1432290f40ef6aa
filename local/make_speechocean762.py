#!/usr/bin/env python3
"""Prepares speechocean762 (OpenSLR 101) for speaker recognition: data dirs so762_{asr,train,enroll,test} with
trials (pooled, adults, children) and the dict dir data/local/dict_so762 from the corpus lexicon."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.tools import run_tool
from phonsid.recipes import speechocean762 as so

USAGE = f"""Writes <data-root>/so762_asr, so762_train (the training speakers, with transcripts),
so762_enroll (the first --num-enroll utterances, C order, of each evaluation speaker; model id = speaker id) and
so762_test (the remaining utterances; trials = every target trial plus --nontargets non-target models per test
utterance, seeded; trials_adult / trials_child by the age of the model's speaker, children under
{so.ADULT_AGE}), and <data-root>/local/dict_so762 from resource/lexicon.txt (stress removed unless
--keep-stress; without a lexicon the dictionary is left to CMUdict, local/prepare_dict.py).

<corpus-root-or-data-dir> is the corpus as published (WAVE/, train/, test/, resource/), a folder with train/
(and test/) Kaldi data dirs, or one data dir (the training half only, wav.scp or wav.list): then its
speakers are split by age group into training and evaluation speakers (--test-fraction, --seed).
Recordings at another rate than --sample-rate are resampled in wav.scp pipes.

Usage: local/make_speechocean762.py [options] <corpus-root-or-data-dir> <data-root>
 e.g.: local/make_speechocean762.py /export/corpora/speechocean762 data
       local/make_speechocean762.py ../shared/data/speechocean762 data"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("make_speechocean762.py", USAGE)
    p.add_argument("--sample-rate", "--sampling-rate", dest="sample_rate", type=int, default=so.DEFAULT_SAMPLE_RATE,
                   help="rate of the recipe (Hz); other rates are resampled in wav.scp pipes; 0 keeps the corpus "
                        f"rate (default: {so.DEFAULT_SAMPLE_RATE})")
    p.add_argument("--num-enroll", type=int, default=so.DEFAULT_NUM_ENROLL,
                   help=f"enrolment utterances per evaluation speaker (default: {so.DEFAULT_NUM_ENROLL})")
    p.add_argument("--nontargets", default=so.DEFAULT_NONTARGETS,
                   help="non-target models per test utterance: a count, a fraction (0, 1] of the other models, or "
                        f"'all' (default: {so.DEFAULT_NONTARGETS})")
    p.add_argument("--seed", type=int, default=so.DEFAULT_SEED,
                   help=f"seed of the non-target sample and of the speaker split (default: {so.DEFAULT_SEED})")
    p.add_argument("--test-fraction", type=float, default=so.DEFAULT_TEST_FRACTION,
                   help="when only the training half is given: fraction of its speakers (per age group) used "
                        f"for evaluation (default: {so.DEFAULT_TEST_FRACTION})")
    p.add_argument("--adult-age", type=int, default=so.ADULT_AGE,
                   help=f"speakers of this age and above are adults (default: {so.ADULT_AGE}, the corpus README)")
    p.add_argument("--cross-age-trials", default="drop", choices=so.CROSS_AGE_CHOICES,
                   help="non-target trials between an adult and a child: 'drop' them from trials_adult and "
                        "trials_child, or keep them in the list of the 'model' speaker's group (default: drop)")
    p.add_argument("--lexicon", default="",
                   help="pronunciation dictionary instead of <corpus>/resource/lexicon.txt")
    p.add_bool("--keep-stress", default=False, help="keep the lexicon's stress digits")
    p.add_argument("src", metavar="<corpus-root-or-data-dir>")
    p.add_argument("data_root", metavar="<data-root>")
    a = p.parse_args(argv)
    log = get_logger("make_speechocean762.py")

    def body() -> int:
        so.prepare_speechocean762(a.src, a.data_root, sample_rate=a.sample_rate or None, num_enroll=a.num_enroll,
                                  nontargets=a.nontargets, seed=a.seed, test_fraction=a.test_fraction,
                                  adult_age=a.adult_age, cross_age=a.cross_age_trials, lexicon=a.lexicon or None,
                                  keep_stress=a.keep_stress, log=log)
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
