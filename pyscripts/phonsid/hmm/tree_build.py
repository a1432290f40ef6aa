"""Building a triphone decision tree: context-dependent statistics, phone questions from automatic
clustering, greedy likelihood-based splitting (Kaldi's ``acc-tree-stats``, ``cluster-phones``, ``build-tree``).

*Statistics*: for each event (left phone, central phone, right phone, pdf-class) seen in an alignment, the
count, sum and sum of squares of the features of its frames (one diagonal Gaussian per event). For
context-independent phones (silence) the context is recorded as 0, so their states never split on context.

*Questions*: a phone set per node of a binary tree obtained by splitting the phone sets top-down into two
clusters (2-means on Gaussian likelihood of the central-state statistics), plus the extra questions (silence
vs non-silence, ...). Each question may be asked about the left and the right phone (and the central phone,
for tree roots shared by several phones).

*Splitting*: one root per (phone root, pdf-class). Leaves are split greedily — always the split with the
largest likelihood gain over all leaves — until there are ``num_leaves`` leaves, no split gains more than
``thresh``, or no split leaves at least ``min_count`` frames on both sides. Optionally (``cluster_thresh`` > 0)
leaves under the same root whose merge costs less than ``cluster_thresh`` are then merged (Kaldi merges with
the last split's gain by default; we keep exactly the requested number of leaves unless asked).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from typing import Iterable, Sequence

import numpy as np

from phonsid.hmm.alignment import phone_windows, split_to_phones
from phonsid.hmm.topology import HmmTopology
from phonsid.hmm.transition_model import TransitionModel
from phonsid.hmm.tree import (
    PDF_CLASS_KEY, ConstantEventMap, ContextDependency, EventMap, SplitEventMap, TableEventMap,
)
from phonsid.io import KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import KaldiFormatError
from phonsid.io.kaldi_object import read_object_file, write_object_file

LOG_2PI = math.log(2 * math.pi)
VAR_FLOOR = 0.01  # Kaldi's GaussClusterable variance floor in tree building


@dataclasses.dataclass
class TreeStats:
    """Per-event Gaussian statistics; ``events`` columns are (left, central, right, pdf-class)."""

    events: np.ndarray  # (E, 4) int64
    count: np.ndarray  # (E,)
    sum: np.ndarray  # (E, D)
    sumsq: np.ndarray  # (E, D)

    @classmethod
    def empty(cls, dim: int) -> "TreeStats":
        return cls(np.zeros((0, 4), np.int64), np.zeros(0), np.zeros((0, dim)), np.zeros((0, dim)))

    @property
    def dim(self) -> int:
        return self.sum.shape[1]

    def merged(self, others: Iterable["TreeStats"]) -> "TreeStats":
        parts = [self, *others]
        dims = {p.dim for p in parts if len(p.count)}
        if len(dims) > 1:
            raise ValueError(f"tree statistics of different dimensions {sorted(dims)}")
        ev = np.concatenate([p.events for p in parts])
        return _reduce(ev, np.concatenate([p.count for p in parts]), np.concatenate([p.sum for p in parts]),
                       np.concatenate([p.sumsq for p in parts]), max(dims) if dims else self.dim)


def _reduce(events: np.ndarray, count: np.ndarray, s1: np.ndarray, s2: np.ndarray, dim: int) -> TreeStats:
    if len(events) == 0:
        return TreeStats.empty(dim)
    uniq, inv = np.unique(events, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    n = len(uniq)
    c = np.bincount(inv, weights=count, minlength=n)
    a = np.zeros((n, s1.shape[1]))
    b = np.zeros((n, s1.shape[1]))
    np.add.at(a, inv, s1)
    np.add.at(b, inv, s2)
    return TreeStats(uniq.astype(np.int64), c, a, b)


def accumulate_tree_stats(tm: TransitionModel, items: Iterable[tuple[str, np.ndarray, np.ndarray]],
                          ci_phones: Sequence[int] = (), N: int = 3, P: int = 1) -> TreeStats:
    """Statistics from ``(utt, features, transition-id alignment)`` items."""
    if (N, P) != (3, 1):
        raise ValueError("tree statistics are collected for triphones (N=3, P=1)")
    ci = set(int(p) for p in ci_phones)
    topo = tm.topo
    pdf_class = np.full((max(topo.phones) + 1, max(len(topo.entry(p)) for p in topo.phones)), -1, np.int64)
    for p in topo.phones:
        for j, st in enumerate(topo.entry(p)):
            pdf_class[p, j] = st.pdf_class
    all_ev, all_x = [], []
    dim = None
    for utt, feats, tids in items:
        feats = np.asarray(feats, np.float64)
        if len(feats) != len(tids):
            raise ValueError(f"utterance '{utt}': {len(feats)} feature frames but {len(tids)} alignment frames")
        dim = feats.shape[1]
        segs = split_to_phones(tm, tids, utt)
        wins = phone_windows(segs, N, P)
        ev = np.empty((len(tids), 4), np.int64)
        for seg, win in zip(segs, wins):
            l, c, r = win
            if c in ci:
                l = r = 0
            sl = slice(seg.start, seg.start + seg.length)
            ev[sl, 0], ev[sl, 1], ev[sl, 2] = l, c, r
        ev[:, 3] = pdf_class[tm.tid2phone[np.asarray(tids)], tm.tid2hmm_state[np.asarray(tids)]]
        all_ev.append(ev)
        all_x.append(feats)
    if not all_ev:
        return TreeStats.empty(0 if dim is None else dim)
    ev = np.concatenate(all_ev)
    x = np.concatenate(all_x)
    return _reduce(ev, np.ones(len(ev)), x, x * x, x.shape[1])


def gauss_objf(count: np.ndarray, s1: np.ndarray, s2: np.ndarray, var_floor: float = VAR_FLOOR) -> np.ndarray:
    """Log-likelihood of data under its own ML diagonal Gaussian (Kaldi's ``GaussClusterable::Objf``),
    vectorised over leading dimensions."""
    count = np.asarray(count, np.float64)
    safe = np.maximum(count, 1e-20)[..., None]
    mean = s1 / safe
    var = np.maximum(s2 / safe - mean * mean, var_floor)
    D = s1.shape[-1]
    out = -0.5 * count * (D * LOG_2PI + np.sum(np.log(var), -1) + D)
    return np.where(count > 0, out, 0.0)


# ---------------------------------------------------------------------------------------------------------
# questions

def cluster_phones(stats: TreeStats, phone_sets: Sequence[Sequence[int]], pdf_classes: Sequence[int] = (1,),
                   seed: int = 0, num_tries: int = 10) -> list[list[int]]:
    """Phone-set questions from top-down 2-means clustering of the sets' central-state statistics (Kaldi's
    ``cluster-phones``). Returns every non-root node's phones, the largest first."""
    sets = [sorted(set(s)) for s in phone_sets if s]
    D = stats.dim
    n = len(sets)
    cnt = np.zeros(n)
    s1 = np.zeros((n, D))
    s2 = np.zeros((n, D))
    mask = np.isin(stats.events[:, 3], np.asarray(pdf_classes))
    for i, s in enumerate(sets):
        sel = mask & np.isin(stats.events[:, 1], s)
        cnt[i] = stats.count[sel].sum()
        s1[i] = stats.sum[sel].sum(0)
        s2[i] = stats.sumsq[sel].sum(0)
    rng = np.random.default_rng(seed)
    questions: list[list[int]] = []

    def recurse(members: list[int]) -> None:
        if len(members) < 2:
            return
        a, b = _two_means(members, cnt, s1, s2, rng, num_tries)
        for part in (a, b):
            questions.append(sorted(p for i in part for p in sets[i]))
            recurse(part)

    recurse(list(range(n)))
    questions.sort(key=lambda q: (-len(q), q))
    return questions


