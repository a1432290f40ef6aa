"""Atomic output: the temporary file goes away on any exception and on SIGTERM; a rerun takes over the one an
interrupted (killed) writer left; a concurrent writer of the same target does not disturb it; atomic copies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from phonsid.io import TableWriter
from phonsid.io.atomic import atomic_copy, atomic_open, atomic_write_text


def _temporary_files(path) -> int:
    return sum(p.name.startswith(".x.") and p.name.endswith(".tmp") for p in path.iterdir())


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt, SystemExit])
def test_temporary_file_removed_on_any_exception(tmp_path, exc):
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(exc):
        with atomic_open(tmp_path / "out", "w") as f:
            f.write("partial")
            raise exc()
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is handler  # atomic_open's SIGTERM handler is only held while writing


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path, script_env):
    code = textwrap.dedent(f"""
        import sys
        from phonsid.io import TableWriter
        with TableWriter("ark,scp:{tmp_path}/x.ark,{tmp_path}/x.scp", "int") as w:
            w.write("utt1", 1)
            print("writing", flush=True)
            sys.stdin.read()  # blocks until the test has sent SIGTERM
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env=script_env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    assert _temporary_files(tmp_path) == 2
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate()
    assert proc.returncode == 143 and "terminated by signal 15; removing partial outputs" in err
    assert list(tmp_path.iterdir()) == []


def test_rerun_takes_over_the_temporary_files_a_killed_writer_left(tmp_path, script_env):
    code = textwrap.dedent(f"""
        import os, signal
        from phonsid.io import TableWriter
        with TableWriter("ark,scp:{tmp_path}/x.ark,{tmp_path}/x.scp", "int") as w:
            w.write("utt1", 1)
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup possible
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=script_env)
    assert proc.returncode == -signal.SIGKILL
    assert _temporary_files(tmp_path) == 2 and len(list(tmp_path.iterdir())) == 2
    with TableWriter(f"ark,scp:{tmp_path}/x.ark,{tmp_path}/x.scp", "int") as w:
        w.write("utt2", 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ark", "x.scp"]
    assert (tmp_path / "x.scp").read_text() == f"utt2 {tmp_path}/x.ark:5\n"


def test_concurrent_writer_of_the_same_target_uses_its_own_temporary_file(tmp_path):
    target = tmp_path / "out"
    with atomic_open(target, "w") as outer:
        outer.write("outer")
        with atomic_open(target, "w") as inner:  # the first one's temporary file is locked: not taken over
            inner.write("inner")
        assert target.read_text() == "inner"
    assert target.read_text() == "outer" and list(tmp_path.iterdir()) == [target]
    atomic_write_text(target, "again")
    assert target.read_text() == "again" and list(tmp_path.iterdir()) == [target]


def test_atomic_copy_keeps_mode_and_times_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.write_bytes(np.arange(100_000, dtype=np.int32).tobytes())
    os.chmod(src, 0o640)
    os.utime(src, ns=(1_000_000_000, 2_000_000_000))
    atomic_copy(src, tmp_path / "b" / "dst")
    dst = tmp_path / "b" / "dst"
    assert dst.read_bytes() == src.read_bytes()
    st = os.stat(dst)
    assert (st.st_mode & 0o777, st.st_mtime_ns) == (0o640, 2_000_000_000)

    def fail_midway(fin, fout, *args):
        fout.write(fin.read(1000))
        fout.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("phonsid.io.atomic.shutil.copyfileobj", fail_midway)
    with pytest.raises(OSError, match="No space left"):
        atomic_copy(src, tmp_path / "b" / "new")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["dst"]
