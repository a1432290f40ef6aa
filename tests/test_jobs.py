"""utils/run.pl: Kaldi's command line, parallel jobs, logs with header/footer, failures named."""

from __future__ import annotations

import subprocess

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
