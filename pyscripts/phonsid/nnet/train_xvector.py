"""x-vector training: Kaldi's ``train_raw_dnn.py`` schedule for ``run_xvector_1a.sh``, on one process, or one per
GPU under ``torchrun`` (DistributedDataParallel).

The schedule, translated:

- The egs are ``A`` archives. Training makes ``int(num_epochs · A)`` archive passes ("visits"), archive
  ``v mod A`` at visit ``v``, each in a fresh random order (seed ``(srand, v)``); leftover examples that do not fill
  a minibatch are dropped. With ``N`` processes, every minibatch step takes ``N · minibatch_size`` examples of the
  current archive and process ``r`` reads the ``r``-th slice of it from the memory-mapped archive: N processes
  cover an archive in 1/N of the steps, as Kaldi's N jobs do.
- Effective learning rate: ``initial · (final/initial)^(t/T)`` over the ``T`` steps (Kaldi steps it once per
  iteration along the same curve; the last step uses the final rate).
- Update: ``KaldiSGD`` — momentum 0.5 with the ``1 − momentum`` factor, per-layer max-change (0.75, output 1.5)
  and global max-param-change (2). The objective is averaged over the ``N · minibatch_size`` examples, so the rate
  given to the optimiser is ``effective_lrate · minibatch_size · N``: exactly Kaldi's summed-objective update with
  N jobs whose models are averaged. With N GPUs, an epoch takes N times fewer steps at an N times larger rate
  per step, i.e. the same rate per example.
- Shrink: Kaldi scales every parameter by ``1 − proportional_shrink · lrate_job`` once per iteration (one archive
  per job); here the same factor is spread over the steps of an archive.
- Diagnostics every ``diagnostic_interval`` steps and at the end: log-probability per example (Kaldi's objective)
  and accuracy on the training minibatches of the block, on the validation archives and on the train-subset
  archives (batch norm in test mode, like ``nnet3-compute-prob``), to the log and ``diagnostics.csv``.
- Checkpoints every ``checkpoint_interval`` steps (model, momentum, step); rerunning resumes from the newest and
  gives the same result as an uninterrupted run (bit-identical on CPU).

Kaldi's dropout schedule in run_xvector_1a.sh is a no-op (its layers have no dropout) and is not reproduced; nor is
its first-iteration halving of minibatch and max-change.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from phonsid.io.atomic import atomic_write_text
from phonsid.nnet.config import check_sections, config_section, load_yaml_config
from phonsid.nnet.training import (
    Checkpointer,
    CsvLog,
    DistContext,
    KaldiSGD,
    NonFiniteLossError,
    SignalCatcher,
    TrainResult,
    TrainingInterrupted,
    exponential_lrate,
    init_distributed,
    per_step_shrink,
    setup_amp,
)
from phonsid.nnet.xvector import (
    DEFAULT_MAX_CHUNK_SIZE,
    DEFAULT_MIN_CHUNK_SIZE,
    XvectorModelConfig,
    XvectorTDNN,
    save_xvector_model,
)
from phonsid.nnet.prefetch import Prefetcher
from phonsid.nnet.xvector_egs import EgsArchive, EgsDir

# ---------------------------------------------------------------------------------------------------------------
# configuration (conf/xvector.yaml)


@dataclass
class XvectorTrainConfig:
    """The ``train:`` section of ``conf/xvector.yaml`` (Kaldi train_raw_dnn.py options of run_xvector_1a.sh)."""

    num_epochs: float = 3.0
    initial_effective_lrate: float = 0.001
    final_effective_lrate: float = 0.0001
    minibatch_size: int = 64
    momentum: float = 0.5
    max_param_change: float = 2.0
    max_change: float = 0.75
    output_max_change: float = 1.5
    proportional_shrink: float = 10.0
    srand: int = 123
    diagnostic_interval: int = 500
    checkpoint_interval: int = 500
    keep_checkpoints: int = 2
    log_interval: int = 50
    prefetch: int = 4
    diagnostic_minibatch_size: int = 128

    def __post_init__(self) -> None:
        if self.num_epochs <= 0:
            raise ValueError(f"train config: num_epochs must be > 0, got {self.num_epochs}")
        if self.minibatch_size < 1:
            raise ValueError(f"train config: minibatch_size must be >= 1, got {self.minibatch_size}")
        for name in ("diagnostic_interval", "checkpoint_interval", "log_interval"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"train config: {name} must be >= 1")
        if self.initial_effective_lrate <= 0 or self.final_effective_lrate <= 0:
            raise ValueError("train config: learning rates must be > 0")


@dataclass
class XvectorExtractConfig:
    """The ``extract:`` section: chunk sizes saved with the model (Kaldi's max_chunk_size / min_chunk_size files)."""

    min_chunk_size: int = DEFAULT_MIN_CHUNK_SIZE
    max_chunk_size: int = DEFAULT_MAX_CHUNK_SIZE


@dataclass
class XvectorConfig:
    model: XvectorModelConfig
    train: XvectorTrainConfig
    extract: XvectorExtractConfig

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.to_dict(), "train": dataclasses.asdict(self.train),
                "extract": dataclasses.asdict(self.extract)}


