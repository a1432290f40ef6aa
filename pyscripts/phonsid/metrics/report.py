"""Results tables: EER and minDCF per system, relative change against a baseline, as markdown; the full results
report in the paper's layout (Table 1, Figure 3) with the corpus, data sizes and configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from phonsid.metrics import paper
from phonsid.metrics.cllr import cllr
from phonsid.metrics.dcf import compute_actual_dcf, compute_min_dcf
from phonsid.metrics.det import DetCurve, det_curve
from phonsid.metrics.eer import MetricsError, compute_eer
from phonsid.metrics.scorefile import ScoreList, TrialList

P_TARGETS = (0.01, 0.001)


@dataclass
class SystemResult:
    name: str
    num_trials: int
    num_targets: int
    eer: float  # percent
    min_dcf: dict[float, float] = field(default_factory=dict)
    cllr: float | None = None
    act_dcf: dict[float, float] = field(default_factory=dict)
    det: DetCurve | None = None
    #: the same system scored on named trial lists (``--subset``): name → result on those trials only
    subsets: dict[str, "SystemResult"] = field(default_factory=dict)


def evaluate_system(
    name: str, scores, labels, p_targets: Sequence[float] = P_TARGETS, llr: bool = False, det: bool = True
) -> SystemResult:
    """EER (Kaldi's), minDCF at each p-target (Kaldi's); with ``llr``, Cllr and actual DCF too."""
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels).astype(bool)
    res = SystemResult(name, int(s.size), int(lab.sum()), compute_eer(s[lab], s[~lab]).percent)
    for p in p_targets:
        res.min_dcf[p] = compute_min_dcf(s, lab, p).min_dcf
        if llr:
            res.act_dcf[p] = compute_actual_dcf(s, lab, p).dcf
    if llr:
        res.cllr = cllr(s, lab)
    if det:
        res.det = det_curve(s, lab)
    return res


def _rel(value: float, base: float) -> str:
    if base == 0.0:
        return "n/a"
    return f"{100.0 * (value - base) / base:+.1f}%"


def markdown_table(results: Sequence[SystemResult], baseline: str | None = None,
                   p_targets: Sequence[float] = P_TARGETS, subsets: Sequence[str] | None = None) -> str:
    """A markdown table: system, EER (and the EER on each named subset of the trials), minDCF per p-target
    (and Cllr / actual DCF when computed), and the relative change ``(value - base) / base`` of EER and each
    minDCF against the ``baseline`` system. ``subsets`` fixes the subset columns (default: every subset any of
    ``results`` has)."""
    base = None
    if baseline is not None:
        found = [r for r in results if r.name == baseline]
        if not found:
            names = ", ".join(r.name for r in results)
            raise MetricsError(f"baseline '{baseline}' is not one of the systems ({names})")
        base = found[0]
    with_llr = any(r.cllr is not None for r in results)
    subsets = subset_names(results) if subsets is None else list(subsets)
    head = ["System", "Trials", "EER (%)"] + [f"EER {s} (%)" for s in subsets] + [f"minDCF ({p:g})" for p in p_targets]
    if with_llr:
        head += ["Cllr"] + [f"actDCF ({p:g})" for p in p_targets]
    if base is not None:
        head += ["Rel. EER"] + [f"Rel. minDCF ({p:g})" for p in p_targets]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in results:
        row = [r.name, str(r.num_trials), f"{r.eer:.2f}"] + [_subset_eer(r, s) for s in subsets]
        row += [f"{r.min_dcf[p]:.4f}" for p in p_targets]
        if with_llr:
            row += [f"{r.cllr:.4f}" if r.cllr is not None else "—"]
            row += [f"{r.act_dcf[p]:.4f}" if p in r.act_dcf else "—" for p in p_targets]
        if base is not None:
            if r is base:
                row += ["baseline"] + ["—"] * len(p_targets)
            else:
                row += [_rel(r.eer, base.eer)] + [_rel(r.min_dcf[p], base.min_dcf[p]) for p in p_targets]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def subset_names(results: Sequence[SystemResult]) -> list[str]:
    """The names of the trial subsets any system was scored on, in first-seen order."""
    names: list[str] = []
    for r in results:
        for s in r.subsets:
            if s not in names:
                names.append(s)
    return names


def _subset_eer(r: SystemResult, subset: str) -> str:
    sub = r.subsets.get(subset)
    return f"{sub.eer:.2f}" if sub is not None else "—"


# ----------------------------------------------------------------------------------------------------------------
# Scores restricted to a named trial list


def restrict_to_trials(scores: ScoreList, trials: TrialList, scores_name: str = "scores",
                       trials_name: str = "trials") -> tuple[np.ndarray, np.ndarray]:
    """The scores of the trials in ``trials`` and their labels, in the order of the score file.

    Scores of other trials are dropped; every trial of ``trials`` must be scored (else :class:`MetricsError`
    with the count and examples). This is how a system is evaluated on a subset (e.g. adults / children) of
    the trials it was scored on.
    """
    index = {k1 + b" " + k2: lab for k1, k2, lab in zip(trials.key1, trials.key2, trials.labels.tolist())}
    keep = np.zeros(len(scores), dtype=bool)
    labels = np.zeros(len(scores), dtype=bool)
    found: set[bytes] = set()
    for i, (k1, k2) in enumerate(zip(scores.key1, scores.key2)):
        key = k1 + b" " + k2
        lab = index.get(key)
        if lab is not None:
            keep[i] = True
            labels[i] = lab
            found.add(key)
    if len(found) < len(index):
        unscored = [k for k in index if k not in found]
        ex = ", ".join(f"'{m.decode('utf-8', 'replace')}'" for m in unscored[:5])
        raise MetricsError(f"{len(unscored)} of {len(index)} trials in {trials_name} have no score in {scores_name} "
                           f"(e.g. {ex}{', ...' if len(unscored) > 5 else ''})")
    return scores.scores[keep], labels[keep]


# ----------------------------------------------------------------------------------------------------------------
# What the report records about the data: sizes of data dirs and trial lists


@dataclass
class DataSummary:
    name: str  #: role of the set (train, enroll, test, ...)
    path: str
    num_speakers: int
    num_utts: int
    hours: float | None  #: from utt2dur, else segments, else utt2num_frames; None when none is there
    hours_from: str = ""  #: the file the hours come from


def _sum_floats(path: Path, column: int, what: str, minus_column: int | None = None) -> float:
    total = 0.0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            need = max(column, minus_column or 0) + 1
            if len(fields) < need:
                raise MetricsError(f"{path}:{lineno}: expected {need} fields ({what}), got {len(fields)}")
            try:
                value = float(fields[column])
                if minus_column is not None:
                    value -= float(fields[minus_column])
            except ValueError:
                raise MetricsError(f"{path}:{lineno}: utterance '{fields[0]}': bad number in '{line.strip()}' "
                                   f"({what})") from None
            total += value
    return total


def summarize_data_dir(name: str, path: str | os.PathLike) -> DataSummary:
    """Speakers and utterances (utt2spk) and hours of a Kaldi data dir: from utt2dur, else segments (end - start),
    else utt2num_frames at a 10 ms frame shift (an approximation: the frames are those of the features)."""
    from phonsid.data import read_map

    d = Path(path)
    if not d.is_dir():
        raise MetricsError(f"data dir '{name}': {d} is not a directory")
    if not (d / "utt2spk").is_file():
        raise MetricsError(f"data dir '{name}': {d / 'utt2spk'} does not exist")
    utt2spk = read_map(d / "utt2spk")
    if not utt2spk:
        raise MetricsError(f"data dir '{name}': {d / 'utt2spk'} is empty")
    hours, source = None, ""
    if (d / "utt2dur").is_file():
        hours, source = _sum_floats(d / "utt2dur", 1, "<utt> <duration>") / 3600.0, "utt2dur"
    elif (d / "segments").is_file():
        seconds = _sum_floats(d / "segments", 3, "<utt> <recording> <start> <end>", minus_column=2)
        hours, source = seconds / 3600.0, "segments"
    elif (d / "utt2num_frames").is_file():
        hours, source = _sum_floats(d / "utt2num_frames", 1, "<utt> <frames>") * 0.01 / 3600.0, "utt2num_frames"
    return DataSummary(name, str(path), len(set(utt2spk.values())), len(utt2spk), hours, source)


@dataclass
class TrialsSummary:
    name: str  #: "all" for the main trials, the subset name otherwise
    path: str
    num_target: int
    num_nontarget: int


def summarize_trials(name: str, path: str, trials: TrialList) -> TrialsSummary:
    n_t = int(trials.labels.sum())
    return TrialsSummary(name, path, n_t, len(trials) - n_t)


@dataclass
class ReportSetup:
    """What ``exp/results.md`` records besides the scores."""

    corpus: str = ""
    title: str = ""
    data: list[DataSummary] = field(default_factory=list)
    trials: list[TrialsSummary] = field(default_factory=list)
    info: list[tuple[str, str]] = field(default_factory=list)  #: configuration, in the order given
    det_plot: str = ""  #: link (relative to the report) to the DET plot, "" for none
    bar_plot: str = ""  #: link to the EER bar chart


# ----------------------------------------------------------------------------------------------------------------
# The paper's layout: Table 1, Figure 3, the paper's statements


def _fmt_gain(g: float | None) -> str:
    return "—" if g is None else f"{g:+.1f}%"


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]], left: int = 2) -> list[str]:
    align = ["---"] * left + ["---:"] * (len(head) - left)
    return [_md_row(head), "|" + "|".join(align) + "|"] + [_md_row(r) for r in rows]


def _paper_table(names: Sequence[str], by_name: dict[str, SystemResult], subsets: Sequence[str],
                 base: SystemResult | None, baseline: str, paper_numbers: bool, paper_gain: dict[str, str],
                 p_targets: Sequence[float]) -> list[str]:
    head = ["System", "Name", "Trials", "EER (%)"] + [f"EER {s} (%)" for s in subsets]
    head += [f"minDCF ({p:g})" for p in p_targets]
    if base is not None:
        head += [f"EER gain vs {paper.label(baseline)}"]
    if paper_numbers:
        head += ["Paper EER (%)", "Paper EER gain"]
    rows = []
    for name in names:
        r = by_name.get(name)
        row = [paper.label(name), f"`{name}`"]
        if r is None:
            row += ["not run", "—"] + ["—"] * len(subsets) + ["—"] * len(p_targets)
        else:
            row += [str(r.num_trials), f"{r.eer:.2f}"] + [_subset_eer(r, s) for s in subsets]
            row += [f"{r.min_dcf[p]:.4f}" if p in r.min_dcf else "—" for p in p_targets]
        if base is not None:
            if r is base:
                row.append("reference")
            else:
                row.append("—" if r is None else _fmt_gain(paper.relative_gain(r.eer, base.eer)))
        if paper_numbers:
            e = paper.published_eer(name)
            row += ["not published" if e is None else f"{e:.2f}", paper_gain.get(name, "—")]
        rows.append(row)
    return _md_table(head, rows)


def _table1_paper_gains(baseline: str) -> dict[str, str]:
    """Table 1's gains against ``baseline``, computed from the published EERs by the paper's formula."""
    ref = paper.published_eer(baseline)
    out: dict[str, str] = {}
    for name in paper.TABLE1:
        e = paper.published_eer(name)
        if name == baseline:
            out[name] = "reference"
        elif e is not None and ref is not None:
            out[name] = _fmt_gain(paper.relative_gain(e, ref))
    return out


def _figure3_paper_gains(baseline: str) -> dict[str, str]:
    """Figure 3's gains as the text states them (against the MFCC augmented x-vector unless noted)."""
    out = {paper.REFERENCE: "reference"} if baseline == paper.REFERENCE else {}
    for c in paper.CLAIMS:
        if c.system in paper.FIGURE3 and c.system != paper.REFERENCE:
            out[c.system] = c.text if c.reference == baseline else f"{c.text} vs {paper.label(c.reference)}"
    return out


