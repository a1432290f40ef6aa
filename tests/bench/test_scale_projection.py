"""bench/scale.py's arithmetic: exponent and cost-model fits, the projection of the paper's workload (linear
scaling, fixed costs per job, RAM-bound parallelism, CPU-derived GPU hours), the x-vector egs allocation, and the
md rendering of synthetic measurements. No timing: the numbers are made up."""

from __future__ import annotations

import dataclasses
import math

import pytest


def test_fit_exponent_recovers_power_laws(scale) -> None:
    sizes = [1, 2, 4]
    assert scale.fit_exponent(sizes, [3.0 * s ** 1.3 for s in sizes]) == pytest.approx(1.3)
    assert scale.fit_exponent(sizes, [7.0 * s for s in sizes]) == pytest.approx(1.0)
    assert scale.fit_exponent(sizes, [5.0, 5.0, 5.0]) == pytest.approx(0.0)
    assert scale.fit_exponent([1, 2], [1.0, 4.0]) == pytest.approx(2.0)


def test_fit_exponent_needs_two_usable_points(scale) -> None:
    assert math.isnan(scale.fit_exponent([1], [2.0]))
    assert math.isnan(scale.fit_exponent([1, 2, 4], [2.0, float("nan"), 0.0]))
    assert math.isnan(scale.fit_exponent([2, 2], [1.0, 3.0]))


def test_fit_linear_separates_fixed_and_marginal_cost(scale) -> None:
    a, b = scale.fit_linear([100, 200, 400], [5 + 0.02 * x for x in (100, 200, 400)])
    assert (a, b) == (pytest.approx(5.0), pytest.approx(0.02))
    # a negative intercept is refitted through the origin; a falling cost is all fixed
    a, b = scale.fit_linear([1, 2, 4], [0.5, 2.0, 4.5])
    assert a == 0.0 and b == pytest.approx((0.5 + 4 + 18) / 21)
    assert scale.fit_linear([1, 2, 4], [3.0, 2.9, 2.8]) == (pytest.approx(2.9), 0.0)
    assert scale.fit_linear([10], [4.0]) == (0.0, pytest.approx(0.4))


def _w(scale, **kw):
    return dataclasses.replace(scale.PaperWorkload(), **kw)


def test_projection_is_linear_in_the_amount(scale) -> None:
    w = _w(scale, cores=32, node_ram_gb=256.0)
    cost = {"mfcc_vad": scale.Cost(fixed_s=0.0, per_unit_s=0.01, rss_mb=100.0)}
    one = scale.project([scale.Item(1, "x", "mfcc_vad", 3600.0 * 1000)], cost, {}, w, 100.0)[0]
    two = scale.project([scale.Item(1, "x", "mfcc_vad", 3600.0 * 2000)], cost, {}, w, 100.0)[0]
    assert one.core_hours == pytest.approx(1000 * 0.01)           # 1000 h of audio at 100x real time
    assert two.core_hours == pytest.approx(2 * one.core_hours)
    assert one.wall_hours == pytest.approx(one.core_hours / 32)
    assert one.parallel == 32


def test_projection_charges_the_fixed_cost_per_job_and_pass(scale) -> None:
    w = _w(scale, cores=32, node_ram_gb=256.0)
    cost = {"tri_acc": scale.Cost(fixed_s=10.0, per_unit_s=0.001, rss_mb=100.0)}
    p = scale.project([scale.Item(3, "x", "tri_acc", 1e6, passes=3)], cost, {}, w, 100.0)[0]
    assert p.core_hours == pytest.approx((3 * 32 * 10.0 + 3e6 * 0.001) / 3600)


def test_projection_runs_fewer_jobs_when_ram_runs_out(scale) -> None:
    w = _w(scale, cores=32, node_ram_gb=64.0)
    assert scale.parallel_jobs(w, 10 * 1024.0) == 6
    assert scale.parallel_jobs(w, 1.0) == 32
    assert scale.parallel_jobs(w, 100 * 1024.0) == 1
    cost = {"ivec_acc": scale.Cost(fixed_s=0.0, per_unit_s=1.0, rss_mb=10 * 1024.0)}
    p = scale.project([scale.Item(6, "x", "ivec_acc", 3600.0)], cost, {}, w, 100.0)[0]
    assert p.parallel == 6 and p.wall_hours == pytest.approx(1.0 / 6)


def test_gpu_rows_are_cpu_derived_unless_measured(scale) -> None:
    w = _w(scale, gpus=8)
    item = scale.Item(7, "x", "xvec_train", 1e9, passes=3, device="gpu", factor=2.0)
    cpu = {"xvec_train": scale.Cost(fixed_s=0.0, per_unit_s=1e-4)}
    p = scale.project([item], cpu, {}, w, 50.0)[0]
    assert p.gpu_source == "CPU-derived"
    assert p.core_hours == pytest.approx(1e9 * 3 * 2 * 1e-4 / 3600)
    assert p.gpu_hours == pytest.approx(p.core_hours / 50)
    assert p.wall_hours == pytest.approx(p.gpu_hours / 8)
    gpu = {"xvec_train": scale.Cost(fixed_s=20.0, per_unit_s=1e-6)}
    q = scale.project([item], cpu, gpu, w, 50.0)[0]
    assert q.gpu_source == "measured"
    assert q.gpu_hours == pytest.approx((8 * 20.0 + 1e9 * 3 * 2 * 1e-6) / 3600)


