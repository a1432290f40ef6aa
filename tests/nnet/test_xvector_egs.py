"""x-vector egs: Kaldi's held-out split and allocation, the memory-mapped archives, the prefetching reader."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from phonsid.nnet.xvector_egs import (
    EgsArchive,
    EgsDir,
    EgsError,
    RangeLine,
    allocate_egs,
    archives_per_job,
    build_egs_dir,
    deterministic_chunk_length,
    num_train_archives,
    read_ranges,
    split_heldout,
    write_allocation,
    write_egs_archives,
)

REPO = Path(__file__).resolve().parents[2]


def _lens(num_spk=12, per_spk=10, lo=450, hi=1200, seed=0):
    rng = np.random.default_rng(seed)
    utt2len, utt2spk = {}, {}
    for s in range(num_spk):
        for u in range(per_spk):
            utt = f"s{s:02d}-u{u:02d}"
            utt2len[utt] = int(rng.integers(lo, hi))
            utt2spk[utt] = f"s{s:02d}"
    return utt2len, utt2spk


def test_heldout_split_is_disjoint_and_labels_follow_spk2utt_order():
    utt2len, utt2spk = _lens()
    lists = split_heldout(utt2len, utt2spk, num_heldout_utts=15, seed=3)
    assert len(lists.valid) == 15 and len(lists.train_subset) == 15
    assert not set(lists.valid) & set(lists.train)
    assert set(lists.train) | set(lists.valid) == set(utt2spk)
    assert set(lists.train_subset) <= set(lists.train)
    assert lists.spk2int == {f"s{s:02d}": s for s in range(12)}
    assert all(lists.utt2int[u] == int(utt2spk[u][1:]) for u in utt2spk)
    assert split_heldout(utt2len, utt2spk, 15, 3).valid == lists.valid  # deterministic
    assert split_heldout(utt2len, utt2spk, 15, 4).valid != lists.valid
    with pytest.raises(EgsError, match="leaves no training utterance"):
        split_heldout(utt2len, utt2spk, len(utt2spk))


def test_allocation_properties():
    utt2len, utt2spk = _lens()
    lists = split_heldout(utt2len, utt2spk, 10)
    utt2int = [(u, lists.utt2int[u]) for u in lists.train]
    kw = dict(num_repeats=7, min_frames_per_chunk=200, max_frames_per_chunk=400, frames_per_iter=1_000_000_000)
    alloc = allocate_egs(lists.utt2len, utt2int, num_archives=6, **kw)
    assert len(alloc.archives) == 6
    spks = {lists.utt2int[u] for u in lists.train}
    for a in alloc.archives:
        assert 200 <= a.chunk_length <= 400
        # the speaker list runs out first: every speaker exactly num_repeats times
        counts = Counter(lists.utt2int[u] for u, _ in a.egs)
        assert counts == Counter({s: 7 for s in spks})
        for utt, start in a.egs:
            assert utt in lists.train
            assert 0 <= start and start + a.chunk_length <= lists.utt2len[utt]  # never past the utterance end
    assert len({a.chunk_length for a in alloc.archives}) > 1
    # same seed, same allocation; the frames_per_iter cap limits an archive's size
    again = allocate_egs(lists.utt2len, utt2int, num_archives=6, **kw)
    assert [a.egs for a in again.archives] == [a.egs for a in alloc.archives]
    capped = allocate_egs(lists.utt2len, utt2int, num_archives=2, num_repeats=7, min_frames_per_chunk=200,
                          max_frames_per_chunk=200, frames_per_iter=2000, seed=5)
    assert [len(a.egs) for a in capped.archives] == [11, 11]  # int(2000 / 200 + 1)


def test_diagnostic_chunk_ladder_and_short_speakers():
    assert [deterministic_chunk_length(i, 3, 200, 400) for i in range(3)] == [200, 283, 400]
    assert deterministic_chunk_length(0, 1, 200, 400) == 400
    utt2len = {"a1": 300, "a2": 250, "b1": 100}
    alloc = allocate_egs(utt2len, [("a1", 0), ("a2", 0), ("b1", 1)], num_archives=3, num_repeats=1,
                         min_frames_per_chunk=150, max_frames_per_chunk=280, frames_per_iter=100000,
                         randomize_chunk_length=False)
    assert [a.chunk_length for a in alloc.archives] == [150, 205, 280]
    # speaker 1 has no utterance of 150+ frames: skipped (Kaldi would loop forever); a2 is too short for 280
    assert alloc.num_skipped_speakers == 3
    assert [[u for u, _ in a.egs] for a in alloc.archives][2] == ["a1"]


def test_archive_count_and_job_split_as_kaldi():
    assert num_train_archives(4_000_000_000, 35, 1_000_000_000) == 141
    assert num_train_archives(10_000, 1, 100_000) == 1
    assert archives_per_job(7, 3) == [[0, 1, 2], [3, 4], [5, 6]]
    with pytest.raises(EgsError, match="--num-jobs"):
        archives_per_job(2, 3)


def test_ranges_files_and_memmap_round_trip(tmp_path, make_speakers):
    sp = make_speakers(num_spk=5, utts_per_spk=4, dim=6, min_len=120, max_len=200, seed=2)
    lists = split_heldout(sp.utt2num_frames, sp.utt2spk, 2)
    alloc = allocate_egs(lists.utt2len, [(u, lists.utt2int[u]) for u in lists.train], num_archives=3,
                         num_repeats=4, min_frames_per_chunk=50, max_frames_per_chunk=90, frames_per_iter=100000)
    write_allocation(tmp_path, alloc, lists.utt2int, num_jobs=2, num_pdfs=5)
    assert (tmp_path / "temp" / "outputs.1").read_text().split() == [str(tmp_path / "egs.1"), str(tmp_path / "egs.2")]
    lines = read_ranges(tmp_path / "temp" / "ranges.1") + read_ranges(tmp_path / "temp" / "ranges.2")
    assert sum(len(a.egs) for a in alloc.archives) == len(lines)
    pdf2num = [int(x) for x in (tmp_path / "pdf2num").read_text().split()]
    assert sum(pdf2num) == len(lines) and len(pdf2num) == 5
    for job in (1, 2):
        ranges = read_ranges(tmp_path / "temp" / f"ranges.{job}")
        assert [r.utt for r in ranges] == sorted(r.utt for r in ranges)  # grouped by utterance, as Kaldi
        outputs = (tmp_path / "temp" / f"outputs.{job}").read_text().split()
        write_egs_archives(ranges, outputs, sp.feats.__getitem__, compress=(job == 1), num_pdfs=5)
    assert not list(tmp_path.glob("*.tmp"))
    for k, a in enumerate(alloc.archives, 1):
        arch = EgsArchive(tmp_path / f"egs.{k}")
        assert arch.num_egs == len(a.egs) and arch.chunk_length == a.chunk_length and arch.feat_dim == 6
        assert arch.feats.dtype == (np.float16 if k <= 2 else np.float32)
        keys = (tmp_path / f"egs.{k}.ranges").read_text().splitlines()
        stored = [(line.split()[0], int(line.split()[1])) for line in keys]
        assert sorted(stored) == sorted(a.egs)
        assert stored != a.egs, "examples are stored shuffled"
        feats, labels = arch.read(np.arange(arch.num_egs))
        for i, (utt, start) in enumerate(stored):
            expect = sp.feats[utt][start:start + a.chunk_length]
            tol = 2e-3 * max(1.0, float(np.abs(expect).max())) if k <= 2 else 0
            np.testing.assert_allclose(feats[i], expect, atol=tol, rtol=0)
            assert labels[i] == lists.utt2int[utt]


def test_archive_writer_errors_name_the_utterance(tmp_path):
    feats = {"u1": np.zeros((50, 3), np.float32), "u2": np.full((80, 3), 7e4, np.float32)}
    past_end = [RangeLine("u1", 0, 1, 10, 45, 0)]
    with pytest.raises(EgsError, match=r"utterance u1: chunk \[10, 55\) is outside its 50 frames"):
        write_egs_archives(past_end, [str(tmp_path / "egs.1")], feats.__getitem__)
    assert not list(tmp_path.iterdir()), "nothing half-written is left"
    with pytest.raises(EgsError, match="utterance u2: a feature value exceeds the float16 range"):
        write_egs_archives([RangeLine("u2", 0, 1, 0, 40, 0)], [str(tmp_path / "egs.1")], feats.__getitem__)
    write_egs_archives([RangeLine("u2", 0, 1, 0, 40, 0)], [str(tmp_path / "egs.1")], feats.__getitem__,
                       compress=False)
    assert EgsArchive(tmp_path / "egs.1").feats.max() == pytest.approx(7e4)
    with pytest.raises(EgsError, match="label 4 outside"):
        write_egs_archives([RangeLine("u1", 0, 1, 0, 40, 4)], [str(tmp_path / "egs.2")], feats.__getitem__,
                           num_pdfs=3)


def test_get_egs_script_matches_in_process_build(tmp_path, env, make_speakers, write_data_dir):
    sp = make_speakers(num_spk=6, utts_per_spk=5, dim=5, min_len=150, max_len=260, seed=4)
    data = write_data_dir(tmp_path / "data", sp)
    opts = dict(num_heldout_utts=4, num_repeats=5, frames_per_iter=20000, frames_per_iter_diagnostic=4000,
                num_diagnostic_archives=2, min_frames_per_chunk=60, max_frames_per_chunk=100)
    ref = build_egs_dir(tmp_path / "ref", sp.feats.__getitem__, sp.utt2num_frames, sp.utt2spk, **opts)
    cmd = ["sid/nnet/get_egs.sh", "--nj", "2"] + [f"--{k.replace('_', '-')}={v}" for k, v in opts.items()] + \
        [str(data), str(tmp_path / "egs")]
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "finished: 2 training archives, 2 validation and 2 train-subset archives for 6 speakers" in res.stdout
    got = EgsDir.open(tmp_path / "egs")
    assert (got.feat_dim, got.num_pdfs) == (5, 6) == (ref.feat_dim, ref.num_pdfs)
    for a, b in zip(got.train + got.valid + got.train_subset, ref.train + ref.valid + ref.train_subset):
        assert Path(a.prefix).name == Path(b.prefix).name
        np.testing.assert_array_equal(np.asarray(a.feats), np.asarray(b.feats))
        np.testing.assert_array_equal(a.labels, b.labels)
    assert len(got.train) == 2 and len(got.valid) == 2
    valid_utts = set((tmp_path / "egs" / "temp" / "valid_uttlist").read_text().split())
    for a in got.train:
        used = {line.split()[0] for line in Path(f"{a.prefix}.ranges").read_text().splitlines()}
        assert not used & valid_utts
