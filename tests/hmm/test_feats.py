"""The GMM feature pipeline: Kaldi's add-deltas (golden parity), speaker CMN, splicing, transforms."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.features import add_deltas
from phonsid.features.splice import splice_utterance
from phonsid.hmm.feats import FeatureError, FeaturePipeline, apply_transform, parse_dim_range
from phonsid.io import read_table, write_kaldi_matrix


def test_add_deltas_matches_kaldi(golden):
    feats = read_table(f"ark:{golden / 'mfcc_sre10.ark'}")
    ref = read_table(f"ark:{golden / 'deltas.ark'}")
    for utt in list(feats)[:4]:
        out = add_deltas(feats[utt], order=2, window=2)
        assert out.shape == ref[utt].shape
        np.testing.assert_allclose(out, ref[utt], rtol=1e-5, atol=1e-4)


def test_deltas_of_a_ramp():
    x = np.arange(10, dtype=np.float64)[:, None] * 2.0
    d = add_deltas(x, order=2)
    np.testing.assert_allclose(d[3:7, 1], 2.0)  # slope inside
    np.testing.assert_allclose(d[4:6, 2], 0.0, atol=1e-12)  # no curvature inside


def test_speaker_cmn_and_pipeline(tmp_path):
    rng = np.random.default_rng(0)
    feats = {"s1-a": rng.normal(5, 1, (30, 3)), "s1-b": rng.normal(5, 1, (20, 3)), "s2-a": rng.normal(-3, 1, (25, 3))}
    (tmp_path / "utt2spk").write_text("s1-a s1\ns1-b s1\ns2-a s2\n")
    out = dict(FeaturePipeline(utt2spk=str(tmp_path / "utt2spk"), delta_order=0).process(feats))
    both = np.concatenate([out["s1-a"], out["s1-b"]])
    np.testing.assert_allclose(both.mean(0), 0, atol=1e-5)  # the speaker's mean, not each utterance's
    assert abs(out["s1-a"].mean()) > 1e-3
    np.testing.assert_allclose(out["s2-a"].mean(0), 0, atol=1e-5)
    per_utt = dict(FeaturePipeline(delta_order=0).process(feats))
    np.testing.assert_allclose(per_utt["s1-a"].mean(0), 0, atol=1e-5)
    pipe = FeaturePipeline(delta_order=2, select="0-1")
    assert pipe.output_dim(3) == 6 and next(pipe.process(feats))[1].shape == (30, 6)
    with pytest.raises(FeatureError, match="not in"):
        list(FeaturePipeline(utt2spk=str(tmp_path / "utt2spk")).process({"other": feats["s1-a"]}))


def test_splice_and_transform(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    s = splice_utterance(x, [-1, 0, 1])
    np.testing.assert_array_equal(s[0], np.concatenate([x[0], x[0], x[1]]))
    np.testing.assert_array_equal(s[3], np.concatenate([x[2], x[3], x[3]]))
    m = np.random.default_rng(1).standard_normal((2, 10))
    np.testing.assert_allclose(apply_transform(s[:, :9], m), s[:, :9] @ m[:, :9].T + m[:, 9], rtol=1e-5)
    write_kaldi_matrix(str(tmp_path / "lda.mat"), m)
    pipe = FeaturePipeline(cmn=False, delta_order=0, splice_context=1, transform=str(tmp_path / "lda.mat"))
    assert pipe.output_dim(3) == 2
    with pytest.raises(FeatureError):
        apply_transform(x, m)
    assert list(parse_dim_range("0-2,5", 6)) == [0, 1, 2, 5]
    with pytest.raises(FeatureError):
        parse_dim_range("0-12", 6)
