"""wav.scp pipes whose stages are phonsid's own programs, run in the reading process.

A wav.scp value ending in ``|`` is a shell pipeline, and stays one: whatever we write there runs in a shell, as
Kaldi's entries do. Reading it need not start a shell, though. Our own programs that appear in such pipes
(resampling, ``wav-reverberate``, SPHERE decoding) are declared here once, in :data:`OWN_PROGRAMS`; the writers
build their command lines through :func:`own_command` and the readers recognise them through the same
declaration, so no command string is parsed by convention elsewhere.

Reading a pipe (:func:`read_pipe`) splits it at its top-level ``|`` and walks the stages left to right:

* an own program runs in process (its module's ``pipe_stage``), reading ``-`` from the previous stage's samples
  and any other input (a file, or a nested pipe such as a noise inside ``--additive-signals``) through
  :func:`read_wav_spec`, which comes back here for pipes;
* a run of foreign programs (sph2pipe, ffmpeg, sox, flac ...) runs as one shell subprocess, fed the previous
  stage's samples as a 16-bit WAV on its stdin when there is one.

The samples are those the shell would produce: an own stage returns exactly what its program writes (16-bit
values), and the WAV a foreign stage receives is the bytes the program would have written (tested per chain shape).
A pipe with other shell syntax at its top level (``;``, ``&``, ``$( )``, subshells) runs in a shell as written.

An own program's module provides ``pipe_stage(args: list[str]) -> Stage | None``: the invocation parsed, as a
function of the reader of its inputs, or None when the arguments are not a plain "read, write to stdout" use
(then the stage runs as a subprocess, to behave, or fail, exactly as in the shell).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import io
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence

from phonsid.io.wavcodec import WaveData, WavError, decode_audio, wav_bytes

PYSCRIPTS = Path(__file__).resolve().parents[2]

Reader = Callable[[str], WaveData]
Stage = Callable[[Reader], WaveData]


@dataclasses.dataclass(frozen=True)
class OwnProgram:
    """A phonsid program that wav.scp pipes may run: how a command line invokes it, and where its in-process
    stage lives (``<module>.pipe_stage``)."""

    name: str
    module: str
    script: str | None = None  # invoked as ``<python> <pyscripts>/<script>`` (a Kaldi-named CLI) instead of -m
    former_modules: tuple[str, ...] = ()  # module names earlier versions wrote into wav.scp files

    def command(self, args: Sequence[str]) -> str:
        """``<python> -m <module> <args>`` (or ``<python> <script> <args>``) with absolute paths. ``args`` are
        shell words as they should appear (callers quote what needs quoting)."""
        head = [python_executable()] + ([str(PYSCRIPTS / self.script)] if self.script else ["-m", self.module])
        return " ".join([*map(shlex.quote, head), *args])

    def program_args(self, argv: Sequence[str]) -> list[str] | None:
        """The program's own arguments when ``argv`` (a whole stage) invokes this program, else None."""
        if len(argv) < 2 or not os.path.basename(argv[0]).startswith("python"):
            return None
        if self.script and os.path.basename(argv[1]) == self.script:
            return list(argv[2:])
        if len(argv) >= 3 and argv[1] == "-m" and argv[2] in (self.module, *self.former_modules):
            return list(argv[3:])
        return None

    def stage(self, args: list[str]) -> Stage | None:
        return importlib.import_module(self.module).pipe_stage(args)


OWN_PROGRAMS: tuple[OwnProgram, ...] = (
    OwnProgram("resample", "phonsid.augment.resample"),
    OwnProgram("wav-reverberate", "phonsid.augment.command", script="wav_reverberate.py"),
    OwnProgram("sph2wav", "phonsid.io.sphere", former_modules=("phonsid.recipes.sre",)),
)


def own_program(name: str) -> OwnProgram:
    for program in OWN_PROGRAMS:
        if program.name == name:
            return program
    raise KeyError(f"no own pipe program '{name}' (known: {', '.join(p.name for p in OWN_PROGRAMS)})")


def own_command(name: str, args: Sequence[str]) -> str:
    """The shell command line of own program ``name`` with ``args`` (see :meth:`OwnProgram.command`)."""
    return own_program(name).command(args)


def python_executable() -> str:
    """Absolute path of this interpreter as started (the venv's python, not the file its symlink points to)."""
    return os.path.abspath(sys.executable)


