"""The demo language: its phone set and a fixed lexicon of pseudo-words.

The phone set is 24 speech phones (ARPAbet names) plus silence: 8 vowels, 3 approximants, 2 nasals, 5 fricatives
and 6 stops. The lexicon is ~100 pseudo-words of 1-3 syllables drawn once from a fixed seed, so every demo corpus
(whatever its ``--seed``) speaks the same language and ``data/local/dict_demo`` is always the same.

The dict dir follows Kaldi's ``data/local/dict`` format: ``SIL`` is the optional silence, ``SPN`` (spoken noise)
is a second silence phone that only the out-of-vocabulary word ``<unk>`` uses (Kaldi's ``prepare_lang.sh`` needs
an OOV entry); the generator never produces it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Sequence

import numpy as np

from phonsid.io.atomic import atomic_write_text

SILENCE = "SIL"
SPOKEN_NOISE = "SPN"
OOV_WORD = "<unk>"
SILENCE_WORD = "!SIL"

VOWELS = ("AA", "AE", "AH", "EH", "IH", "IY", "OW", "UW")
APPROXIMANTS = ("L", "R", "W")
NASALS = ("M", "N")
FRICATIVES = ("F", "S", "SH", "V", "Z")
STOPS = ("B", "D", "G", "K", "P", "T")
CONSONANTS = STOPS + FRICATIVES + NASALS + APPROXIMANTS
NONSILENCE_PHONES = VOWELS + CONSONANTS
SILENCE_PHONES = (SILENCE, SPOKEN_NOISE)

# Spelling of each phone in word names; chosen so that no spelling of a word is ambiguous in practice
# (the generator checks uniqueness anyway).
_SPELLING = {
    "AA": "a", "AE": "ae", "AH": "u", "EH": "e", "IH": "i", "IY": "ee", "OW": "o", "UW": "oo",
    "L": "l", "R": "r", "W": "w", "M": "m", "N": "n",
    "F": "f", "S": "s", "SH": "sh", "V": "v", "Z": "z",
    "B": "b", "D": "d", "G": "g", "K": "k", "P": "p", "T": "t",
}

LEXICON_SEED = 20180902  # fixed: the language does not change with the corpus seed
DEFAULT_NUM_WORDS = 100

_ONSET_CLUSTERS = (("S", "T"), ("S", "P"), ("S", "K"), ("P", "R"), ("T", "R"), ("K", "R"), ("B", "R"),
                   ("G", "R"), ("D", "R"), ("F", "R"), ("P", "L"), ("K", "L"), ("B", "L"), ("F", "L"))


def phone_kind(phone: str) -> str:
    """'vowel', 'approximant', 'nasal', 'fricative', 'stop' or 'silence'."""
    if phone in VOWELS:
        return "vowel"
    if phone in APPROXIMANTS:
        return "approximant"
    if phone in NASALS:
        return "nasal"
    if phone in FRICATIVES:
        return "fricative"
    if phone in STOPS:
        return "stop"
    if phone in SILENCE_PHONES:
        return "silence"
    raise KeyError(f"unknown demo phone '{phone}'")


def phone_table() -> dict[str, int]:
    """The phone symbol table written as ``phones.txt``: ``<eps>`` 0, silence phones, then speech phones."""
    symbols = ("<eps>",) + SILENCE_PHONES + NONSILENCE_PHONES
    return {s: i for i, s in enumerate(symbols)}


@dataclasses.dataclass(frozen=True)
class Word:
    name: str
    phones: tuple[str, ...]
    syllables: tuple[tuple[int, int], ...]  # (first phone index, vowel index) of each syllable


def _syllable(rng: np.random.Generator, first: bool, last: bool) -> list[str]:
    phones: list[str] = []
    r = rng.random()
    if first and r < 0.12:
        phones.extend(_ONSET_CLUSTERS[rng.integers(len(_ONSET_CLUSTERS))])
    elif r < 0.88 or not first:
        phones.append(CONSONANTS[rng.integers(len(CONSONANTS))])
    phones.append(VOWELS[rng.integers(len(VOWELS))])
    if last and rng.random() < 0.55:
        coda = [c for c in CONSONANTS if c != "W"]
        phones.append(coda[rng.integers(len(coda))])
    return phones


def make_lexicon(num_words: int = DEFAULT_NUM_WORDS, seed: int = LEXICON_SEED) -> list[Word]:
    """``num_words`` distinct pseudo-words (distinct spellings and pronunciations), sorted by name."""
    rng = np.random.default_rng(seed)
    words: dict[str, Word] = {}
    prons: set[tuple[str, ...]] = set()
    while len(words) < num_words:
        n_syl = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
        phones: list[str] = []
        syllables: list[tuple[int, int]] = []
        for s in range(n_syl):
            syl = _syllable(rng, first=s == 0, last=s == n_syl - 1)
            vowel_at = len(phones) + next(i for i, p in enumerate(syl) if p in VOWELS)
            syllables.append((len(phones), vowel_at))
            phones.extend(syl)
        # (syllables after the first always have an onset, so no two vowels meet and no phone repeats)
        name = "".join(_SPELLING[p] for p in phones)
        pron = tuple(phones)
        if name in words or pron in prons or len(phones) < 2:
            continue
        words[name] = Word(name, pron, tuple(syllables))
        prons.add(pron)
    return [words[k] for k in sorted(words, key=lambda k: k.encode())]


def write_dict_dir(dict_dir: str | os.PathLike, lexicon: Sequence[Word]) -> None:
    """Writes a Kaldi dict dir: lexicon.txt, nonsilence_phones.txt, silence_phones.txt, optional_silence.txt,
    extra_questions.txt (empty)."""
    entries = {w.name: " ".join(w.phones) for w in lexicon}
    entries[SILENCE_WORD] = SILENCE
    entries[OOV_WORD] = SPOKEN_NOISE
    lines = [f"{k} {entries[k]}\n" for k in sorted(entries, key=lambda k: k.encode())]
    atomic_write_text(os.path.join(dict_dir, "lexicon.txt"), "".join(lines))
    atomic_write_text(os.path.join(dict_dir, "nonsilence_phones.txt"), "".join(p + "\n" for p in NONSILENCE_PHONES))
    atomic_write_text(os.path.join(dict_dir, "silence_phones.txt"), "".join(p + "\n" for p in SILENCE_PHONES))
    atomic_write_text(os.path.join(dict_dir, "optional_silence.txt"), SILENCE + "\n")
    atomic_write_text(os.path.join(dict_dir, "extra_questions.txt"), "")
