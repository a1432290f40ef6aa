"""Stage 3 on the demo corpus: the step scripts end to end on the --small corpus, and the alignment accuracy
reached on a larger generated corpus (features computed here with kaldi-native-fbank, as the front end does)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SIZES = ["--train-speakers", "1", "--train-utts-per-speaker", "1", "--eval-speakers", "2",
         "--enroll-utts-per-speaker", "1", "--test-utts-per-speaker", "1", "--noise-recordings", "1",
         "--music-recordings", "1", "--speech-recordings", "1", "--noise-min-duration", "1", "--noise-max-duration",
         "1.5", "--music-min-duration", "1", "--music-max-duration", "1.5", "--speech-min-duration", "1",
         "--speech-max-duration", "1.5"]


def _mfcc(samples: np.ndarray) -> np.ndarray:
    """13 MFCCs, 8 kHz telephone band, snip-edges false (the frame grid of the demo's true alignment)."""
    import kaldi_native_fbank as knf

    o = knf.MfccOptions()
    o.frame_opts.samp_freq = 8000
    o.frame_opts.dither = 0.0
    o.frame_opts.snip_edges = False
    o.mel_opts.num_bins = 23
    o.mel_opts.low_freq = 20
    o.mel_opts.high_freq = 3700
    o.num_ceps = 13
    m = knf.OnlineMfcc(o)
    m.accept_waveform(8000, samples.tolist())
    m.input_finished()
    return np.array([m.get_frame(i) for i in range(m.num_frames_ready)], np.float32)


def _demo(tmp: Path, env, args: list[str]) -> Path:
    if not (REPO / "local" / "make_demo_corpus.py").exists():
        pytest.skip("local/make_demo_corpus.py is absent")
    r = subprocess.run([sys.executable, "local/make_demo_corpus.py", *args, str(tmp), str(tmp / "wav")], cwd=REPO,
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    from phonsid.io import TableWriter
    from phonsid.io.wav import iter_wav_table

    src, dst = tmp / "demo_asr", tmp / "asr"
    dst.mkdir()
    for f in ("text", "utt2spk", "spk2utt", "wav.scp"):
        shutil.copy(src / f, dst / f)
    with TableWriter(f"ark,scp:{dst}/feats.ark,{dst}/feats.scp") as w:
        for utt, wav in iter_wav_table(str(src / "wav.scp")):
            w.write(utt, _mfcc(wav.data[0]))
    return dst


@pytest.mark.slow
def test_stage3_scripts_on_the_small_demo(tmp_path, script_env):
    data = _demo(tmp_path, script_env, ["--small"])
    lang, exp = tmp_path / "lang", tmp_path / "exp"

    def sh(*cmd: str) -> str:
        r = subprocess.run(list(cmd), cwd=REPO, env=script_env, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    sh(sys.executable, "pyscripts/prepare_lang.py", str(tmp_path / "local/dict_demo"), "<unk>", str(lang))
    sh("steps/train_mono.sh", "--nj", "2", "--num-iters", "8", "--max-iter-inc", "6", "--totgauss", "150",
       "--realign-iters", "1 2 3 4 5 6 7", str(data), str(lang), str(exp / "mono"))
    sh("steps/align.sh", "--nj", "2", str(data), str(lang), str(exp / "mono"), str(exp / "mono_ali"))
    out = sh("steps/train_deltas.sh", "--num-iters", "4", "--realign-iters", "2", "--tree-min-count", "5",
             "90", "200", str(data), str(lang), str(exp / "mono_ali"), str(exp / "tri1"))
    assert "tree has 90 leaves" in out
    out = sh("steps/align.sh", "--nj", "2", str(data), str(lang), str(exp / "tri1"), str(exp / "tri1_ali"))
    assert "aligned 6 of 6 utterances" in out
    ali = exp / "tri1_ali"
    assert (ali / "num_pdfs").read_text().strip() == "90"
    from phonsid.io import read_table

    pdfs = read_table(f"scp:{ali}/pdf_ali.scp", "int_vector")
    feats = read_table(f"scp:{data}/feats.scp")
    assert set(pdfs) == set(feats) and all(len(pdfs[u]) == len(feats[u]) for u in feats)
    assert max(p.max() for p in pdfs.values()) < 90
    sh(sys.executable, "local/score_alignment.py", str(tmp_path / "demo_asr/phone_ali.txt"),
       str(tmp_path / "demo_asr/phones.txt"), str(ali))
    acc = float((ali / "phone_accuracy.txt").read_text().splitlines()[-1])
    # six 2-second utterances are far too little to train 26 phones well; chance is about 0.1
    assert acc >= 0.35, acc
    like = [float(x.split()[1]) for x in (exp / "mono/like_per_frame.txt").read_text().splitlines()]
    assert like[-1] > like[0]


@pytest.mark.slow
def test_alignment_accuracy_on_a_demo_corpus(tmp_path, script_env):
    """40 utterances (2.7 minutes): monophones then triphones in memory, scored against the true alignment."""
    from phonsid.hmm.feats import FeaturePipeline
    from phonsid.data import read_list_map
    from phonsid.hmm.lang import prepare_lang, read_lang, read_symbol_table
    from phonsid.hmm.train import MonoOptions, TriphoneOptions, train_mono, train_triphone
    from phonsid.io import read_table

    data = _demo(tmp_path, script_env, ["--asr-speakers", "8", "--asr-utts-per-speaker", "5", *SIZES])
    raw = read_table(f"scp:{data}/feats.scp")
    feats = dict(FeaturePipeline(utt2spk=str(data / "utt2spk"), delta_order=2).process(raw))
    texts = read_list_map(data / "text")
    prepare_lang(tmp_path / "local/dict_demo", "<unk>", tmp_path / "lang")
    lang = read_lang(tmp_path / "lang")
    truth_tab = read_symbol_table(tmp_path / "demo_asr/phones.txt")
    truth = {}
    for line in (tmp_path / "demo_asr/phone_ali.txt").read_text().splitlines():
        f = line.split()
        truth[f[0]] = [truth_tab.symbol(int(x)) for x in f[1:]]

    def accuracy(tm, ali):
        right = sum(sum(lang.phones.symbol(int(p)) == t for p, t in zip(tm.tid2phone[ali[u]], truth[u]))
                    for u in ali)
        return right / sum(len(t) for t in truth.values())

    mono = train_mono(lang, feats, texts, MonoOptions(tot_gauss=300, num_iters=25, max_iter_inc=15,
                                                      realign_iters=tuple(range(1, 25, 2))))
    assert not mono.failed
    tri = train_triphone(lang, feats, texts, mono.model, mono.alignments,
                         TriphoneOptions(num_leaves=150, tot_gauss=500, num_iters=12, max_iter_inc=8,
                                         realign_iters=(4, 8)))
    assert tri.model.num_pdfs == 150
    acc = accuracy(tri.model.trans, tri.alignments)
    assert acc >= 0.88, acc
