"""Per-frame sparse posteriors (Kaldi's ``Posterior``) as flat arrays, and conversions.

Kaldi's ``Posterior`` is, per frame, a list of (index, weight) pairs. ``phonsid.io`` reads/writes it as a
Python list of lists of tuples; for computation we keep one utterance as three flat arrays (frame, index,
weight), frame-major in Kaldi's pair order. Weights are float32 values, as Kaldi stores them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch


@dataclasses.dataclass
class Posterior:
    """Sparse posteriors of one utterance: ``frames``, ``ids`` (int64) and ``weights`` (float64 arrays)."""

    num_frames: int
    frames: np.ndarray
    ids: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        self.frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        self.ids = np.asarray(self.ids, dtype=np.int64).reshape(-1)
        self.weights = np.asarray(self.weights, dtype=np.float64).reshape(-1)
        if not (self.frames.shape == self.ids.shape == self.weights.shape):
            raise ValueError("Posterior: frames, ids and weights must have the same length")

    @classmethod
    def from_lists(cls, post: list) -> "Posterior":
        """From phonsid.io's ``posterior`` holder value (list per frame of (id, weight) pairs)."""
        counts = np.fromiter((len(p) for p in post), dtype=np.int64, count=len(post))
        nnz = int(counts.sum())
        frames = np.repeat(np.arange(len(post), dtype=np.int64), counts)
        ids = np.empty(nnz, dtype=np.int64)
        weights = np.empty(nnz, dtype=np.float64)
        pos = 0
        for p in post:
            for i, w in p:
                ids[pos] = i
                weights[pos] = w
                pos += 1
        return cls(len(post), frames, ids, weights)

    @classmethod
    def from_dense(cls, ids: np.ndarray | torch.Tensor, weights: np.ndarray | torch.Tensor) -> "Posterior":
        """From (T, n) index and weight matrices; zero weights and negative (padding) indices are dropped."""
        ids = ids.cpu().numpy() if isinstance(ids, torch.Tensor) else np.asarray(ids)
        weights = weights.cpu().numpy() if isinstance(weights, torch.Tensor) else np.asarray(weights)
        t, n = ids.shape
        keep = (weights != 0) & (ids >= 0)
        frames = np.broadcast_to(np.arange(t)[:, None], (t, n))[keep]
        return cls(t, frames, ids[keep], weights.astype(np.float32)[keep])

    def to_lists(self) -> list[list[tuple[int, float]]]:
        """For phonsid.io's ``posterior`` holder."""
        out: list[list[tuple[int, float]]] = [[] for _ in range(self.num_frames)]
        for t, i, w in zip(self.frames.tolist(), self.ids.tolist(), np.float32(self.weights).tolist()):
            out[t].append((i, w))
        return out

    def scaled(self, scale: float) -> "Posterior":
        """Weights times ``scale`` (scale-post), rounded to float32 as Kaldi's BaseFloat posteriors."""
        return Posterior(self.num_frames, self.frames, self.ids,
                         (self.weights.astype(np.float32) * np.float32(scale)).astype(np.float64))

    def total(self) -> float:
        return float(self.weights.sum())

    def select_frames(self, keep: np.ndarray) -> "Posterior":
        """Keeps the frames where ``keep`` (bool, length num_frames) is true, renumbered."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape[0] != self.num_frames:
            raise ValueError(f"Posterior: frame mask of length {keep.shape[0]} for {self.num_frames} frames")
        new_index = np.cumsum(keep) - 1
        sel = keep[self.frames]
        return Posterior(int(keep.sum()), new_index[self.frames[sel]], self.ids[sel], self.weights[sel])


def logprob_to_post(logprobs: np.ndarray, min_post: float = 0.01, random_prune: bool = True,
                    rng: np.random.Generator | None = None, chunk_frames: int = 512) -> Posterior:
    """Kaldi's logprob-to-post: exp of each log-probability; values below ``min_post`` are dropped, or with
    ``random_prune`` kept as ``min_post`` with probability p / min_post (expectations preserved). Works through
    ``chunk_frames`` rows at a time (thousands of senones per frame make whole-utterance temporaries of hundreds of
    MB); the random draws are the same whatever the chunk, one per value in row-major order."""
    logprobs = np.asarray(logprobs, dtype=np.float32)
    t, n = logprobs.shape
    if random_prune and min_post > 0:
        rng = rng or np.random.default_rng(0)
    floor = np.float32(min_post)
    frames, ids, weights = [], [], []
    for start in range(0, t, max(int(chunk_frames), 1)):
        p = np.exp(logprobs[start:start + chunk_frames])
        high = p >= min_post
        keep = high
        if random_prune and min_post > 0:
            keep = high | (p / floor >= rng.random(p.shape))
        f, i = np.nonzero(keep)
        frames.append(f + start)
        ids.append(i)
        weights.append(np.where(high[f, i], p[f, i], floor))
    if not frames:
        return Posterior(t, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return Posterior(t, np.concatenate(frames), np.concatenate(ids), np.concatenate(weights))
