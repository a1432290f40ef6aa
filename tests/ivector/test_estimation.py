"""i-vector estimation and training on synthetic data: batching does not change results, statistics add up,
E-M increases the auxiliary function, the i-vector-dependent weights path, the prior normalisation, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from phonsid.gmm.full_gmm import FullGmm
from phonsid.gmm.posterior import Posterior
from phonsid.ivector.estimation import (BatchStats, PosteriorMismatchError, auxf, batch_stats, extract_ivectors,
                                        ivector_distribution, max_count_scale, pooled_stats, scale_stats)
from phonsid.ivector.extractor import (IvectorExtractor, init_ivector_extractor, read_ivector_extractor,
                                       write_ivector_extractor)
from phonsid.ivector.stats import StatsAccumulator, read_ivector_stats, sum_ivector_stats, write_ivector_stats
from phonsid.ivector.update import update_extractor


def _synthetic(num_utts=40, g=4, d=3, s=2, seed=0):
    """Utterances of a 4-Gaussian UBM whose means shift with a per-speaker 2-dim factor, with exact posteriors."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 4, (g, d))
    T = rng.normal(0, 1.5, (g, d, s))
    ubm = FullGmm.from_normal(np.full(g, 1 / g), means, np.tile(np.eye(d), (g, 1, 1)))
    feats, posts = [], []
    for _ in range(num_utts):
        y = rng.standard_normal(s)
        n = int(rng.integers(80, 200))
        comp = rng.integers(0, g, n)
        x = means[comp] + (T[comp] @ y) + rng.standard_normal((n, d))
        feats.append(x.astype(np.float32))
        ll = ubm.log_likelihoods(torch.from_numpy(x))
        post = torch.softmax(ll, 1).numpy()
        ids = np.tile(np.arange(g), (n, 1))
        posts.append(Posterior.from_dense(ids, np.where(post > 0.01, post, 0)))
    return ubm, feats, posts


def _train(ext, feats, posts, iters, batch=16, update_variances=True):
    auxfs = []
    for _ in range(iters):
        acc = StatsAccumulator(ext, update_variances=update_variances)
        for a in range(0, len(feats), batch):
            acc.add(batch_stats(feats[a:a + batch], posts[a:a + batch], ext.num_gauss, second_order=update_variances))
        st = acc.finish()
        auxfs.append(st.tot_auxf / st.gamma.sum())
        ext, _ = update_extractor(ext, st, _opts())
    return ext, auxfs


def _opts():
    from phonsid.ivector.update import IvectorEstimationOptions
    return IvectorEstimationOptions(gaussian_min_count=10.0)


