"""kaldi-native-fbank as the reference implementation of Kaldi's MFCC/fbank (one utterance at a time).

Same interface as ``phonsid.features.compute.Mfcc``/``Fbank`` (``compute``, ``compute_batch``, ``dim``,
``num_frames``), so the pipeline and the CLIs can switch engines (``--engine=knf``). All options are copied
explicitly from our dataclasses, dither included (kaldi-native-fbank's own default dither is not Kaldi's).
kaldi-native-fbank draws its own dither noise and has no VTLN warp argument in its Python API.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from phonsid.features.compute import FeatureComputeError
from phonsid.features.mel import num_frames
from phonsid.features.options import (
    FbankOptions,
    FeatureOptionError,
    FrameExtractionOptions,
    MelBanksOptions,
    MfccOptions,
)


def _frame_opts(dst, src: FrameExtractionOptions) -> None:
    dst.samp_freq = float(src.samp_freq)
    dst.frame_shift_ms = float(src.frame_shift_ms)
    dst.frame_length_ms = float(src.frame_length_ms)
    dst.dither = float(src.dither)
    dst.preemph_coeff = float(src.preemph_coeff)
    dst.remove_dc_offset = bool(src.remove_dc_offset)
    dst.window_type = str(src.window_type)
    dst.round_to_power_of_two = bool(src.round_to_power_of_two)
    dst.blackman_coeff = float(src.blackman_coeff)
    dst.snip_edges = bool(src.snip_edges)


def _mel_opts(dst, src: MelBanksOptions) -> None:
    dst.num_bins = int(src.num_bins)
    dst.low_freq = float(src.low_freq)
    dst.high_freq = float(src.high_freq)
    dst.vtln_low = float(src.vtln_low)
    dst.vtln_high = float(src.vtln_high)
    dst.debug_mel = bool(src.debug_mel)
    dst.htk_mode = bool(src.htk_mode)
    if hasattr(dst, "is_librosa"):
        dst.is_librosa = False


def knf_mfcc_options(opts: MfccOptions):
    """``kaldi_native_fbank.MfccOptions`` equal to ``opts``."""
    import kaldi_native_fbank as knf

    k = knf.MfccOptions()
    _frame_opts(k.frame_opts, opts.frame_opts)
    _mel_opts(k.mel_opts, opts.mel_opts)
    k.num_ceps = int(opts.num_ceps)
    k.use_energy = bool(opts.use_energy)
    k.energy_floor = float(opts.energy_floor)
    k.raw_energy = bool(opts.raw_energy)
    k.cepstral_lifter = float(opts.cepstral_lifter)
    k.htk_compat = bool(opts.htk_compat)
    return k


def knf_fbank_options(opts: FbankOptions):
    """``kaldi_native_fbank.FbankOptions`` equal to ``opts``."""
    import kaldi_native_fbank as knf

    k = knf.FbankOptions()
    _frame_opts(k.frame_opts, opts.frame_opts)
    _mel_opts(k.mel_opts, opts.mel_opts)
    k.use_energy = bool(opts.use_energy)
    k.energy_floor = float(opts.energy_floor)
    k.raw_energy = bool(opts.raw_energy)
    k.htk_compat = bool(opts.htk_compat)
    k.use_log_fbank = bool(opts.use_log_fbank)
    k.use_power = bool(opts.use_power)
    return k


class _KnfComputer:
    def __init__(self, opts, kind: str) -> None:
        import kaldi_native_fbank as knf

        opts.frame_opts.check()
        self.opts = opts
        self.frame_opts = opts.frame_opts
        if kind == "mfcc":
            self._knf_opts, self._cls = knf_mfcc_options(opts), knf.OnlineMfcc
        else:
            self._knf_opts, self._cls = knf_fbank_options(opts), knf.OnlineFbank
        self._dim = opts.dim()

    def dim(self) -> int:
        return self._dim

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.frame_opts)

    def compute(self, waveform: np.ndarray, sample_rate: float | None = None, vtln_warp: float = 1.0,
                rng=None) -> np.ndarray:
        if vtln_warp != 1.0:
            raise FeatureOptionError("the kaldi-native-fbank engine has no VTLN warping; use the numpy engine")
        if sample_rate is not None and float(sample_rate) != float(self.frame_opts.samp_freq):
            raise FeatureComputeError(
                f"sample frequency mismatch: the options say {self.frame_opts.samp_freq:g} Hz but the data has "
                f"{float(sample_rate):g} Hz (use --sample-frequency)")
        x = np.ascontiguousarray(waveform, dtype=np.float32)
        if x.ndim != 1:
            raise FeatureComputeError(f"expected a 1-D waveform, got shape {x.shape}")
        if x.size and not np.isfinite(x).all():
            raise FeatureComputeError(f"{int(np.count_nonzero(~np.isfinite(x)))} NaN/inf sample(s) in the waveform")
        if self.num_frames(x.shape[0]) == 0:
            return np.zeros((0, self._dim), dtype=np.float32)
        comp = self._cls(self._knf_opts)
        try:
            comp.accept_waveform(float(self.frame_opts.samp_freq), x)
            comp.input_finished()
            n = comp.num_frames_ready
            out = np.empty((n, self._dim), dtype=np.float32)
            for t in range(n):
                out[t] = comp.get_frame(t)
        except RuntimeError as e:  # e.g. "mel energy is nan" (samples so large that the energies overflow)
            raise FeatureComputeError(f"kaldi-native-fbank: {e}") from None
        return out

    def compute_batch(self, waveforms: Sequence[np.ndarray], sample_rate: float | None = None,
                      vtln_warp: float = 1.0, rngs=None) -> list[np.ndarray]:
        return [self.compute(x, sample_rate, vtln_warp) for x in waveforms]


class KnfMfcc(_KnfComputer):
    """MFCC through kaldi-native-fbank."""

    def __init__(self, opts: MfccOptions) -> None:
        super().__init__(opts, "mfcc")


class KnfFbank(_KnfComputer):
    """Filter-bank features through kaldi-native-fbank."""

    def __init__(self, opts: FbankOptions) -> None:
        super().__init__(opts, "fbank")
