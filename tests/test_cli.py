"""phonsid.cli: Kaldi option files, booleans, underscores, command line overriding the config."""

from __future__ import annotations

import argparse

import pytest

from phonsid.cli import KaldiOptionParser, parse_bool


def _parser():
    p = KaldiOptionParser("prog", "Usage: prog [options] <in> <out>")
    p.add_argument("--num-ceps", type=int, default=13)
    p.add_bool("--snip-edges", default=True, help="snip")
    p.add_argument("inp")
    return p


def test_config_then_command_line(tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text("# comment\n--num-ceps=20   # trailing\n--snip-edges=false\n")
    args = _parser().parse_args([f"--config={conf}", "--num_ceps=23", "x"])
    assert args.num_ceps == 23 and args.snip_edges is False and args.inp == "x"
    args = _parser().parse_args(["--snip-edges", "x"])
    assert args.snip_edges is True


def test_bad_config_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("num-ceps=20\n")
    with pytest.raises(SystemExit, match="bad.conf:1"):
        _parser().parse_args([f"--config={conf}", "x"])


def test_parse_bool():
    assert parse_bool("True") and not parse_bool("f")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_bool("maybe")
