"""Step stamps: when a step may skip its work, recorded in one format for every step.

A stamp is a small JSON file that a step writes, atomically, once its outputs are complete. It records

- ``key``: the step's command line or options (text, compared as is);
- ``inputs``: per declared input, what it was when the step ran:
  ``in`` files (data-dir tables, configs, models) by content (SHA-256); ``in_scp`` tables (wav.scp, feats.scp,
  vad.scp) by content plus the size and modification time of every file their entries name (plain paths,
  ``ark:offset`` archives, and the existing files among the words of ``cmd |`` pipe entries), kept as a count and
  one digest; ``in_stat`` files (large binaries) by size and modification time;
- ``outputs``: per declared output, its size (``out``), or for an scp (``out_scp``) the size of every archive its
  entries point into.

A step is up to date (:func:`check_stamp`) when its stamp exists, the key and every input are as recorded, and its
outputs are complete: each ``out`` file exists with the recorded size, and each ``out_scp`` exists and names only
archives the stamp recorded, each with its recorded size and each entry's offset inside it. Sizes come from
``stat``; no archive is read. Anything else means the step runs again: :func:`check_stamp` then removes the stale
stamp and notes the inputs as they are now beside it (``<stamp>.pending``), so that :func:`write_stamp` can refuse
to stamp outputs whose inputs changed while the step ran.

Stamps live at ``<out-dir>/.stamps/<step>.json`` by convention (the step scripts choose the path);
``pyscripts/step_stamp.py`` is the CLI the step scripts call.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shlex
import stat as statmod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from phonsid.data.kaldi_map import DataDirError
from phonsid.io.atomic import atomic_write_text

FORMAT = "phonsid-stamp 1"
PENDING_SUFFIX = ".pending"
_RANGE = re.compile(r"^(.*)\[[^\[\]]*\]\s*$")
_OFFSET = re.compile(r"^(.*):(\d+)$")


class StampError(DataDirError):
    """An output is missing or incomplete when a stamp is written, or a stamp/table cannot be read."""


@dataclass(frozen=True)
class StepFiles:
    """What a step reads and writes, as it declares them to :func:`check_stamp` and :func:`write_stamp`."""

    key: str = ""
    inputs: Sequence[str] = ()
    input_scps: Sequence[str] = ()
    input_stats: Sequence[str] = ()
    outputs: Sequence[str] = ()
    output_scps: Sequence[str] = ()


@dataclass
class Verdict:
    """The answer of :func:`check_stamp`: ``up_to_date``, or the ``reasons`` why the step must run."""

    up_to_date: bool
    reasons: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------------------
# what a table entry names


def _words(command: str) -> list[str]:
    if not any(c in command for c in "'\"\\"):
        return command.split()  # the common case, and much faster than shlex
    try:
        return shlex.split(command)
    except ValueError:  # unbalanced quotes: the shell will complain; plain words are good enough here
        return command.split()


def _pipe_candidates(command: str) -> Iterator[str]:
    for w in _words(command):
        yield w
        if w.startswith("-") and "=" in w:  # --opt=path
            yield w.split("=", 1)[1]


def _entry_location(value: str) -> tuple[str, int] | None:
    """(file, byte offset) of a plain scp entry (``path``, ``ark:offset``, either with a ``[range]``); None for
    pipes and stdin."""
    v = value.strip()
    if not v or v == "-" or v.endswith("|"):
        return None
    m = _RANGE.match(v)
    if m:
        v = m.group(1).strip()
    m = _OFFSET.match(v)  # as Kaldi reads it: a trailing ':digits' is an offset
    if m:
        return m.group(1), int(m.group(2))
    return v, 0


def _scp_entries(path: str) -> Iterator[tuple[int, str, str]]:
    """(line number, key, value) of the non-blank lines of an scp/wav.scp."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for lineno, line in enumerate(f, 1):
                fields = line.split(None, 1)
                if fields:
                    yield lineno, fields[0], fields[1].strip() if len(fields) > 1 else ""
    except OSError as e:
        raise StampError(f"{path}: cannot read: {e.strerror}") from None


def _stat(path: str) -> os.stat_result | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st if statmod.S_ISREG(st.st_mode) else None


