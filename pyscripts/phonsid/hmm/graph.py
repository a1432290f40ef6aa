"""Training graphs: the HMM-state graph of one utterance's transcript (Kaldi's ``compile-train-graphs``
without FSTs).

Built in three steps:

1. *Phone graph*: each word's pronunciations as chains of phone nodes, with optional silence between words
   and at both ends (probability ``sil_prob``, Kaldi's lexicon FST), start and final weights.
2. *Context expansion* (triphone trees): each phone node is copied once per (left, right) phone context its
   neighbours allow, so every copy has one phone window for the tree; copies are joined only where contexts
   agree (Kaldi composes with the context FST for this).
3. *HMM expansion*: each copy becomes the emitting states of its topology; arcs carry a transition id (for
   the transition probabilities and the output alignment) and a graph weight (silence/pronunciation log
   probabilities). Incoming arcs of every state are stored padded to ``K`` so Viterbi can take the maximum
   over predecessors for all states at once.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from phonsid.hmm.lang import Lang
from phonsid.hmm.transition_model import TransitionModel
from phonsid.hmm.tree import ContextDependency

NEG_INF = -math.inf


class GraphError(ValueError):
    """A transcript that cannot be turned into a graph (message names the word or phone)."""


@dataclasses.dataclass
class PhoneGraph:
    phones: list[int]  # phone id of each node
    words: list[int]  # word position of each node (-1: optional silence)
    edges: dict[tuple[int, int], float]
    start: dict[int, float]
    final: dict[int, float]
    default_path: list[int]  # nodes of the flat-start path: edge silences, first pronunciations, no inner silence
    default_edge_sil: tuple[int | None, int | None]  # the leading/trailing silence nodes of that path


def build_phone_graph(prons: Sequence[Sequence[tuple[float, tuple[int, ...]]]], optional_silence: int | None,
                      sil_prob: float) -> PhoneGraph:
    """Phone graph for a word sequence given each word's pronunciations ``[(log-prob, phones)]``."""
    phones: list[int] = []
    words: list[int] = []
    edges: dict[tuple[int, int], float] = {}
    start: dict[int, float] = {}
    final: dict[int, float] = {}

    def node(phone: int, word: int) -> int:
        phones.append(phone)
        words.append(word)
        return len(phones) - 1

    def add(table: dict, key, w: float) -> None:
        if w > NEG_INF:
            table[key] = max(w, table.get(key, NEG_INF))

    use_sil = optional_silence is not None and sil_prob > 0.0
    log_sil = math.log(sil_prob) if use_sil else NEG_INF
    log_nosil = math.log1p(-sil_prob) if use_sil else 0.0
    n = len(prons)
    firsts: list[list[tuple[int, float]]] = []
    lasts: list[list[int]] = []
    first_pron_nodes: list[list[int]] = []
    for k, word_prons in enumerate(prons):
        if not word_prons:
            raise GraphError(f"word {k} has no pronunciation")
        f, l = [], []
        for i, (lp, pron) in enumerate(word_prons):
            ids = [node(p, k) for p in pron]
            for a, b in zip(ids, ids[1:]):
                add(edges, (a, b), 0.0)
            f.append((ids[0], lp))
            l.append(ids[-1])
            if i == 0:
                first_pron_nodes.append(ids)
        firsts.append(f)
        lasts.append(l)
    sil_nodes: list[int | None] = []
    for k in range(n + 1):
        srcs = [None] if k == 0 else lasts[k - 1]  # None = the start state
        sil = node(optional_silence, -1) if (use_sil or n == 0) and optional_silence is not None else None
        sil_nodes.append(sil)
        if n == 0 and sil is None:
            raise GraphError("empty transcript and no optional silence phone")
        w_sil = 0.0 if n == 0 else log_sil
        w_skip = NEG_INF if n == 0 else log_nosil
        for src in srcs:
            # from the start state (src None) or the previous word's last phone: into the optional silence,
            # or straight into this word (or, after the last word, to the end)
            if sil is not None:
                if src is None:
                    add(start, sil, w_sil)
                else:
                    add(edges, (src, sil), w_sil)
            if k < n:
                for dst, lp in firsts[k]:
                    if src is None:
                        add(start, dst, w_skip + lp)
                    else:
                        add(edges, (src, dst), w_skip + lp)
            elif src is not None:
                add(final, src, w_skip)
        if sil is not None:
            if k < n:
                for dst, lp in firsts[k]:
                    add(edges, (sil, dst), lp)
            else:
                add(final, sil, 0.0)
    path = [sil_nodes[0]] if sil_nodes[0] is not None else []
    for ids in first_pron_nodes:
        path.extend(ids)
    lead, trail = sil_nodes[0], sil_nodes[n] if n > 0 else None
    if trail is not None:
        path.append(trail)
    return PhoneGraph(phones, words, edges, start, final, path, (lead, trail))


