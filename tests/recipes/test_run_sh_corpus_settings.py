"""What run.sh runs for each corpus, without running it: run.sh in a copy of its tree where every step script and
Python tool is a stub that logs its command line. The commands of every corpus (and of --small, the option paths,
the error paths) are compared with tests/recipes/run_sh_commands.txt; the network configs the trainers would get
appear there resolved by the trainers' own loaders (load_xvector_config / load_bnf_config), so a size preset and the
inline overrides it replaced read the same. After a deliberate change to run.sh or conf/, rewrite the file with
``PHONSID_UPDATE_RUN_SH_COMMANDS=1 python -m pytest tests/recipes/test_run_sh_corpus_settings.py`` and review its
diff: it is the change in what the recipe runs."""

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
XVECTOR_SYSTEMS = ("mfcc", "mfcc_aug", "bnf", "sbnf", "mt_sbnf")
SCORED_DIRS = ("ivectors_ubm", "ivectors_dnn", "ivectors_bnf") + tuple(f"xvector_{s}" for s in XVECTOR_SYSTEMS)

STUB = """#!/usr/bin/env bash
{ printf '%s' NAME; [ $# -eq 0 ] || printf ' %q' "$@"; printf '\\n'; } >> "$RUN_LOG"
"""


def _write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def make_stub_tree(repo: Path, dest: Path) -> None:
    """``dest``: run.sh, cmd.sh, conf/ and utils/parse_options.sh of ``repo``; a logging stub for every other file
    of steps/, sid/, utils/, local/; path.sh puts stub_bin/ (python, cp, rm, date) first on PATH."""
    dest.mkdir(parents=True)
    shutil.copytree(repo / "conf", dest / "conf")
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


def make_data_state(tree: Path, state: str) -> None:
    """The files run.sh looks at between the steps. "bare": only the sets' utt2spk (counted in stages 2 and 3).
    "full": also DNN-2's data (P_asr2), extra trial lists, the demo's true alignment, the x-vector training sets'
    features and every system's vectors, so that every branch of stages 3-8 is taken; P_asr has over 10k
    utterances (the monophones' subset)."""
    for p in PREFIXES:
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
    variables: str            # `declare -p` at the end of run.sh (empty when it exited)


def run_stubbed(base: Path, scenario: Scenario, work: Path, dump_variables: bool = False) -> Run:
    """run.sh with ``scenario.args`` in a copy of the stub tree ``base`` (made by :func:`make_stub_tree`)."""
    tree = work / scenario.name
    shutil.copytree(base, tree, symlinks=True)
    make_data_state(tree, scenario.state)
    if scenario.setup is not None:
        scenario.setup(tree)
    log = tree / "run.log"
    log.touch()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tree), "LC_ALL": "C", "RUN_LOG": str(log),
           **scenario.env}
    if dump_variables:   # run.sh sourced, so that its variables can be listed after it
        cmd = ["bash", "-c", '. ./run.sh "$@"; declare -p > vars.txt', "run.sh", *scenario.args]
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
    make_stub_tree(repo, base)
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
