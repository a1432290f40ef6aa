"""MUSAN and RIRS_NOISES preparation from miniature copies of their published layouts."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from phonsid.augment import command, corpora
from phonsid.data import DataDirError, read_list_map, read_map
from phonsid.io.wav import read_wav_spec, write_wav


def _wav(path, seconds, fs=16000, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(len(str(path))).normal(size=(channels, int(seconds * fs))) * 1000
    write_wav(path, x if channels > 1 else x[0], fs)


@pytest.fixture()
def musan(tmp_path):
    root = tmp_path / "musan"
    _wav(root / "music" / "fma" / "music-fma-0000.wav", 1.5)
    _wav(root / "music" / "fma" / "music-fma-0001.wav", 1.0)
    _wav(root / "music" / "fma" / "music-fma-0002.wav", 0.5)  # not annotated: left out
    (root / "music" / "fma" / "ANNOTATIONS").write_text(
        "music-fma-0000 classical N Bach\nmusic-fma-0001 pop Y Someone\nmusic-fma-0009 pop N Missing\n")
    _wav(root / "speech" / "librivox" / "speech-librivox-0000.wav", 2.0)
    _wav(root / "speech" / "us-gov" / "speech-us-gov-0000.wav", 1.0)
    _wav(root / "noise" / "free-sound" / "noise-free-sound-0000.wav", 0.75)
    return root


def test_musan_data_dirs(musan, tmp_path):
    counts = corpora.prepare_musan(musan, tmp_path / "data")
    assert counts == {"music": 2, "speech": 2, "noise": 1}
    music = tmp_path / "data" / "musan_music"
    assert sorted(read_map(music / "wav.scp")) == ["music-fma-0000", "music-fma-0001"]
    assert read_map(music / "utt2spk") == {"music-fma-0000": "music-fma-0000", "music-fma-0001": "music-fma-0001"}
    assert read_list_map(music / "spk2utt")["music-fma-0001"] == ["music-fma-0001"]
    assert read_map(music / "reco2dur") == {"music-fma-0000": "1.500", "music-fma-0001": "1.000"}
    assert read_map(tmp_path / "data" / "musan_speech" / "utt2dur")["speech-librivox-0000"] == "2.000"
    assert read_map(tmp_path / "data" / "musan_noise" / "wav.scp")["noise-free-sound-0000"].endswith(
        "noise/free-sound/noise-free-sound-0000.wav")


def test_musan_without_vocals_and_resampled(musan, tmp_path):
    corpora.prepare_musan(musan, tmp_path / "d8", use_vocals=False, sampling_rate=8000)
    wav = read_map(tmp_path / "d8" / "musan_music" / "wav.scp")
    assert list(wav) == ["music-fma-0000"]
    assert "phonsid.augment.resample --sample-rate=8000" in wav["music-fma-0000"]
    wave = read_wav_spec(wav["music-fma-0000"])
    assert wave.sample_rate == 8000 and wave.num_samples == 12000


def test_musan_errors(tmp_path):
    with pytest.raises(DataDirError, match="no such directory"):
        corpora.prepare_musan(tmp_path / "nothing", tmp_path / "out")
    (tmp_path / "m" / "music").mkdir(parents=True)
    with pytest.raises(DataDirError, match="speech: missing"):
        corpora.prepare_musan(tmp_path / "m", tmp_path / "out")


def test_rirs_noises_lists_get_absolute_locations(tmp_path, monkeypatch, script_env, repo_root):
    root = tmp_path / "RIRS_NOISES"
    lines = []
    for i in (1, 2):
        _wav(root / "simulated_rirs" / "smallroom" / "Room001" / f"Room001-0000{i}.wav", 0.2)
        lines.append(f"--rir-id smallroom-Room001-0000{i} --room-id smallroom-Room001 "
                     f"RIRS_NOISES/simulated_rirs/smallroom/Room001/Room001-0000{i}.wav\n")
    lines.append("--rir-id gone --room-id smallroom-Room001 RIRS_NOISES/simulated_rirs/smallroom/x.wav\n")
    (root / "simulated_rirs" / "smallroom" / "rir_list").write_text("".join(lines))
    _wav(root / "real_rirs_isotropic_noises" / "air_1.wav", 0.2, channels=2)
    _wav(root / "real_rirs_isotropic_noises" / "iso_noise_1.wav", 1.0)
    (root / "real_rirs_isotropic_noises" / "rir_list").write_text(
        "--rir-id air_1 --room-id air RIRS_NOISES/real_rirs_isotropic_noises/air_1.wav\n")
    (root / "real_rirs_isotropic_noises" / "noise_list").write_text(
        "--noise-id 0001 --noise-type isotropic --bg-fg-type background --room-linkage air "
        "RIRS_NOISES/real_rirs_isotropic_noises/iso_noise_1.wav\n")
    _wav(root / "pointsource_noises" / "noise-free-sound-0000.wav", 0.5)
    (root / "pointsource_noises" / "noise_list").write_text(
        "--noise-id noise-free-sound-0000 --noise-type point-source --bg-fg-type foreground "
        "'sox RIRS_NOISES/pointsource_noises/noise-free-sound-0000.wav -t wav - |'\n")
    monkeypatch.chdir(tmp_path / "RIRS_NOISES" / "simulated_rirs")  # locations must not depend on the cwd
    counts = corpora.prepare_rirs(root, tmp_path / "rirs")
    assert counts == {"smallroom/rir_list": 2, "real_rirs/rir_list": 1, "real_rirs/noise_list": 1,
                      "pointsource_noises/noise_list": 1}
    small = (tmp_path / "rirs" / "smallroom" / "rir_list").read_text().splitlines()
    assert small[0] == (f"--rir-id smallroom-Room001-00001 --room-id smallroom-Room001 "
                        f"{root}/simulated_rirs/smallroom/Room001/Room001-00001.wav")
    point = (tmp_path / "rirs" / "pointsource_noises" / "noise_list").read_text()
    assert f"'sox {root}/pointsource_noises/noise-free-sound-0000.wav -t wav - |'" in point
    # the CLI does the same, and a missing root is an error naming it
    p = subprocess.run([command.python_executable(), str(repo_root / "local/make_rirs.py"), "--sets", "smallroom",
                        str(root), str(tmp_path / "rirs2")], env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "rirs2" / "smallroom" / "rir_list").read_text().splitlines() == small
    p = subprocess.run([command.python_executable(), str(repo_root / "local/make_rirs.py"), str(tmp_path / "none"),
                        str(tmp_path / "rirs3")], env=script_env, capture_output=True, text=True)
    assert p.returncode == 1 and "none: no such directory" in p.stderr


def test_musan_and_simulator_clis(musan, tmp_path, repo_root, script_env):
    py = command.python_executable()
    p = subprocess.run([py, str(repo_root / "local/make_musan.py"), "--use-vocals", "false", str(musan),
                        str(tmp_path / "data")], env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert list(read_map(tmp_path / "data" / "musan_music" / "wav.scp")) == ["music-fma-0000"]
    p = subprocess.run([py, str(repo_root / "local/simulate_rirs.py"), "--sample-rate", "8000", "--room-types",
                        "smallroom", "--num-rooms", "1", "--rirs-per-room", "1", "--max-order", "30",
                        str(tmp_path / "sim")], env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    line = (tmp_path / "sim" / "simulated_rirs" / "smallroom" / "rir_list").read_text().split()
    assert line[:4] == ["--rir-id", "smallroom-Room001-00001", "--room-id", "smallroom-Room001"]
    assert read_wav_spec(line[-1]).sample_rate == 8000
