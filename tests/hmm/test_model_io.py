"""Kaldi formats of topologies, trees, transition models, GMM models and our statistics files: round trips,
a Kaldi-written DiagGmm, and transition-probability properties."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.hmm.gmm import (
    AmDiagGmm, GmmAccs, read_diag_gmm_from, split_targets, read_gmm_accs_from, write_gmm_accs_to,
)
from phonsid.io.kaldi_object import read_object_file, write_object_file
from phonsid.hmm.model import GmmHmmModel, read_gmm_model, write_gmm_model
from phonsid.hmm.topology import make_topology, read_hmm_topology, write_hmm_topology, TopologyError, HmmTopology
from phonsid.hmm.transition_model import TransitionModel
from phonsid.hmm.tree import ContextDependency, SplitEventMap, TableEventMap, ConstantEventMap, read_tree, write_tree
from phonsid.hmm.tree_build import TreeStats, read_tree_stats, write_tree_stats
from phonsid.io.kaldi_object import KaldiFormatError


@pytest.mark.parametrize("binary", [False, True])
def test_topology_round_trip(tmp_path, binary):
    topo = make_topology(range(3, 10), [1, 2])
    write_hmm_topology(str(tmp_path / "topo"), topo, binary=binary)
    back = read_hmm_topology(str(tmp_path / "topo"))
    assert back.phone2entry == topo.phone2entry
    for a, b in zip(back.entries, topo.entries):
        assert [s.pdf_class for s in a] == [s.pdf_class for s in b]
        for sa, sb in zip(a, b):
            assert [d for d, _ in sa.transitions] == [d for d, _ in sb.transitions]
            np.testing.assert_allclose([p for _, p in sa.transitions], [p for _, p in sb.transitions], rtol=1e-6)
    assert back.min_length(3) == 3 and back.min_length(1) == 3  # silence: 0 -> 1..3 -> 4 -> final
    assert back.flat_start_state_path(1) == [0, 1, 2, 3, 4] and back.shortest_state_path(1) == [0, 1, 4]


def test_topology_text_is_kaldis_format(tmp_path):
    write_hmm_topology(str(tmp_path / "topo"), make_topology([3], [1]))
    text = (tmp_path / "topo").read_text()
    assert text.startswith("<Topology>")
    assert "<TopologyEntry>\n<ForPhones>\n3\n</ForPhones>\n<State> 0 <PdfClass> 0 <Transition> 0 0.75" \
           " <Transition> 1 0.25 </State>" in text
    assert text.rstrip().endswith("</Topology>")


def test_bad_topology_is_rejected():
    topo = make_topology([3], [1])
    topo.entries[0][0].transitions = [(0, 0.5), (1, 0.2)]
    with pytest.raises(TopologyError, match="entry 0 state 0"):
        topo.check()
    with pytest.raises(TopologyError, match="no emitting state"):
        HmmTopology([[topo.entries[0][-1]]], {3: 0}).check()


def _example_tree() -> ContextDependency:
    leaf = ConstantEventMap
    sub = SplitEventMap(0, frozenset({3, 4}), leaf(0), SplitEventMap(2, frozenset({5}), leaf(1), leaf(2)))
    per_class = TableEventMap(-1, (sub, leaf(3), leaf(4)))
    return ContextDependency(3, 1, TableEventMap(1, (None, None, None, per_class, per_class)))


@pytest.mark.parametrize("binary", [False, True])
def test_tree_round_trip(tmp_path, binary):
    ctx = _example_tree()
    write_tree(str(tmp_path / "tree"), ctx, binary=binary)
    back = read_tree(str(tmp_path / "tree"))
    assert (back.N, back.P, back.num_pdfs) == (3, 1, 5)
    assert back.to_pdf == ctx.to_pdf
    assert back.compute((3, 4, 0), 0) == 0 and back.compute((0, 4, 5), 0) == 1 and back.compute((0, 3, 0), 0) == 2
    assert back.compute((9, 3, 9), 2) == 4
    if not binary:
        text = (tmp_path / "tree").read_text()
        assert text.startswith("ContextDependency 3 1 ToPdf TE 1 5 ( NULL NULL NULL TE -1 3 ( SE 0 [ 3 4 ]")


def test_transition_probabilities_sum_to_one_after_update():
    topo = make_topology(range(3, 8), [1, 2])
    from phonsid.hmm.tree import monophone_tree

    ctx = monophone_tree([[p] for p in topo.phones], {p: topo.num_pdf_classes(p) for p in topo.phones})
    tm = TransitionModel.from_tree(ctx, topo)
    tm.check()
    assert tm.num_pdfs == ctx.num_pdfs == 5 * 3 + 2 * 5
    # every transition id maps back to its triple and index
    for tid in range(1, tm.num_transition_ids + 1):
        ts = tm.tid2state[tid]
        assert tm.transition_id(ts, tm.tid2index[tid]) == tid
        assert tm.triples[ts - 1] == (tm.tid2phone[tid], tm.tid2hmm_state[tid], tm.tid2pdf[tid])
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 50, tm.num_transition_ids + 1).astype(float)
    counts[1:4] = [0.0, 100.0, 0.0]  # force flooring in the first state
    stats = tm.update(counts, mincount=5.0, floor=0.01)
    tm.check()
    for ts in range(1, tm.num_transition_states + 1):
        probs = tm.probs_of_state(ts)
        assert abs(probs.sum() - 1.0) < 1e-9
        assert probs.min() >= 0.01 * 0.999
    assert stats.objf_change > 0 and stats.num_floored >= 1


def _toy_model(topo_phones=range(3, 6)) -> tuple[ContextDependency, GmmHmmModel]:
    from phonsid.hmm.tree import monophone_tree

    topo = make_topology(topo_phones, [1])
    ctx = monophone_tree([[p] for p in topo.phones], {p: topo.num_pdf_classes(p) for p in topo.phones})
    tm = TransitionModel.from_tree(ctx, topo)
    rng = np.random.default_rng(1)
    n = [1 + (i % 3) for i in range(ctx.num_pdfs)]
    am = AmDiagGmm([rng.dirichlet(np.ones(k)) for k in n], [rng.standard_normal((k, 4)) for k in n],
                   [rng.uniform(0.5, 2, (k, 4)) for k in n])
    return ctx, GmmHmmModel(tm, am)


@pytest.mark.parametrize("binary", [False, True])
def test_gmm_model_round_trip(tmp_path, binary):
    _, model = _toy_model()
    model.trans.log_probs[1:] = np.log(np.clip(np.exp(model.trans.log_probs[1:]), 0.01, 1))
    write_gmm_model(str(tmp_path / "final.mdl"), model, binary=binary)
    back = read_gmm_model(str(tmp_path / "final.mdl"))
    assert back.trans.triples == model.trans.triples
    np.testing.assert_allclose(back.trans.log_probs, model.trans.log_probs, rtol=1e-6)
    np.testing.assert_array_equal(back.am.offsets, model.am.offsets)
    np.testing.assert_allclose(back.am.weights, model.am.weights, rtol=1e-6)
    np.testing.assert_allclose(back.am.means, model.am.means, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(back.am.variances, model.am.variances, rtol=1e-5)
    if binary:  # binary files are written byte for byte the same way again
        write_gmm_model(str(tmp_path / "again.mdl"), back, binary=True)
        back2 = read_gmm_model(str(tmp_path / "again.mdl"))
        np.testing.assert_array_equal(back2.am.means.astype(np.float32), back.am.means.astype(np.float32))


def test_reads_a_kaldi_diag_gmm(golden):
    """The DiagGMM of Kaldi's UBM (binary and its gmm-global-copy --binary=false text) parses the same."""
    def read(path):
        return read_object_file(str(path), read_diag_gmm_from)

    wb, mb, vb = read(golden / "ubm" / "final.dubm")
    wt, mt, vt = read(golden / "ubm" / "final.dubm.txt")
    assert len(wb) == 32 and mb.shape == (32, 60)
    np.testing.assert_allclose(wb, wt, rtol=1e-5)
    np.testing.assert_allclose(mb, mt, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(vb, vt, rtol=1e-4)
    assert abs(wb.sum() - 1.0) < 1e-4 and vb.min() > 0


def test_accs_and_tree_stats_round_trip(tmp_path):
    _, model = _toy_model()
    acc = GmmAccs.zeros(model.am, model.trans.num_transition_ids)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 4))
    pdfs = rng.integers(0, model.num_pdfs, 40)
    like = acc.accumulate(model.am, x, pdfs, rng.integers(1, model.trans.num_transition_ids, 40))
    assert np.isclose(acc.occ.sum(), 40) and np.isclose(acc.trans.sum(), 40) and np.isfinite(like)
    np.testing.assert_allclose(acc.sum.sum(0), x.sum(0))
    write_object_file(str(tmp_path / "a.acc"), True, lambda w: write_gmm_accs_to(w, acc))
    back = read_object_file(str(tmp_path / "a.acc"), read_gmm_accs_from)
    np.testing.assert_array_equal(back.sumsq, acc.sumsq)
    assert back.tot_like == acc.tot_like
    stats = TreeStats(np.array([[0, 3, 4, 1], [3, 4, 0, 2]]), np.array([2.0, 5.0]), rng.standard_normal((2, 4)),
                      rng.uniform(1, 2, (2, 4)))
    write_tree_stats(str(tmp_path / "treeacc"), stats)
    st = read_tree_stats(str(tmp_path / "treeacc"))
    np.testing.assert_array_equal(st.events, stats.events)
    np.testing.assert_array_equal(st.sum, stats.sum)
    merged = st.merged([st])
    np.testing.assert_array_equal(merged.count, 2 * stats.count)
    with pytest.raises(KaldiFormatError):
        read_object_file(str(tmp_path / "treeacc"), read_gmm_accs_from)


