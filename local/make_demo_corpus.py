#!/usr/bin/env python3
"""Generates the embedded demo corpus (stage 0 of run.sh --corpus demo): a seeded synthetic multi-speaker
telephone-speech corpus at 8 kHz as Kaldi data dirs, with true phone alignments, trials, noise/music/speech
sources for augmentation and a dict dir. The layout is documented in phonsid/recipes/demo/corpus.py."""

from __future__ import annotations

import dataclasses
import sys
import time

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.recipes.demo import DEFAULT_SEED, DemoConfig, make_demo_corpus, small_config

USAGE = """Generates the synthetic demo corpus: data dirs demo_{asr,train,enroll,test,noise,music,speech} under
<data-root>, the dict dir <data-root>/local/dict_demo, and 8 kHz 16-bit wavs under <wav-dir>.
Usage: make_demo_corpus.py [options] <data-root> <wav-dir>
 e.g.: local/make_demo_corpus.py --config conf/demo.conf data data/local/demo_wav
Sizes come from --config (Kaldi option file) and the options below; --small replaces every size
(counts and durations) with a tiny preset for tests."""

_HELP = {
    "asr_speakers": "speakers of demo_asr (phonetic DNN training, with true alignments)",
    "asr_utts_per_speaker": "utterances per demo_asr speaker",
    "train_speakers": "speakers of demo_train (UBM, T matrix, x-vector, PLDA)",
    "train_utts_per_speaker": "utterances per demo_train speaker",
    "eval_speakers": "held-out speakers of demo_enroll / demo_test",
    "enroll_utts_per_speaker": "enrolment utterances per evaluation speaker",
    "test_utts_per_speaker": "test utterances per evaluation speaker",
    "noise_recordings": "recordings in demo_noise (noise types cycle)",
    "music_recordings": "recordings in demo_music",
    "speech_recordings": "recordings (one speaker each) in demo_speech, for babble",
    "channel_eq_db": "s.d. in dB of the per-session channel EQ bands",
    "snr_min": "lowest per-session channel SNR (dB)",
    "snr_max": "highest per-session channel SNR (dB)",
}


def _help(name: str) -> str:
    if name in _HELP:
        return _HELP[name]
    prefix, bound, _ = name.split("_", 2)
    return f"{'shortest' if bound == 'min' else 'longest'} {prefix} recording, seconds"


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("make_demo_corpus.py", USAGE)
    defaults = DemoConfig()
    for f in dataclasses.fields(DemoConfig):
        kind = int if f.type in (int, "int") else float
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind,
                            default=getattr(defaults, f.name), help=f"{_help(f.name)} (default: %(default)s)")
    parser.add_bool("--small", default=False, help="tiny sizes for tests (overrides every size option)")
    parser.add_bool("--sources-only", default=False, help="only the augmentation sources demo_noise, demo_music, "
                    "demo_speech (noise for a real corpus without MUSAN)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="corpus seed (default: %(default)s)")
    parser.add_argument("--nj", type=int, default=1, help="processes rendering audio; output is the same "
                        "for any value (default: %(default)s)")
    parser.add_argument("data_root", metavar="<data-root>")
    parser.add_argument("wav_dir", metavar="<wav-dir>")
    # a bare --small may sit right before the positional arguments: make it --small=true so that argparse does
    # not take <data-root> as its value
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args([a + "=true" if a in ("--small", "--sources-only") else a for a in argv])
    log = get_logger("make_demo_corpus.py")

    config = DemoConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(DemoConfig)})
    if args.small:
        config = small_config(config)
    if args.nj < 1:
        log.error(f"--nj={args.nj}: must be at least 1")
        return 1

    def progress(stream, total):
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            return stream
        return tqdm(stream, total=total, desc="make_demo_corpus", unit="rec", mininterval=5.0,
                    disable=total < 100, file=sys.stderr)

    start = time.time()
    try:
        summaries = make_demo_corpus(args.data_root, args.wav_dir, config, seed=args.seed, num_jobs=args.nj,
                                     progress=progress, sources_only=args.sources_only)
    except ValueError as e:
        log.error(str(e))
        return 1
    total = 0.0
    for s in summaries:
        log.info(f"{args.data_root}/{s.name}: {s.speakers} speakers, {s.recordings} recordings, "
                 f"{s.seconds / 60:.1f} min")
        total += s.seconds
    log.info(f"generated {sum(s.recordings for s in summaries)} recordings, {total / 3600:.2f} h of audio "
             f"(seed {args.seed}) in {time.time() - start:.1f} s"
             + ("" if args.sources_only else f"; dict dir {args.data_root}/local/dict_demo"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
