#!/usr/bin/env python3
"""Cost of every recipe stage (0-8) at the full model sizes of the sre10 recipe, how it grows with the data, and
what the paper's SRE10 workload would cost: writes bench/results/scale.json (raw measurements) and renders
bench/results/scale.md from it.

Each stage runs on a slice of generated 8 kHz telephone data at 1x, 2x and 4x its size, through the recipe's own
step scripts and CLIs (run.sh's commands, or the CLIs a step script runs when the step would need a whole recipe
state). A stage is represented by its dominant steps ("components"); each component runs in a fresh child process,
so its CPU time (user + system, the process and every process it waited for), peak RSS (the largest process of
its tree) and output bytes are its own. The md says exactly what each row ran and every assumption of the
projection.

Usage (after `. ./path.sh`, or with ./venv/bin/python):
  python bench/scale.py                      # every stage at 1x/2x/4x: ~25-30 CPU-minutes (estimated from
                                             # --quick), one job at a time, so about that on an idle machine
  python bench/scale.py --quick              # tiny slices, full model sizes: bench/results/scale_quick.{json,md};
                                             # ~5 CPU-min, 3 of them the 2,048 x 600 i-vector statistics, which
                                             # cost ~35 s and 8 GB per pass whatever the data (--stages to skip)
  python bench/scale.py --stages 3,6         # re-measure stages 3 and 6, merged into the same JSON and table
  python bench/scale.py --stages 6 --tag before   # measurements kept under "before" (the md shows a before column)
  python bench/scale.py --render             # only re-render the md from the JSON
  python bench/scale.py --device cuda        # networks on the GPU (stage 4, 5 and 7 training and extraction)
Options: --threads N (jobs and torch threads per step, default 1), --scales 1,2,4, --work DIR (inputs are
generated once there and reused), --keep (keep the measured outputs), --gpu-speedup G (one GPU = G CPU cores for
the networks when no GPU was measured), --list (print the plan and exit).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Callable, Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SCALES = (1, 2, 4)
GROWTH_FLAG = 1.15      # time exponent above this is flagged as superlinear
MEMORY_FLAG = 0.15      # memory exponent above this is flagged where memory should not depend on the corpus ...
MEMORY_FLAG_MB = 64.0   # ... and it grew by more than this from the smallest to the largest slice
FPS = 100               # frames per second of audio (10 ms shift)
SIDE_SECONDS = 300.0    # a conversation side: ~5 min of audio ...
SIDE_SPEECH = 150.0     # ... with ~2.5 min of speech (Kaldi's sre10/sre16 data)

# ===================================================================================== the paper's workload


@dataclasses.dataclass(frozen=True)
class PaperWorkload:
    """The SRE10 system of the paper as run.sh --corpus sre10 would build it. Every number here is an assumption
    the md prints next to the projection; edit here (and re-render with --render) to project another set-up."""

    train_sessions: int = 54_450       # paper: SRE04-08 + Switchboard sides (the speaker side)
    speakers: int = 3_769              # paper; x-vector output layer and egs allocation
    side_audio_s: float = SIDE_SECONDS  # Kaldi's sre10/sre16 conversation sides: ~5 min ...
    side_speech_s: float = SIDE_SPEECH  # ... ~2.5 min of it speech after the energy VAD
    aug_ratio: int = 2                 # run.sh: augmented copies kept = 2 x clean training sides
    enroll_sides: int = 6_000          # SRE10 extended core-core enrolment sides (assumed, one side per model)
    test_sides: int = 25_000           # SRE10 extended core-core test sides (assumed)
    trials: int = 6_000_000            # SRE10 extended core-core trials, all conditions (assumed)
    asr_hours: float = 2_300.0         # Fisher + Switchboard-1: GMM-HMM (stage 3) and DNN-1
    asr2_hours: float = 319.0          # Switchboard-1: DNN-2 (SBNF, MT-SBNF)
    mono_utts: int = 10_000            # run.sh: monophones on the 10k shortest ASR utterances ...
    mono_utt_s: float = 2.0            # ... of ~2 s each (assumed)
    senones: int = 4_200               # tree_opts of conf/sre10/corpus.sh (the paper: ~8,700)
    ubm_gauss: int = 2_048
    ivector_dim: int = 600
    mono_align_passes: int = 21        # steps/train_mono.sh: realign_iters (21 of 40 iterations)
    mono_acc_passes: int = 40          # 39 iterations + the equal-alignment pass
    tri_acc_passes: int = 35           # steps/train_deltas.sh: 34 iterations + the tree statistics pass
    tri_align_passes: int = 5          # realign at 10/20/30 + steps/align.sh tri1_ali; + mono_ali below
    dnn_epochs: int = 4                # conf/bnf1.yaml, sbnf.yaml, mt_sbnf.yaml: train.num_epochs
    xvector_epochs: int = 3            # conf/xvector.yaml
    xvector_repeats: int = 50          # egs_opts of conf/sre10/corpus.sh: --num-repeats 50 ...
    xvector_frames_per_iter: float = 1e9  # ... --frames-per-iter 1000000000, chunks 200-400 frames
    xvector_chunk: float = 300.0       # mean chunk length
    ubm_passes: int = 8                # sid/train_diag_ubm.sh + train_full_ubm.sh: 4 + 4 E-M passes ...
    ubm_subsample: int = 5             # ... on every 5th frame
    ivector_iters: int = 10            # sid/train_ivector_extractor.sh default --num-iters
    ivector_systems: int = 3           # UBM, DNN and BNF i-vectors
    dnn_ivector_factor: float = 4_200 / 2_048  # DNN i-vector: 4,200 senone "Gaussians" instead of 2,048
    xvector_systems: tuple = ("mfcc", "mfcc_aug", "bnf", "sbnf", "mt_sbnf")
    backend_systems: int = 8
    cores: int = 32                    # the node of the projection ...
    gpus: int = 8                      # ... with 8 GPUs (networks train on all 8 with DDP, assumed linear)
    threads_serial: int = 4            # single-job steps that run threaded (run.sh sre10: --num-threads 4)
    node_ram_gb: float = 256.0         # the node's memory: caps how many jobs run side by side

    @property
    def train_audio_s(self) -> float:
        return self.train_sessions * self.side_audio_s

    @property
    def train_speech_s(self) -> float:
        return self.train_sessions * self.side_speech_s

    @property
    def eval_sides(self) -> int:
        return self.enroll_sides + self.test_sides


def xvector_egs_frames(train_frames: float, speakers: int, num_repeats: int, frames_per_iter: float,
                       chunk: float) -> float:
    """Frames of x-vector training examples per epoch, as sid/nnet/get_egs.sh allocates them (Kaldi's
    allocate_egs.py): ``train_frames * num_repeats // frames_per_iter + 1`` archives, each with
    ``min(frames_per_iter / chunk + 1, num_repeats * speakers)`` chunks of ``chunk`` frames."""
    archives = int(train_frames * num_repeats // frames_per_iter) + 1
    per_archive = min(int(frames_per_iter / chunk + 1), num_repeats * speakers)
    return archives * per_archive * chunk


def xvector_frame_macs(feat_dim: int, dims: Sequence[int] = (512, 512, 512, 512, 1500),
                       contexts: Sequence[int] = (5, 3, 3, 1, 1)) -> int:
    """Multiply-adds per frame of the x-vector TDNN's frame-level layers (conf/xvector.yaml), which dominate:
    the segment layers run once per chunk of 200-400 frames."""
    macs, prev = 0, feat_dim
    for d, c in zip(dims, contexts):
        macs += c * prev * d
        prev = d
    return macs


@dataclasses.dataclass(frozen=True)
class Item:
    """One line of the projection: ``amount`` (in the component's basis: seconds of audio or speech, frames,
    vectors, trials, or calls for fixed costs) times ``passes``, at the rate of ``component``."""

    stage: int
    what: str
    component: str
    amount: float
    passes: float = 1.0
    device: str = "cpu"      # cpu: jobs over the node's cores | gpu: over its GPUs | serial: one job on
    #                          threads_serial threads | single: one single-threaded job
    factor: float = 1.0      # cost per unit relative to the measured component (derived, stated in `what`)


RECIPES = {
    "current": "run.sh as it is",
    "issue-start": "run.sh at the start of issue 15 (94b872e): DNN-1 BNFs of all 2,300 h of ASR data (DNN-2 uses "
                   "319 h of them) and of train_combined, which re-extracted the clean training sides; DNN-1 "
                   "log-posteriors of every frame of train, enrol and test stored in stage 4 (4 bytes x 4,200 "
                   "senones per frame) for the DNN i-vector scripts",
}


def workload_items(w: PaperWorkload, recipe: str = "current") -> list[Item]:
    """The paper's SRE10 workload per stage, in the bases of the measured components (see COMPONENTS); ``recipe``
    (a key of RECIPES) selects the work run.sh does at a given commit."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; expected one of {sorted(RECIPES)}")
    T_a, T_s = w.train_audio_s, w.train_speech_s
    E_a, E_s = w.eval_sides * w.side_audio_s, w.eval_sides * w.side_speech_s
    aug_a, aug_s = w.aug_ratio * T_a, w.aug_ratio * T_s
    comb_a, comb_s = T_a + aug_a, T_s + aug_s
    asr = w.asr_hours * 3600.0
    asr2 = w.asr2_hours * 3600.0
    mono = w.mono_utts * w.mono_utt_s
    items = [
        Item(0, "data prep: SRE + SWBD-2 sides and SRE10 enrol/test (make_sre10.py); ASR side not measured",
             "prep", T_a + E_a, device="single"),
        Item(1, "MFCC + energy VAD: ASR, train, enrol, test", "mfcc_vad", asr + T_a + E_a),
        Item(1, "hires MFCC: ASR, train, enrol, test", "mfcc_hires", asr + T_a + E_a),
        Item(2, f"reverb/noise/music/babble pipes + MFCC of the {w.aug_ratio}x augmented subset", "augment", aug_a),
        Item(3, f"monophone alignment: {w.mono_align_passes} passes over the {w.mono_utts} shortest utterances",
             "mono_align", mono, w.mono_align_passes),
        Item(3, "monophone alignment of all ASR data (steps/align.sh exp/mono)", "mono_align", asr),
        Item(3, f"monophone statistics: {w.mono_acc_passes} passes", "mono_acc", mono, w.mono_acc_passes),
        Item(3, f"triphone statistics ({w.senones} leaves, 40k Gaussians): {w.tri_acc_passes} passes over the "
             "ASR data", "tri_acc", asr, w.tri_acc_passes),
        Item(3, f"triphone M-step (sum + gmm_est): {w.tri_acc_passes - 1} iterations", "tri_est", 1.0,
             w.tri_acc_passes - 1, device="single"),
        Item(3, f"triphone alignment: {w.tri_align_passes} passes over the ASR data", "tri_align", asr,
             w.tri_align_passes),
        Item(4, "hires MFCC of the augmented copies (augmentation pipes again)", "aug_hires", aug_a),
        Item(4, "DNN-1 frames (nnet_bnf_prepare.py) of the ASR data", "dnn1_prepare", asr, device="single"),
        Item(4, f"DNN-1 training: {w.dnn_epochs} epochs over the ASR data", "dnn1_train", asr, w.dnn_epochs,
             device="gpu"),
        Item(4, "BNF extraction: ASR, train, enrol, test, train_combined (clean + aug)", "bnf_extract",
             asr + T_a + E_a + comb_a) if recipe == "issue-start" else
        Item(4, "BNF extraction: SWBD-1 (DNN-2's data), train, enrol, test, augmented copies (train_combined = "
             "clean + augmented BNFs)", "bnf_extract", asr2 + T_a + E_a + aug_a),
        Item(5, "DNN-2 frames: SBNF and MT-SBNF (two egs dirs) of SWBD-1", "sbnf_prepare", asr2, 2,
             device="single"),
        Item(5, f"SBNF DNN-2 training: {w.dnn_epochs} epochs over SWBD-1", "sbnf_train", asr2, w.dnn_epochs,
             device="gpu"),
        Item(5, f"MT-SBNF DNN-2 training: {w.dnn_epochs} epochs over SWBD-1", "mt_sbnf_train", asr2,
             w.dnn_epochs, device="gpu"),
        Item(5, "SBNF + MT-SBNF extraction: train, enrol, test, train_combined", "sbnf_extract",
             T_a + E_a + comb_a, 2),
    ]
    if recipe == "issue-start":
        items.append(Item(4, "DNN-1 senone log-posteriors of every frame, stored: train, enrol, test (DNN i-vector)",
                          "dnn_post", T_a + E_a))
    # stage 6: three i-vector systems; UBM training passes at the rate of the full-UBM posteriors (assumed)
    gmm = w.ivector_systems - 1      # the UBM and BNF systems; the DNN system counts x dnn_f
    dnn_f = w.dnn_ivector_factor
    items += [
        Item(6, f"UBM training (UBM, BNF systems): {w.ubm_passes} E-M passes over 1/{w.ubm_subsample} of the "
             "speech, at the posterior rate (assumed)", "ubm_post", T_s / w.ubm_subsample, gmm * w.ubm_passes),
        Item(6, "full-UBM posteriors for the extractor (UBM, BNF systems)", "ubm_post", T_s, gmm),
        Item(6, f"DNN system: full UBM from the DNN-1 posteriors (sid/init_full_ubm_from_dnn.sh, one statistics "
             f"pass, {w.senones:,} components) at the posterior rate x{dnn_f:.2f} (assumed)", "ubm_post", T_s, 1,
             factor=dnn_f),
        Item(6, f"extractor E-step: {w.ivector_iters} iterations x 2 systems + DNN system x{dnn_f:.2f} "
             "(4,200 components)", "ivec_acc", T_s, w.ivector_iters * (gmm + dnn_f)),
        Item(6, f"extractor M-step ({w.ubm_gauss}/{w.ivector_dim}): {w.ivector_iters} iterations x 2 + DNN "
             f"system x{dnn_f:.2f}", "ivec_est", 1.0, w.ivector_iters * (gmm + dnn_f), device="serial"),
        Item(6, f"i-vector extraction (posteriors + extract): train, enrol, test x 2 + DNN system x{dnn_f:.2f}",
             "ivec_extract", T_s + E_s, gmm + dnn_f),
    ]
    if recipe == "current":
        items.append(Item(6, "DNN system: DNN-1 posteriors of the voiced frames in the jobs, nothing stored (full-UBM "
                          "statistics and extractor posteriors of train; extraction of train, enrol, test)",
                          "dnn_post_pipe", 3 * T_a + E_a))
    # stage 7: five x-vector systems
    for name in w.xvector_systems:
        clean = name == "mfcc"
        data_s = T_s if clean else comb_s
        dim = 20 if name.startswith("mfcc") else 80
        f_train = xvector_frame_macs(dim) / xvector_frame_macs(20)
        egs = xvector_egs_frames(data_s * FPS, w.speakers, w.xvector_repeats, w.xvector_frames_per_iter,
                                 w.xvector_chunk)
        items += [
            Item(7, f"x-vector {name}: features for the egs (CMN, silence removed)", "egs_feats", data_s),
            Item(7, f"x-vector {name}: egs ({egs / 1e9:.2f} G frames)", "get_egs", egs),
            Item(7, f"x-vector {name}: training, {w.xvector_epochs} epochs of the egs"
                 + ("" if dim == 20 else f" (80-dim input: x{f_train:.2f} the MFCC network's multiply-adds)"),
                 "xvec_train", egs, w.xvector_epochs, "gpu", f_train),
            Item(7, f"x-vector {name}: extraction of train, enrol, test", "xvec_extract", T_s + E_s, 1,
                 "gpu", f_train),
        ]
    items += [
        Item(8, f"LDA + PLDA training on {w.train_sessions} vectors x {w.backend_systems} systems", "plda_train",
             w.train_sessions, w.backend_systems, device="serial"),
        Item(8, f"PLDA scoring of {w.trials:,} trials x {w.backend_systems} systems", "plda_score", w.trials,
             w.backend_systems, device="serial"),
    ]
    return items


@dataclasses.dataclass(frozen=True)
class Cost:
    """A component's measured CPU cost model: ``fixed_s`` per job (start-up, model loading, writing fixed-size
    statistics) + ``per_unit_s`` per unit of its basis; ``rss_mb``: peak RSS of one job."""

    fixed_s: float
    per_unit_s: float
    rss_mb: float = 0.0


@dataclasses.dataclass
class ProjectedItem:
    item: Item
    core_hours: float            # CPU core-hours (GPU items: the CPU-equivalent, see gpu_hours)
    gpu_hours: float             # GPU-hours (0 for CPU items)
    wall_hours: float            # on the node (cores, gpus)
    gpu_source: str = ""         # "measured" | "CPU-derived" | ""
    parallel: int = 0            # jobs that run side by side (CPU items: cores, or fewer when RAM-bound)
    missing: bool = False        # no measurement for the component


