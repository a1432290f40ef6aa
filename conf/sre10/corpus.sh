# Corpus settings of `run.sh --corpus sre10`, the paper's setup (sourced by run.sh after its options are parsed; the
# settings every corpus gives are listed in run.sh, "The corpus"). Corpus locations in conf/sre10/corpora.conf:
# speaker training on NIST SRE 2004-2008 + Switchboard-2/Cellular (local/make_sre10.py), DNN-1 on Fisher English +
# Switchboard-1 and DNN-2 on Switchboard-1 (local/make_fisher_swbd.py: data/sre10_asr, data/sre10_asr2), SRE10
# extended core-core trials. 8 kHz; full sizes (conf/*.yaml, Kaldi's sre16 recipe).

p=sre10           # data/sre10_{asr,asr2,train,enroll,test}
fs=8000
conf=conf/sre10   # mfcc.conf, mfcc_hires.conf, vad.conf, corpora.conf
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
report_opts=(--paper-numbers)        # the paper's EERs beside ours

corpus_prep() {   # stage 0: data/sre10_* from the corpora of conf/sre10/corpora.conf
  python local/make_sre10.py $corpora data
  python local/make_fisher_swbd.py --prefix sre10 $corpora data
}
