#!/usr/bin/env bash
# Makes a data dir of bottleneck features (Kaldi's steps/nnet3/make_bottleneck_features.sh): runs the bottleneck
# DNN of <dnn-dir> over the features of <data-in> (one job per part of the data dir, split by speaker) and writes
# <data-out>, a copy of <data-in> (utt2spk, spk2utt, text, vad.scp, utt2dur, wav.scp, segments, utt2uniq, trials,
# ...) whose feats.scp points at compressed archives of the bottleneck features (one row per input frame) and
# whose utt2num_frames is rewritten (and checked against <data-in>'s).
# The input must be what the DNN was trained on: hires MFCC for DNN-1 (data/<set>_hires), DNN-1 bottleneck
# features for DNN-2 (data/<set>_bnf). A DNN-2 normalises its input per speaker: the statistics are those of all
# of a speaker's utterances in <data-in> (its spk2utt), or of each utterance alone with --per-utt true.
#
# Usage: steps/nnet/make_bottleneck_features.sh [options] <dnn-dir> <data-in> <data-out> [<log-dir> [<bnf-dir>]]
#  <dnn-dir>   from steps/nnet/train_bnf.sh (final.pt)
#  <data-in>   data dir with feats.scp (the DNN's input features), utt2spk, spk2utt
#  <data-out>  the bottleneck-feature data dir
#  <log-dir>   job logs (default: <data-out>/log)
#  <bnf-dir>   archives (default: <data-out>/data)
# e.g.: steps/nnet/make_bottleneck_features.sh --nj 4 exp/bnf1 data/train_hires data/train_bnf
#       steps/nnet/make_bottleneck_features.sh --nj 4 exp/sbnf data/train_bnf data/train_sbnf

nj=4                # parallel jobs
cmd=utils/run.pl    # job launcher
use_gpu=no          # yes|no|auto
compress=true       # compressed archives (as copy-feats --compress)
per_utt=false       # per-speaker normalisation (DNN-2) with each utterance as its own speaker
batch_frames=20000  # frames per network call
max_failed_fraction=0.0  # fail if more than this fraction of utterances could not be processed

echo "$0 $*"
[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 5 ]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "Options: --nj <n> --cmd <launcher> --use-gpu <yes|no|auto> --compress <true|false> --per-utt <true|false>" >&2
  echo "         --batch-frames <n> --max-failed-fraction <f>" >&2
  exit 1
fi
dnn=$1
data=$2
out=$3
logdir=${4:-$out/log}
bnfdir=${5:-$out/data}
name=$(basename "$out")

for f in "$dnn/final.pt" "$data/feats.scp" "$data/utt2spk" "$data/spk2utt"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done
[ "$(cd "$data" && pwd)" != "$(mkdir -p "$out" && cd "$out" && pwd)" ] || {
  echo "$0: <data-in> and <data-out> must differ" >&2; exit 1; }
utils/validate_data_dir.sh --no-text --no-wav "$data" >&2 || { echo "$0: $data is not a valid data dir" >&2; exit 1; }
if [ -f "$dnn/feat_dim" ]; then
  in_dim=$(feat_to_dim.py "scp:$data/feats.scp" - 2>/dev/null || echo "?")
  [ "$in_dim" = "$(cat "$dnn/feat_dim")" ] || {
    echo "$0: $data has $in_dim-dim features, $dnn takes $(cat "$dnn/feat_dim")-dim input (DNN-1 wants hires" \
         "MFCC, DNN-2 the DNN-1 bottleneck features)" >&2; exit 1; }
fi

# Skip when a run with the same DNN, options and input data dir (its tables, and the archives feats.scp points
# into) finished and the output archives are complete (step_stamp.py).
stamp=$out/.stamps/make_bottleneck_features.json
stamp_opts=(--key="dnn=$dnn data=$data compress=$compress per_utt=$per_utt nj=$nj logdir=$logdir bnfdir=$bnfdir"
            --in "$dnn/final.pt" --in-scp "$data/feats.scp")
