"""compute_eer.py, compute_min_dcf.py, score_report.py, calibrate_scores.py as command lines."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest


@pytest.fixture
def run(repo_root, tmp_path):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(repo_root / "pyscripts"), str(repo_root / "venv/bin"), env.get("PATH", "")])
    env["PYTHONPATH"] = str(repo_root / "pyscripts")

    def _run(*args, ok=True, cwd=None, stdin=None):
        cmd = [str(repo_root / "venv/bin/python"), str(repo_root / "pyscripts" / args[0]), *map(str, args[1:])]
        p = subprocess.run(cmd, cwd=cwd or tmp_path, env=env, capture_output=True, text=True, input=stdin)
        assert (p.returncode == 0) == ok, p.stderr
        return p

    return _run


def test_compute_eer_prints_what_kaldi_prints(golden, run):
    pairs = zip((golden / "scores_plda_n3").read_text().splitlines(), (golden / "trials").read_text().splitlines())
    text = "".join(f"{s.split()[2]} {t.split()[2]}\n" for s, t in pairs)
    p = run("compute_eer.py", "-", stdin=text)
    assert p.stdout == (golden / "eer_scores_plda_n3.txt").read_text()  # '8.571', no newline
    assert "Equal error rate is 8.57143%, at threshold -1.85699" in p.stderr
    p = run("compute_eer.py", "-", ok=False, stdin="1.0 target\nx nontarget\n")
    assert "-:2: score 'x' is not a number" in p.stderr
    p = run("compute_eer.py", "-", ok=False, stdin="1.0 target\n2.0 maybe\n")
    assert "-:2: the label must be 'target' or 'nontarget', got 'maybe'" in p.stderr
    p = run("compute_eer.py", "-", ok=False, stdin="1.0 target\n")
    assert "no non-target scores" in p.stderr


def test_nan_and_inf_scores_are_refused_naming_the_line_and_trial(run, tmp_path):
    p = run("compute_eer.py", "-", ok=False, stdin="1.0 target\nnan target\n-1 nontarget\n")
    assert "ERROR (compute-eer) -:2: score 'nan' (target) is not a finite number" in p.stderr
    (tmp_path / "scores").write_text("a b 1.0\na c -inf\nd c nan\n")
    (tmp_path / "trials").write_text("a b target\na c target\nd c nontarget\n")
    p = run("compute_min_dcf.py", "scores", "trials", ok=False)
    assert "ERROR (compute_min_dcf.py) scores:2: score '-inf' of trial 'a c' is not a finite number (2 such lines)" \
        in p.stderr and not p.stdout


def test_compute_min_dcf_matches_kaldi(golden, run):
    p = run("compute_min_dcf.py", "--p-target", "0.001", "--c-miss", "1", "--c-fa", "1", "scores_plda_adapt", "trials",
            cwd=golden)
    assert p.stdout == "0.6571\n"
    p = run("compute_min_dcf.py", "scores_plda_n1", "trials", cwd=golden, ok=False)
    assert "700 of 700 scores in scores_plda_n1 are for trials absent from the trials file" in p.stderr


def test_score_report(golden, run, tmp_path):
    p = run("score_report.py", f"--trials={golden / 'trials'}", "--baseline=n3", f"--det-plot={tmp_path / 'det.png'}",
            f"n3={golden / 'scores_plda_n3'}", f"adapt={golden / 'scores_plda_adapt'}",
            f"n1={golden / 'scores_plda_n1'},{golden / 'trials_n1'}")
    lines = p.stdout.splitlines()
    assert lines[2] == "| n3 | 700 | 8.57 | 0.7000 | 0.7429 | baseline | — | — |"
    assert lines[3] == "| adapt | 700 | 10.00 | 0.6571 | 0.6571 | +16.7% | -6.1% | -11.5% |"
    assert lines[4].startswith("| n1 | 700 | 12.86 | 0.7571 | 0.7571 | +50.0%")
    assert (tmp_path / "det.png").exists()
    p = run("score_report.py", f"--trials={golden / 'trials'}", f"n1={golden / 'scores_plda_n1'}", ok=False)
    assert "700 of 700 scores" in p.stderr


def test_calibrate_scores(run, tmp_path):
    rng = np.random.default_rng(5)
    lab = rng.random(3000) < 0.2
    raw = 4.0 * rng.normal(np.where(lab, 1.0, -1.0), 1.0) + 7.0
    keys = [(f"m{i % 37}", f"u{i}") for i in range(3000)]
    (tmp_path / "scores").write_text("".join(f"{a} {b} {s}\n" for (a, b), s in zip(keys, raw)))
    (tmp_path / "trials").write_text("".join(f"{a} {b} {'target' if l else 'nontarget'}\n"
                                             for (a, b), l in zip(keys, lab)))
    p = run("calibrate_scores.py", "--train-scores=scores", "--train-trials=trials", "--model-out=cal",
            "--p-target=0.5", "--trials=trials", "scores", "cal_scores")
    assert "after calibration: Cllr" in p.stderr
    out = [l.split() for l in (tmp_path / "cal_scores").read_text().splitlines()]
    assert [tuple(o[:2]) for o in out] == keys
    llr = np.array([float(o[2]) for o in out])
    # the true LLR of N(±1, 1) in the raw scale is 2 * (raw - 7) / 4
    np.testing.assert_allclose(llr, 0.5 * (raw - 7.0), rtol=0.1, atol=0.1)  # up to sampling error
    run("calibrate_scores.py", "--model-in=cal", "scores", "again")
    assert (tmp_path / "again").read_text() == (tmp_path / "cal_scores").read_text()
    p = run("calibrate_scores.py", "scores", "x", ok=False)
    assert "give either --model-in, or --train-scores and --train-trials" in p.stderr
