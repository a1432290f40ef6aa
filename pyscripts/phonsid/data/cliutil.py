"""Small helpers shared by the data-dir CLIs (``pyscripts/*_data*.py``): Kaldi shell-style option values and
one-line error reporting."""

from __future__ import annotations

import sys
from typing import Callable, Iterable, Sequence

from phonsid.data.kaldi_map import DataDirError


def join_option_values(argv: Sequence[str], value_options: Iterable[str]) -> list[str]:
    """``--utt-suffix -reverb`` → ``--utt-suffix=-reverb`` for the options that take a value.

    Kaldi's parse_options.sh takes the next word as the value whatever it looks like (``--utt-suffix "-noise"``
    is common in augmentation recipes); argparse would read ``-noise`` as an option. Underscores in option
    names are accepted as dashes, as parse_options.sh does.
    """
    opts = set(value_options)
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        name = a.replace("_", "-") if a.startswith("--") and "=" not in a else a
        if name in opts and i + 1 < len(argv):
            out.append(f"{name}={argv[i + 1]}")
            i += 2
        else:
            out.append(a)
            i += 1
    return out


def run_tool(prog: str, body: Callable[[], int | None]) -> int:
    """Runs a CLI body; a DataDirError or OSError becomes one ``<prog>: error: ...`` line on stderr and exit 1."""
    try:
        rc = body()
    except DataDirError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"{prog}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    return int(rc or 0)
