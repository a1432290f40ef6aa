"""x-vector extraction as Kaldi's ``nnet3-xvector-compute`` (current master, ``--pad-input=true``).

For an utterance of ``T`` frames and ``--chunk-size C`` (``-1``: the whole utterance; an utterance shorter than C
is one chunk), the frames are cut into ``ceil(T / C)`` consecutive chunks. A chunk shorter than
``--min-chunk-size M`` is padded to M frames by repeating its first frame ``(M − n) // 2`` times on the left and its
last frame on the right. Each chunk's embedding (the embedding layer's affine output, batch norm in test mode) is
weighted by the chunk's *unpadded* length, and the utterance's x-vector is the weighted average. With
``pad_input=False`` a chunk shorter than M is skipped and an utterance shorter than M fails, as in Kaldi.

``XvectorEmbedder`` does all of this in one TorchScript-able module, so the exported extractor
(``export_xvector_torchscript``) and the Python one compute the same thing. ``load_extractor(exp_dir)`` gives an
object whose ``embed(features, vad)`` applies the recipe's feature transform (sliding CMN over 300 frames,
voiced frames only) and returns the x-vector.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from phonsid.nnet.xvector import DEFAULT_MAX_CHUNK_SIZE, DEFAULT_MIN_CHUNK_SIZE, XvectorTDNN, load_xvector_model


class XvectorExtractionError(ValueError):
    """An utterance cannot be embedded (no frames, too short without padding, wrong feature dim)."""


class FeatureDimError(XvectorExtractionError):
    """The features' dimension is not the one the model was trained on (names both)."""


def plan_chunks(num_rows: int, chunk_size: int, min_chunk_size: int, pad_input: bool = True
                ) -> list[tuple[int, int, int]]:
    """Kaldi's chunking: ``[(start, num_frames, padded_frames), ...]``; empty when nothing can be computed."""
    if num_rows <= 0:
        return []
    if not pad_input and num_rows < min_chunk_size:
        return []
    this_chunk = chunk_size
    if chunk_size <= 0 or num_rows < chunk_size:
        this_chunk = num_rows
    out = []
    for i in range(int(math.ceil(num_rows / this_chunk))):
        n = min(this_chunk, num_rows - i * this_chunk)
        if n < min_chunk_size and not pad_input:
            continue
        out.append((i * this_chunk, n, max(n, min_chunk_size)))
    return out


def pad_chunk(chunk: np.ndarray, min_chunk_size: int) -> np.ndarray:
    """Kaldi's edge padding of a short chunk to ``min_chunk_size`` frames."""
    n = chunk.shape[0]
    if n >= min_chunk_size:
        return chunk
    left = (min_chunk_size - n) // 2
    right = min_chunk_size - n - left
    return np.concatenate([np.repeat(chunk[:1], left, axis=0), chunk, np.repeat(chunk[-1:], right, axis=0)])


class XvectorEmbedder(nn.Module):
    """``forward(feats (T, D)) -> x-vector (E,)`` with Kaldi's chunking, padding and length weighting.

    Full chunks are embedded ``max_batch`` at a time (they all have the same length). TorchScript-able.
    """

    def __init__(self, model: XvectorTDNN, chunk_size: int = DEFAULT_MAX_CHUNK_SIZE,
                 min_chunk_size: int = DEFAULT_MIN_CHUNK_SIZE, pad_input: bool = True, max_batch: int = 8) -> None:
        super().__init__()
        if min_chunk_size < model.min_input_frames:
            raise ValueError(f"--min-chunk-size={min_chunk_size} is below the {model.min_input_frames} frames the "
                             f"network's context needs")
        if 0 < chunk_size < min_chunk_size:
            raise ValueError(f"--chunk-size={chunk_size} is below --min-chunk-size={min_chunk_size}")
        self.model = model.eval()
        self.chunk_size = int(chunk_size)
        self.min_chunk_size = int(min_chunk_size)
        self.pad_input = bool(pad_input)
        self.max_batch = max(1, int(max_batch))
        self.feat_dim = int(model.feat_dim)
        self.embedding_dim = int(model.config.embedding_dim)

    def _pad(self, chunk: torch.Tensor) -> torch.Tensor:
        n = chunk.shape[0]
        if n >= self.min_chunk_size:
            return chunk
        left = (self.min_chunk_size - n) // 2
        right = self.min_chunk_size - n - left
        return torch.cat([chunk[:1].expand(left, chunk.shape[1]), chunk,
                          chunk[n - 1:n].expand(right, chunk.shape[1])], dim=0)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        num_rows = feats.shape[0]
        if feats.dim() != 2 or feats.shape[1] != self.feat_dim:
            raise ValueError("x-vector extractor: expected features (frames, " + str(self.feat_dim) + ")")
        if num_rows == 0:
            raise ValueError("x-vector extractor: zero-length utterance")
        if not self.pad_input and num_rows < self.min_chunk_size:
            raise ValueError("x-vector extractor: utterance shorter than --min-chunk-size and --pad-input=false")
        this_chunk = self.chunk_size
        if self.chunk_size <= 0 or num_rows < self.chunk_size:
            this_chunk = num_rows
        num_full = num_rows // this_chunk
        total = torch.zeros(self.embedding_dim, dtype=torch.float32, device=feats.device)
        weight = 0.0
        s = 0
        while s < num_full:
            n = min(self.max_batch, num_full - s)
            batch = feats[s * this_chunk:(s + n) * this_chunk].reshape(n, this_chunk, feats.shape[1])
            if this_chunk < self.min_chunk_size:  # only when the whole utterance is one short chunk
                batch = self._pad(batch[0]).unsqueeze(0)
            emb = self.model.embed(batch).float()
            total = total + emb.sum(dim=0) * float(this_chunk)
            weight += float(n * this_chunk)
            s += n
        rest = num_rows - num_full * this_chunk
        if rest > 0 and (self.pad_input or rest >= self.min_chunk_size):
            chunk = self._pad(feats[num_full * this_chunk:])
            emb = self.model.embed(chunk.unsqueeze(0)).float()
            total = total + emb[0] * float(rest)
            weight += float(rest)
        return total / weight


