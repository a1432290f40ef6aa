"""utils/slurm.pl: command construction from conf/slurm.conf (no Slurm needed), the task runner under a fake
sbatch (no Slurm needed), and the real thing on a private one-node cluster (fixture ``slurm_cluster``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from phonsid.slurm import SlurmConfig, SlurmError, parse_args, prepare

REPO = Path(__file__).resolve().parents[2]
SLURM_PL = str(REPO / "utils/slurm.pl")
RUN_PL = str(REPO / "utils/run.pl")
CONF = str(REPO / "conf/slurm.conf")


def _sbatch_args(argv: list[str], cwd: Path) -> list[str]:
    sub = prepare(parse_args(argv), str(cwd))
    return sub.sbatch


def _masked(log: Path) -> list[str]:
    """A job log without the lines that hold times."""
    return [re.sub(r"(Started at |Ended \(code \d+\) at |Accounting: time=).*", r"\1<time>", line)
            for line in log.read_text().splitlines()]


# ---------------------------------------------------------------- without Slurm

def test_options_map_through_conf(tmp_path):
    args = _sbatch_args(["--config", CONF, "--mem", "1G", "--num-threads=4", "--time", "1:00:00",
                         "--max-jobs-run", "3", "JOB=1:8", "exp/x/log/mfcc.JOB.log", "prog", "JOB"], tmp_path)
    assert args[:2] == ["sbatch", "--export=ALL"]
    for expected in ("--mem=1G", "--cpus-per-task=4", "--time=1:00:00", "--array=1-8%3", "--wait", "--parsable",
                     f"--chdir={tmp_path}", f"--output={tmp_path}/exp/x/log/q/mfcc.%a.out"):
        assert expected in args, (expected, args)
    assert args[-1] == f"{tmp_path}/exp/x/log/q/mfcc.sh"
    assert not any(a.startswith(("--gres", "--partition")) for a in args)  # default gpu=0 adds nothing

    args = _sbatch_args(["--config", CONF, "--gpu", "2", "--mem", "0", "-p", "debug", "JOB=2:3", "l.JOB.log", "x"],
                        tmp_path)
    assert args[2:6] == ["--gres=gpu:2", "--partition=gpu", "-p", "debug"]
    assert "--array=2-3" in args and not any(a.startswith("--mem") for a in args)
    # a later option wins (a step adds --gpu $num_gpus to cuda_cmd="utils/slurm.pl --gpu 1")
    args = _sbatch_args(["--config", CONF, "--gpu", "1", "--num-threads", "8", "--gpu", "4", "l.log", "x"], tmp_path)
    assert "--gres=gpu:4" in args and "--gres=gpu:1" not in args and "--cpus-per-task=8" in args
    # one job without a range is a one-task array; --max-jobs-run does not apply
    args = _sbatch_args(["--config", CONF, "--max-jobs-run", "2", "single.log", "x"], tmp_path)
    assert "--array=1-1" in args and "--job-name=single" in args


def test_default_config_and_conf_in_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = _sbatch_args(["--mem", "2G", "JOB=1:2", "log/a.JOB.log", "x"], tmp_path)  # no conf/: built-in default
    assert args[:3] == ["sbatch", "--export=ALL", "--mem=2G"]
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/slurm.conf").write_text("command mysbatch -A proj  # site\noption mem=* --mem-per-cpu $0\n")
    args = _sbatch_args(["--mem", "2G", "JOB=1:2", "log/a.JOB.log", "x"], tmp_path)
    assert args[:4] == ["mysbatch", "-A", "proj", "--mem-per-cpu"] and args[4] == "2G"


def test_config_and_usage_errors(tmp_path):
    with pytest.raises(SlurmError, match=r"option --foo-bar 1 is not described in .*slurm.conf"):
        _sbatch_args(["--config", CONF, "--foo-bar", "1", "l.log", "x"], tmp_path)
    bad = tmp_path / "bad.conf"
    bad.write_text("command sbatch\noption mem=* --mem\n")
    with pytest.raises(SlurmError, match=r"bad.conf:2: 'option mem=\*' needs \$0"):
        _sbatch_args(["--config", str(bad), "l.log", "x"], tmp_path)
    bad.write_text("option mem=* --mem=$0\n")
    with pytest.raises(SlurmError, match="no 'command ...' line"):
        _sbatch_args(["--config", str(bad), "l.log", "x"], tmp_path)
    bad.write_text("command sbatch\nqueue all.q\n")
    with pytest.raises(SlurmError, match=r"bad.conf:2: cannot parse 'queue all.q'"):
        _sbatch_args(["--config", str(bad), "l.log", "x"], tmp_path)
    with pytest.raises(SlurmError, match="cannot read config file .*nothere.conf"):
        _sbatch_args(["--config", str(tmp_path / "nothere.conf"), "l.log", "x"], tmp_path)
    with pytest.raises(SlurmError, match="cannot share one log file"):
        parse_args(["JOB=1:4", "all.log", "x"])
    with pytest.raises(SlurmError, match="bad job range"):
        parse_args(["JOB=0:4", "l.JOB.log", "x"])
    with pytest.raises(SlurmError, match="--max-jobs-run must be a positive integer"):
        _sbatch_args(["--max-jobs-run", "0", "JOB=1:2", "l.JOB.log", "x"], tmp_path)
    proc = subprocess.run([SLURM_PL, "--config", CONF, "--foo", "1", "l.log", "x"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("slurm.pl: option --foo 1 is not described")


def test_paths_and_command_join(tmp_path):
    sub = prepare(parse_args(["JOB=1:2", "exp/JOB/log.txt", "echo", "a b", "|", "wc"]), str(tmp_path))
    assert sub.qdir == f"{tmp_path}/exp/q" and sub.base == "log.txt"
    assert sub.logs == {1: f"{tmp_path}/exp/1/log.txt", 2: f"{tmp_path}/exp/2/log.txt"}
    assert sub.markers[2] == f"{tmp_path}/exp/q/log.txt.2.status"
    assert parse_args(["JOB=1:2", "l.JOB.log", "echo", "a b", "|", "wc"]).command == 'echo "a b" | wc'
    assert SlurmConfig.parse("command sbatch\ndefault gpu=0\noption gpu=0\n", "x").sbatch_options({}) == []


FAKE_SBATCH = """#!{python}
# Test double for sbatch --wait --array: runs the tasks one after another with only SLURM_* variables and a
# bare PATH (as --export=NONE would), then exits with the highest task exit code.
import os, re, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SBATCH_RECORD"], "a") as f:
    f.write(" ".join(args) + "\\n")
