"""Kaldi objects: the writer refuses NaN/inf in model parameters, naming the file and the parameter."""

from __future__ import annotations

import io

import numpy as np
import pytest

from phonsid.io import KaldiWriter, NonFiniteError, read_kaldi_matrix, write_kaldi_matrix, write_kaldi_vector
from phonsid.io.kaldi_object import nonfinite_where


def test_nonfinite_where_names_the_first_bad_value():
    assert nonfinite_where(np.ones((2, 2))) == ""
    assert nonfinite_where(np.array([1, 2], np.int32)) == ""
    m = np.zeros((3, 4))
    m[1, 2], m[2, 0] = np.inf, np.nan
    assert nonfinite_where(m) == "inf at row 1, column 2 (0-based; 2 of 12 values are not finite)"
    assert nonfinite_where(np.array([0.0, -np.inf]), allow_neg_inf=True) == ""
    assert nonfinite_where(np.array([0.0, -np.inf])).startswith("-inf at element 1")


@pytest.mark.parametrize("binary", [True, False])
def test_writer_names_the_parameter_and_allows_neg_inf_only_in_log_fields(binary):
    w = KaldiWriter(io.BytesIO(), binary, name="exp/ubm/final.dubm")
    w.write_token("<GCONSTS>")
    w.write_vector(np.array([-np.inf, -3.0]))  # log of a zero weight, as Kaldi writes it
    w.write_token("<WEIGHTS>")
    w.write_vector(np.array([0.0, 1.0]))
    w.write_token("<M>")
    w.write_matrix(np.eye(2))
    bad = np.eye(2)
    bad[0, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"^exp/ubm/final\.dubm: refusing to write non-finite values: <M>\[1\]: "
                                             r"NaN at row 0, column 1"):
        w.write_matrix(bad)
    with pytest.raises(NonFiniteError, match="psi: inf at element 0"):
        w.write_vector(np.array([np.inf]), name="psi")
    w.write_token("<GCONSTS>")
    with pytest.raises(NonFiniteError, match="<GCONSTS>: NaN"):
        w.write_vector(np.array([np.nan]))  # -inf only
    w.write_token("<Offset>")
    with pytest.raises(NonFiniteError, match="<Offset>: NaN as its value"):
        w.write_float(float("nan"))
    w.write_token("<SigmaInv>")
    with pytest.raises(NonFiniteError, match="<SigmaInv>: inf at row 1, column 1"):
        w.write_sp_matrix(np.diag([1.0, np.inf]))


def test_matrix_and_vector_files_are_refused_and_leave_nothing(tmp_path):
    write_kaldi_matrix(str(tmp_path / "ok.mat"), np.eye(3))
    assert read_kaldi_matrix(str(tmp_path / "ok.mat")).shape == (3, 3)
    m = np.eye(3)
    m[2, 0] = np.nan
    with pytest.raises(NonFiniteError, match=rf"{tmp_path}/transform\.mat: .*matrix: NaN at row 2, column 0"):
        write_kaldi_matrix(str(tmp_path / "transform.mat"), m)
    with pytest.raises(NonFiniteError, match=rf"{tmp_path}/mean\.vec: .*vector: -inf at element 1"):
        write_kaldi_vector(str(tmp_path / "mean.vec"), np.array([0.0, -np.inf]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.mat"]  # no file, no temporary file
