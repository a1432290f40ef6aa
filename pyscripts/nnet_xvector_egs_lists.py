#!/usr/bin/env python3
"""Stage 0 of sid/nnet/get_egs.sh: held-out validation and train-subset lists, speaker labels, archive count."""

from __future__ import annotations

import sys
from pathlib import Path

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.data import DataDirError, read_map
from phonsid.io import KaldiIOError, SequentialReader, SpecifierError
from phonsid.nnet.xvector_egs import EgsError, split_heldout, write_egs_lists

USAGE = """Splits a data dir's utterances for x-vector egs as Kaldi's get_egs.sh: --num-heldout-utts random
utterances for validation (no training examples from them), a train-subset of the same size from the rest for
diagnostics, speaker labels in spk2utt order, and the number of training archives
(num_train_frames * num_repeats / frames_per_iter + 1). Writes <egs-dir>/temp/{utt2num_frames,utt2int}.{train,
valid,train_subset}, valid_uttlist, train_subset_uttlist, spk2int and <egs-dir>/info/*.

Usage: nnet-xvector-egs-lists [options] <data-dir> <egs-dir>
e.g.: nnet-xvector-egs-lists --num-repeats=35 --frames-per-iter=1000000000 data/train_no_sil exp/xvector/egs"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet-xvector-egs-lists", USAGE)
    p.add_argument("--num-heldout-utts", type=int, default=100, help="Utterances held out for validation, and "
                   "size of the train-subset (default 100)")
    p.add_argument("--num-repeats", type=int, default=1, help="Times each speaker repeats per archive (default 1)")
    p.add_argument("--frames-per-iter", type=int, default=100000, help="Target frames per archive (default 100000)")
    p.add_argument("--num-diagnostic-archives", type=int, default=3, help="Diagnostic archives (default 3)")
    p.add_argument("--min-frames-per-chunk", type=int, default=50, help="Shortest chunk (for info/right_context)")
    p.add_argument("--seed", type=int, default=0, help="Seed of the held-out draws (default 0)")
    p.add_argument("data_dir")
    p.add_argument("egs_dir")
    args = p.parse_args(argv)
    log = get_logger("nnet-xvector-egs-lists")
    data, egs = Path(args.data_dir), Path(args.egs_dir)
    try:
        for name in ("utt2num_frames", "utt2spk", "feats.scp"):
            if not (data / name).is_file():
                raise EgsError(f"{data}/{name} does not exist")
        utt2num_frames = {u: int(v) for u, v in read_map(data / "utt2num_frames").items()}
        utt2spk = read_map(data / "utt2spk")
        lists = split_heldout(utt2num_frames, utt2spk, args.num_heldout_utts, args.seed)
        feat_dim = None
        with SequentialReader(f"scp:{data / 'feats.scp'}") as reader:
            for utt, mat in reader:
                feat_dim = int(mat.shape[1])
                break
        if feat_dim is None:
            raise EgsError(f"{data}/feats.scp is empty")
        num_archives = write_egs_lists(egs, lists, feat_dim, num_repeats=args.num_repeats,
                                       frames_per_iter=args.frames_per_iter,
                                       num_diagnostic_archives=args.num_diagnostic_archives,
                                       min_frames_per_chunk=args.min_frames_per_chunk)
        num_frames = lists.frames(lists.train)
    except (EgsError, DataDirError, KaldiIOError, SpecifierError, OSError, ValueError) as e:
        log.error(str(e))
        return 1
    log.info(f"{len(lists.train)} training utterances ({num_frames} frames), {len(lists.valid)} held out for "
             f"validation, {len(lists.train_subset)} in the train-subset; {lists.num_pdfs} speakers, "
             f"{feat_dim}-dim features; {num_archives} training archives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
