"""x-vector training examples: Kaldi's allocation, stored as memory-mapped arrays, and a prefetching reader.

Allocation follows Kaldi's ``sid/nnet3/xvector/get_egs.sh`` and ``allocate_egs.py``:

- ``num_heldout_utts`` random utterances are held out for validation; the rest are the training list, from which
  another ``num_heldout_utts`` form the train-subset (diagnostics on training data). Validation utterances never
  give training examples; their speakers keep their training utterances. Speakers get integer labels in
  ``spk2utt`` order.
- There are ``num_train_frames * num_repeats // frames_per_iter + 1`` training archives. Each archive has one chunk
  length (drawn uniformly from [min, max] frames, or, for diagnostic archives, on a geometric ladder from min to
  max). Each speaker appears ``num_repeats`` times in a shuffled speaker list; every example pops a speaker, picks
  one of its utterances at least as long as the chunk, uniformly at random, and a uniform random start inside it.
  An archive stops at ``frames_per_iter / length + 1`` examples or when the speaker list runs out (the usual case
  in the recipes, so each archive holds about ``num_repeats`` chunks per speaker).
- The random calls are the same, in the same order, with the same seed (123), as Kaldi's script, so for the same
  ``utt2num_frames``/``utt2int`` lists the ranges are identical.

Storage (our own format, no per-example files): every archive ``<egs-dir>/<name>.<k>`` is

- ``<name>.<k>.feats.npy``: ``(num_egs, chunk_length, feat_dim)`` float16 (``--compress``) or float32,
  memory-mapped by the trainer;
- ``<name>.<k>.labels.npy``: ``(num_egs,)`` int32 speaker labels;
- ``<name>.<k>.ranges``: one line per example, in storage order: ``<utt> <start-frame> <num-frames> <label>``.

Examples are written at shuffled positions (Kaldi shuffles each archive with ``nnet3-shuffle-egs --srand``), so an
archive read in order is already mixed; the trainer reshuffles every pass anyway.
"""

from __future__ import annotations

import math
import os
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from phonsid.data import c_sorted
from phonsid.io.atomic import atomic_write_text

FLOAT16_MAX = 65504.0


class EgsError(RuntimeError):
    """A problem with example allocation, writing or reading; the message names the file or utterance."""


# ---------------------------------------------------------------------------------------------------------------
# held-out lists (get_egs.sh stage 0)


@dataclass
class EgsLists:
    """Utterance lists and labels for the training, validation and train-subset examples."""

    spk2int: dict[str, int]
    utt2int: dict[str, int]
    utt2len: dict[str, int]
    train: list[str]
    valid: list[str]
    train_subset: list[str]

    @property
    def num_pdfs(self) -> int:
        return len(set(self.utt2int.values()))

    def frames(self, utts: Iterable[str]) -> int:
        return sum(self.utt2len[u] for u in utts)


def split_heldout(utt2num_frames: dict[str, int], utt2spk: dict[str, str], num_heldout_utts: int = 100,
                  seed: int = 0) -> EgsLists:
    """Kaldi's held-out split: validation utterances out of training, a train-subset drawn from training."""
    missing = [u for u in utt2spk if u not in utt2num_frames]
    if missing:
        raise EgsError(f"{len(missing)} utterance(s) of utt2spk have no utt2num_frames entry, e.g. "
                       f"{', '.join(c_sorted(missing)[:5])}")
    utts = c_sorted(utt2spk)
    if num_heldout_utts < 0:
        raise EgsError(f"--num-heldout-utts must be >= 0, got {num_heldout_utts}")
    if num_heldout_utts >= len(utts):
        raise EgsError(f"--num-heldout-utts={num_heldout_utts} leaves no training utterance "
                       f"(the data has {len(utts)})")
    rng = random.Random(seed)
    shuffled = list(utts)
    rng.shuffle(shuffled)
    valid = set(shuffled[:num_heldout_utts])
    train = [u for u in utts if u not in valid]
    shuffled = list(train)
    rng.shuffle(shuffled)
    subset = set(shuffled[:num_heldout_utts])
    speakers = c_sorted(set(utt2spk.values()))
    spk2int = {s: i for i, s in enumerate(speakers)}
    utt2int = {u: spk2int[utt2spk[u]] for u in utts}
    return EgsLists(spk2int=spk2int, utt2int=utt2int, utt2len={u: int(utt2num_frames[u]) for u in utts},
                    train=train, valid=[u for u in utts if u in valid],
                    train_subset=[u for u in train if u in subset])


