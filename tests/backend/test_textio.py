"""Fast trial/score text I/O: C's %g formatting, two-field line parsing with line numbers, score lines."""

from __future__ import annotations

import io

import numpy as np
import pytest

from phonsid.backend import BackendError
from phonsid.backend.score_writer import format_block
from phonsid.backend.textio import format_scores, iter_pair_blocks, parse_pair_block, split_fields


def test_format_scores_like_c_printf():
    assert format_scores([4.571725, -1e-5, 0.0, 1234567.0, 12345678.0, np.inf]) == [
        "4.571725", "-1e-05", "0", "1234567", "1.234568e+07", "inf"]


def test_parse_pairs_and_line_numbers():
    block = parse_pair_block(b"a b\nc\td\r\n  e   f  \n", "trials")
    assert block.key1 == [b"a", b"c", b"e"] and block.key2 == [b"b", b"d", b"f"]
    with pytest.raises(BackendError, match=r"trials:12: bad trials line \(expected 2 fields: <key1> <key2>\): "
                                           r"'x y target'; 2 bad lines"):
        parse_pair_block(b"a b\nx y target\n\n", "trials", first_line=11)
    with pytest.raises(BackendError, match="trials:1: bad trials line"):
        parse_pair_block(b"lonely\n", "trials")


def test_blocks_split_on_line_boundaries():
    lines = [f"m{i % 7} t{i}" for i in range(1000)]
    data = ("\n".join(lines)).encode()  # no final newline
    blocks = list(iter_pair_blocks(io.BytesIO(data), "trials", block_bytes=64))
    assert sum(len(b) for b in blocks) == 1000
    assert [k.decode() for b in blocks for k in b.key2] == [f"t{i}" for i in range(1000)]
    with pytest.raises(BackendError, match="trials:501: bad trials line"):
        bad = lines[:500] + ["only-one"] + lines[500:]
        list(iter_pair_blocks(io.BytesIO("\n".join(bad).encode()), "trials", block_bytes=100))


def test_score_lines_keep_keys_and_order():
    block = parse_pair_block(b"spk1  utt-a\nspk2\tutt-b\nspk3 utt-c\n", "t")
    assert not block.canonical
    out = format_block(block.data, block.canonical, np.array([0, 2]), np.array([4.571725, -1e-5], dtype=np.float32))
    assert out == b"spk1 utt-a 4.571725\nspk3 utt-c -1e-05\n"
    assert format_block(block.data, False, np.array([], dtype=np.int64), np.array([])) == b""
    many = parse_pair_block(b"".join(b"m%d t%d\n" % (i, i) for i in range(300)), "t")
    assert many.canonical
    s = np.linspace(-50, 50, 300)
    want = b"".join(b"m%d t%d %.7g\n" % (i, i, v) for i, v in enumerate(s))
    assert format_block(many.data, True, None, s) == want
    assert format_block(many.data, False, None, s) == want
    assert format_block(many.data, True, np.array([3, 7]), s[[3, 7]]) == b"m3 t3 %.7g\nm7 t7 %.7g\n" % (s[3], s[7])


def test_split_fields():
    cols = split_fields(b"1.5 target\n-2 nontarget\n", 2, "scores")
    assert cols == [[b"1.5", b"-2"], [b"target", b"nontarget"]]
    with pytest.raises(BackendError, match="scores:2: bad line"):
        split_fields(b"1.5 target\n-2\n", 2, "scores")


@pytest.mark.parametrize("text,canonical", [
    (b"a b\nc d\n", True), (b"a b\nc d", True), (b"a b\nc  d\n", False), (b" a b\n", False), (b"a b \n", False),
    (b"a\tb\n", False), (b"a b\r\n", False),
])
def test_canonical_detection(text, canonical):
    block = parse_pair_block(text, "t")
    assert block.canonical == canonical
    assert [len(block.key1), len(block.key2)] == [text.count(b"\n") + (not text.endswith(b"\n"))] * 2


def test_compensating_bad_lines_are_caught():
    # "a b c" and "d": as many tokens as two good lines, and as many spaces as lines
    with pytest.raises(BackendError, match="t:1: bad trials line"):
        parse_pair_block(b"a b c\nd\n", "t")
