"""Viterbi: optimal against brute force on tiny graphs; batching does not change results."""

from __future__ import annotations

import math

import numpy as np
import torch

from phonsid.hmm.align import AlignOptions, align_utterances, compile_transcript
from phonsid.hmm.graph import compile_graph, transcript_prons
from phonsid.hmm.gmm import AmDiagGmm
from phonsid.hmm.train import init_mono
from phonsid.hmm.viterbi import viterbi_batch


def _brute_force(emis, pred_src, pred_w, init_w, final_w):
    """Best path by enumerating every state sequence the graph allows."""
    T, S = emis.shape
    succ = {s: [] for s in range(S)}
    for d in range(S):
        for k in range(pred_src.shape[1]):
            if np.isfinite(pred_w[d, k]):
                succ[int(pred_src[d, k])].append((d, pred_w[d, k]))
    # fewest frames from each state to the end (to prune partial paths that cannot finish in time)
    to_end = np.full(S, 10**9)
    to_end[np.isfinite(final_w)] = 1
    for _ in range(S):
        for s in range(S):
            for d, _ in succ[s]:
                to_end[s] = min(to_end[s], to_end[d] + 1)
    best = (-math.inf, None)
    count = 0

    def dfs(path, score):
        nonlocal best, count
        s = path[-1]
        if len(path) == T:
            total = score + final_w[s]
            count += bool(np.isfinite(total))
            if total > best[0]:
                best = (total, list(path))
            return
        for d, w in succ[s]:
            if len(path) + to_end[d] <= T:
                dfs(path + [d], score + w + emis[len(path), d])

    for s in range(S):
        if np.isfinite(init_w[s]):
            dfs([s], init_w[s] + emis[0, s])
    return best, count


def test_viterbi_matches_brute_force(synth_lang):
    rng = np.random.default_rng(3)
    ctx, model = init_mono(synth_lang, [rng.standard_normal((50, 2))])
    for words, extra in ((["ab"], 3), (["egg", "ab"], 2), (["deaf"], 3)):
        g = compile_graph(transcript_prons(synth_lang, words), ctx, model.trans, synth_lang.optional_silence, 0.3)
        T = g.min_frames + extra
        pred_w, final_w = g.arc_weights(model.trans, 1.0, 0.5)
        emis = rng.normal(0, 2.0, (T, g.num_states))
        (best, path), n = _brute_force(emis, g.pred_src, pred_w, g.init_w, final_w)
        assert n > 20  # several competing paths
        res = viterbi_batch([torch.as_tensor(emis)], [g.pred_src], [pred_w], [g.pred_tid], [g.init_w], [final_w],
                            [g.final_tid])[0]
        assert math.isclose(res.score, best, rel_tol=0, abs_tol=1e-9)
        # the returned path scores what it claims, and its transition ids are the arcs taken
        s = res.states
        score = g.init_w[s[0]] + emis[0, s[0]]
        lp = model.trans.log_probs
        for t in range(1, T):
            k = np.nonzero((g.pred_src[s[t]] == s[t - 1]) & np.isfinite(pred_w[s[t]]))[0]
            assert len(k) >= 1
            score += pred_w[s[t], k].max() + emis[t, s[t]]
            assert res.tids[t - 1] in g.pred_tid[s[t], k]
        score += final_w[s[-1]]
        assert math.isclose(score, best, abs_tol=1e-9)
        assert res.tids[-1] == g.final_tid[s[-1]]
        assert np.all(np.isfinite(lp[res.tids]))


def test_too_short_utterance_has_no_path(synth_lang):
    ctx, model = init_mono(synth_lang, [np.random.default_rng(0).standard_normal((50, 2))])
    g = compile_graph(transcript_prons(synth_lang, ["cafe"]), ctx, model.trans, synth_lang.optional_silence, 0.5)
    assert g.min_frames == 12  # four 3-state phones, silence optional
    pred_w, final_w = g.arc_weights(model.trans)
    res = viterbi_batch([torch.zeros((11, g.num_states), dtype=torch.float64)], [g.pred_src], [pred_w],
                        [g.pred_tid], [g.init_w], [final_w], [g.final_tid])[0]
    assert res.score == -math.inf


def test_batching_gives_the_same_alignments(synth_lang, synth_corpus, mono_system):
    model, ctx = mono_system.model, mono_system.ctx
    utts = sorted(synth_corpus.texts)[:12]
    items = [(u, synth_corpus.feats[u], compile_transcript(synth_lang, ctx, model, synth_corpus.texts[u], u))
             for u in utts]
    together = align_utterances(model, items, AlignOptions(dtype="float64"))
    for item in items[:6]:
        alone = align_utterances(model, [item], AlignOptions(dtype="float64", max_batch_elements=1))[item[0]]
        np.testing.assert_array_equal(alone.tids, together[item[0]].tids)
        assert math.isclose(alone.score, together[item[0]].score, rel_tol=1e-12)
    # float32 scoring (the default) finds the same paths here
    f32 = align_utterances(model, items)
    agree = np.mean([np.mean(f32[u].tids == together[u].tids) for u in utts])
    assert agree > 0.99


def test_gmm_log_likelihoods_match_direct_formula():
    rng = np.random.default_rng(0)
    W = [np.array([0.3, 0.7]), np.array([1.0]), np.array([0.2, 0.5, 0.3])]
    M = [rng.standard_normal((len(w), 4)) for w in W]
    V = [rng.uniform(0.5, 2.0, (len(w), 4)) for w in W]
    am = AmDiagGmm(W, M, V)
    x = rng.standard_normal((7, 4))
    ll = am.log_likelihoods(torch.as_tensor(x), np.array([2, 0, 1])).numpy()
    for j, p in enumerate([2, 0, 1]):
        comp = [np.log(W[p][i]) - 0.5 * np.sum(np.log(2 * np.pi * V[p][i]) + (x - M[p][i]) ** 2 / V[p][i], 1)
                for i in range(len(W[p]))]
        np.testing.assert_allclose(ll[:, j], np.logaddexp.reduce(comp, axis=0), rtol=1e-10)
