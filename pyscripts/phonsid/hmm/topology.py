"""HMM topologies (Kaldi's ``HmmTopology``): for each phone, a list of states with a pdf-class and outgoing
transitions; the last state is the non-emitting final state.

The default topologies follow Kaldi's ``utils/gen_topo.pl``: three emitting states left to right for
non-silence phones (self-loop 0.75, forward 0.25) and five emitting states for silence phones, where states
1-3 are fully connected ("ergodic") so silence can last any number of frames above five.

Constraints used by the aligner (checked by ``check``): state 0 is emitting and is the entry state; every
non-final state is emitting; the final state has no transitions and no pdf-class; pdf-classes are
0..n-1 for each entry.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

from phonsid.io import KaldiReader, KaldiWriter
from phonsid.io.kaldi_object import KaldiFormatError
from phonsid.io.kaldi_object import read_object_file, write_object_file

NO_PDF = -1


class TopologyError(ValueError):
    """A topology the aligner cannot use (the message says which entry and state)."""


@dataclasses.dataclass
class HmmState:
    """One HMM state: ``pdf_class`` (-1 for the non-emitting final state) and ``(destination, prob)`` arcs."""

    pdf_class: int
    transitions: list[tuple[int, float]]


@dataclasses.dataclass
class HmmTopology:
    """Topology entries and the phones each one is for."""

    entries: list[list[HmmState]]
    phone2entry: dict[int, int]

    @property
    def phones(self) -> list[int]:
        return sorted(self.phone2entry)

    def entry(self, phone: int) -> list[HmmState]:
        try:
            return self.entries[self.phone2entry[phone]]
        except KeyError:
            raise TopologyError(f"phone {phone} is not covered by the topology") from None

    def num_pdf_classes(self, phone: int) -> int:
        return 1 + max(s.pdf_class for s in self.entry(phone))

    def num_states(self, phone: int) -> int:
        """Number of emitting states (the final state excluded)."""
        return len(self.entry(phone)) - 1

    def min_length(self, phone: int) -> int:
        """Fewest frames the phone can take (shortest path from state 0 to the final state)."""
        entry = self.entry(phone)
        final = len(entry) - 1
        dist = {0: 1}
        frontier = [0]
        while frontier:
            nxt = []
            for s in frontier:
                for d, _ in entry[s].transitions:
                    if d == final:
                        return dist[s]
                    if d not in dist:
                        dist[d] = dist[s] + 1
                        nxt.append(d)
            frontier = nxt
        raise TopologyError(f"phone {phone}: the final state cannot be reached")

    def flat_start_state_path(self, phone: int) -> list[int]:
        """Emitting states for a flat-start alignment: every state in order (0 → 1 → … → final) when the
        topology allows it, so every pdf gets data; otherwise a shortest path."""
        entry = self.entry(phone)
        n = len(entry) - 1
        if all(any(d == j + 1 for d, _ in entry[j].transitions) for j in range(n)):
            return list(range(n))
        return self.shortest_state_path(phone)

    def shortest_state_path(self, phone: int) -> list[int]:
        """Emitting states along a shortest path from state 0 to the final state."""
        entry = self.entry(phone)
        final = len(entry) - 1
        prev = {0: -1}
        frontier = [0]
        while frontier:
            nxt = []
            for s in frontier:
                for d, _ in entry[s].transitions:
                    if d == final:
                        path = [s]
                        while prev[path[-1]] >= 0:
                            path.append(prev[path[-1]])
                        return path[::-1]
                    if d not in prev:
                        prev[d] = s
                        nxt.append(d)
            frontier = nxt
        raise TopologyError(f"phone {phone}: the final state cannot be reached")

    def check(self) -> None:
        """Raises ``TopologyError`` if an entry breaks the constraints in the module docstring."""
        if not self.entries or not self.phone2entry:
            raise TopologyError("empty topology")
        used = set(self.phone2entry.values())
        for i, entry in enumerate(self.entries):
            if i not in used:
                raise TopologyError(f"topology entry {i} is for no phone")
            n = len(entry)
            if n < 2:
                raise TopologyError(f"topology entry {i} has no emitting state")
            if entry[-1].transitions or entry[-1].pdf_class != NO_PDF:
                raise TopologyError(f"topology entry {i}: the last state must be non-emitting with no transitions")
            classes = set()
            for j, st in enumerate(entry[:-1]):
                if st.pdf_class == NO_PDF:
                    raise TopologyError(f"topology entry {i} state {j}: non-emitting states other than the final "
                                        "state are not supported")
                classes.add(st.pdf_class)
                if not st.transitions:
                    raise TopologyError(f"topology entry {i} state {j} has no transitions")
                dests = [d for d, _ in st.transitions]
                if len(set(dests)) != len(dests):
                    raise TopologyError(f"topology entry {i} state {j} has duplicate transitions")
                for d, p in st.transitions:
                    if not 0 <= d < n:
                        raise TopologyError(f"topology entry {i} state {j}: invalid destination {d}")
                    if not p > 0:
                        raise TopologyError(f"topology entry {i} state {j}: transition probability {p} is not > 0")
                if abs(sum(p for _, p in st.transitions) - 1.0) > 0.01:
                    raise TopologyError(f"topology entry {i} state {j}: probabilities sum to "
                                        f"{sum(p for _, p in st.transitions)}")
            if classes != set(range(len(classes))):
                raise TopologyError(f"topology entry {i}: pdf-classes must be 0..n-1, got {sorted(classes)}")
        for p in self.phone2entry:
            self.min_length(p)


def make_topology(nonsilence_phones: Iterable[int], silence_phones: Iterable[int],
                  num_nonsil_states: int = 3, num_sil_states: int = 5) -> HmmTopology:
    """Kaldi's default topologies (``utils/gen_topo.pl``)."""
    entries: list[list[HmmState]] = []
    phone2entry: dict[int, int] = {}
    nonsil = sorted(set(nonsilence_phones))
    sil = sorted(set(silence_phones))
    if set(nonsil) & set(sil):
        raise TopologyError(f"phones {sorted(set(nonsil) & set(sil))} are both silence and non-silence")
    if nonsil:
        n = num_nonsil_states
        entry = [HmmState(j, [(j, 0.75), (j + 1, 0.25)]) for j in range(n)] + [HmmState(NO_PDF, [])]
        phone2entry.update({p: len(entries) for p in nonsil})
        entries.append(entry)
    if sil:
        n = num_sil_states
        entry: list[HmmState] = []
        if n == 1:
            entry.append(HmmState(0, [(0, 0.75), (1, 0.25)]))
        else:
            p0 = 1.0 / (n - 1)
            entry.append(HmmState(0, [(j, p0) for j in range(n - 1)]))
            for j in range(1, n - 1):
                entry.append(HmmState(j, [(k, 1.0 / (n - 1)) for k in range(1, n)]))
            entry.append(HmmState(n - 1, [(n - 1, 0.75), (n, 0.25)]))
        entry.append(HmmState(NO_PDF, []))
        phone2entry.update({p: len(entries) for p in sil})
        entries.append(entry)
    topo = HmmTopology(entries, phone2entry)
    topo.check()
    return topo


