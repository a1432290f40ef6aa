#!/usr/bin/env bash
# Trains a monophone GMM-HMM from a flat start (Kaldi's steps/train_mono.sh): one pdf per phone state
# (3-state phones, 5-state silence), Gaussians with the global mean/variance, equal alignment, then
# --num-iters iterations of statistics + re-estimation, Viterbi re-alignment on --realign-iters and Gaussian
# splitting up to --totgauss. Features: per-speaker mean normalisation + Δ+ΔΔ, computed in-process.
#
# Usage: steps/train_mono.sh [options] <data-dir> <lang-dir> <exp-dir>
#  <data-dir>  data dir with feats.scp, text, utt2spk
#  <lang-dir>  lang dir made by prepare_lang.py
#  <exp-dir>   gets final.mdl, tree, ali.JOB.ark (transition ids of the last re-alignment), phones.txt,
#              feat_opts, num_jobs, like_per_frame.txt and log/
# e.g.: steps/train_mono.sh --nj 4 --cmd utils/run.pl data/demo_asr data/lang_demo exp/mono
set -euo pipefail

cmd=utils/run.pl               # job launcher
nj=4                           # parallel jobs (the data is split by speaker)
stage=-4                       # -4 init, -3 equal alignment, -2 first update, 1.. iterations
num_iters=40                   # training iterations
max_iter_inc=30                # the number of Gaussians grows until this iteration
totgauss=1000                  # target total number of Gaussians
power=0.25                     # Gaussians per pdf grow with occupancy^power
realign_iters="1 2 3 4 5 6 7 8 9 10 12 14 16 18 20 23 26 29 32 35 38"
scale_opts="--transition-scale=1.0 --acoustic-scale=0.1 --self-loop-scale=0.1"
feat_opts=""                   # extra feature-pipeline options of the tools, e.g. "--select-feats=0-12"
delta_order=2                  # Δ order (0: none)
cmn=true                       # per-speaker mean normalisation
init_frames=200000             # frames (of job 1) for the initial global mean/variance
device=cpu                     # torch device of the alignment (cpu, cuda)
cleanup=true                   # remove per-iteration models and statistics

help_message="$(sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
data=$1; lang=$2; dir=$3

[ -f ./path.sh ] && . ./path.sh

for f in "$data/feats.scp" "$data/text" "$data/utt2spk" "$lang/phones.txt" "$lang/topo" "$lang/phones/sets.int" \
         "$lang/phones/lexiconp.txt"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done

# Skip when a run with the same command line finished, the features (feats.scp and its archives), transcripts and
# lang dir are unchanged and final.mdl is as written (step_stamp.py).
stamp=$dir/.stamps/train_mono.json
stamp_opts=(--key="$signature" --in-scp "$data/feats.scp" --in "$data/text" --in "$data/utt2spk")
for f in "$lang"/* "$lang"/phones/*; do [ -f "$f" ] && stamp_opts+=(--in "$f"); done
stamp_opts+=(--out "$dir/final.mdl" --out "$dir/tree")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $dir/final.mdl is up to date"
  exit 0
fi

mkdir -p "$dir/log"
utils/split_data.sh "$data" "$nj"
sdata=$data/split$nj
echo "$nj" > "$dir/num_jobs"
cp "$lang/phones.txt" "$dir/phones.txt"
echo "--cmn=$cmn --delta-order=$delta_order $feat_opts" > "$dir/feat_opts"
fopts="--utt2spk=$sdata/JOB/utt2spk $(cat "$dir/feat_opts")"
feats="scp:$sdata/JOB/feats.scp"

run() {  # <log> <command...>: one job; on failure name the log
  local log=$1; shift
  $cmd "$log" "$@" || { echo "$0: failed, see $log" >&2; tail -n 5 "$log" >&2 || true; exit 1; }
}
run_jobs() {  # <log with JOB> <command...>: nj jobs
  local log=$1; shift
  $cmd JOB=1:$nj "$log" "$@" || { echo "$0: failed, see ${log//JOB/*}" >&2; exit 1; }
}
like_of() {  # average log-likelihood per frame of the statistics, from an update log
  sed -n 's/.*Average like per frame of the statistics \([-0-9.e+]*\).*/\1/p' "$1" | tail -n 1
}

