"""speechocean762 data prep: the published layout (mock tree with the corpus's file names, 16 kHz WAV), ready data
dirs (one train-only dir with wav.list and 8 kHz FLAC, as in ../shared; train/ + test/ dirs), the real shared
subset when present; speaker sets, enrolment, trials counts from the keys, age lists, determinism, dict dir."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from phonsid.data import DataDirError, c_sorted, read_list_map, read_map, validate_data_dir
from phonsid.io.wav import read_wav_spec
from phonsid.recipes import speechocean762 as so

SETS = ("so762_asr", "so762_train", "so762_enroll", "so762_test")
# speaker -> (age, gender, number of utterances): train half and test half of the mock published corpus
TRAIN = {"0001": (6, "m", 6), "0005": (25, "f", 6), "0026": (9, "f", 6), "0036": (31, "m", 7)}
TEST = {"0003": (6, "m", 8), "0024": (12, "f", 8), "0044": (20, "m", 8), "0049": (35, "f", 9),
        "0092": (8, "m", 8), "0093": (40, "f", 8)}
SENTENCES = ["WE CALL IT BEAR", "ZERO THREE FIVE ONE", "THREE TWO TWO SEVEN", "ELEPHANTS TAI GOOSE"]
LEXICON = """A\tAH0
A\tEY0
WE\tW IY1
CALL\tK AO1 L
IT\tIH1 T
BEAR\tB EH1 R
ZERO\tZ IH1 R OW0
THREE\tTH R IY1
FIVE\tF AY1 V
ONE\tW AH1 N
TWO\tT UW1
SEVEN\tS EH1 V AH0 N
ELEPHANTS\tEH1 L AH0 F AH0 N T S
GOOSE\tG UW1 S
"""


class Recorder:
    """Collects log messages (the library takes any object with info/warning)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append("LOG " + msg)

    def warning(self, msg: str) -> None:
        self.lines.append("WARNING " + msg)


def _utt_ids(spk: str, n: int) -> list[str]:
    """Corpus-style ids: '0' + speaker + a 4-digit index with gaps (000010011 is speaker 0001)."""
    return [f"0{spk}{11 + 7 * i:04d}" for i in range(n)]


def _tone(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * np.sin(2 * np.pi * (200 + 50 * seed % 7) * np.arange(n) / 16000) + 0.01 * rng.standard_normal(n))


def _write_half(d: Path, speakers: dict, text_lower: bool = False, age_key_prefix: str = "") -> None:
    d.mkdir(parents=True)
    wav, text, u2s = [], [], []
    for spk, (_, _, n) in speakers.items():
        for i, utt in enumerate(_utt_ids(spk, n)):
            wav.append(f"{utt}\tWAVE/SPEAKER{spk}/{utt}.WAV\n")
            sent = SENTENCES[i % len(SENTENCES)]
            text.append(f"{utt}\t{sent.lower() if text_lower else sent}\n")
            u2s.append(f"{utt}\t{spk}\n")
    (d / "wav.scp").write_text("".join(wav))
    (d / "text").write_text("".join(text))
    (d / "utt2spk").write_text("".join(u2s))
    (d / "spk2utt").write_text("".join(f"{s}\t{' '.join(_utt_ids(s, v[2]))}\n" for s, v in speakers.items()))
    (d / "spk2gender").write_text("".join(f"{s}\t{v[1]}\n" for s, v in speakers.items()))
    (d / "spk2age").write_text("".join(f"{age_key_prefix}{s}\t{v[0]}\n" for s, v in speakers.items()))


def make_published(root: Path) -> Path:
    """A mock of the published corpus: WAVE/SPEAKERnnnn/*.WAV (16 kHz, 0.25 s), train/, test/, resource/."""
    for k, (spk, (_, _, n)) in enumerate({**TRAIN, **TEST}.items()):
        d = root / "WAVE" / f"SPEAKER{spk}"
        d.mkdir(parents=True)
        for i, utt in enumerate(_utt_ids(spk, n)):
            soundfile.write(d / f"{utt}.WAV", _tone(4000, 100 * k + i), 16000, subtype="PCM_16", format="WAV")
    _write_half(root / "train", TRAIN)
    # the test half: lower-case text (upper-cased by the prep), spk2age keyed SPEAKERnnnn as in one release
    _write_half(root / "test", TEST, text_lower=True, age_key_prefix="SPEAKER")
    (root / "resource").mkdir()
    (root / "resource" / "lexicon.txt").write_text(LEXICON)
    (root / "resource" / "text-phone").write_text("000010011.0\tW_B IY0_E\n")
    (root / "resource" / "scores.json").write_text(json.dumps({"000010011": {"text": "WE CALL IT BEAR"}}))
    return root


