"""Fisher English + Switchboard-1 ASR data prep (sre10_asr / sre10_asr2) on mock LDC trees with SPHERE audio."""

from __future__ import annotations

import io
import stat
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile

from helpers.scripts import load_script
from phonsid.data import DataDirError, read_map, read_list_map, validate_data_dir
from phonsid.io.wav import iter_wav_table, read_wav_spec
from phonsid.recipes import fisher_swbd as fs

RATE = 8000
SECONDS = 4.0


def write_sphere(path: Path, samples: np.ndarray, coding: str = "ulaw") -> None:
    """A NIST SPHERE file as the LDC ships telephone speech: 1024-byte header, interleaved channels.

    ``samples`` is (n, channels) int16; ``coding`` 'ulaw' (1 byte a sample, as Fisher/Switchboard) or 'pcm'."""
    n, channels = samples.shape
    if coding == "ulaw":
        buf = io.BytesIO()
        soundfile.write(buf, samples, RATE, format="RAW", subtype="ULAW")
        payload, width = buf.getvalue(), 1
    else:
        payload, width = samples.astype("<i2").tobytes(), 2
    database = "fisher" if path.name.startswith("fe_03") else "swb1"
    fields = [f"database_id -s{len(database)} {database}", f"sample_count -i {n}", f"sample_n_bytes -i {width}",
              f"channel_count -i {channels}", f"sample_rate -i {RATE}", f"sample_coding -s{len(coding)} {coding}"]
    if width == 2:
        fields.append("sample_byte_format -s2 01")
    header = ("NIST_1A\n   1024\n" + "".join(f + "\n" for f in fields) + "end_head\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.ljust(1024, b" ") + payload)


def two_sides(seed: int) -> np.ndarray:
    """Side A: a tone; side B: noise, so a channel mix-up is visible."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    rng = np.random.default_rng(seed)
    a = 8000 * np.sin(2 * np.pi * (300 + 10 * seed) * t)
    b = rng.normal(0, 2000, t.size)
    return np.stack([a, b], axis=1).astype(np.int16)


MS98 = {
    "sw2001A": """\
        sw2001A-ms98-a-0001 0.000000 0.977625 [silence]
        sw2001A-ms98-a-0002 0.977625 2.561375 hi um yeah i'd like to talk about how you dress for work
        sw2001A-ms98-a-0003 2.561375 3.100500 [noise] [laughter-yes] it's ab[solute]- [it'n/isn't] -[an]y
        sw2001A-ms98-a-0004 3.100500 3.500000 <b_aside> [silence] <e_aside>
        """,
    "sw2001B": """\
        sw2001B-ms98-a-0001 0.000000 0.512000 [silence]
        sw2001B-ms98-a-0002 0.512000 1.833875 {yuppiedom} them_1 [vocalized-noise] ammu[n]it-
        sw2001B-ms98-a-0003 1.833875 1.834000 uh
        sw2001B-ms98-a-0004 2.004000 3.951000 [lem[guini]-/linguini] [laughter] um-hum
        """,
    "sw2005A": """\
        sw2005A-ms98-a-0001 0.100000 1.200000 okay
        """,
    "sw2005B": """\
        sw2005B-ms98-a-0001 0.300000 2.050000 yeah [laughter-i]- think so
        """,
    "sw2010A": """\
        sw2010A-ms98-a-0001 0.000000 1.000000 no audio for this one
        """,
}

FISHER = {
    "fe_03_00001": """\
        # fe_03_00001.sph
        # Transcribed at the LDC

        0.36 1.94 A: hi my name is [laugh] an- andrew
        2.06 2.98 B: [lipsmack] hi i'm ((mary))
        7.38 8.78 A: and the topic is [cough] what
        2.10 3.95 B: (( )) [breath] yes [sigh] [mn] yeah
        3.00 3.90 A: ok
        """,
    "fe_03_05851": """\
        # fe_03_05851.sph
        # Transcribed by BBN/WordWave

        0.50 1.20 A: hello
        1.30 3.37 B: hi there
        """,
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ldc")
    swbd = root / "LDC97S62"
    write_sphere(swbd / "swb1_d1" / "data" / "sw02001.sph", two_sides(1))
    write_sphere(swbd / "swb1_d1" / "data" / "sw02005.sph", two_sides(2), coding="pcm")
    trans = root / "swb_ms98_transcriptions"
    for side, body in MS98.items():
        num = side[2:6]
        f = trans / num[:2] / num / f"{side}-ms98-a-trans.text"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(body))
    (trans / "sw-ms98-dict.text").write_text("a  ax\n")
    write_sphere(root / "LDC2004S13" / "fe_03_p1_sph1" / "audio" / "000" / "fe_03_00001.sph", two_sides(3))
    write_sphere(root / "LDC2005S13" / "fisher_eng_tr_sp_d1" / "audio" / "058" / "fe_03_05851.sph", two_sides(4))
    for call, body in FISHER.items():
        part = "LDC2004T19/fe_03_p1_tran" if call == "fe_03_00001" else "LDC2005T19/fe_03_p2_tran"
        f = root / part / "data" / "trans" / call[6:9] / f"{call}.txt"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(body))
    (root / "LDC2004T19" / "fe_03_p1_tran" / "doc").mkdir()
    (root / "LDC2004T19" / "fe_03_p1_tran" / "doc" / "README.txt").write_text("not a transcript\n")
    # a stand-in for sph2pipe (not installed here): same arguments, decodes with soundfile, writes WAV
    prog = root / "bin" / "sph2pipe"
    prog.parent.mkdir()
    prog.write_text(f"#!{sys.executable}\n" + textwrap.dedent("""\
        import io, sys
        import soundfile
        a = sys.argv[1:]
        assert a[:3] == ["-f", "wav", "-p"] and a[3] == "-c", a
        x, sr = soundfile.read(a[5], dtype="int16", always_2d=True)
        buf = io.BytesIO()
        soundfile.write(buf, x[:, int(a[4]) - 1], sr, format="WAV", subtype="PCM_16")
        sys.stdout.buffer.write(buf.getvalue())
        """))
    prog.chmod(prog.stat().st_mode | stat.S_IXUSR)
    return {"root": root, "swbd1": swbd, "swbd1_transcripts": trans, "sph2pipe": prog,
            "fisher_audio": f"{root / 'LDC2004S13'},{root / 'LDC2005S13'}",
            "fisher_transcripts": f"{root / 'LDC2004T19'},{root / 'LDC2005T19'}"}


@pytest.mark.parametrize("word, expected", [
    ("[laughter-yes]", "yes"), ("[laughter-i]-", "i-"), ("ab[solute]-", "ab-"), ("-[an]y", "-y"),
    ("[an]y", "-y"), ("[it'n/isn't]", "it'n"), ("[lem[guini]-/linguini]", "lem-"), ("{yuppiedom}", "yuppiedom"),
    ("them_1", "them"), ("them_1's", "them's"), ("ammu[n]it-", "ammu-it-"), ("[noise]", "[noise]"),
    ("[vocalized-noise]", "[vocalized-noise]"), ("[LAUGHTER]", "[laughter]"), ("Uh-huh", "uh-huh"),
])
def test_swbd_word_mapping(word, expected):
    assert fs.normalize_swbd_word(word) == expected


def test_swbd_turn_drops_silence_and_asides():
    assert fs.normalize_swbd_words("<B_ASIDE> [SILENCE] <E_ASIDE>".split()) == []
    assert fs.normalize_swbd_words("[silence] okay [silence]".split()) == ["okay"]


def test_fisher_turn_mapping():
    assert fs.normalize_fisher_words("[lipsmack] hi [laugh] an- [breath] [mn] [sigh] [cough]") == \
        ["[noise]", "hi", "[laughter]", "an-", "[noise]", "[noise]", "[noise]", "[noise]"]
    assert fs.normalize_fisher_words("hi i'm ((mary))") is None
    assert fs.normalize_fisher_words("(( )) yes") is None


@pytest.fixture(scope="module")
def prepared(tree, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    (data / "sre10_asr").mkdir()
    (data / "sre10_asr" / "feats.scp").write_text("stale 1\n")  # replaced, not mixed with the new set
    sets = fs.prepare_fisher_swbd(data, swbd1=tree["swbd1"], swbd1_transcripts=tree["swbd1_transcripts"],
                                  fisher_audio=tree["fisher_audio"], fisher_transcripts=tree["fisher_transcripts"],
                                  sph2pipe=str(tree["sph2pipe"]))
    return data, sets


SWBD_UTTS = {
    "sw02001-A_000098-000256": "hi um yeah i'd like to talk about how you dress for work",
    "sw02001-A_000256-000310": "[noise] yes it's ab- it'n -y",
    "sw02001-B_000051-000183": "yuppiedom them [vocalized-noise] ammu-it-",
    "sw02001-B_000200-000395": "lem- [laughter] um-hum",
    "sw02005-A_000010-000120": "okay",
    "sw02005-B_000030-000205": "yeah i- think so",
}
FISHER_UTTS = {
    "fe_03_00001-A-000036-000194": "hi my name is [laughter] an- andrew",
    "fe_03_00001-A-000738-000877": "and the topic is [noise] what",  # 8.78 * 100 truncates to 877, as Kaldi
    "fe_03_00001-A-000300-000390": "ok",
    "fe_03_05851-A-000050-000120": "hello",
    "fe_03_05851-B-000130-000337": "hi there",
}


def test_sets_ids_text_segments(prepared, tree):
    data, _ = prepared
    asr, asr2 = data / "sre10_asr", data / "sre10_asr2"
    assert read_map(asr / "text") == {**SWBD_UTTS, **FISHER_UTTS}
    assert read_map(asr2 / "text") == SWBD_UTTS
    assert not (asr / "feats.scp").exists()
    for d in (asr, asr2):
        validate_data_dir(d, no_feats=True)
        assert sorted(read_map(d / "utt2spk")) == list(read_map(d / "utt2spk"))  # C-sorted
        for utt, spk in read_map(d / "utt2spk").items():
            assert utt.startswith(spk) and spk == utt[:len(spk)] and len(spk) in (9, 13)
    seg = read_map(asr / "segments")
    assert seg["sw02001-A_000098-000256"] == "sw02001-A 0.98 2.56"
    assert seg["fe_03_00001-A-000738-000877"] == "fe_03_00001-A 7.38 8.77"
    assert seg["fe_03_05851-B-000130-000337"] == "fe_03_05851-B 1.30 3.37"
    spk2utt = read_list_map(asr / "spk2utt")
    assert len(spk2utt) == 4 + 3  # swbd sides 2001A/B, 2005A/B; fisher 00001-A, 05851-A/B (00001-B all dropped)
    assert len(read_list_map(asr2 / "spk2utt")) == 4
    wav = read_map(asr / "wav.scp")
    assert set(wav) == set(spk2utt)
    sph = tree["swbd1"] / "swb1_d1" / "data" / "sw02001.sph"
    assert wav["sw02001-A"] == f"{tree['sph2pipe']} -f wav -p -c 1 {sph} |"
    assert wav["sw02001-B"] == f"{tree['sph2pipe']} -f wav -p -c 2 {sph} |"
    assert wav["fe_03_05851-B"].endswith("fisher_eng_tr_sp_d1/audio/058/fe_03_05851.sph |")
    r2fc = read_map(asr / "reco2file_and_channel")
    assert r2fc["fe_03_05851-B"] == "fe_03_05851 B" and r2fc["sw02005-A"] == "sw02005 A"
    assert set(read_map(asr2 / "wav.scp")) == {"sw02001-A", "sw02001-B", "sw02005-A", "sw02005-B"}


def test_segments_read_the_right_channel(prepared, tree):
    data, _ = prepared
    d = data / "sre10_asr2"
    full = {}
    for stem in ("sw02001", "sw02005"):
        x, _ = soundfile.read(tree["swbd1"] / "swb1_d1" / "data" / f"{stem}.sph", dtype="int16", always_2d=True)
        full[stem] = x
    seg = read_map(d / "segments")
    n = 0
    for utt, wave in iter_wav_table(d / "wav.scp", d / "segments"):
        reco, start, end = seg[utt].split()
        ch = 0 if reco.endswith("-A") else 1
        want = full[reco[:7]][int(round(float(start) * RATE)):int(round(float(end) * RATE)), ch]
        assert wave.sample_rate == RATE
        assert wave.num_samples == pytest.approx(want.size, abs=1)
        m = min(want.size, wave.num_samples)
        np.testing.assert_array_equal(wave.data[0, :m], want[:m].astype(np.float32))
        n += 1
    assert n == len(SWBD_UTTS)


def test_cli_conf_and_overrides(tree, tmp_path):
    make_fisher_swbd = load_script("local/make_fisher_swbd.py")
    conf = tmp_path / "corpora.conf"
    conf.write_text(textwrap.dedent(f"""\
        # SRE10 corpora
        swbd1={tree['swbd1']}
        swbd1_transcripts = {tree['swbd1_transcripts']}
        fisher_audio={tree['fisher_audio']}
        fisher_transcripts=/nonexistent/LDC2004T19   # overridden below
        sre04=/export/LDC2006S44
        """))
    data = tmp_path / "data"
    rc = make_fisher_swbd.main([f"--fisher-transcripts={tree['fisher_transcripts']}", f"--sph2pipe={tree['sph2pipe']}",
                                "--prefix", "tel", str(conf), str(data)])
    assert rc == 0
    assert len(read_map(data / "tel_asr" / "utt2spk")) == len(SWBD_UTTS) + len(FISHER_UTTS)
    assert read_map(data / "tel_asr" / "wav.scp")["sw02001-A"].startswith(str(tree["sph2pipe"]))
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    # Switchboard only, options only; resampled to 16 kHz through phonsid's resampler
    rc = make_fisher_swbd.main(["--use-fisher=false", "--sampling-rate=16000", f"--swbd1={tree['swbd1']}",
                                f"--swbd1-transcripts={tree['swbd1_transcripts']}", str(empty), str(data)])
    assert rc == 0
    assert read_map(data / "sre10_asr" / "text") == SWBD_UTTS
    spec = read_map(data / "sre10_asr" / "wav.scp")["sw02005-B"]
    assert spec.startswith("sph2pipe -f wav -p -c 2 ") and "--sample-rate=16000 - - |" in spec
    # sph2pipe=none: phonsid's own SPHERE reader in the pipes (for uncompressed SPHERE)
    (tmp_path / "none.conf").write_text(conf.read_text().replace("/nonexistent/LDC2004T19", tree["fisher_transcripts"])
                                        + "sph2pipe=none\n")
    assert make_fisher_swbd.main([str(tmp_path / "none.conf"), str(tmp_path / "d3")]) == 0
    spec = read_map(tmp_path / "d3" / "sre10_asr" / "wav.scp")["fe_03_05851-B"]
    assert spec.endswith(" -m phonsid.io.sphere -c 2 " + str(tree["root"] / "LDC2005S13" / "fisher_eng_tr_sp_d1"
                                                               / "audio" / "058" / "fe_03_05851.sph") + " |")
    wave = read_wav_spec(spec)
    x, _ = soundfile.read(spec.split()[-2], dtype="int16", always_2d=True)
    np.testing.assert_array_equal(wave.data[0], x[:, 1].astype(np.float32))
    # a missing key is named
    assert make_fisher_swbd.main([str(empty), str(tmp_path / "x")]) == 1
    assert not (tmp_path / "x" / "sre10_asr").exists()


def test_bad_inputs_are_named(tree, tmp_path):
    bad = tmp_path / "trans" / "000" / "fe_03_00002.txt"
    bad.parent.mkdir(parents=True)
    bad.write_text("# fe_03_00003.sph\n0.1 0.5 A: hi\n")
    with pytest.raises(DataDirError, match=r"fe_03_00002\.txt:1: names call 'fe_03_00003'"):
        fs.read_fisher_transcripts([tmp_path / "trans"])
    ms = tmp_path / "ms98" / "20" / "2001" / "sw2001A-ms98-a-trans.text"
    ms.parent.mkdir(parents=True)
    ms.write_text("sw2001A-ms98-a-0001 0.0 1.0 hi\nsw2001A-ms98-a-0002 1.0\n")
    with pytest.raises(DataDirError, match=r"sw2001A-ms98-a-trans\.text:2: expected"):
        fs.read_ms98_transcripts(tmp_path / "ms98")
    with pytest.raises(DataDirError, match="no such directory"):
        fs.prepare_fisher_swbd(tmp_path / "d", swbd1=tmp_path / "nope", swbd1_transcripts=tree["swbd1_transcripts"],
                               use_fisher=False)
