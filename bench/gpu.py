#!/usr/bin/env python3
"""Accelerator benchmark of the recipe's network and i-vector code: throughput, peak GPU memory and model FLOP
utilisation (MFU) per row, the same rows on this machine's CPU for the ratio; writes <out>.md and <out>.json.

Rows (each through the library's own code, on synthetic data made in memory; full sizes of the sre10 recipe):

- x-vector training (conf/xvector.yaml: 512/1500 TDNN, 80-dim input as the paper's MT-SBNF x-vector, 3,769
  speakers, minibatch 64 x 300 frames), bf16 autocast and fp32: the trainer's step (``setup_amp``, ``KaldiSGD``
  with the trainer's max-change groups, its per-step bookkeeping) on tensors already on the device
  ("loader-less"); the full loop (``train_xvector`` on an egs dir written by ``build_egs_dir``: memory-mapped
  float16 archives, the prefetch thread, pinned host-to-device copies); the egs loader alone (+ H2D copy).
- bottleneck DNN training (conf/bnf1.yaml: 440 -> 5 x 1024, 80 bottleneck, 1024 -> 4,200 senones, minibatch
  256), bf16 and fp32 loader-less (``train_bnf``'s optimizer and step), and the full loop (``train_bnf`` on a frame
  set written by ``FrameSetWriter``; on CUDA it preloads the frames into GPU memory).
- x-vector extraction (``XvectorExtractor.embed_prepared``: utterances of 3,000-15,000 frames, Kaldi's chunking).
- i-vector chain at UBM 2,048 full-covariance / i-vector 600 / 60-dim features, batches of 64 sides of 6,000-18,000
  frames: UBM posteriors (``ubm_posteriors_batch``, gselect 20, min-post 0.025), Baum-Welch statistics
  (``batch_stats``), extraction (``batch_stats`` + ``extract_ivectors``, as ivector_extract.py) and the extractor's
  E-step (second-order statistics + ``StatsAccumulator.add``).
- PLDA scoring (``PldaScorer(engine="torch")``, 150 dims, a 1,000 x 2,000 trial grid per step).

Timing: warm-up steps, then steps in growing groups with ``torch.cuda.synchronize()`` after each group until the
row's time (``--row-seconds``) is spent; throughput = units / seconds. Full loops report the trainer's own
throughput over its last half (diagnostics of the steady block). Peak memory: ``torch.cuda.max_memory_allocated``
over the row (set-up included). FLOPs are counted from the layer shapes (2 x multiply-adds forward, x3 for a
training step); MFU = achieved FLOP/s over the card's dense bf16 peak (datasheet table below, ``--peak-tflops``
for others), also for the fp32 rows. CPU rows: networks and PLDA with ``--cpu-threads`` (default all cores),
i-vector rows with one thread (the anchor of the ">= 50x one core" target); "x CPU" divides a CUDA row's
throughput by its CPU row's (bf16 rows by the fp32 CPU row: autocast is GPU-only in this code).

Usage:
  bash bench/gpu.sh                                    # on the CUDA machine: bench/results/gpu.{md,json}, < 8 min
  python bench/gpu.py --device cuda --budget-s 420 --out bench/results/gpu.md
  python bench/gpu.py --device cpu --quick             # tiny sizes: every row's code path on the CPU (the test)
Options: --rows a,b (only these rows), --row-seconds S, --cpu-row-seconds S, --cpu-threads N, --no-cpu (no CPU
ratio rows), --peak-tflops T (bf16 dense peak when the card is not in the table).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import datetime
import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pyscripts"))

# Only modules without kaldiio & co. at import time: the i-vector and back-end rows import theirs when they run,
# so a machine without those wheels still measures the networks (the rows say what is missing).
from phonsid.nnet.bnf import BottleneckDNN, load_bnf_config  # noqa: E402
from phonsid.nnet.frames import FrameSetWriter  # noqa: E402
from phonsid.nnet.prefetch import Prefetcher  # noqa: E402
from phonsid.nnet.train_bnf import _make_optimizer, _opt_step, train_bnf  # noqa: E402  (the trainer's own step)
from phonsid.nnet.train_xvector import load_xvector_config, train_xvector  # noqa: E402
from phonsid.nnet.training import DistContext, KaldiSGD, per_step_shrink, setup_amp  # noqa: E402
from phonsid.nnet.xvector import XvectorTDNN  # noqa: E402
from phonsid.nnet.xvector_egs import EgsArchive, build_egs_dir  # noqa: E402
from phonsid.nnet.xvector_extract import XvectorExtractor, plan_chunks  # noqa: E402

RESULTS = REPO / "bench" / "results"

#: Dense (no sparsity) bf16 tensor-core peaks in TFLOP/s from NVIDIA's datasheets, matched as substrings of
#: torch.cuda.get_device_name in this order (more specific names first: "GH200" holds "H200", "L40S" holds "L4").
PEAK_BF16_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("GH200", 989.4),
    ("H200", 989.4),
    ("H100", 989.4),    # SXM5, reported as "NVIDIA H100 80GB HBM3"
    ("A100", 312.0),
    ("L40S", 362.1),
    ("L40", 181.0),
    ("L4", 121.0),
)

TARGET_XVEC_MFU = 0.30          # x-vector training, bf16, full size
TARGET_IVEC_CPU_RATIO = 50.0    # i-vector extraction vs one CPU core


def peak_bf16_tflops(device_name: str) -> float | None:
    """The card's dense bf16 peak (TFLOP/s) from the table, None when the name is not in it."""
    low = device_name.lower()
    for key, value in PEAK_BF16_TFLOPS:
        if key.lower() in low:
            return value
    return None


# ============================================================================================ FLOP counting


def xvector_macs(model: XvectorTDNN, frames: int, upto_embedding: bool = False) -> int:
    """Multiply-adds of one chunk of ``frames`` input frames through the x-vector network, from its layer shapes:
    each frame layer's affine map (weight out x in x context) once per frame it outputs (the chunk shrinks by the
    layer's context span), the segment layers and the output layer once per chunk. ``upto_embedding``: up to the
    embedding layer's affine output (extraction). ReLU, batch norm and pooling are left out (elementwise)."""
    t, macs = int(frames), 0
    for layer in model.frame_layers:
        t -= layer.span
        macs += t * layer.affine.weight.numel()
    for i, layer in enumerate(model.segment_layers):
        macs += layer.affine.weight.numel()
        if upto_embedding and i == model.embedding_index:
            return macs
    return macs + model.output.weight.numel()


def dense_macs(model: nn.Module) -> int:
    """Multiply-adds per input row of a feed-forward network (the bottleneck DNN): every ``nn.Linear``'s weight."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))


def train_flops(macs: float) -> float:
    """FLOPs of a training step: 2 x multiply-adds forward, backward twice the forward (the usual 3x)."""
    return 3.0 * 2.0 * macs


def xvector_extract_flops(model: XvectorTDNN, num_frames: int, chunk_size: int, min_chunk_size: int) -> float:
    """Forward FLOPs of ``XvectorEmbedder`` on one utterance: Kaldi's chunks, each padded to the minimum."""
    return sum(2.0 * xvector_macs(model, padded, upto_embedding=True)
               for _, _, padded in plan_chunks(num_frames, chunk_size, min_chunk_size))


def ivector_extract_flops(num_gauss: int, feat_dim: int, ivector_dim: int) -> float:
    """FLOPs of one utterance's i-vector from its statistics (``extract_ivectors``): the linear term
    X (G·D) @ Σ⁻¹M (G·D x S), the quadratic term γ (G) @ U (G x S(S+1)/2), the Cholesky factor, the solve and the
    objective change (float64)."""
    g, d, s = num_gauss, feat_dim, ivector_dim
    return 2.0 * g * d * s + g * s * (s + 1) + s ** 3 / 3.0 + 4.0 * s * s


