#!/usr/bin/env python3
"""gmm-global-init-from-feats: initialise a diagonal GMM from a random subset of frames and train it in memory."""

from __future__ import annotations

import sys

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.diag_gmm import write_diag_gmm
from phonsid.gmm.init import FrameReservoir, train_diag_gmm_in_memory
from phonsid.gmm.options import add_compute_options, add_mle_diag_options, env_threads, mle_diag_options, select_device
from phonsid.gmm.sid_features import add_feature_options, feature_options, iter_features
from phonsid.io import KaldiIOError

USAGE = """This program initializes a single diagonal GMM and does multiple iterations of
training from features stored in memory.
Usage:  gmm-global-init-from-feats [options] <feature-rspecifier> <model-out>
e.g.: gmm-global-init-from-feats scp:train.scp 1.mdl"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm-global-init-from-feats", USAGE)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--num-gauss", type=int, default=100, help="Number of Gaussians in the model")
    p.add_argument("--num-gauss-init", type=int, default=0, help="Number of Gaussians in the model initially (if "
                   "nonzero and less than num_gauss, we'll do mixture splitting)")
    p.add_argument("--num-iters", type=int, default=50, help="Number of iterations of training")
    p.add_argument("--num-frames", type=int, default=200000, help="Number of feature vectors to store in memory and "
                   "train on (randomly chosen from the input features)")
    p.add_argument("--srand", type=int, default=0, help="Seed for random number generator")
    add_mle_diag_options(p)
    add_feature_options(p)
    add_compute_options(p, threads_default=min(4, env_threads()))
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 2:
        p.print_help(sys.stderr)
        return 1
    feature_rspecifier, model_out = a.args
    log = get_logger("gmm-global-init-from-feats")
    try:
        device = select_device(a, log)
        rng = np.random.default_rng(a.srand)
        log.info(f"Reading features (will keep {a.num_frames} frames.)")
        reservoir = FrameReservoir(a.num_frames, rng)
        for key, feats in iter_features(feature_rspecifier, feature_options(a), log):
            reservoir.add(feats, key)
        feats = reservoir.frames()
        if reservoir.num_read == 0:
            log.error(f"no features read from {feature_rspecifier}")
            return 1
        if reservoir.num_read < a.num_frames:
            log.warning(f"Number of frames read {reservoir.num_read} was less than target number {a.num_frames}, "
                        "using all we read.")
        else:
            log.info(f"Kept {a.num_frames} out of {reservoir.num_read} input frames = "
                     f"{100.0 * a.num_frames / reservoir.num_read:.6g}%.")
        gmm = train_diag_gmm_in_memory(feats, a.num_gauss, a.num_gauss_init, a.num_iters, mle_diag_options(a),
                                       rng, device, log)
        write_diag_gmm(model_out, gmm, a.binary)
        log.info(f"Wrote model to {model_out}")
        return 0
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
