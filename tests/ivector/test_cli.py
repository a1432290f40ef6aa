"""The i-vector command-line tools, run in process through main(argv): Kaldi's arguments and outputs on the
golden chain, per-speaker extraction, scaling options, failure paths."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from helpers.scripts import load_script
from helpers.sid_feats_ref import CapturedLog
from phonsid.io import TableWriter, read_table
from phonsid.gmm.posterior import Posterior
from phonsid.ivector.estimation import BatchStats, batch_stats, extract_ivectors
from phonsid.ivector.extractor import read_ivector_extractor

TOOLS = ["ivector_extractor_init", "ivector_extractor_acc_stats", "ivector_extractor_sum_accs",
         "ivector_extractor_est", "ivector_extract"]


def tool(name: str):
    return load_script(f"pyscripts/{name}.py").main


@pytest.fixture(scope="module")
def feats_scp(train_feats, tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("feats")
    with TableWriter(f"ark,scp:{d}/feats.ark,{d}/feats.scp") as w:
        for k, v in train_feats.items():
            w.write(k, v)
    return f"scp:{d}/feats.scp"


@pytest.mark.parametrize("name", TOOLS)
def test_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        tool(name)(["--help"])
    assert e.value.code == 0 and "Usage" in capsys.readouterr().out


def test_training_pass_through_files(golden, feats_scp, tmp_path):
    post = f"ark:{golden}/post.ark"
    assert tool("ivector_extractor_acc_stats")(["--num-threads=1", "--num-samples-for-weights=3", "--batch-size=17",
                                                str(golden / "ie/0.ie"), feats_scp, post, f"{tmp_path}/acc.1"]) == 0
    assert tool("ivector_extractor_sum_accs")([f"{tmp_path}/acc.1", f"{tmp_path}/acc"]) == 0
    with CapturedLog("ivector-extractor-est") as caplog:
        assert tool("ivector_extractor_est")(["--num-threads=1", str(golden / "ie/0.ie"), f"{tmp_path}/acc",
                                              f"{tmp_path}/1.ie"]) == 0
    # the lines Kaldi's ivector-extractor-est logs, with Kaldi's values
    kaldi = (golden / "log/ie_est.0.log").read_text()
    for key in ("auxf/frame on training data was", "mean projections\\) was", "variances was",
                "improvement from prior is", "prior offset to", "improvement per frame was"):
        ours = float(re.search(key + r" (\S+)", caplog.text).group(1))
        assert ours == pytest.approx(float(re.search(key + r" (\S+)", kaldi).group(1)), rel=1e-5)
    new, ref = read_ivector_extractor(f"{tmp_path}/1.ie"), read_ivector_extractor(str(golden / "ie/1.ie"))
    np.testing.assert_allclose(new.sigma_inv, ref.sigma_inv, rtol=1e-4, atol=1e-4 * np.abs(ref.sigma_inv).max())


def test_extract_utterances_and_speakers(golden, train_feats, feats_scp, tmp_path):
    ie, post = str(golden / "ie/final.ie"), f"ark:{golden}/post.ark"
    with CapturedLog("ivector-extract") as caplog:
        assert tool("ivector_extract")(["--verbose=2", "--num-threads=1", ie, feats_scp, post,
                                        f"ark,t:{tmp_path}/iv.txt"]) == 0
    assert "Overall average objective-function change from estimating ivector was 4.50974 per frame" in caplog.text
    ours, ref = read_table(f"ark:{tmp_path}/iv.txt", "vector"), read_table(f"ark:{golden}/ivectors.ark", "vector")
    assert list(ours) == list(ref)
    for k in ref:
        assert np.linalg.norm(ours[k] - ref[k]) / np.linalg.norm(ref[k]) < 1e-4
    # per speaker: statistics pooled over the speaker's utterances
    assert tool("ivector_extract")(["--num-threads=1", f"--spk2utt=ark:{golden}/enroll_spk2utt", ie, feats_scp, post,
                                    f"ark:{tmp_path}/spk.ark"]) == 0
    spk = read_table(f"ark:{tmp_path}/spk.ark", "vector")
    assert len(spk) == 10
    # the speaker's i-vector is the one of its utterances' pooled statistics
    first = (golden / "enroll_spk2utt").read_text().split("\n")[0].split()
    ext = read_ivector_extractor(ie)
    posts = read_table(post, "posterior")
    st = batch_stats([train_feats[u] for u in first[1:]], [Posterior.from_lists(posts[u]) for u in first[1:]],
                     ext.num_gauss)
    pooled = BatchStats(st.gamma.sum(0, keepdim=True), st.X.sum(0, keepdim=True))
    np.testing.assert_allclose(spk[first[0]], extract_ivectors(ext, pooled)[0][0].numpy(), rtol=1e-5, atol=1e-6)
    # --acoustic-weight shrinks i-vectors towards the prior mean; --max-count caps the frame count
    assert tool("ivector_extract")(["--num-threads=1", "--acoustic-weight=0.1", ie, feats_scp, post,
                                    f"ark:{tmp_path}/aw.ark"]) == 0
    aw = read_table(f"ark:{tmp_path}/aw.ark", "vector")
    assert all(np.linalg.norm(aw[k]) < np.linalg.norm(ref[k]) for k in ref)
    with CapturedLog("ivector-extract") as caplog:
        assert tool("ivector_extract")(["--num-threads=1", "--max-count=100", ie, feats_scp, post,
                                        f"ark:{tmp_path}/mc.ark"]) == 0
    assert "due to --max-count=100" in caplog.text


def test_init_and_failures(golden, feats_scp, tmp_path):
    assert tool("ivector_extractor_init")(["--ivector-dim=7", "--use-weights=false", str(golden / "ubm/final.ubm"),
                                           f"{tmp_path}/0.ie"]) == 0
    ext = read_ivector_extractor(f"{tmp_path}/0.ie")
    assert ext.M.shape == (32, 60, 7) and ext.prior_offset == 100.0 and not ext.ivector_dependent_weights
    # posteriors of another model: Gaussian index out of range, named with the utterance
    with TableWriter(f"ark:{tmp_path}/p.ark", "posterior") as w:
        w.write("1688-142285-0000", [[(40, 1.0)]] * 1352)
    with CapturedLog("ivector-extract") as caplog:
        rc = tool("ivector_extract")(["--num-threads=1", f"{tmp_path}/0.ie", feats_scp, f"ark:{tmp_path}/p.ark",
                                      f"ark:{tmp_path}/x.ark"])
    assert rc == 1 and "utterance 1688-142285-0000: posterior index 40 out of range" in caplog.text
    (tmp_path / "none.ark").write_bytes(b"")
    with CapturedLog("ivector-extractor-acc-stats") as caplog:
        rc = tool("ivector_extractor_acc_stats")(["--num-threads=1", f"{tmp_path}/0.ie", feats_scp,
                                                  f"ark:{tmp_path}/none.ark", f"{tmp_path}/acc"])
    assert rc == 1 and "No posteriors for utterance" in caplog.text


def _extract_and_acc_stats(extractor: Path, feats: str, posts: str, tmp_path: Path) -> list[tuple[int, str]]:
    """(exit status, log) of ivector-extract and ivector-extractor-acc-stats on the same inputs."""
    out = []
    for name in ("ivector_extract", "ivector_extractor_acc_stats"):
        target = f"ark:{tmp_path}/x.ark" if name == "ivector_extract" else f"{tmp_path}/acc"
        with CapturedLog(name.replace("_", "-")) as caplog:
            rc = tool(name)(["--num-threads=1", str(extractor), feats, posts, target])
        out.append((rc, caplog.text))
    return out


def test_extract_names_utterance_and_dims_when_features_do_not_fit_the_extractor(golden, train_feats, tmp_path):
    key, feats = next(iter(train_feats.items()))
    with TableWriter(f"ark:{tmp_path}/f20.ark") as w:
        w.write(key, feats[:, :20])
    with TableWriter(f"ark:{tmp_path}/p.ark", "posterior") as w:
        w.write(key, [[(0, 1.0)]] * feats.shape[0])
    for rc, text in _extract_and_acc_stats(golden / "ie/final.ie", f"ark:{tmp_path}/f20.ark", f"ark:{tmp_path}/p.ark",
                                           tmp_path):
        assert rc == 1
        assert (f"utterance {key}: the features have dimension 20, but the i-vector extractor "
                f"{golden / 'ie/final.ie'} expects dimension 60") in text


def test_posteriors_with_nan_weights_are_refused_naming_the_utterance(golden, train_feats, tmp_path):
    key, feats = next(iter(train_feats.items()))
    with TableWriter(f"ark:{tmp_path}/f.ark") as w:
        w.write(key, feats)
    frames = " ".join(["[ 0 1 ]"] * (feats.shape[0] - 1) + ["[ 0 nan ]"])
    (tmp_path / "p.txt").write_text(f"{key} {frames}\n")  # our writers refuse NaN: an outside table
    for rc, text in _extract_and_acc_stats(golden / "ie/final.ie", f"ark:{tmp_path}/f.ark", f"ark,t:{tmp_path}/p.txt",
                                           tmp_path):
        assert rc == 1
        assert f"key '{key}'" in text and "NaN" in text
