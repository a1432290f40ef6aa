"""Stream tools over Kaldi tables, byte-exact like Kaldi's perl: filter_scp.pl, utt2spk_to_spk2utt.pl and
spk2utt_to_utt2spk.pl.

They work on bytes (any encoding passes through unchanged), print the selected input lines verbatim and keep
the input order. ``python -m phonsid.data.scp <tool> [args]`` runs one of them (the ``utils/*.pl`` wrappers
do); ``pyscripts/filter_scp.py`` is the filter's CLI.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import BinaryIO, Iterable, Iterator

from phonsid.data import kaldi_map
from phonsid.data.kaldi_map import DataDirError


def _show(line: bytes) -> str:
    return line.decode("utf-8", "replace").rstrip("\r\n")


def read_id_set(lines: Iterable[bytes], name: str = "id list") -> set[bytes]:
    """First fields of an id list (extra fields ignored); a line without any field is an error."""
    ids = set()
    for lineno, line in enumerate(lines, 1):
        f = line.split(None, 1)
        if not f:
            raise DataDirError(f"{name}:{lineno}: empty line in the id list")
        ids.add(f[0])
    return ids


def filter_scp(ids: set[bytes], lines: Iterable[bytes], *, exclude: bool = False, field: int = 1,
               name: str = "input") -> Iterator[bytes]:
    """Input lines whose ``field``-th field (1-based) is in ``ids`` (or is not, with ``exclude``), verbatim."""
    if field < 1:
        raise DataDirError(f"invalid field number {field} (fields count from 1)")
    for lineno, line in enumerate(lines, 1):
        f = line.split(None, field) if field > 1 else line.split(None, 1)
        if len(f) < field:
            what = "no fields" if not f else f"only {len(f)} field(s)"
            raise DataDirError(f"{name}:{lineno}: bad line '{_show(line)}' ({what}, filtering on field {field})")
        if (f[field - 1] in ids) != exclude:
            yield line


def utt2spk_to_spk2utt(lines: Iterable[bytes], name: str = "utt2spk") -> Iterator[bytes]:
    """spk2utt lines from utt2spk lines: speakers in order of first appearance, utterances in input order."""
    def pairs() -> Iterator[tuple[bytes, bytes]]:
        for lineno, line in enumerate(lines, 1):
            f = line.split()
            if len(f) != 2:
                raise DataDirError(f"{name}:{lineno}: invalid line in utt2spk file (expected 'utterance speaker'): "
                                   f"'{_show(line)}'")
            yield f[0], f[1]

    for spk, utts in kaldi_map.utt2spk_to_spk2utt(pairs(), sort=False).items():
        yield spk + b" " + b" ".join(utts) + b"\n"


def spk2utt_to_utt2spk(lines: Iterable[bytes], name: str = "spk2utt") -> Iterator[bytes]:
    """utt2spk lines from spk2utt lines, in spk2utt's order."""
    for lineno, line in enumerate(lines, 1):
        f = line.split()
        if len(f) < 2:
            raise DataDirError(f"{name}:{lineno}: invalid line in spk2utt file (expected 'speaker utt1 utt2 ...'): "
                               f"'{_show(line)}'")
        for utt in f[1:]:
            yield utt + b" " + f[0] + b"\n"


@contextlib.contextmanager
def _input(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        yield sys.stdin.buffer
    else:
        try:
            f = open(path, "rb")
        except OSError as e:
            raise DataDirError(f"{path}: cannot open: {e.strerror}") from None
        with f:
            yield f


def _write_all(out: BinaryIO, lines: Iterable[bytes]) -> None:
    try:
        for line in lines:
            out.write(line)
        out.flush()
    except BrokenPipeError:  # `... | head` closed the pipe: stop quietly, as perl would
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main_filter_scp(argv: list[str] | None = None) -> int:
    """filter_scp.pl [--exclude] [-f <field>] <id-list> [<in.scp>] > out.scp"""
    args = list(sys.argv[1:] if argv is None else argv)
    exclude, field = False, 1
    usage = ("Usage: filter_scp.pl [--exclude] [-f <field-to-filter-on>] id_list [in.scp] > out.scp\n"
             "Prints only the input lines whose f'th field (default: first) is in 'id_list'.\n"
             "Only the first field of each line of id_list matters. With --exclude, prints only the lines that\n"
             "are *not* in id_list. Fields count from 1.\n")
    while args and args[0] in ("--exclude", "-f", "--help", "-h"):
        opt = args.pop(0)
        if opt == "--exclude":
            exclude = True
        elif opt == "-f":
            if not args:
                sys.stderr.write(usage)
                return 1
            try:
                field = int(args.pop(0))
            except ValueError:
                sys.stderr.write(f"filter_scp.pl: -f needs an integer field number\n{usage}")
                return 1
        else:
            sys.stdout.write(usage)
            return 0
    if not 1 <= len(args) <= 2:
        sys.stderr.write(usage)
        return 1
    id_list, in_scp = args[0], (args[1] if len(args) == 2 else None)
    try:
        with _input(id_list) as f:
            ids = read_id_set(f, id_list)
        with _input(in_scp) as f:
            _write_all(sys.stdout.buffer, filter_scp(ids, f, exclude=exclude, field=field, name=in_scp or "stdin"))
    except DataDirError as e:
        sys.stderr.write(f"filter_scp.pl: {e}\n")
        return 1
    return 0


def _main_convert(argv: list[str] | None, prog: str, convert, in_name: str) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("--help", "-h"):
        sys.stdout.write(f"Usage: {prog} [{in_name}] > output   (reads stdin when no file is given)\n")
        return 0
    if len(args) > 1:
        sys.stderr.write(f"Usage: {prog} [{in_name}] > output\n")
        return 1
    path = args[0] if args else None
    try:
        with _input(path) as f:
            out = list(convert(f, path or "stdin"))  # validate everything before printing anything
        _write_all(sys.stdout.buffer, out)
    except DataDirError as e:
        sys.stderr.write(f"{prog}: {e}\n")
        return 1
    return 0


def main_utt2spk_to_spk2utt(argv: list[str] | None = None) -> int:
    """utt2spk_to_spk2utt.pl [utt2spk] > spk2utt"""
    return _main_convert(argv, "utt2spk_to_spk2utt.pl", utt2spk_to_spk2utt, "utt2spk")


def main_spk2utt_to_utt2spk(argv: list[str] | None = None) -> int:
    """spk2utt_to_utt2spk.pl [spk2utt] > utt2spk"""
    return _main_convert(argv, "spk2utt_to_utt2spk.pl", spk2utt_to_utt2spk, "spk2utt")


TOOLS = {
    "filter_scp": main_filter_scp,
    "utt2spk_to_spk2utt": main_utt2spk_to_spk2utt,
    "spk2utt_to_utt2spk": main_spk2utt_to_utt2spk,
}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in TOOLS:
        sys.stderr.write(f"Usage: python -m phonsid.data.scp {{{'|'.join(TOOLS)}}} [args...]\n")
        return 1
    return TOOLS[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
