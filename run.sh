#!/usr/bin/env bash
# phonsid recipe: speaker recognition with phonetic bottleneck features (Rahman et al., Interspeech 2018).
# Usage: bash run.sh [--stage N] [--stop-stage M] [--corpus demo|speechocean762|sre10|voxceleb] [--nj J]
#   Stage 0  data preparation (Kaldi data dirs)      Stage 1  MFCC + VAD, hires MFCC
#   Stage 2  augmentation                            Stage 3  GMM-HMM senone alignments (the DNN targets)
#   Stage 4-5  bottleneck DNNs (BNF, SBNF, MT-SBNF)  Stage 6  i-vector baselines
#   Stage 7  x-vectors                               Stage 8  back end, exp/results.md and the plots
# Every corpus gives the same data dirs (prefix P: demo, so762, sre10, vox): data/P_asr (transcribed speech for
# the GMM-HMM and DNN-1; optional data/P_asr2 for DNN-2), data/P_train (speaker training), data/P_enroll,
# data/P_test (+ trials, optional trials_<name> subsets reported as extra columns). One corpus per checkout:
# exp/ and mfcc/ are shared by the stages (exp/corpus records which corpus they hold).
# The first run creates ./venv (tools/install.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stage=0          # first stage to run
stop_stage=100   # last stage to run
corpus=demo      # demo (generated here, no download) | speechocean762 | sre10 | voxceleb
nj=2             # parallel jobs per step
small=false      # demo only: the small corpus of conf/demo_small.conf (~10 min of audio) and tiny models:
                 # every stage in a few minutes (the end-to-end test); numbers are meaningless
seed=777         # demo only: generator seed
so762_root=downloads/speechocean762   # speechocean762: the corpus (published layout) or ready Kaldi data dirs
musan_root=      # MUSAN for augmentation; empty: sre10/voxceleb read it from conf/<corpus>/corpora.conf,
                 # speechocean762 falls back to the demo generator's synthetic noise/music/babble sources
rirs_root=       # RIRS_NOISES; empty: sre10/voxceleb read it from corpora.conf, else simulated rooms
aug_ratio=2      # stage 2: augmented utterances kept = aug_ratio x clean training utterances

help_message="Usage: bash run.sh [options]
Runs the phonsid recipe stage by stage; see README.md."
. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() {
  # Timestamped stage banner: "2026-11-26 23:59:59 (run.sh:NN:main) message"
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%d %H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}
corpora_conf_get() {  # <conf> <key>: value of 'key=path' in a corpora.conf (empty if absent)
  awk -F= -v k="$2" '!/^[[:space:]]*#/ && $1 == k { sub(/^[^=]*=/, ""); print; exit }' "$1"
}

