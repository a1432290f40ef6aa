"""The in-process front end: read audio (wav.scp entries, pipes, segments) → features → optional VAD → write
ark/scp tables, in batches of utterances so one process handles a whole job.

Bad input is skipped, not fatal: audio that cannot be read or decoded (empty or corrupt files, failing
pipe commands), audio shorter than one frame, NaN/inf samples, a missing channel, features that come out
NaN/inf (refused by the table writer, which names the row and column). Each is logged with the
utterance id and counted; at the end, if more than ``max_failed_fraction`` of the utterances failed (or all
of them), ``FeatureFailure`` is raised and every output table of the call is discarded (the writers are
atomic), so nothing half-written is left. A sample-rate mismatch is an error, as in Kaldi.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import zlib
from typing import Callable, Iterator

import numpy as np

from phonsid.features.compute import FeatureComputeError
from phonsid.features.options import VadEnergyOptions
from phonsid.features.vad import compute_vad_opts

DEFAULT_BATCH_FRAMES = 16384


class FeatureFailure(RuntimeError):
    """Too many utterances failed; the message gives the counts and the limit."""


class SampleRateMismatch(FeatureComputeError):
    """The audio's rate differs from ``--sample-frequency`` (fatal, as in Kaldi)."""


@dataclasses.dataclass
class FeatureStats:
    """What a ``compute_feature_table`` call did."""

    num_utts: int = 0
    num_done: int = 0
    num_failed: int = 0
    num_skipped: int = 0  # shorter than --min-duration (Kaldi skips them without an error)
    num_frames: int = 0
    num_voiced: float = 0.0
    num_unvoiced_utts: int = 0
    seconds: float = 0.0
    failed: list[str] = dataclasses.field(default_factory=list)
    first_failure: str = ""  # why the first failed utterance failed


# ----------------------------------------------------------------------------------------------------------
# audio tables


def _wav_archive(rx: str) -> Iterator[tuple[str, object]]:
    """Entries of a wav archive (``key`` + RIFF data, as Kaldi's extract-segments writes)."""
    from phonsid.io.kaldi_object import KaldiReader
    from phonsid.io.wav import WavError, decode_audio
    from phonsid.io.xfilename import open_rxfilename

    with open_rxfilename(rx) as f:
        r = KaldiReader(f, detect_header=False, name=rx)
        while True:
            key = r.read_key()
            if key is None:
                return
            head = r.read_bytes(8, "wav header")
            if head[:4] != b"RIFF":
                raise WavError(f"{rx}: entry '{key}' is not a RIFF/WAVE object")
            size = int.from_bytes(head[4:8], "little")
            body = r.read_bytes(size, "wav data")
            try:
                yield key, decode_audio(head + body, f"{rx}:{key}")
            except WavError as e:
                yield key, WavError(f"utterance {key}: {e}")


def iter_wav_rspecifier(rspecifier: str, segments: str | None = None) -> Iterator[tuple[str, object]]:
    """``(utt, WaveData or WavError)`` from a Kaldi wav rspecifier: ``scp:wav.scp`` (paths or ``cmd |``
    pipes, with ``segments`` if given) or ``ark:file``/``ark:-``/``ark:cmd |`` (a wav archive)."""
    from phonsid.io.table import parse_rspecifier
    from phonsid.io.wav import iter_wav_table

    spec = parse_rspecifier(rspecifier)
    if spec.kind == "scp":
        yield from iter_wav_table(spec.path, segments)
        return
    if segments is not None:
        raise ValueError("--segments needs an scp: wav rspecifier (the recordings to cut)")
    yield from _wav_archive(spec.path)


# ----------------------------------------------------------------------------------------------------------


def resample_to(samples: np.ndarray, from_rate: float, to_rate: float) -> np.ndarray:
    """Polyphase resampling (``--allow-downsample`` / ``--allow-upsample``). Kaldi uses its own windowed-sinc
    ``LinearResample``; the two agree in the passband but not to the last digit."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(int(round(to_rate)), int(round(from_rate)))
    out = resample_poly(samples.astype(np.float64), ratio.numerator, ratio.denominator)
    return out.astype(np.float32)


def utterance_rng(seed: int, utt: str) -> np.random.Generator:
    """A dither generator determined by the seed and the utterance id (independent of the job split)."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(utt.encode())])


def _warn(logger: logging.Logger | None, msg: str) -> None:
    if logger is not None:
        logger.warning(msg)


