#!/usr/bin/env python3
"""Reverberates a data dir with RIRs (and optionally isotropic / point-source noises), as Kaldi's
steps/data/reverberate_data_dir.py; the new wav.scp pipes run pyscripts/wav_reverberate.py lazily."""

from __future__ import annotations

import sys

from phonsid.augment.datadir import add_value_bool, reverberate_data_dir
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError

USAGE = """Reverberates the data directory with an option to add isotropic and point-source noises.
Usage: reverberate_data_dir.py [options...] <in-data-dir> <out-data-dir>
e.g. steps/data/reverberate_data_dir.py --rir-set-parameters "0.5, RIRS_NOISES/simulated_rirs/smallroom/rir_list" \\
       --rir-set-parameters "0.5, RIRS_NOISES/simulated_rirs/mediumroom/rir_list" --speech-rvb-probability 1 \\
       --num-replications 1 --source-sampling-rate 8000 --utt-suffix reverb data/train data/train_reverb
RIR list lines: --rir-id <id> --room-id <id> [--receiver-position-id ..] [--source-position-id ..] [--rt60 ..]
[--drr ..] [--probability ..] <location>; noise list lines: --noise-id <id> --noise-type isotropic|point-source
[--bg-fg-type background|foreground] [--room-linkage <room-id>] [--probability ..] <location>."""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("reverberate_data_dir.py", USAGE)
    p.add_argument("--rir-set-parameters", action="append", required=True, default=None,
                   help="'<probability>, <rir_list>' or '<rir_list>' (repeatable); unspecified probabilities "
                        "share what is left of 1")
    p.add_argument("--noise-set-parameters", action="append", default=None,
                   help="'<probability>, <noise_list>' or '<noise_list>' (repeatable)")
    p.add_argument("--num-replications", type=int, default=1, help="Copies of the data to make (default: 1)")
    p.add_argument("--foreground-snrs", default="20:10:0", help="SNRs (dB) of foreground noises, cycled")
    p.add_argument("--background-snrs", default="20:10:0", help="SNRs (dB) of background noises, cycled")
    p.add_argument("--prefix", default=None,
                   help="Prefix <prefix><copy>- of the new utterance and speaker ids (Kaldi's; set to 'rvb' "
                        "automatically with several copies)")
    p.add_argument("--utt-suffix", default=None,
                   help="Suffix -<suffix> of the new utterance and recording ids, speakers unchanged "
                        "(what Kaldi recipes then do with utils/copy_data_dir.sh --utt-suffix)")
    p.add_argument("--speech-rvb-probability", type=float, default=1.0,
                   help="Probability of reverberating a recording (default: 1)")
    p.add_argument("--pointsource-noise-addition-probability", type=float, default=1.0,
                   help="Probability of adding point-source noises (default: 1)")
    p.add_argument("--isotropic-noise-addition-probability", type=float, default=1.0,
                   help="Probability of adding an isotropic noise (default: 1)")
    p.add_argument("--rir-smoothing-weight", type=float, default=0.3,
                   help="Weight of the uniform distribution mixed into the RIR probabilities (default: 0.3)")
    p.add_argument("--noise-smoothing-weight", type=float, default=0.3,
                   help="Weight of the uniform distribution mixed into the noise probabilities (default: 0.3)")
    p.add_argument("--max-noises-per-minute", type=int, default=2,
                   help="Maximum number of point-source noises per minute of recording (default: 2)")
    p.add_argument("--random-seed", type=int, default=0, help="Random seed (default: 0)")
    add_value_bool(p, "--shift-output", True, "Shift the reverberated output by the RIR peak (wav-reverberate)")
    p.add_argument("--source-sampling-rate", type=int, default=None,
                   help="Resample RIRs and noises to this rate (Hz) in the pipes (the rate of the data)")
    add_value_bool(p, "--include-original-data", False, "Also keep one clean copy of the data (id prefix <prefix>0-)")
    p.add_argument("input_dir", metavar="<in-data-dir>")
    p.add_argument("output_dir", metavar="<out-data-dir>")
    args = p.parse_args(argv)
    log = get_logger("reverberate_data_dir.py")
    try:
        n = reverberate_data_dir(
            args.input_dir, args.output_dir, rir_set_parameters=args.rir_set_parameters,
            noise_set_parameters=args.noise_set_parameters or (), num_replications=args.num_replications,
            foreground_snrs=args.foreground_snrs, background_snrs=args.background_snrs, prefix=args.prefix,
            speech_rvb_probability=args.speech_rvb_probability,
            pointsource_noise_addition_probability=args.pointsource_noise_addition_probability,
            isotropic_noise_addition_probability=args.isotropic_noise_addition_probability,
            rir_smoothing_weight=args.rir_smoothing_weight, noise_smoothing_weight=args.noise_smoothing_weight,
            max_noises_per_minute=args.max_noises_per_minute, random_seed=args.random_seed,
            shift_output=args.shift_output, source_sampling_rate=args.source_sampling_rate,
            include_original_data=args.include_original_data, utt_suffix=args.utt_suffix, log=log)
    except (DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    log.info(f"wrote {n} reverberated recordings to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
