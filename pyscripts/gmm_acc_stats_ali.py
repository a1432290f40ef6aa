#!/usr/bin/env python3
"""gmm-acc-stats-ali: Viterbi statistics for GMM and transition re-estimation from alignments."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.feats import add_feature_options, pipeline_from_args
from phonsid.hmm.tools import run_tool

USAGE = """Accumulates statistics for GMM training from transition-id alignments.

Usage: gmm_acc_stats_ali.py [options] <model-in> <feature-rspecifier> <alignments-rspecifier> <stats-out>
 e.g.: gmm_acc_stats_ali.py --utt2spk=data/train/utt2spk 1.mdl scp:data/train/feats.scp ark:1.ali 1.acc"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_acc_stats_ali.py", USAGE)
    p.add_bool("--binary", default=True, help="write in binary mode")
    add_feature_options(p)
    p.add_argument("model")
    p.add_argument("feats")
    p.add_argument("ali")
    p.add_argument("stats_out")
    a = p.parse_args(argv)
    log = get_logger("gmm_acc_stats_ali.py")

    def body() -> int:
        from phonsid.hmm.gmm import write_gmm_accs_to
        from phonsid.io.kaldi_object import write_object_file
        from phonsid.hmm.model import read_gmm_model
        from phonsid.hmm.train import accumulate
        from phonsid.io import RandomReader

        model = read_gmm_model(a.model)
        feats = dict(pipeline_from_args(a).read(a.feats))
        items, missing = [], 0
        with RandomReader(a.ali, "int_vector") as ali:
            for utt, m in feats.items():
                if utt not in ali:
                    missing += 1
                    continue
                tids = ali[utt]
                if len(tids) != len(m):
                    log.warning(f"utterance '{utt}': alignment has {len(tids)} frames, features {len(m)}; skipped")
                    missing += 1
                    continue
                items.append((utt, m, tids))
        acc = accumulate(model, items)
        write_object_file(a.stats_out, a.binary, lambda w: write_gmm_accs_to(w, acc))
        lpf = acc.tot_like / max(acc.tot_frames, 1.0)
        log.info(f"Done {len(items)} files, {missing} with no (usable) alignment")
        log.info(f"Overall avg like per frame (Gaussian only) = {lpf:.4f} over {acc.tot_frames:g} frames")
        return 0 if items else 1

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
