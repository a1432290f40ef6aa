"""Kaldi's ``TransitionModel``: transition probabilities per (phone, HMM state, pdf) and transition ids.

A *transition state* is a triple ``(phone, hmm_state, pdf)`` that can occur given the topology and the tree;
triples are sorted and numbered from 1. Each outgoing arc of the HMM state gets a *transition id* (from 1,
consecutive within a transition state). An alignment is one transition id per frame: the arc taken out of
the state that emitted the frame, so it determines the phone, the HMM state, the pdf and whether the frame is
the last one of its phone (the arc goes to the final state).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from phonsid.io import KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import KaldiFormatError
from phonsid.hmm.topology import HmmTopology, read_hmm_topology_from, write_hmm_topology_to
from phonsid.hmm.tree import ContextDependency


@dataclasses.dataclass
class TransitionUpdateStats:
    objf_change: float
    count: float
    num_skipped: int
    num_floored: int


class TransitionModel:
    """Transition ids and their log-probabilities; arrays indexed by transition id (index 0 unused)."""

    def __init__(self, topo: HmmTopology, triples: list[tuple[int, int, int]],
                 log_probs: np.ndarray | None = None) -> None:
        self.topo = topo
        self.triples = sorted(triples)
        if len(set(self.triples)) != len(self.triples):
            raise ValueError("duplicate transition-state triples")
        self.triple_index = {t: i + 1 for i, t in enumerate(self.triples)}
        n_ts = len(self.triples)
        state2id = np.zeros(n_ts + 2, dtype=np.int64)
        tid = 1
        tid2state, tid2index, tid2dest = [0], [0], [0]
        init_probs = [1.0]
        for ts in range(1, n_ts + 1):
            phone, hmm_state, _ = self.triples[ts - 1]
            state2id[ts] = tid
            trans = topo.entry(phone)[hmm_state].transitions
            for k, (dest, prob) in enumerate(trans):
                tid2state.append(ts)
                tid2index.append(k)
                tid2dest.append(dest)
                init_probs.append(prob)
            tid += len(trans)
        state2id[n_ts + 1] = tid
        self.state2id = state2id
        self.tid2state = np.asarray(tid2state, dtype=np.int64)
        self.tid2index = np.asarray(tid2index, dtype=np.int64)
        self.tid2dest = np.asarray(tid2dest, dtype=np.int64)
        trip = np.asarray([(0, 0, 0)] + self.triples, dtype=np.int64).reshape(-1, 3)
        self.tid2phone = trip[self.tid2state, 0]
        self.tid2hmm_state = trip[self.tid2state, 1]
        self.tid2pdf = trip[self.tid2state, 2]
        self.tid2pdf[0] = -1
        final_state = np.asarray([0] + [len(topo.entry(p)) - 1 for p, _, _ in self.triples], dtype=np.int64)
        self.tid_is_final = self.tid2dest == final_state[self.tid2state]
        self.tid_is_final[0] = False
        self.tid_is_self_loop = self.tid2dest == self.tid2hmm_state
        self.tid_is_self_loop[0] = False
        self.num_pdfs = 1 + max((t[2] for t in self.triples), default=-1)
        if log_probs is None:
            self.log_probs = np.log(np.asarray(init_probs, dtype=np.float64))
            self.log_probs[0] = 0.0
        else:
            log_probs = np.asarray(log_probs, dtype=np.float64).reshape(-1)
            if log_probs.size != self.num_transition_ids + 1:
                raise ValueError(f"{log_probs.size} transition log-probabilities for "
                                 f"{self.num_transition_ids} transition ids (expected one more)")
            self.log_probs = log_probs.copy()

    @classmethod
    def from_tree(cls, ctx: ContextDependency, topo: HmmTopology) -> "TransitionModel":
        """All (phone, hmm_state, pdf) triples the tree allows, with the topology's initial probabilities."""
        phones = topo.phones
        info = ctx.pdf_info(phones, {p: topo.num_pdf_classes(p) for p in phones})
        triples = []
        for pdf, pairs in enumerate(info):
            for phone, pc in pairs:
                for j, st in enumerate(topo.entry(phone)):
                    if st.pdf_class == pc:
                        triples.append((phone, j, pdf))
        return cls(topo, triples)

    @property
    def num_transition_ids(self) -> int:
        return len(self.tid2state) - 1

    @property
    def num_transition_states(self) -> int:
        return len(self.triples)

    @property
    def phones(self) -> list[int]:
        return self.topo.phones

    def transition_state(self, phone: int, hmm_state: int, pdf: int) -> int:
        try:
            return self.triple_index[(phone, hmm_state, pdf)]
        except KeyError:
            raise KaldiFormatError(f"transition model has no state for phone {phone} HMM state {hmm_state} "
                                   f"pdf {pdf} (does the model match the tree?)") from None

    def transition_id(self, trans_state: int, trans_index: int) -> int:
        return int(self.state2id[trans_state] + trans_index)

    def probs_of_state(self, trans_state: int) -> np.ndarray:
        a, b = self.state2id[trans_state], self.state2id[trans_state + 1]
        return np.exp(self.log_probs[a:b])

    def update(self, counts: np.ndarray, mincount: float = 5.0, floor: float = 0.01) -> TransitionUpdateStats:
        """Maximum-likelihood transition probabilities from per-transition-id counts (Kaldi's MLE update):
        states with fewer than ``mincount`` counts keep their probabilities; probabilities are floored at
        ``floor`` and renormalised."""
        counts = np.asarray(counts, dtype=np.float64)
        if counts.size != self.num_transition_ids + 1:
            raise ValueError(f"{counts.size} transition counts for {self.num_transition_ids} transition ids + 1")
        objf, total, skipped, floored = 0.0, 0.0, 0, 0
        for ts in range(1, self.num_transition_states + 1):
            a, b = int(self.state2id[ts]), int(self.state2id[ts + 1])
            if b - a < 2:
                continue
            c = counts[a:b]
            tot = float(c.sum())
            total += tot
            if tot < mincount:
                skipped += 1
                continue
            new = c / tot
            for _ in range(3):
                new = np.maximum(new / new.sum(), floor)
            new = new / new.sum()
            floored += int(np.sum(new <= floor * 1.000001))
            objf += float(np.sum(c * (np.log(new) - self.log_probs[a:b])))
            self.log_probs[a:b] = np.log(new)
        return TransitionUpdateStats(objf, total, skipped, floored)

    def check(self) -> None:
        for ts in range(1, self.num_transition_states + 1):
            s = float(self.probs_of_state(ts).sum())
            if not math.isclose(s, 1.0, rel_tol=0, abs_tol=1e-4):
                raise ValueError(f"transition state {ts} {self.triples[ts - 1]}: probabilities sum to {s}")


