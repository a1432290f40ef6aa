"""Linear calibration: recovers a known distortion of calibrated scores; file round trip; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phonsid.backend import (
    BackendError,
    LinearCalibration,
    read_calibration,
    train_linear_calibration,
    write_calibration,
)
from phonsid.metrics import cllr, min_cllr


def _llr_scores(rng, n_t=4000, n_n=20000, d=2.0):
    # two unit-variance Gaussians d apart: the LLR is d*x - d^2/2 when x ~ N(±d/2, 1)
    tgt = rng.normal(d / 2, 1.0, n_t)
    non = rng.normal(-d / 2, 1.0, n_n)
    s = np.concatenate([tgt, non]) * d
    labels = np.concatenate([np.ones(n_t, bool), np.zeros(n_n, bool)])
    return s, labels


def test_recovers_inverse_of_a_known_distortion(rng):
    llr, labels = _llr_scores(rng)
    raw = 3.0 * llr - 5.0  # miscalibrated
    cal = train_linear_calibration(raw, labels, p_target=0.5)
    np.testing.assert_allclose([cal.scale, cal.offset], [1 / 3, 5 / 3], rtol=0.05, atol=0.05)
    after = cal.apply(raw)
    assert cllr(after, labels) < cllr(raw, labels)
    assert cllr(after, labels) - min_cllr(after, labels) < 0.01  # little calibration loss left
    assert min_cllr(after, labels) == pytest.approx(min_cllr(raw, labels), abs=1e-9)  # monotone: same min


def test_calibration_file_round_trip(tmp_path):
    cal = LinearCalibration(0.123456789012, -3.5)
    write_calibration(str(tmp_path / "cal"), cal)
    assert read_calibration(str(tmp_path / "cal")) == cal
    (tmp_path / "bad").write_text("1 2\n")
    with pytest.raises(BackendError, match="not a linear calibration model"):
        read_calibration(str(tmp_path / "bad"))


def test_bad_calibration_input():
    with pytest.raises(BackendError, match="both target and non-target"):
        train_linear_calibration([1.0, 2.0], [1, 1])
    with pytest.raises(BackendError, match="NaN or inf"):
        train_linear_calibration([1.0, math.nan], [1, 0])