def _two_means(members: list[int], cnt: np.ndarray, s1: np.ndarray, s2: np.ndarray, rng: np.random.Generator,
               num_tries: int) -> tuple[list[int], list[int]]:
    m = np.asarray(members)
    if len(m) == 2:
        return [int(m[0])], [int(m[1])]
    seen = cnt[m] > 0
    best_obj, best = -np.inf, None
    for attempt in range(num_tries):
        if attempt == 0:
            # seeds: the heaviest set, and the set farthest from it (largest merge cost)
            i0 = int(np.argmax(cnt[m]))
            merged = gauss_objf(cnt[m] + cnt[m[i0]], s1[m] + s1[m[i0]], s2[m] + s2[m[i0]])
            cost = gauss_objf(cnt[m], s1[m], s2[m]) + gauss_objf(cnt[m[i0]], s1[m[i0]], s2[m[i0]]) - merged
            cost[i0] = -np.inf
            assign = np.zeros(len(m), int)
            assign[int(np.argmax(cost))] = 1
        else:
            assign = rng.integers(0, 2, len(m))
            if assign.min() == assign.max():
                assign[rng.integers(len(m))] ^= 1
        for _ in range(50):
            changed = False
            for j in rng.permutation(len(m)):
                if not seen[j]:
                    continue
                gains = []
                for c in (0, 1):
                    sel = (assign == c)
                    sel[j] = False
                    if not sel.any() and assign[j] != c:
                        gains.append(-np.inf)
                        continue
                    cc, a1, a2 = cnt[m][sel].sum(), s1[m][sel].sum(0), s2[m][sel].sum(0)
                    gains.append(gauss_objf(cc + cnt[m[j]], a1 + s1[m[j]], a2 + s2[m[j]]) - gauss_objf(cc, a1, a2))
                c = int(np.argmax(gains))
                if c != assign[j] and np.sum(assign == assign[j]) > 1:
                    assign[j] = c
                    changed = True
            if not changed:
                break
        if assign.min() == assign.max():
            continue
        obj = sum(gauss_objf(cnt[m][assign == c].sum(), s1[m][assign == c].sum(0), s2[m][assign == c].sum(0))
                  for c in (0, 1))
        if obj > best_obj:
            best_obj, best = obj, assign.copy()
    if best is None:
        half = len(m) // 2
        return [int(x) for x in m[:half]], [int(x) for x in m[half:]]
    return [int(x) for x in m[best == 0]], [int(x) for x in m[best == 1]]


