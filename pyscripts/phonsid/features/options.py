"""Option structs of Kaldi's front end, with Kaldi's defaults and option names.

The dataclasses mirror ``FrameExtractionOptions``, ``MelBanksOptions``, ``MfccOptions``, ``FbankOptions``
(``feat/feature-window.h``, ``feat/mel-computations.h``, ``feat/feature-mfcc.h``, ``feat/feature-fbank.h``)
and ``VadEnergyOptions`` (``ivector/voice-activity-detection.h``). Field names follow Kaldi's C++ members;
the command-line names (``--sample-frequency``, ``--num-mel-bins``, ...) are Kaldi's registered names, so
Kaldi option files (``conf/mfcc.conf``) are read unchanged by the CLIs through ``add_*_options`` /
``*_from_args``.

Dither: Kaldi's default is 1.0 (Gaussian noise of standard deviation 1 in 16-bit sample units);
kaldi-native-fbank's default is different (3e-5), so every path here sets it explicitly from these structs.
"""

from __future__ import annotations

import argparse
import dataclasses

_WINDOW_TYPES = ("hamming", "hanning", "povey", "rectangular", "sine", "blackman")


class FeatureOptionError(ValueError):
    """Options Kaldi would reject (bad frequencies, too many mel bins, unknown window type...)."""


@dataclasses.dataclass
class FrameExtractionOptions:
    samp_freq: float = 16000.0
    frame_shift_ms: float = 10.0
    frame_length_ms: float = 25.0
    dither: float = 1.0
    preemph_coeff: float = 0.97
    remove_dc_offset: bool = True
    window_type: str = "povey"
    round_to_power_of_two: bool = True
    blackman_coeff: float = 0.42
    snip_edges: bool = True
    allow_downsample: bool = False
    allow_upsample: bool = False
    max_feature_vectors: int = -1

    def window_shift(self) -> int:
        """Frame shift in samples (truncated, as Kaldi's ``WindowShift()``)."""
        return int(self.samp_freq * 0.001 * self.frame_shift_ms)

    def window_size(self) -> int:
        """Frame length in samples (truncated, as Kaldi's ``WindowSize()``)."""
        return int(self.samp_freq * 0.001 * self.frame_length_ms)

    def padded_window_size(self) -> int:
        """FFT size: the frame length rounded up to a power of two (or the frame length itself)."""
        n = self.window_size()
        return 1 << (n - 1).bit_length() if self.round_to_power_of_two else n

    def check(self) -> None:
        if self.window_size() < 2 or self.window_shift() < 1:
            raise FeatureOptionError(
                f"frame length {self.frame_length_ms} ms / shift {self.frame_shift_ms} ms give "
                f"{self.window_size()} / {self.window_shift()} samples at {self.samp_freq} Hz")
        if self.window_type not in _WINDOW_TYPES:
            raise FeatureOptionError(f"invalid window type '{self.window_type}' (one of {', '.join(_WINDOW_TYPES)})")
        if not 0.0 <= self.preemph_coeff <= 1.0:
            raise FeatureOptionError(f"--preemphasis-coefficient must be in [0, 1], got {self.preemph_coeff}")
        if self.padded_window_size() % 2:
            raise FeatureOptionError(f"the FFT size {self.padded_window_size()} must be even "
                                     "(use --round-to-power-of-two=true or an even frame length)")
        if self.dither < 0:
            raise FeatureOptionError(f"--dither must be >= 0, got {self.dither}")


@dataclasses.dataclass
class MelBanksOptions:
    num_bins: int = 25
    low_freq: float = 20.0
    high_freq: float = 0.0  # <= 0: offset from the Nyquist frequency
    vtln_low: float = 100.0
    vtln_high: float = -500.0  # < 0: offset from the Nyquist frequency
    debug_mel: bool = False
    htk_mode: bool = False


@dataclasses.dataclass
class MfccOptions:
    frame_opts: FrameExtractionOptions = dataclasses.field(default_factory=FrameExtractionOptions)
    mel_opts: MelBanksOptions = dataclasses.field(default_factory=lambda: MelBanksOptions(num_bins=23))
    num_ceps: int = 13
    use_energy: bool = True
    energy_floor: float = 0.0
    raw_energy: bool = True
    cepstral_lifter: float = 22.0
    htk_compat: bool = False

    def dim(self) -> int:
        return self.num_ceps


@dataclasses.dataclass
class FbankOptions:
    frame_opts: FrameExtractionOptions = dataclasses.field(default_factory=FrameExtractionOptions)
    mel_opts: MelBanksOptions = dataclasses.field(default_factory=lambda: MelBanksOptions(num_bins=23))
    use_energy: bool = False
    energy_floor: float = 0.0
    raw_energy: bool = True
    htk_compat: bool = False
    use_log_fbank: bool = True
    use_power: bool = True

    def dim(self) -> int:
        return self.mel_opts.num_bins + (1 if self.use_energy else 0)


