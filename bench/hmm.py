#!/usr/bin/env python3
"""Speed of the GMM-HMM training steps of stage 3 at full size, per hour of audio: Viterbi statistics
(gmm-acc-stats-ali, ``GmmAccs.accumulate`` on 50k-frame chunks as ``phonsid.hmm.train.accumulate``) and forced
alignment (gmm-align-compiled: per-utterance GMM log-likelihoods of the graph's pdfs + batched Viterbi, as
``phonsid.hmm.align.align_utterances``), one thread.

Data are synthetic with the shape of Fisher+SWBD segments: a triphone model of --num-pdfs pdfs with --num-gauss
Gaussians in all (4,200 / 40,000 in the recipe), 39-dim features (13 MFCC + Δ + ΔΔ), utterances of 1-8 s
(mean ~4 s) at ~12 phones/s, 3-state phones; alignments are runs of pdfs along the phone sequence. Training
graphs are left-to-right chains of the phones' states with self-loops and optional silence between words
(predecessors: the state itself, the previous state, the state before an optional silence), which is the shape
``compile_graph`` gives up to the context copies at word boundaries.

    ./venv/bin/python bench/hmm.py [--hours 0.25] [--num-pdfs 4200] [--num-gauss 40000]

PHONSID_PYSCRIPTS=<dir> benchmarks the library in <dir> instead of this checkout's (before/after comparisons).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("PHONSID_PYSCRIPTS") or str(REPO / "pyscripts"))

from phonsid.hmm.gmm import AmDiagGmm, GmmAccs  # noqa: E402
from phonsid.hmm.viterbi import viterbi_batch  # noqa: E402

FRAMES_PER_HOUR = 360_000
DIM = 39


def make_model(num_pdfs: int, num_gauss: int, rng: np.random.Generator) -> AmDiagGmm:
    counts = 1 + rng.multinomial(num_gauss - num_pdfs, rng.dirichlet(np.ones(num_pdfs) * 2.0))
    W = [rng.dirichlet(np.ones(c)) for c in counts]
    M = [rng.standard_normal((c, DIM)) * 2.0 for c in counts]
    V = [rng.uniform(0.5, 2.0, (c, DIM)) for c in counts]
    return AmDiagGmm(W, M, V)


def make_utterances(hours: float, num_pdfs: int, rng: np.random.Generator):
    """(feats (T, D) float32, pdf per frame, graph arrays) per utterance."""
    utts = []
    frames = 0
    while frames < hours * FRAMES_PER_HOUR:
        T = int(np.clip(rng.gamma(4.0, 100.0), 100, 800))
        n_phones = int(np.clip(T * 12 // 100, 2, T // 3))  # ~12 phones/s, every state at least a frame
        pdf_seq = rng.integers(0, num_pdfs, 3 * n_phones)
        # alignment: every state at least one frame, the rest spread at random
        dur = 1 + rng.multinomial(T - len(pdf_seq), np.ones(len(pdf_seq)) / len(pdf_seq))
        pdfs = np.repeat(pdf_seq, dur)
        feats = rng.standard_normal((T, DIM)).astype(np.float32)
        # graph: chain of states with self-loops; optional silence (3 states) between words of ~3 phones
        states = []
        for i in range(n_phones):
            states += list(pdf_seq[3 * i:3 * i + 3])
            if i % 3 == 2 and i + 1 < n_phones:
                states += list(rng.integers(0, 3, 3))  # silence pdfs
        S = len(states)
        K = 3
        pred_src = np.zeros((S, K), np.int64)
        pred_w = np.full((S, K), -np.inf)
        pred_tid = np.zeros((S, K), np.int64)
        for s in range(S):
            pred_src[s, 0], pred_w[s, 0], pred_tid[s, 0] = s, -0.1, 1
            if s > 0:
                pred_src[s, 1], pred_w[s, 1], pred_tid[s, 1] = s - 1, -1.0, 2
            if s > 3:
                pred_src[s, 2], pred_w[s, 2], pred_tid[s, 2] = s - 4, -2.0, 3
        init_w = np.full(S, -np.inf)
        init_w[0] = 0.0
        final_w = np.full(S, -np.inf)
        final_w[-1] = 0.0
        final_tid = np.zeros(S, np.int64)
        final_tid[-1] = 4
        utts.append((feats, pdfs, np.asarray(states), pred_src, pred_w, pred_tid, init_w, final_w, final_tid))
        frames += T
    return utts, frames


def accumulate(am: AmDiagGmm, utts, chunk_frames: int = 50_000) -> GmmAccs:
    """As ``phonsid.hmm.train.accumulate``: utterances joined into chunks of at least ``chunk_frames``."""
    acc = GmmAccs.zeros(am, 10)
    xs, ps, n = [], [], 0
    for u in utts:
        xs.append(u[0])
        ps.append(u[1])
        n += len(u[0])
        if n >= chunk_frames:
            acc.accumulate(am, np.concatenate(xs), np.concatenate(ps))
            xs, ps, n = [], [], 0
    if xs:
        acc.accumulate(am, np.concatenate(xs), np.concatenate(ps))
    return acc


def align(am: AmDiagGmm, utts, acoustic_scale: float = 0.1, max_batch_elements: int = 16_000_000) -> float:
    """As ``phonsid.hmm.align.align_utterances``: length-sorted batches, GMM log-likelihoods of each graph's
    pdfs, one batched Viterbi per batch. Returns the total score."""
    order = sorted(range(len(utts)), key=lambda i: (len(utts[i][0]), len(utts[i][2])))
    total = 0.0

    def run(batch):
        nonlocal total
        ems = []
        for i in batch:
            feats, _, states = utts[i][:3]
            x = torch.as_tensor(feats)
            uniq, inv = np.unique(states, return_inverse=True)
            ll = am.log_likelihoods(x, uniq)[:, torch.as_tensor(inv)]
            ems.append(ll * acoustic_scale)
        res = viterbi_batch(ems, [utts[i][3] for i in batch], [utts[i][4] for i in batch],
                            [utts[i][5] for i in batch], [utts[i][6] for i in batch], [utts[i][7] for i in batch],
                            [utts[i][8] for i in batch])
        total += sum(r.score for r in res)

    batch, max_t, max_s = [], 0, 0
    for i in order:
        T, S = len(utts[i][0]), len(utts[i][2])
        t, s = max(max_t, T), max(max_s, S)
        if batch and t * s * (len(batch) + 1) > max_batch_elements:
            run(batch)
            batch, t, s = [], T, S
        batch.append(i)
        max_t, max_s = t, s
    if batch:
        run(batch)
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, default=0.25, help="hours of synthetic audio")
    p.add_argument("--num-pdfs", type=int, default=4200)
    p.add_argument("--num-gauss", type=int, default=40000)
    a = p.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    am = make_model(a.num_pdfs, a.num_gauss, rng)
    utts, frames = make_utterances(a.hours, a.num_pdfs, rng)
    hours = frames / FRAMES_PER_HOUR
    print(f"# model: {am.num_pdfs} pdfs, {am.num_gauss} Gaussians, dim {DIM}; data: {len(utts)} utterances, "
          f"{frames} frames ({hours:.3f} h)")
    rows = []
    t = time.perf_counter()
    accumulate(am, utts)
    t_acc = time.perf_counter() - t
    rows.append(("gmm-acc-stats-ali (accumulate)", t_acc))
    t = time.perf_counter()
    align(am, utts)
    t_ali = time.perf_counter() - t
    rows.append(("gmm-align-compiled (align)", t_ali))
    print(f"{'step':36s} {'time s':>8s} {'CPU-s per hour':>15s}")
    for what, sec in rows:
        print(f"{what:36s} {sec:8.2f} {sec / hours:15.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"# 1 thread; peak resident memory {peak:.2f} GiB; {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
