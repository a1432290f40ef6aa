"""The GMM-HMM feature pipeline, applied in-process by every tool that reads features (Kaldi builds it as a
chain of pipes: ``apply-cmvn --utt2spk | add-deltas`` or ``splice-feats | transform-feats``).

Order: select dimensions → mean (and optionally variance) normalisation per speaker (``--utt2spk``) or per
utterance → Δ/ΔΔ (``add-deltas``) or splicing ±N frames (``splice-feats``) → a linear/affine transform
(LDA/MLLT, ``transform-feats``). Options are registered by ``add_feature_options`` and stored by the step
scripts in ``<exp>/feat_opts`` so alignment and training see the same features.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Iterable, Iterator, Mapping

import numpy as np

from phonsid.cli import parse_bool
from phonsid.data import read_map
from phonsid.features.deltas import add_deltas
from phonsid.features.splice import splice_utterance
from phonsid.io import SequentialReader, read_kaldi_matrix


class FeatureError(ValueError):
    """Bad feature options or a feature matrix that does not fit them (message names the utterance)."""


def apply_transform(x: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """``transform-feats``: ``x @ A.T`` for a (D_out, D) matrix, or with an offset column for (D_out, D+1)."""
    D = x.shape[1]
    if mat.shape[1] == D:
        return (x.astype(np.float64) @ mat.T).astype(np.float32)
    if mat.shape[1] == D + 1:
        return (x.astype(np.float64) @ mat[:, :D].T + mat[:, D]).astype(np.float32)
    raise FeatureError(f"transform of shape {mat.shape} does not fit features of dimension {D}")


def parse_dim_range(spec: str, dim: int) -> np.ndarray:
    """Kaldi ``select-feats`` ranges: ``0-12`` or ``0,2,5-7``."""
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    if not out or min(out) < 0 or max(out) >= dim:
        raise FeatureError(f"dimension selection '{spec}' is out of range for features of dimension {dim}")
    return np.asarray(out)


@dataclasses.dataclass
class FeaturePipeline:
    """What the GMM tools do to the features they read (see the module docstring)."""

    utt2spk: str | None = None
    cmn: bool = True
    norm_vars: bool = False
    select: str = ""
    delta_order: int = 2
    splice_context: int = 0
    transform: str | None = None

    def __post_init__(self) -> None:
        if self.delta_order and self.splice_context:
            raise FeatureError("use either deltas (--delta-order) or splicing (--splice-context), not both")
        self._mat = read_kaldi_matrix(self.transform) if self.transform else None
        self._utt2spk = read_map(self.utt2spk) if self.utt2spk else None

    def output_dim(self, input_dim: int) -> int:
        d = len(parse_dim_range(self.select, input_dim)) if self.select else input_dim
        if self.delta_order:
            d *= self.delta_order + 1
        if self.splice_context:
            d *= 2 * self.splice_context + 1
        if self._mat is not None:
            d = self._mat.shape[0]
        return d

    def _per_frame(self, x: np.ndarray) -> np.ndarray:
        if self.delta_order:
            x = add_deltas(x, self.delta_order)
        if self.splice_context:
            x = splice_utterance(x, range(-self.splice_context, self.splice_context + 1))
        if self._mat is not None:
            x = apply_transform(x, self._mat)
        return np.asarray(x, dtype=np.float32)

    def process(self, feats: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]]) -> Iterator[tuple[str, np.ndarray]]:
        """Applies the pipeline to ``(utt, matrix)`` pairs. Speaker CMN needs all of a speaker's utterances, so
        the input is read completely first (one job's share of the data)."""
        items = list(feats.items()) if isinstance(feats, Mapping) else list(feats)
        if self.select and items:
            sel = parse_dim_range(self.select, items[0][1].shape[1])
            items = [(u, np.asarray(m)[:, sel]) for u, m in items]
        if self.cmn:
            groups: dict[str, list[int]] = {}
            for i, (utt, _) in enumerate(items):
                if self._utt2spk is not None:
                    if utt not in self._utt2spk:
                        raise FeatureError(f"utterance '{utt}' is not in {self.utt2spk}")
                    groups.setdefault(self._utt2spk[utt], []).append(i)
                else:
                    groups[utt] = [i]
            for members in groups.values():
                mats = [np.asarray(items[i][1], dtype=np.float64) for i in members]
                allf = np.concatenate(mats) if mats else np.zeros((0, 1))
                if len(allf) == 0:
                    continue
                mean = allf.mean(0)
                std = np.sqrt(np.maximum(allf.var(0), 1e-10)) if self.norm_vars else None
                for i, m in zip(members, mats):
                    y = m - mean
                    if std is not None:
                        y = y / std
                    items[i] = (items[i][0], y.astype(np.float32))
        for utt, m in items:
            yield utt, self._per_frame(np.asarray(m, dtype=np.float32))

    def read(self, rspecifier: str) -> Iterator[tuple[str, np.ndarray]]:
        """Reads a feature table and applies the pipeline."""
        with SequentialReader(rspecifier, "matrix", finite=True) as reader:  # NaN/inf: an error naming the utterance
            items = list(reader)
        return self.process(items)


def add_feature_options(p: argparse.ArgumentParser) -> None:
    """Registers the pipeline options on a CLI parser."""
    g = p.add_argument_group("feature pipeline")
    g.add_argument("--utt2spk", default=None, help="utt2spk file: mean normalisation per speaker (else per utterance)")
    g.add_argument("--cmn", type=parse_bool, default=True, metavar="true|false",
                   help="subtract the speaker (or utterance) mean (default: true)")
    g.add_argument("--norm-vars", type=parse_bool, default=False, metavar="true|false",
                   help="also normalise variances (default: false)")
    g.add_argument("--select-feats", default="", help="keep these input dimensions first, e.g. 0-12 (default: all)")
    g.add_argument("--delta-order", type=int, default=2, help="add deltas up to this order (0: none; default 2)")
    g.add_argument("--splice-context", type=int, default=0, help="splice ±N frames (instead of deltas; default 0)")
    g.add_argument("--transform", default=None, help="feature transform matrix (LDA/MLLT) applied last")


def pipeline_from_args(a: argparse.Namespace) -> FeaturePipeline:
    try:
        return FeaturePipeline(utt2spk=a.utt2spk, cmn=a.cmn, norm_vars=a.norm_vars, select=a.select_feats,
                               delta_order=a.delta_order, splice_context=a.splice_context, transform=a.transform)
    except (OSError, ValueError) as e:
        raise FeatureError(f"feature pipeline: {e}") from e