def _setup_section(setup: ReportSetup) -> list[str]:
    out = ["## Setup", ""]
    if setup.corpus:
        out += [f"- Corpus: **{setup.corpus}**"]
    for k, v in setup.info:
        out += [f"- {k}: {v}"]
    if setup.corpus or setup.info:
        out.append("")
    if setup.data:
        out += ["Data:", ""]
        rows = [[d.name, f"`{d.path}`", str(d.num_speakers), str(d.num_utts),
                 "—" if d.hours is None else f"{'≈' if d.hours_from == 'utt2num_frames' else ''}{d.hours:.2f}"]
                for d in setup.data]
        out += _md_table(["Set", "Directory", "Speakers", "Utterances", "Hours"], rows) + [""]
        if any(d.hours_from == "utt2num_frames" for d in setup.data):
            out += ["≈: from utt2num_frames at 10 ms per frame (no utt2dur or segments).", ""]
        if any(d.hours is None for d in setup.data):
            out += ["—: no utt2dur, segments or utt2num_frames.", ""]
    if setup.trials:
        out += ["Trials:", ""]
        rows = [[t.name, f"`{t.path}`", str(t.num_target), str(t.num_nontarget), str(t.num_target + t.num_nontarget)]
                for t in setup.trials]
        out += _md_table(["Trial list", "File", "Target", "Non-target", "Total"], rows) + [""]
    return out


