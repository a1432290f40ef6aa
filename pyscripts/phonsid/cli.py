"""Kaldi-style command lines: option files via ``--config``, ``--x=true|false`` booleans, Kaldi-like logging.

Kaldi's option parser accepts ``--key=value`` (and ``--key_name`` spelled with underscores), reads option files
given by ``--config`` (one ``--key=value`` per line, ``#`` comments) and lets the command line override them.
``KaldiOptionParser`` gives argparse those semantics so the CLIs in ``pyscripts/`` take the same arguments as
the Kaldi binaries they mirror.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}


def parse_bool(text: str) -> bool:
    """Parses Kaldi's boolean spellings (true/false, t/f, 1/0, yes/no)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value '{text}' (expected true or false)")


def read_option_file(path: str) -> list[str]:
    """Reads a Kaldi option file into a list of ``--key=value`` arguments (nested ``--config`` expanded)."""
    args: list[str] = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise SystemExit(f"ERROR: cannot read config file {path}: {e.strerror}")
    for lineno, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not line.startswith("--"):
            raise SystemExit(f"ERROR: {path}:{lineno}: expected an option of the form --key=value, got '{line}'")
        if line.startswith("--config="):
            args.extend(read_option_file(line.split("=", 1)[1]))
        else:
            args.append(line)
    return args


def _normalise(arg: str) -> str:
    """``--num_ceps=13`` → ``--num-ceps=13`` (Kaldi treats _ and - alike in option names)."""
    if not arg.startswith("--") or arg == "--":
        return arg
    name, eq, value = arg[2:].partition("=")
    return "--" + name.replace("_", "-") + eq + value


class KaldiOptionParser(argparse.ArgumentParser):
    """argparse with Kaldi's option conventions.

    ``usage`` is the Kaldi-style usage text printed by ``--help`` and on errors. ``--config`` files are read
    first, so options given on the command line win.
    """

    def __init__(self, prog: str, usage: str, **kwargs) -> None:
        super().__init__(
            prog=prog,
            usage=None,
            description=usage,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
            **kwargs,
        )
        self.add_argument("--config", metavar="FILE", help="Kaldi option file (--key=value lines), read first")
        self._bool_flags: set[str] = set()

    def add_bool(self, flag: str, default: bool, help: str) -> None:
        """A Kaldi boolean option: ``--x``, ``--x=true`` or ``--x=false``."""
        self._bool_flags.add(flag)
        self.add_argument(flag, type=parse_bool, default=default, metavar="true|false",
                          help=f"{help} (default: {str(default).lower()})")

    def parse_args(self, args: Sequence[str] | None = None, namespace=None):  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        argv = [_normalise(a) for a in argv]
        expanded: list[str] = []
        rest: list[str] = []
        i = 0
        while i < len(argv):
            a = argv[i]
            if a.startswith("--config="):
                expanded.extend(read_option_file(a.split("=", 1)[1]))
            elif a == "--config" and i + 1 < len(argv):
                expanded.extend(read_option_file(argv[i + 1]))
                i += 1
            else:
                rest.append(a)
            i += 1
        # A bare boolean flag means true and never takes the next argument (Kaldi: --x is --x=true).
        final = [f"{a}=true" if a in self._bool_flags else a for a in (_normalise(a) for a in expanded + rest)]
        return super().parse_args(final, namespace)


class _KaldiFormatter(logging.Formatter):
    _LEVELS = {logging.DEBUG: "VLOG[1]", logging.INFO: "LOG", logging.WARNING: "WARNING", logging.ERROR: "ERROR",
               logging.CRITICAL: "ERROR"}

    def format(self, record: logging.LogRecord) -> str:
        return f"{self._LEVELS.get(record.levelno, record.levelname)} ({record.name}) {record.getMessage()}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (it may be replaced after the handler is made)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(_KaldiFormatter())

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def get_logger(prog: str) -> logging.Logger:
    """A logger printing ``LOG (prog) message`` / ``WARNING (prog) message`` to stderr, like Kaldi's binaries.

    The library's own loggers (``phonsid.*``) print their warnings in the same format, e.g.
    ``WARNING (phonsid.io.wav) ...``, instead of Python's bare last-resort lines.
    """
    library = logging.getLogger("phonsid")
    if not library.handlers:
        library.addHandler(_StderrHandler())
    name = os.path.basename(prog)
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_KaldiFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if os.environ.get("PHONSID_VERBOSE") else logging.INFO)
        logger.propagate = False
    return logger
