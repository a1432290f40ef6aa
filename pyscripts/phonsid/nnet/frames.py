"""Frame-level training data for the bottleneck DNNs: memory-mapped arrays, splicing, shuffled minibatches.

A *frame set* is a directory of ``.npy`` files (read with ``mmap_mode="r"``, so a corpus larger than RAM is paged
in by the OS as minibatches touch it)::

    <name>.feats.npy      (N, D) float32 or float16   normalised input features, utterances back to back
    <name>.targets.npy    (N,)   int32                senone (pdf) id per frame
    <name>.spk.npy        (N,)   int32                speaker index per frame (-1: speaker not in the training set)
    <name>.offsets.npy    (U+1,) int64                first frame of each utterance (and N at the end)
    <name>.utts           text                        the U utterance ids, in array order

Splicing: the network input of frame ``t`` is the concatenation of frames ``t + o`` for the configured offsets
``o`` (e.g. ``-5..5`` for DNN-1, ``-10,-5,0,5,10`` for the stacked DNN-2), with frames beyond the utterance's ends
replaced by its first/last frame (Kaldi's behaviour at utterance edges; one utterance alone:
:func:`phonsid.features.splice.splice_utterance`). Context never crosses into a neighbouring utterance, although
utterances are stored contiguously.

Minibatches: every epoch draws a permutation of all training frames (seed ``(seed, epoch)``) — frames shuffled
across utterances — and cuts it into global minibatches of ``minibatch_size · world_size`` frames; process ``r``
takes the ``r``-th slice. The leftover frames of a permutation that do not fill a minibatch are skipped that epoch
(a different set each epoch). A run resumed at step ``s`` of an epoch sees exactly the minibatches an uninterrupted
run would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


FEATS, TARGETS, SPK, OFFSETS, UTTS = "feats.npy", "targets.npy", "spk.npy", "offsets.npy", "utts"


class FrameSetError(ValueError):
    """A frame-set directory that is missing files or is inconsistent (message names the file)."""


# ---------------------------------------------------------------------------------------------------------------
# splicing


def splice_indices(frames: np.ndarray, starts: np.ndarray, ends: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Row indices ``(B, K)`` of the spliced context of global frames ``frames`` whose utterances span
    ``[starts, ends)``: ``clip(frame + offset, start, end - 1)``."""
    idx = frames[:, None] + offsets[None, :]
    return np.clip(idx, starts[:, None], ends[:, None] - 1)


# ---------------------------------------------------------------------------------------------------------------
# frame sets on disk


def _path(directory: Path, name: str, what: str) -> Path:
    return directory / f"{name}.{what}"


class FrameSetWriter:
    """Writes a frame set of a known total number of frames utterance by utterance (``append``); ``close`` checks
    that exactly ``num_frames`` were written. Files are written in place under temporary names and renamed at
    ``close``, so an interrupted run leaves no frame set that looks complete."""

    def __init__(self, directory: str | Path, name: str, num_frames: int, feat_dim: int,
                 dtype: str | np.dtype = "float32") -> None:
        self.directory = Path(directory)
        self.name = name
        self.num_frames = int(num_frames)
        self.feat_dim = int(feat_dim)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype("float32"), np.dtype("float16")):
            raise ValueError(f"frame storage dtype must be float32 or float16, got {self.dtype}")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._tmp = {w: self.directory / f".{name}.{w}.tmp" for w in (FEATS, TARGETS, SPK, OFFSETS, UTTS)}
        shape_n = max(self.num_frames, 1)  # a zero-length memmap cannot be created
        self._feats = np.lib.format.open_memmap(self._tmp[FEATS], mode="w+", dtype=self.dtype,
                                                shape=(shape_n, self.feat_dim))
        self._targets = np.lib.format.open_memmap(self._tmp[TARGETS], mode="w+", dtype=np.int32, shape=(shape_n,))
        self._spk = np.lib.format.open_memmap(self._tmp[SPK], mode="w+", dtype=np.int32, shape=(shape_n,))
        self._offsets = [0]
        self._utts: list[str] = []
        self._pos = 0

    def append(self, utt: str, feats: np.ndarray, targets: np.ndarray, spk: int) -> None:
        n = feats.shape[0]
        if feats.ndim != 2 or feats.shape[1] != self.feat_dim:
            raise FrameSetError(f"utterance '{utt}': features of shape {feats.shape}, expected (T, {self.feat_dim})")
        if len(targets) != n:
            raise FrameSetError(f"utterance '{utt}': {len(targets)} targets for {n} frames")
        if self._pos + n > self.num_frames:
            raise FrameSetError(f"frame set {self.name}: more frames than the {self.num_frames} announced "
                                f"(at utterance '{utt}')")
        self._feats[self._pos:self._pos + n] = feats
        self._targets[self._pos:self._pos + n] = targets
        self._spk[self._pos:self._pos + n] = spk
        self._pos += n
        self._offsets.append(self._pos)
        self._utts.append(utt)

    def close(self) -> None:
        if self._pos != self.num_frames:
            raise FrameSetError(f"frame set {self.name}: wrote {self._pos} frames, expected {self.num_frames}")
        for arr in (self._feats, self._targets, self._spk):
            arr.flush()
        del self._feats, self._targets, self._spk
        with open(self._tmp[OFFSETS], "wb") as f:
            np.save(f, np.asarray(self._offsets, dtype=np.int64))
        self._tmp[UTTS].write_text("".join(u + "\n" for u in self._utts))
        for what, tmp in self._tmp.items():
            tmp.replace(_path(self.directory, self.name, what))

    def abort(self) -> None:
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)