def parse_quietly(parser: argparse.ArgumentParser, args: Sequence[str]) -> argparse.Namespace | None:
    """``args`` parsed by an own program's parser, or None when it rejects them (for ``pipe_stage``: the stage
    then runs as a subprocess, to fail there as in the shell)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return parser.parse_args(list(args))
    except SystemExit:
        return None


# ----------------------------------------------------------------------------------------------- parsing

def split_pipeline(command: str) -> list[str] | None:
    """The stages of a shell pipeline (text between top-level ``|``), or None when the command uses other shell
    syntax (``;``, ``&``, ``||``, ``|&``, subshells, ``$`` expansions, command substitution, newlines)."""
    stages, start, i, n = [], 0, 0, len(command)
    quote = ""
    while i < n:
        c = command[i]
        if quote == "'":
            if c == "'":
                quote = ""
        elif c in "$`":  # expansions and command substitutions: leave the whole command to the shell
            return None
        elif c == "\\":
            i += 1
        elif quote == '"':
            if c == '"':
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in ";&()\n":
            return None
        elif c == "|":
            if command[i + 1:i + 2] in ("|", "&"):
                return None
            stages.append(command[start:i].strip())
            start = i + 1
        i += 1
    if quote:
        return None
    stages.append(command[start:].strip())
    return stages if all(stages) else None


def _plain_words(stage: str) -> list[str] | None:
    """The words of one stage when it is a plain command (no redirections or other operators), else None."""
    try:
        lex = shlex.shlex(stage, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        tokens = list(lex)
    except ValueError:
        return None
    if any(t and all(ch in "|&;()<>" for ch in t) for t in tokens):
        return None
    return shlex.split(stage)


def own_stage(stage: str) -> Stage | None:
    """The in-process form of one pipeline stage when it runs one of our programs in a plain way, else None."""
    argv = _plain_words(stage)
    if not argv:
        return None
    for program in OWN_PROGRAMS:
        args = program.program_args(argv)
        if args is not None:
            return program.stage(args)
    return None


# ----------------------------------------------------------------------------------------------- running

def run_shell(command: str, stdin: WaveData | None = None) -> WaveData:
    """Runs a shell command and decodes the audio on its stdout; ``stdin`` is written to it as 16-bit WAV."""
    data = None if stdin is None else wav_bytes(stdin.data, int(stdin.sample_rate))
    proc = subprocess.run(command, shell=True, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise WavError(f"command '{command}' failed with status {proc.returncode}: {' | '.join(tail)}")
    return decode_audio(proc.stdout, f"{command} |")


def read_pipe(spec: str) -> WaveData:
    """The audio a wav.scp pipe value (``cmd | ... |``) produces, with our own stages run in process."""
    command = spec.strip()
    if command.endswith("|"):
        command = command[:-1].rstrip()
    stages = split_pipeline(command)
    if stages is None:
        return run_shell(command)
    wave: WaveData | None = None
    foreign: list[str] = []
    for text in stages:
        stage = own_stage(text)
        if stage is None:
            foreign.append(text)
            continue
        if foreign:
            wave = run_shell(" | ".join(foreign), wave)
            foreign = []
        upstream = wave

        def read(rxfilename: str, upstream=upstream, text=text) -> WaveData:
            if rxfilename.strip() != "-":
                return read_wav_spec(rxfilename)
            if upstream is None:
                raise WavError(f"'{text}' reads standard input, but nothing precedes it in the pipe")
            return upstream

        try:
            wave = stage(read)
        except WavError:
            raise
        except (OSError, ValueError) as e:  # the program's own errors (ReverbError, DataDirError ...)
            raise WavError(f"command '{text}' failed: {e}") from None
    if foreign:
        wave = run_shell(" | ".join(foreign), wave)
    assert wave is not None
    return wave


def read_wav_spec(spec: str) -> WaveData:
    """Reads one wav.scp value: a path (any format libsndfile reads) or a shell pipe ending in ``|``."""
    spec = spec.strip()
    if spec.endswith("|"):
        return read_pipe(spec)
    if not os.path.isfile(spec):
        raise WavError(f"{spec}: no such audio file")
    with open(spec, "rb") as f:
        return decode_audio(f.read(), spec)


def read_wav_input(rxfilename: str) -> WaveData:
    """What an own program reads from its input argument when run as a command: ``-`` is standard input."""
    if rxfilename.strip() == "-":
        return decode_audio(sys.stdin.buffer.read(), "standard input")
    return read_wav_spec(rxfilename)


__all__ = ["OWN_PROGRAMS", "OwnProgram", "Reader", "Stage", "own_command", "own_program", "own_stage",
           "parse_quietly", "python_executable", "read_pipe", "read_wav_input", "read_wav_spec", "run_shell", "split_pipeline"]