def mfu(flops_per_s: float, peak_tflops: float | None) -> float:
    """Model FLOP utilisation: achieved FLOP/s over the peak (NaN without a peak)."""
    if not peak_tflops or not math.isfinite(flops_per_s):
        return float("nan")
    return flops_per_s / (peak_tflops * 1e12)


# ============================================================================================ measuring


@dataclasses.dataclass
class Work:
    """What a step did: units of the row's throughput (frames, utterances, trials), a second unit, FLOPs."""

    units: float
    alt: float = 0.0
    flops: float = 0.0


@dataclasses.dataclass
class Measured:
    steps: int
    seconds: float
    units: float
    alt: float
    flops: float


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(step: Callable[[], Work], device: torch.device, *, warmup: int, max_seconds: float,
            min_steps: int = 1, max_steps: int = 1_000_000) -> Measured:
    """``warmup`` untimed steps, then timed steps in groups (1, then up to doubling, sized to the time left) with
    one device synchronisation per group, until ``max_seconds`` are spent (at least ``min_steps`` steps)."""
    for _ in range(warmup):
        step()
    sync(device)
    n, units, alt, flops, group = 0, 0.0, 0.0, 0.0, 1
    t0 = time.perf_counter()
    while True:
        for _ in range(group):
            w = step()
            units, alt, flops = units + w.units, alt + w.alt, flops + w.flops
        n += group
        sync(device)
        elapsed = time.perf_counter() - t0
        if n >= max_steps or (n >= min_steps and elapsed >= max_seconds):
            return Measured(n, elapsed, units, alt, flops)
        per_step = elapsed / n
        fit = int((max_seconds - elapsed) / per_step) if per_step > 0 else n
        group = max(1, min(n, max_steps - n, fit))


@contextlib.contextmanager
def torch_threads(n: int):
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextlib.contextmanager
def cudnn_benchmark(enabled: bool):
    old = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = old


def quiet(_msg: str) -> None:
    pass


# ============================================================================================ sizes


@dataclasses.dataclass(frozen=True)
class Sizes:
    xvec_overrides: tuple[str, ...] = ()          # conf/xvector.yaml as is
    xvec_feat_dim: int = 80                       # MT-SBNF input (the paper's x-vector systems); MFCC would be 20
    xvec_speakers: int = 3_769                    # the paper's training speakers
    xvec_chunk: int = 300                         # middle of Kaldi's 200-400-frame chunks
    xvec_egs_repeats: int = 2                     # egs dir of the full loop: repeats x speakers chunks
    extract_frames: tuple[int, int] = (3_000, 15_000)
    extract_utts: tuple[int, int] = (16, 2)       # utterances per step on (cuda, cpu)
    bnf_overrides: tuple[str, ...] = ()           # conf/bnf1.yaml as is
    bnf_feat_dim: int = 40                        # hires MFCC
    bnf_pdfs: int = 4_200                         # sre10 senones
    bnf_utt_frames: int = 400
    ubm_gauss: int = 2_048
    ivec_feat_dim: int = 60                       # 20 MFCC + deltas + double deltas
    ivec_dim: int = 600
    ivec_utts: int = 64
    ivec_frames: tuple[int, int] = (6_000, 18_000)  # voiced frames of a conversation side (~2.5 min of speech)
    ivec_batch: int = 64                          # ivector_extract.py --batch-size default
    ivec_post_utts_cpu: int = 1                   # utterances per CPU step of the posteriors row
    gselect: int = 20
    plda_dim: int = 150
    plda_models: int = 1_000
    plda_tests: int = 2_000
    full_loop_seconds: float = 8.0                # the full loops are sized to about this from the loader-less rate
    full_loop_max_steps: int = 20_000


FULL = Sizes()
QUICK = Sizes(
    xvec_overrides=("model.frame_dims=[32,32,32,32,64]", "model.segment_dims=[32,32]", "train.minibatch_size=8"),
    xvec_feat_dim=8, xvec_speakers=12, xvec_chunk=40, xvec_egs_repeats=2, extract_frames=(20, 260),
    extract_utts=(3, 3), bnf_overrides=("model.hidden_dim=32", "model.bottleneck_dim=8", "train.minibatch_size=32"),
    bnf_feat_dim=6, bnf_pdfs=20, bnf_utt_frames=50, ubm_gauss=16, ivec_feat_dim=5, ivec_dim=6, ivec_utts=6,
    ivec_frames=(40, 120), ivec_batch=3, ivec_post_utts_cpu=2, gselect=4, plda_dim=8, plda_models=20,
    plda_tests=30, full_loop_seconds=0.2, full_loop_max_steps=24)


# ============================================================================================ rows


@dataclasses.dataclass
class Row:
    key: str
    what: str
    size: str
    device: str                 # "cuda" or "cpu"
    where: str                  # e.g. "NVIDIA H100 80GB HBM3", "cpu x16"
    precision: str
    unit: str
    alt_unit: str = ""
    network: bool = False
    steps: int = 0
    seconds: float = float("nan")
    units: float = float("nan")
    alt: float = float("nan")
    flops: float = float("nan")
    peak_mem_mib: float | None = None
    note: str = ""
    status: str = "ok"          # ok | skipped: <why> | failed: <why>
    cpu_ref: str = ""           # key of the CPU row this one is compared with
    # derived by finish()
    ms_per_step: float = float("nan")
    throughput: float = float("nan")
    alt_rate: float = float("nan")
    tflops: float = float("nan")
    mfu: float = float("nan")
    x_cpu: float = float("nan")

    def take(self, m: Measured) -> "Row":
        self.steps, self.seconds, self.units, self.alt = m.steps, m.seconds, m.units, m.alt
        self.flops = m.flops if m.flops > 0 else float("nan")
        return self

    def finish(self, peak_tflops: float | None) -> None:
        if self.status != "ok" or not self.seconds > 0:
            return
        self.ms_per_step = 1e3 * self.seconds / max(self.steps, 1)
        self.throughput = self.units / self.seconds
        self.alt_rate = self.alt / self.seconds if self.alt_unit else float("nan")
        self.tflops = self.flops / self.seconds / 1e12
        if self.network:
            self.mfu = mfu(self.flops / self.seconds, peak_tflops)


class Budget:
    """The run's wall-clock budget: rows are skipped when what is left would not cover them."""

    def __init__(self, seconds: float, reserve: float) -> None:
        self.t0 = time.perf_counter()
        self.seconds = float(seconds)
        self.reserve = float(reserve)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float:
        return self.seconds - self.elapsed() - self.reserve


class Bench:
    """Shared state of a run: options, sizes, the budget and the synthetic data made once."""

    def __init__(self, args: argparse.Namespace, sizes: Sizes, primary: torch.device) -> None:
        self.args = args
        self.sizes = sizes
        self.primary = primary
        self.quick = args.quick
        self.budget = Budget(args.budget_s, reserve=2.0 if args.quick else 15.0)
        self.cpu_threads = args.cpu_threads or os.cpu_count() or 1
        self.cache: dict[str, Any] = {}
        self.rates: dict[tuple[str, str], float] = {}   # (key, device) -> s per step, for sizing the full loops
        self._tmp = tempfile.TemporaryDirectory(prefix="phonsid_gpu_bench_")
        self.tmp = Path(self._tmp.name)

    def close(self) -> None:
        self.cache.clear()
        self._tmp.cleanup()

    def where(self, device: torch.device, threads: int | None = None) -> str:
        if device.type == "cuda":
            return torch.cuda.get_device_name(device)
        return f"cpu x{threads or self.cpu_threads}"

    def row_seconds(self, device: torch.device) -> float:
        limit = self.args.row_seconds if device == self.primary else self.args.cpu_row_seconds
        return max(0.05, min(limit, self.budget.left() / 4))

    def warmup(self, device: torch.device) -> int:
        return 3 if device.type == "cuda" else (0 if self.quick else 1)