@dataclasses.dataclass
class PhoneCopy:
    node: int
    window: tuple[int, ...]


def expand_context(pg: PhoneGraph, N: int, P: int):
    """Copies of phone nodes with a single phone window each; returns (copies, edges, start, final)."""
    if N == 1:
        copies = [PhoneCopy(i, (p,)) for i, p in enumerate(pg.phones)]
        return copies, dict(pg.edges), dict(pg.start), dict(pg.final), {i: i for i in range(len(copies))}
    if (N, P) != (3, 1):
        raise GraphError(f"context width {N} with central position {P} is not supported (use 1 or 3/1)")
    n = len(pg.phones)
    left: list[set[int]] = [set() for _ in range(n)]
    right: list[set[int]] = [set() for _ in range(n)]
    for (a, b) in pg.edges:
        left[b].add(pg.phones[a])
        right[a].add(pg.phones[b])
    for b in pg.start:
        left[b].add(0)
    for a in pg.final:
        right[a].add(0)
    index: dict[tuple[int, int, int], int] = {}
    copies: list[PhoneCopy] = []
    for i in range(n):
        for l in sorted(left[i]):
            for r in sorted(right[i]):
                index[(i, l, r)] = len(copies)
                copies.append(PhoneCopy(i, (l, pg.phones[i], r)))
    edges: dict[tuple[int, int], float] = {}
    for (a, b), w in pg.edges.items():
        pa, pb = pg.phones[a], pg.phones[b]
        for l in left[a]:
            src = index[(a, l, pb)]
            for r in right[b]:
                edges[(src, index[(b, pa, r)])] = w
    start = {index[(b, 0, r)]: w for b, w in pg.start.items() for r in right[b]}
    final = {index[(a, l, 0)]: w for a, w in pg.final.items() for l in left[a]}
    return copies, edges, start, final, index


@dataclasses.dataclass
class UttGraph:
    """HMM-state graph of one utterance (see the module docstring)."""

    pdf: np.ndarray  # (S,) pdf of each state
    copy_of_state: np.ndarray  # (S,) phone-copy index
    hmm_state: np.ndarray  # (S,) topology state index
    pred_src: np.ndarray  # (S, K) predecessor states (0 where padded)
    pred_tid: np.ndarray  # (S, K) transition id of the arc (0 where padded)
    pred_gw: np.ndarray  # (S, K) graph weight of the arc (-inf where padded)
    init_w: np.ndarray  # (S,) start weight (-inf: not a start state)
    final_tid: np.ndarray  # (S,) transition id of the exit arc (0: none)
    final_gw: np.ndarray  # (S,) graph weight on exit (-inf: not final)
    copies: list[PhoneCopy]
    phone_graph: PhoneGraph
    state_offset: np.ndarray  # (num_copies + 1,) first state of each copy
    min_frames: int

    @property
    def num_states(self) -> int:
        return len(self.pdf)

    def arc_weights(self, tm: TransitionModel, transition_scale: float = 1.0, self_loop_scale: float = 1.0,
                    scaled_log_probs: np.ndarray | None = None):
        """Per-arc total weights ``(pred_w (S, K), final_w (S,))``: graph weight plus the scaled transition
        log-probability (``scaled_transition_log_probs``; pass it precomputed when scoring many graphs)."""
        lp = scaled_transition_log_probs(tm, transition_scale, self_loop_scale) if scaled_log_probs is None \
            else scaled_log_probs
        pred_w = np.where(self.pred_tid > 0, lp[self.pred_tid] + self.pred_gw, NEG_INF)
        final_w = np.where(self.final_tid > 0, lp[self.final_tid] + self.final_gw, NEG_INF)
        return pred_w, final_w


