"""tests/helpers/recipe.py's comparison of two runs' artifacts: what it sees as equal, what as different, and the
order in which it names differences (the slow reproducibility tests rely on it)."""

from __future__ import annotations

import os
from pathlib import Path

import kaldiio
import numpy as np
import torch
from helpers.recipe import compare_runs


def _run(root: Path, scale: float = 1.0, extra: bool = False) -> Path:
    """A fake run: an ark/scp pair naming absolute paths, a model, a log and a stamp that always differ."""
    (root / "mfcc").mkdir(parents=True)
    (root / "exp/sys/log").mkdir(parents=True)
    (root / "exp/sys/.stamps").mkdir(parents=True)
    feats = {"utt1": np.arange(6, dtype=np.float32).reshape(2, 3), "utt2": np.ones((3, 3), np.float32) * scale}
    kaldiio.save_ark(str(root / "mfcc/raw.1.ark"), feats, scp=str(root / "mfcc/raw.1.scp"))
    torch.save({"state_dict": {"w": torch.full((2,), scale)}, "elapsed_sec": os.getpid() * scale},
               root / "exp/sys/final.pt")
    (root / "exp/sys/scores").write_text(f"spk1 utt1 {scale:.3f}\n")
    (root / "exp/sys/log/train.log").write_text(f"took {scale} s at {root}\n")
    (root / "exp/sys/.stamps/train.json").write_text(str(root))
    if extra:
        (root / "exp/sys/leftover").write_text("x")
    t = 1_000_000_000
    for i, rel in enumerate(["mfcc/raw.1.ark", "mfcc/raw.1.scp", "exp/sys/final.pt", "exp/sys/scores"]):
        os.utime(root / rel, ns=(t + i, t + i))  # the order the "run" wrote them
    return root


def test_identical_runs_in_different_dirs_compare_equal(tmp_path):
    a, b = _run(tmp_path / "a"), _run(tmp_path / "b")
    assert (a / "mfcc/raw.1.scp").read_text() != (b / "mfcc/raw.1.scp").read_text()  # absolute paths
    assert compare_runs(a, b) == []


def test_differences_are_named_earliest_artifact_first(tmp_path):
    a, b = _run(tmp_path / "a"), _run(tmp_path / "b", scale=2.0, extra=True)
    problems = compare_runs(a, b)
    assert problems[0].startswith("mfcc/raw.1.ark: entry 'utt2' differs")
    assert problems[1].startswith("exp/sys/final.pt: tensor state_dict.w differs")
    assert problems[2].startswith("exp/sys/scores: line 1")
    assert problems[3] == "exp/sys/leftover: only in the second run"
    assert len(problems) == 4
