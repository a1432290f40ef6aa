"""Phonetic decision trees as Kaldi's ``ContextDependency``: an event map from a phone window and a pdf-class
to a pdf id (a tied state, "senone").

An *event* is a dict ``{key: value}``: keys ``0 .. N-1`` are the phones of the window (``P`` is the central
one, 0 stands for "no phone" at utterance edges) and key ``-1`` is the pdf-class (usually the HMM state).
Three node types, as Kaldi's: ``ConstantEventMap`` (a leaf with a pdf id), ``TableEventMap`` (a child per
value of one key) and ``SplitEventMap`` (yes/no on "value of key is in the set").
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, Sequence, Union

from phonsid.io import KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import KaldiFormatError, read_object_file, write_object_file

PDF_CLASS_KEY = -1


@dataclasses.dataclass(frozen=True)
class ConstantEventMap:
    answer: int


@dataclasses.dataclass(frozen=True)
class TableEventMap:
    key: int
    table: tuple["EventMap | None", ...]


@dataclasses.dataclass(frozen=True)
class SplitEventMap:
    key: int
    yes_set: frozenset[int]
    yes: "EventMap"
    no: "EventMap"


EventMap = Union[ConstantEventMap, TableEventMap, SplitEventMap]


class TreeError(ValueError):
    """An event the tree cannot answer, or a malformed tree."""


def map_event(node: EventMap | None, event: Mapping[int, int]) -> int | None:
    """The answer (pdf id) for a full event, or None where the tree has no entry."""
    while node is not None:
        if isinstance(node, ConstantEventMap):
            return node.answer
        value = event.get(node.key)
        if value is None:
            raise TreeError(f"event {dict(event)} has no value for key {node.key}")
        if isinstance(node, TableEventMap):
            node = node.table[value] if 0 <= value < len(node.table) else None
        else:
            node = node.yes if value in node.yes_set else node.no
    return None


def possible_answers(node: EventMap | None, event: Mapping[int, int]) -> set[int]:
    """All answers reachable for a partial event (keys not in ``event`` may take any value)."""
    if node is None:
        return set()
    if isinstance(node, ConstantEventMap):
        return {node.answer}
    if node.key in event:
        value = event[node.key]
        if isinstance(node, TableEventMap):
            return possible_answers(node.table[value] if 0 <= value < len(node.table) else None, event)
        return possible_answers(node.yes if value in node.yes_set else node.no, event)
    if isinstance(node, TableEventMap):
        out: set[int] = set()
        for child in node.table:
            out |= possible_answers(child, event)
        return out
    return possible_answers(node.yes, event) | possible_answers(node.no, event)


def all_answers(node: EventMap | None) -> set[int]:
    return possible_answers(node, {})


def count_nodes(node: EventMap | None) -> int:
    if node is None or isinstance(node, ConstantEventMap):
        return 0 if node is None else 1
    if isinstance(node, TableEventMap):
        return 1 + sum(count_nodes(c) for c in node.table)
    return 1 + count_nodes(node.yes) + count_nodes(node.no)


@dataclasses.dataclass
class ContextDependency:
    """``N``: phone window width (1 monophone, 3 triphone), ``P``: central position, ``to_pdf``: the tree."""

    N: int
    P: int
    to_pdf: EventMap

    def __post_init__(self) -> None:
        self._cache: dict[tuple[tuple[int, ...], int], int] = {}
        answers = all_answers(self.to_pdf)
        self.num_pdfs = 1 + max(answers) if answers else 0

    def compute(self, window: Sequence[int], pdf_class: int) -> int:
        """pdf id for a phone window (length N) and pdf-class; raises ``TreeError`` if the tree has none."""
        key = (tuple(window), pdf_class)
        pdf = self._cache.get(key)
        if pdf is None:
            if len(window) != self.N:
                raise TreeError(f"phone window {list(window)} has length {len(window)}, the tree needs {self.N}")
            event = {i: int(p) for i, p in enumerate(window)}
            event[PDF_CLASS_KEY] = pdf_class
            pdf = map_event(self.to_pdf, event)
            if pdf is None:
                raise TreeError(f"the tree has no pdf for phone window {list(window)} pdf-class {pdf_class}")
            self._cache[key] = pdf
        return pdf

    def pdf_info(self, phones: Iterable[int], num_pdf_classes: Mapping[int, int]) -> list[list[tuple[int, int]]]:
        """For each pdf, the ``(phone, pdf_class)`` pairs it can be reached from (Kaldi's ``GetPdfInfo``)."""
        info: list[set[tuple[int, int]]] = [set() for _ in range(self.num_pdfs)]
        for phone in phones:
            for pc in range(num_pdf_classes[phone]):
                pdfs = possible_answers(self.to_pdf, {self.P: phone, PDF_CLASS_KEY: pc})
                if not pdfs:
                    raise TreeError(f"the tree has no pdf for phone {phone} pdf-class {pc}")
                for pdf in pdfs:
                    info[pdf].add((phone, pc))
        return [sorted(s) for s in info]


def monophone_tree(phone_sets: Sequence[Sequence[int]], num_pdf_classes: Mapping[int, int]) -> ContextDependency:
    """A monophone tree: one pdf per (phone set, pdf-class), numbered set by set (Kaldi's gmm-init-mono with
    ``--shared-phones``); phones in one set share their pdfs."""
    seen: set[int] = set()
    table: dict[int, EventMap] = {}
    next_pdf = 0
    for pset in phone_sets:
        pset = list(pset)
        if not pset:
            continue
        if seen & set(pset):
            raise TreeError(f"phones {sorted(seen & set(pset))} are in more than one phone set")
        seen |= set(pset)
        n = {num_pdf_classes[p] for p in pset}
        if len(n) != 1:
            raise TreeError(f"phones {pset} share pdfs but have different numbers of pdf-classes")
        k = n.pop()
        sub = TableEventMap(PDF_CLASS_KEY, tuple(ConstantEventMap(next_pdf + i) for i in range(k)))
        next_pdf += k
        for p in pset:
            table[p] = sub
    size = max(table) + 1
    root = TableEventMap(0, tuple(table.get(i) for i in range(size)))
    return ContextDependency(1, 0, root)


# ---------------------------------------------------------------------------------------------------------
# Kaldi serialisation (``tree`` files: "ContextDependency N P ToPdf <EventMap> EndContextDependency").

def _write_event_map(w: KaldiWriter, node: EventMap | None) -> None:
    if node is None:
        w.write_token("NULL")
    elif isinstance(node, ConstantEventMap):
        w.write_token("CE")
        w.write_int(node.answer)
    elif isinstance(node, TableEventMap):
        w.write_token("TE")
        w.write_int(node.key)
        w.write_uint32(len(node.table))
        w.write_token("(")
        for child in node.table:
            _write_event_map(w, child)
        w.write_token(")")
        w.write_newline()
    else:
        w.write_token("SE")
        w.write_int(node.key)
        w.write_int_vector(sorted(node.yes_set))
        w.write_token("{")
        _write_event_map(w, node.yes)
        _write_event_map(w, node.no)
        w.write_token("}")
        w.write_newline()


def _read_event_map(r: KaldiReader) -> EventMap | None:
    tok = r.read_token()
    if tok == "NULL":
        return None
    if tok == "CE":
        return ConstantEventMap(r.read_int())
    if tok == "TE":
        key = r.read_int()
        size = r.read_uint32()
        r.expect_token("(")
        table = tuple(_read_event_map(r) for _ in range(size))
        r.expect_token(")")
        return TableEventMap(key, table)
    if tok == "SE":
        key = r.read_int()
        yes_set = frozenset(int(x) for x in r.read_int_vector())
        r.expect_token("{")
        yes = _read_event_map(r)
        no = _read_event_map(r)
        r.expect_token("}")
        if yes is None or no is None:
            raise KaldiFormatError(f"{r.name}: SplitEventMap with a NULL child")
        return SplitEventMap(key, yes_set, yes, no)
    raise KaldiFormatError(f"{r.name}: expected an event map (CE, TE, SE or NULL), got {tok}")


def write_context_dependency_to(w: KaldiWriter, ctx: ContextDependency) -> None:
    w.write_token("ContextDependency")
    w.write_int(ctx.N)
    w.write_int(ctx.P)
    w.write_token("ToPdf")
    _write_event_map(w, ctx.to_pdf)
    w.write_token("EndContextDependency")
    w.write_newline()


def read_context_dependency_from(r: KaldiReader) -> ContextDependency:
    r.expect_token("ContextDependency")
    n = r.read_int()
    p = r.read_int()
    r.expect_token("ToPdf")
    root = _read_event_map(r)
    r.expect_token("EndContextDependency")
    if root is None:
        raise KaldiFormatError(f"{r.name}: empty tree")
    if not 0 <= p < n:
        raise KaldiFormatError(f"{r.name}: central position {p} outside a window of {n}")
    return ContextDependency(n, p, root)


def read_tree(rxfilename: str) -> ContextDependency:
    """Reads a Kaldi ``tree`` file (binary or text)."""
    return read_object_file(rxfilename, read_context_dependency_from)


def write_tree(wxfilename: str, ctx: ContextDependency, binary: bool = True) -> None:
    """Writes a Kaldi ``tree`` file."""
    write_object_file(wxfilename, binary, lambda w: write_context_dependency_to(w, ctx))
