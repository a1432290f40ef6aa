"""VoxCeleb data prep (vox_train / vox_enroll / vox_test with Vox1-O/E/H trials, vox_asr from LibriSpeech) on mock
trees with the corpora's real layouts, file names and formats."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile

from helpers.scripts import load_script
from phonsid.data import DataDirError, read_list_map, read_map, validate_data_dir
from phonsid.recipes import voxceleb as vc

RATE = 16000
# VoxCeleb1: dev speakers id10001/id10002, test speakers id10270..id10272; YouTube ids may hold '-' and '_'
VOX1 = {
    "id10001": {"1zcIwhmdeo4": ["00001", "00002"], "7gWzIy6yIIk": ["00003"]},
    "id10002": {"0_laIeN-Q44": ["00001", "00002"]},
    "id10270": {"x6uYqmx31kE": ["00001", "00002"], "8jEAjG6SegY": ["00008"]},
    "id10271": {"-0-yB8JK8w8": ["00001"], "1gtz-CUIygI": ["00002", "00003"]},
    "id10272": {"Zs4KlIHQ9oY": ["00001", "00004"]},
}
VOX1_TEST = {"id10270", "id10271", "id10272"}
VERI_TEST2 = """\
1 id10270/x6uYqmx31kE/00001.wav id10270/8jEAjG6SegY/00008.wav
0 id10270/x6uYqmx31kE/00001.wav id10271/1gtz-CUIygI/00002.wav
0 id10270/x6uYqmx31kE/00001.wav id10272/Zs4KlIHQ9oY/00004.wav
1 id10271/-0-yB8JK8w8/00001.wav id10271/1gtz-CUIygI/00003.wav
0 id10271/-0-yB8JK8w8/00001.wav id10270/x6uYqmx31kE/00002.wav
1 id10272/Zs4KlIHQ9oY/00001.wav id10272/Zs4KlIHQ9oY/00004.wav
0 id10272/Zs4KlIHQ9oY/00001.wav id10271/-0-yB8JK8w8/00001.wav
0 id10272/Zs4KlIHQ9oY/00001.wav id10270/x6uYqmx31kE/00001.wav
"""
LIST_TEST_ALL2 = """\
1 id10001/1zcIwhmdeo4/00001.wav id10001/7gWzIy6yIIk/00003.wav
0 id10001/1zcIwhmdeo4/00001.wav id10002/0_laIeN-Q44/00002.wav
1 id10002/0_laIeN-Q44/00001.wav id10002/0_laIeN-Q44/00002.wav
0 id10002/0_laIeN-Q44/00001.wav id10270/x6uYqmx31kE/00001.wav
1 id10270/x6uYqmx31kE/00002.wav id10270/8jEAjG6SegY/00008.wav
0 id10001/1zcIwhmdeo4/00001.wav id10002/0_laIeN-Q44/00002.wav
"""
LIST_TEST_HARD2 = """\
1 id10001/1zcIwhmdeo4/00002.wav id10001/1zcIwhmdeo4/00001.wav
0 id10001/1zcIwhmdeo4/00002.wav id10002/0_laIeN-Q44/00001.wav
0 id10271/1gtz-CUIygI/00003.wav id10270/8jEAjG6SegY/00008.wav
"""
VOX1_META = """\
VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet
id10001\tA.J._Buckley\tm\tIreland\tdev
id10002\tAJ_Cook\tf\tCanada\tdev
id10270\tEunice_Wong\tf\tUSA\ttest
id10271\tEdward_Herrmann\tm\tUSA\ttest
id10272\tEthan_Coen\tm\tUSA\ttest
"""
VOX2 = {
    "dev": {"id00012": {"21Uxsk56VDQ": ["00001", "00002"], "2DLq_Kkc1r8": ["00016"]},
            "id00015": {"0fijmz4vTVU": ["00001"]}},
    "test": {"id00017": {"01dfn2spqyE": ["00001"]}},
}
VOX2_META = """\
VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set 
id00012 ,n000012 ,m ,dev 
id00015 ,n000015 ,f ,dev 
id00017 ,n000017 ,m ,test 
"""
LIBRI = {  # reader -> chapter -> {utt number: transcript}
    "103": {"1240": {"0000": "CHAPTER ONE MISSUS RACHEL LYNDE IS SURPRISED", "0001": "THAT HAD ITS SOURCE AWAY BACK"}},
    "1034": {"121119": {"0000": "THE BOY WHO WAS CALLED", "0001": "HE HAD NEVER  SEEN"},
             "121120": {"0003": "I'LL TELL YOU"}},
}
SPEAKERS_TXT = """\
; Some readers
;ID  |SEX| SUBSET           |MINUTES| NAME
14   | F | train-clean-360  | 25.03 | Kristin LeMoine
103  | F | train-clean-100  | 25.26 | Karen Savage
1034 | M | train-clean-100  | 25.15 | Mark Welch
"""


def _tone(seed: int) -> np.ndarray:
    t = np.arange(int(0.2 * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * (200 + 37 * seed) * t)).astype(np.float32)


def make_vox1(root: Path, kaldi_layout: bool, meta: bool = True, lists: bool = True) -> Path:
    n = 0
    for spk, vids in VOX1.items():
        base = root / (("test" if spk in VOX1_TEST else "dev") + "/wav" if kaldi_layout else "wav")
        for yt, names in vids.items():
            for name in names:
                p = base / spk / yt / f"{name}.wav"
                p.parent.mkdir(parents=True, exist_ok=True)
                soundfile.write(p, _tone(n), RATE, subtype="PCM_16")
                n += 1
    if meta:
        (root / "vox1_meta.csv").write_text(VOX1_META)
    if lists:
        (root / "veri_test2.txt").write_text(VERI_TEST2)
        (root / "list_test_all2.txt").write_text(LIST_TEST_ALL2)
        (root / "list_test_hard2.txt").write_text(LIST_TEST_HARD2)
        (root / "veri_test.txt").write_text("1 id10270/x6uYqmx31kE/00001.wav id10270/x6uYqmx31kE/00002.wav\n")
    return root


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("corpora")
    vox1 = make_vox1(base / "VoxCeleb1", kaldi_layout=False)
    vox2 = base / "VoxCeleb2"
    for part, spks in VOX2.items():
        for spk, vids in spks.items():
            for yt, names in vids.items():
                for name in names:
                    p = vox2 / part / "aac" / spk / yt / f"{name}.m4a"
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_bytes(b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00")  # an MP4 box header; not decodable
    (vox2 / "vox2_meta.csv").write_text(VOX2_META)
    libri = base / "LibriSpeech"
    n = 0
    for reader, chapters in LIBRI.items():
        for chapter, utts in chapters.items():
            d = libri / "train-clean-100" / reader / chapter
            d.mkdir(parents=True)
            lines = []
            for num, words in utts.items():
                soundfile.write(d / f"{reader}-{chapter}-{num}.flac", _tone(n), RATE, format="FLAC", subtype="PCM_16")
                lines.append(f"{reader}-{chapter}-{num} {words}\n")
                n += 1
            (d / f"{reader}-{chapter}.trans.txt").write_text("".join(lines))
    (libri / "SPEAKERS.TXT").write_text(SPEAKERS_TXT)
    (libri / "train-clean-100" / "1034" / "121120" / "1034-121120-0009.flac").write_bytes(
        (libri / "train-clean-100" / "1034" / "121120" / "1034-121120-0003.flac").read_bytes())  # no transcript
    return {"voxceleb1": vox1, "voxceleb2": vox2, "librispeech": base}


def utt(rel: str) -> str:
    spk, yt, name = rel[:-4].split("/")
    return f"{spk}-{yt}-{name}"


def expected_trials(text: str) -> dict[str, str]:
    """'<model> <test>' -> target|nontarget from a list's 'label path1 path2' lines (repeats collapse)."""
    out = {}
    for line in text.splitlines():
        label, p1, p2 = line.split()
        out[f"{utt(p1)} {utt(p2)}"] = "target" if label == "1" else "nontarget"
    return out


