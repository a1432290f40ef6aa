"""The results report (exp/results.md): the paper's Table 1 and Figure 3, relative gains, subsets of the trials,
data sizes, the paper's numbers, the pictures, and score_report.py's errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from helpers.scripts import load_script
from phonsid.cli import get_logger
from phonsid.metrics import MetricsError, compute_eer, paper
from phonsid.metrics.plots import plot_eer_bars
from phonsid.metrics.report import (
    ReportSetup,
    SystemResult,
    eer_bar_series,
    markdown_table,
    restrict_to_trials,
    results_report,
    summarize_data_dir,
)
from phonsid.metrics.scorefile import read_scores, read_trials

PNG = b"\x89PNG\r\n\x1a\n"
EIGHT = [s.name for s in paper.SYSTEMS]


def _score_report_main():
    return load_script("pyscripts/score_report.py").main


@pytest.fixture
def score_report(capsys):
    """score_report.main in this process, its log going to the captured stderr; returns (rc, stdout, stderr)."""
    main = _score_report_main()
    handler = get_logger("score_report.py").handlers[0]
    saved = handler.stream

    def _run(*argv):
        handler.stream = sys.stderr  # the stream capsys installed
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return rc, out, err

    yield _run
    handler.stream = saved


def _row(text: str, first_cells: str) -> list[str]:
    """The cells of the first markdown row starting with ``| first_cells |``."""
    for line in text.splitlines():
        if line.startswith(f"| {first_cells} |"):
            return [c.strip() for c in line.strip().strip("|").split("|")]
    raise AssertionError(f"no row '{first_cells}' in:\n{text}")


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _result(name: str, eer: float, dcf: float = 0.5, **subsets: float) -> SystemResult:
    r = SystemResult(name, 1000, 100, eer, {0.01: dcf, 0.001: dcf + 0.1})
    r.subsets = {k: SystemResult(f"{name}:{k}", 500, 50, v) for k, v in subsets.items()}
    return r


# ------------------------------------------------------------------------------------------------ the paper's data


def test_paper_numbers_are_the_published_ones():
    assert [(s.name, s.label, s.eer) for s in paper.SYSTEMS if s.group == "table1"] == [
        ("ivector", "UBM/i-vector", 3.05), ("dnn_ivector", "DNN/i-vector", 2.54), ("bnf_ivector", "BNF i-vector", 1.98),
        ("xvector_mfcc", "x-vector system", 2.83), ("xvector_mfcc_aug", "x-vector system (aug)", 1.67)]
    assert paper.FIGURE3 == ("xvector_mfcc_aug", "xvector_bnf", "xvector_sbnf", "xvector_mt_sbnf")
    assert all(paper.published_eer(n) is None for n in paper.FIGURE3[1:])  # Figure 3 prints no values
    assert len(EIGHT) == 8 and paper.label("custom") == "custom"
    assert [(c.system, c.reference, c.text) for c in paper.CLAIMS] == [
        ("bnf_ivector", "xvector_mfcc", "30%"), ("xvector_mfcc_aug", "xvector_mfcc", "41%"),
        ("xvector_bnf", "xvector_mfcc_aug", "≥ 19.8%"), ("xvector_sbnf", "xvector_mfcc_aug", "23.4%"),
        ("xvector_mt_sbnf", "xvector_sbnf", "8.6%")]
    for c in paper.CLAIMS:
        assert f"{c.gain:g}%" in c.quote


def test_the_gain_formula_reproduces_the_papers_table1_statements():
    # "performs 30% better" and "improve ... by 41%" follow from Table 1 only as (ref - new) / ref
    for c in paper.CLAIMS[:2]:
        got = paper.relative_gain(paper.published_eer(c.system), paper.published_eer(c.reference))
        assert round(got) == c.gain
        other = 100 * (paper.published_eer(c.reference) - paper.published_eer(c.system)) / paper.published_eer(c.system)
        assert round(other) != c.gain  # the other convention (relative to the new system) does not
    assert paper.relative_gain(1.0, 0.0) is None


# ------------------------------------------------------------------------------------------ the report's tables


def test_tables_gains_and_paper_columns():
    results = [_result("xvector_mfcc_aug", 10.0, 0.4), _result("xvector_sbnf", 7.5, 0.3),
               _result("ivector", 12.0, 0.6), _result("xvector_mfcc", 20.0)]
    setup = ReportSetup(corpus="sre10", info=[("UBM / i-vector dim", "2048 / 500")])
    text = results_report(results, setup, paper_numbers=True)
    t1, f3 = _section(text, "Table 1"), _section(text, "Figure 3")
    assert "| System | Name | Trials | EER (%) | minDCF (0.01) | minDCF (0.001) | EER gain vs x-vector system (aug) " \
           "| Paper EER (%) | Paper EER gain |" in t1
    # constructed: ref 10%, SBNF 7.5% -> 25% better; i-vector 12% -> 20% worse
    assert _row(f3, "x-vector on SBNF (aug)") == ["x-vector on SBNF (aug)", "`xvector_sbnf`", "1000", "7.50", "0.3000",
                                                  "0.4000", "+25.0%", "not published", "23.4%"]
    assert _row(t1, "UBM/i-vector")[:8] == ["UBM/i-vector", "`ivector`", "1000", "12.00", "0.6000", "0.7000", "-20.0%",
                                            "3.05"]
    # the paper's own gain of the UBM/i-vector against the aug x-vector, from its Table 1: (1.67-3.05)/1.67
    assert _row(t1, "UBM/i-vector")[8] == "-82.6%"
    assert _row(t1, "x-vector system (aug)")[6:] == ["reference", "1.67", "reference"]
    assert _row(t1, "DNN/i-vector")[2:4] == ["not run", "—"]
    assert _row(f3, "x-vector on MT-SBNF (aug)")[-1] == "8.6% vs x-vector on SBNF (aug)"
    assert "EER gain = 100 × (EER(ref) − EER(system)) / EER(ref)" in t1
    assert "- Corpus: **sre10**" in text and "- UBM / i-vector dim: 2048 / 500" in text
    claims = _section(text, "The paper's statements")
    assert _row(claims, "x-vector system (aug) vs x-vector system")[2:] == ["41%", "+50.0%"]  # (20-10)/20
    assert _row(claims, "x-vector on BNF (aug) vs x-vector system (aug)")[3] == "—"  # not scored
    assert "for reference" not in text

    plain = results_report(results, ReportSetup(corpus="speechocean762"), paper_numbers=False)
    assert "Paper EER" not in _section(plain, "Table 1") and "Paper EER" not in _section(plain, "Figure 3")
    ref = _section(plain, "The paper's published numbers (for reference)")
    assert "not on speechocean762" in ref
    assert _row(ref, "BNF i-vector") == ["BNF i-vector", "`bnf_ivector`", "1.98"]
    assert "x-vector on SBNF" not in ref  # no published EER to list
    assert _row(_section(plain, "The paper's statements"), "BNF i-vector vs x-vector system")[2] == "30%"


def test_baseline_choice_subsets_and_other_systems():
    results = [_result("xvector_mfcc", 8.0, adult=6.0, child=12.0), _result("xvector_bnf", 6.0, adult=4.5, child=9.0),
               _result("my_system", 5.0, adult=4.0)]
    text = results_report(results, ReportSetup(), baseline="xvector_mfcc")
    f3 = _section(text, "Figure 3")
    assert "| EER (%) | EER adult (%) | EER child (%) | minDCF (0.01) |" in f3
    assert _row(f3, "x-vector on BNF (aug)")[3:6] == ["6.00", "4.50", "9.00"]
    assert _row(f3, "x-vector on BNF (aug)")[8] == "+25.0%"  # against xvector_mfcc: (8-6)/8
    assert "x-vector system (aug) (`xvector_mfcc_aug`) was not scored" not in text
    other = _section(text, "Other systems")
    assert _row(other, "my_system")[:5] == ["my_system", "1000", "5.00", "4.00", "—"]  # no child subset
    no_ref = results_report(results[:2], ReportSetup())  # default reference xvector_mfcc_aug is absent
    assert "EER gain vs" not in no_ref and "`xvector_mfcc_aug`) was not scored" in no_ref
    with pytest.raises(MetricsError, match="baseline 'nope' is not one of the systems"):
        results_report(results, ReportSetup(), baseline="nope")
    with pytest.raises(MetricsError, match="system 'xvector_bnf' given twice"):
        results_report(results + results[1:2], ReportSetup())
    # the plain table gets the subset columns too, and stays as before without them
    lines = markdown_table(results, "xvector_mfcc").splitlines()
    assert lines[0].startswith("| System | Trials | EER (%) | EER adult (%) | EER child (%) | minDCF (0.01) |")
    assert lines[4].startswith("| my_system | 1000 | 5.00 | 4.00 | — | 0.5000 |")
    head = markdown_table([_result("a", 1.0)]).splitlines()[0]
    assert head == "| System | Trials | EER (%) | minDCF (0.01) | minDCF (0.001) |"


def test_bar_series_order_and_paper_bars(tmp_path):
    results = [_result("xvector_sbnf", 3.0, adult=2.0), _result("mine", 1.0, adult=1.5),
               _result("ivector", 5.0, adult=4.0)]
    labels, series = eer_bar_series(results, paper_layout=True, paper_numbers=True)
    assert labels == ["UBM/i-vector", "x-vector on SBNF (aug)", "mine"]
    assert series == [("ours, all trials", [5.0, 3.0, 1.0]), ("ours, adult", [4.0, 2.0, 1.5]),
                      ("paper (NIST SRE10 extended core-core)", [3.05, None, None])]
    labels, series = eer_bar_series(results[:1] + results[2:], paper_layout=False)
    assert labels == ["xvector_sbnf", "ivector"] and [s[0] for s in series] == ["ours, all trials", "ours, adult"]
    path = tmp_path / "bars.png"
    plot_eer_bars(labels, series, str(path), "EER", missing_text="not published")
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 1000
    with pytest.raises(MetricsError, match="series 'x' has 1 values for 2 systems"):
        plot_eer_bars(labels, [("x", [1.0])], str(tmp_path / "bad.png"))
    assert not (tmp_path / "bad.png").exists()


# ------------------------------------------------------------------------------------------- data sizes, subsets


def _setup_md(summary) -> str:
    return _section(results_report([], ReportSetup(data=[summary])), "Setup")


def test_data_dir_summary(tmp_path):
    d = tmp_path / "train"
    d.mkdir()
    (d / "utt2spk").write_text("a1 a\na2 a\nb1 b\nc1 c\nc2 c\n")
    assert summarize_data_dir("train", d).hours is None  # no utt2dur, segments, utt2num_frames
    (d / "utt2num_frames").write_text("a1 360000\na2 0\nb1 0\nc1 0\nc2 0\n")
    assert (summarize_data_dir("train", d).hours, summarize_data_dir("train", d).hours_from) == (1.0, "utt2num_frames")
    assert _row(_setup_md(summarize_data_dir("train", d)), "train")[4] == "≈1.00"
    (d / "segments").write_text("a1 r1 0.0 1800.0\na2 r1 1800.0 3600.0\nb1 r2 0 900\nc1 r3 0 900\nc2 r3 900 1800\n")
    s = summarize_data_dir("train", d)  # segments win over utt2num_frames
    assert (s.num_speakers, s.num_utts, s.hours) == (3, 5, pytest.approx(6300 / 3600))
    assert _row(_setup_md(s), "train") == ["train", f"`{d}`", "3", "5", "1.75"]
    (d / "utt2dur").write_text("a1 3600\na2 1800\nb1 1800\nc1 0.5\nc2 1799.5\n")  # utt2dur wins over segments
    assert summarize_data_dir("train", d).hours == pytest.approx(2.5)
    (d / "utt2dur").write_text("a1 3600\na2 x\n")
    with pytest.raises(MetricsError, match=r"utt2dur:2: utterance 'a2': bad number"):
        summarize_data_dir("train", d)
    with pytest.raises(MetricsError, match=r"data dir 'test': .*nope is not a directory"):
        summarize_data_dir("test", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MetricsError, match=r"data dir 'enroll': .*empty/utt2spk does not exist"):
        summarize_data_dir("enroll", tmp_path / "empty")


def _write_scores_and_trials(tmp_path, names, n=400, seed=1):
    """Scores for ``names`` (separations growing along the list) on n trials; trials, and a 'child' subset of
    the first half of the trials."""
    rng = np.random.default_rng(seed)
    lab = np.arange(n) % 5 == 0
    keys = [(f"spk{i % 17}", f"utt{i:04d}") for i in range(n)]
    (tmp_path / "trials").write_text("".join(f"{a} {b} {'target' if l else 'nontarget'}\n"
                                             for (a, b), l in zip(keys, lab)))
    half = n // 2
    (tmp_path / "trials_child").write_text("".join(f"{a} {b} {'target' if l else 'nontarget'}\n"
                                                   for (a, b), l in zip(keys[:half][::-1], lab[:half][::-1])))
    scores = {}
    for k, name in enumerate(names):
        s = rng.normal(np.where(lab, 1.0 + 0.3 * k, 0.0), 1.0)
        scores[name] = s
        (tmp_path / f"scores_{name}").write_text("".join(f"{a} {b} {x:.6f}\n" for (a, b), x in zip(keys, s)))
    return lab, scores, half


def test_restrict_to_trials(tmp_path):
    lab, scores, half = _write_scores_and_trials(tmp_path, ["a"])
    s, l = restrict_to_trials(read_scores(str(tmp_path / "scores_a")), read_trials(str(tmp_path / "trials_child")))
    np.testing.assert_allclose(s, np.round(scores["a"][:half], 6))
    np.testing.assert_array_equal(l, lab[:half])
    (tmp_path / "extra").write_text((tmp_path / "trials_child").read_text() + "spkX uttX target\n")
    with pytest.raises(MetricsError, match=r"1 of 201 trials in extra have no score in sc \(e.g. 'spkX uttX'\)"):
        restrict_to_trials(read_scores(str(tmp_path / "scores_a")), read_trials(str(tmp_path / "extra")), "sc", "extra")


# ------------------------------------------------------------------------------------------------------- the CLI


def test_cli_writes_the_report_and_pictures(tmp_path, score_report):
    lab, scores, half = _write_scores_and_trials(tmp_path, EIGHT)
    for role, (nspk, nutt) in {"train": (4, 12), "enroll": (2, 2), "test": (3, 6)}.items():
        d = tmp_path / "data" / role
        d.mkdir(parents=True)
        (d / "utt2spk").write_text("".join(f"{role}{i:02d} s{i % nspk}\n" for i in range(nutt)))
        (d / "utt2dur").write_text("".join(f"{role}{i:02d} 300\n" for i in range(nutt)))
    exp = tmp_path / "exp"
    rc, out, err = score_report(
        "--paper-tables", "--corpus=sre10", "--paper-numbers", f"--trials={tmp_path / 'trials'}",
        f"--subset=child={tmp_path / 'trials_child'}", *(f"--data-dir={r}={tmp_path / 'data' / r}"
                                                         for r in ("train", "enroll", "test")),
        "--info=UBM / i-vector=256 / 100", "--info=x-vector=MFCC 23", f"--det-plot={exp / 'results_det.png'}",
        f"--bar-plot={tmp_path / 'plots' / 'results_eer.png'}", f"--out={exp / 'results.md'}", "--title=test run",
        *(f"{n}={tmp_path / f'scores_{n}'}" for n in EIGHT))
    assert rc == 0, err
    assert out == ""
    text = (exp / "results.md").read_text()
    assert text.startswith("# test run\n")
    for png in (exp / "results_det.png", tmp_path / "plots" / "results_eer.png"):
        assert png.read_bytes()[:8] == PNG and png.stat().st_size > 1000
    assert "![DET curves of every system](results_det.png)" in text  # links relative to the report
    assert "![EER of every system](../plots/results_eer.png)" in text
    setup = _section(text, "Setup")
    assert _row(setup, "train") == ["train", f"`{tmp_path / 'data' / 'train'}`", "4", "12", "1.00"]
    assert _row(setup, "enroll")[2:] == ["2", "2", "0.17"]
    assert _row(setup, "all")[2:] == ["80", "320", "400"]
    assert _row(setup, "child")[2:] == ["40", "160", "200"]
    assert "- UBM / i-vector: 256 / 100" in setup and "- x-vector: MFCC 23" in setup
    eer = {n: compute_eer(np.round(s, 6)[lab], np.round(s, 6)[~lab]).percent for n, s in scores.items()}
    child = {n: compute_eer(np.round(s, 6)[:half][lab[:half]], np.round(s, 6)[:half][~lab[:half]]).percent
             for n, s in scores.items()}
    t1 = _section(text, "Table 1")
    row = _row(t1, "BNF i-vector")
    assert row[2:5] == ["400", f"{eer['bnf_ivector']:.2f}", f"{child['bnf_ivector']:.2f}"]
    gain = 100 * (eer["xvector_mfcc_aug"] - eer["bnf_ivector"]) / eer["xvector_mfcc_aug"]
    assert row[7:] == [f"{gain:+.1f}%", "1.98", f"{100 * (1.67 - 1.98) / 1.67:+.1f}%"]
    assert _row(_section(text, "Figure 3"), "x-vector on MT-SBNF (aug)")[3] == f"{eer['xvector_mt_sbnf']:.2f}"
    assert "Other systems" not in text and "for reference" not in text


def test_cli_plain_table_keeps_working(tmp_path, score_report):
    _write_scores_and_trials(tmp_path, ["a", "b"])
    rc, out, err = score_report(f"--trials={tmp_path / 'trials'}", "--baseline=a", f"--bar-plot={tmp_path / 'b.png'}",
                                f"--subset=child={tmp_path / 'trials_child'}",
                                f"a={tmp_path / 'scores_a'}", f"b={tmp_path / 'scores_b'}")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("| System | Trials | EER (%) | EER child (%) | minDCF (0.01) |")
    assert lines[2].startswith("| a | 400 |") and "baseline" in lines[2]
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG
    assert "Wrote EER bar chart" in err


@pytest.mark.parametrize("argv, message", [
    (["--subset=child"], "bad --subset 'child' (expected <name>=<trials>)"),
    (["--subset=c={t}", "--subset=c={t}"], "--subset: name 'c' given twice"),
    (["--paper-numbers"], "--paper-numbers needs --paper-tables"),
    (["--info=x=1"], "--info needs --paper-tables"),
    (["--paper-tables", "--info=novalue"], "bad --info 'novalue' (expected <key>=<value>)"),
    (["--paper-tables", "--data-dir=train={d}/nope"], "data dir 'train': {d}/nope is not a directory"),
    (["--subset=extra={d}/extra"], "1 of 401 trials in {d}/extra have no score in {d}/scores_a"),
    (["--subset=bad={d}/nope"], "{d}/nope"),
    (["--paper-tables", "--baseline=zzz"], "baseline 'zzz' is not one of the systems"),
])
def test_cli_errors(tmp_path, score_report, argv, message):
    _write_scores_and_trials(tmp_path, ["a"])
    (tmp_path / "extra").write_text((tmp_path / "trials").read_text() + "spkX uttX nontarget\n")
    argv = [a.format(t=tmp_path / "trials", d=tmp_path) for a in argv]
    rc, out, err = score_report(f"--trials={tmp_path / 'trials'}", f"--out={tmp_path / 'r.md'}",
                                f"--bar-plot={tmp_path / 'b.png'}", *argv, f"a={tmp_path / 'scores_a'}")
    assert rc == 1
    assert message.format(d=tmp_path) in err
    assert not (tmp_path / "r.md").exists() and not (tmp_path / "b.png").exists()


def test_cli_runs_as_a_program(tmp_path, repo_root, script_env):
    _write_scores_and_trials(tmp_path, ["xvector_mfcc_aug"], n=50)
    p = subprocess.run([str(repo_root / "pyscripts" / "score_report.py"), "--paper-tables", "--corpus=demo",
                        "--trials=trials", "--out=-", "xvector_mfcc_aug=scores_xvector_mfcc_aug"],
                       cwd=tmp_path, env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("# phonsid results: demo\n")
    assert _row(p.stdout, "x-vector system (aug)")[2] == "50"
