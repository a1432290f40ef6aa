"""Reading and writing Kaldi's "key value..." text tables in C-locale order.

Kaldi sorts every table with ``LC_ALL=C sort``, i.e. by the raw bytes of the line. ``c_sorted`` reproduces
that order for keys (UTF-8 byte order, which equals code-point order for ``str``).
"""

from __future__ import annotations

import os

from typing import Iterable, Mapping, Sequence

from phonsid.io.atomic import atomic_write_text


class DataDirError(ValueError):
    """A data-directory file is malformed: the message names the file, the line and the problem."""


def c_sorted(keys: Iterable[str]) -> list[str]:
    """Keys in C-locale (byte) order, as ``LC_ALL=C sort`` gives for the first field."""
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def _lines(path: str | os.PathLike) -> Iterable[tuple[int, list[str]]]:
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if fields:
                yield lineno, fields


def read_map(path: str | os.PathLike, *, allow_duplicates: bool = False) -> dict[str, str]:
    """Reads ``key rest-of-line`` lines into a dict (the rest keeps its inner spacing collapsed to one space).

    Raises DataDirError naming the file and line for a key without a value or a repeated key.
    """
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            stripped = line.strip()
            if not stripped:
                continue
            parts = stripped.split(maxsplit=1)
            if len(parts) < 2:
                raise DataDirError(f"{path}:{lineno}: key '{parts[0]}' has no value")
            key, value = parts
            if key in out and not allow_duplicates:
                raise DataDirError(f"{path}:{lineno}: duplicate key '{key}'")
            out[key] = value
    return out


def read_list_map(path: str | os.PathLike) -> dict[str, list[str]]:
    """Reads ``key v1 v2 ...`` lines (spk2utt, segments-like tables) into a dict of lists."""
    out: dict[str, list[str]] = {}
    for lineno, fields in _lines(path):
        key = fields[0]
        if key in out:
            raise DataDirError(f"{path}:{lineno}: duplicate key '{key}'")
        out[key] = fields[1:]
    return out


def write_map(path: str | os.PathLike, table: Mapping[str, str], *, sort: bool = True) -> None:
    """Writes ``key value`` lines atomically, C-sorted by key unless ``sort`` is False."""
    keys = c_sorted(table) if sort else list(table)
    atomic_write_text(path, "".join(f"{k} {table[k]}\n" for k in keys))


def write_list_map(path: str | os.PathLike, table: Mapping[str, Sequence[str]], *, sort: bool = True) -> None:
    """Writes ``key v1 v2 ...`` lines atomically, C-sorted by key unless ``sort`` is False."""
    keys = c_sorted(table) if sort else list(table)
    atomic_write_text(path, "".join(f"{k} {' '.join(table[k])}\n" for k in keys))


def utt2spk_to_spk2utt(utt2spk: Mapping[str, str]) -> dict[str, list[str]]:
    """spk2utt from utt2spk: speakers and their utterances both in C order."""
    spk2utt: dict[str, list[str]] = {}
    for utt in c_sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return {spk: spk2utt[spk] for spk in c_sorted(spk2utt)}


def spk2utt_to_utt2spk(spk2utt: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """utt2spk from spk2utt; an utterance listed under two speakers is an error."""
    utt2spk: dict[str, str] = {}
    for spk, utts in spk2utt.items():
        for utt in utts:
            if utt in utt2spk:
                raise DataDirError(f"utterance '{utt}' is listed under speakers '{utt2spk[utt]}' and '{spk}'")
            utt2spk[utt] = spk
    return {u: utt2spk[u] for u in c_sorted(utt2spk)}