@dataclasses.dataclass
class VadEnergyOptions:
    vad_energy_threshold: float = 5.0
    vad_energy_mean_scale: float = 0.5
    vad_frames_context: int = 0
    vad_proportion_threshold: float = 0.6

    def check(self) -> None:
        if self.vad_frames_context < 0:
            raise FeatureOptionError(f"--vad-frames-context must be >= 0, got {self.vad_frames_context}")
        if not 0.0 < self.vad_proportion_threshold < 1.0:
            raise FeatureOptionError(
                f"--vad-proportion-threshold must be in (0, 1), got {self.vad_proportion_threshold}")
        if self.vad_energy_mean_scale < 0.0:
            raise FeatureOptionError(f"--vad-energy-mean-scale must be >= 0, got {self.vad_energy_mean_scale}")


# ----------------------------------------------------------------------------------------------------------
# command-line registration (Kaldi names)


def add_frame_options(p: argparse.ArgumentParser) -> None:
    d = FrameExtractionOptions()
    p.add_argument("--sample-frequency", type=float, default=d.samp_freq,
                   help="waveform sample frequency in Hz; must match the data (default: %(default)s)")
    p.add_argument("--frame-shift", type=float, default=d.frame_shift_ms,
                   help="frame shift in ms (default: %(default)s)")
    p.add_argument("--frame-length", type=float, default=d.frame_length_ms,
                   help="frame length in ms (default: %(default)s)")
    p.add_argument("--dither", type=float, default=d.dither,
                   help="dithering constant, 0 = none; Kaldi's default 1.0 (default: %(default)s)")
    p.add_argument("--preemphasis-coefficient", type=float, default=d.preemph_coeff,
                   help="pre-emphasis coefficient (default: %(default)s)")
    p.add_bool("--remove-dc-offset", d.remove_dc_offset, "subtract the mean of each frame before the FFT")
    p.add_argument("--window-type", default=d.window_type, choices=_WINDOW_TYPES,
                   help="window: hamming, hanning, povey, rectangular, sine, blackman (default: %(default)s)")
    p.add_bool("--round-to-power-of-two", d.round_to_power_of_two, "round the FFT size up to a power of two")
    p.add_argument("--blackman-coeff", type=float, default=d.blackman_coeff,
                   help="constant of the generalised Blackman window (default: %(default)s)")
    p.add_bool("--snip-edges", d.snip_edges,
               "only frames that fit completely in the signal; false: reflect at the edges, frames = round(N/shift)")
    p.add_bool("--allow-downsample", d.allow_downsample,
               "if the data's rate is higher than --sample-frequency, downsample it (else it is an error)")
    p.add_bool("--allow-upsample", d.allow_upsample,
               "if the data's rate is lower than --sample-frequency, upsample it (else it is an error)")
    p.add_argument("--max-feature-vectors", type=int, default=d.max_feature_vectors,
                   help="online-decoding memory limit in Kaldi; accepted and ignored offline (default: %(default)s)")


def add_mel_options(p: argparse.ArgumentParser, num_bins: int) -> None:
    d = MelBanksOptions(num_bins=num_bins)
    p.add_argument("--num-mel-bins", type=int, default=d.num_bins,
                   help="number of triangular mel bins (default: %(default)s)")
    p.add_argument("--low-freq", type=float, default=d.low_freq,
                   help="low cutoff of the mel bins in Hz (default: %(default)s)")
    p.add_argument("--high-freq", type=float, default=d.high_freq,
                   help="high cutoff in Hz; <= 0 means an offset from the Nyquist frequency (default: %(default)s)")
    p.add_argument("--vtln-low", type=float, default=d.vtln_low,
                   help="low inflection point of VTLN warping (default: %(default)s)")
    p.add_argument("--vtln-high", type=float, default=d.vtln_high,
                   help="high inflection point of VTLN warping; < 0: offset from Nyquist (default: %(default)s)")
    p.add_bool("--debug-mel", d.debug_mel, "print the mel bins (log)")
    p.add_bool("--htk-mode", d.htk_mode, "HTK-compatible mel bins (first weight zeroed, energies floored at 1)")


def add_mfcc_options(p: argparse.ArgumentParser) -> None:
    add_frame_options(p)
    add_mel_options(p, 23)
    d = MfccOptions()
    p.add_argument("--num-ceps", type=int, default=d.num_ceps,
                   help="number of cepstra, including C0 / energy (default: %(default)s)")
    p.add_bool("--use-energy", d.use_energy, "use the frame log-energy instead of C0")
    p.add_argument("--energy-floor", type=float, default=d.energy_floor,
                   help="floor on the energy (absolute, not relative); 0 = none (default: %(default)s)")
    p.add_bool("--raw-energy", d.raw_energy, "energy before pre-emphasis and windowing")
    p.add_argument("--cepstral-lifter", type=float, default=d.cepstral_lifter,
                   help="cepstral liftering constant, 0 = none (default: %(default)s)")
    p.add_bool("--htk-compat", d.htk_compat, "HTK order: energy or C0 last (C0 scaled by sqrt(2) without energy)")


