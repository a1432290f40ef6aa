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


def _copy_checkout(repo: Path, dest: Path) -> None:
    """The files git tracks or would track (not data/, exp/, venv/), with their times (path.sh compares
    pyproject.toml with the venv's install stamp); the venv is shared through a link."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=repo, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = repo / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    os.symlink(repo / "venv", dest / "venv")


def test_small_recipe_runs_every_stage(repo_root: Path, tmp_path: Path) -> None:
    if not (repo_root / ".git").exists() or not (repo_root / "venv" / ".phonsid_installed").is_file():
        pytest.skip("needs a git checkout with its venv (bash tests/run.sh makes it)")
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
