#!/usr/bin/env bash
# Extracts i-vectors with DNN senone posteriors (Kaldi's sid/extract_ivectors_dnn.sh): posteriors of the voiced
# frames from the DNN run in each job on <data-dnn> (or from stored log-posteriors), statistics on the speaker-ID
# features; writes ivector.scp, spk_ivector.scp and num_utts.ark as sid/extract_ivectors.sh, whose options all
# apply.
#
# Usage: sid/extract_ivectors_dnn.sh [options] <extractor-dir> <dnn-dir> <data> <data-dnn> <ivector-dir>
#    or: sid/extract_ivectors_dnn.sh [options] <extractor-dir> <logprob-scp> <data> <ivector-dir>
#  <extractor-dir>  from sid/train_ivector_extractor_dnn.sh
#  <dnn-dir>        from steps/nnet/train_bnf.sh (final.pt)
#  <data>           speaker-ID data dir with feats.scp, vad.scp, spk2utt
#  <data-dnn>       the same utterances with the DNN's input features (e.g. hires MFCC)
#  <logprob-scp>    scp of the DNN log-posterior matrices of <data>'s utterances (all frames)
#  <ivector-dir>    output, as sid/extract_ivectors.sh
# e.g.: sid/extract_ivectors_dnn.sh --nj 20 exp/extractor_dnn exp/bnf1 data/test data/test_hires exp/ivectors_dnn_test
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }
[ $# -ge 4 ] || usage
if [ $# -ge 5 ] && [ -f "${*: -4:1}/final.pt" ]; then   # Kaldi's form: the DNN runs in the jobs
  opts=("${@:1:$(($# - 5))}")
  srcdir=${*: -5:1}; dnn=${*: -4:1}; data=${*: -3:1}; dnn_data=${*: -2:1}; dir=${*: -1}
  exec sid/extract_ivectors.sh "${opts[@]}" --dnn "$dnn" --dnn-data "$dnn_data" "$srcdir" "$data" "$dir"
fi
opts=("${@:1:$(($# - 4))}")
srcdir=${*: -4:1}; logprob_scp=${*: -3:1}; data=${*: -2:1}; dir=${*: -1}
exec sid/extract_ivectors.sh "${opts[@]}" --logprob-scp "$logprob_scp" "$srcdir" "$data" "$dir"
