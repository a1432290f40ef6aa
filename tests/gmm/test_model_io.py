"""Kaldi GMM model and accumulator formats: golden files re-written byte for byte, text/binary equivalence,
failure paths."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.gmm.diag_gmm import DiagGmm, read_diag_gmm, write_diag_gmm
from phonsid.gmm.full_gmm import FullGmm, read_full_gmm, write_full_gmm
from phonsid.gmm.mle import (DiagGmmAccs, FullGmmAccs, read_diag_gmm_accs, read_full_gmm_accs, sum_accs,
                             write_diag_gmm_accs, write_full_gmm_accs)
from phonsid.io import KaldiFormatError, NonFiniteError


@pytest.mark.parametrize("name", ["0.dubm", "1.dubm", "2.dubm", "final.dubm", "final.dubm.txt"])
def test_diag_gmm_rewritten_bit_exactly(golden, tmp_path, name):
    src = golden / "ubm" / name
    gmm = read_diag_gmm(str(src))
    out = tmp_path / "out"
    write_diag_gmm(str(out), gmm, binary=not name.endswith(".txt"))
    assert out.read_bytes() == src.read_bytes()
    again = read_diag_gmm(str(out))
    assert np.array_equal(again.means_invvars, gmm.means_invvars) and np.array_equal(again.gconsts, gmm.gconsts)


@pytest.mark.parametrize("name", ["0.ubm", "1.ubm", "2.ubm", "final.ubm", "final.ubm.txt"])
def test_full_gmm_rewritten_bit_exactly(golden, tmp_path, name):
    src = golden / "ubm" / name
    gmm = read_full_gmm(str(src))
    out = tmp_path / "out"
    write_full_gmm(str(out), gmm, binary=not name.endswith(".txt"))
    assert out.read_bytes() == src.read_bytes()
    assert np.array_equal(read_full_gmm(str(out)).inv_covars, gmm.inv_covars)


def test_text_and_binary_golden_models_agree(golden):
    # Kaldi's text models print 7 significant digits of the float32 values.
    for b, t in ((read_diag_gmm(str(golden / "ubm/final.dubm")), read_diag_gmm(str(golden / "ubm/final.dubm.txt"))),
                 (read_full_gmm(str(golden / "ubm/final.ubm")), read_full_gmm(str(golden / "ubm/final.ubm.txt")))):
        for name in ("weights", "gconsts"):
            np.testing.assert_allclose(getattr(t, name), getattr(b, name), rtol=1e-6)
    np.testing.assert_allclose(t.inv_covars, b.inv_covars, rtol=1e-6, atol=1e-12)
    assert (t.num_gauss, t.dim) == (b.num_gauss, b.dim) == (32, 60)


def test_recomputed_gconsts_match_kaldis(golden):
    # Kaldi computes gconsts in float32; ours (float64) agree to float32 rounding of values around -130.
    gmm = read_diag_gmm(str(golden / "ubm/final.dubm"))
    new = DiagGmm.from_params(gmm.weights, gmm.means_invvars, gmm.inv_vars)
    np.testing.assert_allclose(new.gconsts, gmm.gconsts, atol=2e-4)
    full = read_full_gmm(str(golden / "ubm/final.ubm"))
    np.testing.assert_allclose(FullGmm.from_params(full.weights, full.means_invcovars, full.inv_covars).gconsts,
                               full.gconsts, atol=2e-4)


def test_diag_to_full_and_back(golden):
    diag = read_diag_gmm(str(golden / "ubm/final.dubm"))
    full = FullGmm.from_diag(diag)
    kaldi_full = read_full_gmm(str(golden / "ubm/0.ubm"))  # gmm-global-to-fgmm ubm/final.dubm
    assert np.array_equal(full.inv_covars, kaldi_full.inv_covars)
    assert np.array_equal(full.means_invcovars, kaldi_full.means_invcovars)
    np.testing.assert_allclose(full.gconsts, kaldi_full.gconsts, atol=2e-4)
    back = full.to_diag()
    assert np.array_equal(back.inv_vars, diag.inv_vars) and np.array_equal(back.means_invvars, diag.means_invvars)


def test_accumulators_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    g, d = 5, 4
    x = rng.standard_normal((g, 50, d))
    dacc = DiagGmmAccs(rng.uniform(1, 10, g), x.sum(1), (x * x).sum(1))
    facc = FullGmmAccs(dacc.occupancy.copy(), dacc.mean_acc.copy(), np.einsum("gti,gtj->gij", x, x))
    for binary in (True, False):
        write_diag_gmm_accs(str(tmp_path / "d"), dacc, binary)
        write_full_gmm_accs(str(tmp_path / "f"), facc, binary)
        d2, f2 = read_diag_gmm_accs(str(tmp_path / "d")), read_full_gmm_accs(str(tmp_path / "f"))
        # float32 on disk, as Kaldi writes them; the full scatter is stored centred and restored
        np.testing.assert_allclose(d2.var_acc, dacc.var_acc, rtol=1e-6)
        np.testing.assert_allclose(f2.cov_acc, facc.cov_acc, rtol=1e-5, atol=1e-5)
        assert d2.flags == 7 and f2.flags == 7
    total = sum_accs([str(tmp_path / "f"), str(tmp_path / "f")], full=True)
    np.testing.assert_allclose(total.occupancy, 2 * facc.occupancy, rtol=1e-6)


def test_bad_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.dubm"
    bad.write_bytes(b"\0B<FullGMM> ")
    with pytest.raises(KaldiFormatError, match="bad.dubm"):
        read_diag_gmm(str(bad))
    bad.write_bytes(b"\0B<DiagGMM> <GCONSTS> FV \x04\x02\x00\x00\x00")
    with pytest.raises(KaldiFormatError, match="bad.dubm"):
        read_diag_gmm(str(bad))
    acc_a = DiagGmmAccs.zeros(3, 2)
    with pytest.raises(ValueError, match="cannot add"):
        acc_a.add(DiagGmmAccs.zeros(4, 2))


@pytest.mark.parametrize("binary", [True, False])
def test_models_with_non_finite_parameters_are_refused_naming_file_and_parameter(tmp_path, binary):
    rng = np.random.default_rng(2)
    g, d = 3, 2
    w = np.array([0.5, 0.5, 0.0])  # a zero weight: gconst -inf, which Kaldi writes too
    diag = DiagGmm.from_params(w, rng.standard_normal((g, d)), rng.uniform(1, 2, (g, d)))
    assert np.isneginf(diag.gconsts[2])
    write_diag_gmm(str(tmp_path / "ok.dubm"), diag, binary)
    assert np.isneginf(read_diag_gmm(str(tmp_path / "ok.dubm")).gconsts[2])

    miv = diag.means_invvars.copy()
    miv[1, 0] = np.nan
    bad = DiagGmm(diag.weights, miv, diag.inv_vars, diag.gconsts)
    out = tmp_path / "final.dubm"
    with pytest.raises(NonFiniteError, match=rf"{out}: refusing to write non-finite values: <MEANS_INVVARS>: NaN at "
                                             r"row 1, column 0"):
        write_diag_gmm(str(out), bad, binary)
    full = FullGmm.from_diag(diag)
    inv = full.inv_covars.copy()
    inv[1, 1, 1] = np.inf  # the second Gaussian's inverse covariance (Kaldi's text layout is written by gmm)
    with pytest.raises(NonFiniteError, match=r"final\.ubm: .*<INV_COVARS>\[1\]: inf at row 1, column 1"):
        write_full_gmm(str(tmp_path / "final.ubm"), FullGmm(full.weights, full.means_invcovars, inv, full.gconsts),
                       binary)
    acc = DiagGmmAccs.zeros(g, d)
    acc.var_acc[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"1\.acc: .*<DIAGVARACCS>: NaN at row 2, column 1"):
        write_diag_gmm_accs(str(tmp_path / "1.acc"), acc, binary)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.dubm"]  # nothing else left behind
