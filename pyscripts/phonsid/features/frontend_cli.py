"""Shared command-line plumbing of ``compute_mfcc_feats.py`` and ``compute_fbank_feats.py``.

Besides Kaldi's options (``--channel``, ``--min-duration``, ``--subtract-mean``, ``--vtln-warp``,
``--vtln-map``, ``--utt2spk``, ``--write-utt2dur``, ``--output-format=kaldi``), the tools take phonsid
extensions that let one process do what Kaldi's ``make_mfcc.sh`` pipes through several:

``--segments`` (cut recordings in process), ``--compress`` and ``--write-num-frames`` (as ``copy-feats``),
``--write-vad`` with ``--vad-config`` / ``--vad-*`` (energy VAD from the same features, as ``compute-vad``),
``--max-failed-fraction``, ``--dither-seed``, ``--engine`` (numpy | knf | torch), ``--device`` (torch),
``--kaldi-rounding`` (auto | all | off) and ``--batch-frames``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from phonsid.cli import read_option_file
from phonsid.features.options import add_vad_options, vad_options_from_args
from phonsid.features.pipeline import DEFAULT_BATCH_FRAMES


def expand_vad_config(argv: Sequence[str] | None) -> list[str]:
    """Replaces ``--vad-config=FILE`` by the options in FILE (placed first, so the command line wins)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    head: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        name = a.split("=", 1)[0].replace("_", "-")
        if name == "--vad-config":
            if "=" in a:
                path = a.split("=", 1)[1]
            elif i + 1 < len(argv):
                i += 1
                path = argv[i]
            else:
                raise SystemExit("ERROR: --vad-config needs a file name")
            opts = read_option_file(path) if path else []
            bad = [o for o in opts if not o.replace("_", "-").startswith("--vad-")]
            if bad:
                raise SystemExit(f"ERROR: {path}: only --vad-* options belong in a VAD config, got {bad[0]}")
            head.extend(opts)
        else:
            rest.append(a)
        i += 1
    return head + rest


def add_pipeline_options(p) -> None:
    """Kaldi's per-utterance options of compute-{mfcc,fbank}-feats plus the phonsid extensions."""
    p.add_argument("--output-format", default="kaldi", choices=["kaldi"],
                   help="format of the output files (kaldi; HTK output is not supported)")
    p.add_bool("--subtract-mean", False, "subtract the mean of each feature file [CMS]; not recommended")
    p.add_argument("--vtln-warp", type=float, default=1.0, help="VTLN warp factor (unless --vtln-map) (default: 1.0)")
    p.add_argument("--vtln-map", default="", help="rspecifier: utterance or speaker id -> VTLN warp factor")
    p.add_argument("--utt2spk", default="", help="utterance -> speaker map (rspecifier), with --vtln-map by speaker")
    p.add_argument("--channel", type=int, default=-1, help="channel to extract (-1: expect mono, 0: left, 1: right)")
    p.add_argument("--min-duration", type=float, default=0.0,
                   help="minimum duration of segments to process, in seconds (default: 0)")
    p.add_argument("--write-utt2dur", default="", help="wspecifier for the duration of each utterance in seconds")
    # phonsid extensions
    p.add_argument("--segments", default="", help="segments file: cut the recordings of the scp wav table")
    p.add_bool("--compress", False, "write compressed matrices (as copy-feats --compress)")
    p.add_argument("--write-num-frames", default="", help="wspecifier for the number of frames of each utterance")
    p.add_argument("--write-vad", default="", help="also write energy-VAD decisions (vector wspecifier)")
    p.add_argument("--vad-config", default="", help="option file with --vad-* options (for --write-vad)")
    add_vad_options(p)
    p.add_argument("--max-failed-fraction", type=float, default=0.1,
                   help="fail (writing nothing) if more than this fraction of utterances fail (default: 0.1)")
    p.add_argument("--dither-seed", type=int, default=0,
                   help="seed of the dither noise, combined with each utterance id (default: 0)")
    p.add_argument("--engine", default="numpy", choices=["numpy", "knf", "torch"],
                   help="numpy: vectorised (default); knf: kaldi-native-fbank reference; torch: torch.fft")
    p.add_argument("--device", default="cpu", help="torch device for --engine=torch (default: cpu)")
    p.add_argument("--kaldi-rounding", default="auto", choices=["auto", "all", "off"],
                   help="reproduce Kaldi's float32 FFT rounding on ill-conditioned frames (auto), all, or none")
    p.add_argument("--batch-frames", type=int, default=DEFAULT_BATCH_FRAMES,
                   help="frames computed per batch (default: %(default)s)")


