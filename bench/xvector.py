#!/usr/bin/env python3
"""x-vector speed: training throughput with real data loading (the trainer on memory-mapped egs) against the bare
model step on in-memory tensors, the egs loader alone, and extraction speed (x real time).

Usage: bench/xvector.py [--model kaldi|demo] [--device cpu|cuda] [--amp] [--steps N] [--chunk 300]
  e.g. ./venv/bin/python bench/xvector.py                      # Kaldi-size network on CPU
       ./venv/bin/python bench/xvector.py --device cuda --amp --steps 40
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyscripts"))

from phonsid.io.atomic import atomic_write_text  # noqa: E402
from phonsid.nnet.train_xvector import load_xvector_config, train_xvector  # noqa: E402
from phonsid.nnet.training import KaldiSGD, DistContext  # noqa: E402
from phonsid.nnet.xvector import XvectorTDNN  # noqa: E402
from phonsid.nnet.prefetch import Prefetcher  # noqa: E402
from phonsid.nnet.xvector_egs import EgsArchive  # noqa: E402
from phonsid.nnet.xvector_extract import XvectorExtractor  # noqa: E402

MODELS = {
    "kaldi": [],  # conf/xvector.yaml as is: 512/1500 TDNN
    "demo": ["model.frame_dims=[128,128,128,128,384]", "model.segment_dims=[128,128]"],
}


def make_egs(d: Path, num_archives: int, egs_per_archive: int, chunk: int, dim: int, num_spk: int) -> None:
    rng = np.random.default_rng(0)
    for k in range(1, num_archives + 1):
        mm = np.lib.format.open_memmap(d / f"egs.{k}.feats.npy", mode="w+", dtype=np.float16,
                                       shape=(egs_per_archive, chunk, dim))
        for s in range(0, egs_per_archive, 256):
            n = min(256, egs_per_archive - s)
            mm[s:s + n] = rng.standard_normal((n, chunk, dim)).astype(np.float16)
        mm.flush()
        del mm
        np.save(d / f"egs.{k}.labels.npy", rng.integers(0, num_spk, egs_per_archive).astype(np.int32))
    (d / "info").mkdir(exist_ok=True)
    for name, value in (("feat_dim", dim), ("num_archives", num_archives), ("num_diagnostic_archives", 0)):
        atomic_write_text(d / "info" / name, f"{value}\n")
    atomic_write_text(d / "pdf2num", " ".join(["1"] * num_spk) + "\n")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_steps(cfg, dim: int, num_spk: int, chunk: int, batch: int, steps: int, device: torch.device, amp: bool):
    """The model step alone: forward, backward and the Kaldi update on tensors already on the device."""
    torch.manual_seed(0)
    model = XvectorTDNN(dim, num_spk, cfg.model).to(device).train()
    opt = KaldiSGD([(n, list(m.parameters()), 0.75) for n, m in model.updatable_components()], 0.5, 2.0)
    x = torch.randn(batch, chunk, dim, device=device)
    y = torch.randint(0, num_spk, (batch,), device=device)
    dtype = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float16

    def step():
        with torch.autocast(device_type=device.type, dtype=dtype, enabled=amp and device.type == "cuda"):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step(lr=0.064, shrink=0.9999)

    for _ in range(2):
        step()
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - t) / steps


def trainer_steps(cfg, egs: Path, out: Path, device: torch.device, amp: bool, steps: int) -> float:
    """The real trainer on memory-mapped egs: seconds per step over the second half of the run (the first half
    holds the warm-up; diagnostics are outside the timed block)."""
    train_xvector(egs, out, cfg, use_gpu="yes" if device.type == "cuda" else "no", amp=amp, log=lambda m: None,
                  ctx=DistContext(device=device))
    rows = list(csv.DictReader(open(out / "diagnostics.csv")))
    return cfg.train.minibatch_size / float(rows[-1]["egs_per_sec"])


def loader_rate(egs: Path, batch: int, seconds: float = 3.0) -> tuple[float, float]:
    """Examples/s and MB/s of the loader alone (memmap gather + float32 conversion, prefetch thread)."""
    a = EgsArchive(egs / "egs.1")
    rng = np.random.default_rng(1)
    n = 0
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        perms = [np.sort(rng.permutation(a.num_egs)[:batch]) for _ in range(20)]
        with Prefetcher(perms, lambda idx: a.read(idx)) as p:
            for feats, _ in p:
                n += len(feats)
    dt = time.perf_counter() - t
    mb = n * a.chunk_length * a.feat_dim * a.feats.dtype.itemsize / 1e6
    return n / dt, mb / dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(MODELS), default="kaldi")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--amp", action="store_true", help="mixed precision (GPU only)")
    ap.add_argument("--steps", type=int, default=0, help="timed steps (default 6 on CPU, 60 on GPU)")
    ap.add_argument("--chunk", type=int, default=300, help="frames per training chunk (Kaldi: 200-400)")
    ap.add_argument("--feat-dim", type=int, default=23)
    ap.add_argument("--num-spk", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3, help="alternating measurements of bare step and trainer; "
                    "the best of each is reported")
    ap.add_argument("--extract-seconds", type=float, default=60.0, help="utterance length for extraction")
    args = ap.parse_args()
    device = torch.device(args.device)
    steps = args.steps or (60 if device.type == "cuda" else 6)
    cfg = load_xvector_config(Path(__file__).resolve().parents[1] / "conf" / "xvector.yaml", MODELS[args.model])
    batch = cfg.train.minibatch_size
    threads = torch.get_num_threads()
    frames = batch * args.chunk
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {threads} threads"
    print(f"# x-vector bench: {args.model} network, {args.feat_dim}-dim input, {args.num_spk} speakers, minibatch "
          f"{batch} x {args.chunk} frames, {device} ({name}){', AMP' if args.amp else ''}")
    rows = []

    # bare step and trainer alternate, best of --repeats each: the figures survive a busy shared machine
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        total = 2 * steps
        make_egs(tmp, 1, total * batch, args.chunk, args.feat_dim, args.num_spk)
        tcfg = load_xvector_config(Path(__file__).resolve().parents[1] / "conf" / "xvector.yaml", MODELS[args.model] + [
            "train.num_epochs=1", f"train.diagnostic_interval={steps}", f"train.checkpoint_interval={10 * total}",
            f"train.log_interval={10 * total}", "train.proportional_shrink=0"])
        bares, fulls = [], []
        for r in range(args.repeats):
            bares.append(bare_steps(cfg, args.feat_dim, args.num_spk, args.chunk, batch, steps, device, args.amp))
            fulls.append(trainer_steps(tcfg, tmp, tmp / f"exp{r}", device, args.amp, steps))
        bare, full = min(bares), min(fulls)
        rows.append(("model step alone (in-memory tensors)", f"{steps} steps", bare, frames / bare, batch / bare, 1.0))
        rows.append(("trainer with memmap egs + loader", f"{steps} steps", full, frames / full, batch / full,
                     bare / full))
        egs_s, mb_s = loader_rate(tmp, batch)
        rows.append(("egs loader alone", f"{mb_s:.0f} MB/s", batch / egs_s, egs_s * args.chunk, egs_s,
                     egs_s / (batch / bare)))

    torch.manual_seed(0)
    model = XvectorTDNN(args.feat_dim, args.num_spk, cfg.model).eval()
    ex = XvectorExtractor(model, chunk_size=10000, min_chunk_size=25, device=str(device), cmn_window=0)
    n = int(args.extract_seconds * 100)
    x = np.random.default_rng(2).standard_normal((n, args.feat_dim)).astype(np.float32)
    ex.embed_prepared(x)
    reps = 3
    t = time.perf_counter()
    for _ in range(reps):
        ex.embed_prepared(x)
    sync(device)
    dt = (time.perf_counter() - t) / reps
    rows.append((f"extraction ({args.extract_seconds:.0f} s utterance)", f"{n} frames", dt, n / dt, 1 / dt,
                 args.extract_seconds / dt))

    print(f"{'what':40s} {'size':>14s} {'s/step':>9s} {'frames/s':>11s} {'chunks/s':>9s} {'ratio':>8s}")
    for what, size, t, fps, eps, ratio in rows:
        print(f"{what:40s} {size:>14s} {t:9.4f} {fps:11.0f} {eps:9.1f} {ratio:8.2f}")
    print(f"best of {args.repeats} alternating runs; all runs s/step: bare {' '.join(f'{b:.3f}' for b in bares)}, "
          f"trainer {' '.join(f'{f:.3f}' for f in fulls)}")
    print("ratio: trainer / bare step throughput; loader / bare step example rate; extraction: x real time "
          f"(100 frames/s); threads={threads}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
