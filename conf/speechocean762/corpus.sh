# Corpus settings of `run.sh --corpus speechocean762` (sourced by run.sh after its options are parsed; the settings
# every corpus gives are listed in run.sh, "The corpus"). speechocean762 (OpenSLR 101): read English of 250 Mandarin
# speakers, adults and children; --so762-root is the corpus in its published layout (downloaded by stage 0 when
# absent) or ready Kaldi data dirs, read by local/make_speechocean762.py at 8 kHz. Hours of speech: the demo's
# reduced sizes. Without --musan-root, augmentation uses the demo generator's synthetic noise/music/babble.

p=so762           # data/so762_{asr,train,enroll,test}
fs=8000
conf=conf         # conf/mfcc.conf, conf/mfcc_hires.conf, conf/vad.conf

. conf/laptop_sizes.sh                # sizes shared with the other laptop-sized corpus

corpus_prep() {   # stage 0: data/so762_* (trials, trials_adult, trials_child)
  [ -e $so762_root ] || local/download_speechocean762.sh $(dirname $so762_root)
  python local/make_speechocean762.py --sample-rate $fs $so762_root data
}

corpus_noise_sources() {   # without MUSAN: the demo generator's synthetic noise/music/babble (data/demo_*)
  python local/make_demo_corpus.py --config conf/demo.conf --sources-only --seed $seed data data/local/demo_wav
}