def make_ready_dir(root: Path, n_adult: int = 6, n_child: int = 4, n_utts: int = 8) -> tuple[Path, dict]:
    """A train-only data dir like ../shared/data/speechocean762: 8 kHz FLAC under <root>/so/audio, wav.list with
    paths relative to <root>, tab-separated spk2age/spk2gender, no resource/."""
    speakers = {}
    for i in range(n_adult + n_child):
        spk = f"{100 + 3 * i:04d}"
        speakers[spk] = (30 + i if i < n_adult else 7 + i % 8, "mf"[i % 2], n_utts)
    d = root / "so"
    lines, text, u2s = [], [], []
    for k, (spk, (_, _, n)) in enumerate(speakers.items()):
        (d / "audio" / f"SPEAKER{spk}").mkdir(parents=True)
        for i, utt in enumerate(_utt_ids(spk, n)):
            soundfile.write(d / "audio" / f"SPEAKER{spk}" / f"{utt}.flac", _tone(1600, 50 * k + i), 8000,
                            format="FLAC", subtype="PCM_16")
            lines.append(f"{utt} so/audio/SPEAKER{spk}/{utt}.flac\n")
            text.append(f"{utt} {SENTENCES[i % 4]}\n")
            u2s.append(f"{utt} {spk}\n")
    (d / "wav.list").write_text("".join(lines))
    (d / "text").write_text("".join(text))
    (d / "utt2spk").write_text("".join(u2s))
    (d / "spk2gender").write_text("".join(f"{s}\t{v[1]}\n" for s, v in speakers.items()))
    (d / "spk2age").write_text("".join(f"{s}\t{v[0]}\n" for s, v in speakers.items()))
    return d, speakers


def _trials(path: Path) -> list[tuple[str, str, str]]:
    rows = [tuple(line.split()) for line in path.read_text().splitlines()]
    assert all(len(r) == 3 and r[2] in ("target", "nontarget") for r in rows)
    return rows  # type: ignore[return-value]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = make_published(tmp_path_factory.mktemp("so762_corpus"))
    data = tmp_path_factory.mktemp("so762_data")
    log = Recorder()
    summary = so.prepare_speechocean762(root, data, nontargets="3", seed=1, log=log)
    return root, data, summary, log


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    root = tmp_path_factory.mktemp("so762_ready")
    src, speakers = make_ready_dir(root)
    data = root / "data"
    log = Recorder()
    summary = so.prepare_speechocean762(src, data, nontargets="all", seed=3, cross_age="model", log=log)
    return src, data, summary, log, speakers


# ------------------------------------------------------------------------------------- published layout


def test_published_sets_validate_and_ids(published) -> None:
    _, data, summary, _ = published
    for name in SETS:
        validate_data_dir(data / name, no_feats=True, no_text=False)
        for utt, spk in read_map(data / name / "utt2spk").items():
            assert utt.startswith(spk + "-")
    for name in ("wav.scp", "utt2spk", "spk2utt", "text", "spk2gender", "spk2age", "utt2dur"):
        assert (data / "so762_asr" / name).read_text() == (data / "so762_train" / name).read_text()
    train = set(read_list_map(data / "so762_train" / "spk2utt"))
    enroll = set(read_list_map(data / "so762_enroll" / "spk2utt"))
    test = set(read_list_map(data / "so762_test" / "spk2utt"))
    assert train == set(TRAIN) and enroll == test == set(TEST) and not train & test
    assert read_map(data / "so762_test" / "spk2age")["0003"] == "6"  # SPEAKER0003 in the corpus file
    assert read_map(data / "so762_enroll" / "spk2gender") == {s: v[1] for s, v in TEST.items()}
    assert read_map(data / "so762_enroll" / "text")["0003-000030011"] == SENTENCES[0]  # upper-cased
    assert summary.split is False
    assert summary.sets["so762_train"] == (4, 25, pytest.approx(25 * 0.25 / 3600))
    assert not any(p.name.startswith(".so762") for p in data.iterdir())  # no temporary dir left


def test_published_enrollment_is_first_utterances(published) -> None:
    root, data, _, _ = published
    src = read_map(root / "test" / "utt2spk")
    enroll = read_map(data / "so762_enroll" / "utt2spk")
    test = read_map(data / "so762_test" / "utt2spk")
    for spk in TEST:
        utts = c_sorted(u for u, s in src.items() if s == spk)
        assert [u for u, s in enroll.items() if s == spk] == [f"{spk}-{u}" for u in utts[:5]]
        assert [u for u, s in test.items() if s == spk] == [f"{spk}-{u}" for u in utts[5:]]


