#!/usr/bin/env python3
"""CPU cost of the recipe's heavy torch steps with glibc's default malloc and with path.sh's settings
(MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_: large blocks from the heap, kept for reuse), each in a child
process on one thread, and whether they compute the same bits. Writes bench/results/malloc.md.

Rows: a full-size x-vector training step (conf/xvector.yaml's 512/1500 TDNN, 30-dim input, 1,000 speakers, 64
chunks of 300 frames, SGD with momentum), a DNN-1 training step (conf/bnf1.yaml, 4,200 senones, 256 frames), and
DNN-1 bottleneck extraction over 5 minutes of frames in one 20,000-frame call at a time.

Usage: ./venv/bin/python bench/malloc.py [--steps 4] [--out bench/results/malloc.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TUNED = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "68719476736"}  # path.sh's values

CHILD = r"""
import hashlib, json, resource, sys, time
import torch
torch.set_num_threads(1)
row, steps = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3] + "/pyscripts")
torch.manual_seed(0)
g = torch.Generator().manual_seed(1)
h = hashlib.sha256()
if row == "xvector_train":
    from phonsid.nnet.xvector import XvectorTDNN
    model = XvectorTDNN(30, 1000)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.5)
    def step():
        x = torch.randn(64, 300, 30, generator=g); y = torch.randint(0, 1000, (64,), generator=g)
        opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
    frames = 64 * 300
elif row == "dnn1_train":
    from phonsid.nnet.bnf import BottleneckDNN, load_bnf_config
    cfg = load_bnf_config(sys.argv[3] + "/conf/bnf1.yaml", [])
    model = BottleneckDNN(40, 4200, cfg.input, cfg.model)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    def step():
        x = torch.randn(256, 440, generator=g); y = torch.randint(0, 4200, (256,), generator=g)
        opt.zero_grad(); logits, _ = model(x); torch.nn.functional.cross_entropy(logits, y).backward(); opt.step()
    frames = 256
else:
    from phonsid.nnet.bnf import BottleneckDNN, load_bnf_config
    cfg = load_bnf_config(sys.argv[3] + "/conf/bnf1.yaml", [])
    model = BottleneckDNN(40, 4200, cfg.input, cfg.model).eval()
    x = torch.randn(20000, 440, generator=g)
    outs = []
    def step():
        with torch.no_grad():
            h.update(model.bottleneck(x).numpy().tobytes())
    frames = 20000
step()  # warm-up
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
for _ in range(steps):
    step()
r1 = resource.getrusage(resource.RUSAGE_SELF); wall = time.perf_counter() - t0
for p in model.parameters():
    h.update(p.detach().numpy().tobytes())
print(json.dumps({"user": r1.ru_utime - r0.ru_utime, "sys": r1.ru_stime - r0.ru_stime, "wall": wall,
                  "frames": frames * steps, "faults": r1.ru_minflt - r0.ru_minflt, "digest": h.hexdigest()[:16]}))
"""


def run(row: str, steps: int, tuned: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in TUNED}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **(TUNED if tuned else {}))
    out = subprocess.run([sys.executable, "-c", CHILD, row, str(steps), str(REPO)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "malloc.md")
    a = ap.parse_args(argv)
    lines = ["# glibc malloc settings of path.sh: CPU cost of the heavy torch steps", "",
             f"Written by `bench/malloc.py` ({time.strftime('%Y-%m-%d %H:%M')}; {a.steps} timed steps after one "
             f"warm-up, one thread, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start). "
             "'default': glibc's defaults; 'path.sh': " + ", ".join(f"{k}={v}" for k, v in TUNED.items()) + ". "
             "Throughput is frames per CPU-second (user + system); 'same bits': the parameters after the steps (or "
             "the features extracted) are identical.", "",
             "| step | malloc | user s | system s | minor faults | frames / CPU-s | speed-up | same bits |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for row in ("xvector_train", "dnn1_train", "bnf_extract"):
        base, tuned = run(row, a.steps, False), run(row, a.steps, True)
        rate = [r["frames"] / (r["user"] + r["sys"]) for r in (base, tuned)]
        for name, r, rt in (("default", base, rate[0]), ("path.sh", tuned, rate[1])):
            lines.append(f"| {row} | {name} | {r['user']:.2f} | {r['sys']:.2f} | {r['faults']:,} | {rt:,.0f} | "
                         + ("" if name == "default" else f"{rate[1] / rate[0]:.2f}x") + " | "
                         + ("" if name == "default" else ("yes" if base["digest"] == tuned["digest"] else "**no**"))
                         + " |")
        print(lines[-2], lines[-1], sep="\n", flush=True)
    lines.append("")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
