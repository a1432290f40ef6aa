"""The bottleneck DNNs: the three shipped configs, the layer structure (linear bottleneck where configured, speaker
head where configured), save/load, and extraction that does not depend on how utterances are batched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from phonsid.nnet.bnf import (
    BnfConfigError,
    BottleneckDNN,
    Renorm,
    load_bnf_config,
    load_bnf_model,
    save_bnf_model,
)
from phonsid.nnet.extract_bnf import BnfExtractor, ExtractionError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_shipped_configs_describe_the_papers_networks():
    bnf1 = load_bnf_config(REPO / "conf" / "bnf1.yaml")
    assert bnf1.model.num_hidden_layers == 7 and bnf1.model.bottleneck_dim == 80
    assert bnf1.input.normalization == "sliding-cmn" and bnf1.multitask is None
    sbnf = load_bnf_config(REPO / "conf" / "sbnf.yaml")
    assert sbnf.model.num_hidden_layers == 6 and sbnf.model.bottleneck_dim == 80
    assert sbnf.input.normalization == "speaker-mvn" and sbnf.input.splice == [-10, -5, 0, 5, 10]
    assert sbnf.multitask is None
    mt = load_bnf_config(REPO / "conf" / "mt_sbnf.yaml")
    assert mt.network_dict()["model"] == sbnf.network_dict()["model"]
    assert mt.input == sbnf.input
    assert mt.multitask is not None and mt.multitask.speaker_weight > 0
    assert 1 <= mt.multitask.branch_layer <= mt.model.num_hidden_layers


def test_config_errors_name_the_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  hidden_dims: 12\n")
    with pytest.raises(BnfConfigError, match=r"bad\.yaml.*unknown key\(s\) in 'model': hidden_dims"):
        load_bnf_config(bad)
    with pytest.raises(BnfConfigError, match="bottleneck_position=9"):
        load_bnf_config(REPO / "conf" / "bnf1.yaml", ["model.bottleneck_position=9"])
    with pytest.raises(BnfConfigError, match="branch_layer=8"):
        load_bnf_config(REPO / "conf" / "mt_sbnf.yaml", ["multitask.branch_layer=8"])
    with pytest.raises(BnfConfigError, match="input.normalization 'fmllr'"):
        load_bnf_config(None, ["input.normalization=fmllr"])
    with pytest.raises(BnfConfigError, match="does not exist"):
        load_bnf_config(tmp_path / "missing.yaml")
    # "multitask=null" removes the speaker head
    assert load_bnf_config(REPO / "conf" / "mt_sbnf.yaml", ["multitask=null"]).multitask is None


def _tiny(mt: bool = False, norm: str = "batchnorm"):
    over = ["model.hidden_dim=32", "model.num_hidden_layers=4", "model.bottleneck_position=3",
            "model.bottleneck_dim=8", "input.splice=[-2,0,2]", f"model.norm={norm}"]
    if mt:
        over += ["multitask.branch_layer=2", "multitask.speaker_hidden_dims=[16]"]
    cfg = load_bnf_config(None, over)
    torch.manual_seed(0)
    return cfg, BottleneckDNN(5, 11, cfg.input, cfg.model, cfg.multitask, 4 if mt else 0)


def test_layer_structure_linear_bottleneck_and_heads():
    cfg, model = _tiny(mt=True)
    dims = [layer[0].out_features for layer in model.hidden]
    assert dims == [32, 32, 8, 32]
    # the bottleneck layer has no nonlinearity; the others have a ReLU
    kinds = [[type(m).__name__ for m in layer] for layer in model.hidden]
    assert kinds[2] == ["Linear", "BatchNorm1d"]
    assert all(k == ["Linear", "ReLU", "BatchNorm1d"] for i, k in enumerate(kinds) if i != 2)
    assert model.output.out_features == 11 and model.speaker_output.out_features == 4
    # the speaker branch takes hidden layer 2's output (32) through a 16-unit layer
    assert model.speaker_branch[0][0].in_features == 32 and model.speaker_output.in_features == 16
    x = torch.randn(64, 15)
    model.train()
    for _ in range(3):  # move the batch-norm statistics away from their initial values
        model(x)
    model.eval()
    senones, speakers = model(x)
    assert senones.shape == (64, 11) and speakers.shape == (64, 4)
    bn = model.bottleneck(x)
    assert bn.shape == (64, 8) and (bn < 0).any()  # linear: no ReLU clipping
    logp = model.log_posteriors(x)
    torch.testing.assert_close(logp.exp().sum(dim=1), torch.ones(64))


def test_renorm_unit_rms():
    cfg, model = _tiny(norm="renorm")
    assert isinstance(model.hidden[0][2], Renorm)
    y = Renorm()(torch.randn(10, 6) * 7)
    torch.testing.assert_close(y.pow(2).mean(dim=1), torch.ones(10))


def test_save_load_round_trip(tmp_path):
    cfg, model = _tiny(mt=True)
    model.set_input_stats(np.arange(5.0), np.full(5, 2.0))
    model.train()
    model(torch.randn(32, 15))
    save_bnf_model(tmp_path / "final.pt", model, {"note": "x"})
    loaded, info = load_bnf_model(tmp_path)  # a dir holding final.pt
    assert info.num_speakers == 4 and info.multitask.branch_layer == 2 and info.extra["note"] == "x"
    model.eval()
    x = torch.randn(20, 15)
    torch.testing.assert_close(loaded.bottleneck(x), model.bottleneck(x))
    torch.testing.assert_close(loaded(x)[1], model(x)[1])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_bnf_model(tmp_path / "nothing")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk.pt: cannot read the model"):
        load_bnf_model(tmp_path / "junk.pt")


def test_extraction_does_not_depend_on_batching(tmp_path):
    cfg, model = _tiny()
    model.set_input_stats(np.zeros(5), np.ones(5))
    model.train()
    model(torch.randn(64, 15))
    save_bnf_model(tmp_path / "final.pt", model)
    rng = np.random.default_rng(1)
    utts = [(f"u{i}", rng.standard_normal((n, 5)).astype(np.float32), None) for i, n in enumerate([7, 130, 1, 45])]
    one_call = BnfExtractor(tmp_path, batch_frames=100000).compute_many(utts)
    small = BnfExtractor(tmp_path, batch_frames=16)
    for (utt, feats, _), ref in zip(utts, one_call):
        assert ref.shape == (feats.shape[0], 8)
        np.testing.assert_allclose(small.compute(feats, None, utt), ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ExtractionError, match="utterance 'bad'.*6\\)"):
        small.compute(np.zeros((4, 6), np.float32), None, "bad")
    with pytest.raises(ExtractionError, match="utterance 'nan': non-finite"):
        small.compute(np.full((4, 5), np.nan, np.float32), None, "nan")


def test_utterance_with_non_finite_output_is_skipped_and_named(tmp_path):
    from phonsid.io import TableWriter, read_table
    from phonsid.nnet.extract_bnf import extract_table

    cfg, model = _tiny()
    model.set_input_stats(np.zeros(5), np.ones(5))
    model.eval()
    save_bnf_model(tmp_path / "final.pt", model)
    rng = np.random.default_rng(2)
    huge = (rng.uniform(-1, 1, (6, 5)) * 3e38).astype(np.float32)  # finite input whose activations overflow
    with TableWriter(f"ark:{tmp_path}/feats.ark") as w:
        w.write("a", rng.standard_normal((9, 5)).astype(np.float32))
        w.write("b-huge", huge)
        w.write("c", rng.standard_normal((4, 5)).astype(np.float32))
    warnings: list[str] = []
    for output in ("bottleneck", "log-posteriors"):
        warnings.clear()
        st = extract_table(tmp_path / "final.pt", f"ark:{tmp_path}/feats.ark", f"ark:{tmp_path}/{output}.ark",
                           output=output, log=lambda m: None, warn=warnings.append)
        assert (st.num_done, st.failed) == (2, ["b-huge"])
        assert any(f"utterance 'b-huge': non-finite output: ark:{tmp_path}/{output}.ark: key 'b-huge': refusing to "
                   "write non-finite values:" in m and " at row " in m for m in warnings), warnings
        assert list(read_table(f"ark:{tmp_path}/{output}.ark")) == ["a", "c"]
