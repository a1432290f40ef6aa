"""Dictionary and "lang" directories (Kaldi's ``data/local/dict`` and ``data/lang``), without FSTs.

A dict dir holds ``lexicon.txt`` (or ``lexiconp.txt`` with pronunciation probabilities),
``nonsilence_phones.txt`` (one root per line: phones on one line, e.g. stress variants, share a tree root),
``silence_phones.txt``, ``optional_silence.txt`` and optionally ``extra_questions.txt``.

``prepare_lang`` turns it into a lang dir with Kaldi's file names: ``phones.txt``, ``words.txt``, ``topo``,
``oov.txt``/``oov.int``, ``phones/{silence,nonsilence,optional_silence,context_indep,sets,roots,
extra_questions}.{txt,int}``, and — in place of ``L.fst`` — ``phones/lexiconp.txt`` (word, probability,
phones) and ``phones/sil_prob.txt`` (the optional-silence probability between words). Phones are not made
word-position dependent.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Iterable, Sequence

from phonsid.io.atomic import atomic_write_text
from phonsid.hmm.topology import HmmTopology, make_topology, read_hmm_topology, write_hmm_topology


class LangError(ValueError):
    """A malformed dict or lang directory; the message names the file and line."""


@dataclasses.dataclass
class SymbolTable:
    """Kaldi symbol table (``phones.txt``, ``words.txt``): symbol ↔ integer id."""

    sym2id: dict[str, int]

    def __post_init__(self) -> None:
        self.id2sym = {i: s for s, i in self.sym2id.items()}

    def __getitem__(self, sym: str) -> int:
        return self.sym2id[sym]

    def __contains__(self, sym: str) -> bool:
        return sym in self.sym2id

    def symbol(self, idx: int) -> str:
        return self.id2sym[idx]

    def write(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, "".join(f"{s} {i}\n" for s, i in sorted(self.sym2id.items(), key=lambda x: x[1])))


def read_symbol_table(path: str | os.PathLike) -> SymbolTable:
    table: dict[str, int] = {}
    seen: set[int] = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise LangError(f"{path}:{lineno}: expected 'symbol id', got '{line.strip()}'")
            try:
                idx = int(fields[1])
            except ValueError:
                raise LangError(f"{path}:{lineno}: id '{fields[1]}' is not an integer") from None
            if fields[0] in table or idx in seen:
                raise LangError(f"{path}:{lineno}: duplicate symbol or id in '{line.strip()}'")
            table[fields[0]] = idx
            seen.add(idx)
    return SymbolTable(table)


def _read_phone_lines(path: Path, required: bool = True) -> list[list[str]]:
    if not path.exists():
        if required:
            raise LangError(f"{path}: missing")
        return []
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f if line.split()]


def read_lexicon(path: str | os.PathLike, with_probs: bool) -> list[tuple[str, float, list[str]]]:
    """``lexicon.txt`` (word phones...) or ``lexiconp.txt`` (word prob phones...) entries in file order."""
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            word, rest = fields[0], fields[1:]
            prob = 1.0
            if with_probs:
                try:
                    prob = float(rest[0])
                except (ValueError, IndexError):
                    raise LangError(f"{path}:{lineno}: expected 'word probability phones...'") from None
                if not 0.0 < prob <= 1.0:
                    raise LangError(f"{path}:{lineno}: pronunciation probability {prob} outside (0, 1]")
                rest = rest[1:]
            if not rest:
                raise LangError(f"{path}:{lineno}: word '{word}' has an empty pronunciation")
            out.append((word, prob, rest))
    return out


@dataclasses.dataclass
class DictDir:
    silence: list[list[str]]
    nonsilence: list[list[str]]
    optional_silence: str | None
    extra_questions: list[list[str]]
    lexicon: list[tuple[str, float, list[str]]]


def read_dict_dir(dict_dir: str | os.PathLike) -> DictDir:
    """Reads and checks a dict dir (phone files and lexicon)."""
    d = Path(dict_dir)
    sil = _read_phone_lines(d / "silence_phones.txt")
    nonsil = _read_phone_lines(d / "nonsilence_phones.txt")
    opt = _read_phone_lines(d / "optional_silence.txt", required=False)
    extra = _read_phone_lines(d / "extra_questions.txt", required=False)
    if not nonsil:
        raise LangError(f"{d / 'nonsilence_phones.txt'}: no phones")
    if not sil:
        raise LangError(f"{d / 'silence_phones.txt'}: no phones")
    all_phones = [p for line in sil + nonsil for p in line]
    dup = {p for p in all_phones if all_phones.count(p) > 1}
    if dup:
        raise LangError(f"{d}: phones {sorted(dup)} appear more than once in silence/nonsilence_phones.txt")
    for p in all_phones:
        if p.startswith("#") or p == "<eps>":
            raise LangError(f"{d}: phone name '{p}' is reserved")
    optional = None
    if opt:
        if len(opt) != 1 or len(opt[0]) != 1:
            raise LangError(f"{d / 'optional_silence.txt'}: expected exactly one phone")
        optional = opt[0][0]
        if optional not in {p for line in sil for p in line}:
            raise LangError(f"{d / 'optional_silence.txt'}: '{optional}' is not in silence_phones.txt")
    phone_set = set(all_phones)
    for i, q in enumerate(extra, 1):
        bad = [p for p in q if p not in phone_set]
        if bad:
            raise LangError(f"{d / 'extra_questions.txt'}:{i}: unknown phones {bad}")
    if (d / "lexiconp.txt").exists():
        lex = read_lexicon(d / "lexiconp.txt", with_probs=True)
        lex_name = "lexiconp.txt"
    elif (d / "lexicon.txt").exists():
        lex = read_lexicon(d / "lexicon.txt", with_probs=False)
        lex_name = "lexicon.txt"
    else:
        raise LangError(f"{d}: neither lexicon.txt nor lexiconp.txt")
    for word, _, pron in lex:
        bad = [p for p in pron if p not in phone_set]
        if bad:
            raise LangError(f"{d / lex_name}: word '{word}' uses unknown phones {bad}")
        if word in ("<eps>", "#0", "<s>", "</s>"):
            raise LangError(f"{d / lex_name}: word '{word}' is reserved")
    return DictDir(sil, nonsil, optional, extra, lex)


def prepare_lang(dict_dir: str | os.PathLike, oov_word: str, lang_dir: str | os.PathLike, sil_prob: float = 0.5,
                 num_sil_states: int = 5, num_nonsil_states: int = 3) -> None:
    """Writes a lang dir from a dict dir (see the module docstring)."""
    if not 0.0 <= sil_prob < 1.0:
        raise LangError(f"--sil-prob must be in [0, 1), got {sil_prob}")
    dd = read_dict_dir(dict_dir)
    words = {w for w, _, _ in dd.lexicon}
    if oov_word not in words:
        raise LangError(f"{dict_dir}: the OOV word '{oov_word}' is not in the lexicon")
    out = Path(lang_dir)
    (out / "phones").mkdir(parents=True, exist_ok=True)
    phone_list = ["<eps>"] + [p for line in dd.silence for p in line] + [p for line in dd.nonsilence for p in line]
    phones = SymbolTable({p: i for i, p in enumerate(phone_list)})
    word_list = ["<eps>"] + sorted(words, key=lambda w: w.encode()) + ["#0", "<s>", "</s>"]
    SymbolTable({w: i for i, w in enumerate(word_list)}).write(out / "words.txt")
    phones.write(out / "phones.txt")

    def write_sets(name: str, sets: Sequence[Sequence[str]], prefix: Sequence[str] = ()) -> None:
        txt = "".join(" ".join([*prefix, *s]) + "\n" for s in sets)
        ints = "".join(" ".join([*prefix, *(str(phones[p]) for p in s)]) + "\n" for s in sets)
        atomic_write_text(out / "phones" / f"{name}.txt", txt)
        atomic_write_text(out / "phones" / f"{name}.int", ints)

    sil_flat = [p for line in dd.silence for p in line]
    nonsil_flat = [p for line in dd.nonsilence for p in line]
    write_sets("silence", [[p] for p in sil_flat])
    write_sets("nonsilence", [[p] for p in nonsil_flat])
    write_sets("context_indep", [[p] for p in sil_flat])
    write_sets("optional_silence", [[dd.optional_silence]] if dd.optional_silence else [])
    write_sets("sets", dd.silence + dd.nonsilence)
    write_sets("extra_questions", [sil_flat, nonsil_flat] + dd.extra_questions)
    roots_txt = "".join("shared split " + " ".join(s) + "\n" for s in dd.silence + dd.nonsilence)
    roots_int = "".join("shared split " + " ".join(str(phones[p]) for p in s) + "\n"
                        for s in dd.silence + dd.nonsilence)
    atomic_write_text(out / "phones" / "roots.txt", roots_txt)
    atomic_write_text(out / "phones" / "roots.int", roots_int)
    atomic_write_text(out / "phones" / "lexiconp.txt",
                      "".join(f"{w} {p:g} {' '.join(pr)}\n" for w, p, pr in dd.lexicon))
    atomic_write_text(out / "phones" / "sil_prob.txt", f"{sil_prob:g}\n")
    words_table = read_symbol_table(out / "words.txt")
    atomic_write_text(out / "oov.txt", oov_word + "\n")
    atomic_write_text(out / "oov.int", f"{words_table[oov_word]}\n")
    topo = make_topology([phones[p] for p in nonsil_flat], [phones[p] for p in sil_flat],
                         num_nonsil_states, num_sil_states)
    write_hmm_topology(str(out / "topo"), topo)


@dataclasses.dataclass
class Lang:
    """A loaded lang dir: symbol tables, phone classes (as ids), lexicon (word → [(log-prob, phone ids)])."""

    dir: str
    phones: SymbolTable
    words: SymbolTable
    topo: HmmTopology
    silence: list[int]
    nonsilence: list[int]
    optional_silence: int | None
    sets: list[list[int]]
    roots: list[tuple[list[int], bool, bool]]
    extra_questions: list[list[int]]
    lexicon: dict[str, list[tuple[float, tuple[int, ...]]]]
    oov: str
    sil_prob: float

    def pronunciations(self, word: str) -> list[tuple[float, tuple[int, ...]]]:
        return self.lexicon[word]

    def map_oov(self, words: Iterable[str], oov_counts: dict[str, int] | None = None) -> list[str]:
        """Words with those missing from the lexicon replaced by the OOV word (counted in ``oov_counts``)."""
        out = []
        for w in words:
            if w in self.lexicon:
                out.append(w)
            else:
                if oov_counts is not None:
                    oov_counts[w] = oov_counts.get(w, 0) + 1
                out.append(self.oov)
        return out


def _read_int_sets(path: Path) -> list[list[int]]:
    if not path.exists():
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if fields:
                try:
                    out.append([int(x) for x in fields])
                except ValueError:
                    raise LangError(f"{path}:{lineno}: expected phone ids") from None
    return out


def read_lang(lang_dir: str | os.PathLike) -> Lang:
    """Loads a lang dir written by ``prepare_lang``."""
    d = Path(lang_dir)
    for name in ("phones.txt", "words.txt", "topo", "oov.txt", "phones/lexiconp.txt", "phones/sets.int",
                 "phones/roots.int", "phones/silence.int", "phones/nonsilence.int"):
        if not (d / name).exists():
            raise LangError(f"{d / name}: missing (is {d} a lang dir made by prepare_lang.py?)")
    phones = read_symbol_table(d / "phones.txt")
    words = read_symbol_table(d / "words.txt")
    topo = read_hmm_topology(str(d / "topo"))
    silence = [p for s in _read_int_sets(d / "phones/silence.int") for p in s]
    nonsilence = [p for s in _read_int_sets(d / "phones/nonsilence.int") for p in s]
    opt = _read_int_sets(d / "phones/optional_silence.int")
    optional = opt[0][0] if opt else None
    roots = []
    with open(d / "phones/roots.int", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 3 or fields[0] not in ("shared", "not-shared") or fields[1] not in ("split", "not-split"):
                raise LangError(f"{d / 'phones/roots.int'}:{lineno}: expected '[not-]shared [not-]split phones...'")
            roots.append(([int(x) for x in fields[2:]], fields[0] == "shared", fields[1] == "split"))
    lexicon: dict[str, list[tuple[float, tuple[int, ...]]]] = {}
    for word, prob, pron in read_lexicon(d / "phones/lexiconp.txt", with_probs=True):
        try:
            ids = tuple(phones[p] for p in pron)
        except KeyError as e:
            raise LangError(f"{d / 'phones/lexiconp.txt'}: word '{word}' uses phone {e} missing from phones.txt") \
                from None
        lexicon.setdefault(word, []).append((math.log(prob), ids))
    with open(d / "oov.txt", encoding="utf-8") as f:
        oov = f.read().strip()
    if oov not in lexicon:
        raise LangError(f"{d / 'oov.txt'}: OOV word '{oov}' has no pronunciation")
    sil_prob = 0.5
    if (d / "phones/sil_prob.txt").exists():
        sil_prob = float((d / "phones/sil_prob.txt").read_text().strip())
    covered = set(topo.phones)
    missing = [phones.symbol(p) for p in silence + nonsilence if p not in covered]
    if missing:
        raise LangError(f"{d / 'topo'}: phones {missing} have no topology")
    return Lang(str(d), phones, words, topo, silence, nonsilence, optional, _read_int_sets(d / "phones/sets.int"),
                roots, _read_int_sets(d / "phones/extra_questions.int"), lexicon, oov, sil_prob)
