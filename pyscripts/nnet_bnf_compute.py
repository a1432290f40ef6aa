#!/usr/bin/env python3
"""Runs a trained bottleneck DNN over a feature table: bottleneck features, senone log-posteriors or posteriors."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Computes, for every utterance of <feats-rspecifier>, the bottleneck features (--output=bottleneck,
as Kaldi's nnet3-compute of the bottleneck node), the natural-log senone posteriors (--output=log-posteriors) or the
posteriors (--output=posteriors) of the DNN in <dnn-dir> (or a model file), one row per input frame. The input is
normalised as at training; a model trained with per-speaker normalisation (DNN-2) needs --utt2spk (statistics over
all of each speaker's utterances in <feats-rspecifier>) or --per-utt. With --vad-rspecifier only the voiced frames'
rows are computed and written (as select-voiced-frames on the output; the context of each frame is unchanged).

Usage: nnet_bnf_compute.py [options] <dnn-dir|model> <feats-rspecifier> <wspecifier>
e.g.: nnet_bnf_compute.py --compress=true exp/bnf1 scp:data/train_hires/feats.scp ark,scp:bnf.ark,bnf.scp
      nnet_bnf_compute.py --utt2spk=ark:data/train_bnf/utt2spk exp/sbnf scp:data/train_bnf/feats.scp ark:-
      nnet_bnf_compute.py --output=log-posteriors --vad-rspecifier=scp:data/train/vad.scp exp/bnf1 \
        scp:data/train_hires/feats.scp ark:- | logprob_to_post.py --min-post=0.025 ark:- ark:post.ark"""


def _read_utt2spk(spec: str):
    from phonsid.data import read_map

    path = spec
    if ":" in spec and spec.split(":", 1)[0].replace(",", "").isalpha():
        kinds, path = spec.split(":", 1)
        if not set(kinds.split(",")) <= {"ark", "t", "s", "cs", "o", "p", "b"}:
            raise ValueError(f"--utt2spk={spec}: expected a text table (ark:file or a path)")
    return read_map(path)


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet_bnf_compute.py", USAGE)
    p.add_argument("--output", default="bottleneck", choices=["bottleneck", "log-posteriors", "posteriors"],
                   help="What to write (default: bottleneck)")
    p.add_argument("--utt2spk", default="", help="utt2spk table (ark:file or file): speaker of each utterance, "
                   "for models that normalise their input per speaker")
    p.add_bool("--per-utt", False, "Per-speaker normalisation with each utterance as its own speaker")
    p.add_bool("--compress", False, "Write compressed matrices (as copy-feats --compress)")
    p.add_argument("--use-gpu", default="no", help="yes|no|auto (default no)")
    p.add_argument("--batch-frames", type=int, default=20000, help="Frames per network call (default: 20000)")
    p.add_argument("--write-num-frames", default="", metavar="WSPECIFIER",
                   help="Also write the number of frames of each utterance (e.g. ark,t:utt2num_frames)")
    p.add_argument("--vad-rspecifier", default="", help="VAD table (e.g. scp:data/train/vad.scp): output only the "
                   "voiced frames; utterances without VAD or voiced frames are skipped")
    p.add_argument("--num-threads", type=int, default=1, help="CPU threads for the network (default: 1)")
    p.add_argument("model")
    p.add_argument("feats_rspecifier")
    p.add_argument("wspecifier")
    args = p.parse_args(argv)
    log = get_logger("nnet_bnf_compute.py")

    import torch

    from phonsid.data import DataDirError
    from phonsid.io import KaldiIOError, SpecifierError
    from phonsid.nnet.extract_bnf import extract_table
    from phonsid.nnet.training import select_device

    try:
        torch.set_num_threads(max(1, args.num_threads))
        device = select_device(args.use_gpu)
        utt2spk = _read_utt2spk(args.utt2spk) if args.utt2spk else None
        st = extract_table(args.model, args.feats_rspecifier, args.wspecifier, output=args.output, utt2spk=utt2spk,
                           per_utt=args.per_utt, compress=args.compress, device=device,
                           batch_frames=args.batch_frames, num_frames_wspecifier=args.write_num_frames,
                           vad_rspecifier=args.vad_rspecifier,
                           log=log.info, warn=log.warning)
    except (DataDirError, KaldiIOError, SpecifierError, OSError, ValueError, RuntimeError) as e:
        log.error(str(e))
        return 1
    return 0 if st.num_done else 1


if __name__ == "__main__":
    sys.exit(main())
