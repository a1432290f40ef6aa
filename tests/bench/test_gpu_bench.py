"""bench/gpu.py: every row's code path runs on the CPU (``--device cpu --quick``: the same functions a CUDA run
calls, with device=cpu, so none of them rots unseen between GPU runs), the md and JSON it writes (every row, finite
numbers, the derived columns' arithmetic), the FLOP counting against hand counts and torch's FlopCounterMode, the
peak table and the budget. No timing thresholds."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[2]
GPU_PY = REPO / "bench" / "gpu.py"
PEAK = 2.0  # TFLOP/s given to the quick run, so that its MFU column is computed


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One ``--device cpu --quick`` run in a child process: (md text, JSON)."""
    out = tmp_path_factory.mktemp("gpu_bench") / "gpu.md"
    env = dict(os.environ, PYTHONPATH=str(REPO / "pyscripts"), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, str(GPU_PY), "--device", "cpu", "--quick", "--cpu-threads", "1", "--budget-s", "600",
           "--peak-tflops", str(PEAK), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out.read_text(), json.loads(out.with_suffix(".json").read_text())


def _table(md: str) -> dict[str, list[str]]:
    """The md table's rows by their first cell."""
    rows = {}
    for line in md.splitlines():
        if line.startswith("| ") and not line.startswith("| row ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def _number(cell: str) -> float:
    return float(cell.split()[0].replace(",", ""))


# ----------------------------------------------------------------------------------------------- the quick run


def test_quick_run_measures_every_row_on_the_cpu(gpu, quick_run) -> None:
    _, doc = quick_run
    rows = doc["rows"]
    assert [r["key"] for r in rows] == list(gpu.ROW_KEYS)
    for r in rows:
        assert r["status"] == "ok", (r["key"], r["status"])
        assert r["device"] == "cpu"
        assert r["steps"] >= 1 and r["seconds"] > 0 and r["units"] > 0, r["key"]


def test_every_cuda_row_has_its_cpu_run(gpu) -> None:
    """The rows a CUDA run measures are exactly those the CPU quick run measures, and every ratio it computes has
    its CPU row in the plan."""
    cuda_plan = gpu.plan(torch.device("cuda"), list(gpu.ROW_KEYS), True)
    on_cuda = [k for k, d in cuda_plan if d.type == "cuda"]
    on_cpu = [k for k, d in cuda_plan if d.type == "cpu"]
    assert on_cuda == list(gpu.ROW_KEYS)
    assert [k for k, d in gpu.plan(torch.device("cpu"), list(gpu.ROW_KEYS), True)] == list(gpu.ROW_KEYS)
    assert on_cpu == list(gpu.CPU_RATIO_ROWS)
    refs = {spec[-1] for spec in gpu.ROWS if spec[-1]}
    assert refs <= set(on_cpu)


def test_md_has_every_row_with_finite_numbers(gpu, quick_run) -> None:
    md, doc = quick_run
    table = _table(md)
    assert set(table) == set(gpu.ROW_KEYS)
    network = {r["key"] for r in doc["rows"] if r["network"]}
    for key, cells in table.items():
        steps, ms, throughput, tflops, mfu = cells[5], cells[6], cells[7], cells[8], cells[9]
        assert int(steps) >= 1
        for cell in (ms, throughput):
            assert math.isfinite(_number(cell)) and _number(cell) > 0, (key, cell)
        if key in network:
            assert math.isfinite(_number(tflops)) and _number(tflops) > 0, (key, tflops)
            assert mfu.endswith("%") and math.isfinite(_number(mfu)), (key, mfu)
        else:
            assert mfu == "–", key
    assert "Data pipeline:" in md and "full loop / loader-less" in md


def test_json_derived_columns(quick_run) -> None:
    """throughput = units / s, ms/step, TFLOP/s = FLOPs / s, MFU = FLOP/s over the given peak (network rows)."""
    _, doc = quick_run
    assert doc["meta"]["peak_bf16_tflops"] == PEAK
    for r in doc["rows"]:
        assert r["throughput"] == pytest.approx(r["units"] / r["seconds"])
        assert r["ms_per_step"] == pytest.approx(1e3 * r["seconds"] / r["steps"])
        if r["flops"] is not None:
            assert r["tflops"] == pytest.approx(r["flops"] / r["seconds"] / 1e12)
        if r["network"]:
            assert r["mfu"] == pytest.approx(r["flops"] / r["seconds"] / (PEAK * 1e12))
        else:
            assert r["mfu"] is None
    s = doc["summary"]
    by = {r["key"]: r for r in doc["rows"]}
    assert s["xvec_full_over_loaderless"] == pytest.approx(by["xvec_full_bf16"]["throughput"] /
                                                           by["xvec_train_bf16"]["throughput"])


def test_full_loops_ran_the_trainers(quick_run) -> None:
    _, doc = quick_run
    by = {r["key"]: r for r in doc["rows"]}
    assert "train_xvector call" in by["xvec_full_bf16"]["note"]
    assert "train_bnf call" in by["bnf_full_bf16"]["note"]
    # the loader-less and full-loop rows count the same FLOPs per step
    for bare, full in (("xvec_train_bf16", "xvec_full_bf16"), ("bnf_train_bf16", "bnf_full_bf16")):
        assert by[full]["flops"] / by[full]["steps"] == pytest.approx(by[bare]["flops"] / by[bare]["steps"])


def test_budget_skips_rows_and_still_writes_the_table(gpu, tmp_path) -> None:
    out = tmp_path / "gpu.md"
    assert gpu.main(["--device", "cpu", "--quick", "--budget-s", "1", "--rows", "plda_score,xvec_extract",
                     "--out", str(out)]) == 0
    table = _table(out.read_text())
    assert set(table) == {"plda_score", "xvec_extract"}
    assert all(cells[7].startswith("skipped:") for cells in table.values())
    doc = json.loads(out.with_suffix(".json").read_text())
    assert [r["status"].split(":")[0] for r in doc["rows"]] == ["skipped", "skipped"]


# ----------------------------------------------------------------------------------------------- FLOP counting


def _tiny_xvector(gpu, contexts=((-1, 0, 1), (0,))):
    from phonsid.nnet.xvector import XvectorModelConfig, XvectorTDNN

    cfg = XvectorModelConfig(frame_contexts=[list(c) for c in contexts], frame_dims=[5, 6], segment_dims=[7],
                             embedding_layer="tdnn3")
    return XvectorTDNN(3, 4, cfg).eval()


def test_xvector_macs_hand_count(gpu) -> None:
    model = _tiny_xvector(gpu)
    # 10 frames: tdnn1 (3 x 3 in, 5 out) outputs 8 frames, tdnn2 (5 -> 6) 8 frames, pooling 2 x 6 = 12,
    # tdnn3 12 -> 7 once, output 7 -> 4 once
    assert gpu.xvector_macs(model, 10) == 8 * 5 * 9 + 8 * 6 * 5 + 12 * 7 + 7 * 4
    assert gpu.xvector_macs(model, 10, upto_embedding=True) == 8 * 5 * 9 + 8 * 6 * 5 + 12 * 7
    # an irregular context is spliced (kernel 1 over 3 x 3 channels): the same multiply-adds per output frame
    spliced = _tiny_xvector(gpu, ((-2, 0, 1), (0,)))
    assert not spliced.frame_layers[0].regular
    assert gpu.xvector_macs(spliced, 10) == 7 * 5 * 9 + 7 * 6 * 5 + 12 * 7 + 7 * 4


def _counted_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def test_flop_counts_match_torch_flop_counter(gpu) -> None:
    """2 x the analytic multiply-adds = the FLOPs torch counts for the forward (convolutions and matmuls)."""
    model = _tiny_xvector(gpu)
    x = torch.randn(2, 10, 3)
    assert _counted_flops(lambda: model(x)) == 2 * 2 * gpu.xvector_macs(model, 10)
    assert _counted_flops(lambda: model.embed(x)) == 2 * 2 * gpu.xvector_macs(model, 10, upto_embedding=True)

    from phonsid.nnet.bnf import BottleneckDNN, InputConfig, ModelConfig

    dnn = BottleneckDNN(4, 9, InputConfig(splice=[-1, 0, 1]), ModelConfig(num_hidden_layers=3, hidden_dim=8,
                                                                         bottleneck_dim=2, bottleneck_position=2))
    assert gpu.dense_macs(dnn) == 12 * 8 + 8 * 2 + 2 * 8 + 8 * 9
    assert _counted_flops(lambda: dnn.eval()(torch.randn(5, 12))) == 2 * 5 * gpu.dense_macs(dnn)


def test_training_and_extraction_flops(gpu) -> None:
    assert gpu.train_flops(10) == 60.0
    model = _tiny_xvector(gpu)
    emb = lambda t: gpu.xvector_macs(model, t, upto_embedding=True)  # noqa: E731
    # Kaldi's chunking: 25 frames with chunk 10 -> chunks of 10, 10 and 5, the last padded to the minimum 8
    assert gpu.xvector_extract_flops(model, 25, 10, 8) == 2.0 * (emb(10) + emb(10) + emb(8))
    assert gpu.xvector_extract_flops(model, 6, 10, 8) == 2.0 * emb(8)  # one short chunk, padded
    g, d, s = 2, 3, 4
    assert gpu.ivector_extract_flops(g, d, s) == pytest.approx(2 * g * d * s + g * s * (s + 1) + s ** 3 / 3 + 4 * s * s)


def test_mfu_and_peak_table(gpu) -> None:
    assert gpu.mfu(494.7e12, 989.4) == pytest.approx(0.5)
    assert math.isnan(gpu.mfu(1e12, None))
    assert gpu.peak_bf16_tflops("NVIDIA H100 80GB HBM3") == 989.4
    assert gpu.peak_bf16_tflops("NVIDIA H100 PCIe") == 756.0
    assert gpu.peak_bf16_tflops("NVIDIA H200") == 989.4
    assert gpu.peak_bf16_tflops("NVIDIA GH200 480GB") == 989.4
    assert gpu.peak_bf16_tflops("NVIDIA A100-SXM4-80GB") == 312.0
    assert gpu.peak_bf16_tflops("NVIDIA L40S") == 362.1
    assert gpu.peak_bf16_tflops("NVIDIA L4") == 121.0
    assert gpu.peak_bf16_tflops("Tesla V100-SXM2-16GB") is None


def test_measure_counts_steps_and_work(gpu) -> None:
    calls = []

    def step():
        calls.append(1)
        return gpu.Work(2.0, 1.0, 10.0)

    m = gpu.measure(step, torch.device("cpu"), warmup=2, max_seconds=0.0, min_steps=5)
    assert (m.steps, m.units, m.alt, m.flops) == (5, 10.0, 5.0, 50.0)
    assert len(calls) == 7  # the warm-up steps are not counted
    m = gpu.measure(step, torch.device("cpu"), warmup=0, max_seconds=60.0, max_steps=3)
    assert m.steps == 3
