"""The x-vector network has exactly the shape of Kaldi's run_xvector_1a.sh."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from phonsid.nnet.xvector import (
    StatsPooling,
    TdnnLayer,
    XvectorModelConfig,
    XvectorTDNN,
    load_xvector_model,
    save_xvector_model,
)


def test_layers_match_kaldi_xconfig():
    m = XvectorTDNN(23, 1000)
    frame = m.frame_layers
    assert [layer.context for layer in frame] == [[-2, -1, 0, 1, 2], [-2, 0, 2], [-3, 0, 3], [0], [0]]
    # Append(-2..2) on 23 dims -> 512, Append(-2,0,2) -> 512 (dilation 2), Append(-3,0,3) -> 512 (dilation 3), ...
    shapes = [(tuple(layer.affine.weight.shape), layer.affine.dilation[0]) for layer in frame]
    assert shapes == [((512, 23, 5), 1), ((512, 512, 3), 2), ((512, 512, 3), 3), ((512, 512, 1), 1),
                      ((1500, 512, 1), 1)]
    assert [tuple(s.affine.weight.shape) for s in m.segment_layers] == [(512, 3000), (512, 512)]
    assert tuple(m.output.weight.shape) == (1000, 512)
    # batch norm without learned scale/offset, epsilon 0.001 (Kaldi's BatchNormComponent)
    for bn in [layer.batchnorm for layer in frame] + [s.batchnorm for s in m.segment_layers]:
        assert bn.affine is False and bn.eps == pytest.approx(0.001)
    # Kaldi's output-layer starts at zero
    assert torch.count_nonzero(m.output.weight) == 0 and torch.count_nonzero(m.output.bias) == 0
    assert m.layer_names() == ["tdnn1", "tdnn2", "tdnn3", "tdnn4", "tdnn5", "tdnn6", "tdnn7", "output"]
    expected_params = (23 * 5 * 512 + 512) + 2 * (512 * 3 * 512 + 512) + (512 * 512 + 512) + (512 * 1500 + 1500) \
        + (3000 * 512 + 512) + (512 * 512 + 512) + (512 * 1000 + 1000)
    assert sum(p.numel() for p in m.parameters()) == expected_params


def test_receptive_field_and_output_frames():
    cfg = XvectorModelConfig()
    assert (cfg.left_context, cfg.right_context, cfg.min_input_frames) == (7, 7, 15)
    assert cfg.num_output_frames(200) == 186
    m = XvectorTDNN(20, 5, XvectorModelConfig(frame_dims=[8, 8, 8, 8, 16], segment_dims=[8, 8])).eval()
    frames = []
    m.pooling.register_forward_hook(lambda mod, inp, out: frames.append(inp[0].shape[2]))
    for t in (15, 25, 200):
        m(torch.randn(2, t, 20))
    assert frames == [1, 11, 186]
    with pytest.raises(ValueError, match="14 frames is fewer than the 15"):
        m(torch.randn(1, 14, 20))
    with pytest.raises(ValueError, match="expected input"):
        m(torch.randn(1, 30, 19))


def test_tdnn_layer_is_an_affine_map_of_the_spliced_frames():
    torch.manual_seed(1)
    for ctx in ([-3, 0, 3], [-3, -1, 0, 2]):  # a dilated convolution, and explicit splicing
        layer = TdnnLayer(4, 6, ctx).eval()
        x = torch.randn(1, 4, 20)
        with torch.no_grad():
            got = layer.affine(x if layer.regular else torch.cat(
                [x[:, :, o - ctx[0]:o - ctx[0] + 20 - (ctx[-1] - ctx[0])] for o in ctx], 1))
            w = layer.affine.weight.reshape(6, -1) if not layer.regular else \
                layer.affine.weight.permute(0, 2, 1).reshape(6, -1)
            for t in range(-ctx[0], 20 - ctx[-1]):
                spliced = torch.cat([x[0, :, t + o] for o in ctx])  # Kaldi's Append(offsets)
                expect = w @ spliced + layer.affine.bias
                torch.testing.assert_close(got[0, :, t + ctx[0]], expect, rtol=1e-5, atol=1e-5)


def test_stats_pooling_is_mean_and_population_stddev():
    x = torch.randn(3, 7, 50, dtype=torch.float32) * 3 + 1
    out = StatsPooling()(x).numpy()
    xn = x.numpy().astype(np.float64)
    np.testing.assert_allclose(out[:, :7], xn.mean(axis=2), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[:, 7:], xn.std(axis=2), rtol=1e-4, atol=1e-4)
    const = torch.ones(1, 2, 10)
    assert torch.allclose(StatsPooling()(const)[0, 2:], torch.full((2,), 1e-5))  # sqrt of the 1e-10 floor


def test_embedding_is_tdnn6_affine_before_relu():
    torch.manual_seed(0)
    m = XvectorTDNN(10, 4, XvectorModelConfig(frame_dims=[8, 8, 8, 8, 16], segment_dims=[6, 5])).eval()
    x = torch.randn(3, 40, 10)
    with torch.no_grad():
        pooled = m.pooled(x)
        expect = m.segment_layers[0].affine(pooled)
        emb = m.embed(x)
        logits, emb2 = m.forward_with_embedding(x)
    torch.testing.assert_close(emb, expect)
    torch.testing.assert_close(emb2, expect)
    assert (emb < 0).any(), "the embedding is taken before the ReLU"
    torch.testing.assert_close(logits, m(x))
    cfg7 = XvectorModelConfig(frame_dims=[8, 8, 8, 8, 16], segment_dims=[6, 5], embedding_layer="tdnn7")
    assert XvectorTDNN(10, 4, cfg7).embed(torch.randn(2, 20, 10)).shape == (2, 5)


def test_config_errors_name_the_problem():
    with pytest.raises(ValueError, match="frame_contexts has 2 layers but frame_dims has 5"):
        XvectorModelConfig(frame_contexts=[[0], [0]])
    with pytest.raises(ValueError, match="embedding_layer 'tdnn9'"):
        XvectorModelConfig(embedding_layer="tdnn9")
    with pytest.raises(ValueError, match="unknown key"):
        XvectorModelConfig.from_dict({"hidden": 3})


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = XvectorModelConfig(frame_dims=[8, 8, 8, 8, 16], segment_dims=[6, 6])
    m = XvectorTDNN(12, 3, cfg)
    m.train()
    m(torch.randn(4, 30, 12))  # moves the batch-norm running statistics
    save_xvector_model(tmp_path / "final.pt", m, {"extract": {"min_chunk_size": 25}})
    m2, payload = load_xvector_model(tmp_path / "final.pt")
    assert payload["extract"] == {"min_chunk_size": 25} and m2.config == cfg
    m.eval()
    x = torch.randn(2, 33, 12)
    torch.testing.assert_close(m.embed(x), m2.embed(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="not a phonsid x-vector model"):
        torch.save({"x": 1}, tmp_path / "bad.pt")
        load_xvector_model(tmp_path / "bad.pt")
