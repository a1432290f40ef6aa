#!/usr/bin/env bash
# Writes the per-frame senone log-posteriors (natural log, one row per input frame, all frames) of a bottleneck
# DNN for every utterance of a data dir: the DNN/i-vector system's frame alignment to the senones
# (sid/init_full_ubm_from_dnn.sh, sid/train_ivector_extractor_dnn.sh, sid/extract_ivectors_dnn.sh take
# <out-dir>/logprob.scp). One job per part of the data dir, split by speaker.
#
# Usage: steps/nnet/compute_posteriors.sh [options] <dnn-dir> <data-in> <out-dir>
#  <dnn-dir>  from steps/nnet/train_bnf.sh (final.pt); normally DNN-1
#  <data-in>  data dir with the DNN's input features (hires MFCC for DNN-1), utt2spk, spk2utt
#  <out-dir>  gets logprob.<job>.ark, logprob.scp (sorted), num_pdfs and log/
# e.g.: steps/nnet/compute_posteriors.sh --nj 4 exp/bnf1 data/train_hires exp/bnf1_post_train
# Size: 4 bytes per senone per frame (8700 senones: 3.5 MB per second of audio, ~43 TB for the paper's SRE10
# sets at 4,200 senones); --compress true quarters it at the cost of Kaldi's 8-bit-per-column-range rounding of the
# log-posteriors. For inspection and small sets: run.sh lets the sid/*_dnn.sh scripts run the DNN in their jobs
# on the voiced frames instead (Kaldi's form, nothing stored; the same bits).

nj=4                # parallel jobs
cmd=utils/run.pl    # job launcher
use_gpu=no          # yes|no|auto
output=log-posteriors  # log-posteriors | posteriors
compress=false      # compressed matrices
per_utt=false       # per-speaker normalisation (DNN-2 input) with each utterance as its own speaker
batch_frames=20000  # frames per network call

echo "$0 $*"
[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh
set -euo pipefail

if [ $# -ne 3 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "Options: --nj <n> --cmd <launcher> --use-gpu <yes|no|auto> --output <log-posteriors|posteriors>" >&2
  echo "         --compress <true|false> --per-utt <true|false> --batch-frames <n>" >&2
  exit 1
fi
dnn=$1
data=$2
dir=$3
case $output in log-posteriors|posteriors) ;; *) echo "$0: bad --output $output" >&2; exit 1 ;; esac
for f in "$dnn/final.pt" "$data/feats.scp" "$data/utt2spk" "$data/spk2utt"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done
name=logprob
[ "$output" = posteriors ] && name=post

mkdir -p "$dir/log"
# Skip when a run with the same DNN, options and input features (feats.scp, the archives it points into, utt2spk,
# spk2utt) finished and the output archives are complete (step_stamp.py).
stamp=$dir/.stamps/compute_posteriors_$name.json
stamp_opts=(--key="dnn=$dnn data=$data output=$output compress=$compress per_utt=$per_utt nj=$nj"
            --in "$dnn/final.pt" --in "$dnn/num_pdfs" --in-scp "$data/feats.scp" --in "$data/utt2spk"
            --in "$data/spk2utt" --out-scp "$dir/$name.scp" --out "$dir/num_pdfs")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $dir/$name.scp is up to date; nothing to do"
  exit 0
fi
dir=$(cd "$dir" && pwd)  # the scp files point into it: make it absolute
utils/split_data.sh "$data" "$nj" >&2
sdata=$data/split$nj
case $use_gpu in
  yes|true) gpu_req=(--gpu 1) ;;
  *) gpu_req=() ;;
esac
rm -f "$dir"/$name.*.ark "$dir"/$name.*.scp
$cmd "${gpu_req[@]}" JOB=1:"$nj" "$dir/log/compute_posteriors.JOB.log" \
  nnet_bnf_compute.py --output="$output" --compress="$compress" --use-gpu="$use_gpu" --per-utt="$per_utt" \
    --batch-frames="$batch_frames" --utt2spk="ark:$sdata/JOB/utt2spk" "$dnn" "scp:$sdata/JOB/feats.scp" \
    "ark,scp:$dir/$name.JOB.ark,$dir/$name.JOB.scp" || {
  echo "$0: computing posteriors failed; see $dir/log/compute_posteriors.*.log" >&2; exit 1; }
for j in $(seq "$nj"); do cat "$dir/$name.$j.scp"; done | LC_ALL=C sort -k1,1 > "$dir/$name.scp.tmp"
mv "$dir/$name.scp.tmp" "$dir/$name.scp"
rm -f "$dir"/$name.*[0-9].scp
cp "$dnn/num_pdfs" "$dir/num_pdfs"
nu=$(wc -l < "$data/feats.scp")
nf=$(wc -l < "$dir/$name.scp")
[ "$nf" -eq "$nu" ] || echo "$0: warning: $((nu - nf)) of $nu utterances got no posteriors (see $dir/log)" >&2
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: wrote $output over $(cat "$dnn/num_pdfs") senones for $nf utterances to $dir/$name.scp"
