#!/usr/bin/env bash
# phonsid recipe: speaker recognition with phonetic bottleneck features (Rahman et al., Interspeech 2018).
# Usage: bash run.sh [--stage N] [--stop-stage M] [--corpus demo] [--nj J]
#   Stage 0  data preparation (Kaldi data dirs)      Stage 1  MFCC + VAD, hires MFCC
#   Stage 2  augmentation                            Stage 4-5  bottleneck DNNs (BNF, SBNF, MT-SBNF)
#   Stage 6  i-vector baselines                      Stage 7  x-vectors        Stage 8  back end and results
#   Stage 3  GMM-HMM senone alignments (exp/tri1_ali: pdf_ali.scp + num_pdfs), the DNN targets
# The first run creates ./venv (tools/install.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stage=0          # first stage to run
stop_stage=100   # last stage to run
corpus=demo      # demo (generated here, no download)
nj=2             # parallel jobs per step
small=false      # demo only: the tiny --small corpus (seconds of audio; for smoke tests)
seed=777         # demo only: generator seed
aug_ratio=2      # stage 2: augmented utterances kept = aug_ratio x clean training utterances
ivector_ubm_size=256   # stage 6: UBM Gaussians (paper: 2048)
ivector_dim=100        # stage 6: i-vector dimension (paper: 500)

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

case $corpus in
  demo) ;;
  *) echo "run.sh: unknown --corpus '$corpus' (available: demo)" >&2; exit 1 ;;
esac

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: data preparation ($corpus)"
  size_opt=""; [ "$small" = true ] && size_opt="--small"
  python local/make_demo_corpus.py --config conf/demo.conf $size_opt --seed $seed data data/local/demo_wav
  for s in demo_asr demo_train demo_enroll demo_test; do
    utils/validate_data_dir.sh --no-feats data/$s
  done
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "Stage 1: MFCC + VAD for every set, hires MFCC (ASR features) for every set"
  for s in demo_asr demo_train demo_enroll demo_test; do
    steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config conf/mfcc.conf --vad-config conf/vad.conf \
      data/$s exp/make_mfcc/$s mfcc
    utils/fix_data_dir.sh data/$s
    utils/copy_data_dir.sh data/$s data/${s}_hires
    rm -f data/${s}_hires/{feats.scp,vad.scp,utt2num_frames}
    steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config conf/mfcc_hires.conf \
      data/${s}_hires exp/make_mfcc/${s}_hires mfcc
    cp data/$s/vad.scp data/${s}_hires/vad.scp   # same frames (snip-edges=false in both configs)
    utils/fix_data_dir.sh data/${s}_hires
  done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "Stage 2: augmentation (reverb, noise, music, babble), subset, features, combine with clean"
  fs=8000   # demo corpus rate
  python local/simulate_rirs.py --sample-rate $fs --room-types smallroom,mediumroom \
    --num-rooms 5 --rirs-per-room 4 --seed 1 data/local/sim_rirs
  python steps/data/reverberate_data_dir.py \
    --rir-set-parameters "0.5, data/local/sim_rirs/simulated_rirs/smallroom/rir_list" \
    --rir-set-parameters "0.5, data/local/sim_rirs/simulated_rirs/mediumroom/rir_list" \
    --speech-rvb-probability 1 --pointsource-noise-addition-probability 0 \
    --isotropic-noise-addition-probability 0 --num-replications 1 --source-sampling-rate $fs \
    --utt-suffix reverb data/demo_train data/demo_train_reverb
  python steps/data/augment_data_dir.py --utt-suffix noise --fg-interval 1 --fg-snrs 15:10:5:0 \
    --fg-noise-dir data/demo_noise data/demo_train data/demo_train_noise
  python steps/data/augment_data_dir.py --utt-suffix music --bg-snrs 15:10:8:5 --num-bg-noises 1 \
    --bg-noise-dir data/demo_music data/demo_train data/demo_train_music
  python steps/data/augment_data_dir.py --utt-suffix babble --bg-snrs 20:17:15:13 --num-bg-noises 3:4:5:6:7 \
    --bg-noise-dir data/demo_speech data/demo_train data/demo_train_babble
  rm -rf data/demo_train_aug_all data/demo_train_aug data/demo_train_combined
  utils/combine_data.sh data/demo_train_aug_all data/demo_train_reverb data/demo_train_noise \
    data/demo_train_music data/demo_train_babble
  num_aug=$(( aug_ratio * $(wc -l < data/demo_train/utt2spk) ))
  utils/subset_data_dir.sh data/demo_train_aug_all $num_aug data/demo_train_aug
  rm -f data/demo_train_aug/{feats.scp,vad.scp}
  steps/make_mfcc.sh --mfcc-config conf/mfcc.conf --nj $nj --cmd "$train_cmd" \
    data/demo_train_aug exp/make_mfcc/demo_train_aug mfcc
  # No VAD on augmented audio: each utterance takes its clean original's (through utt2uniq), as Kaldi.
  python steps/data/augment_data_dir.py --copy-vad-only data/demo_train data/demo_train_aug
  utils/fix_data_dir.sh data/demo_train_aug
  utils/combine_data.sh data/demo_train_combined data/demo_train_aug data/demo_train
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "Stage 3: lexicon/lang, monophone + triphone GMM-HMM, forced alignment to senones"
  python pyscripts/prepare_lang.py data/local/dict_demo "<unk>" data/lang_demo
  # GMMs on the speaker MFCC (conf/mfcc.conf: 20 ceps, energy C0, snip-edges=false): first 13 + D+DD, speaker CMN
  steps/train_mono.sh --nj $nj --cmd "$train_cmd" --feat-opts "--select-feats=0-12" \
    data/demo_asr data/lang_demo exp/mono
  steps/align.sh --nj $nj --cmd "$train_cmd" data/demo_asr data/lang_demo exp/mono exp/mono_ali
  steps/train_deltas.sh --cmd "$train_cmd" 500 4000 data/demo_asr data/lang_demo exp/mono_ali exp/tri1
  steps/align.sh --nj $nj --cmd "$train_cmd" data/demo_asr data/lang_demo exp/tri1 exp/tri1_ali
  if [ -f data/demo_asr/phone_ali.txt ]; then
    python local/score_alignment.py data/demo_asr/phone_ali.txt data/demo_asr/phones.txt exp/tri1_ali
    log "frame-level phone accuracy: $(tail -n 1 exp/tri1_ali/phone_accuracy.txt)"
  fi
