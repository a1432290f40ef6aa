# Corpus settings of `run.sh --corpus demo` (sourced by run.sh after its options are parsed; the settings every
# corpus gives are listed in run.sh, "The corpus"). The demo is generated here (local/make_demo_corpus.py: 8 kHz
# telephone-like speech of synthesised speakers, sizes in conf/demo.conf), with true phone alignments and its own
# noise/music/babble sources. Laptop-sized: the paper's networks at reduced width, the i-vector chain reduced.

p=demo            # data/demo_{asr,train,enroll,test}
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

corpus_prep() {   # stage 0: data/demo_* (and the noise/music/babble sources data/demo_{noise,music,speech})
  local demo_conf=conf/demo.conf
  [ "$small" = true ] && demo_conf=conf/demo_small.conf
  python local/make_demo_corpus.py --config $demo_conf --seed $seed data data/local/demo_wav
}

corpus_noise_sources() {   # without MUSAN: the generator's own, written by corpus_prep
  :
}

corpus_small_sizes() {   # run.sh --small true: conf/demo_small.conf (~10 min of audio) and tiny models
  tree_opts="100 800"; ubm_size=16; ivector_dim=20
  mono_opts=(--num-iters 10 --max-iter-inc 8 --totgauss 400 --realign-iters "1 2 3 4 6 8")
  tri_opts=(--num-iters 10 --max-iter-inc 8 --realign-iters "5")
  ubm_opts="--num-iters-init 2 --num-frames 20000 --num-iters 1 --num-threads 1"
  fubm_opts="--num-iters 1 --subsample 1"
  ie_opts="--num-iters 1 --num-threads 1"
  bnf_size=small                     # DNNs 64 wide, 2 epochs
  xvector_size=small                 # 32/96 wide, 2 epochs, minibatch 16, a checkpoint every 5 steps
  xvector_min_len=100
  egs_opts=(--num-heldout-utts 6 --frames-per-iter 100000 --frames-per-iter-diagnostic 5000
            --min-frames-per-chunk 50 --max-frames-per-chunk 100 --num-diagnostic-archives 1 --num-repeats 8)
}