# ------------------------------------------------------------------------------------ per-corpus settings
# Laptop-sized corpora (demo, speechocean762) train the paper's networks at reduced width and the i-vector
# chain at reduced size; sre10/voxceleb use the full sizes of conf/*.yaml and of Kaldi's recipes.
mono_opts=(); tri_opts=()   # extra options of steps/train_mono.sh, steps/train_deltas.sh
case $corpus in
  demo|speechocean762)
    p=demo; [ $corpus = speechocean762 ] && p=so762
    conf=conf; fs=8000
    tree_opts="500 5000"                 # tri1 leaves, Gaussians
    ubm_size=256; ivector_dim=100        # paper: 2048, 500
    ubm_opts="--num-iters-init 10 --num-frames 100000 --num-iters 2 --num-threads 1"
    fubm_opts="--num-iters 2 --subsample 1"
    ie_opts="--ivector-dim $ivector_dim --num-iters 3 --num-threads 1"
    # DNNs 256 wide, 3 epochs (conf/*.yaml: 1024, 4)
    bnf_opts="model.hidden_dim=256 train.num_epochs=3"
    # x-vector: Kaldi's network at a quarter of the width (128/384, 128-dim x-vectors), chunks of 100-150
    # frames (the utterances are 2-6 s), Kaldi's schedule otherwise (3 epochs, lr 0.001 -> 0.0001, minibatch
    # 64, momentum 0.5) with 20 repeats per speaker per archive (Kaldi: 35).
    xvector_opts="model.frame_dims=[128,128,128,128,384] model.segment_dims=[128,128]"
    xvector_opts="$xvector_opts train.diagnostic_interval=100 train.checkpoint_interval=200 train.log_interval=50"
    xvector_min_len=150
    egs_opts=(--num-heldout-utts 30 --frames-per-iter 1000000 --frames-per-iter-diagnostic 20000
              --min-frames-per-chunk 100 --max-frames-per-chunk 150 --num-diagnostic-archives 3 --num-repeats 20)
    ;;
  sre10|voxceleb)
    p=$corpus; conf=conf/$corpus; fs=8000; tree_opts="4200 40000"
    [ $corpus = voxceleb ] && { p=vox; fs=16000; }
    corpora=$conf/corpora.conf
    [ -f $corpora ] || { echo "run.sh: $corpora is missing (the corpus paths to edit)" >&2; exit 1; }
    [ -n "$musan_root" ] || musan_root=$(corpora_conf_get $corpora musan)
    [ -n "$rirs_root" ] || rirs_root=$(corpora_conf_get $corpora rirs_noises)
    ubm_size=2048; ivector_dim=600       # Kaldi's sre16/voxceleb recipes (the paper: 2048, 500)
    ubm_opts="--num-threads 4"; fubm_opts=""; ie_opts="--ivector-dim $ivector_dim --num-threads 4"
    bnf_opts=""; xvector_opts=""; xvector_min_len=500
    egs_opts=(--num-heldout-utts 100 --frames-per-iter 1000000000 --frames-per-iter-diagnostic 100000
              --min-frames-per-chunk 200 --max-frames-per-chunk 400 --num-diagnostic-archives 3 --num-repeats 50)
    ;;
  *) echo "run.sh: unknown --corpus '$corpus' (available: demo, speechocean762, sre10, voxceleb)" >&2; exit 1 ;;
esac
if [ "$small" = true ]; then
  [ $corpus = demo ] || { echo "run.sh: --small true is for --corpus demo only" >&2; exit 1; }
  tree_opts="100 800"; ubm_size=16; ivector_dim=20
  mono_opts=(--num-iters 10 --max-iter-inc 8 --totgauss 400 --realign-iters "1 2 3 4 6 8")
  tri_opts=(--num-iters 10 --max-iter-inc 8 --realign-iters "5")
  ubm_opts="--num-iters-init 2 --num-frames 20000 --num-iters 1 --num-threads 1"
  fubm_opts="--num-iters 1 --subsample 1"
  ie_opts="--ivector-dim $ivector_dim --num-iters 1 --num-threads 1"
  bnf_opts="model.hidden_dim=64 train.num_epochs=2"
  xvector_opts="model.frame_dims=[32,32,32,32,96] model.segment_dims=[32,32] train.num_epochs=2"
  xvector_opts="$xvector_opts train.minibatch_size=16"
  # checkpoints every 5 steps (of 20-60): a run killed in the middle of training has one to resume from
  xvector_opts="$xvector_opts train.diagnostic_interval=20 train.checkpoint_interval=5 train.log_interval=10"
  xvector_min_len=100
  egs_opts=(--num-heldout-utts 6 --frames-per-iter 100000 --frames-per-iter-diagnostic 5000
            --min-frames-per-chunk 50 --max-frames-per-chunk 100 --num-diagnostic-archives 1 --num-repeats 8)
fi
asr=${p}_asr; train=${p}_train; enroll=${p}_enroll; test=${p}_test
mkdir -p exp
if [ -f exp/corpus ] && [ "$(cat exp/corpus)" != $corpus ]; then
  echo "run.sh: exp/ holds a '$(cat exp/corpus)' run, not '$corpus': move exp/ and mfcc/ away or use another checkout" >&2
  exit 1
