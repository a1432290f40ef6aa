#!/usr/bin/env python3
"""Bottleneck-DNN speed: training throughput of the real trainer on memory-mapped frames (DNN-1 and the multi-task
DNN-2, frames/s) and extraction speed (bottleneck features, x real time at 100 frames/s, sliding CMN and
splicing included), on synthetic frames of the right shapes.

Usage: bench/bnf.py [--size paper|demo] [--device cpu|cuda] [--amp] [--threads N] [--frames N] [--num-pdfs N]
  e.g. ./venv/bin/python bench/bnf.py                                  # paper-size networks (1024 wide) on CPU
       ./venv/bin/python bench/bnf.py --size demo                      # the demo recipe's 256-wide networks
       ./venv/bin/python bench/bnf.py --device cuda --amp --frames 2000000
The ratio column compares each row with the first row of its kind (float32 training, one thread of extraction...).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pyscripts"))

from phonsid.nnet.bnf import load_bnf_config  # noqa: E402
from phonsid.nnet.extract_bnf import BnfExtractor  # noqa: E402
from phonsid.nnet.frames import FrameSetWriter  # noqa: E402
from phonsid.nnet.train_bnf import train_bnf  # noqa: E402

SIZES = {"paper": [], "demo": ["model.hidden_dim=256"]}


def make_egs(d: Path, cfg, frames: int, dim: int, num_pdfs: int, num_spk: int, utt_len: int = 400) -> None:
    """Random frames in utterances of ``utt_len`` frames, as nnet_bnf_prepare.py lays them out."""
    import json

    rng = np.random.default_rng(0)
    for name, n in (("train", frames), ("valid", max(frames // 50, utt_len))):
        w = FrameSetWriter(d, name, n, dim)
        pos = 0
        while pos < n:
            m = min(utt_len, n - pos)
            w.append(f"{name}{pos}", rng.standard_normal((m, dim)).astype(np.float32),
                     rng.integers(0, num_pdfs, m).astype(np.int32), int(rng.integers(0, num_spk)))
            pos += m
        w.close()
    np.savez(d / "input_stats.npz", mean=np.zeros(dim), std=np.ones(dim))
    info = {"feat_dim": dim, "num_pdfs": num_pdfs, "num_speakers": num_spk, "train_frames": frames,
            "valid_frames": max(frames // 50, utt_len), "majority_rate_valid": 1.0 / num_pdfs,
            "input": cfg.network_dict()["input"]}
    (d / "info.json").write_text(json.dumps(info))


def bench_train(conf: str, overrides: list[str], dim: int, args, amp: bool) -> tuple[float, int, int]:
    cfg = load_bnf_config(REPO / "conf" / conf, overrides + [
        "train.num_epochs=1", f"train.minibatch_size={args.minibatch_size}", "train.log_interval=1000000",
        "data.valid_speakers=0"])
    with tempfile.TemporaryDirectory() as tmp:
        egs = Path(tmp) / "egs"
        make_egs(egs, cfg, args.frames, dim, args.num_pdfs, args.num_speakers)
        res = train_bnf(egs, Path(tmp) / "dnn", cfg, use_gpu="yes" if args.device == "cuda" else "no", amp=amp,
                        log=lambda m: None)
        model = torch.load(Path(tmp) / "dnn" / "final.pt", weights_only=False)
        nparams = sum(v.numel() for k, v in model["state_dict"].items() if "running" not in k and "batches" not in k)
    return res.diagnostics["frames_per_sec"], int(res.diagnostics["step"]) * args.minibatch_size, nparams


def bench_extract(args, overrides: list[str]) -> list[tuple[str, float, int]]:
    """x real time of DNN-1 bottleneck extraction (sliding CMN, splicing, network) over 500-frame utterances."""
    cfg = load_bnf_config(REPO / "conf" / "bnf1.yaml", overrides)
    from phonsid.nnet.bnf import BottleneckDNN, save_bnf_model

    rng = np.random.default_rng(1)
    utts = [(f"u{i}", rng.standard_normal((500, 40)).astype(np.float32), None) for i in range(args.extract_utts)]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        model = BottleneckDNN(40, args.num_pdfs, cfg.input, cfg.model)
        save_bnf_model(Path(tmp) / "final.pt", model.eval())
        ex = BnfExtractor(Path(tmp), device=args.device)
        ex.compute_many(utts[:2])  # warm-up
        if args.device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for s in range(0, len(utts), 40):  # batches of 40 utterances = 20000 frames, as nnet_bnf_compute.py
            ex.compute_many(utts[s:s + 40])
        if args.device == "cuda":
            torch.cuda.synchronize()
        sec = time.perf_counter() - t
        frames = 500 * len(utts)
        out.append(("extract BNF (DNN-1)", frames * 0.01 / sec, frames))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="paper", choices=sorted(SIZES))
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--amp", action="store_true", help="also train with AMP (GPU only)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--frames", type=int, default=0, help="training frames per run (default: 60000 on CPU, "
                   "3000000 on GPU)")
    p.add_argument("--minibatch-size", type=int, default=256)
    p.add_argument("--num-pdfs", type=int, default=3000, help="senones (the paper's DNNs had ~8700)")
    p.add_argument("--num-speakers", type=int, default=500, help="speaker classes of the multi-task head")
    p.add_argument("--extract-utts", type=int, default=0, help="500-frame utterances to extract (default: 40 on "
                   "CPU, 2000 on GPU)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 1
    args.frames = args.frames or (3_000_000 if args.device == "cuda" else 60_000)
    args.extract_utts = args.extract_utts or (2000 if args.device == "cuda" else 40)
    dev = torch.cuda.get_device_name() if args.device == "cuda" else f"cpu, {torch.get_num_threads()} thread(s)"
    print(f"bottleneck DNN benchmark: {args.size} size, {args.num_pdfs} senones, minibatch {args.minibatch_size}, "
          f"{args.frames} training frames per run; device {dev}; torch {torch.__version__}")
    over = SIZES[args.size]
    rows = []
    runs = [("train DNN-1 (40x11 in)", "bnf1.yaml", 40, False), ("train MT DNN-2 (80x5 in)", "mt_sbnf.yaml", 80, False)]
    if args.amp and args.device == "cuda":
        runs += [("train DNN-1 AMP bf16", "bnf1.yaml", 40, True), ("train MT DNN-2 AMP bf16", "mt_sbnf.yaml", 80, True)]
    for what, conf, dim, amp in runs:
        t = time.perf_counter()
        fps, n, nparams = bench_train(conf, over, dim, args, amp)
        rows.append((what, f"{nparams / 1e6:.2f}M params", n, time.perf_counter() - t, fps, "frames/s"))
    for what, xrt, frames in bench_extract(args, over):
        rows.append((what, "500-frame utts", frames, frames * 0.01 / xrt, xrt, "x real time"))
    print(f"{'what':28s} {'size':16s} {'frames':>9s} {'time s':>8s} {'speed':>12s} {'unit':12s} {'ratio':>6s}")
    anchor = {}
    for what, size, n, sec, speed, unit in rows:
        kind = what.split(" (")[0].replace(" AMP bf16", "")
        anchor.setdefault(kind, speed)
        print(f"{what:28s} {size:16s} {n:9d} {sec:8.2f} {speed:12.0f} {unit:12s} {speed / anchor[kind]:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
