"""Kaldi-compatible front end: MFCC / filter banks, energy VAD, sliding CMN, deltas, splicing, voiced-frame
selection.

* ``Mfcc`` / ``Fbank`` (``compute.py``): the vectorised default, numerically Kaldi's ``compute-mfcc-feats`` /
  ``compute-fbank-feats`` (see its module doc for how, and for the Kaldi-rounding frames);
  ``KnfMfcc`` / ``KnfFbank`` (``knf.py``): the kaldi-native-fbank reference.
* ``compute_vad``, ``select_voiced_frames`` (``vad.py``), ``apply_cmvn_sliding`` (``cmvn.py``),
  ``add_deltas`` (``deltas.py``): Kaldi's defaults in the signatures; ``splice_utterance`` (``splice.py``):
  ``splice-feats`` at any offsets (the GMM pipeline and the bottleneck DNNs).
* ``compute_feature_table`` (``pipeline.py``): wav table → features (→ VAD) → ark/scp in one process.
"""

from phonsid.features.cmvn import apply_cmvn_sliding, sliding_windows
from phonsid.features.compute import (
    FeatureComputeError,
    Fbank,
    Mfcc,
    compute_fbank,
    compute_mfcc,
)
from phonsid.features.deltas import add_deltas, delta_scales
from phonsid.features.knf import KnfFbank, KnfMfcc
from phonsid.features.mel import num_frames
from phonsid.features.options import (
    FbankOptions,
    FeatureOptionError,
    FrameExtractionOptions,
    MelBanksOptions,
    MfccOptions,
    VadEnergyOptions,
    read_fbank_config,
    read_mfcc_config,
    read_vad_config,
)
from phonsid.features.pipeline import FeatureFailure, FeatureStats, compute_feature_table, iter_wav_rspecifier
from phonsid.features.splice import splice_utterance
from phonsid.features.vad import compute_vad, select_voiced_frames

__all__ = [
    "FbankOptions", "Fbank", "FeatureComputeError", "FeatureFailure", "FeatureOptionError", "FeatureStats",
    "FrameExtractionOptions", "KnfFbank", "KnfMfcc", "MelBanksOptions", "Mfcc", "MfccOptions", "VadEnergyOptions",
    "add_deltas", "apply_cmvn_sliding", "compute_fbank", "compute_feature_table", "compute_mfcc", "compute_vad",
    "delta_scales", "iter_wav_rspecifier", "num_frames", "read_fbank_config", "read_mfcc_config", "read_vad_config",
    "select_voiced_frames", "sliding_windows", "splice_utterance",
]