fi
echo $corpus > exp/corpus

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: data preparation ($corpus)"
  case $corpus in
    demo)
      demo_conf=conf/demo.conf; [ "$small" = true ] && demo_conf=conf/demo_small.conf
      python local/make_demo_corpus.py --config $demo_conf --seed $seed data data/local/demo_wav ;;
    speechocean762)
      [ -e $so762_root ] || local/download_speechocean762.sh $(dirname $so762_root)
      python local/make_speechocean762.py --sample-rate $fs $so762_root data ;;
    sre10)
      python local/make_sre10.py $corpora data
      python local/make_fisher_swbd.py --prefix sre10 $corpora data ;;
    voxceleb)
      python local/make_voxceleb.py $corpora data ;;
  esac
  # augmentation sources: MUSAN when given, else the demo generator's synthetic ones (data/demo_{noise,music,speech})
  if [ -n "$musan_root" ]; then
    python local/make_musan.py --sampling-rate $fs $musan_root data
  elif [ $corpus != demo ]; then
    [ $corpus = speechocean762 ] || { echo "run.sh: no MUSAN (musan= in $corpora or --musan-root)" >&2; exit 1; }
    python local/make_demo_corpus.py --config conf/demo.conf --sources-only --seed $seed data data/local/demo_wav
  fi
  if [ -n "$rirs_root" ]; then python local/make_rirs.py $rirs_root data/local/rirs; fi
  utils/validate_data_dir.sh --no-feats data/$asr   # transcripts required for the GMM-HMM and DNN-1
  for s in $train $enroll $test; do   # speaker sets: text where the corpus has it (SRE and VoxCeleb have none)
    utils/validate_data_dir.sh --no-feats --no-text data/$s
  done
fi
if [ -n "$musan_root" ]; then noise_sets=(musan_noise musan_music musan_speech)
else noise_sets=(demo_noise demo_music demo_speech); fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: MFCC + VAD for every set, hires MFCC (ASR features) for every set"
  for s in $asr $train $enroll $test; do
    steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config $conf/mfcc.conf --vad-config $conf/vad.conf \
      data/$s exp/make_mfcc/$s mfcc
    utils/fix_data_dir.sh data/$s
    utils/copy_data_dir.sh data/$s data/${s}_hires
    rm -f data/${s}_hires/{feats.scp,vad.scp,utt2num_frames}
    steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config $conf/mfcc_hires.conf \
      data/${s}_hires exp/make_mfcc/${s}_hires mfcc
    cp data/$s/vad.scp data/${s}_hires/vad.scp   # same frames (snip-edges=false in both configs)
    utils/fix_data_dir.sh data/${s}_hires
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: augmentation (reverb, noise, music, babble), subset, features, combine with clean"
  if [ -n "$rirs_root" ]; then
    rir_sets=(--rir-set-parameters "0.5, data/local/rirs/smallroom/rir_list"
              --rir-set-parameters "0.5, data/local/rirs/mediumroom/rir_list")
  else
    python local/simulate_rirs.py --sample-rate $fs --room-types smallroom,mediumroom \
      --num-rooms 5 --rirs-per-room 4 --seed 1 data/local/sim_rirs
    rir_sets=(--rir-set-parameters "0.5, data/local/sim_rirs/simulated_rirs/smallroom/rir_list"
              --rir-set-parameters "0.5, data/local/sim_rirs/simulated_rirs/mediumroom/rir_list")
  fi
  python steps/data/reverberate_data_dir.py "${rir_sets[@]}" \
    --speech-rvb-probability 1 --pointsource-noise-addition-probability 0 \
    --isotropic-noise-addition-probability 0 --num-replications 1 --source-sampling-rate $fs \
    --utt-suffix reverb data/$train data/${train}_reverb
  python steps/data/augment_data_dir.py --utt-suffix noise --fg-interval 1 --fg-snrs 15:10:5:0 \
    --fg-noise-dir data/${noise_sets[0]} data/$train data/${train}_noise
  python steps/data/augment_data_dir.py --utt-suffix music --bg-snrs 15:10:8:5 --num-bg-noises 1 \
    --bg-noise-dir data/${noise_sets[1]} data/$train data/${train}_music
  python steps/data/augment_data_dir.py --utt-suffix babble --bg-snrs 20:17:15:13 --num-bg-noises 3:4:5:6:7 \
    --bg-noise-dir data/${noise_sets[2]} data/$train data/${train}_babble
  rm -rf data/${train}_aug_all data/${train}_aug data/${train}_combined
  utils/combine_data.sh data/${train}_aug_all data/${train}_reverb data/${train}_noise \
    data/${train}_music data/${train}_babble
  num_aug=$(( aug_ratio * $(wc -l < data/$train/utt2spk) ))
  utils/subset_data_dir.sh data/${train}_aug_all $num_aug data/${train}_aug
  rm -f data/${train}_aug/{feats.scp,vad.scp}
  steps/make_mfcc.sh --mfcc-config $conf/mfcc.conf --nj $nj --cmd "$train_cmd" \
    data/${train}_aug exp/make_mfcc/${train}_aug mfcc
  # No VAD on augmented audio: each utterance takes its clean original's (through utt2uniq), as Kaldi.
  python steps/data/augment_data_dir.py --copy-vad-only data/$train data/${train}_aug
  utils/fix_data_dir.sh data/${train}_aug
  utils/combine_data.sh data/${train}_combined data/${train}_aug data/$train
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: lexicon/lang, monophone + triphone GMM-HMM, forced alignment to senones"
  [ -f data/local/dict_$p/lexicon.txt ] || python local/prepare_dict.py data/$asr/text data/local/dict_$p
  python pyscripts/prepare_lang.py data/local/dict_$p "<unk>" data/lang_$p
  # the monophone system on the 10k shortest utterances at most (Kaldi's swbd/librispeech recipes)
  mono_data=data/$asr
  if [ $(wc -l < data/$asr/utt2spk) -gt 10000 ]; then
    utils/subset_data_dir.sh --shortest data/$asr 10000 data/${asr}_10kshort
    mono_data=data/${asr}_10kshort
  fi
  # GMMs on the speaker MFCC (20 ceps, energy C0, snip-edges=false): first 13 + D+DD, speaker CMN
  steps/train_mono.sh --nj $nj --cmd "$train_cmd" "${mono_opts[@]}" --feat-opts "--select-feats=0-12" \
    $mono_data data/lang_$p exp/mono
  steps/align.sh --nj $nj --cmd "$train_cmd" data/$asr data/lang_$p exp/mono exp/mono_ali
  steps/train_deltas.sh --cmd "$train_cmd" "${tri_opts[@]}" $tree_opts data/$asr data/lang_$p exp/mono_ali exp/tri1
  steps/align.sh --nj $nj --cmd "$train_cmd" data/$asr data/lang_$p exp/tri1 exp/tri1_ali
  if [ -f data/$asr/phone_ali.txt ]; then   # the demo knows the true phone alignment
    python local/score_alignment.py data/$asr/phone_ali.txt data/$asr/phones.txt exp/tri1_ali
    log "frame-level phone accuracy against the true alignment: $(tail -n 1 exp/tri1_ali/phone_accuracy.txt)"
  fi
