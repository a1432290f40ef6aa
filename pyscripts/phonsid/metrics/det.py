"""DET curves: miss and false-alarm rates over all thresholds, plotted on probit (normal deviate) axes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from phonsid.metrics.eer import MetricsError

#: tick positions (as probabilities) of the usual DET plot
DET_TICKS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99]


@dataclass
class DetCurve:
    p_miss: np.ndarray  # non-decreasing
    p_fa: np.ndarray  # non-increasing
    thresholds: np.ndarray


def det_curve(scores, labels) -> DetCurve:
    """Operating points when accepting scores strictly above each distinct score (plus accept-all)."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    lab = np.asarray(labels).reshape(-1).astype(bool)
    if not lab.any() or lab.all():
        raise MetricsError("a DET curve needs both target and non-target trials")
    order = np.argsort(s, kind="stable")
    ss = s[order]
    ls = lab[order]
    last = np.concatenate((ss[1:] != ss[:-1], [True]))  # last index of each distinct score
    tgt_below = np.cumsum(ls)[last]
    non_below = np.cumsum(~ls)[last]
    n_tgt = ls.sum()
    n_non = (~ls).sum()
    p_miss = np.concatenate(([0.0], tgt_below / n_tgt))
    p_fa = np.concatenate(([1.0], 1.0 - non_below / n_non))
    thr = np.concatenate(([-np.inf], ss[last]))
    return DetCurve(p_miss, p_fa, thr)


def probit(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Normal deviate of probabilities (clipped away from 0 and 1)."""
    from scipy.special import ndtri

    return ndtri(np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps))


def plot_det(
    curves: Sequence[tuple[str, DetCurve]],
    path: str,
    title: str | None = None,
    limits: tuple[float, float] = (0.001, 0.5),
    eer_points: Sequence[float] | None = None,
) -> None:
    """Writes a PNG DET plot of the named curves (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6), dpi=120)
    for i, (name, c) in enumerate(curves):
        (line,) = ax.plot(probit(c.p_fa), probit(c.p_miss), label=name, linewidth=1.5)
        if eer_points is not None and i < len(eer_points):
            e = probit(np.asarray([eer_points[i]]))[0]
            ax.plot([e], [e], "o", color=line.get_color(), markersize=4)
    lo, hi = limits
    ticks = [t for t in DET_TICKS if lo <= t <= hi]
    labels = [f"{100 * t:g}" for t in ticks]
    ax.set_xticks(probit(np.asarray(ticks)), labels)
    ax.set_yticks(probit(np.asarray(ticks)), labels)
    ax.set_xlim(probit(np.asarray([lo]))[0], probit(np.asarray([hi]))[0])
    ax.set_ylim(probit(np.asarray([lo]))[0], probit(np.asarray([hi]))[0])
    ax.plot(ax.get_xlim(), ax.get_ylim(), ":", color="grey", linewidth=0.8)
    ax.set_xlabel("False alarm probability (%)")
    ax.set_ylabel("Miss probability (%)")
    ax.grid(True, linestyle=":", linewidth=0.6)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    from phonsid.io.atomic import atomic_open

    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png")
    plt.close(fig)