# ---------------------------------------------------------------------------------------------------------
# splitting

@dataclasses.dataclass
class _Leaf:
    root: int
    idx: np.ndarray  # event indices
    gain: float = -np.inf
    split: tuple[int, int] | None = None  # (key, question index)
    yes: np.ndarray | None = None
    no: np.ndarray | None = None


@dataclasses.dataclass
class TreeBuildResult:
    ctx: ContextDependency
    num_leaves: int
    objf_gain: float
    stop_reason: str
    leaf_counts: np.ndarray


def build_tree(stats: TreeStats, roots: Sequence[tuple[Sequence[int], bool, bool]], questions: Sequence[Sequence[int]],
               topo: HmmTopology, num_leaves: int, thresh: float = 0.0, min_count: float = 20.0,
               cluster_thresh: float = 0.0) -> TreeBuildResult:
    """Builds a triphone tree (N=3, P=1) with up to ``num_leaves`` leaves (see the module docstring).

    ``roots``: ``(phones, shared, split)`` per line of ``roots.int``; not-split roots get one leaf per pdf-class.
    Every phone of the topology must be in exactly one root.
    """
    max_phone = max(topo.phones)
    q_mask = np.zeros((len(questions), max_phone + 1), bool)
    for i, q in enumerate(questions):
        q_mask[i, [p for p in q if p <= max_phone]] = True
    # remove duplicate questions
    _, keep = np.unique(q_mask, axis=0, return_index=True)
    q_mask = q_mask[np.sort(keep)]
    E = len(stats.count)
    root_of_phone = {}
    stub: list[tuple[list[int], int, bool]] = []  # (phones, pdf_class, splittable)
    for phones, _shared, split in roots:
        for p in phones:
            if p in root_of_phone:
                raise ValueError(f"phone {p} is in more than one tree root")
        ncls = {topo.num_pdf_classes(p) for p in phones}
        if len(ncls) != 1:
            raise ValueError(f"phones {list(phones)} share a root but have different numbers of pdf-classes")
        for pc in range(ncls.pop()):
            for p in phones:
                root_of_phone[(p, pc)] = len(stub)
            stub.append((list(phones), pc, split))
    missing = [p for p in topo.phones if (p, 0) not in root_of_phone]
    if missing:
        raise ValueError(f"phones {missing} are in no tree root")
    if num_leaves < len(stub):
        raise ValueError(f"--num-leaves={num_leaves} is fewer than the {len(stub)} (root, pdf-class) pairs")
    ev_root = np.array([root_of_phone.get((int(c), int(pc)), -1) for c, pc in stats.events[:, 1:4:2]], np.int64) \
        if E else np.zeros(0, np.int64)
    if np.any(ev_root < 0):
        bad = stats.events[ev_root < 0][0]
        raise ValueError(f"statistics for phone {bad[1]} pdf-class {bad[3]}, which no root covers")

    def best_split(leaf: _Leaf) -> None:
        phones_in_root = stub[leaf.root][0]
        if not stub[leaf.root][2] or len(leaf.idx) < 2:
            return
        idx = leaf.idx
        cnt, a1, a2 = stats.count[idx], stats.sum[idx], stats.sumsq[idx]
        tot = gauss_objf(cnt.sum(), a1.sum(0), a2.sum(0))
        keys = [0, 2] + ([1] if len(phones_in_root) > 1 else [])
        for key in keys:
            vals = stats.events[idx, key]
            M = q_mask[:, vals].astype(np.float64)  # (Q, n)
            yc, y1, y2 = M @ cnt, M @ a1, M @ a2
            nc, n1, n2 = cnt.sum() - yc, a1.sum(0) - y1, a2.sum(0) - y2
            gain = gauss_objf(yc, y1, y2) + gauss_objf(nc, n1, n2) - tot
            gain = np.where((yc >= max(min_count, 1e-9)) & (nc >= max(min_count, 1e-9)), gain, -np.inf)
            q = int(np.argmax(gain))
            if gain[q] > leaf.gain:
                yes = q_mask[q, vals]
                leaf.gain, leaf.split, leaf.yes, leaf.no = float(gain[q]), (key, q), idx[yes], idx[~yes]

    # each leaf is a node id; the tree is recorded as node -> (key, q, yes_node, no_node)
    leaves: dict[int, _Leaf] = {}
    splits: dict[int, tuple[int, int, int, int]] = {}
    heap: list[tuple[float, int]] = []
    next_id = 0
    root_nodes = []
    for r in range(len(stub)):
        leaf = _Leaf(r, np.nonzero(ev_root == r)[0])
        best_split(leaf)
        leaves[next_id] = leaf
        root_nodes.append(next_id)
        heapq.heappush(heap, (-leaf.gain, next_id))
        next_id += 1
    total_gain = 0.0
    stop = f"reached --num-leaves={num_leaves}"
    while len(leaves) < num_leaves:
        if not heap:
            stop = "no leaf can be split"
            break
        neg, node = heapq.heappop(heap)
        gain = -neg
        if not np.isfinite(gain):
            stop = f"no split leaves at least --min-count={min_count:g} frames on both sides"
            break
        if gain <= thresh:
            stop = f"best split gains {gain:.1f} <= --thresh={thresh:g}"
            break
        leaf = leaves.pop(node)
        total_gain += gain
        kids = []
        for part in (leaf.yes, leaf.no):
            child = _Leaf(leaf.root, part)
            best_split(child)
            leaves[next_id] = child
            heapq.heappush(heap, (-child.gain, next_id))
            kids.append(next_id)
            next_id += 1
        splits[node] = (leaf.split[0], leaf.split[1], kids[0], kids[1])
    if len(leaves) < num_leaves and stop.startswith("reached"):
        stop = "no leaf can be split"

    merged_into: dict[int, int] = {}
    if cluster_thresh > 0:
        merged_into, merge_gain = _cluster_leaves(leaves, stats, cluster_thresh)
        total_gain -= merge_gain

    # number leaves in tree order (roots in stub order, yes before no)
    pdf_of: dict[int, int] = {}

    def number(node: int) -> None:
        if node in splits:
            _, _, y, n = splits[node]
            number(y)
            number(n)
        else:
            rep = merged_into.get(node, node)
            if rep not in pdf_of:
                pdf_of[rep] = len(pdf_of)
            pdf_of[node] = pdf_of[rep]

    for rn in root_nodes:
        number(rn)

    def to_map(node: int) -> EventMap:
        if node in splits:
            key, q, y, n = splits[node]
            return SplitEventMap(key, frozenset(int(p) for p in np.nonzero(q_mask[q])[0]), to_map(y), to_map(n))
        return ConstantEventMap(pdf_of[node])

    by_phone: dict[int, list[EventMap]] = {}
    for r, (phones, pc, _) in enumerate(stub):
        sub = to_map(root_nodes[r])
        for p in phones:
            by_phone.setdefault(p, []).append(sub)
    table = []
    for p in range(max_phone + 1):
        if p in by_phone:
            table.append(TableEventMap(PDF_CLASS_KEY, tuple(by_phone[p])))
        else:
            table.append(None)
    ctx = ContextDependency(3, 1, TableEventMap(1, tuple(table)))
    counts = np.zeros(ctx.num_pdfs)
    for node, leaf in leaves.items():
        counts[pdf_of[node]] += stats.count[leaf.idx].sum()
    return TreeBuildResult(ctx, ctx.num_pdfs, total_gain, stop, counts)


