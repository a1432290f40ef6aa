"""filter_scp / utt2spk_to_spk2utt / spk2utt_to_utt2spk: byte-exact stream tools."""

from __future__ import annotations

import io

import pytest

from phonsid.data import DataDirError
from phonsid.data.scp import filter_scp, read_id_set, spk2utt_to_utt2spk, utt2spk_to_spk2utt

SCP = [b"u1 /a.ark:1\n", b"u2  two\tspaces\n", b"u3 x y z\n", b"u4 last-without-newline"]


def test_filter_keeps_lines_verbatim_in_input_order():
    ids = read_id_set([b"u4 extra\n", b"u2\n", b"zz\n"])
    assert list(filter_scp(ids, SCP)) == [SCP[1], SCP[3]]
    assert list(filter_scp(ids, SCP, exclude=True)) == [SCP[0], SCP[2]]


def test_filter_on_another_field():
    lines = [b"a 1\n", b"b 2\n", b"c 1 9\n"]
    assert list(filter_scp({b"1"}, lines, field=2)) == [b"a 1\n", b"c 1 9\n"]
    assert list(filter_scp({b"9"}, [b"c 1 9\n"], field=3)) == [b"c 1 9\n"]
    with pytest.raises(DataDirError, match=r"in.scp:2: bad line 'x' \(only 1 field\(s\), filtering on field 2\)"):
        list(filter_scp({b"1"}, [b"a 1\n", b"x\n"], field=2, name="in.scp"))


def test_filter_bytes_pass_through():
    latin1 = b"caf\xe9 text\n"
    assert list(filter_scp({b"caf\xe9"}, [latin1])) == [latin1]


def test_empty_lines_are_errors():
    with pytest.raises(DataDirError, match="ids:2: empty line"):
        read_id_set([b"a\n", b"\n"], "ids")
    with pytest.raises(DataDirError, match="in:1: bad line"):
        list(filter_scp({b"a"}, [b"  \n"], name="in"))


def test_round_trip_and_order():
    utt2spk = [b"s1-a s1\n", b"s1-b s1\n", b"s2-a s2\n", b"x s1\n"]
    spk2utt = list(utt2spk_to_spk2utt(utt2spk))
    assert spk2utt == [b"s1 s1-a s1-b x\n", b"s2 s2-a\n"]  # first-appearance order, like Kaldi's perl
    back = list(spk2utt_to_utt2spk(spk2utt))
    assert sorted(back) == sorted(utt2spk)
    assert list(spk2utt_to_utt2spk(utt2spk_to_spk2utt(back))) == back


def test_conversion_errors():
    with pytest.raises(DataDirError, match="utt2spk:2: invalid line in utt2spk file"):
        list(utt2spk_to_spk2utt([b"a s\n", b"b s extra\n"]))
    with pytest.raises(DataDirError, match="spk2utt:1: invalid line in spk2utt file"):
        list(spk2utt_to_utt2spk([b"lonely\n"]))


def test_main_filter(tmp_path, capsysbinary, monkeypatch):
    from phonsid.data.scp import main_filter_scp

    (tmp_path / "ids").write_bytes(b"u3\n")
    (tmp_path / "in.scp").write_bytes(b"".join(SCP))
    assert main_filter_scp([str(tmp_path / "ids"), str(tmp_path / "in.scp")]) == 0
    assert capsysbinary.readouterr().out == SCP[2]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"".join(SCP))))
    assert main_filter_scp(["--exclude", str(tmp_path / "ids")]) == 0
    assert capsysbinary.readouterr().out == SCP[0] + SCP[1] + SCP[3]
    assert main_filter_scp([str(tmp_path / "missing")]) == 1
    assert b"cannot open" in capsysbinary.readouterr().err
