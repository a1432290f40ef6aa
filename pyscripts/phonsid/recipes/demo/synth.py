"""A source-filter (formant) speech synthesizer at 8 kHz, vectorised with numpy/scipy.

An utterance is planned as words -> phones with durations on the 10 ms frame grid (``plan_utterance``), then
rendered (``synthesize``):

* **Voice source**: an LF-like glottal flow derivative (opening, closing, exponential return phase whose time
  constant sets the spectral tilt) driven by a phase accumulator over an F0 contour (declination, pitch accents,
  slow wander), with per-period jitter and shimmer; breathy aspiration noise gated by the open phase.
* **Vocal tract**: a cascade of four formant resonators (Klatt's unit-DC-gain form) plus a nasal pole/zero pair,
  with targets per phone scaled by the speaker's vocal-tract factor and idiolect, joined by linear transitions and
  smoothed (coarticulation). Stop and fricative formant loci shape the transitions of neighbouring vowels.
* **Noise sources**: frication (fricatives, stop bursts) through per-phone spectral shapes, aspiration of voiceless
  stops through the vocal tract.
* **Filtering** is short-time: each 20 ms Hann frame (hop 10 ms, so the frames sum to one) of the excitation is
  convolved with that frame's complex frequency response by FFT (640 points, longer than frame + filter ring)
  and overlap-added, i.e. a piecewise-constant time-varying filter with cross-fades, exact per frame.
* **Channel** (``apply_channel``): band-pass, peaking EQ, coloured noise (and sometimes hum) at a set SNR, level,
  and a peak limit with 1 dB headroom so the 16-bit output never clips.

Amplitudes are sample-accurate piecewise-linear envelopes, so stop bursts are sharp although the filters change
only every 10 ms. Phone boundaries fall on multiples of 80 samples (10 ms), the frame grid of the alignment.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import scipy.signal

from phonsid.recipes.demo import lexicon as lx
from phonsid.recipes.demo.speakers import Channel, Session, Speaker

SAMPLE_RATE = 8000
FRAME_SHIFT = 80  # samples: the 10 ms alignment frame
_NFFT = 640  # 8 hops: holds a 160-sample frame plus 480 samples (60 ms) of filter ringing
_NBINS = _NFFT // 2 + 1
_WINDOW = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(2 * FRAME_SHIFT) / (2 * FRAME_SHIFT))  # periodic Hann
_OMEGA = 2 * np.pi * np.arange(_NBINS) / _NFFT
_Z1 = np.exp(-1j * _OMEGA).astype(np.complex64)
_Z2 = (_Z1 * _Z1).astype(np.complex64)
_MAX_FORMANT = 3780.0  # Hz: resonances are kept below Nyquist (4 kHz)

_PHONE_INDEX = {p: i for i, p in enumerate(lx.NONSILENCE_PHONES)}

# Formant targets (vowels, approximants, nasals) and loci (stops, fricatives) of an adult male voice, Hz.
_FORMANTS = {
    "AA": (730, 1090, 2440, 3400), "AE": (660, 1720, 2410, 3400), "AH": (620, 1200, 2450, 3400),
    "EH": (530, 1840, 2480, 3500), "IH": (390, 1990, 2550, 3500), "IY": (270, 2290, 3010, 3600),
    "OW": (500, 900, 2400, 3350), "UW": (300, 870, 2240, 3300),
    "L": (360, 1000, 2600, 3300), "R": (420, 1250, 1600, 3200), "W": (300, 700, 2200, 3300),
    "M": (270, 1000, 2200, 3300), "N": (270, 1550, 2500, 3400),
    "P": (250, 850, 2150, 3300), "B": (250, 850, 2150, 3300),
    "T": (280, 1750, 2700, 3400), "D": (280, 1750, 2700, 3400),
    "K": (280, 1950, 2350, 3300), "G": (280, 1950, 2350, 3300),
    "F": (320, 1100, 2300, 3300), "V": (320, 1100, 2300, 3300),
    "S": (320, 1700, 2650, 3400), "Z": (320, 1700, 2650, 3400), "SH": (320, 1900, 2500, 3400),
}
_BANDWIDTHS = {
    "vowel": (70, 90, 150, 220), "approximant": (80, 130, 200, 300), "nasal": (110, 280, 380, 480),
    "fricative": (100, 140, 200, 300), "stop": (100, 140, 200, 300),
}
_NASAL_ZERO = {"M": 1000.0, "N": 1650.0}
# Frication spectra: resonances (Hz, bandwidth) and the order of a first-difference high-pass.
_FRICATION = {
    "S": ((3500, 600),), "Z": ((3500, 600),), "SH": ((2500, 350), (3300, 500)),
    "F": ((2200, 3000),), "V": ((2200, 3000),),
    "P": ((800, 1500),), "B": ((800, 1500),), "T": ((3300, 700),), "D": ((3300, 700),),
    "K": ((1900, 300),), "G": ((1900, 300),),
}
_FRICATION_HIGHPASS = {"S": 2, "Z": 2, "SH": 1, "F": 1, "V": 1, "P": 0, "B": 0, "T": 1, "D": 1, "K": 0, "G": 0}
# Levels: voicing amplitude (vowel = 1) and frication amplitude, relative to the vowel output.
_VOICING = {"vowel": 1.0, "approximant": 0.6, "nasal": 0.35}
# intrinsic vowel level corrections (open vowels louder than close ones), dB
_VOWEL_GAIN_DB = {"AA": 1.0, "AE": 1.0, "AH": 0.5, "EH": 0.5, "IH": -1.0, "IY": -4.5, "OW": 0.5, "UW": -2.5}
_VOICED_FRICATIVE_VOICING = 0.2
_VOICE_BAR = 0.1
_FRICATION_LEVEL = {"S": 0.9, "Z": 0.5, "SH": 1.0, "F": 0.25, "V": 0.15,
                    "P": 0.6, "B": 0.4, "T": 1.0, "D": 0.7, "K": 0.9, "G": 0.6}
_ASPIRATION = 0.35

# Mean durations in ms at speaking rate 1.
_DURATION_MS = {
    "AA": 120, "AE": 125, "AH": 75, "EH": 90, "IH": 75, "IY": 105, "OW": 120, "UW": 105,
    "L": 65, "R": 65, "W": 60, "M": 70, "N": 65,
    "F": 100, "S": 115, "SH": 115, "V": 65, "Z": 85,
    "B": 75, "D": 70, "G": 80, "P": 100, "T": 95, "K": 105,
}
_VOICED_STOPS = ("B", "D", "G")
_VOICED_FRICATIVES = ("V", "Z")


@dataclasses.dataclass
class UtterancePlan:
    """What an utterance says and when: phones with frame boundaries (10 ms frames)."""

    words: list[str]
    phones: list[str]
    starts: np.ndarray  # (num phones,) first frame
    ends: np.ndarray  # (num phones,) one past the last frame
    accents: np.ndarray  # (num phones,) bool: vowel carries a pitch accent

    @property
    def num_frames(self) -> int:
        return int(self.ends[-1])

    @property
    def num_samples(self) -> int:
        return self.num_frames * FRAME_SHIFT

    def frame_phones(self) -> list[str]:
        """The phone of every 10 ms frame."""
        out: list[str] = []
        for p, s, e in zip(self.phones, self.starts, self.ends):
            out.extend([p] * int(e - s))
        return out

    def speech_mask(self) -> np.ndarray:
        """(num_samples,) bool: inside a speech (non-silence) phone."""
        mask = np.zeros(self.num_frames, dtype=bool)
        for p, s, e in zip(self.phones, self.starts, self.ends):
            if p != lx.SILENCE:
                mask[s:e] = True
        return np.repeat(mask, FRAME_SHIFT)


def _frames(seconds: float) -> int:
    return max(1, int(round(seconds * SAMPLE_RATE / FRAME_SHIFT)))


def plan_utterance(rng: np.random.Generator, speaker: Speaker, session: Session, words: Sequence[lx.Word],
                   duration: float, edge_silence: tuple[float, float] = (0.2, 0.5),
                   pause: tuple[float, float] = (0.12, 0.45)) -> UtterancePlan:
    """Random words from ``words`` until about ``duration`` seconds, with leading/trailing silence and pauses.

    Every phone lasts at least 3 frames and every silence at least 5 (the shortest paths through Kaldi's 3-state
    phone and 5-state silence models).
    """
    rate = speaker.rate * session.rate_factor
    lead = _frames(rng.uniform(*edge_silence))
    trail = _frames(rng.uniform(*edge_silence))
    target = _frames(duration)
    phones: list[str] = [lx.SILENCE]
    lengths: list[int] = [max(5, lead)]
    accents: list[bool] = [False]
    spoken: list[str] = []
    total = lengths[0] + max(5, trail)
    while True:
        word = words[int(rng.integers(len(words)))]
        accented = rng.random() < 0.35
        stressed_vowel = word.syllables[0][1]
        last_vowel = word.syllables[-1][1]
        w_phones, w_lengths, w_accents = [], [], []
        for i, p in enumerate(word.phones):
            ms = _DURATION_MS[p] / rate * np.exp(rng.normal(0.0, 0.18))
            if i == last_vowel:
                ms *= speaker.vowel_lengthening
            if i == stressed_vowel:
                ms *= 1.15 if accented else 1.05
            w_phones.append(p)
            w_lengths.append(max(3, int(round(ms / 10.0))))
            w_accents.append(bool(accented and i == stressed_vowel))
        if spoken and rng.random() < speaker.pause_prob:
            w_phones.insert(0, lx.SILENCE)
            w_lengths.insert(0, max(5, _frames(rng.uniform(*pause))))
            w_accents.insert(0, False)
        if spoken and total + sum(w_lengths) > target:
            break
        spoken.append(word.name)
        phones += w_phones
        lengths += w_lengths
        accents += w_accents
        total += sum(w_lengths)
        if total >= target:
            break
    phones.append(lx.SILENCE)
    lengths.append(max(5, trail))
    accents.append(False)
    ends = np.cumsum(lengths)
    return UtterancePlan(spoken, phones, ends - np.asarray(lengths), ends, np.asarray(accents, dtype=bool))


# ------------------------------------------------------------------------------------------------ filters


def _resonance(freq: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """Klatt resonator responses (unit gain at DC) at the FFT bins: (..., ) params -> (..., bins) complex64."""
    r = np.exp(-np.pi * bw / SAMPLE_RATE)
    c = -r * r
    b = 2.0 * r * np.cos(2.0 * np.pi * freq / SAMPLE_RATE)
    a = 1.0 - b - c
    denom = 1.0 - b[..., None].astype(np.float32) * _Z1 - c[..., None].astype(np.float32) * _Z2
    return (a[..., None].astype(np.float32) / denom).astype(np.complex64)


def _ola_filter(x: np.ndarray, response: np.ndarray) -> np.ndarray:
    """Time-varying filtering: frame m (Hann, centred on sample m*80) convolved with ``response[m]``.

    ``x`` has T*80 samples and ``response`` T+1 rows; frames overlap by half and their windows sum to one.
    """
    hop = FRAME_SHIFT
    n = x.shape[0]
    m = response.shape[0]
    xp = np.concatenate([np.zeros(hop), x, np.zeros(hop)])
    frames = np.lib.stride_tricks.sliding_window_view(xp, 2 * hop)[::hop][:m] * _WINDOW
    y = np.fft.irfft(np.fft.rfft(frames, n=_NFFT) * response, n=_NFFT)
    k = _NFFT // hop
    y = y.reshape(m, k, hop)
    out = np.zeros((m + k - 1, hop))
    for j in range(k):
        out[j:j + m] += y[:, j, :]
    return out.reshape(-1)[hop:hop + n]


def _frication_shapes(speaker: Speaker) -> dict[str, np.ndarray]:
    """Per-phone frication spectra (complex responses, unit RMS over the bins), scaled to the speaker."""
    shapes = {}
    for p, res in _FRICATION.items():
        h = np.ones(_NBINS, dtype=np.complex64)
        for f, bw in res:
            h *= _resonance(np.array(min(f * speaker.fricative_scale, _MAX_FORMANT)), np.array(float(bw)))
        h *= (1.0 - _Z1) ** _FRICATION_HIGHPASS[p]
        shapes[p] = h / np.sqrt(np.mean(np.abs(h) ** 2))
    return shapes


class _Envelope:
    """Piecewise-linear track from (time, value) anchors."""

    def __init__(self) -> None:
        self.t: list[float] = []
        self.v: list[float] = []

    def add(self, t: float, v: float) -> None:
        self.t.append(float(t))
        self.v.append(float(v))

    def render(self, times: np.ndarray, default: float = 0.0) -> np.ndarray:
        if not self.t:
            return np.full(times.shape, default)
        order = np.argsort(np.asarray(self.t), kind="stable")
        return np.interp(times, np.asarray(self.t)[order], np.asarray(self.v)[order])


# ------------------------------------------------------------------------------------------------ synthesis


def _f0_contour(plan: UtterancePlan, speaker: Speaker, session: Session, rng: np.random.Generator,
                times: np.ndarray) -> np.ndarray:
    """F0 in Hz at ``times`` (samples): declination, pitch accents on accented vowels, slow random wander."""
    fs = SAMPLE_RATE
    speech = [(s, e) for p, s, e in zip(plan.phones, plan.starts, plan.ends) if p != lx.SILENCE]
    t0 = speech[0][0] * FRAME_SHIFT
    t1 = max(speech[-1][1] * FRAME_SHIFT, t0 + 1)
    rng_st = speaker.f0_range
    start_st = rng.uniform(0.3, 0.7) * rng_st
    end_st = -rng.uniform(0.4, 0.8) * rng_st
    semitones = start_st + (end_st - start_st) * np.clip((times - t0) / (t1 - t0), 0.0, 1.0)
    for p, s, e, acc in zip(plan.phones, plan.starts, plan.ends, plan.accents):
        if acc:
            centre = 0.5 * (s + e) * FRAME_SHIFT
            width = rng.uniform(0.05, 0.09) * fs
            semitones += rng.uniform(0.6, 1.2) * rng_st * np.exp(-0.5 * ((times - centre) / width) ** 2)
    # slow wander: smoothed noise on a 50 ms grid
    grid = np.arange(0, times[-1] + 0.05 * fs + 1, 0.05 * fs)
    wander = np.convolve(rng.normal(0.0, 0.5, grid.shape[0]), np.ones(3) / 3, mode="same")
    semitones += np.interp(times, grid, wander)
    f0 = speaker.f0_mean * 2.0 ** ((semitones + session.f0_shift) / 12.0)
    return np.clip(f0, 50.0, 450.0)


def _glottal_source(f0: np.ndarray, speaker: Speaker, session: Session,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """LF-like glottal flow derivative with jitter and shimmer; also the open-phase gate for breath noise."""
    fs = SAMPLE_RATE
    phase0 = np.cumsum(f0) / fs
    k0 = phase0.astype(np.int64)
    n_periods = int(k0[-1]) + 2
    jitter = np.exp(rng.normal(0.0, speaker.jitter, n_periods))
    phase = np.cumsum(f0 * jitter[k0]) / fs
    k = np.minimum(phase.astype(np.int64), n_periods - 1)
    frac = phase - k
    te = speaker.open_quotient
    tp = 0.65 * te
    ta = speaker.return_time * session.tilt_factor
    e_peak = (0.5 * np.pi) / (te - tp)
    opening = (0.5 * np.pi / tp) * np.sin(np.pi * np.minimum(frac, tp) / tp) / e_peak
    closing = -np.sin(0.5 * np.pi * (np.clip(frac, tp, te) - tp) / (te - tp))
    ret = -np.exp(-np.maximum(frac - te, 0.0) / (f0 * ta))
    dg = np.where(frac < tp, opening, np.where(frac < te, closing, ret))
    shimmer = np.exp(rng.normal(0.0, speaker.shimmer, n_periods))
    gate = np.where(frac < te, 1.0, 0.25)
    return dg * shimmer[k], gate


def synthesize(plan: UtterancePlan, speaker: Speaker, session: Session, rng: np.random.Generator) -> np.ndarray:
    """Renders ``plan`` in the speaker's voice; float64 samples at 8 kHz, before the channel."""
    hop = FRAME_SHIFT
    n = plan.num_samples
    centres = np.arange(plan.num_frames + 1, dtype=np.float64) * hop  # filter frame centres
    samples = np.arange(n, dtype=np.float64)

    voice, asp, fric = _Envelope(), _Envelope(), _Envelope()
    formants = [_Envelope() for _ in range(4)]
    bandwidths = [_Envelope() for _ in range(4)]
    nasal_zero = _Envelope()
    fric_frame = np.full(plan.num_frames + 1, -1, dtype=np.int64)  # frication shape per filter frame
    fric_names = list(_FRICATION)

    phone_f = {p: np.minimum(np.asarray(_FORMANTS[p], dtype=np.float64) * speaker.vtl_factor
                             * speaker.formant_scale * speaker.phone_formant_scale[_PHONE_INDEX[p]],
                             _MAX_FORMANT) for p in _FORMANTS}
    for p, s_fr, e_fr, acc in zip(plan.phones, plan.starts, plan.ends, plan.accents):
        s, e = float(s_fr * hop), float(e_fr * hop)
        d = e - s
        rho = min(60.0, d / 4)
        kind = lx.phone_kind(p)
        if kind == "silence":
            for env in (voice, asp, fric):
                env.add(s + rho, 0.0)
                env.add(e - rho, 0.0)
            continue
        f = phone_f[p]
        bw = np.asarray(_BANDWIDTHS[kind], dtype=np.float64) * speaker.bandwidth_scale
        if kind in ("vowel", "approximant", "nasal"):
            edge = 0.3 if kind == "vowel" else 0.35
            anchors = (s + edge * d, e - edge * d)
        elif kind == "stop":
            anchors = (e - min(0.45 * d, 400.0),)
        else:
            anchors = (s + 0.5 * d,)
        for t in anchors:
            for j in range(4):
                formants[j].add(t, f[j])
                bandwidths[j].add(t, bw[j])
        zero = _NASAL_ZERO[p] * speaker.vtl_factor if kind == "nasal" else speaker.nasal_pole
        nasal_zero.add(s + rho, zero)
        nasal_zero.add(e - rho, zero)

        if kind in ("vowel", "approximant", "nasal"):
            level = _VOICING[kind] * (1.1 if acc else 1.0) * 10.0 ** (_VOWEL_GAIN_DB.get(p, 0.0) / 20.0)
            voice.add(s + rho, level)
            voice.add(e - rho, level)
            for env in (asp, fric):
                env.add(s + rho, 0.0)
                env.add(e - rho, 0.0)
        elif kind == "fricative":
            v = _VOICED_FRICATIVE_VOICING if p in _VOICED_FRICATIVES else 0.0
            voice.add(s + rho, v)
            voice.add(e - rho, v)
            ramp = min(120.0, d / 3)
            fric.add(s, 0.0)
            fric.add(s + ramp, _FRICATION_LEVEL[p])
            fric.add(e - ramp, _FRICATION_LEVEL[p])
            fric.add(e, 0.0)
            asp.add(s + rho, 0.0)
            asp.add(e - rho, 0.0)
            fric_frame[int(s_fr):int(e_fr) + 1] = fric_names.index(p)
        else:  # stop: closure, burst, then aspiration (voiceless) or voicing onset (voiced)
            voiced = p in _VOICED_STOPS
            vot = (min(max(0.45 * d, 200.0), 480.0) if not voiced else 80.0)
            vot = min(vot, 0.5 * d)
            release = e - vot
            burst = min(40.0, 0.5 * vot)
            bar = _VOICE_BAR if voiced else 0.0
            voice.add(s + rho, bar)
            voice.add(release - 4.0, bar)
            if voiced:
                voice.add(release + burst, 0.4)
                voice.add(e - rho / 2, 0.7)
            else:
                voice.add(e - rho / 2, 0.0)
            level = _FRICATION_LEVEL[p]
            fric.add(s + rho, 0.0)
            fric.add(release - 4.0, 0.0)
            fric.add(release, level)
            fric.add(release + burst, 0.4 * level)
            fric.add(release + burst + 24.0, 0.0)
            asp.add(s + rho, 0.0)
            asp.add(release + 4.0, 0.0)
            if not voiced:
                asp.add(release + burst, _ASPIRATION)
                asp.add(e - rho / 2, 0.6 * _ASPIRATION)
            asp.add(e, 0.0)
            fric_frame[int(s_fr):int(e_fr) + 1] = fric_names.index(p)

    # vocal tract response per filter frame, with 3-frame smoothing of the tracks (coarticulation)
    kernel = np.array([0.25, 0.5, 0.25])

    def track(env: _Envelope, default: float) -> np.ndarray:
        v = env.render(centres, default)
        return np.convolve(np.pad(v, 1, mode="edge"), kernel, mode="valid")

    h_vt = np.ones((centres.shape[0], _NBINS), dtype=np.complex64)
    for j in range(4):
        h_vt *= _resonance(track(formants[j], 500.0 + 1000.0 * j), track(bandwidths[j], 100.0))
    nasal_pole = np.full(centres.shape, speaker.nasal_pole)
    h_vt *= _resonance(nasal_pole, np.full(centres.shape, 100.0))
    h_vt /= _resonance(track(nasal_zero, speaker.nasal_pole), np.full(centres.shape, 100.0))

    # frication shape per filter frame: that of the nearest fricative/stop frame
    idx = np.arange(fric_frame.shape[0])
    has = fric_frame >= 0
    if has.any():
        pos = np.flatnonzero(has)
        nxt = np.searchsorted(pos, idx).clip(0, len(pos) - 1)
        prv = (np.searchsorted(pos, idx, side="right") - 1).clip(0, len(pos) - 1)
        nearest = np.where(np.abs(pos[prv] - idx) <= np.abs(pos[nxt] - idx), pos[prv], pos[nxt])
        shapes = _frication_shapes(speaker)
        table = np.stack([shapes[name] for name in fric_names])
        h_fric = table[fric_frame[nearest]]
    else:
        h_fric = None

    f0 = _f0_contour(plan, speaker, session, rng, samples)
    dg, gate = _glottal_source(f0, speaker, session, rng)
    av = voice.render(samples)
    voiced = av > 0.5
    rms = np.sqrt(np.mean(dg[voiced] ** 2)) if voiced.any() else np.sqrt(np.mean(dg ** 2))
    dg = dg / max(rms, 1e-9)
    breath = speaker.breathiness * session.breath_factor
    noise_vt = rng.standard_normal(n)
    excitation = av * dg + (asp.render(samples) + breath * av * gate) * noise_vt
    y = _ola_filter(excitation, h_vt)
    if h_fric is not None:
        y += _ola_filter(fric.render(samples) * rng.standard_normal(n), h_fric)
    return y


