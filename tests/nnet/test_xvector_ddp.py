"""Multi-process training: the trainer under torchrun with 2 gloo (CPU) processes equals the same schedule
emulated in one process (each rank's slice of the minibatch through its own batch norm, gradients averaged)."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import torch
import torch.nn.functional as F

from phonsid.nnet.train_xvector import (
    effective_lrate,
    load_xvector_config,
    plan_visits,
    rank_batch_indices,
    visit_permutation,
    visit_shrink,
)
from phonsid.nnet.training import KaldiSGD
from phonsid.nnet.xvector import XvectorTDNN
from phonsid.nnet.xvector_egs import EgsDir, build_egs_dir

REPO = Path(__file__).resolve().parents[2]
OVERRIDES = ["model.frame_dims=[16,16,16,16,32]", "model.segment_dims=[16,16]", "train.minibatch_size=8",
             "train.num_epochs=1", "train.initial_effective_lrate=0.004", "train.final_effective_lrate=0.001",
             "train.diagnostic_interval=4", "train.checkpoint_interval=5", "train.log_interval=2"]


def emulate_ranks(egs_dir: Path, world: int) -> tuple[XvectorTDNN, int]:
    """The DDP schedule in one process: per step, each rank's batch through the model (batch norm per rank,
    running statistics following rank 0, whose buffers DDP broadcasts), loss averaged over ranks."""
    cfg = load_xvector_config(None, OVERRIDES)
    tc = cfg.train
    egs = EgsDir.open(egs_dir)
    torch.manual_seed(tc.srand)
    model = XvectorTDNN(egs.feat_dim, egs.num_pdfs, cfg.model)
    opt = KaldiSGD([(n, list(m.parameters()), tc.output_max_change if n == "output" else tc.max_change)
                    for n, m in model.updatable_components()], tc.momentum, tc.max_param_change)
    visits = plan_visits([a.num_egs for a in egs.train], tc.num_epochs, tc.minibatch_size * world)
    total = sum(v.num_steps for v in visits)
    step = 0
    model.train()
    for v in visits:
        a = egs.train[v.archive]
        perm = visit_permutation(tc.srand, v.index, a.num_egs)
        shrink = visit_shrink(tc, v, total, a.num_egs, world)
        for s in range(v.num_steps):
            bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
            before = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in bns]
            losses = []
            for r in list(range(1, world)) + [0]:
                if r == 0:  # new buffer tensors (the graph of rank 1's forward keeps the old ones)
                    for m, (mean, var, n) in zip(bns, before):
                        m.running_mean, m.running_var, m.num_batches_tracked = mean, var, n
                x, y = a.read(rank_batch_indices(perm, s, r, world, tc.minibatch_size))
                losses.append(F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y)))
            opt.zero_grad()
            (sum(losses) / world).backward()
            opt.step(lr=effective_lrate(step, total, tc) * tc.minibatch_size * world, shrink=shrink)
            step += 1
    return model, total


def test_two_gloo_processes_under_torchrun(tmp_path, env, make_speakers):
    sp = make_speakers(num_spk=6, utts_per_spk=5, dim=6, min_len=120, max_len=200, seed=5)
    egs = tmp_path / "egs"
    build_egs_dir(egs, sp.feats.__getitem__, sp.utt2num_frames, sp.utt2spk, num_heldout_utts=4, num_repeats=10,
                  frames_per_iter=9000, frames_per_iter_diagnostic=3000, num_diagnostic_archives=1,
                  min_frames_per_chunk=30, max_frames_per_chunk=50, compress=False)
    sets = [f"--set={o}" for o in OVERRIDES]
    cmd = ["python", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "pyscripts/nnet_xvector_train.py", "--use-gpu=no", *sets, str(egs), str(tmp_path / "exp")]
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "steps of 8 x 2 process(es) on cpu" in res.stderr
    model, total = emulate_ranks(egs, world=2)
    single_steps = sum(v.num_steps for v in plan_visits([a.num_egs for a in EgsDir.open(egs).train], 1, 8))
    assert total >= 6 and total <= single_steps // 2 + 2  # two processes cover an archive in half the steps
    saved = torch.load(tmp_path / "exp" / "final.pt", weights_only=False)["state_dict"]
    state = model.state_dict()
    for k, v in state.items():
        torch.testing.assert_close(saved[k], v, rtol=1e-4, atol=1e-5, msg=f"parameter {k} differs")
    rows = list(csv.DictReader(open(tmp_path / "exp" / "diagnostics.csv")))
    assert int(rows[-1]["step"]) == total  # rank 0 alone writes the diagnostics
    assert sorted(p.name for p in (tmp_path / "exp" / "checkpoints").iterdir())[-1] == f"ckpt-{total:08d}.pt"
    # resuming with another number of processes is refused (the example order would change)
    res = subprocess.run(["python", "pyscripts/nnet_xvector_train.py", "--use-gpu=no", *sets, str(egs),
                          str(tmp_path / "exp")], cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode == 1 and "written by a run with 2 process(es), this one has 1" in res.stderr


def test_emulation_with_one_rank_is_the_plain_trainer(tmp_path, make_speakers):
    """Sanity of the emulation itself: with one rank it must equal the single-process trainer exactly."""
    from phonsid.nnet.train_xvector import train_xvector

    sp = make_speakers(num_spk=4, utts_per_spk=4, dim=5, min_len=100, max_len=150, seed=6)
    egs = tmp_path / "egs"
    build_egs_dir(egs, sp.feats.__getitem__, sp.utt2num_frames, sp.utt2spk, num_heldout_utts=2, num_repeats=8,
                  frames_per_iter=5000, frames_per_iter_diagnostic=2000, num_diagnostic_archives=1,
                  min_frames_per_chunk=30, max_frames_per_chunk=40, compress=False)
    train_xvector(egs, tmp_path / "exp", load_xvector_config(None, OVERRIDES), use_gpu="no", log=lambda m: None)
    model, _ = emulate_ranks(egs, world=1)
    saved = torch.load(tmp_path / "exp" / "final.pt", weights_only=False)["state_dict"]
    for k, v in model.state_dict().items():
        torch.testing.assert_close(saved[k], v, rtol=1e-6, atol=1e-7, msg=f"parameter {k} differs")
