"""Table-level loops behind the i-vector tools: pairing features with posteriors (Kaldi's per-utterance checks
and warnings) and batching utterances."""

from __future__ import annotations

import dataclasses
import logging
from typing import Iterable, Iterator

import numpy as np

from phonsid.gmm.posterior import Posterior
from phonsid.io import RandomReader


class FeatureDimError(ValueError):
    """Features whose dimension does not match the model's."""


@dataclasses.dataclass
class Counts:
    num_done: int = 0
    num_err: int = 0
    tot_frames: float = 0.0


@dataclasses.dataclass
class Batch:
    keys: list[str]
    feats: list[np.ndarray]
    posts: list[Posterior]


def paired_utterances(features: Iterable[tuple[str, np.ndarray]], post_rspecifier: str, counts: Counts,
                      log: logging.Logger | None = None, feat_dim: int | None = None, model: str = "the model"
                      ) -> Iterator[tuple[str, np.ndarray, Posterior]]:
    """(key, features, posteriors) for utterances that have posteriors of the right length; the others are
    skipped with Kaldi's warnings and counted as errors. Features whose dimension is not ``feat_dim`` (what
    ``model`` expects) are a FeatureDimError naming the utterance and both dimensions."""
    with RandomReader(post_rspecifier, "posterior", finite=True) as posts:  # NaN weights would poison the stats
        for key, feats in features:
            if feat_dim is not None and feats.shape[1] != feat_dim:
                raise FeatureDimError(f"utterance {key}: the features have dimension {feats.shape[1]}, but {model} "
                                      f"expects dimension {feat_dim}")
            if key not in posts:
                _warn(log, f"No posteriors for utterance {key}")
                counts.num_err += 1
                continue
            post = Posterior.from_lists(posts[key])
            if post.num_frames != feats.shape[0]:
                _warn(log, f"Size mismatch between posterior {post.num_frames} and features {feats.shape[0]} for "
                      f"utterance {key}")
                counts.num_err += 1
                continue
            yield key, feats, post


def batches(items: Iterable[tuple[str, np.ndarray, Posterior]], batch_size: int, batch_frames: int = 0
            ) -> Iterator[Batch]:
    """Groups utterances into batches of at most ``batch_size`` utterances (and ``batch_frames`` frames)."""
    cur = Batch([], [], [])
    frames = 0
    for key, feats, post in items:
        cur.keys.append(key)
        cur.feats.append(feats)
        cur.posts.append(post)
        frames += feats.shape[0]
        if len(cur.keys) >= batch_size or (batch_frames and frames >= batch_frames):
            yield cur
            cur, frames = Batch([], [], []), 0
    if cur.keys:
        yield cur


def _warn(log: logging.Logger | None, msg: str) -> None:
    if log is not None:
        log.warning(msg)
