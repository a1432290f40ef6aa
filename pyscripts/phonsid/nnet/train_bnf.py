"""Training of the bottleneck DNNs (DNN-1, DNN-2, multi-task DNN-2) on frames prepared by ``prepare_bnf_egs``.

Schedule:

- ``num_epochs`` passes over the training frames; each epoch is a fresh permutation of all frames across all
  utterances (``phonsid.nnet.frames``), cut into minibatches of ``minibatch_size`` frames per process. With ``N``
  processes under ``torchrun`` (DistributedDataParallel, NCCL on GPUs, gloo on CPU) a step takes ``N`` slices of
  one global minibatch, so an epoch takes ``N`` times fewer steps.
- Learning rate: exponential decay from ``initial_lrate`` to ``final_lrate`` over all steps (Kaldi's schedule).
- Update: ``optimizer: sgd`` is Kaldi's nnet3 update (``phonsid.nnet.training.KaldiSGD``: momentum with the
  ``1 − momentum`` factor, per-layer max-change, global max-param-change); as Kaldi sums the objective over the
  minibatch and we average it, the step uses ``initial_lrate`` × frames per global minibatch. ``optimizer: adam``
  uses the rates as Adam's step size.
- Objective: cross-entropy over the senones, plus ``speaker_weight`` × cross-entropy over the training speakers
  for the multi-task network.
- After each epoch: validation loss, frame accuracy (all held-out frames, and the held-out speakers' frames alone)
  and, for the multi-task network, speaker frame accuracy on held-out utterances of training speakers; batch norm
  in test mode. One line per epoch in the log, one row in ``<dir>/log/train.csv``.
- Checkpoints (``<dir>/checkpoints/ckpt-<step>.pt``: model, optimizer, step) after every epoch and, with
  ``checkpoint_interval``, every so many steps; rerunning resumes from the newest one and ends with the same
  parameters as an uninterrupted run (bit-identical on CPU with the same number of processes and threads).
- AMP (``--amp``, GPU only): autocast to bfloat16 (float16 with a gradient scaler where bfloat16 is missing).

Outputs in ``<dir>``: ``final.pt`` (weights, network and input config, input statistics), ``config.yaml``,
``num_pdfs``, ``feat_dim``, ``bottleneck_dim``, ``spk2int`` (multi-task), ``valid_accuracy`` (final figures,
``key value`` lines), ``log/train.csv``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from phonsid.io.atomic import atomic_write_text
from phonsid.nnet.bnf import BnfConfig, BnfConfigError, BottleneckDNN, save_bnf_model
from phonsid.nnet.bnf_data import read_egs_info
from phonsid.nnet.frames import (
    DeviceFrameSet,
    FrameSet,
    epoch_permutation,
    frame_set_nbytes,
    rank_batch,
    steps_per_epoch,
)
from phonsid.nnet.prefetch import Prefetcher
from phonsid.nnet.training import (
    Checkpointer,
    CsvLog,
    DistContext,
    KaldiSGD,
    NonFiniteLossError,
    SignalCatcher,
    TrainResult,
    setup_amp,
    TrainingInterrupted,
    exponential_lrate,
    init_distributed,
)

CSV_FIELDS = ["epoch", "step", "lrate", "train_objective", "train_accuracy", "train_speaker_accuracy",
              "valid_objective", "valid_accuracy", "valid_accuracy_heldout_speakers", "valid_speaker_accuracy",
              "majority_rate_valid", "frames_per_sec", "elapsed_sec"]


def lrate_at(step: int, total_steps: int, cfg: BnfConfig) -> float:
    """The learning rate of ``step`` (0-based) of ``total_steps``."""
    tc = cfg.train
    frac = step / (total_steps - 1) if total_steps > 1 else 1.0
    return exponential_lrate(tc.initial_lrate, tc.final_lrate, frac)


def _make_optimizer(model: BottleneckDNN, cfg: BnfConfig) -> torch.optim.Optimizer:
    tc = cfg.train
    if tc.optimizer == "sgd":
        comps = [(name, list(mod.parameters()), tc.output_max_change if is_out else tc.max_change)
                 for name, mod, is_out in model.updatable_components()]
        return KaldiSGD(comps, momentum=tc.momentum, max_param_change=tc.max_param_change)
    return torch.optim.Adam(model.parameters(), lr=tc.initial_lrate, weight_decay=tc.weight_decay)


def _opt_step(opt: torch.optim.Optimizer, lr: float, scaler: torch.amp.GradScaler) -> None:
    if isinstance(opt, KaldiSGD):
        if scaler.is_enabled():
            scaler.unscale_(opt)
            scaler.step(opt, lr=lr)
            scaler.update()
        else:
            opt.step(lr=lr)
        return
    for g in opt.param_groups:
        g["lr"] = lr
    if scaler.is_enabled():
        scaler.step(opt)
        scaler.update()
    else:
        opt.step()


@dataclass
class _Batches:
    """Where minibatches come from: a memory-mapped frame set read by a thread, or one preloaded on the device."""

    fs: FrameSet
    dev: DeviceFrameSet | None
    offsets_np: np.ndarray
    offsets_t: torch.Tensor | None
    device: torch.device


def _frames_on_device(egs: Path, name: str, fs: FrameSet, device: torch.device, preload: str,
                      log: Callable[[str], None]) -> DeviceFrameSet | None:
    if device.type != "cuda" or str(preload) in ("no", "False"):
        return None
    need = frame_set_nbytes(egs, name) * 2  # int32 -> int64 targets and speakers, float16 -> float32 is done per batch
    if str(preload) == "auto":
        free, _ = torch.cuda.mem_get_info(device)
        if need > 0.5 * free:
            log(f"{name} frames ({need / 2**30:.1f} GiB) do not fit comfortably in GPU memory "
                f"({free / 2**30:.1f} GiB free); reading them from the memory map")
            return None
    return fs.to_device(device)


@torch.no_grad()
def evaluate(model: BottleneckDNN, src: _Batches, ctx: DistContext, batch_size: int, speaker_weight: float,
             autocast: Callable[[], Any]) -> dict[str, float]:
    """Validation figures over all frames of ``src`` (shared out over the ranks): ``objective`` (per frame),
    ``accuracy``, ``accuracy_heldout_speakers`` (frames of speakers not in training), ``speaker_accuracy``
    (frames of training speakers), ``frames``."""
    was_training = model.training
    model.eval()
    # sums: loss, correct, frames, heldout correct, heldout frames, speaker correct, speaker frames
    sums = torch.zeros(7, dtype=torch.float64, device=ctx.device)
    n = src.fs.num_frames
    starts = range(ctx.rank * batch_size, n, batch_size * ctx.world_size)
    for s in starts:
        frames = np.arange(s, min(s + batch_size, n), dtype=np.int64)
        if src.dev is not None:
            x, y, spk = src.dev.batch(torch.from_numpy(frames).to(src.device), src.offsets_t)
        else:
            xn, yn, sn = src.fs.batch(frames, src.offsets_np)
            x = torch.from_numpy(xn).to(src.device)
            y = torch.from_numpy(yn.astype(np.int64)).to(src.device)
            spk = torch.from_numpy(sn.astype(np.int64)).to(src.device)
        with autocast():
            senones, speakers = model(x)
        senones = senones.float()
        sums[0] += F.cross_entropy(senones, y, reduction="sum").double()
        correct = senones.argmax(dim=1) == y
        sums[1] += correct.sum()
        sums[2] += len(y)
        unseen = spk < 0
        sums[3] += (correct & unseen).sum()
        sums[4] += unseen.sum()
        if speakers is not None:
            seen = ~unseen
            if seen.any():
                sp = speakers.float()[seen]
                sums[0] += speaker_weight * F.cross_entropy(sp, spk[seen], reduction="sum").double()
                sums[5] += (sp.argmax(dim=1) == spk[seen]).sum()
                sums[6] += seen.sum()
    ctx.all_reduce_sum(sums)
    model.train(was_training)
    v = sums.tolist()

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else float("nan")
    return {"objective": ratio(v[0], v[2]), "accuracy": ratio(v[1], v[2]),
            "accuracy_heldout_speakers": ratio(v[3], v[4]), "speaker_accuracy": ratio(v[5], v[6]),
            "frames": v[2]}


def train_bnf(egs_dir: str | Path, out_dir: str | Path, config: BnfConfig, *, use_gpu: str = "auto",
              amp: bool = False, amp_dtype_name: str = "auto", resume: bool = True,
              log: Callable[[str], None] = print, warn: Callable[[str], None] | None = None,
              stop_after_step: int | None = None, ctx: DistContext | None = None) -> TrainResult:
    """Trains a bottleneck DNN on the frames in ``egs_dir``; writes ``out_dir/final.pt`` and the files listed in
    the module doc. ``stop_after_step`` raises ``TrainingInterrupted`` after that global step without writing a
    checkpoint (a kill, for tests). Under ``torchrun`` every process calls this; rank 0 writes the files."""
    warn = warn or log
    own_ctx = ctx is None
    ctx = ctx or init_distributed(use_gpu)
    try:
        return _train(Path(egs_dir), Path(out_dir), config, ctx, amp, amp_dtype_name, resume, log, warn,
                      stop_after_step)
    finally:
        if own_ctx:
            ctx.close()


def _egs_signature(info: dict) -> dict:
    return {k: info[k] for k in ("feat_dim", "num_pdfs", "num_speakers", "train_frames", "valid_frames")}


def _check_resumable(state: dict, path: Path, config: BnfConfig, world: int, signature: dict) -> None:
    if state.get("world_size") != world:
        raise ValueError(f"checkpoint {path} was written by a run with {state.get('world_size')} process(es), this "
                         f"one has {world}: the frame order differs; resume with the same number of processes or "
                         f"delete {path.parent}")
    if state.get("network") != config.network_dict():
        raise ValueError(f"checkpoint {path}: the network or input config differs from this run's; delete "
                         f"{path.parent} to start again")
    saved = state.get("train", {})
    for key in ("num_epochs", "minibatch_size", "seed", "initial_lrate", "final_lrate", "optimizer"):
        if saved.get(key) != getattr(config.train, key):
            raise ValueError(f"checkpoint {path}: train.{key} was {saved.get(key)}, now {getattr(config.train, key)}; "
                             f"the schedule would change. Delete {path.parent} to start again")
    if state.get("egs_signature") != signature:
        raise ValueError(f"checkpoint {path} was trained on different frames ({state.get('egs_signature')}, now "
                         f"{signature}); delete {path.parent} to start again")


def _train(egs: Path, out_dir: Path, config: BnfConfig, ctx: DistContext, amp: bool, amp_name: str, resume: bool,
           log: Callable[[str], None], warn: Callable[[str], None], stop_after_step: int | None) -> TrainResult:
    tc, device, world = config.train, ctx.device, ctx.world_size
    if not ctx.is_main:
        log = warn = lambda msg: None  # noqa: E731 - only rank 0 talks
    info = read_egs_info(egs)
    if info["input"] != config.network_dict()["input"]:
        raise BnfConfigError(f"{egs} was prepared with input settings {info['input']}, the config asks for "
                             f"{config.network_dict()['input']}; prepare the frames again with this config")
    if config.multitask is not None and info["num_speakers"] < 2:
        raise BnfConfigError(f"{egs}: {info['num_speakers']} training speaker(s); the speaker head needs 2 or more")
    train_fs = FrameSet.open(egs, "train")
    valid_fs = FrameSet.open(egs, "valid")
    if train_fs.feat_dim != info["feat_dim"]:
        raise BnfConfigError(f"{egs}: train frames are {train_fs.feat_dim}-dim, info.json says {info['feat_dim']}")
    stats = np.load(egs / "input_stats.npz")
    signature = _egs_signature(info)
    if ctx.is_main:
        (out_dir / "log").mkdir(parents=True, exist_ok=True)

    spe = steps_per_epoch(train_fs.num_frames, tc.minibatch_size, world)
    if spe == 0:
        raise BnfConfigError(f"{egs}: {train_fs.num_frames} training frames do not fill one minibatch of "
                             f"{tc.minibatch_size} x {world} process(es); lower train.minibatch_size")
    total_steps = spe * tc.num_epochs
    global_batch = tc.minibatch_size * world

    torch.manual_seed(tc.seed)
    model = BottleneckDNN(info["feat_dim"], info["num_pdfs"], config.input, config.model, config.multitask,
                          info["num_speakers"] if config.multitask is not None else 0)
    model.set_input_stats(stats["mean"], stats["std"])
    model.to(device)
    opt = _make_optimizer(model, config)
    use_amp, dtype, scaler, autocast = setup_amp(amp, amp_name, device, warn)

    checkpointer = Checkpointer(out_dir / "checkpoints", tc.keep_checkpoints)
    step = 0
    last_ckpt: Path | None = None
    resumed_acc: torch.Tensor | None = None  # the epoch accumulators of a mid-epoch checkpoint
    if resume:
        last_ckpt = checkpointer.latest()
        if last_ckpt is not None:
            state = Checkpointer.load(last_ckpt, map_location=device)
            _check_resumable(state, last_ckpt, config, world, signature)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            if state.get("scaler") and scaler.is_enabled():
                scaler.load_state_dict(state["scaler"])
            step = int(state["step"])
            if step % spe and state.get("epoch_acc") is not None and ctx.is_main:
                resumed_acc = state["epoch_acc"].to(device=device, dtype=torch.float64)
            log(f"resuming from {last_ckpt} (step {step} of {total_steps})")
    csv_log = CsvLog(out_dir / "log" / "train.csv", CSV_FIELDS, resume_step=step) if ctx.is_main else None

    net: torch.nn.Module = model
    if ctx.distributed:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    offsets_np = np.asarray(config.input.splice, dtype=np.int64)
    offsets_t = torch.from_numpy(offsets_np).to(device)
    train_src = _Batches(train_fs, _frames_on_device(egs, "train", train_fs, device, tc.preload, log),
                         offsets_np, offsets_t, device)
    valid_src = _Batches(valid_fs, _frames_on_device(egs, "valid", valid_fs, device, tc.preload, log)
                         if train_src.dev is not None else None, offsets_np, offsets_t, device)
    nparams = sum(p.numel() for p in model.parameters())
    mt = config.multitask
    log(f"bottleneck DNN: {info['feat_dim']}-dim input x {len(config.input.splice)} spliced frames "
        f"{config.input.splice}, hidden {config.model.hidden_dims()} (linear bottleneck at layer "
        f"{config.model.bottleneck_position}), {info['num_pdfs']} targets"
        + (f", speaker head on layer {mt.branch_layer} over {info['num_speakers']} speakers with weight "
           f"{mt.speaker_weight}" if mt else "")
        + f"; {nparams} parameters. {train_fs.num_frames} training frames, {tc.num_epochs} epochs of {spe} steps "
        f"of {tc.minibatch_size} x {world} process(es) on {device}"
        + (f" with AMP {str(dtype).replace('torch.', '')}" if use_amp else "")
        + (", frames in GPU memory" if train_src.dev is not None else ""))

    interrupted = SignalCatcher(enabled=not ctx.distributed and stop_after_step is None)
    acc = torch.zeros(4, dtype=torch.float64, device=device)

    def save_checkpoint(at_step: int) -> Path | None:
        path = None
        epoch_acc = ctx.all_reduce_sum(acc.detach().clone())  # over all processes: rank 0 takes them up
        if ctx.is_main:
            path = checkpointer.save(at_step, {
                "step": at_step, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scaler": scaler.state_dict() if scaler.is_enabled() else None, "world_size": world,
                "network": config.network_dict(), "train": dataclasses.asdict(tc), "egs_signature": signature,
                "epoch_acc": epoch_acc.cpu()})
        ctx.barrier()
        return path or checkpointer.latest()

    lam = mt.speaker_weight if mt else 0.0
    t0 = time.perf_counter()
    last: dict[str, float] = {}
    model.train()
    try:
        while step < total_steps:
            epoch, first = divmod(step, spe)
            perm = epoch_permutation(tc.seed, epoch, train_fs.num_frames)
            # epoch accumulators on the device: loss sum, senone correct, speaker correct, frames (this process's);
            # a run resumed mid-epoch takes up those of its checkpoint, so the epoch's diagnostics are unchanged
            acc = torch.zeros(4, dtype=torch.float64, device=device)
            if resumed_acc is not None and first > 0:
                acc, resumed_acc = resumed_acc, None
            losses: list[torch.Tensor] = []
            block_start, block_frames = time.perf_counter(), 0
            epoch_start, epoch_frames = block_start, 0
            if train_src.dev is not None:
                perm_t = torch.from_numpy(perm).to(device)
                batches = ((train_src.dev.batch(rank_batch(perm_t, s, ctx.rank, world, tc.minibatch_size), offsets_t))
                           for s in range(first, spe))
                prefetch = None
            else:
                pin = device.type == "cuda"

                def produce(s: int, perm=perm, pin=pin):
                    xn, yn, sn = train_fs.batch(np.sort(rank_batch(perm, s, ctx.rank, world, tc.minibatch_size)),
                                                offsets_np)
                    out = (torch.from_numpy(xn), torch.from_numpy(yn.astype(np.int64)),
                           torch.from_numpy(sn.astype(np.int64)))
                    return tuple(t.pin_memory() for t in out) if pin else out
                prefetch = Prefetcher(range(first, spe), produce, depth=tc.prefetch)
                batches = iter(prefetch)
            try:
                for x, y, spk in batches:
                    x = x.to(device, non_blocking=True)
                    y = y.to(device, non_blocking=True)
                    lr = lrate_at(step, total_steps, config)
                    with autocast():
                        senones, speakers = net(x)
                    loss = F.cross_entropy(senones.float(), y)
                    if speakers is not None:
                        spk = spk.to(device, non_blocking=True)
                        sp_loss = F.cross_entropy(speakers.float(), spk)
                        loss = loss + lam * sp_loss
                    opt.zero_grad(set_to_none=True)
                    if scaler.is_enabled():
                        scaler.scale(loss).backward()
                    else:
                        loss.backward()
                    _opt_step(opt, lr * global_batch if tc.optimizer == "sgd" else lr, scaler)
                    with torch.no_grad():
                        losses.append(loss.detach())
                        acc[0] += loss.detach().double() * len(y)
                        acc[1] += (senones.detach().argmax(dim=1) == y).sum()
                        if speakers is not None:
                            acc[2] += (speakers.detach().argmax(dim=1) == spk).sum()
                        acc[3] += len(y)
                    block_frames += len(y) * world
                    epoch_frames += len(y) * world
                    step += 1
                    if step % tc.log_interval == 0 or step % spe == 0:
                        _check_finite(losses, step, total_steps, ctx, last_ckpt)
                        losses = []
                    if step % tc.log_interval == 0 and step % spe != 0:
                        el = time.perf_counter() - block_start
                        log(f"step {step}/{total_steps} (epoch {epoch + 1}): lrate {lr:.3g}, "
                            f"{block_frames / max(el, 1e-9):.0f} frames/s")
                        block_start, block_frames = time.perf_counter(), 0
                    if step % spe == 0:
                        last = _end_of_epoch(step, spe, lr, acc, model, valid_src, ctx, tc, lam, autocast,
                                             info, epoch_frames / max(time.perf_counter() - epoch_start, 1e-9),
                                             time.perf_counter() - t0, log, csv_log)
                        last_ckpt = save_checkpoint(step)
                    elif tc.checkpoint_interval and step % tc.checkpoint_interval == 0:
                        _check_finite(losses, step, total_steps, ctx, last_ckpt)
                        losses = []
                        last_ckpt = save_checkpoint(step)
                    if stop_after_step is not None and step >= stop_after_step and step < total_steps:
                        raise TrainingInterrupted(f"stopped after step {step} (test hook)")
                    if interrupted.signal is not None:
                        _check_finite(losses, step, total_steps, ctx, last_ckpt)
                        last_ckpt = save_checkpoint(step)
                        raise TrainingInterrupted(f"interrupted by signal {interrupted.signal} after step "
                                                  f"{step}; checkpoint {last_ckpt}; rerun to resume")
            finally:
                if prefetch is not None:
                    prefetch.close()
        if not last:
            log(f"all {total_steps} steps were done already; validating and rewriting the final model")
            v = evaluate(model, valid_src, ctx, tc.valid_minibatch_size, lam, autocast)
            last = {f"valid_{k}": val for k, val in v.items()}
            last["majority_rate_valid"] = info["majority_rate_valid"]
        final = out_dir / "final.pt"
        if ctx.is_main:
            write_final_model(out_dir, model, config, egs, info, last)
            log(f"wrote {final} after {total_steps} steps: validation frame accuracy "
                f"{last.get('valid_accuracy', float('nan')):.4f} (majority class {info['majority_rate_valid']:.4f})"
                + (f", speaker accuracy {last.get('valid_speaker_accuracy', float('nan')):.4f} "
                   f"(chance {1.0 / info['num_speakers']:.4f})" if mt else ""))
        ctx.barrier()
        return TrainResult(final, total_steps, last)
    finally:
        interrupted.restore()


def _check_finite(losses: list[torch.Tensor], step: int, total_steps: int, ctx: DistContext,
                  last_ckpt: Path | None) -> None:
    if not losses:
        return
    bad = (~torch.isfinite(torch.stack(losses))).double()
    flag = ctx.all_reduce_sum(bad.sum().reshape(1))
    if flag.item() > 0:
        local = torch.nonzero(bad).flatten()
        first = step - len(losses) + 1 + (int(local[0]) if len(local) else 0)
        raise NonFiniteLossError(
            f"non-finite objective at step {first} of {total_steps}; training stopped. Last good checkpoint: "
            f"{last_ckpt if last_ckpt else 'none (no checkpoint written yet)'}. Lower the learning rate or check "
            f"the features, then rerun to resume from it.")


def _end_of_epoch(step, spe, lr, acc, model, valid_src, ctx, tc, lam, autocast, info, fps, elapsed, log,
                  csv_log) -> dict[str, float]:
    sums = ctx.all_reduce_sum(acc.clone())
    n = max(sums[3].item(), 1.0)
    epoch = step // spe
    row: dict[str, Any] = {"epoch": epoch, "step": step, "lrate": lr, "train_objective": sums[0].item() / n,
                           "train_accuracy": sums[1].item() / n,
                           "majority_rate_valid": info["majority_rate_valid"], "frames_per_sec": fps,
                           "elapsed_sec": elapsed}
    mt = model.multitask is not None
    if mt:
        row["train_speaker_accuracy"] = sums[2].item() / n
    msg = (f"epoch {epoch} (step {step}): lrate {lr:.3g}; train objective {row['train_objective']:.4f}, "
           f"frame accuracy {row['train_accuracy']:.4f}" +
           (f", speaker accuracy {row['train_speaker_accuracy']:.4f}" if mt else ""))
    if valid_src.fs.num_frames:
        v = evaluate(model, valid_src, ctx, tc.valid_minibatch_size, lam, autocast)
        row.update(valid_objective=v["objective"], valid_accuracy=v["accuracy"],
                   valid_accuracy_heldout_speakers=v["accuracy_heldout_speakers"])
        msg += (f"; valid objective {v['objective']:.4f}, frame accuracy {v['accuracy']:.4f} (majority class "
                f"{info['majority_rate_valid']:.4f}")
        if not math.isnan(v["accuracy_heldout_speakers"]):
            msg += f", held-out speakers {v['accuracy_heldout_speakers']:.4f}"
        msg += ")"
        if mt:
            row["valid_speaker_accuracy"] = v["speaker_accuracy"]
            msg += f", speaker accuracy {v['speaker_accuracy']:.4f} (chance {1.0 / info['num_speakers']:.4f})"
    msg += f"; {fps:.0f} frames/s"
    log(msg)
    if csv_log is not None:
        csv_log.append(row)
    return {k: float(v) for k, v in row.items() if isinstance(v, (int, float))}


def write_final_model(out_dir: Path, model: BottleneckDNN, config: BnfConfig, egs: Path, info: dict,
                      diagnostics: dict[str, float]) -> None:
    """``final.pt`` and the small files beside it (see the module doc)."""
    save_bnf_model(out_dir / "final.pt", model, {"egs_dir": str(egs), "feats": info.get("feats", ""),
                                                 "ali_dir": info.get("ali_dir", ""), "train": dataclasses.asdict(config.train),
                                                 "diagnostics": diagnostics})
    atomic_write_text(out_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False,
                                                              default_flow_style=None))
    atomic_write_text(out_dir / "num_pdfs", f"{model.num_pdfs}\n")
    atomic_write_text(out_dir / "feat_dim", f"{model.feat_dim}\n")
    atomic_write_text(out_dir / "bottleneck_dim", f"{model.bottleneck_dim}\n")
    if model.multitask is not None and (egs / "spk2int").is_file():
        atomic_write_text(out_dir / "spk2int", (egs / "spk2int").read_text())
    keys = ["valid_accuracy", "valid_accuracy_heldout_speakers", "majority_rate_valid", "valid_objective"]
    if model.multitask is not None:
        keys.append("valid_speaker_accuracy")
    lines = [f"{k} {diagnostics[k]:.6f}\n" for k in keys if k in diagnostics]
    if model.multitask is not None:
        lines.append(f"speaker_chance_rate {1.0 / model.num_speakers:.6f}\n")
    atomic_write_text(out_dir / "valid_accuracy", "".join(lines))


__all__ = ["CSV_FIELDS", "TrainResult", "evaluate", "lrate_at", "train_bnf", "write_final_model"]
