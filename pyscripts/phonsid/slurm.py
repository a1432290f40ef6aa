"""Slurm job runner with Kaldi's ``slurm.pl`` command line (stdlib only, like :mod:`phonsid.jobs`).

    slurm.pl [--mem M] [--num-threads N] [--gpu G] [--max-jobs-run K] [--time T] [--config conf/slurm.conf]
             [JOB=1:N] <log-file> <command...>

One call submits one sbatch array job (``--array=1-N%K``). Every array task runs the command exactly as
``run.pl`` runs one job (:func:`phonsid.jobs.start_job` / :func:`phonsid.jobs.finish_job`: bash, the submitting cwd,
output appended to its own ``JOB`` log framed by the Kaldi header and footer), with the submitting environment
restored, then writes a marker file holding its exit code. The call returns when every marker is there or
``sbatch --wait`` has returned, whichever comes first (sbatch's own polling slows down to 10 s on clusters
with a large ``MinJobAge``; the markers make short steps finish as soon as their tasks do). Exit codes come
from the markers, never from ``sacct``: a task without a marker was killed by Slurm (time or memory limit,
node failure, scancel) and counts as failed. Ctrl-C or SIGTERM cancels the array with ``scancel``.

Options other than ``--max-jobs-run`` and ``--config`` become sbatch options through the config file, in
Kaldi's format (``conf/slurm.conf`` in the current directory; the built-in :data:`DEFAULT_CONFIG` when that is
absent)::

    command sbatch --export=ALL           # the submit command and its fixed options
    option mem=* --mem=$0                 # --mem 2G  ->  --mem=2G
    option mem=0                          # --mem 0   ->  nothing
    default gpu=0                         # value used when the option is not given
    option gpu=0                          # ... which adds nothing
    option gpu=* --gres=gpu:$0 --partition=gpu

A ``--name value`` option that the config does not describe is an error; options with a single dash
(``-p debug``) are passed to sbatch unchanged. Per call, ``<log-dir>/q/`` holds the task script, the task
spec (JSON: command, cwd, environment), Slurm's own output per task (``<name>.<task>.out``) and the markers.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from phonsid.jobs import Options, finish_job, join_command, parse_job_range, start_job, substitute_job

PROG = "slurm.pl"

USAGE = """Usage: slurm.pl [options] [JOB=1:N] <log-file> <command...>
 e.g.: slurm.pl --mem 2G --max-jobs-run 10 JOB=1:40 exp/foo/log/bar.JOB.log compute-stuff --job=JOB
