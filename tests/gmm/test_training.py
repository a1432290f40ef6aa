"""GMM training behaviour on synthetic data: E-M recovers known mixtures, Kaldi's update rules (removal of
low-count Gaussians, variance floors, update flags), splitting, the frame reservoir."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from phonsid.gmm.diag_gmm import DiagGmm
from phonsid.gmm.full_gmm import FullGmm
from phonsid.gmm.gselect import gaussian_selection
from phonsid.gmm.init import FrameReservoir, init_full_gmm_from_accs, train_diag_gmm_in_memory
from phonsid.gmm.mle import (DiagGmmAccs, FullGmmAccs, MleDiagGmmOptions, MleFullGmmOptions, accumulate_diag,
                             accumulate_full, mle_diag_update, mle_full_update, scatter_second_order,
                             sorted_index_groups)


def _mixture(rng, n=6000):
    means = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, -3.0], [0.0, 7.0, 3.0]])
    chol = np.array([np.diag([1.0, 0.5, 2.0]), [[1, 0, 0], [0.8, 0.6, 0], [0.2, 0.3, 1.1]], np.eye(3) * 0.7])
    weights = np.array([0.5, 0.3, 0.2])
    comp = rng.choice(3, size=n, p=weights)
    x = means[comp] + np.einsum("nij,nj->ni", chol[comp], rng.standard_normal((n, 3)))
    return x.astype(np.float32), weights, means, np.einsum("gij,gkj->gik", chol, chol)


def test_full_em_recovers_a_known_mixture():
    rng = np.random.default_rng(0)
    x, weights, means, covars = _mixture(rng)
    gmm = FullGmm.from_normal(np.full(3, 1 / 3), means + rng.normal(0, 0.5, means.shape), np.tile(np.eye(3) * 3, (3, 1, 1)))
    xt = torch.from_numpy(x)
    prev = -np.inf
    for _ in range(15):
        acc = FullGmmAccs.zeros(3, 3)
        like, n = accumulate_full(gmm, xt, acc)
        assert like / n >= prev - 1e-5  # E-M never decreases it (up to the float32 rounding of the model)
        prev = like / n
        gmm = mle_full_update(gmm, acc).gmm
    np.testing.assert_allclose(gmm.weights, weights, atol=0.02)
    np.testing.assert_allclose(gmm.means(), means, atol=0.1)
    np.testing.assert_allclose(gmm.covars(), covars, atol=0.15)


def test_diag_in_memory_training_splits_up_and_fits():
    rng = np.random.default_rng(1)
    x, weights, means, _ = _mixture(rng)
    gmm = train_diag_gmm_in_memory(x, 3, 1, 12, MleDiagGmmOptions(), np.random.default_rng(0))
    assert gmm.num_gauss == 3
    order = np.argsort(-gmm.weights)
    np.testing.assert_allclose(gmm.weights[order], weights, atol=0.03)
    np.testing.assert_allclose(gmm.means()[order], means, atol=0.3)


def test_low_count_gaussians_are_removed_or_kept_at_min_weight(caplog):
    gmm = DiagGmm.from_normal(np.array([0.5, 0.49, 0.01]), np.zeros((3, 2)), np.ones((3, 2)))
    acc = DiagGmmAccs(np.array([500.0, 495.0, 5.0]), np.ones((3, 2)), np.full((3, 2), 600.0))
    with caplog.at_level(logging.WARNING):
        res = mle_diag_update(gmm, acc, MleDiagGmmOptions(), logger=logging.getLogger("t"))
    assert res.removed == [2] and res.gmm.num_gauss == 2
    assert res.gmm.weights.sum() == pytest.approx(1.0)
    assert "removing Gaussian" in caplog.text
    kept = mle_diag_update(gmm, acc, MleDiagGmmOptions(remove_low_count_gaussians=False, min_gaussian_weight=0.05)).gmm
    assert kept.num_gauss == 3 and kept.weights[2] == pytest.approx(0.05, rel=1e-6)
    # the not-updated Gaussian keeps its mean and variance
    np.testing.assert_allclose(kept.variances()[2], 1.0, rtol=1e-6)


def test_variance_floors():
    gmm = DiagGmm.from_normal(np.array([1.0]), np.zeros((1, 2)), np.ones((1, 2)))
    acc = DiagGmmAccs(np.array([100.0]), np.array([[100.0, 0.0]]), np.array([[100.0 + 1e-6, 100.0]]))
    res = mle_diag_update(gmm, acc, MleDiagGmmOptions(min_variance=0.01))
    assert res.num_floored == 1
    np.testing.assert_allclose(res.gmm.variances()[0], [0.01, 1.0], rtol=1e-6)
    # full: a nearly singular covariance gets its small eigenvalue raised to max|eig| / max_condition
    x = np.random.default_rng(2).standard_normal((1000, 2)) @ np.array([[1.0, 1.0], [0.0, 1e-4]])
    fg = FullGmm.from_normal(np.array([1.0]), np.zeros((1, 2)), np.eye(2)[None])
    facc = FullGmmAccs(np.array([1000.0]), x.sum(0)[None], (x.T @ x)[None])
    fres = mle_full_update(fg, facc, MleFullGmmOptions(max_condition=100.0))
    assert fres.num_floored == 1 and fres.gauss_floored == 1
    eig = np.linalg.eigvalsh(fres.gmm.covars()[0])
    assert eig.min() == pytest.approx(eig.max() / 100.0, rel=1e-3)


def test_update_flags_restrict_what_changes():
    rng = np.random.default_rng(3)
    x, *_ = _mixture(rng, 3000)
    gmm = DiagGmm.from_normal(np.array([0.6, 0.4]), np.array([[0, 0, 0], [5, 5, 0]]), np.ones((2, 3)))
    acc = DiagGmmAccs.zeros(2, 3)
    accumulate_diag(gmm, torch.from_numpy(x), acc)
    only_means = mle_diag_update(gmm, acc, flags=1).gmm
    assert np.array_equal(only_means.weights, gmm.weights)
    np.testing.assert_allclose(only_means.variances(), gmm.variances(), rtol=1e-6)
    assert not np.allclose(only_means.means(), gmm.means())


def test_split_halves_the_heaviest_gaussian():
    gmm = DiagGmm.from_normal(np.array([0.7, 0.3]), np.array([[0.0], [5.0]]), np.array([[4.0], [1.0]]))
    out = gmm.split(4, 0.1, np.random.default_rng(0))
    # 0.7 -> 0.35 + 0.35 (new index 2), then the first 0.35 -> 0.175 + 0.175 (new index 3)
    np.testing.assert_allclose(out.weights, [0.175, 0.3, 0.35, 0.175], rtol=1e-6)
    np.testing.assert_allclose(out.variances()[[0, 2, 3], 0], 4.0, rtol=1e-6)
    # perturbations are symmetric: the weighted mean of the split parts stays at the original mean
    w, m = out.weights[[0, 2, 3]], out.means()[[0, 2, 3], 0]
    assert (w * m).sum() / w.sum() == pytest.approx(0.0, abs=1e-6)
    assert np.abs(m).max() > 0.0


def test_frame_reservoir_keeps_a_uniform_subset():
    rng = np.random.default_rng(4)
    res = FrameReservoir(1000, rng)
    start = 0
    while start < 20000:
        n = int(rng.integers(1, 700))
        res.add(np.arange(start, start + n, dtype=np.float32)[:, None], "u")
        start += n
    kept = res.frames()[:, 0]
    assert kept.shape == (1000,) and np.unique(kept).size == 1000 and res.num_read == start
    assert abs(kept.mean() - start / 2) < 4 * (start / np.sqrt(12)) / np.sqrt(1000)
    small = FrameReservoir(50, rng)
    small.add(np.ones((20, 3)), "a")
    assert small.frames().shape == (20, 3)
    with pytest.raises(ValueError, match="inconsistent dims"):
        small.add(np.ones((2, 4)), "b")


def test_gselect_returns_best_first():
    gmm = DiagGmm.from_normal(np.full(4, 0.25), np.array([[0.0], [1.0], [2.0], [3.0]]), np.ones((4, 1)))
    gsel, ll = gaussian_selection(gmm, torch.tensor([[2.2], [-1.0]]), 3)
    assert gsel.tolist() == [[2, 3, 1], [0, 1, 2]]
    full = torch.logsumexp(gmm.log_likelihoods(torch.tensor([[2.2]])), 1)
    assert float(ll[0]) < float(full[0])


def test_init_from_accs_refuses_components_without_data():
    acc = FullGmmAccs.zeros(3, 2)
    acc.occupancy[:] = [10.0, 0.0, 5.0]
    with pytest.raises(ValueError, match="indices 1"):
        init_full_gmm_from_accs(acc)


@pytest.mark.parametrize("chunk", [1, 7, 1 << 16])
def test_second_order_scatter_matches_the_definition(chunk):
    """Σ_t w x_t x_tᵀ per Gaussian, whatever the grouping (runs longer than a group, single-entry groups)."""
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.standard_normal((50, 3)).astype(np.float32))
    frames = torch.as_tensor(rng.integers(0, 50, 200))
    gauss = torch.as_tensor(rng.choice([0, 2, 5], 200, p=[0.7, 0.2, 0.1]))  # Gaussians 1, 3, 4 have none
    w = torch.as_tensor(rng.random(200))
    ref = torch.zeros(6, 3, 3, dtype=torch.float64)
    for t, g, v in zip(frames.tolist(), gauss.tolist(), w.tolist()):
        xt = x[t].to(torch.float64)
        ref[g] += v * torch.outer(xt, xt)
    torch.testing.assert_close(scatter_second_order(6, x, frames, gauss, w, chunk), ref, rtol=1e-12, atol=1e-12)
    groups = sorted_index_groups(gauss, 6, chunk)
    order = torch.cat([pos for pos, _ in groups])
    assert torch.equal(order, torch.argsort(gauss, stable=True))  # sorted by Gaussian, frame order kept
    assert all(torch.all(gauss[pos[a:b]] == g) for pos, runs in groups for g, a, b in runs)
    # the comparison sort (GPU, or more than 2^16 values) groups the same way as the radix sort
    other = sorted_index_groups(gauss, 1 << 17, chunk)
    assert [(p.tolist(), r) for p, r in other] == [(p.tolist(), r) for p, r in groups]
