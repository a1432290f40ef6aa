"""Score normalisation with a cohort: symmetric S-norm and adaptive S-norm (top-N cohort).

For a trial ``(e, t)`` with raw score ``s``::

    s' = ½ [(s − μ_e) / σ_e + (s − μ_t) / σ_t]

where ``μ_e, σ_e`` are the mean and standard deviation of the scores of enrolment ``e`` against the cohort
and ``μ_t, σ_t`` those of test ``t`` against the cohort. Adaptive S-norm (AS-norm, Matějka et al. 2017) takes
them over the ``top_n`` highest cohort scores of each side only.

The cohort statistics are computed in blocks (memory ``block × cohort size``); :class:`NormalizedScorer`
wraps any :class:`~phonsid.backend.scoring.PairScorer` so normalised scores stream through
:func:`~phonsid.backend.scoring.score_trials_file` like raw ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phonsid.backend.checks import BackendError, examples
from phonsid.backend.scoring import PairScorer


@dataclass
class CohortStats:
    mean: np.ndarray
    std: np.ndarray


def cohort_stats_from_scores(scores: np.ndarray, top_n: int | None = None, axis: int = 1) -> CohortStats:
    """Mean and standard deviation of cohort scores along ``axis``, over the ``top_n`` highest if given."""
    s = np.asarray(scores, dtype=np.float64)
    c = s.shape[axis]
    if c == 0:
        raise BackendError("empty cohort")
    if top_n is not None:
        if top_n <= 0:
            raise BackendError(f"--top-n must be positive, got {top_n}")
        if top_n < c:
            s = -np.partition(-s, top_n - 1, axis=axis)
            s = s[:, :top_n] if axis == 1 else s[:top_n, :]
    return CohortStats(s.mean(axis=axis), s.std(axis=axis))


def cohort_stats(scorer: PairScorer, side: str, top_n: int | None = None, max_entries: int = 1 << 22) -> CohortStats:
    """Cohort statistics of every model (``side="model"``; the scorer's tests are the cohort) or every test
    (``side="test"``; the scorer's models are the cohort), in blocks of at most ``max_entries`` scores."""
    if side == "model":
        n, c = scorer.num_models, scorer.num_tests
    elif side == "test":
        n, c = scorer.num_tests, scorer.num_models
    else:
        raise ValueError("side must be 'model' or 'test'")
    block = max(1, max_entries // max(c, 1))
    mean = np.empty(n)
    std = np.empty(n)
    cohort = np.arange(c)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        if side == "model":
            st = cohort_stats_from_scores(scorer.score_block(rows, cohort), top_n, axis=1)
        else:
            st = cohort_stats_from_scores(scorer.score_block(cohort, rows), top_n, axis=0)
        mean[rows] = st.mean
        std[rows] = st.std
    return CohortStats(mean, std)


def check_std(stats: CohortStats, keys: list[str], what: str) -> None:
    bad = np.flatnonzero(~(stats.std > 0.0))
    if bad.size:
        raise BackendError(
            f"{bad.size} {what}s have cohort scores with zero spread, so they cannot be normalised "
            f"(e.g. {examples(keys[i] for i in bad)}); use a larger or more varied cohort"
        )


def s_norm(scores: np.ndarray, model: CohortStats, test: CohortStats) -> np.ndarray:
    """Element-wise S-norm of ``scores`` given the statistics of their models and tests (aligned)."""
    s = np.asarray(scores, dtype=np.float64)
    return 0.5 * ((s - model.mean) / model.std + (s - test.mean) / test.std)


class NormalizedScorer(PairScorer):
    """S-norm / AS-norm of another scorer's scores (statistics precomputed per model and per test)."""

    def __init__(self, base: PairScorer, model_stats: CohortStats, test_stats: CohortStats):
        super().__init__(base.model_keys, base.test_keys, base.engine, base.device)
        self.base = base
        self.model_stats = model_stats
        self.test_stats = test_stats
        check_std(model_stats, base.model_keys, "enrolment model")
        check_std(test_stats, base.test_keys, "test vector")

    def score_block(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        s = self.base.score_block(models, tests)
        ms = CohortStats(self.model_stats.mean[models][:, None], self.model_stats.std[models][:, None])
        ts = CohortStats(self.test_stats.mean[tests][None, :], self.test_stats.std[tests][None, :])
        return s_norm(s, ms, ts)

    def score_rows(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        s = self.base.score_rows(models, tests)
        ms = CohortStats(self.model_stats.mean[models], self.model_stats.std[models])
        ts = CohortStats(self.test_stats.mean[tests], self.test_stats.std[tests])
        return s_norm(s, ms, ts)