# --------------------------------------------------------------------------------------------- x-vector training


def xvector_config(b: Bench, extra: tuple[str, ...] = ()):
    return load_xvector_config(REPO / "conf" / "xvector.yaml", list(b.sizes.xvec_overrides) + list(extra))


def precision_label(use_amp: bool, dtype: torch.dtype, asked_amp: bool) -> str:
    if use_amp:
        return f"{str(dtype).replace('torch.', '')} autocast"
    return "fp32 (AMP is GPU-only)" if asked_amp else "fp32"


def row_xvec_train(b: Bench, device: torch.device, row: Row, amp: bool) -> Row:
    """The x-vector trainer's step (train_xvector._train's loop body) on a minibatch already on the device."""
    s = b.sizes
    cfg = xvector_config(b)
    tc = cfg.train
    torch.manual_seed(0)
    model = XvectorTDNN(s.xvec_feat_dim, s.xvec_speakers, cfg.model).to(device).train()
    groups = [(name, list(mod.parameters()), tc.output_max_change if name == "output" else tc.max_change)
              for name, mod in model.updatable_components()]
    opt = KaldiSGD(groups, momentum=tc.momentum, max_param_change=tc.max_param_change)
    use_amp, dtype, scaler, autocast = setup_amp(amp, "bfloat16", device, quiet)
    batch, frames = tc.minibatch_size, s.xvec_chunk
    x = torch.randn(batch, frames, s.xvec_feat_dim, device=device)
    y = torch.randint(0, s.xvec_speakers, (batch,), device=device)
    lr = tc.initial_effective_lrate * batch                 # the trainer's rate for one process
    shrink = per_step_shrink(tc.proportional_shrink, tc.initial_effective_lrate, 100.0)
    flops = train_flops(xvector_macs(model, frames)) * batch
    block_logprob = torch.zeros((), dtype=torch.float64, device=device)
    block_correct = torch.zeros((), dtype=torch.float64, device=device)

    def step() -> Work:
        with autocast():
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        if scaler.is_enabled():
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            scaler.step(opt, lr=lr, shrink=shrink)
            scaler.update()
        else:
            loss.backward()
            opt.step(lr=lr, shrink=shrink)
        with torch.no_grad():
            block_logprob.sub_(loss.detach().double() * batch)
            block_correct.add_((logits.detach().argmax(dim=1) == y).sum())
        return Work(batch * frames, batch, flops)

    with cudnn_benchmark(device.type == "cuda"):  # as train_xvector sets it
        m = measure(step, device, warmup=b.warmup(device), max_seconds=b.row_seconds(device))
    row.precision = precision_label(use_amp, dtype, amp)
    row.size = (f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M params; {batch} x {frames} frames x "
                f"{s.xvec_feat_dim} dims, {s.xvec_speakers} speakers")
    b.rates[(row.key, device.type)] = m.seconds / m.steps
    if not torch.isfinite(block_logprob):
        raise RuntimeError("non-finite training objective")
    return row.take(m)


def write_xvector_egs(b: Bench, repeats: int) -> tuple[Path, float]:
    """An egs dir of one archive of ``repeats x speakers`` chunks of ``xvec_chunk`` frames (float16), written by
    the project's ``build_egs_dir`` from one utterance per speaker (slices of one random pool)."""
    s = b.sizes
    key = f"xvec_egs_{repeats}"
    if key in b.cache:
        return b.cache[key]
    t0 = time.perf_counter()
    egs = b.tmp / f"xvector_egs_r{repeats}"
    length = s.xvec_chunk + 10
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((s.xvec_speakers + length, s.xvec_feat_dim)).astype(np.float32)
    utts = [f"spk{i:05d}-u" for i in range(s.xvec_speakers)]
    first = {u: i for i, u in enumerate(utts)}
    frames_per_iter = max(s.xvec_speakers * length * repeats + 1, 1000)  # one archive; the speaker list runs out
    build_egs_dir(egs, lambda u: pool[first[u]:first[u] + length], {u: length for u in utts},
                  {u: u.split("-")[0] for u in utts}, num_heldout_utts=0, num_repeats=repeats,
                  frames_per_iter=frames_per_iter, num_diagnostic_archives=0, min_frames_per_chunk=s.xvec_chunk,
                  max_frames_per_chunk=s.xvec_chunk, compress=True)
    b.cache[key] = (egs, time.perf_counter() - t0)
    return b.cache[key]