# ------------------------------------------------------------------------------------------------ channel


def _peaking(f0: float, gain_db: float, q: float) -> np.ndarray:
    """A peaking-EQ biquad (RBJ cookbook form) as one sos row."""
    a_lin = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * f0 / SAMPLE_RATE
    alpha = np.sin(w0) / (2.0 * q)
    b = np.array([1 + alpha * a_lin, -2 * np.cos(w0), 1 - alpha * a_lin])
    a = np.array([1 + alpha / a_lin, -2 * np.cos(w0), 1 - alpha / a_lin])
    return np.concatenate([b / a[0], a / a[0]])[None, :]


def channel_sos(channel: Channel) -> np.ndarray:
    """The channel's band-pass and EQ as second-order sections."""
    parts = [scipy.signal.butter(channel.highpass_order, channel.highpass, "highpass", fs=SAMPLE_RATE,
                                 output="sos"),
             scipy.signal.butter(channel.lowpass_order, channel.lowpass, "lowpass", fs=SAMPLE_RATE, output="sos")]
    parts += [_peaking(f, g, q) for f, g, q in channel.eq]
    return np.concatenate(parts, axis=0)


def coloured_noise(rng: np.random.Generator, n: int, tilt: float) -> np.ndarray:
    """Unit-RMS noise whose power falls as f^-tilt (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.shape[0], dtype=np.float64)
    f[0] = 1.0
    spec *= f ** (-0.5 * tilt)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n=n)
    return x / max(np.sqrt(np.mean(x ** 2)), 1e-12)


PEAK_LIMIT = 0.89 * 32767.0  # -1 dBFS


def apply_channel(x: np.ndarray, active: np.ndarray, channel: Channel, rng: np.random.Generator) -> np.ndarray:
    """Passes speech through the channel; returns samples in 16-bit scale, peak at most -1 dBFS.

    ``active`` marks speech samples, over which the SNR and the level are measured.
    """
    n = x.shape[0]
    speech_power = np.mean(x[active] ** 2) if active.any() else np.mean(x ** 2)
    noise = coloured_noise(rng, n, channel.noise_tilt)
    if channel.hum > 0:
        t = np.arange(n) / SAMPLE_RATE
        hum = sum(np.sin(2 * np.pi * channel.hum_freq * h * t + rng.uniform(0, 2 * np.pi)) / h
                  for h in range(1, 8))
        noise = noise + channel.hum * hum / np.sqrt(np.mean(hum ** 2))
    noise *= np.sqrt(speech_power / np.mean(noise ** 2) * 10.0 ** (-channel.snr / 10.0))
    y = scipy.signal.sosfilt(channel_sos(channel), x + noise)
    level = np.sqrt(np.mean(y[active] ** 2)) if active.any() else np.sqrt(np.mean(y ** 2))
    y *= 32767.0 * 10.0 ** (channel.level / 20.0) / max(level, 1e-12)
    peak = np.max(np.abs(y))
    if peak > PEAK_LIMIT:
        y *= PEAK_LIMIT / peak
    return y