def test_published_trials_counts_from_keys(published) -> None:
    root, data, summary, log = published
    src = read_map(root / "test" / "utt2spk")
    n_models = len(TEST)
    n_test = sum(max(0, sum(1 for s in src.values() if s == spk) - 5) for spk in TEST)
    rows = _trials(data / "so762_test" / "trials")
    test = read_map(data / "so762_test" / "utt2spk")
    targets = [r for r in rows if r[2] == "target"]
    nontargets = [r for r in rows if r[2] == "nontarget"]
    assert len(targets) == n_test == 19
    assert len(nontargets) == n_test * min(3, n_models - 1)
    assert all(test[u] == m for m, u, _ in targets) and all(test[u] != m for m, u, _ in nontargets)
    assert {u for _, u, _ in targets} == set(test)
    for utt in test:
        assert sum(1 for m, u, _ in nontargets if u == utt) == 3
    assert len({(m, u) for m, u, _ in rows}) == len(rows)
    assert [f"{m} {u}" for m, u, _ in rows] == sorted(f"{m} {u}" for m, u, _ in rows)
    assert {m for m, _, _ in rows} <= set(read_list_map(data / "so762_enroll" / "spk2utt"))
    assert summary.trials["trials"] == (19, 57)
    assert any("so762_test/trials: 76 trials, 19 target, 57 nontarget" in line for line in log.lines)


def test_published_age_lists_drop_cross_age(published) -> None:
    _, data, summary, _ = published
    test = read_map(data / "so762_test" / "utt2spk")
    rows = _trials(data / "so762_test" / "trials")
    adult = {s for s, v in TEST.items() if v[0] >= 16}
    expect_adult = [r for r in rows if r[0] in adult and test[r[1]] in adult]
    expect_child = [r for r in rows if r[0] not in adult and test[r[1]] not in adult]
    assert _trials(data / "so762_test" / "trials_adult") == expect_adult
    assert _trials(data / "so762_test" / "trials_child") == expect_child
    assert len(expect_adult) + len(expect_child) < len(rows)  # some cross-age trials were dropped
    n_child_targets = sum(1 for r in expect_child if r[2] == "target")
    assert summary.trials["trials_child"] == (n_child_targets, len(expect_child) - n_child_targets)
    assert n_child_targets == 9  # speakers 0003, 0024, 0092: 3 test utterances each


def test_published_resampled_to_8k(published) -> None:
    root, data, _, _ = published
    wav = read_map(data / "so762_test" / "wav.scp")
    assert all(v.endswith("|") and "8000" in v for v in wav.values())
    wave = read_wav_spec(wav["0003-000030046"])
    orig = soundfile.read(root / "WAVE" / "SPEAKER0003" / "000030046.WAV")[0]
    assert wave.sample_rate == 8000 and abs(wave.data.shape[1] - 2000) <= 1
    assert np.isclose(np.sqrt(np.mean(wave.data[0] ** 2)) / 32768, np.sqrt(np.mean(orig ** 2)), rtol=0.05)
    assert read_map(data / "so762_test" / "utt2dur")["0003-000030046"] == "0.250"


def test_published_dict_dir(published) -> None:
    _, data, summary, _ = published
    d = data / "local" / "dict_so762"
    lex = [line.split() for line in (d / "lexicon.txt").read_text().splitlines()]
    words = {w for w, *_ in lex}
    text_words = {w for line in (data / "so762_asr" / "text").read_text().splitlines() for w in line.split()[1:]}
    assert words == (text_words - {"TAI"}) | {"!SIL", "<unk>"}  # only the words of the ASR transcripts
    assert ["ZERO", "Z", "IH", "R", "OW"] in lex  # stress removed
    assert not any(ch.isdigit() for line in (d / "nonsilence_phones.txt").read_text().split() for ch in line)
    assert (d / "oov_counts.txt").read_text().split()[0] == "TAI"
    assert (d / "silence_phones.txt").read_text().split() == ["SIL", "SPN", "NSN"]
    assert (d / "optional_silence.txt").read_text() == "SIL\n"
    assert summary.dict_dir == str(data / "local" / "dict_so762") and summary.dict_oov_tokens > 0


