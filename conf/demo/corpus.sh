# Corpus settings of `run.sh --corpus demo` (sourced by run.sh after its options are parsed; the settings every
# corpus gives are listed in run.sh, "The corpus"). The demo is generated here (local/make_demo_corpus.py: 8 kHz
# telephone-like speech of synthesised speakers, sizes in conf/demo.conf), with true phone alignments and its own
# noise/music/babble sources. Laptop-sized: the paper's networks at reduced width, the i-vector chain reduced.

p=demo            # data/demo_{asr,train,enroll,test}
fs=8000
conf=conf         # conf/mfcc.conf, conf/mfcc_hires.conf, conf/vad.conf

. conf/laptop_sizes.sh                # sizes shared with the other laptop-sized corpus

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