_SECTIONS = {"model": XvectorModelConfig, "train": XvectorTrainConfig, "extract": XvectorExtractConfig}


def xvector_config_from_dict(d: dict[str, Any], source: str = "x-vector config") -> XvectorConfig:
    check_sections(d, _SECTIONS, source)
    return XvectorConfig(*(config_section(cls, d.get(name), name, source) for name, cls in _SECTIONS.items()))


def load_xvector_config(path: str | Path | None, overrides: list[str] | None = None) -> XvectorConfig:
    """Reads ``conf/xvector.yaml`` (or the defaults when ``path`` is None) and applies ``section.key=value``
    overrides."""
    d, source = load_yaml_config(path, overrides, "x-vector config", "x-vector defaults", _SECTIONS)
    return xvector_config_from_dict(d, source)


# ---------------------------------------------------------------------------------------------------------------
# schedule


@dataclass
class Visit:
    index: int      # 0-based visit number
    archive: int    # 0-based archive index
    num_steps: int  # minibatch steps in this visit
    first_step: int  # global step number of its first minibatch


def plan_visits(archive_sizes: list[int], num_epochs: float, global_batch: int) -> list[Visit]:
    """Archive visits in order: ``int(num_epochs · A)`` of them, archive ``v mod A``, ``size // global_batch``
    steps each."""
    n_arch = len(archive_sizes)
    if n_arch == 0:
        raise ValueError("no training archives")
    num_visits = int(num_epochs * n_arch)
    if num_visits < 1:
        raise ValueError(f"num_epochs={num_epochs} with {n_arch} archives processes no archive")
    visits, step = [], 0
    for v in range(num_visits):
        k = v % n_arch
        n = archive_sizes[k] // global_batch
        visits.append(Visit(v, k, n, step))
        step += n
    if step == 0:
        raise ValueError(f"no archive holds a full minibatch of {global_batch} examples (sizes {archive_sizes}); "
                         f"lower minibatch_size or make more examples")
    return visits


def effective_lrate(step: int, total_steps: int, tc: XvectorTrainConfig) -> float:
    """Kaldi's effective learning rate at a (0-based) minibatch step; the last step uses the final rate."""
    if step >= total_steps - 1:
        return tc.final_effective_lrate
    return exponential_lrate(tc.initial_effective_lrate, tc.final_effective_lrate, step / total_steps)


def visit_shrink(tc: XvectorTrainConfig, visit: Visit, total_steps: int, archive_size: int, world_size: int) -> float:
    """The per-step parameter scale during a visit (Kaldi's per-iteration shrink spread over the archive)."""
    iter_lrate = exponential_lrate(tc.initial_effective_lrate, tc.final_effective_lrate,
                                   visit.first_step / total_steps) * world_size
    return per_step_shrink(tc.proportional_shrink, iter_lrate, archive_size / tc.minibatch_size)


def visit_permutation(srand: int, visit_index: int, num_egs: int) -> np.ndarray:
    """The example order of a visit (the same on every rank)."""
    return np.random.default_rng([srand, visit_index]).permutation(num_egs)


def rank_batch_indices(perm: np.ndarray, step_in_visit: int, rank: int, world_size: int, batch: int) -> np.ndarray:
    """The examples process ``rank`` reads at a step: its slice of the global minibatch, sorted for locality."""
    start = (step_in_visit * world_size + rank) * batch
    return np.sort(perm[start:start + batch])


# ---------------------------------------------------------------------------------------------------------------
# trainer


CSV_FIELDS = ["step", "epoch", "archive", "effective_lrate", "train_objective", "train_accuracy",
              "valid_objective", "valid_accuracy", "train_subset_objective", "train_subset_accuracy",
              "egs_per_sec", "frames_per_sec", "max_change_limited", "global_max_change_limited", "elapsed_sec"]


