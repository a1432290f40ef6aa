"""Speaker-recognition back end with Kaldi's semantics: mean, LDA, length norm, PLDA (EM, smoothing,
adaptation, Kaldi file format), PLDA/cosine scoring in blocks, S-norm / AS-norm, linear calibration.
"""

from phonsid.backend.calibration import LinearCalibration, read_calibration, train_linear_calibration, write_calibration
from phonsid.backend.checks import BackendError, stack_vectors
from phonsid.backend.lda import LdaResult, compute_lda, group_by_speaker
from phonsid.backend.plda import (
    Plda,
    PldaAdaptationConfig,
    PldaError,
    accumulate_plda_stats,
    adapt_plda,
    apply_transform_to_plda,
    check_plda_training_data,
    estimate_plda,
    log_likelihood_ratio,
    read_plda,
    smooth_within_class_covariance,
    transform_ivectors,
    write_plda,
)
from phonsid.backend.score_norm import CohortStats, NormalizedScorer, cohort_stats, s_norm
from phonsid.backend.scoring import CosineScorer, PairScorer, PldaScorer, score_trials_file
from phonsid.backend.vectors import apply_transform, global_mean, normalize_length, speaker_means, subtract_mean

__all__ = [
    "BackendError", "CohortStats", "CosineScorer", "LdaResult", "LinearCalibration", "NormalizedScorer",
    "PairScorer", "Plda", "PldaAdaptationConfig", "PldaError", "PldaScorer", "accumulate_plda_stats", "adapt_plda",
    "apply_transform", "apply_transform_to_plda", "check_plda_training_data", "cohort_stats", "compute_lda",
    "estimate_plda", "global_mean", "group_by_speaker", "log_likelihood_ratio", "normalize_length",
    "read_calibration", "read_plda", "s_norm", "score_trials_file", "smooth_within_class_covariance",
    "speaker_means", "stack_vectors", "subtract_mean", "train_linear_calibration", "transform_ivectors",
    "write_calibration", "write_plda",
]
