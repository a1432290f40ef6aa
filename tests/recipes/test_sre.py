"""SRE10 speaker-side data prep on mock LDC trees: NIST SRE 2004-2008 and Switchboard-2 for <prefix>_train, SRE10
enrolment/test/trials, SPHERE decoding without sph2pipe, the CLI and its errors."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from phonsid.data import DataDirError, read_list_map, read_map, validate_data_dir
from phonsid.io import pipeline
from phonsid.io.pipeline import run_shell
from phonsid.io.wav import WavError, read_wav_spec
from phonsid.recipes import sre

N = 400  # samples per channel of every mock file (50 ms at 8 kHz)


# ------------------------------------------------------------------------------------------------ mock audio


def write_sphere(path: Path, samples: np.ndarray, coding: str = "pcm", order: str = "01", rate: int = 8000) -> None:
    """A NIST_1A file: a 1024-byte header and interleaved samples (int16 (channels, n) for pcm; uint8 for ulaw)."""
    channels, n = samples.shape
    width = 2 if coding == "pcm" else 1
    fields = [f"sample_count -i {n}", f"channel_count -i {channels}", f"sample_rate -i {rate}",
              f"sample_n_bytes -i {width}", f"sample_coding -s{len(coding)} {coding}"]
    if width == 2:
        fields += [f"sample_byte_format -s2 {order}", "sample_sig_bits -i 16"]
    text = "NIST_1A\n   1024\n" + "".join(f + "\n" for f in fields) + "end_head\n"
    head = text.encode("ascii").ljust(1024, b" ")
    if width == 2:
        body = samples.T.astype(">i2" if order == "10" else "<i2").tobytes()
    else:
        body = samples.T.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + body)


def stereo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-3000, 3000, size=(2, N)).astype(np.int16)


def touch_sph(path: Path, seed: int = 0) -> None:
    write_sphere(path, stereo(seed))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------------ mock trees

# SRE10 coreext-coreext key rows: model, segment, side, target, scored, c1..c9
SRE10_TRIALS = [
    ("1001", "tbbba", "a", "target", "Y", "NNNNYNNNN"),
    ("1001", "tbbbb", "b", "nontarget", "Y", "NNNNYNNNN"),
    ("1001", "ibbba", "a", "nontarget", "Y", "YNNNNNNNN"),
    ("1002", "tbbbb", "b", "target", "Y", "NNNNYNNNN"),
    ("1002", "tbbbc", "a", "nontarget", "Y", "NNNNYNNNN"),
    ("1002", "tbbba", "a", "nontarget", "N", "NNNNNNNNN"),  # not scored
    ("1003", "ibbba", "a", "target", "Y", "YYNNNNNNN"),
    ("1003", "tbbba", "a", "nontarget", "Y", "NNYNNNNNN"),
    ("1004", "tbbbc", "a", "target", "Y", "NNNNYNNNN"),
    ("1004", "tmiss", "b", "nontarget", "Y", "NNNNYNNNN"),  # test audio missing
    ("1005", "tbbbc", "a", "nontarget", "Y", "NNNNYNNNN"),  # model audio missing
    ("1004", "tbbbb", "b", "nontarget", "Y", "NNNNNNNNN"),  # scored, in no common condition
]
SRE10_MODELS = {"1001": ("f", "tel/taaaa.sph:A"), "1002": ("m", "tel/taaab.sph:B"),
                "1003": ("f", "mic_int/iaaaa.sph:A"), "1004": ("m", "tel/taaac.sph:A"),
                "1005": ("f", "tel/tzzzz.sph:A")}


def make_sre10(root: Path) -> Path:
    ev = root / "SRE2010" / "eval"
    write(ev / "train" / "coreext.trn", "".join(f"{m} {g} {p}\n" for m, (g, p) in SRE10_MODELS.items()))
    write(ev / "keys" / "coreext.modelkey.csv",
          "modelid,speakerid\n" + "".join(f"{m},{int(m) + 5000}\n" for m in SRE10_MODELS))
    write(ev / "keys" / "coreext-coreext.trialkey.csv",
          "modelid,segmentid,channel,targettype,scored,c1,c2,c3,c4,c5,c6,c7,c8,c9\n"
          + "".join(",".join([m, s, ch, t, sc, *c]) + "\n" for m, s, ch, t, sc, c in SRE10_TRIALS))
    for i, rel in enumerate(["tel/taaaa", "tel/taaab", "mic_int/iaaaa", "tel/taaac", "tel/tbbba", "tel/tbbbb",
                             "tel/tbbbc", "mic_int/ibbba"]):
        touch_sph(ev / "data" / f"{rel}.sph", seed=100 + i)
    return ev


def make_training_corpora(root: Path) -> dict[str, str]:
    """SRE04/05/06/08 and Switchboard-2 trees; returns the corpora.conf keys (sre05_train and swbd_cellular2
    point nowhere)."""
    # SRE04 (LDC2006S44): audio in data/, labels from NIST's key (segment ? ? side ? speaker gender ...).
    touch_sph(root / "LDC2006S44" / "data" / "xaaa.sph", 1)
    touch_sph(root / "LDC2006S44" / "data" / "xaab.sph", 2)
    sre04_key = write(root / "keys" / "sre04_key-v2.txt",
                      "xaaa 1side 1 a 8 3001 M e\n"
                      "xaaa 1side 1 b 8 3002 F e\n"
                      "xaab 1side 1 x 8 3009 M e\n")  # summed side: skipped
    # SRE05 test (LDC2011S04): data/speech/, NIST's key (speaker segment ? ? side ? ? ? gender).
    touch_sph(root / "LDC2011S04" / "data" / "speech" / "yaaa.sph", 3)
    sre05_key = write(root / "keys" / "sre05-key-v7b.txt",
                      "3001 yaaa 1conv4w tel b x x x m\n"
                      "3008 yaaa 1conv4w tel a x x x u\n")  # unknown gender: skipped
    # SRE06 train (LDC2011S09): data/train/data/, labels from the speaker list.
    touch_sph(root / "LDC2011S09" / "data" / "train" / "data" / "zaaa.sph", 4)
    touch_sph(root / "LDC2011S09" / "data" / "train" / "data" / "zaab.sph", 5)
    speaker_list = write(root / "speaker_list",
                         "3003 f sre2006 zaaa A\n3001 m sre2006 zaab B\n3007 f sre2006 znone A\n")
    # SRE08 (LDC2011S05 train, LDC2011S08 test with the keys).
    touch_sph(root / "LDC2011S05" / "data" / "train" / "data" / "short2" / "taaa.sph", 6)
    touch_sph(root / "LDC2011S05" / "data" / "train" / "data" / "short2" / "taab.sph", 7)
    touch_sph(root / "LDC2011S08" / "data" / "test" / "data" / "short3" / "uaaa.sph", 8)
    touch_sph(root / "LDC2011S08" / "data" / "test" / "data" / "short3" / "uaab.sph", 9)
    keys = root / "LDC2011S08" / "data" / "keys" / "NIST_SRE08_KEYS.v0.1"
    write(keys / "model-keys" / "NIST_SRE08_short2.model.key",
          "model,gender,segment:channel,speakerid\n10001,f,taaa:a,4001\n10002,m,taab:b,4002\n")
    write(keys / "trial-keys" / "NIST_SRE08_short2-short3.trial.key",
          "model,segment,channel,targettype,language\n"
          "10001,uaaa,a,target,ENG\n10001,uaab,b,nontarget,ENG\n10002,uaab,b,target,ENG\n")
    # Switchboard-2 Phase I (LDC98S75): docs/callstat.tbl; the third call has no audio.
    write(root / "LDC98S75" / "docs" / "callstat.tbl",
          "sw_10001.sph,970101,1001,1002,300,M,F,x\n"
          "sw_10002.sph,970102,1001,1003,301,M,M,x\n"
          "sw_10003.sph,970103,1004,1005,302,F,F,x\n")
    touch_sph(root / "LDC98S75" / "disc1" / "data" / "sw_10001.sph", 10)
    touch_sph(root / "LDC98S75" / "disc2" / "data" / "sw_10002.sph", 11)
    # Phase II (LDC99S79): DISC1/doc/callstat.tbl + callinfo.tbl (two lines per call).
    write(root / "LDC99S79" / "DISC1" / "doc" / "callstat.tbl", "1,980101,2001,2002,F,M,x\n")
    write(root / "LDC99S79" / "DISC1" / "doc" / "callinfo.tbl", "sw_20001,A,x\nsw_20001,B,x\n")
    touch_sph(root / "LDC99S79" / "DISC1" / "data" / "sw_20001.sph", 12)
    # Phase III (LDC2002S06): docs/callstat.tbl with call numbers.
    write(root / "LDC2002S06" / "docs" / "callstat.tbl", "30001,990101,x,3101,3102,M,F,x\n")
    touch_sph(root / "LDC2002S06" / "data" / "sw_30001.sph", 13)
    # Cellular Part 1 (LDC2001S13): docs/swb_callstats.tbl; call 40019 is on Kaldi's bad-audio list.
    write(root / "LDC2001S13" / "docs" / "swb_callstats.tbl", "40001,5001,5002,F,F,x\n40019,5003,5004,M,M,x\n")
    touch_sph(root / "LDC2001S13" / "data" / "sw_40001.sph", 14)
    touch_sph(root / "LDC2001S13" / "data" / "sw_40019.sph", 15)
    return {
        "sre04": str(root / "LDC2006S44"), "sre05_train": str(root / "LDC2011S01"),
        "sre05_test": str(root / "LDC2011S04"), "sre06_train": str(root / "LDC2011S09"),
        "sre08_train": str(root / "LDC2011S05"), "sre08_test": str(root / "LDC2011S08"),
        "swbd2_phase1": str(root / "LDC98S75"), "swbd2_phase2": str(root / "LDC99S79"),
        "swbd2_phase3": str(root / "LDC2002S06"), "swbd_cellular1": str(root / "LDC2001S13"),
        "swbd_cellular2": str(root / "LDC2004S07"),
        "sre_speaker_list": str(speaker_list), "sre04_key": str(sre04_key), "sre05_key": str(sre05_key),
    }


# The labelled sides the trees above give (speaker -> utterance ids).
EXPECTED_TRAIN = {
    "sre-3001": ["sre-3001-sre04-xaaa-A", "sre-3001-sre05-yaaa-B", "sre-3001-sre06-zaab-B"],
    "sre-3002": ["sre-3002-sre04-xaaa-B"],
    "sre-3003": ["sre-3003-sre06-zaaa-A"],
    "sre-4001": ["sre-4001-sre08-taaa-A", "sre-4001-sre08-uaaa-A"],
    "sre-4002": ["sre-4002-sre08-taab-B", "sre-4002-sre08-uaab-B"],
    "sw-1001": ["sw-1001-swbd2p1-10001-A", "sw-1001-swbd2p1-10002-A"],
    "sw-1002": ["sw-1002-swbd2p1-10001-B"],
    "sw-1003": ["sw-1003-swbd2p1-10002-B"],
    "sw-2001": ["sw-2001-swbd2p2-20001-A"],
    "sw-2002": ["sw-2002-swbd2p2-20001-B"],
    "sw-3101": ["sw-3101-swbd2p3-30001-A"],
    "sw-3102": ["sw-3102-swbd2p3-30001-B"],
    "sw-5001": ["sw-5001-swbdc1-40001-A"],
    "sw-5002": ["sw-5002-swbdc1-40001-B"],
}


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.levelname} {record.getMessage()}")


def make_logger(name: str) -> tuple[logging.Logger, ListHandler]:
    log = logging.getLogger(f"test_sre.{name}")
    log.handlers.clear()
    handler = ListHandler()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log, handler


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("ldc")
    conf = make_training_corpora(root)
    conf["sre10_eval"] = str(make_sre10(root))
    return root, conf


@pytest.fixture(scope="module")
def prepared(corpora, tmp_path_factory):
    _, conf = corpora
    out = tmp_path_factory.mktemp("data")
    log, handler = make_logger("prepared")
    summaries = sre.prepare_sre10(out, conf, log=log)
    return out, summaries, handler.records


def key_trials(key_rows, condition: str | int | None, models_with_audio: set[str], tests_with_audio: set[str]):
    """The trial lines the key gives, computed here independently of the library."""
    out = []
    for m, seg, ch, target, scored, conds in key_rows:
        if scored != "Y" or m not in models_with_audio or seg not in tests_with_audio:
            continue
        if isinstance(condition, int) and conds[condition - 1] != "Y":
            continue
        out.append(f"{m} {seg}_{ch.upper()} {target}")
    return sorted(out, key=lambda s: s.encode())


MODELS_WITH_AUDIO = {"1001", "1002", "1003", "1004"}
TESTS_WITH_AUDIO = {"tbbba", "tbbbb", "tbbbc", "ibbba"}


# ------------------------------------------------------------------------------------------------ training set


def test_train_ids_speakers_and_validation(prepared) -> None:
    out, summaries, _ = prepared
    d = out / "sre10_train"
    validate_data_dir(d, no_feats=True, no_text=True)
    spk2utt = read_list_map(d / "spk2utt")
    assert spk2utt == {s: sorted(u, key=str.encode) for s, u in EXPECTED_TRAIN.items()}
    assert len(spk2utt) == 14 and sum(map(len, spk2utt.values())) == 19
    for utt, spk in read_map(d / "utt2spk").items():
        assert utt.startswith(spk + "-")
    gender = read_map(d / "spk2gender")
    assert gender["sre-3001"] == "m" and gender["sre-3003"] == "f" and gender["sw-1002"] == "f"
    assert gender["sre-4002"] == "m" and gender["sw-2002"] == "m"
    assert summaries[0].name == "sre10_train" and summaries[0].speakers == 14
    # Hours from the SPHERE headers: 19 sides of N samples at 8 kHz.
    assert summaries[0].hours == pytest.approx(19 * N / 8000 / 3600)


def test_train_pipes_channels(prepared, corpora) -> None:
    out, _, _ = prepared
    root, _ = corpora
    wav = read_map(out / "sre10_train" / "wav.scp")
    assert wav["sre-3002-sre04-xaaa-B"] == f"sph2pipe -f wav -p -c 2 {root / 'LDC2006S44' / 'data' / 'xaaa.sph'} |"
    assert wav["sre-3001-sre04-xaaa-A"] == f"sph2pipe -f wav -p -c 1 {root / 'LDC2006S44' / 'data' / 'xaaa.sph'} |"
    assert " -c 2 " in wav["sw-2002-swbd2p2-20001-B"] and wav["sw-2002-swbd2p2-20001-B"].endswith("sw_20001.sph |")
    assert " -c 1 " in wav["sw-5001-swbdc1-40001-A"]
    for utt, spec in wav.items():
        assert spec.endswith(".sph |") and f" -c {1 if utt.endswith('-A') else 2} " in spec


def test_train_warnings(prepared) -> None:
    _, _, records = prepared
    text = "\n".join(records)
    assert "WARNING 'sre05_train' (NIST SRE 2005 train, LDC2011S01): no such directory" in text
    assert "WARNING 'swbd_cellular2'" in text and "'sre06_test' (NIST SRE 2006 test" in text
    assert "sre06: 1 labelled side(s) have no audio (e.g. 'znone')" in text
    assert "swbd2p1: 1 labelled side(s) have no audio" not in text  # both sides of the call: 2
    assert "swbd2p1: 2 labelled side(s) have no audio (e.g. '10003')" in text
    assert any(r.startswith("INFO sre08: 4 call sides of 2 speakers") for r in records)


def test_min_utts_per_spk(corpora, tmp_path) -> None:
    _, conf = corpora
    log, _ = make_logger("min")
    sides, counts = sre.collect_training_sides(conf, log)
    assert counts == {"sre04": 2, "sre05": 1, "sre06": 2, "sre08": 4, "swbd2p1": 4, "swbd2p2": 2, "swbd2p3": 2,
                      "swbdc1": 2}
    utt2spk, wav, gender = sre.make_training_set(sides, "sph2pipe", min_utts_per_spk=2, log=log)
    expected = {s for s, u in EXPECTED_TRAIN.items() if len(u) >= 2}
    assert set(utt2spk.values()) == expected == {"sre-3001", "sre-4001", "sre-4002", "sw-1001"}
    assert len(utt2spk) == 9 and set(gender) == expected


def test_speaker_list_labels_a_year_before_its_key(corpora, tmp_path) -> None:
    root, conf = corpora
    lst = write(tmp_path / "speaker_list", "9001 f sre2004 xaaa A\n3003 f sre2006 zaaa A\n")
    log, _ = make_logger("list")
    sides, counts = sre.collect_training_sides({**conf, "sre_speaker_list": str(lst)}, log)
    sre04 = [s.utt for s, _ in sides if s.source == "sre04"]
    assert sre04 == ["sre-9001-sre04-xaaa-A"] and counts["sre06"] == 1


# ------------------------------------------------------------------------------------------------ SRE10


def test_sre10_trials_from_key(prepared) -> None:
    out, summaries, records = prepared
    test = out / "sre10_test"
    trials = (test / "trials").read_text().splitlines()
    expected = key_trials(SRE10_TRIALS, None, MODELS_WITH_AUDIO, TESTS_WITH_AUDIO)
    assert trials == expected
    tar = sum(line.endswith(" target") for line in expected)
    assert (tar, len(expected) - tar) == (4, 5)
    assert summaries[2].trials["trials"] == (4, 5)
    assert (test / "trials_coreext").read_text().splitlines() == expected
    for c in range(1, 10):
        want = key_trials(SRE10_TRIALS, c, MODELS_WITH_AUDIO, TESTS_WITH_AUDIO)
        path = test / f"trials_cond{c}"
        assert (path.read_text().splitlines() if path.exists() else []) == want, c
    assert (test / "trials_cond5").read_text().count("\n") == 5
    assert any("sre10_test/trials: 9 trials (4 target, 5 nontarget)" in r for r in records)
    assert any("2 of 11 scored trials dropped" in r for r in records)


def test_sre10_enroll_and_test_dirs(prepared, corpora) -> None:
    out, _, _ = prepared
    root, conf = corpora
    enroll, test = out / "sre10_enroll", out / "sre10_test"
    for d in (enroll, test):
        validate_data_dir(d, no_feats=True, no_text=True)
    assert read_list_map(enroll / "spk2utt") == {
        "1001": ["1001-taaaa_A"], "1002": ["1002-taaab_B"], "1003": ["1003-iaaaa_A"], "1004": ["1004-taaac_A"]}
    assert read_map(enroll / "spk2gender") == {"1001": "f", "1002": "m", "1003": "f", "1004": "m"}
    ev = Path(conf["sre10_eval"])
    assert read_map(enroll / "wav.scp")["1002-taaab_B"] == f"sph2pipe -f wav -p -c 2 {ev / 'data/tel/taaab.sph'} |"
    utt2spk = read_map(test / "utt2spk")
    assert utt2spk == {u: u for u in ["ibbba_A", "tbbba_A", "tbbbb_B", "tbbbc_A"]}
    assert read_map(test / "wav.scp")["tbbbb_B"] == f"sph2pipe -f wav -p -c 2 {ev / 'data/tel/tbbbb.sph'} |"
    assert read_map(test / "spk2gender") == {"ibbba_A": "f", "tbbba_A": "f", "tbbbb_B": "f", "tbbbc_A": "m"}
    models = set(read_list_map(enroll / "spk2utt"))
    for name in ("trials", "trials_coreext", "trials_cond5"):
        for line in (test / name).read_text().splitlines():
            m, utt, kind = line.split()
            assert m in models and utt in utt2spk and kind in ("target", "nontarget")


def test_sre10_condition5_only(corpora) -> None:
    _, conf = corpora
    log, _ = make_logger("c5")
    enroll, test, lists = sre.make_sre10_eval(conf["sre10_eval"], "sph2pipe", condition="5", extra_trials=False,
                                              log=log)
    want = key_trials(SRE10_TRIALS, 5, MODELS_WITH_AUDIO, TESTS_WITH_AUDIO)
    assert sorted(lists["trials"], key=str.encode) == want and list(lists) == ["trials"]
    assert sre.count_trials(lists["trials"]) == (3, 2)
    assert set(test[0]) == {"tbbba_A", "tbbbb_B", "tbbbc_A"}  # only the sides condition 5 needs
    assert set(enroll[0].values()) == {"1001", "1002", "1004"}


# ------------------------------------------------------------------------------------------------ SPHERE


def test_python_pipe_reads_pcm_sphere_side(tmp_path, monkeypatch) -> None:
    x = stereo(42)
    path = tmp_path / "call.sph"
    write_sphere(path, x)
    spec = sre.sph_pipe(path, 2, "")
    assert spec.endswith(f"-m phonsid.io.sphere -c 2 {path} |")
    shell = run_shell(spec.rstrip("|"))
    assert shell.sample_rate == 8000 and shell.data.shape == (1, N)
    np.testing.assert_array_equal(shell.data[0], x[1].astype(np.float32))
    # Readers decode it in process, with the same samples: no Python starts per side.
    monkeypatch.setattr(pipeline.subprocess, "run", lambda *a, **k: pytest.fail(f"started {a}"))
    np.testing.assert_array_equal(read_wav_spec(spec).data, shell.data)
    with pytest.raises(WavError, match="channel 3 requested"):
        read_wav_spec(sre.sph_pipe(path, 3, ""))


def test_sphere_codings(tmp_path) -> None:
    x = stereo(7)
    write_sphere(tmp_path / "be.sph", x, order="10")
    rate, y = sre.read_sphere(tmp_path / "be.sph")
    assert rate == 8000 and np.array_equal(y, x)
    u = np.array([[0xFF, 0x80, 0x00, 0x7F, 0x8F]], dtype=np.uint8)
    write_sphere(tmp_path / "mu.sph", u, coding="ulaw")
    _, y = sre.read_sphere(tmp_path / "mu.sph")
    assert y.tolist() == [[0, 32124, -32124, 0, 16764]]
    write_sphere(tmp_path / "sh.sph", x, coding="pcm,embedded-shorten-v2.00")
    with pytest.raises(DataDirError, match="compressed.*sph2pipe"):
        sre.read_sphere(tmp_path / "sh.sph")
    with pytest.raises(DataDirError, match="channel 3 requested"):
        sre.sphere_to_wav(tmp_path / "be.sph", 3)


# ------------------------------------------------------------------------------------------------ errors, conf, CLI


def test_errors_name_the_key_and_line(corpora, tmp_path) -> None:
    _, conf = corpora
    log, _ = make_logger("err")
    no_eval = {k: v for k, v in conf.items() if k != "sre10_eval"}
    with pytest.raises(DataDirError, match="'sre10_eval'.*required"):
        sre.prepare_sre10(tmp_path / "d", no_eval, log=log)
    with pytest.raises(DataDirError, match="'sre10_eval': no such directory"):
        sre.prepare_sre10(tmp_path / "d", {**conf, "sre10_eval": str(tmp_path / "nope")}, log=log)
    only_eval = {"sre10_eval": conf["sre10_eval"]}
    with pytest.raises(DataDirError, match="no labelled training speech"):
        sre.prepare_sre10(tmp_path / "d", only_eval, log=log)
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())
    bad = write(tmp_path / "bad_list", "3001 m sre2006 zaaa A\n3002 m sre2006 zaab C\n")
    with pytest.raises(DataDirError, match=r"bad_list:2: side must be A or B"):
        sre.read_sre_speaker_list(bad)
    tbl = write(tmp_path / "p3" / "docs" / "callstat.tbl", "30001,x,x,3101,3102,M,Q\n")
    with pytest.raises(DataDirError, match=r"callstat.tbl:1: unknown gender 'Q'"):
        sre.read_swbd2_phase3(tbl.parent.parent)


def test_read_corpora_conf(tmp_path) -> None:
    p = write(tmp_path / "c.conf", "# comment\nsre04=/a/b  # trailing\n\nswbd1=\nsre06_test=/x, /y\n")
    conf = sre.read_corpora_conf(p)
    assert conf == {"sre04": "/a/b", "sre06_test": "/x, /y"}
    assert sre.split_paths(conf["sre06_test"]) == ["/x", "/y"]
    with pytest.raises(DataDirError, match=r"c2.conf:2: key 'sre04' already set on line 1"):
        sre.read_corpora_conf(write(tmp_path / "c2.conf", "sre04=/a\nsre04=/b\n"))
    with pytest.raises(DataDirError, match=r"c3.conf:1: expected 'key=path'"):
        sre.read_corpora_conf(write(tmp_path / "c3.conf", "just a path\n"))


def test_repo_corpora_conf_lists_all_keys(repo_root) -> None:
    conf = sre.read_corpora_conf(Path(repo_root) / "conf" / "sre10" / "corpora.conf")
    for key in (*sre.TRAIN_KEYS, "sre10_eval", "sre_speaker_list", "sph2pipe", "swbd1", "swbd1_transcripts",
                "fisher_audio", "fisher_transcripts", "musan", "rirs_noises"):
        assert key in conf, key


def test_cli(corpora, tmp_path, repo_root, script_env) -> None:
    _, conf = corpora
    conf_file = write(tmp_path / "corpora.conf", "".join(f"{k}={v}\n" for k, v in conf.items()
                                                        if k != "sre10_eval") + "sph2pipe=/opt/bin/sph2pipe\n")
    cmd = [sys.executable, str(Path(repo_root) / "local" / "make_sre10.py"), "--sre10-eval", conf["sre10_eval"],
           "--sph2pipe=", "--trials-condition=5", "--min-utts-per-spk=2", "--prefix=x", str(conf_file),
           str(tmp_path / "data")]
    proc = subprocess.run(cmd, env=script_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "x_test/trials: 5 trials (3 target, 2 nontarget)" in proc.stderr
    assert "x_train: 9 utterances, 4 speakers" in proc.stderr
    wav = read_map(tmp_path / "data" / "x_test" / "wav.scp")
    assert all("-m phonsid.io.sphere -c" in v for v in wav.values())
    assert read_wav_spec(wav["tbbbb_B"]).data.shape == (1, N)
    missing = subprocess.run(cmd[:2] + [str(conf_file), str(tmp_path / "data2")], env=script_env,
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "'sre10_eval'" in missing.stderr and "required" in missing.stderr