def _cluster_leaves(leaves: dict[int, _Leaf], stats: TreeStats, thresh: float) -> tuple[dict[int, int], float]:
    """Greedy bottom-up merging of leaves under the same root while the cheapest merge costs < thresh."""
    groups: dict[int, dict[int, tuple[float, np.ndarray, np.ndarray]]] = {}
    for node, leaf in leaves.items():
        idx = leaf.idx
        groups.setdefault(leaf.root, {})[node] = (float(stats.count[idx].sum()), stats.sum[idx].sum(0),
                                                  stats.sumsq[idx].sum(0))
    merged_into: dict[int, int] = {}
    total = 0.0
    for members in groups.values():
        clusters = {n: v for n, v in members.items()}
        owner = {n: n for n in members}
        while len(clusters) > 1:
            keys = list(clusters)
            best = (np.inf, None, None)
            for i, a in enumerate(keys):
                ca = clusters[a]
                oa = gauss_objf(ca[0], ca[1], ca[2])
                for b in keys[i + 1:]:
                    cb = clusters[b]
                    cost = oa + gauss_objf(cb[0], cb[1], cb[2]) - gauss_objf(ca[0] + cb[0], ca[1] + cb[1],
                                                                            ca[2] + cb[2])
                    if cost < best[0]:
                        best = (float(cost), a, b)
            cost, a, b = best
            if cost >= thresh:
                break
            ca, cb = clusters[a], clusters.pop(b)
            clusters[a] = (ca[0] + cb[0], ca[1] + cb[1], ca[2] + cb[2])
            for n, o in owner.items():
                if o == b:
                    owner[n] = a
            total += cost
        for n, o in owner.items():
            if o != n:
                merged_into[n] = o
    return merged_into, total