for f in "$data"/*; do [ -f "$f" ] && [ "$f" != "$data/feats.scp" ] && stamp_opts+=(--in "$f"); done
stamp_opts+=(--out-scp "$out/feats.scp" --out "$out/utt2num_frames")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $out/feats.scp is up to date; nothing to do"
  exit 0
fi

utils/copy_data_dir.sh "$data" "$out" >&2
rm -f "$out/feats.scp" "$out/cmvn.scp" "$out/utt2num_frames"
[ -f "$data/trials" ] && cp "$data/trials" "$out/trials"
mkdir -p "$logdir" "$bnfdir"
bnfdir=$(cd "$bnfdir" && pwd)  # the scp files point into it: make it absolute
utils/split_data.sh "$data" "$nj" >&2
sdata=$data/split$nj

case $use_gpu in
  yes|true) gpu_req=(--gpu 1) ;;
  *) gpu_req=() ;;
esac
rm -f "$bnfdir"/raw_bnfeat_$name.*.{ark,scp} "$bnfdir"/utt2num_frames_$name.*
echo "$0: computing bottleneck features of $data with $dnn ($nj jobs)"
$cmd "${gpu_req[@]}" JOB=1:"$nj" "$logdir/make_bnf_$name.JOB.log" \
  nnet_bnf_compute.py --output=bottleneck --compress="$compress" --use-gpu="$use_gpu" --per-utt="$per_utt" \
    --batch-frames="$batch_frames" --utt2spk="ark:$sdata/JOB/utt2spk" \
    --write-num-frames="ark,t:$bnfdir/utt2num_frames_$name.JOB" "$dnn" "scp:$sdata/JOB/feats.scp" \
    "ark,scp:$bnfdir/raw_bnfeat_$name.JOB.ark,$bnfdir/raw_bnfeat_$name.JOB.scp" || {
  echo "$0: bottleneck feature extraction failed; see $logdir/make_bnf_$name.*.log" >&2
  grep -h "^ERROR" "$logdir"/make_bnf_$name.*.log | head -n 5 >&2 || true
  exit 1; }

for j in $(seq "$nj"); do cat "$bnfdir/raw_bnfeat_$name.$j.scp"; done | LC_ALL=C sort -k1,1 > "$out/feats.scp.tmp"
mv "$out/feats.scp.tmp" "$out/feats.scp"
for j in $(seq "$nj"); do cat "$bnfdir/utt2num_frames_$name.$j"; done | LC_ALL=C sort -k1,1 > "$out/utt2num_frames.tmp"
mv "$out/utt2num_frames.tmp" "$out/utt2num_frames"
rm -f "$bnfdir"/utt2num_frames_$name.*

nu=$(wc -l < "$data/feats.scp")
nf=$(wc -l < "$out/feats.scp")
failed=$((nu - nf))
if [ "$failed" -gt 0 ]; then
  echo "$0: $failed of $nu utterances of $data got no bottleneck features:" >&2
  grep -h "^WARNING (nnet_bnf_compute.py) utterance" "$logdir"/make_bnf_$name.*.log | sed 's/^/  /' | head -n 10 >&2 || true
  if awk -v f="$failed" -v n="$nu" -v m="$max_failed_fraction" 'BEGIN{exit !(f > m * n)}'; then
    echo "$0: more than $max_failed_fraction of the utterances failed (--max-failed-fraction)" >&2
    exit 1
  fi
  utils/fix_data_dir.sh "$out" >&2
fi
# one output row per input frame
if [ -f "$data/utt2num_frames" ]; then
  if ! utils/filter_scp.pl "$out/utt2num_frames" "$data/utt2num_frames" | cmp -s - "$out/utt2num_frames"; then
    echo "$0: the frame counts of $out/utt2num_frames differ from $data/utt2num_frames" >&2
    exit 1
  fi
fi
utils/validate_data_dir.sh --no-text --no-wav "$out" >&2 || { echo "$0: $out did not validate" >&2; exit 1; }
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: wrote $(feat_to_dim.py "scp:$out/feats.scp" - 2>/dev/null)-dim bottleneck features of $nf utterances" \
     "($failed failed) to $out"