def read_trials(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    assert lines == sorted(lines, key=lambda x: x.encode())
    out = {" ".join(ln.split()[:2]): ln.split()[2] for ln in lines}
    assert len(out) == len(lines)
    return out


def check_dirs(data: Path, names: list[str]) -> None:
    for name in names:
        validate_data_dir(data / name, no_feats=True, no_text=not name.endswith("_asr"), sample_rate=RATE)
        u2s = read_map(data / name / "utt2spk")
        assert all(u.startswith(s) for u, s in u2s.items())


@pytest.fixture(scope="module")
def default_run(corpora, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    sets = vc.prepare_voxceleb(data, voxceleb1=corpora["voxceleb1"], voxceleb2=corpora["voxceleb2"],
                               librispeech=corpora["librispeech"])
    return data, sets


def test_default_sets(default_run, corpora):
    data, sets = default_run
    assert set(sets) == {"vox_train", "vox_enroll", "vox_test", "vox_asr"}
    check_dirs(data, list(sets))
    # training: VoxCeleb2 dev only, Kaldi's upper-cased speaker ids, ffmpeg pipes
    train = read_map(data / "vox_train" / "wav.scp")
    assert sorted(read_list_map(data / "vox_train" / "spk2utt")) == ["ID00012", "ID00015"]
    assert len(train) == 4
    m4a = corpora["voxceleb2"] / "dev" / "aac" / "id00012" / "2DLq_Kkc1r8" / "00016.m4a"
    assert train["ID00012-2DLq_Kkc1r8-00016"] == f"ffmpeg -v 8 -i {m4a} -f wav -acodec pcm_s16le - |"
    assert read_map(data / "vox_train" / "spk2gender") == {"ID00012": "m", "ID00015": "f"}
    # the three lists, target/nontarget as the list files say
    test = data / "vox_test"
    for name, text in (("vox1_o", VERI_TEST2), ("vox1_e", LIST_TEST_ALL2), ("vox1_h", LIST_TEST_HARD2)):
        got = read_trials(test / f"trials_{name}")
        want = expected_trials(text)
        assert got == want
        labels = [ln.split()[0] for ln in text.splitlines()]
        n_unique = len(set(text.splitlines()))
        assert sum(v == "target" for v in got.values()) == len({ln for ln in text.splitlines() if ln[0] == "1"})
        assert len(got) == n_unique and len(labels) >= n_unique
    assert (test / "trials").read_text() == (test / "trials_vox1_o").read_text()
    o = expected_trials(VERI_TEST2)
    assert sum(v == "target" for v in o.values()) == 3 and sum(v == "nontarget" for v in o.values()) == 5
    # enrolment: each left-hand utterance is its own model; test: right-hand utterances with their speakers
    all_lists = VERI_TEST2 + LIST_TEST_ALL2 + LIST_TEST_HARD2
    models = {utt(ln.split()[1]) for ln in all_lists.splitlines()}
    tests = {utt(ln.split()[2]) for ln in all_lists.splitlines()}
    e_u2s = read_map(data / "vox_enroll" / "utt2spk")
    assert e_u2s == {m: m for m in models}
    t_u2s = read_map(test / "utt2spk")
    assert t_u2s == {t: t.split("-")[0] for t in tests}
    assert "id10271--0-yB8JK8w8-00001" in t_u2s
    wav = read_map(test / "wav.scp")
    assert wav["id10270-8jEAjG6SegY-00008"] == str(corpora["voxceleb1"] / "wav/id10270/8jEAjG6SegY/00008.wav")
    assert read_map(data / "vox_enroll" / "spk2gender")["id10002-0_laIeN-Q44-00001"] == "f"
    assert read_map(test / "spk2gender")["id10270"] == "f"
    for tr in ("trials_vox1_o", "trials_vox1_e", "trials_vox1_h"):
        for line in (test / tr).read_text().splitlines():
            m, t, _ = line.split()
            assert m in e_u2s and t in t_u2s


def test_librispeech_asr(default_run, corpora):
    data, _ = default_run
    d = data / "vox_asr"
    text = read_map(d / "text")
    want = {f"{r}-{c}-{n}": " ".join(w.split()) for r, ch in LIBRI.items() for c, us in ch.items()
            for n, w in us.items()}
    assert text == want  # upper case as published, white space squeezed; the untranscribed flac left out
    assert read_list_map(d / "spk2utt") == {"103": ["103-1240-0000", "103-1240-0001"],
                                           "1034": ["1034-121119-0000", "1034-121119-0001", "1034-121120-0003"]}
    assert read_map(d / "spk2gender") == {"103": "f", "1034": "m"}
    assert read_map(d / "wav.scp")["103-1240-0001"] == str(
        corpora["librispeech"] / "LibriSpeech/train-clean-100/103/1240/103-1240-0001.flac")


def test_vox1_dev_in_training_drops_e_and_h(tmp_path, corpora):
    vox1 = make_vox1(tmp_path / "vox1", kaldi_layout=True, meta=False)
    data = tmp_path / "data"
    sets = vc.prepare_voxceleb(data, voxceleb1=vox1, voxceleb2=corpora["voxceleb2"],
                               train_parts=["vox2_dev", "vox2_test", "vox1_dev"], make_asr=False)
    assert set(sets) == {"vox_train", "vox_enroll", "vox_test"}
    check_dirs(data, list(sets))
    spks = set(read_list_map(data / "vox_train" / "spk2utt"))
    assert spks == {"ID00012", "ID00015", "ID00017", "id10001", "id10002"}  # no VoxCeleb1 test speaker
    assert len(read_map(data / "vox_train" / "utt2spk")) == 5 + 5
    assert not (data / "vox_train" / "spk2gender").exists()  # VoxCeleb1 genders unknown without vox1_meta.csv
    assert read_map(data / "vox_train" / "wav.scp")["id10002-0_laIeN-Q44-00002"] == str(
        vox1 / "dev/wav/id10002/0_laIeN-Q44/00002.wav")
    test = data / "vox_test"
    assert sorted(p.name for p in test.glob("trials*")) == ["trials", "trials_vox1_o"]
    assert read_trials(test / "trials") == expected_trials(VERI_TEST2)
    with pytest.raises(DataDirError, match="Vox1-E and Vox1-H use all of VoxCeleb1"):
        vc.prepare_voxceleb(tmp_path / "d2", voxceleb1=vox1, voxceleb2=corpora["voxceleb2"],
                            train_parts=["vox1_dev"], trial_lists=["vox1_o", "vox1_e"], make_asr=False)
    # no meta, no test/wav folder: the test speakers are those of Vox1-O
    flat = make_vox1(tmp_path / "flat", kaldi_layout=False, meta=False)
    vc.prepare_voxceleb(tmp_path / "d4", voxceleb1=flat, train_parts=["vox1_dev"], make_asr=False)
    assert set(read_list_map(tmp_path / "d4" / "vox_train" / "spk2utt")) == {"id10001", "id10002"}
    # with Vox1-H alone and VoxCeleb1 dev trained on, nothing can be scored
    (flat / "veri_test2.txt").unlink()
    (flat / "veri_test.txt").unlink()
    with pytest.raises(DataDirError, match="no trial list to score.*left out when VoxCeleb1 dev is trained on"):
        vc.prepare_voxceleb(tmp_path / "d3", voxceleb1=flat, train_parts=["vox1_dev"], make_asr=False)
    assert not (tmp_path / "d3").exists()


def test_uncleaned_list_and_bad_lists(tmp_path, corpora):
    vox1 = make_vox1(tmp_path / "vox1", kaldi_layout=False, lists=False)
    (vox1 / "veri_test.txt").write_text("1 id10270/x6uYqmx31kE/00001.wav id10270/x6uYqmx31kE/00002.wav\n"
                                        "0 id10270/x6uYqmx31kE/00001.wav id10271/-0-yB8JK8w8/00001.wav\n")
    found = vc.find_trial_lists(vox1)
    assert found == {"vox1_o": vox1 / "veri_test.txt"}
    index, _ = vc.index_vox1(vox1)
    bad = tmp_path / "bad.txt"
    bad.write_text("1 id10270/x6uYqmx31kE/00001.wav id10270/x6uYqmx31kE/00002.wav\n"
                   "1 id10270/x6uYqmx31kE/00001.wav id10271/-0-yB8JK8w8/00001.wav\n")
    with pytest.raises(DataDirError, match=r"bad\.txt:2: label 1 but the speakers are id10270 and id10271"):
        vc.read_trial_list(bad, "vox1_o", index)
    bad.write_text("0 id10270/x6uYqmx31kE/00001.wav id10299/abcdefghijk/00001.wav\n")
    with pytest.raises(DataDirError, match=r"bad\.txt:1: audio 'id10299/abcdefghijk/00001.wav' is not in"):
        vc.read_trial_list(bad, "vox1_o", index)
    bad.write_text("1 id10270/x6uYqmx31kE/00001.wav id10270/x6uYqmx31kE/00002.wav\n"
                   "0 id10270/x6uYqmx31kE/00001.wav id10270/x6uYqmx31kE/00002.wav\n")
    with pytest.raises(DataDirError, match=r"bad\.txt:2: label 0 but the speakers are id10270 and id10270"):
        vc.read_trial_list(bad, "vox1_o", index)
    with pytest.raises(DataDirError, match="'voxceleb2' is not set"):
        vc.prepare_voxceleb(tmp_path / "d", voxceleb1=vox1, make_asr=False)
    meta = vc.read_vox_meta(corpora["voxceleb2"] / "vox2_meta.csv")
    assert meta == {"id00012": ("m", "dev"), "id00015": ("f", "dev"), "id00017": ("m", "test")}


def test_cli(tmp_path, corpora):
    make_voxceleb = load_script("local/make_voxceleb.py")
    conf = tmp_path / "corpora.conf"
    conf.write_text(textwrap.dedent(f"""\
        # VoxCeleb corpora
        voxceleb1={corpora['voxceleb1']}
        voxceleb2=/nonexistent   # overridden on the command line
        librispeech = {corpora['librispeech']}
        vox1_e=
        ffmpeg=/opt/ffmpeg/bin/ffmpeg
        musan=/export/musan
        """))
    data = tmp_path / "data"
    rc = make_voxceleb.main([f"--voxceleb2={corpora['voxceleb2']}", "--trial-lists=vox1_h,vox1_o",
                             "--speaker-per-chapter", "--flac-pipe=true", "--prefix=vc", str(conf), str(data)])
    assert rc == 0
    check_dirs(data, ["vc_train", "vc_enroll", "vc_test", "vc_asr"])
    assert sorted(p.name for p in (data / "vc_test").glob("trials*")) == ["trials", "trials_vox1_h", "trials_vox1_o"]
    assert read_trials(data / "vc_test" / "trials") == expected_trials(VERI_TEST2)
    assert read_map(data / "vc_train" / "wav.scp")["ID00015-0fijmz4vTVU-00001"].startswith(
        "/opt/ffmpeg/bin/ffmpeg -v 8 -i ")
    asr = data / "vc_asr"
    assert sorted(read_list_map(asr / "spk2utt")) == ["103-1240", "1034-121119", "1034-121120"]
    assert read_map(asr / "spk2gender")["1034-121120"] == "m"
    assert read_map(asr / "wav.scp")["103-1240-0000"] == (
        f"flac -c -d -s {corpora['librispeech']}/LibriSpeech/train-clean-100/103/1240/103-1240-0000.flac |")
    # resampling to 8 kHz goes through phonsid's resampler; a bad part name is refused and nothing is written
    rc = make_voxceleb.main([f"--voxceleb2={corpora['voxceleb2']}", "--sampling-rate=8000", "--make-asr=false",
                             str(conf), str(tmp_path / "d8")])
    assert rc == 0
    spec = read_map(tmp_path / "d8" / "vox_test" / "wav.scp")["id10272-Zs4KlIHQ9oY-00004"]
    assert spec.endswith("--sample-rate=8000 " + str(corpora["voxceleb1"] / "wav/id10272/Zs4KlIHQ9oY/00004.wav")
                         + " - |")
    assert make_voxceleb.main(["--train-parts=vox3_dev", str(conf), str(tmp_path / "bad")]) == 1
    assert not (tmp_path / "bad").exists()
