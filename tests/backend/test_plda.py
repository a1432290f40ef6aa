"""PLDA: EM on data from a known model (diagonalisation properties), scoring algebra, smoothing, transforms,
adaptation, Kaldi file round trips, and degenerate training data."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.backend import (
    BackendError,
    Plda,
    PldaAdaptationConfig,
    PldaError,
    accumulate_plda_stats,
    adapt_plda,
    apply_transform_to_plda,
    check_plda_training_data,
    estimate_plda,
    log_likelihood_ratio,
    read_plda,
    smooth_within_class_covariance,
    transform_ivectors,
    write_plda,
)
from phonsid.backend.plda import plda_objective, score_coefficients


def _groups(keys, x, spk2utt):
    index = {k: i for i, k in enumerate(keys)}
    return [x[[index[u] for u in utts]] for utts in spk2utt.values()]


def test_em_recovers_and_diagonalises_a_known_model(synth, rng):
    dim = 6
    model = synth.make_model(rng, dim, between_scale=3.0)
    keys, x, s2u = synth.sample(rng, model, 3000, [2, 3, 4, 5, 6] * 600)
    captured = {}

    def on_iter(i, within, between):
        captured["w"], captured["b"] = within, between

    plda, info = estimate_plda(accumulate_plda_stats(_groups(keys, x, s2u)), 10, on_iter=on_iter)
    a = plda.transform
    # exact for the estimated covariances: A W Aᵀ = I, A B Aᵀ = diag(ψ), ψ decreasing and non-negative
    np.testing.assert_allclose(a @ captured["w"] @ a.T, np.eye(dim), atol=1e-10)
    np.testing.assert_allclose(a @ captured["b"] @ a.T, np.diag(plda.psi), atol=1e-10)
    assert (np.diff(plda.psi) <= 0).all() and (plda.psi >= 0).all()
    # and approximately for the true ones (sampling error of 3000 speakers)
    np.testing.assert_allclose(a @ model.within @ a.T, np.eye(dim), atol=0.08)
    np.testing.assert_allclose(a @ model.between @ a.T, np.diag(plda.psi), atol=0.25, rtol=0.1)
    np.testing.assert_allclose(plda.mean, model.mean, atol=0.1)
    # the model's own covariances, read back from (A, ψ)
    np.testing.assert_allclose(plda.within_covariance(), captured["w"], atol=1e-10)
    np.testing.assert_allclose(plda.between_covariance(), captured["b"], atol=1e-9)
    assert len(info.within_traces) == 10


def test_em_objective_never_decreases(synth, rng):
    model = synth.make_model(rng, 5)
    keys, x, s2u = synth.sample(rng, model, 80, [2, 3, 7, 1] * 20)
    stats = accumulate_plda_stats(_groups(keys, x, s2u))
    _, info = estimate_plda(stats, 8, compute_objf=True)
    assert len(info.objf) == 8
    assert all(b >= a - 1e-9 for a, b in zip(info.objf, info.objf[1:]))
    # the objective at the identity initialisation is lower than after EM
    assert plda_objective(stats, np.eye(5), np.eye(5)) < info.objf[-1]


def test_stats_are_sorted_by_class_size_and_weighted(rng):
    groups = [rng.standard_normal((n, 3)) for n in (4, 2, 3, 2)]
    stats = accumulate_plda_stats(groups, names=["a", "b", "c", "d"])
    assert stats.class_sizes.tolist() == [2, 2, 3, 4]
    assert stats.class_names == ["b", "d", "c", "a"]
    scatter = sum((g - g.mean(0)).T @ (g - g.mean(0)) for g in groups)
    np.testing.assert_allclose(stats.offset_scatter, scatter, atol=1e-12)
    w = accumulate_plda_stats(groups, weights=[2.0, 1.0, 1.0, 1.0])
    assert w.class_weight == 5.0 and w.example_weight == 4 * 2 + 2 + 3 + 2


def _random_plda(rng, dim=5) -> Plda:
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return Plda(rng.standard_normal(dim), q * rng.uniform(0.5, 2.0, dim)[:, None],
                np.sort(rng.uniform(0.1, 5.0, dim))[::-1])


@pytest.mark.parametrize("simple", [False, True])
def test_bilinear_scoring_equals_kaldi_formula(rng, simple):
    plda = _random_plda(rng)
    train = rng.standard_normal((7, 5))
    test = rng.standard_normal((9, 5))
    n = np.array([1, 3, 3, 10, 1, 2, 5], dtype=np.float64)
    tt, _ = transform_ivectors(plda, train, n, True, simple)
    te, _ = transform_ivectors(plda, test, 1, True, simple)
    coef = score_coefficients(plda, tt, n)
    fast = coef.lin @ te.T + coef.bias[:, None] + ((te * te) @ coef.quad.T)[:, coef.n_index].T
    slow = np.array([[log_likelihood_ratio(plda, tt[i], int(n[i]), te[j]) for j in range(9)] for i in range(7)])
    np.testing.assert_allclose(fast, slow, atol=1e-10)


def test_length_normalisation_modes(rng):
    plda = _random_plda(rng)
    x = rng.standard_normal((4, 5)) * 3
    t_simple, f_simple = transform_ivectors(plda, x, 1, True, True)
    np.testing.assert_allclose(np.linalg.norm(t_simple, axis=1), np.sqrt(5))
    t_def, _ = transform_ivectors(plda, x, 3, True, False)
    np.testing.assert_allclose((t_def**2 / (plda.psi + 1 / 3)).sum(axis=1), 5.0)
    t_raw, f_raw = transform_ivectors(plda, x, 3, False, False)
    np.testing.assert_allclose(t_raw * f_raw[:, None], t_def)
    np.testing.assert_allclose(t_raw, (x - plda.mean) @ plda.transform.T)


def test_smoothing_adds_between_to_within(rng):
    plda = _random_plda(rng)
    sm = smooth_within_class_covariance(plda, 0.2)
    np.testing.assert_allclose(sm.within_covariance(), plda.within_covariance() + 0.2 * plda.between_covariance(),
                               atol=1e-10)
    np.testing.assert_allclose(sm.between_covariance(), plda.between_covariance(), atol=1e-10)
    with pytest.raises(BackendError):
        smooth_within_class_covariance(plda, 1.5)


def test_apply_transform_keeps_the_model(rng):
    plda = _random_plda(rng)
    t = rng.standard_normal((5, 5))
    out = apply_transform_to_plda(plda, t)
    np.testing.assert_allclose(out.within_covariance(), t @ plda.within_covariance() @ t.T, atol=1e-9)
    np.testing.assert_allclose(out.between_covariance(), t @ plda.between_covariance() @ t.T, atol=1e-9)
    np.testing.assert_allclose(out.mean, t @ plda.mean)


def test_adaptation_to_own_distribution_changes_little_and_to_wider_data_grows(synth, rng):
    dim = 4
    model = synth.make_model(rng, dim)
    keys, x, s2u = synth.sample(rng, model, 2000, 4)
    plda, _ = estimate_plda(accumulate_plda_stats(_groups(keys, x, s2u)))
    _, same, _ = synth.sample(rng, model, 3000, 1)
    adapted, info = adapt_plda(plda, same)
    np.testing.assert_allclose(info.eigenvalues, 1.0, atol=0.15)
    np.testing.assert_allclose(adapted.mean, same.astype(np.float64).mean(axis=0))
    total = plda.within_covariance() + plda.between_covariance()
    total_ad = adapted.within_covariance() + adapted.between_covariance()
    assert abs(np.trace(total_ad) / np.trace(total) - 1) < 0.2
    # data with twice the spread: the excess goes 0.3 / 0.7 to within / between by default
    wide = plda.mean + 2.0 * (same - plda.mean)
    cfg = PldaAdaptationConfig(mean_diff_scale=1.0, within_covar_scale=0.3, between_covar_scale=0.7)
    ad2, info2 = adapt_plda(plda, wide, cfg)
    assert (info2.eigenvalues > 2.5).all()
    gain_w = np.trace(ad2.within_covariance()) - np.trace(plda.within_covariance())
    gain_b = np.trace(ad2.between_covariance()) - np.trace(plda.between_covariance())
    assert gain_w > 0 and gain_b > 0
    np.testing.assert_allclose(gain_w / (gain_w + gain_b), 0.3, atol=0.05)


@pytest.mark.parametrize("binary", [True, False])
def test_plda_file_round_trip(tmp_path, rng, binary):
    plda = _random_plda(rng, 7)
    path = str(tmp_path / "plda")
    write_plda(path, plda, binary=binary)
    back = read_plda(path)
    np.testing.assert_array_equal(back.mean, plda.mean)
    np.testing.assert_array_equal(back.transform, plda.transform)
    np.testing.assert_array_equal(back.psi, plda.psi)
    data = open(path, "rb").read()
    assert data.startswith(b"\0B<Plda> DV ") if binary else data.startswith(b"<Plda>  [ ")


@pytest.mark.parametrize("binary", [True, False])
def test_plda_with_non_finite_parameters_is_refused(tmp_path, rng, binary):
    from phonsid.io import NonFiniteError

    plda = _random_plda(rng, 5)
    plda.psi[3] = np.nan
    path = tmp_path / "plda"
    with pytest.raises(NonFiniteError, match=rf"{path}: refusing to write non-finite values: psi: NaN at element 3"):
        write_plda(str(path), plda, binary=binary)
    assert not list(tmp_path.iterdir())


def test_reads_and_writes_golden_kaldi_plda(golden, tmp_path):
    binary = read_plda(str(golden / "plda"))
    text = read_plda(str(golden / "plda.txt"))
    assert binary.dim == 20
    np.testing.assert_allclose(binary.transform, text.transform, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(binary.psi, text.psi, rtol=1e-6)
    write_plda(str(tmp_path / "plda"), binary)
    assert (tmp_path / "plda").read_bytes() == (golden / "plda").read_bytes()  # byte-identical to Kaldi's
    # through a pipe too
    np.testing.assert_array_equal(read_plda(f"cat {golden / 'plda'} |").psi, binary.psi)


def test_read_plda_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\0B<Lda> ")
    with pytest.raises(PldaError, match=f"cannot read a PLDA model from {bad}"):
        read_plda(str(bad))
    with pytest.raises(PldaError, match="missing.*No such file"):
        read_plda(str(tmp_path / "missing"))


# --- degenerate training data -------------------------------------------------------------------------------

def test_all_single_utterance_speakers_is_an_error(rng):
    stats = accumulate_plda_stats([rng.standard_normal((1, 3)) for _ in range(5)], names=list("abcde"))
    with pytest.raises(PldaError, match=r"no speakers with multiple utterances \(5 speakers.*e\.g\. a, b, c"):
        check_plda_training_data(stats)


def test_some_single_utterance_speakers_give_a_warning(synth, rng):
    model = synth.make_model(rng, 3)
    keys, x, s2u = synth.sample(rng, model, 30, [1, 1, 4] * 10)
    stats = accumulate_plda_stats(_groups(keys, x, s2u), names=list(s2u))
    warnings = check_plda_training_data(stats)
    assert any("20 of 30 speakers have a single utterance" in w and "spk0000" in w for w in warnings)


def test_singular_within_class_scatter_is_an_error(synth, rng):
    model = synth.make_model(rng, 4)
    keys, x, s2u = synth.sample(rng, model, 20, 4)
    # every speaker's utterances differ only within a 3-dim subspace: one direction never varies
    groups = _groups(keys, x, s2u)
    flat = [np.column_stack([g[:, :3], np.full(len(g), g[0, 3])]) for g in groups]
    stats = accumulate_plda_stats(flat, names=list(s2u))
    with pytest.raises(PldaError, match=r"within-class scatter is singular: rank 3 of 4 from 80 utterances of 20"):
        check_plda_training_data(stats)


def test_constant_dimension_is_an_error(synth, rng):
    model = synth.make_model(rng, 4)
    keys, x, s2u = synth.sample(rng, model, 10, 3)
    x[:, 2] = 1.5
    stats = accumulate_plda_stats(_groups(keys, x, s2u))
    with pytest.raises(PldaError, match=r"span only 3 of 4 dimensions \(e\.g\. constant dimension 2\)"):
        check_plda_training_data(stats)


def test_few_within_speaker_degrees_of_freedom_warn(synth, rng):
    model = synth.make_model(rng, 6)
    keys, x, s2u = synth.sample(rng, model, 12, [2, 1, 1] * 4)  # 4 within-speaker degrees of freedom < 6
    stats = accumulate_plda_stats(_groups(keys, x, s2u), names=list(s2u))
    warnings = check_plda_training_data(stats)
    assert any("rank 4 of 6" in w and "4 within-speaker degrees of freedom" in w for w in warnings)
    plda, _ = estimate_plda(stats)  # still trainable, as in Kaldi
    assert np.isfinite(plda.transform).all()


def test_dimension_mismatch_in_training_groups(rng):
    with pytest.raises(BackendError, match="dimension mismatch"):
        accumulate_plda_stats([rng.standard_normal((2, 3)), rng.standard_normal((2, 4))])


def test_transform_rejects_wrong_dimension(rng):
    with pytest.raises(BackendError, match="dimension mismatch: vectors have dimension 4, the PLDA model 5"):
        transform_ivectors(_random_plda(rng), rng.standard_normal((2, 4)))
