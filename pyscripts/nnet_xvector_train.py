#!/usr/bin/env python3
"""Trains the x-vector TDNN on egs from sid/nnet/get_egs.sh (Kaldi's train_raw_dnn.py schedule); one process, or
one per GPU under torchrun."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.nnet.train_xvector import load_xvector_config, train_xvector
from phonsid.nnet.training import NonFiniteLossError, TrainingInterrupted
from phonsid.nnet.xvector_egs import EgsError

USAGE = """Trains the x-vector network of Snyder et al. (2018) (Kaldi run_xvector_1a.sh shape) on the egs of
<egs-dir>, with the schedule of Kaldi's train_raw_dnn.py: num_epochs passes over the archives, exponential
learning-rate decay, momentum, per-layer and global max-change, proportional shrink. The network and schedule
come from --xvector-config (YAML with sections model/train/extract); --set overrides single keys.
Writes <nnet-dir>/final.pt, config.yaml, diagnostics.csv, min_chunk_size, max_chunk_size and checkpoints/;
rerunning resumes from the newest checkpoint. For several GPUs run it under torchrun:
  torchrun --standalone --nproc_per_node=4 pyscripts/nnet_xvector_train.py ... <egs-dir> <nnet-dir>

Usage: nnet-xvector-train [options] <egs-dir> <nnet-dir>
e.g.: nnet-xvector-train --xvector-config=conf/xvector.yaml --set train.num_epochs=1 exp/xvector/egs exp/xvector"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet-xvector-train", USAGE)
    p.add_argument("--xvector-config", default="", metavar="YAML", help="Network and schedule (conf/xvector.yaml); "
                   "Kaldi run_xvector_1a.sh values when not given")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="Override one config key (repeatable), e.g. --set train.num_epochs=1")
    p.add_argument("--use-gpu", default="auto", help="yes|no|auto (default auto: a GPU when there is one)")
    p.add_bool("--amp", False, "Automatic mixed precision on GPU")
    p.add_argument("--amp-dtype", default="auto", help="auto|bfloat16|float16 (auto: bfloat16 where supported)")
    p.add_bool("--resume", True, "Resume from the newest checkpoint in <nnet-dir>/checkpoints")
    p.add_argument("egs_dir")
    p.add_argument("nnet_dir")
    args = p.parse_args(argv)
    log = get_logger("nnet-xvector-train")
    try:
        config = load_xvector_config(args.xvector_config or None, args.set)
        train_xvector(args.egs_dir, args.nnet_dir, config, use_gpu=args.use_gpu, amp=args.amp,
                      amp_dtype=args.amp_dtype, resume=args.resume, log=log.info, warn=log.warning)
    except TrainingInterrupted as e:
        log.error(str(e))
        return 130
    except (NonFiniteLossError, EgsError, ValueError, RuntimeError, OSError) as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
