#!/usr/bin/env bash
# Trains an i-vector extractor with DNN senone posteriors in place of the UBM's (Kaldi's
# sid/train_ivector_extractor_dnn.sh): the UBM from sid/init_full_ubm_from_dnn.sh, posteriors of the voiced
# frames from the DNN run in each job on <data-dnn> (or from stored log-posteriors), statistics on the speaker-ID
# features. Every option of sid/train_ivector_extractor.sh applies.
#
# Usage: sid/train_ivector_extractor_dnn.sh [options] <fgmm-model> <dnn-dir> <data> <data-dnn> <extractor-dir>
#    or: sid/train_ivector_extractor_dnn.sh [options] <fgmm-model> <logprob-scp> <data> <extractor-dir>
#  <fgmm-model>     full-covariance UBM with one Gaussian per DNN output (sid/init_full_ubm_from_dnn.sh)
#  <dnn-dir>        from steps/nnet/train_bnf.sh (final.pt)
#  <data>           speaker-ID data dir with feats.scp and vad.scp
#  <data-dnn>       the same utterances with the DNN's input features (e.g. hires MFCC)
#  <logprob-scp>    scp of the DNN log-posterior matrices of <data>'s utterances (all frames)
#  <extractor-dir>  output, as sid/train_ivector_extractor.sh
# e.g.: sid/train_ivector_extractor_dnn.sh --ivector-dim 500 exp/full_ubm_dnn/final.ubm exp/bnf1 \
#         data/train data/train_hires exp/extractor_dnn
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }
[ $# -ge 4 ] || usage
if [ $# -ge 5 ] && [ -f "${*: -4:1}/final.pt" ]; then   # Kaldi's form: the DNN runs in the jobs
  opts=("${@:1:$(($# - 5))}")
  fgmm=${*: -5:1}; dnn=${*: -4:1}; data=${*: -3:1}; dnn_data=${*: -2:1}; dir=${*: -1}
  exec sid/train_ivector_extractor.sh "${opts[@]}" --dnn "$dnn" --dnn-data "$dnn_data" "$fgmm" "$data" "$dir"
fi
opts=("${@:1:$(($# - 4))}")
fgmm=${*: -4:1}; logprob_scp=${*: -3:1}; data=${*: -2:1}; dir=${*: -1}
exec sid/train_ivector_extractor.sh "${opts[@]}" --logprob-scp "$logprob_scp" "$fgmm" "$data" "$dir"
