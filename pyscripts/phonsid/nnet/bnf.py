"""The bottleneck ASR DNNs of Rahman et al. (2018), section 3: DNN-1 (bottleneck features, BNF), the stacked DNN-2
(SBNF) and the multi-task DNN-2 with a speaker head (MT-SBNF), with their YAML configurations
(``conf/bnf1.yaml``, ``conf/sbnf.yaml``, ``conf/mt_sbnf.yaml``).

The network (``BottleneckDNN``) is a feed-forward DNN over spliced frames::

    input (K spliced frames of D dims, standardised with the training data's per-dim mean / std)
    hidden 1..L:  affine -> ReLU -> batch norm (or Kaldi's "renorm")   except
    hidden b:     affine (bottleneck_dim, 80) -> batch norm            the linear bottleneck: no nonlinearity
    output:       affine -> softmax over the senones (pdf ids)
    [speaker:     from hidden layer ``branch_layer``: [affine -> ReLU -> norm]* -> affine -> softmax over speakers]

Batch norm has no learned scale or offset (Kaldi's BatchNormComponent, epsilon 0.001; the following affine layer
does that job); "renorm" is Kaldi's NormalizeComponent (each frame's vector scaled to unit root-mean-square), the
nonlinearity the paper's DNNs used. The bottleneck feature of a frame is the output of the bottleneck layer's
normalisation: a fixed affine function of the linear bottleneck at test time, with about zero mean and unit
variance per dimension on the training data (with ``bottleneck_norm: none`` it is the affine output itself).

Multi-task objective: ``CE(senones) + speaker_weight · CE(speakers)`` (λ of the paper's MT-SBNF).

Input processing (the ``input:`` section, saved with the model so extraction repeats it): per-utterance
sliding-window CMN (DNN-1, on 40-dim hires MFCC), per-speaker mean and variance normalisation (DNN-2, on DNN-1
BNFs: the stand-in for the paper's fMLLR), per-utterance mean/variance normalisation, or none; then splicing at the
configured frame offsets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from phonsid.io.atomic import atomic_open
from phonsid.nnet.config import check_sections, config_section, load_yaml_config
from phonsid.nnet.training import check_finite_parameters

FORMAT = "phonsid-bnf-dnn-1"
NORMALIZATIONS = ("sliding-cmn", "speaker-mvn", "utterance-mvn", "none")
LAYER_NORMS = ("batchnorm", "renorm")
OPTIMIZERS = ("sgd", "adam")


class BnfConfigError(ValueError):
    """A bottleneck-DNN configuration that cannot be used (message names the file and key)."""


# ---------------------------------------------------------------------------------------------------------------
# configuration


@dataclass
class InputConfig:
    """``input:``: how frames are normalised and spliced (applied at training and at extraction)."""

    splice: list[int] = field(default_factory=lambda: list(range(-5, 6)))  # frame offsets of the network input
    normalization: str = "sliding-cmn"  # sliding-cmn | speaker-mvn | utterance-mvn | none
    cmn_window: int = 600               # sliding-cmn: window in frames (Kaldi apply-cmvn-sliding --cmn-window)
    min_cmn_window: int = 100           # sliding-cmn, not centred: shortest window at the start
    cmn_center: bool = True             # sliding-cmn: centred window
    norm_vars: bool = False             # sliding-cmn: also normalise the variance
    variance_floor: float = 1.0e-10     # *-mvn: floor of the variance before dividing by its square root

    def __post_init__(self) -> None:
        self.splice = [int(o) for o in self.splice]
        if not self.splice or any(b <= a for a, b in zip(self.splice, self.splice[1:])):
            raise BnfConfigError(f"input.splice must be a non-empty increasing list of frame offsets, "
                                 f"got {self.splice}")
        if self.normalization not in NORMALIZATIONS:
            raise BnfConfigError(f"input.normalization '{self.normalization}' is not one of {', '.join(NORMALIZATIONS)}")
        if self.cmn_window < 1 or self.min_cmn_window < 1:
            raise BnfConfigError("input.cmn_window and input.min_cmn_window must be >= 1")

    @property
    def needs_speakers(self) -> bool:
        return self.normalization == "speaker-mvn"


@dataclass
class ModelConfig:
    """``model:``: layer sizes."""

    num_hidden_layers: int = 7          # hidden layers including the bottleneck
    hidden_dim: int = 1024              # width of the other hidden layers
    bottleneck_dim: int = 80
    bottleneck_position: int = 6        # which hidden layer (1-based) is the linear bottleneck
    norm: str = "batchnorm"             # batchnorm | renorm, after the ReLU of each non-bottleneck layer
    bottleneck_norm: str = "batchnorm"  # batchnorm | none, after the bottleneck's affine map
    batchnorm_epsilon: float = 0.001
    renorm_target_rms: float = 1.0

    def __post_init__(self) -> None:
        if self.num_hidden_layers < 1 or self.hidden_dim < 1 or self.bottleneck_dim < 1:
            raise BnfConfigError("model: num_hidden_layers, hidden_dim and bottleneck_dim must be >= 1")
        if not 1 <= self.bottleneck_position <= self.num_hidden_layers:
            raise BnfConfigError(f"model.bottleneck_position={self.bottleneck_position} must be within "
                                 f"1..num_hidden_layers ({self.num_hidden_layers})")
        if self.norm not in LAYER_NORMS:
            raise BnfConfigError(f"model.norm '{self.norm}' is not one of {', '.join(LAYER_NORMS)}")
        if self.bottleneck_norm not in ("batchnorm", "none"):
            raise BnfConfigError(f"model.bottleneck_norm '{self.bottleneck_norm}' is not one of batchnorm, none")

    def hidden_dims(self) -> list[int]:
        return [self.bottleneck_dim if i + 1 == self.bottleneck_position else self.hidden_dim
                for i in range(self.num_hidden_layers)]


@dataclass
class MultitaskConfig:
    """``multitask:`` (MT-SBNF only): the speaker head."""

    speaker_weight: float = 0.3         # λ: loss = CE(senones) + λ · CE(speakers)
    branch_layer: int = 6               # the head takes the output of this hidden layer (1-based)
    speaker_hidden_dims: list[int] = field(default_factory=list)  # hidden layers of the head before its softmax

    def __post_init__(self) -> None:
        self.speaker_hidden_dims = [int(d) for d in self.speaker_hidden_dims]
        if self.speaker_weight <= 0:
            raise BnfConfigError(f"multitask.speaker_weight must be > 0, got {self.speaker_weight}")
        if any(d < 1 for d in self.speaker_hidden_dims):
            raise BnfConfigError("multitask.speaker_hidden_dims must be positive")


@dataclass
class DataConfig:
    """``data:``: how nnet_bnf_prepare.py builds the training and validation frames."""

    valid_speakers: float = 0.1         # speakers held out entirely: a count (>= 1) or a fraction (< 1)
    valid_utts_per_speaker: int = 1     # utterances held out from each training speaker (speaker accuracy)
    min_train_utts_per_speaker: int = 2  # never hold out an utterance of a speaker with fewer
    length_tolerance: int = 2           # frames an alignment may differ from the features (then truncated)
    storage_dtype: str = "float32"      # float32 | float16: the memory-mapped training features
    seed: int = 777                     # the held-out selection

    def __post_init__(self) -> None:
        if self.valid_speakers < 0 or self.valid_utts_per_speaker < 0 or self.length_tolerance < 0:
            raise BnfConfigError("data: valid_speakers, valid_utts_per_speaker and length_tolerance must be >= 0")
        if self.storage_dtype not in ("float32", "float16"):
            raise BnfConfigError(f"data.storage_dtype must be float32 or float16, got {self.storage_dtype}")


@dataclass
class TrainConfig:
    """``train:``: schedule. Learning rate decays exponentially from initial to final over all steps."""

    num_epochs: int = 4
    minibatch_size: int = 256           # frames per process and step
    optimizer: str = "sgd"              # sgd (Kaldi's update: momentum, max-change) | adam
    initial_lrate: float = 0.002        # sgd: Kaldi's effective rate per frame; adam: the step size
    final_lrate: float = 0.0002
    momentum: float = 0.9               # sgd
    max_change: float = 0.75            # sgd: per-layer limit on one update (Kaldi's max-change)
    output_max_change: float = 1.5      # sgd: the same for the output layers
    max_param_change: float = 2.0       # sgd: global limit
    weight_decay: float = 0.0           # adam (L2)
    seed: int = 1234                    # initialisation and frame order
    checkpoint_interval: int = 0        # steps between mid-epoch checkpoints (0: at the end of each epoch only)
    keep_checkpoints: int = 2
    log_interval: int = 500             # steps between progress lines
    valid_minibatch_size: int = 4096
    prefetch: int = 4                   # minibatches prepared ahead by a reader thread (memory-mapped input)
    preload: str = "auto"               # copy the frames to the GPU: auto (if they fit) | yes | no

    def __post_init__(self) -> None:
        if self.num_epochs < 1 or self.minibatch_size < 1:
            raise BnfConfigError("train: num_epochs and minibatch_size must be >= 1")
        if self.optimizer not in OPTIMIZERS:
            raise BnfConfigError(f"train.optimizer '{self.optimizer}' is not one of {', '.join(OPTIMIZERS)}")
        if self.initial_lrate <= 0 or self.final_lrate <= 0:
            raise BnfConfigError("train: learning rates must be > 0")
        if not 0 <= self.momentum < 1:
            raise BnfConfigError(f"train.momentum must be in [0, 1), got {self.momentum}")
        if self.checkpoint_interval < 0 or self.log_interval < 1 or self.valid_minibatch_size < 1:
            raise BnfConfigError("train: checkpoint_interval >= 0, log_interval and valid_minibatch_size >= 1")
        if str(self.preload) not in ("auto", "yes", "no", "True", "False"):
            raise BnfConfigError(f"train.preload must be auto, yes or no, got {self.preload}")


@dataclass
class BnfConfig:
    """A whole bottleneck-DNN configuration (one YAML file)."""

    input: InputConfig
    model: ModelConfig
    multitask: MultitaskConfig | None
    data: DataConfig
    train: TrainConfig

    def __post_init__(self) -> None:
        mt = self.multitask
        if mt is not None and not 1 <= mt.branch_layer <= self.model.num_hidden_layers:
            raise BnfConfigError(f"multitask.branch_layer={mt.branch_layer} must be within 1..num_hidden_layers "
                                 f"({self.model.num_hidden_layers})")

    def to_dict(self) -> dict[str, Any]:
        d = {"input": dataclasses.asdict(self.input), "model": dataclasses.asdict(self.model)}
        if self.multitask is not None:
            d["multitask"] = dataclasses.asdict(self.multitask)
        d["data"] = dataclasses.asdict(self.data)
        d["train"] = dataclasses.asdict(self.train)
        return d

    def network_dict(self) -> dict[str, Any]:
        """The parts that define the network and its input (saved with the model)."""
        d = self.to_dict()
        return {k: d[k] for k in ("input", "model", "multitask") if k in d}


_SECTIONS = {"input": InputConfig, "model": ModelConfig, "multitask": MultitaskConfig, "data": DataConfig,
             "train": TrainConfig}


def bnf_config_from_dict(d: dict[str, Any], source: str = "bottleneck DNN config") -> BnfConfig:
    check_sections(d, _SECTIONS, source, BnfConfigError)

    def section(name: str) -> Any:
        return config_section(_SECTIONS[name], d.get(name), name, source, BnfConfigError)

    try:
        return BnfConfig(input=section("input"), model=section("model"),
                         multitask=section("multitask") if d.get("multitask") is not None else None,
                         data=section("data"), train=section("train"))
    except BnfConfigError as e:
        msg = str(e)
        raise BnfConfigError(msg if msg.startswith(source) else f"{source}: {msg}") from None


def load_bnf_config(path: str | Path | None, overrides: list[str] | None = None) -> BnfConfig:
    """Reads a YAML configuration (the defaults when ``path`` is None) and applies ``section.key=value``
    overrides."""
    d, source = load_yaml_config(path, overrides, "config", "bottleneck DNN defaults", _SECTIONS, BnfConfigError)
    return bnf_config_from_dict(d, source)


# ---------------------------------------------------------------------------------------------------------------
# the network


class Renorm(nn.Module):
    """Kaldi's NormalizeComponent: ``y = x · target_rms / sqrt(mean(x²) + eps)`` per frame."""

    def __init__(self, target_rms: float = 1.0, eps: float = 2.0 ** -66) -> None:
        super().__init__()
        self.target_rms = float(target_rms)
        self.eps = float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ms = x.float().pow(2).mean(dim=-1, keepdim=True)
        return (x * (self.target_rms * torch.rsqrt(ms + self.eps)).to(x.dtype))


