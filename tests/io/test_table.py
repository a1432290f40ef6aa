"""Kaldi tables: round trips for every holder, specifiers, scp ranges, pipes, atomic writes, golden arks."""

from __future__ import annotations

import subprocess

import kaldiio
import numpy as np
import pytest

from phonsid.io import (
    KaldiFormatError,
    KaldiIOError,
    NonFiniteError,
    RandomReader,
    SequentialReader,
    SpecifierError,
    TableWriter,
    parse_rspecifier,
    parse_wspecifier,
    read_table,
)

RNG = np.random.default_rng(0)
VALUES = {
    "matrix": {"u1": RNG.standard_normal((7, 5)).astype(np.float32), "u2": RNG.standard_normal((3, 5)).astype(np.float32)},
    "vector": {"u1": RNG.standard_normal(4).astype(np.float32), "u2": np.zeros(0, np.float32)},
    "int_vector": {"u1": np.array([3, 1, 4, 1, 5], np.int32), "u2": np.array([], np.int32)},
    "int_vector_vector": {"u1": [np.array([1, 2], np.int32), np.array([7], np.int32)], "u2": []},
    "posterior": {"u1": [[(0, 0.25), (3, 0.75)], [], [(9, 1.0)]], "u2": [[(1, 0.5)]]},
    "int": {"u1": 3, "u2": -7},
    "float": {"u1": 0.5, "u2": -2.25},
}


def _same(holder, a, b):
    if holder in ("matrix", "vector", "int_vector"):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    elif holder == "int_vector_vector":
        assert [list(x) for x in a] == [list(x) for x in b]
    elif holder == "posterior":
        assert len(a) == len(b)
        for fa, fb in zip(a, b):
            assert [i for i, _ in fa] == [i for i, _ in fb]
            np.testing.assert_allclose([p for _, p in fa], [p for _, p in fb], rtol=1e-6)
    else:
        assert a == pytest.approx(b)


@pytest.mark.parametrize("holder", list(VALUES))
@pytest.mark.parametrize("text", [False, True])
def test_round_trip_every_holder(tmp_path, holder, text):
    t = ",t" if text else ""
    ark, scp = tmp_path / "a.ark", tmp_path / "a.scp"
    with TableWriter(f"ark,scp{t}:{ark},{scp}", holder) as w:
        for k, v in VALUES[holder].items():
            w[k] = v
    for spec in (f"ark:{ark}", f"scp:{scp}"):
        got = read_table(spec, holder)
        assert list(got) == list(VALUES[holder])
        for k in got:
            _same(holder, got[k], VALUES[holder][k])


def test_binary_matrix_is_bit_exact_and_kaldiio_readable(tmp_path):
    m = RNG.standard_normal((50, 13)).astype(np.float32)
    d = RNG.standard_normal((4, 3))  # float64 stays double
    with TableWriter(f"ark,scp:{tmp_path}/f.ark,{tmp_path}/f.scp") as w:
        w["a"] = m
        w["b"] = d
    got = read_table(f"scp:{tmp_path}/f.scp")
    assert got["a"].tobytes() == m.tobytes()
    assert got["b"].dtype == np.float64 and got["b"].tobytes() == d.tobytes()
    other = dict(kaldiio.load_ark(str(tmp_path / "f.ark")))
    np.testing.assert_array_equal(other["a"], m)


def test_compressed_matrix_matches_kaldiio_decompression(tmp_path):
    m = (RNG.standard_normal((120, 20)) * 5).astype(np.float32)
    with TableWriter(f"ark:{tmp_path}/c.ark", compress=True) as w:
        w["u"] = m
    got = read_table(f"ark:{tmp_path}/c.ark")["u"]
    ref = dict(kaldiio.load_ark(str(tmp_path / "c.ark")))["u"]
    np.testing.assert_array_equal(got, ref)
    assert np.abs(got - m).max() < 0.05 * np.abs(m).max()
    assert (tmp_path / "c.ark").stat().st_size < m.nbytes / 3


