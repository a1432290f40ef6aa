"""Data-dir augmentation: ids and tables, lazy pipes readable from a fresh shell, seeds, VAD copy, errors."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pytest

from phonsid.augment import command, datadir
from phonsid.data import DataDirError, read_list_map, read_map, write_map
from phonsid.io.wav import read_wav_spec, write_wav

FS = 8000


def _tone(seconds: float, freq: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    return (2000 * np.sin(2 * np.pi * freq * t) + rng.normal(size=len(t)) * 300).astype(np.float32)


def _data_dir(root: Path, name: str, items: dict[str, tuple[str, float]], seed: int,
              with_durations: bool = True) -> Path:
    """A data dir of generated wavs: items = utt -> (speaker, seconds)."""
    d = root / name
    (root / "wav").mkdir(parents=True, exist_ok=True)
    d.mkdir(parents=True)
    wav, utt2spk, durs = {}, {}, {}
    for i, (utt, (spk, secs)) in enumerate(items.items()):
        path = root / "wav" / f"{name}_{utt}.wav"
        write_wav(path, _tone(secs, 150 + 40 * i, seed + i), FS)
        wav[utt] = str(path)
        utt2spk[utt] = spk
        durs[utt] = f"{secs:.3f}"
    write_map(d / "wav.scp", wav)
    write_map(d / "utt2spk", utt2spk)
    if with_durations:
        write_map(d / "reco2dur", durs)
        write_map(d / "utt2dur", durs)
    return d


@pytest.fixture()
def dirs(tmp_path):
    train = _data_dir(tmp_path, "train", {"a1": ("spkA", 3.0), "a2": ("spkA", 2.5), "b1": ("spkB", 4.0)}, 1)
    write_map(train / "text", {"a1": "hello there", "a2": "one two", "b1": "three"})
    write_map(train / "vad.scp", {u: f"/x/vad.ark:{i}" for i, u in enumerate(["a1", "a2", "b1"])})
    write_map(train / "spk2gender", {"spkA": "f", "spkB": "m"})
    noise = _data_dir(tmp_path, "noise", {"n1": ("n1", 0.7), "n2": ("n2", 1.3), "n3": ("n3", 0.4)}, 10)
    speech = _data_dir(tmp_path, "speech", {f"s{i}": (f"s{i}", 1.0 + i * 0.3) for i in range(8)}, 20)
    rirs = tmp_path / "rirs"
    rirs.mkdir()
    lines = []
    rng = np.random.default_rng(5)
    for room in ("r1", "r2"):
        for k in range(3):
            h = np.zeros(1200, dtype=np.float32)
            h[30 + k] = 25000
            h[31 + k:] = (rng.normal(size=1169 - k) * 2000 * np.exp(-np.arange(1169 - k) / 300)).astype(np.float32)
            write_wav(rirs / f"{room}_{k}.wav", h, FS)
            lines.append(f"--rir-id {room}-{k} --room-id {room} {rirs}/{room}_{k}.wav\n")
    (rirs / "rir_list").write_text("".join(lines))
    (rirs / "noise_list").write_text(
        f"--noise-id p1 --noise-type point-source --bg-fg-type foreground {tmp_path}/wav/noise_n2.wav\n"
        f"--noise-id p2 --noise-type point-source --bg-fg-type background {tmp_path}/wav/noise_n1.wav\n"
        f"--noise-id i1 --noise-type isotropic --room-linkage r1 {tmp_path}/wav/noise_n3.wav\n")
    return {"train": train, "noise": noise, "speech": speech, "rirs": rirs, "root": tmp_path}


def _options(line: str) -> tuple[list[str], object]:
    """The wav_reverberate.py argv of a wav.scp value (the last call in its pipeline) and its parsed options."""
    argv = shlex.split(line.rstrip().rstrip("|"))
    start = max(i for i, a in enumerate(argv) if a == str(command.SCRIPT))
    return argv, command.build_parser().parse_args(argv[start + 1:])


def test_noise_augmentation_ids_tables_and_schedule(dirs, tmp_path):
    out = tmp_path / "train_noise"
    n = datadir.augment_data_dir(dirs["train"], out, fg_noise_dir=str(dirs["noise"]), fg_snrs="15:10:5:0",
                                 fg_interval=1, utt_suffix="noise")
    assert n == 3
    wav = read_map(out / "wav.scp")
    assert sorted(wav) == ["a1-noise", "a2-noise", "b1-noise"]
    assert read_map(out / "utt2spk") == {"a1-noise": "spkA", "a2-noise": "spkA", "b1-noise": "spkB"}
    assert read_list_map(out / "spk2utt") == {"spkA": ["a1-noise", "a2-noise"], "spkB": ["b1-noise"]}
    assert read_map(out / "utt2uniq") == {"a1-noise": "a1", "a2-noise": "a2", "b1-noise": "b1"}
    assert read_map(out / "text")["a1-noise"] == "hello there"
    assert read_map(out / "vad.scp")["b1-noise"] == "/x/vad.ark:2"
    assert read_map(out / "spk2gender") == {"spkA": "f", "spkB": "m"}
    assert read_map(out / "reco2dur")["b1-noise"] == "4.000"
    noise_durs = {str(dirs["root"] / "wav" / f"noise_{k}.wav"): v for k, v in
                  {"n1": 0.7, "n2": 1.3, "n3": 0.4}.items()}
    for utt, value in wav.items():
        _, opts = _options(value)
        specs = opts.additive_signals.split(",")
        starts = [float(s) for s in opts.start_times.split(",")]
        assert set(opts.snrs.split(",")) <= {"15", "10", "5", "0"}
        # foreground noises follow each other with 1 s gaps until the recording is covered
        assert starts[0] == 0
        for i in range(1, len(starts)):
            assert starts[i] == pytest.approx(starts[i - 1] + noise_durs[specs[i - 1]] + 1)
        dur = float(read_map(out / "reco2dur")[utt])
        assert starts[-1] < dur <= starts[-1] + noise_durs[specs[-1]] + 1 or len(starts) == 1


def test_babble_draws_several_background_speakers(dirs, tmp_path):
    out = tmp_path / "train_babble"
    datadir.augment_data_dir(dirs["train"], out, bg_noise_dir=str(dirs["speech"]), bg_snrs="20:17:15:13",
                             num_bg_noises="3:4:5:6:7", utt_suffix="babble")
    counts = []
    for value in read_map(out / "wav.scp").values():
        _, opts = _options(value)
        specs = opts.additive_signals.split(",")
        counts.append(len(specs))
        assert all(s.endswith("|") and "--duration=" in s for s in specs)
        assert set(opts.start_times.split(",")) == {"0"}
        assert set(opts.snrs.split(",")) <= {"20", "17", "15", "13"}
    assert all(3 <= c <= 7 for c in counts)


def test_same_seed_same_lines_and_audio_other_seed_differs(dirs, tmp_path):
    kw = dict(bg_noise_dir=str(dirs["speech"]), bg_snrs="20:17:15:13", num_bg_noises="3:4:5:6:7",
              utt_suffix="babble")
    datadir.augment_data_dir(dirs["train"], tmp_path / "x", random_seed=7, **kw)
    datadir.augment_data_dir(dirs["train"], tmp_path / "y", random_seed=7, **kw)
    datadir.augment_data_dir(dirs["train"], tmp_path / "z", random_seed=8, **kw)
    x, y, z = (read_map(tmp_path / d / "wav.scp") for d in "xyz")
    assert x == y
    assert x != z
    a = read_wav_spec(x["a1-babble"])
    b = read_wav_spec(y["a1-babble"])
    np.testing.assert_array_equal(a.data, b.data)
    rv = dict(rir_set_parameters=[f"0.5, {dirs['rirs']}/rir_list"], utt_suffix="reverb", random_seed=3)
    datadir.reverberate_data_dir(dirs["train"], tmp_path / "r1", **rv)
    datadir.reverberate_data_dir(dirs["train"], tmp_path / "r2", **rv)
    r1, r2 = read_map(tmp_path / "r1" / "wav.scp"), read_map(tmp_path / "r2" / "wav.scp")
    assert r1 == r2
    np.testing.assert_array_equal(read_wav_spec(r1["b1-reverb"]).data, read_wav_spec(r2["b1-reverb"]).data)


def test_entry_reads_from_a_fresh_shell_without_the_venv(dirs, tmp_path):
    datadir.reverberate_data_dir(dirs["train"], tmp_path / "rev", rir_set_parameters=[f"{dirs['rirs']}/rir_list"],
                                 noise_set_parameters=[f"{dirs['rirs']}/noise_list"], utt_suffix="reverb",
                                 max_noises_per_minute=60, random_seed=1)
    datadir.augment_data_dir(dirs["train"], tmp_path / "bab", bg_noise_dir=str(dirs["speech"]),
                             num_bg_noises="3", utt_suffix="babble")
    for d, utt in (("rev", "b1-reverb"), ("bab", "a2-babble")):
        value = read_map(tmp_path / d / "wav.scp")[utt]
        out = tmp_path / f"{d}.wav"
        proc = subprocess.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "bash", "-c",
                               f"{value.rstrip().rstrip('|')} > {shlex.quote(str(out))}"],
                              cwd="/", capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        fresh = read_wav_spec(str(out))
        in_process = read_wav_spec(value)
        assert fresh.sample_rate == FS
        np.testing.assert_array_equal(fresh.data, in_process.data)
        assert fresh.num_samples == int(round(float(read_map(dirs["train"] / "reco2dur")[utt.split("-")[0]]) * FS))


def test_reverberation_dir_follows_kaldi_options(dirs, tmp_path):
    out = tmp_path / "rev"
    n = datadir.reverberate_data_dir(dirs["train"], out, rir_set_parameters=[f"0.5, {dirs['rirs']}/rir_list"],
                                     speech_rvb_probability=1, pointsource_noise_addition_probability=0,
                                     isotropic_noise_addition_probability=0, utt_suffix="reverb")
    assert n == 3
    wav = read_map(out / "wav.scp")
    assert sorted(wav) == ["a1-reverb", "a2-reverb", "b1-reverb"]
    assert read_map(out / "utt2uniq")["a2-reverb"] == "a2"
    assert read_map(out / "utt2spk")["b1-reverb"] == "spkB"
    assert read_map(out / "vad.scp")["a1-reverb"] == "/x/vad.ark:0"
    for value in wav.values():
        _, opts = _options(value)
        assert opts.shift_output is True and opts.impulse_response.startswith(str(dirs["rirs"]))
        assert opts.additive_signals == ""
    # several copies: Kaldi's rvb<copy>- prefix on utterances and speakers; the original kept as copy 0
    datadir.reverberate_data_dir(dirs["train"], tmp_path / "rep", rir_set_parameters=[f"{dirs['rirs']}/rir_list"],
                                 num_replications=2, include_original_data=True)
    rep = read_map(tmp_path / "rep" / "wav.scp")
    assert sorted(rep)[:3] == ["rvb0-a1", "rvb0-a2", "rvb0-b1"] and len(rep) == 9
    assert rep["rvb0-a1"] == read_map(dirs["train"] / "wav.scp")["a1"]
    assert read_map(tmp_path / "rep" / "utt2spk")["rvb2-b1"] == "rvb2-spkB"
    assert read_map(tmp_path / "rep" / "utt2uniq")["rvb1-a2"] == "a2"
    # no reverberation at probability 0: the recording is passed through as it was
    datadir.reverberate_data_dir(dirs["train"], tmp_path / "none", rir_set_parameters=[f"{dirs['rirs']}/rir_list"],
                                 speech_rvb_probability=0, utt_suffix="reverb")
    assert read_map(tmp_path / "none" / "wav.scp")["a1-reverb"] == read_map(dirs["train"] / "wav.scp")["a1"]


def test_point_source_and_isotropic_noises(dirs, tmp_path):
    datadir.reverberate_data_dir(dirs["train"], tmp_path / "rn", rir_set_parameters=[f"{dirs['rirs']}/rir_list"],
                                 noise_set_parameters=[f"{dirs['rirs']}/noise_list"], max_noises_per_minute=60,
                                 foreground_snrs="5:6", background_snrs="7:8", random_seed=4)
    seen_iso = False
    for reco, value in read_map(tmp_path / "rn" / "wav.scp").items():
        _, opts = _options(value)
        specs = opts.additive_signals.split(",")
        snrs = opts.snrs.split(",")
        assert len(specs) == len(snrs) == len(opts.start_times.split(",")) >= 1
        assert set(snrs) <= {"5.0", "6.0", "7.0", "8.0"}
        seen_iso |= any("noise_n3.wav" in s for s in specs)
        for spec in specs:
            if "noise_n3.wav" not in spec:  # point-source noises are reverberated by an RIR of the same room
                assert "--impulse-response=" in spec
        wave = read_wav_spec(value)
        assert wave.num_samples == int(round(float(read_map(dirs["train"] / "reco2dur")[reco]) * FS))
    assert seen_iso


def test_resampling_pipe_only_when_rates_differ(dirs, tmp_path):
    datadir.reverberate_data_dir(dirs["train"], tmp_path / "same", rir_set_parameters=[f"{dirs['rirs']}/rir_list"],
                                 source_sampling_rate=FS)
    assert "phonsid.augment.resample" not in (tmp_path / "same" / "wav.scp").read_text()
    datadir.augment_data_dir(dirs["train"], tmp_path / "up", fg_noise_dir=str(dirs["noise"]), utt_suffix="noise",
                             source_sampling_rate=16000)
    value = read_map(tmp_path / "up" / "wav.scp")["a1-noise"]
    assert "phonsid.augment.resample --sample-rate=16000" in value
    with pytest.raises(Exception, match="differs from the input"):
        read_wav_spec(value)  # 16 kHz noise on 8 kHz speech is refused, as Kaldi asserts


def test_copy_vad_from_clean(dirs, tmp_path):
    out = tmp_path / "aug"
    datadir.augment_data_dir(dirs["train"], out, fg_noise_dir=str(dirs["noise"]), utt_suffix="noise")
    os.remove(out / "vad.scp")
    write_map(out / "utt2spk", {"a1-noise": "spkA", "b1-noise": "spkB"})  # a subset, as subset_data_dir makes
    assert datadir.copy_vad_from_clean([dirs["train"]], out) == 2
    assert read_map(out / "vad.scp") == {"a1-noise": "/x/vad.ark:0", "b1-noise": "/x/vad.ark:2"}
    (dirs["train"] / "vad.scp").unlink()
    with pytest.raises(DataDirError, match="no vad.scp"):
        datadir.copy_vad_from_clean([dirs["train"]], out)


def test_durations_fall_back_and_errors_name_files(dirs, tmp_path):
    bare = _data_dir(tmp_path, "bare", {"u1": ("s", 1.25)}, 3, with_durations=False)
    assert datadir.recording_durations(bare) == {"u1": pytest.approx(1.25)}
    with pytest.raises(DataDirError, match="noise_missing/wav.scp: no such file"):
        datadir.augment_data_dir(dirs["train"], tmp_path / "o", fg_noise_dir=str(tmp_path / "noise_missing"))
    with pytest.raises(DataDirError, match="--fg-noise-dir and/or --bg-noise-dir"):
        datadir.augment_data_dir(dirs["train"], tmp_path / "o")
    with pytest.raises(DataDirError, match="--speech-rvb-probability must be between 0 and 1"):
        datadir.reverberate_data_dir(dirs["train"], tmp_path / "o", rir_set_parameters=["x"],
                                     speech_rvb_probability=2)
    with pytest.raises(DataDirError, match="nowhere/rir_list not found"):
        datadir.reverberate_data_dir(dirs["train"], tmp_path / "o", rir_set_parameters=["0.5, nowhere/rir_list"])
    bad = dirs["rirs"] / "bad_list"
    bad.write_text("--room-id r1 some.wav\n")
    with pytest.raises(DataDirError, match="bad_list:1:.*--rir-id"):
        datadir.reverberate_data_dir(dirs["train"], tmp_path / "o", rir_set_parameters=[str(bad)])
    with pytest.raises(DataDirError, match="--num-bg-noises: cannot parse"):
        datadir.augment_data_dir(dirs["train"], tmp_path / "o", bg_noise_dir=str(dirs["speech"]),
                                 num_bg_noises="a:b")


def test_probabilities_smoothing_and_rooms():
    class It:
        def __init__(self, p):
            self.probability = p

    items = [It(None), It(0.5), It(None)]
    datadir.smooth_probabilities(items, smoothing_weight=0.3, target_sum=2.0)
    assert sum(i.probability for i in items) == pytest.approx(2.0)
    # unspecified share 0.5 -> 0.25 each; the given 0.5 becomes 0.7*0.5 + 0.3*0.25 = 0.425; then scaled to 2
    total = 0.25 + 0.425 + 0.25
    assert items[1].probability == pytest.approx(0.425 / total * 2)


def test_cli_scripts_run(dirs, tmp_path, repo_root, script_env):
    py = command.python_executable()
    p = subprocess.run([py, str(repo_root / "steps/data/augment_data_dir.py"), "--utt-suffix", "music",
                        "--bg-snrs", "15:10:8:5", "--num-bg-noises", "1", "--bg-noise-dir", str(dirs["speech"]),
                        str(dirs["train"]), str(tmp_path / "music")], env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert len(read_map(tmp_path / "music" / "wav.scp")) == 3
    p = subprocess.run([py, str(repo_root / "steps/data/reverberate_data_dir.py"), "--rir-set-parameters",
                        f"1.0, {dirs['rirs']}/rir_list", "--speech-rvb-probability", "1", "--utt-suffix", "reverb",
                        "--shift-output", "true", str(dirs["train"]), str(tmp_path / "rev")],
                       env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    (tmp_path / "music" / "vad.scp").unlink()
    p = subprocess.run([py, str(repo_root / "steps/data/augment_data_dir.py"), "--copy-vad-only",
                        str(dirs["train"]), str(tmp_path / "music")], env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert len(read_map(tmp_path / "music" / "vad.scp")) == 3
    p = subprocess.run([py, str(repo_root / "steps/data/augment_data_dir.py"), str(dirs["train"]),
                        str(tmp_path / "bad")], env=script_env, capture_output=True, text=True)
    assert p.returncode == 1 and "--bg-noise-dir" in p.stderr