def row_xvec_full(b: Bench, device: torch.device, row: Row, amp: bool) -> Row:
    """train_xvector itself on a memory-mapped egs dir; its throughput over the last half of the run."""
    s = b.sizes
    batch = xvector_config(b).train.minibatch_size
    egs, t_egs = write_xvector_egs(b, s.xvec_egs_repeats)
    num_egs = EgsArchive(egs / "egs.1").num_egs
    per_visit = num_egs // batch
    # sized to about full_loop_seconds from the slower of the model step and the loader (when measured)
    rate = max(b.rates.get(("xvec_train_bf16" if amp else "xvec_train_fp32", device.type), 0.0),
               b.rates.get(("xvec_loader", device.type), 0.0))
    want = min(s.full_loop_seconds, b.budget.left() / 8) / rate if rate else 2 * per_visit
    visits = int(min(max(2, math.ceil(want / per_visit)), max(2, s.full_loop_max_steps // per_visit)))
    total = visits * per_visit
    half = (total + 1) // 2  # diagnostics at this step and at the last: two blocks, the second one timed
    cfg = xvector_config(b, (f"train.num_epochs={visits}", f"train.diagnostic_interval={half}",
                             f"train.checkpoint_interval={10 * total}", f"train.log_interval={10 * total}"))
    out = b.tmp / f"xvector_{row.key}_{device.type}"
    lines: list[str] = []
    t0 = time.perf_counter()
    with cudnn_benchmark(torch.backends.cudnn.benchmark):  # train_xvector turns it on for the whole process
        res = train_xvector(egs, out, cfg, use_gpu="yes" if device.type == "cuda" else "no", amp=amp,
                            amp_dtype="bfloat16", resume=False, log=lines.append, warn=quiet,
                            ctx=DistContext(device=device))
    wall = time.perf_counter() - t0
    with open(out / "diagnostics.csv", newline="", encoding="utf-8") as f:
        last = list(csv.DictReader(f))[-1]
    steps = int(last["step"]) - half
    egs_per_s = float(last["egs_per_sec"])
    model = XvectorTDNN(s.xvec_feat_dim, s.xvec_speakers, cfg.model)
    per_step = train_flops(xvector_macs(model, s.xvec_chunk)) * batch
    seconds = steps * batch / egs_per_s
    use_amp = amp and device.type == "cuda"
    row.precision = "bf16 autocast" if use_amp else ("fp32 (AMP is GPU-only)" if amp else "fp32")
    row.size = f"{num_egs} chunks x {s.xvec_chunk} frames (fp16 memmap), {visits} passes, {total} steps"
    row.note = (f"last {steps} of {total} steps (trainer's diagnostics block); egs written in {t_egs:.1f} s, "
                f"train_xvector call {wall:.1f} s; {res.num_steps} steps done")
    return row.take(Measured(steps, seconds, steps * batch * s.xvec_chunk, steps * batch, steps * per_step))


def row_xvec_loader(b: Bench, device: torch.device, row: Row) -> Row:
    """The trainer's input path alone: memmap gather of a sorted minibatch, pinning (CUDA) in the prefetch thread,
    then the non-blocking copy to the device and the float conversion, over one pass of the archive per step."""
    s = b.sizes
    batch = xvector_config(b).train.minibatch_size
    egs, _ = write_xvector_egs(b, s.xvec_egs_repeats)
    archive = EgsArchive(egs / "egs.1")
    pin = device.type == "cuda"
    rng = np.random.default_rng(1)
    steps_per_pass = archive.num_egs // batch

    def one_pass() -> Work:
        perm = rng.permutation(archive.num_egs)

        def produce(k: int):
            feats, labels = archive.read(np.sort(perm[k * batch:(k + 1) * batch]), dtype=None if pin else np.float32)
            x, y = torch.from_numpy(feats), torch.from_numpy(labels)
            return (x.pin_memory(), y.pin_memory()) if pin else (x, y)

        with Prefetcher(range(steps_per_pass), produce, depth=4) as batches:
            for x, y in batches:
                x = x.to(device, non_blocking=True).float()
                y = y.to(device, non_blocking=True)
        return Work(steps_per_pass * batch * archive.chunk_length, steps_per_pass * batch)

    m = measure(one_pass, device, warmup=1, max_seconds=b.row_seconds(device))
    b.rates[(row.key, device.type)] = m.seconds / (m.steps * steps_per_pass)  # per minibatch
    row.precision = "fp16 -> fp32"
    row.size = f"{archive.num_egs} chunks x {archive.chunk_length} x {archive.feat_dim} (fp16), minibatch {batch}"
    row.note = "one pass of the archive per step; egs in the page cache"
    return row.take(m)


# --------------------------------------------------------------------------------------------- bottleneck DNN


def bnf_config(b: Bench, extra: tuple[str, ...] = ()):
    return load_bnf_config(REPO / "conf" / "bnf1.yaml", list(b.sizes.bnf_overrides) + list(extra))


def row_bnf_train(b: Bench, device: torch.device, row: Row, amp: bool) -> Row:
    """train_bnf's step (its optimizer, AMP set-up and ``_opt_step``) on a minibatch already on the device."""
    s = b.sizes
    cfg = bnf_config(b)
    tc = cfg.train
    torch.manual_seed(0)
    model = BottleneckDNN(s.bnf_feat_dim, s.bnf_pdfs, cfg.input, cfg.model).to(device).train()
    opt = _make_optimizer(model, cfg)
    use_amp, dtype, scaler, autocast = setup_amp(amp, "bfloat16", device, quiet)
    batch = tc.minibatch_size
    x = torch.randn(batch, len(cfg.input.splice) * s.bnf_feat_dim, device=device)
    y = torch.randint(0, s.bnf_pdfs, (batch,), device=device)
    lr = tc.initial_lrate * batch if tc.optimizer == "sgd" else tc.initial_lrate
    flops = train_flops(dense_macs(model)) * batch
    acc = torch.zeros(4, dtype=torch.float64, device=device)

    def step() -> Work:
        with autocast():
            senones, _ = model(x)
        loss = F.cross_entropy(senones.float(), y)
        opt.zero_grad(set_to_none=True)
        if scaler.is_enabled():
            scaler.scale(loss).backward()
        else:
            loss.backward()
        _opt_step(opt, lr, scaler)
        with torch.no_grad():
            acc[0] += loss.detach().double() * batch
            acc[1] += (senones.detach().argmax(dim=1) == y).sum()
            acc[3] += batch
        return Work(batch, 0, flops)

    m = measure(step, device, warmup=b.warmup(device), max_seconds=b.row_seconds(device))
    row.precision = precision_label(use_amp, dtype, amp)
    row.size = (f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M params; {batch} frames x "
                f"{len(cfg.input.splice)} x {s.bnf_feat_dim} in, {s.bnf_pdfs} senones")
    b.rates[(row.key, device.type)] = m.seconds / m.steps
    return row.take(m)


def write_bnf_egs(b: Bench, cfg, frames: int) -> Path:
    """A frame set as nnet_bnf_prepare.py lays it out (FrameSetWriter, info.json, input_stats.npz), of
    ``frames`` training frames in utterances of ``bnf_utt_frames``, from slices of one random pool."""
    s = b.sizes
    d = b.tmp / f"bnf_egs_{frames}"
    rng = np.random.default_rng(0)
    pool_rows = min(frames, 200_000) + s.bnf_utt_frames
    pool = rng.standard_normal((pool_rows, s.bnf_feat_dim)).astype(np.float32)
    num_spk = 50
    valid = max(frames // 50, s.bnf_utt_frames)
    for name, n in (("train", frames), ("valid", valid)):
        w = FrameSetWriter(d, name, n, s.bnf_feat_dim)
        pos = 0
        while pos < n:
            m = min(s.bnf_utt_frames, n - pos)
            start = int(rng.integers(0, pool_rows - m + 1))
            w.append(f"{name}{pos:09d}", pool[start:start + m], rng.integers(0, s.bnf_pdfs, m).astype(np.int32),
                     int(rng.integers(0, num_spk)))
            pos += m
        w.close()
    np.savez(d / "input_stats.npz", mean=np.zeros(s.bnf_feat_dim), std=np.ones(s.bnf_feat_dim))
    info = {"feat_dim": s.bnf_feat_dim, "num_pdfs": s.bnf_pdfs, "num_speakers": num_spk, "train_frames": frames,
            "valid_frames": valid, "majority_rate_valid": 1.0 / s.bnf_pdfs, "input": cfg.network_dict()["input"]}
    (d / "info.json").write_text(json.dumps(info))
    return d


def row_bnf_full(b: Bench, device: torch.device, row: Row, amp: bool) -> Row:
    """train_bnf itself, two epochs; the throughput of its second epoch (validation outside the timing)."""
    s = b.sizes
    batch = bnf_config(b).train.minibatch_size
    rate = b.rates.get(("bnf_train_bf16" if amp else "bnf_train_fp32", device.type))
    seconds = min(s.full_loop_seconds, b.budget.left() / 8)
    steps = int(min(s.full_loop_max_steps, max(4, seconds / 2 / rate if rate else 8)))
    frames = steps * batch
    cfg = bnf_config(b, ("train.num_epochs=2", "train.log_interval=1000000000"))
    t0 = time.perf_counter()
    egs = write_bnf_egs(b, cfg, frames)
    t_egs = time.perf_counter() - t0
    lines: list[str] = []
    t0 = time.perf_counter()
    res = train_bnf(egs, b.tmp / f"bnf_{row.key}_{device.type}", cfg, use_gpu="yes" if device.type == "cuda" else "no",
                    amp=amp, amp_dtype_name="bfloat16", resume=False, log=lines.append, warn=quiet,
                    ctx=DistContext(device=device))
    wall = time.perf_counter() - t0
    fps = float(res.diagnostics["frames_per_sec"])
    model = BottleneckDNN(s.bnf_feat_dim, s.bnf_pdfs, cfg.input, cfg.model)
    per_step = train_flops(dense_macs(model)) * batch
    done = steps * batch
    use_amp = amp and device.type == "cuda"
    row.precision = "bf16 autocast" if use_amp else ("fp32 (AMP is GPU-only)" if amp else "fp32")
    preloaded = any("frames in GPU memory" in line for line in lines)
    row.size = f"{frames} frames x 2 epochs, minibatch {batch}"
    row.note = (("frames preloaded in GPU memory (preload: auto)" if preloaded else "memory-mapped frames, prefetch "
                 "thread") + f"; frame set written in {t_egs:.1f} s, train_bnf call {wall:.1f} s; second epoch")
    return row.take(Measured(steps, done / fps, done, 0.0, steps * per_step))


# --------------------------------------------------------------------------------------------- x-vector extraction


def row_xvec_extract(b: Bench, device: torch.device, row: Row) -> Row:
    """XvectorExtractor.embed_prepared per utterance (Kaldi's chunking, float32), utterances of varied length."""
    s = b.sizes
    cfg = xvector_config(b)
    torch.manual_seed(0)
    model = XvectorTDNN(s.xvec_feat_dim, s.xvec_speakers, cfg.model).eval()
    chunk, min_chunk = cfg.extract.max_chunk_size, cfg.extract.min_chunk_size
    ex = XvectorExtractor(model, chunk_size=chunk, min_chunk_size=min_chunk, device=str(device), cmn_window=0)
    rng = np.random.default_rng(2)
    lo, hi = s.extract_frames
    lengths = rng.integers(lo, hi + 1, 64)
    pool = rng.standard_normal((hi + 64, s.xvec_feat_dim)).astype(np.float32)
    utts = [pool[i:i + int(n)] for i, n in enumerate(lengths)]
    flops = [xvector_extract_flops(model, int(n), chunk, min_chunk) for n in lengths]
    per_step = s.extract_utts[0 if device.type == "cuda" else 1]
    pos = [0]

    def step() -> Work:
        w = Work(0.0)
        for _ in range(per_step):
            i = pos[0] % len(utts)
            pos[0] += 1
            vec = ex.embed_prepared(utts[i])
            w.units += utts[i].shape[0]
            w.alt += 1
            w.flops += flops[i]
        if not np.isfinite(vec).all():
            raise RuntimeError("non-finite x-vector")
        return w

    # the fresh process of a real extraction job has cudnn's benchmark mode off (train_xvector turns it on, for
    # its whole process); with varied lengths it would autotune every new length
    with cudnn_benchmark(False):
        m = measure(step, device, warmup=1, max_seconds=b.row_seconds(device))
    row.precision = "fp32"
    row.size = f"{lo}-{hi} frames per utterance, chunk {chunk}, {per_step} utterances per step"
    return row.take(m)


# --------------------------------------------------------------------------------------------- i-vectors


def ivector_setup(b: Bench) -> dict[str, Any]:
    """A full-covariance UBM (and its diagonal version, as fgmm-global-to-gmm), an i-vector extractor initialised
    from it (ivector-extractor-init, no weight projections: Kaldi's sid default), utterances drawn from the UBM's
    means with unit noise, and their posteriors (computed once on the primary device, untimed)."""
    if "ivec" in b.cache:
        return b.cache["ivec"]
    from phonsid.gmm.diag_gmm import DiagGmm
    from phonsid.gmm.full_gmm import FullGmm
    from phonsid.gmm.gselect import ubm_posteriors_batch
    from phonsid.ivector.extractor import init_ivector_extractor

    s = b.sizes
    g, d = s.ubm_gauss, s.ivec_feat_dim
    rng = np.random.default_rng(0)
    means = rng.standard_normal((g, d)) * 0.5  # overlapping Gaussians: ~3 posteriors per frame above 0.025
    a = rng.standard_normal((g, d, d)) * (0.5 / math.sqrt(d))
    covars = a @ a.transpose(0, 2, 1) + 0.5 * np.eye(d)
    weights = rng.dirichlet(np.full(g, 20.0))
    fubm = FullGmm.from_normal(weights, means, covars)
    # fgmm-global-to-gmm keeps the covariances' diagonals (FullGmm.to_diag, which inverts them again: slower)
    dubm = DiagGmm.from_normal(weights, means, np.diagonal(covars, axis1=1, axis2=2))
    ext = init_ivector_extractor(fubm, s.ivec_dim, use_weights=False, rng=rng)
    lo, hi = s.ivec_frames
    feats = []
    for n in rng.integers(lo, hi + 1, s.ivec_utts):
        comp = rng.choice(g, size=int(n), p=weights)
        feats.append((means[comp] + rng.standard_normal((int(n), d))).astype(np.float32))
    with torch_threads(b.cpu_threads):
        posts = [p for p, _ in ubm_posteriors_batch(dubm, fubm, feats, s.gselect, 0.025, 1.0, b.primary)]
    nnz = sum(p.ids.size for p in posts) / sum(f.shape[0] for f in feats)
    b.cache["ivec"] = {"dubm": dubm, "fubm": fubm, "ext": ext, "feats": feats, "posts": posts, "nnz": nnz}
    return b.cache["ivec"]


def ivector_size(b: Bench, iv: dict[str, Any], batch: int) -> str:
    s = b.sizes
    lo, hi = s.ivec_frames
    return (f"UBM {s.ubm_gauss} full, {s.ivec_feat_dim} dims, i-vector {s.ivec_dim}; {lo}-{hi} frames per "
            f"utterance, {batch} per step; {iv['nnz']:.1f} posteriors per frame")


def ivector_threads(b: Bench, device: torch.device) -> int:
    return 1 if device.type == "cpu" else torch.get_num_threads()


def row_ivec_post(b: Bench, device: torch.device, row: Row) -> Row:
    from phonsid.gmm.gselect import ubm_posteriors_batch

    s = b.sizes
    iv = ivector_setup(b)
    feats = iv["feats"]
    per_step = len(feats) if device.type == "cuda" else min(s.ivec_post_utts_cpu, len(feats))
    pos = [0]

    def step() -> Work:
        i = pos[0] % len(feats)
        pos[0] += per_step
        batch = (feats + feats)[i:i + per_step]
        out = ubm_posteriors_batch(iv["dubm"], iv["fubm"], batch, s.gselect, 0.025, 1.0, device)
        return Work(sum(f.shape[0] for f in batch), len(out))

    with torch_threads(ivector_threads(b, device)):
        m = measure(step, device, warmup=1 if device.type == "cuda" else 0, max_seconds=b.row_seconds(device))
    row.precision = "fp32 likelihoods"
    row.size = ivector_size(b, iv, per_step) + f"; gselect {s.gselect}, min-post 0.025"
    return row.take(m)


def _ivec_batches(b: Bench, iv: dict[str, Any]) -> list[slice]:
    n, bs = len(iv["feats"]), b.sizes.ivec_batch
    return [slice(i, i + bs) for i in range(0, n - bs + 1, bs)] or [slice(0, n)]


def row_ivec_stats(b: Bench, device: torch.device, row: Row) -> Row:
    from phonsid.ivector.estimation import batch_stats

    iv = ivector_setup(b)
    batches = _ivec_batches(b, iv)
    pos = [0]

    def step() -> Work:
        sl = batches[pos[0] % len(batches)]
        pos[0] += 1
        st = batch_stats(iv["feats"][sl], iv["posts"][sl], b.sizes.ubm_gauss, device)
        return Work(sum(f.shape[0] for f in iv["feats"][sl]), st.gamma.shape[0])

    with torch_threads(ivector_threads(b, device)):
        m = measure(step, device, warmup=1 if device.type == "cuda" else 0, max_seconds=b.row_seconds(device))
    row.precision = "fp64 statistics"
    row.size = ivector_size(b, iv, b.sizes.ivec_batch) + "; 0th + 1st order"
    return row.take(m)


def row_ivec_extract(b: Bench, device: torch.device, row: Row) -> Row:
    """ivector_extract.py's batch: statistics, extract_ivectors (objective change included), the copy back."""
    from phonsid.ivector.estimation import batch_stats, extract_ivectors

    s = b.sizes
    iv = ivector_setup(b)
    ext = iv["ext"]
    with torch_threads(b.cpu_threads):
        ext.derived(device)  # once per model and device, untimed (as the CLI pays it once per job)
    batches = _ivec_batches(b, iv)
    per_utt = ivector_extract_flops(s.ubm_gauss, s.ivec_feat_dim, s.ivec_dim)
    pos = [0]

    def step() -> Work:
        sl = batches[pos[0] % len(batches)]
        pos[0] += 1
        st = batch_stats(iv["feats"][sl], iv["posts"][sl], s.ubm_gauss, device)
        ivecs, change = extract_ivectors(ext, st, True)
        ivecs, change = ivecs.cpu().numpy(), change.cpu().numpy()
        if not (np.isfinite(ivecs).all() and np.isfinite(change).all()):
            raise RuntimeError("non-finite i-vectors")
        n = ivecs.shape[0]
        return Work(n, sum(f.shape[0] for f in iv["feats"][sl]), n * per_utt)

    with torch_threads(ivector_threads(b, device)):
        m = measure(step, device, warmup=1 if device.type == "cuda" else 0, max_seconds=b.row_seconds(device))
    row.precision = "fp64"
    row.size = ivector_size(b, iv, s.ivec_batch)
    row.note = "statistics + posterior + objective change per batch, as ivector_extract.py"
    return row.take(m)


def row_ivec_acc(b: Bench, device: torch.device, row: Row) -> Row:
    """ivector_extractor_acc_stats.py's batch: second-order statistics and StatsAccumulator.add (the E-step)."""
    from phonsid.ivector.estimation import batch_stats
    from phonsid.ivector.stats import StatsAccumulator

    s = b.sizes
    iv = ivector_setup(b)
    ext = iv["ext"]
    with torch_threads(b.cpu_threads):
        ext.derived(device)
        acc = StatsAccumulator(ext, update_variances=True, device=device)
    batches = _ivec_batches(b, iv)
    pos = [0]

    def step() -> Work:
        sl = batches[pos[0] % len(batches)]
        pos[0] += 1
        acc.add(batch_stats(iv["feats"][sl], iv["posts"][sl], s.ubm_gauss, device, True))
        return Work(len(iv["feats"][sl]), sum(f.shape[0] for f in iv["feats"][sl]))

    with torch_threads(ivector_threads(b, device)):
        m = measure(step, device, warmup=1 if device.type == "cuda" else 0, max_seconds=b.row_seconds(device))
    if not math.isfinite(acc.tot_auxf):
        raise RuntimeError("non-finite auxiliary function")
    row.precision = "fp64"
    row.size = ivector_size(b, iv, s.ivec_batch) + "; variances updated"
    return row.take(m)


# --------------------------------------------------------------------------------------------- PLDA


def row_plda(b: Bench, device: torch.device, row: Row) -> Row:
    """PldaScorer.score_pairs over a full models x tests grid with the torch engine on the device."""
    from phonsid.backend import Plda, PldaScorer

    s = b.sizes
    rng = np.random.default_rng(0)
    dim = s.plda_dim
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    plda = Plda(rng.standard_normal(dim) * 0.1, q * rng.uniform(0.5, 2, dim)[:, None],
                np.sort(rng.gamma(1.0, 2.0, dim))[::-1])
    models = rng.standard_normal((s.plda_models, dim)).astype(np.float32)
    tests = rng.standard_normal((s.plda_tests, dim)).astype(np.float32)
    scorer = PldaScorer(plda, [f"m{i}" for i in range(s.plda_models)], models,
                        [f"t{j}" for j in range(s.plda_tests)], tests, rng.integers(1, 6, s.plda_models),
                        engine="torch", device=device)
    mi = np.repeat(np.arange(s.plda_models), s.plda_tests)
    ti = np.tile(np.arange(s.plda_tests), s.plda_models)
    trials = len(mi)

    def step() -> Work:
        scores = scorer.score_pairs(mi, ti)
        if not np.isfinite(scores[:: max(1, trials // 1000)]).all():
            raise RuntimeError("non-finite scores")
        return Work(trials, 0, 2.0 * dim * trials)

    m = measure(step, device, warmup=1, max_seconds=b.row_seconds(device))
    row.precision = "fp64 GEMM"
    row.size = f"{s.plda_models} x {s.plda_tests} trials per step, dim {dim}"
    row.note = "blocks scored on the device, offsets added on the host (the engine's split)"
    return row.take(m)


# ============================================================================================ the plan

#: (key, what, unit, alt unit, network?, function, kwargs, CPU row it is compared with)
ROWS: tuple[tuple[str, str, str, str, bool, Callable, dict, str], ...] = (
    ("xvec_train_bf16", "x-vector training step, loader-less", "frames/s", "chunks/s", True, row_xvec_train,
     {"amp": True}, "xvec_train_fp32"),
    ("xvec_train_fp32", "x-vector training step, loader-less", "frames/s", "chunks/s", True, row_xvec_train,
     {"amp": False}, "xvec_train_fp32"),
    ("xvec_loader", "x-vector egs loader + H2D alone", "frames/s", "chunks/s", False, row_xvec_loader, {}, ""),
    ("xvec_full_bf16", "x-vector training, full loop (train_xvector)", "frames/s", "chunks/s", True, row_xvec_full,
     {"amp": True}, "xvec_train_fp32"),
    ("bnf_train_bf16", "DNN-1 training step, loader-less", "frames/s", "", True, row_bnf_train, {"amp": True},
     "bnf_train_fp32"),
    ("bnf_train_fp32", "DNN-1 training step, loader-less", "frames/s", "", True, row_bnf_train, {"amp": False},
     "bnf_train_fp32"),
    ("bnf_full_bf16", "DNN-1 training, full loop (train_bnf)", "frames/s", "", True, row_bnf_full, {"amp": True},
     "bnf_train_fp32"),
    ("xvec_extract", "x-vector extraction", "frames/s", "utts/s", True, row_xvec_extract, {}, "xvec_extract"),
    ("ivec_post", "UBM posteriors (gselect + full-cov)", "frames/s", "utts/s", False, row_ivec_post, {},
     "ivec_post"),
    ("ivec_stats", "Baum-Welch statistics", "frames/s", "utts/s", False, row_ivec_stats, {}, "ivec_stats"),
    ("ivec_extract", "i-vector extraction", "utts/s", "frames/s", False, row_ivec_extract, {}, "ivec_extract"),
    ("ivec_acc", "i-vector extractor E-step (acc-stats)", "utts/s", "frames/s", False, row_ivec_acc, {},
     "ivec_acc"),
    ("plda_score", "PLDA scoring", "trials/s", "", False, row_plda, {}, "plda_score"),
)
ROW_KEYS = tuple(r[0] for r in ROWS)
#: the CPU rows a CUDA run adds for the ratio column, most important first
CPU_RATIO_ROWS = ("xvec_train_fp32", "ivec_extract", "bnf_train_fp32", "xvec_extract", "ivec_post", "ivec_stats",
                  "ivec_acc", "plda_score")
#: time a row needs besides its timed part (set-up, egs, models), in seconds at full size, for the budget check
SETUP_S = {"xvec_loader": 20.0, "xvec_full_bf16": 30.0, "bnf_full_bf16": 30.0, "ivec_post": 40.0, "ivec_acc": 20.0}


def run_row(b: Bench, key: str, device: torch.device) -> Row:
    spec = next(r for r in ROWS if r[0] == key)
    _, what, unit, alt_unit, network, fn, kwargs, cpu_ref = spec
    threads = 1 if key.startswith("ivec_") and device.type == "cpu" else b.cpu_threads
    row = Row(key, what, "", device.type, b.where(device, threads), "", unit, alt_unit, network,
              cpu_ref=cpu_ref if device.type == "cuda" else "")
    need = (0.0 if b.quick else SETUP_S.get(key, 5.0)) + b.row_seconds(device)
    if b.budget.left() < need:
        row.status = f"skipped: {b.budget.left():.0f} s of the budget left, the row needs ~{need:.0f} s"
        print(f"[gpu-bench] {key} on {device.type}: {row.status}", file=sys.stderr)
        return row
    t0 = time.perf_counter()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        with torch_threads(b.cpu_threads):
            fn(b, device, row, **kwargs)
        if device.type == "cuda":
            sync(device)
            row.peak_mem_mib = torch.cuda.max_memory_allocated(device) / 2**20
    except Exception as e:  # noqa: BLE001 - one failing row must not lose the others' numbers
        traceback.print_exc()
        msg = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        if isinstance(e, ImportError):
            msg += " (on the CUDA machine: carry the wheel, see bench/gpu.sh)"
        row.status = f"failed: {msg}"
    print(f"[gpu-bench] {key} on {row.where}: {row.status}, {time.perf_counter() - t0:.1f} s "
          f"(budget used {b.budget.elapsed():.0f} s)", file=sys.stderr)
    return row


def plan(primary: torch.device, keys: list[str], with_cpu: bool) -> list[tuple[str, torch.device]]:
    out = [(k, primary) for k in ROW_KEYS if k in keys]
    if primary.type == "cuda" and with_cpu:
        out += [(k, torch.device("cpu")) for k in CPU_RATIO_ROWS if k in keys]
    return out


# ============================================================================================ output


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gemm_probe(device: torch.device) -> float:
    """Measured bf16 GEMM rate (TFLOP/s) of an 8192^3 product on the card (context for the MFU column)."""
    n = 8192
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    c = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ c
    sync(device)
    t0 = time.perf_counter()
    for _ in range(10):
        a @ c
    sync(device)
    return 10 * 2.0 * n ** 3 / (time.perf_counter() - t0) / 1e12


def finish_rows(rows: list[Row], peak: float | None, primary: str) -> None:
    """Derived columns; MFU against ``peak`` for the primary device's rows only (a CPU row of a CUDA run is no
    fraction of the card)."""
    for r in rows:
        r.finish(peak if r.device == primary else None)
    cpu = {r.key: r for r in rows if r.device == "cpu" and r.status == "ok"}
    for r in rows:
        ref = cpu.get(r.cpu_ref) if r.device == "cuda" and r.cpu_ref else None
        if ref is not None and r.status == "ok" and ref.throughput > 0:
            r.x_cpu = r.throughput / ref.throughput


def _num(x: float, digits: int = 3) -> str:
    """A number for the table: thousands separators, ``digits`` significant digits, "–" for NaN/None."""
    if x is None or not math.isfinite(x):
        return "–"
    if x != 0 and abs(x) < 0.01:
        return f"{x:.2g}"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    return f"{x:.{max(0, digits - 1 - int(math.floor(math.log10(abs(x)))) if x else digits - 1)}f}"


def _finite_or_null(x: Any) -> Any:
    """NaN and infinities as JSON null."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite_or_null(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_or_null(v) for v in x]
    return x


def summary(rows: list[Row]) -> dict[str, Any]:
    by = {(r.key, r.device): r for r in rows}
    out: dict[str, Any] = {}
    bare, full, loader = by.get(("xvec_train_bf16", "cuda")), by.get(("xvec_full_bf16", "cuda")), \
        by.get(("xvec_loader", "cuda"))
    if bare is None:  # a CPU run
        bare, full, loader = by.get(("xvec_train_bf16", "cpu")), by.get(("xvec_full_bf16", "cpu")), \
            by.get(("xvec_loader", "cpu"))
    if bare and full and bare.status == full.status == "ok":
        out["xvec_full_over_loaderless"] = full.throughput / bare.throughput
    if bare and loader and bare.status == loader.status == "ok":
        out["xvec_loader_over_step"] = loader.throughput / bare.throughput
    bb, bf = by.get(("bnf_train_bf16", "cuda")) or by.get(("bnf_train_bf16", "cpu")), \
        by.get(("bnf_full_bf16", "cuda")) or by.get(("bnf_full_bf16", "cpu"))
    if bb and bf and bb.status == bf.status == "ok":
        out["bnf_full_over_loaderless"] = bf.throughput / bb.throughput
    x = by.get(("xvec_train_bf16", "cuda"))
    if x and x.status == "ok":
        out["xvec_train_bf16_mfu"] = x.mfu
    e = by.get(("ivec_extract", "cuda"))
    if e and e.status == "ok":
        out["ivec_extract_x_one_core"] = e.x_cpu
    return out


def render_md(meta: dict[str, Any], rows: list[Row], summ: dict[str, Any]) -> str:
    peak = meta["peak_bf16_tflops"]
    lines = [
        "# Accelerator benchmark (bench/gpu.py)",
        "",
        f"- device: {meta['device']}" + (f" ({meta['device_detail']})" if meta.get("device_detail") else ""),
        f"- bf16 dense peak: " + (f"{peak:g} TFLOP/s ({meta['peak_source']})" if peak else
                                  "unknown for this device: MFU not computed (pass --peak-tflops)"),
    ]
    if meta.get("gemm_bf16_tflops"):
        g = meta["gemm_bf16_tflops"]
        lines.append(f"- measured bf16 GEMM 8192^3: {g:.0f} TFLOP/s" + (f" ({100 * g / peak:.0f} % of the peak)"
                                                                         if peak else ""))
    lines += [
        f"- CPU: {meta['cpu']}, {meta['cpu_count']} logical CPUs; CPU rows: networks and PLDA with "
        f"{meta['cpu_threads']} torch threads, i-vector rows with 1",
        f"- torch {meta['torch']}" + (f", CUDA {meta['cuda']}, cuDNN {meta['cudnn']}" if meta.get("cuda") else "")
        + f", numpy {meta['numpy']}, Python {meta['python']}",
        f"- run {meta['date']}: `{meta['command']}`; {meta['elapsed_s']:.0f} s of a {meta['budget_s']:.0f} s budget"
        + (" (--quick: tiny sizes, numbers meaningless)" if meta["quick"] else "")
        + (f"; stopped or still running with {meta['rows_pending']} row(s) to go" if meta.get("rows_pending")
           else ""),
        "",
        "| row | what | size | device | precision | steps | ms/step | throughput | TFLOP/s | MFU | "
        "peak GPU MiB | x CPU |",
        "|---|---|---|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.status != "ok":
            lines.append(f"| {r.key} | {r.what} | {r.size or '–'} | {r.where} | {r.precision or '–'} | – | – | "
                         f"{r.status} | – | – | – | – |")
            continue
        tp = f"{_num(r.throughput)} {r.unit}"
        if r.alt_unit:
            tp += f" ({_num(r.alt_rate)} {r.alt_unit})"
        lines.append(
            f"| {r.key} | {r.what} | {r.size} | {r.where} | {r.precision} | {r.steps} | {_num(r.ms_per_step)} | "
            f"{tp} | {_num(r.tflops)} | {'–' if not math.isfinite(r.mfu) else f'{100 * r.mfu:.1f} %'} | "
            f"{_num(r.peak_mem_mib) if r.peak_mem_mib is not None else '–'} | {_num(r.x_cpu)} |")
    notes = [f"- {r.key} ({r.device}): {r.note}" for r in rows if r.status == "ok" and r.note]
    lines += ["", "Data pipeline:"]
    if "xvec_full_over_loaderless" in summ:
        lines.append(f"- x-vector training: full loop / loader-less = {summ['xvec_full_over_loaderless']:.2f}")
    if "xvec_loader_over_step" in summ:
        lines.append(f"- x-vector egs loader + H2D alone / loader-less training step = "
                     f"{summ['xvec_loader_over_step']:.2f} (above 1: the loader can keep up)")
    if "bnf_full_over_loaderless" in summ:
        lines.append(f"- DNN-1 training: full loop / loader-less = {summ['bnf_full_over_loaderless']:.2f}")
    lines += ["", "Targets:"]
    x = summ.get("xvec_train_bf16_mfu")
    lines.append("- x-vector training bf16 MFU >= 30 %: " + (
        f"{100 * x:.1f} %, {'met' if x >= TARGET_XVEC_MFU else 'not met'}" if x is not None and math.isfinite(x)
        else "not measured on a CUDA device with a known peak"))
    e = summ.get("ivec_extract_x_one_core")
    lines.append("- i-vector extraction >= 50x one CPU core: " + (
        f"{e:.1f}x, {'met' if e >= TARGET_IVEC_CPU_RATIO else 'not met'}" if e is not None and math.isfinite(e)
        else "not measured (needs the CUDA row and its one-thread CPU row)"))
    lines += [
        "",
        "Notes:",
        "- throughput over the timed steps after warm-up; one device synchronisation per group of steps. Full loops: "
        "the trainer's own rate over its steady part (x-vector: the last of two diagnostics blocks; DNN-1: the "
        "second epoch).",
        "- FLOPs from the layer shapes: 2 x multiply-adds forward (x-vector: every frame layer's affine over the "
        "frames it outputs, segment and output layers once per chunk; DNN-1: every affine layer per frame), x3 for "
        "a training step; ReLU, batch norm, pooling and the optimizer are not counted. MFU = those FLOP/s over the "
        "bf16 dense peak, also for fp32 rows. i-vector extraction: TFLOP/s of its float64 algebra "
        "(bench/gpu.py: ivector_extract_flops), no MFU. PLDA: the scoring GEMM only.",
        "- peak GPU MiB: torch.cuda.max_memory_allocated over the row, set-up included.",
        "- x CPU: throughput over the CPU row's (bf16 rows over the fp32 CPU row; i-vector rows over one thread).",
    ] + notes
    return "\n".join(lines) + "\n"


# ============================================================================================ main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    p.add_argument("--quick", action="store_true", help="tiny sizes (tests): every row's code path, no numbers")
    p.add_argument("--out", type=Path, default=None,
                   help="md path (the JSON is written beside it); default bench/results/gpu.md on cuda, "
                        "gpu_cpu.md on cpu, gpu_quick.md with --quick")
    p.add_argument("--budget-s", type=float, default=None,
                   help="wall-clock budget of the whole run; rows that would not fit are skipped (default 420, "
                        "60 with --quick)")
    p.add_argument("--rows", default="", help="only these rows (comma-separated keys)")
    p.add_argument("--row-seconds", type=float, default=None, help="timed seconds per row on the device "
                   "(default 5, 0.1 with --quick)")
    p.add_argument("--cpu-row-seconds", type=float, default=None, help="timed seconds per CPU ratio row "
                   "(default 5, 0.1 with --quick)")
    p.add_argument("--cpu-threads", type=int, default=0, help="torch threads of the CPU rows (default: all CPUs)")
    p.add_argument("--no-cpu", action="store_true", help="no CPU ratio rows on a CUDA run")
    p.add_argument("--peak-tflops", type=float, default=None, help="the card's dense bf16 peak (TFLOP/s) when the "
                   "table does not know it (or to override it)")
    args = p.parse_args(argv)
    args.budget_s = args.budget_s or (60.0 if args.quick else 420.0)
    args.row_seconds = args.row_seconds or (0.1 if args.quick else 5.0)
    args.cpu_row_seconds = args.cpu_row_seconds or (0.1 if args.quick else 5.0)
    keys = [k for k in args.rows.split(",") if k] or list(ROW_KEYS)
    unknown = sorted(set(keys) - set(ROW_KEYS))
    if unknown:
        p.error(f"unknown rows {unknown}; known: {', '.join(ROW_KEYS)}")
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench/gpu.py: --device cuda but torch sees no CUDA device", file=sys.stderr)
        return 2
    out = args.out or RESULTS / ("gpu_quick.md" if args.quick else "gpu.md" if args.device == "cuda" else
                                 "gpu_cpu.md")
    primary = torch.device("cuda", torch.cuda.current_device()) if args.device == "cuda" else torch.device("cpu")
    b = Bench(args, QUICK if args.quick else FULL, primary)
    meta: dict[str, Any] = {
        "command": " ".join(["bench/gpu.py"] + (argv if argv is not None else sys.argv[1:])),
        "date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": args.quick,
        "budget_s": args.budget_s, "torch": torch.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "cpu": cpu_name(), "cpu_count": os.cpu_count(),
        "cpu_threads": b.cpu_threads, "peak_bf16_tflops": None, "peak_source": "", "gemm_bf16_tflops": None,
    }
    if primary.type == "cuda":
        prop = torch.cuda.get_device_properties(primary)
        meta.update(device=prop.name, device_detail=f"{prop.multi_processor_count} SMs, "
                    f"{prop.total_memory / 2**30:.1f} GiB", cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
        table = peak_bf16_tflops(prop.name)
        meta["peak_bf16_tflops"] = args.peak_tflops or table
        meta["peak_source"] = "--peak-tflops" if args.peak_tflops else "datasheet table in bench/gpu.py"
        try:
            meta["gemm_bf16_tflops"] = gemm_probe(primary)
        except RuntimeError as e:  # e.g. out of memory on a small card
            print(f"[gpu-bench] GEMM probe failed: {e}", file=sys.stderr)
    else:
        meta.update(device=f"CPU only: {meta['cpu']}", device_detail="")
        if args.peak_tflops:
            meta.update(peak_bf16_tflops=args.peak_tflops, peak_source="--peak-tflops")
    print(f"[gpu-bench] {meta['device']}; budget {args.budget_s:.0f} s", file=sys.stderr)
    rows: list[Row] = []
    todo = plan(primary, keys, not args.no_cpu)
    try:
        for i, (key, device) in enumerate(todo):
            rows.append(run_row(b, key, device))
            # after every row, so that a run stopped from outside keeps what it measured
            write_outputs(out, meta, rows, primary.type, b.budget.elapsed(), pending=len(todo) - i - 1)
    finally:
        b.close()
    print(out.read_text())
    print(f"[gpu-bench] wrote {out} and {out.with_suffix('.json')} in {b.budget.elapsed():.0f} s", file=sys.stderr)
    failed = [r.key for r in rows if r.status.startswith("failed")]
    return 1 if failed else 0


def write_outputs(out: Path, meta: dict[str, Any], rows: list[Row], primary: str, elapsed: float,
                  pending: int = 0) -> None:
    """<out> (md) and the JSON beside it (atomically: a run stopped while writing leaves the previous pair)."""
    from phonsid.io.atomic import atomic_write_text

    finish_rows(rows, meta["peak_bf16_tflops"], primary)
    summ = summary(rows)
    meta = dict(meta, elapsed_s=elapsed, rows_pending=pending)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, render_md(meta, rows, summ))
    doc = {"meta": meta, "summary": summ, "rows": [dataclasses.asdict(r) for r in rows]}
    atomic_write_text(out.with_suffix(".json"), json.dumps(_finite_or_null(doc), indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
