#!/usr/bin/env bash
# Extracts i-vectors (Kaldi's sid/extract_ivectors.sh): frame posteriors from the extractor dir's UBM (top
# --num-gselect Gaussians of final.dubm, full-UBM posteriors pruned at --min-post) or DNN senone posteriors (with
# --dnn and --dnn-data, the DNN run in the job on the voiced frames; with --logprob-scp, its stored
# log-posteriors); i-vectors of the utterances (ivector.scp), and per speaker the mean of the
# length-normalised i-vectors, length-normalised again (spk_ivector.scp, num_utts.ark).
#
# Usage: sid/extract_ivectors.sh [options] <extractor-dir> <data> <ivector-dir>
#  <extractor-dir>  dir with final.ie, final.ubm (and final.dubm, delta_opts) from sid/train_ivector_extractor.sh
#  <data>           data dir with feats.scp, vad.scp, spk2utt
#  <ivector-dir>    gets ivector.scp (ivector.JOB.ark), spk_ivector.scp, num_utts.ark and log/
# e.g.: sid/extract_ivectors.sh --nj 40 exp/extractor data/sre10_test exp/ivectors_sre10_test
set -euo pipefail

cmd=utils/run.pl        # job launcher
nj=30                   # parallel jobs
num_threads=1           # threads per job
stage=0                 # 0 extraction, 1 combine, 2 speaker means
num_gselect=20          # Gaussians selected per frame with the diagonal UBM
min_post=0.025          # posteriors below this are pruned
posterior_scale=1.0     # scale on the posteriors
dnn=                    # DNN dir (steps/nnet/train_bnf.sh) whose senone posteriors replace the UBM's ...
dnn_data=               # ... computed from this data dir's features (the DNN's input, e.g. hires MFCC)
logprob_scp=            # or: scp of the DNN's stored log-posteriors (all frames of each utterance)
use_gpu=no              # yes|no|optional: compute on a GPU
batch_size=64           # utterances per batch

help_message="$(sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//')"
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
srcdir=$1; data=$2; dir=$3

[ -f ./path.sh ] && . ./path.sh

if [ -n "$dnn$dnn_data" ] && { [ -z "$dnn" ] || [ -z "$dnn_data" ]; }; then
  echo "$0: --dnn and --dnn-data go together" >&2; exit 1
fi
[ -z "$dnn" ] || [ -z "$logprob_scp" ] || { echo "$0: give --dnn or --logprob-scp, not both" >&2; exit 1; }
for f in "$srcdir/final.ie" "$srcdir/final.ubm" "$data/feats.scp" "$data/vad.scp" "$data/spk2utt" \
         ${logprob_scp:+"$logprob_scp"} ${dnn:+"$dnn/final.pt" "$dnn_data/feats.scp"}; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done

mkdir -p "$dir/log"
utils/split_data.sh "$data" "$nj"
sdata=$data/split$nj

delta_opts=$(cat "$srcdir/delta_opts" 2>/dev/null || true)
cmn_opts=$(cat "$srcdir/cmn_opts" 2>/dev/null || true)
feat_opts="--vad-rspecifier=scp:$sdata/JOB/vad.scp $delta_opts $cmn_opts --use-gpu=$use_gpu"
feats=scp:$sdata/JOB/feats.scp
dubm="$srcdir/final.dubm"
[ -f "$dubm" ] || dubm="fgmm_global_to_gmm.py $srcdir/final.ubm - |"

. sid/lib/dnn_posteriors.sh
if [ "$stage" -le 0 ]; then
  echo "$0: extracting i-vectors"
  if [ -n "$dnn$logprob_scp" ]; then
    dnn_posteriors_cmd "$sdata" "$dir" "$nj" ark:- --min-post=$min_post --posterior-scale=$posterior_scale
    posteriors=("${posteriors_cmd[@]}")
  else
    posteriors=(sid_ubm_post.py --n=$num_gselect --min-post=$min_post --posterior-scale=$posterior_scale
                --num-threads=$num_threads $feat_opts "$dubm" "$srcdir/final.ubm" $feats ark:-)
  fi
  $cmd --num-threads $num_threads JOB=1:$nj "$dir/log/extract_ivectors.JOB.log" \
    "${posteriors[@]}" \| \
    ivector_extract.py --verbose=2 --num-threads=$num_threads --batch-size=$batch_size $feat_opts "$srcdir/final.ie" $feats \
      ark,s,cs:- "ark,scp,t:$dir/ivector.JOB.ark,$dir/ivector.JOB.scp" \
    || { echo "$0: extraction failed, see $dir/log/extract_ivectors.*.log" >&2; exit 1; }
  rm -f "$dir"/dnn_in.*.scp
fi

if [ "$stage" -le 1 ]; then
  for j in $(seq "$nj"); do cat "$dir/ivector.$j.scp"; done > "$dir/ivector.scp"
  n_in=$(wc -l < "$data/feats.scp"); n_out=$(wc -l < "$dir/ivector.scp")
  if [ "$n_out" -lt "$n_in" ]; then
    echo "$0: warning: i-vectors for $n_out of $n_in utterances (see $dir/log/extract_ivectors.*.log)" >&2
  fi
  [ "$n_out" -gt 0 ] || { echo "$0: no i-vectors were extracted" >&2; exit 1; }
fi

if [ "$stage" -le 2 ]; then
  # Speaker-level i-vectors are means of the length-normalised utterance i-vectors, length-normalised again.
  $cmd "$dir/log/speaker_mean.log" \
    ivector_normalize_length.py scp:$dir/ivector.scp ark:- \| \
    ivector_mean.py ark:$data/spk2utt ark:- ark:- ark,t:$dir/num_utts.ark \| \
    ivector_normalize_length.py ark:- ark,scp:$dir/spk_ivector.ark,$dir/spk_ivector.scp \
    || { echo "$0: failed, see $dir/log/speaker_mean.log" >&2; exit 1; }
fi

echo "$0: extracted $(wc -l < "$dir/ivector.scp") utterance and $(wc -l < "$dir/spk_ivector.scp") speaker i-vectors in $dir"
