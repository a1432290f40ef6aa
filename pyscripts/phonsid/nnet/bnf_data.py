"""Targets and training frames for the bottleneck DNNs.

Alignment directories
    Any directory with a ``num_pdfs`` file (one integer: the number of DNN targets) and frame-level target ids
    as Kaldi int-vector tables, found in this order: ``pdf_ali.scp``; ``pdf_ali.*.ark``; ``ali.*.ark`` (the
    per-job archives of the aligner, already converted to pdf ids). An ``ali.*.ark`` whose ids exceed
    ``num_pdfs`` (e.g. Kaldi's transition-id ``ali.*.gz`` unpacked without ``ali-to-pdf``) is rejected. The targets
    of frame ``t`` label the feature frame ``t`` (both with ``--snip-edges=false`` or both with ``true``).
    ``phone_targets_to_alignment_dir`` makes such a directory from per-frame phone ids (the demo's true
    alignment, or an aligner's phone alignment): the ``--targets phones`` fallback of ``steps/nnet/train_bnf.sh``.

Input normalisation (``input.normalization``)
    ``sliding-cmn``: per utterance, Kaldi's ``apply-cmvn-sliding`` with the configured window (DNN-1).
    ``speaker-mvn``: per speaker, subtract the mean and divide by the standard deviation of all frames of all the
    speaker's utterances in the data dir (DNN-2; at extraction, the speakers of the data dir being processed, as
    given by its utt2spk/spk2utt). ``utterance-mvn``: the same per utterance. ``none``.

Prepared frames (``prepare_bnf_egs``), in ``<egs-dir>``: ``train.*`` and ``valid.*`` frame sets (see
``phonsid.nnet.frames``), ``info.json`` (dims, counts, the input config, majority-class rates), ``spk2int`` (the
training speakers: the speaker head's classes), ``input_stats.npz`` (per-dim mean / std of the normalised training
frames) and ``target_counts`` (frames per target in training). The validation set holds all utterances of
``data.valid_speakers`` held-out speakers and ``data.valid_utts_per_speaker`` utterances of every training speaker
(the speaker head is scored on the latter).
"""

from __future__ import annotations

import glob
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from phonsid.data import c_sorted, read_map
from phonsid.io.atomic import atomic_write_text
from phonsid.nnet.bnf import BnfConfig, InputConfig
from phonsid.nnet.frames import FrameSetWriter


class AlignmentDirError(ValueError):
    """An alignment dir that is missing files or whose targets do not fit (message names the file/utterance)."""


class PrepareError(ValueError):
    """The data cannot be turned into training frames (message names the file/utterance)."""


# ---------------------------------------------------------------------------------------------------------------
# alignment directories


@dataclass
class AlignmentDir:
    path: Path
    num_pdfs: int
    rspecifiers: list[str]

    def load(self) -> dict[str, np.ndarray]:
        """All alignments (utterance → int32 array of target ids), checked against ``num_pdfs``."""
        from phonsid.io import SequentialReader

        out: dict[str, np.ndarray] = {}
        for spec in self.rspecifiers:
            with SequentialReader(spec, "int_vector") as r:
                for utt, ali in r:
                    ali = np.asarray(ali, dtype=np.int32)
                    if ali.size and (ali.min() < 0 or ali.max() >= self.num_pdfs):
                        raise AlignmentDirError(
                            f"{spec}: utterance '{utt}' has target ids in {ali.min()}..{ali.max()}, outside "
                            f"0..{self.num_pdfs - 1} (num_pdfs in {self.path / 'num_pdfs'}); are these transition "
                            f"ids rather than pdf ids (convert them with ali-to-pdf)?")
                    if utt in out:
                        raise AlignmentDirError(f"{spec}: utterance '{utt}' appears twice in the alignments")
                    out[utt] = ali
        return out