def num_train_archives(num_train_frames: int, num_repeats: int, frames_per_iter: int) -> int:
    """Kaldi's archive count: ``num_train_frames * num_repeats // frames_per_iter + 1``."""
    return num_train_frames * num_repeats // frames_per_iter + 1


# ---------------------------------------------------------------------------------------------------------------
# allocation (allocate_egs.py)


@dataclass
class Archive:
    """One archive's allocation: its chunk length and its examples ``(utt, start_frame)`` in allocation order."""

    chunk_length: int
    egs: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Allocation:
    archives: list[Archive]
    num_skipped_speakers: int = 0  # speaker draws dropped because no utterance was long enough


def deterministic_chunk_length(archive_index: int, num_archives: int, min_frames: int, max_frames: int) -> int:
    """Kaldi's geometric ladder of chunk lengths from ``min_frames`` (first archive) to ``max_frames`` (last)."""
    if max_frames == min_frames:
        return max_frames
    if num_archives == 1:
        return int(max_frames)
    ratio = float(max_frames) / min_frames
    return int(math.pow(ratio, float(archive_index) / (num_archives - 1)) * min_frames + 0.5)


def allocate_egs(utt2len: dict[str, int], utt2int: Sequence[tuple[str, int]], *, num_archives: int,
                 num_repeats: int, min_frames_per_chunk: int, max_frames_per_chunk: int, frames_per_iter: int,
                 randomize_chunk_length: bool = True, seed: int = 123,
                 log: Callable[[str], None] | None = None) -> Allocation:
    """Decides which chunk of which utterance goes to which archive, exactly as Kaldi's ``allocate_egs.py``.

    ``utt2int`` is the ``(utt, speaker-label)`` list in file order (it fixes the speaker order, hence the random
    draws). A speaker none of whose utterances is as long as the chunk is skipped with a warning (Kaldi loops
    forever there); that never happens after the usual ``--min-len`` filter.
    """
    if num_repeats < 1:
        raise EgsError(f"--num-repeats must be >= 1, got {num_repeats}")
    if min_frames_per_chunk <= 1:
        raise EgsError(f"--min-frames-per-chunk must be > 1, got {min_frames_per_chunk}")
    if max_frames_per_chunk < min_frames_per_chunk:
        raise EgsError(f"--max-frames-per-chunk ({max_frames_per_chunk}) < --min-frames-per-chunk "
                       f"({min_frames_per_chunk})")
    if frames_per_iter < 1000:
        raise EgsError(f"--frames-per-iter must be >= 1000, got {frames_per_iter}")
    if num_archives < 1:
        raise EgsError(f"--num-archives must be >= 1, got {num_archives}")
    spk2utt: dict[int, list[str]] = {}
    for utt, spk in utt2int:
        if utt not in utt2len:
            raise EgsError(f"utterance {utt} has a label but no length (utt2num_frames)")
        spk2utt.setdefault(int(spk), []).append(utt)
    if not spk2utt:
        raise EgsError("no utterances to allocate examples from")
    longest = {spk: max(utt2len[u] for u in utts) for spk, utts in spk2utt.items()}
    rng = random.Random(seed)
    archives: list[Archive] = []
    skipped = 0
    for archive_index in range(num_archives):
        if randomize_chunk_length:
            length = rng.randint(min_frames_per_chunk, max_frames_per_chunk)
        else:
            length = deterministic_chunk_length(archive_index, num_archives, min_frames_per_chunk,
                                                max_frames_per_chunk)
        archive = Archive(length)
        this_num_egs = int(float(frames_per_iter) / length + 1)
        speakers = num_repeats * list(spk2utt.keys())
        rng.shuffle(speakers)
        for _ in range(this_num_egs):
            if not speakers:
                break
            spk = speakers.pop()
            if longest[spk] < length:
                skipped += 1
                continue
            utts = spk2utt[spk]
            utt_len = 0
            utt = utts[0]
            while utt_len < length:
                utt = utts[rng.randint(0, len(utts) - 1)]
                utt_len = utt2len[utt]
            archive.egs.append((utt, rng.randint(0, utt_len - length)))
        archives.append(archive)
    if skipped and log:
        log(f"skipped {skipped} speaker draws: the speaker has no utterance as long as the archive's chunk")
    return Allocation(archives, skipped)