fi

# Bottleneck DNNs: targets are stage 3's senones (exp/tri1_ali: pdf_ali.scp + num_pdfs) when present, else the
# demo's true phone alignment (--targets phones). Demo-sized networks: 256 wide, 3 epochs (conf/*.yaml: 1024, 4).
bnf_opts="model.hidden_dim=256 train.num_epochs=3"
if [ -f exp/tri1_ali/pdf_ali.scp ]; then bnf_targets=(--targets pdfs); bnf_ali=exp/tri1_ali
else bnf_targets=(--targets phones); bnf_ali=data/demo_asr; fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  log "Stage 4: DNN-1 (bottleneck ASR DNN on hires MFCC), BNF data dirs, DNN-1 senone posteriors"
  # hires MFCC of the augmented copies (the clean sets got theirs in stage 1), their clean originals' VAD
  utils/copy_data_dir.sh data/demo_train_aug data/demo_train_aug_hires
  rm -f data/demo_train_aug_hires/{feats.scp,vad.scp,utt2num_frames}
  steps/make_mfcc.sh --nj $nj --cmd "$train_cmd" --mfcc-config conf/mfcc_hires.conf \
    data/demo_train_aug_hires exp/make_mfcc/demo_train_aug_hires mfcc
  cp data/demo_train_aug/vad.scp data/demo_train_aug_hires/vad.scp
  utils/fix_data_dir.sh data/demo_train_aug_hires
  rm -rf data/demo_train_combined_hires
  utils/combine_data.sh data/demo_train_combined_hires data/demo_train_aug_hires data/demo_train_hires
  steps/nnet/train_bnf.sh --cmd "$train_cmd" "${bnf_targets[@]}" --bnf-config conf/bnf1.yaml \
    --bnf-opts "$bnf_opts" data/demo_asr_hires $bnf_ali exp/bnf1
  for s in demo_asr demo_train demo_enroll demo_test demo_train_combined; do
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/bnf1 data/${s}_hires data/${s}_bnf
  done
  for s in demo_train demo_enroll demo_test; do   # for the DNN/i-vector system
    steps/nnet/compute_posteriors.sh --nj $nj --cmd "$train_cmd" exp/bnf1 data/${s}_hires exp/bnf1_post_$s
  done
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  log "Stage 5: stacked DNN-2 and multi-task DNN-2 on DNN-1 BNFs; SBNF and MT-SBNF data dirs"
  steps/nnet/train_bnf.sh --cmd "$train_cmd" "${bnf_targets[@]}" --bnf-config conf/sbnf.yaml \
    --bnf-opts "$bnf_opts" data/demo_asr_bnf $bnf_ali exp/sbnf
  steps/nnet/train_bnf.sh --cmd "$train_cmd" "${bnf_targets[@]}" --bnf-config conf/mt_sbnf.yaml \
    --bnf-opts "$bnf_opts" data/demo_asr_bnf $bnf_ali exp/mt_sbnf
  for s in demo_train demo_enroll demo_test demo_train_combined; do
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/sbnf data/${s}_bnf data/${s}_sbnf
    steps/nnet/make_bottleneck_features.sh --nj $nj --cmd "$train_cmd" exp/mt_sbnf data/${s}_bnf data/${s}_mtsbnf
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  log "Stage 6: i-vector baselines (MFCC UBM/i-vector, DNN/i-vector, BNF i-vector)"
  train=demo_train; sets="demo_train demo_enroll demo_test"
  ubm_opts="--num-iters-init 10 --num-frames 100000 --num-iters 2 --num-threads 1"
  fubm_opts="--num-iters 2 --subsample 1"     # small data: keep every frame
  ie_opts="--ivector-dim $ivector_dim --num-iters 3 --num-threads 1"
  # 1) MFCC UBM / i-vector (MFCC+D+DD, sliding CMN 300, voiced frames)
  sid/train_diag_ubm.sh --cmd "$train_cmd" --nj $nj $ubm_opts data/$train $ivector_ubm_size exp/ivectors_ubm/diag_ubm
  sid/train_full_ubm.sh --cmd "$train_cmd" --nj $nj $fubm_opts data/$train exp/ivectors_ubm/diag_ubm exp/ivectors_ubm/full_ubm
  sid/train_ivector_extractor.sh --cmd "$train_cmd" --nj $nj $ie_opts exp/ivectors_ubm/full_ubm/final.ubm \
    data/$train exp/ivectors_ubm/extractor
  for s in $sets; do
    sid/extract_ivectors.sh --cmd "$train_cmd" --nj $nj exp/ivectors_ubm/extractor data/$s exp/ivectors_ubm/ivectors_$s
  done
  # 2) DNN/i-vector: one Gaussian per DNN-1 output class from its log-posteriors (stage 4), stats on MFCC
  post() { echo exp/bnf1_post_$1/logprob.scp; }
  sid/init_full_ubm_from_dnn.sh --cmd "$train_cmd" --nj $nj data/$train $(post $train) exp/ivectors_dnn/full_ubm
  sid/train_ivector_extractor_dnn.sh --cmd "$train_cmd" --nj $nj $ie_opts exp/ivectors_dnn/full_ubm/final.ubm \
    $(post $train) data/$train exp/ivectors_dnn/extractor
  for s in $sets; do
    sid/extract_ivectors_dnn.sh --cmd "$train_cmd" --nj $nj exp/ivectors_dnn/extractor $(post $s) data/$s \
      exp/ivectors_dnn/ivectors_$s
  done
  # 3) BNF i-vector: the same chain on DNN-1 bottleneck features (no deltas), VAD from the MFCC set
  sid/train_diag_ubm.sh --cmd "$train_cmd" --nj $nj $ubm_opts --delta-order 0 data/${train}_bnf $ivector_ubm_size \
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
  # Demo sizes: the Kaldi network at a quarter of the width (128/384, 128-dim x-vectors) for 60 training speakers,
  # chunks of 100-150 frames (demo utterances have 150-440 voiced frames), utterances of more than 150 voiced
  # frames; Kaldi's schedule otherwise (35 repeats per speaker per archive, 3 epochs, lr 0.001 -> 0.0001,
  # minibatch 64, momentum 0.5). Full size: drop xvector_opts and use Kaldi's egs values (--min-len 500,
  # chunks 200-400, --frames-per-iter 1000000000, --num-heldout-utts 100).
  xvector_opts="model.frame_dims=[128,128,128,128,384] model.segment_dims=[128,128]"
  xvector_opts="$xvector_opts train.diagnostic_interval=100 train.checkpoint_interval=200 train.log_interval=50"
  egs_opts=(--num-heldout-utts 30 --frames-per-iter 1000000 --frames-per-iter-diagnostic 20000
            --min-frames-per-chunk 100 --max-frames-per-chunk 150 --num-diagnostic-archives 3 --num-repeats 35)
  # <system> <training data dir> <suffix of the feature dirs of demo_{train,enroll,test}: "-" for MFCC>
  for system in "mfcc demo_train -" "mfcc_aug demo_train_combined -" "bnf demo_train_combined_bnf _bnf" \
                "sbnf demo_train_combined_sbnf _sbnf" "mt_sbnf demo_train_combined_mtsbnf _mtsbnf"; do
    read -r name train sfx <<< "$system"
    [ "$sfx" = - ] && sfx=
    if [ ! -f data/$train/feats.scp ] || [ ! -f data/$train/vad.scp ]; then
      log "  x-vector $name: no data/$train/{feats,vad}.scp; skipped"
      continue
    fi
    nnet=exp/xvector_$name
    log "  x-vector $name: features of data/$train"
    sid/nnet/prepare_feats_for_egs.sh --nj $nj --cmd "$train_cmd" --min-len 150 --min-num-utts 8 \
      data/$train data/${train}_no_sil exp/${train}_no_sil
    sid/nnet/get_egs.sh --nj $nj --cmd "$train_cmd" "${egs_opts[@]}" data/${train}_no_sil $nnet/egs
    sid/nnet/train_xvector.sh --cmd "$cuda_cmd" --xvector-opts "$xvector_opts" $nnet/egs $nnet
    for set in demo_train demo_enroll demo_test; do
      sid/nnet/extract_xvectors.sh --nj $nj --cmd "$train_cmd" $nnet data/$set$sfx $nnet/xvectors_$set
    done
  done