@torch.no_grad()
def evaluate(model: XvectorTDNN, archives: list[EgsArchive], ctx: DistContext, batch_size: int,
             autocast: Callable[[], Any]) -> tuple[float, float, int]:
    """Average log-probability and accuracy over ``archives`` (batch norm in test mode); examples are shared
    out over the ranks and the sums reduced."""
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=ctx.device)
    for a in archives:
        idx = np.arange(ctx.rank, a.num_egs, ctx.world_size)
        for s in range(0, len(idx), batch_size):
            feats, labels = a.read(idx[s:s + batch_size])
            x = torch.from_numpy(feats).to(ctx.device)
            y = torch.from_numpy(labels).to(ctx.device)
            with autocast():
                logits = model(x)
            logp = F.log_softmax(logits.float(), dim=1)
            sums[0] += logp.gather(1, y[:, None]).sum().double()
            sums[1] += (logits.argmax(dim=1) == y).sum().double()
            sums[2] += len(y)
    ctx.all_reduce_sum(sums)
    model.train(was_training)
    n = int(sums[2].item())
    if n == 0:
        return float("nan"), float("nan"), 0
    return float(sums[0].item()) / n, float(sums[1].item()) / n, n


def train_xvector(egs_dir: str | Path, out_dir: str | Path, config: XvectorConfig, *, use_gpu: str = "auto",
                  amp: bool = False, amp_dtype: str = "auto", resume: bool = True,
                  log: Callable[[str], None] = print, warn: Callable[[str], None] | None = None,
                  stop_after_step: int | None = None, ctx: DistContext | None = None) -> TrainResult:
    """Trains the x-vector network on the egs in ``egs_dir``; writes ``out_dir/final.pt``, ``config.yaml``,
    ``diagnostics.csv`` and ``checkpoints/``.

    ``stop_after_step`` raises ``TrainingInterrupted`` after that step without a checkpoint (a kill, for tests).
    Under ``torchrun`` every process calls this; rank 0 writes the files.
    """
    warn = warn or log
    own_ctx = ctx is None
    ctx = ctx or init_distributed(use_gpu)
    try:
        return _train(Path(egs_dir), Path(out_dir), config, ctx, amp, amp_dtype, resume, log, warn, stop_after_step)
    finally:
        if own_ctx:
            ctx.close()


