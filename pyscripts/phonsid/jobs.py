"""Local parallel job runner with Kaldi's ``run.pl`` command line (stdlib only: it must run before the venv).

    run.pl [options] [JOB=1:N] <log-file> <command...>

Every occurrence of the job variable (``JOB``) in the log file and the command is replaced by the job id.
Each job runs through bash with stdout and stderr appended to its log, framed by Kaldi's header
(``# command``, ``# Started at``) and footer (``# Accounting: time=… threads=…``, ``# Ended (code N) at …``).
At most ``--max-jobs-run`` jobs run at once (default: the number of CPUs). The exit status is 1 when any job
failed, and each failed job's log is named on stderr.

Each job is a process group of its own (so that one signal reaches all of a pipeline), and it dies with run.pl:
SIGINT/SIGTERM to run.pl is passed on to every job's group, and when run.pl dies without a chance to do so
(SIGKILL, e.g. ``kill -9`` of the recipe's process group), Linux sends the job's shell SIGTERM
(``PR_SET_PDEATHSIG``), which it passes on to its group. A killed recipe thus leaves no job behind that would go
on writing outputs while its rerun writes the same ones.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

USAGE = """Usage: run.pl [options] [JOB=1:N] <log-file> <command...>
 e.g.: run.pl --max-jobs-run 4 JOB=1:8 exp/foo/log/bar.JOB.log compute-stuff --job=JOB
Options:
  --max-jobs-run K   at most K jobs at once (default: number of CPUs); also -tc K
  --num-threads N    threads per job (recorded in the log; local jobs are not limited)
  --mem M            memory per job (accepted for compatibility with queue.pl/slurm.pl; not enforced)
  --gpu G            GPUs per job (accepted; local jobs see all GPUs)
  --time T, --config F  accepted for compatibility"""

_RANGE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+):(\d+)$")
_SINGLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$")


@dataclass
class Options:
    max_jobs_run: int
    num_threads: int
    var: str | None
    first: int
    last: int
    logfile: str
    command: str


def join_command(args: list[str]) -> str:
    """Joins arguments the way Kaldi's run.pl does: bare words stay bare (so ``\\|`` becomes a pipe),
    words with whitespace are quoted."""
    parts = []
    for a in args:
        if a and not re.search(r"\s", a):
            parts.append(a)
        elif '"' in a or "$" in a or "`" in a:
            parts.append(shlex.quote(a))
        else:
            parts.append(f'"{a}"')
    return " ".join(parts)


def parse_args(argv: list[str]) -> Options:
    max_jobs = os.cpu_count() or 1
    threads = 1
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        opt = argv[i]
        name, eq, value = opt.partition("=")
        if not eq:
            if i + 1 >= len(argv):
                raise SystemExit(f"run.pl: option {opt} needs a value\n{USAGE}")
            value = argv[i + 1]
            i += 1
        i += 1
        if name in ("--max-jobs-run", "-tc"):
            max_jobs = int(value)
        elif name == "--num-threads":
            threads = int(value)
        elif name in ("--mem", "--gpu", "--time", "--config", "--max-mem"):
            pass
        else:
            raise SystemExit(f"run.pl: unknown option {name}\n{USAGE}")
    rest = argv[i:]
    var, first, last = None, 1, 1
    if rest:
        job_range = parse_job_range(rest[0])
        if job_range:
            var, first, last = job_range
            rest = rest[1:]
            if last < first:
                raise SystemExit(f"run.pl: empty job range {first}:{last}")
    if len(rest) < 2:
        raise SystemExit(USAGE)
    return Options(max(1, max_jobs), threads, var, first, last, rest[0], join_command(rest[1:]))


def parse_job_range(arg: str) -> tuple[str, int, int] | None:
    """``JOB=1:10`` → ("JOB", 1, 10); ``JOB=3`` → ("JOB", 3, 3); anything else → None."""
    m = _RANGE.match(arg) or _SINGLE.match(arg)
    if not m:
        return None
    first = int(m.group(2))
    return m.group(1), first, int(m.group(3)) if m.re is _RANGE else first


def substitute_job(text: str, var: str | None, job: int) -> str:
    """Replaces the job variable (as a word) by the job id."""
    return re.sub(rf"\b{re.escape(var)}\b", str(job), text) if var else text


# The job's shell runs the command in the background and waits for it, so that a signal to the shell (TERM from
# run.pl, or from Linux when run.pl dies) is handled at once: it is passed on to the job's whole process group.
_JOB_SHELL = 'trap "trap - TERM INT HUP; kill -TERM 0" TERM INT HUP; __job=$1; shift; eval "$__job" & wait $!'
_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when its parent (run.pl) dies; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # run.pl died before the prctl: nobody will send the signal
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def start_job(opts: Options, job: int) -> tuple[subprocess.Popen, str, float]:
    """Starts one job through bash in a process group of its own that dies with run.pl (see the module doc), its
    output appended to its log after Kaldi's header."""
    log = substitute_job(opts.logfile, opts.var, job)
    command = substitute_job(opts.command, opts.var, job)
    os.makedirs(os.path.dirname(log) or ".", exist_ok=True)
    with open(log, "w") as f:
        f.write(f"# {command} \n# Started at {time.strftime('%a %b %d %H:%M:%S %Z %Y')}\n#\n")
    out = open(log, "a")
    proc = subprocess.Popen(["bash", "-c", _JOB_SHELL, "bash", command], stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_parent_death_signal())
    out.close()
    return proc, log, time.time()


def finish_job(log: str, code: int, started: float, threads: int) -> None:
    """Appends Kaldi's footer (accounting time, exit code) to a job's log."""
    elapsed = int(round(time.time() - started))
    with open(log, "a") as f:
        f.write(f"# Accounting: time={elapsed} threads={threads}\n")
        f.write(f"# Ended (code {code}) at {time.strftime('%a %b %d %H:%M:%S %Z %Y')}, "
                f"elapsed time {elapsed} seconds\n")


def run(argv: list[str]) -> int:
    opts = parse_args(argv)
    pending = list(range(opts.first, opts.last + 1))
    running: dict[int, tuple[subprocess.Popen, str, float]] = {}
    failed: list[tuple[int, str, int]] = []

    def kill_all(signum, _frame):
        for proc, _, _ in running.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.stderr.write(f"run.pl: interrupted (signal {signum}), jobs killed\n")
        raise SystemExit(130)

    signal.signal(signal.SIGINT, kill_all)
    signal.signal(signal.SIGTERM, kill_all)
    while pending or running:
        while pending and len(running) < opts.max_jobs_run:
            job = pending.pop(0)
            running[job] = start_job(opts, job)
        pid, status = os.wait()
        for job, (proc, log, started) in list(running.items()):
            if proc.pid == pid:
                code = os.waitstatus_to_exitcode(status)
                proc.returncode = code
                code = code if code >= 0 else 128 - code
                finish_job(log, code, started, opts.num_threads)
                if code != 0:
                    failed.append((job, log, code))
                del running[job]
                break
    if failed:
        total = opts.last - opts.first + 1
        for job, log, code in sorted(failed):
            sys.stderr.write(f"run.pl: job {job} failed with exit code {code}, log is in {log}\n")
        sys.stderr.write(f"run.pl: {len(failed)} / {total} failed\n")
        return 1
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))