def test_serial_items_and_missing_components(scale) -> None:
    w = _w(scale, threads_serial=4)
    cost = {"ivec_est": scale.Cost(fixed_s=300.0, per_unit_s=0.0)}
    p, m = scale.project([scale.Item(6, "x", "ivec_est", 1.0, passes=12, device="serial"),
                          scale.Item(6, "y", "nothing", 1.0)], cost, {}, w, 100.0)
    assert p.core_hours == pytest.approx(12 * 300.0 / 3600) and p.wall_hours == pytest.approx(p.core_hours / 4)
    assert m.missing and math.isnan(m.core_hours)
    one = scale.project([scale.Item(0, "x", "ivec_est", 1.0, passes=2, device="single")], cost, {}, w, 100.0)[0]
    assert one.wall_hours == pytest.approx(one.core_hours) == pytest.approx(600.0 / 3600)
    tot = scale.stage_totals([p, m])
    assert tot[6]["missing"] == 1 and tot[-1]["core_hours"] == pytest.approx(p.core_hours)


def test_whole_workload_scales_with_the_sessions(scale) -> None:
    """Every speaker-side item grows with the sessions; ASR-side items do not."""
    cost = {c.name: scale.Cost(0.0, 1e-3) for c in scale.COMPONENTS}
    base = scale.project(scale.workload_items(scale.PaperWorkload()), cost, {}, scale.PaperWorkload(), 100.0)
    w2 = _w(scale, train_sessions=2 * 54_450, enroll_sides=12_000, test_sides=50_000, trials=12_000_000)
    double = scale.project(scale.workload_items(w2), cost, {}, w2, 100.0)
    assert [p.item.component for p in double] == [p.item.component for p in base]
    for p, d in zip(base, double):
        if p.item.component in ("prep", "augment", "ubm_post", "ivec_acc", "ivec_extract", "plda_score"):
            assert d.core_hours == pytest.approx(2 * p.core_hours), p.item.what
        if p.item.component in ("tri_acc", "tri_align", "dnn1_train", "sbnf_train"):
            assert d.core_hours == pytest.approx(p.core_hours), p.item.what


def test_workload_components_are_measured_components(scale) -> None:
    names = {c.name for c in scale.COMPONENTS}
    items = scale.workload_items(scale.PaperWorkload())
    assert {it.component for it in items} <= names
    assert {it.stage for it in items} == set(range(9))


def test_xvector_egs_allocation(scale) -> None:
    # 2.45e9 frames x 50 repeats // 1e9 + 1 = 123 archives of 50 x 3769 chunks of 300 frames
    assert scale.xvector_egs_frames(2.45e9, 3769, 50, 1e9, 300.0) == pytest.approx(123 * 50 * 3769 * 300.0)
    # a small corpus: one archive of repeats x speakers chunks; many speakers: capped by frames_per_iter / chunk + 1
    assert scale.xvector_egs_frames(1e5, 10, 5, 1e6, 200.0) == pytest.approx(1 * 50 * 200.0)
    assert scale.xvector_egs_frames(1e6, 10_000, 50, 1e5, 200.0) == pytest.approx(501 * 501 * 200.0)
    assert scale.xvector_frame_macs(20) == 5 * 20 * 512 + 3 * 512 * 512 * 2 + 512 * 512 + 512 * 1500
    assert scale.xvector_frame_macs(80) > scale.xvector_frame_macs(20)


def _records(scale):
    recs = []
    for k in (1, 2, 4):
        recs.append({"stage": 1, "component": "mfcc_vad", "tag": "after", "scale": k, "cpu_s": 2.0 + 10.0 * k,
                     "wall_s": 15.0 * k, "peak_rss_mb": 100.0, "disk_bytes": 1e6 * k, "device": "cpu",
                     "amount": {"audio_s": 3600.0 * k, "utts": 12 * k}})
        recs.append({"stage": 6, "component": "ivec_acc", "tag": "after", "scale": k, "cpu_s": 10.0 * k ** 1.5,
                     "wall_s": 10.0 * k, "peak_rss_mb": 50.0 * k, "disk_bytes": 1e6, "device": "cpu",
                     "amount": {"speech_s": 1800.0 * k, "audio_s": 3600.0 * k}})
    recs.append({"stage": 6, "component": "ivec_est", "tag": "after", "scale": 1, "cpu_s": 240.0, "wall_s": 250.0,
                 "peak_rss_mb": 4000.0, "disk_bytes": 1e6, "device": "cpu", "amount": {"calls": 1.0}})
    recs.append({"stage": 1, "component": "mfcc_vad", "tag": "before", "scale": 4, "cpu_s": 80.0, "wall_s": 80.0,
                 "peak_rss_mb": 100.0, "disk_bytes": 1e6, "device": "cpu", "amount": {"audio_s": 14400.0}})
    return recs


