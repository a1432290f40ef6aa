#!/usr/bin/env python3
"""Trains a bottleneck DNN (DNN-1, DNN-2 or the multi-task DNN-2) on frames from nnet_bnf_prepare.py; one process,
or one per GPU under torchrun."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Trains the bottleneck DNN described by --bnf-config on the frames of <egs-dir>: frames shuffled across
utterances, exponential learning-rate decay, per-epoch validation frame accuracy (and speaker accuracy for the
multi-task network) in the log and <dnn-dir>/log/train.csv, a checkpoint every epoch. Rerunning resumes from the
newest checkpoint. Writes <dnn-dir>/final.pt, config.yaml, num_pdfs, feat_dim, bottleneck_dim, valid_accuracy.
For several GPUs (or CPU processes with gloo) run it under torchrun:
  torchrun --standalone --nproc_per_node=4 pyscripts/nnet_bnf_train.py ... <egs-dir> <dnn-dir>

Usage: nnet_bnf_train.py [options] <egs-dir> <dnn-dir>
e.g.: nnet_bnf_train.py --bnf-config=conf/bnf1.yaml --use-gpu=yes --amp exp/bnf1/egs exp/bnf1"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet_bnf_train.py", USAGE)
    p.add_argument("--bnf-config", default="", metavar="YAML",
                   help="The config the frames were prepared with (conf/bnf1.yaml, ...)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="Override one config key (repeatable), e.g. --set train.num_epochs=2")
    p.add_argument("--use-gpu", default="auto", help="yes|no|auto (default auto: a GPU when there is one)")
    p.add_bool("--amp", False, "Automatic mixed precision on GPU")
    p.add_argument("--amp-dtype", default="auto", help="auto|bfloat16|float16 (auto: bfloat16 where supported)")
    p.add_bool("--resume", True, "Resume from the newest checkpoint in <dnn-dir>/checkpoints")
    p.add_argument("--num-threads", type=int, default=1,
                   help="CPU threads per process for the network (default: 1; more only on an otherwise idle "
                        "machine: spinning OpenMP threads slow down badly when the cores are shared)")
    p.add_argument("egs_dir")
    p.add_argument("dnn_dir")
    args = p.parse_args(argv)
    log = get_logger("nnet_bnf_train.py")

    import torch

    from phonsid.nnet.bnf import load_bnf_config
    from phonsid.nnet.frames import FrameSetError
    from phonsid.nnet.train_bnf import train_bnf
    from phonsid.nnet.training import NonFiniteLossError, TrainingInterrupted

    try:
        torch.set_num_threads(max(1, args.num_threads))
        cfg = load_bnf_config(args.bnf_config or None, args.set)
        train_bnf(args.egs_dir, args.dnn_dir, cfg, use_gpu=args.use_gpu, amp=args.amp,
                  amp_dtype_name=args.amp_dtype, resume=args.resume, log=log.info, warn=log.warning)
    except TrainingInterrupted as e:
        log.error(str(e))
        return 130
    except (NonFiniteLossError, FrameSetError, ValueError, RuntimeError, OSError) as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