def parallel_jobs(w: PaperWorkload, rss_mb: float) -> int:
    """Jobs of ``rss_mb`` each that fit side by side on the node: its cores, or fewer where RAM runs out."""
    if rss_mb <= 0:
        return w.cores
    return max(1, min(w.cores, int(w.node_ram_gb * 1024 // rss_mb)))


def project(items: Sequence[Item], costs: dict[str, Cost], gpu_costs: dict[str, Cost], w: PaperWorkload,
            gpu_speedup: float) -> list[ProjectedItem]:
    """Core-hours, GPU-hours and wall-hours on the node for each item.

    Cost of an item = launches x ``fixed_s`` + amount x passes x factor x ``per_unit_s``, launches = jobs per pass
    x passes: a CPU step runs as many jobs as the node runs side by side (``parallel_jobs``: its cores, fewer when
    the jobs' RAM does not fit) on every pass; a "serial" step is one job per pass on ``threads_serial`` threads
    ("single": on one thread); a GPU step is one run of ``gpus`` DDP processes for all its passes (epochs), at
    the measured GPU cost or, when no GPU was measured, the CPU cost / ``gpu_speedup`` (CPU-derived)."""
    out = []
    for it in items:
        c = costs.get(it.component)
        if c is None or not (math.isfinite(c.per_unit_s) and math.isfinite(c.fixed_s)) or \
                (c.per_unit_s <= 0 and c.fixed_s <= 0):
            out.append(ProjectedItem(it, float("nan"), 0.0, float("nan"), missing=True))
            continue
        work = it.amount * it.passes * it.factor
        if it.device == "gpu":
            g = gpu_costs.get(it.component)
            source = "measured" if g else "CPU-derived"
            core_s = w.gpus * c.fixed_s + work * c.per_unit_s
            gpu_s = (w.gpus * g.fixed_s + work * g.per_unit_s) if g else core_s / gpu_speedup
            out.append(ProjectedItem(it, core_s / 3600, gpu_s / 3600, gpu_s / w.gpus / 3600, source, w.gpus))
        elif it.device in ("serial", "single"):
            core_s = it.passes * c.fixed_s + work * c.per_unit_s
            threads = w.threads_serial if it.device == "serial" else 1
            out.append(ProjectedItem(it, core_s / 3600, 0.0, core_s / threads / 3600, parallel=1))
        else:
            par = parallel_jobs(w, c.rss_mb)
            core_s = it.passes * par * c.fixed_s + work * c.per_unit_s
            out.append(ProjectedItem(it, core_s / 3600, 0.0, core_s / par / 3600, parallel=par))
    return out


def fit_linear(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """``y = a + b x`` by least squares with ``a >= 0`` and ``b >= 0`` (a fixed cost and a cost per unit); one
    point (or equal x) gives ``a = 0, b = y / x``; NaN points are left out."""
    pts = [(float(u), float(v)) for u, v in zip(x, y) if u is not None and v is not None and math.isfinite(u)
           and math.isfinite(v) and u > 0]
    if not pts:
        return float("nan"), float("nan")
    if len({u for u, _ in pts}) < 2:
        u = sum(u for u, _ in pts) / len(pts)
        return 0.0, sum(v for _, v in pts) / len(pts) / u
    mx = sum(u for u, _ in pts) / len(pts)
    my = sum(v for _, v in pts) / len(pts)
    b = sum((u - mx) * (v - my) for u, v in pts) / sum((u - mx) ** 2 for u, _ in pts)
    a = my - b * mx
    if a < 0:   # through the origin
        return 0.0, sum(u * v for u, v in pts) / sum(u * u for u, _ in pts)
    if b < 0:   # no growth measured: all fixed
        return my, 0.0
    return a, b


def stage_totals(projected: Sequence[ProjectedItem]) -> dict[int, dict[str, float]]:
    """Per stage and in all (key -1): core-hours, GPU-hours and wall-hours (NaN parts counted as missing)."""
    tot: dict[int, dict[str, float]] = {}
    for p in projected:
        for key in (p.item.stage, -1):
            t = tot.setdefault(key, {"core_hours": 0.0, "gpu_hours": 0.0, "wall_hours": 0.0, "missing": 0})
            if p.missing:
                t["missing"] += 1
                continue
            t["core_hours"] += p.core_hours
            t["gpu_hours"] += p.gpu_hours
            t["wall_hours"] += p.wall_hours
    return tot


def fit_exponent(sizes: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope of log(value) against log(size) (1.0: linear growth); NaN with fewer than two usable
    points (non-positive values are left out)."""
    pts = [(math.log(s), math.log(v)) for s, v in zip(sizes, values) if s > 0 and v is not None and v > 0
           and math.isfinite(v)]
    if len(pts) < 2 or len({x for x, _ in pts}) < 2:
        return float("nan")
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    return sxy / sxx


# ===================================================================================== slice sizes

@dataclasses.dataclass(frozen=True)
class Sizes:
    """Slice sizes at 1x (2x and 4x multiply them) and the generated pool they are cut from."""

    pool_sides: int            # unique generated conversation sides (content repeats beyond them)
    side_speech_s: float       # speech per side (the demo generator's utterance)
    side_audio_s: float        # audio per side (speech + inserted pauses)
    pool_asr_utts: int         # unique generated ASR utterances (3-8 s, with transcripts and phone alignments)
    mono_train_utts: int       # setup: monophone model trained on this many ASR utterances
    s0_sides: int
    s1_sides: int
    s2_sides: int
    s3_utts: int
    s4_aug_sides: int
    s4_train_utts: int
    s4_extract_sides: int
    s5_train_utts: int
    s5_extract_sides: int
    s6_sides: int
    s7_speakers: int           # x-vector slice: speakers of 8 sides each (--min-num-utts 8)
    s7_extract_sides: int
    s8_vectors: int
    s8_trials: int
    mono_iters: int            # setup: steps/train_mono.sh --num-iters


DEFAULT_SIZES = Sizes(pool_sides=16, side_speech_s=SIDE_SPEECH, side_audio_s=SIDE_SECONDS, pool_asr_utts=480,
                      mono_train_utts=240, s0_sides=4000, s1_sides=60, s2_sides=8, s3_utts=400, s4_aug_sides=4,
                      s4_train_utts=40, s4_extract_sides=1, s5_train_utts=32, s5_extract_sides=2, s6_sides=6,
                      s7_speakers=4, s7_extract_sides=4, s8_vectors=20_000, s8_trials=2_000_000, mono_iters=8)
QUICK_SIZES = Sizes(pool_sides=4, side_speech_s=20.0, side_audio_s=40.0, pool_asr_utts=120, mono_train_utts=60,
                    s0_sides=16, s1_sides=2, s2_sides=1, s3_utts=12, s4_aug_sides=1, s4_train_utts=12,
                    s4_extract_sides=1, s5_train_utts=12, s5_extract_sides=1, s6_sides=1, s7_speakers=2,
                    s7_extract_sides=1, s8_vectors=2_000, s8_trials=20_000, mono_iters=3)
SPK_PER_SPEAKER = 8  # sides per speaker in the x-vector slices (run.sh: --min-num-utts 8)


# ===================================================================================== helpers

def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} scale.py: {msg}", file=sys.stderr, flush=True)


def bench_env(threads: int) -> dict[str, str]:
    """path.sh's environment (the venv, utils/ and pyscripts/ on PATH, PYTHONPATH, LC_ALL=C) with --threads."""
    env = dict(os.environ)
    venv_bin = str(REPO / "venv" / "bin")
    env["PATH"] = os.pathsep.join([str(REPO / "utils"), str(REPO / "pyscripts"), venv_bin, env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "pyscripts")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH")
                                                                      else []))
    env["VIRTUAL_ENV"] = str(REPO / "venv")
    env["LC_ALL"] = "C"
    env["PYTHONUNBUFFERED"] = "1"
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = str(threads)
    return env


def sh(cmd: str, logfile: Path, env: dict[str, str]) -> None:
    """Runs a bash command line in the repository root; on failure raises naming the log and its tail."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "a") as f:
        f.write(f"# {cmd}\n")
        f.flush()
        r = subprocess.run(["bash", "-c", "set -euo pipefail; " + cmd], cwd=REPO, env=env, stdout=f,
                           stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = logfile.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"command failed ({r.returncode}), see {logfile}:\n  {cmd}\n" + "\n".join(tail))


def q(p) -> str:
    return shlex.quote(str(p))


def read_kv(path: Path) -> dict[str, str]:
    """``key value`` lines; the value is kept as written (tools compare some tables byte for byte)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            k, _, v = line.partition(" ")
            out[k] = v
    return out


def write_kv(path: Path, items: Iterable[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} {v}\n" for k, v in sorted(items)))


def dir_bytes(paths: Iterable[Path]) -> int:
    """Bytes of the regular files under ``paths`` (symlinks not followed, each file once)."""
    seen, total = set(), 0
    for root in paths:
        root = Path(root)
        if not root.exists():
            continue
        walker = [(str(root.parent), [], [root.name])] if root.is_file() else os.walk(root)
        for d, _, files in walker:
            for name in files:
                p = os.path.join(d, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if os.path.islink(p) or (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def write_wav16(path: Path, samples, rate: int = 8000) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.clip(np.rint(samples), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(x.tobytes())


def read_wav16(path: Path):
    import numpy as np

    with wave.open(str(path), "rb") as f:
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float64)


def write_sphere_stereo(path: Path, a, b, rate: int = 8000) -> None:
    """A NIST_1A two-channel 16-bit PCM SPHERE file (channel 1 = a, channel 2 = b, zero-padded to one length)."""
    import numpy as np

    n = max(len(a), len(b))
    x = np.zeros((n, 2), dtype="<i2")
    x[:len(a), 0] = np.clip(np.rint(a), -32768, 32767)
    x[:len(b), 1] = np.clip(np.rint(b), -32768, 32767)
    fields = [f"sample_count -i {n}", "channel_count -i 2", f"sample_rate -i {rate}", "sample_n_bytes -i 2",
              "sample_coding -s3 pcm", "sample_byte_format -s2 01", "sample_sig_bits -i 16"]
    head = ("NIST_1A\n   1024\n" + "".join(f + "\n" for f in fields) + "end_head\n").encode().ljust(1024, b" ")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + x.tobytes())


def spk2utt_of(utt2spk: dict[str, str]) -> list[tuple[str, str]]:
    s: dict[str, list[str]] = {}
    for u, k in sorted(utt2spk.items()):
        s.setdefault(k, []).append(u)
    return [(k, " ".join(v)) for k, v in sorted(s.items())]


def replicate_dir(src: Path, dst: Path, n: int, per_spk: int, prefix: str = "s",
                  tables: Sequence[str] = ("wav.scp", "feats.scp", "vad.scp", "utt2num_frames", "utt2dur", "text",
                                           "reco2dur")) -> dict[str, str]:
    """A data dir of ``n`` utterances cut from ``src`` round-robin (content repeats once ``src`` is exhausted),
    ``per_spk`` per speaker, ids ``<prefix>NNNN-uNNNN`` (speaker first, C-sorted); every per-utterance table of
    ``src`` in ``tables`` is copied under the new ids (scp lines keep pointing into the same archives).
    Returns new id -> source id."""
    src_tabs = {t: read_kv(src / t) for t in tables if (src / t).is_file()}
    order = sorted(read_kv(src / "utt2spk"))
    mapping, utt2spk = {}, {}
    for i in range(n):
        spk = f"{prefix}{i // per_spk:04d}"
        utt = f"{spk}-u{i:05d}"
        mapping[utt] = order[i % len(order)]
        utt2spk[utt] = spk
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    write_kv(dst / "utt2spk", utt2spk.items())
    write_kv(dst / "spk2utt", spk2utt_of(utt2spk))
    for t, tab in src_tabs.items():
        write_kv(dst / t, [(u, tab[s]) for u, s in mapping.items() if s in tab])
    return mapping


def amount_of(d: Path) -> dict[str, float]:
    """Audio seconds (utt2dur), voiced seconds (vad.scp, where present) and utterances of a data dir."""
    out = {"utts": float(len(read_kv(d / "utt2spk")))}
    if (d / "utt2dur").is_file():
        out["audio_s"] = sum(float(v) for v in read_kv(d / "utt2dur").values())
    if (d / "vad.scp").is_file():
        from phonsid.io import read_table

        out["speech_s"] = sum(float(v.sum()) for v in read_table(f"scp:{d}/vad.scp", "vector").values()) / FPS
    return out


# ===================================================================================== the work context

@dataclasses.dataclass
class Ctx:
    work: Path
    sizes: Sizes
    threads: int
    device: str
    quick: bool

    @property
    def env(self) -> dict[str, str]:
        return bench_env(self.threads)

    @property
    def inputs(self) -> Path:
        return self.work / "inputs"

    def run_dir(self, stage: int, scale: int) -> Path:
        return self.work / "runs" / f"stage{stage}" / f"x{scale}"

    @property
    def use_gpu(self) -> str:
        return "yes" if self.device == "cuda" else "no"

    def to_json(self) -> dict:
        return {"work": str(self.work), "sizes": dataclasses.asdict(self.sizes), "threads": self.threads,
                "device": self.device, "quick": self.quick}

    @classmethod
    def from_json(cls, d: dict) -> "Ctx":
        return cls(Path(d["work"]), Sizes(**d["sizes"]), d["threads"], d["device"], d["quick"])


SETUP_SECONDS: dict[str, float] = {}   # wall seconds of the setup steps that ran in this invocation


def setup_step(name: str):
    """Records the wall time of an ``ensure_*`` input builder when it does work (not when it finds its
    inputs made)."""
    def deco(fn):
        def wrapper(ctx: "Ctx") -> Path:
            t = time.perf_counter()
            nested = sum(SETUP_SECONDS.values())
            before = (ctx.inputs / name / ".done").is_file()
            out = fn(ctx)
            if not before:   # its own time, without the inputs it had to build first
                own = time.perf_counter() - t - (sum(SETUP_SECONDS.values()) - nested)
                SETUP_SECONDS[name] = SETUP_SECONDS.get(name, 0.0) + own
            return out
        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper
    return deco


def done(marker: Path) -> bool:
    return marker.is_file()


def mark(marker: Path) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))


# ------------------------------------------------------------------------------------- generated pool

@setup_step("pool")
def ensure_pool(ctx: Ctx) -> Path:
    """Generated audio (untimed, made once per --work and mode): the demo generator's speakers speaking one
    ~side_speech_s utterance each, turned into conversation sides by inserting pauses (the far end talking: the
    channel's own noise floor) up to ~side_audio_s; ASR utterances of 3-8 s with transcripts and true phone
    alignments; noise, music and babble sources; simulated RIRs."""
    pool = ctx.inputs / "pool"
    if done(pool / ".done"):
        return pool
    import numpy as np

    from phonsid.recipes.demo import DemoConfig, make_demo_corpus

    s = ctx.sizes
    log(f"generating the pool: {s.pool_sides} sides of ~{s.side_speech_s:.0f} s speech, {s.pool_asr_utts} ASR "
        "utterances, augmentation sources (demo generator)")
    asr_spk = max(4, s.pool_asr_utts // 10)
    cfg = DemoConfig(asr_speakers=asr_spk, asr_utts_per_speaker=max(1, s.pool_asr_utts // asr_spk),
                     asr_min_duration=3.0, asr_max_duration=8.0,
                     train_speakers=s.pool_sides, train_utts_per_speaker=1,
                     train_min_duration=s.side_speech_s * 0.97, train_max_duration=s.side_speech_s * 1.03,
                     eval_speakers=2, enroll_utts_per_speaker=1, test_utts_per_speaker=1, eval_min_duration=1.5,
                     eval_max_duration=2.0, noise_recordings=8, noise_min_duration=10.0, noise_max_duration=20.0,
                     music_recordings=4, music_min_duration=20.0, music_max_duration=30.0, speech_recordings=8,
                     speech_min_duration=15.0, speech_max_duration=20.0)
    if pool.exists():
        shutil.rmtree(pool)
    make_demo_corpus(pool / "demo", pool / "demo_wav", cfg, seed=4242, num_jobs=max(1, ctx.threads))
    # conversation sides: pauses at the quietest frames, filled with the side's own noise floor
    rng = np.random.default_rng(7)
    sides = {}
    for utt, path in sorted(read_kv(pool / "demo" / "demo_train" / "wav.scp").items()):
        x = read_wav16(Path(path))
        frames = x[: len(x) // 80 * 80].reshape(-1, 80)
        energy = (frames ** 2).mean(1)
        floor = math.sqrt(max(np.percentile(energy, 3), 1.0))
        extra = int(max(0.0, s.side_audio_s - len(x) / 8000) * 8000)
        k = max(1, int(s.side_speech_s / 6))          # a turn every ~6 s of speech
        quiet = np.argsort(energy)[: max(k * 4, 1)]
        cuts = np.sort(rng.choice(quiet, size=min(k, len(quiet)), replace=False)) * 80
        gaps = rng.dirichlet(np.ones(len(cuts))) * extra
        pieces, prev = [], 0
        for c, g in zip(cuts, gaps):
            pieces += [x[prev:c], rng.normal(0.0, floor, int(g))]
            prev = c
        pieces.append(x[prev:])
        y = np.concatenate(pieces)
        y = y[: len(y) // 80 * 80]
        sides[utt] = y
        write_wav16(pool / "sides" / f"{utt}.wav", y)
    # stereo SPHERE calls of two sides each (channel A = side i, B = side i+1 of the pool, cyclically)
    names = sorted(sides)
    for i in range(len(names)):
        a, b = sides[names[i]], sides[names[(i + 1) % len(names)]]
        write_sphere_stereo(pool / "sph" / f"call{i:03d}.sph", a, b)
    (pool / "sides.json").write_text(json.dumps({n: len(sides[n]) / 8000 for n in names}))
    sh(f"python local/simulate_rirs.py --sample-rate 8000 --room-types smallroom,mediumroom --num-rooms 3 "
       f"--rirs-per-room 2 --seed 1 {q(pool / 'rirs')}", pool / "log" / "rirs.log", ctx.env)
    mark(pool / ".done")
    return pool


def make_ldc_tree(ctx: Ctx, root: Path, num_sides: int) -> Path:
    """A mock LDC layout for local/make_sre10.py: Switchboard-2 Phase I (docs/callstat.tbl + data/sw_*.sph, two
    labelled sides per call) holding ``num_sides`` sides (symlinks to the pool's stereo SPHERE calls), plus a
    minimal SRE10 evaluation release (2 models, 2 test sides) and the corpora.conf. Returns the conf."""
    pool = ensure_pool(ctx)
    calls = sorted((pool / "sph").glob("call*.sph"))
    if root.exists():
        shutil.rmtree(root)
    swbd = root / "LDC98S75"
    (swbd / "docs").mkdir(parents=True)
    (swbd / "data").mkdir(parents=True)
    lines = []
    num_calls = (num_sides + 1) // 2
    npool = len(calls)
    for c in range(num_calls):
        src = calls[c % npool]
        name = f"sw_{10000 + c}.sph"
        os.symlink(src, swbd / "data" / name)
        # speakers: the pool side's speaker (channel A = pool side i, B = i+1), genders alternate like the pool
        i = c % npool
        a, b = i, (i + 1) % npool
        lines.append(f"{name},970101,{1000 + a},{1000 + b},300,{'FM'[a % 2]},{'FM'[b % 2]},x")
    (swbd / "docs" / "callstat.tbl").write_text("\n".join(lines) + "\n")
    ev = root / "SRE2010" / "eval"
    (ev / "train").mkdir(parents=True)
    (ev / "keys").mkdir(parents=True)
    (ev / "data" / "tel").mkdir(parents=True)
    for i, stem in enumerate(["taaaa", "taaab", "tbbba", "tbbbb"]):
        os.symlink(calls[i % npool], ev / "data" / "tel" / f"{stem}.sph")
    (ev / "train" / "coreext.trn").write_text("1001 f tel/taaaa.sph:A\n1002 m tel/taaab.sph:B\n")
    (ev / "keys" / "coreext.modelkey.csv").write_text("modelid,speakerid\n1001,6001\n1002,6002\n")
    (ev / "keys" / "coreext-coreext.trialkey.csv").write_text(
        "modelid,segmentid,channel,targettype,scored,c1,c2,c3,c4,c5,c6,c7,c8,c9\n"
        "1001,tbbba,a,target,Y,N,N,N,N,Y,N,N,N,N\n1001,tbbbb,b,nontarget,Y,N,N,N,N,Y,N,N,N,N\n"
        "1002,tbbbb,b,target,Y,N,N,N,N,Y,N,N,N,N\n1002,tbbba,a,nontarget,Y,N,N,N,N,Y,N,N,N,N\n")
    sph2pipe = "sph2pipe" if shutil.which("sph2pipe") else "none"
    conf = root / "corpora.conf"
    conf.write_text(f"sph2pipe={sph2pipe}\nswbd2_phase1={swbd}\nsre10_eval={ev}\n")
    return conf


@setup_step("clean")
def ensure_clean_pool(ctx: Ctx) -> Path:
    """The pool's sides as the sre10 recipe's training set after stages 0-1 (untimed): make_sre10.py on a mock
    tree of all pool sides, then MFCC + VAD and hires MFCC (run.sh stage 1). Slices of later stages are cut from
    it (replicate_dir)."""
    d = ctx.inputs / "clean"
    if done(d / ".done"):
        return d
    log("setup: features of the pool sides (make_sre10.py, make_mfcc.sh, hires)")
    if d.exists():
        shutil.rmtree(d)
    n = ctx.sizes.pool_sides
    conf = make_ldc_tree(ctx, d / "ldc", n)
    env = ctx.env
    sh(f"python local/make_sre10.py --prefix pool {q(conf)} {q(d / 'data')}", d / "log" / "prep.log", env)
    sh(_stage1_cmd(d / "data" / "pool_train", d / "exp", d / "mfcc", ctx.threads), d / "log" / "mfcc.log", env)
    mark(d / ".done")
    return d


def _stage1_cmd(data: Path, exp: Path, mfcc: Path, nj: int) -> str:
    """run.sh stage 1 for one set (conf/sre10)."""
    hires = Path(str(data) + "_hires")
    return (f"steps/make_mfcc.sh --nj {nj} --mfcc-config conf/sre10/mfcc.conf --vad-config conf/sre10/vad.conf "
            f"{q(data)} {q(exp / 'mfcc')} {q(mfcc)} && utils/fix_data_dir.sh {q(data)} && "
            f"utils/copy_data_dir.sh {q(data)} {q(hires)} && "
            f"rm -f {q(hires)}/feats.scp {q(hires)}/vad.scp {q(hires)}/utt2num_frames && "
            f"steps/make_mfcc.sh --nj {nj} --mfcc-config conf/sre10/mfcc_hires.conf {q(hires)} "
            f"{q(exp / 'mfcc_hires')} {q(mfcc)} && cp {q(data)}/vad.scp {q(hires)}/vad.scp && "
            f"utils/fix_data_dir.sh {q(hires)}")


@setup_step("asr")
def ensure_asr_pool(ctx: Ctx) -> Path:
    """The ASR utterances as data/sre10_asr after stage 1 (MFCC for the GMMs, hires for DNN-1), the lang dir,
    and 4,200-pseudo-senone targets per frame from the generator's true phone alignment (triphone context x
    state position hashed into 4,200 classes: the DNN's output layer has the recipe's size; stage 3's own
    alignments are not needed, so stages 4-5 do not depend on stage 3)."""
    d = ctx.inputs / "asr"
    if done(d / ".done"):
        return d
    log("setup: ASR utterances (MFCC, hires, lang, 4,200-class targets)")
    pool = ensure_pool(ctx)
    if d.exists():
        shutil.rmtree(d)
    (d / "data").mkdir(parents=True)
    src = pool / "demo" / "demo_asr"
    shutil.copytree(src, d / "data" / "asr")
    for f in ("phone_ali.txt", "phones.txt"):
        (d / "data" / "asr" / f).unlink(missing_ok=True)
    env = ctx.env
    sh(_stage1_cmd(d / "data" / "asr", d / "exp", d / "mfcc", ctx.threads), d / "log" / "mfcc.log", env)
    sh(f"python pyscripts/prepare_lang.py {q(pool / 'demo' / 'local' / 'dict_demo')} '<unk>' {q(d / 'lang')}",
       d / "log" / "lang.log", env)
    # pseudo-senone targets
    import numpy as np

    from phonsid.io import TableWriter

    ali = {}
    for line in (src / "phone_ali.txt").read_text().splitlines():
        k, *v = line.split()
        ali[k] = np.asarray([int(x) for x in v], dtype=np.int64)
    (d / "targets").mkdir()
    with TableWriter(f"ark,scp:{d / 'targets' / 'pdf_ali.ark'},{d / 'targets' / 'pdf_ali.scp'}", "int_vector") as w:
        for k in sorted(ali):
            p = ali[k]
            change = np.r_[True, p[1:] != p[:-1]]
            seg = np.cumsum(change) - 1
            starts = np.flatnonzero(change)
            seg_phone = p[starts]
            left = np.r_[0, seg_phone[:-1]][seg]
            right = np.r_[seg_phone[1:], 0][seg]
            pos = np.arange(len(p)) - starts[seg]
            length = np.diff(np.r_[starts, len(p)])[seg]
            state = np.minimum(3 * pos // np.maximum(length, 1), 2)
            w.write(k, (((left * 31 + p) * 37 + right) * 3 + state) % 4200)
    (d / "targets" / "num_pdfs").write_text("4200\n")
    mark(d / ".done")
    return d


def replicate_ali(src_scp: Path, mapping: dict[str, str], out_dir: Path, name: str = "pdf_ali") -> Path:
    """``name``.scp for the utterances of a replicated data dir (new id -> the source id's archive entry)."""
    tab = read_kv(src_scp)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_kv(out_dir / f"{name}.scp", [(u, tab[s]) for u, s in mapping.items() if s in tab])
    return out_dir / f"{name}.scp"


# ===================================================================================== components

@dataclasses.dataclass(frozen=True)
class Component:
    """A measured step. ``prep(ctx, scale)`` (untimed, in the parent) builds its inputs; ``run(ctx, scale)``
    (timed, in a fresh child process) does the work and returns the amounts processed and the paths whose bytes
    count as written."""

    stage: int
    name: str
    basis: str                 # audio_s | speech_s | frames | egs_frames | vectors | trials | calls
    what: str                  # what the row ran, for the md
    run: Callable
    prep: Callable | None = None
    flat_memory: bool = True   # memory should not grow with the slice (streaming / fixed-size models)
    network: bool = False      # a network step (GPU on the node)


COMPONENTS: list[Component] = []


def component(stage: int, name: str, basis: str, what: str, prep: Callable | None = None,
              flat_memory: bool = True, network: bool = False):
    def deco(fn):
        COMPONENTS.append(Component(stage, name, basis, what, fn, prep, flat_memory, network))
        return fn
    return deco


# ------------------------------------------------------------------------------------- stage 0

def _prep_s0(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(0, scale)
    if rd.exists():
        shutil.rmtree(rd)
    make_ldc_tree(ctx, rd / "ldc", ctx.sizes.s0_sides * scale)


@component(0, "prep", "audio_s", "local/make_sre10.py on a mock LDC tree (Switchboard-2 Phase I callstat.tbl + "
           "2-channel SPHERE calls, SRE10 eval with 2 models), then utils/validate_data_dir.sh --no-feats --no-text "
           "on the train/enroll/test dirs", prep=_prep_s0)
def run_s0(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(0, scale)
    env = ctx.env
    sh(f"python local/make_sre10.py --prefix bench {q(rd / 'ldc' / 'corpora.conf')} {q(rd / 'data')} && "
       f"for s in train enroll test; do utils/validate_data_dir.sh --no-feats --no-text "
       f"{q(rd / 'data')}/bench_$s; done",
       rd / "log" / "prep.log", env)
    sides = json.loads((ctx.inputs / "pool" / "sides.json").read_text())
    n = len(read_kv(rd / "data" / "bench_train" / "utt2spk"))
    per_side = sum(sides.values()) / len(sides)
    return {"amount": {"audio_s": n * per_side, "utts": n}, "outputs": [str(rd / "data")]}


# ------------------------------------------------------------------------------------- stage 1

def _prep_s1(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(1, scale)
    if rd.exists():
        shutil.rmtree(rd)
    conf = make_ldc_tree(ctx, rd / "ldc", ctx.sizes.s1_sides * scale)
    sh(f"python local/make_sre10.py --prefix bench {q(conf)} {q(rd / 'data')}", rd / "log" / "prep.log", ctx.env)


@component(1, "mfcc_vad", "audio_s", "steps/make_mfcc.sh --mfcc-config conf/sre10/mfcc.conf --vad-config "
           "conf/sre10/vad.conf on stage 0's data dir (audio through its SPHERE pipes) + utils/fix_data_dir.sh",
           prep=_prep_s1)
def run_s1_mfcc(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(1, scale)
    d = rd / "data" / "bench_train"
    sh(f"steps/make_mfcc.sh --nj {ctx.threads} --mfcc-config conf/sre10/mfcc.conf --vad-config conf/sre10/vad.conf "
       f"{q(d)} {q(rd / 'exp' / 'mfcc')} {q(rd / 'mfcc')} && utils/fix_data_dir.sh {q(d)}", rd / "log" / "mfcc.log",
       ctx.env)
    return {"amount": amount_of(d), "outputs": [str(rd / "mfcc")]}


@component(1, "mfcc_hires", "audio_s", "utils/copy_data_dir.sh + steps/make_mfcc.sh --mfcc-config "
           "conf/sre10/mfcc_hires.conf (40-dim ASR features) on the same dir, VAD copied, utils/fix_data_dir.sh")
def run_s1_hires(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(1, scale)
    d = rd / "data" / "bench_train"
    h = rd / "data" / "bench_train_hires"
    sh(f"utils/copy_data_dir.sh {q(d)} {q(h)} && rm -f {q(h)}/feats.scp {q(h)}/vad.scp {q(h)}/utt2num_frames && "
       f"steps/make_mfcc.sh --nj {ctx.threads} --mfcc-config conf/sre10/mfcc_hires.conf {q(h)} "
       f"{q(rd / 'exp' / 'hires')} {q(rd / 'mfcc_hires')} && cp {q(d)}/vad.scp {q(h)}/vad.scp && "
       f"utils/fix_data_dir.sh {q(h)}", rd / "log" / "hires.log", ctx.env)
    return {"amount": amount_of(h), "outputs": [str(rd / "mfcc_hires")]}


# ------------------------------------------------------------------------------------- stage 2

def _aug_dirs_cmd(ctx: Ctx, train: Path, rd: Path) -> str:
    """run.sh stage 2 up to the subset (the lazy wav.scp of the augmented copies)."""
    pool = ctx.inputs / "pool"
    demo = pool / "demo"
    rirs = pool / "rirs" / "simulated_rirs"
    t = q(train)
    return (f"python steps/data/reverberate_data_dir.py --rir-set-parameters '0.5, {rirs}/smallroom/rir_list' "
            f"--rir-set-parameters '0.5, {rirs}/mediumroom/rir_list' --speech-rvb-probability 1 "
            f"--pointsource-noise-addition-probability 0 --isotropic-noise-addition-probability 0 "
            f"--num-replications 1 --source-sampling-rate 8000 --utt-suffix reverb {t} {t}_reverb && "
            f"python steps/data/augment_data_dir.py --utt-suffix noise --fg-interval 1 --fg-snrs 15:10:5:0 "
            f"--fg-noise-dir {q(demo / 'demo_noise')} {t} {t}_noise && "
            f"python steps/data/augment_data_dir.py --utt-suffix music --bg-snrs 15:10:8:5 --num-bg-noises 1 "
            f"--bg-noise-dir {q(demo / 'demo_music')} {t} {t}_music && "
            f"python steps/data/augment_data_dir.py --utt-suffix babble --bg-snrs 20:17:15:13 "
            f"--num-bg-noises 3:4:5:6:7 --bg-noise-dir {q(demo / 'demo_speech')} {t} {t}_babble && "
            f"rm -rf {t}_aug_all {t}_aug {t}_combined && "
            f"utils/combine_data.sh {t}_aug_all {t}_reverb {t}_noise {t}_music {t}_babble && "
            f"utils/subset_data_dir.sh {t}_aug_all $(( 2 * $(wc -l < {t}/utt2spk) )) {t}_aug && "
            f"rm -f {t}_aug/feats.scp {t}_aug/vad.scp")


def _prep_s2(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(2, scale)
    if rd.exists():
        shutil.rmtree(rd)
    clean = ensure_clean_pool(ctx)
    replicate_dir(clean / "data" / "pool_train", rd / "data" / "train", ctx.sizes.s2_sides * scale, 1)


@component(2, "augment", "audio_s", "run.sh stage 2 as is: reverberate_data_dir.py (simulated RIRs) + "
           "augment_data_dir.py noise/music/babble (demo generator's sources), combine, subset to 2x the clean "
           "sides, steps/make_mfcc.sh on the augmentation pipes, VAD copied from the clean sides, fix, combine",
           prep=_prep_s2)
def run_s2(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(2, scale)
    t = rd / "data" / "train"
    sh(_aug_dirs_cmd(ctx, t, rd) + " && "
       f"steps/make_mfcc.sh --mfcc-config conf/sre10/mfcc.conf --nj {ctx.threads} {q(t)}_aug "
       f"{q(rd / 'exp' / 'mfcc_aug')} {q(rd / 'mfcc')} && "
       f"python steps/data/augment_data_dir.py --copy-vad-only {q(t)} {q(t)}_aug && "
       f"utils/fix_data_dir.sh {q(t)}_aug && utils/combine_data.sh {q(t)}_combined {q(t)}_aug {q(t)}",
       rd / "log" / "augment.log", ctx.env)
    a = amount_of(Path(str(t) + "_aug"))
    return {"amount": a, "outputs": [str(rd / "mfcc"), str(rd / "data")]}


# ------------------------------------------------------------------------------------- stage 3

@setup_step("gmm")
def ensure_gmm_models(ctx: Ctx) -> Path:
    """Untimed models for stage 3: a monophone model (steps/train_mono.sh, few iterations) on the shortest pool
    utterances, the pool aligned with it, tree statistics, questions, a tree of 4,200 leaves (build_tree.py
    --min-count lowered until the data give 4,200), one Gaussian per leaf mixed up to 40,000 (gmm_mixup.py
    --min-count 0), and the mono alignments converted to the tree: the inputs of a triphone iteration."""
    d = ctx.inputs / "gmm"
    if done(d / ".done"):
        return d
    asr = ensure_asr_pool(ctx)
    log("setup: monophone model, 4,200-leaf tree, 40,000-Gaussian triphone model")
    if d.exists():
        shutil.rmtree(d)
    env = ctx.env
    s = ctx.sizes
    data = asr / "data" / "asr"
    lang = asr / "lang"
    nj = ctx.threads
    sh(f"utils/subset_data_dir.sh --shortest {q(data)} {s.mono_train_utts} {q(d / 'mono_data')} && "
       f"steps/train_mono.sh --nj {nj} --num-iters {s.mono_iters} --max-iter-inc {max(1, s.mono_iters - 2)} "
       f"--realign-iters '{' '.join(str(i) for i in range(1, s.mono_iters))}' --totgauss 1000 "
       f"--feat-opts '--select-feats=0-12' {q(d / 'mono_data')} {q(lang)} {q(d / 'mono')} && "
       f"steps/align.sh --nj {nj} {q(data)} {q(lang)} {q(d / 'mono')} {q(d / 'mono_ali')}",
       d / "log" / "mono.log", env)
    tri = d / "tri"
    tri.mkdir()
    ci = ":".join((lang / "phones" / "context_indep.int").read_text().split())
    fopts = f"--utt2spk={data}/utt2spk " + (d / "mono_ali" / "feat_opts").read_text().strip()
    alis = " ".join(str(p) for p in sorted((d / "mono_ali").glob("ali.*.ark")))
    sh(f"acc_tree_stats.py --ci-phones={ci} {fopts} {q(d / 'mono_ali' / 'final.mdl')} scp:{q(data)}/feats.scp "
       f"'ark:cat {alis} |' {q(tri / 'treeacc')} && "
       f"cluster_phones.py {q(tri / 'treeacc')} {q(lang)}/phones/sets.int {q(tri / 'questions.int')} && "
       f"{{ [ ! -f {q(lang)}/phones/extra_questions.int ] || cat {q(lang)}/phones/extra_questions.int >> "
       f"{q(tri / 'questions.int')}; }}", d / "log" / "treeacc.log", env)
    for min_count in (20, 5, 1, 0):
        sh(f"build_tree.py --max-leaves=4200 --min-count={min_count} {q(tri / 'treeacc')} "
           f"{q(lang)}/phones/roots.int {q(tri / 'questions.int')} {q(lang)}/topo {q(tri / 'tree')}",
           d / "log" / "build_tree.log", env)
        leaves = _tree_leaves(d / "log" / "build_tree.log")
        if leaves >= 4200:
            break
    sh(f"gmm_init_model.py --write-occs={q(tri / '1.occs')} {q(tri / 'tree')} {q(tri / 'treeacc')} "
       f"{q(lang)}/topo {q(tri / '0.mdl')} && gmm_mixup.py --mix-up=40000 --power=0.25 --min-count=0 "
       f"{q(tri / '0.mdl')} {q(tri / '1.occs')} {q(tri / 'final.mdl')} && "
       f"convert_ali.py {q(d / 'mono_ali' / 'final.mdl')} {q(tri / 'final.mdl')} {q(tri / 'tree')} "
       f"'ark:cat {alis} |' ark,scp:{q(tri / 'ali.ark')},{q(tri / 'ali.scp')} && "
       f"cp {q(d / 'mono_ali' / 'feat_opts')} {q(tri / 'feat_opts')}",
       d / "log" / "tri.log", env)
    # the mono alignments as ark,scp too (slices point into them)
    from phonsid.io import TableWriter, read_table

    mono_ali = {}
    for p in sorted((d / "mono_ali").glob("ali.*.ark")):
        mono_ali.update(read_table(f"ark:{p}", "int_vector"))
    with TableWriter(f"ark,scp:{d / 'mono_ali.ark'},{d / 'mono_ali.scp'}", "int_vector") as w:
        for k in sorted(mono_ali):
            w.write(k, mono_ali[k])
    info = subprocess.run(["gmm_info.py", str(tri / "final.mdl")], cwd=REPO, env=env, capture_output=True,
                          text=True).stdout
    (d / "tri_info.txt").write_text(info + f"tree leaves: {_tree_leaves(d / 'log' / 'build_tree.log')}\n")
    mark(d / ".done")
    return d


def _tree_leaves(logfile: Path) -> int:
    import re

    m = re.findall(r"Tree has (\d+) leaves", logfile.read_text()) or re.findall(r"(\d+) leaves", logfile.read_text())
    return int(m[-1]) if m else 0


def _prep_s3(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(3, scale)
    if rd.exists():
        shutil.rmtree(rd)
    asr = ensure_asr_pool(ctx)
    g = ensure_gmm_models(ctx)
    mapping = replicate_dir(asr / "data" / "asr", rd / "data", ctx.sizes.s3_utts * scale, 10)
    replicate_ali(g / "mono_ali.scp", mapping, rd / "ali", "mono_ali")
    replicate_ali(g / "tri" / "ali.scp", mapping, rd / "ali", "tri_ali")
    sh(f"utils/split_data.sh {q(rd / 'data')} {ctx.threads}", rd / "log" / "split.log", ctx.env)
    for j in range(1, ctx.threads + 1):
        part = read_kv(rd / "data" / f"split{ctx.threads}" / str(j) / "utt2spk")
        for name in ("mono_ali", "tri_ali"):
            tab = read_kv(rd / "ali" / f"{name}.scp")
            write_kv(rd / "ali" / f"{name}.{j}.scp", [(u, tab[u]) for u in part if u in tab])


def _gmm_job(ctx: Ctx, scale: int, log_name: str, cmd: str) -> None:
    """``cmd`` with JOB as the step scripts run it: utils/run.pl JOB=1:nj over the split data dir."""
    rd = ctx.run_dir(3, scale)
    sh(f"utils/run.pl JOB=1:{ctx.threads} {q(rd / 'log' / log_name)}.JOB.log {cmd}", rd / "log" / f"{log_name}.log",
       ctx.env)


def _fopts(ctx: Ctx, scale: int, model_dir: Path) -> str:
    rd = ctx.run_dir(3, scale)
    return f"--utt2spk={rd}/data/split{ctx.threads}/JOB/utt2spk {(model_dir / 'feat_opts').read_text().strip()}"


def _s3_amount(ctx: Ctx, scale: int) -> dict:
    d = ctx.run_dir(3, scale) / "data"
    return {"audio_s": sum(float(v) for v in read_kv(d / "utt2dur").values()), "utts": len(read_kv(d / "utt2spk"))}


SCALE_OPTS = "--transition-scale=1.0 --acoustic-scale=0.1 --self-loop-scale=0.1"


@component(3, "mono_align", "audio_s", "gmm_align.py with the monophone model (1,000 Gaussians) on the ASR slice "
           "(utils/run.pl JOB=1:nj, as steps/align.sh / train_mono.sh realign)", prep=_prep_s3)
def run_s3_mono_align(ctx: Ctx, scale: int) -> dict:
    g, rd = ctx.inputs / "gmm", ctx.run_dir(3, scale)
    m = g / "mono"
    _gmm_job(ctx, scale, "mono_align", f"gmm_align.py {SCALE_OPTS} {_fopts(ctx, scale, g / 'mono_ali')} "
             f"{q(m / 'tree')} {q(m / 'final.mdl')} {q(ctx.inputs / 'asr' / 'lang')} "
             f"scp:{rd}/data/split{ctx.threads}/JOB/feats.scp {rd}/data/split{ctx.threads}/JOB/text "
             f"ark:{rd}/ali/mono_new.JOB.ark")
    return {"amount": _s3_amount(ctx, scale), "outputs": [str(p) for p in (rd / "ali").glob("mono_new.*.ark")]}


@component(3, "mono_acc", "audio_s", "gmm_acc_stats_ali.py with the monophone model (one training iteration's "
           "statistics)")
def run_s3_mono_acc(ctx: Ctx, scale: int) -> dict:
    g, rd = ctx.inputs / "gmm", ctx.run_dir(3, scale)
    _gmm_job(ctx, scale, "mono_acc", f"gmm_acc_stats_ali.py {_fopts(ctx, scale, g / 'mono_ali')} "
             f"{q(g / 'mono' / 'final.mdl')} scp:{rd}/data/split{ctx.threads}/JOB/feats.scp "
             f"scp:{rd}/ali/mono_ali.JOB.scp {rd}/mono.JOB.acc")
    return {"amount": _s3_amount(ctx, scale), "outputs": [str(p) for p in rd.glob("mono.*.acc")]}


@component(3, "tri_acc", "audio_s", "gmm_acc_stats_ali.py with the triphone model (4,200 leaves, 40,000 "
           "Gaussians, Δ+ΔΔ on 13 cepstra): one steps/train_deltas.sh iteration's statistics")
def run_s3_tri_acc(ctx: Ctx, scale: int) -> dict:
    g, rd = ctx.inputs / "gmm", ctx.run_dir(3, scale)
    _gmm_job(ctx, scale, "tri_acc", f"gmm_acc_stats_ali.py {_fopts(ctx, scale, g / 'tri')} "
             f"{q(g / 'tri' / 'final.mdl')} scp:{rd}/data/split{ctx.threads}/JOB/feats.scp "
             f"scp:{rd}/ali/tri_ali.JOB.scp {rd}/tri.JOB.acc")
    return {"amount": _s3_amount(ctx, scale), "outputs": [str(p) for p in rd.glob("tri.*.acc")]}


@component(3, "tri_est", "calls", "gmm_sum_accs.py + gmm_est.py --mix-up=40000 on those statistics: the M-step "
           "of one triphone iteration (a fixed cost per iteration)", flat_memory=True)
def run_s3_tri_est(ctx: Ctx, scale: int) -> dict:
    g, rd = ctx.inputs / "gmm", ctx.run_dir(3, scale)
    accs = " ".join(str(p) for p in sorted(rd.glob("tri.*.acc")))
    sh(f"gmm_est.py --mix-up=40000 --power=0.25 {q(g / 'tri' / 'final.mdl')} 'gmm_sum_accs.py - {accs} |' "
       f"{q(rd / 'tri_2.mdl')}", rd / "log" / "tri_est.log", ctx.env)
    return {"amount": {"calls": 1.0, **_s3_amount(ctx, scale)}, "outputs": [str(rd / "tri_2.mdl")]}


@component(3, "tri_align", "audio_s", "gmm_align.py with the triphone model (4,200 leaves, 40,000 Gaussians): one "
           "realignment (train_deltas.sh --realign-iters, steps/align.sh exp/tri1)")
def run_s3_tri_align(ctx: Ctx, scale: int) -> dict:
    g, rd = ctx.inputs / "gmm", ctx.run_dir(3, scale)
    t = g / "tri"
    _gmm_job(ctx, scale, "tri_align", f"gmm_align.py {SCALE_OPTS} {_fopts(ctx, scale, t)} {q(t / 'tree')} "
             f"{q(t / 'final.mdl')} {q(ctx.inputs / 'asr' / 'lang')} "
             f"scp:{rd}/data/split{ctx.threads}/JOB/feats.scp {rd}/data/split{ctx.threads}/JOB/text "
             f"ark:{rd}/ali/tri_new.JOB.ark")
    return {"amount": _s3_amount(ctx, scale), "outputs": [str(p) for p in (rd / "ali").glob("tri_new.*.ark")]}


# ------------------------------------------------------------------------------------- stage 4

def _bnf_train_opts(ctx: Ctx) -> str:
    return f"--use-gpu={ctx.use_gpu} --num-threads={ctx.threads}"


def _prep_dnn_data(ctx: Ctx, rd: Path, n_utts: int, feats: str) -> None:
    """A slice of the ASR utterances (``feats``: hires or bnf) with the pseudo-senone alignment dir."""
    asr = ensure_asr_pool(ctx)
    src = asr / "data" / ("asr_hires" if feats == "hires" else "asr_bnf")
    mapping = replicate_dir(src, rd / "data" / "asr", n_utts, 10, prefix="a")
    replicate_ali(asr / "targets" / "pdf_ali.scp", mapping, rd / "ali")
    shutil.copy(asr / "targets" / "num_pdfs", rd / "ali" / "num_pdfs")


def _prep_s4(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(4, scale)
    if rd.exists():
        shutil.rmtree(rd)
    clean = ensure_clean_pool(ctx)
    s = ctx.sizes
    t = rd / "data" / "train"
    replicate_dir(clean / "data" / "pool_train", t, s.s4_aug_sides * scale, 1)
    sh(_aug_dirs_cmd(ctx, t, rd), rd / "log" / "aug_dirs.log", ctx.env)
    _prep_dnn_data(ctx, rd, s.s4_train_utts * scale, "hires")
    replicate_dir(clean / "data" / "pool_train_hires", rd / "data" / "sides_hires", s.s4_extract_sides * scale, 1)


@component(4, "aug_hires", "audio_s", "run.sh stage 4's hires MFCC of the augmented copies: copy_data_dir + "
           "steps/make_mfcc.sh --mfcc-config conf/sre10/mfcc_hires.conf on the augmentation pipes (2 copies "
           "per clean side)", prep=_prep_s4)
def run_s4_aug_hires(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(4, scale)
    a, h = rd / "data" / "train_aug", rd / "data" / "train_aug_hires"
    sh(f"utils/copy_data_dir.sh {q(a)} {q(h)} && rm -f {q(h)}/feats.scp {q(h)}/vad.scp {q(h)}/utt2num_frames && "
       f"steps/make_mfcc.sh --nj {ctx.threads} --mfcc-config conf/sre10/mfcc_hires.conf {q(h)} "
       f"{q(rd / 'exp' / 'aug_hires')} {q(rd / 'mfcc_aug_hires')}", rd / "log" / "aug_hires.log", ctx.env)
    return {"amount": amount_of(h), "outputs": [str(rd / "mfcc_aug_hires")]}


def _dnn_prepare(ctx: Ctx, rd: Path, conf: str, egs: Path) -> dict:
    sh(f"nnet_bnf_prepare.py --bnf-config={conf} {q(rd / 'data' / 'asr')} {q(rd / 'ali')} {q(egs)}",
       rd / "log" / f"prepare_{egs.name}.log", ctx.env)
    d = rd / "data" / "asr"
    return {"amount": {"audio_s": sum(float(v) for v in read_kv(d / "utt2dur").values()),
                       "utts": len(read_kv(d / "utt2spk"))}, "outputs": [str(egs)]}


def _dnn_train(ctx: Ctx, rd: Path, conf: str, egs: Path, out: Path) -> dict:
    sh(f"nnet_bnf_train.py --bnf-config={conf} --set=train.num_epochs=1 {_bnf_train_opts(ctx)} {q(egs)} {q(out)}",
       rd / "log" / f"train_{out.name}.log", ctx.env)
    info = json.loads((egs / "info.json").read_text())
    frames = float(info.get("train_frames", 0))
    return {"amount": {"audio_s": frames / FPS, "frames": frames}, "outputs": [str(out)], "device": _dev(ctx)}


def _dev(ctx: Ctx) -> str:
    if ctx.device == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name()})"
    return "cpu"


@component(4, "dnn1_prepare", "audio_s", "nnet_bnf_prepare.py --bnf-config conf/bnf1.yaml: DNN-1 training frames "
           "of the ASR slice (hires MFCC, 4,200 pseudo-senone targets)")
def run_s4_prepare(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(4, scale)
    return _dnn_prepare(ctx, rd, "conf/bnf1.yaml", rd / "egs1")


@component(4, "dnn1_train", "audio_s", "nnet_bnf_train.py --bnf-config conf/bnf1.yaml (1024 wide, 7 hidden, "
           "80-dim bottleneck, 4,200 outputs): one epoch over the slice's training frames", network=True)
def run_s4_train(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(4, scale)
    return _dnn_train(ctx, rd, "conf/bnf1.yaml", rd / "egs1", rd / "bnf1")


@component(4, "bnf_extract", "audio_s", "steps/nnet/make_bottleneck_features.sh with that DNN-1 on hires MFCC of "
           "conversation sides")
def run_s4_extract(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(4, scale)
    sh(f"steps/nnet/make_bottleneck_features.sh --nj {ctx.threads} --use-gpu {ctx.use_gpu} {q(rd / 'bnf1')} "
       f"{q(rd / 'data' / 'sides_hires')} {q(rd / 'data' / 'sides_bnf')}", rd / "log" / "bnf_extract.log", ctx.env)
    return {"amount": amount_of(rd / "data" / "sides_hires"), "outputs": [str(rd / "data" / "sides_bnf" / "data")]}


@component(4, "dnn_post", "audio_s", "steps/nnet/compute_posteriors.sh with that DNN-1: 4,200 senone "
           "log-posteriors of every frame of the sides, stored (the DNN i-vector's input in run.sh at the start of "
           "issue 15)")
def run_s4_post(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(4, scale)
    sh(f"steps/nnet/compute_posteriors.sh --nj {ctx.threads} --use-gpu {ctx.use_gpu} {q(rd / 'bnf1')} "
       f"{q(rd / 'data' / 'sides_hires')} {q(rd / 'post')}", rd / "log" / "post.log", ctx.env)
    return {"amount": amount_of(rd / "data" / "sides_hires"), "outputs": [str(rd / "post")]}


@component(4, "dnn_post_pipe", "audio_s", "the DNN i-vector scripts' posterior pipe (sid/extract_ivectors_dnn.sh, "
           "train_ivector_extractor_dnn.sh, init_full_ubm_from_dnn.sh, as Kaldi's): nnet_bnf_compute.py "
           "--output=log-posteriors --vad-rspecifier (that DNN-1 on the voiced frames of the sides' hires MFCC) | "
           "logprob_to_post.py --min-post=0.025 | gzip")
def run_s4_post_pipe(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(4, scale)
    d = rd / "data" / "sides_hires"
    out = rd / "post_pipe"
    out.mkdir(parents=True, exist_ok=True)
    sh(f"nnet_bnf_compute.py --output=log-posteriors --use-gpu={ctx.use_gpu} --vad-rspecifier=scp:{q(d / 'vad.scp')} "
       f"{q(rd / 'bnf1')} scp:{q(d / 'feats.scp')} ark:- | logprob_to_post.py --min-post=0.025 ark:- "
       f"{q('ark:| gzip -c > ' + str(out / 'post.gz'))}", rd / "log" / "post_pipe.log", ctx.env)
    return {"amount": amount_of(d), "outputs": [str(out)]}


# ------------------------------------------------------------------------------------- stage 5

@setup_step("bnf")
def ensure_bnf_inputs(ctx: Ctx) -> Path:
    """Untimed: a DNN-1 of the recipe's size (conf/bnf1.yaml, weights as initialised: extraction costs the same)
    and its bottleneck features of the ASR pool and of the pool sides (DNN-2's inputs)."""
    d = ctx.inputs / "bnf"
    if done(d / ".done"):
        return d
    asr, clean = ensure_asr_pool(ctx), ensure_clean_pool(ctx)
    log("setup: DNN-1 (initialised) and its BNFs of the ASR utterances and the sides")
    if d.exists():
        shutil.rmtree(d)
    (d / "bnf1").mkdir(parents=True)
    import torch

    from phonsid.nnet.bnf import BottleneckDNN, load_bnf_config, save_bnf_model

    torch.manual_seed(0)
    cfg = load_bnf_config(REPO / "conf" / "bnf1.yaml", [])
    save_bnf_model(d / "bnf1" / "final.pt", BottleneckDNN(40, 4200, cfg.input, cfg.model).eval())
    env = ctx.env
    sh(f"steps/nnet/make_bottleneck_features.sh --nj {ctx.threads} {q(d / 'bnf1')} "
       f"{q(asr / 'data' / 'asr_hires')} {q(asr / 'data' / 'asr_bnf')} {q(d / 'log_asr')} {q(d / 'data_asr')} && "
       f"steps/nnet/make_bottleneck_features.sh --nj {ctx.threads} {q(d / 'bnf1')} "
       f"{q(clean / 'data' / 'pool_train_hires')} {q(clean / 'data' / 'pool_train_bnf')} {q(d / 'log_sides')} "
       f"{q(d / 'data_sides')}", d / "log" / "bnf.log", env)
    mark(d / ".done")
    return d


def _prep_s5(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(5, scale)
    if rd.exists():
        shutil.rmtree(rd)
    ensure_bnf_inputs(ctx)
    _prep_dnn_data(ctx, rd, ctx.sizes.s5_train_utts * scale, "bnf")
    replicate_dir(ctx.inputs / "clean" / "data" / "pool_train_bnf", rd / "data" / "sides_bnf",
                  ctx.sizes.s5_extract_sides * scale, 1)


@component(5, "sbnf_prepare", "audio_s", "nnet_bnf_prepare.py --bnf-config conf/sbnf.yaml: DNN-2 frames of the "
           "ASR slice's DNN-1 BNFs (per-speaker MVN, splice -10..10 by 5)", prep=_prep_s5)
def run_s5_prepare(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(5, scale)
    return _dnn_prepare(ctx, rd, "conf/sbnf.yaml", rd / "egs_sbnf")


@component(5, "sbnf_train", "audio_s", "nnet_bnf_train.py --bnf-config conf/sbnf.yaml (1024 wide, 6 hidden, "
           "4,200 outputs): one epoch", network=True)
def run_s5_train(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(5, scale)
    return _dnn_train(ctx, rd, "conf/sbnf.yaml", rd / "egs_sbnf", rd / "sbnf")


def _prep_s5_mt(ctx: Ctx, scale: int) -> None:
    """Untimed: the MT-SBNF frames (their preparation costs as sbnf_prepare's)."""
    rd = ctx.run_dir(5, scale)
    sh(f"nnet_bnf_prepare.py --bnf-config=conf/mt_sbnf.yaml {q(rd / 'data' / 'asr')} {q(rd / 'ali')} "
       f"{q(rd / 'egs_mt')}", rd / "log" / "prepare_mt.log", ctx.env)


@component(5, "mt_sbnf_train", "audio_s", "nnet_bnf_train.py --bnf-config conf/mt_sbnf.yaml (SBNF + a speaker "
           "softmax on hidden layer 6, weight 0.3): one epoch (its frames prepared untimed)", prep=_prep_s5_mt,
           network=True)
def run_s5_mt_train(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(5, scale)
    return _dnn_train(ctx, rd, "conf/mt_sbnf.yaml", rd / "egs_mt", rd / "mt_sbnf")


@component(5, "sbnf_extract", "audio_s", "steps/nnet/make_bottleneck_features.sh with the SBNF DNN-2 on the "
           "sides' DNN-1 BNFs")
def run_s5_extract(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(5, scale)
    sh(f"steps/nnet/make_bottleneck_features.sh --nj {ctx.threads} --use-gpu {ctx.use_gpu} {q(rd / 'sbnf')} "
       f"{q(rd / 'data' / 'sides_bnf')} {q(rd / 'data' / 'sides_sbnf')}", rd / "log" / "sbnf_extract.log", ctx.env)
    return {"amount": amount_of(rd / "data" / "sides_bnf"), "outputs": [str(rd / "data" / "sides_sbnf" / "data")]}



# ------------------------------------------------------------------------------------- stage 6

@setup_step("ivector")
def ensure_ivector_models(ctx: Ctx) -> Path:
    """Untimed: a 2,048-Gaussian diagonal UBM (gmm_global_init_from_feats.py, one in-memory iteration), its
    full-covariance form, and an initial 600-dim i-vector extractor (ivector_extractor_init.py)."""
    d = ctx.inputs / "ivector"
    if done(d / ".done"):
        return d
    clean = ensure_clean_pool(ctx)
    log("setup: 2,048-Gaussian UBM and 600-dim extractor")
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    # enough voiced frames for 2,048 Gaussians (10 per Gaussian): the pool's sides, repeated if it is small
    per_side = amount_of(clean / "data" / "pool_train")
    per_side = per_side.get("speech_s", 1.0) * FPS / max(per_side["utts"], 1.0)
    data = d / "data"
    replicate_dir(clean / "data" / "pool_train", data, max(ctx.sizes.pool_sides, math.ceil(40_000 / per_side)), 1)
    feat_opts = "--delta-window=2 --delta-order=2 --cmn-window=300"
    (d / "delta_opts").write_text("--delta-window=2 --delta-order=2\n")
    (d / "cmn_opts").write_text("--cmn-window=300\n")
    sh(f"gmm_global_init_from_feats.py --num-threads={ctx.threads} --num-frames=100000 --num-gauss=2048 "
       f"--num-gauss-init=2048 --num-iters=1 --vad-rspecifier=scp:{data}/vad.scp {feat_opts} "
       f"scp:{data}/feats.scp {q(d / 'final.dubm')} && gmm_global_to_fgmm.py {q(d / 'final.dubm')} "
       f"{q(d / 'final.ubm')} && ivector_extractor_init.py --ivector-dim=600 --use-weights=false "
       f"{q(d / 'final.ubm')} {q(d / 'final.ie')}", d / "log" / "init.log", ctx.env)
    mark(d / ".done")
    return d


def _prep_s6(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(6, scale)
    if rd.exists():
        shutil.rmtree(rd)
    ensure_ivector_models(ctx)
    replicate_dir(ctx.inputs / "clean" / "data" / "pool_train", rd / "data", ctx.sizes.s6_sides * scale, 1)
    sh(f"utils/split_data.sh {q(rd / 'data')} {ctx.threads}", rd / "log" / "split.log", ctx.env)


def _iv_opts(ctx: Ctx, scale: int) -> str:
    rd = ctx.run_dir(6, scale)
    return (f"--vad-rspecifier=scp:{rd}/data/split{ctx.threads}/JOB/vad.scp --delta-window=2 --delta-order=2 "
            f"--cmn-window=300 --use-gpu=no")


@component(6, "ubm_post", "speech_s", "sid_ubm_post.py --n=20 --min-post=0.025: Gaussian selection with the "
           "2,048 diagonal UBM + full-covariance posteriors (sid/train_ivector_extractor.sh stage -1), MFCC+Δ+ΔΔ, "
           "sliding CMN, voiced frames", prep=_prep_s6)
def run_s6_post(ctx: Ctx, scale: int) -> dict:
    d, rd = ctx.inputs / "ivector", ctx.run_dir(6, scale)
    sh(f"utils/run.pl JOB=1:{ctx.threads} {rd}/log/post.JOB.log sid_ubm_post.py --n=20 --min-post=0.025 "
       f"--num-threads=1 {_iv_opts(ctx, scale)} {q(d / 'final.dubm')} {q(d / 'final.ubm')} "
       f"scp:{rd}/data/split{ctx.threads}/JOB/feats.scp \"ark:|gzip -c >{rd}/post.JOB.gz\"",
       rd / "log" / "post.log", ctx.env)
    return {"amount": amount_of(rd / "data"), "outputs": [str(p) for p in rd.glob("post.*.gz")]}


@component(6, "ivec_acc", "speech_s", "ivector_extractor_acc_stats.py (2,048 x 600): one E-step pass of "
           "sid/train_ivector_extractor.sh on those posteriors")
def run_s6_acc(ctx: Ctx, scale: int) -> dict:
    d, rd = ctx.inputs / "ivector", ctx.run_dir(6, scale)
    sh(f"utils/run.pl JOB=1:{ctx.threads} {rd}/log/acc.JOB.log ivector_extractor_acc_stats.py --num-threads=1 "
       f"--num-samples-for-weights=3 --batch-size=64 {_iv_opts(ctx, scale)} {q(d / 'final.ie')} "
       f"scp:{rd}/data/split{ctx.threads}/JOB/feats.scp 'ark,s,cs:gunzip -c {rd}/post.JOB.gz|' {rd}/acc.JOB && "
       f"ivector_extractor_sum_accs.py {' '.join(f'{rd}/acc.{j}' for j in range(1, ctx.threads + 1))} {rd}/acc",
       rd / "log" / "acc.log", ctx.env)
    return {"amount": amount_of(rd / "data"), "outputs": [str(rd / "acc")]}


@component(6, "ivec_est", "calls", "ivector_extractor_est.py (2,048 x 600, --num-threads as --threads, "
           "--gaussian-min-count=1 so that (nearly) every Gaussian is updated as with the full corpus): the M-step "
           "of one "
           "extractor iteration (a fixed cost per iteration)")
def run_s6_est(ctx: Ctx, scale: int) -> dict:
    d, rd = ctx.inputs / "ivector", ctx.run_dir(6, scale)
    sh(f"ivector_extractor_est.py --num-threads={ctx.threads} --gaussian-min-count=1 --use-gpu=no "
       f"{q(d / 'final.ie')} {rd}/acc "
       f"{rd}/1.ie", rd / "log" / "est.log", ctx.env)
    return {"amount": {"calls": 1.0, **amount_of(rd / "data")}, "outputs": [str(rd / "1.ie")]}


@component(6, "ivec_extract", "speech_s", "sid/extract_ivectors.sh (posteriors piped into ivector_extract.py, "
           "speaker means) with the 2,048/600 extractor")
def run_s6_extract(ctx: Ctx, scale: int) -> dict:
    d, rd = ctx.inputs / "ivector", ctx.run_dir(6, scale)
    sh(f"sid/extract_ivectors.sh --nj {ctx.threads} {q(d)} {q(rd / 'data')} {q(rd / 'ivectors')}",
       rd / "log" / "extract.log", ctx.env)
    return {"amount": amount_of(rd / "data"), "outputs": [str(rd / "ivectors")]}


# ------------------------------------------------------------------------------------- stage 7

def _prep_s7(ctx: Ctx, scale: int) -> None:
    rd = ctx.run_dir(7, scale)
    if rd.exists():
        shutil.rmtree(rd)
    src = ensure_clean_pool(ctx) / "data" / "pool_train"
    n_spk = ctx.sizes.s7_speakers * scale
    replicate_dir(src, rd / "data" / "train", n_spk * SPK_PER_SPEAKER, SPK_PER_SPEAKER)
    replicate_dir(src, rd / "data" / "sides", ctx.sizes.s7_extract_sides * scale, 1, prefix="e")


def _egs_opts(ctx: Ctx, scale: int) -> str:
    n_spk = ctx.sizes.s7_speakers * scale
    return (f"--num-heldout-utts {n_spk} --frames-per-iter 1000000000 --frames-per-iter-diagnostic 100000 "
            f"--min-frames-per-chunk 200 --max-frames-per-chunk 400 --num-diagnostic-archives 3 --num-repeats 50")


@component(7, "egs_feats", "speech_s", "sid/nnet/prepare_feats_for_egs.sh --min-len 500 --min-num-utts 8 (sliding "
           "CMN, silence removed, written) on the x-vector training slice (8 sides per speaker)", prep=_prep_s7)
def run_s7_feats(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(7, scale)
    sh(f"sid/nnet/prepare_feats_for_egs.sh --nj {ctx.threads} --min-len 500 --min-num-utts 8 "
       f"{q(rd / 'data' / 'train')} {q(rd / 'data' / 'train_no_sil')} {q(rd / 'feats_no_sil')}",
       rd / "log" / "feats.log", ctx.env)
    return {"amount": amount_of(rd / "data" / "train"), "outputs": [str(rd / "feats_no_sil")]}


def _egs_frames(egs: Path) -> float:
    import numpy as np

    total = 0.0
    for p in egs.glob("egs.*.feats.npy"):
        a = np.load(p, mmap_mode="r")
        total += float(a.shape[0] * a.shape[1])
    return total


@component(7, "get_egs", "egs_frames", "sid/nnet/get_egs.sh with conf/sre10/corpus.sh's egs options (--num-repeats 50, "
           "--frames-per-iter 1e9, chunks 200-400; --num-heldout-utts = speakers of the slice)")
def run_s7_egs(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(7, scale)
    sh(f"sid/nnet/get_egs.sh --nj {ctx.threads} {_egs_opts(ctx, scale)} {q(rd / 'data' / 'train_no_sil')} "
       f"{q(rd / 'nnet' / 'egs')}", rd / "log" / "egs.log", ctx.env)
    return {"amount": {"egs_frames": _egs_frames(rd / "nnet" / "egs"), **amount_of(rd / "data" / "train")},
            "outputs": [str(rd / "nnet" / "egs")]}


@component(7, "xvec_train", "egs_frames", "sid/nnet/train_xvector.sh with conf/xvector.yaml (512/1500 TDNN, "
           "minibatch 64) for one epoch of those egs (train.num_epochs=1)", network=True)
def run_s7_train(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(7, scale)
    opts = "train.num_epochs=1 train.diagnostic_interval=100000 train.checkpoint_interval=100000"
    sh(f"sid/nnet/train_xvector.sh --use-gpu {ctx.use_gpu} --xvector-opts {q(opts)} {q(rd / 'nnet' / 'egs')} "
       f"{q(rd / 'nnet')}", rd / "log" / "train.log", ctx.env)
    return {"amount": {"egs_frames": _egs_frames(rd / "nnet" / "egs")},
            "outputs": [str(rd / "nnet" / "final.pt")], "device": _dev(ctx)}


@component(7, "xvec_extract", "speech_s", "sid/nnet/extract_xvectors.sh with that network on conversation sides "
           "(chunks up to 10,000 frames)", network=True)
def run_s7_extract(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(7, scale)
    gpu = "true" if ctx.device == "cuda" else "false"
    sh(f"sid/nnet/extract_xvectors.sh --nj {ctx.threads} --use-gpu {gpu} {q(rd / 'nnet')} {q(rd / 'data' / 'sides')} "
       f"{q(rd / 'xvectors')}", rd / "log" / "extract.log", ctx.env)
    return {"amount": amount_of(rd / "data" / "sides"), "outputs": [str(rd / "xvectors")], "device": _dev(ctx)}


# ------------------------------------------------------------------------------------- stage 8

def _prep_s8(ctx: Ctx, scale: int) -> None:
    """Synthetic 512-dim embeddings (speaker + session Gaussians) for PLDA training (``s8_vectors`` x scale, 10
    per speaker), an enrolment and a test set, and trials between them (``s8_trials`` x scale)."""
    import numpy as np

    from phonsid.io import TableWriter

    rd = ctx.run_dir(8, scale)
    if rd.exists():
        shutil.rmtree(rd)
    rng = np.random.default_rng(scale)
    dim = 512
    n_train = ctx.sizes.s8_vectors * scale
    trials = ctx.sizes.s8_trials * scale
    n_models = max(2, int(math.sqrt(trials / 4)))
    n_tests = max(2, trials // n_models)

    def vectors(name: str, keys: list[str], spk: list[int]) -> None:
        centres = {}
        (rd / name).mkdir(parents=True)
        with TableWriter(f"ark,scp:{rd / name / 'xvector.ark'},{rd / name / 'xvector.scp'}", "vector") as w:
            for k, s in zip(keys, spk):
                if s not in centres:
                    centres[s] = rng.standard_normal(dim) * 2.0
                w.write(k, (centres[s] + rng.standard_normal(dim)).astype(np.float32))

    spk = [i // 10 for i in range(n_train)]
    keys = [f"t{s:06d}-{i:07d}" for i, s in enumerate(spk)]
    vectors("train_vec", keys, spk)
    write_kv(rd / "train" / "utt2spk", [(k, f"t{s:06d}") for k, s in zip(keys, spk)])
    write_kv(rd / "train" / "spk2utt", spk2utt_of(dict((k, f"t{s:06d}") for k, s in zip(keys, spk))))
    models = [f"m{i:06d}" for i in range(n_models)]
    ekeys = [f"{m}-enr" for m in models]
    vectors("enroll_vec", ekeys, list(range(n_models)))
    write_kv(rd / "enroll" / "utt2spk", [(k, m) for k, m in zip(ekeys, models)])
    write_kv(rd / "enroll" / "spk2utt", [(m, k) for k, m in zip(ekeys, models)])
    tkeys = [f"x{i:07d}" for i in range(n_tests)]
    vectors("test_vec", tkeys, [int(rng.integers(0, n_models)) for _ in tkeys])
    with open(rd / "trials", "w") as f:
        for m_i, m in enumerate(models):
            for t in tkeys:
                f.write(f"{m} {t} {'target' if rng.random() < 0.01 else 'nontarget'}\n")
    (rd / "small_trials").write_text(f"{models[0]} {tkeys[0]} target\n{models[1]} {tkeys[0]} nontarget\n")


@component(8, "plda_train", "vectors", "sid/score_plda.sh --lda-dim 150 (mean, LDA, PLDA with 10 EM iterations, "
           "enrolment, 2 trials, EER/minDCF) on synthetic 512-dim x-vectors, 10 per speaker", prep=_prep_s8,
           flat_memory=False)
def run_s8_train(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(8, scale)
    sh(f"sid/score_plda.sh --lda-dim 150 {q(rd / 'train')} {q(rd / 'train_vec')} {q(rd / 'enroll')} "
       f"{q(rd / 'enroll_vec')} {q(rd / 'test_vec')} {q(rd / 'small_trials')} {q(rd / 'scores')}",
       rd / "log" / "train.log", ctx.env)
    return {"amount": {"vectors": float(ctx.sizes.s8_vectors * scale)}, "outputs": [str(rd / "scores")]}


@component(8, "plda_score", "trials", "sid/score_plda.sh --stage 3 with that PLDA: enrolment means, "
           "ivector_plda_scoring.py of the trial list, EER and minDCF")
def run_s8_score(ctx: Ctx, scale: int) -> dict:
    rd = ctx.run_dir(8, scale)
    sh(f"sid/score_plda.sh --stage 3 --lda-dim 150 {q(rd / 'train')} {q(rd / 'train_vec')} {q(rd / 'enroll')} "
       f"{q(rd / 'enroll_vec')} {q(rd / 'test_vec')} {q(rd / 'trials')} {q(rd / 'scores')}",
       rd / "log" / "score.log", ctx.env)
    n = sum(1 for _ in open(rd / "trials"))
    return {"amount": {"trials": float(n)}, "outputs": [str(rd / "scores" / "scores")]}


# ===================================================================================== measuring

def child_main(spec_path: str) -> int:
    """In a fresh process: runs one component, writes cpu/wall/peak RSS/bytes/amounts to spec['result']."""
    spec = json.loads(Path(spec_path).read_text())
    ctx = Ctx.from_json(spec["ctx"])
    sys.path.insert(0, str(REPO / "pyscripts"))
    comp = next(c for c in COMPONENTS if c.stage == spec["stage"] and c.name == spec["component"])
    if ctx.device != "cuda":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    c0 = time.process_time()
    k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = comp.run(ctx, spec["scale"])
    wall = time.perf_counter() - t0
    k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (time.process_time() - c0) + (k1.ru_utime - k0.ru_utime) + (k1.ru_stime - k0.ru_stime)
    rss_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, k1.ru_maxrss)
    res = {"cpu_s": cpu, "wall_s": wall, "peak_rss_mb": rss_kb / 1024.0,
           "disk_bytes": dir_bytes(Path(p) for p in out.get("outputs", [])),
           "amount": out.get("amount", {}), "device": out.get("device", "cpu")}
    Path(spec["result"]).write_text(json.dumps(res))
    return 0


def measure(ctx: Ctx, comp: Component, scale: int) -> dict:
    """prep (untimed) then the component in a child process; returns the child's result."""
    if comp.prep:
        comp.prep(ctx, scale)
    rd = ctx.run_dir(comp.stage, scale)
    rd.mkdir(parents=True, exist_ok=True)
    spec = {"ctx": ctx.to_json(), "stage": comp.stage, "component": comp.name, "scale": scale,
            "result": str(rd / f".result_{comp.name}.json")}
    spec_path = rd / f".spec_{comp.name}.json"
    spec_path.write_text(json.dumps(spec))
    logfile = rd / "log" / f"child_{comp.name}.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    # Through a shell that forks the child (the '; exit' keeps it from exec-ing it): a process started straight
    # from this one inherits this process's peak RSS as its own (Linux folds the forked address space's high-water
    # mark into ru_maxrss at exec), and this one has grown while building the inputs.
    child = f"{q(sys.executable)} {q(Path(__file__).resolve())} --_child {q(spec_path)}; exit $?"
    with open(logfile, "w") as f:
        r = subprocess.run(["/bin/sh", "-c", child], cwd=REPO, env=ctx.env, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"stage {comp.stage} {comp.name} x{scale} failed (log {logfile}):\n{tail}")
    return json.loads(Path(spec["result"]).read_text())


# ===================================================================================== JSON and md

def load_json(path: Path) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    return {"records": [], "meta": {}}


def merge_records(data: dict, new: Sequence[dict]) -> dict:
    """Replaces the records of the same (stage, component, tag, scale) by the new ones."""
    keys = {(r["stage"], r["component"], r["tag"], r["scale"]) for r in new}
    kept = [r for r in data.get("records", []) if (r["stage"], r["component"], r["tag"], r["scale"]) not in keys]
    data["records"] = sorted(kept + list(new), key=lambda r: (r["stage"], r["tag"], r["component"], r["scale"]))
    return data


def summarise(records: Sequence[dict], tag: str) -> dict:
    """Per (stage, component) of ``tag``: CPU seconds per slice, the fitted exponents, the cost model (fixed +
    per unit, ``fit_linear`` over the slices), the throughput at the largest slice, peak RSS, bytes per audio
    hour; per stage the sums over its components (a fixed-cost component measured once counts at every scale)."""
    comps: dict[tuple[int, str], list[dict]] = {}
    for r in records:
        if r["tag"] == tag and not r.get("error") and math.isfinite(r.get("cpu_s", float("nan"))):
            comps.setdefault((r["stage"], r["component"]), []).append(r)
    out: dict = {"components": {}, "stages": {}}
    for (stage, name), rs in sorted(comps.items()):
        rs = sorted(rs, key=lambda r: r["scale"])
        meta = next((c for c in COMPONENTS if c.stage == stage and c.name == name), None)
        basis = meta.basis if meta else rs[-1].get("basis", "audio_s")
        big = rs[-1]
        units = [r["amount"].get(basis, 1.0 if basis == "calls" else 0.0) for r in rs]
        cpu = [r["cpu_s"] for r in rs]
        audio = big["amount"].get("audio_s") or (big["amount"].get("speech_s", 0.0) * SIDE_SECONDS / SIDE_SPEECH)
        if basis == "calls":
            a, b = sum(cpu) / len(cpu), 0.0
        else:
            a, b = fit_linear(units, cpu)
        gpu = big.get("device", "cpu").startswith("cuda")
        ga, gb = fit_linear(units, [r["wall_s"] for r in rs]) if gpu else (0.0, 0.0)
        rss = [r["peak_rss_mb"] for r in rs]
        out["components"][(stage, name)] = {
            "basis": basis, "scales": [r["scale"] for r in rs], "cpu_s": cpu, "wall_s": [r["wall_s"] for r in rs],
            "rss_mb": rss, "units": units, "device": big.get("device", "cpu"),
            "rate": units[-1] / cpu[-1] if cpu[-1] > 0 else float("nan"),
            "cost": Cost(a, b, max(rss)), "gpu_cost": Cost(ga, gb, 0.0) if gpu else None,
            "peak_rss_mb": max(rss),
            "bytes_per_hour": big["disk_bytes"] / (audio / 3600.0) if audio else float("nan"),
            "fixed_disk": basis == "calls" or (len(rs) > 1 and rs[0]["disk_bytes"] > 1e6 and
                                               fit_exponent([r["scale"] for r in rs],
                                                            [r["disk_bytes"] for r in rs]) < 0.3),
            "t_exp": fit_exponent([r["scale"] for r in rs], cpu),
            "m_exp": fit_exponent([r["scale"] for r in rs], rss),
            "flat_memory": meta.flat_memory if meta else True, "amount": big["amount"], "audio_s": audio,
            "disk_bytes": big["disk_bytes"], "when": big.get("when", ""),
        }
    for stage in sorted({s for s, _ in out["components"]}):
        cs = [v for (s, _), v in out["components"].items() if s == stage]
        scales = sorted(set().union(*[set(c["scales"]) for c in cs if c["basis"] != "calls"]) or {1})

        def at(c, k, key):
            if c["basis"] == "calls":
                return c[key][0]
            return c[key][c["scales"].index(k)] if k in c["scales"] else float("nan")

        cpu = [sum(at(c, k, "cpu_s") for c in cs) for k in scales]
        rss = [max(at(c, k, "rss_mb") for c in cs) for k in scales]
        out["stages"][stage] = {"scales": scales, "cpu_s": cpu, "rss_mb": rss,
                                "t_exp": fit_exponent(scales, cpu), "m_exp": fit_exponent(scales, rss),
                                "peak_rss_mb": max(rss) if rss else float("nan"),
                                "disk_bytes": sum(c["disk_bytes"] for c in cs if not c.get("fixed_disk")),
                                "audio_s": max((c["audio_s"] for c in cs if c["audio_s"]), default=0.0)}
    return out


STAGE_NAMES = {0: "data prep", 1: "MFCC + VAD, hires MFCC", 2: "augmentation", 3: "GMM-HMM (mono, tri 4,200/40k)",
               4: "DNN-1 + BNF", 5: "DNN-2 (SBNF, MT-SBNF)", 6: "i-vector 2,048/600", 7: "x-vector 512/1500",
               8: "LDA/PLDA back end"}
BASIS_LABEL = {"audio_s": "audio", "speech_s": "speech", "egs_frames": "egs frames", "vectors": "vectors",
               "trials": "trials", "calls": "per call"}


def fmt_per(basis: str, per_unit_s: float) -> str:
    """A cost per unit as a throughput: x real time (audio, speech, egs frames at 100/s) or units/s."""
    if not per_unit_s or per_unit_s <= 0 or not math.isfinite(per_unit_s):
        return "—"
    r = 1.0 / per_unit_s
    if basis == "egs_frames":
        r /= FPS
    if basis in ("audio_s", "speech_s", "egs_frames"):
        return f"{r:,.2f}x" if r < 10 else f"{r:,.1f}x" if r < 100 else f"{r:,.0f}x"
    return f"{r:,.0f}/s"


def fmt_rate(c: dict) -> str:
    if c["basis"] == "calls":
        return f"{c['cost'].fixed_s:,.1f} CPU-s/call"
    return fmt_per(c["basis"], 1.0 / c["rate"] if c["rate"] else float("nan"))


def fmt(x: float, nd: int = 2) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.{nd}f}"


def flags_of(c: dict) -> list[str]:
    out = []
    if c["basis"] != "calls" and math.isfinite(c["t_exp"]) and c["t_exp"] > GROWTH_FLAG:
        out.append(f"time grows x^{c['t_exp']:.2f}")
    if c["flat_memory"] and math.isfinite(c["m_exp"]) and c["m_exp"] > MEMORY_FLAG and \
            c["rss_mb"][-1] - c["rss_mb"][0] > MEMORY_FLAG_MB:
        out.append(f"memory grows x^{c['m_exp']:.2f}")
    return out


def _disk_cell(c: dict) -> str:
    """Bytes per hour of audio, or per job where the output does not grow with the slice (statistics, models)."""
    if c.get("fixed_disk"):
        return f"{c['disk_bytes'] / 1e9:.2f} GB per job"
    return f"{c['bytes_per_hour'] / 1e9:.3f} GB" if math.isfinite(c["bytes_per_hour"]) else "—"


def _cpu_cell(c: dict) -> str:
    return " / ".join(f"{x:.1f}" for x in c["cpu_s"]) + (" (once)" if c["basis"] == "calls" else "")


def stage_throughput(summ: dict, stage: int) -> str:
    """Basis | throughput of a whole stage where its rows share one slice and basis (stage 1: the sides' audio,
    3: the ASR audio, 6: the sides' speech ...): the slice's units per CPU-second of all its rows at the largest
    slice (fixed-cost rows included); else 'per row'."""
    cs = [(n, c) for (s, n), c in summ["components"].items() if s == stage]
    var = [(n, c) for n, c in cs if c["basis"] != "calls"]
    if not var or len({SLICE_OF.get(n, (n, ""))[0] for n, _ in var}) != 1 or len({c["basis"] for _, c in var}) != 1:
        return "per row | per row"
    big = max(var[0][1]["scales"])
    if any(big not in c["scales"] for _, c in var):
        return "per row | per row"
    units = var[0][1]["units"][var[0][1]["scales"].index(big)]
    cpu = sum(c["cpu_s"][c["scales"].index(big)] if c["basis"] != "calls" else c["cpu_s"][0] for _, c in cs)
    basis = var[0][1]["basis"]
    return f"{BASIS_LABEL.get(basis, basis)} | **{fmt_per(basis, cpu / units)}**"


def render_md(data: dict, w: PaperWorkload, gpu_speedup: float) -> str:
    meta = data.get("meta", {})
    recs = data.get("records", [])
    after = summarise(recs, "after")
    before = summarise(recs, "before")
    quick = meta.get("quick", False)
    failed = [r for r in recs if r.get("error")]
    L: list[str] = []
    L.append("# Cost of the recipe at full model sizes"
             + (" — QUICK MODE (tiny slices: development only, not a measurement)" if quick else ""))
    L.append("")
    L.append(f"Written by `bench/scale.py` from `{meta.get('json_name', 'scale.json')}` (re-render: "
             f"`python bench/scale.py --render{' --quick' if quick else ''}`). Machine: {meta.get('machine', '?')}; "
             f"jobs/threads per step: {meta.get('threads', 1)}; device: {meta.get('device', 'cpu')}; last run "
             f"{meta.get('when', '?')} ({meta.get('last_run_s', '?')} s; load average at its start "
             f"{meta.get('load', '?')}: CPU times are robust to a shared machine, wall times are not). "
             + ("GPU rows measured on the GPU (per GPU: units per wall-second)." if meta.get("device") == "cuda" else
                "No CUDA device was used: every row is CPU; GPU throughput is not measured (run with "
                "`--device cuda` on a GPU machine), and the projection's GPU rows are CPU-derived."))
    L.append("")
    L.append("Sizes: full-covariance UBM 2,048 + 600-dim i-vectors; triphone GMM-HMM "
             f"{meta.get('tri_info', '4,200 leaves / 40,000 Gaussians')}; DNN-1/DNN-2 1024 wide (conf/bnf1.yaml, "
             "sbnf.yaml, mt_sbnf.yaml) with 4,200 outputs; x-vector 512/1500 TDNN (conf/xvector.yaml), chunks "
             "200-400 frames. Data: generated 8 kHz telephone conversation sides (the demo generator's speech, "
             f"~{meta.get('side_speech_s', SIDE_SPEECH):.0f} s per side, with pauses of the channel's noise floor up "
             f"to ~{meta.get('side_audio_s', SIDE_SECONDS):.0f} s, 2-channel SPHERE read through the recipe's pipes) "
             "and ASR utterances of 3-8 s with transcripts; slices beyond the generated pool repeat its content "
             "under new ids (no cost here depends on the content).")
    L.append("")
    L.append("Columns: **CPU s**: user + system seconds of every process of the step at the 1x/2x/4x slices. "
             "**Throughput**: units of the basis per CPU-second at the largest slice, i.e. x real time per core "
             "for audio/speech (training rows: one epoch of their data; egs frames at 100/s). **Marginal** / "
             "**fixed**: the cost model fitted over the slices (CPU-s = fixed per job + units / marginal rate), "
             "used for the projection. **Peak RSS**: the largest process. **Disk/h**: bytes written per hour of "
             "the slice's audio (speech rows: per hour of the sides the speech came from), or per job where the "
             "output does not grow with the slice (statistics, models; left out of the stage's figure). "
             "**t-exp / m-exp**: "
             "least-squares slope of log CPU time / log peak RSS against log slice size (1.0 = linear, 0 = "
             f"constant), flagged when time grows faster than x^{GROWTH_FLAG} or memory grows (> x^{MEMORY_FLAG}) "
             "where it should not depend on the corpus.")
    L.append("")
    has_before = bool(before["components"])
    head = ("| stage | step | ran | basis | throughput | " + ("before | " if has_before else "")
            + "marginal | fixed CPU-s | CPU s (1x/2x/4x) | peak RSS MB | disk/h | t-exp | m-exp | flags |")
    L.append(head)
    L.append("|" + "---|" * (head.count("|") - 1))
    all_flags: list[str] = []
    nb = 1 if has_before else 0
    for stage in range(9):
        st = after["stages"].get(stage)
        if st is None:
            L.append(f"| **{stage}** | **{STAGE_NAMES[stage]}** | not measured |" + " |" * (10 + nb))
            continue
        st_flags = []
        if math.isfinite(st["t_exp"]) and st["t_exp"] > GROWTH_FLAG:
            st_flags.append(f"time x^{st['t_exp']:.2f}")
        bst = before["stages"].get(stage)
        disk = st["disk_bytes"] / 1e9 / (st["audio_s"] / 3600.0) if st["audio_s"] else float("nan")
        L.append(f"| **{stage}** | **{STAGE_NAMES[stage]}** | the rows below | {stage_throughput(after, stage)} | "
                 + (("CPU s " + " / ".join(f"{x:.1f}" for x in bst["cpu_s"]) + " | ") if has_before and bst else
                    ("| " if has_before else ""))
                 + f"| | **{' / '.join(f'{x:.1f}' for x in st['cpu_s'])}** | **{st['peak_rss_mb']:,.0f}** | "
                 f"{fmt(disk, 2) + ' GB' if math.isfinite(disk) else '—'} | **{fmt(st['t_exp'])}** | "
                 f"**{fmt(st['m_exp'])}** | {'; '.join(st_flags)} |")
        order = [x.name for x in COMPONENTS if x.stage == stage]
        for (s, name), c in sorted(after["components"].items(),
                                   key=lambda kv: order.index(kv[0][1]) if kv[0][1] in order else 99):
            if s != stage:
                continue
            comp = next((x for x in COMPONENTS if x.stage == s and x.name == name), None)
            b = before["components"].get((s, name))
            fl = flags_of(c)
            if fl:
                all_flags.append(f"stage {s} {name}: {', '.join(fl)}")
            dev = "" if c["device"] == "cpu" else f" ({c['device']})"
            cost = c["cost"]
            L.append(f"| {s} | {name}{dev} | {comp.what if comp else ''} | {BASIS_LABEL.get(c['basis'], c['basis'])} "
                     f"| {fmt_rate(c)} | " + ((fmt_rate(b) + " | ") if has_before and b else
                                            ("| " if has_before else ""))
                     + (f"{fmt_per(c['basis'], cost.per_unit_s)} | {cost.fixed_s:,.1f} | " if c["basis"] != "calls"
                        else "— | — | ")
                     + f"{_cpu_cell(c)} | {c['peak_rss_mb']:,.0f} | {_disk_cell(c)} | "
                     f"{fmt(c['t_exp']) if c['basis'] != 'calls' else '—'} | "
                     f"{fmt(c['m_exp']) if c['basis'] != 'calls' else '—'} | {'; '.join(fl)} |")
    L.append("")
    if failed:
        L.append("**Failed measurements** (see the JSON for the log tails): "
                 + ", ".join(sorted({f"stage {r['stage']} {r['component']} x{r['scale']} ({r['tag']})"
                                     for r in failed})))
        L.append("")
    L.append("### Growth flags")
    L.append("")
    if all_flags:
        for f in all_flags:
            key = f.split(":")[0].split()[-1]
            L.append(f"- {f}: {why(f.split(': ', 1)[1], key)}")
    else:
        L.append(f"- none: no step's time grows faster than x^{GROWTH_FLAG}, no corpus-independent step's memory "
                 "grows with the slice.")
    L.append("- Fixed-cost rows (M-steps, marked once) are measured on the 1x slice only; their cost does not depend "
             "on the data. x-vector egs and training grow with the speakers of the slice (50 chunks per speaker per "
             "archive), not its hours. Small slices carry start-up costs (Python, torch import, model loading, "
             "fixed-size statistics), so the exponents of rows with a large fixed cost come out well below 1; the "
             "marginal rate is their cost per unit once that is paid.")
    big = [f"stage {s} {n} ({c['peak_rss_mb'] / 1024:.1f} GB)" for (s, n), c in after["components"].items()
           if c["peak_rss_mb"] > 2048]
    if big:
        L.append("- Memory per job above 2 GB (whatever the corpus; it limits the jobs per node, see the projection): "
                 + ", ".join(big) + ".")
    L.append("")
    # ------------------------------------------------------------------------------- projection
    costs = {n: c["cost"] for (s, n), c in after["components"].items()}
    gpu_costs = {n: c["gpu_cost"] for (s, n), c in after["components"].items() if c["gpu_cost"]}
    proj = project(workload_items(w), costs, gpu_costs, w, gpu_speedup)
    tot = stage_totals(proj)
    comp_of = {n: c for (_, n), c in after["components"].items()}
    any_gpu = bool(gpu_costs)
    L.append("## Projection: the paper's SRE10 workload")
    L.append("")
    L.append(f"CPU cost = jobs x fixed CPU-s + amount / marginal rate, from the rows above; wall-hours on one node "
             f"of {w.cores} cores, {w.node_ram_gb:.0f} GB RAM and {w.gpus} GPUs, stages one after another: CPU steps "
             f"run {w.cores} jobs side by side (fewer where their peak RSS does not fit in RAM: column 'jobs'), "
             f"the threaded single-job steps (i-vector M-step, PLDA) on {w.threads_serial} threads, the "
             "single-threaded ones (data prep, DNN frame preparation, GMM M-step) on one, network training "
             f"and x-vector extraction on the {w.gpus} GPUs ("
             + ("GPU rows measured on " + ", ".join(sorted({c['device'] for c in after['components'].values()
                                                             if c['device'] != 'cpu'})) if any_gpu else
                f"no GPU was measured: GPU rows are **CPU-derived**, one GPU = {gpu_speedup:g} CPU cores at the "
                "measured CPU cost, an assumption; measure with `--device cuda` on a GPU machine")
             + "). Rows whose time grows faster than linearly (flags above) are under-estimated.")
    L.append("")
    L.append("| stage | what | amount x passes | measured as | jobs | core-h | GPU-h | wall-h | disk kept |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for stage in range(9):
        for p in (p for p in proj if p.item.stage == stage):
            it = p.item
            comp = next((x for x in COMPONENTS if x.name == it.component), None)
            basis = comp.basis if comp else ""
            amt = (f"{it.amount / 3600:,.0f} h" if basis in ("audio_s", "speech_s") else
                   f"{it.amount / 1e9:,.2f} G frames" if basis == "egs_frames" else
                   "1 call" if basis == "calls" else f"{it.amount:,.0f} {basis}")
            c = comp_of.get(it.component)
            rate = (f"{it.component}: {fmt_per(basis, c['cost'].per_unit_s)} + {c['cost'].fixed_s:.0f} s/job"
                    if c and basis != "calls" else f"{it.component}: {fmt_rate(c)}" if c else
                    f"{it.component}: not measured")
            L.append(f"| {stage} | {it.what} | {amt} x {it.passes:g}"
                     + (f" x {it.factor:.2f}" if it.factor != 1 else "") + f" | {rate} | "
                     + (str(p.parallel) if p.parallel else "") + " | "
                     + (f"{p.core_hours:,.1f}" if not p.missing else "—") + " | "
                     + (f"{p.gpu_hours:,.1f} ({p.gpu_source})" if p.gpu_hours else "") + " | "
                     + (f"{p.wall_hours:,.2f}" if not p.missing else "—") + " | "
                     + _tb(item_disk_bytes(it, comp_of.get(it.component))) + " |")
        t = tot.get(stage)
        if t:
            disk = sum_disk((p for p in proj if p.item.stage == stage), comp_of)
            L.append(f"| **{stage}** | **{STAGE_NAMES[stage]}** | | | | **{t['core_hours']:,.0f}**"
                     + (f" ({t['missing']} not measured)" if t["missing"] else "") + " | "
                     + (f"**{t['gpu_hours']:,.0f}**" if t["gpu_hours"] else "") + f" | **{t['wall_hours']:,.1f}** | "
                     + (f"**{_tb(disk)}**" if disk else "") + " |")
    t = tot.get(-1, {"core_hours": float("nan"), "gpu_hours": 0, "wall_hours": float("nan"), "missing": 0})
    L.append(f"| **total** | **stages 0-8** | | | | **{t['core_hours']:,.0f}**"
             + (f" ({t['missing']} items not measured)" if t["missing"] else "") + f" | **{t['gpu_hours']:,.0f}** | "
             f"**{t['wall_hours']:,.1f} h = {t['wall_hours'] / 24:.1f} days** | **{_tb(sum_disk(proj, comp_of))}** |")
    L.append("")
    L.append("'disk kept': the tables a step writes and the recipe keeps (features, BNFs, posteriors), at the "
             "measured bytes per hour of audio; models, statistics, egs lists and logs are left out.")
    L.append("")
    L += before_after_md(w, costs, gpu_costs, gpu_speedup)
    L.append("### Assumptions of the projection")
    L.append("")
    for a in assumptions(w, gpu_speedup):
        L.append(f"- {a}")
    L.append("")
    return "\n".join(L) + "\n"


EXPLAIN = {
    "plda_train": "LDA/PLDA hold every training vector in memory (Kaldi's do too): memory grows with the corpus "
                  "by design, ~2 KB per 512-dim vector, ~110 MB for the paper's 54,450.",
    "dnn_post": "compute_posteriors.sh batches up to --batch-frames (20,000) frames of 4,200 log-posteriors "
                "(~340 MB): memory grows with the slice until a batch is full, then stays flat; grows beyond "
                "that only if outputs are kept.",
    "bnf_extract": "extraction batches up to --batch-frames frames: memory grows with the slice only until a batch "
                   "is full.",
    "sbnf_extract": "as bnf_extract.",
    "dnn_post_pipe": "nnet_bnf_compute.py batches utterances up to --batch-frames (20,000) frames and keeps a "
                     "batch's 4,200 log-posteriors per voiced frame (up to ~340 MB) until it is written: memory "
                     "grows with the slice until a batch is full, then stays flat (each 5-minute side is 30,000 "
                     "frames); with path.sh's malloc settings a process also keeps the largest block it freed.",
    "ubm_post": "small (x^0.17) and not investigated: under path.sh's malloc settings a process keeps the memory it "
                "freed, so RSS follows the largest temporaries of the posterior computation, not the slice.",
    "xvec_train": "one epoch of the slice's egs, which grow with its speakers; the trainer memory-maps the "
                  "archives, and RSS counts the file pages it has touched (page cache, reclaimable): it grows with "
                  "the egs up to their size, anonymous memory does not.",
    "dnn1_train": "the trainer memory-maps the frames (train.preload applies on GPU only): RSS counts the file "
                  "pages touched (page cache, reclaimable), so it grows with the corpus up to the frames' size "
                  "(2,300 h of 40-dim float32: ~130 GB) while anonymous memory stays flat; on a busy node those "
                  "pages compete with the other jobs' page cache.",
    "sbnf_train": "as dnn1_train (80-dim BNF frames of 319 h: ~9 GB mapped).",
    "mt_sbnf_train": "as dnn1_train.",
    "mono_align": "the GMM-HMM feature pipeline (phonsid.hmm.feats.FeaturePipeline.read) reads the job's whole "
                  "feature table before it yields anything, because speaker CMN needs all of a speaker's "
                  "utterances, and gmm_align.py then compiles every graph and aligns in length-sorted batches; so "
                  "memory is the job's share of the corpus: ~72 h per job for 2,300 h over 32 jobs (~4 GB of "
                  "features). Not fixed yet: Kaldi computes CMVN statistics per speaker first (compute-cmvn-stats) "
                  "and streams apply-cmvn; two passes over re-readable tables (scp/ark files) would do the same "
                  "here. Until then, more jobs (--nj) bound it.",
    "tri_align": "as mono_align (the same gmm_align.py and feature pipeline).",
    "mono_acc": "as mono_align: gmm_acc_stats_ali.py reads its features through the same pipeline, which holds the "
                "job's table for speaker CMN.",
    "tri_acc": "as mono_acc.",
    "plda_score": "EER and minDCF sort every score of the trial list, so they hold all of them (as Kaldi's "
                  "compute-eer does): memory is linear in the trials, not in the vectors; the scoring itself "
                  "streams the list in blocks.",
    "get_egs": "the allocation and archives grow with the slice's speakers (50 chunks each per archive).",
}
GENERIC_WHY = {
    "time": "superlinear: the cost per unit rises with the slice (look for work over all pairs, sorting, or "
            "re-reading earlier data); the projection, linear in the amount, under-estimates it.",
    "memory": "this step streams utterance by utterance, so its memory should not depend on the slice: something "
              "is kept per utterance (buffered outputs, caches, lists of results) or a buffer is still filling up "
              "at these sizes (check with a larger --scales).",
}


def why(flag: str, name: str) -> str:
    if name in EXPLAIN:
        return EXPLAIN[name]
    return GENERIC_WHY["time" if flag.startswith("time") else "memory"]


KEPT_OUTPUTS = {"mfcc_vad", "mfcc_hires", "augment", "aug_hires", "bnf_extract", "dnn_post", "sbnf_extract",
                "egs_feats"}


def item_disk_bytes(it: Item, c: dict | None) -> float:
    """Bytes of the tables a projected item writes and the recipe keeps: the component's measured bytes per hour
    of audio x the item's audio hours x its passes (each pass a separate output: SBNF and MT-SBNF); NaN for
    items that keep nothing per hour (models, statistics, alignments overwritten on every pass)."""
    if it.component not in KEPT_OUTPUTS or not c or c.get("fixed_disk") or \
            not math.isfinite(c.get("bytes_per_hour", float("nan"))):
        return float("nan")
    hours = it.amount / 3600.0 * (SIDE_SECONDS / SIDE_SPEECH if c["basis"] == "speech_s" else 1.0)
    return c["bytes_per_hour"] * hours * it.passes


def sum_disk(projected: Iterable[ProjectedItem], comp_of: dict[str, dict]) -> float:
    """The kept bytes of several projected items (those that keep nothing per hour count 0); ``comp_of``: the
    measured components by name."""
    return sum(d for d in (item_disk_bytes(p.item, comp_of.get(p.item.component)) for p in projected)
               if math.isfinite(d))


def _tb(nbytes: float) -> str:
    if not math.isfinite(nbytes) or nbytes <= 0:
        return ""
    return f"{nbytes / 1e12:,.1f} TB" if nbytes >= 1e12 else f"{nbytes / 1e9:,.0f} GB"


def before_after_md(w: PaperWorkload, costs: dict[str, Cost], gpu_costs: dict[str, Cost],
                    gpu_speedup: float) -> list[str]:
    """The projection of the recipe at the start of issue 15 next to today's, at today's measured rates: the
    stages whose work run.sh changed since (RECIPES)."""
    now = stage_totals(project(workload_items(w), costs, gpu_costs, w, gpu_speedup))
    then = stage_totals(project(workload_items(w, "issue-start"), costs, gpu_costs, w, gpu_speedup))
    L = ["### Before / after: the recipe's work", "",
         f"'before': {RECIPES['issue-start']}; 'after': {RECIPES['current']}. Both at the rates measured above, so "
         "the difference is the work run.sh asks for; the code made faster during the issue is measured elsewhere "
         "(stage 2's pipes: bench/results/stage2_piped.md; stage 6's extractor statistics: "
         "`python bench/ivector.py`).", "",
         "| stage | core-h before | core-h after | wall-h before | wall-h after | wall speed-up |",
         "|---|---|---|---|---|---|"]
    for stage in [s for s in range(9) if s in now and s in then] + [-1]:
        a, b = then[stage], now[stage]
        if stage != -1 and abs(a["wall_hours"] - b["wall_hours"]) < 1e-9:
            continue
        name = "total" if stage == -1 else f"{stage} ({STAGE_NAMES[stage]})"
        speedup = a["wall_hours"] / b["wall_hours"] if b["wall_hours"] > 0 else float("nan")
        L.append(f"| {name} | {a['core_hours']:,.0f} | {b['core_hours']:,.0f} | {a['wall_hours']:,.1f} | "
                 f"{b['wall_hours']:,.1f} | {fmt(speedup)}x |")
    L.append("")
    return L


def assumptions(w: PaperWorkload, gpu_speedup: float) -> list[str]:
    comb = 1 + w.aug_ratio
    egs = {n: xvector_egs_frames((w.train_speech_s if n == "mfcc" else comb * w.train_speech_s) * FPS, w.speakers,
                                 w.xvector_repeats, w.xvector_frames_per_iter, w.xvector_chunk)
           for n in ("mfcc", "mfcc_aug")}
    return [
        f"Speaker side: {w.train_sessions:,} sessions (paper) of {w.side_audio_s / 60:.0f} min audio with "
        f"{w.side_speech_s / 60:.1f} min speech each (Kaldi's sre10/sre16 recipes' conversation sides): "
        f"{w.train_audio_s / 3600:,.0f} h audio, {w.train_speech_s / 3600:,.0f} h speech; {w.speakers:,} speakers.",
        f"Augmentation: {w.aug_ratio}x the clean sides (run.sh aug_ratio={w.aug_ratio}); train_combined = clean + "
        f"augmented = {comb}x; the augmented copies are read through their pipes twice (MFCC in stage 2, hires MFCC "
        "in stage 4), as run.sh does.",
        f"SRE10 extended core-core (assumed, not from the key): {w.enroll_sides:,} enrolment and {w.test_sides:,} "
        f"test sides of the same length, {w.trials:,} trials.",
        f"ASR data: {w.asr_hours:,.0f} h Fisher + SWBD-1 (stage 3 GMM-HMM and DNN-1, all frames), "
        f"{w.asr2_hours:,.0f} h "
        f"SWBD-1 (DNN-2); monophones on the {w.mono_utts:,} shortest utterances of ~{w.mono_utt_s:g} s; "
        f"{FPS} frames per second everywhere; data prep of the ASR side (transcripts) is not measured.",
        f"GMM-HMM: {w.senones:,} leaves / 40,000 Gaussians; steps/train_mono.sh: {w.mono_acc_passes} statistics "
        f"and {w.mono_align_passes} alignment passes; steps/train_deltas.sh: {w.tri_acc_passes} statistics passes "
        f"(34 iterations + tree statistics at the same rate), {w.tri_align_passes} triphone alignments (3 realigns + "
        "steps/align.sh tri1_ali + the mono_ali pass at the mono rate); tree building and mixing up not counted.",
        f"DNNs: {w.dnn_epochs} epochs (conf/bnf1.yaml, sbnf.yaml, mt_sbnf.yaml) over all frames of their data "
        "(the 10% validation speakers not subtracted); training rate = one measured epoch of the slice.",
        f"i-vectors: 3 systems; UBM training = {w.ubm_passes} E-M passes on every {w.ubm_subsample}th frame at the "
        "measured full-UBM posterior rate (Gaussian selection + full-covariance likelihoods dominate both; the "
        "in-memory diagonal initialisation is not counted); "
        f"{w.ivector_iters} extractor iterations (sid/train_ivector_extractor.sh default), each one E-step pass "
        "over the training speech and one M-step (measured once, fixed); the BNF system costs as the MFCC one "
        "(80- vs 60-dim features, not measured); the DNN system's i-vector terms scale with its 4,200 senone "
        f"components (x{w.dnn_ivector_factor:.2f}); its posteriors come from stage 4.",
        f"x-vectors: 5 systems (MFCC on clean, MFCC+aug, BNF, SBNF, MT-SBNF on train_combined); egs per epoch from "
        f"get_egs.sh's allocation with --num-repeats {w.xvector_repeats}, --frames-per-iter "
        f"{w.xvector_frames_per_iter:.0e}, mean chunk {w.xvector_chunk:.0f}: {egs['mfcc'] / 1e9:.1f} G frames (clean), "
        f"{egs['mfcc_aug'] / 1e9:.1f} G frames (combined); {w.xvector_epochs} epochs; all speakers kept by the "
        "filters. 80-dim inputs cost the frame layers' multiply-adds ratio "
        f"(x{xvector_frame_macs(80) / xvector_frame_macs(20):.2f}); the output layer (speakers) is <1% of the "
        "multiply-adds per chunk, so the slice's few speakers do not change the rate.",
        f"Back end: {w.backend_systems} systems, PLDA training linear in the vectors (measured on synthetic 512-dim "
        "vectors), scoring linear in the trials.",
        f"Node: {w.cores} cores, {w.gpus} GPUs; CPU steps parallelise perfectly over the cores (nj = {w.cores}, "
        "each job paying the step's fixed CPU-s on every pass); "
        f"threaded single-job steps run on {w.threads_serial} threads at perfect speed-up; RAM {w.node_ram_gb:.0f} GB "
        "caps the jobs side by side (peak RSS per job as measured); network training over the "
        f"{w.gpus} GPUs with DDP at linear speed-up; "
        + (f"GPU rate = {gpu_speedup:g} x the CPU core rate where no GPU was measured." if gpu_speedup else ""),
        "Disk, I/O bandwidth and job start-up on the node are not modelled; stages run one after another.",
    ]


# ===================================================================================== driver

# How each component's slice is sized (Sizes field) and what one slice unit is: a side (audio or speech of
# side_*_s), an ASR utterance, or a count (speakers, vectors, trials); "fixed": does not depend on the slice.
SLICE_OF = {
    "prep": ("s0_sides", "side_audio"), "mfcc_vad": ("s1_sides", "side_audio"),
    "mfcc_hires": ("s1_sides", "side_audio"), "augment": ("s2_sides", "side_audio"),
    "mono_align": ("s3_utts", "count"), "mono_acc": ("s3_utts", "count"), "tri_acc": ("s3_utts", "count"),
    "tri_est": ("s3_utts", "fixed"), "tri_align": ("s3_utts", "count"),
    "aug_hires": ("s4_aug_sides", "side_audio"), "dnn1_prepare": ("s4_train_utts", "count"),
    "dnn1_train": ("s4_train_utts", "count"), "bnf_extract": ("s4_extract_sides", "side_audio"),
    "dnn_post": ("s4_extract_sides", "side_audio"), "dnn_post_pipe": ("s4_extract_sides", "side_audio"),
    "sbnf_prepare": ("s5_train_utts", "count"),
    "sbnf_train": ("s5_train_utts", "count"), "mt_sbnf_train": ("s5_train_utts", "count"),
    "sbnf_extract": ("s5_extract_sides", "side_audio"), "ubm_post": ("s6_sides", "side_speech"),
    "ivec_acc": ("s6_sides", "side_speech"), "ivec_est": ("s6_sides", "fixed"),
    "ivec_extract": ("s6_sides", "side_speech"), "egs_feats": ("s7_speakers", "side_speech"),
    "get_egs": ("s7_speakers", "count"), "xvec_train": ("s7_speakers", "count"),
    "xvec_extract": ("s7_extract_sides", "side_speech"), "plda_train": ("s8_vectors", "count"),
    "plda_score": ("s8_trials", "count"),
}
# setup inputs: which sizes their work grows with
SETUP_OF = {
    "pool": lambda z: z.pool_sides * z.side_speech_s + z.pool_asr_utts * 5.5,
    "clean": lambda z: z.pool_sides * z.side_audio_s,
    "asr": lambda z: z.pool_asr_utts,
    "gmm": lambda z: z.pool_asr_utts * z.mono_iters,
    "bnf": lambda z: z.pool_asr_utts * 5.5 + z.pool_sides * z.side_audio_s,
    "ivector": lambda z: 1.0,
}


def unit_ratio(name: str, src: Sizes, dst: Sizes) -> float:
    """How many times more work one 1x slice of ``dst`` is than one of ``src`` for component ``name``."""
    key, unit = SLICE_OF[name]
    if unit == "fixed":
        return 0.0
    r = getattr(dst, key) / getattr(src, key)
    if unit == "side_audio":
        r *= dst.side_audio_s / src.side_audio_s
    elif unit == "side_speech":
        r *= dst.side_speech_s / src.side_speech_s
    return r


def estimate_seconds(data: dict, src: Sizes, dst: Sizes, scales: Sequence[int] = SCALES) -> dict[str, float]:
    """CPU seconds a run with slice sizes ``dst`` would take, from the cost models measured with ``src``
    (``tag`` after): per component, over ``scales`` (fixed-cost components once), plus the setup steps scaled
    by their inputs; 'total'. One job at a time (--threads 1), so on an idle machine wall ~ CPU."""
    summ = summarise(data.get("records", []), "after")
    out: dict[str, float] = {}
    for (stage, name), c in summ["components"].items():
        cost = c["cost"]
        if SLICE_OF.get(name, ("", "count"))[1] == "fixed" or c["basis"] == "calls":
            out[f"{stage} {name}"] = cost.fixed_s + cost.per_unit_s
            continue
        unit1 = c["units"][0] / c["scales"][0] * unit_ratio(name, src, dst)
        out[f"{stage} {name}"] = sum(cost.fixed_s + cost.per_unit_s * unit1 * k for k in scales)
    for name, sec in data.get("meta", {}).get("setup_s", {}).items():
        grow = SETUP_OF.get(name, lambda z: 1.0)
        out[f"setup {name}"] = sec * grow(dst) / max(grow(src), 1e-9)
    out["total"] = sum(out.values())
    return out


def machine() -> str:
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "?"
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--_child"]:
        return child_main(argv[1])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny slices (development): scale_quick.{json,md}")
    p.add_argument("--stages", default="0,1,2,3,4,5,6,7,8", help="stages to measure (comma-separated)")
    p.add_argument("--components", default="", help="only these components (comma-separated names)")
    p.add_argument("--tag", default="after", choices=["before", "after"],
                   help="store the measurements under this tag (the md shows 'before' as a column)")
    p.add_argument("--threads", type=int, default=1, help="jobs and threads per step (default 1)")
    p.add_argument("--scales", default=",".join(str(s) for s in SCALES), help="slice multiples (default 1,2,4)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="networks on cuda (stages 4, 5, 7)")
    p.add_argument("--work", type=Path, default=None, help="scratch dir (default /tmp/phonsid_scale[_quick])")
    p.add_argument("--out", type=Path, default=None, help="results prefix (default bench/results/scale[_quick])")
    p.add_argument("--keep", action="store_true", help="keep the measured outputs under <work>/runs")
    p.add_argument("--render", action="store_true", help="only re-render the md from the JSON")
    p.add_argument("--gpu-speedup", type=float, default=100.0,
                   help="CPU-derived GPU rows: one GPU = this many CPU cores (default 100)")
    p.add_argument("--list", action="store_true", help="print the components and slice sizes, then exit")
    a = p.parse_args(argv)
    sizes = QUICK_SIZES if a.quick else DEFAULT_SIZES
    suffix = "_quick" if a.quick else ""
    out = a.out or (RESULTS / f"scale{suffix}")
    json_path, md_path = out.with_suffix(".json"), out.with_suffix(".md")
    w = PaperWorkload()
    stages = sorted({int(s) for s in a.stages.split(",") if s.strip()})
    wanted = [c for c in COMPONENTS if c.stage in stages and (not a.components or c.name in a.components.split(","))]
    scales = [int(s) for s in a.scales.split(",")]
    if a.list:
        print(json.dumps(dataclasses.asdict(sizes), indent=1))
        for c in wanted:
            print(f"stage {c.stage} {c.name:14s} [{c.basis}] {c.what}")
        return 0
    data = load_json(json_path)
    if not a.render:
        if a.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                print("scale.py: --device cuda but no CUDA device", file=sys.stderr)
                return 1
        work = (a.work or Path(f"/tmp/phonsid_scale{suffix}")).resolve()
        ctx = Ctx(work, sizes, a.threads, a.device, a.quick)
        sys.path.insert(0, str(REPO / "pyscripts"))
        os.environ.update({k: v for k, v in ctx.env.items() if k in ("PATH", "PYTHONPATH", "LC_ALL")})
        t_start = time.time()
        load = os.getloadavg()[0]
        new = []
        for stage in stages:
            for scale in scales:
                for comp in (c for c in wanted if c.stage == stage):
                    if comp.basis == "calls" and scale != scales[0]:
                        continue  # a fixed cost: measured on the first slice only
                    log(f"stage {stage} {comp.name} x{scale} ...")
                    try:
                        res = measure(ctx, comp, scale)
                    except Exception as e:  # noqa: BLE001 - a failed row is recorded and the bench goes on
                        log(f"FAILED: {e}")
                        res = {"error": str(e)[-2000:], "cpu_s": float("nan"), "wall_s": float("nan"),
                               "peak_rss_mb": float("nan"), "disk_bytes": 0, "amount": {}}
                    rec = {"stage": stage, "component": comp.name, "tag": a.tag, "scale": scale,
                           "basis": comp.basis, "threads": a.threads, "mode": "quick" if a.quick else "default",
                           "when": datetime.datetime.now().isoformat(timespec="seconds"), **res}
                    new.append(rec)
                    if not rec.get("error"):
                        log(f"  cpu {res['cpu_s']:.1f} s, wall {res['wall_s']:.1f} s, "
                            f"peak RSS {res['peak_rss_mb']:.0f} MB, {res['disk_bytes'] / 1e6:.1f} MB written")
                    data = merge_records(data, [rec])
                    json_path.parent.mkdir(parents=True, exist_ok=True)
                    json_path.write_text(json.dumps(data, indent=1, default=str))
                if not a.keep:
                    shutil.rmtree(ctx.run_dir(stage, scale), ignore_errors=True)
        setup = dict(data.get("meta", {}).get("setup_s", {}))
        setup.update({k: round(v, 1) for k, v in SETUP_SECONDS.items()})
        tri_info = ctx.inputs / "gmm" / "tri_info.txt"
        data["meta"] = {**data.get("meta", {}), "machine": machine(), "threads": a.threads, "device": a.device,
                        "when": time.strftime("%Y-%m-%d %H:%M"), "load": f"{load:.1f}", "quick": a.quick,
                        "scales": scales, "json_name": json_path.name, "side_speech_s": sizes.side_speech_s,
                        "side_audio_s": sizes.side_audio_s, "sizes": dataclasses.asdict(sizes),
                        "last_run_s": round(time.time() - t_start), "setup_s": setup}
        if tri_info.is_file():
            data["meta"]["tri_info"] = _tri_summary(tri_info.read_text())
        json_path.write_text(json.dumps(data, indent=1, default=str))
        log(f"measured in {time.time() - t_start:.0f} s")
    text = render_md(data, w, a.gpu_speedup)
    if a.quick:
        est = estimate_seconds(data, QUICK_SIZES, DEFAULT_SIZES)
        lines = [f"| {k} | {v / 60:.1f} |" for k, v in sorted(est.items(), key=lambda kv: -kv[1]) if k != "total"]
        text += ("\n## Estimated duration of the default run (from these quick measurements)\n\n"
                 "Each component's fitted cost (fixed + per unit) applied to the default slices at 1x/2x/4x, "
                 "fixed-cost rows once, setup steps scaled by their inputs; one job at a time, so on an idle "
                 "machine wall ~ CPU. Quick slices are too small to pin the per-unit costs down: read it as "
                 f"a rough figure.\n\n**Total: {est['total'] / 60:.0f} min**\n\n| part | min |\n|---|---|\n"
                 + "\n".join(lines) + "\n")
        log(f"estimated default run: {est['total'] / 60:.0f} min of CPU (see {md_path})")
    md_path.write_text(text)
    print_summary(data, w, a.gpu_speedup)
    log(f"wrote {md_path}")
    return 0


def print_summary(data: dict, w: PaperWorkload, gpu_speedup: float) -> None:
    """The stage rows and the projected total on stdout (the md has everything)."""
    summ = summarise(data.get("records", []), "after")
    tot = stage_totals(project(workload_items(w), {n: c["cost"] for (_, n), c in summ["components"].items()},
                               {n: c["gpu_cost"] for (_, n), c in summ["components"].items() if c["gpu_cost"]},
                               w, gpu_speedup))
    print(f"{'stage':<34s} {'CPU s at 1x/2x/4x':>24s} {'t-exp':>6s} {'m-exp':>6s} {'peak RSS MB':>12s} "
          f"{'paper core-h':>13s} {'wall-h':>7s}")
    for stage, st in sorted(summ["stages"].items()):
        t = tot.get(stage, {})
        print(f"{stage} {STAGE_NAMES[stage]:<32s} {' / '.join(f'{x:.1f}' for x in st['cpu_s']):>24s} "
              f"{fmt(st['t_exp']):>6s} {fmt(st['m_exp']):>6s} {st['peak_rss_mb']:>12,.0f} "
              f"{t.get('core_hours', float('nan')):>13,.0f} {t.get('wall_hours', float('nan')):>7,.1f}")
    t = tot.get(-1, {})
    print(f"total (paper's SRE10 workload, {w.cores} cores + {w.gpus} GPUs): {t.get('core_hours', float('nan')):,.0f} "
          f"core-h, {t.get('wall_hours', float('nan')):,.1f} h wall; threads per step "
          f"{data.get('meta', {}).get('threads', 1)}, {os.cpu_count()} CPUs")


def _tri_summary(info: str) -> str:
    import re

    pdfs = re.search(r"pdfs\s+(\d+)", info)
    gauss = re.search(r"gaussians\s+(\d+)", info)
    leaves = re.search(r"tree leaves: (\d+)", info)
    return (f"{(pdfs or leaves).group(1) if (pdfs or leaves) else '?'} leaves / "
            f"{gauss.group(1) if gauss else '?'} Gaussians")


if __name__ == "__main__":
    sys.exit(main())
