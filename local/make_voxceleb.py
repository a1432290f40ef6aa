#!/usr/bin/env python3
"""Prepares the VoxCeleb recipe's data dirs: <prefix>_train (VoxCeleb2 dev by default), <prefix>_enroll and
<prefix>_test with the Vox1-O/E/H trials, and <prefix>_asr from LibriSpeech (see phonsid.recipes.voxceleb)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError
from phonsid.recipes.sre import add_corpora_options, corpora_values
from phonsid.recipes.voxceleb import TRAIN_PARTS, VOX1_LISTS, prepare_voxceleb

USAGE = """Creates, under <data-root>: <prefix>_train (speaker training: --train-parts), <prefix>_enroll (the
left-hand utterances of the trial lists, each its own model), <prefix>_test (the right-hand utterances, with
trials = Vox1-O and trials_vox1_o, trials_vox1_e, trials_vox1_h for the lists found) and <prefix>_asr (LibriSpeech
with transcripts, for the ASR DNNs). Corpus locations come from <corpora-conf> ('key=path' lines): voxceleb1,
voxceleb2, librispeech, and optionally vox1_o, vox1_e, vox1_h (trial list files), vox1_meta, vox2_meta, ffmpeg;
the same-named options override the file (an empty <corpora-conf> file means options only).
Vox1-E/H are drawn from all of VoxCeleb1: with vox1_dev among the training parts they are left out.

Usage: local/make_voxceleb.py [options] <corpora-conf> <data-root>
 e.g.: local/make_voxceleb.py conf/voxceleb/corpora.conf data
       local/make_voxceleb.py --train-parts=vox2_dev,vox2_test,vox1_dev conf/voxceleb/corpora.conf data"""

KEYS = ("voxceleb1", "voxceleb2", "librispeech", "vox1_o", "vox1_e", "vox1_h", "vox1_meta", "vox2_meta", "ffmpeg")


def _csv(text: str | None) -> list[str] | None:
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("make_voxceleb.py", USAGE)
    p.add_argument("--prefix", default="vox", help="names the sets <prefix>_train, _enroll, _test, _asr (vox)")
    add_corpora_options(p, KEYS)
    p.add_argument("--train-parts", default="vox2_dev",
                   help=f"comma-separated speaker-training parts among {','.join(TRAIN_PARTS)} (vox2_dev)")
    p.add_argument("--trial-lists", default=None,
                   help=f"comma-separated lists among {','.join(VOX1_LISTS)} (default: every list found, less "
                        f"vox1_e and vox1_h when vox1_dev is trained on)")
    p.add_argument("--librispeech-parts", default=None,
                   help="comma-separated LibriSpeech parts (default: the training parts present)")
    p.add_bool("--speaker-per-chapter", default=False,
               help="LibriSpeech speaker = reader-chapter, as Kaldi's recipe (else the reader)")
    p.add_bool("--flac-pipe", default=False, help="LibriSpeech audio as 'flac -c -d -s file |' (for real Kaldi)")
    p.add_bool("--make-asr", default=True, help="write <prefix>_asr from LibriSpeech")
    p.add_argument("--sampling-rate", type=int, default=16000,
                   help="rate of the data (Hz); other than 16000 adds phonsid's resampler to the audio entries")
    p.add_argument("conf", metavar="<corpora-conf>")
    p.add_argument("data_root", metavar="<data-root>")
    args = p.parse_args(argv)
    log = get_logger("make_voxceleb.py")
    try:
        val = {k: None for k in KEYS} | corpora_values(args.conf, args, KEYS)
        if not val["voxceleb1"]:
            raise DataDirError("'voxceleb1' is not set (in the corpora file or as --voxceleb1)")
        prepare_voxceleb(
            args.data_root, voxceleb1=val["voxceleb1"], voxceleb2=val["voxceleb2"], librispeech=val["librispeech"],
            train_parts=_csv(args.train_parts) or [], trial_lists=_csv(args.trial_lists),
            list_paths={k: val[k] for k in VOX1_LISTS}, vox1_meta=val["vox1_meta"], vox2_meta=val["vox2_meta"],
            librispeech_parts=_csv(args.librispeech_parts), speaker_per_chapter=args.speaker_per_chapter,
            flac_pipe=args.flac_pipe, make_asr=args.make_asr, ffmpeg=val["ffmpeg"] or "ffmpeg",
            prefix=args.prefix, sample_rate=args.sampling_rate, log=log)
    except (DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
