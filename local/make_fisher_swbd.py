#!/usr/bin/env python3
"""Prepares the SRE10 recipe's ASR data: Fisher English + Switchboard-1 with transcripts as <prefix>_asr, and the
Switchboard-1 part alone as <prefix>_asr2 (see phonsid.recipes.fisher_swbd)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError
from phonsid.recipes.fisher_swbd import prepare_fisher_swbd
from phonsid.recipes.sre import add_corpora_options, corpora_values, sph2pipe_program

USAGE = """Creates <data-root>/<prefix>_asr (Fisher English + Switchboard-1, a segment per transcribed turn, text,
8 kHz audio through sph2pipe) and <data-root>/<prefix>_asr2 (its Switchboard-1 utterances, for DNN-2).
Corpus locations come from <corpora-conf> ('key=path' lines): swbd1 (LDC97S62 audio), swbd1_transcripts
(swb_ms98_transcriptions), fisher_audio (LDC2004S13,LDC2005S13: comma-separated), fisher_transcripts
(LDC2004T19,LDC2005T19), optionally sph2pipe (the program; 'none' reads uncompressed SPHERE with phonsid, but
Switchboard-1 is shorten-compressed and needs sph2pipe); the same-named options override the file (an empty
<corpora-conf> file means options only).

Usage: local/make_fisher_swbd.py [options] <corpora-conf> <data-root>
 e.g.: local/make_fisher_swbd.py conf/sre10/corpora.conf data
       local/make_fisher_swbd.py --use-fisher=false --swbd1 /export/LDC97S62 \\
         --swbd1-transcripts /export/swb_ms98_transcriptions empty.conf data"""

KEYS = ("swbd1", "swbd1_transcripts", "fisher_audio", "fisher_transcripts", "sph2pipe")


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("make_fisher_swbd.py", USAGE)
    p.add_argument("--prefix", default="sre10", help="names the sets <prefix>_asr and <prefix>_asr2 (sre10)")
    add_corpora_options(p, KEYS)
    p.add_bool("--use-fisher", default=True, help="include Fisher English in <prefix>_asr")
    p.add_argument("--sampling-rate", type=int, default=8000,
                   help="rate of the data (Hz); other than 8000 adds phonsid's resampler to the audio pipes")
    p.add_argument("conf", metavar="<corpora-conf>")
    p.add_argument("data_root", metavar="<data-root>")
    args = p.parse_args(argv)
    log = get_logger("make_fisher_swbd.py")
    try:
        val = {k: None for k in KEYS} | corpora_values(args.conf, args, KEYS)
        sph2pipe = sph2pipe_program(val)
        prepare_fisher_swbd(args.data_root, swbd1=val["swbd1"], swbd1_transcripts=val["swbd1_transcripts"],
                            fisher_audio=val["fisher_audio"], fisher_transcripts=val["fisher_transcripts"],
                            prefix=args.prefix, sph2pipe=sph2pipe,
                            use_fisher=args.use_fisher, sample_rate=args.sampling_rate, log=log)
    except (DataDirError, OSError) as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