def _train(egs_dir: Path, out_dir: Path, config: XvectorConfig, ctx: DistContext, amp: bool, amp_dtype: str,
           resume: bool, log: Callable[[str], None], warn: Callable[[str], None],
           stop_after_step: int | None) -> TrainResult:
    tc, device, world = config.train, ctx.device, ctx.world_size
    if not ctx.is_main:
        log = lambda msg: None  # noqa: E731 - only rank 0 talks
    egs = EgsDir.open(egs_dir)
    if ctx.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    sizes = [a.num_egs for a in egs.train]
    visits = plan_visits(sizes, tc.num_epochs, tc.minibatch_size * world)
    total_steps = sum(v.num_steps for v in visits)
    egs_signature = [[a.num_egs, a.chunk_length] for a in egs.train]
    min_chunk = min(a.chunk_length for a in egs.train)
    if min_chunk < config.model.min_input_frames:
        raise ValueError(f"egs {egs_dir}: chunks of {min_chunk} frames are shorter than the "
                         f"{config.model.min_input_frames} frames the network's context needs")

    torch.manual_seed(tc.srand)
    model = XvectorTDNN(egs.feat_dim, egs.num_pdfs, config.model).to(device)
    comps = model.updatable_components()
    groups = [(name, list(mod.parameters()), tc.output_max_change if name == "output" else tc.max_change)
              for name, mod in comps]
    opt = KaldiSGD(groups, momentum=tc.momentum, max_param_change=tc.max_param_change)
    use_amp, dtype, scaler, autocast = setup_amp(amp, amp_dtype, device, warn)

    ckpt_dir = out_dir / "checkpoints"
    checkpointer = Checkpointer(ckpt_dir, tc.keep_checkpoints)
    start_step = 0
    last_ckpt: Path | None = None
    block_state: dict[str, Any] | None = None  # the diagnostics block a checkpoint was written in
    if resume:
        last_ckpt = checkpointer.latest()
        if last_ckpt is not None:
            state = Checkpointer.load(last_ckpt, map_location=device)
            _check_resumable(state, last_ckpt, config, world, egs_signature, egs.feat_dim, egs.num_pdfs)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            if state.get("scaler") and scaler.is_enabled():
                scaler.load_state_dict(state["scaler"])
            start_step = int(state["step"])
            block_state = state.get("block")
            log(f"resuming from {last_ckpt} (step {start_step} of {total_steps})")
    csv_log = CsvLog(out_dir / "diagnostics.csv", CSV_FIELDS, resume_step=start_step) if ctx.is_main else None

    net: torch.nn.Module = model
    if ctx.distributed:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    nparams = sum(p.numel() for p in model.parameters())
    log(f"x-vector network: {egs.feat_dim}-dim input, {egs.num_pdfs} speakers, {nparams} parameters; "
        f"{len(egs.train)} archives of {min(sizes)}-{max(sizes)} examples, {len(visits)} archive passes, "
        f"{total_steps} steps of {tc.minibatch_size} x {world} process(es) on {device}"
        f"{' with AMP ' + str(dtype).replace('torch.', '') if use_amp else ''}")

    interrupted = SignalCatcher(enabled=not ctx.distributed and stop_after_step is None)

    # block accumulators (on device: no host sync per step); a resumed run takes up the block of its checkpoint,
    # so that the diagnostics of that block are those of an uninterrupted run
    block_losses: list[torch.Tensor] = []
    block_correct = torch.zeros((), dtype=torch.float64, device=device)
    block_logprob = torch.zeros((), dtype=torch.float64, device=device)
    block_count = 0
    block_frames = 0
    if block_state is not None and ctx.is_main:  # the sums over all processes: rank 0 takes them up
        block_correct += block_state["correct"].to(device)
        block_logprob += block_state["logprob"].to(device)
        block_count, block_frames = int(block_state["count"]), int(block_state["frames"])

    def save_checkpoint(step: int) -> Path | None:
        path = None
        counts = torch.tensor([float(block_count), float(block_frames)], dtype=torch.float64, device=device)
        block = ctx.all_reduce_sum(torch.cat([block_correct.reshape(1), block_logprob.reshape(1), counts]))
        if ctx.is_main:
            path = checkpointer.save(step, {
                "step": step, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scaler": scaler.state_dict() if scaler.is_enabled() else None, "world_size": world,
                "config": config.to_dict(), "egs_signature": egs_signature, "feat_dim": egs.feat_dim,
                "num_targets": egs.num_pdfs,
                "block": {"correct": block[0].cpu(), "logprob": block[1].cpu(), "count": int(block[2].item()),
                          "frames": int(block[3].item())}})
        ctx.barrier()
        return path or checkpointer.latest()
    block_start = time.perf_counter()
    t0 = time.perf_counter()
    last_diag: dict[str, float] = {}

    def check_finite(step_of_last: int) -> None:
        nonlocal block_losses
        if not block_losses:
            return
        losses = torch.stack(block_losses)
        bad = (~torch.isfinite(losses)).float()
        flag = ctx.all_reduce_sum(bad.sum().reshape(1))
        if flag.item() > 0:
            local_bad = torch.nonzero(bad).flatten()
            first = step_of_last - len(block_losses) + 1 + (int(local_bad[0]) if len(local_bad) else 0)
            raise NonFiniteLossError(
                f"non-finite objective at iteration (minibatch step) {first} of {total_steps}; training stopped. "
                f"Last good checkpoint: {last_ckpt if last_ckpt else 'none (no checkpoint written yet)'}. "
                f"Lower the learning rate or check the features, then rerun to resume from it.")
        block_losses = []

    step = start_step
    model.train()
    try:
        for visit in visits:
            if visit.first_step + visit.num_steps <= step or visit.num_steps == 0:
                continue
            archive = egs.train[visit.archive]
            perm = visit_permutation(tc.srand, visit.index, archive.num_egs)
            shrink = visit_shrink(tc, visit, total_steps, archive.num_egs, world)
            first_local = step - visit.first_step
            pin = device.type == "cuda"

            def produce(s: int, archive=archive, perm=perm, pin=pin):
                idx = rank_batch_indices(perm, s, ctx.rank, world, tc.minibatch_size)
                feats, labels = archive.read(idx, dtype=None if pin else np.float32)
                x, y = torch.from_numpy(feats), torch.from_numpy(labels)
                if pin:
                    x, y = x.pin_memory(), y.pin_memory()
                return x, y

            with Prefetcher(range(first_local, visit.num_steps), produce, depth=tc.prefetch) as batches:
                for x, y in batches:
                    x = x.to(device, non_blocking=True).float()
                    y = y.to(device, non_blocking=True)
                    eff = effective_lrate(step, total_steps, tc)
                    with autocast():
                        logits = net(x)
                    loss = F.cross_entropy(logits.float(), y)
                    opt.zero_grad(set_to_none=True)
                    if scaler.is_enabled():
                        scaler.scale(loss).backward()
                        scaler.unscale_(opt)
                        scaler.step(opt, lr=eff * tc.minibatch_size * world, shrink=shrink)
                        scaler.update()
                    else:
                        loss.backward()
                        opt.step(lr=eff * tc.minibatch_size * world, shrink=shrink)
                    with torch.no_grad():
                        block_losses.append(loss.detach())
                        block_logprob -= loss.detach().double() * len(y)
                        block_correct += (logits.detach().argmax(dim=1) == y).sum()
                    block_count += len(y)
                    block_frames += len(y) * x.shape[1]
                    step += 1
                    is_last = step == total_steps
                    diag_due = step % tc.diagnostic_interval == 0 or is_last
                    ckpt_due = step % tc.checkpoint_interval == 0 or is_last
                    if step % tc.log_interval == 0 or diag_due or ckpt_due:
                        check_finite(step - 1)
                    if step % tc.log_interval == 0 and not diag_due:
                        elapsed = time.perf_counter() - block_start
                        log(f"step {step}/{total_steps}: lrate {eff:.3g}, {block_count * world / elapsed:.1f} egs/s "
                            f"({block_frames * world / elapsed:.0f} frames/s)")
                    if diag_due:
                        last_diag = _diagnostics(step, total_steps, visit, len(egs.train), eff, model,
                                                 egs, ctx, tc, autocast, opt, block_logprob, block_correct,
                                                 block_count, block_frames, block_start, t0, log, csv_log)
                        block_logprob.zero_()
                        block_correct.zero_()
                        block_count = block_frames = 0
                        block_start = time.perf_counter()
                    if ckpt_due:
                        last_ckpt = save_checkpoint(step)
                    if stop_after_step is not None and step >= stop_after_step and not is_last:
                        raise TrainingInterrupted(f"stopped after step {step} (test hook)")
                    if interrupted.signal is not None:
                        check_finite(step - 1)
                        last_ckpt = save_checkpoint(step)
                        raise TrainingInterrupted(f"interrupted by signal {interrupted.signal} after step {step}; "
                                                  f"checkpoint {last_ckpt}; rerun to resume")
        if step != total_steps:
            raise RuntimeError(f"internal error: ran {step} steps, planned {total_steps}")
        if start_step == total_steps and ctx.is_main:
            log(f"all {total_steps} steps were done already; rewriting the final model")
        final = out_dir / "final.pt"
        if ctx.is_main:
            write_final_model(out_dir, model, config, egs)
            log(f"wrote {final} after {total_steps} steps" +
                (f": valid accuracy {last_diag['valid_accuracy']:.3f}" if "valid_accuracy" in last_diag else ""))
        ctx.barrier()
        return TrainResult(final, total_steps, last_diag)
    finally:
        interrupted.restore()