def archives_per_job(num_archives: int, num_jobs: int) -> list[list[int]]:
    """Kaldi's split of archives over jobs: counts dealt round-robin, archives handed out consecutively (0-based)."""
    if num_jobs < 1 or num_jobs > num_archives:
        raise EgsError(f"--num-jobs must be in [1, {num_archives}] (the number of archives), got {num_jobs}")
    counts = [0] * num_jobs
    for i in range(num_archives):
        counts[i % num_jobs] += 1
    out, cur = [], 0
    for c in counts:
        out.append(list(range(cur, cur + c)))
        cur += c
    return out


@dataclass
class RangeLine:
    """A line of a ranges file: ``<utt> <relative-archive> <absolute-archive> <start> <num-frames> <label>``."""

    utt: str
    rel_archive: int
    abs_archive: int
    start: int
    num_frames: int
    label: int


def write_allocation(egs_dir: str | Path, allocation: Allocation, utt2int: dict[str, int], num_jobs: int,
                     num_pdfs: int, prefix: str = "") -> None:
    """Writes Kaldi's allocation files: ``temp/<p>ranges.<job>``, ``temp/<p>outputs.<job>``,
    ``temp/<p>archive_chunk_lengths`` and ``<p>pdf2num`` (``<p>`` is ``prefix_`` when a prefix is given).

    Each ``outputs`` file lists the archive names (``<egs-dir>/<p>egs.<k>``) its job writes.
    """
    egs_dir = Path(egs_dir)
    p = f"{prefix}_" if prefix else ""
    temp = egs_dir / "temp"
    temp.mkdir(parents=True, exist_ok=True)
    atomic_write_text(temp / f"{p}archive_chunk_lengths",
                      "".join(f"{k + 1} {a.chunk_length}\n" for k, a in enumerate(allocation.archives)))
    pdf2num = [0] * num_pdfs
    for job, archive_ids in enumerate(archives_per_job(len(allocation.archives), num_jobs)):
        lines = []
        for rel, k in enumerate(archive_ids):
            for utt, start in allocation.archives[k].egs:
                lines.append((utt, rel, start))
        out = []
        for utt, rel, start in sorted(lines):
            k = archive_ids[rel]
            label = utt2int[utt]
            if label >= num_pdfs:
                raise EgsError(f"utterance {utt}: label {label} >= num-pdfs {num_pdfs}")
            pdf2num[label] += 1
            out.append(f"{utt} {rel} {k + 1} {start} {allocation.archives[k].chunk_length} {label}\n")
        atomic_write_text(temp / f"{p}ranges.{job + 1}", "".join(out))
        atomic_write_text(temp / f"{p}outputs.{job + 1}",
                          " ".join(str(egs_dir / f"{p}egs.{k + 1}") for k in archive_ids) + "\n")
    atomic_write_text(egs_dir / f"{p}pdf2num", " ".join(map(str, pdf2num)) + "\n")


