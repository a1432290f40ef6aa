#!/usr/bin/env bash
# Features for x-vector training egs (Kaldi's local/nnet3/xvector/prepare_feats_for_egs.sh plus the filters of
# egs/sre16/v2/run.sh stage 3): sliding CMN (centred window, means only) and removal of unvoiced frames, written
# to disk as compressed ark+scp with utt2num_frames; then utterances of --min-len frames or fewer (Kaldi keeps
# '$2 > min_len') and speakers with fewer than --min-num-utts utterances are dropped. What was dropped, with
# examples, is printed and kept in <feat-dir>/log/filter.log.
#
# Usage: sid/nnet/prepare_feats_for_egs.sh [options] <in-data-dir> <out-data-dir> <feat-dir>
#  e.g.: sid/nnet/prepare_feats_for_egs.sh --nj 40 data/train_combined data/train_combined_no_sil \
#          exp/train_combined_no_sil
# <in-data-dir> needs feats.scp and vad.scp; <feat-dir> gets the arks and log/.

nj=4              # number of parallel jobs
cmd=utils/run.pl  # job launcher (utils/run.pl, utils/slurm.pl, ...)
cmn_window=300    # sliding CMN window in frames (centred, means only)
compress=true     # write compressed matrices
min_len=500       # drop utterances with this many voiced frames or fewer (Kaldi: keep $2 > min_len)
min_num_utts=8    # then drop speakers with fewer utterances than this
stage=0           # 1: only redo the filters

help_message="$(sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//')"
echo "$0 $*"
[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "Usage: $0 [options] <in-data-dir> <out-data-dir> <feat-dir>"
  echo " e.g.: $0 --nj 40 data/train_combined data/train_combined_no_sil exp/train_combined_no_sil"
  echo "Options: --nj <n> --cmd <launcher> --cmn-window <frames|300> --compress <true|false>"
  echo "         --min-len <frames|500> --min-num-utts <n|8> --stage <n>"
  exit 1
fi

data_in=$1
data_out=$2
dir=$3
name=$(basename "$data_in")

for f in "$data_in/feats.scp" "$data_in/vad.scp" "$data_in/utt2spk" "$data_in/spk2utt"; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
[ "$(readlink -f "$data_in")" != "$(readlink -f "$data_out")" ] || {
  echo "$0: <in-data-dir> and <out-data-dir> must differ" >&2; exit 1; }

mkdir -p "$dir/log" "$data_out"
featdir=$(cd "$dir" && pwd)

# rerun-safe: skip when a run with the same options from the same input data dir (its tables, and the archives
# feats.scp and vad.scp point into) finished and the output is complete (step_stamp.py); --stage 1 always redoes
# the filters
stamp=$data_out/.stamps/prepare_feats_for_egs.json
stamp_opts=(--key="$data_in cmn_window=$cmn_window compress=$compress min_len=$min_len min_num_utts=$min_num_utts"
            --in-scp "$data_in/feats.scp" --in-scp "$data_in/vad.scp")
for f in utt2spk spk2utt wav.scp segments spk2gender utt2lang utt2uniq; do
  [ -f "$data_in/$f" ] && stamp_opts+=(--in "$data_in/$f")
done
stamp_opts+=(--out-scp "$data_out/feats.scp" --out "$data_out/utt2num_frames" --out "$data_out/utt2spk"
             --out "$data_out/spk2utt")
if [ "$stage" -le 0 ]; then
  if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
    echo "$0: $data_out is up to date ($stamp); nothing to do"
    exit 0
  fi
else
  rm -f "$stamp" "$stamp.pending"
fi

if [ "$stage" -le 0 ]; then
  # the per-utterance/speaker lists; features, VAD and CMVN stats are not copied (they change here)
  for f in utt2spk spk2utt wav.scp segments spk2gender utt2lang utt2uniq; do
    [ -f "$data_in/$f" ] && cp "$data_in/$f" "$data_out/$f"
  done
  rm -f "$data_out/feats.scp" "$data_out/vad.scp" "$data_out/cmvn.scp" "$data_out/utt2num_frames" \
        "$data_out/utt2dur"
  utils/split_data.sh "$data_in" "$nj" >/dev/null
  sdata=$data_in/split$nj
  echo "$0: sliding CMN (window $cmn_window) and voiced-frame selection for $data_in, $nj jobs"
  $cmd JOB=1:"$nj" "$dir/log/create_xvector_feats_${name}.JOB.log" \
    nnet_xvector_prepare_feats.py --cmn-window="$cmn_window" --compress="$compress" \
      --write-num-frames="ark,t:$featdir/log/utt2num_frames.JOB" \
      "scp:$sdata/JOB/feats.scp" "scp:$sdata/JOB/vad.scp" \
      "ark,scp:$featdir/xvector_feats_${name}.JOB.ark,$featdir/xvector_feats_${name}.JOB.scp" || {
    echo "$0: feature preparation failed; see $dir/log/create_xvector_feats_${name}.*.log" >&2; exit 1; }
  for n in $(seq "$nj"); do cat "$featdir/xvector_feats_${name}.$n.scp"; done | sort -k1,1 > "$data_out/feats.scp"
  for n in $(seq "$nj"); do cat "$featdir/log/utt2num_frames.$n"; done | sort -k1,1 > "$data_out/utt2num_frames"
fi

if [ "$stage" -le 1 ]; then
  nnet_xvector_filter_data.py --min-len="$min_len" --min-num-utts="$min_num_utts" "$data_out" \
    2>&1 | tee "$dir/log/filter.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "$0: filtering failed; see $dir/log/filter.log" >&2; exit 1; }
fi

step_stamp.py write "${stamp_opts[@]}" "$stamp"
n_in=$(wc -l < "$data_in/utt2spk")
n_out=$(wc -l < "$data_out/utt2spk")
s_out=$(wc -l < "$data_out/spk2utt")
echo "$0: wrote $data_out: $n_out of $n_in utterances, $s_out speakers (features in $dir)"