def test_published_determinism_and_seed(published, tmp_path) -> None:
    root, data, _, _ = published
    so.prepare_speechocean762(root, tmp_path / "a", nontargets="3", seed=1, sample_rate=16000, keep_stress=True)
    same = tmp_path / "a" / "so762_test"
    assert (same / "trials").read_text() == (data / "so762_test" / "trials").read_text()
    assert (same / "trials_child").read_text() == (data / "so762_test" / "trials_child").read_text()
    assert all(not v.endswith("|") for v in read_map(same / "wav.scp").values())  # 16 kHz kept as files
    assert "ZERO Z IH1 R OW0" in (tmp_path / "a" / "local" / "dict_so762" / "lexicon.txt").read_text()
    so.prepare_speechocean762(root, tmp_path / "a", nontargets="3", seed=2)  # replaces the dirs
    other = _trials(same / "trials")
    first = _trials(data / "so762_test" / "trials")
    assert [r for r in other if r[2] == "target"] == [r for r in first if r[2] == "target"]
    assert other != first and len(other) == len(first)
    assert all(v.endswith("|") for v in read_map(same / "wav.scp").values())  # back to 8 kHz pipes


# ------------------------------------------------------------------------------------- ready data dirs


def test_ready_dir_split_by_speaker(ready) -> None:
    src, data, summary, log, speakers = ready
    for name in SETS:
        validate_data_dir(data / name, no_feats=True)
    train = set(read_list_map(data / "so762_train" / "spk2utt"))
    test = set(read_list_map(data / "so762_test" / "spk2utt"))
    assert not train & test and train | test == set(speakers)
    assert set(read_list_map(data / "so762_enroll" / "spk2utt")) == test
    children = {s for s, v in speakers.items() if v[0] < 16}
    assert len(test & children) == 2 and len(test - children) == 3  # floor(half) of each age group
    assert train & children
    assert summary.split is True
    assert any(line.startswith("LOG only the train half") and "5 training speakers" in line for line in log.lines)
    wav = read_map(data / "so762_train" / "wav.scp")
    assert all(v.startswith(str(src.parent.resolve())) and v.endswith(".flac") for v in wav.values())
    assert not (data / "local" / "dict_so762").exists()
    assert any("left to CMUdict" in line for line in log.lines)


def test_ready_dir_trials_all_and_age_by_model(ready) -> None:
    _, data, summary, _, speakers = ready
    test = read_map(data / "so762_test" / "utt2spk")
    n_models = len(set(test.values()))
    rows = _trials(data / "so762_test" / "trials")
    assert sum(1 for r in rows if r[2] == "target") == len(test) == n_models * 3
    assert sum(1 for r in rows if r[2] == "nontarget") == len(test) * (n_models - 1)
    adult = _trials(data / "so762_test" / "trials_adult")
    child = _trials(data / "so762_test" / "trials_child")
    assert sorted(adult + child) == sorted(rows)  # cross_age="model": the lists partition the trials
    assert all(speakers[m][0] >= 16 for m, _, _ in adult) and all(speakers[m][0] < 16 for m, _, _ in child)


def test_split_is_deterministic_and_stratified() -> None:
    ages = {f"s{i:02d}": (8 if i % 3 == 0 else 40) for i in range(30)}
    a = so.split_speakers(ages, ages, 0.5, seed=5)
    assert a == so.split_speakers(ages, ages, 0.5, seed=5)
    assert a != so.split_speakers(ages, ages, 0.5, seed=6)
    train, test = a
    assert sum(1 for s in test if ages[s] < 16) == 5 and sum(1 for s in test if ages[s] >= 16) == 10
    assert sorted(train + test) == sorted(ages)


def test_ready_train_test_dirs_keep_prefixed_ids(tmp_path) -> None:
    root = tmp_path / "kaldi"
    for half, spks in (("train", ["0001", "0005"]), ("test", ["0003", "0024", "0044"])):
        d = root / half
        d.mkdir(parents=True)
        wav, u2s, text = [], [], []
        for k, spk in enumerate(spks):
            for i in range(7):
                utt = f"{spk}-0{spk}{i:04d}"
                p = tmp_path / "audio" / f"{utt}.wav"
                p.parent.mkdir(exist_ok=True)
                soundfile.write(p, _tone(800, 10 * k + i)[:800], 8000, subtype="PCM_16")
                wav.append(f"{utt} {p}\n")
                u2s.append(f"{utt} {spk}\n")
                text.append(f"{utt} ONE TWO\n")
        (d / "wav.scp").write_text("".join(wav))
        (d / "utt2spk").write_text("".join(u2s))
        if half == "train":
            (d / "text").write_text("".join(text))
    summary = so.prepare_speechocean762(root, tmp_path / "data", num_enroll=4, nontargets="0.5")
    data = tmp_path / "data"
    assert "0003-000030000" in read_map(data / "so762_enroll" / "utt2spk")
    assert not (data / "so762_test" / "text").exists() and not (data / "so762_test" / "trials_adult").exists()
    assert summary.trials["trials"] == (9, 9)  # 3 models x 3 test utts; round(0.5 * 2) = 1 non-target each
    assert summary.sets["so762_asr"][:2] == (2, 14)