array = re.fullmatch(r"(\\d+)-(\\d+)(%\\d+)?", [a[8:] for a in args if a.startswith("--array=")][0])
output = [a[9:] for a in args if a.startswith("--output=")][0]
print("4242", flush=True)
worst = 0
for task in range(int(array[1]), int(array[2]) + 1):
    if str(task) == os.environ.get("FAKE_SBATCH_KILL"):  # as if Slurm killed the task before it could finish
        worst = max(worst, 1)
        continue
    env = {{"PATH": "/usr/bin:/bin", "SLURM_ARRAY_JOB_ID": "4242", "SLURM_ARRAY_TASK_ID": str(task)}}
    with open(output.replace("%a", str(task)), "w") as out:
        worst = max(worst, subprocess.call([args[-1]], env=env, stdout=out, stderr=subprocess.STDOUT))
sys.exit(worst)
"""


@pytest.fixture
def fake_sbatch(tmp_path, script_env):
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    (bindir / "sbatch").write_text(FAKE_SBATCH.format(python=sys.executable))
    (bindir / "sbatch").chmod(0o755)
    env = dict(script_env, PATH=f"{bindir}{os.pathsep}{script_env['PATH']}", FAKE_SBATCH_RECORD=str(tmp_path / "rec"),
               PHONSID_TEST_VAR="restored")
    return env


def test_tasks_under_fake_sbatch(tmp_path, fake_sbatch):
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([SLURM_PL, "--config", CONF, "--mem", "1G", "JOB=1:3", "log/t.JOB.log",
                           "echo", "$PHONSID_TEST_VAR-JOB", "|", "tr", "a-z", "A-Z", "&&", "pwd"],
                          cwd=work, env=fake_sbatch, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "--mem=1G" in (tmp_path / "rec").read_text() and "--array=1-3" in (tmp_path / "rec").read_text()
    for job in (1, 2, 3):
        lines = (work / f"log/t.{job}.log").read_text().splitlines()
        assert lines[0] == f"# echo $PHONSID_TEST_VAR-{job} | tr a-z A-Z && pwd "
        assert lines[1].startswith("# Started at") and lines[3:5] == [f"RESTORED-{job}", str(work)]
        assert lines[-2].startswith("# Accounting: time=") and lines[-1].startswith("# Ended (code 0) at")
        assert (work / f"log/q/t.{job}.status").read_text() == "0\n"
        assert "slurm.pl task" in (work / f"log/q/t.{job}.out").read_text()


def test_failed_and_killed_tasks_are_named(tmp_path, fake_sbatch):
    env = dict(fake_sbatch, FAKE_SBATCH_KILL="2")
    proc = subprocess.run([SLURM_PL, "JOB=1:3", f"{tmp_path}/log/f.JOB.log", "sh", "-c", "exit $((JOB==3))"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"job 3 failed with exit code 1, log is in {tmp_path}/log/f.3.log" in proc.stderr
    assert f"task 2 of Slurm job 4242 ended without an exit status" in proc.stderr
    assert "log/f.1.log" not in proc.stderr and "2 / 3 failed" in proc.stderr
    assert _masked(tmp_path / "log/f.3.log")[-1] == "# Ended (code 1) at <time>"
    assert not (tmp_path / "log/f.2.log").exists()


# ---------------------------------------------------------------- on a real Slurm cluster

def _slurm(cluster, argv, cwd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([SLURM_PL, "--config", CONF, *argv], cwd=cwd, env=cluster.env, capture_output=True,
                          text=True, timeout=300, **kw)


def test_array_of_four_writes_run_pl_logs(slurm_cluster, tmp_path):
    cmd = ["python", "-c", "import os, phonsid; print('task', JOB, os.getcwd())", "|", "tr", "a-z", "A-Z"]
    proc = _slurm(slurm_cluster, ["JOB=1:4", "log/s.JOB.log", *cmd], tmp_path)
    assert proc.returncode == 0, proc.stderr
    local = subprocess.run([RUN_PL, "JOB=1:4", "log/r.JOB.log", *cmd], cwd=tmp_path, env=slurm_cluster.env)
    assert local.returncode == 0
    for job in range(1, 5):
        lines = _masked(tmp_path / f"log/s.{job}.log")
        assert lines[3] == f"TASK {job} {str(tmp_path).upper()}"
        assert lines == _masked(tmp_path / f"log/r.{job}.log")  # the same log as run.pl's, times aside


def test_failing_task_is_named(slurm_cluster, tmp_path):
    proc = _slurm(slurm_cluster, ["JOB=1:3", "log/f.JOB.log", "sh", "-c", "echo out JOB; exit $((JOB==2))"],
                  tmp_path)
    assert proc.returncode == 1
    assert f"job 2 failed with exit code 1, log is in {tmp_path}/log/f.2.log" in proc.stderr
    assert "1 / 3 failed" in proc.stderr and "f.1.log" not in proc.stderr and "f.3.log" not in proc.stderr
    assert _masked(tmp_path / "log/f.2.log")[3:] == ["out 2", "# Accounting: time=<time>",
                                                    "# Ended (code 1) at <time>"]


def test_max_jobs_run_throttles_the_array(slurm_cluster, tmp_path):
    (tmp_path / "running").mkdir()
    task = ["mkdir", "running/JOB", "&&", "ls", "running", "|", "wc", "-l", ">", "count.JOB", "&&",
            "sleep", "0.5", "&&", "rmdir", "running/JOB"]
    proc = _slurm(slurm_cluster, ["--max-jobs-run", "1", "JOB=1:3", "log/m.JOB.log", *task], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [(tmp_path / f"count.{j}").read_text().strip() for j in (1, 2, 3)] == ["1", "1", "1"]
    assert "--array=1-3%1" in (tmp_path / "log/q/m.sh").read_text()


def test_resource_options_reach_slurm(slurm_cluster, tmp_path):
    threads = 2
    proc = _slurm(slurm_cluster, ["--mem", "300M", "--num-threads", str(threads), "--time", "5", "log/o.log",
                                  "echo", "mem=$SLURM_MEM_PER_NODE", "cpus=$SLURM_CPUS_PER_TASK"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "log/o.log").read_text().splitlines()
    assert lines[3] == f"mem=300 cpus={threads}" and f"threads={threads}" in lines[-2]


def test_submission_error_is_reported(slurm_cluster, tmp_path):
    proc = _slurm(slurm_cluster, ["-p", "nosuchpartition", "JOB=1:2", "log/e.JOB.log", "true"], tmp_path)
    assert proc.returncode == 1
    assert "slurm.pl: submission failed: sbatch" in proc.stderr and "partition" in proc.stderr.lower()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s+[ZX]", status, re.M)


def _wait_for(what: str, ready, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not ready():
        if time.time() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def test_interrupt_cancels_the_array(slurm_cluster, tmp_path):
    proc = subprocess.Popen([SLURM_PL, "--config", CONF, "JOB=1:2", "log/i.JOB.log", "echo", "$$", ">", "pid.JOB",
                             "&&", "exec", "sleep", "300"], cwd=tmp_path, env=slurm_cluster.env,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for("a task start", lambda: any((tmp_path / f"pid.{j}").exists() for j in (1, 2)))
        _wait_for("its pid", lambda: all(p.read_text().strip() for p in tmp_path.glob("pid.*")))
        pids = [int(p.read_text()) for p in tmp_path.glob("pid.*")]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGINT
    assert "interrupted (signal 2)" in err and "cancelled" in err
    _wait_for("the cancelled job to leave the queue", lambda: not slurm_cluster.jobs())
    _wait_for("the tasks' processes to end", lambda: not any(_alive(p) for p in pids))


def _demo_data_dir(path: Path) -> None:
    from phonsid.io.wav import write_wav

    rng = np.random.default_rng(7)
    path.mkdir(parents=True)
    utts = {f"spk{s}-utt{u}": f"spk{s}" for s in (1, 2, 3) for u in (1, 2)}
    t = np.arange(8000) / 8000.0
    for i, utt in enumerate(utts):
        tone = 3000 * np.sin(2 * np.pi * (150 + 40 * i) * t) * (1 + np.sin(2 * np.pi * 3 * t))
        write_wav(str(path / f"{utt}.wav"), (tone + 300 * rng.standard_normal(t.size)).astype(np.float32), 8000)
    (path / "wav.scp").write_text("".join(f"{u} {path}/{u}.wav\n" for u in sorted(utts)))
    (path / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in sorted(utts.items())))
    spk2utt = {}
    for u, s in sorted(utts.items()):
        spk2utt.setdefault(s, []).append(u)
    (path / "spk2utt").write_text("".join(f"{s} {' '.join(us)}\n" for s, us in sorted(spk2utt.items())))


def test_make_mfcc_features_identical_to_run_pl(slurm_cluster, tmp_path):
    if not (REPO / "steps/make_mfcc.sh").exists():
        pytest.skip("steps/make_mfcc.sh absent")
    from phonsid.io import read_table

    _demo_data_dir(tmp_path / "wav")
    feats = {}
    for runner in ("run", "slurm"):
        data = tmp_path / f"data_{runner}"
        subprocess.run(["cp", "-r", str(tmp_path / "wav"), str(data)], check=True)
        proc = subprocess.run(["steps/make_mfcc.sh", "--nj", "3", "--cmd", f"utils/{runner}.pl", str(data),
                               str(tmp_path / f"log_{runner}"), str(tmp_path / f"mfcc_{runner}")],
                              cwd=REPO, env=slurm_cluster.env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        feats[runner] = read_table(f"scp:{data}/feats.scp", "matrix")
        for name in ("utt2num_frames", "utt2dur"):
            feats[f"{runner} {name}"] = (data / name).read_text()
    assert (tmp_path / "log_slurm/q/make_mfcc_data_slurm.sh").exists()  # it did go through Slurm
    assert sorted(feats["run"]) == sorted(feats["slurm"]) and len(feats["run"]) == 6
    for utt, mat in feats["run"].items():
        assert np.array_equal(mat, feats["slurm"][utt]), utt
    for name in ("utt2num_frames", "utt2dur"):
        assert feats[f"run {name}"] == feats[f"slurm {name}"]
