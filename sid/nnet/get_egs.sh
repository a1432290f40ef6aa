#!/usr/bin/env bash
# Dumps x-vector training examples (Kaldi's sid/nnet3/xvector/get_egs.sh): chunks of the features with their
# speaker labels, in archives of one chunk length each (drawn from [min, max] frames), about --num-repeats chunks
# per speaker per archive, random utterance and start; --num-heldout-utts utterances are held out for validation
# and as many training ones form a train-subset, both as --num-diagnostic-archives archives whose chunk lengths
# step from min to max. Archives are memory-mappable arrays (<egs-dir>/egs.K.feats.npy, .labels.npy, .ranges),
# read by sid/nnet/train_xvector.sh without per-example file opens.
#
# Usage: sid/nnet/get_egs.sh [options] <data-dir> <egs-dir>
#  e.g.: sid/nnet/get_egs.sh --nj 8 --frames-per-iter 1000000000 --frames-per-iter-diagnostic 100000 \
#          --min-frames-per-chunk 200 --max-frames-per-chunk 400 --num-diagnostic-archives 3 --num-repeats 35 \
#          data/train_combined_no_sil exp/xvector_nnet_1a/egs
# <data-dir> needs feats.scp (prepared by sid/nnet/prepare_feats_for_egs.sh), utt2num_frames, utt2spk.

cmd=utils/run.pl                # job launcher
nj=6                            # jobs writing the training archives (at most the number of archives)
min_frames_per_chunk=50         # chunk length range; one length per archive
max_frames_per_chunk=300
frames_per_iter=100000          # target frames per training archive (the archive count follows from it)
frames_per_iter_diagnostic=10000  # target frames per diagnostic archive
num_diagnostic_archives=3       # validation and train-subset archives (different chunk lengths)
num_heldout_utts=100            # utterances held out for validation (and size of the train-subset)
num_repeats=1                   # times each speaker repeats per archive
compress=true                   # store features as float16 (false: float32)
seed=0                          # seed of the held-out draws
srand=0                         # seed of the within-archive shuffle
stage=0