def results_report(
    results: Sequence[SystemResult],
    setup: ReportSetup,
    baseline: str | None = None,
    paper_numbers: bool = False,
    p_targets: Sequence[float] = P_TARGETS,
) -> str:
    """``exp/results.md`` in the paper's layout.

    Sections: setup (corpus, configuration, data sizes, trial counts); Table 1 (the five baselines) and
    Figure 3 (augmented x-vectors on MFCC / BNF / SBNF / MT-SBNF) with EER, the EER on each subset of the trials,
    minDCF at each p-target and the relative EER gain ``100 * (EER_ref - EER) / EER_ref`` against ``baseline``
    (default: the MFCC augmented x-vector; positive = better, the paper's convention); the paper's statements
    checked on our scores; the EER bar chart and DET plot; systems the paper does not have.

    With ``paper_numbers`` the published EERs are columns beside ours (for the paper's own corpus, SRE10);
    without, they are listed once in a separate section, marked as being for reference only.
    Systems are recognised by their canonical names (:data:`phonsid.metrics.paper.SYSTEMS`).
    """
    by_name: dict[str, SystemResult] = {}
    for r in results:
        if r.name in by_name:
            raise MetricsError(f"system '{r.name}' given twice")
        by_name[r.name] = r
    if baseline is not None and baseline not in by_name:
        raise MetricsError(f"baseline '{baseline}' is not one of the systems ({', '.join(by_name)})")
    baseline = baseline or paper.REFERENCE
    base = by_name.get(baseline)
    subsets = subset_names(results)
    formula = (f"EER gain = 100 × (EER(ref) − EER(system)) / EER(ref), ref = {paper.label(baseline)} "
               f"(`{baseline}`); positive means fewer errors than the reference. This is how the paper computes its "
               "relative numbers: from Table 1, the BNF i-vector \"performs 30% better\" than the x-vector, "
               "(2.83 − 1.98) / 2.83 = 30.0%, and augmentation improves the x-vector \"by 41%\", "
               "(2.83 − 1.67) / 2.83 = 41.0%.")
    if base is None:
        formula = (f"No EER gain column: the reference {paper.label(baseline)} (`{baseline}`) was not scored.")

    title = setup.title or f"phonsid results{': ' + setup.corpus if setup.corpus else ''}"
    out = [f"# {title}", "",
           f"The experiments of {paper.CITATION}, run by phonsid with one back end (mean, LDA, length norm, PLDA) "
           "for every system. EER and minDCF (p-target 0.01, 0.001; Cmiss = Cfa = 1) are Kaldi's definitions.", ""]
    out += _setup_section(setup)

    where = "the trials above" if not setup.corpus else f"the {setup.corpus} trials above"
    out += ["## Table 1: baselines", "", f"Paper: *{paper.TABLE1_CAPTION}*. Here: {where}.", ""]
    out += _paper_table(paper.TABLE1, by_name, subsets, base, baseline, paper_numbers,
                        _table1_paper_gains(baseline), p_targets)
    out += ["", formula, ""]
    if paper_numbers:
        out += [f"Paper EER: as published ({paper.PAPER_CONDITION}); the paper's EER gains in this table are "
                "computed from its Table 1 by the same formula.", ""]

    out += ["## Figure 3: augmented x-vectors on phonetic bottleneck features", "",
            f"Paper: *{paper.FIGURE3_CAPTION}*. Here: {where}.", ""]
    out += _paper_table(paper.FIGURE3, by_name, subsets, base, baseline, paper_numbers,
                        _figure3_paper_gains(baseline), p_targets)
    out += ["", "EER gain: as under Table 1." if base is not None else formula, ""]
    if paper_numbers:
        out += ["The paper draws Figure 3 as bars without values and publishes no EER for the bottleneck "
                "x-vectors; its text states only the relative gains shown (\"at least 19.8%\", \"23.4%\", "
                "\"8.6% over the single-target stacked BFs system\").", ""]
    if setup.bar_plot:
        out += [f"![EER of every system]({setup.bar_plot})", ""]

    out += ["## The paper's statements, on our scores", "",
            "Each relative EER gain the paper's Section 6 states, and the same gain computed from our EERs "
            "(formula above).", ""]
    rows = []
    for c in paper.CLAIMS:
        r, ref = by_name.get(c.system), by_name.get(c.reference)
        ours = _fmt_gain(paper.relative_gain(r.eer, ref.eer)) if r is not None and ref is not None else "—"
        rows.append([f"{paper.label(c.system)} vs {paper.label(c.reference)}", f"\"{c.quote}\"", c.text, ours])
    out += _md_table(["Comparison", "Paper's words", f"Paper ({paper.PAPER_CONDITION})", "Ours"], rows) + [""]

    if setup.det_plot:
        out += ["## DET curves", "", f"![DET curves of every system]({setup.det_plot})", ""]

    others = [r for r in results if r.name not in paper.BY_NAME]
    if others:
        out += ["## Other systems", "", "Systems the paper does not have, on the same trials.", ""]
        out += markdown_table(others, None, p_targets, subsets).splitlines() + [""]

    if not paper_numbers:
        out += ["## The paper's published numbers (for reference)", "",
                f"Published on {paper.PAPER_CONDITION}, not on {setup.corpus or 'this corpus'}: compare the ranking "
                "and the relative gains above, not absolute values. The paper publishes no EER for Figure 3's "
                "bottleneck x-vectors (only the gains above) and no minDCF.", ""]
        rows = [[s.label, f"`{s.name}`", f"{s.eer:.2f}"] for s in paper.SYSTEMS if s.eer is not None]
        out += _md_table(["System", "Name", "Paper EER (%)"], rows) + [""]

    out += [f"Reference: {paper.CITATION}.", ""]
    return "\n".join(out)


