"""Forced alignment of utterances to their transcripts (Kaldi's ``gmm-align-compiled`` / ``gmm-align``).

Scores follow Kaldi's scaling: path score = ``acoustic_scale`` × log-likelihoods + transition log-probabilities
(``transition_scale``, ``self_loop_scale``) + graph weights (optional silence, pronunciation probabilities).
Defaults are those of Kaldi's training scripts (0.1, 1.0, 0.1). Utterances are scored in length-sorted
batches: the GMM log-likelihoods of the pdfs each graph uses, then one batched Viterbi.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

import numpy as np

from phonsid.hmm.graph import UttGraph, compile_graph, scaled_transition_log_probs, transcript_prons
from phonsid.hmm.lang import Lang
from phonsid.hmm.model import GmmHmmModel
from phonsid.hmm.tree import ContextDependency


@dataclasses.dataclass
class AlignOptions:
    acoustic_scale: float = 0.1
    transition_scale: float = 1.0
    self_loop_scale: float = 0.1
    max_batch_elements: int = 16_000_000  # frames × states × utterances per Viterbi batch
    device: str = "cpu"
    dtype: str = "float32"  # torch dtype of likelihoods and Viterbi (Kaldi scores in single precision too)


@dataclasses.dataclass
class AlignResult:
    tids: np.ndarray  # transition id per frame
    score: float  # scaled path score
    loglike: float  # acoustic log-likelihood along the path (unscaled)
    num_frames: int

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.score))


def compile_transcript(lang: Lang, ctx: ContextDependency, model: GmmHmmModel, words: Sequence[str],
                       utt: str = "", oov_counts: dict[str, int] | None = None) -> UttGraph:
    """Graph for a transcript (words missing from the lexicon map to the OOV word)."""
    mapped = lang.map_oov(words, oov_counts)
    return compile_graph(transcript_prons(lang, mapped, utt), ctx, model.trans, lang.optional_silence,
                         lang.sil_prob)


def align_utterances(model: GmmHmmModel, items: Iterable[tuple[str, np.ndarray, UttGraph]],
                     opts: AlignOptions | None = None) -> dict[str, AlignResult]:
    """Aligns ``(utt, features (T, D), graph)`` items; failed utterances have ``score == -inf``."""
    import torch

    from phonsid.hmm.viterbi import viterbi_batch

    opts = opts or AlignOptions()
    items = list(items)
    device = torch.device(opts.device)
    dtype = getattr(torch, opts.dtype)
    results: dict[str, AlignResult] = {}
    lp = scaled_transition_log_probs(model.trans, opts.transition_scale, opts.self_loop_scale)
    weights = {utt: g.arc_weights(model.trans, scaled_log_probs=lp) for utt, _, g in items}
    order = sorted(range(len(items)), key=lambda i: (len(items[i][1]), items[i][2].num_states))
    batch: list[int] = []

    def run(batch: list[int]) -> None:
        ems, lls = [], []
        for i in batch:
            utt, feats, g = items[i]
            x = torch.as_tensor(np.asarray(feats), dtype=dtype, device=device)
            uniq, inv = np.unique(g.pdf, return_inverse=True)
            ll = model.am.log_likelihoods(x, uniq)[:, torch.as_tensor(inv, device=device)]
            lls.append(ll)
            ems.append(ll * opts.acoustic_scale)
        gs = [items[i][2] for i in batch]
        res = viterbi_batch(ems, [g.pred_src for g in gs], [weights[items[i][0]][0] for i in batch],
                            [g.pred_tid for g in gs], [g.init_w for g in gs], [weights[items[i][0]][1] for i in batch],
                            [g.final_tid for g in gs])
        for i, r, ll in zip(batch, res, lls):
            utt = items[i][0]
            T = len(r.states)
            like = float(ll[torch.arange(T, device=device), torch.as_tensor(r.states, device=device)].sum()) \
                if np.isfinite(r.score) else float("-inf")
            results[utt] = AlignResult(r.tids, r.score, like, T)

    max_t = max_s = 0
    for i in order:
        _, feats, g = items[i]
        if len(feats) < g.min_frames:
            results[items[i][0]] = AlignResult(np.zeros(len(feats), np.int64), float("-inf"), float("-inf"),
                                               len(feats))
            continue
        t, s = max(max_t, len(feats)), max(max_s, g.num_states)
        if batch and t * s * (len(batch) + 1) > opts.max_batch_elements:
            run(batch)
            batch, t, s = [], len(feats), g.num_states
        batch.append(i)
        max_t, max_s = t, s
    if batch:
        run(batch)
    return results
