"""Reference (test-only) implementation of Kaldi's speaker-ID feature pipeline, in numpy:
add-deltas (order 2, window 2) | apply-cmvn-sliding --norm-vars=false --center=true --cmn-window=300 |
select-voiced-frames. The golden i-vector chain was trained on these features of the 100 golden training
utterances; Kaldi's own output of the pipeline exists only for 10 utterances (ivector_feats.ark), against which
``test_reference_pipeline_matches_kaldi`` checks this implementation. The library's in-process pipeline is the
front end's (phonsid.features); this copy keeps the GMM/i-vector parity tests independent of it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _delta_scales(order: int, window: int) -> list[np.ndarray]:
    scales = [np.array([1.0])]
    for _ in range(order):
        prev = scales[-1]
        prev_off = (len(prev) - 1) // 2
        cur = np.zeros(len(prev) + 2 * window)
        cur_off = prev_off + window
        norm = sum(j * j for j in range(-window, window + 1))
        for j in range(-window, window + 1):
            for k in range(-prev_off, prev_off + 1):
                cur[j + k + cur_off] += j * prev[k + prev_off]
        scales.append(cur / norm)
    return scales


def add_deltas(feats: np.ndarray, order: int = 2, window: int = 2) -> np.ndarray:
    t = feats.shape[0]
    x = feats.astype(np.float64)
    out = []
    for sc in _delta_scales(order, window):
        off = (len(sc) - 1) // 2
        acc = np.zeros_like(x)
        for j in range(-off, off + 1):
            if sc[j + off] != 0.0:
                acc += sc[j + off] * x[np.clip(np.arange(t) + j, 0, t - 1)]
        out.append(acc)
    return np.concatenate(out, axis=1).astype(np.float32)


def sliding_cmn(feats: np.ndarray, window: int = 300) -> np.ndarray:
    t = feats.shape[0]
    csum = np.concatenate([np.zeros((1, feats.shape[1])), np.cumsum(feats.astype(np.float64), axis=0)])
    out = np.empty_like(feats, dtype=np.float64)
    for i in range(t):
        start = i - window // 2
        end = start + window
        if start < 0:
            end -= start
            start = 0
        if end > t:
            start -= end - t
            end = t
            start = max(start, 0)
        out[i] = feats[i] - (csum[end] - csum[start]) / (end - start)
    return out.astype(np.float32)


def sid_features(mfcc: np.ndarray, vad: np.ndarray) -> np.ndarray:
    feats = sliding_cmn(add_deltas(mfcc))
    return feats[np.asarray(vad) != 0.0]


def load_golden_train_feats(golden: Path) -> dict[str, np.ndarray]:
    """The 100 golden training utterances through the pipeline, in archive order."""
    from phonsid.io import SequentialReader, read_table

    vad = read_table(f"ark:{golden}/train_vad.ark", "vector")
    out = {}
    with SequentialReader(f"ark:{golden}/train_mfcc.ark") as reader:
        for utt, mfcc in reader:
            out[utt] = sid_features(mfcc, vad[utt])
    return out


class CapturedLog:
    """Collects the messages of the named loggers (the CLIs log through phonsid.cli loggers, which do not
    propagate to pytest's caplog handler), at INFO level and above."""

    def __init__(self, *names: str) -> None:
        import logging

        self.names = names
        self.messages: list[str] = []
        self._logging = logging
        self._saved: list[tuple] = []

    def __enter__(self) -> "CapturedLog":
        handler = self._logging.Handler()
        handler.emit = lambda record: self.messages.append(record.getMessage())  # type: ignore[method-assign]
        self._handler = handler
        for name in self.names:
            lg = self._logging.getLogger(name)
            self._saved.append((lg, lg.level))
            lg.addHandler(handler)
            lg.setLevel(self._logging.INFO)
        return self

    def __exit__(self, *exc) -> None:
        for lg, level in self._saved:
            lg.removeHandler(self._handler)
            lg.setLevel(level)

    @property
    def text(self) -> str:
        return "\n".join(self.messages)
