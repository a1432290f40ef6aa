"""Sparse posteriors: Kaldi list form, min-post pruning (gselect posteriors and logprob-to-post), and the
supervised UBM of the DNN/i-vector system from synthetic "DNN" posteriors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from phonsid.gmm.full_gmm import FullGmm
from phonsid.gmm.gselect import gselect_posteriors
from phonsid.gmm.init import init_full_gmm_from_accs
from phonsid.gmm.mle import FullGmmAccs, accumulate_full_from_posteriors
from phonsid.gmm.posterior import Posterior, logprob_to_post


def test_lists_round_trip_and_frame_selection():
    lists = [[(3, 0.5), (1, 0.5)], [], [(0, 1.0)], [(2, 0.25), (4, 0.75)]]
    p = Posterior.from_lists(lists)
    assert p.num_frames == 4 and p.to_lists() == lists
    assert p.total() == pytest.approx(3.0)
    sel = p.select_frames(np.array([True, False, False, True]))
    assert sel.to_lists() == [[(3, 0.5), (1, 0.5)], [(2, 0.25), (4, 0.75)]]
    dense = Posterior.from_dense(np.array([[5, 6], [7, -1]]), np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert dense.to_lists() == [[(6, 1.0)], [(7, 1.0)]]
    assert p.scaled(0.5).total() == pytest.approx(1.5)


def test_gselect_posteriors_prune_and_renormalise():
    gmm = FullGmm.from_normal(np.full(3, 1 / 3), np.array([[0.0], [1.0], [8.0]]), np.ones((3, 1, 1)))
    x = torch.tensor([[0.5], [4.5]])
    gsel = torch.tensor([[0, 1, 2], [2, 1, 0]])
    post, _ = gselect_posteriors(gmm, x, gsel, min_post=0.025)
    np.testing.assert_allclose(post.sum(1).numpy(), 1.0, rtol=1e-6)
    assert post[0, 2] == 0.0 and post[0, 0] == pytest.approx(0.5, abs=1e-6)
    # all below threshold: the best one gets everything
    post, _ = gselect_posteriors(gmm, x[:1], gsel[:1], min_post=0.9)
    assert post[0].tolist() == [1.0, 0.0, 0.0]


def test_logprob_to_post_threshold_and_random_pruning():
    probs = np.array([[0.7, 0.25, 0.05], [0.995, 0.004, 0.001]])
    det = logprob_to_post(np.log(probs), min_post=0.01, random_prune=False)
    assert [[i for i, _ in f] for f in det.to_lists()] == [[0, 1, 2], [0]]
    np.testing.assert_allclose(det.weights, [0.7, 0.25, 0.05, 0.995], rtol=1e-6)
    # random pruning keeps p < min_post as min_post with probability p / min_post: expectations preserved
    many = np.log(np.tile([[0.998, 0.002]], (20000, 1)))
    post = logprob_to_post(many, min_post=0.01, random_prune=True, rng=np.random.default_rng(0))
    mass = post.weights[post.ids == 1].sum() / 20000
    assert mass == pytest.approx(0.002, rel=0.1)
    assert set(np.round(post.weights[post.ids == 1], 6)) == {0.01}


def test_supervised_ubm_from_synthetic_dnn_posteriors():
    # "senones" = components of a known 3-Gaussian mixture; the "DNN" gives their true log-posteriors.
    rng = np.random.default_rng(0)
    true = FullGmm.from_normal(np.array([0.5, 0.3, 0.2]), np.array([[0.0, 0.0], [4.0, 1.0], [-3.0, 5.0]]),
                               np.array([np.eye(2), [[1.0, 0.5], [0.5, 2.0]], np.eye(2) * 0.5]))
    comp = rng.choice(3, size=8000, p=true.weights)
    x = true.means()[comp] + np.einsum("nij,nj->ni", np.linalg.cholesky(true.covars())[comp],
                                       rng.standard_normal((8000, 2)))
    ll = true.log_likelihoods(torch.from_numpy(x))
    logpost = (ll - torch.logsumexp(ll, 1, keepdim=True)).numpy()
    post = logprob_to_post(logpost, min_post=0.01, rng=rng)
    acc = FullGmmAccs.zeros(3, 2)
    accumulate_full_from_posteriors(torch.from_numpy(x), torch.from_numpy(post.frames), torch.from_numpy(post.ids),
                                    torch.from_numpy(post.weights), acc)
    ubm = init_full_gmm_from_accs(acc, 3)
    np.testing.assert_allclose(ubm.weights, true.weights, atol=0.02)
    np.testing.assert_allclose(ubm.means(), true.means(), atol=0.1)
    np.testing.assert_allclose(ubm.covars(), true.covars(), atol=0.15)
