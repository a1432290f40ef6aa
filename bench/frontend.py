#!/usr/bin/env python3
"""Front-end speed: real-time factor (seconds of audio per CPU second, one thread) of MFCC + energy VAD.

Data: the 100 LibriSpeech test-other utterances of ../shared/data, resampled to 8 kHz 16-bit wav once
(polyphase, into a temporary folder), SRE10 configuration (conf/mfcc.conf with --dither=0, conf/vad.conf).
Rows:
  compute only      features + VAD of waveforms already in memory (the arithmetic alone)
  table pipeline    read wav.scp -> MFCC -> VAD -> write ark,scp (compute_feature_table, in process)
  make_mfcc.sh      the whole step on a data dir of those utterances (--nj 1, --vad-config), CPU time of every
                    process it starts (bash, run.pl, python start-up and imports included); also on a copy of
                    the demo corpus's training set (data/demo_train, if generated) with the recipe's
                    configuration (conf/mfcc.conf, dither 1.0)
for the vectorised engine (numpy), the kaldi-native-fbank reference (knf) and, for the numpy engine, the
recipe's dither 1.0. Anchor: Kaldi's compute-mfcc-feats on this machine, ~4,500x (measured by the issue's
author; not run here). Each row is the best of --repeats runs: the machine is shared, so the best run is
the least disturbed one.

Usage: bench/frontend.py [--repeats 5] [--data ../shared/data] [--demo data/demo_train] [--skip-step]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pyscripts"))

import numpy as np  # noqa: E402

KALDI_RTF = 4500.0  # Kaldi compute-mfcc-feats, one thread, this machine (issue 3)


def prepare(data_root: Path, work: Path) -> tuple[Path, float]:
    """8 kHz wavs and a data dir (wav.scp, utt2spk, spk2utt) of the test-other utterances."""
    import soundfile
    from scipy.signal import resample_poly

    from phonsid.io.wav import write_wav

    wav_dir = work / "wav8k"
    data = work / "data" / "test_other"
    wav_dir.mkdir(parents=True)
    data.mkdir(parents=True)
    entries, seconds = [], 0.0
    for line in (data_root / "librispeech" / "wav.list").read_text().splitlines():
        utt, rel = line.split()
        if "test-other" not in rel:
            continue
        x, rate = soundfile.read(data_root / rel, dtype="int16")
        y = resample_poly(x.astype(np.float64), 8000, rate)
        write_wav(wav_dir / f"{utt}.wav", y, 8000)
        entries.append(utt)
        seconds += len(y) / 8000
    entries.sort()
    (data / "wav.scp").write_text("".join(f"{u} {wav_dir / u}.wav\n" for u in entries))
    (data / "utt2spk").write_text("".join(f"{u} {u.split('-')[0]}\n" for u in entries))
    spk: dict[str, list[str]] = {}
    for u in entries:
        spk.setdefault(u.split("-")[0], []).append(u)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(us)}\n" for s, us in sorted(spk.items())))
    return data, seconds


def best_cpu(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--demo", default=str(REPO / "data" / "demo_train"), help="demo data dir for the step rows")
    ap.add_argument("--skip-step", action="store_true", help="do not time steps/make_mfcc.sh")
    args = ap.parse_args()
    data_root = Path(args.data)
    if not (data_root / "librispeech" / "wav.list").is_file():
        print(f"bench/frontend.py: {data_root}/librispeech is absent", file=sys.stderr)
        return 1

    from phonsid.features import KnfMfcc, Mfcc, compute_feature_table, iter_wav_rspecifier, read_mfcc_config
    from phonsid.features.options import read_vad_config
    from phonsid.features.vad import compute_vad_opts
    from phonsid.io.wav import iter_wav_table

    work = Path(tempfile.mkdtemp(prefix="phonsid_bench_"))
    try:
        data, seconds = prepare(data_root, work)
        conf, vad_conf = str(REPO / "conf" / "mfcc.conf"), str(REPO / "conf" / "vad.conf")
        opts = read_mfcc_config(conf, ["--dither=0"])
        dither_opts = read_mfcc_config(conf)
        vad = read_vad_config(vad_conf)
        waves = [w.data[0] for _, w in iter_wav_table(data / "wav.scp")]
        engines = {"numpy": Mfcc(opts), "numpy dither=1": Mfcc(dither_opts), "knf": KnfMfcc(opts)}
        rows: list[tuple[str, str, float]] = []

        for name, engine in engines.items():
            reps = args.repeats if name != "knf" else max(1, min(args.repeats, 2))

            def compute(engine=engine):
                rngs = [np.random.default_rng(i) for i in range(len(waves))]
                for f in engine.compute_batch(waves, rngs=rngs):
                    compute_vad_opts(f, vad)

            rows.append(("compute only (MFCC+VAD)", name, best_cpu(compute, reps)))

            def pipeline(engine=engine):
                out = work / "out"
                compute_feature_table(iter_wav_rspecifier(f"scp:{data / 'wav.scp'}"), engine,
                                      f"ark,scp:{out}.ark,{out}.scp", vad_opts=vad,
                                      vad_wspecifier=f"ark,scp:{out}_vad.ark,{out}_vad.scp")

            rows.append(("table pipeline (wav -> ark,scp + VAD)", name, best_cpu(pipeline, reps)))

        step_rows: list[tuple[str, str, float, float]] = []
        if not args.skip_step:
            env = dict(os.environ, LC_ALL="C")
            golden_conf = work / "mfcc_dither0.conf"
            golden_conf.write_text(Path(conf).read_text() + "--dither=0\n")
            sets = [("LibriSpeech 8k", data, str(golden_conf), seconds)]
            demo = Path(args.demo)
            if (demo / "wav.scp").is_file():
                demo_copy = work / "data" / "demo_train"
                demo_copy.mkdir(parents=True)
                for f in ("wav.scp", "utt2spk", "spk2utt"):
                    shutil.copy(demo / f, demo_copy / f)
                demo_seconds = sum(w.duration for _, w in iter_wav_table(demo_copy / "wav.scp"))
                sets.append(("demo_train, recipe conf", demo_copy, conf, demo_seconds))
            for label, ddir, cfg, secs in sets:
                for engine_name in ("numpy", "knf"):
                    best = float("inf")
                    for _ in range(args.repeats if engine_name == "numpy" else 1):
                        shutil.rmtree(ddir / "split1", ignore_errors=True)
                        for f in ("feats.scp", "vad.scp", "utt2num_frames", "utt2dur"):
                            (ddir / f).unlink(missing_ok=True)
                        shutil.rmtree(work / "log", ignore_errors=True)
                        before = children_cpu()
                        subprocess.run(["bash", "steps/make_mfcc.sh", "--nj", "1", "--mfcc-config", cfg, "--engine",
                                        engine_name, "--vad-config", vad_conf, str(ddir), str(work / "log"),
                                        str(work / "mfcc")], cwd=REPO, env=env, check=True, capture_output=True)
                        best = min(best, children_cpu() - before)
                    step_rows.append((f"make_mfcc.sh --nj 1 --vad-config: {label}", engine_name, best, secs))

        knf_time = {what: t for what, name, t in rows if name == "knf"}
        print(f"# phonsid front end, {len(waves)} utterances, {seconds:.1f} s of 8 kHz audio, SRE10 config; "
              f"threads: 1 (OMP/OPENBLAS/MKL), machine CPUs: {os.cpu_count()}")
        print(f"{'what':56s} {'engine':16s} {'CPU s':>8s} {'x real time':>12s} {'vs knf':>7s} {'vs Kaldi':>9s}")
        for what, name, t in rows:
            rtf = seconds / t
            ratio = knf_time.get(what, float("nan")) / t
            print(f"{what:56s} {name:16s} {t:8.3f} {rtf:12,.0f} {ratio:7.2f} {rtf / KALDI_RTF:9.2f}")
        knf_step = {what: t for what, name, t, _ in step_rows if name == "knf"}
        for what, name, t, secs in step_rows:
            rtf = secs / t
            ratio = knf_step.get(what, float("nan")) / t
            print(f"{what:56s} {name:16s} {t:8.3f} {rtf:12,.0f} {ratio:7.2f} {rtf / KALDI_RTF:9.2f}"
                  f"   ({secs:.0f} s of audio)")
        print(f"# Kaldi compute-mfcc-feats: ~{KALDI_RTF:,.0f}x real time (issue 3 figure, not measured here); "
              f"rows are the best of {args.repeats} runs (knf: of {max(1, min(args.repeats, 2))})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