def read_ranges(path: str | Path) -> list[RangeLine]:
    """Reads a ranges file written by ``write_allocation``."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 6:
                    raise EgsError(f"{path}:{lineno}: expected 6 fields, got '{line.strip()}'")
                try:
                    out.append(RangeLine(parts[0], *(int(x) for x in parts[1:])))
                except ValueError:
                    raise EgsError(f"{path}:{lineno}: non-integer field in '{line.strip()}'") from None
    except FileNotFoundError:
        raise EgsError(f"ranges file {path} does not exist") from None
    return out


# ---------------------------------------------------------------------------------------------------------------
# writing archives (nnet3-xvector-get-egs + nnet3-shuffle-egs)


def write_egs_archives(ranges: Sequence[RangeLine], outputs: Sequence[str], get_features: Callable[[str], np.ndarray],
                       *, compress: bool = True, num_pdfs: int = -1, srand: int = 0,
                       log: Callable[[str], None] | None = None) -> dict[str, int]:
    """Cuts the chunks of ``ranges`` from the features and writes archive ``outputs[rel_archive]`` for each.

    ``get_features(utt)`` returns the utterance's ``(frames, dim)`` matrix; each utterance is read once (ranges are
    grouped by utterance). Examples land at positions shuffled with seed ``(srand, absolute archive index)``.
    Files are written under temporary names and renamed when complete. Returns counts (``egs``, ``utts``).
    """
    by_archive: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(ranges):
        if r.rel_archive < 0 or r.rel_archive >= len(outputs):
            raise EgsError(f"ranges line for {r.utt}: relative archive {r.rel_archive} but only {len(outputs)} "
                           f"outputs were given")
        if num_pdfs > 0 and not 0 <= r.label < num_pdfs:
            raise EgsError(f"ranges line for {r.utt}: label {r.label} outside [0, {num_pdfs})")
        by_archive[r.rel_archive].append(i)
    missing = [o for k, o in enumerate(outputs) if k not in by_archive]
    if missing:
        raise EgsError(f"no examples were allocated to archive(s) {', '.join(missing)}")
    # storage position of every range line within its archive
    position = np.empty(len(ranges), dtype=np.int64)
    archive_info = {}
    for rel, idxs in by_archive.items():
        lengths = {ranges[i].num_frames for i in idxs}
        if len(lengths) != 1:
            raise EgsError(f"archive {outputs[rel]}: examples of several lengths {sorted(lengths)} (one per archive)")
        abs_archive = ranges[idxs[0]].abs_archive
        perm = np.random.default_rng([srand, abs_archive]).permutation(len(idxs))
        position[np.asarray(idxs)] = perm
        archive_info[rel] = (len(idxs), lengths.pop())
    by_utt: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(ranges):
        by_utt[r.utt].append(i)
    dtype = np.float16 if compress else np.float32
    feats_mm: dict[int, np.ndarray] = {}
    labels: dict[int, np.ndarray] = {rel: np.empty(n, dtype=np.int32) for rel, (n, _) in archive_info.items()}
    keys: dict[int, list[str]] = {rel: [""] * n for rel, (n, _) in archive_info.items()}
    tmp_paths = []
    feat_dim = -1
    try:
        for utt in c_sorted(by_utt):
            mat = np.asarray(get_features(utt))
            if mat.ndim != 2:
                raise EgsError(f"utterance {utt}: features are not a matrix (shape {mat.shape})")
            if feat_dim < 0:
                feat_dim = mat.shape[1]
                for rel, (n, length) in archive_info.items():
                    tmp = f"{outputs[rel]}.feats.npy.tmp"
                    tmp_paths.append(tmp)
                    Path(tmp).parent.mkdir(parents=True, exist_ok=True)
                    feats_mm[rel] = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=(n, length, feat_dim))
            elif mat.shape[1] != feat_dim:
                raise EgsError(f"utterance {utt}: feature dim {mat.shape[1]} differs from {feat_dim} of the others")
            if compress and mat.size and float(np.abs(mat).max()) > FLOAT16_MAX:
                raise EgsError(f"utterance {utt}: a feature value exceeds the float16 range; use --compress=false")
            for i in by_utt[utt]:
                r = ranges[i]
                if r.start < 0 or r.start + r.num_frames > mat.shape[0]:
                    raise EgsError(f"utterance {utt}: chunk [{r.start}, {r.start + r.num_frames}) is outside its "
                                   f"{mat.shape[0]} frames (features changed since allocation?)")
                pos = position[i]
                feats_mm[r.rel_archive][pos] = mat[r.start:r.start + r.num_frames]
                labels[r.rel_archive][pos] = r.label
                keys[r.rel_archive][pos] = f"{utt} {r.start} {r.num_frames} {r.label}\n"
        for mm in feats_mm.values():
            mm.flush()
        feats_mm.clear()
        for rel in archive_info:
            out = outputs[rel]
            tmp_paths.append(f"{out}.labels.npy.tmp")
            with open(f"{out}.labels.npy.tmp", "wb") as f:
                np.save(f, labels[rel])
            atomic_write_text(f"{out}.ranges", "".join(keys[rel]))
            os.replace(f"{out}.labels.npy.tmp", f"{out}.labels.npy")
            os.replace(f"{out}.feats.npy.tmp", f"{out}.feats.npy")
            if log:
                n, length = archive_info[rel]
                log(f"wrote {n} examples of {length} frames to {out}.feats.npy")
    except BaseException:
        feats_mm.clear()
        for tmp in tmp_paths:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise
    return {"egs": len(ranges), "utts": len(by_utt)}


# ---------------------------------------------------------------------------------------------------------------
# reading


class EgsArchive:
    """One archive, memory-mapped: ``feats`` ``(num_egs, chunk_length, feat_dim)``, ``labels`` ``(num_egs,)``."""

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = str(prefix)
        feats_path, labels_path = f"{self.prefix}.feats.npy", f"{self.prefix}.labels.npy"
        try:
            self.feats = np.load(feats_path, mmap_mode="r")
            self.labels = np.load(labels_path).astype(np.int64)
        except FileNotFoundError as e:
            raise EgsError(f"egs archive {self.prefix}: {e.filename} does not exist") from None
        except ValueError as e:
            raise EgsError(f"egs archive {self.prefix}: unreadable ({e})") from None
        if self.feats.ndim != 3 or self.labels.shape != (self.feats.shape[0],):
            raise EgsError(f"egs archive {self.prefix}: feats {self.feats.shape} and labels {self.labels.shape} "
                           f"do not match")

    @property
    def num_egs(self) -> int:
        return int(self.feats.shape[0])

    @property
    def chunk_length(self) -> int:
        return int(self.feats.shape[1])

    @property
    def feat_dim(self) -> int:
        return int(self.feats.shape[2])

    def read(self, idx: np.ndarray, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
        """Examples ``idx`` (any order): features as ``dtype`` and labels (int64)."""
        feats = self.feats[idx]
        if dtype is not None and feats.dtype != dtype:
            feats = feats.astype(dtype)
        return feats, self.labels[idx]


@dataclass
class EgsDir:
    """An egs directory written by ``sid/nnet/get_egs.sh``."""

    path: Path
    feat_dim: int
    num_pdfs: int
    train: list[EgsArchive]
    valid: list[EgsArchive]
    train_subset: list[EgsArchive]

    @classmethod
    def open(cls, path: str | Path) -> "EgsDir":
        path = Path(path)

        def info(name: str) -> int:
            f = path / "info" / name
            try:
                return int(f.read_text().split()[0])
            except FileNotFoundError:
                raise EgsError(f"egs dir {path}: {f} does not exist (did get_egs.sh finish?)") from None
            except (ValueError, IndexError):
                raise EgsError(f"egs dir {path}: {f} does not hold an integer") from None

        feat_dim, num_archives, num_diag = info("feat_dim"), info("num_archives"), info("num_diagnostic_archives")
        try:
            num_pdfs = len((path / "pdf2num").read_text().split())
        except FileNotFoundError:
            raise EgsError(f"egs dir {path}: pdf2num does not exist") from None
        train = [EgsArchive(path / f"egs.{k}") for k in range(1, num_archives + 1)]
        valid = [EgsArchive(path / f"valid_egs.{k}") for k in range(1, num_diag + 1)
                 if (path / f"valid_egs.{k}.feats.npy").exists()]
        subset = [EgsArchive(path / f"train_subset_egs.{k}") for k in range(1, num_diag + 1)
                  if (path / f"train_subset_egs.{k}.feats.npy").exists()]
        for a in train + valid + subset:
            if a.feat_dim != feat_dim:
                raise EgsError(f"egs archive {a.prefix}: feature dim {a.feat_dim} but {path}/info/feat_dim says "
                               f"{feat_dim}")
            if a.num_egs and int(a.labels.max()) >= num_pdfs:
                raise EgsError(f"egs archive {a.prefix}: label {int(a.labels.max())} >= {num_pdfs} speakers "
                               f"(pdf2num)")
        return cls(path, feat_dim, num_pdfs, train, valid, subset)

    def spk2int_path(self) -> Path:
        return self.path / "temp" / "spk2int"


# ---------------------------------------------------------------------------------------------------------------
# prefetching


# ---------------------------------------------------------------------------------------------------------------
# the whole of get_egs.sh in one process


def write_egs_lists(egs_dir: str | Path, lists: EgsLists, feat_dim: int, *, num_repeats: int, frames_per_iter: int,
                    num_diagnostic_archives: int, min_frames_per_chunk: int) -> int:
    """Writes get_egs.sh's stage-0 files (``temp/`` lists, ``info/``); returns the number of training archives."""
    from phonsid.data import write_map

    egs_dir = Path(egs_dir)
    temp, info = egs_dir / "temp", egs_dir / "info"
    temp.mkdir(parents=True, exist_ok=True)
    info.mkdir(parents=True, exist_ok=True)
    write_map(temp / "utt2num_frames", {u: str(n) for u, n in lists.utt2len.items()})
    write_map(temp / "spk2int", {s: str(i) for s, i in lists.spk2int.items()})
    write_map(temp / "utt2int", {u: str(i) for u, i in lists.utt2int.items()})
    atomic_write_text(temp / "valid_uttlist", "".join(f"{u}\n" for u in lists.valid))
    atomic_write_text(temp / "train_subset_uttlist", "".join(f"{u}\n" for u in lists.train_subset))
    for name, utts in (("train", lists.train), ("valid", lists.valid), ("train_subset", lists.train_subset)):
        write_map(temp / f"utt2num_frames.{name}", {u: str(lists.utt2len[u]) for u in utts})
        write_map(temp / f"utt2int.{name}", {u: str(lists.utt2int[u]) for u in utts})
    num_frames = lists.frames(lists.train)
    num_archives = num_train_archives(num_frames, num_repeats, frames_per_iter)
    for name, value in (("feat_dim", feat_dim), ("num_frames", num_frames), ("num_archives", num_archives),
                        ("num_diagnostic_archives", num_diagnostic_archives), ("left_context", 0),
                        ("right_context", min_frames_per_chunk), ("frames_per_eg", 1),
                        ("num_pdfs", lists.num_pdfs)):
        atomic_write_text(info / name, f"{value}\n")
    return num_archives


