#!/usr/bin/env python3
"""gmm-align: forced alignment of transcripts (Kaldi's gmm-align / gmm-align-compiled, graphs built in-process)."""

from __future__ import annotations

import sys

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.hmm.feats import add_feature_options, pipeline_from_args
from phonsid.hmm.tools import run_tool, set_threads

USAGE = """Aligns features to the transcripts in <text> (Kaldi data-dir "text": utt word...), writing transition-id
alignments. Words missing from the lexicon map to the lang dir's OOV word. Utterances that cannot be aligned
(too short for their transcript) are reported and left out. --equal-align writes the flat-start alignment
instead (frames shared out equally along silence + first pronunciations + silence; no model scores).

Usage: gmm_align.py [options] <tree-in> <model-in> <lang-dir> <feature-rspecifier> <text> <alignments-wspecifier>
 e.g.: gmm_align.py --utt2spk=data/train/utt2spk exp/mono/tree exp/mono/10.mdl data/lang \\
         scp:data/train/feats.scp data/train/text ark:exp/mono/ali.1.ark"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("gmm_align.py", USAGE)
    p.add_argument("--acoustic-scale", type=float, default=0.1, help="scaling of acoustic log-likelihoods (0.1)")
    p.add_argument("--transition-scale", type=float, default=1.0, help="scaling of transition log-probs (1.0)")
    p.add_argument("--self-loop-scale", type=float, default=0.1, help="scaling of self-loop log-probs (0.1)")
    p.add_argument("--sil-prob", type=float, default=None, help="override the lang dir's optional-silence probability")
    p.add_bool("--equal-align", default=False, help="write flat-start equal alignments (no model scores)")
    p.add_argument("--device", default="cpu", help="torch device for likelihoods and Viterbi (cpu, cuda)")
    p.add_argument("--num-threads", type=int, default=1, help="torch threads (1)")
    add_feature_options(p)
    p.add_argument("tree")
    p.add_argument("model")
    p.add_argument("lang")
    p.add_argument("feats")
    p.add_argument("text")
    p.add_argument("ali_wspecifier")
    a = p.parse_args(argv)
    log = get_logger("gmm_align.py")

    def body() -> int:
        import numpy as np

        from phonsid.hmm.align import AlignOptions, align_utterances, compile_transcript
        from phonsid.hmm.graph import equal_alignment
        from phonsid.data import read_list_map
        from phonsid.hmm.lang import read_lang
        from phonsid.hmm.model import read_gmm_model
        from phonsid.hmm.tree import read_tree
        from phonsid.io import TableWriter

        set_threads(a.num_threads)
        ctx = read_tree(a.tree)
        model = read_gmm_model(a.model)
        lang = read_lang(a.lang)
        if a.sil_prob is not None:
            lang.sil_prob = a.sil_prob
        texts = read_list_map(a.text)
        pipe = pipeline_from_args(a)
        feats = dict(pipe.read(a.feats))
        oov: dict[str, int] = {}
        items, no_text = [], 0
        for utt, m in feats.items():
            if utt not in texts:
                no_text += 1
                log.warning(f"no transcript for utterance '{utt}' in {a.text}")
                continue
            if m.shape[1] != model.am.dim:
                log.error(f"utterance '{utt}': features have dimension {m.shape[1]}, the model {model.am.dim}")
                return 1
            items.append((utt, m, compile_transcript(lang, ctx, model, texts[utt], utt, oov)))
        if oov:
            total = sum(oov.values())
            top = ", ".join(f"{w} ({n})" for w, n in sorted(oov.items(), key=lambda x: -x[1])[:10])
            log.warning(f"{total} out-of-vocabulary word tokens mapped to {lang.oov}: {top}")
        failed = []
        like = frames = 0.0
        with TableWriter(a.ali_wspecifier, "int_vector") as w:
            if a.equal_align:
                for utt, m, g in items:
                    tids = equal_alignment(g, model.trans, len(m))
                    if tids is None:
                        failed.append(utt)
                        continue
                    w.write(utt, tids.astype(np.int32))
            else:
                opts = AlignOptions(a.acoustic_scale, a.transition_scale, a.self_loop_scale, device=a.device)
                res = align_utterances(model, items, opts)
                for utt, _, _ in items:
                    r = res[utt]
                    if not r.ok:
                        failed.append(utt)
                        continue
                    w.write(utt, r.tids.astype(np.int32))
                    like += r.loglike
                    frames += r.num_frames
        for utt in failed:
            log.warning(f"could not align utterance '{utt}' (too short for its transcript?)")
        if not a.equal_align and frames:
            log.info(f"Overall log-likelihood per frame is {like / frames:.4f} over {int(frames)} frames")
        log.info(f"Done {len(items) - len(failed)}, errors on {len(failed)}, no transcript for {no_text}")
        if items and len(failed) == len(items):
            log.error("no utterance could be aligned")
            return 1
        return 0

    return run_tool(log, body)


if __name__ == "__main__":
    sys.exit(main())