def scaled_transition_log_probs(tm: TransitionModel, transition_scale: float, self_loop_scale: float) -> np.ndarray:
    """Transition log-probabilities per transition id with Kaldi's scaling: self-loops get
    ``self_loop_scale * log p_loop``; other arcs from a state with a self-loop get
    ``transition_scale * log(p / (1 - p_loop)) + self_loop_scale * log(1 - p_loop)``; arcs from states without
    a self-loop ``transition_scale * log p``. With both scales 1 these are the plain log-probabilities."""
    lp = tm.log_probs
    if transition_scale == 1.0 and self_loop_scale == 1.0:
        return lp.copy()
    loop_lp = np.zeros(tm.num_transition_states + 1)
    has_loop = np.zeros(tm.num_transition_states + 1, bool)
    loops = np.nonzero(tm.tid_is_self_loop)[0]
    loop_lp[tm.tid2state[loops]] = lp[loops]
    has_loop[tm.tid2state[loops]] = True
    ts = tm.tid2state
    non_loop = np.log(np.maximum(1.0 - np.exp(loop_lp), 1e-10))
    out = np.where(tm.tid_is_self_loop, self_loop_scale * lp,
                   np.where(has_loop[ts], transition_scale * (lp - non_loop[ts]) + self_loop_scale * non_loop[ts],
                            transition_scale * lp))
    out[0] = 0.0
    return out


def compile_graph(word_prons: Sequence[Sequence[tuple[float, tuple[int, ...]]]], ctx: ContextDependency,
                  tm: TransitionModel, optional_silence: int | None, sil_prob: float) -> UttGraph:
    """The HMM-state graph of a word sequence (pronunciations given per word)."""
    pg = build_phone_graph(word_prons, optional_silence, sil_prob)
    copies, edges, start, final, _ = expand_context(pg, ctx.N, ctx.P)
    topo = tm.topo
    counts = [topo.num_states(pg.phones[c.node]) for c in copies]
    offset = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    S = int(offset[-1])
    pdf = np.empty(S, np.int64)
    copy_of = np.repeat(np.arange(len(copies)), counts)
    hmm_state = np.empty(S, np.int64)
    incoming: list[list[tuple[int, int, float]]] = [[] for _ in range(S)]
    init_w = np.full(S, NEG_INF)
    final_tid = np.zeros(S, np.int64)
    final_gw = np.full(S, NEG_INF)
    exits: list[list[tuple[int, int]]] = []  # per copy: (state, exit tid)
    for ci, c in enumerate(copies):
        phone = pg.phones[c.node]
        entry = topo.entry(phone)
        final_state = len(entry) - 1
        ex = []
        for j in range(final_state):
            s = int(offset[ci] + j)
            p = ctx.compute(c.window, entry[j].pdf_class)
            pdf[s] = p
            hmm_state[s] = j
            ts = tm.transition_state(phone, j, p)
            for k, (dest, _) in enumerate(entry[j].transitions):
                tid = tm.transition_id(ts, k)
                if dest == final_state:
                    ex.append((s, tid))
                else:
                    incoming[int(offset[ci] + dest)].append((s, tid, 0.0))
        exits.append(ex)
    for (a, b), w in edges.items():
        dst = int(offset[b])
        for s, tid in exits[a]:
            incoming[dst].append((s, tid, w))
    for b, w in start.items():
        init_w[offset[b]] = max(init_w[offset[b]], w)
    for a, w in final.items():
        for s, tid in exits[a]:
            if w > final_gw[s]:
                final_gw[s] = w
                final_tid[s] = tid
    K = max((len(x) for x in incoming), default=1) or 1
    pred_src = np.zeros((S, K), np.int64)
    pred_tid = np.zeros((S, K), np.int64)
    pred_gw = np.full((S, K), NEG_INF)
    for s, arcs in enumerate(incoming):
        for k, (src, tid, w) in enumerate(arcs):
            pred_src[s, k] = src
            pred_tid[s, k] = tid
            pred_gw[s, k] = w
    min_frames = _shortest_path_frames(pg, topo)
    return UttGraph(pdf, copy_of, hmm_state, pred_src, pred_tid, pred_gw, init_w, final_tid, final_gw,
                    copies, pg, offset, min_frames)


