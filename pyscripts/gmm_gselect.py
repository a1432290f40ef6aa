#!/usr/bin/env python3
"""gmm-gselect: per frame, the n best Gaussians of a diagonal GMM, best first."""

from __future__ import annotations

import sys

import numpy as np
import torch

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.diag_gmm import read_diag_gmm
from phonsid.gmm.gselect import gaussian_selection, gselect_to_lists, gselect_to_tensor
from phonsid.gmm.options import add_compute_options, select_device
from phonsid.gmm.sid_features import add_feature_options, feature_options, grouped, iter_features
from phonsid.io import KaldiIOError, RandomReader, TableWriter

USAGE = """Precompute Gaussian indices for pruning
 (e.g. in training UBMs, SGMMs, tied-mixture systems)
 For each frame, gives a list of the n best Gaussian indices,
 sorted from best to worst.
See also: gmm-global-get-post, fgmm-global-gselect-to-post,
copy-gselect, fgmm-gselect
Usage: 
 gmm-gselect [options] <model-in> <feature-rspecifier> <gselect-wspecifier>
The --gselect option (which takes an rspecifier) limits selection to a subset
of indices:
e.g.: gmm-gselect "--gselect=ark:gunzip -c bigger.gselect.gz|" --n=20 1.gmm "ark:feature-command |" "ark,t:|gzip -c >gselect.1.gz\""""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm-gselect", USAGE)
    p.add_argument("--n", type=int, default=50, help="Number of Gaussians to keep per frame")
    p.add_argument("--write-likes", default="", help="rspecifier for likelihoods per utterance")
    p.add_argument("--gselect", default="", help="rspecifier for gselect objects to limit the search to")
    add_feature_options(p)
    add_compute_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    model_in, feature_rspecifier, gselect_wspecifier = a.args
    log = get_logger("gmm-gselect")
    try:
        device = select_device(a, log)
        gmm = read_diag_gmm(model_in)
        if a.n <= 0:
            raise ValueError(f"--n must be positive, got {a.n}")
        n = a.n
        if n > gmm.num_gauss:
            log.warning(f"You asked for {n} Gaussians but GMM only has {gmm.num_gauss}, returning this many. "
                        "Note: this means the Gaussian selection is pointless.")
            n = gmm.num_gauss
        pre_reader = RandomReader(a.gselect, "int_vector_vector") if a.gselect else None
        # log-likelihoods: -inf (zero likelihood) is a value Kaldi writes too; NaN/+inf are still refused
        likes = TableWriter(a.write_likes, "float", allow_neg_inf=True) if a.write_likes else None
        num_done = num_err = 0
        tot_like, tot_t = 0.0, 0
        with TableWriter(gselect_wspecifier, "int_vector_vector") as writer:
            errors = [0]

            def valid():
                for utt, feats in iter_features(feature_rspecifier, feature_options(a), log):
                    pre = None
                    if pre_reader is not None:
                        if utt not in pre_reader:
                            log.warning(f"No gselect information for utterance {utt}")
                            errors[0] += 1
                            continue
                        pre = gselect_to_tensor(pre_reader[utt])
                        if pre.shape[0] != feats.shape[0]:
                            log.warning(f"Input gselect for utterance {utt} has wrong size {pre.shape[0]} vs. "
                                        f"{feats.shape[0]}")
                            errors[0] += 1
                            continue
                    yield utt, feats, pre

            for group in grouped(valid()):
                x = torch.as_tensor(np.concatenate([f for _, f, _ in group]), device=device)
                pre = None
                if pre_reader is not None:
                    width = max(p.shape[1] for _, _, p in group)
                    pre = torch.cat([torch.nn.functional.pad(p, (0, width - p.shape[1]), value=-1)
                                     for _, _, p in group]).to(device)
                gsel, ll = gaussian_selection(gmm, x, n, pre)
                bounds = np.cumsum([0] + [f.shape[0] for _, f, _ in group])
                for (utt, feats, _), b0, b1 in zip(group, bounds[:-1], bounds[1:]):
                    writer.write(utt, gselect_to_lists(gsel[b0:b1]))
                    like = float(ll[b0:b1].sum())
                    if num_done % 10 == 0:
                        log.info(f"For {num_done}'th file, average UBM likelihood over {feats.shape[0]} frames is "
                                 f"{like / max(feats.shape[0], 1):.6g}")
                    tot_like += like
                    tot_t += feats.shape[0]
                    if likes is not None:
                        likes.write(utt, like)
                    num_done += 1
        num_err += errors[0]
        if likes is not None:
            likes.close()
        log.info(f"Done {num_done} files, {num_err} with errors, average UBM log-likelihood is "
                 f"{tot_like / max(tot_t, 1):.6g} over {tot_t} frames.")
        return 0 if num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