def write_transition_model_to(w: KaldiWriter, tm: TransitionModel) -> None:
    w.write_token("<TransitionModel>")
    w.write_newline()
    write_hmm_topology_to(w, tm.topo)
    w.write_token("<Triples>")
    w.write_int(len(tm.triples))
    w.write_newline()
    for phone, hmm_state, pdf in tm.triples:
        w.write_int(phone)
        w.write_int(hmm_state)
        w.write_int(pdf)
        w.write_newline()
    w.write_token("</Triples>")
    w.write_newline()
    w.write_token("<LogProbs>")
    w.write_newline()
    w.write_vector(tm.log_probs.astype(np.float32))
    w.write_token("</LogProbs>")
    w.write_newline()
    w.write_token("</TransitionModel>")
    w.write_newline()


def read_transition_model_from(r: KaldiReader) -> TransitionModel:
    r.expect_token("<TransitionModel>")
    topo = read_hmm_topology_from(r)
    tok = r.read_token()
    triples: list[tuple[int, int, int]] = []
    if tok == "<Triples>":
        for _ in range(r.read_int()):
            triples.append((r.read_int(), r.read_int(), r.read_int()))
        r.expect_token("</Triples>")
    elif tok == "<Tuples>":
        for _ in range(r.read_int()):
            phone, hmm_state, fwd, loop = r.read_int(), r.read_int(), r.read_int(), r.read_int()
            if fwd != loop:
                raise KaldiFormatError(f"{r.name}: transition models with separate self-loop pdfs are not supported")
            triples.append((phone, hmm_state, fwd))
        r.expect_token("</Tuples>")
    else:
        raise KaldiFormatError(f"{r.name}: expected <Triples> or <Tuples>, got {tok}")
    r.expect_token("<LogProbs>")
    log_probs = r.read_vector()
    r.expect_token("</LogProbs>")
    r.expect_token("</TransitionModel>")
    return TransitionModel(topo, triples, log_probs)
