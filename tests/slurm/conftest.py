"""A private one-node Slurm cluster for the utils/slurm.pl tests (fixture ``slurm_cluster``, session scope).

It uses Debian's packages (slurmctld, slurmd, slurm-client, munge) and installs them with apt-get when they are
missing and we are root (once per machine; set PHONSID_SLURM_INSTALL=0 to forbid that). Then, as root and
without systemd: munged runs as the munge user on a socket of its own in /run/munge; slurmctld and slurmd run
in the foreground from a slurm.conf in a temp dir (free ports, state, spool and logs in the temp dir, no
accounting, proctrack/linuxproc, task/none, scheduling without delays), and the fixture waits until ``sinfo``
shows the node idle. Every wait has a deadline. When anything cannot be installed or does not come up the
tests skip, with the daemons' log tails in the reason. At teardown it cancels all jobs of the cluster, waits
for them to end, then stops the daemons it started, by PID (and any job step daemon of this cluster that
outlived them). The daemons also get SIGTERM if the test process dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
BINARIES = ("slurmctld", "slurmd", "sbatch", "sinfo", "squeue", "scancel", "munged", "munge", "unmunge")
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
_REPORT: list[str] = []  # printed in pytest's terminal summary: install and start-up times


class ClusterUnavailable(Exception):
    """The platform cannot run the test cluster; the message says why (the tests skip with it)."""


def _which(name: str) -> str | None:
    return shutil.which(name, path=_SEARCH_PATH)


def _missing() -> list[str]:
    return [b for b in BINARIES if _which(b) is None]


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def install_packages() -> float:
    """apt-get installs the Slurm and munge packages; returns the seconds it took. Services are kept from
    starting during the install (a temporary policy-rc.d), so nothing is left running."""
    if sys.platform != "linux":
        raise ClusterUnavailable(f"Slurm binaries missing ({', '.join(_missing())}) and not on Linux")
    if os.environ.get("PHONSID_SLURM_INSTALL", "1") == "0":
        raise ClusterUnavailable(f"Slurm binaries missing ({', '.join(_missing())}); PHONSID_SLURM_INSTALL=0")
    if os.geteuid() != 0 or _which("apt-get") is None:
        raise ClusterUnavailable(f"Slurm binaries missing ({', '.join(_missing())}) and cannot install them "
                                 "(needs root and apt-get: apt-get install --no-install-recommends "
                                 f"{' '.join(PACKAGES)})")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    policy = Path("/usr/sbin/policy-rc.d")
    wrote_policy = False
    started = time.time()
    try:
        if not policy.exists():
            policy.write_text("#!/bin/sh\n# written by phonsid's Slurm test fixture during apt-get install\nexit 101\n")
            policy.chmod(0o755)
            wrote_policy = True
        # A failed update (e.g. an unreachable mirror) is tolerated: the package lists already there may do.
        quick = ["-o", "Acquire::http::Timeout=30", "-o", "Acquire::https::Timeout=30", "-o", "Acquire::Retries=1",
                 "-o", "DPkg::Lock::Timeout=120"]  # an offline machine skips in about a minute, not ten
        update = subprocess.run(["apt-get", "update", "-qq", *quick], env=env, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=300)
        install = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *quick, *PACKAGES],
                                 env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
    except subprocess.TimeoutExpired as e:
        raise ClusterUnavailable(f"apt-get timed out after {e.timeout} s: {' '.join(e.cmd)}") from None
    finally:
        if wrote_policy:
            policy.unlink(missing_ok=True)
    if install.returncode != 0 or _missing():
        raise ClusterUnavailable(f"apt-get install {' '.join(PACKAGES)} failed (code {install.returncode}):\n"
                                 f"{_tail(update.stderr, 4)}\n{_tail(install.stdout + install.stderr)}")
    return time.time() - started


def _die_with_parent() -> None:
    """In the daemon (before exec): SIGTERM when the test process dies, so no daemon outlives a crash."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _mem_total_mb() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise ClusterUnavailable("no MemTotal in /proc/meminfo")