class _TorchEngine:
    """``compute_batch`` through ``compute_batch_torch`` on a device, returning numpy arrays."""

    def __init__(self, computer, device: str) -> None:
        self.inner = computer
        self.frame_opts = computer.frame_opts
        self.device = device

    def num_frames(self, n: int) -> int:
        return self.inner.num_frames(n)

    def dim(self) -> int:
        return self.inner.dim()

    def compute_batch(self, waves, sample_rate=None, vtln_warp=1.0, rngs=None):
        return [t.cpu().numpy() for t in self.inner.compute_batch_torch(waves, sample_rate, vtln_warp, self.device)]


def make_engine(kind: str, opts, args: argparse.Namespace):
    """The feature computer for ``--engine``: ``kind`` is "mfcc" or "fbank"."""
    from phonsid.features.compute import Fbank, Mfcc
    from phonsid.features.knf import KnfFbank, KnfMfcc

    if args.engine == "knf":
        return (KnfMfcc if kind == "mfcc" else KnfFbank)(opts)
    computer = (Mfcc if kind == "mfcc" else Fbank)(opts, kaldi_rounding=args.kaldi_rounding)
    if args.engine == "torch":
        return _TorchEngine(computer, args.device)
    return computer


def _warp_lookup(args: argparse.Namespace, logger):
    if not args.vtln_map:
        if args.utt2spk:
            raise SystemExit("ERROR: the --utt2spk option is only needed with --vtln-map")
        return args.vtln_warp
    from phonsid.data import read_map
    from phonsid.io.table import RandomReader, parse_rspecifier

    warps = RandomReader(args.vtln_map, "float")
    utt2spk = read_map(parse_rspecifier(args.utt2spk).path) if args.utt2spk else None

    def lookup(utt: str):
        key = utt2spk.get(utt, utt) if utt2spk is not None else utt
        if key not in warps:
            logger.warning(f"no vtln-map entry for utterance-id (or speaker-id) {key}")
            return None
        return float(warps[key])

    return lookup


def run_feature_cli(kind: str, opts, args: argparse.Namespace, logger) -> int:
    """Runs the pipeline for compute-{mfcc,fbank}-feats and logs Kaldi-style summaries; the exit status."""
    from phonsid.features.compute import FeatureComputeError
    from phonsid.features.pipeline import FeatureFailure, compute_feature_table, iter_wav_rspecifier
    from phonsid.io.table import SpecifierError
    from phonsid.io.xfilename import KaldiIOError

    if args.write_vad and opts.__class__.__name__ == "FbankOptions" and not opts.use_energy:
        logger.warning("--write-vad reads the log energy from column 0, but --use-energy=false: "
                       "column 0 is the first mel bin")
    try:
        computer = make_engine(kind, opts, args)
        vad_opts = vad_options_from_args(args) if args.write_vad else None
        stats = compute_feature_table(
            iter_wav_rspecifier(args.wav_rspecifier, args.segments or None), computer, args.feats_wspecifier,
            vad_opts=vad_opts, vad_wspecifier=args.write_vad or None,
            num_frames_wspecifier=args.write_num_frames or None, utt2dur_wspecifier=args.write_utt2dur or None,
            compress=args.compress, channel=args.channel, min_duration=args.min_duration,
            subtract_mean=args.subtract_mean, vtln_warp=_warp_lookup(args, logger), dither_seed=args.dither_seed,
            max_failed_fraction=args.max_failed_fraction, batch_frames=args.batch_frames, logger=logger)
    except FeatureFailure as e:
        logger.error(f"{e}; no output written")
        return 1
    except (FeatureComputeError, ValueError, SpecifierError, KaldiIOError, OSError) as e:
        logger.error(str(e))
        return 1
    rounding = getattr(computer, "num_rounding_frames", 0)
    logger.info(f"Done {stats.num_done} out of {stats.num_utts} utterances; {stats.num_failed} failed, "
                f"{stats.num_skipped} skipped as too short; {stats.num_frames} frames, {stats.seconds:.1f} s of audio"
                + (f"; {rounding} frames with Kaldi's FFT rounding" if rounding else ""))
    if args.write_vad:
        proportion = stats.num_voiced / stats.num_frames if stats.num_frames else 0.0
        logger.info(f"Proportion of voiced frames was {proportion:.4g} over {stats.num_frames} frames; "
                    f"{stats.num_unvoiced_utts} utterances were completely unvoiced")
    return 0 if stats.num_done or not stats.num_utts else 1


def is_table_specifier(spec: str, write: bool) -> bool:
    """Whether ``spec`` is an rspecifier/wspecifier (``ark:``, ``scp:``, ``ark,scp:``) rather than a file name."""
    from phonsid.io.table import SpecifierError, parse_rspecifier, parse_wspecifier

    if ":" not in spec.split(" ", 1)[0]:
        return False
    head = spec.split(":", 1)[0]
    if not {o.strip() for o in head.split(",")} & {"ark", "scp"}:
        return False
    try:
        (parse_wspecifier if write else parse_rspecifier)(spec)
    except SpecifierError:
        return False
    return True
