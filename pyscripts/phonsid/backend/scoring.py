"""Trial scoring in blocks: PLDA log-likelihood ratios and cosine similarity.

A scorer holds the enrolment ("model") and test vectors and scores index pairs. :meth:`PairScorer.score_pairs`
groups the trials by model and, per chunk of trials, computes the scores of the chunk's models against its
tests with one matrix product when the chunk is dense enough (a full ``models × tests`` grid costs
``dim`` multiply-adds per entry), and a row-wise dot product of gathered vectors otherwise. Memory is bounded
by the chunk size, whatever the number of trials.

:func:`score_trials_file` streams a trial list (``<model> <test>`` lines, any rxfilename) through a scorer into a
score file (``<model> <test> <score>`` lines, Kaldi's format and precision) block by block.

The matrix products use numpy (BLAS) by default; ``engine="torch"`` runs them with torch on ``device``
(e.g. a GPU).
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from phonsid.backend.checks import BackendError, examples
from phonsid.backend.plda import Plda, score_coefficients, transform_ivectors
from phonsid.backend.score_writer import ScoreWriter
from phonsid.backend.textio import iter_pair_blocks


class PairScorer:
    """Scores ``(model, test)`` index pairs. Subclasses implement :meth:`score_block` and :meth:`score_rows`."""

    model_keys: list[str]
    test_keys: list[str]
    #: chunk sizes (trials per chunk; entries of a dense block)
    chunk_trials: int = 1 << 18
    max_block_entries: int = 1 << 22
    min_density: float = 0.05

    def __init__(self, model_keys: Sequence[str], test_keys: Sequence[str], engine: str = "numpy", device=None):
        if engine not in ("numpy", "torch"):
            raise ValueError(f"unknown engine '{engine}' (numpy or torch)")
        self.model_keys = list(model_keys)
        self.test_keys = list(test_keys)
        self.engine = engine
        self.device = device
        self._model_index: dict[bytes, int] | None = None
        self._test_index: dict[bytes, int] | None = None

    @property
    def num_models(self) -> int:
        return len(self.model_keys)

    @property
    def num_tests(self) -> int:
        return len(self.test_keys)

    def model_index(self) -> dict[bytes, int]:
        if self._model_index is None:
            self._model_index = {k.encode(): i for i, k in enumerate(self.model_keys)}
        return self._model_index

    def test_index(self) -> dict[bytes, int]:
        if self._test_index is None:
            self._test_index = {k.encode(): i for i, k in enumerate(self.test_keys)}
        return self._test_index

    # -- to implement ---------------------------------------------------------------------------------------
    def score_block(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        """``(len(models), len(tests))`` scores of every model against every test (float64)."""
        raise NotImplementedError

    def score_rows(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        """Scores of ``models[i]`` against ``tests[i]`` (float64)."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------------------
    def _matmul(self, a: np.ndarray, b_t: np.ndarray) -> np.ndarray:
        """``a @ b_t.T`` in float64 with the chosen engine."""
        if self.engine == "torch":
            import torch

            ta = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).to(self.device)
            tb = torch.from_numpy(np.ascontiguousarray(b_t, dtype=np.float64)).to(self.device)
            return (ta @ tb.T).cpu().numpy()
        return np.asarray(a, dtype=np.float64) @ np.asarray(b_t, dtype=np.float64).T

    def score_pairs(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        """Scores of the trials ``(models[i], tests[i])`` (index arrays), in trial order.

        Trials are sorted by model and cut into chunks of whole models (about ``chunk_trials`` trials). A chunk
        is scored as one ``models × tests`` matrix product when at least ``min_density`` of that grid are
        trials and it has at most ``max_block_entries`` entries; otherwise trial by trial as dot products of
        gathered vectors (sparse trial lists: per trial that moves less memory than a product wastes).
        """
        mi = np.asarray(models, dtype=np.int64)
        ti = np.asarray(tests, dtype=np.int64)
        n = mi.shape[0]
        out = np.empty(n, dtype=np.float64)
        if n == 0:
            return out
        order = np.argsort(mi, kind="stable")
        ms = mi[order]
        ts = ti[order]
        run_starts = np.concatenate(([0], np.flatnonzero(ms[1:] != ms[:-1]) + 1, [n]))
        num_runs = len(run_starts) - 1
        i = 0
        while i < num_runs:
            j = int(np.searchsorted(run_starts, run_starts[i] + self.chunk_trials, side="left"))
            j = min(max(j, i + 1), num_runs)
            lo, hi = int(run_starts[i]), int(run_starts[j])
            ut, tinv = _unique_inverse(ts[lo:hi], self.num_tests)
            entries = (j - i) * len(ut)
            if entries <= self.max_block_entries and hi - lo >= self.min_density * entries:
                self._dense(ms, order, out, run_starts, i, j, ut, tinv)
            else:
                out[order[lo:hi]] = self.score_rows(ms[lo:hi], ts[lo:hi])
            i = j
        return out

    def _dense(self, ms, order, out, run_starts, a: int, b: int, ut: np.ndarray, tinv: np.ndarray) -> None:
        """Scores runs ``a..b-1`` (whole models) with one matrix product against their tests ``ut``."""
        lo, hi = int(run_starts[a]), int(run_starts[b])
        um = ms[run_starts[a:b]]
        minv = np.repeat(np.arange(b - a), np.diff(run_starts[a : b + 1]))
        block = self.score_block(um, ut)
        out[order[lo:hi]] = block[minv, tinv]

    def score_all(self, models: np.ndarray | None = None, tests: np.ndarray | None = None) -> np.ndarray:
        """The full ``models × tests`` score matrix (all by default); for cohorts and small sets."""
        m = np.arange(self.num_models) if models is None else np.asarray(models, dtype=np.int64)
        t = np.arange(self.num_tests) if tests is None else np.asarray(tests, dtype=np.int64)
        return self.score_block(m, t)


def _unique_inverse(idx: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique values of ``idx`` (in ``0..size-1``) and the position of each element among them."""
    if size <= 4 * len(idx):
        mark = np.zeros(size, dtype=bool)
        mark[idx] = True
        uniq = np.flatnonzero(mark)
        pos = np.cumsum(mark) - 1
        return uniq, pos[idx]
    uniq, inv = np.unique(idx, return_inverse=True)
    return uniq, inv.reshape(-1)


class PldaScorer(PairScorer):
    """PLDA log-likelihood ratios (Kaldi's ``ivector-plda-scoring``).

    ``models`` are the enrolment vectors (averages over ``num_utts`` utterances each), ``tests`` single
    utterances, both in the input space of ``plda``; they are transformed (and length-normalised) as Kaldi
    does and kept in float32, as Kaldi keeps them.
    """

    def __init__(
        self,
        plda: Plda,
        model_keys: Sequence[str],
        models: np.ndarray,
        test_keys: Sequence[str],
        tests: np.ndarray,
        num_utts: np.ndarray | None = None,
        normalize_length: bool = True,
        simple_length_norm: bool = False,
        engine: str = "numpy",
        device=None,
    ):
        super().__init__(model_keys, test_keys, engine, device)
        self.plda = plda
        n = np.ones(len(model_keys)) if num_utts is None else np.asarray(num_utts, dtype=np.float64)
        tm, self.model_factors = transform_ivectors(plda, models, n, normalize_length, simple_length_norm)
        tt, self.test_factors = transform_ivectors(plda, tests, 1, normalize_length, simple_length_norm)
        self.models_t = tm.astype(np.float32)
        self.tests_t = tt.astype(np.float32)
        coef = score_coefficients(plda, self.models_t, n)
        self.lin = coef.lin
        self.bias = coef.bias
        self.n_index = coef.n_index
        tt64 = self.tests_t.astype(np.float64)
        self.test_quad = (tt64 * tt64) @ coef.quad.T  # (num_tests, num_distinct_n)

    def score_block(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        s = self._matmul(self.lin[models], self.tests_t[tests])
        s += self.bias[models][:, None]
        s += self.test_quad[tests][:, self.n_index[models]].T
        return s

    def score_rows(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        out = np.empty(len(models))
        step = 1 << 15
        for i in range(0, len(models), step):
            m = models[i : i + step]
            t = tests[i : i + step]
            out[i : i + step] = (
                np.einsum("ij,ij->i", self.lin[m], self.tests_t[t].astype(np.float64))
                + self.bias[m]
                + self.test_quad[t, self.n_index[m]]
            )
        return out


class CosineScorer(PairScorer):
    """Cosine similarity of model and test vectors (zero vectors score 0)."""

    def __init__(
        self,
        model_keys: Sequence[str],
        models: np.ndarray,
        test_keys: Sequence[str],
        tests: np.ndarray,
        engine: str = "numpy",
        device=None,
    ):
        super().__init__(model_keys, test_keys, engine, device)
        if models.shape[1] != tests.shape[1]:
            raise BackendError(
                f"dimension mismatch: enrolment vectors have dimension {models.shape[1]}, test vectors "
                f"{tests.shape[1]}"
            )
        self.models_n = _unit_rows(models)
        self.tests_n = _unit_rows(tests)

    def score_block(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        return self._matmul(self.models_n[models], self.tests_n[tests])

    def score_rows(self, models: np.ndarray, tests: np.ndarray) -> np.ndarray:
        out = np.empty(len(models))
        step = 1 << 15
        for i in range(0, len(models), step):
            out[i : i + step] = np.einsum(
                "ij,ij->i", self.models_n[models[i : i + step]], self.tests_n[tests[i : i + step]]
            )
        return out


def _unit_rows(mat: np.ndarray) -> np.ndarray:
    x = np.asarray(mat, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    return x / np.where(norms == 0.0, 1.0, norms)[:, None]


# ----------------------------------------------------------------------------------------------------------
# Trial files


def lookup(index: dict[bytes, int], keys: list[bytes]) -> np.ndarray:
    """Row index of each key, −1 where absent."""
    return np.fromiter(map(index.get, keys, itertools.repeat(-1)), dtype=np.int64, count=len(keys))


@dataclass
class ScoringSummary:
    """What :func:`score_trials_file` did."""

    num_trials: int = 0
    num_scored: int = 0
    num_missing: int = 0
    missing_models: list[str] = field(default_factory=list)  # examples
    missing_tests: list[str] = field(default_factory=list)  # examples
    num_missing_model_trials: int = 0
    num_missing_test_trials: int = 0
    mean: float = 0.0
    stddev: float = 0.0

    def missing_message(self, source: str) -> str:
        parts = []
        if self.num_missing_model_trials:
            parts.append(
                f"{self.num_missing_model_trials} name an enrolment key with no vector (e.g. "
                f"{examples(self.missing_models)})"
            )
        if self.num_missing_test_trials:
            parts.append(
                f"{self.num_missing_test_trials} name a test key with no vector (e.g. "
                f"{examples(self.missing_tests)})"
            )
        return f"{self.num_missing} of {self.num_trials} trials in {source} cannot be scored: " + "; ".join(parts)


def _note_missing(keys: list[bytes], bad: np.ndarray, into: list[str], limit: int = 5) -> None:
    for i in np.flatnonzero(bad):
        if len(into) >= limit:
            return
        k = keys[i].decode("utf-8", "replace")
        if k not in into:
            into.append(k)


def _nonfinite_score_message(scores_wxfilename: str, block, rows: np.ndarray | None, scores: np.ndarray) -> str:
    bad = np.flatnonzero(~np.isfinite(scores))
    line = int(bad[0]) if rows is None else int(rows[bad[0]])
    trial = f"{block.key1[line].decode(errors='replace')} {block.key2[line].decode(errors='replace')}"
    return (f"{scores_wxfilename}: refusing to write non-finite scores: trial '{trial}' scored "
            f"{float(scores[bad[0]])} ({bad.size} of {scores.size} scores in its block are not finite); check the "
            "model (e.g. ivector_copy_plda.py --binary=false) and the vectors of these keys")


def score_trials_file(
    scorer: PairScorer,
    trials_rxfilename: str,
    scores_wxfilename: str,
    skip_missing: bool = False,
    precision: int = 7,
    parallel_write: bool | None = None,
    block_bytes: int = 4 << 20,
) -> ScoringSummary:
    """Scores every ``<model> <test>`` line of ``trials_rxfilename`` into ``scores_wxfilename``.

    Lines come out in input order as ``<model> <test> <score>`` (scores as float32 printed with 7 significant
    digits, like Kaldi). A trial naming a key with no vector is an error (all of them are counted first, the
    output is not left behind) unless ``skip_missing``, in which case it is left out and counted. An empty trial
    list, or one none of whose trials can be scored, is an error too (no empty scores file is left), and so is a
    score that is NaN or inf (the first such trial named; the output is not left behind).
    ``parallel_write``: format and write in a helper process (None: when the list is longer than one block
    and the machine has several CPUs; see :mod:`phonsid.backend.score_writer`). The list is read in blocks of
    about ``block_bytes``.
    """
    from phonsid.io import open_rxfilename, open_wxfilename

    summary = ScoringSummary()
    s1 = 0.0
    s2 = 0.0
    mindex = scorer.model_index()
    tindex = scorer.test_index()
    with open_rxfilename(trials_rxfilename) as fin, open_wxfilename(scores_wxfilename) as fout:
        try:  # a regular file longer than one block: hand the formatting over from the first block on
            long_file = os.fstat(fin.fileno()).st_size > block_bytes
        except (OSError, AttributeError, ValueError):
            long_file = False
        writer = ScoreWriter(fout, precision, parallel_write, start_at_block=1 if long_file else 2)
        try:
            for block in iter_pair_blocks(fin, trials_rxfilename, block_bytes):
                mi = lookup(mindex, block.key1)
                ti = lookup(tindex, block.key2)
                bad_m = mi < 0
                bad_t = ti < 0
                summary.num_trials += len(block)
                rows = None
                if bad_m.any() or bad_t.any():
                    ok = ~(bad_m | bad_t)
                    summary.num_missing += int((~ok).sum())
                    summary.num_missing_model_trials += int(bad_m.sum())
                    summary.num_missing_test_trials += int(bad_t.sum())
                    _note_missing(block.key1, bad_m, summary.missing_models)
                    _note_missing(block.key2, bad_t, summary.missing_tests)
                    rows = np.flatnonzero(ok)
                    mi, ti = mi[rows], ti[rows]
                if summary.num_missing and not skip_missing:
                    continue  # keep counting; nothing is written
                scores = scorer.score_pairs(mi, ti).astype(np.float32)
                block_sum = float(scores.sum(dtype=np.float64))  # finite iff every score is (float32 in float64)
                if not math.isfinite(block_sum):
                    raise BackendError(_nonfinite_score_message(scores_wxfilename, block, rows, scores))
                s1 += block_sum
                s2 += float(np.square(scores, dtype=np.float64).sum())
                summary.num_scored += len(scores)
                writer.write(block.data, block.canonical, rows, scores)
            if summary.num_missing and not skip_missing:
                raise BackendError(
                    summary.missing_message(trials_rxfilename) + " (use --skip-missing to score the others)"
                )
            if not summary.num_trials:
                raise BackendError(f"{trials_rxfilename}: no trials (the trials file is empty)")
            if not summary.num_scored:
                raise BackendError(summary.missing_message(trials_rxfilename) + ": none could be scored")
        except BaseException:
            writer.abort()
            raise
        writer.close()
    if summary.num_scored:
        summary.mean = s1 / summary.num_scored
        summary.stddev = math.sqrt(max(s2 / summary.num_scored - summary.mean**2, 0.0))
    return summary
