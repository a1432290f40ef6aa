"""Features and data lists for x-vector training (Kaldi's ``prepare_feats_for_egs.sh`` and the filters of
``egs/sre16/v2/run.sh`` stage 3).

- ``cmn_and_select_voiced``: sliding-window mean normalisation (window 300, centred, means only) followed by the
  removal of unvoiced frames; the same transform is applied to the features x-vectors are extracted from.
- ``filter_training_utts``: Kaldi keeps utterances with *more than* ``min_len`` frames (``awk '$2 > min_len'``),
  then speakers with at least ``min_num_utts`` of those; ``FilterReport`` says what went and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phonsid.data import c_sorted, read_map, utt2spk_to_spk2utt, write_list_map, write_map


class XvectorDataError(ValueError):
    """Bad input for x-vector feature preparation; the message names the utterance or file."""


def cmn_and_select_voiced(feats: np.ndarray, vad: np.ndarray | None, *, cmn_window: int = 300,
                          center: bool = True, norm_vars: bool = False, utt: str = "") -> np.ndarray:
    """Sliding CMN then voiced-frame selection, as ``apply-cmvn-sliding | select-voiced-frames``.

    ``cmn_window`` 0 skips the normalisation; ``vad`` None keeps every frame. Raises ``XvectorDataError`` naming
    ``utt`` when the VAD length differs from the number of frames.
    """
    from phonsid.features import apply_cmvn_sliding, select_voiced_frames

    feats = np.asarray(feats, dtype=np.float32)
    if feats.ndim != 2:
        raise XvectorDataError(f"utterance {utt}: features must be a matrix, got shape {feats.shape}")
    if vad is not None and len(vad) != feats.shape[0]:
        raise XvectorDataError(f"utterance {utt}: VAD has {len(vad)} frames but the features have {feats.shape[0]}")
    if cmn_window > 0 and feats.shape[0] > 0:
        feats = apply_cmvn_sliding(feats, cmn_window=cmn_window, min_cmn_window=100, center=center,
                                   norm_vars=norm_vars)
    if vad is not None:
        feats = select_voiced_frames(feats, np.asarray(vad))
    return np.asarray(feats, dtype=np.float32)


@dataclass
class FilterReport:
    """What ``filter_training_utts`` removed."""

    min_len: int
    min_num_utts: int
    num_utts_in: int = 0
    num_spks_in: int = 0
    no_features: list[str] = field(default_factory=list)
    too_short: list[str] = field(default_factory=list)
    few_utts_speakers: list[str] = field(default_factory=list)
    few_utts_utts: list[str] = field(default_factory=list)
    num_utts_out: int = 0
    num_spks_out: int = 0
    frames_in: int = 0
    frames_out: int = 0

    def lines(self, max_examples: int = 5) -> list[str]:
        def ex(items: list[str]) -> str:
            if not items:
                return ""
            more = f", ... ({len(items) - max_examples} more)" if len(items) > max_examples else ""
            return " (e.g. " + ", ".join(items[:max_examples]) + more + ")"

        out = [f"input: {self.num_utts_in} utterances of {self.num_spks_in} speakers, {self.frames_in} frames"]
        if self.no_features:
            out.append(f"dropped {len(self.no_features)} utterances with no features left (no voiced frame, "
                       f"no VAD, or failed){ex(self.no_features)}")
        out.append(f"dropped {len(self.too_short)} utterances of {self.min_len} frames or fewer "
                   f"(--min-len {self.min_len}){ex(self.too_short)}")
        out.append(f"dropped {len(self.few_utts_speakers)} speakers with fewer than {self.min_num_utts} utterances "
                   f"(--min-num-utts {self.min_num_utts}), {len(self.few_utts_utts)} utterances"
                   f"{ex(self.few_utts_speakers)}")
        out.append(f"kept {self.num_utts_out} utterances of {self.num_spks_out} speakers, {self.frames_out} frames")
        return out


def filter_training_utts(utt2num_frames: dict[str, int], utt2spk: dict[str, str], min_len: int,
                         min_num_utts: int) -> tuple[dict[str, str], FilterReport]:
    """Kaldi's x-vector training filters; returns the kept ``utt2spk`` and a report."""
    rep = FilterReport(min_len, min_num_utts, num_utts_in=len(utt2spk), num_spks_in=len(set(utt2spk.values())))
    rep.frames_in = sum(int(utt2num_frames.get(u, 0)) for u in utt2spk)
    kept: dict[str, str] = {}
    for utt in c_sorted(utt2spk):
        if utt not in utt2num_frames:
            rep.no_features.append(utt)
        elif int(utt2num_frames[utt]) <= min_len:
            rep.too_short.append(utt)
        else:
            kept[utt] = utt2spk[utt]
    spk2utt = utt2spk_to_spk2utt(kept)
    for spk in c_sorted(spk2utt):
        if len(spk2utt[spk]) < min_num_utts:
            rep.few_utts_speakers.append(spk)
            rep.few_utts_utts.extend(spk2utt[spk])
            for u in spk2utt[spk]:
                del kept[u]
    rep.num_utts_out = len(kept)
    rep.num_spks_out = len(set(kept.values()))
    rep.frames_out = sum(int(utt2num_frames[u]) for u in kept)
    return kept, rep


# per-utterance files of a data dir that follow utt2spk, and per-speaker ones that follow spk2utt
_UTT_FILES = ("feats.scp", "utt2num_frames", "utt2dur", "utt2lang", "utt2uniq", "text", "vad.scp", "segments")
_SPK_FILES = ("spk2gender",)


def filter_data_dir(data_dir: str | Path, min_len: int, min_num_utts: int) -> FilterReport:
    """Applies ``filter_training_utts`` to a data dir in place (utt2spk, spk2utt and the per-utterance and
    per-speaker files present; wav.scp keeps the recordings still used)."""
    data = Path(data_dir)
    for name in ("utt2spk", "utt2num_frames", "feats.scp"):
        if not (data / name).is_file():
            raise XvectorDataError(f"{data}: {name} is missing")
    utt2spk = read_map(data / "utt2spk")
    try:
        utt2num_frames = {u: int(v) for u, v in read_map(data / "utt2num_frames").items()}
    except ValueError as e:
        raise XvectorDataError(f"{data}/utt2num_frames: {e}") from None
    feats = read_map(data / "feats.scp")
    utt2num_frames = {u: n for u, n in utt2num_frames.items() if u in feats}
    kept, rep = filter_training_utts(utt2num_frames, utt2spk, min_len, min_num_utts)
    if not kept:
        raise XvectorDataError(f"{data}: no utterance is left after the filters:\n  " + "\n  ".join(rep.lines()))
    speakers = set(kept.values())
    write_map(data / "utt2spk", kept)
    write_list_map(data / "spk2utt", utt2spk_to_spk2utt(kept))
    for name in _UTT_FILES:
        path = data / name
        if path.is_file():
            table = read_map(path)
            write_map(path, {u: v for u, v in table.items() if u in kept})
    for name in _SPK_FILES:
        path = data / name
        if path.is_file():
            table = read_map(path)
            write_map(path, {s: v for s, v in table.items() if s in speakers})
    wav = data / "wav.scp"
    if wav.is_file():
        table = read_map(wav)
        if (data / "segments").is_file():
            recs = {v.split()[0] for v in read_map(data / "segments").values()}
        else:
            recs = set(kept)
        write_map(wav, {r: v for r, v in table.items() if r in recs})
    return rep
