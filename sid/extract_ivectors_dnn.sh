#!/usr/bin/env bash
# Extracts i-vectors with DNN senone posteriors (Kaldi's sid/extract_ivectors_dnn.sh): posteriors from the DNN's
# per-frame log-posteriors of the voiced frames, statistics on the speaker-ID features; writes ivector.scp,
# spk_ivector.scp and num_utts.ark as sid/extract_ivectors.sh, whose options all apply.
#
# Usage: sid/extract_ivectors_dnn.sh [options] <extractor-dir> <logprob-scp> <data> <ivector-dir>
#  <extractor-dir>  from sid/train_ivector_extractor_dnn.sh
#  <logprob-scp>    scp of the DNN log-posterior matrices of <data>'s utterances (all frames)
#  <data>           speaker-ID data dir with feats.scp, vad.scp, spk2utt
#  <ivector-dir>    output, as sid/extract_ivectors.sh
# e.g.: sid/extract_ivectors_dnn.sh --nj 20 exp/extractor_dnn exp/bnf1_post_test/logprob.scp data/test exp/ivectors_dnn_test
set -euo pipefail

if [ $# -lt 4 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 1
fi
opts=("${@:1:$(($# - 4))}")
srcdir=${*: -4:1}; logprob_scp=${*: -3:1}; data=${*: -2:1}; dir=${*: -1}
exec sid/extract_ivectors.sh "${opts[@]}" --logprob-scp "$logprob_scp" "$srcdir" "$data" "$dir"
