"""Vector operations as Kaldi's ivector-* tools: means, length normalisation, transforms, input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phonsid.backend import BackendError, stack_vectors
from phonsid.backend.vectors import apply_transform, global_mean, normalize_length, speaker_means, subtract_mean


def test_normalize_length_scaleup_and_zero_vectors():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    out, ratios, st = normalize_length(x)
    np.testing.assert_allclose(np.linalg.norm(out[[0, 2]], axis=1), math.sqrt(2), rtol=1e-6)
    np.testing.assert_array_equal(out[1], 0.0)
    np.testing.assert_allclose(ratios, [5 / math.sqrt(2), 0, 1 / math.sqrt(2)], rtol=1e-6)
    assert st.num_zero == 1 and st.num_done == 3 and out.dtype == np.float32
    out1, _, _ = normalize_length(x, scaleup=False)
    np.testing.assert_allclose(np.linalg.norm(out1[0]), 1.0, rtol=1e-6)
    same, _, _ = normalize_length(x, normalize=False)
    np.testing.assert_array_equal(same, x)


def test_apply_transform_linear_affine_and_mismatch(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    lin = rng.standard_normal((2, 3))
    np.testing.assert_allclose(apply_transform(lin, x), x @ lin.T, rtol=1e-5)
    aff = np.column_stack([lin, [1.0, -2.0]])
    np.testing.assert_allclose(apply_transform(aff, x), x @ lin.T + [1.0, -2.0], rtol=1e-5)
    with pytest.raises(BackendError, match="vectors have dimension 3 but the transform lda.mat has 5 columns"):
        apply_transform(rng.standard_normal((2, 5)), x, source="lda.mat")


def test_means(rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(global_mean(x), x.astype(np.float64).mean(0))
    np.testing.assert_allclose(subtract_mean(x, global_mean(x)).mean(0), 0, atol=1e-6)
    res = speaker_means({"a": ["u0", "u1", "gone"], "b": ["u4"], "c": ["lost"]}, ["u0", "u1", "u2", "u3", "u4"], x)
    assert res.speakers == ["a", "b"] and res.num_utts.tolist() == [2, 1]
    assert res.missing_utts == ["gone", "lost"] and res.empty_speakers == ["c"]
    np.testing.assert_allclose(res.means[0], x[:2].mean(0), rtol=1e-6)
    with pytest.raises(BackendError, match="speaker z has no utterances"):
        speaker_means({"z": []}, ["u0"], x[:1])


def test_stack_vectors_checks():
    ok = [("a", np.ones(3)), ("b", np.zeros(3))]
    keys, m = stack_vectors(ok, source="ark:x.ark")
    assert keys == ["a", "b"] and m.shape == (2, 3) and m.dtype == np.float32
    with pytest.raises(BackendError, match=r"2 of 3 vectors in ark:x.ark contain NaN or inf values \(e.g. b, c\)"):
        stack_vectors([("a", np.ones(3)), ("b", np.array([np.nan, 0, 0])), ("c", np.array([np.inf, 0, 0]))],
                      source="ark:x.ark")
    with pytest.raises(BackendError, match=r"expected vectors of dimension 3, but 1 have another dimension "
                                           r"\(e.g. c \(dim 4\)\)"):
        stack_vectors(ok + [("c", np.ones(4))], source="ark:x.ark")
    with pytest.raises(BackendError, match="expected PLDA-input vectors of dimension 5"):
        stack_vectors(ok, dim=5, what="PLDA-input vector")
    with pytest.raises(BackendError, match=r"1 duplicate keys in ark:x.ark \(e.g. a\)"):
        stack_vectors(ok + [("a", np.ones(3))], source="ark:x.ark")
    with pytest.raises(BackendError, match="no vectors read"):
        stack_vectors([])