Submits one Slurm array job (sbatch --array), waits for it, and exits 1 naming the logs of failed tasks.
Options (mapped to sbatch options by the config file; see conf/slurm.conf):
  --config F         config file (default: conf/slurm.conf if present, else the built-in default)
  --mem M            memory per task (e.g. 2G, 500M; 0 for none)
  --num-threads N    CPUs per task (default 1; recorded in the log footer)
  --gpu G            GPUs per task (default 0)
  --time T           time limit per task (sbatch --time format, e.g. 4:00:00)
  --max-jobs-run K   at most K tasks at once (--array=1-N%K); also -tc K
  --<name> V         any other option the config describes (option <name>=...)
  -x V               single-dash options are passed to sbatch as they are (e.g. -p debug)"""

DEFAULT_CONFIG = """\
command sbatch --export=ALL
option time=* --time=$0
option mem=* --mem=$0
option mem=0
option num_threads=* --cpus-per-task=$0
option num_threads=1 --cpus-per-task=1
default gpu=0
option gpu=0
option gpu=* --gres=gpu:$0 --partition=gpu
"""

# Environment variables a task must not take from the submitting shell: Slurm's own (set per task by
# slurmd), the GPUs granted to this task (set by Slurm's gres plugin), and per-host/per-shell values.
_NOT_RESTORED_PREFIXES = ("SLURM_", "SLURMD_")
_NOT_RESTORED = {"CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL",
                 "HOSTNAME", "HOST", "PWD", "OLDPWD", "SHLVL", "_", "TMPDIR"}

_POLL_MIN, _POLL_MAX = 0.1, 0.5  # seconds between looks at the marker directory
_MARKER_GRACE = 30.0  # seconds to wait for markers (shared file systems) after sbatch said all tasks ended


class SlurmError(Exception):
    """A usage, config or submission error; the message names the file or option."""


@dataclass
class SlurmConfig:
    """A parsed slurm.conf (Kaldi's format): the submit command and the option -> sbatch argument rules."""

    source: str
    command: list[str]
    star: dict[str, str] = field(default_factory=dict)  # option name -> args with $0
    fixed: dict[tuple[str, str], str] = field(default_factory=dict)  # (name, value) -> args
    defaults: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, source: str) -> "SlurmConfig":
        command: list[str] | None = None
        star: dict[str, str] = {}
        fixed: dict[tuple[str, str], str] = {}
        defaults: dict[str, str] = {}
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            keyword, _, rest = line.partition(" ")
            rest = rest.strip()
            name, eq, value_args = rest.partition("=")
            value, _, args = value_args.partition(" ")
            if keyword == "command" and rest:
                command = shlex.split(rest)
            elif keyword in ("option", "default") and eq and name and value and " " not in name:
                if keyword == "default":
                    if args.strip():
                        raise SlurmError(f"{source}:{lineno}: 'default' takes name=value only: {raw!r}")
                    defaults[name] = value
                elif value == "*":
                    if "$0" not in args:
                        raise SlurmError(f"{source}:{lineno}: 'option {name}=*' needs $0 in its arguments: {raw!r}")
                    star[name] = args.strip()
                else:
                    fixed[(name, value)] = args.strip()
            else:
                raise SlurmError(f"{source}:{lineno}: cannot parse {raw!r} (expected 'command ...', "
                                 "'option name=value args', 'option name=* args with $0' or 'default name=value')")
        if command is None:
            raise SlurmError(f"{source}: no 'command ...' line (e.g. 'command sbatch --export=ALL')")
        return cls(source, command, star, fixed, defaults)

    @classmethod
    def load(cls, path: str | None) -> "SlurmConfig":
        """``path`` if given (it must exist); else ``conf/slurm.conf`` when present; else the default."""
        if path is None:
            if not os.path.isfile("conf/slurm.conf"):
                return cls.parse(DEFAULT_CONFIG, "the default config")
            path = "conf/slurm.conf"
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise SlurmError(f"cannot read config file {path}: {e.strerror}") from None
        return cls.parse(text, path)

    def sbatch_options(self, options: dict[str, str]) -> list[str]:
        """The sbatch arguments for the ``--name value`` options of the command line (defaults added)."""
        values = dict(self.defaults)
        values.update(options)
        out: list[str] = []
        for name, value in values.items():
            if (name, value) in self.fixed:
                args = self.fixed[(name, value)]
            elif name in self.star:
                args = self.star[name].replace("$0", value)
            else:
                raise SlurmError(f"option --{name.replace('_', '-')} {value} is not described in {self.source} "
                                 f"(or the value {value!r} is not allowed there)")
            out += shlex.split(args)
        return out


@dataclass
class SlurmArgs:
    """The command line of slurm.pl."""

    options: dict[str, str]  # --name value options, name with underscores (config, max_jobs_run included)
    passthrough: list[str]  # single-dash options for sbatch
    var: str | None
    first: int
    last: int
    logfile: str
    command: str


