#!/usr/bin/env python3
"""ivector-extractor-acc-stats: accumulate statistics for i-vector extractor training (the E-step)."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.options import add_compute_options, env_threads, select_device
from phonsid.gmm.sid_features import add_feature_options, feature_options, iter_features
from phonsid.io import KaldiIOError
from phonsid.ivector.estimation import batch_stats
from phonsid.ivector.extractor import read_ivector_extractor
from phonsid.ivector.stats import StatsAccumulator, write_ivector_stats
from phonsid.ivector.tools import Counts, batches, paired_utterances

USAGE = """Accumulate stats for iVector extractor training
Reads in features and Gaussian-level posteriors (typically from a full GMM)
Supports multiple threads, but won't be able to make use of too many at a time
(e.g. more than about 4)
Usage:  ivector-extractor-acc-stats [options] <model-in> <feature-rspecifier><posteriors-rspecifier> <stats-out>
e.g.: 
 fgmm-global-gselect-to-post 1.fgmm '$feats' 'ark:gunzip -c gselect.1.gz|' ark:- | \\
  ivector-extractor-acc-stats 2.ie '$feats' ark,s,cs:- 2.1.acc"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("ivector-extractor-acc-stats", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_bool("--update-variances", True, "If true, update the Gaussian variances")
    p.add_bool("--compute-auxf", True, "If true, compute the auxiliary functions on training data; can be used to "
               "debug and check convergence.")
    p.add_argument("--num-samples-for-weights", type=int, default=10, help="Number of samples from iVector "
                   "distribution to use for accumulating stats for weight update.  Must be >1")
    p.add_argument("--cache-size", type=int, default=100, help="Size of an internal cache (accepted; unused)")
    p.add_argument("--batch-size", type=int, default=64, help="phonsid: utterances per batch (default: 64)")
    p.add_argument("--srand", type=int, default=0, help="phonsid: seed for the weight-statistics samples")
    add_feature_options(p)
    add_compute_options(p, threads_default=min(4, env_threads()))
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 4:
        p.print_help(sys.stderr)
        return 1
    ie_in, feature_rspecifier, post_rspecifier, stats_out = a.args
    log = get_logger("ivector-extractor-acc-stats")
    try:
        device = select_device(a, log)
        ext = read_ivector_extractor(ie_in)
        acc = StatsAccumulator(ext, a.update_variances, a.compute_auxf, a.num_samples_for_weights, device,
                               np.random.default_rng(a.srand))
        counts = Counts()
        tot_t = 0
        items = paired_utterances(iter_features(feature_rspecifier, feature_options(a), log), post_rspecifier,
                                  counts, log, ext.feat_dim, f"the i-vector extractor {ie_in}")
        for batch in batches(items, a.batch_size):
            acc.add(batch_stats(batch.feats, batch.posts, ext.num_gauss, device, a.update_variances, batch.keys))
            counts.num_done += len(batch.keys)
            tot_t += sum(f.shape[0] for f in batch.feats)
        log.info(f"Done {counts.num_done} files, {counts.num_err} with errors.  Total frames {tot_t}")
        stats = acc.finish()
        del acc, ext  # frees the extractor's derived terms (U: 2.9 GB at 2048 x 600) before writing
        write_ivector_stats(stats_out, stats, a.binary)
        log.info(f"Wrote stats to {stats_out}")
        return 0 if counts.num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