def eer_bar_series(results: Sequence[SystemResult], paper_layout: bool = False, paper_numbers: bool = False
                   ) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """Labels and series of the EER bar chart (:func:`phonsid.metrics.plots.plot_eer_bars`): one group per scored
    system; bars: ours on all trials, ours on each subset, and with ``paper_numbers`` the published EER.

    In the paper's layout the systems come in the paper's order (Table 1, then Figure 3's bottleneck x-vectors,
    then any others) under the paper's labels; otherwise in the given order under their names.
    """
    by_name = {r.name: r for r in results}
    if paper_layout:
        order = [s.name for s in paper.SYSTEMS if s.name in by_name]
        order += [r.name for r in results if r.name not in paper.BY_NAME]
        labels = [paper.label(n) for n in order]
    else:
        order = [r.name for r in results]
        labels = list(order)
    rs = [by_name[n] for n in order]
    subsets = subset_names(rs)
    series: list[tuple[str, list[float | None]]] = [("ours, all trials" if subsets else "ours", [r.eer for r in rs])]
    for s in subsets:
        series.append((f"ours, {s}", [r.subsets[s].eer if s in r.subsets else None for r in rs]))
    if paper_numbers:
        series.append((f"paper ({paper.PAPER_CONDITION})", [paper.published_eer(n) for n in order]))
    return labels, series