fi

if [ $stage -le 8 ] && [ $stop_stage -ge 8 ]; then
  log "Stage 8: back end (mean, LDA, length norm, PLDA on demo_train) and evaluation of every system"
  # <system name in the table> <dir holding {xvectors,ivectors}_demo_{train,enroll,test}>
  reports=()
  for system in "ivector exp/ivectors_ubm" "dnn_ivector exp/ivectors_dnn" "bnf_ivector exp/ivectors_bnf" \
                "xvector_mfcc exp/xvector_mfcc" "xvector_mfcc_aug exp/xvector_mfcc_aug" \
                "xvector_bnf exp/xvector_bnf" "xvector_sbnf exp/xvector_sbnf" "xvector_mt_sbnf exp/xvector_mt_sbnf"; do
    read -r name dir <<< "$system"
    kind=xvectors; [[ $name == *ivector ]] && kind=ivectors
    if [ ! -d $dir/${kind}_demo_test ]; then
      log "  $name: no $dir/${kind}_demo_test; not scored"
      continue
    fi
    sid/score_plda.sh --cmd "$train_cmd" --lda-dim 150 data/demo_train $dir/${kind}_demo_train \
      data/demo_enroll $dir/${kind}_demo_enroll $dir/${kind}_demo_test data/demo_test/trials exp/scores/$name
    reports+=("$name=exp/scores/$name/scores")
  done
  if [ ${#reports[@]} -gt 0 ]; then
    baseline=xvector_mfcc_aug
    [ -f exp/scores/$baseline/scores ] || baseline=${reports[0]%%=*}
    python pyscripts/score_report.py --trials data/demo_test/trials --baseline $baseline \
      --det-plot exp/results_det.png --title "phonsid demo ($corpus)" --out exp/results.md "${reports[@]}"
    cat exp/results.md
  fi
fi

log "Done (stages $stage..$stop_stage)."
