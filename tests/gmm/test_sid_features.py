"""The speaker-ID feature pipeline: the tests' numpy reference and the tools' in-process pipeline (front end's
functions) both reproduce Kaldi's add-deltas | apply-cmvn-sliding | select-voiced-frames output."""

from __future__ import annotations

import numpy as np

from helpers.sid_feats_ref import sid_features
from phonsid.gmm.sid_features import SidFeatureOptions, iter_features
from phonsid.io import read_table


def test_reference_pipeline_matches_kaldi(golden):
    mfcc = read_table(f"ark:{golden}/mfcc_sre10.ark")
    vad = read_table(f"ark:{golden}/vad_sre10.ark", "vector")
    ref = read_table(f"ark:{golden}/ivector_feats.ark")
    for utt, feats in ref.items():
        ours = sid_features(mfcc[utt], vad[utt])
        assert ours.shape == feats.shape
        np.testing.assert_allclose(ours, feats, atol=1e-5)


def test_in_process_pipeline_matches_kaldi(golden):
    ref = read_table(f"ark:{golden}/ivector_feats.ark")
    out = dict(iter_features(f"ark:{golden}/mfcc_sre10.ark", SidFeatureOptions(f"ark:{golden}/vad_sre10.ark")))
    assert list(out) == list(ref)
    for utt in ref:
        np.testing.assert_allclose(out[utt], ref[utt], atol=1e-5)
    # subsampling keeps every n'th voiced frame; no deltas / no CMN leave the features as they are
    sub = dict(iter_features(f"ark:{golden}/mfcc_sre10.ark",
                             SidFeatureOptions(f"ark:{golden}/vad_sre10.ark", subsample=5)))
    np.testing.assert_array_equal(sub[utt], out[utt][::5])
    raw = read_table(f"ark:{golden}/mfcc_sre10.ark")
    vad = read_table(f"ark:{golden}/vad_sre10.ark", "vector")
    plain = dict(iter_features(f"ark:{golden}/mfcc_sre10.ark",
                               SidFeatureOptions(f"ark:{golden}/vad_sre10.ark", delta_order=0, cmn_window=0)))
    np.testing.assert_array_equal(plain[utt], raw[utt][vad[utt] != 0])
