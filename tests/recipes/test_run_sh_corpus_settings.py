"""run.sh and the corpus folders conf/<corpus>/corpus.sh, without running a step: run.sh runs in a copy of its tree
where every step script and Python tool is a stub that logs its command line.

- What run.sh runs for each corpus (and for --small, the options, the error paths) is compared with
  tests/recipes/run_sh_commands.txt. The network configs the trainers would get are resolved there by the trainers'
  own loaders (load_xvector_config / load_bnf_config), so a size preset (conf/xvector_small.yaml) and the inline
  overrides it replaced read the same. After a deliberate change to run.sh or conf/, rewrite the file with
  ``PHONSID_UPDATE_RUN_SH_COMMANDS=1 python -m pytest tests/recipes/test_run_sh_corpus_settings.py`` and review its
  diff: it is the change in what the recipe runs. Corpora other than the four recorded ones do not enter it.
- Every conf/*/corpus.sh gives run.sh complete settings (found, not listed here: a new corpus is checked too).
- A new corpus needs only its folder; an unknown or incomplete one is refused with a message that says why.
- Each size preset conf/<network>_<size>.yaml differs from conf/<network>.yaml only on its lines marked 'preset'.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).with_name("run_sh_commands.txt")
UPDATE_ENV = "PHONSID_UPDATE_RUN_SH_COMMANDS"

STUBBED_DIRS = ("steps", "sid", "utils", "local")   # every file here becomes a stub that logs its command line
REAL_FILES = ("run.sh", "cmd.sh", "utils/parse_options.sh")
STUBBED_TOOLS = ("python", "cp", "rm", "date")      # on PATH; date: a fixed time in the stage banners
PREFIXES = ("demo", "so762", "sre10", "vox")        # data dirs of every corpus exist in the data states below
RECORDED_CORPORA = ("demo", "speechocean762", "sre10", "voxceleb")   # the corpora of run_sh_commands.txt
XVECTOR_SYSTEMS = ("mfcc", "mfcc_aug", "bnf", "sbnf", "mt_sbnf")
SCORED_DIRS = ("ivectors_ubm", "ivectors_dnn", "ivectors_bnf") + tuple(f"xvector_{s}" for s in XVECTOR_SYSTEMS)

STUB = """#!/usr/bin/env bash
{ printf '%s' NAME; [ $# -eq 0 ] || printf ' %q' "$@"; printf '\\n'; } >> "$RUN_LOG"
"""


def _write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def make_stub_tree(repo: Path, dest: Path, corpora: tuple[str, ...] | None = None) -> None:
    """``dest``: run.sh, cmd.sh, conf/ and utils/parse_options.sh of ``repo``; a logging stub for every other file
    of steps/, sid/, utils/, local/; path.sh puts stub_bin/ (python, cp, rm, date) first on PATH. ``corpora``: the
    corpus folders conf/<corpus>/ taken (default: all)."""
    dest.mkdir(parents=True)
    shutil.copytree(repo / "conf", dest / "conf")
    if corpora is not None:
        for corpus_sh in (dest / "conf").glob("*/corpus.sh"):
            if corpus_sh.parent.name not in corpora:
                shutil.rmtree(corpus_sh.parent)
    for d in STUBBED_DIRS:
        for src in sorted((repo / d).rglob("*")):
            rel = src.relative_to(repo).as_posix()
            if src.is_file() and "__pycache__" not in rel and rel not in REAL_FILES:
                _write_executable(dest / rel, STUB.replace("NAME", shlex.quote(rel)))
    for rel in REAL_FILES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, dest / rel)
    for tool in STUBBED_TOOLS:
        _write_executable(dest / "stub_bin" / tool, STUB.replace("NAME", tool))
    _write_executable(dest / "stub_bin" / "date", "#!/bin/sh\necho '2000-01-01 00:00:00'\n")
    (dest / "path.sh").write_text('export PATH="$PWD/stub_bin:$PATH"\n')


def make_data_state(tree: Path, state: str, prefixes: tuple[str, ...] = PREFIXES) -> None:
    """The files run.sh looks at between the steps. "bare": only the sets' utt2spk (counted in stages 2 and 3).
    "full": also DNN-2's data (P_asr2), extra trial lists, the demo's true alignment, the x-vector training sets'
    features and every system's vectors, so that every branch of stages 3-8 is taken; P_asr has over 10k
    utterances (the monophones' subset)."""
    for p in prefixes:
        sizes = {"asr": 10001 if state == "full" else 40, "train": 50, "enroll": 10, "test": 10}
        for name, n in sizes.items():
            d = tree / "data" / f"{p}_{name}"
            d.mkdir(parents=True)
            (d / "utt2spk").write_text("".join(f"u{i:05d} s{i % 5}\n" for i in range(n)))
        if state == "bare":
            continue
        (tree / f"data/{p}_asr2").mkdir()
        (tree / f"data/{p}_asr/phone_ali.txt").write_text("u00000 1 1\n")
        for sub in ("trials", "trials_adult", "trials_child"):
            (tree / f"data/{p}_test/{sub}").write_text("s0 u00000 target\n")
        train = f"{p}_train"
        for tdata in (train, f"{train}_combined", f"{train}_combined_bnf", f"{train}_combined_sbnf",
                      f"{train}_combined_mtsbnf"):
            (tree / "data" / tdata).mkdir(exist_ok=True)
            for f in ("feats.scp", "vad.scp"):
                (tree / "data" / tdata / f).write_text("u00000 x.ark:1\n")
        for d in SCORED_DIRS:
            kind = "ivectors" if d.startswith("ivectors") else "xvectors"
            (tree / "exp" / d / f"{kind}_{p}_test").mkdir(parents=True)
    if state == "full":
        (tree / "exp/tri1_ali").mkdir(parents=True, exist_ok=True)
        (tree / "exp/tri1_ali/phone_accuracy.txt").write_text("phone accuracy 0.910\n")
        (tree / "exp/results.md").write_text("# results\n")


@dataclass
class Scenario:
    name: str
    args: tuple[str, ...]
    state: str = "full"
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    prefixes: tuple[str, ...] = PREFIXES


def _drop_corpora_conf_key(key: str) -> Callable[[Path], None]:
    def setup(tree: Path) -> None:
        for conf in (tree / "conf").glob("*/corpora.conf"):
            lines = conf.read_text().splitlines(keepends=True)
            conf.write_text("".join(ln for ln in lines if not ln.startswith(f"{key}=")))
    return setup


def _remove(rel: str) -> Callable[[Path], None]:
    return lambda tree: (tree / rel).unlink()


def _existing_so762(tree: Path) -> None:
    (tree / "downloads/so762_local").mkdir(parents=True)


def _other_corpus_in_exp(tree: Path) -> None:
    (tree / "exp/corpus").write_text("sre10\n")


SCENARIOS = (
    Scenario("demo", ()),
    Scenario("demo-small", ("--small", "true")),
    Scenario("demo-options", ("--musan-root", "/corpora/musan", "--rirs-root", "/corpora/RIRS_NOISES", "--nj", "4",
                              "--seed", "5", "--aug-ratio", "3")),
    Scenario("demo-bare", (), state="bare"),
    Scenario("demo-stages-3-5", ("--stage", "3", "--stop-stage", "5")),
    Scenario("demo-small-stage-7", ("--small", "true", "--stage", "7", "--stop-stage", "7")),
    Scenario("speechocean762", ("--corpus", "speechocean762")),
    Scenario("speechocean762-root", ("--corpus", "speechocean762", "--so762-root", "downloads/so762_local",
                                     "--rirs-root", "/corpora/RIRS_NOISES"), setup=_existing_so762),
    Scenario("sre10", ("--corpus", "sre10")),
    Scenario("sre10-bare", ("--corpus", "sre10", "--musan-root", "/m", "--rirs-root", "/r"), state="bare"),
    Scenario("voxceleb", ("--corpus", "voxceleb", "--nj", "8")),
    Scenario("voxceleb-stage-8", ("--corpus", "voxceleb", "--stage", "8")),
    # failures
    Scenario("sre10-small", ("--corpus", "sre10", "--small", "true")),
    Scenario("sre10-no-musan", ("--corpus", "sre10"), setup=_drop_corpora_conf_key("musan")),
    Scenario("sre10-no-musan-stage-1", ("--corpus", "sre10", "--stage", "1", "--stop-stage", "1"),
             setup=_drop_corpora_conf_key("musan")),
    Scenario("voxceleb-no-corpora-conf", ("--corpus", "voxceleb"), setup=_remove("conf/voxceleb/corpora.conf")),
    Scenario("nosuch", ("--corpus", "nosuch")),
    Scenario("other-corpus-in-exp", (), setup=_other_corpus_in_exp),
    Scenario("help", ("--help",)),
    Scenario("bad-option", ("--no-such-option", "1")),
)


@dataclass
class Run:
    code: int
    lines: list[str]          # the stubs' command lines and run.sh's output, in order
    variables: str            # `declare -p` and `declare -F` at the end of run.sh (empty when it exited)


def run_stubbed(base: Path, scenario: Scenario, work: Path, dump_variables: bool = False) -> Run:
    """run.sh with ``scenario.args`` in a copy of the stub tree ``base`` (made by :func:`make_stub_tree`)."""
    tree = work / scenario.name
    shutil.copytree(base, tree, symlinks=True)
    make_data_state(tree, scenario.state, scenario.prefixes)
    if scenario.setup is not None:
        scenario.setup(tree)
    log = tree / "run.log"
    log.touch()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tree), "LC_ALL": "C", "RUN_LOG": str(log),
           **scenario.env}
    if dump_variables:   # run.sh sourced, so that its variables can be listed after it
        cmd = ["bash", "-c", '. ./run.sh "$@"; { declare -p; declare -F; } > vars.txt', "run.sh", *scenario.args]
    else:
        cmd = ["bash", "run.sh", *scenario.args]
    with open(log, "ab") as out:
        code = subprocess.run(cmd, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=120).returncode
    text = log.read_text().replace(str(tree), "<tree>")
    variables = (tree / "vars.txt").read_text() if (tree / "vars.txt").exists() else ""
    return Run(code, text.splitlines(), variables)


# -- the network configs, resolved --------------------------------------------------------------------------------

TRAINERS = {  # stub name -> (config option, overrides option, the step script's default config, loader)
    "sid/nnet/train_xvector.sh": ("--xvector-config", "--xvector-opts", "conf/xvector.yaml", "xvector"),
    "steps/nnet/train_bnf.sh": ("--bnf-config", "--bnf-opts", "conf/bnf1.yaml", "bnf"),
}


def resolve_config(tree: Path, kind: str, path: str, opts: str) -> dict:
    if kind == "xvector":
        from phonsid.nnet.train_xvector import load_xvector_config
        return load_xvector_config(tree / path, opts.split()).to_dict()
    from phonsid.nnet.bnf import load_bnf_config
    return load_bnf_config(tree / path, opts.split()).to_dict()


def normalise(lines: list[str], tree: Path, configs: dict[str, str]) -> list[str]:
    """Line numbers out of run.sh's banners; each trainer's --*-config and --*-opts replaced by the digest of the
    config they resolve to (``configs``: digest -> the config as JSON)."""
    out = []
    for line in lines:
        line = re.sub(r"\(run\.sh:\d+:", "(run.sh:N:", line)
        words = line.split(" ", 1)
        if words[0] in TRAINERS:
            conf_opt, opts_opt, path, kind = TRAINERS[words[0]]
            args = shlex.split(words[1])
            opts, rest, i = "", [], 0
            while i < len(args):
                if args[i] == conf_opt:
                    path, i = args[i + 1], i + 2
                elif args[i] == opts_opt:
                    opts, i = args[i + 1], i + 2
                else:
                    rest.append(args[i])
                    i += 1
            text = json.dumps(resolve_config(tree, kind, path, opts), sort_keys=True, separators=(",", ":"))
            digest = f"{kind}-config-{hashlib.sha1(text.encode()).hexdigest()[:12]}"
            configs[digest] = text
            line = " ".join([words[0], f"<{digest}>", *map(shlex.quote, rest)])
        out.append(line)
    return out


def commands_report(repo: Path, work: Path) -> str:
    base = work / "base"
    make_stub_tree(repo, base, RECORDED_CORPORA)
    configs: dict[str, str] = {}
    parts = []
    with ThreadPoolExecutor(4) as pool:   # the scenarios are independent (one tree each)
        runs = list(pool.map(lambda sc: run_stubbed(base, sc, work), SCENARIOS))
    for sc, run in zip(SCENARIOS, runs):
        parts.append(f"### {sc.name}: run.sh {shlex.join(sc.args)} ({sc.state}) -> exit {run.code}")
        parts.extend(normalise(run.lines, base, configs))
        parts.append("")
    parts.append("### resolved network configs")
    parts.extend(f"{k} {v}" for k, v in sorted(configs.items()))
    return "\n".join(parts) + "\n"


def test_run_sh_runs_the_recorded_commands(tmp_path: Path) -> None:
    report = commands_report(REPO, tmp_path)
    if os.environ.get(UPDATE_ENV):
        EXPECTED.write_text(report)
    expected = EXPECTED.read_text()
    if report != expected:
        import difflib
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), report.splitlines(keepends=True),
                                            str(EXPECTED), "run.sh now", n=1))
        pytest.fail(f"run.sh runs other commands than {EXPECTED.name} records (a deliberate change: rerun with "
                    f"{UPDATE_ENV}=1 and commit the file):\n{diff[:20000]}")


