"""End to end: `bash run.sh --small true` (conf/demo_small.conf, ~10 min of audio, tiny models) runs every stage of
the recipe in a copy of the repository and writes the results report of all eight systems. The numbers of so small
a run mean nothing; the test checks that every stage hands the next what it needs and that stage 8 reports every
system on every trial."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from phonsid.data import read_map

SYSTEMS = ("ivector", "dnn_ivector", "bnf_ivector", "xvector_mfcc", "xvector_mfcc_aug", "xvector_bnf",
           "xvector_sbnf", "xvector_mt_sbnf")


# run outputs and environments that the copy must not take (the venv is linked instead)
_NOT_COPIED = {"venv", "data", "exp", "mfcc", "downloads", ".git", ".agents", "__pycache__", ".pytest_cache"}


def _copy_checkout(repo: Path, dest: Path) -> None:
    """The recipe's files (what git tracks or would track; without git, the tree less run outputs) with their
    times (path.sh compares pyproject.toml with the venv's install stamp); the venv is shared through a link."""
    if (repo / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=repo,
                                capture_output=True, check=True).stdout.decode().split("\0")
        files = [repo / name for name in listed if name]
    else:
        files = [p for p in repo.rglob("*") if not _NOT_COPIED & set(p.relative_to(repo).parts)]
    for src in files:
        if src.is_file() and not src.is_symlink():
            target = dest / src.relative_to(repo)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    os.symlink(repo / "venv", dest / "venv")


def test_small_recipe_runs_every_stage(repo_root: Path, tmp_path: Path) -> None:
    if not (repo_root / "venv" / ".phonsid_installed").is_file():
        pytest.skip("needs the recipe's venv (bash tests/run.sh makes it)")
    work = tmp_path / "recipe"
    _copy_checkout(repo_root, work)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run(["bash", "run.sh", "--small", "true", "--nj", "2"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"run.sh failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"

    # stage 3: senone alignments for every ASR utterance; stages 4-5: bottleneck features for the speaker sets
    ali = work / "exp/tri1_ali"
    assert set(read_map(ali / "pdf_ali.scp")) == set(read_map(work / "data/demo_asr/utt2spk"))
    assert 0.5 < float((ali / "phone_accuracy.txt").read_text().split()[-1]) <= 1.0
    for kind in ("bnf", "sbnf", "mtsbnf"):
        for s in ("demo_train", "demo_enroll", "demo_test", "demo_train_combined"):
            feats = read_map(work / f"data/{s}_{kind}/feats.scp")
            assert set(feats) == set(read_map(work / f"data/{s}/utt2spk")), (s, kind)
    # stage 8: every system scored every trial and is in the report with its pictures
    trials = (work / "data/demo_test/trials").read_text().splitlines()
    for name in SYSTEMS:
        scores = (work / f"exp/scores/{name}/scores").read_text().splitlines()
        assert len(scores) == len(trials), name
    report = (work / "exp/results.md").read_text()
    for name in ("UBM/i-vector", "DNN/i-vector", "MT-SBNF"):
        assert name in report
    assert "not run" not in report
    for png in ("results_det.png", "results_eer.png"):
        assert (work / "exp" / png).stat().st_size > 1000
        assert png in report