def drop_empty_archives(allocation: Allocation, what: str, log: Callable[[str], None] | None = None) -> Allocation:
    """Diagnostic archives may come out empty on tiny data (no held-out utterance long enough); drop them."""
    kept = [a for a in allocation.archives if a.egs]
    if len(kept) != len(allocation.archives) and log:
        log(f"{len(allocation.archives) - len(kept)} {what} archive(s) got no example (no utterance as long as "
            f"their chunks); leaving them out")
    return Allocation(kept, allocation.num_skipped_speakers)


def build_egs_dir(egs_dir: str | Path, get_features: Callable[[str], np.ndarray], utt2num_frames: dict[str, int],
                  utt2spk: dict[str, str], *, num_heldout_utts: int = 100, num_repeats: int = 35,
                  frames_per_iter: int = 1_000_000_000, frames_per_iter_diagnostic: int = 100_000,
                  num_diagnostic_archives: int = 3, min_frames_per_chunk: int = 200,
                  max_frames_per_chunk: int = 400, compress: bool = True, seed: int = 0,
                  log: Callable[[str], None] | None = None) -> EgsDir:
    """Everything ``sid/nnet/get_egs.sh`` does, in this process (one job): lists, allocations, archives.

    Produces the same files as the script run with the same options (the archives do not depend on ``--nj``).
    """
    egs_dir = Path(egs_dir)
    lists = split_heldout(utt2num_frames, utt2spk, num_heldout_utts, seed)
    first = lists.train[0]
    feat_dim = int(np.asarray(get_features(first)).shape[1])
    num_archives = write_egs_lists(egs_dir, lists, feat_dim, num_repeats=num_repeats,
                                   frames_per_iter=frames_per_iter, num_diagnostic_archives=num_diagnostic_archives,
                                   min_frames_per_chunk=min_frames_per_chunk)
    num_pdfs = lists.num_pdfs
    specs = [("", lists.train, num_repeats, frames_per_iter, num_archives, True),
             ("train_subset", lists.train_subset, 1, frames_per_iter_diagnostic, num_diagnostic_archives, False),
             ("valid", lists.valid, 1, frames_per_iter_diagnostic, num_diagnostic_archives, False)]
    for prefix, utts, repeats, per_iter, n_arch, randomize in specs:
        if not utts or n_arch < 1:
            continue
        alloc = allocate_egs(lists.utt2len, [(u, lists.utt2int[u]) for u in utts], num_archives=n_arch,
                             num_repeats=repeats, min_frames_per_chunk=min_frames_per_chunk,
                             max_frames_per_chunk=max_frames_per_chunk, frames_per_iter=per_iter,
                             randomize_chunk_length=randomize, log=log)
        if prefix:
            alloc = drop_empty_archives(alloc, prefix, log)
            if not alloc.archives:
                continue
        else:
            empty = [k + 1 for k, a in enumerate(alloc.archives) if not a.egs]
            if empty:
                raise EgsError(f"training archive(s) {empty} got no example (are all utterances shorter than the "
                               f"chunks?)")
        write_allocation(egs_dir, alloc, lists.utt2int, 1, num_pdfs, prefix)
        p = f"{prefix}_" if prefix else ""
        ranges = read_ranges(egs_dir / "temp" / f"{p}ranges.1")
        outputs = (egs_dir / "temp" / f"{p}outputs.1").read_text().split()
        write_egs_archives(ranges, outputs, get_features, compress=compress, num_pdfs=num_pdfs, log=log)
    return EgsDir.open(egs_dir)
