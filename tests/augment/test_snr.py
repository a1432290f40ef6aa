"""Achieved SNR of every added signal, measured on the augmented audio of real speech with real noise.

Kaldi's definition: SNR = 10 log10(P_ref / P_noise), with P_noise the mean square of the additive signal as read
(all of it, even the part past the end of the speech) and P_ref the power of the speech, or with an RIR the
power of the speech convolved with the RIR's early part (1 ms before the peak to 50 ms after).

Measurement: the wav.scp entry is run as written but with --normalize-output=false, and once more without its
additive signals; their difference is the sum of the scaled additive signals. Each signal is read through its
own spec and the scales are recovered by least squares (the signals overlap for babble), giving P_noise; P_ref
is computed here with scipy's convolution (not the module under test).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import fftconvolve

from phonsid.augment import command, datadir
from phonsid.data import read_map, write_map
from phonsid.io.wav import read_wav_spec, write_wav

UTTS = ["103-1240-0000", "1034-121119-0000"]


def _speech_dir(shared: Path, root: Path, name: str, utts: list[str]) -> Path:
    lst = dict(line.split() for line in (shared / "librispeech" / "wav.list").read_text().splitlines() if line)
    d = root / name
    d.mkdir()
    wav = {u: str(shared / lst[u]) for u in utts}
    write_map(d / "wav.scp", wav)
    write_map(d / "utt2spk", {u: u.split("-")[0] for u in utts})
    write_map(d / "reco2dur", {u: repr(read_wav_spec(w).num_samples / 16000) for u, w in wav.items()})
    return d


def _noise_dir(shared: Path, root: Path) -> Path:
    """Real noises cut to 2-4 s clips, so that several follow each other in one utterance."""
    d = root / "noise"
    d.mkdir()
    wav, durs = {}, {}
    for i in range(1, 6):
        w = read_wav_spec(str(shared / "noise" / "noise" / f"noise{i}.wav"))
        n = int((1.5 + 0.5 * i) * w.sample_rate)
        path = root / f"noiseclip{i}.wav"
        write_wav(path, w.data[:, 1000:1000 + n], int(w.sample_rate))
        wav[f"noise{i}"], durs[f"noise{i}"] = str(path), repr(n / w.sample_rate)
    write_map(d / "wav.scp", wav)
    write_map(d / "utt2spk", {k: k for k in wav})
    write_map(d / "reco2dur", durs)
    return d


def _music_dir(shared: Path, root: Path) -> Path:
    d = root / "music"
    d.mkdir()
    wav = {f"music{i}": str(shared / "noise" / "music" / f"music{i}.wav") for i in range(1, 6)}
    write_map(d / "wav.scp", wav)
    write_map(d / "utt2spk", {k: k for k in wav})
    write_map(d / "reco2dur", {k: repr(read_wav_spec(w).duration) for k, w in wav.items()})
    return d


def _replace_options(argv: list[str], drop_additive: bool) -> str:
    start = max(i for i, a in enumerate(argv) if a == str(command.SCRIPT))
    rest = [a for a in argv[start + 1:]
            if not (drop_additive and a.startswith(("--additive-signals=", "--snrs=", "--start-times=")))]
    return shlex.join(argv[:start + 1] + ["--normalize-output=false"] + rest) + " |"


def measured_snrs(value: str, clean: np.ndarray, fs: float) -> list[tuple[float, float]]:
    """(requested, achieved) SNR of each additive signal of a wav.scp entry."""
    argv = shlex.split(value.rstrip().rstrip("|"))
    start = max(i for i, a in enumerate(argv) if a == str(command.SCRIPT))
    opts = command.build_parser().parse_args(argv[start + 1:])
    noisy = read_wav_spec(_replace_options(argv, False)).data[0].astype(np.float64)
    base = read_wav_spec(_replace_options(argv, True)).data[0].astype(np.float64)
    diff = noisy - base
    shift = 0
    p_ref = float(np.mean(clean ** 2))
    if opts.impulse_response:
        rir = read_wav_spec(opts.impulse_response).data[0].astype(np.float64) / 32768.0
        peak = int(np.argmax(rir))
        early = fftconvolve(clean, rir[max(0, peak - int(0.001 * fs)):peak + int(0.05 * fs)])
        p_ref = float(np.mean(early ** 2))
        shift = peak
    specs = opts.additive_signals.split(",")
    snrs = [float(s) for s in opts.snrs.split(",")]
    starts = [float(s) for s in opts.start_times.split(",")]
    # The same signal drawn twice at the same start (babble can draw a speaker twice) is one regressor: its scale
    # is the sum of the two, compared with the sum of the requested ones (reported as an SNR).
    groups: dict[tuple[str, float], list[float]] = {}
    for spec, t, snr in zip(specs, starts, snrs):
        groups.setdefault((spec, t), []).append(snr)
    columns, powers = [], []
    for spec, t in groups:
        n = read_wav_spec(spec).data[0].astype(np.float64)
        powers.append(float(np.mean(n ** 2)))
        col = np.zeros(len(diff))
        off = int(t * fs) - shift
        lo = max(0, off)
        hi = min(len(diff), off + len(n))
        if hi > lo:
            col[lo:hi] = n[lo - off:hi - off]
        columns.append(col)
    design = np.stack(columns, axis=1)
    scales, *_ = np.linalg.lstsq(design, diff, rcond=None)
    assert np.sqrt(np.mean((diff - design @ scales) ** 2)) < 1.0  # only quantisation is left
    out = []
    for group_snrs, a, p in zip(groups.values(), scales, powers):
        wanted = sum(np.sqrt(10 ** (-snr / 10) * p_ref / p) for snr in group_snrs)
        out.append((10 * np.log10(p_ref / (wanted ** 2 * p)), 10 * np.log10(p_ref / (a * a * p))))
    return out


def _check(out_dir: Path, speech_dir: Path, min_signals: int) -> int:
    clean_wavs = read_map(speech_dir / "wav.scp")
    count = 0
    for utt, value in read_map(out_dir / "wav.scp").items():
        clean = read_wav_spec(clean_wavs[read_map(out_dir / "utt2uniq")[utt]])
        for requested, achieved in measured_snrs(value, clean.data[0].astype(np.float64), clean.sample_rate):
            assert abs(achieved - requested) < 0.5, f"{utt}: SNR {achieved:.2f} dB, requested {requested:g} dB"
            count += 1
    assert count >= min_signals
    return count


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("snr")
    return {"root": root, "speech": _speech_dir(shared_data, root, "speech", UTTS),
            "noise": _noise_dir(shared_data, root), "music": _music_dir(shared_data, root)}


def test_foreground_noise_snrs(corpus):
    out = corpus["root"] / "fg"
    datadir.augment_data_dir(corpus["speech"], out, fg_noise_dir=str(corpus["noise"]), fg_snrs="15:10:5:0",
                             fg_interval=1, utt_suffix="noise")
    _check(out, corpus["speech"], min_signals=4)


def test_music_snrs(corpus):
    out = corpus["root"] / "music_aug"
    datadir.augment_data_dir(corpus["speech"], out, bg_noise_dir=str(corpus["music"]), bg_snrs="15:10:8:5",
                             num_bg_noises="1", utt_suffix="music")
    _check(out, corpus["speech"], min_signals=2)


def test_babble_snrs(corpus, shared_data):
    others = [line.split()[0] for line in (shared_data / "librispeech" / "wav.list").read_text().splitlines()[10:20]]
    babble_dir = _speech_dir(shared_data, corpus["root"], "babble_src", others)
    out = corpus["root"] / "babble"
    datadir.augment_data_dir(corpus["speech"], out, bg_noise_dir=str(babble_dir), bg_snrs="20:17:15:13",
                             num_bg_noises="3:4:5:6:7", utt_suffix="babble")
    _check(out, corpus["speech"], min_signals=6)


def test_reverberated_noise_snrs_use_the_early_reverb_energy(corpus, shared_data):
    rirs = corpus["root"] / "rir_list"
    rirs.write_text("".join(f"--rir-id {n} --room-id room1 {shared_data}/rirs/{n}.wav\n"
                            for n in ("sim", "rir1", "rir4")))
    noises = corpus["root"] / "noise_list"
    clips = read_map(corpus["noise"] / "wav.scp")
    noises.write_text("".join(f"--noise-id {k} --noise-type point-source --bg-fg-type foreground {v}\n"
                              for k, v in clips.items()))
    out = corpus["root"] / "rev"
    datadir.reverberate_data_dir(corpus["speech"], out, rir_set_parameters=[str(rirs)],
                                 noise_set_parameters=[str(noises)], max_noises_per_minute=15,
                                 foreground_snrs="15:10:5:0", utt_suffix="reverb", random_seed=2)
    _check(out, corpus["speech"], min_signals=2)
