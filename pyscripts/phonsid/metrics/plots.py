"""Bar chart of EERs per system (like the paper's Figure 3), several series side by side (ours, per trial list,
the paper's)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from phonsid.metrics.eer import MetricsError


def plot_eer_bars(
    systems: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    path: str,
    title: str | None = None,
    ylabel: str = "EER (%)",
    missing_text: str = "",
) -> None:
    """Writes a PNG bar chart: one group of bars per system, one bar per series (``(name, values)``, a value
    per system, None where there is none: that bar is left out, and ``missing_text`` written in its place when
    given). Bars carry their value. matplotlib, Agg backend."""
    if not systems:
        raise MetricsError(f"bar chart {path}: no systems to plot")
    for name, values in series:
        if len(values) != len(systems):
            raise MetricsError(f"bar chart {path}: series '{name}' has {len(values)} values for {len(systems)} systems")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_series = max(1, len(series))
    width = 0.8 / n_series
    x = np.arange(len(systems), dtype=np.float64)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(systems) + 2.0), 4.5), dpi=120)
    hatches = ["", "//", "..", "xx", "\\\\", "oo"]
    top = 0.0
    for i, (name, values) in enumerate(series):
        pos = [x[j] + (i - (n_series - 1) / 2) * width for j in range(len(values))]
        xs = [p for p, v in zip(pos, values) if v is not None]
        vs = [float(v) for v in values if v is not None]
        if missing_text:
            for p, v in zip(pos, values):
                if v is None:
                    ax.text(p, 0.0, missing_text, rotation=90, ha="center", va="bottom", fontsize="x-small",
                            color="dimgrey")
        if not vs:
            ax.bar([], [], width, label=name)  # keeps the legend entry
            continue
        bars = ax.bar(xs, vs, width, label=name, hatch=hatches[i % len(hatches)], edgecolor="black", linewidth=0.5)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in vs], fontsize="x-small", padding=1)
        top = max(top, max(v for v in vs if math.isfinite(v)))
    ax.set_xticks(x, list(systems), rotation=30, ha="right", fontsize="small")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0.0, top * 1.15 if top > 0 else 1.0)
    ax.grid(True, axis="y", linestyle=":", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize="small")
    fig.tight_layout()
    from phonsid.io.atomic import atomic_open

    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png")
    plt.close(fig)