# -- every corpus folder -------------------------------------------------------------------------------------------

CORPORA = sorted(p.parent.name for p in (REPO / "conf").glob("*/corpus.sh"))
REQUIRED = ("p", "fs", "conf", "tree_opts", "ubm_size", "ivector_dim", "bnf_size", "xvector_size", "xvector_min_len")
REPORTED = REQUIRED + ("bnf1_config", "sbnf_config", "mt_sbnf_config", "xvector_config", "asr", "train", "enroll",
                       "test", "musan_root", "rirs_root", "ubm_opts", "fubm_opts", "ie_opts", "bnf_opts",
                       "xvector_opts")
SETTINGS = ('. ./run.sh "$@" > /dev/null; for v in ' + " ".join(REPORTED)
            + '; do printf "%s\\t%s\\n" $v "${!v}"; done > settings.txt; '
            'printf "egs_opts\\t%s\\n" "${egs_opts[*]}" >> settings.txt; '
            'declare -F | sed "s/^declare -f /function\\t/" >> settings.txt')


@pytest.fixture(scope="module")
def stub_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("run_sh_stub") / "base"
    make_stub_tree(REPO, base)
    return base


def settings(base: Path, work: Path, *args: str) -> dict[str, str]:
    """The settings run.sh goes on with after its corpus section (``run.sh <args> --stage 100``: no stage runs)."""
    tree = work / "settings"
    shutil.copytree(base, tree, symlinks=True)
    (tree / "run.log").touch()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tree), "LC_ALL": "C",
           "RUN_LOG": str(tree / "run.log")}
    proc = subprocess.run(["bash", "-c", SETTINGS, "run.sh", *args, "--stage", "100"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"run.sh {' '.join(args)}: {proc.stderr}"
    out: dict[str, str] = {}
    for line in (tree / "settings.txt").read_text().splitlines():
        key, _, value = line.partition("\t")
        out[value if key == "function" else key] = "function" if key == "function" else value
    return out


def test_the_corpora_are_found() -> None:
    assert set(RECORDED_CORPORA) <= set(CORPORA)


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_corpus_gives_run_sh_complete_settings(corpus: str, stub_tree: Path, tmp_path: Path) -> None:
    from phonsid.nnet.bnf import load_bnf_config
    from phonsid.nnet.train_xvector import load_xvector_config

    variants = [("--corpus", corpus)]
    if "corpus_small_sizes()" in (REPO / "conf" / corpus / "corpus.sh").read_text():
        variants.append(("--corpus", corpus, "--small", "true"))
    for i, args in enumerate(variants):
        got = settings(stub_tree, tmp_path / str(i), *args)
        for name in REQUIRED:
            assert got[name], f"{args}: {name} is empty"
        assert got.get("corpus_prep") == "function", f"{args}: no corpus_prep"
        assert got["fs"] in ("8000", "16000"), got["fs"]
        for name in ("ubm_size", "ivector_dim", "xvector_min_len"):
            assert got[name].isdigit(), (name, got[name])
        assert [w.isdigit() for w in got["tree_opts"].split()] == [True, True], got["tree_opts"]
        for f in ("mfcc.conf", "mfcc_hires.conf", "vad.conf"):
            assert (REPO / got["conf"] / f).is_file(), (args, got["conf"], f)
        assert [got[s] for s in ("asr", "train", "enroll", "test")] == \
            [f"{got['p']}_{s}" for s in ("asr", "train", "enroll", "test")]
        # the networks' configs load as the trainers load them
        for name in ("bnf1_config", "sbnf_config", "mt_sbnf_config"):
            load_bnf_config(REPO / got[name], got["bnf_opts"].split())
        assert load_bnf_config(REPO / got["mt_sbnf_config"]).multitask is not None
        load_xvector_config(REPO / got["xvector_config"], got["xvector_opts"].split())
        assert "--ivector-dim" not in got["ie_opts"]   # run.sh passes --ivector-dim $ivector_dim


def test_the_corpora_have_their_own_data_prefixes(stub_tree: Path, tmp_path: Path) -> None:
    prefixes = {c: settings(stub_tree, tmp_path / c, "--corpus", c)["p"] for c in CORPORA}
    assert len(set(prefixes.values())) == len(prefixes), prefixes


NEW_CORPUS = """# a corpus for the test: its folder only
p=mine
fs=16000
conf=conf/$corpus
tree_opts="300 3000"
ubm_size=64; ivector_dim=40
ie_opts="--num-iters 2"
bnf_size=small
xvector_size=reduced
xvector_min_len=200
egs_opts=(--num-repeats 5)
corpus_prep() {
  python local/make_mine.py --sample-rate $fs data
}
"""


def _add_corpus(tree: Path, name: str, text: str) -> None:
    d = tree / "conf" / name
    d.mkdir()
    (d / "corpus.sh").write_text(text)
    for f in ("mfcc.conf", "mfcc_hires.conf", "vad.conf"):
        shutil.copy(REPO / "conf/voxceleb" / f, d / f)


def test_a_new_corpus_needs_only_its_folder(stub_tree: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(stub_tree, base, symlinks=True)
    _add_corpus(base, "mycorpus", NEW_CORPUS)
    run = run_stubbed(base, Scenario("mycorpus", ("--corpus", "mycorpus", "--musan-root", "/m"),
                                     prefixes=("mine",)), tmp_path)
    text = "\n".join(run.lines)
    assert run.code == 0, text[-3000:]
    assert "python local/make_mine.py --sample-rate 16000 data" in run.lines
    assert ("steps/make_mfcc.sh --nj 2 --cmd utils/run.pl --mfcc-config conf/mycorpus/mfcc.conf "
            "--vad-config conf/mycorpus/vad.conf data/mine_asr exp/make_mfcc/mine_asr mfcc") in run.lines
    assert "steps/train_deltas.sh --cmd utils/run.pl 300 3000 data/mine_asr data/lang_mine exp/mono_ali exp/tri1" \
        in run.lines
    assert any(ln.startswith("sid/train_ivector_extractor.sh ") and "--ivector-dim 40 --num-iters 2" in ln
               for ln in run.lines)
    assert any(ln.startswith("steps/nnet/train_bnf.sh ") and "--bnf-config conf/bnf1_small.yaml" in ln
               for ln in run.lines)
    assert any(ln.startswith("sid/nnet/train_xvector.sh ") and "--xvector-config conf/xvector_reduced.yaml" in ln
               for ln in run.lines)
    assert any(ln.startswith("python pyscripts/score_report.py --paper-tables --corpus mycorpus --trials")
               for ln in run.lines)
    # nothing of the other corpora
    for other in ("demo", "so762", "sre10", "vox"):
        assert not re.search(rf"\b{other}[_/]", text), other
    # listed by --help and refused with --small true (it has no small sizes)
    help_run = run_stubbed(base, Scenario("mycorpus-help", ("--help",)), tmp_path)
    assert re.search(r"Corpora \(--corpus\): .*\bmycorpus\b", "\n".join(help_run.lines))
    small = run_stubbed(base, Scenario("mycorpus-small", ("--corpus", "mycorpus", "--small", "true")), tmp_path)
    assert small.code == 1
    assert small.lines == ["run.sh: --small true: conf/mycorpus/corpus.sh has no small sizes (corpus_small_sizes)"]


def test_an_unknown_corpus_is_refused_naming_the_corpora(stub_tree: Path, tmp_path: Path) -> None:
    for name in ("nosuch", "../conf"):
        run = run_stubbed(stub_tree, Scenario(name.replace("/", "_"), ("--corpus", name)), tmp_path)
        assert run.code == 1
        assert len(run.lines) == 1 and run.lines[0].startswith(f"run.sh: unknown --corpus '{name}'"), run.lines
        assert run.lines[0].endswith(f"(corpora: {' '.join(CORPORA)})"), run.lines
    assert not (tmp_path / "nosuch/exp/corpus").exists()


@pytest.mark.parametrize("change, message", [
    (("xvector_size=reduced", ""), "run.sh: conf/broken/corpus.sh does not set xvector_size"),
    (("bnf_size=small", "bnf_size=huge"), "run.sh: no conf/bnf1_huge.yaml (the size preset of conf/broken/corpus.sh)"),
    (("corpus_prep()", "prep()"), "run.sh: conf/broken/corpus.sh has no corpus_prep (stage 0)"),
    (("conf=conf/$corpus", "conf=conf/nosuch"), "run.sh: no conf/nosuch/mfcc.conf (conf=conf/nosuch in "
                                                 "conf/broken/corpus.sh)"),
])
def test_an_incomplete_corpus_is_refused_naming_what_is_missing(change: tuple[str, str], message: str,
                                                                 stub_tree: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(stub_tree, base, symlinks=True)
    assert change[0] in NEW_CORPUS
    _add_corpus(base, "broken", NEW_CORPUS.replace(*change))
    run = run_stubbed(base, Scenario("broken", ("--corpus", "broken")), tmp_path)
    assert (run.code, run.lines) == (1, [message])


# -- size presets --------------------------------------------------------------------------------------------------

PRESETS = sorted(p for p in (REPO / "conf").glob("*_*.yaml")   # conf/<network>_<size>.yaml beside conf/<network>.yaml
                 if (REPO / "conf" / f"{p.stem.rsplit('_', 1)[0]}.yaml").is_file())


def _flat(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict) and not prefix:
            out.update(_flat(v, f"{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _marked(path: Path) -> set[str]:
    """section.key of the lines marked '# preset' in a YAML file."""
    marked, section = set(), None
    for line in path.read_text().splitlines():
        if m := re.match(r"^(\w+):", line):
            section = m.group(1)
        if (m := re.match(r"^\s+(\w+):.*#\s*preset\b", line)) and section:
            marked.add(f"{section}.{m.group(1)}")
    return marked


def test_the_presets_are_found() -> None:
    names = {p.name for p in PRESETS}
    for size in ("reduced", "small"):
        assert {f"{n}_{size}.yaml" for n in ("bnf1", "sbnf", "mt_sbnf", "xvector")} <= names


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_a_size_preset_differs_from_its_network_only_on_its_marked_lines(preset: Path) -> None:
    from phonsid.nnet.bnf import load_bnf_config
    from phonsid.nnet.train_xvector import load_xvector_config

    base = REPO / "conf" / f"{preset.stem.rsplit('_', 1)[0]}.yaml"
    load = load_xvector_config if base.stem == "xvector" else load_bnf_config
    full, sized = _flat(load(base).to_dict()), _flat(load(preset).to_dict())
    assert full.keys() == sized.keys()
    differ = {k for k in full if full[k] != sized[k]}
    assert differ, f"{preset.name} is {base.name}"
    assert differ == _marked(preset), (f"{preset.name} differs from {base.name} on {sorted(differ)}, "
                                       f"marks {sorted(_marked(preset))} as its preset lines")