# ---------------------------------------------------------------------------------------------------------
# Kaldi serialisation: the human-readable text form (<TopologyEntry> blocks) and the binary form.

def write_hmm_topology_to(w: KaldiWriter, topo: HmmTopology) -> None:
    w.write_token("<Topology>")
    max_phone = max(topo.phone2entry)
    if not w.binary:
        w.f.write(b"\n")
        for i, entry in enumerate(topo.entries):
            phones = sorted(p for p, e in topo.phone2entry.items() if e == i)
            lines = ["<TopologyEntry>", "<ForPhones>", " ".join(str(p) for p in phones), "</ForPhones>"]
            for j, st in enumerate(entry):
                parts = [f"<State> {j}"]
                if st.pdf_class != NO_PDF:
                    parts.append(f"<PdfClass> {st.pdf_class}")
                parts += [f"<Transition> {d} {_fmt(p)}" for d, p in st.transitions]
                parts.append("</State>")
                lines.append(" ".join(parts))
            lines.append("</TopologyEntry>")
            w.f.write(("\n".join(lines) + "\n").encode())
    else:
        phones = topo.phones
        phone2idx = [-1] * (max_phone + 1)
        for p, e in topo.phone2entry.items():
            phone2idx[p] = e
        w.write_int_vector(phones)
        w.write_int_vector(phone2idx)
        w.write_int(len(topo.entries))
        for entry in topo.entries:
            w.write_int(len(entry))
            for st in entry:
                w.write_int(st.pdf_class)
                w.write_int(len(st.transitions))
                for d, p in st.transitions:
                    w.write_int(d)
                    w.write_float(p)
    w.write_token("</Topology>")
    w.write_newline()