def _check_resumable(state: dict, path: Path, config: XvectorConfig, world: int, egs_signature, feat_dim: int,
                     num_targets: int) -> None:
    if state.get("world_size") != world:
        raise ValueError(f"checkpoint {path} was written by a run with {state.get('world_size')} process(es), this "
                         f"one has {world}: the example order differs; resume with the same number of processes or "
                         f"delete {path.parent}")
    saved = state.get("config", {})
    if saved.get("model") != config.model.to_dict():
        raise ValueError(f"checkpoint {path}: the model config differs from this run's; delete {path.parent} "
                         f"to start again")
    for key in ("num_epochs", "minibatch_size", "srand", "initial_effective_lrate", "final_effective_lrate"):
        if saved.get("train", {}).get(key) != getattr(config.train, key):
            raise ValueError(f"checkpoint {path}: train.{key} was {saved.get('train', {}).get(key)}, now "
                             f"{getattr(config.train, key)}; the schedule would change. Delete {path.parent} to "
                             f"start again")
    if state.get("egs_signature") != egs_signature or state.get("feat_dim") != feat_dim or \
            state.get("num_targets") != num_targets:
        raise ValueError(f"checkpoint {path} was trained on different egs (archive sizes, feature dim or speakers); "
                         f"delete {path.parent} to start again")


