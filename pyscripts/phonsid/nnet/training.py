"""Training utilities shared by phonsid's networks: Kaldi's nnet3 update rule, learning-rate schedule,
torch.distributed set-up under ``torchrun``, checkpoints, CSV diagnostics.

Kaldi's nnet3 update (``nnet3/nnet-training.cc``), which ``KaldiSGD`` reproduces for one minibatch:

- ``delta ← momentum · delta + lr · grad`` (the gradient of the objective summed over the minibatch);
- per updatable component ``c``: ``f_c = min(1, max_change_c / ‖delta_c‖)`` (0.75 for hidden layers, 1.5 for the
  output layer in the xconfig defaults);
- global: ``g = min(1, max_param_change / ((1 − momentum) · ‖(f_c · delta_c)_c‖))``;
- ``θ_c ← θ_c + (1 − momentum) · g · f_c · delta_c``; a non-finite change is not applied.

The ``(1 − momentum)`` factor keeps the long-run step at ``lr · grad`` whatever the momentum. Kaldi sums the
objective over the minibatch; we average it (over all ranks with DDP), so the learning rate given to ``step`` is
Kaldi's effective rate times the number of examples the average is over (``xvector_step_lrate``).

Kaldi's ``--proportional-shrink`` multiplies all parameters by ``1 − shrink · lrate`` once per training iteration;
``step(shrink=...)`` applies the equivalent per-minibatch factor (see ``per_step_shrink``).
"""

from __future__ import annotations

import csv
import math
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch
import torch.distributed as dist
from torch import nn

from phonsid.io.atomic import atomic_open


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN/inf objective; the message names the iteration and the last good checkpoint."""


class TrainingInterrupted(RuntimeError):
    """Training stopped early (signal or test hook); a checkpoint allows resuming."""


# ---------------------------------------------------------------------------------------------------------------
# schedules


@dataclass
class TrainResult:
    """What a trainer returns: the final model, the number of optimizer steps, the last diagnostics."""

    final_model: Path
    num_steps: int
    diagnostics: dict[str, float]


def amp_dtype(name: str, device: torch.device) -> torch.dtype:
    """The autocast dtype of ``--amp-dtype``: bfloat16, float16, or auto (bfloat16 where the device has it,
    float16 on older GPUs)."""
    name = str(name).lower()
    if name in ("bf16", "bfloat16"):
        return torch.bfloat16
    if name in ("fp16", "float16", "half"):
        return torch.float16
    if name == "auto":
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            return torch.float16
        return torch.bfloat16
    raise ValueError(f"--amp-dtype must be auto, bfloat16 or float16, got '{name}'")


def setup_amp(amp: bool, dtype_name: str, device: torch.device, warn: Callable[[str], None]
              ) -> tuple[bool, torch.dtype, "torch.amp.GradScaler", Callable[[], Any]]:
    """Mixed precision for a trainer: (enabled, autocast dtype, gradient scaler, autocast context factory). AMP
    runs on GPU only (``warn`` says so on CPU); the scaler is active for float16 only."""
    use_amp = bool(amp) and device.type == "cuda"
    if amp and not use_amp:
        warn("--amp is only used on GPU; training in float32 on CPU")
    dtype = amp_dtype(dtype_name, device) if use_amp else torch.float32
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and dtype == torch.float16)

    def autocast():
        return torch.autocast(device_type=device.type, dtype=dtype, enabled=use_amp)

    return use_amp, dtype, scaler, autocast


class SignalCatcher:
    """While installed, SIGINT / SIGTERM only record themselves in ``signal`` (the training loop then writes a
    checkpoint and stops cleanly); ``restore()`` puts the previous handlers back. Not installed when ``enabled`` is
    false (under torchrun, whose launcher handles signals) or outside the main thread."""

    def __init__(self, enabled: bool = True) -> None:
        self.signal: int | None = None
        self._old: dict[int, Any] = {}
        if enabled:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    self._old[sig] = signal.signal(sig, self._record)
                except ValueError:  # not the main thread
                    pass

    def _record(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        self.signal = signum

    def restore(self) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        self._old = {}


def exponential_lrate(initial: float, final: float, fraction: float) -> float:
    """Kaldi's effective learning rate: exponential interpolation from ``initial`` (0) to ``final`` (1)."""
    if initial <= 0 or final <= 0:
        raise ValueError(f"learning rates must be positive (initial {initial}, final {final})")
    fraction = min(max(fraction, 0.0), 1.0)
    return initial * math.exp(fraction * math.log(final / initial))


