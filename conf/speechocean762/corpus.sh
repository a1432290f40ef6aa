# Corpus settings of `run.sh --corpus speechocean762` (sourced by run.sh after its options are parsed; the settings
# every corpus gives are listed in run.sh, "The corpus"). speechocean762 (OpenSLR 101): read English of 250 Mandarin
# speakers, adults and children; --so762-root is the corpus in its published layout (downloaded by stage 0 when
# absent) or ready Kaldi data dirs, read by local/make_speechocean762.py at 8 kHz. Hours of speech: the demo's
# reduced sizes. Without --musan-root, augmentation uses the demo generator's synthetic noise/music/babble.

p=so762           # data/so762_{asr,train,enroll,test}
fs=8000
conf=conf         # conf/mfcc.conf, conf/mfcc_hires.conf, conf/vad.conf

tree_opts="500 5000"                 # tri1 leaves, Gaussians
ubm_size=256; ivector_dim=100        # paper: 2048, 500
ubm_opts="--num-iters-init 10 --num-frames 100000 --num-iters 2 --num-threads 1"
fubm_opts="--num-iters 2 --subsample 1"
ie_opts="--num-iters 3 --num-threads 1"
bnf_size=reduced                     # conf/{bnf1,sbnf,mt_sbnf}_reduced.yaml: DNNs 256 wide, 3 epochs
# x-vector: conf/xvector_reduced.yaml, Kaldi's network at a quarter of the width (128/384, 128-dim x-vectors) with
# Kaldi's schedule; chunks of 100-150 frames (the utterances are 2-6 s), 20 repeats per speaker per archive (Kaldi: 35)
xvector_size=reduced
xvector_min_len=150
egs_opts=(--num-heldout-utts 30 --frames-per-iter 1000000 --frames-per-iter-diagnostic 20000
          --min-frames-per-chunk 100 --max-frames-per-chunk 150 --num-diagnostic-archives 3 --num-repeats 20)

corpus_prep() {   # stage 0: data/so762_* (trials, trials_adult, trials_child)
  [ -e $so762_root ] || local/download_speechocean762.sh $(dirname $so762_root)
  python local/make_speechocean762.py --sample-rate $fs $so762_root data
}

corpus_noise_sources() {   # without MUSAN: the demo generator's synthetic noise/music/babble (data/demo_*)
  python local/make_demo_corpus.py --config conf/demo.conf --sources-only --seed $seed data data/local/demo_wav
}
