#!/usr/bin/env python3
"""Augments a data dir with additive noise (foreground and/or background), as Kaldi's
steps/data/augment_data_dir.py; the new wav.scp pipes run pyscripts/wav_reverberate.py lazily.
With --copy-vad-only, gives the utterances of an augmented dir the vad.scp entries of their clean originals."""

from __future__ import annotations

import sys

from phonsid.augment.datadir import add_value_bool, augment_data_dir, copy_vad_from_clean
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError

USAGE = """Augments the data directory with additive noises. Background noises are added to the entire recording,
repeated as needed to cover it; several can overlap (babble). Foreground noises are added one after another,
--fg-interval seconds apart. SNRs are against the power of the recording.
Usage: augment_data_dir.py [options...] <in-data-dir> <out-data-dir>
e.g. steps/data/augment_data_dir.py --utt-suffix noise --fg-interval 1 --fg-snrs 15:10:5:0 \\
       --fg-noise-dir data/musan_noise data/train data/train_noise
     steps/data/augment_data_dir.py --utt-suffix babble --bg-snrs 20:17:15:13 --num-bg-noises 3:4:5:6:7 \\
       --bg-noise-dir data/musan_speech data/train data/train_babble
     steps/data/augment_data_dir.py --copy-vad-only data/train data/train_aug_sub
       (writes data/train_aug_sub/vad.scp from data/train/vad.scp through data/train_aug_sub/utt2uniq)"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("augment_data_dir.py", USAGE)
    p.add_argument("--fg-snrs", default="20:10:0", help="SNRs (dB) of foreground noises, drawn at random")
    p.add_argument("--bg-snrs", default="20:10:0", help="SNRs (dB) of background noises, drawn at random")
    p.add_argument("--num-bg-noises", default="1",
                   help="Numbers of overlapping background noises, one drawn per recording (e.g. 3:4:5:6:7)")
    p.add_argument("--fg-interval", type=float, default=0,
                   help="Seconds between the end of one foreground noise and the start of the next (default: 0)")
    p.add_argument("--utt-suffix", default=None, help="Suffix -<suffix> added to utterance and recording ids")
    p.add_argument("--utt-prefix", default=None, help="Prefix <prefix>- added to utterance and recording ids")
    p.add_argument("--random-seed", type=int, default=123, help="Random seed (default: 123)")
    add_value_bool(p, "--modify-spk-id", False, "Add the prefix/suffix to speaker ids too (ASR use)")
    p.add_argument("--bg-noise-dir", default=None, help="Background noise data dir (wav.scp, reco2dur)")
    p.add_argument("--fg-noise-dir", default=None, help="Foreground noise data dir (wav.scp, reco2dur)")
    p.add_argument("--source-sampling-rate", type=int, default=None,
                   help="Resample the noises to this rate (Hz) in the pipes (not in Kaldi's script)")
    p.add_bool("--copy-vad-only", False,
               "Do no augmentation: write <out-data-dir>/vad.scp from the clean <in-data-dir>/vad.scp "
               "through <out-data-dir>/utt2uniq")
    p.add_argument("input_dir", metavar="<in-data-dir>")
    p.add_argument("output_dir", metavar="<out-data-dir>")
    args = p.parse_args(argv)
    log = get_logger("augment_data_dir.py")
    try:
        if args.copy_vad_only:
            n = copy_vad_from_clean([args.input_dir], args.output_dir, log=log)
            log.info(f"wrote {n} vad.scp entries to {args.output_dir}/vad.scp from {args.input_dir}/vad.scp")
            return 0
        n = augment_data_dir(
            args.input_dir, args.output_dir, fg_noise_dir=args.fg_noise_dir, bg_noise_dir=args.bg_noise_dir,
            fg_snrs=args.fg_snrs, bg_snrs=args.bg_snrs, num_bg_noises=args.num_bg_noises,
            fg_interval=args.fg_interval, utt_suffix=args.utt_suffix, utt_prefix=args.utt_prefix,
            random_seed=args.random_seed, modify_spk_id=args.modify_spk_id,
            source_sampling_rate=args.source_sampling_rate, log=log)
    except (DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    log.info(f"wrote {n} augmented recordings to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
