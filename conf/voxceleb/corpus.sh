# Corpus settings of `run.sh --corpus voxceleb` (sourced by run.sh after its options are parsed; the settings every
# corpus gives are listed in run.sh, "The corpus"). Corpus locations in conf/voxceleb/corpora.conf: speakers from
# VoxCeleb2 dev (and VoxCeleb1), Vox1-O/E/H trials, the ASR DNNs on LibriSpeech (local/make_voxceleb.py).
# 16 kHz; full sizes (conf/*.yaml, Kaldi's voxceleb recipe).

p=vox             # data/vox_{asr,train,enroll,test}
fs=16000
conf=conf/voxceleb   # mfcc.conf, mfcc_hires.conf, vad.conf, corpora.conf
use_corpora_conf $conf/corpora.conf   # corpora=...; --musan-root/--rirs-root default to its musan=/rirs_noises=

tree_opts="4200 40000"               # tri1 leaves, Gaussians
ubm_size=2048; ivector_dim=600       # Kaldi's sre16/voxceleb recipes (the paper: 2048, 500)
ubm_opts="--num-threads 4"
ie_opts="--num-threads 4"
bnf_size=full                        # conf/{bnf1,sbnf,mt_sbnf}.yaml
xvector_size=full                    # conf/xvector.yaml
xvector_min_len=500
egs_opts=(--num-heldout-utts 100 --frames-per-iter 1000000000 --frames-per-iter-diagnostic 100000
          --min-frames-per-chunk 200 --max-frames-per-chunk 400 --num-diagnostic-archives 3 --num-repeats 50)

corpus_prep() {   # stage 0: data/vox_* from the corpora of conf/voxceleb/corpora.conf
  python local/make_voxceleb.py $corpora data
}
