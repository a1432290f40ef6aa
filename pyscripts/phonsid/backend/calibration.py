"""Linear score calibration by prior-weighted logistic regression (as BOSARIS / FoCal do).

Finds ``a, b`` so that ``a·s + b`` are well-calibrated natural-log likelihood ratios, by minimising

    p/N_t Σ_tgt log(1 + e^{−(a s + b + logit p)}) + (1−p)/N_n Σ_non log(1 + e^{a s + b + logit p})

with Newton's method (two parameters, convex). ``p`` is the effective prior the calibration is tuned for.
The model is stored as a small text file: ``<LinearCalibration> <scale> <offset> </LinearCalibration>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from phonsid.backend.checks import BackendError


@dataclass
class LinearCalibration:
    scale: float
    offset: float

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(scores, dtype=np.float64) + self.offset


def _objective(params: np.ndarray, s: np.ndarray, y: np.ndarray, w: np.ndarray, lp: float):
    z = params[0] * s + params[1] + lp
    sign = np.where(y, -1.0, 1.0)
    m = sign * z  # loss = log(1 + e^{m})
    loss = float((w * np.logaddexp(0.0, m)).sum())
    sig = 0.5 * (1.0 + np.tanh(0.5 * m))  # d loss / d m, stable
    g_z = w * sig * sign
    grad = np.array([(g_z * s).sum(), g_z.sum()])
    h_z = w * sig * (1.0 - sig)
    hess = np.array([[(h_z * s * s).sum(), (h_z * s).sum()], [(h_z * s).sum(), h_z.sum()]])
    return loss, grad, hess


def train_linear_calibration(
    scores, labels, p_target: float = 0.5, max_iters: int = 100, tol: float = 1e-10
) -> LinearCalibration:
    """Fits ``a, b`` on scores with labels (1 target, 0 non-target); ``p_target`` is the effective prior."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels).reshape(-1).astype(bool)
    if s.shape != y.shape:
        raise BackendError(f"{s.size} scores but {y.size} labels")
    if not y.any() or y.all():
        raise BackendError("calibration needs both target and non-target trials")
    if not 0.0 < p_target < 1.0:
        raise BackendError(f"--p-target must be in (0, 1), got {p_target}")
    if not np.isfinite(s).all():
        raise BackendError("calibration scores contain NaN or inf")
    n_t = int(y.sum())
    n_n = y.size - n_t
    w = np.where(y, p_target / n_t, (1.0 - p_target) / n_n)
    lp = math.log(p_target / (1.0 - p_target))
    # Start from a scale that maps the score spread to a few nats.
    spread = float(s.std()) or 1.0
    params = np.array([1.0 / spread, -float(s.mean()) / spread])
    loss, grad, hess = _objective(params, s, y, w, lp)
    for _ in range(max_iters):
        try:
            step = np.linalg.solve(hess + 1e-12 * np.eye(2), grad)
        except np.linalg.LinAlgError:
            step = grad
        t = 1.0
        while True:
            cand = params - t * step
            c_loss, c_grad, c_hess = _objective(cand, s, y, w, lp)
            if c_loss <= loss - 1e-4 * t * float(grad @ step) or t < 1e-10:
                break
            t *= 0.5
        improvement = loss - c_loss
        params, loss, grad, hess = cand, c_loss, c_grad, c_hess
        if abs(improvement) <= tol * max(1.0, abs(loss)) and np.abs(grad).max() < 1e-9:
            break
    return LinearCalibration(float(params[0]), float(params[1]))


def write_calibration(wxfilename: str, cal: LinearCalibration) -> None:
    from phonsid.io import open_wxfilename

    with open_wxfilename(wxfilename) as f:
        f.write(f"<LinearCalibration> {cal.scale!r} {cal.offset!r} </LinearCalibration>\n".encode())


def read_calibration(rxfilename: str) -> LinearCalibration:
    from phonsid.io import open_rxfilename

    with open_rxfilename(rxfilename) as f:
        fields = f.read().decode().split()
    if len(fields) != 4 or fields[0] != "<LinearCalibration>" or fields[3] != "</LinearCalibration>":
        raise BackendError(f"{rxfilename}: not a linear calibration model")
    try:
        return LinearCalibration(float(fields[1]), float(fields[2]))
    except ValueError:
        raise BackendError(f"{rxfilename}: bad numbers in the calibration model") from None