def test_scp_row_and_column_ranges(tmp_path):
    m = np.arange(60, dtype=np.float32).reshape(10, 6)
    with TableWriter(f"ark,scp:{tmp_path}/r.ark,{tmp_path}/r.scp") as w:
        w["u"] = m
    entry = (tmp_path / "r.scp").read_text().split()[1]
    (tmp_path / "ranged.scp").write_text(f"rows {entry}[2:4]\nboth {entry}[0:1,3:5]\n")
    got = read_table(f"scp:{tmp_path}/ranged.scp")
    np.testing.assert_array_equal(got["rows"], m[2:5])
    np.testing.assert_array_equal(got["both"], m[0:2, 3:6])
    (tmp_path / "bad.scp").write_text(f"bad {entry}[5:12]\n")
    with pytest.raises(KaldiFormatError, match="exceeds"):
        read_table(f"scp:{tmp_path}/bad.scp")


def test_pipes_in_and_out(tmp_path):
    with TableWriter(f"ark:| gzip -c > {tmp_path}/p.ark.gz", "vector") as w:
        w["x"] = np.array([1.0, 2.0], np.float32)
    got = read_table(f"ark:gunzip -c {tmp_path}/p.ark.gz |", "vector")
    np.testing.assert_array_equal(got["x"], [1.0, 2.0])


def test_failed_input_pipe_is_an_error(tmp_path):
    with pytest.raises(IOError, match="exited with status"):
        read_table("ark:cat /nonexistent/file.ark |")


def test_writer_is_atomic_on_exception(tmp_path):
    with pytest.raises(RuntimeError):
        with TableWriter(f"ark,scp:{tmp_path}/x.ark,{tmp_path}/x.scp") as w:
            w["a"] = np.ones((2, 2), np.float32)
            raise RuntimeError("job died")
    assert list(tmp_path.iterdir()) == []


def test_random_reader_on_scp_and_ark(tmp_path):
    with TableWriter(f"ark,scp:{tmp_path}/a.ark,{tmp_path}/a.scp", "vector") as w:
        for i in range(5):
            w[f"k{i}"] = np.full(3, i, np.float32)
    for spec in (f"scp:{tmp_path}/a.scp", f"ark:{tmp_path}/a.ark"):
        with RandomReader(spec, "vector") as r:
            assert "k3" in r and "zz" not in r
            np.testing.assert_array_equal(r["k3"], [3, 3, 3])
            assert len(r) == 5
            with pytest.raises(KeyError, match="zz"):
                r["zz"]


def test_specifiers():
    r = parse_rspecifier("ark,s,cs:foo.ark")
    assert (r.kind, r.path, r.opts) == ("ark", "foo.ark", frozenset({"s", "cs"}))
    w = parse_wspecifier("ark,scp,t:a.ark,a.scp")
    assert (w.ark, w.scp, w.text) == ("a.ark", "a.scp", True)
    for bad in ("foo.ark", "ark,scp:only.ark", "zzz:foo", "ark,scp:-,a.scp"):
        with pytest.raises(SpecifierError):
            parse_wspecifier(bad) if "scp" in bad or bad.startswith("zzz") else parse_rspecifier(bad)


def test_invalid_key_rejected(tmp_path):
    with pytest.raises(ValueError, match="invalid key"):
        with TableWriter(f"ark:{tmp_path}/k.ark") as w:
            w["has space"] = np.zeros((1, 1), np.float32)


def test_truncated_ark_names_the_entry(tmp_path):
    with TableWriter(f"ark:{tmp_path}/t.ark") as w:
        w["utt1"] = np.ones((10, 10), np.float32)
    data = (tmp_path / "t.ark").read_bytes()
    (tmp_path / "t.ark").write_bytes(data[:-20])
    with pytest.raises(KaldiFormatError, match="utt1"):
        read_table(f"ark:{tmp_path}/t.ark")