fi

# Bottleneck DNNs: targets are stage 3's senones (exp/tri1_ali: pdf_ali.scp + num_pdfs).
if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: DNN-1 (bottleneck ASR DNN on hires MFCC), BNF data dirs"
  # hires MFCC of the augmented copies (the clean sets got theirs in stage 1), their clean originals' VAD
  utils/copy_data_dir.sh data/${train}_aug data/${train}_aug_hires
  rm -f data/${train}_aug_hires/{feats.scp,vad.scp,utt2num_frames}
  steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config $conf/mfcc_hires.conf \
    data/${train}_aug_hires exp/make_mfcc/${train}_aug_hires mfcc
  cp data/${train}_aug/vad.scp data/${train}_aug_hires/vad.scp
  utils/fix_data_dir.sh data/${train}_aug_hires
  steps/nnet/train_bnf.sh --cmd "$cuda_cmd" --targets pdfs --bnf-config conf/bnf1.yaml \
    --bnf-opts "$bnf_opts" data/${asr}_hires exp/tri1_ali exp/bnf1
  # BNFs of DNN-2's training data only (data/P_asr2, the paper's SWB1 part, when the corpus has it) and of each
  # speaker set once: DNN-1 normalises per utterance, so the combined set is the clean and augmented BNFs combined
  dnn2_set=$asr
  if [ -d data/${p}_asr2 ]; then
    dnn2_set=${p}_asr2
    utils/subset_data_dir.sh --utt-list data/${p}_asr2/utt2spk data/${asr}_hires data/${dnn2_set}_hires
  fi
  for s in $dnn2_set $train $enroll $test ${train}_aug; do
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/bnf1 data/${s}_hires data/${s}_bnf
  done
  rm -rf data/${train}_combined_bnf
  utils/combine_data.sh data/${train}_combined_bnf data/${train}_aug_bnf data/${train}_bnf
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "Stage 5: stacked DNN-2 and multi-task DNN-2 on DNN-1 BNFs; SBNF and MT-SBNF data dirs"
  dnn2_data=data/${asr}_bnf
  [ -d data/${p}_asr2 ] && dnn2_data=data/${p}_asr2_bnf   # the paper trains DNN-2 on SWB1 only (stage 4)
  steps/nnet/train_bnf.sh --cmd "$cuda_cmd" --targets pdfs --bnf-config conf/sbnf.yaml \
    --bnf-opts "$bnf_opts" $dnn2_data exp/tri1_ali exp/sbnf
  steps/nnet/train_bnf.sh --cmd "$cuda_cmd" --targets pdfs --bnf-config conf/mt_sbnf.yaml \
    --bnf-opts "$bnf_opts" $dnn2_data exp/tri1_ali exp/mt_sbnf
  for s in $train $enroll $test ${train}_combined; do
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/sbnf data/${s}_bnf data/${s}_sbnf
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/mt_sbnf data/${s}_bnf data/${s}_mtsbnf
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  log "Stage 6: i-vector baselines (MFCC UBM/i-vector, DNN/i-vector, BNF i-vector)"
  sets="$train $enroll $test"
  # 1) MFCC UBM / i-vector (MFCC+D+DD, sliding CMN 300, voiced frames)
  sid/train_diag_ubm.sh --cmd "$train_cmd" --nj $nj $ubm_opts data/$train $ubm_size exp/ivectors_ubm/diag_ubm
  sid/train_full_ubm.sh --cmd "$train_cmd" --nj $nj $fubm_opts data/$train exp/ivectors_ubm/diag_ubm \
    exp/ivectors_ubm/full_ubm
  sid/train_ivector_extractor.sh --cmd "$train_cmd" --nj $nj $ie_opts exp/ivectors_ubm/full_ubm/final.ubm \
    data/$train exp/ivectors_ubm/extractor
  for s in $sets; do
    sid/extract_ivectors.sh --cmd "$train_cmd" --nj $nj exp/ivectors_ubm/extractor data/$s exp/ivectors_ubm/ivectors_$s
  done
  # 2) DNN/i-vector: one Gaussian per DNN-1 senone, statistics on MFCC weighted by DNN-1's senone posteriors,
  #    computed in the jobs from the hires MFCC of the voiced frames (as Kaldi's scripts; nothing stored)
  sid/init_full_ubm_from_dnn.sh --cmd "$train_cmd" --nj $nj data/$train data/${train}_hires exp/bnf1 \
    exp/ivectors_dnn/full_ubm
  sid/train_ivector_extractor_dnn.sh --cmd "$train_cmd" --nj $nj $ie_opts exp/ivectors_dnn/full_ubm/final.ubm \
    exp/bnf1 data/$train data/${train}_hires exp/ivectors_dnn/extractor
  for s in $sets; do
    sid/extract_ivectors_dnn.sh --cmd "$train_cmd" --nj $nj exp/ivectors_dnn/extractor exp/bnf1 data/$s \
      data/${s}_hires exp/ivectors_dnn/ivectors_$s
  done
  # 3) BNF i-vector: the same chain on DNN-1 bottleneck features (no deltas), VAD from the MFCC set
  sid/train_diag_ubm.sh --cmd "$train_cmd" --nj $nj $ubm_opts --delta-order 0 data/${train}_bnf $ubm_size \
    exp/ivectors_bnf/diag_ubm
  sid/train_full_ubm.sh --cmd "$train_cmd" --nj $nj $fubm_opts data/${train}_bnf exp/ivectors_bnf/diag_ubm \
    exp/ivectors_bnf/full_ubm
  sid/train_ivector_extractor.sh --cmd "$train_cmd" --nj $nj $ie_opts exp/ivectors_bnf/full_ubm/final.ubm \
    data/${train}_bnf exp/ivectors_bnf/extractor
  for s in $sets; do
    sid/extract_ivectors.sh --cmd "$train_cmd" --nj $nj exp/ivectors_bnf/extractor data/${s}_bnf exp/ivectors_bnf/ivectors_$s
  done
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  log "Stage 7: x-vector systems (Snyder et al. 2018, Kaldi run_xvector_1a.sh) on MFCC, MFCC+aug, BNF, SBNF, MT-SBNF"
  # <system> <training data dir> <suffix of the feature dirs of the train/enroll/test sets: "-" for MFCC>
  for system in "mfcc $train -" "mfcc_aug ${train}_combined -" "bnf ${train}_combined_bnf _bnf" \
                "sbnf ${train}_combined_sbnf _sbnf" "mt_sbnf ${train}_combined_mtsbnf _mtsbnf"; do
    read -r name tdata sfx <<< "$system"
    [ "$sfx" = - ] && sfx=
    if [ ! -f data/$tdata/feats.scp ] || [ ! -f data/$tdata/vad.scp ]; then
      log "  x-vector $name: no data/$tdata/{feats,vad}.scp; skipped"
      continue
    fi
    nnet=exp/xvector_$name
    log "  x-vector $name: features of data/$tdata"
    sid/nnet/prepare_feats_for_egs.sh --nj $nj --cmd "$train_cmd" --min-len $xvector_min_len --min-num-utts 8 \
      data/$tdata data/${tdata}_no_sil exp/${tdata}_no_sil
    sid/nnet/get_egs.sh --nj $nj --cmd "$train_cmd" "${egs_opts[@]}" data/${tdata}_no_sil $nnet/egs
    sid/nnet/train_xvector.sh --cmd "$cuda_cmd" --xvector-opts "$xvector_opts" $nnet/egs $nnet
    for s in $train $enroll $test; do
      sid/nnet/extract_xvectors.sh --nj $nj --cmd "$train_cmd" $nnet data/$s$sfx $nnet/xvectors_$s
    done
  done
