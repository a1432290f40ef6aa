#!/usr/bin/env bash
# Extracts x-vectors (Kaldi's sid/nnet3/xvector/extract_xvectors.sh): the recipe's feature transform (sliding CMN
# over 300 frames, voiced frames only), then chunks of up to --chunk-size frames (short ones padded to
# --min-chunk-size by repeating edge frames), averaged with weights equal to chunk lengths. Writes xvector.scp,
# the per-speaker means spk_xvector.scp and num_utts.ark.
#
# Usage: sid/nnet/extract_xvectors.sh [options] <nnet-dir> <data-dir> <xvector-dir>
#  e.g.: sid/nnet/extract_xvectors.sh --nj 40 exp/xvector_nnet_1a data/sre16_eval_test exp/xvectors_sre16_eval_test
# <data-dir> needs feats.scp and vad.scp.

nj=4              # number of parallel jobs
cmd=utils/run.pl  # job launcher
chunk_size=-1     # frames per chunk; <= 0: the network's max_chunk_size (10000)
min_chunk_size=-1 # shortest chunk, padded up to; <= 0: the network's min_chunk_size (25)
cmn_window=300    # sliding CMN window (0: features used as they are)
use_gpu=auto      # true|false|auto (auto: a GPU when there is one)
stage=0

help_message="$(sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//')"
echo "$0 $*"
[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "Usage: $0 [options] <nnet-dir> <data-dir> <xvector-dir>"
  echo " e.g.: $0 --nj 40 exp/xvector_nnet_1a data/test exp/xvectors_test"
  echo "Options: --nj <n> --cmd <launcher> --chunk-size <frames> --min-chunk-size <frames>"
  echo "         --cmn-window <frames|300> --use-gpu <true|false|auto> --stage <n>"
  exit 1
fi

srcdir=$1
data=$2
dir=$3
for f in "$srcdir/final.pt" "$data/feats.scp" "$data/vad.scp" "$data/spk2utt"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
[ "$chunk_size" -gt 0 ] || chunk_size=$(cat "$srcdir/max_chunk_size" 2>/dev/null || echo 10000)
[ "$min_chunk_size" -gt 0 ] || min_chunk_size=$(cat "$srcdir/min_chunk_size" 2>/dev/null || echo 25)
if [ -f "$srcdir/max_chunk_size" ] && [ "$chunk_size" -gt "$(cat "$srcdir/max_chunk_size")" ]; then
  echo "$0: --chunk-size $chunk_size is larger than the network's max_chunk_size $(cat "$srcdir/max_chunk_size")" >&2
  exit 1
fi
case $use_gpu in
  true|yes) gpu_opt=yes; gpu_req=(--gpu 1) ;;
  auto|optional) gpu_opt=optional; gpu_req=() ;;
  *) gpu_opt=no; gpu_req=() ;;
esac

mkdir -p "$dir/log"
# Skip when a run with the same options, network and data (feats.scp and vad.scp with the archives they point
# into, spk2utt) finished and its x-vector archives are complete (step_stamp.py); --stage > 0 always redoes the
# later stages.
stamp=$dir/.stamps/extract_xvectors.json
stamp_opts=(--key="$srcdir $data chunk_size=$chunk_size min_chunk_size=$min_chunk_size cmn_window=$cmn_window nj=$nj"
            --in "$srcdir/final.pt" --in-scp "$data/feats.scp" --in-scp "$data/vad.scp" --in "$data/spk2utt"
            --out-scp "$dir/xvector.scp" --out-scp "$dir/spk_xvector.scp" --out "$dir/num_utts.ark")
if [ "$stage" -le 0 ]; then
  if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
    echo "$0: $dir/xvector.scp is up to date ($stamp); nothing to do"
    exit 0
  fi
else
  rm -f "$stamp" "$stamp.pending"
fi

if [ "$stage" -le 0 ]; then
  utils/split_data.sh "$data" "$nj" >/dev/null
  sdata=$data/split$nj
  echo "$0: extracting x-vectors for $data ($nj jobs, chunks of $chunk_size frames, min $min_chunk_size)"
  $cmd "${gpu_req[@]}" JOB=1:"$nj" "$dir/log/extract.JOB.log" \
    nnet_xvector_compute.py --use-gpu="$gpu_opt" --chunk-size="$chunk_size" --min-chunk-size="$min_chunk_size" \
      --cmn-window="$cmn_window" --vad-rspecifier="scp:$sdata/JOB/vad.scp" "$srcdir/final.pt" \
      "scp:$sdata/JOB/feats.scp" "ark,scp:$dir/xvector.JOB.ark,$dir/xvector.JOB.scp" || {
    echo "$0: extraction failed; see $dir/log/extract.*.log" >&2; exit 1; }
fi

if [ "$stage" -le 1 ]; then
  for j in $(seq "$nj"); do cat "$dir/xvector.$j.scp"; done | sort -k1,1 > "$dir/xvector.scp.tmp"
  mv "$dir/xvector.scp.tmp" "$dir/xvector.scp"
fi

if [ "$stage" -le 2 ]; then
  # speaker means: plain averages of the utterance x-vectors (not length-normalised)
  $cmd "$dir/log/speaker_mean.log" \
    ivector_mean.py "ark:$data/spk2utt" "scp:$dir/xvector.scp" \
      "ark,scp:$dir/spk_xvector.ark,$dir/spk_xvector.scp" "ark,t:$dir/num_utts.ark" || {
    echo "$0: speaker means failed; see $dir/log/speaker_mean.log" >&2; exit 1; }
fi

step_stamp.py write "${stamp_opts[@]}" "$stamp"
n_data=$(wc -l < "$data/feats.scp")
n_out=$(wc -l < "$dir/xvector.scp")
n_spk=$(wc -l < "$dir/spk_xvector.scp")
[ "$n_out" -eq "$n_data" ] || echo "$0: warning: $((n_data - n_out)) of $n_data utterances got no x-vector" \
  "(see $dir/log/extract.*.log)"
echo "$0: wrote $n_out x-vectors and $n_spk speaker x-vectors to $dir"
