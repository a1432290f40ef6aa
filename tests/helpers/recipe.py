"""Running ``run.sh`` from tests: a copy of the checkout to run it in, starting/killing it as a process group, and a
bit-for-bit comparison of the artifacts two runs wrote (data/, exp/, mfcc/).

What the comparison looks at, per file of the first run's tree (in the order the run wrote them, so that the first
difference named is the earliest artifact that differs):

- Kaldi archives (``*.ark``) and every other binary (Kaldi models, alignments, i-vector extractors, egs, wavs): by
  bytes; when two archives differ, the first differing key is named (read through kaldiio);
- ``*.pt`` (networks, checkpoints): every tensor, by dtype, shape and bytes; the other entries hold run times;
- ``*.npz``: every array by bytes (the zip members carry their write time);
- text files (scp, data-dir tables, scores, results.md): by content once the work dir's path is replaced by a
  placeholder (scp files name absolute archive paths).

Not compared: logs (``log/``, ``*.log``), step stamps (``.stamps/``: they record modification times), ``.backup/``
(outputs a rerun moved aside), ``q/``, diagnostics tables (``*.csv``: they hold speeds and elapsed times),
``checkpoints/`` (how many and which a run keeps depends on where it was interrupted; ``final.pt`` is compared) and
hidden files (the temporary files of atomic writes).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

RUN_DIRS = ("data", "exp", "mfcc")
# run outputs and environments at the top of a checkout that a copy must not take (the venv is linked instead),
# and caches anywhere in it (pyscripts/phonsid/data is code: only the top-level data/ is a run output)
NOT_COPIED = {"venv", "data", "exp", "mfcc", "downloads", ".git", ".agents"}
CACHES = {"__pycache__", ".pytest_cache"}
SKIPPED_DIRS = {"log", ".stamps", ".backup", "q", "checkpoints", "__pycache__"}
SKIPPED_SUFFIXES = (".log", ".pending", ".csv", ".tmp")


# ---------------------------------------------------------------------------------------------------------------
# a checkout to run the recipe in


def copy_checkout(repo: Path, dest: Path) -> None:
    """The recipe's files (what git tracks or would track; without git, the tree less run outputs) with their
    times (path.sh compares pyproject.toml with the venv's install stamp); the venv is shared through a link."""
    if (repo / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=repo,
                                capture_output=True, check=True).stdout.decode().split("\0")
        files = [repo / name for name in listed if name]
    else:
        files = [p for p in repo.rglob("*")
                 if p.relative_to(repo).parts[0] not in NOT_COPIED and not CACHES & set(p.relative_to(repo).parts)]
    for src in files:
        if src.is_file() and not src.is_symlink():
            target = dest / src.relative_to(repo)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    os.symlink(repo / "venv", dest / "venv")


def has_venv(repo: Path) -> bool:
    return (repo / "venv" / ".phonsid_installed").is_file()


def recipe_env() -> dict[str, str]:
    """The environment run.sh gets: the test's, less the variables path.sh sets itself, one thread per job."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["OMP_NUM_THREADS"] = "1"
    return env


def start_recipe(work: Path, *args: str, log_name: str = "run") -> subprocess.Popen:
    """Starts ``bash run.sh <args>`` in ``work`` as the leader of its own process group (to be killed as one), its
    output in ``work/<log_name>.out``."""
    out = open(work / f"{log_name}.out", "w")
    try:
        return subprocess.Popen(["bash", "run.sh", *args], cwd=work, env=recipe_env(), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        out.close()


def run_recipe(work: Path, *args: str, log_name: str = "run") -> None:
    """Runs ``bash run.sh <args>`` in ``work`` to its end; fails the test with the output's tail if it fails."""
    proc = start_recipe(work, *args, log_name=log_name)
    code = proc.wait()
    if code != 0:
        tail = (work / f"{log_name}.out").read_text(errors="replace")[-8000:]
        raise AssertionError(f"run.sh {' '.join(args)} in {work} failed ({code}):\n{tail}")


def wait_for_file(work: Path, patterns: Iterable[str], proc: subprocess.Popen, poll: float = 0.2) -> Path | None:
    """Polls until a file matching one of the glob ``patterns`` (relative to ``work``) exists while ``proc`` runs;
    returns it, or None when ``proc`` ended first."""
    patterns = list(patterns)
    while proc.poll() is None:
        for pat in patterns:
            found = sorted(work.glob(pat))
            if found:
                return found[0]
        time.sleep(poll)
    return None


def processes_in(work: Path) -> list[str]:
    """``pid command`` of the live processes whose working directory is ``work`` or below it (Linux /proc)."""
    root = str(work.resolve())
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cwd = os.readlink(p / "cwd")
            if cwd == root or cwd.startswith(root + os.sep):
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                if cmd:  # zombies have none
                    found.append(f"{p.name} {cmd[:200]}")
        except OSError:
            continue
    return found


def kill_recipe(proc: subprocess.Popen, sig: int, work: Path, settle: float = 30.0) -> list[str]:
    """Sends ``sig`` to the process group of ``proc`` (a run.sh from :func:`start_recipe`), waits for it to end,
    then up to ``settle`` seconds for everything else that ran in ``work`` to end too; returns what is still
    running there after that (nothing, when the recipe's jobs die with it)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait()
    deadline = time.monotonic() + settle
    left = processes_in(work)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = processes_in(work)
    return left


def kill_leftovers(work: Path) -> None:
    """SIGKILLs what still runs in ``work`` (cleanup after a failed check, so that it does not outlive the test)."""
    for line in processes_in(work):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ---------------------------------------------------------------------------------------------------------------
# comparing two runs' artifacts


def _skipped(rel: Path) -> bool:
    # hidden files: atomic writers' temporary files (a killed writer leaves ``.<name>.tmp``, never read as output)
    return bool(SKIPPED_DIRS & set(rel.parts[:-1])) or rel.name.endswith(SKIPPED_SUFFIXES) or rel.name.startswith(".")


def run_artifacts(work: Path, dirs: Iterable[str] = RUN_DIRS) -> list[Path]:
    """The compared files of a run (relative to ``work``), oldest first."""
    found = []
    for d in dirs:
        top = work / d
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(n for n in dirnames if n not in SKIPPED_DIRS)
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(work)
                if not _skipped(rel) and path.is_file():
                    found.append((path.stat().st_mtime_ns, str(rel), rel))
    return [rel for _, _, rel in sorted(found)]


def _tensors(obj, prefix: str = "") -> dict[str, object]:
    import torch

    out: dict[str, object] = {}
    if isinstance(obj, torch.Tensor):
        out[prefix or "<tensor>"] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_tensors(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(_tensors(v, f"{prefix}[{i}]"))
    return out


def _compare_pt(a: Path, b: Path) -> str | None:
    import torch

    ta = _tensors(torch.load(a, map_location="cpu", weights_only=False))
    tb = _tensors(torch.load(b, map_location="cpu", weights_only=False))
    if list(ta) != list(tb):
        return f"different tensors: {sorted(set(ta) ^ set(tb))[:5]}"
    if not ta:
        return "holds no tensors"
    for k in ta:
        x, y = ta[k], tb[k]
        if x.dtype != y.dtype or x.shape != y.shape:
            return f"tensor {k}: {x.dtype}{tuple(x.shape)} vs {y.dtype}{tuple(y.shape)}"
        if x.detach().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes() != \
                y.detach().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes():
            diff = (x.double() - y.double()).abs().max().item() if x.is_floating_point() else "n/a"
            return f"tensor {k} differs (max abs difference {diff})"
    return None


def _compare_npz(a: Path, b: Path) -> str | None:
    with np.load(a, allow_pickle=False) as za, np.load(b, allow_pickle=False) as zb:
        if sorted(za.files) != sorted(zb.files):
            return f"different arrays: {sorted(za.files)} vs {sorted(zb.files)}"
        for k in za.files:
            x, y = za[k], zb[k]
            if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                return f"array {k} differs"
    return None


def _first_ark_difference(a: Path, b: Path) -> str:
    try:
        import kaldiio

        da, db = kaldiio.load_ark(str(a)), kaldiio.load_ark(str(b))
        for (ka, xa), (kb, xb) in zip(da, db):
            xa, xb = np.asarray(xa), np.asarray(xb)
            if ka != kb:
                return f"key {ka} vs {kb}"
            if xa.dtype != xb.dtype or xa.shape != xb.shape or xa.tobytes() != xb.tobytes():
                extra = ""
                if xa.shape == xb.shape and np.issubdtype(xa.dtype, np.number):
                    extra = f", max abs difference {np.abs(xa.astype(np.float64) - xb).max():g}"
                return f"entry '{ka}' differs ({xa.dtype}{xa.shape} vs {xb.dtype}{xb.shape}{extra})"
        return "same entries, different bytes"
    except Exception as e:  # noqa: BLE001 - not every .ark is a Kaldi table (e.g. egs archives)
        return f"bytes differ (not readable as a Kaldi archive: {type(e).__name__})"


def _as_text(data: bytes, root: str) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.replace(root, "<work>")


def compare_file(a_root: Path, b_root: Path, rel: Path) -> str | None:
    """None when ``rel`` is the same in both runs, else what differs."""
    a, b = a_root / rel, b_root / rel
    if not b.is_file():
        return "missing in the second run"
    if rel.suffix == ".pt":
        return _compare_pt(a, b)
    if rel.suffix == ".npz":
        return _compare_npz(a, b)
    da, db = a.read_bytes(), b.read_bytes()
    if da == db:
        return None
    if rel.suffix == ".ark":
        return _first_ark_difference(a, b)
    ta, tb = _as_text(da, str(a_root.resolve())), _as_text(db, str(b_root.resolve()))
    if ta is None or tb is None:
        return f"bytes differ ({len(da)} vs {len(db)} bytes)"
    if ta == tb:
        return None
    la, lb = ta.splitlines(), tb.splitlines()
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return f"line {i}: '{x[:120]}' vs '{y[:120]}'"
    return f"{len(la)} vs {len(lb)} lines"


def compare_runs(a_root: Path, b_root: Path, dirs: Iterable[str] = RUN_DIRS,
                 only: Callable[[Path], bool] | None = None, max_report: int = 20) -> list[str]:
    """Differences between the artifacts of two runs, earliest artifact of run ``a`` first (empty: identical)."""
    dirs = list(dirs)
    a_files = [r for r in run_artifacts(a_root, dirs) if only is None or only(r)]
    problems = []
    for rel in a_files:
        why = compare_file(a_root, b_root, rel)
        if why is not None:
            problems.append(f"{rel}: {why}")
            if len(problems) >= max_report:
                problems.append("... (more differences not listed)")
                return problems
    a_set = {str(r) for r in a_files}
    for rel in run_artifacts(b_root, dirs):
        if (only is None or only(rel)) and str(rel) not in a_set:
            problems.append(f"{rel}: only in the second run")
    return problems


__all__ = ["NOT_COPIED", "RUN_DIRS", "compare_file", "compare_runs", "copy_checkout", "has_venv", "kill_leftovers",
           "kill_recipe", "processes_in", "recipe_env", "run_artifacts", "run_recipe", "start_recipe",
           "wait_for_file"]