def _diagnostics(step, total_steps, visit, num_archives, eff, model, egs, ctx, tc, autocast, opt, block_logprob,
                 block_correct, block_count, block_frames, block_start, t0, log, csv_log) -> dict[str, float]:
    elapsed = time.perf_counter() - block_start
    sums = torch.stack([block_logprob, block_correct.double(),
                        torch.tensor(float(block_count), dtype=torch.float64, device=block_logprob.device)])
    ctx.all_reduce_sum(sums)
    n = max(sums[2].item(), 1.0)
    train_obj, train_acc = sums[0].item() / n, sums[1].item() / n
    valid = evaluate(model, egs.valid, ctx, tc.diagnostic_minibatch_size, autocast) if egs.valid else None
    subset = evaluate(model, egs.train_subset, ctx, tc.diagnostic_minibatch_size, autocast) \
        if egs.train_subset else None
    mc = opt.max_change_stats()
    limited = sum(mc["per_component"].values())
    row = {"step": step, "epoch": (visit.index + (step - visit.first_step) / max(visit.num_steps, 1)) / num_archives,
           "archive": visit.archive + 1, "effective_lrate": eff, "train_objective": train_obj,
           "train_accuracy": train_acc,
           "egs_per_sec": block_count * ctx.world_size / elapsed,
           "frames_per_sec": block_frames * ctx.world_size / elapsed,
           "max_change_limited": limited / max(mc["steps"] * len(mc["per_component"]), 1),
           "global_max_change_limited": mc["global"] / max(mc["steps"], 1),
           "elapsed_sec": time.perf_counter() - t0}
    msg = (f"step {step}/{total_steps} (epoch {row['epoch']:.2f}, archive {row['archive']}): lrate {eff:.3g}; "
           f"train objective {train_obj:.4f}, accuracy {train_acc:.3f}")
    if valid:
        row.update(valid_objective=valid[0], valid_accuracy=valid[1])
        msg += f"; valid objective {valid[0]:.4f}, accuracy {valid[1]:.3f}"
    if subset:
        row.update(train_subset_objective=subset[0], train_subset_accuracy=subset[1])
        msg += f"; train-subset objective {subset[0]:.4f}, accuracy {subset[1]:.3f}"
    msg += f"; {row['egs_per_sec']:.1f} egs/s, {row['frames_per_sec']:.0f} frames/s"
    if limited or mc["global"]:
        busiest = max(mc["per_component"], key=mc["per_component"].get)
        msg += (f"; max-change active {100.0 * row['max_change_limited']:.1f}% of component updates "
                f"(most on {busiest}), global {100.0 * row['global_max_change_limited']:.1f}%")
    if mc["skipped"]:
        msg += f"; {mc['skipped']} non-finite update(s) skipped"
    log(msg)
    if csv_log is not None:
        csv_log.append(row)
    return {k: float(v) for k, v in row.items() if isinstance(v, (int, float))}


def write_final_model(out_dir: Path, model: XvectorTDNN, config: XvectorConfig, egs: EgsDir) -> None:
    """``final.pt`` (weights + config), ``config.yaml``, Kaldi's ``min_chunk_size``/``max_chunk_size`` files, and
    ``spk2int`` (the output layer's speaker order) when the egs have it."""
    save_xvector_model(out_dir / "final.pt", model, {"extract": dataclasses.asdict(config.extract),
                                                     "train": dataclasses.asdict(config.train)})
    cfg = config.to_dict()
    cfg["feat_dim"] = model.feat_dim
    cfg["num_targets"] = model.num_targets
    atomic_write_text(out_dir / "config.yaml", yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None))
    atomic_write_text(out_dir / "min_chunk_size", f"{config.extract.min_chunk_size}\n")
    atomic_write_text(out_dir / "max_chunk_size", f"{config.extract.max_chunk_size}\n")
    spk2int = egs.spk2int_path()
    if spk2int.exists():
        atomic_write_text(out_dir / "spk2int", spk2int.read_text())


def count_steps(egs_dir: str | Path, config: XvectorConfig, world_size: int = 1) -> int:
    """Total minibatch steps a run would take (for planning and tests)."""
    egs = EgsDir.open(egs_dir)
    visits = plan_visits([a.num_egs for a in egs.train], config.train.num_epochs,
                         config.train.minibatch_size * world_size)
    return sum(v.num_steps for v in visits)


__all__ = [
    "XvectorConfig", "XvectorExtractConfig", "XvectorTrainConfig", "TrainResult",
    "count_steps", "effective_lrate", "evaluate", "load_xvector_config", "visit_shrink", "plan_visits", "rank_batch_indices", "train_xvector",
    "visit_permutation", "write_final_model", "xvector_config_from_dict",
]
