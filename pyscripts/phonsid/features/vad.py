"""Energy-based voice activity detection and voiced-frame selection (Kaldi's ``compute-vad`` and
``select-voiced-frames``, after ``ivector/voice-activity-detection.cc``).

Column 0 of the features is taken as the log energy (MFCC with ``--use-energy=true``). The threshold is
``energy_threshold + energy_mean_scale * mean(log energy)``; frame t is voiced when, among the frames of
``[t - context, t + context]`` inside the utterance, at least ``proportion_threshold`` of them are above it.
"""

from __future__ import annotations

import numpy as np

from phonsid.features.options import FeatureOptionError, VadEnergyOptions

_F = np.float32


def compute_vad(feats: np.ndarray, energy_threshold: float = 5.0, energy_mean_scale: float = 0.5,
                frames_context: int = 0, proportion_threshold: float = 0.6) -> np.ndarray:
    """Voicing decisions (float32 vector of 0.0/1.0, one per row of ``feats``), Kaldi's defaults."""
    VadEnergyOptions(energy_threshold, energy_mean_scale, frames_context, proportion_threshold).check()
    feats = np.asarray(feats)
    if feats.ndim != 2:
        raise FeatureOptionError(f"compute_vad: expected a (frames, dim) matrix, got shape {feats.shape}")
    num = feats.shape[0]
    if num == 0:
        return np.zeros(0, dtype=_F)
    log_energy = feats[:, 0].astype(_F)
    # single precision as Kaldi: threshold += scale * sum / T
    threshold = _F(energy_threshold)
    if energy_mean_scale != 0.0:
        total = _F(log_energy.sum(dtype=np.float64))
        threshold = threshold + (_F(energy_mean_scale) * total) / _F(num)
    above = (log_energy > threshold).astype(np.int64)
    if frames_context == 0:
        return above.astype(_F)
    c = int(frames_context)
    csum = np.concatenate([[0], np.cumsum(above)])
    t = np.arange(num)
    lo = np.maximum(t - c, 0)
    hi = np.minimum(t + c, num - 1) + 1
    count = csum[hi] - csum[lo]
    window = (hi - lo).astype(_F)
    return (count.astype(_F) >= window * _F(proportion_threshold)).astype(_F)


def compute_vad_opts(feats: np.ndarray, opts: VadEnergyOptions) -> np.ndarray:
    """``compute_vad`` with a ``VadEnergyOptions``."""
    return compute_vad(feats, opts.vad_energy_threshold, opts.vad_energy_mean_scale, opts.vad_frames_context,
                       opts.vad_proportion_threshold)


def select_voiced_frames(feats: np.ndarray, vad: np.ndarray) -> np.ndarray:
    """The rows of ``feats`` whose VAD value is nonzero (possibly none: a ``(0, dim)`` matrix).

    Raises ValueError when the VAD has a different number of frames than the features.
    """
    feats = np.asarray(feats)
    vad = np.asarray(vad).reshape(-1)
    if feats.ndim != 2:
        raise ValueError(f"select_voiced_frames: expected a (frames, dim) matrix, got shape {feats.shape}")
    if vad.shape[0] != feats.shape[0]:
        raise ValueError(f"mismatch in number of frames: {feats.shape[0]} for features and {vad.shape[0]} for VAD")
    return np.ascontiguousarray(feats[vad != 0])