def compute_feature_table(
    audio: Iterator[tuple[str, object]],
    computer,
    feats_wspecifier: str,
    *,
    vad_opts: VadEnergyOptions | None = None,
    vad_wspecifier: str | None = None,
    num_frames_wspecifier: str | None = None,
    utt2dur_wspecifier: str | None = None,
    compress: bool = False,
    channel: int = -1,
    min_duration: float = 0.0,
    subtract_mean: bool = False,
    vtln_warp: float | Callable[[str], float | None] = 1.0,
    dither_seed: int = 0,
    max_failed_fraction: float = 1.0,
    batch_frames: int = DEFAULT_BATCH_FRAMES,
    logger: logging.Logger | None = None,
) -> FeatureStats:
    """Computes features for every utterance of ``audio`` and writes them to ``feats_wspecifier``.

    ``computer``: ``Mfcc``/``Fbank`` (or their kaldi-native-fbank twins). ``vad_wspecifier`` with
    ``vad_opts`` also writes energy-VAD decisions from column 0. ``vtln_warp``: a factor or a function
    utt → factor (None: skip the utterance with a warning). Raises ``FeatureFailure`` (outputs discarded)
    when more than ``max_failed_fraction`` of the utterances failed or none succeeded.
    """
    from phonsid.io.kaldi_object import NonFiniteError
    from phonsid.io.table import TableWriter
    from phonsid.io.wav import WavError

    if (vad_wspecifier is None) != (vad_opts is None):
        raise ValueError("vad_wspecifier and vad_opts go together")
    stats = FeatureStats()
    rate = float(computer.frame_opts.samp_freq)
    warp_of = vtln_warp if callable(vtln_warp) else (lambda utt, w=float(vtln_warp): w)
    with contextlib.ExitStack() as stack:
        feat_writer = stack.enter_context(TableWriter(feats_wspecifier, "matrix", compress=compress))
        vad_writer = stack.enter_context(TableWriter(vad_wspecifier, "vector")) if vad_wspecifier else None
        len_writer = stack.enter_context(TableWriter(num_frames_wspecifier, "int")) if num_frames_wspecifier else None
        dur_writer = stack.enter_context(TableWriter(utt2dur_wspecifier, "float")) if utt2dur_wspecifier else None

        pending: list[tuple[str, np.ndarray, float, float]] = []  # utt, samples, warp, duration
        pending_frames = 0

        def fail(utt: str, why: str) -> None:
            stats.num_failed += 1
            stats.failed.append(utt)
            stats.first_failure = stats.first_failure or f"utterance {utt}: {why}"
            _warn(logger, f"utterance {utt}: {why}; skipping it")

        def flush() -> None:
            nonlocal pending, pending_frames
            if not pending:
                return
            # utterances with the same warp factor share one pass
            for warp in sorted({p[2] for p in pending}):
                group = [p for p in pending if p[2] == warp]
                rngs = [utterance_rng(dither_seed, p[0]) for p in group]
                try:
                    feats = computer.compute_batch([p[1] for p in group], None, warp, rngs)
                except FeatureComputeError:  # find the utterance(s) at fault; the others go on
                    feats = []
                    for utt, samples, _, _ in group:  # a fresh dither generator: the same features as in a batch
                        try:
                            feats.append(computer.compute_batch([samples], None, warp,
                                                                [utterance_rng(dither_seed, utt)])[0])
                        except FeatureComputeError as e:
                            feats.append(e)
                for (utt, _, _, duration), f in zip(group, feats):
                    if isinstance(f, FeatureComputeError):
                        fail(utt, str(f))
                    else:
                        write(utt, f, duration)
            pending, pending_frames = [], 0

        def write(utt: str, feats: np.ndarray, duration: float) -> None:
            if subtract_mean and feats.shape[0]:
                feats = feats - feats.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
            try:
                feat_writer.write(utt, feats)  # first, so that a refused utterance is in none of the tables
            except NonFiniteError as e:
                fail(utt, str(e))
                return
            if vad_writer is not None:
                vad = compute_vad_opts(feats, vad_opts)
                voiced = float(vad.sum())
                stats.num_voiced += voiced
                if voiced == 0.0:
                    stats.num_unvoiced_utts += 1
                    _warn(logger, f"utterance {utt}: no frames were judged voiced")
                vad_writer.write(utt, vad)
            if len_writer is not None:
                len_writer.write(utt, int(feats.shape[0]))
            if dur_writer is not None:
                dur_writer.write(utt, duration)
            stats.num_done += 1
            stats.num_frames += int(feats.shape[0])
            stats.seconds += duration

        for utt, wave in audio:
            stats.num_utts += 1
            if isinstance(wave, WavError):
                fail(utt, str(wave).removeprefix(f"utterance {utt}: "))
                continue
            fo = computer.frame_opts
            resample = wave.sample_rate != rate
            if resample and not ((wave.sample_rate > rate and fo.allow_downsample)
                                 or (wave.sample_rate < rate and fo.allow_upsample)):
                raise SampleRateMismatch(
                    f"sample frequency mismatch: you specified {rate:g} but data has {wave.sample_rate:g} "
                    f"(use --sample-frequency option). Utterance is {utt}")
            if wave.duration < min_duration:
                stats.num_skipped += 1
                _warn(logger, f"utterance {utt} is too short ({wave.duration:.3f} sec): producing no output")
                continue
            num_channels = wave.data.shape[0]
            if channel == -1:
                if num_channels != 1:
                    _warn(logger, f"utterance {utt}: channel not specified but the data has {num_channels} "
                                  "channels; using channel 0")
                samples = wave.data[0]
            elif channel >= num_channels:
                fail(utt, f"has {num_channels} channel(s) but --channel={channel} was given")
                continue
            else:
                samples = wave.data[channel]
            if resample:
                samples = resample_to(samples, wave.sample_rate, rate)
            if samples.size and not np.isfinite(samples).all():
                fail(utt, f"{int(np.count_nonzero(~np.isfinite(samples)))} NaN/inf samples")
                continue
            nf = computer.num_frames(samples.shape[0])
            if nf == 0:
                fail(utt, f"{samples.shape[0]} samples ({wave.duration * 1000:.1f} ms) is shorter than one frame")
                continue
            warp = warp_of(utt)
            if warp is None:
                fail(utt, "no VTLN warp factor")
                continue
            pending.append((utt, samples, float(warp), wave.duration))
            pending_frames += nf
            if pending_frames >= batch_frames:
                flush()
        flush()

        if stats.num_failed and (stats.num_done == 0 or stats.num_failed > max_failed_fraction * stats.num_utts):
            raise FeatureFailure(
                f"{stats.num_failed} of {stats.num_utts} utterances failed (more than the allowed "
                f"{100 * max_failed_fraction:g}%); failed: {', '.join(stats.failed[:10])}"
                + (" ..." if len(stats.failed) > 10 else "") + f"; the first: {stats.first_failure}")
        if stats.num_done == 0 and stats.num_utts:
            raise FeatureFailure(f"no features were written: all {stats.num_utts} utterances were skipped")
    return stats
