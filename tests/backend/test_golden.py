"""Parity with real Kaldi outputs in ../shared/golden (see its README for the commands that made them).

Eigenvector signs are arbitrary (Kaldi's eigensolver and LAPACK may pick opposite ones), so transforms are
compared row by row up to sign; scores do not depend on the signs.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from phonsid.backend import (
    PldaAdaptationConfig,
    PldaScorer,
    accumulate_plda_stats,
    adapt_plda,
    compute_lda,
    estimate_plda,
    group_by_speaker,
    normalize_length,
    read_plda,
    smooth_within_class_covariance,
    speaker_means,
)
from phonsid.backend.tables import read_int_table, read_vectors
from phonsid.backend.vectors import apply_transform, subtract_mean
from phonsid.data import read_token_lists, read_token_map

TOL = 1e-3


def _sign_aligned(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    sign = np.sign((a * ref).sum(axis=1))
    return a * sign[:, None]


@pytest.fixture(scope="module")
def g(golden):
    """Golden inputs read once: PLDA-training i-vectors (Kaldi 2-arg mean subtraction), the LDA."""
    from phonsid.io import read_kaldi_matrix, read_kaldi_vector

    keys, x = read_vectors(f"ark:{golden}/plda_ivectors.ark")
    xs = (x - x.astype(np.float64).sum(axis=0) / len(x)).astype(np.float32)
    lda = read_kaldi_matrix(str(golden / "transform.mat"))
    prepared, _, _ = normalize_length(apply_transform(lda, xs))
    return {"keys": keys, "x": x, "xs": xs, "lda": lda, "prepared": prepared,
            "mean": read_kaldi_vector(str(golden / "mean.vec")), "dir": golden}


def test_lda_matches_kaldi(g, golden):
    spk2rows, missing = group_by_speaker(g["keys"], read_token_map(f"ark:{golden}/plda_utt2spk"))
    assert not missing
    res = compute_lda(g["xs"], spk2rows, 20, total_covariance_factor=0.0)
    assert res.transform.shape == g["lda"].shape == (20, 41)
    np.testing.assert_allclose(_sign_aligned(res.transform, g["lda"]), g["lda"], atol=TOL)
    # eigenvalues as logged by Kaldi
    assert "22.0783 8.57953 4.51829" in (golden / "log/lda.log").read_text()
    np.testing.assert_allclose(res.eigenvalues[:3], [22.0783, 8.57953, 4.51829], rtol=1e-5)


def test_mean_matches_kaldi(g):
    np.testing.assert_allclose(g["x"].astype(np.float64).mean(axis=0), g["mean"], atol=1e-6)


def _train_plda(g):
    spk2utt = read_token_lists(f"ark:{g['dir']}/plda_spk2utt")
    index = {k: i for i, k in enumerate(g["keys"])}
    groups = [g["prepared"][[index[u] for u in utts]] for utts in spk2utt.values()]
    return estimate_plda(accumulate_plda_stats(groups, names=list(spk2utt)), 10)


def test_plda_matches_kaldi(g, golden):
    plda, info = _train_plda(g)
    ref = read_plda(str(golden / "plda"))
    np.testing.assert_allclose(plda.mean, ref.mean, atol=TOL)
    np.testing.assert_allclose(plda.psi, ref.psi, atol=TOL, rtol=1e-4)
    np.testing.assert_allclose(_sign_aligned(plda.transform, ref.transform), ref.transform, atol=TOL)
    # the traces Kaldi logs at every EM iteration
    log = (golden / "log/plda.log").read_text()
    kaldi_within = [float(l.rsplit(" ", 1)[1]) for l in log.splitlines() if "Trace of within-class" in l]
    kaldi_between = [float(l.rsplit(" ", 1)[1]) for l in log.splitlines() if "Trace of between-class" in l]
    np.testing.assert_allclose(info.within_traces, kaldi_within, rtol=1e-5)
    np.testing.assert_allclose(info.between_traces, kaldi_between, rtol=1e-5)


def test_smoothing_matches_kaldi(golden):
    ref = read_plda(str(golden / "plda_smooth0.1.txt"))
    got = smooth_within_class_covariance(read_plda(str(golden / "plda")), 0.1)
    np.testing.assert_allclose(got.psi, ref.psi, atol=1e-6)
    np.testing.assert_allclose(got.transform, ref.transform, atol=1e-6)
    np.testing.assert_allclose(got.mean, ref.mean, atol=1e-6)


def _test_vectors(g):
    keys, x = read_vectors(f"ark:{g['dir']}/ivectors.ark")
    prep, _, _ = normalize_length(apply_transform(g["lda"], subtract_mean(x, g["mean"].astype(np.float32))))
    return keys, x, prep


def test_adapted_plda_matches_kaldi(g, golden):
    _, _, prep = _test_vectors(g)
    adapted, info = adapt_plda(read_plda(str(golden / "plda")), prep, PldaAdaptationConfig(1.0, 0.75, 0.25))
    ref = read_plda(str(golden / "plda_adapt"))
    np.testing.assert_allclose(adapted.mean, ref.mean, atol=TOL)
    np.testing.assert_allclose(adapted.psi, ref.psi, atol=TOL)
    np.testing.assert_allclose(_sign_aligned(adapted.transform, ref.transform), ref.transform, atol=TOL)
    np.testing.assert_allclose(info.eigenvalues[:3], [2.6325, 2.45694, 2.19232], rtol=1e-4)


def _kaldi_scores(path):
    return {(a, b): float(s) for a, b, s in (l.split() for l in open(path))}


@pytest.mark.parametrize("name,simple,plda_file,n1", [
    ("scores_plda_n3", False, "plda", False),
    ("scores_plda_n3_simple", True, "plda", False),
    ("scores_plda_n1", False, "plda", True),
    ("scores_plda_adapt", False, "plda_adapt", False),
])
def test_scores_match_kaldi(g, golden, name, simple, plda_file, n1):
    plda = read_plda(str(golden / plda_file))
    tkeys, x, tprep = _test_vectors(g)
    if n1:
        mkeys, models, counts = tkeys, tprep, np.ones(len(tkeys))
    else:
        spk = speaker_means(read_token_lists(f"ark:{golden}/enroll_spk2utt"), tkeys, x)
        centred = subtract_mean(spk.means, g["mean"].astype(np.float32))
        models, _, _ = normalize_length(apply_transform(g["lda"], centred))
        mkeys = spk.speakers
        num_utts = read_int_table(f"ark:{golden}/num_utts.ark")
        counts = np.array([num_utts[k] for k in mkeys], dtype=np.float64)
        assert (counts == 3).all()
    ref = _kaldi_scores(golden / name)
    scorer = PldaScorer(plda, mkeys, models, tkeys, tprep, counts, normalize_length=True, simple_length_norm=simple)
    mi = {k: i for i, k in enumerate(mkeys)}
    ti = {k: i for i, k in enumerate(tkeys)}
    pairs = list(ref)
    got = scorer.score_pairs(np.array([mi[a] for a, _ in pairs]), np.array([ti[b] for _, b in pairs]))
    np.testing.assert_allclose(got, [ref[p] for p in pairs], atol=TOL)


def test_kaldi_command_chain_with_pipes(golden, tmp_path, script_env, repo_root):
    """The README's scoring command with our tools in place of Kaldi's: rspecifier pipes, the PLDA through a
    pipe, trials through 'cat | cut'."""
    env = dict(script_env)
    env["PATH"] = f"{repo_root / 'pyscripts'}:{env['PATH']}"
    prep = "ivector_subtract_global_mean.py mean.vec {} ark:- | transform_vec.py transform.mat ark:- ark:- | " \
           "ivector_normalize_length.py ark:- ark:- |"
    enr = "ark:ivector_mean.py ark:enroll_spk2utt ark:ivectors.ark ark:- | " + prep.format("ark:-")
    cmd = ["ivector_plda_scoring.py", "--normalize-length=true", "--num-utts=ark:num_utts.ark",
           "ivector_copy_plda.py --smoothing=0.0 plda - |", enr, "ark:" + prep.format("ark:ivectors.ark"),
           "cat trials | cut -d' ' -f1,2 |", str(tmp_path / "scores")]
    p = subprocess.run(cmd, cwd=golden, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    got = _kaldi_scores(tmp_path / "scores")
    ref = _kaldi_scores(golden / "scores_plda_n3")
    assert list(got) == list(ref)
    assert max(abs(got[k] - ref[k]) for k in ref) < TOL
    assert "Processed 700 trials, 0 had errors." in p.stderr
    assert "Mean score was -9.38191, standard deviation was 7.30804" in p.stderr


def test_training_clis_match_kaldi(golden, tmp_path, script_env, repo_root):
    """mean, LDA, PLDA and adaptation through the CLIs with the README's command lines."""
    from phonsid.io import read_kaldi_matrix, read_kaldi_vector

    env = dict(script_env)
    env["PATH"] = f"{repo_root / 'pyscripts'}:{env['PATH']}"
    t = tmp_path

    def run(*cmd):
        p = subprocess.run(list(cmd), cwd=golden, env=env, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return p

    run("ivector_mean.py", "ark:plda_ivectors.ark", str(t / "mean.vec"))
    np.testing.assert_allclose(read_kaldi_vector(str(t / "mean.vec")), read_kaldi_vector(str(golden / "mean.vec")),
                               atol=1e-6)
    run("ivector_compute_lda.py", "--dim=20", "--total-covariance-factor=0.0",
        "ark:ivector_subtract_global_mean.py ark:plda_ivectors.ark ark:- |", "ark:plda_utt2spk", str(t / "lda.mat"))
    ref = read_kaldi_matrix(str(golden / "transform.mat"))
    np.testing.assert_allclose(_sign_aligned(read_kaldi_matrix(str(t / "lda.mat")), ref), ref, atol=TOL)
    run("ivector_compute_plda.py", "ark:plda_spk2utt", "ark:ivector_subtract_global_mean.py ark:plda_ivectors.ark "
        "ark:- | transform_vec.py transform.mat ark:- ark:- | ivector_normalize_length.py ark:- ark:- |",
        str(t / "plda"))
    ref_plda = read_plda(str(golden / "plda"))
    got = read_plda(str(t / "plda"))
    np.testing.assert_allclose(got.psi, ref_plda.psi, atol=TOL)
    np.testing.assert_allclose(_sign_aligned(got.transform, ref_plda.transform), ref_plda.transform, atol=TOL)
    run("ivector_adapt_plda.py", "--within-covar-scale=0.75", "--between-covar-scale=0.25", "plda",
        "ark:ivector_subtract_global_mean.py mean.vec ark:ivectors.ark ark:- | transform_vec.py transform.mat "
        "ark:- ark:- | ivector_normalize_length.py ark:- ark:- |", str(t / "plda_adapt"))
    ref_ad = read_plda(str(golden / "plda_adapt"))
    np.testing.assert_allclose(read_plda(str(t / "plda_adapt")).psi, ref_ad.psi, atol=TOL)
    run("ivector_copy_plda.py", "--smoothing=0.1", "--binary=false", "plda", str(t / "smooth.txt"))
    np.testing.assert_allclose(read_plda(str(t / "smooth.txt")).psi, read_plda(str(golden / "plda_smooth0.1.txt")).psi,
                               atol=1e-6)
    # length normalisation as Kaldi's, against the text copy of its output
    run("ivector_normalize_length.py", "ark:ivectors.ark", f"ark,t:{t / 'normlen.txt'}")
    from phonsid.io import read_table

    ours = read_table(f"ark:{t / 'normlen.txt'}", "vector")
    theirs = read_table(f"ark:{golden / 'ivectors_normlen.txt'}", "vector")
    assert list(ours) == list(theirs)
    assert max(np.abs(ours[k] - theirs[k]).max() for k in theirs) < 1e-5
