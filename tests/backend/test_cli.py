"""The back-end command-line tools: Kaldi's arguments, outputs and bad-input messages (run as subprocesses)."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from phonsid.backend import read_plda
from phonsid.io import read_kaldi_vector, read_table


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One working directory for the module (the PLDA is trained once); tests run with it as cwd."""
    path = tmp_path_factory.mktemp("cli")
    old = os.getcwd()
    os.chdir(path)
    yield path
    os.chdir(old)


@pytest.fixture(scope="module")
def run(repo_root, work):
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(repo_root / "pyscripts"), str(repo_root / "venv/bin"), env.get("PATH", "")])
    env["PYTHONPATH"] = str(repo_root / "pyscripts")
    env["LC_ALL"] = "C"

    def _run(*args, ok=True):
        cmd = [str(repo_root / "venv/bin/python"), str(repo_root / "pyscripts" / args[0]), *map(str, args[1:])]
        p = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        if ok is not None:
            assert (p.returncode == 0) == ok, p.stderr
        return p

    return _run


@pytest.fixture(scope="module")
def trained(work, run, synth):
    """A small trained system: PLDA on synthetic data, enrolment and test vectors, trials."""
    rng = np.random.default_rng(7)
    model = synth.make_model(rng, 6, between_scale=5.0)
    keys, x, s2u = synth.sample(rng, model, 40, 4, "tr")
    synth.write_ark_scp(work / "train.ark", keys, x)
    synth.write_data_dir(work / "train", s2u)
    run("ivector_compute_plda.py", "ark:train/spk2utt", "ark:train.ark", "plda")
    _, e, _ = synth.sample(rng, model, 3, 1, "spk")
    tkeys, t, _ = synth.sample(rng, model, 4, 1, "utt")
    synth.write_ark_scp(work / "enroll.ark", ["m0", "m1", "m2"], e)
    synth.write_ark_scp(work / "test.ark", tkeys, t)
    (work / "trials").write_text("".join(f"m{i} {k}\n" for i in range(3) for k in tkeys))
    return {"tkeys": tkeys, "t": t, "e": e, "x": x, "keys": keys}


def test_help_prints_kaldi_usage(run):
    p = run("ivector_plda_scoring.py", "--help")
    assert "Usage: ivector-plda-scoring <plda>" in p.stdout


def test_scoring_and_num_utts(work, run, trained):
    (work / "num_utts").write_text("m0 2\nm1 3\n")
    p = run("ivector_plda_scoring.py", "--num-utts=ark:num_utts", "plda", "ark:enroll.ark", "ark:test.ark",
            "grep -v '^m2 ' trials |", "scores")
    assert len((work / "scores").read_text().splitlines()) == 8
    assert "Processed 8 trials, 0 had errors." in p.stderr
    # a speaker without a count is skipped with a warning, like Kaldi; its trials then cannot be scored
    p = run("ivector_plda_scoring.py", "--num-utts=ark:num_utts", "plda", "ark:enroll.ark", "ark:test.ark", "trials",
            "scores2", ok=False)
    assert "Number of utterances not given for 1 speakers, skipping them (e.g. m2)" in p.stderr
    assert "4 of 12 trials in trials cannot be scored: 4 name an enrolment key with no vector (e.g. m2)" in p.stderr
    assert not (work / "scores2").exists()
    p = run("ivector_plda_scoring.py", "--skip-missing", "--num-utts=ark:num_utts", "plda", "ark:enroll.ark",
            "ark:test.ark", "trials", "scores2")
    assert "Processed 8 trials, 4 had errors." in p.stderr
    assert (work / "scores2").read_text() == (work / "scores").read_text()


def test_scoring_rejects_nan_and_dimension_mismatch(work, synth, run, trained):
    t = trained["t"].copy()
    t[2, 1] = np.nan
    synth.write_ark_scp(work / "bad.ark", trained["tkeys"], t)
    p = run("ivector_plda_scoring.py", "plda", "ark:enroll.ark", "ark:bad.ark", "trials", "s", ok=False)
    assert f"1 of 4 test iVectors in ark:bad.ark contain NaN or inf values (e.g. {trained['tkeys'][2]})" in p.stderr
    synth.write_ark_scp(work / "short.ark", ["m0"], trained["e"][:1, :5])
    p = run("ivector_plda_scoring.py", "plda", "ark:short.ark", "ark:test.ark", "trials", "s", ok=False)
    assert "expected training iVectors of dimension 6, but 1 have another dimension (e.g. m0 (dim 5))" in p.stderr
    (work / "badtrials").write_text("m0 x y\n")
    p = run("ivector_plda_scoring.py", "plda", "ark:enroll.ark", "ark:test.ark", "badtrials", "s", ok=False)
    assert "badtrials:1: bad trials line (expected 2 fields" in p.stderr