# ---------------------------------------------------------------------------------------------------------
# serialisation of tree statistics (our format, Kaldi-serialised fields)

def write_tree_stats_to(w: KaldiWriter, stats: TreeStats) -> None:
    w.write_token("<PhonsidTreeStats>")
    w.write_int(len(stats.count))
    w.write_int(stats.dim)
    w.write_token("<Events>")
    w.write_matrix(stats.events.astype(np.float64), double=True)
    w.write_token("<Count>")
    w.write_vector(stats.count, double=True)
    w.write_token("<Sum>")
    w.write_matrix(stats.sum.reshape(len(stats.count), stats.dim), double=True)
    w.write_token("<SumSq>")
    w.write_matrix(stats.sumsq.reshape(len(stats.count), stats.dim), double=True)
    w.write_token("</PhonsidTreeStats>")


def read_tree_stats_from(r: KaldiReader) -> TreeStats:
    r.expect_token("<PhonsidTreeStats>")
    n = r.read_int()
    dim = r.read_int()
    r.expect_token("<Events>")
    ev = np.asarray(r.read_matrix(), np.float64)
    r.expect_token("<Count>")
    cnt = np.asarray(r.read_vector(), np.float64)
    r.expect_token("<Sum>")
    s1 = np.asarray(r.read_matrix(), np.float64)
    r.expect_token("<SumSq>")
    s2 = np.asarray(r.read_matrix(), np.float64)
    r.expect_token("</PhonsidTreeStats>")
    if n == 0:
        return TreeStats.empty(dim)
    if ev.shape != (n, 4) or s1.shape != (n, dim) or s2.shape != (n, dim) or cnt.shape != (n,):
        raise KaldiFormatError(f"{r.name}: tree statistics with inconsistent sizes")
    return TreeStats(np.rint(ev).astype(np.int64), cnt, s1, s2)


def read_tree_stats(rxfilename: str) -> TreeStats:
    return read_object_file(rxfilename, read_tree_stats_from)


def write_tree_stats(wxfilename: str, stats: TreeStats, binary: bool = True) -> None:
    write_object_file(wxfilename, binary, lambda w: write_tree_stats_to(w, stats))
