"""The speaker-ID feature pipeline in process, and command-line plumbing shared by the GMM/i-vector tools.

Kaldi's sid scripts feed their tools through a pipe of three programs::

    add-deltas --delta-order=2 --delta-window=2 scp:feats.scp ark:- |
    apply-cmvn-sliding --norm-vars=false --center=true --cmn-window=300 ark:- ark:- |
    select-voiced-frames ark:- scp,s,cs:vad.scp ark:- |

The phonsid tools accept such a pipe too, but a pipe of Python processes is slow to start; given
``--vad-rspecifier`` (a phonsid extension) they read the raw features and run the same steps in process
with the front end's functions (``phonsid.features``). ``--subsample=n`` keeps every n-th frame afterwards
(subsample-feats). Without ``--vad-rspecifier`` the features are used as read, exactly as Kaldi's tools.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import Iterable, Iterator

import numpy as np

from phonsid.cli import KaldiOptionParser
from phonsid.io import RandomReader, SequentialReader


@dataclasses.dataclass
class SidFeatureOptions:
    """In-process pipeline settings: Δ+ΔΔ (add-deltas defaults: order 2, window 2), sliding CMN over 300
    frames, voiced frames from ``vad_rspecifier``, every ``subsample``-th frame."""

    vad_rspecifier: str = ""
    delta_order: int = 2
    delta_window: int = 2
    cmn_window: int = 300
    subsample: int = 1

    @property
    def enabled(self) -> bool:
        return bool(self.vad_rspecifier)


def sid_pipeline(feats: np.ndarray, vad: np.ndarray | None, opts: SidFeatureOptions, key: str = "") -> np.ndarray:
    """add-deltas | apply-cmvn-sliding (centred, means only) | select-voiced-frames | subsample-feats.
    ``delta_order`` 0 skips the deltas and ``cmn_window`` 0 the normalisation (e.g. for bottleneck features)."""
    x = np.asarray(feats, dtype=np.float32)
    if opts.delta_order > 0 or opts.cmn_window > 0:
        try:
            from phonsid.features import add_deltas, apply_cmvn_sliding
        except ImportError as e:  # the front end provides these
            raise RuntimeError("the in-process speaker-ID feature pipeline needs phonsid.features.add_deltas and "
                               "apply_cmvn_sliding (front end); pass a Kaldi-style feature pipe instead of "
                               f"--vad-rspecifier ({e})") from None
        if opts.delta_order > 0:
            x = add_deltas(x, order=opts.delta_order, window=opts.delta_window)
        if opts.cmn_window > 0:
            x = apply_cmvn_sliding(x, cmn_window=opts.cmn_window, min_cmn_window=100, center=True, norm_vars=False)
    if vad is not None:
        vad = np.asarray(vad).reshape(-1)
        if vad.shape[0] != x.shape[0]:
            raise ValueError(f"utterance {key}: VAD has {vad.shape[0]} frames but the features {x.shape[0]}")
        x = x[vad != 0.0]  # select-voiced-frames
    if opts.subsample > 1:
        x = x[:: opts.subsample]
    return np.ascontiguousarray(x, dtype=np.float32)


def iter_features(rspecifier: str, opts: SidFeatureOptions | None = None,
                  log: logging.Logger | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """(key, features) of a feature rspecifier, through the in-process pipeline when ``opts.enabled``.
    Utterances without VAD, or with no voiced frame, are skipped with a warning (Kaldi's select-voiced-frames
    does the same); features holding NaN or inf are an error naming the utterance (``phonsid.io.NonFiniteError``)."""
    opts = opts or SidFeatureOptions()
    vad_reader = RandomReader(opts.vad_rspecifier, "vector") if opts.enabled else None
    try:
        with SequentialReader(rspecifier, "matrix", finite=True) as reader:  # NaN/inf would poison the stats
            for key, feats in reader:
                if vad_reader is None:
                    x = np.asarray(feats, dtype=np.float32)
                    if opts.subsample > 1:
                        x = np.ascontiguousarray(x[:: opts.subsample])
                    yield key, x
                    continue
                if key not in vad_reader:
                    if log:
                        log.warning(f"No VAD input found for utterance {key}")
                    continue
                x = sid_pipeline(feats, vad_reader[key], opts, key)
                if x.shape[0] == 0:
                    if log:
                        log.warning(f"No features were judged as voiced for utterance {key}")
                    continue
                yield key, x
    finally:
        if vad_reader is not None:
            vad_reader.close()


def grouped(items: Iterable[tuple], max_frames: int = 1 << 16) -> Iterator[list[tuple]]:
    """Groups (key, features, ...) tuples into lists of about ``max_frames`` frames (at least one item each), so
    that per-frame work can run on many utterances at once."""
    group: list[tuple] = []
    frames = 0
    for item in items:
        if group and frames + item[1].shape[0] > max_frames:
            yield group
            group, frames = [], 0
        group.append(item)
        frames += item[1].shape[0]
    if group:
        yield group


def add_feature_options(p: KaldiOptionParser) -> None:
    """The in-process pipeline options (phonsid extensions, off unless --vad-rspecifier is given)."""
    p.add_argument("--vad-rspecifier", default="", help="phonsid: if set, read raw features and apply "
                   "add-deltas | apply-cmvn-sliding --center=true --cmn-window | select-voiced-frames with this VAD "
                   "in process (instead of a Kaldi feature pipe)")
    p.add_argument("--delta-order", type=int, default=2, help="phonsid pipeline: add-deltas order, 0 for none "
                   "(default: 2)")
    p.add_argument("--delta-window", type=int, default=2, help="phonsid pipeline: add-deltas window (default: 2)")
    p.add_argument("--cmn-window", type=int, default=300, help="phonsid pipeline: sliding CMN window, 0 for none "
                   "(default: 300)")
    p.add_argument("--subsample", type=int, default=1, help="phonsid: keep every n-th frame (subsample-feats "
                   "--n), after the pipeline (default: 1)")


def feature_options(a: argparse.Namespace) -> SidFeatureOptions:
    if a.subsample < 1:
        raise SystemExit(f"ERROR: --subsample must be >= 1, got {a.subsample}")
    return SidFeatureOptions(a.vad_rspecifier, a.delta_order, a.delta_window, a.cmn_window, a.subsample)