def test_scoring_empty_trials_is_an_error_and_leaves_no_scores(work, run, trained):
    (work / "empty_trials").write_text("")
    p = run("ivector_plda_scoring.py", "plda", "ark:enroll.ark", "ark:test.ark", "empty_trials", "empty_scores",
            ok=False)
    assert "ERROR (ivector-plda-scoring) empty_trials: no trials (the trials file is empty)" in p.stderr
    assert not (work / "empty_scores").exists()


def test_compute_plda_bad_training_data(work, synth, rng, run):
    model = synth.make_model(rng, 3)
    keys, x, s2u = synth.sample(rng, model, 5, 1, "one")
    synth.write_ark_scp(work / "single.ark", keys, x)
    synth.write_data_dir(work / "single", s2u)
    p = run("ivector_compute_plda.py", "ark:single/spk2utt", "ark:single.ark", "plda_single", ok=False)
    assert "no speakers with multiple utterances (5 speakers, each with one utterance, e.g. one0000" in p.stderr
    keys, x, s2u = synth.sample(rng, model, 10, 3, "dup")
    for spk, utts in s2u.items():  # every speaker's utterances identical: no within-speaker variation
        idx = [keys.index(u) for u in utts]
        x[idx] = x[idx[0]]
    synth.write_ark_scp(work / "dup.ark", keys, x)
    synth.write_data_dir(work / "dup", s2u)
    p = run("ivector_compute_plda.py", "ark:dup/spk2utt", "ark:dup.ark", "plda_dup", ok=False)
    assert "within-class scatter is singular: rank 0 of 3 from 30 utterances of 10 speakers" in p.stderr
    assert not (work / "plda_dup").exists()
    (work / "extra").write_text("dup0000 dup0000-utt000 dup0000-utt001 gone\n")
    p = run("ivector_compute_plda.py", "ark:extra", "ark:dup.ark", "plda_dup", ok=False)
    assert "No iVector present in input for 1 utterances (e.g. gone)" in p.stderr


def test_vector_tools(work, run, trained):
    p = run("ivector_mean.py", "ark:train/spk2utt", "ark:train.ark", "ark,t:spk.txt", "ark,t:num_utts.txt")
    nums = read_table("ark:num_utts.txt", "int")
    assert set(nums.values()) == {4} and len(nums) == 40
    means = read_table("ark:spk.txt", "vector")
    np.testing.assert_allclose(means["tr0000"], trained["x"][:4].mean(0), rtol=1e-5)
    assert "Computed mean of 40 speakers (0 with no utterances), consisting of 160 utterances" in p.stderr
    run("ivector_mean.py", "ark:train.ark", "mean.vec")
    np.testing.assert_allclose(read_kaldi_vector("mean.vec"), trained["x"].astype(np.float64).mean(0), atol=1e-6)
    assert (work / "mean.vec").read_text().startswith(" [ ")  # text by default, as Kaldi (--binary=false)
    run("ivector_subtract_global_mean.py", "mean.vec", "ark:train.ark", "ark,t:sub3.txt")
    run("ivector_subtract_global_mean.py", "ark:train.ark", "ark,t:sub2.txt")
    a, b = read_table("ark:sub3.txt", "vector"), read_table("ark:sub2.txt", "vector")
    assert max(np.abs(a[k] - b[k]).max() for k in a) < 1e-5
    np.savetxt(work / "m.txt", np.eye(2, 7))
    (work / "lda.txt").write_text(" [\n 1 0 0 0 0 0 5\n 0 1 0 0 0 0 -5 ]\n")
    run("transform_vec.py", "lda.txt", "ark:train.ark", "ark,t:proj.txt")
    proj = read_table("ark:proj.txt", "vector")
    np.testing.assert_allclose(proj["tr0000-utt000"], trained["x"][0, :2] + [5, -5], rtol=1e-5)
    (work / "bad.txt").write_text(" [\n 1 0 0 ]\n")
    p = run("ivector_transform.py", "bad.txt", "ark:train.ark", "ark:-", ok=False)
    assert "vectors have dimension 6 but the transform bad.txt has 3 columns (expected 6 or 7)" in p.stderr
    run("ivector_normalize_length.py", "--scaleup=false", "ark:train.ark", "ark,t:unit.txt")
    unit = read_table("ark:unit.txt", "vector")
    np.testing.assert_allclose([np.linalg.norm(v) for v in unit.values()], 1.0, rtol=1e-5)


