"""End to end: `bash run.sh --small true` (conf/demo_small.conf, ~10 min of audio, tiny models) runs every stage of
the recipe in a copy of the repository and writes the results report of all eight systems. The numbers of so small
a run mean nothing; the test checks that every stage hands the next what it needs and that stage 8 reports every
system on every trial. Then, in a copy of the finished run, stage 7 is redone for one system, killed part-way
(SIGKILL to the recipe's process group) and rerun: the scores must be those of the first run, bit for bit.
(tests/recipes/test_recipe_reproducible.py, marked slow, does the same for every kind of work and compares every
artifact of two runs.)"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest
from helpers.recipe import (compare_runs, copy_checkout, has_venv, kill_leftovers, kill_recipe, run_recipe,
                            start_recipe, wait_for_file)

from phonsid.data import read_map

SYSTEMS = ("ivector", "dnn_ivector", "bnf_ivector", "xvector_mfcc", "xvector_mfcc_aug", "xvector_bnf",
           "xvector_sbnf", "xvector_mt_sbnf")
SMALL = ("--small", "true", "--nj", "2")


@pytest.fixture(scope="module")
def small_run(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished `bash run.sh --small true --nj 2` in a copy of the checkout."""
    if not has_venv(repo_root):
        pytest.skip("needs the recipe's venv (bash tests/run.sh makes it)")
    work = tmp_path_factory.mktemp("run_sh") / "recipe"
    copy_checkout(repo_root, work)
    run_recipe(work, *SMALL)
    return work


def test_small_recipe_runs_every_stage(small_run: Path) -> None:
    work = small_run
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


def test_killed_stage_7_resumes_to_the_same_scores(small_run: Path, tmp_path: Path) -> None:
    # A copy of the finished run (its scp files still name the first run's feature archives, which stage 7 only
    # reads) without the MFCC x-vector system, so that stage 7 has its egs, training and extraction to redo.
    work = tmp_path / "recipe"
    shutil.copytree(small_run, work, symlinks=True)
    shutil.rmtree(work / "exp/xvector_mfcc")
    proc = start_recipe(work, *SMALL, "--stage", "7", log_name="killed")
    try:
        trigger = wait_for_file(work, ["exp/xvector_mfcc/checkpoints/ckpt-*.pt"], proc)
        assert trigger is not None, ("stage 7 ended before the MFCC x-vector network wrote a checkpoint:\n"
                                     + (work / "killed.out").read_text()[-4000:])
        left = kill_recipe(proc, signal.SIGKILL, work)
        assert not left, "the killed recipe left processes running:\n" + "\n".join(left)
    finally:
        kill_leftovers(work)
    run_recipe(work, *SMALL, "--stage", "7", log_name="rerun")
    # the same network, x-vectors and scores as the uninterrupted run (the first difference is named)
    problems = compare_runs(small_run, work, dirs=["exp"],
                            only=lambda rel: rel.parts[1] in ("xvector_mfcc", "scores") or rel.name == "results.md")
    assert not problems, "the resumed run differs from the uninterrupted one:\n" + "\n".join(problems)
    for name in SYSTEMS:
        assert (work / f"exp/scores/{name}/scores").read_bytes() == \
            (small_run / f"exp/scores/{name}/scores").read_bytes(), name
