"""Reading and writing Kaldi's "key value..." text tables in C-locale order, and the utt2spk/spk2utt inversions.

Kaldi sorts every table with ``LC_ALL=C sort``, i.e. by the raw bytes of the line. ``c_sorted`` reproduces
that order for keys (UTF-8 byte order, which equals code-point order for ``str``). Data-dir files are read from
plain paths (``read_map``, ``read_list_map``); the token tables that Kaldi's binaries take as rspecifiers
(``ark:data/spk2utt``, pipes) with ``read_token_lists`` and ``read_token_map``.
"""

from __future__ import annotations

import os

from typing import BinaryIO, Iterable, Mapping, Sequence, TypeVar

from phonsid.io.atomic import atomic_write_text

K = TypeVar("K", str, bytes)


class DataDirError(ValueError):
    """A data-directory file is malformed: the message names the file, the line and the problem."""


def _c_key(key: str) -> bytes:
    """The C-locale sort key of a string: its UTF-8 bytes."""
    return key.encode("utf-8")


def c_sorted(keys: Iterable[str]) -> list[str]:
    """Keys in C-locale (byte) order, as ``LC_ALL=C sort`` gives for the first field."""
    return sorted(keys, key=_c_key)


def _list_map(f: BinaryIO, name: str | os.PathLike) -> dict[str, list[str]]:
    """``key v1 v2 ...`` lines of an open file into a dict of lists, in file order; blank lines are skipped and a
    repeated key is a DataDirError naming the file and line."""
    out: dict[str, list[str]] = {}
    for lineno, raw in enumerate(f, 1):
        fields = raw.decode("utf-8").split()
        if not fields:
            continue
        if fields[0] in out:
            raise DataDirError(f"{name}:{lineno}: duplicate key '{fields[0]}'")
        out[fields[0]] = fields[1:]
    return out


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
    with open(path, "rb") as f:
        return _list_map(f, path)


def _token_table_path(rspecifier: str) -> str:
    """The file behind a token-table rspecifier (``ark:f``, ``ark,t:f``, ``ark:cmd |``) or a plain path."""
    from phonsid.io import SpecifierError, parse_rspecifier

    try:
        spec = parse_rspecifier(rspecifier)
    except SpecifierError:
        return rspecifier
    if spec.kind != "ark":
        raise DataDirError(f"{rspecifier}: token tables are read from archives (ark:file), not scp")
    return spec.path


def read_token_lists(rspecifier: str) -> dict[str, list[str]]:
    """``key tok1 tok2 ...`` lines (e.g. spk2utt) of an rspecifier or path, in file order, as Kaldi's token-vector
    readers see them; duplicate keys are an error."""
    from phonsid.io import open_rxfilename

    path = _token_table_path(rspecifier)
    with open_rxfilename(path) as f:
        return _list_map(f, path)


def read_token_map(rspecifier: str) -> dict[str, str]:
    """``key token`` lines (e.g. utt2spk) of an rspecifier or path; every line must have exactly two fields."""
    from phonsid.io import open_rxfilename

    path = _token_table_path(rspecifier)
    out: dict[str, str] = {}
    with open_rxfilename(path) as f:
        for lineno, raw in enumerate(f, 1):
            fields = raw.decode("utf-8").split()
            if not fields:
                continue
            if len(fields) != 2:
                raise DataDirError(f"{path}:{lineno}: expected '<key> <value>', got '{raw.decode().strip()}'")
            out[fields[0]] = fields[1]
    return out


def write_map(path: str | os.PathLike, table: Mapping[str, str], *, sort: bool = True) -> None:
    """Writes ``key value`` lines atomically, C-sorted by key unless ``sort`` is False."""
    keys = c_sorted(table) if sort else list(table)
    atomic_write_text(path, "".join(f"{k} {table[k]}\n" for k in keys))


def write_list_map(path: str | os.PathLike, table: Mapping[str, Sequence[str]], *, sort: bool = True) -> None:
    """Writes ``key v1 v2 ...`` lines atomically, C-sorted by key unless ``sort`` is False."""
    keys = c_sorted(table) if sort else list(table)
    atomic_write_text(path, "".join(f"{k} {' '.join(table[k])}\n" for k in keys))


def utt2spk_to_spk2utt(utt2spk: Mapping[K, K] | Iterable[tuple[K, K]], *, sort: bool = True) -> dict[K, list[K]]:
    """spk2utt from utt2spk (a mapping, or ``(utterance, speaker)`` pairs). With ``sort``, speakers and their
    utterances in C order; without, speakers in order of first appearance and utterances in input order (what
    Kaldi's utt2spk_to_spk2utt.pl prints; ``bytes`` work too)."""
    pairs = utt2spk.items() if isinstance(utt2spk, Mapping) else utt2spk
    if sort:
        pairs = sorted(pairs, key=lambda pair: _c_key(pair[0]))
    spk2utt: dict[K, list[K]] = {}
    for utt, spk in pairs:
        spk2utt.setdefault(spk, []).append(utt)
    return {spk: spk2utt[spk] for spk in c_sorted(spk2utt)} if sort else spk2utt


def spk2utt_to_utt2spk(spk2utt: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """utt2spk from spk2utt; an utterance listed under two speakers is an error."""
    utt2spk: dict[str, str] = {}
    for spk, utts in spk2utt.items():
        for utt in utts:
            if utt in utt2spk:
                raise DataDirError(f"utterance '{utt}' is listed under speakers '{utt2spk[utt]}' and '{spk}'")
            utt2spk[utt] = spk
    return {u: utt2spk[u] for u in c_sorted(utt2spk)}


