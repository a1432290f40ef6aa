#!/usr/bin/env python3
"""Features for x-vector egs: sliding CMN then voiced frames only (Kaldi's apply-cmvn-sliding | select-voiced-frames
| copy-feats in prepare_feats_for_egs.sh), in one process."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.io import KaldiIOError, RandomReader, SequentialReader, SpecifierError, TableWriter
from phonsid.nnet.xvector_data import XvectorDataError, cmn_and_select_voiced

USAGE = """Applies sliding-window cepstral mean normalisation and keeps the voiced frames (per the VAD table), as
Kaldi's apply-cmvn-sliding | select-voiced-frames | copy-feats. Utterances without a VAD entry, with a VAD of
another length, or with no voiced frame are skipped with a warning.

Usage: nnet-xvector-prepare-feats [options] <feats-rspecifier> <vad-rspecifier> <feats-wspecifier>
e.g.: nnet-xvector-prepare-feats --cmn-window=300 scp:data/train/feats.scp scp:data/train/vad.scp \\
        ark,scp:xvector_feats.1.ark,xvector_feats.1.scp"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet-xvector-prepare-feats", USAGE)
    p.add_argument("--cmn-window", type=int, default=300, help="Window of the sliding CMN in frames (default: 300)")
    p.add_bool("--center", True, "Centre the CMN window on the frame (Kaldi's --center)")
    p.add_bool("--norm-vars", False, "Also normalise variances")
    p.add_bool("--compress", True, "Write compressed matrices (Kaldi's copy-feats --compress)")
    p.add_argument("--write-num-frames", default="", metavar="WSPECIFIER",
                   help="Write the number of frames per utterance to this int table (e.g. ark,t:utt2num_frames)")
    p.add_argument("feats_rspecifier")
    p.add_argument("vad_rspecifier")
    p.add_argument("feats_wspecifier")
    args = p.parse_args(argv)
    log = get_logger("nnet-xvector-prepare-feats")
    done = failed = 0
    frames_in = frames_out = 0
    try:
        with SequentialReader(args.feats_rspecifier) as feats_reader, \
                RandomReader(args.vad_rspecifier, "vector") as vad_reader, \
                TableWriter(args.feats_wspecifier, "matrix", compress=args.compress) as writer:
            num_writer = TableWriter(args.write_num_frames, "int") if args.write_num_frames else None
            try:
                for utt, feats in feats_reader:
                    if utt not in vad_reader:
                        log.warning(f"no VAD for utterance {utt}; skipping it")
                        failed += 1
                        continue
                    try:
                        out = cmn_and_select_voiced(feats, vad_reader[utt], cmn_window=args.cmn_window,
                                                    center=args.center, norm_vars=args.norm_vars, utt=utt)
                    except XvectorDataError as e:
                        log.warning(f"{e}; skipping it")
                        failed += 1
                        continue
                    frames_in += feats.shape[0]
                    if out.shape[0] == 0:
                        log.warning(f"utterance {utt} has no voiced frame; skipping it")
                        failed += 1
                        continue
                    writer.write(utt, out)
                    if num_writer is not None:
                        num_writer.write(utt, int(out.shape[0]))
                    frames_out += out.shape[0]
                    done += 1
            except BaseException as e:
                if num_writer is not None:
                    num_writer.abort(e)
                raise
            if num_writer is not None:
                num_writer.close()
    except (KaldiIOError, SpecifierError, OSError, ValueError) as e:
        log.error(str(e))
        return 1
    kept = 100.0 * frames_out / frames_in if frames_in else 0.0
    log.info(f"kept {frames_out} of {frames_in} frames ({kept:.1f}%) as voiced")
    log.info(f"Done {done} utterances, failed for {failed}")
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
