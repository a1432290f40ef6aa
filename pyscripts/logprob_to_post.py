#!/usr/bin/env python3
"""logprob-to-post: per-frame log-probabilities (e.g. DNN senone log-posteriors) to sparse posteriors."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import single_threaded
from phonsid.gmm.posterior import logprob_to_post
from phonsid.io import KaldiIOError, RandomReader, SequentialReader, TableWriter

USAGE = """Convert a matrix of log-probabilities (e.g. from nnet-logprob) to posteriors
Usage:  logprob-to-post [options] <logprob-matrix-rspecifier> <posteriors-wspecifier>
e.g.:
 nnet-logprob [args] | logprob-to-post ark:- ark:1.post
Caution: in this particular example, the output would be posteriors of pdf-ids,
rather than transition-ids (c.f. post-to-pdf-post)"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("logprob-to-post", USAGE)
    p.add_argument("--min-post", type=float, default=0.01, help="Minimum posterior we will output (smaller ones are "
                   "pruned).  Also see --random-prune")
    p.add_bool("--random-prune", True, "If true, prune posteriors with a randomized method that preserves "
               "expectations.")
    p.add_argument("--srand", type=int, default=0, help="phonsid: seed for --random-prune")
    p.add_argument("--vad-rspecifier", default="", help="phonsid: keep only the voiced frames of each matrix (as "
                   "select-voiced-frames with this VAD) before converting")
    p.add_argument("--posterior-scale", type=float, default=1.0, help="phonsid: scale the posteriors (as scale-post)")
    p.add_argument("--verbose", type=int, default=0, help="Verbose level (accepted for Kaldi compatibility)")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 2:
        p.print_help(sys.stderr)
        return 1
    logprob_rspecifier, post_wspecifier = a.args
    log = get_logger("logprob-to-post")
    single_threaded()
    try:
        rng = np.random.default_rng(a.srand)
        vad = RandomReader(a.vad_rspecifier, "vector") if a.vad_rspecifier else None
        num_done = num_err = 0
        with SequentialReader(logprob_rspecifier, "matrix") as reader, TableWriter(post_wspecifier, "posterior") as w:
            for key, logprobs in reader:
                if vad is not None:
                    if key not in vad:
                        log.warning(f"No VAD input found for utterance {key}")
                        num_err += 1
                        continue
                    v = np.asarray(vad[key])
                    if v.shape[0] != logprobs.shape[0]:
                        log.warning(f"Mismatch in number for frames {logprobs.shape[0]} for features and VAD "
                                    f"{v.shape[0]}, for utterance {key}")
                        num_err += 1
                        continue
                    logprobs = logprobs[v != 0.0]
                    if logprobs.shape[0] == 0:
                        log.warning(f"No features were judged as voiced for utterance {key}")
                        num_err += 1
                        continue
                post = logprob_to_post(logprobs, a.min_post, a.random_prune, rng)
                if a.posterior_scale != 1.0:
                    post = post.scaled(a.posterior_scale)
                w.write(key, post.to_lists())
                num_done += 1
        if vad is not None:
            vad.close()
        log.info(f"Converted {num_done} log-prob matrices to posteriors.")
        return 0 if num_done else 1
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