# ----------------------------------------------------------------------------------------------------------
# inputs


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _named_files_digest(scp: str) -> dict:
    """Count and digest of (path, size, mtime) of the files an input table names; missing files count too."""
    seen: dict[str, str] = {}
    words: dict[str, bool] = {}  # pipe words already looked at: is it a file?
    for _, _, value in _scp_entries(scp):
        if value.endswith("|"):
            for w in _pipe_candidates(value[:-1]):
                if w not in words:
                    st = _stat(w)
                    words[w] = st is not None  # only words that are files: the rest are programs and options
                    if st is not None:
                        seen[w] = f"{st.st_size} {st.st_mtime_ns}"
            continue
        loc = _entry_location(value)
        if loc is not None and loc[0] not in seen:
            st = _stat(loc[0])
            seen[loc[0]] = "missing" if st is None else f"{st.st_size} {st.st_mtime_ns}"
    h = hashlib.sha256()
    for name in sorted(seen):
        h.update(f"{name}\0{seen[name]}\n".encode("utf-8", "surrogateescape"))
    return {"named_files": len(seen), "named_sha256": h.hexdigest()}


def record_inputs(step: StepFiles) -> dict[str, dict]:
    """The inputs part of a stamp, as the files are now."""
    rec: dict[str, dict] = {}
    for kind, paths in (("in", step.inputs), ("in_scp", step.input_scps), ("in_stat", step.input_stats)):
        for p in paths:
            st = _stat(p)
            if st is None:
                rec[p] = {"kind": kind, "missing": True}
            elif kind == "in_stat":
                rec[p] = {"kind": kind, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            else:
                rec[p] = {"kind": kind, "sha256": _sha256(p)}
                if kind == "in_scp":
                    rec[p].update(_named_files_digest(p))
    return rec


def _input_reasons(old: dict, new: dict) -> list[str]:
    reasons = []
    for p, now in new.items():
        was = old.get(p)
        if was == now:
            continue
        if was is None:
            reasons.append(f"{p} is a new input")
        elif now.get("missing"):
            reasons.append(f"input {p} is missing")
        elif was.get("missing"):
            reasons.append(f"input {p} appeared")
        elif was.get("kind") != now.get("kind"):
            reasons.append(f"{p} is now a different kind of input ({now.get('kind')}, was {was.get('kind')})")
        elif was.get("sha256") != now.get("sha256"):
            reasons.append(f"{p} changed")
        elif now.get("kind") == "in_scp":
            reasons.append(f"a file named in {p} changed (size or modification time; it names "
                           f"{now.get('named_files')} files)")
        else:
            reasons.append(f"{p} changed (size or modification time)")
    reasons += [f"{p} is no longer an input" for p in old if p not in new]
    return reasons


# ----------------------------------------------------------------------------------------------------------
# outputs


def _scp_archives(scp: str) -> tuple[dict[str, int], dict[str, tuple[int, str]]]:
    """Sizes of the archives an output scp points into (-1: missing) and, per archive, the entry with the
    largest offset (offset, 'scp:line key')."""
    far: dict[str, tuple[int, str]] = {}
    for lineno, key, value in _scp_entries(scp):
        loc = _entry_location(value)
        if loc is None:
            continue
        path, offset = loc
        if path not in far or offset > far[path][0]:
            far[path] = (offset, f"{scp}:{lineno} ('{key}')")
    sizes = {}
    for path in far:
        st = _stat(path)
        sizes[path] = -1 if st is None else st.st_size
    return sizes, far


def _scp_problems(scp: str, sizes: dict[str, int], far: dict[str, tuple[int, str]]) -> list[str]:
    problems = []
    for path, size in sizes.items():
        offset, where = far[path]
        if size < 0:
            problems.append(f"archive {path} named by {scp} is missing")
        elif offset >= size:
            problems.append(f"{where} points to offset {offset} of {path}, which has only {size} bytes (truncated)")
    return problems


def record_outputs(step: StepFiles) -> dict[str, dict]:
    """The outputs part of a stamp; raises StampError naming each missing or incomplete output."""
    rec: dict[str, dict] = {}
    problems: list[str] = []
    for p in step.outputs:
        st = _stat(p)
        if st is None:
            problems.append(f"output {p} is missing")
        else:
            rec[p] = {"kind": "out", "size": st.st_size}
    for p in step.output_scps:
        if _stat(p) is None:
            problems.append(f"output {p} is missing")
            continue
        sizes, far = _scp_archives(p)
        problems += _scp_problems(p, sizes, far)
        rec[p] = {"kind": "out_scp", "archives": sizes}
    if problems:
        raise StampError("outputs are incomplete, not stamping: " + "; ".join(problems))
    return rec


def _output_reasons(stamped: dict, step: StepFiles) -> list[str]:
    reasons = [f"output {p} is not in the stamp" for p in (*step.outputs, *step.output_scps) if p not in stamped]
    for p, was in stamped.items():
        st = _stat(p)
        if st is None:
            reasons.append(f"output {p} is missing")
        elif was.get("kind") == "out":
            if st.st_size != was.get("size"):
                reasons.append(f"output {p} has {st.st_size} bytes, the stamp says {was.get('size')}")
        else:
            sizes, far = _scp_archives(p)
            reasons += _scp_problems(p, sizes, far)
            recorded = was.get("archives", {})
            for ark, size in sizes.items():
                if size < 0:
                    continue  # named above
                if ark not in recorded:
                    reasons.append(f"{p} points into {ark}, which this step did not write")
                elif size != recorded[ark]:
                    reasons.append(f"archive {ark} has {size} bytes, the stamp says {recorded[ark]}")
    return reasons


# ----------------------------------------------------------------------------------------------------------
# stamps


def pending_path(stamp: str | os.PathLike) -> Path:
    """Where :func:`check_stamp` notes the inputs of a run that has to happen."""
    return Path(f"{stamp}{PENDING_SUFFIX}")


def read_stamp(stamp: str | os.PathLike) -> dict | None:
    """The stamp's record, or None when there is none; StampError when it is not a stamp of this format."""
    try:
        text = Path(stamp).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StampError(f"{stamp}: cannot read: {e.strerror}") from None
    try:
        rec = json.loads(text)
    except ValueError as e:
        raise StampError(f"{stamp}: not a stamp (invalid JSON: {e})") from None
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        raise StampError(f"{stamp}: not a stamp of format '{FORMAT}'")
    return rec


def _short(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def check_stamp(stamp: str | os.PathLike, step: StepFiles, *, note_inputs: bool = True) -> Verdict:
    """Whether the step that stamps ``stamp`` may skip its work (see the module doc).

    When it may not and ``note_inputs`` is true, the stale stamp is removed and the inputs as they are now are
    written to ``<stamp>.pending`` for :func:`write_stamp` to compare with.
    """
    inputs = record_inputs(step)
    try:
        rec = read_stamp(stamp)
    except StampError as e:
        rec, reasons = None, [str(e)]
    else:
        reasons = [] if rec is not None else ["no stamp: the step has not run here, or did not finish"]
    if rec is not None:
        if rec.get("key") != step.key:
            reasons.append(f"the step's options changed (were '{_short(str(rec.get('key')))}', now "
                           f"'{_short(step.key)}')")
        reasons += _input_reasons(rec.get("inputs", {}), inputs)
        reasons += _output_reasons(rec.get("outputs", {}), step)
    if not reasons:
        return Verdict(True)
    if note_inputs:
        Path(stamp).unlink(missing_ok=True)
        atomic_write_text(pending_path(stamp), json.dumps({"format": FORMAT, "key": step.key, "inputs": inputs},
                                                          indent=1, sort_keys=True) + "\n")
    return Verdict(False, reasons)


def write_stamp(stamp: str | os.PathLike, step: StepFiles) -> list[str]:
    """Stamps a finished step: records its key, inputs and outputs in ``stamp`` (atomically).

    Raises StampError, writing nothing, when an output is missing or incomplete. When the inputs differ from those
    :func:`check_stamp` noted before the run (``<stamp>.pending``), nothing is stamped either (the outputs may mix
    old and new inputs; the next run redoes the step) and the returned list says why; it is empty on success.
    """
    outputs = record_outputs(step)
    inputs = record_inputs(step)
    pending = pending_path(stamp)
    changed: list[str] = []
    if pending.is_file():
        try:
            before = json.loads(pending.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = {}
        if before.get("key") != step.key:
            changed.append("the step's options differ from those checked before the run")
        changed += _input_reasons(before.get("inputs", {}), inputs)
    if changed:
        Path(stamp).unlink(missing_ok=True)
        return [f"inputs changed while the step ran: {r}" for r in changed]
    rec = {"format": FORMAT, "key": step.key, "inputs": inputs, "outputs": outputs,
           "written": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    atomic_write_text(stamp, json.dumps(rec, indent=1, sort_keys=True) + "\n")
    pending.unlink(missing_ok=True)
    return []


__all__ = ["FORMAT", "StampError", "StepFiles", "Verdict", "check_stamp", "pending_path", "read_stamp",
           "record_inputs", "record_outputs", "write_stamp"]
