"""Synthetic augmentation sources in the roles of MUSAN's noise and music sets, at 8 kHz.

Noises (``NOISE_TYPES``, cycled over the recordings): mains hum/buzz, murmur (several speech-band noise streams
with syllable-rate envelopes: crowd-like but made of no speech), clicks (keyboard/clock-like decaying
resonances), fan (low-passed noise with blade-pass tones), hiss (white to pink), call-progress tones and beeps,
traffic rumble (brown noise with passing swells) and crackle (dense random impulses).

Music: a random key, mode and tempo; a chord progression played by a pad instrument, a bass line and a melody,
each with its own additive timbre (harmonic amplitudes, odd/even balance, vibrato, attack/decay), plus an
optional drum pattern (kick, snare, hi-hat).

Every generator returns float64 samples of unit RMS; the caller sets the level.
"""

from __future__ import annotations

import numpy as np
import scipy.interpolate
import scipy.signal

from phonsid.recipes.demo.synth import SAMPLE_RATE, coloured_noise

NOISE_TYPES = ("hum", "murmur", "clicks", "fan", "hiss", "tones", "rumble", "crackle")


def _unit(x: np.ndarray) -> np.ndarray:
    return x / max(float(np.sqrt(np.mean(x ** 2))), 1e-12)


def _smooth_random(rng: np.random.Generator, n: int, rate_hz: float) -> np.ndarray:
    """A smooth random signal with about ``rate_hz`` changes per second (cubic interpolation of a grid)."""
    step = SAMPLE_RATE / rate_hz
    knots = rng.standard_normal(int(n / step) + 4)
    t = np.arange(n) / step
    return scipy.interpolate.CubicSpline(np.arange(knots.shape[0]), knots)(t + 1.0)


