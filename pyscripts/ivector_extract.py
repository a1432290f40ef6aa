#!/usr/bin/env python3
"""ivector-extract: i-vectors of utterances (or speakers, with --spk2utt) from features and posteriors."""

from __future__ import annotations

import sys

import numpy as np
import torch

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import read_token_lists
from phonsid.gmm.options import add_compute_options, env_threads, select_device
from phonsid.gmm.posterior import Posterior
from phonsid.gmm.sid_features import add_feature_options, feature_options, iter_features
from phonsid.io import KaldiIOError, TableWriter
from phonsid.ivector.estimation import batch_stats, extract_ivectors, max_count_scale, pooled_stats, scale_stats
from phonsid.ivector.extractor import read_ivector_extractor
from phonsid.ivector.tools import Counts, batches, paired_utterances

USAGE = """Extract iVectors for utterances, using a trained iVector extractor,
and features and Gaussian-level posteriors
Usage:  ivector-extract [options] <model-in> <feature-rspecifier> <posteriors-rspecifier> <ivector-wspecifier>
e.g.: 
 fgmm-global-gselect-to-post 1.ubm '$feats' 'ark:gunzip -c gselect.1.gz|' ark:- | \\
  ivector-extract final.ie '$feats' ark,s,cs:- ark,t:ivectors.1.ark"""


def _scaled(post: Posterior, acoustic_weight: float, max_count: float, key: str, log) -> Posterior:
    """Kaldi's --acoustic-weight and --max-count scaling of an utterance's posteriors."""
    scale = max_count_scale(acoustic_weight * post.total(), max_count)
    if scale != 1.0:
        log.info(f"Scaling stats for utterance {key} by scale {scale:.6g} due to --max-count={max_count:g}")
    total = acoustic_weight * scale
    return post if total == 1.0 else post.scaled(total)


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("ivector-extract", USAGE)
    p.add_bool("--compute-objf-change", True, "If true, compute the change in objective function from using nonzero "
               "iVector (a potentially useful diagnostic).  Combine with --verbose=2 for per-utterance information")
    p.add_argument("--spk2utt", default="", help="Supply this option if you want iVectors to be output at the "
                   "per-speaker level, estimated using stats accumulated from multiple utterances.")
    p.add_argument("--acoustic-weight", type=float, default=1.0, help="Weight on part of auxf that involves the data "
                   "(e.g. 0.2); if this weight is small, the prior will have more effect.")
    p.add_argument("--max-count", type=float, default=0.0, help="Maximum frame count (affects prior scaling): if >0, "
                   "the prior term will be scaled up after the frame count exceeds this value.")
    p.add_argument("--batch-size", type=int, default=64, help="phonsid: utterances per batch (default: 64)")
    add_feature_options(p)
    add_compute_options(p, threads_default=min(4, env_threads()))
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 4:
        p.print_help(sys.stderr)
        return 1
    ie_in, feature_rspecifier, post_rspecifier, ivector_wspecifier = a.args
    log = get_logger("ivector-extract")
    try:
        device = select_device(a, log)
        ext = read_ivector_extractor(ie_in)
        counts = Counts()
        items = paired_utterances(iter_features(feature_rspecifier, feature_options(a), log), post_rspecifier,
                                  counts, log, ext.feat_dim, f"the i-vector extractor {ie_in}")
        if a.spk2utt:
            return _per_speaker(a, ext, items, counts, ivector_wspecifier, device, log)
        tot_change, tot_t = 0.0, 0.0
        with TableWriter(ivector_wspecifier, "vector") as writer:
            scaled = ((k, f, _scaled(post, a.acoustic_weight, a.max_count, k, log)) for k, f, post in items)
            for batch in batches(scaled, a.batch_size):
                stats = batch_stats(batch.feats, batch.posts, ext.num_gauss, device, keys=batch.keys)
                ivecs, change = extract_ivectors(ext, stats, a.compute_objf_change)
                frames = stats.num_frames.cpu().numpy()
                ivecs_np = ivecs.cpu().numpy()
                for i, key in enumerate(batch.keys):
                    if change is not None:
                        c = float(change[i])
                        tot_change += c
                        if a.verbose >= 2:
                            log.info(f"Auxf change for utterance {key} was {c / max(frames[i], 1e-300):.6g} per "
                                     f"frame over {frames[i]:.6g} frames (weighted)")
                    if a.verbose >= 2:
                        log.info(f"Ivector norm for utterance {key} was {np.linalg.norm(ivecs_np[i]):.6g}")
                    writer.write(key, ivecs_np[i].astype(np.float32))
                counts.num_done += len(batch.keys)
                tot_t += float(frames.sum())
        log.info(f"Done {counts.num_done} files, {counts.num_err} with errors.  Total (weighted) frames {tot_t:.6g}")
        if a.compute_objf_change:
            log.info(f"Overall average objective-function change from estimating ivector was "
                     f"{tot_change / max(tot_t, 1e-300):.6g} per frame  over {tot_t:.6g} (weighted) frames.")
        return 0 if counts.num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


