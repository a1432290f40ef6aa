"""Results tables: EER and minDCF per system, relative change against a baseline, as markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from phonsid.metrics.cllr import cllr
from phonsid.metrics.dcf import compute_actual_dcf, compute_min_dcf
from phonsid.metrics.det import DetCurve, det_curve
from phonsid.metrics.eer import MetricsError, compute_eer

P_TARGETS = (0.01, 0.001)


@dataclass
class SystemResult:
    name: str
    num_trials: int
    num_targets: int
    eer: float  # percent
    min_dcf: dict[float, float] = field(default_factory=dict)
    cllr: float | None = None
    act_dcf: dict[float, float] = field(default_factory=dict)
    det: DetCurve | None = None


def evaluate_system(
    name: str, scores, labels, p_targets: Sequence[float] = P_TARGETS, llr: bool = False, det: bool = True
) -> SystemResult:
    """EER (Kaldi's), minDCF at each p-target (Kaldi's); with ``llr``, Cllr and actual DCF too."""
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels).astype(bool)
    res = SystemResult(name, int(s.size), int(lab.sum()), compute_eer(s[lab], s[~lab]).percent)
    for p in p_targets:
        res.min_dcf[p] = compute_min_dcf(s, lab, p).min_dcf
        if llr:
            res.act_dcf[p] = compute_actual_dcf(s, lab, p).dcf
    if llr:
        res.cllr = cllr(s, lab)
    if det:
        res.det = det_curve(s, lab)
    return res


def _rel(value: float, base: float) -> str:
    if base == 0.0:
        return "n/a"
    return f"{100.0 * (value - base) / base:+.1f}%"


def markdown_table(results: Sequence[SystemResult], baseline: str | None = None,
                   p_targets: Sequence[float] = P_TARGETS) -> str:
    """A markdown table: system, EER, minDCF per p-target (and Cllr / actual DCF when computed), and the
    relative change of EER and each minDCF against the ``baseline`` system."""
    base = None
    if baseline is not None:
        found = [r for r in results if r.name == baseline]
        if not found:
            names = ", ".join(r.name for r in results)
            raise MetricsError(f"baseline '{baseline}' is not one of the systems ({names})")
        base = found[0]
    with_llr = any(r.cllr is not None for r in results)
    head = ["System", "Trials", "EER (%)"] + [f"minDCF ({p:g})" for p in p_targets]
    if with_llr:
        head += ["Cllr"] + [f"actDCF ({p:g})" for p in p_targets]
    if base is not None:
        head += ["Rel. EER"] + [f"Rel. minDCF ({p:g})" for p in p_targets]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in results:
        row = [r.name, str(r.num_trials), f"{r.eer:.2f}"] + [f"{r.min_dcf[p]:.4f}" for p in p_targets]
        if with_llr:
            row += [f"{r.cllr:.4f}" if r.cllr is not None else "—"]
            row += [f"{r.act_dcf[p]:.4f}" if p in r.act_dcf else "—" for p in p_targets]
        if base is not None:
            if r is base:
                row += ["baseline"] + ["—"] * len(p_targets)
            else:
                row += [_rel(r.eer, base.eer)] + [_rel(r.min_dcf[p], base.min_dcf[p]) for p in p_targets]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