# ------------------------------------------------------------------------------------- errors and CLI


def test_errors_name_the_problem(tmp_path) -> None:
    root = make_published(tmp_path / "c")
    u2s = (root / "test" / "utt2spk").read_text()
    (root / "test" / "utt2spk").write_text(u2s.replace("\t0003\n", "\t0001\n"))
    with pytest.raises(DataDirError, match="speaker '0001' is in both .*train/utt2spk"):
        so.prepare_speechocean762(root, tmp_path / "d")
    (root / "test" / "utt2spk").write_text(u2s)
    (root / "WAVE" / "SPEAKER0024" / "000240018.WAV").unlink()
    with pytest.raises(DataDirError, match="utterance '000240018'.*WAVE/SPEAKER0024/000240018.WAV"):
        so.prepare_speechocean762(root, tmp_path / "d")
    ready, _ = make_ready_dir(tmp_path / "r", n_adult=2, n_child=2, n_utts=6)
    (ready / "spk2age").write_text("0100\tthirty\n")
    with pytest.raises(DataDirError, match="spk2age: speaker '0100': age 'thirty'"):
        so.prepare_speechocean762(ready, tmp_path / "d")
    with pytest.raises(ValueError, match="--nontargets=-1"):
        so.prepare_speechocean762(ready, tmp_path / "d", nontargets="-1")
    assert not (tmp_path / "d" / "so762_train").exists()


def test_cli(tmp_path, script_env, repo_root) -> None:
    src, _ = make_ready_dir(tmp_path, n_adult=4, n_child=4, n_utts=7)
    cmd = [sys.executable, str(repo_root / "local" / "make_speechocean762.py"), "--nontargets=2", "--seed=9",
           str(src), str(tmp_path / "data")]
    proc = subprocess.run(cmd, env=script_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "LOG (make_speechocean762.py) only the train half" in proc.stderr
    assert "so762_test/trials: 24 trials, 8 target, 16 nontarget" in proc.stderr  # 4 models x 2 test utts
    assert (tmp_path / "data" / "so762_test" / "trials_child").is_file()
    bad = subprocess.run(cmd[:2] + [str(tmp_path / "missing"), str(tmp_path / "data")], env=script_env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "missing: no such directory" in bad.stderr


# ------------------------------------------------------------------------------------- the shared subset


def test_shared_subset(shared_data, tmp_path) -> None:
    src = shared_data / "speechocean762"
    if not (src / "utt2spk").is_file():
        pytest.skip(f"{src} is absent")
    log = Recorder()
    summary = so.prepare_speechocean762(src, tmp_path, log=log)
    src_u2s = read_map(src / "utt2spk")
    ages = {s: int(a) for s, a in read_map(src / "spk2age").items()}
    for name in SETS:
        validate_data_dir(tmp_path / name, no_feats=True)
    train = set(read_list_map(tmp_path / "so762_train" / "spk2utt"))
    test_u2s = read_map(tmp_path / "so762_test" / "utt2spk")
    test = set(test_u2s.values())
    assert not train & test and train | test == set(src_u2s.values())
    assert len(train) == 63 and len(test) == 62
    assert len({s for s in test if ages[s] < 16}) == 29 and len({s for s in train if ages[s] < 16}) == 29
    enroll = read_map(tmp_path / "so762_enroll" / "utt2spk")
    for spk in test:
        utts = c_sorted(u for u, s in src_u2s.items() if s == spk)
        assert [u for u, s in enroll.items() if s == spk] == [f"{spk}-{u}" for u in utts[:5]]
    n_test = sum(sum(1 for s in src_u2s.values() if s == spk) - 5 for spk in test)
    rows = _trials(tmp_path / "so762_test" / "trials")
    assert sum(1 for r in rows if r[2] == "target") == n_test == 434
    assert sum(1 for r in rows if r[2] == "nontarget") == 10 * n_test
    adult = [r for r in rows if ages[r[0]] >= 16 and ages[test_u2s[r[1]]] >= 16]
    assert _trials(tmp_path / "so762_test" / "trials_adult") == adult
    assert summary.trials["trials_child"][0] == 7 * 29
    lex = (tmp_path / "local" / "dict_so762" / "lexicon.txt").read_text()
    assert summary.dict_oov_tokens == 0 and "\nWE W IY\n" in lex
    assert summary.sets["so762_asr"][2] > 0.5  # hours
