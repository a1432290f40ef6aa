#!/usr/bin/env python3
"""Makes an alignment dir for the bottleneck DNNs from per-frame phone alignments (phones as DNN targets)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger

USAGE = """Converts per-frame phone alignments (int vectors of the phone ids of <phones.txt>, e.g. the demo
corpus's true alignment data/demo_asr/phone_ali.txt, or an aligner's phone alignment) into an alignment dir for
steps/nnet/train_bnf.sh: <ali-dir>/pdf_ali.{ark,scp} with one target per frame (the position of the phone among the
real phones of <phones.txt>: <eps> and #n disambiguation symbols are left out), num_pdfs and targets.txt
(target-id phone). This is the --targets phones mode of train_bnf.sh: phones instead of senones.

Usage: nnet_bnf_phone_targets.py [options] <phone-ali-rspecifier> <phones.txt> <ali-dir>
e.g.: nnet_bnf_phone_targets.py ark,t:data/demo_asr/phone_ali.txt data/demo_asr/phones.txt exp/demo_phone_ali"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("nnet_bnf_phone_targets.py", USAGE)
    p.add_argument("phone_ali_rspecifier")
    p.add_argument("phones_txt")
    p.add_argument("ali_dir")
    args = p.parse_args(argv)
    log = get_logger("nnet_bnf_phone_targets.py")

    from phonsid.io import KaldiIOError, SpecifierError
    from phonsid.nnet.bnf_data import AlignmentDirError, phone_targets_to_alignment_dir

    try:
        n, k = phone_targets_to_alignment_dir(args.phone_ali_rspecifier, args.phones_txt, args.ali_dir)
    except (AlignmentDirError, KaldiIOError, SpecifierError, OSError, ValueError) as e:
        log.error(str(e))
        return 1
    log.info(f"wrote phone targets of {n} utterances ({k} phones) to {args.ali_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
