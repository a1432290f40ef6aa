#!/usr/bin/env python3
"""Speed of the UBM / i-vector chain on the golden data (100 utterances, 61661 voiced frames of 60 dims, the
speaker-ID features of ../shared/golden/train_mfcc.ark), optionally repeated --scale times; random features of
the same size when the golden folder is absent.

Sizes default to those of the Kaldi anchor measured on this project's machine (issue 6): a 256-Gaussian full
UBM and a 400-dim extractor, where Kaldi, one thread, took gselect + full-UBM posteriors 0.7 CPU-s,
ivector-extractor-acc-stats 4.0 CPU-s and ivector-extract 4.7 CPU-s. Each step runs on the CPU with one thread
and with all threads, and on the GPU when there is one; ratios are against the Kaldi anchor (scaled by --scale).

    ./venv/bin/python bench/ivector.py [--num-gauss 256] [--ivector-dim 400] [--scale 1] [--threads 1,2]

Full size (the SRE10 recipe: 2048 Gaussians, 600 dims, conversation sides of ~2.5 min = ~15000 voiced frames):

    ./venv/bin/python bench/ivector.py --num-gauss 2048 --ivector-dim 600 --utt-frames 15000 --scale 30 \
        --threads 1 --no-gpu --steps post,acc,extract

``--utt-frames`` joins consecutive golden utterances into pseudo-utterances of about that many frames, so
per-utterance costs (the i-vector precision matrix and its factorisation) weigh as on real sides; the Kaldi
ratios of the per-utterance steps are then left out (the anchor is per golden utterance). The acc-stats row is
one job (accumulator set-up, batches, finish); the row under it is its steady-state cost per batch, what a job
over many hours of speech pays per ``--batch-size`` utterances. "s/hour" is CPU time per hour of speech (100
frames/s). ``--steps`` picks the rows: ubm (diag E-M iteration, full E-M pass), post, acc, est (M-step, per
model), extract. PHONSID_PYSCRIPTS=<dir> benchmarks the library in <dir> instead of this checkout's
(before/after comparisons in one session).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("PHONSID_PYSCRIPTS") or str(REPO / "pyscripts"))

from phonsid.gmm.full_gmm import FullGmm  # noqa: E402
from phonsid.gmm.gselect import gaussian_selection, ubm_posteriors_batch  # noqa: E402
from phonsid.gmm.init import train_diag_gmm_in_memory  # noqa: E402
from phonsid.gmm.mle import (FullGmmAccs, MleDiagGmmOptions, MleFullGmmOptions, accumulate_full,  # noqa: E402
                             mle_full_update)
from phonsid.gmm.sid_features import SidFeatureOptions, iter_features  # noqa: E402
from phonsid.ivector.estimation import batch_stats, extract_ivectors  # noqa: E402
from phonsid.ivector.extractor import init_ivector_extractor  # noqa: E402
from phonsid.ivector.stats import StatsAccumulator  # noqa: E402
from phonsid.ivector.update import IvectorEstimationOptions, update_extractor  # noqa: E402

KALDI_1THREAD = {"posteriors": 0.7, "acc-stats": 4.0, "extract": 4.7}  # CPU-s, 100 golden utterances, 256/400


def load_features(golden: Path, scale: int, utt_frames: int = 0) -> list[np.ndarray]:
    if (golden / "train_mfcc.ark").exists():
        feats = [f for _, f in iter_features(f"ark:{golden}/train_mfcc.ark",
                                              SidFeatureOptions(f"ark:{golden}/train_vad.ark"))]
        source = "golden"
    else:
        rng = np.random.default_rng(0)
        feats = [rng.standard_normal((n, 60)).astype(np.float32) for n in rng.integers(150, 1100, 100)]
        source = "random"
    feats = feats * scale
    if utt_frames > 0:  # join consecutive utterances into pseudo-utterances of about utt_frames frames
        joined, cur = [], []
        for f in feats:
            cur.append(f)
            if sum(c.shape[0] for c in cur) >= utt_frames:
                joined.append(np.concatenate(cur))
                cur = []
        if cur:
            joined.append(np.concatenate(cur))
        feats = joined
    print(f"# features: {source} x {scale}, {len(feats)} utterances, {sum(f.shape[0] for f in feats)} frames")
    return feats


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device):
    sync(device)
    t = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-gauss", type=int, default=256)
    p.add_argument("--ivector-dim", type=int, default=400)
    p.add_argument("--scale", type=int, default=1, help="repeat the golden utterances this many times")
    p.add_argument("--threads", default=f"1,{os.cpu_count()}", help="CPU thread counts to run (comma-separated)")
    p.add_argument("--batch-size", type=int, default=64, help="utterances per batch (i-vector steps)")
    p.add_argument("--golden", type=Path, default=Path(os.environ.get("PHONSID_SHARED", REPO.parent / "shared")) / "golden")
    p.add_argument("--no-gpu", action="store_true")
    p.add_argument("--utt-frames", type=int, default=0,
                   help="join golden utterances into pseudo-utterances of about this many frames (0: as they are)")
    p.add_argument("--steps", default="ubm,post,acc,est,extract",
                   help="rows to run, comma-separated: ubm, post, acc, est, extract (posteriors are computed, "
                        "untimed, when only later steps are asked for)")
    a = p.parse_args()
    steps = set(a.steps.split(","))
    if steps - {"ubm", "post", "acc", "est", "extract"}:
        p.error(f"unknown --steps {sorted(steps - {'ubm', 'post', 'acc', 'est', 'extract'})}")
    per_utt_anchor = a.utt_frames == 0  # the Kaldi anchor's per-utterance costs are those of golden utterances

    logging.getLogger("phonsid").setLevel(logging.ERROR)
    feats = load_features(a.golden, a.scale, a.utt_frames)
    frames = sum(f.shape[0] for f in feats)
    g, s = a.num_gauss, a.ivector_dim
    runs = [(torch.device("cpu"), int(t)) for t in a.threads.split(",")]
    if torch.cuda.is_available() and not a.no_gpu:
        runs.append((torch.device("cuda"), 0))

    # Models for the i-vector steps (built once, on the CPU, not timed): a diagonal UBM from 30k frames,
    # its full-covariance version after one E-M pass, an initial extractor.
    torch.set_num_threads(max(int(t) for t in a.threads.split(",")))
    rng = np.random.default_rng(0)
    allf = np.concatenate(feats)[: frames // a.scale]
    subset = allf[rng.choice(allf.shape[0], min(30000, allf.shape[0]), replace=False)]
    keep_all = MleDiagGmmOptions(remove_low_count_gaussians=False)
    dubm = train_diag_gmm_in_memory(subset, g, g // 2, 4, keep_all, rng)
    fubm = FullGmm.from_diag(dubm)
    print(f"# models: {dubm.num_gauss}-Gaussian UBM, {s}-dim extractor; kaldi anchor x{a.scale} "
          f"(1 thread): posteriors {KALDI_1THREAD['posteriors'] * a.scale:.1f} s, acc-stats "
          f"{KALDI_1THREAD['acc-stats'] * a.scale:.1f} s, extract {KALDI_1THREAD['extract'] * a.scale:.1f} s")
    rows = []
    for device, threads in runs:
        if device.type == "cpu":
            torch.set_num_threads(threads)
        where = f"{device.type}" + (f" x{threads}" if device.type == "cpu" else f" ({torch.cuda.get_device_name(device)})")
        all_x = torch.as_tensor(np.concatenate(feats), device=device)

        # UBM training: one in-memory E-M iteration of gmm-global-init-from-feats on 30k frames,
        # one full-covariance E-M pass (gselect 20 + statistics) over all frames
        if "ubm" in steps:
            t_init, _ = timed(lambda: train_diag_gmm_in_memory(subset, g, g, 1, keep_all, np.random.default_rng(1),
                                                               device), device)
            rows.append(("diag UBM E-M iteration (30k frames)", f"{g}", where, t_init, 30000 / t_init, ""))

            def full_pass():  # as fgmm-global-acc-stats: utterances' frames processed together, 64k at a time
                acc = FullGmmAccs.zeros(g, fubm.dim)
                for c in range(0, frames, 1 << 16):
                    x = all_x[c:c + (1 << 16)]
                    gsel, _ = gaussian_selection(dubm, x, 20)
                    accumulate_full(fubm, x, acc, gsel)
                return mle_full_update(fubm, acc, MleFullGmmOptions(remove_low_count_gaussians=False))
            t_full, _ = timed(full_pass, device)
            rows.append(("full UBM E-M pass (gselect 20)", f"{g}", where, t_full, frames / t_full, ""))
        if not steps & {"post", "acc", "est", "extract"}:
            continue

        t_post, posts = timed(lambda: [p for p, _ in ubm_posteriors_batch(dubm, fubm, feats, 20, 0.025, 1.0, device)],
                              device)
        if "post" in steps:
            rows.append(("gselect + full-UBM posteriors", f"{g}", where, t_post, frames / t_post,
                         f"{KALDI_1THREAD['posteriors'] * a.scale / t_post:.2f}x"))
        if not steps & {"acc", "est", "extract"}:
            continue

        ext = init_ivector_extractor(fubm, s, use_weights=False, rng=np.random.default_rng(0))
        t_derived, _ = timed(lambda: ext.derived(device), device)

        batch_times: list[tuple[float, int]] = []

        def acc_pass():
            acc = StatsAccumulator(ext, device=device)
            for b in range(0, len(feats), a.batch_size):
                t_b, _ = timed(lambda: acc.add(batch_stats(feats[b:b + a.batch_size], posts[b:b + a.batch_size], g,
                                                           device, True)), device)
                batch_times.append((t_b, sum(f.shape[0] for f in feats[b:b + a.batch_size])))
            return acc.finish()
        if steps & {"acc", "est"}:
            t_acc, stats = timed(acc_pass, device)
        if "acc" in steps:
            rows.append(("extractor acc-stats (E-step)", f"{g}/{s}", where, t_acc, frames / t_acc,
                         f"{KALDI_1THREAD['acc-stats'] * a.scale / t_acc:.2f}x" if per_utt_anchor else ""))
            # steady state: the full batches (a last, smaller one would flatter the per-batch overheads)
            full = [bt for bt in batch_times if bt is batch_times[0] or bt[1] >= batch_times[0][1] * 0.8]
            t_b, f_b = sum(t for t, _ in full), sum(n for _, n in full)
            rows.append((f"  per batch of {a.batch_size} (mean of {len(full)})", f"{g}/{s}", where,
                         t_b / len(full), f_b / t_b, ""))
        if "est" in steps:
            t_est, _ = timed(lambda: update_extractor(ext, stats, IvectorEstimationOptions(gaussian_min_count=10.0),
                                                      device), device)
            rows.append(("extractor est (M-step)", f"{g}/{s}", where, t_est, float("nan"), ""))
        stats = None

        def extract():
            out = []
            for b in range(0, len(feats), a.batch_size):
                out.append(extract_ivectors(ext, batch_stats(feats[b:b + a.batch_size], posts[b:b + a.batch_size],
                                                             g, device))[0])
            return out
        if "extract" in steps:
            t_ext, _ = timed(extract, device)
            rows.append(("ivector-extract", f"{g}/{s}", where, t_ext, frames / t_ext,
                         f"{KALDI_1THREAD['extract'] * a.scale / t_ext:.2f}x" if per_utt_anchor else ""))
        rows.append(("(extractor derived terms, once per model)", f"{g}/{s}", where, t_derived, float("nan"), ""))

    print(f"{'step':44s} {'size':>8s} {'where':28s} {'time s':>8s} {'frames/s':>10s} {'s/hour':>8s} "
          f"{'vs kaldi 1 thr':>14s}")
    for what, size, where, t, fps, ratio in rows:
        fps_s = f"{fps:10.0f}" if fps == fps else f"{'-':>10s}"
        per_h = f"{360000 / fps:8.2f}" if fps == fps else f"{'-':>8s}"
        print(f"{what:44s} {size:>8s} {where[:28]:28s} {t:8.2f} {fps_s} {per_h} {ratio:>14s}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"# peak resident memory {peak:.1f} GiB; frames = {frames} ({frames / 360000:.3f} h at 100 frames/s)")
    print(f"# {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} (timings on a shared machine are noisy)")


if __name__ == "__main__":
    main()