def parse_args(argv: list[str]) -> SlurmArgs:
    """Parses Kaldi's queue/slurm command line; options and the ``JOB=a:b`` range may come in any order."""
    options: dict[str, str] = {}
    passthrough: list[str] = []
    var, first, last = None, 1, 1
    rest = list(argv)
    while rest:
        arg = rest[0]
        job_range = parse_job_range(arg) if var is None else None
        if job_range:
            var, first, last = job_range
            if last < first or first < 1:
                raise SlurmError(f"bad job range {arg}: need 1 <= first <= last")
            rest.pop(0)
        elif arg.startswith("-") and len(arg) > 1:
            name, eq, value = arg.partition("=")
            if not eq:
                if len(rest) < 2:
                    raise SlurmError(f"option {arg} needs a value")
                value = rest[1]
            rest = rest[1:] if eq else rest[2:]
            if name == "-tc":
                options["max_jobs_run"] = value
            elif name.startswith("--") and len(name) > 2:
                options[name[2:].replace("-", "_")] = value
            else:
                passthrough += [name, value]
        else:
            break
    if len(rest) < 2:
        raise SlurmError("need a log file and a command\n" + USAGE)
    logfile = rest[0]
    if var and last > first and not re.search(rf"\b{re.escape(var)}\b", logfile):
        raise SlurmError(f"{last - first + 1} tasks ({var}={first}:{last}) cannot share one log file {logfile}: "
                         f"put {var} in its name")
    return SlurmArgs(options, passthrough, var, first, last, logfile, join_command(rest[1:]))


def _queue_paths(logfile: str, var: str | None, cwd: str) -> tuple[str, str]:
    """(q directory, base name) for a call: ``<log-dir>/q`` (the log dir's part before any JOB) and the log
    file's name without JOB and ``.log``, e.g. ``exp/x/log/mfcc.JOB.log`` -> (``exp/x/log/q``, ``mfcc``)."""
    directory, base = os.path.split(logfile)
    if var:
        parts = directory.split(os.sep)
        for i, part in enumerate(parts):
            if re.search(rf"\b{re.escape(var)}\b", part):
                parts = parts[:i]
                break
        directory = os.sep.join(parts)
        base = re.sub(rf"\b{re.escape(var)}\b", "", base)
    base = re.sub(r"\.log$", "", re.sub(r"\.{2,}", ".", base).strip(".")) or "job"
    return os.path.join(cwd, directory, "q"), base


def _task_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in _NOT_RESTORED and not k.startswith(_NOT_RESTORED_PREFIXES)}


def _pyscripts_dir() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Submission:
    """Everything one slurm.pl call writes and runs (built without touching Slurm, so it can be tested)."""

    sbatch: list[str]
    script: str
    spec: str
    qdir: str
    base: str
    logs: dict[int, str]
    markers: dict[int, str]
    outs: dict[int, str]
    num_threads: int


def prepare(args: SlurmArgs, cwd: str | None = None) -> Submission:
    """Reads the config and builds the sbatch command line and the paths of one call (writes nothing)."""
    cwd = cwd or os.getcwd()
    options = dict(args.options)
    config = SlurmConfig.load(options.pop("config", None))
    max_jobs = options.pop("max_jobs_run", None)
    if max_jobs is not None and (not max_jobs.isdigit() or int(max_jobs) < 1):
        raise SlurmError(f"--max-jobs-run must be a positive integer, got {max_jobs!r}")
    threads = options.get("num_threads", config.defaults.get("num_threads", "1"))
    if not threads.isdigit() or int(threads) < 1:
        raise SlurmError(f"--num-threads must be a positive integer, got {threads!r}")
    qdir, base = _queue_paths(args.logfile, args.var, cwd)
    ids = range(args.first, args.last + 1)
    array = f"{args.first}-{args.last}" + (f"%{int(max_jobs)}" if max_jobs and len(ids) > 1 else "")
    script = os.path.join(qdir, f"{base}.sh")
    sbatch = (config.command + config.sbatch_options(options) + args.passthrough
              + ["--parsable", "--wait", f"--job-name={base}", f"--chdir={cwd}",
                 f"--output={os.path.join(qdir, base)}.%a.out", f"--array={array}", script])
    logs = {i: os.path.join(cwd, substitute_job(args.logfile, args.var, i)) for i in ids}
    return Submission(sbatch, script, os.path.join(qdir, f"{base}.json"), qdir, base, logs,
                      {i: os.path.join(qdir, f"{base}.{i}.status") for i in ids},
                      {i: os.path.join(qdir, f"{base}.{i}.out") for i in ids}, int(threads))


