"""utils/run.pl: Kaldi's command line, parallel jobs, logs with header/footer, failures named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from phonsid.jobs import join_command, parse_args

def test_failed_job_is_named(repo_root, tmp_path, script_env):
    proc = subprocess.run([str(repo_root / "utils/run.pl"), "JOB=1:4", f"{tmp_path}/log.JOB.log",
                           "sh", "-c", "exit $((JOB==3))"], capture_output=True, text=True, env=script_env)
    assert proc.returncode != 0
    assert f"{tmp_path}/log.3.log" in proc.stderr
    assert "log.1.log" not in proc.stderr and "1 / 4 failed" in proc.stderr
    log = (tmp_path / "log.3.log").read_text().splitlines()
    assert log[0].startswith("# sh -c") and "3==3" in log[0]
    assert log[1].startswith("# Started at")
    assert log[-2].startswith("# Accounting: time=") and log[-1].startswith("# Ended (code 1)")
    assert "# Ended (code 0)" in (tmp_path / "log.2.log").read_text()

def test_pipes_substitution_and_max_jobs(repo_root, tmp_path, script_env):
    proc = subprocess.run([str(repo_root / "utils/run.pl"), "--max-jobs-run", "1", "--mem", "2G", "JOB=2:3",
                           f"{tmp_path}/x/JOB.log", "echo", "part JOB", "|", "tr", "a-z", "A-Z"],
                          capture_output=True, text=True, env=script_env)
    assert proc.returncode == 0, proc.stderr
    assert "PART 3" in (tmp_path / "x/3.log").read_text()
    assert not (tmp_path / "x/1.log").exists()

def test_single_job_without_range(repo_root, tmp_path, script_env):
    proc = subprocess.run([str(repo_root / "utils/run.pl"), f"{tmp_path}/one.log", "false"],
                          capture_output=True, text=True, env=script_env)
    assert proc.returncode == 1 and "one.log" in proc.stderr

def test_parse_and_quote():
    opts = parse_args(["--num-threads", "4", "JOB=1:10", "l.JOB.log", "prog", "ark:a b |", "x"])
    assert (opts.var, opts.first, opts.last, opts.num_threads) == ("JOB", 1, 10, 4)
    assert opts.command == 'prog "ark:a b |" x'
    assert join_command(["say", 'he said "hi"']) == "say 'he said \"hi\"'"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by an init that does not reap, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_until(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and PR_SET_PDEATHSIG")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_jobs_die_with_run_pl(repo_root, tmp_path, script_env, sig):
    # every process of every job (here a two-process pipeline) ends when run.pl is killed, even by SIGKILL: a killed
    # recipe must leave nothing behind that goes on writing outputs while its rerun writes the same ones
    hold = tmp_path / "hold.py"  # writes its pid to argv[1], then waits
    hold.write_text("import os, sys, time\nopen(sys.argv[1] + '.tmp', 'w').write(str(os.getpid()))\n"
                    "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\ntime.sleep(600)\n")
    proc = subprocess.Popen([str(repo_root / "utils/run.pl"), "JOB=1:2", f"{tmp_path}/log.JOB.log",
                             sys.executable, str(hold), f"{tmp_path}/a.JOB", "|", sys.executable, str(hold),
                             f"{tmp_path}/b.JOB"], env=script_env, stderr=subprocess.DEVNULL)
    pid_files = [tmp_path / f"{x}.{j}" for x in "ab" for j in (1, 2)]
    try:
        assert _wait_until(lambda: all(p.exists() for p in pid_files) or proc.poll() is not None, 120)
        assert proc.poll() is None, (tmp_path / "log.1.log").read_text()
        pids = [int(p.read_text()) for p in pid_files]
        os.kill(proc.pid, sig)
        proc.wait()
        assert _wait_until(lambda: not any(_alive(p) for p in pids), 60), \
            f"still running after run.pl got {sig.name}: {[p for p in pids if _alive(p)]}"
    finally:
        for p in pid_files:
            if p.exists() and _alive(int(p.read_text())):
                os.kill(int(p.read_text()), signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