def _hum(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    base = rng.choice([50.0, 60.0]) * (1.0 + rng.uniform(-0.003, 0.003))
    buzz = rng.uniform(0.5, 1.5)  # larger: more, stronger harmonics
    x = np.zeros(n)
    for h in range(1, int(3800 / base)):
        amp = h ** -(2.0 / buzz) * (1.5 if h % 2 else 1.0)
        x += amp * np.sin(2 * np.pi * base * h * t + rng.uniform(0, 2 * np.pi))
    return _unit(x * (1.0 + 0.1 * _smooth_random(rng, n, 0.5)))


def _murmur(rng: np.random.Generator, n: int) -> np.ndarray:
    x = np.zeros(n)
    for _ in range(int(rng.integers(4, 11))):
        centre = rng.uniform(300.0, 1500.0)
        sos = scipy.signal.butter(2, [centre / 1.8, min(centre * 1.8, 3800.0)], "bandpass", fs=SAMPLE_RATE,
                                  output="sos")
        voice = scipy.signal.sosfilt(sos, rng.standard_normal(n))
        envelope = np.maximum(_smooth_random(rng, n, rng.uniform(3.0, 6.0)), 0.0) ** 1.5
        x += voice * envelope * rng.uniform(0.5, 1.0)
    sos = scipy.signal.butter(1, 1200.0, "lowpass", fs=SAMPLE_RATE, output="sos")
    return _unit(scipy.signal.sosfilt(sos, x) + 0.05 * _unit(x))


def _clicks(rng: np.random.Generator, n: int) -> np.ndarray:
    x = 0.02 * coloured_noise(rng, n, 1.0)
    rate = rng.uniform(2.0, 15.0)
    count = rng.poisson(rate * n / SAMPLE_RATE)
    length = int(0.03 * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    for pos in rng.integers(0, max(n - length, 1), count):
        f = rng.uniform(500.0, 3500.0)
        decay = rng.uniform(0.002, 0.01)
        click = np.sin(2 * np.pi * f * t) * np.exp(-t / decay) + 0.5 * rng.standard_normal(length) * np.exp(-t / 0.001)
        x[pos:pos + length] += rng.uniform(0.3, 1.0) * click
    return _unit(x)


def _fan(rng: np.random.Generator, n: int) -> np.ndarray:
    cutoff = rng.uniform(300.0, 1500.0)
    sos = scipy.signal.butter(2, cutoff, "lowpass", fs=SAMPLE_RATE, output="sos")
    x = scipy.signal.sosfilt(sos, coloured_noise(rng, n, 0.5))
    blade = rng.uniform(80.0, 300.0)
    wander = 1.0 + 0.01 * _smooth_random(rng, n, 0.3)
    phase = 2 * np.pi * np.cumsum(blade * wander) / SAMPLE_RATE
    tones = sum(np.sin(h * phase + rng.uniform(0, 2 * np.pi)) / h ** 1.5 for h in range(1, 6))
    return _unit(_unit(x) + rng.uniform(0.1, 0.5) * _unit(tones))


def _hiss(rng: np.random.Generator, n: int) -> np.ndarray:
    return coloured_noise(rng, n, rng.uniform(0.0, 1.2))


def _tones(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    kind = rng.integers(3)
    if kind == 0:  # ringback-like: two tones, long on, longer off
        freqs, on, off = (440.0, 480.0), 2.0, 4.0
    elif kind == 1:  # busy-like
        freqs, on, off = (480.0, 620.0), 0.5, 0.5
    else:  # random beeps
        freqs, on, off = (rng.uniform(400.0, 2500.0),), rng.uniform(0.1, 0.4), rng.uniform(0.2, 1.5)
    period = on + off
    gate = ((t + rng.uniform(0, period)) % period) < on
    gate = np.convolve(gate.astype(np.float64), np.ones(40) / 40, mode="same")  # 5 ms edges
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in freqs) * gate
    return _unit(x + 0.01 * coloured_noise(rng, n, 1.0))


def _rumble(rng: np.random.Generator, n: int) -> np.ndarray:
    x = coloured_noise(rng, n, 2.0)
    sos = scipy.signal.butter(2, rng.uniform(200.0, 600.0), "lowpass", fs=SAMPLE_RATE, output="sos")
    x = scipy.signal.sosfilt(sos, x)
    t = np.arange(n) / SAMPLE_RATE
    swell = np.full(n, 0.3)
    for centre in rng.uniform(0, n / SAMPLE_RATE, int(rng.integers(1, 4))):
        swell += np.exp(-0.5 * ((t - centre) / rng.uniform(1.0, 3.0)) ** 2)
    return _unit(x * swell + 0.05 * coloured_noise(rng, n, 1.0))


def _crackle(rng: np.random.Generator, n: int) -> np.ndarray:
    density = rng.uniform(50.0, 400.0) / SAMPLE_RATE
    impulses = (rng.random(n) < density) * rng.standard_normal(n) * rng.exponential(1.0, n)
    sos = scipy.signal.butter(2, rng.uniform(1000.0, 2500.0), "highpass", fs=SAMPLE_RATE, output="sos")
    x = scipy.signal.sosfilt(sos, impulses) + 0.1 * coloured_noise(rng, n, 0.5) * np.std(impulses)
    return _unit(x)


_GENERATORS = {"hum": _hum, "murmur": _murmur, "clicks": _clicks, "fan": _fan, "hiss": _hiss, "tones": _tones,
               "rumble": _rumble, "crackle": _crackle}


def make_noise(kind: str, rng: np.random.Generator, num_samples: int) -> np.ndarray:
    """``num_samples`` of the noise ``kind`` (one of NOISE_TYPES), unit RMS."""
    if kind not in _GENERATORS:
        raise ValueError(f"unknown noise type '{kind}' (expected one of {', '.join(NOISE_TYPES)})")
    return _GENERATORS[kind](rng, num_samples)


# ------------------------------------------------------------------------------------------------ music

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3), (1, 4, 0, 0), (0, 3, 0, 4), (5, 3, 0, 4))


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