if [ "$stage" -le -4 ]; then
  echo "$0: initializing monophone model"
  f1=${fopts//JOB/1}
  # shellcheck disable=SC2086
  run "$dir/log/init.log" gmm_init_mono.py --shared-phones="$lang/phones/sets.int" --max-frames="$init_frames" \
    --train-feats="scp:$sdata/1/feats.scp" $f1 "$lang/topo" 0 "$dir/0.mdl" "$dir/tree"
fi
numgauss=$(gmm_info.py "$dir/0.mdl" | awk '/number of gaussians/{print $NF}')
incgauss=$(( (totgauss - numgauss) / max_iter_inc ))
[ "$incgauss" -ge 0 ] || incgauss=0

if [ "$stage" -le -3 ]; then
  echo "$0: equal alignment and first statistics"
  # shellcheck disable=SC2086
  run_jobs "$dir/log/align.0.JOB.log" gmm_align.py --equal-align $fopts "$dir/tree" "$dir/0.mdl" "$lang" \
    "$feats" "$sdata/JOB/text" "ark:$dir/ali.JOB.ark"
  # shellcheck disable=SC2086
  run_jobs "$dir/log/acc.0.JOB.log" gmm_acc_stats_ali.py $fopts "$dir/0.mdl" "$feats" \
    "ark:$dir/ali.JOB.ark" "$dir/0.JOB.acc"
fi

if [ "$stage" -le -2 ]; then
  # as Kaldi: a lower minimum occupancy on the first update, so sparse phones still move off the global mean
  run "$dir/log/update.0.log" gmm_est.py --min-gaussian-occupancy=3 --mix-up="$numgauss" --power="$power" \
    "$dir/0.mdl" "gmm_sum_accs.py - $dir/0.*.acc |" "$dir/1.mdl"
  echo "0 $(like_of "$dir/log/update.0.log")" > "$dir/like_per_frame.txt"
  $cleanup && rm -f "$dir"/0.*.acc
fi

x=1
while [ "$x" -lt "$num_iters" ]; do
  if [ "$stage" -le "$x" ]; then
    echo "$0: pass $x"
    if echo " $realign_iters " | grep -q " $x "; then
      # shellcheck disable=SC2086
      run_jobs "$dir/log/align.$x.JOB.log" gmm_align.py $scale_opts --device="$device" $fopts "$dir/tree" \
        "$dir/$x.mdl" "$lang" "$feats" "$sdata/JOB/text" "ark:$dir/ali.JOB.ark"
    fi
    # shellcheck disable=SC2086
    run_jobs "$dir/log/acc.$x.JOB.log" gmm_acc_stats_ali.py $fopts "$dir/$x.mdl" "$feats" \
      "ark:$dir/ali.JOB.ark" "$dir/$x.JOB.acc"
    run "$dir/log/update.$x.log" gmm_est.py --write-occs="$dir/$((x + 1)).occs" --mix-up="$numgauss" \
      --power="$power" "$dir/$x.mdl" "gmm_sum_accs.py - $dir/$x.*.acc |" "$dir/$((x + 1)).mdl"
    echo "$x $(like_of "$dir/log/update.$x.log")" >> "$dir/like_per_frame.txt"
    if $cleanup; then
      rm -f "$dir/$x.mdl" "$dir"/$x.*.acc "$dir/$x.occs"
    fi
  fi
  [ "$x" -le "$max_iter_inc" ] && numgauss=$((numgauss + incgauss))
  x=$((x + 1))
done

ln -sf "$x.mdl" "$dir/final.mdl"
$cleanup && rm -f "$dir/0.mdl"
for n in $(seq "$nj"); do stamp_opts+=(--out "$dir/ali.$n.ark"); done
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: done training monophones in $dir: $(gmm_info.py "$dir/final.mdl" | awk '/pdfs|gaussians/{printf "%s %s; ", $3, $NF}')log-likelihood per frame $(awk 'NR==1{a=$2} END{print a " -> " $2}' "$dir/like_per_frame.txt")"