def per_step_shrink(proportional_shrink: float, iteration_lrate: float, steps_per_iteration: float) -> float:
    """Per-minibatch parameter scale equivalent to Kaldi's once-per-iteration ``1 − shrink · lrate``.

    ``iteration_lrate`` is Kaldi's per-job rate (effective rate × number of jobs) and ``steps_per_iteration`` the
    minibatches one job runs in an iteration (archive size / minibatch size). Kaldi refuses shrink values ≤ 0.5.
    """
    if proportional_shrink <= 0:
        return 1.0
    value = 1.0 - proportional_shrink * iteration_lrate
    if value <= 0.5:
        raise ValueError(f"proportional-shrink={proportional_shrink} with learning rate {iteration_lrate} gives "
                         f"a shrink value {value} <= 0.5; lower it")
    return value ** (1.0 / max(steps_per_iteration, 1.0))


# ---------------------------------------------------------------------------------------------------------------
# Kaldi's update


class KaldiSGD(torch.optim.Optimizer):
    """nnet3's minibatch update: momentum on the change, per-component max-change, global max-param-change.

    ``components`` is a list of ``(name, parameters, max_change)``; ``max_change`` 0 disables the per-component
    limit and ``max_param_change`` 0 the global one. ``step(lr, shrink)`` takes the learning rate every call (the
    trainer owns the schedule). Counters of how often the limits acted are kept on the device and read by
    ``max_change_stats`` (one host sync per call).
    """

    def __init__(self, components: Sequence[tuple[str, Iterable[nn.Parameter], float]], momentum: float = 0.0,
                 max_param_change: float = 0.0) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if max_param_change < 0:
            raise ValueError(f"max-param-change must be >= 0, got {max_param_change}")
        groups = []
        for name, params, max_change in components:
            if max_change < 0:
                raise ValueError(f"max-change of {name} must be >= 0, got {max_change}")
            groups.append({"params": list(params), "name": name, "max_change": float(max_change)})
        super().__init__(groups, {"lr": 0.0})
        self.momentum = float(momentum)
        self.max_param_change = float(max_param_change)
        self._num_steps = 0
        self._consts: dict[str, torch.Tensor] = {}
        self._consts_key = None

    @torch.no_grad()
    def step(self, lr: float, shrink: float = 1.0, closure: Callable | None = None) -> None:  # type: ignore[override]
        m = self.momentum
        params, grads, deltas, comp = [], [], [], []
        for c, group in enumerate(self.param_groups):
            group["lr"] = lr
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "delta" not in state:
                    state["delta"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                params.append(p)
                grads.append(p.grad)
                deltas.append(state["delta"])
                comp.append(c)
        if not params:
            return
        device = params[0].device
        consts = self._device_constants(device, comp)
        # delta = momentum * delta + lr * grad (foreach: a few fused kernels, no host sync)
        if m > 0:
            torch._foreach_mul_(deltas, m)
        torch._foreach_add_(deltas, grads, alpha=lr)
        sq = torch.stack(torch._foreach_norm(deltas)).float().pow(2)
        comp_sq = torch.zeros(len(self.param_groups), device=device).index_add_(0, consts["comp_index"], sq)
        norms = comp_sq.sqrt()
        max_changes = consts["max_changes"]
        limit = (max_changes > 0) & (norms > max_changes)
        factors = torch.where(limit, max_changes / norms.clamp_min(1e-30), torch.ones_like(norms))
        total = (1.0 - m) * torch.sqrt((factors * factors * comp_sq).sum())
        finite = torch.isfinite(total)
        if self.max_param_change > 0:
            glimit = finite & (total > self.max_param_change)
            gscale = torch.where(glimit, self.max_param_change / total.clamp_min(1e-30), torch.ones_like(total))
        else:
            glimit = torch.zeros((), dtype=torch.bool, device=device)
            gscale = torch.ones_like(total)
        gscale = torch.where(finite, gscale, torch.zeros_like(gscale))
        per_param = (-(1.0 - m) * gscale * factors)[consts["comp_index"]]
        # a non-finite change is neither applied nor kept (Kaldi drops it); when finite these are no-ops
        for d in deltas:
            torch.nan_to_num_(d, nan=0.0, posinf=0.0, neginf=0.0)
        torch._foreach_add_(params, torch._foreach_mul(deltas, list(per_param.to(deltas[0].dtype).unbind(0))))
        torch._foreach_mul_(deltas, finite.to(deltas[0].dtype))
        if shrink != 1.0:
            torch._foreach_mul_(params, shrink)
        consts["limited"] += limit.long()
        consts["global_limited"] += glimit.long()
        consts["skipped"] += (~finite).long()
        self._num_steps += 1

    def _device_constants(self, device: torch.device, comp: list[int]) -> dict[str, torch.Tensor]:
        """Per-device tensors made once (a host-to-device copy every step would synchronise a GPU)."""
        key = (str(device), tuple(comp))
        if getattr(self, "_consts_key", None) != key:
            counters = self._consts if getattr(self, "_consts", None) else {}
            self._consts = {
                "comp_index": torch.tensor(comp, dtype=torch.long, device=device),
                "max_changes": torch.tensor([g["max_change"] for g in self.param_groups], device=device),
                "limited": counters.get("limited", torch.zeros(len(self.param_groups), dtype=torch.long)).to(device),
                "global_limited": counters.get("global_limited", torch.zeros((), dtype=torch.long)).to(device),
                "skipped": counters.get("skipped", torch.zeros((), dtype=torch.long)).to(device),
            }
            self._consts_key = key
        return self._consts

    def max_change_stats(self, reset: bool = True) -> dict[str, Any]:
        """How often the limits acted since the last reset: ``{"steps", "per_component": {name: n}, "global",
        "skipped"}``."""
        consts = getattr(self, "_consts", None)
        if not consts:
            out = {"steps": self._num_steps, "per_component": {}, "global": 0, "skipped": 0}
        else:
            limited = consts["limited"].tolist()
            out = {"steps": self._num_steps,
                   "per_component": {g["name"]: n for g, n in zip(self.param_groups, limited)},
                   "global": int(consts["global_limited"].item()), "skipped": int(consts["skipped"].item())}
        if reset:
            self._num_steps = 0
            if consts:
                for k in ("limited", "global_limited", "skipped"):
                    consts[k].zero_()
        return out


# ---------------------------------------------------------------------------------------------------------------
# devices and torch.distributed


@dataclass
class DistContext:
    """Where this process trains: rank, world size and device (one process per GPU under ``torchrun``)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def close(self) -> None:
        if self.initialized_here and dist.is_initialized():
            dist.destroy_process_group()
            self.initialized_here = False


def select_device(use_gpu: str = "auto", local_rank: int = 0) -> torch.device:
    """``use_gpu``: ``yes`` (a GPU is required), ``no``, or ``auto``/``optional`` (a GPU when there is one)."""
    use_gpu = str(use_gpu).lower()
    if use_gpu in ("true", "yes", "wait"):
        if not torch.cuda.is_available():
            raise RuntimeError("--use-gpu=yes but no CUDA device is available")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if use_gpu in ("false", "no"):
        return torch.device("cpu")
    if use_gpu in ("auto", "optional"):
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    raise ValueError(f"--use-gpu must be yes, no or auto, got '{use_gpu}'")


def init_distributed(use_gpu: str = "auto") -> DistContext:
    """Reads ``torchrun``'s environment (RANK, WORLD_SIZE, LOCAL_RANK); starts the process group when there are
    several processes (NCCL on GPUs, gloo on CPU; ``PHONSID_DIST_BACKEND`` overrides, e.g. gloo to run two
    processes on one GPU, which NCCL refuses). Without ``torchrun`` it is one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = select_device(use_gpu, local_rank)
    ctx = DistContext(rank, world, local_rank, device)
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = os.environ.get("PHONSID_DIST_BACKEND") or ("nccl" if device.type == "cuda" else "gloo")
        dist.init_process_group(backend=backend)
        ctx.initialized_here = True
    return ctx


# ---------------------------------------------------------------------------------------------------------------
# checkpoints


def check_finite_parameters(state_dict: dict[str, Any], path: str | Path, what: str = "a model") -> None:
    """Refuses to save ``state_dict`` when a floating-point tensor of it holds NaN or inf: a
    :class:`phonsid.io.NonFiniteError` naming ``path`` and the tensors (one device sync for all of them).

    The trainers check the objective before every checkpoint and their update drops non-finite changes, so this
    is the last guard: a model file on disk never holds NaN."""
    from phonsid.io.kaldi_object import NonFiniteError

    names = [k for k, v in state_dict.items() if torch.is_tensor(v) and v.is_floating_point() and v.numel()]
    if not names:
        return
    ok = torch.stack([torch.isfinite(state_dict[k]).all() for k in names]).cpu()
    if bool(ok.all()):
        return
    bad = [k for k, good in zip(names, ok.tolist()) if not good]
    v = state_dict[bad[0]]
    n = int((~torch.isfinite(v)).sum())
    also = ""
    if len(bad) > 1:
        also = f" (also {', '.join(bad[1:4])}{', ...' if len(bad) > 4 else ''})"
    raise NonFiniteError(f"{path}: refusing to save {what} with non-finite parameters: {bad[0]} has {n} of "
                         f"{v.numel()} values NaN or inf{also}")


class Checkpointer:
    """``<dir>/ckpt-<step>.pt`` files written atomically; the newest ``keep`` are kept."""

    _PATTERN = re.compile(r"^ckpt-(\d+)\.pt$")

    def __init__(self, directory: str | Path, keep: int = 2) -> None:
        self.directory = Path(directory)
        self.keep = max(1, int(keep))

    def _all(self) -> list[tuple[int, Path]]:
        if not self.directory.is_dir():
            return []
        found = []
        for p in self.directory.iterdir():
            m = self._PATTERN.match(p.name)
            if m:
                found.append((int(m.group(1)), p))
        return sorted(found)

    def latest(self) -> Path | None:
        found = self._all()
        return found[-1][1] if found else None

    def save(self, step: int, state: dict[str, Any]) -> Path:
        path = self.directory / f"ckpt-{step:08d}.pt"
        if isinstance(state.get("model"), dict):
            try:
                check_finite_parameters(state["model"], path, "a checkpoint")
            except ValueError as e:
                raise type(e)(f"{e}; the last checkpoint written is {self.latest() or 'none'}") from None
        with atomic_open(path, "wb") as f:
            torch.save(state, f)
        for _, old in self._all()[:-self.keep]:
            old.unlink(missing_ok=True)
        return path

    @staticmethod
    def load(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
        try:
            return torch.load(path, map_location=map_location, weights_only=False)
        except Exception as e:  # noqa: BLE001
            raise RuntimeError(f"checkpoint {path}: cannot read it ({e}); delete it to resume from an older one") from e


# ---------------------------------------------------------------------------------------------------------------
# diagnostics


class CsvLog:
    """A CSV of diagnostics rows keyed by ``step``. Resuming from step ``s`` drops rows after ``s`` first."""

    def __init__(self, path: str | Path, fields: Sequence[str], resume_step: int | None = None) -> None:
        self.path = Path(path)
        self.fields = list(fields)
        rows: list[dict[str, str]] = []
        if resume_step is not None and self.path.exists():
            with open(self.path, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    try:
                        if int(row.get("step", "")) <= resume_step:
                            rows.append(row)
                    except ValueError:
                        continue
        with atomic_open(self.path, "w") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            w.writeheader()
            for row in rows:
                w.writerow(row)

    def append(self, row: dict[str, Any]) -> None:
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            w.writerow({k: _fmt(v) for k, v in row.items()})

    def read(self) -> list[dict[str, str]]:
        with open(self.path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.6g}"
    return v
