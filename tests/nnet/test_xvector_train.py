"""x-vector training: Kaldi's update and schedule, learning a separable toy set, resume, NaN handling."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
import yaml

from phonsid.nnet.train_xvector import (
    effective_lrate,
    load_xvector_config,
    plan_visits,
    rank_batch_indices,
    train_xvector,
    visit_permutation,
)
from phonsid.nnet.training import KaldiSGD, NonFiniteLossError, TrainingInterrupted, per_step_shrink
from phonsid.nnet.xvector import load_xvector_model
from phonsid.nnet.xvector_egs import EgsArchive, build_egs_dir

EGS_OPTS = dict(num_heldout_utts=6, num_repeats=30, frames_per_iter=60000, frames_per_iter_diagnostic=10000,
                num_diagnostic_archives=2, min_frames_per_chunk=40, max_frames_per_chunk=70)


def _config(overrides, *extra):
    return load_xvector_config(None, list(overrides) + list(extra))


def test_kaldi_sgd_reproduces_nnet3_update():
    a = torch.nn.Parameter(torch.zeros(3))
    b = torch.nn.Parameter(torch.zeros(2))
    opt = KaldiSGD([("a", [a], 0.5), ("b", [b], 0.0)], momentum=0.5, max_param_change=0.6)
    grads = [(torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.1, 0.0])),
             (torch.tensor([0.0, 0.0, 0.0]), torch.tensor([3.0, 4.0])),
             (torch.tensor([0.2, 0.0, 0.0]), torch.tensor([0.0, 0.0]))]
    lr = 1.0
    delta_a, delta_b = torch.zeros(3), torch.zeros(2)
    pa, pb = torch.zeros(3), torch.zeros(2)
    for ga, gb in grads:
        a.grad, b.grad = ga.clone(), gb.clone()
        opt.step(lr=lr)
        # nnet3: delta = m*delta + lr*grad; per-component factor on ||delta_c||; global on (1-m)*norm
        delta_a = 0.5 * delta_a + lr * ga
        delta_b = 0.5 * delta_b + lr * gb
        fa = min(1.0, 0.5 / float(delta_a.norm())) if delta_a.norm() > 0 else 1.0
        total = 0.5 * math.sqrt(fa ** 2 * float(delta_a.norm()) ** 2 + float(delta_b.norm()) ** 2)
        g = min(1.0, 0.6 / total) if total > 0 else 1.0
        pa -= 0.5 * g * fa * delta_a
        pb -= 0.5 * g * delta_b
        torch.testing.assert_close(a.detach(), pa)
        torch.testing.assert_close(b.detach(), pb)
    stats = opt.max_change_stats()
    assert stats["steps"] == 3 and stats["per_component"] == {"a": 1, "b": 0} and stats["global"] == 2
    # a non-finite change is not applied, and forgotten
    before = a.detach().clone()
    a.grad, b.grad = torch.tensor([float("nan"), 0.0, 0.0]), torch.zeros(2)
    opt.step(lr=lr)
    torch.testing.assert_close(a.detach(), before)
    a.grad = torch.zeros(3)
    opt.step(lr=lr)
    torch.testing.assert_close(a.detach(), before)
    assert opt.max_change_stats()["skipped"] == 1


def test_schedule_matches_kaldi():
    visits = plan_visits([100, 70, 130], num_epochs=2, global_batch=32)
    assert [(v.archive, v.num_steps, v.first_step) for v in visits] == \
        [(0, 3, 0), (1, 2, 3), (2, 4, 5), (0, 3, 9), (1, 2, 12), (2, 4, 14)]
    assert len(plan_visits([100] * 4, num_epochs=1.5, global_batch=10)) == 6  # int(1.5 * 4) archive passes
    tc = _config([]).train
    assert effective_lrate(0, 100, tc) == pytest.approx(0.001)
    assert effective_lrate(50, 100, tc) == pytest.approx(math.sqrt(0.001 * 0.0001))
    assert effective_lrate(99, 100, tc) == pytest.approx(0.0001)
    # Kaldi shrinks by 1 - 10*lrate*num_jobs per archive; spread over the archive's minibatches
    s = per_step_shrink(10, 0.001 * 2, 3200 / 64)
    assert s ** 50 == pytest.approx(1 - 10 * 0.002)
    with pytest.raises(ValueError, match="shrink value"):
        per_step_shrink(10, 0.06, 10)
    # with N ranks each step takes N disjoint slices of one global minibatch
    perm = visit_permutation(123, 4, 100)
    assert sorted(perm) == list(range(100)) and not np.array_equal(perm, visit_permutation(123, 5, 100))
    parts = [rank_batch_indices(perm, 1, r, 2, 16) for r in range(2)]
    assert not set(parts[0]) & set(parts[1])
    assert sorted(np.concatenate(parts)) == sorted(perm[32:64])
    np.testing.assert_array_equal(rank_batch_indices(perm, 2, 0, 1, 32), np.sort(perm[64:96]))


def test_config_file_and_overrides(tmp_path, repo_root):
    cfg = load_xvector_config(repo_root / "conf" / "xvector.yaml")
    assert cfg.model.frame_dims == [512, 512, 512, 512, 1500] and cfg.model.embedding_layer == "tdnn6"
    assert (cfg.train.num_epochs, cfg.train.minibatch_size, cfg.train.momentum) == (3, 64, 0.5)
    assert (cfg.train.initial_effective_lrate, cfg.train.final_effective_lrate) == (0.001, 0.0001)
    assert (cfg.extract.max_chunk_size, cfg.extract.min_chunk_size) == (10000, 25)
    cfg = load_xvector_config(repo_root / "conf" / "xvector.yaml", ["train.num_epochs=1", "model.segment_dims=[64,32]"])
    assert cfg.train.num_epochs == 1 and cfg.model.segment_dims == [64, 32]
    with pytest.raises(ValueError, match="unknown key.*'train': epochs"):
        load_xvector_config(None, ["train.epochs=2"])
    with pytest.raises(ValueError, match="not of the form section.key=value"):
        load_xvector_config(None, ["epochs=2"])
    (tmp_path / "bad.yaml").write_text("model: [1, 2]\n")
    with pytest.raises(ValueError, match="bad.yaml: section 'model' must be a mapping"):
        load_xvector_config(tmp_path / "bad.yaml")


@pytest.fixture(scope="module")
def toy_egs(tmp_path_factory, make_speakers):
    sp = make_speakers(num_spk=8, utts_per_spk=6, dim=8, min_len=150, max_len=280, seed=0)
    d = tmp_path_factory.mktemp("toy_egs")
    build_egs_dir(d, sp.feats.__getitem__, sp.utt2num_frames, sp.utt2spk, compress=False, **EGS_OPTS)
    return d


def test_training_learns_separable_speakers(toy_egs, tmp_path, tiny_overrides):
    cfg = _config(tiny_overrides, "train.num_epochs=2")
    res = train_xvector(toy_egs, tmp_path / "exp", cfg, use_gpu="no", log=lambda m: None)
    rows = list(csv.DictReader(open(tmp_path / "exp" / "diagnostics.csv")))
    assert int(rows[-1]["step"]) == res.num_steps
    assert float(rows[-1]["train_objective"]) > float(rows[0]["train_objective"]) + 0.5
    assert float(rows[-1]["valid_accuracy"]) >= 0.9 and float(rows[-1]["train_subset_accuracy"]) >= 0.9
    assert float(rows[-1]["effective_lrate"]) == pytest.approx(0.0008)
    for name in ("final.pt", "config.yaml", "min_chunk_size", "max_chunk_size", "spk2int"):
        assert (tmp_path / "exp" / name).exists(), name
    saved = yaml.safe_load((tmp_path / "exp" / "config.yaml").read_text())
    assert saved["feat_dim"] == 8 and saved["num_targets"] == 8 and saved["model"]["frame_dims"][-1] == 48
    model, _ = load_xvector_model(tmp_path / "exp" / "final.pt")
    a = EgsArchive(toy_egs / "valid_egs.2")
    with torch.no_grad():
        pred = model(torch.from_numpy(a.read(np.arange(a.num_egs))[0])).argmax(1).numpy()
    assert (pred == a.labels).mean() >= 0.9


def test_resume_after_interruption_is_identical(toy_egs, tmp_path, tiny_overrides):
    cfg = _config(tiny_overrides, "train.num_epochs=1", "train.checkpoint_interval=7")
    full = train_xvector(toy_egs, tmp_path / "full", cfg, use_gpu="no", log=lambda m: None)
    assert full.num_steps > 20
    with pytest.raises(TrainingInterrupted):
        train_xvector(toy_egs, tmp_path / "cut", cfg, use_gpu="no", log=lambda m: None, stop_after_step=17)
    assert sorted(p.name for p in (tmp_path / "cut" / "checkpoints").iterdir()) == ["ckpt-00000007.pt",
                                                                                 "ckpt-00000014.pt"]
    logs = []
    resumed = train_xvector(toy_egs, tmp_path / "cut", cfg, use_gpu="no", log=logs.append)
    assert any("resuming from" in m and "ckpt-00000014.pt" in m for m in logs)
    assert resumed.num_steps == full.num_steps
    a = torch.load(tmp_path / "full" / "final.pt", weights_only=False)["state_dict"]
    b = torch.load(tmp_path / "cut" / "final.pt", weights_only=False)["state_dict"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    rows = list(csv.DictReader(open(tmp_path / "cut" / "diagnostics.csv")))
    assert [int(r["step"]) for r in rows] == sorted({int(r["step"]) for r in rows})  # no duplicated rows
    # the diagnostics of the block the run was interrupted in (steps 1-20, checkpoint at 14) are those of the
    # uninterrupted run: the checkpoint carries the block's sums
    full_rows = list(csv.DictReader(open(tmp_path / "full" / "diagnostics.csv")))
    same = ("step", "train_objective", "train_accuracy", "valid_objective", "valid_accuracy")
    assert [[r[k] for k in same] for r in rows] == [[r[k] for k in same] for r in full_rows]
    # a changed schedule cannot resume silently
    with pytest.raises(ValueError, match="train.minibatch_size was 16, now 8"):
        train_xvector(toy_egs, tmp_path / "cut", _config(tiny_overrides, "train.num_epochs=1",
                                                         "train.minibatch_size=8"), use_gpu="no", log=lambda m: None)


def test_nan_loss_names_iteration_and_checkpoint(toy_egs, tmp_path, tiny_overrides):
    import shutil

    egs = tmp_path / "egs"
    shutil.copytree(toy_egs, egs)
    mm = np.load(egs / "egs.2.feats.npy", mmap_mode="r+")
    mm[:] = np.nan
    mm.flush()
    del mm
    cfg = _config(tiny_overrides, "train.num_epochs=1", "train.checkpoint_interval=5", "train.log_interval=3")
    steps_archive1 = EgsArchive(egs / "egs.1").num_egs // 16
    with pytest.raises(NonFiniteLossError) as info:
        train_xvector(egs, tmp_path / "exp", cfg, use_gpu="no", log=lambda m: None)
    msg = str(info.value)
    assert f"iteration (minibatch step) {steps_archive1}" in msg
    last_ckpt = (steps_archive1 // 5) * 5
    assert f"ckpt-{last_ckpt:08d}.pt" in msg
    assert not (tmp_path / "exp" / "final.pt").exists()
