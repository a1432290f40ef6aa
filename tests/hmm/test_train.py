"""GMM-HMM training on synthetic data with a known alignment."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import hmm_synth as synth
from phonsid.hmm.alignment import convert_alignment, split_to_phones, tids_to_pdfs
from phonsid.hmm.graph import equal_alignment
from phonsid.hmm.train import TriphoneOptions, init_triphone, train_triphone
from phonsid.hmm.align import compile_transcript
from phonsid.hmm.tree_build import accumulate_tree_stats


def test_mono_likelihood_improves_every_iteration(mono_system):
    like = np.asarray(mono_system.like_per_frame)
    assert len(like) == 10
    assert np.all(np.diff(like) > 0), like
    assert like[-1] - like[0] > 1.0  # a real gain, not numerical noise


def test_mono_recovers_the_true_alignment(synth_lang, synth_corpus, mono_system):
    tm = mono_system.model.trans
    assert not mono_system.failed
    acc = synth.frame_accuracy(tm, synth_lang.phones, mono_system.alignments, synth_corpus.true_phones)
    # the flat-start (equal) alignment of the same transcripts, as the baseline a broken aligner stays near
    eq = {}
    for utt, words in synth_corpus.texts.items():
        g = compile_transcript(synth_lang, mono_system.ctx, mono_system.model, words, utt)
        eq[utt] = equal_alignment(g, tm, len(synth_corpus.feats[utt]))
    base = synth.frame_accuracy(tm, synth_lang.phones, eq, synth_corpus.true_phones)
    assert base < 0.75, base
    assert acc >= 0.9, acc


def test_phone_segments_are_consistent(mono_system):
    tm = mono_system.model.trans
    for utt, tids in list(mono_system.alignments.items())[:10]:
        segs = split_to_phones(tm, tids, utt)
        assert sum(s.length for s in segs) == len(tids)
        assert segs[0].start == 0
        for s in segs:  # each phone uses its whole HMM: it starts in state 0
            assert tm.tid2hmm_state[tids[s.start]] == 0


def test_triphone_tree_has_the_requested_leaves(synth_lang, synth_corpus, mono_system):
    items = [(u, synth_corpus.feats[u], t) for u, t in mono_system.alignments.items()]
    stats = accumulate_tree_stats(mono_system.model.trans, items, ci_phones=synth_lang.silence)
    for n in (40, 57):
        res, model, questions, _ = init_triphone(synth_lang, stats, n)
        assert res.num_leaves == n and model.num_pdfs == n, res.stop_reason
        assert questions and all(q for q in questions)
    # more leaves than the data can support: fewer, with the reason
    res, *_ = init_triphone(synth_lang, stats, 5000, min_count=20)
    assert res.num_leaves < 5000
    assert "min-count" in res.stop_reason or "no leaf" in res.stop_reason
    assert np.all(res.leaf_counts[res.leaf_counts > 0] >= 20)
    # silence (context-independent) never splits on context
    sil = synth_lang.phones["SIL"]
    for l in (0, synth_lang.phones["a"]):
        for r in (0, synth_lang.phones["b"]):
            assert res.ctx.compute((l, sil, r), 2) == res.ctx.compute((0, sil, 0), 2)


def test_triphone_training(synth_lang, synth_corpus, mono_system):
    opts = TriphoneOptions(num_leaves=50, tot_gauss=120, num_iters=6, max_iter_inc=4, realign_iters=(2, 4))
    st = train_triphone(synth_lang, synth_corpus.feats, synth_corpus.texts, mono_system.model,
                        mono_system.alignments, opts)
    assert st.model.num_pdfs == 50 and st.ctx.num_pdfs == 50
    assert np.all(np.diff(st.like_per_frame) > -1e-6)
    for utt, tids in st.alignments.items():
        pdfs = tids_to_pdfs(st.model.trans, tids, utt)
        assert pdfs.min() >= 0 and pdfs.max() < 50
    acc = synth.frame_accuracy(st.model.trans, synth_lang.phones, st.alignments, synth_corpus.true_phones)
    assert acc >= 0.9, acc


def test_convert_alignment_keeps_phones_and_states(synth_lang, synth_corpus, mono_system):
    items = [(u, synth_corpus.feats[u], t) for u, t in mono_system.alignments.items()]
    stats = accumulate_tree_stats(mono_system.model.trans, items, ci_phones=synth_lang.silence)
    res, model, _, _ = init_triphone(synth_lang, stats, 45)
    old = mono_system.model.trans
    for utt, tids in list(mono_system.alignments.items())[:5]:
        new = convert_alignment(old, model.trans, res.ctx, tids, utt)
        np.testing.assert_array_equal(model.trans.tid2phone[new], old.tid2phone[tids])
        np.testing.assert_array_equal(model.trans.tid2hmm_state[new], old.tid2hmm_state[tids])
        np.testing.assert_array_equal(model.trans.tid_is_self_loop[new], old.tid_is_self_loop[tids])


def test_tree_statistics_split_by_context(synth_lang, synth_corpus, mono_system):
    items = [(u, synth_corpus.feats[u], t) for u, t in list(mono_system.alignments.items())[:20]]
    stats = accumulate_tree_stats(mono_system.model.trans, items, ci_phones=synth_lang.silence)
    assert stats.count.sum() == sum(len(f) for _, f, _ in items)
    sil = synth_lang.phones["SIL"]
    ev = stats.events[stats.events[:, 1] == sil]
    assert np.all(ev[:, 0] == 0) and np.all(ev[:, 2] == 0)  # context-independent
    assert len(np.unique(stats.events[stats.events[:, 1] != sil][:, 0])) > 3
    with pytest.raises(ValueError, match="alignment frames"):
        accumulate_tree_stats(mono_system.model.trans, [("u", np.zeros((3, 15)), items[0][2])])
