"""Block scoring: dense and sparse paths agree with per-trial Kaldi LLRs; cosine; trial files in and out."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.backend import BackendError, CosineScorer, Plda, PldaScorer, log_likelihood_ratio, score_trials_file


def _plda(rng, dim):
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return Plda(rng.standard_normal(dim) * 0.1, q, np.sort(rng.uniform(0.1, 8.0, dim))[::-1])


def _setup(rng, num_models=13, num_tests=40, dim=6):
    plda = _plda(rng, dim)
    models = rng.standard_normal((num_models, dim)).astype(np.float32)
    tests = rng.standard_normal((num_tests, dim)).astype(np.float32)
    n = rng.integers(1, 5, num_models).astype(np.float64)
    scorer = PldaScorer(plda, [f"m{i}" for i in range(num_models)], models, [f"t{j}" for j in range(num_tests)],
                        tests, n)
    return plda, scorer, n


def _reference(plda, scorer, n, mi, ti):
    return np.array([log_likelihood_ratio(plda, scorer.models_t[i].astype(np.float64), int(n[i]),
                                          scorer.tests_t[j].astype(np.float64)) for i, j in zip(mi, ti)])


@pytest.mark.parametrize("mode", ["dense", "sparse", "rows"])
def test_score_pairs_matches_per_trial_llr(rng, mode):
    plda, scorer, n = _setup(rng)
    mi = rng.integers(0, 13, 500)
    ti = rng.integers(0, 40, 500)
    scorer.chunk_trials = 64  # several chunks
    if mode == "sparse":
        scorer.min_density = 2.0  # never dense enough: gather-and-dot
    elif mode == "rows":
        scorer.max_block_entries = 1  # no product fits: gather-and-dot
    got = scorer.score_pairs(mi, ti)
    np.testing.assert_allclose(got, _reference(plda, scorer, n, mi, ti), atol=1e-9)


def test_torch_engine_matches_numpy(rng):
    pytest.importorskip("torch")
    plda, scorer, n = _setup(rng)
    mi = rng.integers(0, 13, 300)
    ti = rng.integers(0, 40, 300)
    ref = scorer.score_pairs(mi, ti)
    scorer.engine = "torch"
    np.testing.assert_allclose(scorer.score_pairs(mi, ti), ref, atol=1e-10)


def test_cosine_scorer(rng):
    m = rng.standard_normal((3, 4))
    t = rng.standard_normal((5, 4))
    t[4] = 0.0
    sc = CosineScorer(["a", "b", "c"], m, list("vwxyz"), t)
    full = sc.score_all()
    want = (m / np.linalg.norm(m, axis=1, keepdims=True)) @ (t[:4] / np.linalg.norm(t[:4], axis=1, keepdims=True)).T
    np.testing.assert_allclose(full[:, :4], want)
    np.testing.assert_array_equal(full[:, 4], 0.0)
    np.testing.assert_allclose(sc.score_pairs(np.array([2, 0]), np.array([1, 3])), [want[2, 1], want[0, 3]])
    with pytest.raises(BackendError, match="dimension mismatch"):
        CosineScorer(["a"], m[:1], ["b"], t[:1, :3])


def test_score_trials_file_in_order_and_kaldi_format(rng, tmp_path):
    plda, scorer, n = _setup(rng)
    pairs = [(int(i), int(j)) for i, j in zip(rng.integers(0, 13, 200), rng.integers(0, 40, 200))]
    trials = tmp_path / "trials"
    trials.write_text("".join(f"m{i} t{j}\n" for i, j in pairs))
    summary = score_trials_file(scorer, str(trials), str(tmp_path / "scores"))
    assert summary.num_scored == 200 and summary.num_missing == 0
    lines = (tmp_path / "scores").read_text().splitlines()
    assert [l.split()[:2] for l in lines] == [[f"m{i}", f"t{j}"] for i, j in pairs]
    ref = _reference(plda, scorer, n, [p[0] for p in pairs], [p[1] for p in pairs])
    assert [l.split()[2] for l in lines] == ["%.7g" % np.float32(r) for r in ref]
    assert abs(summary.mean - np.float32(ref).mean()) < 1e-4


def test_missing_keys_error_or_skip(rng, tmp_path):
    _, scorer, _ = _setup(rng)
    trials = tmp_path / "trials"
    trials.write_text("m0 t0\nm0 nope\nghost t1\nm1 t1\nghost nope\n")
    out = tmp_path / "scores"
    with pytest.raises(BackendError, match=r"3 of 5 trials in .*trials cannot be scored: 2 name an enrolment key "
                                           r"with no vector \(e.g. ghost\); 2 name a test key with no vector "
                                           r"\(e.g. nope\) \(use --skip-missing"):
        score_trials_file(scorer, str(trials), str(out))
    assert not out.exists()  # nothing half-written
    summary = score_trials_file(scorer, str(trials), str(out), skip_missing=True)
    assert summary.num_missing == 3 and summary.num_scored == 2
    assert [l.split()[:2] for l in out.read_text().splitlines()] == [["m0", "t0"], ["m1", "t1"]]
    # nothing to score: an error, and no empty scores file
    (tmp_path / "ghosts").write_text("ghost t1\nm0 nope\n")
    for name, why in (("ghosts", "2 of 2 trials in .*ghosts cannot be scored.*none could be scored"),
                      ("empty", "empty: no trials")):
        (tmp_path / name).touch()
        with pytest.raises(BackendError, match=why):
            score_trials_file(scorer, str(tmp_path / name), str(tmp_path / "none"), skip_missing=True)
        assert not (tmp_path / "none").exists()


def test_trials_through_a_pipe(rng, tmp_path):
    _, scorer, _ = _setup(rng)
    trials = tmp_path / "trials"
    trials.write_text("m0 t0 target\nm2 t5 nontarget\n")
    summary = score_trials_file(scorer, f"cat {trials} | cut -d' ' -f1,2 |", str(tmp_path / "s"))
    assert summary.num_scored == 2
    with pytest.raises(BackendError, match="bad trials line"):
        score_trials_file(scorer, str(trials), str(tmp_path / "s2"))


@pytest.mark.parametrize("parallel", [False, True])
def test_blocks_and_helper_writer_process(rng, tmp_path, parallel):
    """Many small blocks, formatted in this process or in the forked writer: the same bytes either way."""
    plda, scorer, n = _setup(rng)
    pairs = [(int(i), int(j)) for i, j in zip(rng.integers(0, 13, 3000), rng.integers(0, 40, 3000))]
    pairs.sort()  # grouped by model, as trial lists usually are
    lines = [f"m{i} t{j}" if k % 7 else f"m{i}\tt{j}" for k, (i, j) in enumerate(pairs)]
    trials = tmp_path / "trials"
    trials.write_text("\n".join(lines) + "\n")
    out = tmp_path / "scores"
    summary = score_trials_file(scorer, str(trials), str(out), parallel_write=parallel, block_bytes=2000)
    assert summary.num_scored == 3000
    ref = _reference(plda, scorer, n, [p[0] for p in pairs], [p[1] for p in pairs])
    assert out.read_text() == "".join(f"m{i} t{j} {np.float32(r):.7g}\n" for (i, j), r in zip(pairs, ref))
    # a missing key in a late block: error, nothing left behind, the helper stopped
    trials.write_text("\n".join(lines) + "\nm1 ghost\n")
    out.unlink()
    with pytest.raises(BackendError, match="1 of 3001 trials"):
        score_trials_file(scorer, str(trials), str(out), parallel_write=parallel, block_bytes=2000)
    assert not out.exists() and not list(tmp_path.glob("scores*"))
    summary = score_trials_file(scorer, str(trials), str(out), skip_missing=True, parallel_write=parallel,
                                block_bytes=2000)
    assert summary.num_scored == 3000 and len(out.read_text().splitlines()) == 3000
