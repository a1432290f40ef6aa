"""Writing a data dir so that a failed run leaves nothing half-written where a later stage reads."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


def replace_dir(new: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Renames directory ``new`` to ``dst``, removing whatever ``dst`` was (a directory, a file or a link)."""
    dst = Path(dst)
    if dst.is_dir() and not dst.is_symlink():
        shutil.rmtree(dst)
    elif dst.exists() or dst.is_symlink():
        dst.unlink()
    os.replace(new, dst)


@contextlib.contextmanager
def staged_dir(out: str | os.PathLike) -> Iterator[Path]:
    """A new empty directory beside ``out`` to write (and validate) a data dir in. On a clean exit it gets the
    permissions of a plain ``mkdir`` and replaces ``out``; on an exception it is removed and ``out`` is left as
    it was."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        mask = os.umask(0)
        os.umask(mask)
        tmp.chmod(0o777 & ~mask)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
