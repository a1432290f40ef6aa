"""Evaluation metrics: Kaldi's EER and minDCF, actual DCF, Cllr / min Cllr, DET curves.

Score and trial files are read with :mod:`phonsid.metrics.scorefile`.
"""

from phonsid.metrics.cllr import cllr, min_cllr
from phonsid.metrics.dcf import (
    ActualDcf,
    DcfResult,
    bayes_threshold,
    compute_actual_dcf,
    compute_min_dcf,
    error_rates,
)
from phonsid.metrics.det import DetCurve, det_curve, plot_det
from phonsid.metrics.eer import EerResult, MetricsError, compute_eer

__all__ = [
    "ActualDcf", "DcfResult", "DetCurve", "EerResult", "MetricsError", "bayes_threshold", "cllr",
    "compute_actual_dcf", "compute_eer", "compute_min_dcf", "det_curve", "error_rates", "min_cllr", "plot_det",
]