def add_fbank_options(p: argparse.ArgumentParser) -> None:
    add_frame_options(p)
    add_mel_options(p, 23)
    d = FbankOptions()
    p.add_bool("--use-energy", d.use_energy, "add an extra dimension with the log energy")
    p.add_argument("--energy-floor", type=float, default=d.energy_floor,
                   help="floor on the energy (absolute, not relative); 0 = none (default: %(default)s)")
    p.add_bool("--raw-energy", d.raw_energy, "energy before pre-emphasis and windowing")
    p.add_bool("--htk-compat", d.htk_compat, "put the energy last (HTK order)")
    p.add_bool("--use-log-fbank", d.use_log_fbank, "log of the filter-bank energies")
    p.add_bool("--use-power", d.use_power, "power spectrum (true) or magnitude (false)")


def add_vad_options(p: argparse.ArgumentParser) -> None:
    d = VadEnergyOptions()
    p.add_argument("--vad-energy-threshold", type=float, default=d.vad_energy_threshold,
                   help="constant term of the log-energy threshold (default: %(default)s)")
    p.add_argument("--vad-energy-mean-scale", type=float, default=d.vad_energy_mean_scale,
                   help="plus this times the utterance's mean log-energy (default: %(default)s)")
    p.add_argument("--vad-frames-context", type=int, default=d.vad_frames_context,
                   help="frames of context on each side for the vote (default: %(default)s)")
    p.add_argument("--vad-proportion-threshold", type=float, default=d.vad_proportion_threshold,
                   help="proportion of the context window that must be above threshold (default: %(default)s)")


def frame_options_from_args(a: argparse.Namespace) -> FrameExtractionOptions:
    opts = FrameExtractionOptions(
        samp_freq=a.sample_frequency, frame_shift_ms=a.frame_shift, frame_length_ms=a.frame_length,
        dither=a.dither, preemph_coeff=a.preemphasis_coefficient, remove_dc_offset=a.remove_dc_offset,
        window_type=a.window_type, round_to_power_of_two=a.round_to_power_of_two, blackman_coeff=a.blackman_coeff,
        snip_edges=a.snip_edges, allow_downsample=a.allow_downsample, allow_upsample=a.allow_upsample,
        max_feature_vectors=a.max_feature_vectors)
    opts.check()
    return opts


def mel_options_from_args(a: argparse.Namespace) -> MelBanksOptions:
    return MelBanksOptions(num_bins=a.num_mel_bins, low_freq=a.low_freq, high_freq=a.high_freq, vtln_low=a.vtln_low,
                           vtln_high=a.vtln_high, debug_mel=a.debug_mel, htk_mode=a.htk_mode)


def mfcc_options_from_args(a: argparse.Namespace) -> MfccOptions:
    return MfccOptions(frame_opts=frame_options_from_args(a), mel_opts=mel_options_from_args(a), num_ceps=a.num_ceps,
                       use_energy=a.use_energy, energy_floor=a.energy_floor, raw_energy=a.raw_energy,
                       cepstral_lifter=a.cepstral_lifter, htk_compat=a.htk_compat)


def fbank_options_from_args(a: argparse.Namespace) -> FbankOptions:
    return FbankOptions(frame_opts=frame_options_from_args(a), mel_opts=mel_options_from_args(a),
                        use_energy=a.use_energy, energy_floor=a.energy_floor, raw_energy=a.raw_energy,
                        htk_compat=a.htk_compat, use_log_fbank=a.use_log_fbank, use_power=a.use_power)


def vad_options_from_args(a: argparse.Namespace) -> VadEnergyOptions:
    opts = VadEnergyOptions(vad_energy_threshold=a.vad_energy_threshold, vad_energy_mean_scale=a.vad_energy_mean_scale,
                            vad_frames_context=a.vad_frames_context,
                            vad_proportion_threshold=a.vad_proportion_threshold)
    opts.check()
    return opts


# ----------------------------------------------------------------------------------------------------------
# option files


def _parse_config(path: str, add, convert, extra: list[str] | None = None):
    from phonsid.cli import KaldiOptionParser

    parser = KaldiOptionParser("config", "")
    add(parser)
    return convert(parser.parse_args([f"--config={path}", *(extra or [])]))


def read_mfcc_config(path: str, extra: list[str] | None = None) -> MfccOptions:
    """``MfccOptions`` from a Kaldi option file (e.g. conf/mfcc.conf), then ``extra`` options."""
    return _parse_config(path, add_mfcc_options, mfcc_options_from_args, extra)


def read_fbank_config(path: str, extra: list[str] | None = None) -> FbankOptions:
    """``FbankOptions`` from a Kaldi option file, then ``extra`` options."""
    return _parse_config(path, add_fbank_options, fbank_options_from_args, extra)


def read_vad_config(path: str, extra: list[str] | None = None) -> VadEnergyOptions:
    """``VadEnergyOptions`` from a Kaldi option file (e.g. conf/vad.conf), then ``extra`` options."""
    return _parse_config(path, add_vad_options, vad_options_from_args, extra)