def read_hmm_topology_from(r: KaldiReader) -> HmmTopology:
    r.expect_token("<Topology>")
    entries: list[list[HmmState]] = []
    phone2entry: dict[int, int] = {}
    if not r.binary:
        while True:
            tok = r.read_token()
            if tok == "</Topology>":
                break
            if tok != "<TopologyEntry>":
                raise KaldiFormatError(f"{r.name}: expected <TopologyEntry> or </Topology>, got {tok}")
            r.expect_token("<ForPhones>")
            phones = []
            while (tok := r.read_token()) != "</ForPhones>":
                phones.append(int(tok))
            entry: list[HmmState] = []
            tok = r.read_token()
            while tok != "</TopologyEntry>":
                if tok != "<State>":
                    raise KaldiFormatError(f"{r.name}: expected <State> or </TopologyEntry>, got {tok}")
                idx = r.read_int()
                if idx != len(entry):
                    raise KaldiFormatError(f"{r.name}: topology states must be numbered in order, got {idx}")
                tok = r.read_token()
                pdf_class = NO_PDF
                if tok == "<PdfClass>":
                    pdf_class = r.read_int()
                    tok = r.read_token()
                elif tok in ("<ForwardPdfClass>",):
                    raise KaldiFormatError(f"{r.name}: <ForwardPdfClass> topologies are not supported")
                trans = []
                while tok == "<Transition>":
                    d = r.read_int()
                    p = r.read_float()
                    trans.append((d, p))
                    tok = r.read_token()
                if tok != "</State>":
                    raise KaldiFormatError(f"{r.name}: expected </State>, got {tok}")
                entry.append(HmmState(pdf_class, trans))
                tok = r.read_token()
            for p in phones:
                if p in phone2entry:
                    raise KaldiFormatError(f"{r.name}: phone {p} is in more than one topology entry")
                phone2entry[p] = len(entries)
            entries.append(entry)
    else:
        phones = r.read_int_vector()
        phone2idx = r.read_int_vector()
        n_entries = r.read_int()
        for _ in range(n_entries):
            entry = []
            for _ in range(r.read_int()):
                pdf_class = r.read_int()
                trans = []
                for _ in range(r.read_int()):
                    d = r.read_int()
                    trans.append((d, r.read_float()))
                entry.append(HmmState(pdf_class, trans))
            entries.append(entry)
        for p in phones:
            phone2entry[int(p)] = int(phone2idx[p])
        r.expect_token("</Topology>")
    topo = HmmTopology(entries, phone2entry)
    try:
        topo.check()
    except TopologyError as e:
        raise KaldiFormatError(f"{r.name}: {e}") from None
    return topo


def read_hmm_topology(rxfilename: str) -> HmmTopology:
    """Reads a Kaldi ``topo`` file (text or binary)."""
    return read_object_file(rxfilename, read_hmm_topology_from)


def write_hmm_topology(wxfilename: str, topo: HmmTopology, binary: bool = False) -> None:
    """Writes a Kaldi ``topo`` file (text by default, as ``lang/topo``)."""
    write_object_file(wxfilename, binary, lambda w: write_hmm_topology_to(w, topo))


def _fmt(p: float) -> str:
    return f"{float(p):.6g}"

