"""The ``wav-reverberate`` command: its options, running it, and building its command lines.

``pyscripts/wav_reverberate.py`` is a thin shell over ``build_parser`` and ``run``. The data-dir scripts write
lazy wav.scp entries that call that script through the venv's Python by absolute path
(``wav_reverberate_command``), so an entry can be read from any shell, as Kaldi's own entries can. Readers run
those entries in process (``pipe_stage``, declared in :mod:`phonsid.io.pipeline`), and so every RIR or additive
signal inside them that is itself one of our pipes: no Python starts per augmented utterance or per noise.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from phonsid.augment import reverb
from phonsid.cli import KaldiOptionParser
from phonsid.io.pipeline import (PYSCRIPTS, Reader, Stage, own_command, parse_quietly, python_executable,
                                 read_wav_input)
from phonsid.io.wavcodec import WaveData, WavError

SCRIPT = PYSCRIPTS / "wav_reverberate.py"

USAGE = """Corrupts a wave file with a room impulse response and additive signals (noise, music, babble), as Kaldi's
wav-reverberate does: FFT convolution, output shifted by the RIR peak and scaled to the input power, each
additive signal scaled to its SNR against the early-reverberation energy (or the input power without an RIR).
Usage:  wav_reverberate.py [options...] <wav-in-rxfilename> <wav-out-wxfilename>
e.g.
 wav_reverberate.py --duration=20.25 --impulse-response=rir.wav \\
   --additive-signals='noise1.wav,noise2.wav' --snrs='20.0,15.0' --start-times='0,17.8' input.wav output.wav