def _write_files(args: SlurmArgs, sub: Submission, cwd: str) -> None:
    os.makedirs(sub.qdir, exist_ok=True)
    for path in [sub.spec, *sub.markers.values(), *sub.logs.values(), *sub.outs.values()]:
        try:
            os.remove(path)  # a task that never ran must not leave last run's log or status behind
        except FileNotFoundError:
            pass
    spec = {"cwd": cwd, "env": _task_environment(), "var": args.var, "first": args.first, "last": args.last,
            "logfile": args.logfile, "command": args.command, "num_threads": sub.num_threads,
            "marker": os.path.join(sub.qdir, f"{sub.base}.{{task}}.status")}
    # The environment may hold credentials: the spec is readable by its owner only.
    with open(os.open(sub.spec, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(spec, f, indent=1)
    runner = ("import sys; sys.path.insert(0, sys.argv[1]); from phonsid.slurm import run_task; "
              "sys.exit(run_task(sys.argv[2], sys.argv[3]))")
    with open(sub.script, "w") as f:
        f.write("#!/bin/bash\n"  # comments on one line each, whatever newlines the command holds
                f"# Array task script written by utils/slurm.pl for: {_one_line(args.command)}\n"
                f"# Submitted with: {_one_line(shlex.join(sub.sbatch))}\n"
                f"exec {shlex.quote(sys.executable)} -c {shlex.quote(runner)} {shlex.quote(_pyscripts_dir())} "
                f'{shlex.quote(sub.spec)} "$SLURM_ARRAY_TASK_ID"\n')
    os.chmod(sub.script, 0o755)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def run_task(spec_path: str, task: str) -> int:
    """Runs one array task inside Slurm: restores cwd and environment, runs the command like run.pl does
    (same log header and footer), and writes the task's marker file with the exit code."""
    with open(spec_path) as f:
        spec = json.load(f)
    job = int(task)
    os.chdir(spec["cwd"])
    os.environ.update(spec["env"])
    os.environ["PWD"] = spec["cwd"]
    print(f"# slurm.pl task {job} running on {socket.gethostname()}, Slurm job "
          f"{os.environ.get('SLURM_ARRAY_JOB_ID', '?')}_{os.environ.get('SLURM_ARRAY_TASK_ID', '?')}", flush=True)
    opts = Options(1, spec["num_threads"], spec["var"], spec["first"], spec["last"], spec["logfile"],
                   spec["command"])
    proc, log, started = start_job(opts, job)

    def forward(signum, _frame):  # scancel / time limit: stop the command's process group, then finish
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = proc.wait()
    code = code if code >= 0 else 128 - code
    finish_job(log, code, started, spec["num_threads"])
    marker = spec["marker"].replace("{task}", str(job))
    with open(marker + ".tmp", "w") as f:
        f.write(f"{code}\n")
    os.replace(marker + ".tmp", marker)
    return 0 if code == 0 else code if code < 256 else 1


def _read_markers(sub: Submission, known: dict[int, int] | None = None) -> dict[int, int]:
    """Exit codes of the tasks whose marker is there: ``known`` plus the new ones (one directory listing)."""
    codes = dict(known or {})
    try:
        present = set(os.listdir(sub.qdir))
    except FileNotFoundError:
        return codes
    for task, path in sub.markers.items():
        if task not in codes and os.path.basename(path) in present:
            try:
                with open(path) as f:
                    codes[task] = int(f.read().strip() or "1")
            except (OSError, ValueError):
                pass  # being written or unreadable: look again
    return codes


class _Sbatch:
    """``sbatch --wait`` running in its own session; a thread reads its output (job id first)."""

    def __init__(self, command: list[str]):
        try:
            self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        except OSError as e:
            raise SlurmError(f"cannot run {command[0]}: {e.strerror} (is Slurm installed here, and is the "
                             "'command' line of the config right?)") from None
        self.job_id: str | None = None
        self.messages: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            m = re.fullmatch(r"(\d+)(;\S+)?", line.strip()) or re.search(r"Submitted batch job (\d+)", line)
            if self.job_id is None and m:
                self.job_id = m.group(1)
            elif line.strip():
                self.messages.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)


def _cancel(job_id: str) -> None:
    try:
        subprocess.run(["scancel", job_id], stdin=subprocess.DEVNULL, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.stderr.write(f"{PROG}: scancel {job_id} failed ({e}); cancel it by hand\n")


def submit(args: SlurmArgs) -> int:
    cwd = os.getcwd()
    sub = prepare(args, cwd)
    _write_files(args, sub, cwd)
    interrupted: list[int] = []
    cancelled = [False]
    sbatch: _Sbatch | None = None

    def on_signal(signum, _frame):
        interrupted.append(signum)
        if sbatch is not None and sbatch.job_id and not cancelled[0]:
            cancelled[0] = True
            _cancel(sbatch.job_id)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        sbatch = _Sbatch(sub.sbatch)
        codes: dict[int, int] = {}
        delay = _POLL_MIN
        give_up = None
        while True:
            if interrupted:
                give_up = give_up or time.time() + 30
                if sbatch.job_id is None and sbatch.proc.poll() is None and time.time() < give_up:
                    time.sleep(_POLL_MIN)  # the job id comes right after submission: cancel that job
                    continue
                if sbatch.job_id and not cancelled[0]:
                    cancelled[0] = True
                    _cancel(sbatch.job_id)
                sbatch.stop()
                total = len(sub.logs)
                sys.stderr.write(f"{PROG}: interrupted (signal {interrupted[0]}), Slurm job "
                                 f"{sbatch.job_id or '(not submitted)'} cancelled ({total} tasks, logs like "
                                 f"{sub.logs[args.first]})\n")
                return 128 + interrupted[0]
            codes = _read_markers(sub, codes)
            if len(codes) == len(sub.markers) or sbatch.proc.poll() is not None:
                break
            time.sleep(delay)
            delay = min(delay * 1.5, _POLL_MAX)
        sbatch_ended = sbatch.proc.poll() is not None
        sbatch.stop()
        if sbatch.job_id is None:
            out = "\n".join(sbatch.messages) or "(no output)"
            sys.stderr.write(f"{PROG}: submission failed: {shlex.join(sub.sbatch)}\n{out}\n")
            return 1
        for line in sbatch.messages:
            if "Submitted batch job" not in line:
                sys.stderr.write(f"{PROG}: sbatch: {line}\n")
        if sbatch_ended and len(codes) < len(sub.markers):
            # All tasks ended; on a shared file system the last markers may take a moment to show.
            grace = _MARKER_GRACE if sbatch.proc.returncode == 0 else 1.0
            deadline = time.time() + grace
            while len(codes) < len(sub.markers) and time.time() < deadline and not interrupted:
                time.sleep(_POLL_MAX)
                codes = _read_markers(sub, codes)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    failed = 0
    for task in sorted(sub.markers):
        code = codes.get(task)
        if code == 0:
            continue
        failed += 1
        if code is None:
            sys.stderr.write(f"{PROG}: task {task} of Slurm job {sbatch.job_id} ended without an exit status "
                             f"(killed by Slurm: time or memory limit, node failure or scancel?), log is in "
                             f"{sub.logs[task]}, Slurm's output in {sub.outs[task]}{_tail(sub.outs[task])}\n")
        else:
            sys.stderr.write(f"{PROG}: job {task} failed with exit code {code}, log is in {sub.logs[task]}\n")
    if failed:
        sys.stderr.write(f"{PROG}: {failed} / {len(sub.markers)} failed\n")
        return 1
    return 0


def _tail(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            lines = [ln.rstrip() for ln in f if ln.strip() and not ln.startswith("# slurm.pl task")]
    except OSError:
        return ""
    return f"; it ends with: {lines[-1]}" if lines else ""


def run(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write(USAGE + "\n")
        return 1
    try:
        return submit(parse_args(argv))
    except SlurmError as e:
        sys.stderr.write(f"{PROG}: {e}\n")
        return 1


def main() -> None:
    sys.exit(run(sys.argv[1:]))
