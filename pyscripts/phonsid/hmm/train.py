"""GMM-HMM training steps (initialisation, statistics, estimation) and in-memory training loops.

The step scripts run the same steps as separate tools over data splits (``steps/train_mono.sh``,
``steps/train_deltas.sh``); ``train_mono`` / ``train_triphone`` here run the whole recipe in one process
(tests, benchmarks, small corpora) with Kaldi's schedules.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from phonsid.hmm.align import AlignOptions, AlignResult, align_utterances, compile_transcript
from phonsid.hmm.alignment import convert_alignment, tids_to_pdfs
from phonsid.hmm.gmm import AmDiagGmm, GmmAccs, GmmUpdateOptions
from phonsid.hmm.graph import UttGraph, equal_alignment
from phonsid.hmm.lang import Lang
from phonsid.hmm.model import GmmHmmModel
from phonsid.hmm.transition_model import TransitionModel
from phonsid.hmm.tree import ContextDependency, monophone_tree
from phonsid.hmm.tree_build import TreeStats, accumulate_tree_stats, build_tree, cluster_phones

log = logging.getLogger("phonsid.hmm")


def init_mono(lang: Lang, feats: Iterable[np.ndarray], max_frames: int = 200_000) -> tuple[ContextDependency,
                                                                                            GmmHmmModel]:
    """Monophone tree and model: one pdf per (phone set, state), every pdf one Gaussian with the global mean
    and variance of (up to ``max_frames`` of) the features (Kaldi's ``gmm-init-mono``)."""
    topo = lang.topo
    phones = topo.phones
    ctx = monophone_tree(lang.sets, {p: topo.num_pdf_classes(p) for p in phones})
    tm = TransitionModel.from_tree(ctx, topo)
    mean, var = global_mean_var(feats, max_frames)
    am = AmDiagGmm.single_gaussians(ctx.num_pdfs, mean, var)
    return ctx, GmmHmmModel(tm, am)


def global_mean_var(feats: Iterable[np.ndarray], max_frames: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    n, s1, s2 = 0, None, None
    for m in feats:
        m = np.asarray(m, np.float64)[: max(0, max_frames - n)]
        if len(m) == 0:
            continue
        s1 = m.sum(0) if s1 is None else s1 + m.sum(0)
        s2 = (m * m).sum(0) if s2 is None else s2 + (m * m).sum(0)
        n += len(m)
        if n >= max_frames:
            break
    if n == 0 or s1 is None:
        raise ValueError("no feature frames to initialise the model from")
    mean = s1 / n
    return mean, np.maximum(s2 / n - mean * mean, 1e-3)


def accumulate(model: GmmHmmModel, items: Iterable[tuple[str, np.ndarray, np.ndarray]],
               chunk_frames: int = 50_000) -> GmmAccs:
    """Viterbi statistics (Kaldi's ``gmm-acc-stats-ali``) from ``(utt, features, transition ids)``."""
    acc = GmmAccs.zeros(model.am, model.trans.num_transition_ids)
    xs, ps, ts = [], [], []
    n = 0

    def flush() -> None:
        if xs:
            acc.accumulate(model.am, np.concatenate(xs), np.concatenate(ps), np.concatenate(ts))
            xs.clear(), ps.clear(), ts.clear()

    for utt, feats, tids in items:
        if len(feats) != len(tids):
            raise ValueError(f"utterance '{utt}': {len(feats)} feature frames but {len(tids)} alignment frames")
        xs.append(np.asarray(feats))
        ps.append(tids_to_pdfs(model.trans, tids, utt))
        ts.append(np.asarray(tids))
        n += len(feats)
        if n >= chunk_frames:
            flush()
            n = 0
    flush()
    return acc


@dataclasses.dataclass
class EstimateOptions:
    mix_up: int = 0  # target total number of Gaussians (0: no mixing up)
    power: float = 0.2
    perturb_factor: float = 0.01
    min_count: float = 20.0  # frames per Gaussian when mixing up
    transition_floor: float = 0.01
    transition_mincount: float = 5.0
    update_transitions: bool = True
    seed: int = 0
    gmm: GmmUpdateOptions = dataclasses.field(default_factory=GmmUpdateOptions)


def estimate(model: GmmHmmModel, acc: GmmAccs, opts: EstimateOptions | None = None) -> dict[str, float]:
    """ML update of GMMs and transitions, then mixing up (Kaldi's ``gmm-est``). Returns a summary."""
    opts = opts or EstimateOptions()
    out: dict[str, float] = {}
    if opts.update_transitions:
        ts = model.trans.update(acc.trans, opts.transition_mincount, opts.transition_floor)
        out["trans_objf_change_per_frame"] = ts.objf_change / max(ts.count, 1.0)
    occs = acc.pdf_occs(model.am)
    gs = model.am.mle_update(acc, opts.gmm)
    model.am.invalidate()
    out.update(gmm_objf_change_per_frame=gs.objf_change / max(gs.count, 1.0), frames=gs.count,
               gauss_removed=gs.num_removed)
    if opts.mix_up > model.am.num_gauss:
        model.am.mix_up(opts.mix_up, occs, opts.power, opts.perturb_factor, opts.min_count, opts.seed)
        model.am.invalidate()
    out["num_gauss"] = model.am.num_gauss
    return out


# ---------------------------------------------------------------------------------------------------------
# in-memory recipes

@dataclasses.dataclass
class MonoOptions:
    """Kaldi ``steps/train_mono.sh`` defaults."""

    num_iters: int = 40
    max_iter_inc: int = 30
    tot_gauss: int = 1000
    power: float = 0.25
    realign_iters: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 23, 26, 29, 32, 35, 38)
    align: AlignOptions = dataclasses.field(default_factory=AlignOptions)


@dataclasses.dataclass
class TrainState:
    ctx: ContextDependency
    model: GmmHmmModel
    alignments: dict[str, np.ndarray]
    like_per_frame: list[float]  # acoustic log-likelihood per frame of the statistics of each iteration
    failed: list[str]


def _graphs(lang: Lang, ctx: ContextDependency, model: GmmHmmModel, texts: Mapping[str, Sequence[str]],
            oov_counts: dict[str, int] | None = None) -> dict[str, UttGraph]:
    return {u: compile_transcript(lang, ctx, model, w, u, oov_counts) for u, w in texts.items()}


def _align_all(model, feats, graphs, opts: AlignOptions) -> dict[str, AlignResult]:
    return align_utterances(model, [(u, feats[u], graphs[u]) for u in graphs if u in feats], opts)


def _loop(model: GmmHmmModel, ctx: ContextDependency, feats: Mapping[str, np.ndarray],
          graphs: dict[str, UttGraph], ali: dict[str, np.ndarray], num_iters: int, realign: Sequence[int],
          num_gauss: int, inc_gauss: int, max_iter_inc: int, power: float, align_opts: AlignOptions,
          first_iter: int, on_iter: Callable[[int, float], None] | None,
          failed: list[str]) -> tuple[list[float], dict[str, np.ndarray]]:
    likes = []
    for it in range(first_iter, num_iters):
        if it in realign:
            res = _align_all(model, feats, graphs, align_opts)
            ali = {u: r.tids for u, r in res.items() if r.ok}
            failed[:] = sorted(u for u, r in res.items() if not r.ok)
        acc = accumulate(model, [(u, feats[u], ali[u]) for u in ali])
        likes.append(acc.tot_like / max(acc.tot_frames, 1.0))
        if on_iter:
            on_iter(it, likes[-1])
        estimate(model, acc, EstimateOptions(mix_up=num_gauss, power=power))
        if it <= max_iter_inc:
            num_gauss += inc_gauss
    return likes, ali


def train_mono(lang: Lang, feats: Mapping[str, np.ndarray], texts: Mapping[str, Sequence[str]],
               opts: MonoOptions | None = None, on_iter: Callable[[int, float], None] | None = None) -> TrainState:
    """Monophone training from a flat start (Kaldi's ``steps/train_mono.sh``) on features already through
    the pipeline (CMN, deltas)."""
    opts = opts or MonoOptions()
    ctx, model = init_mono(lang, (feats[u] for u in texts if u in feats))
    graphs = _graphs(lang, ctx, model, texts)
    ali = {}
    failed = []
    for u, g in graphs.items():
        if u not in feats:
            continue
        t = equal_alignment(g, model.trans, len(feats[u]))
        if t is None:
            failed.append(u)
        else:
            ali[u] = t
    num_gauss = model.am.num_gauss
    inc = max(0, (opts.tot_gauss - num_gauss) // max(opts.max_iter_inc, 1))
    # iteration 0: statistics from the equal alignment
    acc = accumulate(model, [(u, feats[u], ali[u]) for u in ali])
    likes = [acc.tot_like / max(acc.tot_frames, 1.0)]
    if on_iter:
        on_iter(0, likes[0])
    est0 = EstimateOptions(mix_up=num_gauss, power=opts.power)
    est0.gmm.min_gaussian_occupancy = 3.0  # as Kaldi's first gmm-est of train_mono.sh
    estimate(model, acc, est0)
    more, ali = _loop(model, ctx, feats, graphs, ali, opts.num_iters, set(opts.realign_iters), num_gauss, inc,
                      opts.max_iter_inc, opts.power, opts.align, 1, on_iter, failed)
    res = _align_all(model, feats, graphs, opts.align)
    ali = {u: r.tids for u, r in res.items() if r.ok}
    return TrainState(ctx, model, ali, likes + more, sorted(u for u, r in res.items() if not r.ok))


@dataclasses.dataclass
class TriphoneOptions:
    """Kaldi ``steps/train_deltas.sh`` defaults (leaves and Gaussians are the script's positional arguments)."""

    num_leaves: int = 2000
    tot_gauss: int = 10000
    num_iters: int = 35
    max_iter_inc: int = 25
    power: float = 0.25
    realign_iters: tuple[int, ...] = (10, 20, 30)
    thresh: float = 0.0
    min_count: float = 20.0
    cluster_thresh: float = 0.0
    align: AlignOptions = dataclasses.field(default_factory=AlignOptions)


def init_triphone(lang: Lang, stats: TreeStats, num_leaves: int, thresh: float = 0.0, min_count: float = 20.0,
                  cluster_thresh: float = 0.0):
    """Questions, tree and a one-Gaussian-per-leaf model from tree statistics (``cluster-phones``,
    ``build-tree``, ``gmm-init-model``). Returns (tree build result, model, questions, leaf occupancies)."""
    questions = cluster_phones(stats, lang.sets) + lang.extra_questions
    res = build_tree(stats, lang.roots, questions, lang.topo, num_leaves, thresh, min_count, cluster_thresh)
    model, occs = init_model_from_tree_stats(res.ctx, lang.topo, stats)
    return res, model, questions, occs


def init_model_from_tree_stats(ctx: ContextDependency, topo, stats: TreeStats) -> tuple[GmmHmmModel, np.ndarray]:
    """One Gaussian per pdf from the statistics of the events the tree maps to it (Kaldi's
    ``gmm-init-model``); pdfs without data get the global mean and variance."""
    from phonsid.hmm.tree import map_event, PDF_CLASS_KEY

    tm = TransitionModel.from_tree(ctx, topo)
    P = ctx.num_pdfs
    D = stats.dim
    cnt, s1, s2 = np.zeros(P), np.zeros((P, D)), np.zeros((P, D))
    for e in range(len(stats.count)):
        l, c, r, pc = (int(x) for x in stats.events[e])
        pdf = map_event(ctx.to_pdf, {0: l, 1: c, 2: r, PDF_CLASS_KEY: pc})
        if pdf is None:
            raise ValueError(f"the tree has no pdf for statistics event {(l, c, r, pc)}")
        cnt[pdf] += stats.count[e]
        s1[pdf] += stats.sum[e]
        s2[pdf] += stats.sumsq[e]
    tot = cnt.sum()
    gmean = s1.sum(0) / max(tot, 1e-10)
    gvar = np.maximum(s2.sum(0) / max(tot, 1e-10) - gmean ** 2, 1e-3)
    W, M, V = [], [], []
    for p in range(P):
        if cnt[p] > 0:
            m = s1[p] / cnt[p]
            v = np.maximum(s2[p] / cnt[p] - m * m, np.maximum(1e-3, 0.01 * gvar))  # floors as mle_update's
        else:
            m, v = gmean, gvar
        W.append(np.ones(1)), M.append(m[None]), V.append(v[None])
    return GmmHmmModel(tm, AmDiagGmm(W, M, V)), cnt


def train_triphone(lang: Lang, feats: Mapping[str, np.ndarray], texts: Mapping[str, Sequence[str]],
                   src_model: GmmHmmModel, src_ali: Mapping[str, np.ndarray], opts: TriphoneOptions | None = None,
                   on_iter: Callable[[int, float], None] | None = None) -> TrainState:
    """Triphone training from a previous model's alignments (Kaldi's ``steps/train_deltas.sh``)."""
    opts = opts or TriphoneOptions()
    items = [(u, feats[u], src_ali[u]) for u in src_ali if u in feats]
    stats = accumulate_tree_stats(src_model.trans, items, ci_phones=lang.silence)
    res, model, _, occs = init_triphone(lang, stats, opts.num_leaves, opts.thresh, opts.min_count,
                                        opts.cluster_thresh)
    ctx = res.ctx
    num_gauss = opts.num_leaves
    if num_gauss > model.am.num_gauss:
        model.am.mix_up(num_gauss, occs, opts.power)
        model.am.invalidate()
    inc = max(0, (opts.tot_gauss - num_gauss) // max(opts.max_iter_inc, 1))
    ali = {u: convert_alignment(src_model.trans, model.trans, ctx, t, u) for u, t in src_ali.items()}
    graphs = _graphs(lang, ctx, model, {u: texts[u] for u in texts})
    failed: list[str] = []
    likes, ali = _loop(model, ctx, feats, graphs, ali, opts.num_iters, set(opts.realign_iters), num_gauss, inc,
                       opts.max_iter_inc, opts.power, opts.align, 1, on_iter, failed)
    res_al = _align_all(model, feats, graphs, opts.align)
    ali = {u: r.tids for u, r in res_al.items() if r.ok}
    return TrainState(ctx, model, ali, likes, sorted(u for u, r in res_al.items() if not r.ok))