def _per_speaker(a, ext, items, counts: Counts, wspecifier: str, device, log) -> int:
    """Kaldi's RunPerSpeaker: statistics pooled over each speaker's utterances, one i-vector per speaker."""
    utts = {k: (f, p) for k, f, p in items}
    num_spk_done = num_spk_err = num_utt_done = 0
    tot_change = tot_post = tot_norm = 0.0
    with TableWriter(wspecifier, "vector") as writer:
        for spk, spk_utts in read_token_lists(a.spk2utt).items():
            present = [u for u in spk_utts if u in utts]
            for u in spk_utts:
                if u not in utts:
                    log.warning(f"No features or posteriors present for utterance {u}")
                    counts.num_err += 1
            num_utt_done += len(present)
            if not present:
                log.warning(f"No stats accumulated for speaker {spk}")
                num_spk_err += 1
                continue
            posts = [utts[u][1].scaled(a.acoustic_weight) if a.acoustic_weight != 1.0 else utts[u][1] for u in present]
            stats = pooled_stats(batch_stats([utts[u][0] for u in present], posts, ext.num_gauss, device,
                                             keys=present))
            n = float(stats.gamma.sum())
            if n == 0.0:
                log.warning(f"No stats accumulated for speaker {spk}")
                num_spk_err += 1
                continue
            scale = max_count_scale(n, a.max_count)
            if scale != 1.0:
                stats = scale_stats(stats, torch.full((1,), scale, dtype=stats.gamma.dtype, device=stats.gamma.device))
                log.info(f"Scaling stats for speaker {spk} by scale {scale:.6g} due to --max-count={a.max_count:g}")
                n = a.max_count
            ivec, change = extract_ivectors(ext, stats, a.compute_objf_change)
            norm = float(torch.linalg.norm(ivec[0]))
            if change is not None:
                log.info(f"Auxf change for speaker {spk} was {float(change[0]) / n:.6g} per frame, over {n:.6g} "
                         "frames (weighted).")
                tot_change += float(change[0])
            log.info(f"Ivector norm for speaker {spk} was {norm:.6g}")
            tot_norm += norm * n
            tot_post += n
            num_spk_done += 1
            writer.write(spk, ivec[0].cpu().numpy().astype(np.float32))
    log.info(f"Done {num_spk_done} speakers; {num_spk_err} with errors.  {num_utt_done} utterances were processed, "
             f"{counts.num_err} with errors.")
    if tot_post:
        if a.compute_objf_change:
            log.info(f"Overall weighted-average objective function improvement was {tot_change / tot_post:.6g} over "
                     f"{tot_post:.6g} frames (weighted)")
        log.info(f"Average iVector norm (weighted by frames) was {tot_norm / tot_post:.6g} over {tot_post:.6g} "
                 "frames (weighted)")
    return 0 if num_spk_done else 1


if __name__ == "__main__":
    sys.exit(main())
