#!/usr/bin/env bash
# phonsid recipe: speaker recognition with phonetic bottleneck features (Rahman et al., Interspeech 2018).
# Usage: bash run.sh [--stage N] [--stop-stage M] [--corpus demo] [--nj J]
#   Stage 0  data preparation (Kaldi data dirs)
#   Later stages are added as they are implemented; see the README.
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

log "Done (stages $stage..$stop_stage)."
