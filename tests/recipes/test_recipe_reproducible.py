"""The recipe is reproducible (slow: three runs of `bash run.sh --small true`, ~15 min on 2 cores).

- Determinism: two runs of the same checkout with the same seed and --nj, side by side (each loading the machine
  for the other), write bit-identical artifacts at every stage: data dirs, features and VAD, augmented sets,
  alignments, GMM-HMM/UBM/i-vector extractor models, networks (tensor by tensor), bottleneck features, egs,
  i-vectors, x-vectors, PLDA models, scores and the results report. The first differing artifact (in the order the
  run wrote them) is named.
- Resuming: a run killed inside a stage (SIGTERM or SIGKILL to its process group), at one point per kind of work,
  and each time rerun with --stage of the killed stage, ends with the artifacts of an uninterrupted run; after each
  kill nothing of the killed run is left running.

tests/recipes/test_run_sh.py keeps one cheap kill in the default suite.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from helpers.recipe import (compare_runs, copy_checkout, has_venv, kill_leftovers, kill_recipe, run_artifacts,
                            run_recipe, start_recipe, wait_for_file)

pytestmark = pytest.mark.slow

SMALL = ("--small", "true", "--nj", "2")

# (what is interrupted, its stage, files whose appearance triggers the kill, signal); in recipe order: each rerun
# starts at the stage of the kill before it and runs until the next trigger
KILL_POINTS = [
    ("feature extraction", 1, ["exp/make_mfcc/demo_train/make_mfcc_demo_train.1.log"], signal.SIGKILL),
    ("triphone GMM training", 3, ["exp/tri1/log/acc.3.1.log"], signal.SIGTERM),
    ("DNN-1 training", 4, ["exp/bnf1/log/train.csv"], signal.SIGKILL),
    ("MT DNN-2 training", 5, ["exp/mt_sbnf/checkpoints/ckpt-*.pt"], signal.SIGTERM),
    ("i-vector extraction", 6, ["exp/ivectors_ubm/ivectors_demo_enroll/log/extract_ivectors.1.log"], signal.SIGKILL),
    ("i-vector extractor training", 6, ["exp/ivectors_dnn/extractor/log/acc.0.1.log"], signal.SIGTERM),
    ("x-vector egs", 7, ["exp/xvector_mfcc_aug/egs/log/train_create_examples.1.log"], signal.SIGTERM),
    ("x-vector training", 7, ["exp/xvector_bnf/checkpoints/ckpt-*.pt"], signal.SIGKILL),
]

# an artifact of each stage that the comparison must have covered
EXPECTED = ["data/demo_train/wav.scp", "mfcc/raw_mfcc_demo_train.1.ark", "data/demo_train_aug/feats.scp",
            "exp/tri1_ali/pdf_ali.scp", "exp/tri1/final.mdl", "exp/bnf1/final.pt", "exp/mt_sbnf/final.pt",
            "exp/ivectors_dnn/extractor/final.ie", "exp/ivectors_ubm/ivectors_demo_test/ivector.scp",
            "exp/xvector_mfcc/final.pt", "exp/xvector_mt_sbnf/xvectors_demo_test/xvector.scp",
            "exp/scores/xvector_bnf/scores", "exp/results.md"]


@pytest.fixture(scope="module")
def two_runs(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two finished `bash run.sh --small true --nj 2` in two copies of the checkout, run at the same time."""
    if not has_venv(repo_root):
        pytest.skip("needs the recipe's venv (bash tests/run.sh makes it)")
    base = tmp_path_factory.mktemp("reproducible")
    works = (base / "run1", base / "run2")
    for w in works:
        copy_checkout(repo_root, w)
    procs = [start_recipe(w, *SMALL) for w in works]
    codes = [p.wait() for p in procs]
    for w, code in zip(works, codes):
        assert code == 0, f"run.sh in {w} failed ({code}):\n" + (w / "run.out").read_text()[-6000:]
    return works


def test_two_runs_write_bit_identical_artifacts(two_runs: tuple[Path, Path]) -> None:
    first, second = two_runs
    compared = {str(r) for r in run_artifacts(first)}
    assert not [e for e in EXPECTED if e not in compared], "artifacts missing from the comparison"
    problems = compare_runs(first, second)
    assert not problems, "the two runs differ; the first differing artifact comes first:\n" + "\n".join(problems)


def test_killed_recipe_resumes_to_the_artifacts_of_an_uninterrupted_run(two_runs: tuple[Path, Path], repo_root: Path,
                                                                        tmp_path: Path) -> None:
    work = tmp_path / "killed"
    copy_checkout(repo_root, work)
    stage = 0
    try:
        for i, (what, kill_stage, patterns, sig) in enumerate(KILL_POINTS):
            proc = start_recipe(work, *SMALL, "--stage", str(stage), log_name=f"run{i}")
            trigger = wait_for_file(work, patterns, proc)
            if trigger is None:
                raise AssertionError(f"kill point '{what}' ({patterns}) not reached: run.sh --stage {stage} ended "
                                     f"({proc.returncode}):\n" + (work / f"run{i}.out").read_text()[-4000:])
            left = kill_recipe(proc, sig, work)
            assert not left, f"after {sig.name} during {what}, still running:\n" + "\n".join(left)
            stage = kill_stage
        run_recipe(work, *SMALL, "--stage", str(stage), log_name="final")
    finally:
        kill_leftovers(work)
    problems = compare_runs(two_runs[0], work)
    assert not problems, ("the killed and resumed run differs from an uninterrupted one (first differing artifact "
                          "first):\n" + "\n".join(problems))
