#!/usr/bin/env python3
"""fgmm-global-gselect-to-post: full-GMM posteriors of the Gaussians selected per frame, pruned at --min-post."""

from __future__ import annotations

import sys

import numpy as np
import torch

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.full_gmm import read_full_gmm
from phonsid.gmm.gselect import gselect_posteriors, gselect_to_tensor
from phonsid.gmm.options import add_compute_options, select_device
from phonsid.gmm.posterior import Posterior
from phonsid.gmm.sid_features import add_feature_options, feature_options, grouped, iter_features
from phonsid.io import KaldiIOError, RandomReader, TableWriter

USAGE = """Given features and Gaussian-selection (gselect) information for
a full-covariance GMM, output per-frame posteriors for the selected
indices.  Also supports pruning the posteriors if they are below
a stated threshold, (and renormalizing the rest to sum to one)

Usage:  fgmm-global-gselect-to-post [options] <model-in> <feature-rspecifier> <gselect-rspecifier> <post-wspecifier>
e.g.: fgmm-global-gselect-to-post 1.mdl ark:- 'ark:gunzip -c 1.gselect|' ark:-"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("fgmm-global-gselect-to-post", USAGE)
    p.add_argument("--min-post", type=float, default=0.0, help="If nonzero, posteriors below this threshold will "
                   "be pruned away and the rest will be renormalized to sum to one.")
    add_feature_options(p)
    add_compute_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 4:
        p.print_help(sys.stderr)
        return 1
    model_in, feature_rspecifier, gselect_rspecifier, post_wspecifier = a.args
    log = get_logger("fgmm-global-gselect-to-post")
    try:
        device = select_device(a, log)
        fgmm = read_full_gmm(model_in)
        num_done = num_err = 0
        tot_like, tot_frames = 0.0, 0
        with RandomReader(gselect_rspecifier, "int_vector_vector") as gsel_reader, \
                TableWriter(post_wspecifier, "posterior") as writer:
            errors = [0]

            def valid():
                for utt, feats in iter_features(feature_rspecifier, feature_options(a), log):
                    if utt not in gsel_reader:
                        log.warning(f"No gselect information for utterance {utt}")
                        errors[0] += 1
                        continue
                    gsel = gselect_to_tensor(gsel_reader[utt])
                    if gsel.shape[0] != feats.shape[0]:
                        log.warning(f"gselect information for utterance {utt} has wrong size {gsel.shape[0]} vs. "
                                    f"{feats.shape[0]}")
                        errors[0] += 1
                        continue
                    yield utt, feats, gsel

            for group in grouped(valid()):
                width = max(g.shape[1] for _, _, g in group)
                gsel = torch.cat([torch.nn.functional.pad(g, (0, width - g.shape[1]), value=-1)
                                  for _, _, g in group]).to(device)
                x = torch.as_tensor(np.concatenate([f for _, f, _ in group]), device=device)
                post, ll = gselect_posteriors(fgmm, x, gsel, a.min_post)
                bounds = np.cumsum([0] + [f.shape[0] for _, f, _ in group])
                for (utt, feats, _), b0, b1 in zip(group, bounds[:-1], bounds[1:]):
                    if not bool(torch.isfinite(ll[b0:b1]).all()):
                        log.warning(f"Skipping utterance {utt} because bad posterior-sum encountered (NaN?)")
                        num_err += 1
                        continue
                    writer.write(utt, Posterior.from_dense(gsel[b0:b1], post[b0:b1]).to_lists())
                    num_done += 1
                    tot_like += float(ll[b0:b1].sum())
                    tot_frames += feats.shape[0]
        num_err += errors[0]
        log.info(f"Done {num_done} files; {num_err} had errors.")
        log.info(f"Overall loglike per frame is {tot_like / max(tot_frames, 1):.6g} over {tot_frames} frames.")
        return 0 if num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
