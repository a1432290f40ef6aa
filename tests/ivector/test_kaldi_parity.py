"""Parity of the i-vector extractor with Kaldi's golden chain (32-Gaussian full UBM, 40-dim extractor, 100
utterances): model format, extraction, one E-M iteration and every number Kaldi logs about it.

Tolerances: Kaldi extracts from the same float32 features and posteriors in double precision but writes float32
i-vectors; we match them to 5e-6 relative (1e-4 allowed). For the E-M step, the statistics file stores R in
float32 and Kaldi's eigensolver differs from LAPACK's, so parameters agree to ~5e-6 relative (2e-4 allowed)
once the arbitrary signs of i-vector dimensions 1.. are aligned; the logged objective values agree to all
printed digits (1e-5 relative allowed, the issue asks 0.1%).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from phonsid.gmm.posterior import Posterior
from phonsid.io import read_table
from phonsid.ivector.estimation import batch_stats, extract_ivectors
from phonsid.ivector.extractor import read_ivector_extractor, write_ivector_extractor
from phonsid.ivector.stats import StatsAccumulator, read_ivector_stats, write_ivector_stats
from phonsid.ivector.update import update_extractor


@pytest.fixture(scope="module")
def golden_posts(golden):
    return {k: Posterior.from_lists(v) for k, v in read_table(f"ark:{golden}/post.ark", "posterior").items()}


@pytest.mark.parametrize("name", ["0.ie", "1.ie", "2.ie", "final.ie"])
def test_extractor_rewritten_bit_exactly(golden, tmp_path, name):
    src = golden / "ie" / name
    ext = read_ivector_extractor(str(src))
    write_ivector_extractor(str(tmp_path / "x.ie"), ext)
    assert (tmp_path / "x.ie").read_bytes() == src.read_bytes()
    write_ivector_extractor(str(tmp_path / "x.txt"), ext, binary=False)
    again = read_ivector_extractor(str(tmp_path / "x.txt"))
    np.testing.assert_allclose(again.M, ext.M, rtol=1e-12)
    assert again.prior_offset == ext.prior_offset
    assert (ext.num_gauss, ext.feat_dim, ext.ivector_dim) == (32, 60, 40)


def test_extracted_ivectors_match_kaldi(golden, train_feats, golden_posts):
    ext = read_ivector_extractor(str(golden / "ie/final.ie"))
    keys = list(train_feats)
    stats = batch_stats([train_feats[k] for k in keys], [golden_posts[k] for k in keys], ext.num_gauss, keys=keys)
    ivecs, change = extract_ivectors(ext, stats)
    ref = read_table(f"ark:{golden}/ivectors.ark", "vector")
    R = np.stack([ref[k] for k in keys])
    iv = ivecs.numpy()
    cos = (iv * R).sum(1) / np.linalg.norm(iv, axis=1) / np.linalg.norm(R, axis=1)
    assert cos.min() > 0.999999
    assert (np.linalg.norm(iv - R, axis=1) / np.linalg.norm(R, axis=1)).max() < 1e-4
    # objective-function change per utterance as Kaldi logs it (--verbose=2) and overall
    log = (golden / "log/ivector_extract.log").read_text()
    kaldi = {m.group(1): float(m.group(2)) for m in re.finditer(r"utterance (\S+) was ([-\d.e]+) per frame", log)}
    per_frame = (change / stats.num_frames).numpy()
    for i, k in enumerate(keys):
        assert per_frame[i] == pytest.approx(kaldi[k], rel=1e-5)
    overall = float(re.search(r"estimating ivector was (\S+) per frame", log).group(1))
    assert float(change.sum() / stats.num_frames.sum()) == pytest.approx(overall, rel=1e-5)


def _kaldi_est_log(golden, it: int) -> dict[str, float]:
    text = (golden / f"log/ie_est.{it}.log").read_text()
    get = lambda pat: float(re.search(pat, text).group(1))  # noqa: E731
    return {"auxf": get(r"auxf/frame on training data was (\S+)"), "M": get(r"mean projections\) was (\S+)"),
            "var": get(r"impr/frame for variances was (\S+)"), "prior": get(r"improvement from prior is (\S+)"),
            "offset": get(r"prior offset to (\S+)"), "total": get(r"improvement per frame was (\S+)"),
            "explained": get(r"explained by the iVectors is (\S+)\."),
            "vavg": [float(v) for v in re.search(r"Vavg:\s+\[([^\]]*)\]", text).group(1).split()]}


@pytest.mark.parametrize("it", [0, 1])
def test_em_iteration_matches_kaldi(golden, train_feats, golden_posts, tmp_path, it, caplog):
    old = read_ivector_extractor(str(golden / f"ie/{it}.ie"))
    ref = read_ivector_extractor(str(golden / f"ie/{it + 1}.ie"))
    keys = list(train_feats)
    acc = StatsAccumulator(old)
    for a in range(0, len(keys), 32):
        chunk = keys[a:a + 32]
        acc.add(batch_stats([train_feats[k] for k in chunk], [golden_posts[k] for k in chunk], old.num_gauss,
                            second_order=True, keys=chunk))
    write_ivector_stats(str(tmp_path / "acc"), acc.finish())  # R in float32, as Kaldi's est reads it
    with caplog.at_level("INFO"):
        new, rep = update_extractor(old, read_ivector_stats(str(tmp_path / "acc")))
    k = _kaldi_est_log(golden, it)
    assert rep.auxf_per_frame == pytest.approx(k["auxf"], rel=1e-5)
    for ours, theirs in ((rep.impr_projections, k["M"]), (rep.impr_variances, k["var"]), (rep.impr_prior, k["prior"]),
                         (rep.total, k["total"]), (rep.prior_offset, k["offset"]), (rep.variance_explained, k["explained"])):
        assert ours == pytest.approx(theirs, rel=1e-5)
    vavg = [float(v) for v in re.search(r"Vavg:\s+\[([^\]]*)\]", caplog.text).group(1).split()]
    np.testing.assert_allclose(vavg, k["vavg"], rtol=1e-5)
    # parameters: dimension 0 is fixed by the prior offset; the others only up to sign
    signs = np.sign((new.M * ref.M).sum((0, 1)))
    assert signs[0] == 1
    M = new.M * signs
    assert np.abs(M - ref.M).max() / np.abs(ref.M).max() < 2e-4
    assert np.abs(new.sigma_inv - ref.sigma_inv).max() / np.abs(ref.sigma_inv).max() < 2e-5
    assert new.prior_offset == pytest.approx(ref.prior_offset, rel=1e-6)
    np.testing.assert_array_equal(new.w_vec, ref.w_vec)