@pytest.mark.parametrize("holder, text", [
    ("matrix", "good [ 1 2\n 3 4 ]\nutt2 [\n 1 2 3\n 4 x 6 ]\n"),
    ("vector", "good [ 1 2 ]\nutt2 [ 1 x 3 ]\n"),
    ("int_vector", "good 1 2\nutt2 1 x 3\n"),
    ("int_vector_vector", "good 1 ; 2 ;\nutt2 1 ; x ;\n"),
    ("posterior", "good [ 1 0.5 ]\nutt2 [ 1 x ]\n"),
])
def test_bad_number_in_text_table_names_file_key_and_word(tmp_path, holder, text):
    (tmp_path / "bad.ark").write_text(text)
    (tmp_path / "bad.scp").write_text(f"utt2 {tmp_path}/bad.ark:{text.index('utt2') + 5}\n")
    for spec in (f"ark:{tmp_path}/bad.ark", f"scp:{tmp_path}/bad.scp"):
        with pytest.raises(KaldiIOError) as e:  # a KaldiFormatError, re-raised as KaldiIOError for scp entries
            read_table(spec, holder)
        assert "bad.ark" in str(e.value) and "'utt2'" in str(e.value) and "x" in str(e.value)


def test_reads_golden_kaldi_tables(golden):
    feats = read_table(f"ark:{golden}/mfcc_sre10.ark")
    assert len(feats) == 10 and all(m.shape[1] == 20 for m in feats.values())
    compressed = read_table(f"ark:{golden}/train_mfcc.ark")
    ref = dict(kaldiio.load_ark(str(golden / "train_mfcc.ark")))
    assert compressed.keys() == ref.keys()
    for k in ref:
        np.testing.assert_array_equal(compressed[k], ref[k])
    vad = read_table(f"ark:{golden}/vad_sre10.ark", "vector")
    assert set(np.unique(np.concatenate(list(vad.values())))) <= {0.0, 1.0}
    gselect = read_table(f"ark:{golden}/gselect.ark", "int_vector_vector")
    post = read_table(f"ark:{golden}/post.ark", "posterior")
    utt = next(iter(post))
    assert len(post[utt]) == len(gselect[utt]) == len(read_table(f"ark:{golden}/train_vad.ark", "vector")[utt].nonzero()[0])
    assert all(abs(sum(p for _, p in frame) - 1.0) < 1e-4 for frame in post[utt])
    assert read_table(f"ark:{golden}/num_utts.ark", "int") and all(
        v == 3 for v in read_table(f"ark:{golden}/num_utts.ark", "int").values())
    text = {}
    for line in (golden / "ivectors.txt").read_text().splitlines():
        key, rest = line.split(" ", 1)
        text[key] = np.array(rest.replace("[", "").replace("]", "").split(), dtype=np.float32)
    binary = read_table(f"ark:{golden}/ivectors.ark", "vector")
    for k in binary:
        np.testing.assert_allclose(binary[k], text[k], rtol=1e-5, atol=1e-5)


def test_golden_round_trip_is_bit_exact(golden, tmp_path):
    """Kaldi's own arks, read and re-written by phonsid, give byte-identical files."""
    for name, holder in (("mfcc_sre10.ark", "matrix"), ("vad_sre10.ark", "vector"), ("post.ark", "posterior"),
                         ("gselect.ark", "int_vector_vector"), ("ivectors.ark", "vector")):
        with TableWriter(f"ark:{tmp_path}/{name}", holder) as w:
            for k, v in SequentialReader(f"ark:{golden}/{name}", holder):
                w[k] = v
        assert (tmp_path / name).read_bytes() == (golden / name).read_bytes(), name


def test_stdin_reading(tmp_path, script_env):
    with TableWriter(f"ark:{tmp_path}/s.ark", "int_vector") as w:
        w["a"] = np.array([1, 2, 3], np.int32)
    code = ("import sys; from phonsid.io import read_table; "
            "print(read_table('ark:-', 'int_vector')['a'].tolist())")
    out = subprocess.run(["python", "-c", code], stdin=open(tmp_path / "s.ark", "rb"), env=script_env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1, 2, 3]"


