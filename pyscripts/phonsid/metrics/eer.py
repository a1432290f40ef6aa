"""Equal error rate exactly as Kaldi's ``compute-eer`` (``ivectorbin/compute-eer.cc``).

Kaldi sorts both score lists (as float32) and walks the target scores from the lowest: at target position
``i`` the matching non-target position is ``N − 1 − ⌊N·i/T⌋`` (clipped at 0); the first position whose
non-target score is below the target score gives the EER ``i/T`` and the threshold (the target score there).
The result is a float32 proportion; ``compute-eer`` prints ``100·EER`` with 4 significant digits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class MetricsError(ValueError):
    """Scores or trials that metrics cannot be computed from."""


def finite_scores(scores, what: str = "scores", dtype=np.float64) -> np.ndarray:
    """``scores`` as a flat array; NaN or infinite scores are a MetricsError (a NaN would otherwise sort
    anywhere and count as a hit or a miss silently)."""
    s = np.asarray(scores, dtype=dtype).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(s))
    if bad.size:
        raise MetricsError(f"{bad.size} of {s.size} {what} are not finite numbers (e.g. {what} #{bad[0] + 1} "
                           f"is {s[bad[0]]})")
    return s


@dataclass
class EerResult:
    eer: float  # proportion in [0, 1] (float32 value, as Kaldi)
    threshold: float

    @property
    def percent(self) -> float:
        return 100.0 * self.eer

    def kaldi_text(self) -> str:
        """What ``compute-eer`` prints on stdout (``std::cout.precision(4)``, no newline)."""
        return "%.4g" % (100.0 * self.eer)


def compute_eer(target_scores, nontarget_scores) -> EerResult:
    """Kaldi's EER of the two score lists (any order); NaN or infinite scores are a MetricsError."""
    tgt = np.sort(finite_scores(target_scores, "target scores", np.float32))
    non = np.sort(finite_scores(nontarget_scores, "non-target scores", np.float32))
    if tgt.size == 0 and non.size == 0:
        raise MetricsError("no scores")
    if tgt.size == 0:
        raise MetricsError("no target scores")
    if non.size == 0:
        raise MetricsError("no non-target scores")
    t = tgt.size
    n = non.size
    pos = np.arange(t - 1, dtype=np.int64)
    # ⌊(N·i)·1.0 / T⌋ in double, as the C++ expression is evaluated
    nn = np.floor((n * pos).astype(np.float64) / float(t)).astype(np.int64)
    npos = np.maximum(n - 1 - nn, 0)
    hit = np.flatnonzero(non[npos] < tgt[pos])
    i = int(hit[0]) if hit.size else t - 1
    eer = float(np.float32(i * 1.0 / t))
    return EerResult(eer, float(tgt[i]))
