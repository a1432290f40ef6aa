"""Atomic file output: write to a temporary file beside the target, rename on success.

The temporary file is ``.<name>.tmp`` beside the target, held under an exclusive ``flock`` while it is written.

- On any exception in the block (``KeyboardInterrupt`` and ``SystemExit`` included) it is removed.
- SIGTERM (what ``run.pl``/``slurm.pl`` send to the jobs they stop, and ``kill``'s default) becomes a
  :class:`Terminated` exception while a file is open in the main thread, unless the process handles SIGTERM
  itself, so the temporary file is removed then too and the process exits with status 143.
- A writer killed outright (SIGKILL, a node going down) leaves ``.<name>.tmp`` behind; the next write of the same
  target finds it unlocked, takes it over and truncates it, so a rerun cleans what an interrupted run left.
- A second writer of the same target at the same time finds the temporary file locked and writes its own
  ``.<name>.<random>.tmp`` instead (so does a writer on a file system without ``flock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Iterator


class Terminated(SystemExit):
    """SIGTERM arrived while an atomic output was open; exits with status 143 as a process killed by SIGTERM."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _raise_terminated(signum: int, _frame) -> None:
    sys.stderr.write(f"{os.path.basename(sys.argv[0]) or 'python'}: terminated by signal {signum}; "
                     "removing partial outputs\n")
    raise Terminated(128 + signum)


_sigterm_holds = 0  # atomic files open in the main thread while _raise_terminated handles SIGTERM


def _hold_sigterm() -> bool:
    """Makes SIGTERM raise :class:`Terminated` (in the main thread, if SIGTERM has its default action or is
    already ours); True when the caller must call :func:`_release_sigterm`."""
    global _sigterm_holds
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGTERM)
    if current is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_terminated)
    elif current is not _raise_terminated:
        return False
    _sigterm_holds += 1
    return True


def _release_sigterm() -> None:
    global _sigterm_holds
    _sigterm_holds -= 1
    if _sigterm_holds == 0 and signal.getsignal(signal.SIGTERM) is _raise_terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _open_temp(target: Path) -> tuple[int, str]:
    """An open, locked, empty temporary file beside ``target``: ``.<name>.tmp`` (taken over if an interrupted
    writer left it), or a fresh ``.<name>.<random>.tmp`` when a live writer holds that one or there are no locks."""
    tmp = target.parent / f".{target.name}.tmp"
    fd = -1
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        mine, there = os.fstat(fd), os.stat(tmp)
        if (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino):  # not renamed by a writer that just finished
            os.ftruncate(fd, 0)
            return fd, str(tmp)
    except OSError:  # locked by a live writer, no flock here, or not ours to open
        pass
    if fd >= 0:
        os.close(fd)
    return tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Opens a temporary file next to ``path``; renames it over ``path`` only if the block succeeds.

    On an exception (or SIGTERM, see the module docstring) the temporary file is removed, so a reader never
    sees a half-written ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    held = _hold_sigterm()
    try:
        fd, tmp = _open_temp(target)
        try:
            os.fchmod(fd, 0o666 & ~_umask())  # temporary files are 0600; give the permissions open() would
            f = os.fdopen(os.dup(fd), mode, **({} if "b" in mode else {"encoding": "utf-8"}))
            try:
                yield f
            except BaseException:
                with contextlib.suppress(OSError):
                    f.close()
                raise
            f.close()  # flushes; a write error surfaces here, before the rename
            os.replace(tmp, target)  # still under the lock: no other writer can take the file over first
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        finally:
            os.close(fd)
    finally:
        if held:
            _release_sigterm()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w") as f:
        f.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Copies ``src`` to ``dst`` atomically, with its permission bits and times (as ``shutil.copy2``): a copy
    that fails part-way (a full disk) leaves ``dst`` as it was."""
    st = os.stat(src)
    with open(src, "rb") as fin, atomic_open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)
        fout.flush()
        os.fchmod(fout.fileno(), st.st_mode & 0o7777)
        os.utime(fout.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))