# ----------------------------------------------------------------------------------------------------------
# non-finite values: refused when written (key, wspecifier, place), checked when read with finite=True

@pytest.mark.parametrize("holder, value, where", [
    ("matrix", np.array([[0.0, 1.0], [2.0, np.nan]], np.float32), "NaN at row 1, column 1"),
    ("vector", np.array([0.0, np.inf, -np.inf], np.float32),
     "inf at element 1 (0-based; 2 of 3 values are not finite)"),
    ("float", float("nan"), "NaN as its value"),
    ("posterior", [[(0, 1.0)], [(2, 0.5), (3, float("nan"))]], "NaN as the weight of entry 1 of frame 1"),
])
@pytest.mark.parametrize("text", [False, True])
def test_writer_refuses_non_finite_entry_and_keeps_the_table_valid(tmp_path, holder, value, where, text):
    ark, scp = tmp_path / "a.ark", tmp_path / "a.scp"
    spec = f"ark,scp{',t' if text else ''}:{ark},{scp}"
    good = VALUES[holder]["u1"]
    with TableWriter(spec, holder) as w:
        w.write("u1", good)
        with pytest.raises(NonFiniteError) as e:
            w.write("bad-utt", value)
        w.write("u2", good)
    assert f"{spec}: key 'bad-utt': refusing to write non-finite values: {where}" in str(e.value)
    assert isinstance(e.value, ValueError) and isinstance(e.value, KaldiIOError)
    for rspec in (f"ark:{ark}", f"scp:{scp}"):
        assert list(read_table(rspec, holder)) == ["u1", "u2"]  # nothing of the refused entry was written


def test_neg_inf_only_where_allowed(tmp_path):
    logp = np.array([[0.0, -np.inf]], np.float32)
    with TableWriter(f"ark:{tmp_path}/l.ark", "matrix", allow_neg_inf=True) as w:
        w.write("u", logp)
        with pytest.raises(NonFiniteError, match="key 'v'.*NaN"):
            w.write("v", np.array([[np.nan]], np.float32))  # NaN (and +inf) never
    np.testing.assert_array_equal(read_table(f"ark:{tmp_path}/l.ark")["u"], logp)
    with TableWriter(f"ark:{tmp_path}/c.ark", "matrix", compress=True, allow_neg_inf=True) as w:
        with pytest.raises(NonFiniteError, match="-inf at row 0, column 1"):
            w.write("u", logp)  # a compressed matrix cannot hold -inf
    with TableWriter(f"ark:{tmp_path}/f.ark", "float") as w:
        with pytest.raises(NonFiniteError, match="-inf as its value"):
            w.write("u", float("-inf"))  # refused by default


def test_readers_with_finite_name_table_key_and_place(tmp_path):
    ark, scp = tmp_path / "a.ark", tmp_path / "a.scp"
    bad = np.zeros((4, 3), np.float32)
    bad[2, 1] = np.nan
    kaldiio.save_ark(str(ark), {"u1": np.ones((2, 3), np.float32), "u2": bad}, scp=str(scp))
    assert list(read_table(f"scp:{scp}")) == ["u1", "u2"]  # unchecked by default
    with pytest.raises(NonFiniteError, match=rf"ark:{ark}: key 'u2': non-finite input refused: NaN at row 2, column 1"):
        list(SequentialReader(f"ark:{ark}", finite=True))
    with pytest.raises(NonFiniteError, match=rf"scp:{scp} \({ark}:\d+\): key 'u2': .*NaN at row 2, column 1"):
        list(SequentialReader(f"scp:{scp}", finite=True))
    with RandomReader(f"scp:{scp}", finite=True) as r:
        assert r["u1"].shape == (2, 3)
        with pytest.raises(NonFiniteError, match="key 'u2'"):
            r["u2"]
    with pytest.raises(NonFiniteError, match="key 'u2'"):
        RandomReader(f"ark:{ark}", finite=True)