def open_alignment_dir(path: str | os.PathLike) -> AlignmentDir:
    """Finds the target tables and ``num_pdfs`` of an alignment dir (see the module doc)."""
    p = Path(path)
    if not p.is_dir():
        raise AlignmentDirError(f"alignment dir {p} does not exist")
    nfile = p / "num_pdfs"
    if not nfile.is_file():
        raise AlignmentDirError(f"{nfile} is missing: an alignment dir needs num_pdfs (the number of targets)")
    try:
        num_pdfs = int(nfile.read_text().split()[0])
    except (ValueError, IndexError):
        raise AlignmentDirError(f"{nfile}: expected one integer, got '{nfile.read_text().strip()[:40]}'") from None
    if num_pdfs < 2:
        raise AlignmentDirError(f"{nfile}: {num_pdfs} targets; at least 2 are needed")

    def jobs(pattern: str) -> list[str]:
        files = glob.glob(str(p / pattern))

        def job(f: str) -> tuple[int, str]:
            mid = Path(f).name.split(".")[-2]
            return (int(mid), f) if mid.isdigit() else (1 << 30, f)
        return [f for _, f in sorted(job(f) for f in files)]

    if (p / "pdf_ali.scp").is_file():
        specs = [f"scp:{p / 'pdf_ali.scp'}"]
    elif jobs("pdf_ali.*.ark"):
        specs = [f"ark:{f}" for f in jobs("pdf_ali.*.ark")]
    elif jobs("ali.*.ark"):
        specs = [f"ark:{f}" for f in jobs("ali.*.ark")]
    else:
        raise AlignmentDirError(f"{p}: no pdf_ali.scp, pdf_ali.*.ark or ali.*.ark (int-vector tables of target ids)")
    return AlignmentDir(p, num_pdfs, specs)


