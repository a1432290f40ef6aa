"""S-norm and adaptive S-norm against a direct computation on the full score matrices."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.backend import BackendError, CosineScorer, NormalizedScorer, cohort_stats
from phonsid.backend.score_norm import CohortStats, cohort_stats_from_scores


def _scorers(rng, dim=5):
    m, t, c = (rng.standard_normal((k, dim)) for k in (4, 6, 30))
    keys = lambda p, k: [f"{p}{i}" for i in range(k)]  # noqa: E731
    return (CosineScorer(keys("m", 4), m, keys("t", 6), t), CosineScorer(keys("m", 4), m, keys("c", 30), c),
            CosineScorer(keys("c", 30), c, keys("t", 6), t))


@pytest.mark.parametrize("top_n", [None, 5, 100])
def test_snorm_matches_direct_computation(rng, top_n):
    main, enroll_cohort, cohort_test = _scorers(rng)
    e = enroll_cohort.score_all()  # (4, 30)
    c = cohort_test.score_all()  # (30, 6)
    if top_n is not None and top_n < 30:
        e_sel = -np.sort(-e, axis=1)[:, :top_n]
        c_sel = -np.sort(-c, axis=0)[:top_n, :]
    else:
        e_sel, c_sel = e, c
    raw = main.score_all()
    want = 0.5 * ((raw - e_sel.mean(1, keepdims=True)) / e_sel.std(1, keepdims=True)
                  + (raw - c_sel.mean(0, keepdims=True)) / c_sel.std(0, keepdims=True))
    es = cohort_stats(enroll_cohort, "model", top_n, max_entries=40)  # small blocks
    ts = cohort_stats(cohort_test, "test", top_n, max_entries=40)
    norm = NormalizedScorer(main, es, ts)
    np.testing.assert_allclose(norm.score_all(), want, atol=1e-12)
    mi, ti = np.array([3, 0, 2, 2]), np.array([5, 1, 0, 4])
    np.testing.assert_allclose(norm.score_pairs(mi, ti), want[mi, ti], atol=1e-12)
    norm.max_block_entries = 1  # gather-and-dot path
    np.testing.assert_allclose(norm.score_pairs(mi, ti), want[mi, ti], atol=1e-12)


def test_zero_spread_cohort_is_an_error(rng):
    main, _, _ = _scorers(rng)
    flat = CohortStats(np.zeros(4), np.array([1.0, 0.0, 1.0, 0.0]))
    ok = CohortStats(np.zeros(6), np.ones(6))
    with pytest.raises(BackendError, match=r"2 enrolment models have cohort scores with zero spread.*e.g. m1, m3"):
        NormalizedScorer(main, flat, ok)
    with pytest.raises(BackendError, match="--top-n must be positive"):
        cohort_stats_from_scores(np.ones((2, 3)), 0)
