#!/usr/bin/env python3
"""Kaldi's nnet3-xvector-compute: x-vectors of utterances (chunked, edge-padded, length-weighted average)."""

from __future__ import annotations

import sys
import time

import torch

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.io import KaldiIOError, RandomReader, SequentialReader, SpecifierError, TableWriter
from phonsid.nnet.training import select_device
from phonsid.nnet.xvector_data import XvectorDataError, cmn_and_select_voiced
from phonsid.nnet.xvector_extract import FeatureDimError, XvectorExtractionError, load_extractor

USAGE = """Propagates features through an x-vector network and writes one vector per utterance: the embedding
layer's affine output (before its ReLU), averaged over chunks of --chunk-size frames weighted by their length;
a chunk shorter than --min-chunk-size is padded by repeating its edge frames (--pad-input). With --cmn-window
and --vad-rspecifier the recipe's feature transform (sliding CMN, voiced frames only) is applied first, as the
apply-cmvn-sliding | select-voiced-frames pipe of Kaldi's extract_xvectors.sh.

Usage: nnet-xvector-compute [options] <nnet-in> <features-rspecifier> <vector-wspecifier>
 <nnet-in> is a final.pt or the experiment dir holding it.
e.g.: nnet-xvector-compute --chunk-size=10000 --min-chunk-size=25 --cmn-window=300 \\
        --vad-rspecifier=scp:data/test/vad.scp exp/xvector scp:data/test/feats.scp ark,scp:xvector.1.ark,xvector.1.scp"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet-xvector-compute", USAGE)
    p.add_argument("--chunk-size", type=int, default=-1, help="Frames per chunk; -1: the whole utterance")
    p.add_argument("--min-chunk-size", type=int, default=100, help="Shortest chunk (padded up to it) (default 100)")
    p.add_bool("--pad-input", True, "Pad chunks shorter than --min-chunk-size by repeating edge frames; if false "
               "they are skipped")
    p.add_argument("--use-gpu", default="no", help="yes|no|optional (default no)")
    p.add_argument("--num-threads", type=int, default=1, help="CPU threads of this process (default 1: run.pl "
                   "runs --nj of these in parallel, as Kaldi's single-threaded binary)")
    p.add_argument("--cmn-window", type=int, default=0, help="Sliding CMN window applied first (0: none)")
    p.add_argument("--vad-rspecifier", default="", help="Keep only voiced frames per this VAD table")
    p.add_argument("nnet_in")
    p.add_argument("features_rspecifier")
    p.add_argument("vector_wspecifier")
    args = p.parse_args(argv)
    log = get_logger("nnet-xvector-compute")
    start = time.perf_counter()
    done = failed = frames = 0
    if args.num_threads > 0:
        torch.set_num_threads(args.num_threads)
    try:
        device = select_device(args.use_gpu)
        extractor = load_extractor(args.nnet_in, device=str(device), chunk_size=args.chunk_size,
                                   min_chunk_size=args.min_chunk_size, pad_input=args.pad_input,
                                   cmn_window=args.cmn_window)
        vad = RandomReader(args.vad_rspecifier, "vector") if args.vad_rspecifier else None
        try:
            with SequentialReader(args.features_rspecifier) as reader, \
                    TableWriter(args.vector_wspecifier, "vector") as writer:
                for utt, feats in reader:
                    if feats.shape[0] == 0:
                        log.warning(f"Zero-length utterance: {utt}")
                        failed += 1
                        continue
                    if vad is not None and utt not in vad:
                        log.warning(f"no VAD for utterance {utt}; skipping it")
                        failed += 1
                        continue
                    try:
                        prepared = cmn_and_select_voiced(feats, vad[utt] if vad is not None else None,
                                                         cmn_window=args.cmn_window, utt=utt)
                        if prepared.shape[0] == 0:
                            raise XvectorExtractionError(f"utterance {utt}: no voiced frame")
                        xvec = extractor.embed_prepared(prepared, utt)
                    except FeatureDimError:
                        raise
                    except (XvectorExtractionError, XvectorDataError) as e:
                        log.warning(str(e))
                        failed += 1
                        continue
                    writer.write(utt, xvec)
                    frames += feats.shape[0]
                    done += 1
        finally:
            if vad is not None:
                vad.close()
    except (XvectorExtractionError, KaldiIOError, SpecifierError, OSError, ValueError, RuntimeError) as e:
        log.error(str(e))
        return 1
    elapsed = time.perf_counter() - start
    if frames:
        log.info(f"Time taken {elapsed:.2f}s: real-time factor assuming 100 frames/sec of input is "
                 f"{elapsed * 100.0 / frames:.4g} ({frames / 100.0 / elapsed:.1f}x real time) on {extractor.device}")
    log.info(f"Done {done} utterances, failed for {failed}")
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
