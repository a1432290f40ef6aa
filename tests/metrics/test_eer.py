"""EER exactly as Kaldi's compute-eer: golden files, and a plain-loop statement of the definition."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.metrics import MetricsError, compute_eer
from phonsid.metrics.scorefile import label_scores, read_scores, read_trials


def _loop_eer(tgt, non):
    """The definition step by step: walk the sorted target scores upwards; at target position i the
    matching non-target position (from the top) is N - 1 - floor(N*i/T); stop where that non-target score
    is below the target score."""
    t = sorted(np.float32(tgt).tolist())
    n = sorted(np.float32(non).tolist())
    i = 0
    while i + 1 < len(t):
        j = max(len(n) - 1 - int(len(n) * i * 1.0 / len(t)), 0)
        if n[j] < t[i]:
            break
        i += 1
    return float(np.float32(i / len(t))), t[i]


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_eer_equals_the_definition(seed):
    rng = np.random.default_rng(seed)
    nt, nn = rng.integers(1, 60), rng.integers(1, 300)
    tgt = np.round(rng.normal(1.0, 1.0, nt), 1)  # rounding makes ties
    non = np.round(rng.normal(-1.0, 1.0, nn), 1)
    res = compute_eer(tgt, non)
    assert (res.eer, res.threshold) == _loop_eer(tgt, non)


def test_eer_edge_cases():
    assert compute_eer([1.0], [0.0]).eer == 0.0
    assert compute_eer([0.0, 1.0], [2.0, 3.0]).eer == 0.5
    with pytest.raises(MetricsError, match="no target scores"):
        compute_eer([], [1.0])
    with pytest.raises(MetricsError, match="no non-target scores"):
        compute_eer([1.0], [])


def test_eer_refuses_nan_and_inf_scores():
    # a NaN target score must not count as a hit
    with pytest.raises(MetricsError, match=r"1 of 3 target scores are not finite numbers \(e.g. target scores #2 "
                                           r"is nan\)"):
        compute_eer([1.0, np.nan, 2.0], [0.0])
    with pytest.raises(MetricsError, match="non-target scores #2 is inf"):
        compute_eer([1.0], [0.0, np.inf])


@pytest.mark.parametrize("scores,trials", [("scores_plda_n3", "trials"), ("scores_plda_n3_simple", "trials"),
                                           ("scores_plda_n1", "trials_n1"), ("scores_plda_adapt", "trials")])
def test_eer_matches_kaldi(golden, scores, trials):
    sc = read_scores(str(golden / scores))
    lab = label_scores(sc, read_trials(str(golden / trials)))
    res = compute_eer(sc.scores[lab], sc.scores[~lab])
    assert res.kaldi_text() == (golden / f"eer_{scores}.txt").read_text()
    log = (golden / "log" / ("eer_n1.log" if scores.endswith("n1") else f"eer_{scores}.log")).read_text()
    assert f"at threshold {res.threshold:g}" in log
