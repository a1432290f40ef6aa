#!/usr/bin/env python3
"""Augmentation benchmark: throughput of reverb / noise / music / babble (x real time, one thread), RIR simulation
time per RIR, and the RT60 error table of simulated rooms (requested vs measured, small/medium/large).

Usage: ./venv/bin/python bench/augment.py [--utts 4] [--rooms 3] [--rirs-per-room 2] [--sample-rate 16000]
Speech, noise and music come from ../shared/data when present (real recordings), else they are synthesised.
Two throughputs per augmentation: reading the lazy wav.scp entry as a pipe (a fresh Python per entry, what
feature extraction pays) and the same computation in this process (no start-up).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pyscripts"))

from phonsid.augment import datadir, rirsim  # noqa: E402
from phonsid.data import read_map, write_map  # noqa: E402
from phonsid.io.pipeline import run_shell  # noqa: E402
from phonsid.io.wav import read_wav_spec, write_wav  # noqa: E402


def _data_dir(d: Path, wavs: dict[str, str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    write_map(d / "wav.scp", wavs)
    write_map(d / "utt2spk", {k: k for k in wavs})
    write_map(d / "reco2dur", {k: repr(read_wav_spec(v).duration) for k, v in wavs.items()})
    return d


def _sources(root: Path, fs: int, utts: int) -> dict[str, Path]:
    shared = REPO.parent / "shared" / "data"
    if (shared / "librispeech" / "wav.list").is_file() and fs == 16000:
        lst = [line.split() for line in (shared / "librispeech" / "wav.list").read_text().splitlines() if line]
        speech = {u: str(shared / p) for u, p in lst[:utts]}
        babble = {u: str(shared / p) for u, p in lst[20:30]}
        noise = {f"noise{i}": str(shared / "noise" / "noise" / f"noise{i}.wav") for i in range(1, 6)}
        music = {f"music{i}": str(shared / "noise" / "music" / f"music{i}.wav") for i in range(1, 6)}
        origin = "real (../shared/data)"
    else:
        rng = np.random.default_rng(0)
        speech, babble, noise, music = {}, {}, {}, {}
        for table, prefix, n, secs in ((speech, "utt", utts, 10.0), (babble, "bab", 10, 8.0),
                                       (noise, "noise", 5, 5.0), (music, "music", 5, 15.0)):
            for i in range(n):
                t = np.arange(int(secs * fs)) / fs
                x = 3000 * np.sin(2 * np.pi * (120 + 30 * i) * t) * (1 + np.sin(2 * np.pi * 2 * t)) + \
                    rng.normal(size=len(t)) * 500
                path = root / "wav" / f"{prefix}{i}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                write_wav(path, x, fs)
                table[f"{prefix}{i}"] = str(path)
        origin = "synthetic"
    return {"speech": _data_dir(root / "speech", speech), "babble": _data_dir(root / "babble", babble),
            "noise": _data_dir(root / "noise", noise), "music": _data_dir(root / "music", music),
            "origin": origin}  # type: ignore[dict-item]


def _time_entries(out_dir: Path) -> tuple[float, float, float]:
    """(audio seconds, seconds through the pipe, seconds in-process) over all entries of a wav.scp."""
    audio = pipe = inproc = 0.0
    for value in read_map(out_dir / "wav.scp").values():
        t0 = time.perf_counter()
        wave = run_shell(value.strip().rstrip("|"))
        pipe += time.perf_counter() - t0
        t0 = time.perf_counter()
        read_wav_spec(value)
        inproc += time.perf_counter() - t0
        audio += wave.duration
    return audio, pipe, inproc


def _uniform_sabine_rt60(info: dict, fs: int) -> float:
    """RT60 measured when the same room is simulated the usual way: one absorption from pyroomacoustics'
    inverse_sabine for the asked RT60 on all walls (the anchor the calibration is compared with)."""
    import pyroomacoustics as pra

    from phonsid.augment.rt60 import measure_rt60

    e_abs, order = pra.inverse_sabine(info["rt60_target"], info["dims"])
    h = rirsim.simulate_shoebox(info["dims"], (e_abs,) * 3, info["sources"][:1], info["mic"], fs, min(order, 100))
    return measure_rt60(h[0], fs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--utts", type=int, default=4, help="utterances per augmentation type")
    ap.add_argument("--rooms", type=int, default=3, help="simulated rooms per room type")
    ap.add_argument("--rirs-per-room", type=int, default=2)
    ap.add_argument("--sample-rate", type=int, default=16000)
    args = ap.parse_args()
    fs = args.sample_rate
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = _sources(root, fs, args.utts)
        print(f"# augmentation benchmark: {os.cpu_count()} CPUs, 1 thread (OMP/BLAS), {fs} Hz, "
              f"speech/noise {src['origin']}")

        sim_rows = []
        for name in ("smallroom", "mediumroom", "largeroom"):
            t0 = time.perf_counter()
            recs = rirsim.simulate_rirs(root / "rirs", [name], args.rooms, args.rirs_per_room, fs, seed=11)[name]
            sim_rows.append((name, len(recs), (time.perf_counter() - t0) / len(recs)))

        runs = {
            "reverb": lambda out: datadir.reverberate_data_dir(
                src["speech"], out, utt_suffix="reverb",
                rir_set_parameters=[f"0.5, {root}/rirs/simulated_rirs/smallroom/rir_list",
                                    f"0.5, {root}/rirs/simulated_rirs/mediumroom/rir_list"]),
            "noise": lambda out: datadir.augment_data_dir(src["speech"], out, fg_noise_dir=str(src["noise"]),
                                                          fg_snrs="15:10:5:0", fg_interval=1, utt_suffix="noise"),
            "music": lambda out: datadir.augment_data_dir(src["speech"], out, bg_noise_dir=str(src["music"]),
                                                          bg_snrs="15:10:8:5", num_bg_noises="1",
                                                          utt_suffix="music"),
            "babble": lambda out: datadir.augment_data_dir(src["speech"], out, bg_noise_dir=str(src["babble"]),
                                                           bg_snrs="20:17:15:13", num_bg_noises="3:4:5:6:7",
                                                           utt_suffix="babble"),
        }
        print(f"\n{'augmentation':<14}{'utts':>6}{'audio s':>10}{'pipe s':>9}{'x RT pipe':>11}{'in-proc s':>11}"
              f"{'x RT in-proc':>14}")
        for name, make in runs.items():
            out = root / f"aug_{name}"
            make(out)
            audio, pipe, inproc = _time_entries(out)
            n = len(read_map(out / "wav.scp"))
            print(f"{name:<14}{n:>6}{audio:>10.1f}{pipe:>9.2f}{audio / pipe:>11.1f}{inproc:>11.2f}"
                  f"{audio / inproc:>14.1f}")

        print(f"\n{'RIR simulation':<14}{'RIRs':>6}{'s / RIR':>10}")
        for name, n, per in sim_rows:
            print(f"{name:<14}{n:>6}{per:>10.2f}")

        print(f"\n{'room':<24}{'dims (m)':>20}{'RT60 asked':>12}{'measured (median)':>19}{'error':>8}"
              f"{'worst RIR':>11}{'uniform Sabine':>16}")
        errors = []
        for name in ("smallroom", "mediumroom", "largeroom"):
            for line in (root / "rirs" / "simulated_rirs" / name / "room_info").read_text().splitlines():
                info = json.loads(line)
                target = info["rt60_target"]
                med = float(np.median(info["rt60_measured"]))
                worst = max(info["rt60_measured"], key=lambda m: abs(m / target - 1))
                errors.append(abs(worst / target - 1))
                dims = "x".join(f"{d:.1f}" for d in info["dims"])
                sabine = _uniform_sabine_rt60(info, fs)
                print(f"{info['room_id']:<24}{dims:>20}{target:>12.3f}{med:>19.3f}{(med / target - 1):>+8.1%}"
                      f"{(worst / target - 1):>+11.1%}{sabine:>10.3f} s ({sabine / target - 1:+.0%})")
        print(f"\nworst RT60 error over {len(errors)} rooms: {max(errors):.1%} (bound: 20%); 'uniform Sabine': "
              f"inverse_sabine absorption on all walls, ISM order capped at 100, first source")
    return 0


if __name__ == "__main__":
    sys.exit(main())
