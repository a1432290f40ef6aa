"""Reading score files (``<enroll> <test> <score>``), trial lists (``<enroll> <test> target|nontarget``) and
``compute-eer`` input (``<score> target|nontarget``), and joining scores with their labels.

Any rxfilename works (paths, ``-``, ``cmd |``). Errors name the file, the line and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from phonsid.metrics.eer import MetricsError


def read_bytes(rxfilename: str) -> bytes:
    from phonsid.io import open_rxfilename

    with open_rxfilename(rxfilename) as f:
        return f.read()


def _floats(tokens: list[bytes], source: str, what: str, context: Callable[[int], str] | None = None) -> np.ndarray:
    """The numbers of ``tokens`` (one per line); a word that is not a number, or NaN/inf, is a MetricsError
    naming the file, the line and ``context(i)`` (e.g. the trial of line ``i``)."""
    try:
        values = np.array(tokens, dtype=np.float64) if tokens else np.zeros(0)
    except ValueError:
        for i, t in enumerate(tokens):
            try:
                float(t)
            except ValueError:
                text = t.decode("utf-8", "replace")
                raise MetricsError(f"{source}:{i + 1}: {what} '{text}' is not a number") from None
        raise
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise MetricsError(
            f"{source}:{i + 1}: {what} '{tokens[i].decode('utf-8', 'replace')}'{context(i) if context else ''} "
            f"is not a finite number" + (f" ({bad.size} such lines)" if bad.size > 1 else ""))
    return values


def _labels(tokens: list[bytes], source: str) -> np.ndarray:
    arr = np.array(tokens, dtype=object)
    is_t = arr == b"target"
    is_n = arr == b"nontarget"
    bad = np.flatnonzero(~(is_t | is_n))
    if bad.size:
        i = int(bad[0])
        raise MetricsError(
            f"{source}:{i + 1}: the label must be 'target' or 'nontarget', got '{tokens[i].decode('utf-8', 'replace')}'"
            + (f" ({bad.size} bad lines)" if bad.size > 1 else "")
        )
    return is_t.astype(bool)


@dataclass
class ScoreList:
    key1: list[bytes]
    key2: list[bytes]
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.key1)


@dataclass
class TrialList:
    key1: list[bytes]
    key2: list[bytes]
    labels: np.ndarray  # bool, True = target

    def __len__(self) -> int:
        return len(self.key1)


def _split(rxfilename: str, nfields: int, what: str, expect: str) -> list[list[bytes]]:
    from phonsid.backend.textio import split_fields

    try:
        return split_fields(read_bytes(rxfilename), nfields, rxfilename, what=what, expect=expect)
    except ValueError as e:
        raise MetricsError(str(e)) from None


def read_scores(rxfilename: str) -> ScoreList:
    """``<enroll> <test> <score>`` lines."""
    k1, k2, s = _split(rxfilename, 3, "score line", "<enroll> <test> <score>")
    return ScoreList(k1, k2, _floats(s, rxfilename, "score", lambda i: f" of trial '{_trial(k1[i], k2[i])}'"))


def read_trials(rxfilename: str) -> TrialList:
    """``<enroll> <test> target|nontarget`` lines."""
    k1, k2, lab = _split(rxfilename, 3, "trials line", "<enroll> <test> target|nontarget")
    return TrialList(k1, k2, _labels(lab, rxfilename))


def read_eer_input(rxfilename: str) -> tuple[np.ndarray, np.ndarray]:
    """``compute-eer`` input: ``<score> target|nontarget`` lines → (target scores, non-target scores)."""
    s, lab = _split(rxfilename, 2, "line", "<score> target|nontarget")
    scores = _floats(s, rxfilename, "score", lambda i: f" ({lab[i].decode('utf-8', 'replace')})")
    labels = _labels(lab, rxfilename)
    return scores[labels], scores[~labels]


def _trial(k1: bytes, k2: bytes) -> str:
    return (k1 + b" " + k2).decode("utf-8", "replace")


def _pairs(k1: list[bytes], k2: list[bytes]) -> list[bytes]:
    return list(map(b" ".join, zip(k1, k2)))


def label_scores(
    scores: ScoreList, trials: TrialList, scores_name: str = "scores", require_all_trials: bool = False
) -> np.ndarray:
    """The label of each scored trial (as Kaldi's ``compute_min_dcf.py``: every score must be in the trials).

    With ``require_all_trials`` every trial must also have been scored. Raises :class:`MetricsError` with
    the count and examples of unmatched pairs.
    """
    index = dict(zip(_pairs(trials.key1, trials.key2), trials.labels.tolist()))
    keys = _pairs(scores.key1, scores.key2)
    got = [index.get(k) for k in keys]
    missing = [k for k, g in zip(keys, got) if g is None]
    if missing:
        ex = ", ".join(f"'{m.decode('utf-8', 'replace')}'" for m in missing[:5])
        raise MetricsError(
            f"{len(missing)} of {len(keys)} scores in {scores_name} are for trials absent from the trials file "
            f"(e.g. {ex}{', ...' if len(missing) > 5 else ''})"
        )
    if require_all_trials:
        scored = set(keys)
        unscored = [k for k in index if k not in scored]
        if unscored:
            ex = ", ".join(f"'{m.decode('utf-8', 'replace')}'" for m in unscored[:5])
            raise MetricsError(
                f"{len(unscored)} of {len(index)} trials have no score in {scores_name} "
                f"(e.g. {ex}{', ...' if len(unscored) > 5 else ''})"
            )
    return np.asarray(got, dtype=bool)