Inputs and outputs may be '-' (stdin/stdout) or pipes ('cmd |' to read, '| cmd' to write)."""


def build_parser(prog: str = "wav_reverberate.py") -> KaldiOptionParser:
    """The option parser of ``wav-reverberate`` (same names, defaults and meanings as Kaldi's)."""
    p = KaldiOptionParser(prog, USAGE)
    p.add_bool("--multi-channel-output", False,
               "Write one output channel per RIR channel (additive signals must have as many channels)")
    p.add_bool("--shift-output", True,
               "Shift the reverberated output by the position of the RIR peak and keep the input length; "
               "if false the output is (input length + RIR length - 1) long. Only matters with an RIR")
    p.add_argument("--input-wave-channel", type=int, default=0, help="Channel of the input to use (default: 0)")
    p.add_argument("--rir-channel", type=int, default=0,
                   help="Channel of the RIR to use when --multi-channel-output is false (default: 0)")
    p.add_argument("--noise-channel", type=int, default=0,
                   help="Channel of the additive signals to use when --multi-channel-output is false (default: 0)")
    p.add_argument("--impulse-response", default="",
                   help="RIR to convolve the input with: a wav file or a piped command ('cmd |')")
    p.add_argument("--additive-signals", default="",
                   help="Comma-separated additive signals (files or piped commands); needs --snrs and --start-times")
    p.add_argument("--snrs", default="", help="Comma-separated SNRs (dB), one per additive signal")
    p.add_argument("--start-times", default="",
                   help="Comma-separated start times (s) of the additive signals in the output; a signal starting "
                        "after the end is ignored")
    p.add_bool("--normalize-output", True,
               "Scale the output to the power of the input after reverberation and noise (see --volume)")
    p.add_argument("--duration", type=float, default=0.0,
                   help="If > 0, output duration (s): the signal is cut, or repeated to fill it (default: 0)")
    p.add_argument("--volume", type=float, default=0.0,
                   help="If > 0, scale the output by this instead of normalising it (default: 0)")
    p.add_argument("wav_in", metavar="<wav-in-rxfilename>")
    p.add_argument("wav_out", metavar="<wav-out-wxfilename>")
    return p


def _split_commas(text: str) -> list[str]:
    return [t for t in text.split(",") if t != ""]


def _floats(text: str, option: str) -> list[float]:
    out = []
    for t in _split_commas(text):
        try:
            out.append(float(t))
        except ValueError:
            raise reverb.ReverbError(f"{option}: '{t}' is not a number (in '{text}')") from None
    return out


# ------------------------------------------------------------------------------------------ in process

def pipe_stage(argv: list[str]) -> Stage | None:
    """``wav_reverberate.py <argv>`` as an in-process pipe stage, when it writes to stdout (else None)."""
    args = parse_quietly(build_parser(), argv)
    if args is None or args.wav_out != "-":
        return None
    return lambda read: run(args, read)[0]


# ----------------------------------------------------------------------------------------------- running

def run(args, read: Reader = read_wav_input, log=None) -> tuple[WaveData, int]:
    """Runs ``wav-reverberate`` with parsed options, reading its input, RIR and additive signals with ``read``;
    returns the output (16-bit valued float32) and the number of clipped samples."""
    wave_in = read(args.wav_in)
    fs = float(wave_in.sample_rate)
    n_in_ch = wave_in.data.shape[0]
    if not 0 <= args.input_wave_channel < n_in_ch:
        raise reverb.ReverbError(f"{args.wav_in}: --input-wave-channel={args.input_wave_channel} but the input "
                                 f"has {n_in_ch} channel(s)")
    rir_wave = None
    n_rir_ch = 0
    if args.impulse_response:
        rir_wave = read(args.impulse_response)
        n_rir_ch = rir_wave.data.shape[0]
        if not args.multi_channel_output and not 0 <= args.rir_channel < n_rir_ch:
            raise reverb.ReverbError(f"{args.impulse_response}: --rir-channel={args.rir_channel} but the RIR has "
                                     f"{n_rir_ch} channel(s)")
        if log is not None and rir_wave.sample_rate != fs:
            log.warning(f"the RIR {args.impulse_response} is at {rir_wave.sample_rate:g} Hz but the input is at "
                        f"{fs:g} Hz (resample the RIR first)")
    elif args.multi_channel_output:
        raise reverb.ReverbError("--multi-channel-output needs --impulse-response")
    if args.multi_channel_output and (args.rir_channel != 0 or args.noise_channel != 0) and log is not None:
        log.warning("--rir-channel and --noise-channel are ignored as --multi-channel-output is true")

    noise_specs = _split_commas(args.additive_signals)
    snrs = _floats(args.snrs, "--snrs")
    starts = _floats(args.start_times, "--start-times")
    noises: list[WaveData] = []
    if noise_specs:
        if not args.snrs or not args.start_times:
            raise reverb.ReverbError("--additive-signals needs --snrs and --start-times to be set")
        if len(snrs) != len(noise_specs) or len(starts) != len(noise_specs):
            raise reverb.ReverbError(f"{len(noise_specs)} additive signals but {len(snrs)} SNRs and "
                                     f"{len(starts)} start times")
        for spec in noise_specs:
            w = read(spec)
            if w.sample_rate != fs:
                raise reverb.ReverbError(f"additive signal {spec}: sampling rate {w.sample_rate:g} Hz differs from "
                                         f"the input's {fs:g} Hz")
            ch = w.data.shape[0]
            if args.multi_channel_output and ch != n_rir_ch:
                raise reverb.ReverbError(f"additive signal {spec}: {ch} channel(s) but the RIR has {n_rir_ch} "
                                         f"(--multi-channel-output)")
            if not args.multi_channel_output and not 0 <= args.noise_channel < ch:
                raise reverb.ReverbError(f"additive signal {spec}: --noise-channel={args.noise_channel} but it "
                                         f"has {ch} channel(s)")
            noises.append(w)

    num_out_ch = n_rir_ch if args.multi_channel_output else 1
    x = wave_in.data[args.input_wave_channel]
    rows = []
    for out_ch in range(num_out_ch):
        rir_ch = out_ch if args.multi_channel_output else args.rir_channel
        noise_ch = out_ch if args.multi_channel_output else args.noise_channel
        additive = [reverb.Additive(w.data[noise_ch], snr, start, name=f"additive signal {spec}")
                    for w, snr, start, spec in zip(noises, snrs, starts, noise_specs)]
        rows.append(reverb.reverberate(
            x, fs,
            rir=None if rir_wave is None else rir_wave.data[rir_ch],
            rir_sample_rate=None if rir_wave is None else rir_wave.sample_rate,
            additive=additive, shift_output=args.shift_output, normalize_output=args.normalize_output,
            volume=args.volume, duration=args.duration))
    data, clipped = reverb.to_int16_scale(np.stack(rows))
    return WaveData(fs, data), clipped


# ------------------------------------------------------------------------------------------ command lines

def wav_reverberate_command(options: Sequence[str], wav_in: str, wav_out: str = "-") -> str:
    """``<python> <repo>/pyscripts/wav_reverberate.py <options> <in> <out>`` with absolute paths, for pipes."""
    return own_command("wav-reverberate", [*options, wav_in, wav_out])


def resample_command(wav_in: str, sample_rate: int, wav_out: str = "-") -> str:
    """``<python> -m phonsid.augment.resample --sample-rate=R <in> <out>`` with an absolute interpreter path."""
    return own_command("resample", [f"--sample-rate={sample_rate}", wav_in, wav_out])


def check_spec_quotable(spec: str, what: str) -> None:
    """wav.scp specs end up inside '...' lists split at commas (as in Kaldi): reject what would break them."""
    if "'" in spec:
        raise reverb.ReverbError(f"{what} '{spec}' contains a single quote, which the command line cannot carry")
    if "," in spec:
        raise reverb.ReverbError(f"{what} '{spec}' contains a comma, which separates wav-reverberate's "
                                 f"--additive-signals")


__all__ = [
    "SCRIPT", "USAGE", "build_parser", "pipe_stage", "run", "python_executable", "wav_reverberate_command",
    "resample_command", "check_spec_quotable", "WavError",
]