class XvectorExtractor:
    """A trained x-vector network ready to embed utterances (see ``load_extractor``)."""

    def __init__(self, model: XvectorTDNN, *, chunk_size: int = DEFAULT_MAX_CHUNK_SIZE,
                 min_chunk_size: int = DEFAULT_MIN_CHUNK_SIZE, pad_input: bool = True, device: str = "cpu",
                 cmn_window: int = 300, source: str = "") -> None:
        self.device = torch.device(device)
        self.source = source
        self.cmn_window = int(cmn_window)
        self.embedder = XvectorEmbedder(model, chunk_size, min_chunk_size, pad_input).to(self.device).eval()

    @property
    def feat_dim(self) -> int:
        return self.embedder.feat_dim

    @property
    def embedding_dim(self) -> int:
        return self.embedder.embedding_dim

    @torch.no_grad()
    def embed_prepared(self, feats: np.ndarray, utt: str = "") -> np.ndarray:
        """The x-vector of features already normalised and restricted to voiced frames."""
        feats = np.asarray(feats, dtype=np.float32)
        where = f"utterance {utt}: " if utt else ""
        if feats.ndim != 2:
            raise XvectorExtractionError(f"{where}features must be a matrix, got shape {feats.shape}")
        if feats.shape[1] != self.feat_dim:
            model = f"the x-vector model {self.source}" if self.source else "the x-vector model"
            raise FeatureDimError(f"{where}feature dim {feats.shape[1]} but {model} expects {self.feat_dim}")
        if feats.shape[0] == 0:
            raise XvectorExtractionError(f"{where}zero-length utterance")
        if not self.embedder.pad_input and feats.shape[0] < self.embedder.min_chunk_size:
            raise XvectorExtractionError(f"{where}{feats.shape[0]} frames is fewer than --min-chunk-size="
                                         f"{self.embedder.min_chunk_size} (and --pad-input=false)")
        x = torch.from_numpy(feats).to(self.device)
        return self.embedder(x).cpu().numpy().astype(np.float32)

    def embed(self, features: np.ndarray, vad: np.ndarray | None = None, utt: str = "") -> np.ndarray:
        """The x-vector of one utterance's raw features (e.g. MFCC): sliding CMN over ``cmn_window`` frames and
        voiced frames only (when ``vad`` is given), then the network, as ``sid/nnet/extract_xvectors.sh``."""
        from phonsid.nnet.xvector_data import cmn_and_select_voiced

        prepared = cmn_and_select_voiced(features, vad, cmn_window=self.cmn_window, utt=utt)
        if prepared.shape[0] == 0:
            raise XvectorExtractionError(f"utterance {utt}: no voiced frame")
        return self.embed_prepared(prepared, utt)


def _read_int_file(path: Path, default: int) -> int:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return default


def resolve_model_path(path: str | Path) -> Path:
    """An experiment dir (its ``final.pt``) or a model file."""
    p = Path(path)
    if p.is_dir():
        p = p / "final.pt"
    if not p.exists():
        raise FileNotFoundError(f"x-vector model {p} does not exist (train it with sid/nnet/train_xvector.sh)")
    return p


def load_extractor(exp_dir: str | Path, *, device: str = "cpu", chunk_size: int | None = None,
                   min_chunk_size: int | None = None, pad_input: bool = True, cmn_window: int = 300
                   ) -> XvectorExtractor:
    """The extractor of a trained x-vector experiment dir (or ``final.pt``); chunk sizes default to the model's
    ``max_chunk_size`` / ``min_chunk_size`` (10000 / 25)."""
    path = resolve_model_path(exp_dir)
    model, payload = load_xvector_model(path)
    extract: dict[str, Any] = payload.get("extract", {}) or {}
    if chunk_size is None:
        chunk_size = _read_int_file(path.parent / "max_chunk_size",
                                    int(extract.get("max_chunk_size", DEFAULT_MAX_CHUNK_SIZE)))
    if min_chunk_size is None:
        min_chunk_size = _read_int_file(path.parent / "min_chunk_size",
                                        int(extract.get("min_chunk_size", DEFAULT_MIN_CHUNK_SIZE)))
    return XvectorExtractor(model, chunk_size=chunk_size, min_chunk_size=min_chunk_size, pad_input=pad_input,
                            device=device, cmn_window=cmn_window, source=str(path))


def export_xvector_torchscript(extractor: XvectorExtractor, out_path: str | Path) -> torch.jit.ScriptModule:
    """Scripts the extractor's ``XvectorEmbedder`` (chunking included) to a TorchScript file: load it with
    ``torch.jit.load(path)`` and call it on a ``(frames, dim)`` float tensor of prepared features."""
    from phonsid.io.atomic import atomic_open

    embedder = XvectorEmbedder(extractor.embedder.model.cpu(), extractor.embedder.chunk_size,
                               extractor.embedder.min_chunk_size, extractor.embedder.pad_input,
                               extractor.embedder.max_batch).eval()
    with warnings.catch_warnings():
        # TorchScript is deprecated in favour of torch.export, which cannot export the data-dependent chunking
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(embedder)
        with atomic_open(out_path, "wb") as f:
            torch.jit.save(scripted, f)
    extractor.embedder.to(extractor.device)
    return scripted