def test_batching_does_not_change_statistics_or_ivectors():
    ubm, feats, posts = _synthetic()
    ext = init_ivector_extractor(ubm, 3, use_weights=False)
    one = StatsAccumulator(ext)
    for f, p in zip(feats, posts):
        one.add(batch_stats([f], [p], ext.num_gauss, second_order=True))
    many = StatsAccumulator(ext)
    many.add(batch_stats(feats, posts, ext.num_gauss, second_order=True))
    a, b = one.finish(), many.finish()
    for name in ("gamma", "Y", "S", "ivector_scatter"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(a.R, b.R, rtol=1e-6)  # per-batch float32 GEMM (R is float32 on disk)
    assert a.tot_auxf == pytest.approx(b.tot_auxf, rel=1e-10)
    iv1 = torch.cat([extract_ivectors(ext, batch_stats([f], [p], 4))[0] for f, p in zip(feats, posts)])
    iv2 = extract_ivectors(ext, batch_stats(feats, posts, 4))[0]
    torch.testing.assert_close(iv1, iv2, rtol=1e-10, atol=1e-10)


def test_statistics_files_add_up(tmp_path):
    ubm, feats, posts = _synthetic()
    ext = init_ivector_extractor(ubm, 3, use_weights=False)
    parts = []
    for i, sl in enumerate((slice(0, 15), slice(15, 40))):
        acc = StatsAccumulator(ext)
        acc.add(batch_stats(feats[sl], posts[sl], 4, second_order=True))
        write_ivector_stats(str(tmp_path / f"acc.{i}"), acc.finish(), binary=i == 0)
        parts.append(str(tmp_path / f"acc.{i}"))
    total = sum_ivector_stats(parts)
    acc = StatsAccumulator(ext)
    acc.add(batch_stats(feats, posts, 4, second_order=True))
    ref = acc.finish()
    np.testing.assert_allclose(total.Y, ref.Y, rtol=1e-6)
    np.testing.assert_allclose(total.R, ref.R, rtol=1e-5)  # R is float32 on disk (Kaldi's format)
    assert total.num_ivectors == 40 and total.tot_auxf == pytest.approx(ref.tot_auxf, rel=1e-6)
    write_ivector_stats(str(tmp_path / "t.txt"), total, binary=False)
    np.testing.assert_allclose(read_ivector_stats(str(tmp_path / "t.txt")).S, total.S, rtol=1e-12)


def test_em_increases_auxf_and_normalises_the_prior():
    ubm, feats, posts = _synthetic(num_utts=60)
    ext = init_ivector_extractor(ubm, 3, use_weights=False, rng=np.random.default_rng(1))
    ext, auxfs = _train(ext, feats, posts, 5)
    assert all(b > a - 1e-9 for a, b in zip(auxfs, auxfs[1:])), auxfs
    # after the prior update the training i-vectors have (about) unit covariance and mean p·e0
    mean, _ = ivector_distribution(ext, batch_stats(feats, posts, 4))
    m = mean.numpy()
    assert m[:, 0].mean() == pytest.approx(ext.prior_offset, rel=0.05)
    assert np.abs(m[:, 1:].mean(0)).max() < 0.25
    # the i-vectors capture the speaker factor: a 2-dim truth needs ~2 significant dimensions
    centred = m - m.mean(0)
    eig = np.linalg.eigvalsh(centred.T @ centred / len(m))
    assert eig[-2] > 0.3


def test_ivector_dependent_weights_path(tmp_path):
    ubm, feats, posts = _synthetic(num_utts=50, seed=3)
    ext = init_ivector_extractor(ubm, 2, use_weights=True, rng=np.random.default_rng(2))
    assert ext.ivector_dependent_weights and ext.w.shape == (4, 2)
    acc = StatsAccumulator(ext, num_samples_for_weights=3, rng=np.random.default_rng(0))
    acc.add(batch_stats(feats, posts, 4, second_order=True))
    st = acc.finish()
    assert st.Q.shape == (4, 2, 2) and st.G.shape == (4, 2) and np.abs(st.G).sum() > 0
    new, rep = update_extractor(ext, st, _opts())
    assert rep.impr_weights >= 0.0 and np.abs(new.w).sum() > 0
    write_ivector_extractor(str(tmp_path / "w.ie"), new)
    back = read_ivector_extractor(str(tmp_path / "w.ie"))
    np.testing.assert_array_equal(back.w, new.w)
    mean, var = ivector_distribution(back, batch_stats(feats[:5], posts[:5], 4))
    assert torch.isfinite(mean).all() and torch.linalg.eigvalsh(var).min() > 0


def test_auxf_change_of_extraction_is_positive_and_prior_dominates_without_data():
    ubm, feats, posts = _synthetic()
    ext = init_ivector_extractor(ubm, 3, use_weights=False)
    _, change = extract_ivectors(ext, batch_stats(feats, posts, 4))
    assert (change > 0).all()
    empty = BatchStats(torch.zeros(1, 4, dtype=torch.float64), torch.zeros(1, 4, 3, dtype=torch.float64))
    iv, change = extract_ivectors(ext, empty)
    assert float(iv.abs().max()) < 1e-12 and abs(float(change[0])) < 1e-9


def test_posteriors_must_fit_features_and_model():
    ubm, feats, posts = _synthetic(num_utts=2)
    with pytest.raises(PosteriorMismatchError, match="utterance a"):
        batch_stats([feats[0][:-1]], [posts[0]], 4, keys=["a"])
    bad = Posterior(posts[1].num_frames, posts[1].frames, posts[1].ids + 10, posts[1].weights)
    with pytest.raises(PosteriorMismatchError, match="utterance b: posterior index"):
        batch_stats([feats[1]], [bad], 4, keys=["b"])
    with pytest.raises(ValueError, match="do not match the extractor"):
        other = init_ivector_extractor(ubm, 5, use_weights=False)
        acc = StatsAccumulator(init_ivector_extractor(ubm, 3, use_weights=False))
        acc.add(batch_stats(feats, posts, 4, second_order=True))
        update_extractor(other, acc.finish())
    with pytest.raises(ValueError, match="inverse variances"):
        IvectorExtractor(np.zeros((0, 0)), np.ones(2), np.zeros((2, 3, 2)), np.zeros((3, 3, 3)), 1.0)


def test_auxf_matches_direct_evaluation():
    # acoustic part for a point i-vector = Σ_t Σ_i γ_ti log N(x_t; M_i x, Σ_i) + Σ γ log w, prior N(p e0, I)
    ubm, feats, posts = _synthetic(num_utts=1)
    ext = init_ivector_extractor(ubm, 3, use_weights=False)
    st = batch_stats(feats, posts, 4, second_order=True)
    x = np.array([ext.prior_offset + 0.5, -0.3, 0.2])
    f, p = feats[0].astype(np.float64), posts[0]
    direct = 0.0
    for t, i, w in zip(p.frames, p.ids, p.weights):
        mu = ext.M[i] @ x
        cov = np.linalg.inv(ext.sigma_inv[i])
        diff = f[t] - mu
        direct += w * (np.log(ext.w_vec[i]) - 0.5 * (3 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1]
                                                       + diff @ ext.sigma_inv[i] @ diff))
    off = x.copy()
    off[0] -= ext.prior_offset
    direct += -0.5 * (off @ off + 3 * np.log(2 * np.pi))
    from phonsid.ivector.estimation import second_order_auxf
    ours = float(auxf(ext, st, torch.tensor(x)[None], None, second_order_in_total=True)[0]) + second_order_auxf(ext, st.S)
    assert ours == pytest.approx(direct, rel=1e-9)


