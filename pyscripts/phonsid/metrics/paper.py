"""The published results of the paper phonsid reproduces, as data, and the names of the eight systems.

Source: M. H. Rahman, I. Himawan, M. McLaren, C. Fookes, S. Sridharan, "Employing Phonetic Information in DNN
Speaker Embeddings to Improve Speaker Recognition Performance", Proc. Interspeech 2018 (full text in
``../shared/paper.md``). Every number below is transcribed from that text:

- Table 1 gives the EER of the five baselines on NIST SRE10 extended core-core.
- Figure 3 (augmented x-vectors on MFCC, BNF, SBNF, MT-SBNF) is a bar chart whose bar values are not in the
  text; Section 6 states only relative gains (``at least 19.8%``, ``23.4%``, ``8.6%``). They are kept as
  :data:`CLAIMS`; no EER of a bottleneck x-vector is invented here.
- The paper reports no minDCF.

The paper's relative gain is ``(EER_reference - EER_system) / EER_reference`` (positive = better): Table 1 gives
x-vector 2.83%, BNF i-vector 1.98%, x-vector (aug) 1.67%, and the text says the BNF i-vector "performs 30% better"
((2.83-1.98)/2.83 = 30.0%) and augmentation improves the x-vector "by 41%" ((2.83-1.67)/2.83 = 41.0%).
"""

from __future__ import annotations

from dataclasses import dataclass

CITATION = (
    'M. H. Rahman, I. Himawan, M. McLaren, C. Fookes and S. Sridharan, "Employing Phonetic Information in DNN '
    'Speaker Embeddings to Improve Speaker Recognition Performance", Proc. Interspeech 2018'
)
#: the evaluation condition of every published number
PAPER_CONDITION = "NIST SRE10 extended core-core"

TABLE1_CAPTION = ("Table 1: Performance comparison of baseline speaker recognition systems, evaluated on "
                  "NIST-2010 extended core-core condition")
FIGURE3_CAPTION = ("Figure 3: Performance comparison of the augmented speaker embeddings system trained with "
                   "different phonetic bottleneck features, evaluated on NIST 2010 extended core-core condition")


@dataclass(frozen=True)
class PaperSystem:
    name: str  #: canonical name in run.sh and exp/scores/<name>
    label: str  #: the paper's name of the system (Table 1 row, or our wording for Figure 3's bars)
    group: str  #: "table1" or "figure3"
    eer: float | None  #: published EER (%), None where the paper gives no number


#: The eight systems in the paper's order. Table 1 labels are the paper's row names; Figure 3's bar labels are
#: not in the text, so those are ours, built from the paper's terms (BFs, stacked BFs / SBNF, MT SBNF).
SYSTEMS: tuple[PaperSystem, ...] = (
    PaperSystem("ivector", "UBM/i-vector", "table1", 3.05),
    PaperSystem("dnn_ivector", "DNN/i-vector", "table1", 2.54),
    PaperSystem("bnf_ivector", "BNF i-vector", "table1", 1.98),
    PaperSystem("xvector_mfcc", "x-vector system", "table1", 2.83),
    PaperSystem("xvector_mfcc_aug", "x-vector system (aug)", "table1", 1.67),
    PaperSystem("xvector_bnf", "x-vector on BNF (aug)", "figure3", None),
    PaperSystem("xvector_sbnf", "x-vector on SBNF (aug)", "figure3", None),
    PaperSystem("xvector_mt_sbnf", "x-vector on MT-SBNF (aug)", "figure3", None),
)
BY_NAME: dict[str, PaperSystem] = {s.name: s for s in SYSTEMS}

#: rows of Table 1, in the paper's order
TABLE1 = tuple(s.name for s in SYSTEMS if s.group == "table1")
#: bars of Figure 3: the MFCC augmented x-vector they are compared with, then the bottleneck ones
FIGURE3 = ("xvector_mfcc_aug",) + tuple(s.name for s in SYSTEMS if s.group == "figure3")
#: the system Figure 3's gains are measured against
REFERENCE = "xvector_mfcc_aug"


@dataclass(frozen=True)
class Claim:
    """A relative EER gain the paper states: ``system`` is ``gain`` percent better than ``reference``."""

    system: str
    reference: str
    gain: float  #: percent, (EER_reference - EER_system) / EER_reference
    at_least: bool  #: the paper says "at least"
    quote: str  #: the sentence of Section 6 it comes from

    @property
    def text(self) -> str:
        """The gain as the paper writes it: ``30%``, ``≥ 19.8%``."""
        return f"{'≥ ' if self.at_least else ''}{self.gain:g}%"


CLAIMS: tuple[Claim, ...] = (
    Claim("bnf_ivector", "xvector_mfcc", 30.0, False,
          "i-vector systems trained with BFs performs 30% better than deep embedded system"),
    Claim("xvector_mfcc_aug", "xvector_mfcc", 41.0, False,
          "augmenting data diversity in the deep embedded DNN training significantly improve the speaker "
          "embeddings system performance by 41%"),
    Claim("xvector_bnf", "xvector_mfcc_aug", 19.8, True,
          "employing BFs gains at least 19.8% compared to the DNN speaker embeddings trained with traditional "
          "MFCC features"),
    Claim("xvector_sbnf", "xvector_mfcc_aug", 23.4, False,
          "this system enhances the speaker recognition performance by 23.4% over MFCC x-vector system"),
    Claim("xvector_mt_sbnf", "xvector_sbnf", 8.6, False,
          "multi-task training attains the best performance by achieving 8.6% performance gain over the "
          "single-target stacked BFs system"),
)


def label(name: str) -> str:
    """The paper's label of a canonical system name (the name itself for systems the paper does not have)."""
    s = BY_NAME.get(name)
    return s.label if s is not None else name


def published_eer(name: str) -> float | None:
    """The EER (%) the paper publishes for a system, or None."""
    s = BY_NAME.get(name)
    return s.eer if s is not None else None


def relative_gain(eer: float, reference_eer: float) -> float | None:
    """The paper's relative gain in percent: ``100 * (reference - eer) / reference`` (positive = better);
    None when the reference is 0."""
    if reference_eer == 0.0:
        return None
    return 100.0 * (reference_eer - eer) / reference_eer