fi

if [ $stage -le 8 ] && [ $stop_stage -ge 8 ]; then
  log "Stage 8: back end (mean, LDA, length norm, PLDA on $train) and evaluation of every system"
  # <system name in the table> <dir holding {xvectors,ivectors}_{train,enroll,test sets}>
  reports=()
  for system in "ivector exp/ivectors_ubm" "dnn_ivector exp/ivectors_dnn" "bnf_ivector exp/ivectors_bnf" \
                "xvector_mfcc exp/xvector_mfcc" "xvector_mfcc_aug exp/xvector_mfcc_aug" \
                "xvector_bnf exp/xvector_bnf" "xvector_sbnf exp/xvector_sbnf" "xvector_mt_sbnf exp/xvector_mt_sbnf"; do
    read -r name dir <<< "$system"
    kind=xvectors; [[ $name == *ivector ]] && kind=ivectors
    if [ ! -d $dir/${kind}_$test ]; then
      log "  $name: no $dir/${kind}_$test; not scored"
      continue
    fi
    sid/score_plda.sh --cmd "$train_cmd" --lda-dim 150 data/$train $dir/${kind}_$train \
      data/$enroll $dir/${kind}_$enroll $dir/${kind}_$test data/$test/trials exp/scores/$name
    reports+=("$name=exp/scores/$name/scores")
  done
  if [ ${#reports[@]} -gt 0 ]; then
    paper_opt=""; [ $corpus = sre10 ] && paper_opt="--paper-numbers"   # the paper's EERs beside ours
    subset_opts=()   # every extra trial list (e.g. trials_adult, trials_child) is an extra EER column
    for f in data/$test/trials_*; do
      [ -f "$f" ] && subset_opts+=(--subset "${f##*/trials_}=$f")
    done
    python pyscripts/score_report.py --paper-tables --corpus "$corpus" $paper_opt \
      --trials data/$test/trials "${subset_opts[@]}" \
      --data-dir "train=data/$train" --data-dir "enroll=data/$enroll" --data-dir "test=data/$test" \
      --info "UBM Gaussians / i-vector dim=$ubm_size / $ivector_dim" --info "augmented / clean=$aug_ratio" \
      --info "DNN options=${bnf_opts:-conf/*.yaml}" --info "x-vector options=${xvector_opts:-conf/xvector.yaml}" \
      --det-plot exp/results_det.png --bar-plot exp/results_eer.png --title "phonsid ($corpus)" \
      --out exp/results.md "${reports[@]}"
    cat exp/results.md
  fi
fi

log "Done (stages $stage..$stop_stage)."