def read_phones_table(path: str | os.PathLike) -> dict[int, str]:
    """``phones.txt`` (``name id`` per line) as id → name."""
    out: dict[int, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise AlignmentDirError(f"cannot read the phone table {path}: {e.strerror}") from None
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise AlignmentDirError(f"{path}:{n}: expected 'phone id', got '{line.strip()}'")
        out[int(parts[1])] = parts[0]
    return out


def phone_targets_to_alignment_dir(phone_ali_rspecifier: str, phones_txt: str | os.PathLike,
                                   out_dir: str | os.PathLike) -> tuple[int, int]:
    """Writes an alignment dir whose targets are the phones: ``pdf_ali.ark/scp`` (target = position of the phone
    among the real phones of ``phones_txt``, i.e. without ``<eps>`` and ``#n`` disambiguation symbols), ``num_pdfs``
    and ``targets.txt`` (``target-id phone`` per line). Returns (utterances, targets)."""
    from phonsid.io import SequentialReader, TableWriter

    table = read_phones_table(phones_txt)
    real = sorted(i for i, name in table.items() if name != "<eps>" and not name.startswith("#"))
    if len(real) < 2:
        raise AlignmentDirError(f"{phones_txt}: fewer than 2 phones")
    lookup = np.full(max(table) + 1, -1, dtype=np.int64)
    lookup[real] = np.arange(len(real))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with SequentialReader(phone_ali_rspecifier, "int_vector") as r, \
            TableWriter(f"ark,scp:{out / 'pdf_ali.ark'},{out / 'pdf_ali.scp'}", "int_vector") as w:
        for utt, phones in r:
            phones = np.asarray(phones, dtype=np.int64)
            bad = (phones < 0) | (phones >= len(lookup))
            if not bad.any():
                bad = lookup[phones] < 0
            if bad.any():
                raise AlignmentDirError(f"{phone_ali_rspecifier}: utterance '{utt}' has phone id "
                                        f"{int(phones[np.argmax(bad)])}, which is not a phone of {phones_txt}")
            w.write(utt, lookup[phones].astype(np.int32))
            n += 1
    if n == 0:
        raise AlignmentDirError(f"{phone_ali_rspecifier}: no alignments")
    atomic_write_text(out / "targets.txt", "".join(f"{k} {table[i]}\n" for k, i in enumerate(real)))
    atomic_write_text(out / "num_pdfs", f"{len(real)}\n")
    return n, len(real)


# ---------------------------------------------------------------------------------------------------------------
# input normalisation


class SpeakerStats:
    """Per-speaker (or per-utterance) frame count, sum and sum of squares in float64."""

    def __init__(self) -> None:
        self._acc: dict[str, list] = {}

    def accumulate(self, key: str, feats: np.ndarray) -> None:
        x = np.asarray(feats, dtype=np.float64)
        acc = self._acc.get(key)
        if acc is None:
            acc = self._acc[key] = [0, np.zeros(x.shape[1]), np.zeros(x.shape[1])]
        elif acc[1].shape[0] != x.shape[1]:
            raise PrepareError(f"speaker '{key}': feature dims {acc[1].shape[0]} and {x.shape[1]} differ")
        acc[0] += x.shape[0]
        acc[1] += x.sum(axis=0)
        acc[2] += np.einsum("ij,ij->j", x, x)

    def __contains__(self, key: str) -> bool:
        return key in self._acc

    def mean_std(self, key: str, variance_floor: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
        n, s, ss = self._acc[key]
        if n == 0:
            raise PrepareError(f"speaker '{key}' has no frames")
        mean = s / n
        var = np.maximum(ss / n - mean * mean, variance_floor)
        return mean, np.sqrt(var)


def normalize_features(feats: np.ndarray, cfg: InputConfig,
                       stats: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Applies ``cfg.normalization`` to one utterance; ``stats`` = (mean, std) of its speaker for
    ``speaker-mvn``. Returns float32."""
    x = np.asarray(feats, dtype=np.float32)
    kind = cfg.normalization
    if kind == "none" or x.shape[0] == 0:
        return x
    if kind == "sliding-cmn":
        from phonsid.features import apply_cmvn_sliding

        return apply_cmvn_sliding(x, cmn_window=cfg.cmn_window, min_cmn_window=cfg.min_cmn_window,
                                  center=cfg.cmn_center, norm_vars=cfg.norm_vars).astype(np.float32, copy=False)
    if kind == "utterance-mvn":
        st = SpeakerStats()
        st.accumulate("u", x)
        stats = st.mean_std("u", cfg.variance_floor)
    elif stats is None:
        raise ValueError("speaker-mvn normalisation needs the speaker's statistics")
    mean, std = stats
    return ((x.astype(np.float64) - mean) / std).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# preparing the training frames


@dataclass
class PrepareSummary:
    train_utts: int
    valid_utts: int
    train_frames: int
    valid_frames: int
    num_pdfs: int
    num_speakers: int
    feat_dim: int
    skipped: dict[str, int]
    majority_rate_valid: float


def _select_valid(spk2utts: dict[str, list[str]], cfg: BnfConfig) -> tuple[set[str], set[str]]:
    """(held-out speakers, held-out utterances of training speakers)."""
    dc = cfg.data
    rng = np.random.default_rng(dc.seed)
    speakers = c_sorted(spk2utts)
    n = int(dc.valid_speakers) if dc.valid_speakers >= 1 else int(round(dc.valid_speakers * len(speakers)))
    if n >= len(speakers):
        raise PrepareError(f"data.valid_speakers={dc.valid_speakers} would hold out {n} of the {len(speakers)} "
                           "speakers that have alignments; at least one must remain for training")
    order = rng.permutation(len(speakers))
    held_spk = {speakers[i] for i in order[:n]}
    held_utts: set[str] = set()
    k = dc.valid_utts_per_speaker
    for spk in speakers:
        if spk in held_spk or k == 0:
            continue
        utts = sorted(spk2utts[spk])
        if len(utts) >= k + max(dc.min_train_utts_per_speaker, 1):
            pick = np.random.default_rng([dc.seed, len(held_utts), len(utts)]).permutation(len(utts))[:k]
            held_utts.update(utts[i] for i in pick)
    return held_spk, held_utts


def prepare_bnf_egs(feats_rspecifier: str, utt2spk_path: str | os.PathLike, ali_dir: str | os.PathLike,
                    egs_dir: str | os.PathLike, cfg: BnfConfig,
                    log: Callable[[str], None] | None = None,
                    warn: Callable[[str], None] | None = None) -> PrepareSummary:
    """Normalises the features of ``feats_rspecifier`` (read twice: an scp or an ark file), pairs them with the
    targets of ``ali_dir`` and writes the train/valid frame sets and their description to ``egs_dir``."""
    from phonsid.io import SequentialReader

    log = log or logging.getLogger("bnf").info
    warn = warn or log
    egs = Path(egs_dir)
    egs.mkdir(parents=True, exist_ok=True)
    ali = open_alignment_dir(ali_dir)
    alignments = ali.load()
    utt2spk = read_map(utt2spk_path)
    icfg = cfg.input
    tol = cfg.data.length_tolerance

    # pass 1: lengths, speaker statistics, which utterances are usable
    skipped = {"no_alignment": 0, "no_speaker": 0, "length_mismatch": 0, "empty": 0}
    lengths: dict[str, int] = {}
    spk_stats = SpeakerStats()
    feat_dim = None
    examples: list[str] = []
    for utt, feats in SequentialReader(feats_rspecifier, finite=True):  # NaN/inf: an error naming the utterance
        if feat_dim is None:
            feat_dim = feats.shape[1]
        elif feats.shape[1] != feat_dim:
            raise PrepareError(f"{feats_rspecifier}: utterance '{utt}' has {feats.shape[1]}-dim features, the "
                               f"first had {feat_dim}")
        spk = utt2spk.get(utt)
        if spk is None:
            skipped["no_speaker"] += 1
            if len(examples) < 3:
                examples.append(f"'{utt}' is not in {utt2spk_path}")
            continue
        if feats.shape[0] == 0:
            skipped["empty"] += 1
            continue
        if icfg.needs_speakers:
            spk_stats.accumulate(spk, feats)
        a = alignments.get(utt)
        if a is None:
            skipped["no_alignment"] += 1
            continue
        if abs(len(a) - feats.shape[0]) > tol:
            skipped["length_mismatch"] += 1
            if len(examples) < 3:
                examples.append(f"'{utt}': {feats.shape[0]} feature frames, {len(a)} aligned frames")
            continue
        lengths[utt] = min(len(a), feats.shape[0])
    if feat_dim is None:
        raise PrepareError(f"{feats_rspecifier}: no features")
    if not lengths:
        raise PrepareError(f"no utterance of {feats_rspecifier} has features, a speaker and an alignment in "
                           f"{ali.path} ({', '.join(examples) or 'check that the utterance ids match'})")
    if any(skipped.values()):
        warn(f"skipped {sum(skipped.values())} utterances: " +
             ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in skipped.items() if v) +
             (f" (e.g. {'; '.join(examples)})" if examples else ""))

    spk2utts: dict[str, list[str]] = {}
    for utt in lengths:
        spk2utts.setdefault(utt2spk[utt], []).append(utt)
    held_spk, held_utts = _select_valid(spk2utts, cfg)
    train_spks = c_sorted(s for s in spk2utts if s not in held_spk)
    spk2int = {s: i for i, s in enumerate(train_spks)}
    is_valid = {u: (utt2spk[u] in held_spk or u in held_utts) for u in lengths}
    n_train = sum(n for u, n in lengths.items() if not is_valid[u])
    n_valid = sum(n for u, n in lengths.items() if is_valid[u])
    if n_train == 0:
        raise PrepareError("no training frames are left after holding out the validation set")
    if cfg.multitask is not None and len(train_spks) < 2:
        raise PrepareError(f"the speaker head needs at least 2 training speakers, the data has {len(train_spks)}")

    # pass 2: normalise and write
    dtype = cfg.data.storage_dtype
    writers = {"train": FrameSetWriter(egs, "train", n_train, feat_dim, dtype),
               "valid": FrameSetWriter(egs, "valid", n_valid, feat_dim, dtype)}
    counts = np.zeros(ali.num_pdfs, dtype=np.int64)
    s1 = np.zeros(feat_dim)
    s2 = np.zeros(feat_dim)
    try:
        for utt, feats in SequentialReader(feats_rspecifier):
            n = lengths.get(utt)
            if n is None:
                continue
            spk = utt2spk[utt]
            stats = spk_stats.mean_std(spk, icfg.variance_floor) if icfg.needs_speakers else None
            x = normalize_features(feats, icfg, stats)[:n]
            y = alignments[utt][:n]
            part = "valid" if is_valid[utt] else "train"
            writers[part].append(utt, x, y, spk2int.get(spk, -1))
            if part == "train":
                counts += np.bincount(y, minlength=ali.num_pdfs)
                xd = x.astype(np.float64)
                s1 += xd.sum(axis=0)
                s2 += np.einsum("ij,ij->j", xd, xd)
        for w in writers.values():
            w.close()
    except BaseException:
        for w in writers.values():
            w.abort()
        raise

    mean = s1 / n_train
    std = np.sqrt(np.maximum(s2 / n_train - mean * mean, 1e-10))
    np.savez(egs / "input_stats.npz", mean=mean, std=std)
    majority = int(np.argmax(counts))
    valid_targets = np.load(egs / "valid.targets.npy", mmap_mode="r")[:n_valid]
    maj_valid = float(np.mean(valid_targets == majority)) if n_valid else float("nan")
    atomic_write_text(egs / "spk2int", "".join(f"{s} {i}\n" for s, i in spk2int.items()))
    atomic_write_text(egs / "target_counts", "[ " + " ".join(str(int(c)) for c in counts) + " ]\n")
    info = {"feat_dim": int(feat_dim), "num_pdfs": ali.num_pdfs, "num_speakers": len(train_spks),
            "train_frames": n_train, "valid_frames": n_valid,
            "train_utts": sum(1 for u in lengths if not is_valid[u]), "valid_utts": sum(is_valid.values()),
            "valid_heldout_speakers": c_sorted(held_spk), "majority_target": majority,
            "majority_rate_train": float(counts[majority] / n_train), "majority_rate_valid": maj_valid,
            "input": cfg.network_dict()["input"], "feats": feats_rspecifier, "ali_dir": str(ali.path),
            "storage_dtype": dtype}
    atomic_write_text(egs / "info.json", json.dumps(info, indent=1) + "\n")
    summary = PrepareSummary(info["train_utts"], info["valid_utts"], n_train, n_valid, ali.num_pdfs, len(train_spks),
                             int(feat_dim), skipped, maj_valid)
    log(f"prepared {summary.train_utts} training utterances ({n_train} frames) and {summary.valid_utts} validation "
        f"utterances ({n_valid} frames, {len(held_spk)} held-out speakers); {feat_dim}-dim input, "
        f"{ali.num_pdfs} targets, {len(train_spks)} training speakers; majority-class rate on validation "
        f"{maj_valid:.3f}")
    return summary


def read_egs_info(egs_dir: str | os.PathLike) -> dict:
    p = Path(egs_dir) / "info.json"
    if not p.is_file():
        raise PrepareError(f"{p} is missing (run nnet_bnf_prepare.py first)")
    return json.loads(p.read_text())


def speaker_stats_for(feats: Iterable[tuple[str, np.ndarray]], utt2spk: dict[str, str]) -> SpeakerStats:
    """Statistics per speaker of ``(utt, feats)`` pairs (utterances without a speaker are ignored)."""
    st = SpeakerStats()
    for utt, x in feats:
        spk = utt2spk.get(utt)
        if spk is not None and x.shape[0]:
            st.accumulate(spk, x)
    return st


__all__ = [
    "AlignmentDir", "AlignmentDirError", "PrepareError", "PrepareSummary", "SpeakerStats", "normalize_features",
    "open_alignment_dir", "phone_targets_to_alignment_dir", "prepare_bnf_egs", "read_egs_info",
    "read_phones_table", "speaker_stats_for",
]
