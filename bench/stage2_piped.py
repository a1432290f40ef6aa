#!/usr/bin/env python3
"""Stage 2 (augmentation + its MFCCs) against stage 1 (clean MFCC + VAD + hires MFCC) on a piped corpus.

speechocean762 as published is 16 kHz WAV; the recipe runs at 8 kHz, so every clean wav.scp entry is a resampling
pipe and every augmented one a chain (``<python> -m phonsid.augment.resample ... - | <python>
.../wav_reverberate.py ... - - |``), the shape SRE10 (sph2pipe) and VoxCeleb (ffmpeg) entries have too. This lays
the shared 8 kHz subset (../shared/data/speechocean762: 125 speakers, 1,500 utterances, 1.73 h) out as the
published corpus (``WAVE/SPEAKERnnnn/<utt>.WAV`` at 16 kHz, ``train/`` tables, ``resource/lexicon.txt``), runs
``run.sh --corpus speechocean762`` stages 0, 1 and 2 in a copy of a checkout, and reports each stage's wall time.
Issue 15's target: stage 2 <= 3 x stage 1 (it was ~60 x when each augmented utterance started two Pythons).

    ./venv/bin/python bench/stage2_piped.py [--repo <checkout>] [--speakers N] [--nj 2] [--label after] [--out F]

``--repo`` times another checkout (e.g. ``git archive <commit> | tar -x -C /tmp/before``) with this venv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pyscripts"))

from phonsid.augment.resample import resample  # noqa: E402
from phonsid.data import read_map, write_map  # noqa: E402
from phonsid.io.wav import read_wav_spec, write_wav  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
_RUN_OUTPUTS = {"venv", "data", "exp", "mfcc", "downloads", ".git", ".pytest_cache"}  # top-level, not copied


def lay_out_published(subset: Path, root: Path, num_speakers: int | None = None) -> float:
    """The shared subset (its first ``num_speakers`` speakers in C order, or all) as the published corpus at
    16 kHz; returns its hours of audio."""
    utt2spk = read_map(subset / "utt2spk")
    keep = sorted(set(utt2spk.values()))[:num_speakers]
    utt2spk = {u: s for u, s in utt2spk.items() if s in keep}
    wav_list = {u: v for u, v in read_map(subset / "wav.list").items() if u in utt2spk}
    wav_scp, seconds = {}, 0.0
    for utt, rel in wav_list.items():
        spk = utt2spk[utt]
        wave = read_wav_spec(str(subset.parent / rel))
        x = np.clip(np.rint(resample(wave.data[0], wave.sample_rate, 16000)), -32768, 32767)
        path = root / "WAVE" / f"SPEAKER{spk}" / f"{utt}.WAV"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, x, 16000)
        wav_scp[utt] = f"WAVE/SPEAKER{spk}/{utt}.WAV"
        seconds += wave.duration
    train = root / "train"
    train.mkdir(parents=True, exist_ok=True)
    write_map(train / "wav.scp", wav_scp)
    write_map(train / "utt2spk", utt2spk)
    write_map(train / "text", {u: t for u, t in read_map(subset / "text").items() if u in utt2spk})
    for name in ("spk2gender", "spk2age"):
        write_map(train / name, {s: v for s, v in read_map(subset / name).items() if s in keep})
    spk2utt: dict[str, list[str]] = {}
    for utt, spk in sorted(utt2spk.items()):
        spk2utt.setdefault(spk, []).append(utt)
    write_map(train / "spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})
    shutil.copytree(subset / "resource", root / "resource")
    return seconds / 3600


def copy_checkout(repo: Path, dest: Path) -> None:
    """The recipe's files without run outputs; the venv of this checkout is linked in."""
    for src in repo.rglob("*"):
        rel = src.relative_to(repo)
        if rel.parts[0] in _RUN_OUTPUTS or "__pycache__" in rel.parts or not src.is_file() or src.is_symlink():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    os.symlink(REPO / "venv", dest / "venv")


def run_stage(work: Path, stage: int, so762_root: Path, nj: int) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", "run.sh", "--corpus", "speechocean762", "--so762-root", str(so762_root),
                           "--nj", str(nj), "--stage", str(stage), "--stop-stage", str(stage)],
                          cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"stage {stage} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repo", type=Path, default=REPO, help="checkout to time (default: this one)")
    p.add_argument("--nj", type=int, default=2)
    p.add_argument("--speakers", type=int, default=None, help="only the first N speakers (default: all 125)")
    p.add_argument("--label", default="this checkout", help="name of the run in the table")
    p.add_argument("--out", type=Path, default=None, help="append the table row to this markdown file")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args()
    if not (SHARED / "speechocean762" / "wav.list").is_file():
        sys.exit(f"needs {SHARED / 'speechocean762'}")
    tmp = Path(tempfile.mkdtemp(prefix="phonsid_stage2_"))
    try:
        hours = lay_out_published(SHARED / "speechocean762", tmp / "speechocean762", args.speakers)
        work = tmp / "recipe"
        copy_checkout(args.repo.resolve(), work)
        times = {s: run_stage(work, s, tmp / "speechocean762", args.nj) for s in (0, 1, 2)}
        aug = len(read_map(work / "data/so762_train_aug/utt2spk"))
        pipes = sum(v.count("|") >= 2 for v in read_map(work / "data/so762_train_aug/wav.scp").values())
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
    header = ("| run | audio (h) | augmented utts (chained pipes) | stage 0 (s) | stage 1 (s) | stage 2 (s) | "
              "stage 2 / stage 1 |\n|---|---|---|---|---|---|---|")
    row = (f"| {args.label} | {hours:.2f} | {aug} ({pipes}) | {times[0]:.0f} | {times[1]:.0f} | {times[2]:.0f} | "
           f"{times[2] / times[1]:.2f} |")
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}, nj={args.nj}, cores={os.cpu_count()}")
    print(header)
    print(row)
    if args.out:
        new = not args.out.exists()
        with open(args.out, "a", encoding="utf-8") as f:
            f.write((header + "\n" if new else "") + row + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
