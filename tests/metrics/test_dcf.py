"""minDCF as Kaldi's sid/compute_min_dcf.py (golden values and the definition), actual DCF."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.metrics import MetricsError, bayes_threshold, compute_actual_dcf, compute_min_dcf
from phonsid.metrics.scorefile import label_scores, read_scores, read_trials


def _loop_min_dcf(scores, labels, p, c_miss=1.0, c_fa=1.0):
    """Each sorted score (stable order) as a threshold rejecting it and everything below."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    n_t = sum(labels)
    n_n = len(labels) - n_t
    best = float("inf")
    miss = fa_kept = 0
    for i in order:
        miss += labels[i]
        fa_kept += 1 - labels[i]
        c = c_miss * (miss / n_t) * p + c_fa * (1 - fa_kept / n_n) * (1 - p)
        best = min(best, c)
    return best / min(c_miss * p, c_fa * (1 - p))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("p", [0.5, 0.01, 0.001])
def test_min_dcf_equals_the_definition(seed, p):
    rng = np.random.default_rng(seed)
    labels = (rng.random(400) < 0.2).astype(int)
    scores = np.round(rng.normal(labels * 2.0, 1.0), 1)
    want = _loop_min_dcf(scores.tolist(), labels.tolist(), p)
    assert compute_min_dcf(scores, labels, p).min_dcf == pytest.approx(want, abs=1e-12)


def test_min_dcf_matches_kaldi(golden):
    for line in (golden / "min_dcf.txt").read_text().splitlines():
        scores, trials, p, value = line.split()
        p_target = float(p.split("=")[1])
        sc = read_scores(str(golden / scores))
        lab = label_scores(sc, read_trials(str(golden / trials)))
        res = compute_min_dcf(sc.scores, lab, p_target, 1.0, 1.0)
        assert f"{res.min_dcf:.4f}" == value.split("=")[1], line


def test_actual_dcf_and_bad_costs():
    s = np.array([3.0, 5.0, -1.0, 6.0, -7.0, 1.0])
    lab = np.array([1, 1, 1, 0, 0, 0])
    thr = bayes_threshold(0.01)
    assert thr == pytest.approx(np.log(99))
    a = compute_actual_dcf(s, lab, 0.01)
    assert (a.p_miss, a.p_fa) == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert a.dcf == pytest.approx((0.01 * 2 / 3 + 0.99 / 3) / 0.01)
    with pytest.raises(MetricsError, match="--p-target"):
        compute_min_dcf(s, lab, 1.5)
    with pytest.raises(MetricsError, match="no target trials"):
        compute_min_dcf(s, np.zeros(6))


def test_min_dcf_refuses_nan_and_inf_scores():
    lab = np.array([1, 1, 0])
    for bad in (np.nan, -np.inf):
        with pytest.raises(MetricsError, match=f"1 of 3 scores are not finite numbers .*#2 is {bad}"):
            compute_min_dcf([1.0, bad, 0.0], lab)
        with pytest.raises(MetricsError, match="not finite"):
            compute_actual_dcf([1.0, bad, 0.0], lab)