help_message="$(sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//')"
echo "$0 $*"
[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "Usage: $0 [options] <data-dir> <egs-dir>"
  echo " e.g.: $0 --num-repeats 35 --min-frames-per-chunk 200 --max-frames-per-chunk 400 data/train_no_sil exp/xvector/egs"
  echo "Options: --nj <n> --cmd <launcher> --min-frames-per-chunk <n> --max-frames-per-chunk <n>"
  echo "         --frames-per-iter <n> --frames-per-iter-diagnostic <n> --num-diagnostic-archives <n>"
  echo "         --num-heldout-utts <n> --num-repeats <n> --compress <true|false> --stage <n>"
  exit 1
fi

data=$1
dir=$2
for f in "$data/utt2num_frames" "$data/feats.scp" "$data/utt2spk"; do
  [ -f "$f" ] || { echo "$0: expected file $f" >&2; exit 1; }
done
mkdir -p "$dir/log" "$dir/info" "$dir/temp"
temp=$dir/temp
feats="scp:$data/feats.scp"

# rerun-safe: skip when egs made with the same options from the same features (feats.scp and its archives),
# utt2num_frames and utt2spk are complete (step_stamp.py); --stage > 0 always redoes the later stages
key="$data min=$min_frames_per_chunk max=$max_frames_per_chunk fpi=$frames_per_iter"
key="$key fpid=$frames_per_iter_diagnostic ndiag=$num_diagnostic_archives heldout=$num_heldout_utts"
key="$key repeats=$num_repeats compress=$compress seed=$seed srand=$srand"
stamp=$dir/.stamps/get_egs.json
stamp_opts=(--key="$key" --in-scp "$data/feats.scp" --in "$data/utt2num_frames" --in "$data/utt2spk")
if [ "$stage" -le 0 ]; then
  if step_stamp.py check "${stamp_opts[@]}" --out "$dir/info/num_archives" "$stamp"; then
    echo "$0: $dir is up to date ($stamp); nothing to do"
    exit 0
  fi
else
  rm -f "$stamp" "$stamp.pending"
fi

if [ "$stage" -le 0 ]; then
  echo "$0: preparing training and held-out lists"
  $cmd "$dir/log/lists.log" \
    nnet_xvector_egs_lists.py --num-heldout-utts="$num_heldout_utts" --num-repeats="$num_repeats" \
      --frames-per-iter="$frames_per_iter" --num-diagnostic-archives="$num_diagnostic_archives" \
      --min-frames-per-chunk="$min_frames_per_chunk" --seed="$seed" "$data" "$dir" || {
    echo "$0: failed; see $dir/log/lists.log" >&2; exit 1; }
fi

num_archives=$(cat "$dir/info/num_archives")
num_pdfs=$(cat "$dir/info/num_pdfs")
if [ "$nj" -gt "$num_archives" ]; then
  echo "$0: reducing --nj $nj to the number of training archives, $num_archives"
  nj=$num_archives
fi

if [ "$stage" -le 1 ]; then
  echo "$0: allocating $num_archives training archives and the diagnostic ones"
  rm -f "$temp"/ranges.* "$temp"/outputs.* "$temp"/train_subset_ranges.* "$temp"/valid_ranges.* \
        "$temp"/train_subset_outputs.* "$temp"/valid_outputs.*
  $cmd "$dir/log/allocate_examples_train.log" \
    nnet_xvector_allocate_egs.py --num-repeats="$num_repeats" \
      --min-frames-per-chunk="$min_frames_per_chunk" --max-frames-per-chunk="$max_frames_per_chunk" \
      --frames-per-iter="$frames_per_iter" --num-archives="$num_archives" --num-jobs="$nj" \
      --num-pdfs="$num_pdfs" --utt2len-filename="$temp/utt2num_frames.train" \
      --utt2int-filename="$temp/utt2int.train" --egs-dir="$dir" || {
    echo "$0: failed; see $dir/log/allocate_examples_train.log" >&2; exit 1; }
  for set in train_subset valid; do
    if [ -s "$temp/utt2int.$set" ]; then
      $cmd "$dir/log/allocate_examples_$set.log" \
        nnet_xvector_allocate_egs.py --prefix="$set" --num-repeats=1 \
          --min-frames-per-chunk="$min_frames_per_chunk" --max-frames-per-chunk="$max_frames_per_chunk" \
          --randomize-chunk-length=false --frames-per-iter="$frames_per_iter_diagnostic" \
          --num-archives="$num_diagnostic_archives" --num-jobs=1 --num-pdfs="$num_pdfs" \
          --utt2len-filename="$temp/utt2num_frames.$set" --utt2int-filename="$temp/utt2int.$set" \
          --egs-dir="$dir" || { echo "$0: failed; see $dir/log/allocate_examples_$set.log" >&2; exit 1; }
    fi
  done
fi

if [ "$stage" -le 2 ]; then
  echo "$0: writing the examples ($nj jobs)"
  rm -f "$dir"/egs.* "$dir"/train_subset_egs.* "$dir"/valid_egs.*
  $cmd JOB=1:"$nj" "$dir/log/train_create_examples.JOB.log" \
    nnet_xvector_get_egs.py --compress="$compress" --num-pdfs="$num_pdfs" --srand="$srand" \
      --outputs-file="$temp/outputs.JOB" "$temp/ranges.JOB" "$feats" || {
    echo "$0: failed; see $dir/log/train_create_examples.*.log" >&2; exit 1; }
  for set in train_subset valid; do
    if [ -f "$temp/${set}_ranges.1" ]; then
      $cmd "$dir/log/${set}_create_examples.1.log" \
        nnet_xvector_get_egs.py --compress="$compress" --num-pdfs="$num_pdfs" --srand="$srand" \
          --outputs-file="$temp/${set}_outputs.1" "$temp/${set}_ranges.1" "$feats" || {
        echo "$0: failed; see $dir/log/${set}_create_examples.1.log" >&2; exit 1; }
    fi
  done
fi

for k in $(seq "$num_archives"); do
  [ -f "$dir/egs.$k.feats.npy" ] || { echo "$0: training archive $dir/egs.$k is missing" >&2; exit 1; }
done
for f in "$dir"/* "$dir"/info/*; do [ -f "$f" ] && stamp_opts+=(--out "$f"); done
step_stamp.py write "${stamp_opts[@]}" "$stamp"
n_valid=$(ls "$dir"/valid_egs.*.feats.npy 2>/dev/null | wc -l)
n_subset=$(ls "$dir"/train_subset_egs.*.feats.npy 2>/dev/null | wc -l)
echo "$0: finished: $num_archives training archives, $n_valid validation and $n_subset train-subset archives" \
     "for $num_pdfs speakers in $dir"
