#!/usr/bin/env python3
"""ivector-mean: the global mean of a table of vectors, or per-speaker means (with utterance counts)."""

from __future__ import annotations

import math
import sys

import numpy as np

from phonsid.backend.checks import examples
from phonsid.backend.tables import read_vectors, write_vectors
from phonsid.backend.vectors import global_mean, speaker_means
from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import read_token_lists

USAGE = """With 3 or 4 arguments, averages iVectors over all the utterances of each speaker using the spk2utt
file. Input the spk2utt file and a set of iVectors indexed by utterance; output is iVectors indexed by speaker.
If 4 arguments are given, extra argument is a table for the number of utterances per speaker (can be useful
for PLDA). If 2 arguments are given, computes the mean of all input files and writes out the mean vector.

Usage: ivector-mean <spk2utt-rspecifier> <ivector-rspecifier> <ivector-wspecifier> [<num-utt-wspecifier>]
 or:   ivector-mean <ivector-rspecifier> <mean-wxfilename>
e.g.: ivector-mean ark:data/spk2utt exp/ivectors.ark ark:exp/spk_ivectors.ark ark,t:exp/spk_num_utts.ark
 or:  ivector-mean ark:exp/ivectors.ark exp/mean.vec
See also: ivector-subtract-global-mean"""


def main(argv: list[str] | None = None) -> int:
    parser = KaldiOptionParser("ivector-mean", USAGE)
    parser.add_bool("--binary", False, "If true, write output in binary (only applicable when writing files, "
                    "not archives/tables)")
    parser.add_argument("args", nargs="*")
    args = parser.parse_args(argv)
    if not 2 <= len(args.args) <= 4:
        parser.print_help(sys.stderr)
        return 1
    log = get_logger("ivector-mean")
    try:
        if len(args.args) == 2:
            keys, mat = read_vectors(args.args[0], "iVector")
            from phonsid.io import write_kaldi_vector

            write_kaldi_vector(args.args[1], global_mean(mat), binary=args.binary, double=True)
            log.info(f"Computed the mean of {len(keys)} iVectors")
            return 0
        spk2utt_rs, ivec_rs, out_ws = args.args[:3]
        num_utts_ws = args.args[3] if len(args.args) == 4 else None
        spk2utt = read_token_lists(spk2utt_rs)
        empty = [s for s, u in spk2utt.items() if not u]
        if empty:
            log.error(f"{spk2utt_rs}: {len(empty)} speakers with no utterances (e.g. {examples(empty)})")
            return 1
        keys, mat = read_vectors(ivec_rs, "iVector")
        res = speaker_means(spk2utt, keys, mat)
        if res.missing_utts:
            log.warning(f"No iVector present in input for {len(res.missing_utts)} utterances "
                        f"(e.g. {examples(res.missing_utts)})")
        if res.empty_speakers:
            log.warning(f"Not producing output for {len(res.empty_speakers)} speakers since no utterances had "
                        f"iVectors (e.g. {examples(res.empty_speakers)})")
        write_vectors(out_ws, res.speakers, res.means)
        if num_utts_ws:
            from phonsid.io import TableWriter

            with TableWriter(num_utts_ws, "int") as w:
                for spk, n in zip(res.speakers, res.num_utts.tolist()):
                    w.write(spk, int(n))
        num_utt = int(res.num_utts.sum())
        log.info(f"Computed mean of {len(res.speakers)} speakers ({len(res.empty_speakers)} with no utterances), "
                 f"consisting of {num_utt} utterances ({len(res.missing_utts)} absent from input).")
        if res.speakers:
            m = res.means.astype(np.float64)
            spk_mean = m.mean(axis=0)
            rms = math.sqrt(float((m * m).sum(axis=1).mean())) / math.sqrt(m.shape[1])
            log.info(f"Norm of mean of speakers is {np.linalg.norm(spk_mean):g}, root-mean-square speaker-iVector "
                     f"length divided by sqrt(dim) is {rms:g}")
        return 0 if res.speakers else 1
    except (ValueError, OSError) as e:
        log.error(str(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