def _shortest_path_frames(pg: PhoneGraph, topo) -> int:
    """Fewest frames any path through the phone graph needs (a DAG in node order)."""
    n = len(pg.phones)
    best = [math.inf] * n
    for b in pg.start:
        best[b] = topo.min_length(pg.phones[b])
    # nodes are created in an order where every edge goes forward except into silence nodes created later;
    # relax repeatedly (graphs are small)
    changed = True
    while changed:
        changed = False
        for (a, b) in pg.edges:
            cand = best[a] + topo.min_length(pg.phones[b])
            if cand < best[b]:
                best[b] = cand
                changed = True
    return int(min((best[a] for a in pg.final), default=math.inf)) if pg.final else 0


def transcript_prons(lang: Lang, words: Sequence[str], utt: str = "") -> list[list[tuple[float, tuple[int, ...]]]]:
    """Pronunciations of each word (OOVs must already be mapped to the OOV word)."""
    out = []
    for w in words:
        if w not in lang.lexicon:
            raise GraphError(f"utterance '{utt}': word '{w}' is not in the lexicon of {lang.dir}")
        out.append(lang.lexicon[w])
    return out


def equal_alignment(graph: UttGraph, tm: TransitionModel, num_frames: int) -> np.ndarray | None:
    """Flat-start alignment (Kaldi's ``align-equal-compiled``, with a fixed path instead of a random one):
    the path through leading silence, each word's first pronunciation and trailing silence, every HMM state
    of each phone in order, frames shared out equally. Silences are dropped when the utterance is
    too short; returns None if it is still too short."""
    pg = graph.phone_graph
    lead, trail = pg.default_edge_sil
    candidates = [pg.default_path]
    if trail is not None:
        candidates.append([x for x in pg.default_path if x != trail])
    if lead is not None:
        candidates.append([x for x in candidates[-1] if x != lead])
    topo = tm.topo
    copy_index = {}
    for ci, c in enumerate(graph.copies):
        copy_index.setdefault(c.node, []).append(ci)
    for path in candidates:
        if not path:
            continue
        # choose the copy of each node whose window matches its neighbours on this path
        chosen = []
        for k, nd in enumerate(path):
            l = pg.phones[path[k - 1]] if k > 0 else 0
            r = pg.phones[path[k + 1]] if k + 1 < len(path) else 0
            want = {1: (pg.phones[nd],), 3: (l, pg.phones[nd], r)}.get(len(graph.copies[0].window))
            match = [ci for ci in copy_index[nd] if graph.copies[ci].window == want]
            if not match:
                break
            chosen.append(match[0])
        else:
            seq: list[int] = []  # graph states in order
            for ci in chosen:
                phone = pg.phones[graph.copies[ci].node]
                seq.extend(int(graph.state_offset[ci] + j) for j in topo.flat_start_state_path(phone))
            if len(seq) > num_frames:
                continue
            bounds = np.round(np.linspace(0, num_frames, len(seq) + 1)).astype(int)
            tids = np.empty(num_frames, np.int64)
            for i, s in enumerate(seq):
                a, b = bounds[i], bounds[i + 1]
                nxt = seq[i + 1] if i + 1 < len(seq) else None
                loop = _arc_tid(graph, s, s)
                if b - a > 1 and loop is None:
                    return None
                tids[a:b - 1] = loop if loop is not None else 0
                if nxt is None:
                    tids[b - 1] = graph.final_tid[s]
                else:
                    t = _arc_tid(graph, s, nxt)
                    if t is None:
                        return None
                    tids[b - 1] = t
            if np.any(tids == 0):
                return None
            return tids
    return None


def _arc_tid(graph: UttGraph, src: int, dst: int) -> int | None:
    hits = np.nonzero((graph.pred_src[dst] == src) & (graph.pred_tid[dst] > 0))[0]
    return int(graph.pred_tid[dst, hits[0]]) if len(hits) else None