def test_summary_of_synthetic_measurements(scale) -> None:
    s = scale.summarise(_records(scale), "after")
    mf = s["components"][(1, "mfcc_vad")]
    assert mf["cost"].fixed_s == pytest.approx(2.0) and mf["cost"].per_unit_s == pytest.approx(10.0 / 3600)
    assert mf["rate"] == pytest.approx(14400.0 / 42.0)
    assert mf["m_exp"] == pytest.approx(0.0)
    iv = s["components"][(6, "ivec_acc")]
    assert iv["t_exp"] == pytest.approx(1.5) and iv["m_exp"] == pytest.approx(1.0)
    assert scale.flags_of(iv) == ["time grows x^1.50", "memory grows x^1.00"]
    # the once-measured M-step counts at every scale of its stage
    assert s["stages"][6]["cpu_s"] == pytest.approx([250.0, 240.0 + 10.0 * 2 ** 1.5, 320.0])


def test_merge_replaces_the_same_measurement(scale) -> None:
    recs = _records(scale)
    data = scale.merge_records({"records": recs}, [dict(recs[0], cpu_s=99.0)])
    assert len(data["records"]) == len(recs)
    assert [r["cpu_s"] for r in data["records"] if r["component"] == "mfcc_vad" and r["scale"] == 1
            and r["tag"] == "after"] == [99.0]


def test_render_md_has_a_row_per_stage_a_before_column_and_a_total(scale) -> None:
    md = scale.render_md({"records": _records(scale), "meta": {"threads": 1}}, scale.PaperWorkload(), 100.0)
    assert "| before |" in md and "| **total** |" in md
    for stage in range(9):
        assert f"| **{stage}** |" in md
    assert "CPU-derived" in md and "time grows x^1.50" in md
    assert "not measured" in md   # stages without records


def test_recipe_at_the_start_of_the_issue_did_more_dnn1_work(scale) -> None:
    """The 'issue-start' recipe re-extracted the clean sides and all ASR data, and stored the log-posteriors of
    every frame in stage 4; today's computes the posteriors of the voiced frames in stage 6's jobs."""
    w = scale.PaperWorkload()
    now, then = scale.workload_items(w), scale.workload_items(w, "issue-start")
    assert {c.name for c in scale.COMPONENTS} >= {it.component for it in now + then}

    def amount(items, component):
        return sum(it.amount * it.passes for it in items if it.component == component)

    hour = 3600.0
    assert amount(then, "bnf_extract") - amount(now, "bnf_extract") == pytest.approx(
        (w.asr_hours - w.asr2_hours) * hour + w.train_audio_s)
    assert amount(then, "dnn_post") == pytest.approx(w.train_audio_s + w.eval_sides * w.side_audio_s)
    assert amount(now, "dnn_post") == 0 and amount(then, "dnn_post_pipe") == 0
    assert amount(now, "dnn_post_pipe") == pytest.approx(3 * w.train_audio_s + w.eval_sides * w.side_audio_s)
    with pytest.raises(ValueError, match="unknown recipe"):
        scale.workload_items(w, "kaldi")


def test_kept_disk_is_bytes_per_hour_times_the_hours(scale) -> None:
    item = scale.Item(4, "x", "dnn_post", 7200.0)          # 2 h of audio
    comp = {"basis": "audio_s", "bytes_per_hour": 6e9, "fixed_disk": False}
    assert scale.item_disk_bytes(item, comp) == pytest.approx(12e9)
    speech = scale.Item(7, "x", "egs_feats", 3600.0, passes=2)   # 1 h of speech = SIDE_SECONDS / SIDE_SPEECH h audio
    comp_s = {"basis": "speech_s", "bytes_per_hour": 1e9, "fixed_disk": False}
    assert scale.item_disk_bytes(speech, comp_s) == pytest.approx(2e9 * scale.SIDE_SECONDS / scale.SIDE_SPEECH)
    assert math.isnan(scale.item_disk_bytes(scale.Item(3, "x", "tri_align", 7200.0), comp))   # nothing kept
    assert math.isnan(scale.item_disk_bytes(item, {**comp, "fixed_disk": True}))
    assert math.isnan(scale.item_disk_bytes(item, None))


def test_before_after_lists_the_changed_stages_and_the_total(scale) -> None:
    cost = {c.name: scale.Cost(1.0, 1e-3) for c in scale.COMPONENTS}
    lines = scale.before_after_md(scale.PaperWorkload(), cost, {}, 100.0)
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| stage")]
    assert [r.split(" | ")[0] for r in rows] == ["| 4 (DNN-1 + BNF)", "| 6 (i-vector 2,048/600)", "| total"]
    before, after = (float(rows[0].split(" | ")[i].replace(",", "")) for i in (3, 4))
    assert before > after   # stage 4 lost work at the same rates
