"""Log-likelihood-ratio cost (Cllr) of LLR scores, and its minimum over monotone recalibrations (PAV).

``Cllr = 1/(2 ln 2) · [mean_tgt log(1 + e^{−s}) + mean_non log(1 + e^{s})]`` in bits; 1 is the cost of a
system that always outputs 0. ``min Cllr`` is the Cllr after the optimal monotone transformation of the
scores (pool-adjacent-violators), so ``Cllr − min Cllr`` measures the calibration loss.
"""

from __future__ import annotations

import math

import numpy as np

from phonsid.metrics.eer import MetricsError


def _split(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    lab = np.asarray(labels).reshape(-1).astype(bool)
    if s.shape != lab.shape:
        raise MetricsError(f"{s.size} scores but {lab.size} labels")
    if not lab.any() or lab.all():
        raise MetricsError("Cllr needs both target and non-target trials")
    return s[lab], s[~lab]


def cllr(scores, labels) -> float:
    """Cllr (bits) of natural-log LLR ``scores`` (``labels``: 1 target, 0 non-target)."""
    tgt, non = _split(scores, labels)
    c = np.logaddexp(0.0, -tgt).mean() + np.logaddexp(0.0, non).mean()
    return float(c / (2.0 * math.log(2.0)))


def pav(labels_sorted: np.ndarray, tie_groups: np.ndarray | None = None) -> np.ndarray:
    """Isotonic (non-decreasing) least-squares fit of 0/1 labels in score order (pool adjacent violators).

    ``tie_groups`` (non-decreasing ints, equal for tied scores) pools tied scores first.
    """
    y = np.asarray(labels_sorted, dtype=np.float64)
    if tie_groups is None:
        sums = y
        counts = np.ones_like(y)
    else:
        bounds = np.flatnonzero(np.diff(tie_groups)) + 1
        starts = np.concatenate(([0], bounds))
        sums = np.add.reduceat(y, starts)
        counts = np.diff(np.concatenate((starts, [len(y)]))).astype(np.float64)
    val: list[float] = []
    wt: list[float] = []
    size: list[int] = []
    for sm, c in zip(sums.tolist(), counts.tolist()):
        v, w, k = sm / c, c, 1
        while val and val[-1] >= v:
            pv, pw, pk = val.pop(), wt.pop(), size.pop()
            v = (pv * pw + v * w) / (pw + w)
            w += pw
            k += pk
        val.append(v)
        wt.append(w)
        size.append(k)
    fitted_groups = np.repeat(np.asarray(val), np.asarray(size))
    if tie_groups is None:
        return fitted_groups
    return np.repeat(fitted_groups, counts.astype(np.int64))


def min_cllr(scores, labels) -> float:
    """Cllr after the optimal monotone recalibration of the scores (PAV), in bits."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    lab = np.asarray(labels).reshape(-1).astype(np.int64)
    _split(s, lab)
    order = np.argsort(s, kind="stable")
    ss = s[order]
    ties = np.concatenate(([0], np.cumsum(ss[1:] != ss[:-1])))
    post = pav(lab[order], ties)
    n_tgt = lab.sum()
    n_non = lab.size - n_tgt
    with np.errstate(divide="ignore"):
        llr = np.log(post) - np.log1p(-post) - math.log(n_tgt / n_non)
    return cllr(llr, lab[order])
