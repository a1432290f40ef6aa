#!/usr/bin/env python3
"""Prepares the memory-mapped training and validation frames of a bottleneck DNN."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Normalises the features of <data-dir> (feats.scp; utt2spk) as the config's input section says
(sliding CMN for DNN-1, per-speaker mean/variance normalisation for DNN-2), pairs every frame with its target from
<ali-dir> (num_pdfs + pdf_ali.scp, pdf_ali.*.ark or ali.*.ark), holds out the validation speakers and utterances
(data section) and writes memory-mapped frame arrays to <egs-dir> for nnet_bnf_train.py.

Usage: nnet_bnf_prepare.py [options] <data-dir> <ali-dir> <egs-dir>
e.g.: nnet_bnf_prepare.py --bnf-config=conf/bnf1.yaml data/train_hires exp/tri3_ali exp/bnf1/egs"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet_bnf_prepare.py", USAGE)
    p.add_argument("--bnf-config", default="", metavar="YAML",
                   help="Network, input and schedule (conf/bnf1.yaml, conf/sbnf.yaml, conf/mt_sbnf.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="Override one config key (repeatable), e.g. --set data.valid_speakers=2")
    p.add_argument("data_dir")
    p.add_argument("ali_dir")
    p.add_argument("egs_dir")
    args = p.parse_args(argv)
    log = get_logger("nnet_bnf_prepare.py")

    from pathlib import Path

    from phonsid.data import DataDirError
    from phonsid.io import KaldiIOError, SpecifierError
    from phonsid.nnet.bnf import load_bnf_config
    from phonsid.nnet.bnf_data import prepare_bnf_egs

    data = Path(args.data_dir)
    for name in ("feats.scp", "utt2spk"):
        if not (data / name).is_file():
            log.error(f"{data / name} does not exist")
            return 1
    try:
        cfg = load_bnf_config(args.bnf_config or None, args.set)
        prepare_bnf_egs(f"scp:{data / 'feats.scp'}", data / "utt2spk", args.ali_dir, args.egs_dir, cfg,
                        log=log.info, warn=log.warning)
    except (DataDirError, KaldiIOError, SpecifierError, OSError, ValueError) as e:
        log.error(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