@dataclass
class SlurmCluster:
    """One slurmctld + one slurmd (+ a munged of its own) under ``root``; ``env`` is for the client commands."""

    root: Path
    base_env: dict[str, str]
    node: str = ""
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    munge_socket: str = ""
    start_seconds: float = 0.0

    def _log_tails(self, names: tuple[str, ...] = ("munged", "slurmctld", "slurmd")) -> str:
        parts = []
        for name in names:
            for path in (self.root / f"{name}.out", self.root / f"{name}.log"):
                if path.exists() and path.stat().st_size:
                    parts.append(f"--- {path.name}:\n{_tail(path.read_text(errors='replace'))}")
        return "\n".join(parts) or "(no daemon output)"

    def _spawn(self, name: str, argv: list[str], **kwargs) -> None:
        out = open(self.root / f"{name}.out", "w")
        try:
            self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True, preexec_fn=_die_with_parent, **kwargs)
        except OSError as e:
            raise ClusterUnavailable(f"cannot start {name}: {e}") from None
        finally:
            out.close()

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise ClusterUnavailable(f"{name} exited with code {proc.returncode}:\n{self._log_tails((name,))}")

    def _wait(self, what: str, ready, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._check_alive()
            if ready():
                return
            time.sleep(0.1)
        raise ClusterUnavailable(f"{what} not ready after {timeout:.0f} s:\n{self._log_tails()}")

    def _run(self, argv: list[str], timeout: float = 10) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(argv, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "", f"timed out after {timeout} s")

    def _start_munged(self) -> None:
        try:
            munge_user = pwd.getpwnam("munge")
        except KeyError:
            raise ClusterUnavailable("no 'munge' user (is the munge package installed?)") from None
        rundir = Path("/run/munge")
        if not rundir.is_dir():
            rundir.mkdir(mode=0o755, parents=True)
            os.chown(rundir, munge_user.pw_uid, munge_user.pw_gid)
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chown(key.parent, munge_user.pw_uid, munge_user.pw_gid)
            key.write_bytes(os.urandom(1024))
            os.chown(key, munge_user.pw_uid, munge_user.pw_gid)
            key.chmod(0o400)
        for stale in rundir.glob("phonsid-test-*.*"):  # left by a test run that was killed (SIGKILL)
            pid = stale.name.split(".")[0].rsplit("-", 1)[-1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                stale.unlink(missing_ok=True)
        tag = f"phonsid-test-{os.getpid()}"
        self.munge_socket = str(rundir / f"{tag}.socket")
        self._spawn("munged", [_which("munged"), "--foreground", f"--socket={self.munge_socket}",
                               f"--pid-file={rundir / tag}.pid", f"--seed-file={rundir / tag}.seed"],
                    user=munge_user.pw_uid, group=munge_user.pw_gid, extra_groups=[])

        def munge_works() -> bool:
            try:
                cred = subprocess.run([_which("munge"), "-n", "-S", self.munge_socket], capture_output=True,
                                      timeout=5, stdin=subprocess.DEVNULL)
                return cred.returncode == 0 and subprocess.run(
                    [_which("unmunge"), "-S", self.munge_socket], input=cred.stdout, capture_output=True,
                    timeout=5).returncode == 0
            except subprocess.TimeoutExpired:
                return False

        self._wait("munged", munge_works, 15)

    def _write_conf(self) -> Path:
        ctld_port, d_port = _free_ports(2)
        # At least 4 CPUs (config_overrides lets the node claim more than it has): a 4-task array then starts
        # in one wave, as run.pl would start it, rather than in waves of the CI machine's 2 cores.
        cpus = max(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
        total = _mem_total_mb()
        memory = max(512, total - max(1024, total // 10))
        r = self.root
        (r / "state").mkdir()
        (r / "spool").mkdir()
        conf = r / "slurm.conf"
        conf.write_text(f"""\
# one-node test cluster written by tests/slurm/conftest.py
ClusterName=phonsidtest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=5
KillWait=5
InactiveLimit=0
SlurmdTimeout=30
ReturnToService=2
SlurmdParameters=config_overrides
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
""")
        return conf

    def start(self) -> None:
        started = time.time()
        self.node = socket.gethostname().split(".")[0]
        self._start_munged()
        conf = self._write_conf()
        self.env = dict(self.base_env, SLURM_CONF=str(conf))
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(conf)], env=self.env)
        self._spawn("slurmd", [_which("slurmd"), "-D", "-f", str(conf), "-N", self.node], env=self.env)

        def node_idle() -> bool:
            states = self._run(["sinfo", "-h", "-N", "-o", "%T"], timeout=5).stdout.split()
            return states == ["idle"]

        self._wait("the Slurm node (sinfo state idle)", node_idle, 40)
        self.start_seconds = time.time() - started

    def jobs(self) -> list[str]:
        """Ids of the jobs the controller still has pending or running."""
        out = self._run(["squeue", "-h", "-o", "%i", "-t", "PENDING,RUNNING,CONFIGURING,COMPLETING,SUSPENDED"])
        return out.stdout.split()

    def stop(self) -> None:
        ctld = self.procs.get("slurmctld")
        if ctld is not None and ctld.poll() is None:
            self._run(["scancel", f"--user={pwd.getpwuid(os.getuid()).pw_name}"])
            deadline = time.time() + 30
            while self.jobs() and time.time() < deadline:
                time.sleep(0.2)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        self._kill_leftover_steps()
        if self.munge_socket:
            base = self.munge_socket[: -len(".socket")]
            for suffix in (".socket", ".socket.lock", ".pid", ".seed"):
                Path(base + suffix).unlink(missing_ok=True)

    def _kill_leftover_steps(self) -> None:
        """slurmstepd processes of this cluster (their files are under ``root``) that survived cancellation."""
        root = str(self.root)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if not (entry / "cmdline").read_bytes().startswith(b"slurmstepd"):
                    continue
                if any(os.readlink(fd).startswith(root) for fd in (entry / "fd").iterdir()):
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                continue


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory, script_env) -> SlurmCluster:
    """A running private Slurm cluster (skips the test with the reason when the platform cannot run one)."""
    try:
        if _missing():
            seconds = install_packages()
            _REPORT.append(f"slurm fixture: apt-get installed {' '.join(PACKAGES)} in {seconds:.1f} s")
        if os.geteuid() != 0:
            raise ClusterUnavailable("the test cluster needs root (slurmd and munged start as root here)")
    except ClusterUnavailable as e:
        pytest.skip(f"no Slurm test cluster: {e}")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"), dict(script_env))
    try:
        cluster.start()
    except ClusterUnavailable as e:
        cluster.stop()
        pytest.skip(f"no Slurm test cluster: {e}")
    except BaseException:
        cluster.stop()
        raise
    _REPORT.append(f"slurm fixture: one-node cluster up in {cluster.start_seconds:.1f} s (node {cluster.node})")
    try:
        yield cluster
    finally:
        cluster.stop()


def pytest_terminal_summary(terminalreporter):
    for line in _REPORT:
        terminalreporter.write_line(line)
