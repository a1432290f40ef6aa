#!/usr/bin/env python3
"""Kaldi's sid/nnet3/xvector/allocate_egs.py: which chunk of which utterance goes to which archive."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger, parse_bool
from phonsid.data import DataDirError, read_map
from phonsid.nnet.xvector_egs import EgsError, allocate_egs, drop_empty_archives, write_allocation

USAGE = """Decides which examples come from which utterances and go to which archive, as Kaldi's allocate_egs.py
(same options, same random draws for the same seed and lists). Writes <egs-dir>/temp/<prefix_>ranges.<job>,
<prefix_>outputs.<job>, <prefix_>archive_chunk_lengths and <egs-dir>/<prefix_>pdf2num. Each ranges line is
<utt> <relative-archive> <absolute-archive> <start-frame> <num-frames> <speaker-label>.

Usage: nnet-xvector-allocate-egs [options] --utt2len-filename=F --utt2int-filename=F --egs-dir=D
e.g.: nnet-xvector-allocate-egs --num-repeats=35 --min-frames-per-chunk=200 --max-frames-per-chunk=400 \\
        --frames-per-iter=1000000000 --num-archives=142 --num-jobs=8 \\
        --utt2len-filename=exp/egs/temp/utt2num_frames.train --utt2int-filename=exp/egs/temp/utt2int.train \\
        --egs-dir=exp/egs"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet-xvector-allocate-egs", USAGE)
    p.add_argument("--prefix", default="", help="Prefix of the output files (train_subset, valid)")
    p.add_argument("--num-repeats", type=int, default=10, help="Times each speaker repeats within an archive")
    p.add_argument("--min-frames-per-chunk", type=int, default=50, help="Shortest chunk length")
    p.add_argument("--max-frames-per-chunk", type=int, default=300, help="Longest chunk length")
    p.add_argument("--randomize-chunk-length", type=parse_bool, default=True, metavar="true|false",
                   help="Draw each archive's chunk length uniformly; false: geometric ladder from min to max")
    p.add_argument("--frames-per-iter", type=int, default=1000000, help="Target frames per archive")
    p.add_argument("--num-archives", type=int, default=-1, help="Number of archives to write")
    p.add_argument("--num-jobs", type=int, default=-1, help="Jobs writing them (<= num-archives)")
    p.add_argument("--seed", type=int, default=123, help="Seed of the random draws (default 123, as Kaldi)")
    p.add_argument("--num-pdfs", type=int, default=-1, help="Number of speakers (default: largest label + 1)")
    p.add_argument("--utt2len-filename", required=True, help="<utt> <num-frames> list")
    p.add_argument("--utt2int-filename", required=True, help="<utt> <speaker-label> list")
    p.add_argument("--egs-dir", required=True, help="The egs directory")
    args = p.parse_args(argv)
    log = get_logger("nnet-xvector-allocate-egs")
    try:
        utt2len = {u: int(v) for u, v in read_map(args.utt2len_filename).items()}
        utt2int_map = {u: int(v) for u, v in read_map(args.utt2int_filename).items()}
        # the file order fixes the speaker order and hence the draws (as Kaldi reads it line by line)
        utt2int = list(utt2int_map.items())
        num_jobs = args.num_jobs if args.num_jobs > 0 else 1
        if args.num_archives < 1:
            raise EgsError("--num-archives must be given (>= 1)")
        if num_jobs > args.num_archives:
            raise EgsError(f"--num-jobs={num_jobs} exceeds --num-archives={args.num_archives}")
        num_pdfs = args.num_pdfs if args.num_pdfs > 0 else max(utt2int_map.values()) + 1
        alloc = allocate_egs(utt2len, utt2int, num_archives=args.num_archives, num_repeats=args.num_repeats,
                             min_frames_per_chunk=args.min_frames_per_chunk,
                             max_frames_per_chunk=args.max_frames_per_chunk, frames_per_iter=args.frames_per_iter,
                             randomize_chunk_length=args.randomize_chunk_length, seed=args.seed, log=log.warning)
        if args.prefix:
            alloc = drop_empty_archives(alloc, args.prefix, log.warning)
            if not alloc.archives:
                log.warning(f"no {args.prefix} example could be allocated; no {args.prefix} archives")
                return 0
        for k, a in enumerate(alloc.archives):
            if not a.egs:
                raise EgsError(f"archive {k + 1} got no example (are all utterances shorter than "
                               f"{a.chunk_length} frames?)")
        num_jobs = min(num_jobs, len(alloc.archives))
        write_allocation(args.egs_dir, alloc, utt2int_map, num_jobs, num_pdfs, args.prefix)
    except (EgsError, DataDirError, OSError, ValueError) as e:
        log.error(str(e))
        return 1
    n = sum(len(a.egs) for a in alloc.archives)
    lengths = [a.chunk_length for a in alloc.archives]
    what = f"{args.prefix} " if args.prefix else ""
    log.info(f"allocated {n} {what}examples in {len(alloc.archives)} archives (chunks of {min(lengths)}-"
             f"{max(lengths)} frames, {n // len(alloc.archives)} per archive on average) for {num_jobs} job(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
