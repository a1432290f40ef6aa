"""A synthetic corpus with a known alignment: features drawn from per-(phone, state) Gaussians, with a shift
that depends on the neighbouring phone (so triphone trees have something to find)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

NONSIL = ["a", "b", "c", "d", "e", "f", "g", "h"]
SIL = ["SIL", "SPN"]
LEXICON = {
    "ab": [["a", "b"]], "bad": [["b", "a", "d"]], "cafe": [["c", "a", "f", "e"]], "dig": [["d", "h", "g"]],
    "egg": [["e", "g"]], "fade": [["f", "a", "d", "e"]], "hedge": [["h", "e", "d", "g"], ["h", "e", "g"]],
    "gab": [["g", "a", "b"]], "cab": [["c", "a", "b"]], "beef": [["b", "e", "f"]], "ahead": [["a", "h", "e", "d"]],
    "deaf": [["d", "e", "f"], ["d", "h", "f"]], "<unk>": [["SPN"]],
}


@dataclasses.dataclass
class SynthCorpus:
    feats: dict[str, np.ndarray]
    texts: dict[str, list[str]]
    true_phones: dict[str, list[str]]  # phone symbol per frame
    utt2spk: dict[str, str]


def write_dict_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "silence_phones.txt").write_text("".join(p + "\n" for p in SIL))
    (path / "nonsilence_phones.txt").write_text("".join(p + "\n" for p in NONSIL))
    (path / "optional_silence.txt").write_text("SIL\n")
    (path / "lexicon.txt").write_text("".join(f"{w} {' '.join(p)}\n" for w, ps in LEXICON.items() for p in ps))
    return path


def make_corpus(num_utts: int = 120, dim: int = 5, seed: int = 0, context_shift: float = 1.5,
                noise: float = 1.0) -> SynthCorpus:
    rng = np.random.default_rng(seed)
    phones = SIL + NONSIL
    nstates = {p: (5 if p in SIL else 3) for p in phones}
    means = {(p, s): rng.normal(0, 3.0, dim) for p in phones for s in range(nstates[p])}
    ctx_vec = {p: rng.normal(0, 1.0, dim) for p in phones + ["<b>"]}
    words = [w for w in LEXICON if w != "<unk>"]
    feats, texts, truth, utt2spk = {}, {}, {}, {}
    for u in range(num_utts):
        utt = f"spk{u % 4}-utt{u:03d}"
        ws = list(rng.choice(words, size=rng.integers(2, 6)))
        seq: list[str] = ["SIL"]
        for i, w in enumerate(ws):
            prons = LEXICON[w]
            seq += prons[rng.integers(len(prons))]
            if i + 1 < len(ws) and rng.random() < 0.3:
                seq.append("SIL")
        seq.append("SIL")
        frames, labels = [], []
        for i, p in enumerate(seq):
            left = seq[i - 1] if i > 0 else "<b>"
            right = seq[i + 1] if i + 1 < len(seq) else "<b>"
            for s in range(nstates[p]):
                dur = 1 + rng.geometric(0.4 if p not in SIL else 0.25)
                mu = means[(p, s)].copy()
                if s == 0:
                    mu += context_shift * ctx_vec[left]
                if s == nstates[p] - 1:
                    mu += context_shift * ctx_vec[right]
                frames.append(mu + noise * rng.standard_normal((dur, dim)))
                labels += [p] * dur
        feats[utt] = np.concatenate(frames).astype(np.float32)
        texts[utt] = ws
        truth[utt] = labels
        utt2spk[utt] = utt.split("-")[0]
    return SynthCorpus(feats, texts, truth, utt2spk)


def frame_accuracy(tm, phones_table, ali: dict[str, np.ndarray], truth: dict[str, list[str]]) -> float:
    right = total = 0
    for utt, labels in truth.items():
        total += len(labels)
        if utt not in ali:
            continue
        hyp = [phones_table.symbol(int(p)) for p in tm.tid2phone[ali[utt]]]
        right += sum(h == t for h, t in zip(hyp, labels))
    return right / total
