"""Cllr / min Cllr (PAV), DET curves and plot, the markdown results table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phonsid.metrics import MetricsError, cllr, det_curve, min_cllr, plot_det
from phonsid.metrics.cllr import pav
from phonsid.metrics.report import evaluate_system, markdown_table


def test_cllr_reference_values():
    assert cllr([0.0, 0.0], [1, 0]) == pytest.approx(1.0)  # an uninformative system costs 1 bit
    assert cllr([50.0, -50.0], [1, 0]) == pytest.approx(0.0, abs=1e-15)
    s = np.array([2.0, -1.0, 0.5])
    lab = np.array([1, 0, 0])
    want = (math.log1p(math.exp(-2.0)) + 0.5 * (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(0.5)))) / (
        2 * math.log(2))
    assert cllr(s, lab) == pytest.approx(want)


def test_pav_is_the_isotonic_fit():
    y = np.array([0, 1, 0, 0, 1, 1, 0, 1], dtype=float)
    fit = pav(y)
    assert (np.diff(fit) >= 0).all()
    np.testing.assert_allclose(fit, [0, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 1])
    np.testing.assert_allclose(pav(y, np.array([0, 0, 1, 1, 2, 2, 3, 3])), [0.25] * 4 + [0.75] * 4)


def test_min_cllr_bounds(rng=np.random.default_rng(3)):
    lab = rng.random(2000) < 0.3
    s = rng.normal(np.where(lab, 2.0, -1.0), 1.0)
    m = min_cllr(s, lab)
    assert 0.0 < m < cllr(s, lab)
    assert min_cllr(5 * s + 3, lab) == pytest.approx(m)  # invariant to monotone maps
    assert min_cllr([1.0, 2.0, 3.0, 4.0], [0, 0, 1, 1]) == pytest.approx(0.0, abs=1e-12)  # separable


def test_det_curve_points():
    c = det_curve([1.0, 2.0, 2.0, 3.0], [0, 1, 0, 1])
    np.testing.assert_allclose(c.p_miss, [0, 0, 0.5, 1.0])
    np.testing.assert_allclose(c.p_fa, [1, 0.5, 0, 0])
    with pytest.raises(MetricsError):
        det_curve([1.0], [1])


def test_plot_and_table(tmp_path):
    rng = np.random.default_rng(0)
    lab = rng.random(3000) < 0.1
    base = evaluate_system("base", rng.normal(np.where(lab, 2.0, 0.0), 1.0), lab)
    better = evaluate_system("better", rng.normal(np.where(lab, 3.0, 0.0), 1.0), lab, llr=True)
    plot_det([("base", base.det), ("better", better.det)], str(tmp_path / "det.png"), "DET", eer_points=[0.1, 0.05])
    assert (tmp_path / "det.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = markdown_table([base, better], baseline="base")
    lines = table.splitlines()
    assert lines[0].startswith("| System | Trials | EER (%) | minDCF (0.01) | minDCF (0.001) | Cllr |")
    assert "| base | 3000 |" in lines[2] and "baseline" in lines[2]
    rel = 100 * (better.eer - base.eer) / base.eer
    assert f"{rel:+.1f}%" in lines[3] and rel < 0
    with pytest.raises(MetricsError, match="baseline 'nope' is not one of the systems"):
        markdown_table([base], baseline="nope")
