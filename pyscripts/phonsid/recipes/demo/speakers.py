"""Speakers (physiology, habits) and sessions (per-utterance voice and channel variation) of the demo corpus.

A speaker is a fixed set of voice parameters drawn once from its own random stream: sex, F0 mean and range,
vocal-tract length (one factor scaling every formant and frication resonance), per-formant and per-phone formant
idiosyncrasies, formant bandwidths, glottal open quotient and return-phase time (spectral tilt), jitter, shimmer,
breathiness, nasal resonance, speaking rate and pausing habit.

A session (one recording) perturbs the voice a little (F0 shift, rate, effort, breathiness) and draws a telephone
channel: band-pass edges, a few peaking EQ bands, noise colour and SNR, and the recording level.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

from phonsid.recipes.demo.lexicon import NONSILENCE_PHONES

KIND_SPEAKER = 0
KIND_UTTERANCE = 1


def stream(seed: int, set_name: str, index: int, kind: int, sub: int = 0) -> np.random.Generator:
    """An independent random stream for (seed, set, speaker/recording index, kind, utterance index).

    Seeding each speaker and each utterance separately keeps every other one unchanged when a set is resized
    or regenerated on its own.
    """
    return np.random.default_rng([seed, zlib.crc32(set_name.encode()), index, kind, sub])


@dataclasses.dataclass(frozen=True)
class Speaker:
    spk_id: str
    gender: str  # 'm' or 'f'
    f0_mean: float  # Hz
    f0_range: float  # semitones: size of declination and pitch accents
    vtl_factor: float  # scales every formant (shorter tract -> larger factor)
    formant_scale: np.ndarray  # (4,) per-formant factors F1..F4
    phone_formant_scale: np.ndarray  # (num phones, 4) idiolect: per-phone per-formant factors
    bandwidth_scale: float
    open_quotient: float  # fraction of the glottal period the glottis is open
    return_time: float  # s, LF return phase (larger: steeper spectral tilt)
    jitter: float  # relative s.d. of period length
    shimmer: float  # relative s.d. of pulse amplitude
    breathiness: float  # aspiration noise relative to voicing
    nasal_pole: float  # Hz
    fricative_scale: float  # scales frication resonances
    rate: float  # speaking rate (>1 faster)
    pause_prob: float  # probability of a pause between two words
    vowel_lengthening: float  # extra length of word-final vowels


def make_speaker(spk_id: str, gender: str, rng: np.random.Generator) -> Speaker:
    """Draws one speaker's voice from the population distributions of its sex."""
    if gender not in ("m", "f"):
        raise ValueError(f"speaker {spk_id}: gender must be 'm' or 'f', got '{gender}'")
    female = gender == "f"
    f0_mean = float((205.0 if female else 115.0) * np.exp(rng.normal(0.0, 0.13)))
    vtl = float((1.16 if female else 1.0) + rng.normal(0.0, 0.055))
    formant_scale = np.exp(rng.normal(0.0, [0.045, 0.04, 0.04, 0.05]))
    phone_scale = np.exp(rng.normal(0.0, 0.04, size=(len(NONSILENCE_PHONES), 4)))
    return Speaker(
        spk_id=spk_id,
        gender=gender,
        f0_mean=f0_mean,
        f0_range=float(rng.uniform(1.5, 4.0)),
        vtl_factor=vtl,
        formant_scale=formant_scale,
        phone_formant_scale=phone_scale,
        bandwidth_scale=float(np.exp(rng.normal(0.0, 0.25))),
        open_quotient=float(rng.uniform(0.5, 0.75) if female else rng.uniform(0.4, 0.65)),
        return_time=float(rng.uniform(0.08e-3, 0.35e-3) if female else rng.uniform(0.04e-3, 0.25e-3)),
        jitter=float(rng.uniform(0.003, 0.02)),
        shimmer=float(rng.uniform(0.02, 0.10)),
        breathiness=float(rng.uniform(0.03, 0.2) if female else rng.uniform(0.01, 0.12)),
        nasal_pole=float(rng.uniform(240.0, 320.0) * vtl),
        fricative_scale=float(vtl * np.exp(rng.normal(0.0, 0.04))),
        rate=float(rng.uniform(0.8, 1.25)),
        pause_prob=float(rng.uniform(0.05, 0.25)),
        vowel_lengthening=float(rng.uniform(1.1, 1.5)),
    )


@dataclasses.dataclass(frozen=True)
class Channel:
    highpass: float  # Hz, band-pass lower edge
    highpass_order: int
    lowpass: float  # Hz, band-pass upper edge
    lowpass_order: int
    eq: tuple[tuple[float, float, float], ...]  # (centre Hz, gain dB, Q) peaking bands
    snr: float  # dB, channel noise against active speech
    noise_tilt: float  # 0 white .. 1 pink
    level: float  # dBFS, RMS of active speech
    hum: float  # relative level of mains hum in the noise (0: none)
    hum_freq: float


@dataclasses.dataclass(frozen=True)
class Session:
    f0_shift: float  # semitones
    rate_factor: float
    tilt_factor: float  # multiplies the return time
    breath_factor: float
    channel: Channel


def make_channel(rng: np.random.Generator, eq_db: float, snr_range: tuple[float, float],
                 level_range: tuple[float, float] = (-30.0, -18.0)) -> Channel:
    """A random telephone channel: band-pass 150-400 Hz .. 2900-3700 Hz, 1-3 EQ bands, low noise."""
    n_eq = int(rng.integers(1, 4))
    eq = tuple((float(np.exp(rng.uniform(np.log(300.0), np.log(3200.0)))),
                float(np.clip(rng.normal(0.0, eq_db), -2 * eq_db, 2 * eq_db)),
                float(rng.uniform(0.7, 2.5))) for _ in range(n_eq))
    return Channel(
        highpass=float(rng.uniform(150.0, 400.0)),
        highpass_order=int(rng.integers(1, 3)),
        lowpass=float(rng.uniform(2900.0, 3700.0)),
        lowpass_order=int(rng.integers(2, 4)),
        eq=eq,
        snr=float(rng.uniform(*snr_range)),
        noise_tilt=float(rng.uniform(0.0, 1.0)),
        level=float(rng.uniform(*level_range)),
        hum=float(rng.uniform(0.0, 0.5) if rng.random() < 0.3 else 0.0),
        hum_freq=float(rng.choice([50.0, 60.0])),
    )


def make_session(rng: np.random.Generator, eq_db: float, snr_range: tuple[float, float]) -> Session:
    """Per-recording variation of the voice and the channel it is recorded through."""
    return Session(
        f0_shift=float(rng.normal(0.0, 0.7)),
        rate_factor=float(np.exp(rng.normal(0.0, 0.05))),
        tilt_factor=float(np.exp(rng.normal(0.0, 0.12))),
        breath_factor=float(np.exp(rng.normal(0.0, 0.2))),
        channel=make_channel(rng, eq_db, snr_range),
    )
