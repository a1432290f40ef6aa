#!/usr/bin/env python3
"""phonsid: gmm-gselect --n | fgmm-global-gselect-to-post --min-post | scale-post in one process."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.diag_gmm import read_diag_gmm
from phonsid.gmm.full_gmm import read_full_gmm
from phonsid.gmm.gselect import ubm_posteriors_batch
from phonsid.gmm.options import add_compute_options, select_device
from phonsid.gmm.sid_features import add_feature_options, feature_options, grouped, iter_features
from phonsid.io import KaldiIOError, TableWriter

USAGE = """Per-frame posteriors of a full-covariance UBM restricted to the Gaussians selected by its diagonal
version, pruned below --min-post and scaled by --posterior-scale: the fused equivalent of
  gmm-gselect --n=N <dubm> <feats> ark:- | fgmm-global-gselect-to-post --min-post=P <fgmm> <feats> ark,s,cs:- ark:- |
  scale-post ark:- S <post-wspecifier>
Usage:  sid_ubm_post.py [options] <diag-gmm-in> <full-gmm-in> <feature-rspecifier> <post-wspecifier>
e.g.: sid_ubm_post.py --n=20 --min-post=0.025 final.dubm final.ubm scp:feats.scp ark:post.1.ark"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("sid_ubm_post", USAGE)
    p.add_argument("--n", type=int, default=20, help="Number of Gaussians to select per frame (default: 20)")
    p.add_argument("--min-post", type=float, default=0.025, help="Posteriors below this are pruned and the rest "
                   "renormalised (default: 0.025)")
    p.add_argument("--posterior-scale", type=float, default=1.0, help="Scale on the posteriors (default: 1.0)")
    add_feature_options(p)
    add_compute_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 4:
        p.print_help(sys.stderr)
        return 1
    dubm_in, fgmm_in, feature_rspecifier, post_wspecifier = a.args
    log = get_logger("sid_ubm_post")
    try:
        device = select_device(a, log)
        dubm, fgmm = read_diag_gmm(dubm_in), read_full_gmm(fgmm_in)
        if dubm.num_gauss != fgmm.num_gauss or dubm.dim != fgmm.dim:
            raise ValueError(f"{dubm_in} ({dubm.num_gauss} Gaussians, dim {dubm.dim}) does not match {fgmm_in} "
                             f"({fgmm.num_gauss}, dim {fgmm.dim})")
        num_done, tot_like, tot_frames = 0, 0.0, 0
        with TableWriter(post_wspecifier, "posterior") as writer:
            for group in grouped(iter_features(feature_rspecifier, feature_options(a), log)):
                results = ubm_posteriors_batch(dubm, fgmm, [f for _, f in group], a.n, a.min_post,
                                               a.posterior_scale, device)
                for (utt, feats), (post, like) in zip(group, results):
                    writer.write(utt, post.to_lists())
                    num_done += 1
                    tot_like += like
                    tot_frames += feats.shape[0]
        log.info(f"Done {num_done} files; overall loglike per frame is {tot_like / max(tot_frames, 1):.6g} over "
                 f"{tot_frames} frames.")
        return 0 if num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
