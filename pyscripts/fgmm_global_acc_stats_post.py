#!/usr/bin/env python3
"""fgmm-global-acc-stats-post: full-GMM statistics from given posteriors (e.g. DNN senone posteriors)."""

from __future__ import annotations

import sys

import numpy as np
import torch

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.flags import string_to_gmm_flags
from phonsid.gmm.mle import FullGmmAccs, accumulate_full_from_posteriors, write_full_gmm_accs
from phonsid.gmm.options import add_compute_options, select_device
from phonsid.gmm.posterior import Posterior
from phonsid.gmm.sid_features import add_feature_options, feature_options, iter_features
from phonsid.io import KaldiIOError, RandomReader

USAGE = """Accumulate stats from posteriors and features for instantiating a full-covariance GMM. See also fgmm-global-acc-stats.
Usage:  fgmm-global-acc-stats-post [options] <posterior-rspecifier> <number-of-components> <feature-rspecifier> <stats-out>
e.g.: fgmm-global-acc-stats-post scp:post.scp 2048 scp:train.scp 1.acc"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("fgmm-global-acc-stats-post", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--update-flags", default="mvw", help="Which GMM parameters will be updated: subset of mvw.")
    p.add_argument("--weights", default="", help="rspecifier for a vector of floats for each utterance, that's a "
                   "per-frame weight.")
    add_feature_options(p)
    add_compute_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 4:
        p.print_help(sys.stderr)
        return 1
    post_rspecifier, num_comp_str, feature_rspecifier, stats_out = a.args
    log = get_logger("fgmm-global-acc-stats-post")
    try:
        num_comp = int(num_comp_str)
        if num_comp <= 0:
            raise ValueError(f"number of components must be positive, got {num_comp_str}")
        device = select_device(a, log)
        flags = string_to_gmm_flags(a.update_flags)
        accs = None
        num_done = num_err = 0
        tot_post = tot_weight = 0.0
        w_reader = RandomReader(a.weights, "vector") if a.weights else None
        with RandomReader(post_rspecifier, "posterior", finite=True) as posts:
            for key, feats in iter_features(feature_rspecifier, feature_options(a), log):
                if accs is None:
                    accs = FullGmmAccs.zeros(num_comp, feats.shape[1], flags)
                if key not in posts:
                    log.warning(f"No posteriors for utterance {key}")
                    num_err += 1
                    continue
                post = Posterior.from_lists(posts[key])
                if post.num_frames != feats.shape[0]:
                    log.warning(f"posterior information for utterance {key} has wrong size {post.num_frames} vs. "
                                f"{feats.shape[0]}")
                    num_err += 1
                    continue
                fw = np.ones(feats.shape[0])
                if w_reader is not None:
                    if key not in w_reader:
                        log.warning(f"No per-frame weights available for utterance {key}")
                        num_err += 1
                        continue
                    fw = np.asarray(w_reader[key], dtype=np.float64)
                    if fw.shape[0] != feats.shape[0]:
                        log.warning(f"Weights for utterance {key} have wrong dim {fw.shape[0]} vs. {feats.shape[0]}")
                        num_err += 1
                        continue
                weights = post.weights * fw[post.frames]
                keep = weights != 0
                tot_post += accumulate_full_from_posteriors(
                    torch.as_tensor(feats, device=device), torch.as_tensor(post.frames[keep], device=device),
                    torch.as_tensor(post.ids[keep], device=device), torch.as_tensor(weights[keep], device=device),
                    accs)
                tot_weight += float(fw.sum())
                num_done += 1
        if w_reader is not None:
            w_reader.close()
        log.info(f"Done {num_done} files; {num_err} with errors.")
        log.info(f"Overall posterior mass per frame = {tot_post / max(tot_weight, 1e-300):.6g} over "
                 f"{tot_weight:.6g} (weighted) frames.")
        if accs is None:
            raise ValueError(f"no features read from {feature_rspecifier}")
        write_full_gmm_accs(stats_out, accs, a.binary)
        log.info(f"Written accs to {stats_out}")
        return 0 if num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
