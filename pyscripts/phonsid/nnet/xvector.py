"""The x-vector TDNN of Snyder et al. (2018), shaped exactly as Kaldi's ``egs/sre16/v2`` ``run_xvector_1a.sh``.

Kaldi's xconfig for that network is::

    input dim=<feat-dim>
    relu-batchnorm-layer tdnn1 input=Append(-2,-1,0,1,2) dim=512
    relu-batchnorm-layer tdnn2 input=Append(-2,0,2) dim=512
    relu-batchnorm-layer tdnn3 input=Append(-3,0,3) dim=512
    relu-batchnorm-layer tdnn4 dim=512
    relu-batchnorm-layer tdnn5 dim=1500
    stats-layer stats config=mean+stddev(0:1:1:10000)
    relu-batchnorm-layer tdnn6 input=stats dim=512
    relu-batchnorm-layer tdnn7 dim=512
    output-layer output include-log-softmax=true dim=<num-speakers>

Here every ``relu-batchnorm-layer`` is an affine map on the spliced context, a ReLU, then a batch norm without
learned scale or offset (Kaldi's BatchNormComponent, epsilon 0.001). The statistics layer pools the mean and the
standard deviation (``sqrt(max(var, 1e-10))``) of tdnn5's output over all frames the chunk provides. The x-vector
is tdnn6's affine output, before its ReLU (Kaldi's ``extract.config``: ``output-node input=tdnn6.affine``).

Initialisation follows Kaldi's xconfig defaults: affine weights N(0, 1/fan_in), biases N(0, 1), and the output
layer starts at zero (``output-layer`` has param-stddev 0 and bias-stddev 0).

The network is described by a ``model:`` section of ``conf/xvector.yaml`` (``XvectorModelConfig``); the input
dimension comes from the features and the output dimension from the number of training speakers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

# Kaldi run_xvector_1a.sh: the chunk lengths the stats layer was configured for and the smallest chunk an x-vector
# is extracted from.
DEFAULT_MAX_CHUNK_SIZE = 10000
DEFAULT_MIN_CHUNK_SIZE = 25


@dataclass
class XvectorModelConfig:
    """Shape of the x-vector network (the ``model:`` section of ``conf/xvector.yaml``)."""

    frame_contexts: list[list[int]] = field(
        default_factory=lambda: [[-2, -1, 0, 1, 2], [-2, 0, 2], [-3, 0, 3], [0], [0]])
    frame_dims: list[int] = field(default_factory=lambda: [512, 512, 512, 512, 1500])
    pooling: str = "mean+stddev"
    segment_dims: list[int] = field(default_factory=lambda: [512, 512])
    embedding_layer: str = "tdnn6"
    batchnorm_epsilon: float = 0.001
    variance_floor: float = 1.0e-10

    def __post_init__(self) -> None:
        self.frame_contexts = [sorted(int(o) for o in c) for c in self.frame_contexts]
        self.frame_dims = [int(d) for d in self.frame_dims]
        self.segment_dims = [int(d) for d in self.segment_dims]
        if len(self.frame_contexts) != len(self.frame_dims) or not self.frame_dims:
            raise ValueError(f"model config: frame_contexts has {len(self.frame_contexts)} layers but frame_dims has "
                             f"{len(self.frame_dims)}; they must match and be non-empty")
        for i, ctx in enumerate(self.frame_contexts):
            if not ctx or len(set(ctx)) != len(ctx):
                raise ValueError(f"model config: frame layer {i + 1} context {ctx} must be non-empty, no repeats")
        if any(d <= 0 for d in self.frame_dims + self.segment_dims):
            raise ValueError("model config: layer dimensions must be positive")
        if self.pooling not in ("mean+stddev", "mean"):
            raise ValueError(f"model config: pooling '{self.pooling}' is not one of mean+stddev, mean")
        if not self.segment_dims:
            raise ValueError("model config: at least one segment layer is needed (the embedding comes from one)")
        if self.embedding_layer not in self.segment_layer_names():
            raise ValueError(f"model config: embedding_layer '{self.embedding_layer}' is not a segment layer "
                             f"({', '.join(self.segment_layer_names())})")

    def frame_layer_names(self) -> list[str]:
        return [f"tdnn{i + 1}" for i in range(len(self.frame_dims))]

    def segment_layer_names(self) -> list[str]:
        n = len(self.frame_dims)
        return [f"tdnn{n + i + 1}" for i in range(len(self.segment_dims))]

    @property
    def left_context(self) -> int:
        """Frames of left context the frame-level layers need (7 for Kaldi's network)."""
        return -sum(min(c) for c in self.frame_contexts)

    @property
    def right_context(self) -> int:
        """Frames of right context the frame-level layers need (7 for Kaldi's network)."""
        return sum(max(c) for c in self.frame_contexts)

    @property
    def min_input_frames(self) -> int:
        """The shortest input that yields one pooled frame."""
        return self.left_context + self.right_context + 1

    def num_output_frames(self, num_input_frames: int) -> int:
        """Frames reaching the statistics pooling for an input of ``num_input_frames`` (no padding)."""
        return max(0, num_input_frames - self.left_context - self.right_context)

    @property
    def embedding_dim(self) -> int:
        return self.segment_dims[self.segment_layer_names().index(self.embedding_layer)]

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "XvectorModelConfig":
        d = dict(d or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"model config: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class TdnnLayer(nn.Module):
    """Kaldi's ``relu-batchnorm-layer`` on frames: affine over the spliced context → ReLU → batch norm.

    Input and output are ``(batch, dim, time)``; the output is shorter by the context span (no padding, like
    Kaldi, which only computes frames whose whole context exists). Evenly spaced contexts (every one in Kaldi's
    network) run as one dilated convolution; any other offsets are spliced explicitly.
    """

    def __init__(self, in_dim: int, out_dim: int, context: list[int], eps: float = 0.001) -> None:
        super().__init__()
        self.context = list(context)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.span = self.context[-1] - self.context[0]
        steps = {b - a for a, b in zip(self.context, self.context[1:])}
        self.regular = len(steps) <= 1
        if self.regular:
            dilation = steps.pop() if steps else 1
            self.affine = nn.Conv1d(in_dim, out_dim, kernel_size=len(self.context), dilation=dilation)
        else:
            self.affine = nn.Conv1d(in_dim * len(self.context), out_dim, kernel_size=1)
        self.relu = nn.ReLU()
        self.batchnorm = nn.BatchNorm1d(out_dim, eps=eps, affine=False)
        fan_in = in_dim * len(self.context)
        nn.init.normal_(self.affine.weight, std=1.0 / math.sqrt(fan_in))
        nn.init.normal_(self.affine.bias, std=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.regular:
            t_out = x.shape[2] - self.span
            first = self.context[0]
            x = torch.cat([x[:, :, o - first:o - first + t_out] for o in self.context], dim=1)
        return self.batchnorm(self.relu(self.affine(x)))


class StatsPooling(nn.Module):
    """Kaldi's ``stats-layer`` ``mean+stddev``: per-dimension mean and standard deviation over time.

    ``(batch, dim, time)`` → ``(batch, 2*dim)`` (or ``(batch, dim)`` for ``mean``). Computed in float32 even under
    autocast, because the variance is a difference of two moments.
    """

    def __init__(self, with_std: bool = True, variance_floor: float = 1.0e-10) -> None:
        super().__init__()
        self.with_std = with_std
        self.variance_floor = variance_floor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        mean = x.mean(dim=2)
        if not self.with_std:
            return mean
        var = (x * x).mean(dim=2) - mean * mean
        std = torch.sqrt(torch.clamp(var, min=self.variance_floor))
        return torch.cat([mean, std], dim=1)


class SegmentLayer(nn.Module):
    """``relu-batchnorm-layer`` on a pooled vector: affine → ReLU → batch norm; keeps the affine output."""

    def __init__(self, in_dim: int, out_dim: int, eps: float = 0.001) -> None:
        super().__init__()
        self.affine = nn.Linear(in_dim, out_dim)
        self.relu = nn.ReLU()
        self.batchnorm = nn.BatchNorm1d(out_dim, eps=eps, affine=False)
        nn.init.normal_(self.affine.weight, std=1.0 / math.sqrt(in_dim))
        nn.init.normal_(self.affine.bias, std=1.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.affine(x)
        return a, self.batchnorm(self.relu(a))


class XvectorTDNN(nn.Module):
    """The x-vector network. ``forward(feats)`` gives log-softmax-ready logits; ``embed(feats)`` the x-vector.

    ``feats`` is ``(batch, time, feat_dim)`` (batch-first, like the egs); the network needs at least
    ``config.min_input_frames`` frames.
    """

    def __init__(self, feat_dim: int, num_targets: int, config: XvectorModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or XvectorModelConfig()
        cfg = self.config
        if feat_dim <= 0 or num_targets <= 0:
            raise ValueError(f"x-vector network: feat_dim ({feat_dim}) and num_targets ({num_targets}) must be > 0")
        self.feat_dim, self.num_targets = int(feat_dim), int(num_targets)
        self.min_input_frames = cfg.min_input_frames
        eps = cfg.batchnorm_epsilon
        layers = []
        in_dim = feat_dim
        for ctx, dim in zip(cfg.frame_contexts, cfg.frame_dims):
            layers.append(TdnnLayer(in_dim, dim, ctx, eps))
            in_dim = dim
        self.frame_layers = nn.ModuleList(layers)
        self.pooling = StatsPooling(cfg.pooling == "mean+stddev", cfg.variance_floor)
        in_dim = in_dim * (2 if cfg.pooling == "mean+stddev" else 1)
        seg = []
        for dim in cfg.segment_dims:
            seg.append(SegmentLayer(in_dim, dim, eps))
            in_dim = dim
        self.segment_layers = nn.ModuleList(seg)
        self.embedding_index = cfg.segment_layer_names().index(cfg.embedding_layer)
        self.output = nn.Linear(in_dim, num_targets)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def layer_names(self) -> list[str]:
        """Kaldi component names of the updatable layers, in order (for max-change groups and logs)."""
        return self.config.frame_layer_names() + self.config.segment_layer_names() + ["output"]

    def updatable_components(self) -> list[tuple[str, nn.Module]]:
        """(name, affine module) per Kaldi updatable component."""
        mods: list[nn.Module] = [layer.affine for layer in self.frame_layers]
        mods += [layer.affine for layer in self.segment_layers]
        mods.append(self.output)
        return list(zip(self.layer_names(), mods))

    def pooled(self, feats: torch.Tensor) -> torch.Tensor:
        """Frame layers and statistics pooling: ``(B, T, D)`` → ``(B, pooled_dim)`` (float32)."""
        if feats.dim() != 3 or feats.shape[2] != self.feat_dim:
            raise ValueError(f"x-vector network: expected input (batch, time, {self.feat_dim}), "
                             f"got {feats.dim()} dims with last dim {feats.shape[-1]}")
        if feats.shape[1] < self.min_input_frames:
            raise ValueError(f"x-vector network: {feats.shape[1]} frames is fewer than the "
                             f"{self.min_input_frames} the frame-level context needs")
        x = feats.transpose(1, 2)
        for layer in self.frame_layers:
            x = layer(x)
        return self.pooling(x)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_targets)`` (the log-softmax is in the loss)."""
        x = self.pooled(feats)
        for layer in self.segment_layers:
            _, x = layer(x)
        return self.output(x)

    def forward_with_embedding(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, embedding) in one pass."""
        x = self.pooled(feats)
        emb = x
        for i, layer in enumerate(self.segment_layers):
            a, x = layer(x)
            if i == self.embedding_index:
                emb = a
        return self.output(x), emb

    def embed(self, feats: torch.Tensor) -> torch.Tensor:
        """The x-vector ``(B, embedding_dim)``: the embedding layer's affine output, before its ReLU."""
        x = self.pooled(feats)
        for i, layer in enumerate(self.segment_layers):
            a, x = layer(x)
            if i == self.embedding_index:
                return a
        raise RuntimeError("unreachable: embedding layer index out of range")


# ---------------------------------------------------------------------------------------------------------------
# model files


def save_xvector_model(path: str | Path, model: XvectorTDNN, extra: dict[str, Any] | None = None) -> None:
    """Writes a self-describing model file (``final.pt``): config, dims and weights, atomically."""
    from phonsid.io.atomic import atomic_open
    from phonsid.nnet.training import check_finite_parameters

    payload = {
        "format": "phonsid-xvector-1",
        "model_config": model.config.to_dict(),
        "feat_dim": model.feat_dim,
        "num_targets": model.num_targets,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    payload.update(extra or {})
    check_finite_parameters(payload["state_dict"], path)
    with atomic_open(path, "wb") as f:
        torch.save(payload, f)


def load_xvector_model(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[XvectorTDNN, dict]:
    """Reads a file written by ``save_xvector_model`` (or a training checkpoint); returns (model in eval mode, payload)."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"x-vector model {path} does not exist") from None
    except Exception as e:  # noqa: BLE001 - any unpickling problem is a bad file
        raise ValueError(f"x-vector model {path}: cannot read it ({e})") from e
    if not isinstance(payload, dict) or "model_config" not in payload or "state_dict" not in payload:
        raise ValueError(f"x-vector model {path}: not a phonsid x-vector model file")
    cfg = XvectorModelConfig.from_dict(payload["model_config"])
    model = XvectorTDNN(payload["feat_dim"], payload["num_targets"], cfg)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, payload
