"""Detection cost: Kaldi's minimum DCF (``sid/compute_min_dcf.py``), the actual DCF at the Bayes threshold.

Kaldi's minDCF sorts the trials by score (stably) and takes every sorted score as a threshold that rejects
the scores up to and including it: ``P_miss(i)`` = targets among the first ``i + 1`` / targets,
``P_fa(i)`` = 1 − non-targets among the first ``i + 1`` / non-targets. The minimum of
``C_miss·P_miss·P_tgt + C_fa·P_fa·(1 − P_tgt)`` is divided by ``min(C_miss·P_tgt, C_fa·(1 − P_tgt))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from phonsid.metrics.eer import MetricsError, finite_scores


def _check_costs(p_target: float, c_miss: float, c_fa: float) -> None:
    if c_fa <= 0:
        raise MetricsError("--c-fa must be greater than 0")
    if c_miss <= 0:
        raise MetricsError("--c-miss must be greater than 0")
    if not 0 < p_target < 1:
        raise MetricsError("--p-target must be greater than 0 and less than 1")


def _labels_scores(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = finite_scores(scores)
    lab = np.asarray(labels).reshape(-1).astype(np.int64)
    if s.shape != lab.shape:
        raise MetricsError(f"{s.size} scores but {lab.size} labels")
    if s.size == 0:
        raise MetricsError("no scores")
    if not ((lab == 0) | (lab == 1)).all():
        raise MetricsError("labels must be 1 (target) or 0 (nontarget)")
    if lab.sum() == 0:
        raise MetricsError("no target trials")
    if lab.sum() == lab.size:
        raise MetricsError("no non-target trials")
    return s, lab


def error_rates(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaldi's ``ComputeErrorRates``: (false-negative rates, false-positive rates, thresholds)."""
    s, lab = _labels_scores(scores, labels)
    order = np.argsort(s, kind="stable")
    thresholds = s[order]
    sl = lab[order]
    fn = np.cumsum(sl)
    fp = np.cumsum(1 - sl)
    n_tgt = float(fn[-1])
    n_non = float(len(sl) - fn[-1])
    return fn / n_tgt, 1 - fp / n_non, thresholds


@dataclass
class DcfResult:
    min_dcf: float
    threshold: float
    p_target: float
    c_miss: float
    c_fa: float


def compute_min_dcf(scores, labels, p_target: float = 0.01, c_miss: float = 1.0, c_fa: float = 1.0) -> DcfResult:
    """Kaldi's normalised minimum detection cost (``labels``: 1 target, 0 non-target)."""
    _check_costs(p_target, c_miss, c_fa)
    fnrs, fprs, thresholds = error_rates(scores, labels)
    c_det = c_miss * fnrs * p_target + c_fa * fprs * (1 - p_target)
    i = int(np.argmin(c_det))  # the first minimum, as Kaldi's strict '<'
    c_def = min(c_miss * p_target, c_fa * (1 - p_target))
    return DcfResult(float(c_det[i]) / c_def, float(thresholds[i]), p_target, c_miss, c_fa)


def bayes_threshold(p_target: float, c_miss: float = 1.0, c_fa: float = 1.0) -> float:
    """The LLR threshold minimising the expected cost: ``log(C_fa (1 − P_tgt) / (C_miss P_tgt))``."""
    _check_costs(p_target, c_miss, c_fa)
    return math.log(c_fa * (1 - p_target) / (c_miss * p_target))


@dataclass
class ActualDcf:
    dcf: float  # normalised
    p_miss: float
    p_fa: float
    threshold: float


def compute_actual_dcf(
    scores, labels, p_target: float = 0.01, c_miss: float = 1.0, c_fa: float = 1.0, threshold: float | None = None
) -> ActualDcf:
    """Normalised DCF when accepting scores ``>= threshold`` (default: the Bayes threshold for LLR scores)."""
    s, lab = _labels_scores(scores, labels)
    thr = bayes_threshold(p_target, c_miss, c_fa) if threshold is None else float(threshold)
    tgt = s[lab == 1]
    non = s[lab == 0]
    p_miss = float((tgt < thr).mean())
    p_fa = float((non >= thr).mean())
    c_def = min(c_miss * p_target, c_fa * (1 - p_target))
    return ActualDcf((c_miss * p_miss * p_target + c_fa * p_fa * (1 - p_target)) / c_def, p_miss, p_fa, thr)