class _Instrument:
    """An additive timbre: harmonic amplitudes, an attack/decay envelope and optional vibrato."""

    def __init__(self, rng: np.random.Generator, sustained: bool) -> None:
        n_harm = int(rng.integers(3, 12))
        slope = rng.uniform(0.6, 2.0)
        odd = rng.uniform(0.2, 1.0)  # < 1: weaker even harmonics (clarinet-like)
        h = np.arange(1, n_harm + 1)
        self.amps = h ** -slope * np.where(h % 2 == 0, odd, 1.0) * np.exp(rng.normal(0.0, 0.3, n_harm))
        self.attack = rng.uniform(0.005, 0.08 if sustained else 0.02)
        self.decay = rng.uniform(0.5, 3.0) if sustained else rng.uniform(0.1, 0.6)
        self.vibrato = rng.uniform(0.0, 0.006) if sustained else 0.0
        self.vib_rate = rng.uniform(4.0, 6.5)

    def note(self, freq: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
        n = max(int(seconds * SAMPLE_RATE), 1)
        t = np.arange(n) / SAMPLE_RATE
        inst = freq * (1.0 + self.vibrato * np.sin(2 * np.pi * self.vib_rate * t))
        phase = 2 * np.pi * np.cumsum(inst) / SAMPLE_RATE
        harmonics = np.arange(1, self.amps.shape[0] + 1)
        keep = harmonics * freq < 0.45 * SAMPLE_RATE
        x = (self.amps[keep, None] * np.sin(harmonics[keep, None] * phase[None, :]
                                              + rng.uniform(0, 2 * np.pi, (int(keep.sum()), 1)))).sum(axis=0)
        env = np.minimum(t / self.attack, 1.0) * np.exp(-t / self.decay)
        release = min(n, int(0.02 * SAMPLE_RATE))
        env[n - release:] *= np.linspace(1.0, 0.0, release)
        return x * env


def _drum(kind: str, rng: np.random.Generator) -> np.ndarray:
    n = int(0.25 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    if kind == "kick":
        freq = 50.0 + 100.0 * np.exp(-t / 0.03)
        return np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE) * np.exp(-t / 0.08)
    if kind == "snare":
        return (0.6 * rng.standard_normal(n) + 0.4 * np.sin(2 * np.pi * 190.0 * t)) * np.exp(-t / 0.06)
    noise = np.diff(rng.standard_normal(n + 1))  # hi-hat: high-passed noise, short
    return 0.4 * noise * np.exp(-t / 0.02)


def make_music(rng: np.random.Generator, num_samples: int) -> np.ndarray:
    """A synthetic piece: chords, bass, melody and (usually) drums, ``num_samples`` long, unit RMS."""
    tempo = rng.uniform(70.0, 160.0)
    beat = 60.0 / tempo
    root = int(rng.integers(45, 58))
    scale = _MAJOR if rng.random() < 0.6 else _MINOR
    progression = _PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))]
    pad, bass, lead = _Instrument(rng, True), _Instrument(rng, False), _Instrument(rng, True)
    drums = rng.random() < 0.7
    x = np.zeros(num_samples + int(4 * SAMPLE_RATE))

    def put(sig: np.ndarray, at: float, gain: float) -> None:
        i = int(at * SAMPLE_RATE)
        if i < num_samples:
            x[i:i + sig.shape[0]] += gain * sig[: x.shape[0] - i]

    def degree(d: int, octave: int = 0) -> int:
        return root + 12 * (octave + d // 7) + scale[d % 7]

    bar = 4 * beat
    total = num_samples / SAMPLE_RATE
    b = 0
    while b * bar < total:
        chord = progression[b % len(progression)]
        start = b * bar
        for d in (chord, chord + 2, chord + 4):  # triad
            put(pad.note(_midi_hz(degree(d, 1)), bar, rng), start, 0.25)
        for k in range(4):
            put(bass.note(_midi_hz(degree(chord, -1 if root > 50 else 0)), beat, rng), start + k * beat, 0.5)
        t = start
        while t < start + bar:
            dur = beat * float(rng.choice([0.5, 0.5, 1.0, 1.0, 1.5, 2.0]))
            if rng.random() < 0.85:
                d = chord + int(rng.choice([0, 2, 4, 1, 3, 5, 6, 7]))
                put(lead.note(_midi_hz(degree(d, 2)), dur, rng), t, 0.35)
            t += dur
        if drums:
            for k in range(8):
                at = start + k * beat / 2
                if k % 4 == 0:
                    put(_drum("kick", rng), at, 0.8)
                if k % 4 == 2:
                    put(_drum("snare", rng), at, 0.5)
                if rng.random() < 0.8:
                    put(_drum("hat", rng), at, 0.3)
        b += 1
    return _unit(x[:num_samples])