def test_lda_cli_clips_and_errors(work, run, trained):
    p = run("ivector_compute_lda.py", "--dim=10", "ark:train.ark", "ark:train/utt2spk", "lda.mat", ok=False)
    assert "LDA dimension 10 is not in 1..6" in p.stderr
    p = run("ivector_compute_lda.py", "--dim=10", "--clip-dim", "ark:train.ark", "ark:train/utt2spk", "lda.mat")
    assert "--dim=10 reduced to 6" in p.stderr
    from phonsid.io import read_kaldi_matrix

    assert read_kaldi_matrix("lda.mat").shape == (6, 7)


def test_copy_and_adapt_plda(work, run, trained):
    run("ivector_copy_plda.py", "--binary=false", "--smoothing=0.1", "plda", "plda.txt")
    assert (work / "plda.txt").read_text().startswith("<Plda>")
    assert read_plda("plda.txt").psi[0] < read_plda("plda").psi[0]
    run("ivector_adapt_plda.py", "plda", "ark:test.ark", "plda_adapt")
    np.testing.assert_allclose(read_plda("plda_adapt").mean, trained["t"].astype(np.float64).mean(0), atol=1e-6)


def test_score_norm_cli(work, run, trained):
    run("score_norm.py", "--method=none", "ark:enroll.ark", "ark:test.ark", "ark:train.ark", "trials", "cos")
    from phonsid.backend import CosineScorer

    want = CosineScorer(["m0", "m1", "m2"], trained["e"], trained["tkeys"], trained["t"]).score_all()
    got = [float(l.split()[2]) for l in (work / "cos").read_text().splitlines()]
    np.testing.assert_allclose(got, want.reshape(-1), atol=1e-6)
    p = run("score_norm.py", "--plda=plda", "--method=asnorm", "--top-n=20", "ark:enroll.ark", "ark:test.ark",
            "ark:train.ark", "trials", "asn")
    assert "asnorm: cohort of 160 vectors, top 20 per side" in p.stderr
    assert len((work / "asn").read_text().splitlines()) == 12


def test_non_finite_vectors_and_scores_are_refused_where_they_appear(work, run, trained):
    # a transform holding NaN (read as it is, e.g. from Kaldi): the vectors it makes are refused, by key
    (work / "nan_lda.txt").write_text(" [\n 1 0 0 0 0 0 5\n 0 1 0 0 0 0 nan ]\n")
    p = run("transform_vec.py", "nan_lda.txt", "ark:train.ark", "ark,scp:nanproj.ark,nanproj.scp", ok=False)
    assert (f"ark,scp:nanproj.ark,nanproj.scp: key '{trained['keys'][0]}': refusing to write non-finite values: "
            "NaN at element 1 (0-based; 1 of 2 values is not finite)") in p.stderr
    assert not list(work.glob("nanproj*")) and not list(work.glob(".nanproj*"))
    # a PLDA model holding NaN (refused by write_plda; written here around the check): no score file
    from phonsid.backend.plda import write_plda_to
    from phonsid.io import KaldiWriter

    plda = read_plda("plda")
    plda.psi[0] = np.nan
    with open(work / "nan_plda", "wb") as f:
        write_plda_to(KaldiWriter(f, binary=True, check_finite=False), plda)
    p = run("ivector_plda_scoring.py", "nan_plda", "ark:enroll.ark", "ark:test.ark", "trials", "nan_scores", ok=False)
    assert f"nan_scores: refusing to write non-finite scores: trial 'm0 {trained['tkeys'][0]}' scored nan" in p.stderr
    assert not (work / "nan_scores").exists()
