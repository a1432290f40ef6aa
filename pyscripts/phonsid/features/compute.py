"""Vectorised MFCC and filter-bank features matching Kaldi's ``compute-mfcc-feats`` / ``compute-fbank-feats``
(the fast default; ``phonsid.features.knf`` wraps kaldi-native-fbank as the reference).

Kaldi processes one frame at a time: copy it (reflecting past the edges when ``--snip-edges=false``),
dither, remove the DC offset, take the raw log-energy, pre-emphasise, window, zero-pad, FFT, power
spectrum, mel filters, log, and (MFCC) DCT and lifter. Every step before the power spectrum is linear in
the frame, so here it is a matrix product over all frames of a batch of utterances at once:

* Pre-emphasis is applied once to the whole (padded) signal, in double precision. It differs from Kaldi's
  per-frame version only in the first sample of each frame (Kaldi uses ``x0 - c*x0`` there, the signal
  filter ``x0 - c*x[-1]``); that difference and the DC offset (after pre-emphasis ``(1-c)`` times the frame
  mean) enter the product as two extra input columns.
* Every Kaldi window is symmetric, so each frame is folded about its centre: with ``s = x[n] + x[L-1-n]``
  and ``a = x[n] - x[L-1-n]`` the real part of the (phase-shifted) DFT sees only ``s`` and the imaginary part
  only ``a``, which halves the multiply-adds of a plain DFT matrix. Window and DFT live in the two weight
  matrices, restricted to the FFT bins some mel filter uses.
* Frame sums and raw energies come from the unprocessed frames; frames whose energy would lose precision
  to cancellation (a large DC offset) are recomputed in double precision.

Kaldi's float32 FFT is not exact: on frames whose spectrum spans many decades its weak mel bands carry
rounding noise of up to a few percent, which the liftered cepstra amplify to ~0.05 (kaldi-native-fbank,
numpy's FFT or this product all land as far from Kaldi there as from the exact value). With
``kaldi_rounding="auto"`` (the default when dither is 0) the few frames whose predicted float32 noise could
show at the 1e-3 level are recomputed by ``phonsid.features.kaldi_rounding``, which reproduces Kaldi's
operation order bit for bit; ``"all"`` does every frame that way (slow), ``"off"`` none.

Dither (``--dither`` > 0) adds Gaussian noise of that standard deviation to each sample of the signal once,
before framing, from a generator the caller may seed (the pipeline seeds it from the utterance id, so output
does not depend on how the data are split into jobs). Kaldi draws fresh noise per frame from an unseeded
generator; the two are statistically alike and neither reproduces the other, so parity tests use dither 0.

``compute_batch_torch`` runs plain per-frame processing and ``torch.fft.rfft`` on any device (GPU).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from phonsid.features.mel import (
    FLOAT_EPS,
    dct_matrix,
    first_sample_of_frame,
    lifter_coeffs,
    mel_banks,
    num_frames,
    reflect_indices,
    window_function,
)
from phonsid.features.options import FbankOptions, FeatureOptionError, FrameExtractionOptions, MfccOptions

_F32 = np.float32
# Frames whose raw energy is below this fraction of their sum of squares lose precision in Q - S^2/L.
_CANCELLATION_RATIO = 1e-3
# "auto" Kaldi rounding: recompute frames whose predicted float32 FFT noise on an output coefficient exceeds
# this (in the units of the output: cepstra or log mel energies). Calibrated on the golden LibriSpeech files
# (22,899 frames over three MFCC configurations and 80-bin fbank): it selects about 5% of their frames and
# keeps every other frame within 1.7e-3 of Kaldi.
ROUNDING_NOISE_THRESHOLD = 7e-5
# Frames per call of the Kaldi-rounding FFT (its working set then stays in cache).
_ROUNDING_CHUNK = 2048
ROUNDING_MODES = ("auto", "all", "off")


class FeatureComputeError(ValueError):
    """The signal cannot be turned into features (wrong rate, NaN/inf samples...)."""


@dataclasses.dataclass
class _Plan:
    """Matrices for one (options, VTLN warp) pair."""

    re_weights: np.ndarray  # (h + extra, K) float64: folded-sum columns -> real part
    im_weights: np.ndarray  # (h + 1, K) float64: folded-difference columns -> imaginary part
    re32: np.ndarray
    im32: np.ndarray
    mel: np.ndarray  # (K, num_bins) float32 on FFT bins [k0, k0 + K)
    k0: int
    band_weight32: np.ndarray  # (num_bins,) sum of each filter's weights
    parseval: np.ndarray | None  # (K,) power -> windowed-frame energy (all bins present)


@dataclasses.dataclass
class _Batch:
    """Per-utterance bookkeeping of one batch: padded signals and the first row of each in the stack."""

    signals: list
    rows: list


class _MelComputer:
    """Shared engine of ``Mfcc`` and ``Fbank``."""

    def __init__(self, frame_opts: FrameExtractionOptions, mel_opts, need_full_spectrum: bool,
                 kaldi_rounding: str) -> None:
        frame_opts.check()
        if kaldi_rounding not in ROUNDING_MODES:
            raise FeatureOptionError(
                f"kaldi_rounding must be one of {', '.join(ROUNDING_MODES)}, got '{kaldi_rounding}'")
        self.frame_opts = frame_opts
        self.mel_opts = mel_opts
        self.kaldi_rounding = kaldi_rounding
        self._need_full = need_full_spectrum
        self._plans: dict[float, _Plan] = {}
        self._length = frame_opts.window_size()
        self._shift = frame_opts.window_shift()
        self._half = self._length // 2
        self._odd = self._length % 2 == 1
        self._window = window_function(frame_opts)
        self._rounding = None  # KaldiRoundingSpectrum, built on first use
        self._plan(1.0)  # fail early on bad mel options
        self.num_rounding_frames = 0  # frames recomputed with Kaldi's rounding so far (statistics)

    # ------------------------------------------------------------------------------------------------------
    # construction

    def _plan(self, vtln_warp: float) -> _Plan:
        plan = self._plans.get(vtln_warp)
        if plan is not None:
            return plan
        fo = self.frame_opts
        banks = mel_banks(self.mel_opts, fo, vtln_warp)  # (n_pad/2, num_bins)
        if self.mel_opts.debug_mel:
            import sys

            for b in range(banks.shape[1]):
                nz = np.flatnonzero(banks[:, b])
                weights = " ".join(f"{v:.6g}" for v in banks[nz, b])
                print(f"LOG (mel_banks) bin {b}, offset = {nz[0]}, vec = [ {weights} ]", file=sys.stderr)
        n_pad = fo.padded_window_size()
        used = np.flatnonzero(banks.any(axis=1))
        k0, k1 = (0, n_pad // 2 + 1) if self._need_full else (int(used[0]), int(used[-1]) + 1)
        bins = np.arange(k0, k1, dtype=np.float64)
        mel = np.zeros((k1 - k0, banks.shape[1]), dtype=np.float32)
        top = min(k1, banks.shape[0])
        mel[: top - k0] = banks[k0:top]

        length, half, w = self._length, self._half, self._window
        theta = 2.0 * math.pi * bins / n_pad
        centred = np.arange(length, dtype=np.float64) - (length - 1) / 2.0  # n - (L-1)/2
        cos_full = w[:, None] * np.cos(np.outer(centred, theta))  # (L, K)
        sin_full = w[:, None] * np.sin(np.outer(centred, theta))
        # folded-sum columns: s[0..h), then a constant removed from every pre-emphasised sample (the frame's
        # DC offset), the first-sample correction, and (odd L) the middle sample
        rows_re = [cos_full[:half], -cos_full.sum(axis=0, keepdims=True), cos_full[:1]]
        if self._odd:
            rows_re.append(cos_full[half:half + 1])
        re_weights = np.concatenate(rows_re)
        im_weights = np.concatenate([sin_full[:half], sin_full[:1]])
        parseval = None
        if self._need_full:
            parseval = np.full(len(bins), 2.0 / n_pad)
            parseval[0] = parseval[-1] = 1.0 / n_pad
        plan = _Plan(re_weights, im_weights, re_weights.astype(_F32), im_weights.astype(_F32), mel, k0,
                     banks.sum(axis=0).astype(_F32), parseval)
        self._plans[vtln_warp] = plan
        return plan

    # ------------------------------------------------------------------------------------------------------
    # framing

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.frame_opts)

    def _check_wave(self, x: np.ndarray, sample_rate: float | None) -> np.ndarray:
        if sample_rate is not None and float(sample_rate) != float(self.frame_opts.samp_freq):
            raise FeatureComputeError(
                f"sample frequency mismatch: the options say {self.frame_opts.samp_freq:g} Hz but the data has "
                f"{float(sample_rate):g} Hz (use --sample-frequency)")
        x = np.asarray(x)
        if x.ndim != 1:
            raise FeatureComputeError(f"expected a 1-D waveform, got shape {x.shape}")
        if x.size and not np.isfinite(x).all():
            bad = int(np.count_nonzero(~np.isfinite(x)))
            raise FeatureComputeError(f"{bad} NaN/inf sample(s) in the waveform")
        return x

    def _padded(self, x: np.ndarray, nf: int) -> np.ndarray:
        """The samples under frames 0..nf-1 as float32, reflected past the signal's edges like Kaldi's
        ``ExtractWindow``; frame ``t`` starts at ``t * shift`` in the result."""
        n = x.shape[0]
        start = first_sample_of_frame(0, self.frame_opts)
        end = first_sample_of_frame(nf - 1, self.frame_opts) + self._length
        x = np.asarray(x, dtype=_F32)
        if start >= 0 and end <= n:
            return x[start:end]
        parts = []
        if start < 0:
            parts.append(x[reflect_indices(np.arange(start, 0), n)])
        parts.append(x[max(start, 0):min(end, n)])
        if end > n:
            parts.append(x[reflect_indices(np.arange(n, end), n)])
        return np.concatenate(parts)

    def _frames(self, p: np.ndarray, nf: int) -> np.ndarray:
        return np.lib.stride_tricks.sliding_window_view(p, self._length)[::self._shift][:nf]

    # ------------------------------------------------------------------------------------------------------
    # spectra

    def _power(self, waves, counts, vtln_warp, need_raw_energy: bool, rngs):
        """Power spectra on the plan's bins for all frames of all waves stacked (float32 ``(T, K)``), raw
        log-energies (or None), and the batch bookkeeping."""
        fo = self.frame_opts
        plan = self._plan(vtln_warp)
        length, shift, half = self._length, self._shift, self._half
        c = _F32(fo.preemph_coeff)
        c64 = float(c)
        total = int(sum(counts))
        s_buf = np.empty((total, half + 2 + (1 if self._odd else 0)), dtype=_F32)
        a_buf = np.empty((total, half + 1), dtype=_F32)
        raw_log_energy = np.empty(total, dtype=np.float64) if need_raw_energy else None
        batch = _Batch([], [])
        row = 0
        for i, (x, nf) in enumerate(zip(waves, counts)):
            batch.rows.append(row)
            if nf == 0:
                batch.signals.append(None)
                continue
            if fo.dither != 0.0:
                rng = rngs[i] if rngs is not None and rngs[i] is not None else np.random.default_rng()
                x = np.asarray(x, dtype=_F32) + rng.standard_normal(x.shape[0], dtype=_F32) * _F32(fo.dither)
            p = self._padded(x, nf)
            batch.signals.append(p)
            rows = slice(row, row + nf)
            raw = self._frames(p, nf)
            sums = raw.sum(axis=1, dtype=_F32).astype(np.float64)
            mean = sums / length
            if need_raw_energy:
                sq = np.einsum("ij,ij->i", raw, raw).astype(np.float64)
                energy = sq - sums * mean if fo.remove_dc_offset else sq
                bad = np.flatnonzero((sq > 0) & (energy < _CANCELLATION_RATIO * sq))
                if bad.size:
                    fr = raw[bad].astype(np.float64)
                    if fo.remove_dc_offset:
                        fr -= fr.mean(axis=1, keepdims=True)
                    energy[bad] = np.einsum("ij,ij->i", fr, fr)
                raw_log_energy[rows] = np.log(np.maximum(energy, FLOAT_EPS))
            # Signal-level pre-emphasis in double: its output is a small difference of large samples (and
            # the DC offset is still in), which float32 would round more coarsely than Kaldi's per-frame
            # version does after removing the DC offset.
            if c != 0:
                p64 = p.astype(np.float64)
                z64 = np.empty_like(p64)
                z64[0] = p64[0] * (1.0 - c64)
                np.multiply(p64[:-1], -c64, out=z64[1:])
                z64[1:] += p64[1:]
                z = z64.astype(_F32)
            else:
                z = p
            frames = self._frames(z, nf)
            tail = frames[:, length - 1:length - 1 - half:-1]
            np.add(frames[:, :half], tail, out=s_buf[rows, :half])
            np.subtract(frames[:, :half], tail, out=a_buf[rows, :half])
            # the constant Kaldi removes from each pre-emphasised sample: (1-c) times the frame mean
            s_buf[rows, half] = mean * (1.0 - c64) if fo.remove_dc_offset else 0.0
            if c != 0:
                starts = np.arange(nf) * shift
                delta = c64 * (p[np.maximum(starts - 1, 0)].astype(np.float64) - p[starts])
                delta[0] = 0.0  # the padded signal starts with the first frame: no predecessor
            else:
                delta = 0.0
            s_buf[rows, half + 1] = delta
            a_buf[rows, half] = delta
            if self._odd:
                s_buf[rows, half + 2] = frames[:, half]
            row += nf
        re = s_buf @ plan.re32
        im = a_buf @ plan.im32
        np.multiply(re, re, out=re)
        np.multiply(im, im, out=im)
        re += im
        return re, raw_log_energy, batch

    def _kaldi_rounding_power(self, batch: _Batch, counts, rows: np.ndarray, window_energy: bool):
        """Kaldi-rounding power spectra (full, ``n/2 + 1`` bins) and windowed log-energies of the given rows."""
        from phonsid.features.kaldi_rounding import KaldiRoundingSpectrum

        if self._rounding is None:
            self._rounding = KaldiRoundingSpectrum(self.frame_opts)
        starts = np.asarray(batch.rows)
        utt = np.searchsorted(starts, rows, side="right") - 1
        raw = np.empty((len(rows), self._length), dtype=_F32)
        for u in np.unique(utt):
            sel = np.flatnonzero(utt == u)
            frames = self._frames(batch.signals[u], counts[u])
            raw[sel] = frames[rows[sel] - starts[u]]
        powers, energies = [], []
        for i in range(0, len(rows), _ROUNDING_CHUNK):
            power, energy = self._rounding.process(raw[i:i + _ROUNDING_CHUNK], window_energy)
            powers.append(power)
            energies.append(energy)
        self.num_rounding_frames += len(rows)
        return np.concatenate(powers), (np.concatenate(energies) if window_energy else None)

    def _rounding_enabled(self) -> bool:
        fo = self.frame_opts
        pow2 = fo.padded_window_size() & (fo.padded_window_size() - 1) == 0
        if self.kaldi_rounding == "off" or not pow2:
            return False
        return self.kaldi_rounding == "all" or fo.dither == 0.0

    def _mel(self, waves, counts, vtln_warp, need_raw_energy, need_window_energy, rngs, noise_gain):
        """Mel energies (not logged, float32 ``(T, num_bins)``) and the requested log-energy (or None).

        ``noise_gain``: (num_bins, n_out) squared sensitivities of the output coefficients to relative
        errors of the mel energies, for predicting which frames need Kaldi's rounding.
        """
        plan = self._plan(vtln_warp)
        power, raw_log_energy, batch = self._power(waves, counts, vtln_warp, need_raw_energy, rngs)
        window_log_energy = None
        if need_window_energy:
            window_log_energy = np.log(np.maximum(power.astype(np.float64) @ plan.parseval, FLOAT_EPS))
        use_power = getattr(self, "_use_power", True)
        mel = (power if use_power else np.sqrt(power)) @ plan.mel
        if self._rounding_enabled() and power.shape[0]:
            if self.kaldi_rounding == "all":
                rows = np.arange(power.shape[0])
            else:
                limit = (ROUNDING_NOISE_THRESHOLD / FLOAT_EPS) ** 2
                rows = np.flatnonzero(self._predicted_noise(power, mel, plan, noise_gain, use_power) > limit)
            if rows.size:
                full, win_energy = self._kaldi_rounding_power(batch, counts, rows, need_window_energy)
                sub = full[:, plan.k0:plan.k0 + plan.mel.shape[0]]
                mel[rows] = (sub if use_power else np.sqrt(sub)) @ plan.mel
                if window_log_energy is not None:
                    window_log_energy[rows] = win_energy
        return mel, (raw_log_energy if need_raw_energy else window_log_energy)

    def _predicted_noise(self, power, mel, plan, noise_gain, use_power) -> np.ndarray:
        """Per frame, the squared float32 FFT rounding noise expected on the worst output coefficient, in
        units of ``FLOAT_EPS**2``.

        An FFT in float32 leaves noise of about ``eps * ||frame||`` on every bin; relative to the average
        power of mel band ``b`` that is ``eps * sqrt(total / band)``, and the output coefficients combine
        those relative errors with the gains in ``noise_gain`` (None: each output is one band).
        """
        n_pad = self.frame_opts.padded_window_size()
        total = power.sum(axis=1, dtype=np.float64).astype(_F32) * _F32(2.0 / n_pad)
        band = np.maximum(mel, _F32(1e-30)) / plan.band_weight32
        if not use_power:
            np.multiply(band, band, out=band)
        np.divide(total[:, None], band, out=band)
        score = band if noise_gain is None else band @ noise_gain
        return score.max(axis=1)

    def _log_mel(self, mel: np.ndarray) -> np.ndarray:
        np.maximum(mel, _F32(1.0) if self.mel_opts.htk_mode else _F32(FLOAT_EPS), out=mel)
        np.log(mel, out=mel)
        return mel

    # ------------------------------------------------------------------------------------------------------
    # public

    def compute(self, waveform: np.ndarray, sample_rate: float | None = None, vtln_warp: float = 1.0,
                rng: np.random.Generator | None = None) -> np.ndarray:
        """Features of one utterance: ``(num_frames, dim)`` float32 (zero rows if shorter than a frame)."""
        return self.compute_batch([waveform], sample_rate, vtln_warp, None if rng is None else [rng])[0]

    def compute_batch(self, waveforms: Sequence[np.ndarray], sample_rate: float | None = None,
                      vtln_warp: float = 1.0, rngs: Sequence[np.random.Generator | None] | None = None,
                      ) -> list[np.ndarray]:
        """Features of several utterances in one pass (the fast path); one float32 matrix per waveform.

        ``rngs``: one generator per waveform for the dither (None: fresh entropy).
        """
        waves = [self._check_wave(x, sample_rate) for x in waveforms]
        counts = [self.num_frames(x.shape[0]) for x in waves]
        feats = self._features(waves, counts, vtln_warp, rngs)
        out, row = [], 0
        for nf in counts:
            out.append(feats[row:row + nf])
            row += nf
        return out

    def dim(self) -> int:
        raise NotImplementedError

    def _features(self, waves, counts, vtln_warp, rngs) -> np.ndarray:
        raise NotImplementedError

    def _finish_torch(self, mel, raw_energy, window_energy):
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------------------
    # torch (GPU-capable) variant: plain framing + real FFT

    def compute_batch_torch(self, waveforms: Sequence, sample_rate: float | None = None, vtln_warp: float = 1.0,
                            device=None, generator=None) -> list:
        """The same features with torch on ``device`` (e.g. "cuda"); float32 tensors on that device.

        Frames are processed as Kaldi does (per-frame DC removal, pre-emphasis and, with ``generator``, dither),
        then ``torch.fft.rfft``; Kaldi's FFT rounding is not reproduced (see the module doc).
        """
        import torch

        fo = self.frame_opts
        plan = self._plan(vtln_warp)
        dev = torch.device(device) if device is not None else torch.device("cpu")
        length, shift = self._length, self._shift
        window = torch.tensor(self._window, dtype=torch.float32, device=dev)
        frames_list, counts = [], []
        for x in waveforms:
            arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
            arr = self._check_wave(arr, sample_rate)
            nf = self.num_frames(arr.shape[0])
            counts.append(nf)
            if nf:
                t = torch.as_tensor(np.ascontiguousarray(self._padded(arr, nf)), device=dev)
                frames_list.append(t.unfold(0, length, shift)[:nf])
        if not frames_list:
            return [torch.zeros((0, self.dim()), dtype=torch.float32, device=dev) for _ in counts]
        frames = torch.cat(frames_list).to(torch.float32)
        if fo.dither != 0.0:
            noise = torch.randn(frames.shape, generator=generator, device=dev, dtype=torch.float32)
            frames = frames + noise * fo.dither
        if fo.remove_dc_offset:
            frames = frames - frames.mean(dim=1, keepdim=True)
        raw_energy = torch.log(torch.clamp((frames * frames).sum(dim=1), min=FLOAT_EPS))
        c = float(np.float32(fo.preemph_coeff))
        if c != 0.0:
            frames = torch.cat([frames[:, :1] * (1.0 - c), frames[:, 1:] - c * frames[:, :-1]], dim=1)
        frames = frames * window
        window_energy = torch.log(torch.clamp((frames * frames).sum(dim=1), min=FLOAT_EPS))
        spec = torch.fft.rfft(frames, n=fo.padded_window_size(), dim=1)
        power = (spec.real.square() + spec.imag.square())[:, plan.k0:plan.k0 + plan.mel.shape[0]]
        if not getattr(self, "_use_power", True):
            power = power.sqrt()
        mel = power @ torch.as_tensor(plan.mel, device=dev)
        feats = self._finish_torch(mel, raw_energy, window_energy)
        out, row = [], 0
        for nf in counts:
            out.append(feats[row:row + nf])
            row += nf
        return out


class Mfcc(_MelComputer):
    """MFCC as Kaldi's ``compute-mfcc-feats`` (options: ``MfccOptions``).

    ``kaldi_rounding``: "auto" (default), "all" or "off" (see the module doc).
    """

    def __init__(self, opts: MfccOptions, kaldi_rounding: str = "auto") -> None:
        self.opts = opts
        if opts.num_ceps < 1:
            raise FeatureOptionError(f"--num-ceps must be >= 1, got {opts.num_ceps}")
        dct = dct_matrix(opts.num_ceps, opts.mel_opts.num_bins)
        if opts.cepstral_lifter != 0.0:
            dct = dct * lifter_coeffs(opts.num_ceps, opts.cepstral_lifter)[:, None]
        self._dct = np.ascontiguousarray(dct.T.astype(_F32))  # (num_bins, num_ceps)
        gain = np.square(dct.T)
        if opts.use_energy:
            gain = gain[:, 1:]  # C0 is replaced by the energy
        self._noise_gain = (gain if gain.shape[1] else np.zeros((dct.shape[1], 1))).astype(_F32)
        self._log_energy_floor = math.log(opts.energy_floor) if opts.energy_floor > 0 else None
        super().__init__(opts.frame_opts, opts.mel_opts, opts.use_energy and not opts.raw_energy, kaldi_rounding)

    def dim(self) -> int:
        return self.opts.num_ceps

    def _features(self, waves, counts, vtln_warp, rngs) -> np.ndarray:
        o = self.opts
        mel, energy = self._mel(waves, counts, vtln_warp, o.use_energy and o.raw_energy,
                                o.use_energy and not o.raw_energy, rngs, self._noise_gain)
        feats = self._log_mel(mel) @ self._dct
        if o.use_energy:
            if self._log_energy_floor is not None:
                energy = np.maximum(energy, self._log_energy_floor)
            feats[:, 0] = energy
        if o.htk_compat:
            c0 = feats[:, :1] * _F32(1.0 if o.use_energy else math.sqrt(2.0))
            feats = np.ascontiguousarray(np.concatenate([feats[:, 1:], c0], axis=1))
        return feats

    def _finish_torch(self, mel, raw_energy, window_energy):
        import torch

        o = self.opts
        floor = 1.0 if self.mel_opts.htk_mode else FLOAT_EPS
        feats = torch.log(torch.clamp(mel, min=floor)) @ torch.as_tensor(self._dct, device=mel.device)
        if o.use_energy:
            energy = raw_energy if o.raw_energy else window_energy
            if self._log_energy_floor is not None:
                energy = torch.clamp(energy, min=self._log_energy_floor)
            feats[:, 0] = energy
        if o.htk_compat:
            feats = torch.cat([feats[:, 1:], feats[:, :1] * (1.0 if o.use_energy else math.sqrt(2.0))], dim=1)
        return feats


class Fbank(_MelComputer):
    """Log mel filter-bank energies as Kaldi's ``compute-fbank-feats`` (options: ``FbankOptions``)."""

    def __init__(self, opts: FbankOptions, kaldi_rounding: str = "auto") -> None:
        self.opts = opts
        self._use_power = opts.use_power
        self._log_energy_floor = math.log(opts.energy_floor) if opts.energy_floor > 0 else None
        # log fbank: an output's error is the relative error of its band; linear: scaled by the value,
        # which the relative threshold then covers only approximately
        self._noise_gain = None
        super().__init__(opts.frame_opts, opts.mel_opts, opts.use_energy and not opts.raw_energy, kaldi_rounding)

    def dim(self) -> int:
        return self.opts.dim()

    def _features(self, waves, counts, vtln_warp, rngs) -> np.ndarray:
        o = self.opts
        mel, energy = self._mel(waves, counts, vtln_warp, o.use_energy and o.raw_energy,
                                o.use_energy and not o.raw_energy, rngs, self._noise_gain)
        if o.use_log_fbank:
            mel = self._log_mel(mel)
        if not o.use_energy:
            return mel
        if self._log_energy_floor is not None:
            energy = np.maximum(energy, self._log_energy_floor)
        e = energy.astype(_F32)[:, None]
        return np.ascontiguousarray(np.concatenate([mel, e] if o.htk_compat else [e, mel], axis=1))

    def _finish_torch(self, mel, raw_energy, window_energy):
        import torch

        o = self.opts
        if o.use_log_fbank:
            mel = torch.log(torch.clamp(mel, min=1.0 if self.mel_opts.htk_mode else FLOAT_EPS))
        if not o.use_energy:
            return mel
        energy = raw_energy if o.raw_energy else window_energy
        if self._log_energy_floor is not None:
            energy = torch.clamp(energy, min=self._log_energy_floor)
        e = energy[:, None]
        return torch.cat([mel, e] if o.htk_compat else [e, mel], dim=1)


def compute_mfcc(waveform: np.ndarray, opts: MfccOptions | None = None, sample_rate: float | None = None,
                 vtln_warp: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """MFCC of one waveform (16-bit sample scale), ``(num_frames, num_ceps)`` float32."""
    return Mfcc(opts or MfccOptions()).compute(waveform, sample_rate, vtln_warp, rng)


def compute_fbank(waveform: np.ndarray, opts: FbankOptions | None = None, sample_rate: float | None = None,
                  vtln_warp: float = 1.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Log mel filter-bank features of one waveform, ``(num_frames, dim)`` float32."""
    return Fbank(opts or FbankOptions()).compute(waveform, sample_rate, vtln_warp, rng)
