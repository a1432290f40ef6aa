"""The embedded demo corpus: layout, determinism, speaker sets, trials, alignments, lexicon, audio, and that its
speakers are acoustically distinct (source and vocal tract) across sessions."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from phonsid.data import c_sorted, read_list_map, read_map
from phonsid.recipes.demo import DemoConfig, make_demo_corpus, small_config
from phonsid.recipes.demo import lexicon as lx
from phonsid.recipes.demo.synth import PEAK_LIMIT

SEED = 777
SPEECH_SETS = ("demo_asr", "demo_train", "demo_enroll", "demo_test")
SOURCE_SETS = ("demo_noise", "demo_music", "demo_speech")
ALL_SETS = SPEECH_SETS + SOURCE_SETS
VOWELS = lx.VOWELS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    make_demo_corpus(root / "data", root / "wav", small_config(), seed=SEED)
    return root


def _wav_bytes(root: Path) -> dict[str, bytes]:
    out = {}
    for name in ALL_SETS:
        for key, path in read_map(root / "data" / name / "wav.scp").items():
            out[f"{name}/{key}"] = Path(path).read_bytes()
    return out


def _tables(root: Path) -> dict[str, str]:
    """Every text table except wav.scp (whose absolute paths differ between roots)."""
    out = {}
    for path in sorted((root / "data").rglob("*")):
        if path.is_file() and path.name != "wav.scp":
            out[str(path.relative_to(root))] = path.read_text()
    return out


def _speakers(root: Path, name: str) -> set[str]:
    return set(read_list_map(root / "data" / name / "spk2utt"))


# ------------------------------------------------------------------------------------------------ layout


def test_layout(corpus: Path) -> None:
    data = corpus / "data"
    for name in SPEECH_SETS:
        for f in ("wav.scp", "utt2spk", "spk2utt", "text", "utt2dur", "reco2dur", "spk2gender"):
            assert (data / name / f).is_file(), f"{name}/{f} missing"
    for name in SOURCE_SETS:
        for f in ("wav.scp", "utt2spk", "spk2utt", "utt2dur", "reco2dur"):
            assert (data / name / f).is_file(), f"{name}/{f} missing"
    for f in ("phones.txt", "phone_ali.txt"):
        assert (data / "demo_asr" / f).is_file()
    assert (data / "demo_test" / "trials").is_file()
    for f in ("lexicon.txt", "nonsilence_phones.txt", "silence_phones.txt", "optional_silence.txt",
              "extra_questions.txt"):
        assert (data / "local" / "dict_demo" / f).is_file()
    for name in ALL_SETS:
        for key, path in read_map(data / name / "wav.scp").items():
            assert os.path.isabs(path) and Path(path).is_file(), f"{name}: {key} -> {path}"


def test_tables_c_sorted_and_consistent(corpus: Path) -> None:
    data = corpus / "data"
    for name in ALL_SETS:
        d = data / name
        for f in sorted(d.iterdir()):
            if f.name in ("phones.txt",):
                continue
            keys = [line.split()[0] for line in f.read_text().splitlines()]
            assert keys == c_sorted(keys), f"{name}/{f.name} is not C-sorted"
            assert len(keys) == len(set(keys)) or f.name == "trials", f"{name}/{f.name} has duplicate keys"
        utt2spk = read_map(d / "utt2spk")
        spk2utt = read_list_map(d / "spk2utt")
        assert {u: s for s, us in spk2utt.items() for u in us} == utt2spk
        for utts in spk2utt.values():
            assert utts == c_sorted(utts)
        assert set(read_map(d / "utt2dur")) == set(utt2spk) == set(read_map(d / "wav.scp"))
        for utt, spk in utt2spk.items():
            assert utt.startswith(spk), f"{name}: utterance {utt} does not start with its speaker id {spk}"
    lines = (data / "demo_test" / "trials").read_text().splitlines()
    assert lines == c_sorted(lines)


def test_source_dirs_are_musan_shaped(corpus: Path) -> None:
    data = corpus / "data"
    for name in SOURCE_SETS:
        utt2spk = read_map(data / name / "utt2spk")
        assert utt2spk and all(u == s for u, s in utt2spk.items()), f"{name}: recording must be its own speaker"
        assert read_map(data / name / "reco2dur") == read_map(data / name / "utt2dur")
    noise_types = {k.split("-")[2] for k in read_map(data / "demo_noise" / "wav.scp")}
    assert noise_types == {"hum", "murmur", "clicks"}  # the first three types of the --small cycle


# ------------------------------------------------------------------------------------------------ determinism


def test_same_seed_gives_identical_corpus(corpus: Path, tmp_path: Path) -> None:
    make_demo_corpus(tmp_path / "data", tmp_path / "wav", small_config(), seed=SEED)
    assert _wav_bytes(tmp_path) == _wav_bytes(corpus)
    assert _tables(tmp_path) == _tables(corpus)


def test_other_seed_gives_other_corpus(corpus: Path, tmp_path: Path) -> None:
    make_demo_corpus(tmp_path / "data", tmp_path / "wav", small_config(), seed=SEED + 1)
    a, b = _wav_bytes(corpus), _wav_bytes(tmp_path)
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)
    assert (tmp_path / "data/demo_train/text").read_text() != (corpus / "data/demo_train/text").read_text()
    # the language does not depend on the seed
    assert (tmp_path / "data/local/dict_demo/lexicon.txt").read_text() == \
        (corpus / "data/local/dict_demo/lexicon.txt").read_text()


def test_resizing_one_set_leaves_the_others(corpus: Path, tmp_path: Path) -> None:
    config = dataclasses.replace(small_config(), train_speakers=5, train_utts_per_speaker=4)
    make_demo_corpus(tmp_path / "data", tmp_path / "wav", config, seed=SEED)
    a, b = _wav_bytes(corpus), _wav_bytes(tmp_path)
    assert len(b) == len(a) + 5 * 4 - 4 * 3
    assert all(b[k] == v for k, v in a.items())


# ------------------------------------------------------------------------------------------------ speakers, trials


def test_speaker_sets_are_disjoint(corpus: Path) -> None:
    asr, train = _speakers(corpus, "demo_asr"), _speakers(corpus, "demo_train")
    enroll, test = _speakers(corpus, "demo_enroll"), _speakers(corpus, "demo_test")
    babble = _speakers(corpus, "demo_speech")
    assert enroll == test
    for a, b in ((asr, train), (asr, enroll), (train, enroll), (babble, asr), (babble, train), (babble, enroll)):
        assert not a & b
    enroll_utts = set(read_map(corpus / "data/demo_enroll/utt2spk"))
    test_utts = set(read_map(corpus / "data/demo_test/utt2spk"))
    assert not enroll_utts & test_utts
    s2u = read_list_map(corpus / "data/demo_enroll/spk2utt")
    assert all(len(u) >= 2 for u in s2u.values()), "enrolment must exercise the n > 1 path"
    genders = read_map(corpus / "data/demo_train/spk2gender")
    assert set(genders) == train and set(genders.values()) == {"f", "m"}


def test_trials(corpus: Path) -> None:
    models = _speakers(corpus, "demo_enroll")
    test_utt2spk = read_map(corpus / "data/demo_test/utt2spk")
    lines = (corpus / "data/demo_test/trials").read_text().splitlines()
    seen: dict[str, set[str]] = {m: set() for m in models}
    for line in lines:
        model, utt, label = line.split()
        assert model in models and utt in test_utt2spk
        assert label == ("target" if test_utt2spk[utt] == model else "nontarget")
        seen[model].add(label)
    assert all(v == {"target", "nontarget"} for v in seen.values())
    assert len(lines) == len(set(lines)) == len(models) * len(test_utt2spk)


# ------------------------------------------------------------------------------------------------ alignment, lexicon


def _lexicon(corpus: Path) -> dict[str, list[str]]:
    return read_list_map(corpus / "data/local/dict_demo/lexicon.txt")


def test_alignment_matches_frames_text_and_phone_table(corpus: Path) -> None:
    d = corpus / "data/demo_asr"
    table = {sym: int(i) for sym, i in (line.split() for line in (d / "phones.txt").read_text().splitlines())}
    assert table["<eps>"] == 0 and "SIL" in table
    id2sym = {i: s for s, i in table.items()}
    lexicon = _lexicon(corpus)
    ali = read_list_map(d / "phone_ali.txt")
    text = read_map(d / "text")
    wavs = read_map(d / "wav.scp")
    assert set(ali) == set(wavs) == set(text)
    for utt, ids in ali.items():
        n = soundfile.info(wavs[utt]).frames
        assert len(ids) == (n + 40) // 80 == round(n / 80), f"{utt}: {len(ids)} frames for {n} samples"
        assert n % 80 == 0
        phones = [id2sym[int(i)] for i in ids]  # KeyError: an id outside phones.txt
        assert phones[0] == phones[-1] == "SIL"
        assert "<eps>" not in phones and "SPN" not in phones
        # runs: every phone lasts >= 3 frames; dropping silences gives the lexicon pronunciation of the text
        runs = [phones[0]]
        lengths = [1]
        for p in phones[1:]:
            if p == runs[-1]:
                lengths[-1] += 1
            else:
                runs.append(p)
                lengths.append(1)
        spoken = [p for p in runs if p != "SIL"]
        expected = [p for w in text[utt].split() for p in lexicon[w]]
        # identical adjacent phones across a word boundary merge into one run
        merged = [p for i, p in enumerate(expected) if i == 0 or p != expected[i - 1]]
        assert spoken == merged, utt
        assert min(lengths) >= 3, utt


def test_lexicon_covers_text_and_phone_set(corpus: Path) -> None:
    lexicon = _lexicon(corpus)
    d = corpus / "data/local/dict_demo"
    nonsil = d.joinpath("nonsilence_phones.txt").read_text().split()
    sil = d.joinpath("silence_phones.txt").read_text().split()
    assert d.joinpath("optional_silence.txt").read_text().split() == ["SIL"]
    assert 20 <= len(nonsil) <= 30 and not set(nonsil) & set(sil)
    assert len(lexicon) >= 90
    used = {p for prons in lexicon.values() for p in prons}
    assert used == set(nonsil) | set(sil)
    for name in SPEECH_SETS:
        for utt, words in read_map(corpus / "data" / name / "text").items():
            missing = [w for w in words.split() if w not in lexicon]
            assert not missing, f"{name}/{utt}: {missing} not in lexicon"
    table = (corpus / "data/demo_asr/phones.txt").read_text().split()[::2]
    assert set(table) == {"<eps>"} | set(nonsil) | set(sil)


# ------------------------------------------------------------------------------------------------ audio


def test_audio_format_level_and_silences(corpus: Path) -> None:
    for name in ALL_SETS:
        durs = read_map(corpus / "data" / name / "utt2dur")
        for key, path in read_map(corpus / "data" / name / "wav.scp").items():
            info = soundfile.info(path)
            assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16"), path
            x, _ = soundfile.read(path, dtype="int16")
            assert np.abs(x.astype(np.int32)).max() <= PEAK_LIMIT, f"{path} too close to clipping"
            assert np.abs(x.astype(np.int32)).max() > 300, f"{path} is (almost) silent"
            assert abs(float(durs[key]) - len(x) / 8000) < 1e-3
            if name in SPEECH_SETS:  # leading/trailing silence well below the speech level
                e = 10 * np.log10(np.mean(x.astype(np.float64).reshape(-1, 80) ** 2, axis=1) + 1.0)
                assert max(e[:5].mean(), e[-5:].mean()) < np.percentile(e, 90) - 15, path


def _spectra(path: str, num_frames: int) -> np.ndarray:
    """Log power spectra (512-point FFT of 32 ms Hann frames) at the 10 ms alignment frames."""
    x, _ = soundfile.read(path)
    xp = np.pad(x, (88, 88))
    frames = xp[(np.arange(num_frames) * 80)[:, None] + np.arange(256)] * np.hanning(256)
    return np.log(np.abs(np.fft.rfft(frames, n=512, axis=1)) ** 2 + 1e-3)


def _within_between(dist, keys: list[str], spk: dict[str, str]) -> float:
    within, between = [], []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            d = dist(a, b)
            if d is not None:
                (within if spk[a] == spk[b] else between).append(d)
    return float(np.mean(within) / np.mean(between))


def test_speakers_are_distinct_across_sessions(tmp_path: Path) -> None:
    """Same-speaker recordings (each through its own channel, saying other words) are closer than
    different-speaker ones in three views: the long-term average spectrum, vowel spectra given the true
    alignment (vocal tract), and cepstral F0 (source). A generator whose speakers all sound alike gives ~1."""
    config = dataclasses.replace(small_config(), asr_speakers=6, asr_utts_per_speaker=4, asr_min_duration=3.0,
                                 asr_max_duration=4.0)
    make_demo_corpus(tmp_path / "data", tmp_path / "wav", config, seed=SEED)
    d = tmp_path / "data/demo_asr"
    ids = {s: int(i) for s, i in (line.split() for line in (d / "phones.txt").read_text().splitlines())}
    ali = {k: np.array(v, dtype=int) for k, v in read_list_map(d / "phone_ali.txt").items()}
    wavs, spk = read_map(d / "wav.scp"), read_map(d / "utt2spk")
    keys = sorted(wavs)
    band = slice(16, 224)  # 250 .. 3500 Hz
    ltas, vowel, f0 = {}, {}, {}
    for u in keys:
        lp = _spectra(wavs[u], len(ali[u]))
        speech = ali[u] != ids["SIL"]
        avg = np.log(np.exp(lp[speech, band]).mean(axis=0))
        ltas[u] = avg - avg.mean()
        vowel[u] = {}
        for v in VOWELS:
            m = ali[u] == ids[v]
            if m.sum() >= 3:
                s = lp[m, band].mean(axis=0)
                vowel[u][v] = s - s.mean()
        is_vowel = np.isin(ali[u], [ids[v] for v in VOWELS])
        cep = np.fft.irfft(lp[is_vowel], axis=1)
        f0[u] = np.median(np.log(8000.0 / (np.argmax(cep[:, 20:100], axis=1) + 20)))  # 80 .. 400 Hz

    def rms(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(np.mean((a - b) ** 2)))

    def vowel_dist(a: str, b: str) -> float | None:
        shared = set(vowel[a]) & set(vowel[b])
        return float(np.mean([rms(vowel[a][v], vowel[b][v]) for v in shared])) if shared else None

    r_ltas = _within_between(lambda a, b: rms(ltas[a], ltas[b]), keys, spk)
    r_vowel = _within_between(vowel_dist, keys, spk)
    r_f0 = _within_between(lambda a, b: abs(f0[a] - f0[b]), keys, spk)
    assert r_ltas < 0.9, f"long-term spectrum: within/between distance ratio {r_ltas:.2f}"
    assert r_vowel < 0.8, f"vowel spectra: within/between distance ratio {r_vowel:.2f}"
    assert r_f0 < 0.4, f"F0: within/between distance ratio {r_f0:.2f}"


# ------------------------------------------------------------------------------------------------ CLI, errors


def test_cli_matches_library_and_validates(corpus: Path, tmp_path: Path, repo_root: Path,
                                           script_env: dict[str, str]) -> None:
    cmd = [sys.executable, str(repo_root / "local/make_demo_corpus.py"), "--config", str(repo_root / "conf/demo.conf"),
           "--seed", str(SEED), "--small", str(tmp_path / "data"), str(tmp_path / "wav")]
    proc = subprocess.run(cmd, cwd=repo_root, env=script_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "generated 41 recordings" in proc.stderr
    assert _wav_bytes(tmp_path) == _wav_bytes(corpus)
    assert _tables(tmp_path) == _tables(corpus)
    validate = repo_root / "utils/validate_data_dir.sh"
    if validate.is_file():
        for name in ALL_SETS:
            opts = ["--no-feats"] + ([] if name in SPEECH_SETS else ["--no-text"])
            v = subprocess.run(["bash", str(validate), *opts, str(tmp_path / "data" / name)], cwd=repo_root,
                               env=script_env, capture_output=True, text=True)
            assert v.returncode == 0, f"{name}: {v.stdout}{v.stderr}"


def test_sources_only_cli_writes_the_same_sources_and_nothing_else(corpus: Path, tmp_path: Path, repo_root: Path,
                                                                  script_env: dict[str, str]) -> None:
    cmd = [sys.executable, str(repo_root / "local/make_demo_corpus.py"), "--seed", str(SEED), "--small",
           "--sources-only", str(tmp_path / "data"), str(tmp_path / "wav")]
    proc = subprocess.run(cmd, cwd=repo_root, env=script_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(SOURCE_SETS)
    for name in SOURCE_SETS:
        ours = {k: Path(v).read_bytes() for k, v in read_map(tmp_path / "data" / name / "wav.scp").items()}
        full = {k: Path(v).read_bytes() for k, v in read_map(corpus / "data" / name / "wav.scp").items()}
        assert ours == full, f"{name}: sources differ from those of the full corpus"


def test_conf_file_holds_the_defaults(repo_root: Path) -> None:
    from phonsid.cli import read_option_file

    values = dict(a[2:].split("=", 1) for a in read_option_file(str(repo_root / "conf/demo.conf")))
    defaults = DemoConfig()
    assert set(values) == {f.name.replace("_", "-") for f in dataclasses.fields(DemoConfig)}
    for f in dataclasses.fields(DemoConfig):
        assert float(values[f.name.replace("_", "-")]) == getattr(defaults, f.name), f.name


@pytest.mark.parametrize("change, message", [
    (dict(train_speakers=0), "--train-speakers=0"),
    (dict(eval_min_duration=6.0, eval_max_duration=5.0), "--eval-min-duration=6.0"),
    (dict(eval_speakers=1), "--eval-speakers=1"),
    (dict(snr_min=50.0, snr_max=40.0), "--snr-min=50.0"),
])
def test_bad_sizes_are_named(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_demo_corpus(tmp_path / "data", tmp_path / "wav", dataclasses.replace(small_config(), **change))
    assert not (tmp_path / "data").exists()


def test_cli_reports_bad_option(tmp_path: Path, repo_root: Path, script_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, str(repo_root / "local/make_demo_corpus.py"), "--asr-speakers=0",
                           str(tmp_path / "data"), str(tmp_path / "wav")],
                          cwd=repo_root, env=script_env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "--asr-speakers=0" in proc.stderr


@pytest.mark.slow
def test_default_corpus(tmp_path: Path) -> None:
    """The full-size corpus of conf/demo.conf: about an hour of speech, enough utterances per training speaker."""
    summaries = {s.name: s for s in make_demo_corpus(tmp_path / "data", tmp_path / "wav", DemoConfig(), seed=SEED)}
    speech_hours = sum(summaries[n].seconds for n in SPEECH_SETS) / 3600
    assert 0.8 < speech_hours < 1.3
    assert summaries["demo_train"].speakers == 60 and summaries["demo_train"].recordings == 600
    spk2utt = read_list_map(tmp_path / "data/demo_train/spk2utt")
    assert min(len(u) for u in spk2utt.values()) >= 8
    durs = [float(v) for v in read_map(tmp_path / "data/demo_train/utt2dur").values()]
    assert 2.5 < np.median(durs) < 8.0