def test_gmm_update_and_mixup():
    _, model = _toy_model()
    am = model.am
    rng = np.random.default_rng(3)
    acc = GmmAccs.zeros(am, model.trans.num_transition_ids)
    x = rng.standard_normal((3000, 4)) * 2 + 1
    pdfs = rng.integers(0, am.num_pdfs, 3000)
    acc.accumulate(am, x, pdfs)
    occs = acc.pdf_occs(am)
    stats = am.mle_update(acc)
    assert stats.objf_change > 0
    for p in range(am.num_pdfs):
        assert abs(am.weights[am.pdf_slice(p)].sum() - 1) < 1e-9
    before = np.diff(am.offsets)
    targets = split_targets(occs, 40, 0.2, 20)
    assert targets.sum() == 40 and np.all(targets <= np.maximum(1, occs // 20))
    n = am.mix_up(40, occs, power=0.2, min_count=20)
    assert am.num_pdfs == len(occs) and am.num_gauss == n
    np.testing.assert_array_equal(np.diff(am.offsets), np.maximum(before, targets))  # split up, never down
    for p in range(am.num_pdfs):
        assert abs(am.weights[am.pdf_slice(p)].sum() - 1) < 1e-9


def test_variance_floor_keeps_degenerate_data_from_collapsing_a_pdf():
    """80 identical frames (digital silence) and 8 others in one pdf: with Kaldi's absolute floor only, the
    Gaussian on the identical frames collapses and, once the other Gaussian is removed (too few frames) and
    the survivor split again, the 8 frames score thousands of nats lower; the relative floor bounds that."""
    from phonsid.hmm.gmm import GmmUpdateOptions

    rng = np.random.default_rng(0)
    c = rng.standard_normal(3)
    x = np.concatenate([np.tile(c, (80, 1)), rng.normal(0, 5, (8, 3))])
    other = rng.normal(0, 3, (400, 3))  # a second pdf: the bulk of the data sets the global variance
    feats = np.concatenate([x, other])
    pdfs = np.concatenate([np.zeros(88, int), np.ones(400, int)])
    worst = {}
    for factor in (0.0, 0.01):
        # pdf 0: one Gaussian on the identical frames, one on the others
        am = AmDiagGmm([np.array([0.9, 0.1]), np.ones(1)], [np.stack([c, x[80:].mean(0)]), np.zeros((1, 3))],
                       [np.stack([np.ones(3), np.full(3, 25.0)]), np.full((1, 3), 9.0)])
        acc = GmmAccs.zeros(am, 1)
        acc.accumulate(am, feats, pdfs)
        stats = am.mle_update(acc, GmmUpdateOptions(variance_floor_factor=factor))
        assert stats.num_removed == 1  # the Gaussian of the 8 frames (occupancy < 10)
        am.mix_up(3, acc.pdf_occs(am), power=0.2, min_count=20)
        floor = 0.001 if factor == 0 else 0.01 * feats.var(0).min()
        assert am.variances.min() >= floor * 0.999
        worst[factor] = GmmAccs.zeros(am, 1).accumulate(am, x[80:], np.zeros(8, int)) / 8
    assert worst[0.0] < -5000 and worst[0.01] > -1000, worst
