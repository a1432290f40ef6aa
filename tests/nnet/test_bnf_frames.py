"""Frame sets for the bottleneck DNNs: splicing at utterance edges, memory-mapped round trip, device gathering,
the shuffled minibatch schedule and its split over processes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from phonsid.features.splice import check_offsets, splice_utterance
from phonsid.nnet.frames import (
    FrameSet,
    FrameSetError,
    FrameSetWriter,
    epoch_permutation,
    rank_batch,
    steps_per_epoch,
)


def _write(tmp_path, lengths, dim=3, dtype="float32"):
    """Frame values encode (utterance, frame, dim) so gathered rows can be checked exactly."""
    w = FrameSetWriter(tmp_path, "train", sum(lengths), dim, dtype)
    feats = {}
    for u, n in enumerate(lengths):
        x = (u * 1000 + np.arange(n)[:, None] + 0.1 * np.arange(dim)[None, :]).astype(np.float32)
        feats[f"utt{u}"] = x
        w.append(f"utt{u}", x, np.arange(n, dtype=np.int32) % 7, u % 2)
    w.close()
    return feats


def test_splice_utterance_replicates_edges():
    x = np.arange(5, dtype=np.float32)[:, None] * np.array([[1.0, 10.0]], dtype=np.float32)
    y = splice_utterance(x, [-2, 0, 3])
    assert y.shape == (5, 6)
    # frame 0: context frames clip(-2)=0, 0, 3; frame 4: 2, 4, clip(7)=4
    np.testing.assert_array_equal(y[0], np.concatenate([x[0], x[0], x[3]]))
    np.testing.assert_array_equal(y[4], np.concatenate([x[2], x[4], x[4]]))
    yt = splice_utterance(torch.from_numpy(x), [-2, 0, 3])
    np.testing.assert_array_equal(yt.numpy(), y)


def test_check_offsets_rejects_bad_lists():
    with pytest.raises(ValueError, match="increasing"):
        check_offsets([0, -1])
    with pytest.raises(ValueError, match="non-empty"):
        check_offsets([])


def test_frame_set_round_trip_and_splicing_stays_inside_utterances(tmp_path):
    feats = _write(tmp_path, [4, 6, 3])
    fs = FrameSet.open(tmp_path, "train")
    assert fs.num_frames == 13 and fs.feat_dim == 3 and fs.utts == ["utt0", "utt1", "utt2"]
    off = np.array([-2, 0, 2])
    frames = np.array([3, 4, 9, 10, 12])  # last of utt0, first of utt1, last of utt1, first/last of utt2
    x, y, spk = fs.batch(frames, off)
    assert x.shape == (5, 9) and x.dtype == np.float32
    expect = {3: ("utt0", 3), 4: ("utt1", 0), 9: ("utt1", 5), 10: ("utt2", 0), 12: ("utt2", 2)}
    for row, f in enumerate(frames):
        utt, t = expect[int(f)]
        ref = splice_utterance(feats[utt], off)[t]
        np.testing.assert_array_equal(x[row], ref)
    np.testing.assert_array_equal(y, [3 % 7, 0, 5 % 7, 0, 2])
    np.testing.assert_array_equal(spk, [0, 1, 1, 0, 0])
    # the device copy (here the CPU) gathers the same rows
    dev = fs.to_device(torch.device("cpu"))
    xd, yd, sd = dev.batch(torch.from_numpy(frames), torch.from_numpy(off))
    np.testing.assert_array_equal(xd.numpy(), x)
    np.testing.assert_array_equal(yd.numpy(), y)
    np.testing.assert_array_equal(sd.numpy(), spk)


def test_float16_storage(tmp_path):
    feats = _write(tmp_path, [5], dim=2, dtype="float16")
    fs = FrameSet.open(tmp_path, "train")
    assert fs.feats.dtype == np.float16
    x, _, _ = fs.batch(np.array([2]), np.array([0]))
    np.testing.assert_allclose(x[0], feats["utt0"][2], rtol=1e-3)


def test_writer_checks_counts_and_leaves_nothing_on_abort(tmp_path):
    w = FrameSetWriter(tmp_path, "valid", 5, 2)
    w.append("a", np.zeros((3, 2), np.float32), np.zeros(3, np.int32), 0)
    with pytest.raises(FrameSetError, match="wrote 3 frames, expected 5"):
        w.close()
    w.abort()
    assert not list(tmp_path.iterdir())
    w = FrameSetWriter(tmp_path, "valid", 2, 2)
    with pytest.raises(FrameSetError, match="utterance 'b'.*3 targets for 2 frames"):
        w.append("b", np.zeros((2, 2), np.float32), np.zeros(3, np.int32), 0)
    w.abort()
    with pytest.raises(FrameSetError, match="valid.feats.npy is missing"):
        FrameSet.open(tmp_path, "valid")


def test_epoch_schedule_partitions_frames_over_processes():
    n, batch, world = 103, 8, 2
    perm = epoch_permutation(5, 3, n)
    assert sorted(perm.tolist()) == list(range(n))
    assert not np.array_equal(perm, epoch_permutation(5, 4, n))  # a new order every epoch
    np.testing.assert_array_equal(perm, epoch_permutation(5, 3, n))  # reproducible
    spe = steps_per_epoch(n, batch, world)
    assert spe == 6
    seen = np.concatenate([rank_batch(perm, s, r, world, batch) for s in range(spe) for r in range(world)])
    assert len(seen) == spe * batch * world and len(set(seen.tolist())) == len(seen)
    # one process sees the same frames as the two together, in the same global order
    single = np.concatenate([rank_batch(perm, s, 0, 1, batch * world) for s in range(spe)])
    np.testing.assert_array_equal(single, seen)