@dataclass
class FrameSet:
    """One frame set (see the module doc), memory-mapped."""

    feats: np.ndarray
    targets: np.ndarray
    spk: np.ndarray
    offsets: np.ndarray
    utts: list[str]

    @classmethod
    def open(cls, directory: str | Path, name: str) -> "FrameSet":
        directory = Path(directory)
        arrays = {}
        for what in (FEATS, TARGETS, SPK, OFFSETS):
            p = _path(directory, name, what)
            if not p.is_file():
                raise FrameSetError(f"{p} is missing (run nnet_bnf_prepare.py first)")
            try:
                arrays[what] = np.load(p, mmap_mode="r")
            except (OSError, ValueError) as e:
                raise FrameSetError(f"{p}: cannot read it ({e})") from None
        up = _path(directory, name, UTTS)
        if not up.is_file():
            raise FrameSetError(f"{up} is missing")
        utts = up.read_text().split()
        offsets = np.array(arrays[OFFSETS], dtype=np.int64)  # small: in memory
        n = int(offsets[-1]) if offsets.size else 0
        if offsets.size != len(utts) + 1 or offsets[0] != 0 or np.any(np.diff(offsets) <= 0):
            raise FrameSetError(f"{_path(directory, name, OFFSETS)}: not {len(utts) + 1} increasing offsets from 0")
        for what in (FEATS, TARGETS, SPK):
            # a zero-frame set is stored with one dummy row
            if arrays[what].shape[0] != max(n, 1) or (what != FEATS and arrays[what].ndim != 1):
                raise FrameSetError(f"{_path(directory, name, what)}: shape {arrays[what].shape} does not match "
                                    f"the {n} frames of {_path(directory, name, OFFSETS)}")
        return cls(arrays[FEATS], arrays[TARGETS], arrays[SPK], offsets, utts)

    @property
    def num_frames(self) -> int:
        return int(self.offsets[-1])

    @property
    def feat_dim(self) -> int:
        return int(self.feats.shape[1])

    def utterance_bounds(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` of the utterance holding each of the global ``frames``."""
        u = np.searchsorted(self.offsets, frames, side="right") - 1
        return self.offsets[u], self.offsets[u + 1]

    def batch(self, frames: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Spliced inputs ``(B, K·D)`` float32, targets ``(B,)`` and speakers ``(B,)`` of ``frames``."""
        frames = np.asarray(frames, dtype=np.int64)
        starts, ends = self.utterance_bounds(frames)
        idx = splice_indices(frames, starts, ends, offsets)
        # read each needed row of the memory map once, in increasing order
        rows, inverse = np.unique(idx.reshape(-1), return_inverse=True)
        x = np.asarray(self.feats[rows])[inverse].reshape(len(frames), -1).astype(np.float32, copy=False)
        return x, np.asarray(self.targets[frames]), np.asarray(self.spk[frames])

    def to_device(self, device: torch.device) -> "DeviceFrameSet":
        return DeviceFrameSet(self, device)


class DeviceFrameSet:
    """A frame set copied into (GPU) memory; minibatches are gathered and spliced on the device."""

    def __init__(self, fs: FrameSet, device: torch.device) -> None:
        self.device = device
        self.num_frames = fs.num_frames
        self.feats = torch.from_numpy(np.array(fs.feats[:self.num_frames])).to(device)
        self.targets = torch.from_numpy(np.asarray(fs.targets[:self.num_frames], dtype=np.int64)).to(device)
        self.spk = torch.from_numpy(np.asarray(fs.spk[:self.num_frames], dtype=np.int64)).to(device)
        self.offsets = torch.from_numpy(np.asarray(fs.offsets)).to(device)

    def batch(self, frames: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        u = torch.searchsorted(self.offsets, frames, right=True) - 1
        starts, ends = self.offsets[u], self.offsets[u + 1]
        idx = torch.maximum(torch.minimum(frames[:, None] + offsets[None, :], (ends - 1)[:, None]), starts[:, None])
        x = self.feats[idx.reshape(-1)].reshape(len(frames), -1).float()
        return x, self.targets[frames], self.spk[frames]


def frame_set_nbytes(directory: str | Path, name: str) -> int:
    """Bytes of a frame set's arrays on disk (to decide whether it fits in device memory)."""
    return sum(_path(Path(directory), name, w).stat().st_size for w in (FEATS, TARGETS, SPK, OFFSETS))


# ---------------------------------------------------------------------------------------------------------------
# the minibatch schedule


def epoch_permutation(seed: int, epoch: int, num_frames: int) -> np.ndarray:
    """The frame order of an epoch (the same in every process)."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(num_frames)


def steps_per_epoch(num_frames: int, minibatch_size: int, world_size: int = 1) -> int:
    return num_frames // (minibatch_size * world_size)


def rank_batch(perm: np.ndarray, step: int, rank: int, world_size: int, minibatch_size: int) -> np.ndarray:
    """The frames process ``rank`` trains on at ``step`` of the epoch: its slice of the global minibatch."""
    start = (step * world_size + rank) * minibatch_size
    return perm[start:start + minibatch_size]


__all__ = [
    "DeviceFrameSet", "FrameSet", "FrameSetError", "FrameSetWriter",
    "epoch_permutation", "frame_set_nbytes", "rank_batch", "splice_indices", "steps_per_epoch",
]
