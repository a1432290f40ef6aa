#!/usr/bin/env bash
# Trains an i-vector extractor with DNN senone posteriors in place of the UBM's (Kaldi's
# sid/train_ivector_extractor_dnn.sh): the UBM from sid/init_full_ubm_from_dnn.sh, posteriors from the DNN's
# per-frame log-posteriors of the voiced frames, statistics on the speaker-ID features. Every option of
# sid/train_ivector_extractor.sh applies.
#
# Usage: sid/train_ivector_extractor_dnn.sh [options] <fgmm-model> <logprob-scp> <data> <extractor-dir>
#  <fgmm-model>     full-covariance UBM with one Gaussian per DNN output (sid/init_full_ubm_from_dnn.sh)
#  <logprob-scp>    scp of the DNN log-posterior matrices of <data>'s utterances (all frames)
#  <data>           speaker-ID data dir with feats.scp and vad.scp
#  <extractor-dir>  output, as sid/train_ivector_extractor.sh
# e.g.: sid/train_ivector_extractor_dnn.sh --ivector-dim 500 exp/full_ubm_dnn/final.ubm \
#         exp/bnf1_post_train/logprob.scp data/train exp/extractor_dnn
set -euo pipefail

if [ $# -lt 4 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 1
fi
opts=("${@:1:$(($# - 4))}")
fgmm=${*: -4:1}; logprob_scp=${*: -3:1}; data=${*: -2:1}; dir=${*: -1}
exec sid/train_ivector_extractor.sh "${opts[@]}" --logprob-scp "$logprob_scp" "$fgmm" "$data" "$dir"
