"""LDA: what the transform does to the class covariances, the affine offset, degenerate inputs."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.backend import BackendError, compute_lda, group_by_speaker
from phonsid.backend.vectors import apply_transform


def _spk2rows(keys, s2u):
    utt2spk = {u: s for s, us in s2u.items() for u in us}
    return group_by_speaker(keys, utt2spk)[0]


def _covariances(x, spk2rows):
    xc = x - x.mean(axis=0)
    n = len(x)
    tot = xc.T @ xc / n
    between = sum(len(r) * np.outer(xc[r].mean(0), xc[r].mean(0)) for r in spk2rows.values()) / n
    return tot - between, between


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.0])
def test_lda_whitens_and_diagonalises(synth, rng, factor):
    model = synth.make_model(rng, 8)
    keys, x, s2u = synth.sample(rng, model, 50, 5)
    spk2rows = _spk2rows(keys, s2u)
    res = compute_lda(x, spk2rows, 5, total_covariance_factor=factor)
    assert res.transform.shape == (5, 9)
    y = apply_transform(res.transform, x).astype(np.float64)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-4)  # the affine part removes the mean
    within, between = _covariances(y, spk2rows)
    normalized = factor * (within + between) + (1 - factor) * within
    np.testing.assert_allclose(normalized, np.eye(5), atol=1e-4)
    np.testing.assert_allclose(between, np.diag(res.eigenvalues[:5]), atol=1e-4)
    assert (np.diff(res.eigenvalues) <= 1e-12).all()


def test_lda_errors(rng):
    x = rng.standard_normal((6, 3)).astype(np.float32)
    singles = {f"s{i}": [i] for i in range(6)}
    with pytest.raises(BackendError, match="all 6 speakers have a single one"):
        compute_lda(x, singles, 2)
    with pytest.raises(BackendError, match="LDA dimension 4 is not in 1..3"):
        compute_lda(x, {"a": [0, 1, 2], "b": [3, 4, 5]}, 4)
    with pytest.raises(BackendError, match="too little data for LDA: 4 utterances for vectors of dimension 5"):
        compute_lda(rng.standard_normal((4, 5)), {"a": [0, 1], "b": [2, 3]}, 2)


def test_group_by_speaker_reports_missing():
    groups, missing = group_by_speaker(["u1", "u2", "u3"], {"u1": "b", "u3": "a"})
    assert groups == {"a": [2], "b": [0]} and missing == ["u2"]


def test_singular_within_covariance_is_floored(synth, rng):
    model = synth.make_model(rng, 4)
    keys, x, s2u = synth.sample(rng, model, 30, 3)
    spk2rows = _spk2rows(keys, s2u)
    x = np.column_stack([x, x[:, 0] + x[:, 1]])  # a dependent dimension: singular covariances
    res = compute_lda(x, spk2rows, 3)
    assert res.num_floored == 1 and "floored 1 of 5 eigenvalues" in res.warnings[0]
    assert np.isfinite(res.transform).all()


@pytest.mark.parametrize("binary", [True, False])
def test_lda_matrix_file_round_trip(tmp_path, synth, rng, binary):
    from phonsid.io import read_kaldi_matrix, write_kaldi_matrix

    model = synth.make_model(rng, 5)
    keys, x, s2u = synth.sample(rng, model, 20, 3)
    lda = compute_lda(x, _spk2rows(keys, s2u), 3).transform.astype(np.float32)
    write_kaldi_matrix(str(tmp_path / "lda.mat"), lda, binary=binary)
    np.testing.assert_array_equal(read_kaldi_matrix(str(tmp_path / "lda.mat")), lda)


def test_reads_and_rewrites_golden_kaldi_lda(golden, tmp_path):
    from phonsid.io import read_kaldi_matrix, write_kaldi_matrix

    lda = read_kaldi_matrix(str(golden / "transform.mat"))
    assert lda.shape == (20, 41) and lda.dtype == np.float32
    write_kaldi_matrix(str(tmp_path / "t.mat"), lda)
    assert (tmp_path / "t.mat").read_bytes() == (golden / "transform.mat").read_bytes()
