# The sizes of the laptop-sized corpora (demo, speechocean762: hours of speech), sourced by their
# conf/<corpus>/corpus.sh: the paper's networks at reduced width, the i-vector chain reduced.

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