def test_extractor_and_stats_with_non_finite_values_are_refused(tmp_path):
    from phonsid.io import NonFiniteError

    ubm, feats, posts = _synthetic(num_utts=6, seed=4)
    ext = init_ivector_extractor(ubm, 2, use_weights=False, rng=np.random.default_rng(0))
    ext.M[2, 1, 0] = np.inf  # the third Gaussian's projection
    with pytest.raises(NonFiniteError, match=r"final\.ie: refusing to write non-finite values: <M>\[2\]: inf at "
                                             r"row 1, column 0"):
        write_ivector_extractor(str(tmp_path / "final.ie"), ext)
    acc = StatsAccumulator(init_ivector_extractor(ubm, 2, use_weights=False, rng=np.random.default_rng(0)))
    acc.add(batch_stats(feats, posts, 4, second_order=True))
    st = acc.finish()
    st.gamma[1] = np.nan
    with pytest.raises(NonFiniteError, match=r"1\.acc: .*<gamma>: NaN at element 1"):
        write_ivector_stats(str(tmp_path / "1.acc"), st)
    assert not list(tmp_path.iterdir())


def test_speaker_pooling_and_max_count_scaling():
    _, feats, posts = _synthetic(num_utts=3)
    st = batch_stats(feats, posts, 4)
    one = pooled_stats(st)
    assert one.gamma.shape == (1, 4) and one.X.shape == (1, 4, 3)
    torch.testing.assert_close(one.gamma[0], st.gamma.sum(0))
    torch.testing.assert_close(one.X[0], st.X.sum(0))
    n = float(one.gamma.sum())
    assert max_count_scale(n, 0.0) == 1.0 and max_count_scale(n, 2 * n) == 1.0
    scale = max_count_scale(n, 100.0)
    assert scale == pytest.approx(100.0 / n)
    scaled = scale_stats(one, torch.full((1,), scale, dtype=one.gamma.dtype))
    assert float(scaled.gamma.sum()) == pytest.approx(100.0)
    torch.testing.assert_close(scaled.X, one.X * scale)
    with pytest.raises(ValueError, match="second-order"):
        scale_stats(batch_stats(feats, posts, 4, second_order=True), torch.ones(3, dtype=st.gamma.dtype))