def _norm(kind: str, dim: int, mc: ModelConfig) -> nn.Module:
    if kind == "batchnorm":
        return nn.BatchNorm1d(dim, eps=mc.batchnorm_epsilon, affine=False)
    if kind == "renorm":
        return Renorm(mc.renorm_target_rms)
    return nn.Identity()


def _affine(in_dim: int, out_dim: int, zero: bool = False) -> nn.Linear:
    """Kaldi's xconfig initialisation: weights N(0, 1/fan_in) (the output layers start at zero), biases 0."""
    lin = nn.Linear(in_dim, out_dim)
    with torch.no_grad():
        if zero:
            lin.weight.zero_()
        else:
            lin.weight.normal_(0.0, in_dim ** -0.5)
        lin.bias.zero_()
    return lin


class BottleneckDNN(nn.Module):
    """Feed-forward bottleneck DNN (see the module doc). ``forward(x)`` takes spliced, unstandardised input
    ``(B, K·D)`` and returns ``(senone_logits, speaker_logits or None)``."""

    def __init__(self, feat_dim: int, num_pdfs: int, input_cfg: InputConfig, model_cfg: ModelConfig,
                 multitask: MultitaskConfig | None = None, num_speakers: int = 0) -> None:
        super().__init__()
        if feat_dim < 1 or num_pdfs < 1:
            raise ValueError(f"feature dim ({feat_dim}) and number of targets ({num_pdfs}) must be >= 1")
        if multitask is not None and num_speakers < 2:
            raise ValueError(f"a speaker head needs at least 2 training speakers, got {num_speakers}")
        self.feat_dim, self.num_pdfs = int(feat_dim), int(num_pdfs)
        self.num_splice = len(input_cfg.splice)
        self.input_cfg, self.model_cfg, self.multitask = input_cfg, model_cfg, multitask
        self.num_speakers = int(num_speakers) if multitask is not None else 0
        self.register_buffer("input_mean", torch.zeros(feat_dim))
        self.register_buffer("input_scale", torch.ones(feat_dim))
        dims = model_cfg.hidden_dims()
        self.bottleneck_index = model_cfg.bottleneck_position - 1
        layers = []
        prev = feat_dim * self.num_splice
        for i, d in enumerate(dims):
            if i == self.bottleneck_index:
                layers.append(nn.Sequential(_affine(prev, d), _norm(model_cfg.bottleneck_norm, d, model_cfg)))
            else:
                layers.append(nn.Sequential(_affine(prev, d), nn.ReLU(), _norm(model_cfg.norm, d, model_cfg)))
            prev = d
        self.hidden = nn.ModuleList(layers)
        self.output = _affine(prev, num_pdfs, zero=True)
        self.speaker_branch = None
        self.speaker_output = None
        if multitask is not None:
            branch = []
            prev = dims[multitask.branch_layer - 1]
            for d in multitask.speaker_hidden_dims:
                branch.append(nn.Sequential(_affine(prev, d), nn.ReLU(), _norm(model_cfg.norm, d, model_cfg)))
                prev = d
            self.speaker_branch = nn.Sequential(*branch)
            self.speaker_output = _affine(prev, self.num_speakers, zero=True)

    @property
    def bottleneck_dim(self) -> int:
        return self.model_cfg.bottleneck_dim

    def set_input_stats(self, mean: np.ndarray, std: np.ndarray, floor: float = 1e-5) -> None:
        """Per-dimension standardisation of the (normalised, unspliced) input, from the training data."""
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std = torch.as_tensor(np.asarray(std, dtype=np.float32))
        if mean.shape != (self.feat_dim,) or std.shape != (self.feat_dim,):
            raise ValueError(f"input statistics of shape {tuple(mean.shape)}/{tuple(std.shape)}, "
                             f"expected ({self.feat_dim},)")
        self.input_mean.copy_(mean)
        self.input_scale.copy_(1.0 / std.clamp_min(floor))

    def _standardise(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        x = x.reshape(b, self.num_splice, self.feat_dim)
        return ((x - self.input_mean) * self.input_scale).reshape(b, -1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self._standardise(x)
        branch_out = None
        for i, layer in enumerate(self.hidden):
            h = layer(h)
            if self.multitask is not None and i == self.multitask.branch_layer - 1:
                branch_out = h
        senones = self.output(h)
        speakers = None
        if self.speaker_output is not None:
            speakers = self.speaker_output(self.speaker_branch(branch_out))
        return senones, speakers

    def bottleneck(self, x: torch.Tensor) -> torch.Tensor:
        """The bottleneck features ``(B, bottleneck_dim)`` of spliced input ``x``."""
        h = self._standardise(x)
        for layer in self.hidden[:self.bottleneck_index + 1]:
            h = layer(h)
        return h

    def log_posteriors(self, x: torch.Tensor) -> torch.Tensor:
        """Natural-log senone posteriors ``(B, num_pdfs)``."""
        return torch.log_softmax(self.forward(x)[0].float(), dim=-1)

    def updatable_components(self) -> list[tuple[str, nn.Module, bool]]:
        """``(name, module, is_output)`` for each layer with parameters (for per-layer max-change)."""
        comps = [(f"hidden{i + 1}", layer, False) for i, layer in enumerate(self.hidden)]
        comps.append(("output", self.output, True))
        if self.speaker_output is not None:
            comps += [(f"speaker_hidden{i + 1}", layer, False) for i, layer in enumerate(self.speaker_branch)]
            comps.append(("speaker_output", self.speaker_output, True))
        return comps


# ---------------------------------------------------------------------------------------------------------------
# saving and loading


@dataclass
class BnfModelInfo:
    """What a saved model carries besides its weights."""

    feat_dim: int
    num_pdfs: int
    num_speakers: int
    input: InputConfig
    model: ModelConfig
    multitask: MultitaskConfig | None
    extra: dict[str, Any]


def build_model(info: BnfModelInfo) -> BottleneckDNN:
    return BottleneckDNN(info.feat_dim, info.num_pdfs, info.input, info.model, info.multitask, info.num_speakers)


def save_bnf_model(path: str | Path, model: BottleneckDNN, extra: dict[str, Any] | None = None) -> None:
    """Writes ``path`` (atomically): weights, network config, dims and ``extra`` (e.g. the training data's
    description)."""
    state = {"format": FORMAT, "feat_dim": model.feat_dim, "num_pdfs": model.num_pdfs,
             "num_speakers": model.num_speakers, "input": dataclasses.asdict(model.input_cfg),
             "model": dataclasses.asdict(model.model_cfg),
             "multitask": dataclasses.asdict(model.multitask) if model.multitask is not None else None,
             "extra": dict(extra or {}),
             "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    check_finite_parameters(state["state_dict"], path)
    with atomic_open(path, "wb") as f:
        torch.save(state, f)


def resolve_model_path(path: str | Path) -> Path:
    """A model file, or a DNN experiment dir holding ``final.pt``."""
    p = Path(path)
    if p.is_dir():
        p = p / "final.pt"
    if not p.is_file():
        raise FileNotFoundError(f"bottleneck DNN model {p} does not exist (train it with steps/nnet/train_bnf.sh)")
    return p


def load_bnf_model(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[BottleneckDNN, BnfModelInfo]:
    """Reads a model written by ``save_bnf_model`` (or the ``final.pt`` of a DNN dir); returns it in eval mode."""
    p = resolve_model_path(path)
    try:
        state = torch.load(p, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"{p}: cannot read the model ({e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{p}: not a phonsid bottleneck DNN (format {state.get('format') if isinstance(state, dict) else '?'})")
    info = BnfModelInfo(int(state["feat_dim"]), int(state["num_pdfs"]), int(state["num_speakers"]),
                        InputConfig(**state["input"]), ModelConfig(**state["model"]),
                        MultitaskConfig(**state["multitask"]) if state.get("multitask") else None,
                        dict(state.get("extra") or {}))
    model = build_model(info)
    model.load_state_dict(state["state_dict"])
    model.eval()
    return model, info


__all__ = [
    "BnfConfig", "BnfConfigError", "BnfModelInfo", "BottleneckDNN", "DataConfig", "InputConfig", "ModelConfig",
    "MultitaskConfig", "Renorm", "TrainConfig", "bnf_config_from_dict", "build_model",
    "load_bnf_config", "load_bnf_model", "resolve_model_path", "save_bnf_model",
]
