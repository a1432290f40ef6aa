"""What an alignment (transition ids per frame) says: pdfs, phones, phone segments, words; and converting an
alignment to a new tree/model (Kaldi's ``ali-to-pdf``, ``ali-to-phones``, ``convert-ali``,
``phones-to-prons``)."""

from __future__ import annotations

import dataclasses
import sys
from typing import Sequence

import numpy as np

from phonsid.hmm.transition_model import TransitionModel
from phonsid.hmm.tree import ContextDependency


class AlignmentError(ValueError):
    """An alignment that does not fit the model (message names the utterance)."""


def check_tids(tm: TransitionModel, tids: np.ndarray, utt: str = "") -> np.ndarray:
    tids = np.asarray(tids, dtype=np.int64)
    if tids.size and (tids.min() < 1 or tids.max() > tm.num_transition_ids):
        raise AlignmentError(f"utterance '{utt}': transition ids outside 1..{tm.num_transition_ids} "
                             "(alignment and model do not match)")
    return tids


def tids_to_pdfs(tm: TransitionModel, tids: np.ndarray, utt: str = "") -> np.ndarray:
    return tm.tid2pdf[check_tids(tm, tids, utt)].astype(np.int32)


def tids_to_phones(tm: TransitionModel, tids: np.ndarray, utt: str = "") -> np.ndarray:
    """Phone id per frame."""
    return tm.tid2phone[check_tids(tm, tids, utt)].astype(np.int32)


@dataclasses.dataclass
class PhoneSegment:
    phone: int
    start: int  # first frame
    length: int  # frames


def split_to_phones(tm: TransitionModel, tids: np.ndarray, utt: str = "") -> list[PhoneSegment]:
    """Phone segments: a phone ends at a frame whose transition goes to its final state (Kaldi's
    ``SplitToPhones`` for non-reordered alignments)."""
    tids = check_tids(tm, tids, utt)
    if tids.size == 0:
        return []
    ends = np.nonzero(tm.tid_is_final[tids])[0]
    if len(ends) == 0 or ends[-1] != len(tids) - 1:
        raise AlignmentError(f"utterance '{utt}': alignment does not end at the end of a phone")
    starts = np.concatenate([[0], ends[:-1] + 1])
    segs = []
    for a, e in zip(starts, ends):
        phones = tm.tid2phone[tids[a:e + 1]]
        if np.any(phones != phones[0]):
            raise AlignmentError(f"utterance '{utt}': phone changes inside a segment at frame {a}")
        segs.append(PhoneSegment(int(phones[0]), int(a), int(e - a + 1)))
    return segs


def phone_windows(segments: Sequence[PhoneSegment], N: int, P: int) -> list[tuple[int, ...]]:
    """The phone window of each segment (0 beyond the utterance edges)."""
    phones = [s.phone for s in segments]
    out = []
    for i in range(len(phones)):
        out.append(tuple(phones[i + k - P] if 0 <= i + k - P < len(phones) else 0 for k in range(N)))
    return out


def convert_alignment(old_tm: TransitionModel, new_tm: TransitionModel, new_ctx: ContextDependency,
                      tids: np.ndarray, utt: str = "") -> np.ndarray:
    """Maps an alignment to another model with the same topology (Kaldi's ``convert-ali``): each frame keeps
    its phone, HMM state and arc; the pdf comes from the new tree with the phone's context."""
    tids = check_tids(old_tm, tids, utt)
    segs = split_to_phones(old_tm, tids, utt)
    windows = phone_windows(segs, new_ctx.N, new_ctx.P)
    out = np.empty_like(tids)
    for seg, win in zip(segs, windows):
        entry = new_tm.topo.entry(seg.phone)
        for t in range(seg.start, seg.start + seg.length):
            tid = tids[t]
            hs = int(old_tm.tid2hmm_state[tid])
            pdf = new_ctx.compute(win, entry[hs].pdf_class)
            ts = new_tm.transition_state(seg.phone, hs, pdf)
            out[t] = new_tm.transition_id(ts, int(old_tm.tid2index[tid]))
    return out


@dataclasses.dataclass
class WordSegment:
    word: str  # "" for optional silence between words
    start: int
    length: int
    phones: list[PhoneSegment]


def align_words(segments: Sequence[PhoneSegment], words: Sequence[str],
                lexicon: dict[str, list[tuple[float, tuple[int, ...]]]], optional_silence: int | None,
                utt: str = "") -> list[WordSegment]:
    """Groups phone segments into the transcript's words (silence between them kept as ``""`` segments) by
    matching pronunciations in order (Kaldi's ``phones-to-prons``)."""
    phones = [s.phone for s in segments]
    failed: set[tuple[int, int]] = set()

    def solve(i: int, k: int) -> list[tuple[int, int, int]] | None:
        # returns [(word index or -1, first segment, num segments)] covering segments[i:] and words[k:]
        if (i, k) in failed:
            return None
        ans = _solve(i, k)
        if ans is None:
            failed.add((i, k))
        return ans

    def _solve(i: int, k: int) -> list[tuple[int, int, int]] | None:
        if i == len(phones):
            return [] if k == len(words) else None
        if optional_silence is not None and phones[i] == optional_silence:
            rest = solve(i + 1, k)
            if rest is not None:
                return [(-1, i, 1)] + rest
        if k < len(words):
            for _, pron in lexicon.get(words[k], []):
                n = len(pron)
                if tuple(phones[i:i + n]) == pron:
                    rest = solve(i + n, k + 1)
                    if rest is not None:
                        return [(k, i, n)] + rest
        return None

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * len(phones) + 100))
    try:
        parts = solve(0, 0)
    finally:
        sys.setrecursionlimit(limit)
    if parts is None:
        raise AlignmentError(f"utterance '{utt}': the aligned phones do not match the transcript's pronunciations")
    out = []
    for k, i, n in parts:
        segs = list(segments[i:i + n])
        out.append(WordSegment(words[k] if k >= 0 else "", segs[0].start,
                               segs[-1].start + segs[-1].length - segs[0].start, segs))
    return out


def format_alignment(utt: str, segments: Sequence[PhoneSegment], phone_symbol, words: Sequence[WordSegment] | None,
                     frame_shift: float = 0.01) -> str:
    """Human-readable alignment of one utterance: one line per word (or per phone without words), with start
    and end times in seconds and the phones with their times."""
    def t(f: int) -> str:
        return f"{f * frame_shift:.2f}"

    num_frames = segments[-1].start + segments[-1].length if segments else 0
    lines = [f"{utt}  {num_frames} frames ({t(num_frames)} s)"]
    if words is None:
        for s in segments:
            lines.append(f"  {t(s.start):>7} {t(s.start + s.length):>7}  {phone_symbol(s.phone)}")
    else:
        width = max([len(w.word or "<sil>") for w in words] + [5])
        for w in words:
            phones = "  ".join(f"{phone_symbol(s.phone)} {t(s.start)}-{t(s.start + s.length)}" for s in w.phones)
            lines.append(f"  {t(w.start):>7} {t(w.start + w.length):>7}  {(w.word or '<sil>'):<{width}}  {phones}")
    return "\n".join(lines) + "\n"
