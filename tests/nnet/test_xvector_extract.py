"""x-vector extraction: Kaldi's chunking, edge padding and length weighting; the CLI, the script, the export."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from phonsid.io import RandomReader, read_table
from phonsid.nnet.xvector import XvectorModelConfig, XvectorTDNN, save_xvector_model
from phonsid.nnet.xvector_extract import (
    FeatureDimError,
    XvectorExtractionError,
    XvectorExtractor,
    load_extractor,
    plan_chunks,
)

REPO = Path(__file__).resolve().parents[2]
CFG = XvectorModelConfig(frame_dims=[16, 16, 16, 16, 32], segment_dims=[12, 10])


def _model(dim=6, seed=0) -> XvectorTDNN:
    torch.manual_seed(seed)
    m = XvectorTDNN(dim, 4, CFG)
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(8, 40, dim) * 2 + 0.5)  # non-trivial batch-norm statistics
    return m.eval()


def _embed(m, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return m.embed(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None]).numpy()[0]


def test_chunk_plan_follows_nnet3_xvector_compute():
    assert plan_chunks(25000, 10000, 25) == [(0, 10000, 10000), (10000, 10000, 10000), (20000, 5000, 5000)]
    assert plan_chunks(20005, 10000, 25) == [(0, 10000, 10000), (10000, 10000, 10000), (20000, 5, 25)]
    assert plan_chunks(20005, 10000, 25, pad_input=False) == [(0, 10000, 10000), (10000, 10000, 10000)]
    assert plan_chunks(300, 10000, 25) == [(0, 300, 300)]  # shorter than a chunk: one chunk of it all
    assert plan_chunks(10, 10000, 25) == [(0, 10, 25)]
    assert plan_chunks(10, 10000, 25, pad_input=False) == []
    assert plan_chunks(777, -1, 25) == [(0, 777, 777)]
    assert plan_chunks(0, 100, 25) == []


def test_extractor_matches_hand_computation():
    m = _model()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((95, 6)).astype(np.float32)
    ex = XvectorExtractor(m, chunk_size=40, min_chunk_size=25, cmn_window=0)
    # chunks [0,40) [40,80) [80,95); the last padded by 5 copies of frame 80 on the left and of frame 94 on the right
    last = np.vstack([x[80:81]] * 5 + [x[80:95]] + [x[94:95]] * 5)
    assert last.shape == (25, 6)
    expect = (40 * _embed(m, x[:40]) + 40 * _embed(m, x[40:80]) + 15 * _embed(m, last)) / 95
    np.testing.assert_allclose(ex.embed_prepared(x), expect, rtol=1e-5, atol=1e-5)
    # an utterance shorter than --min-chunk-size: one chunk padded 7 left / 8 right
    short = x[:10]
    padded = np.vstack([short[:1]] * 7 + [short] + [short[-1:]] * 8)
    np.testing.assert_allclose(ex.embed_prepared(short), _embed(m, padded), rtol=1e-5, atol=1e-5)
    # without padding the short chunk is skipped, and a short utterance is an error
    nopad = XvectorExtractor(m, chunk_size=40, min_chunk_size=25, pad_input=False, cmn_window=0)
    np.testing.assert_allclose(nopad.embed_prepared(x), (_embed(m, x[:40]) + _embed(m, x[40:80])) / 2,
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(XvectorExtractionError, match="fewer than --min-chunk-size=25"):
        nopad.embed_prepared(short, "u1")
    # the whole utterance at once (--chunk-size -1), and more chunks than one batch
    whole = XvectorExtractor(m, chunk_size=-1, min_chunk_size=25, cmn_window=0)
    np.testing.assert_allclose(whole.embed_prepared(x), _embed(m, x), rtol=1e-5, atol=1e-5)
    many = XvectorExtractor(m, chunk_size=20, min_chunk_size=20, cmn_window=0)
    long = rng.standard_normal((20 * 19 + 3, 6)).astype(np.float32)
    tail = np.vstack([long[380:381]] * 8 + [long[380:]] + [long[-1:]] * 9)
    expect = (sum(20 * _embed(m, long[i:i + 20]) for i in range(0, 380, 20)) + 3 * _embed(m, tail)) / 383
    np.testing.assert_allclose(many.embed_prepared(long), expect, rtol=1e-4, atol=1e-5)


def test_bad_input_errors():
    ex = XvectorExtractor(_model(), chunk_size=40, min_chunk_size=25, cmn_window=0, source="exp/x/final.pt")
    with pytest.raises(FeatureDimError, match="utterance u7: feature dim 5 but the x-vector model exp/x/final.pt "
                                              "expects 6"):
        ex.embed_prepared(np.zeros((50, 5), np.float32), "u7")
    with pytest.raises(XvectorExtractionError, match="zero-length"):
        ex.embed_prepared(np.zeros((0, 6), np.float32), "u8")
    with pytest.raises(ValueError, match="below the 15 frames"):
        XvectorExtractor(_model(), chunk_size=40, min_chunk_size=10)


@pytest.fixture
def nnet_dir(tmp_path):
    d = tmp_path / "nnet"
    save_xvector_model(d / "final.pt", _model(dim=8), {"extract": {"min_chunk_size": 25, "max_chunk_size": 60}})
    (d / "min_chunk_size").write_text("25\n")
    (d / "max_chunk_size").write_text("60\n")
    return d


def test_load_extractor_applies_the_recipe_transform(nnet_dir, make_speakers, frontend):
    import phonsid.features

    ex = load_extractor(nnet_dir)
    assert (ex.embedder.chunk_size, ex.embedder.min_chunk_size, ex.embedding_dim, ex.feat_dim) == (60, 25, 12, 8)
    sp = make_speakers(num_spk=1, utts_per_spk=1, dim=8, min_len=130, max_len=130, voiced_fraction=0.7)
    (utt,) = sp.feats
    feats, vad = sp.feats[utt], sp.vad[utt]
    prepared = phonsid.features.select_voiced_frames(
        phonsid.features.apply_cmvn_sliding(feats, cmn_window=300, min_cmn_window=100, center=True,
                                            norm_vars=False), vad)
    assert prepared.shape[0] == int(vad.sum())
    np.testing.assert_allclose(ex.embed(feats, vad, utt), ex.embed_prepared(prepared), rtol=1e-6, atol=1e-6)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_extractor(nnet_dir.parent / "nothing")


def test_extract_script_writes_readable_tables(tmp_path, nnet_dir, env, make_speakers, write_data_dir):
    sp = make_speakers(num_spk=3, utts_per_spk=3, dim=8, min_len=20, max_len=160, voiced_fraction=0.8, seed=3)
    data = write_data_dir(tmp_path / "data", sp)
    out = tmp_path / "xvectors"
    res = subprocess.run(["sid/nnet/extract_xvectors.sh", "--nj", "2", str(nnet_dir), str(data), str(out)],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "wrote 9 x-vectors and 3 speaker x-vectors" in res.stdout
    ex = load_extractor(nnet_dir)
    xv = read_table(f"scp:{out}/xvector.scp", "vector")
    assert sorted(xv) == sorted(sp.feats)
    for utt, vec in xv.items():
        np.testing.assert_allclose(vec, ex.embed(sp.feats[utt], sp.vad[utt], utt), rtol=1e-5, atol=1e-5)
    with RandomReader(f"scp:{out}/spk_xvector.scp", "vector") as spk:
        for s in ("spk00", "spk01", "spk02"):
            utts = [u for u in xv if sp.utt2spk[u] == s]
            np.testing.assert_allclose(spk[s], np.mean([xv[u] for u in utts], axis=0), rtol=1e-5, atol=1e-6)
    assert read_table(f"ark,t:{out}/num_utts.ark", "int") == {"spk00": 3, "spk01": 3, "spk02": 3}
    # chunked extraction really happened (utterances up to 160 frames, chunks of 60)
    log = (out / "log" / "extract.1.log").read_text()
    assert "Done" in log and "real-time factor" in log


def test_compute_cli_rejects_wrong_feature_dim(tmp_path, nnet_dir, env, make_speakers, write_data_dir):
    sp = make_speakers(num_spk=1, utts_per_spk=2, dim=5, min_len=50, max_len=60)
    data = write_data_dir(tmp_path / "data", sp)
    res = subprocess.run(["python", "pyscripts/nnet_xvector_compute.py", str(nnet_dir), f"scp:{data}/feats.scp",
                          f"ark:{tmp_path}/x.ark"], cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode == 1
    assert f"feature dim 5 but the x-vector model {nnet_dir}/final.pt expects 8" in res.stderr
    assert not (tmp_path / "x.ark").exists()


def test_torchscript_export_gives_the_same_embeddings(tmp_path, nnet_dir, env):
    out = tmp_path / "xvector.ts"
    res = subprocess.run(["python", "pyscripts/export_xvector.py", str(nnet_dir), str(out)], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "largest relative difference" in res.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in torch 2.13, still works
        scripted = torch.jit.load(str(out))
    ex = load_extractor(nnet_dir)
    rng = np.random.default_rng(7)
    for n in (5, 25, 59, 60, 61, 200, 241):
        x = rng.standard_normal((n, 8)).astype(np.float32)
        with torch.no_grad():
            got = scripted(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, ex.embed_prepared(x), rtol=1e-5, atol=1e-5)
