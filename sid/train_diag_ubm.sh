#!/usr/bin/env bash
# Trains a diagonal-covariance UBM for speaker ID (Kaldi's sid/train_diag_ubm.sh): in-memory E-M on a random
# subset of frames starting from --initial-gauss-proportion of the Gaussians and splitting up to <num-gauss>,
# then --num-iters E-M passes over every --subsample'th frame in parallel, with Gaussian selection fixed from
# the initial model; low-count Gaussians are removed on the last pass only.
# Features: MFCC + deltas, sliding CMN (300 frames, means), voiced frames only (vad.scp) — computed in process.
#
# Usage: sid/train_diag_ubm.sh [options] <data> <num-gauss> <out-dir>
#  <data>       data dir with feats.scp and vad.scp
#  <num-gauss>  number of Gaussians (e.g. 2048)
#  <out-dir>    gets final.dubm, delta_opts and log/
# e.g.: sid/train_diag_ubm.sh --nj 4 data/train 2048 exp/diag_ubm_2048
set -euo pipefail

cmd=utils/run.pl                 # job launcher
nj=4                             # parallel jobs for the E-M passes
num_iters=4                      # E-M passes over the (subsampled) data after initialisation
stage=-2                         # -2 init, -1 Gaussian selection, 0.. E-M passes
num_gselect=30                   # Gaussians selected per frame for the E-M passes
num_frames=500000                # frames kept in memory for the initialisation
num_iters_init=20                # in-memory E-M iterations of the initialisation
initial_gauss_proportion=0.5     # start with this share of the Gaussians, split up to <num-gauss>
subsample=5                      # E-M passes use every n'th frame
min_gaussian_weight=0.0001       # Gaussians below this weight are not updated (removed on the last pass)
remove_low_count_gaussians=true  # false keeps the number of Gaussians fixed
num_threads=4                    # threads of the initialisation job
delta_window=2                   # add-deltas window (Kaldi's sre scripts use 3; the golden chain 2)
delta_order=2                    # add-deltas order (0: no deltas, e.g. for bottleneck features)
cmn_window=300                   # sliding CMN window
use_gpu=no                       # yes|no|optional: compute on a GPU
cleanup=true                     # remove accumulators and gselect files
srand=0                          # seed of the frame subset and initial means

help_message="$(sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
data=$1; num_gauss=$2; dir=$3

[ -f ./path.sh ] && . ./path.sh

for f in "$data/feats.scp" "$data/vad.scp"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done
[[ "$num_gauss" =~ ^[0-9]+$ ]] && [ "$num_gauss" -gt 0 ] || { echo "$0: bad num-gauss '$num_gauss'" >&2; exit 1; }
num_gauss_init=$(awk -v p="$initial_gauss_proportion" -v n="$num_gauss" 'BEGIN{print int(p * n)}')
[ "$num_gauss_init" -gt 0 ] || { echo "$0: invalid num-gauss-init $num_gauss_init" >&2; exit 1; }

# Skip when a run with the same command line finished, the features and VAD (the scps and their archives) are
# unchanged and final.dubm is as written (step_stamp.py).
stamp=$dir/.stamps/train_diag_ubm.json
stamp_opts=(--key="$signature" --in-scp "$data/feats.scp" --in-scp "$data/vad.scp"
            --out "$dir/final.dubm" --out "$dir/delta_opts" --out "$dir/cmn_opts")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $dir/final.dubm is up to date"
  exit 0
fi

mkdir -p "$dir/log"
utils/split_data.sh "$data" "$nj"
sdata=$data/split$nj

delta_opts="--delta-window=$delta_window --delta-order=$delta_order"
echo "$delta_opts" > "$dir/delta_opts"
echo "--cmn-window=$cmn_window" > "$dir/cmn_opts"
# In-process feature pipeline of the tools (add-deltas | apply-cmvn-sliding | select-voiced-frames).
feat_opts="$delta_opts --cmn-window=$cmn_window --use-gpu=$use_gpu"

run() {  # <log> <command...>: a single job; on failure name the log
  local log=$1; shift
  $cmd "$log" "$@" || { echo "$0: failed, see $log" >&2; tail -n 5 "$log" >&2 || true; exit 1; }
}
run_jobs() {  # <log with JOB> <command...>: nj jobs
  local log=$1; shift
  $cmd JOB=1:$nj "$log" "$@" || { echo "$0: failed, see ${log//JOB/*}" >&2; exit 1; }
}

if [ "$stage" -le -2 ]; then
  echo "$0: initialising from E-M in memory: $num_gauss_init -> $num_gauss Gaussians, $num_iters_init iterations, at most $num_frames frames"
  run "$dir/log/gmm_init.log" \
    gmm_global_init_from_feats.py --num-threads=$num_threads --num-frames=$num_frames --srand=$srand \
      --min-gaussian-weight=$min_gaussian_weight --num-gauss=$num_gauss --num-gauss-init=$num_gauss_init \
      --num-iters=$num_iters_init --vad-rspecifier=scp:$data/vad.scp $feat_opts \
      scp:$data/feats.scp "$dir/0.dubm"
fi

# Gaussian selection with the initial model, stored for all passes.
if [ "$stage" -le -1 ]; then
  echo "$0: Gaussian selection (top $num_gselect)"
  run_jobs "$dir/log/gselect.JOB.log" \
    gmm_gselect.py --n=$num_gselect --subsample=$subsample --vad-rspecifier=scp:$sdata/JOB/vad.scp $feat_opts \
      "$dir/0.dubm" scp:$sdata/JOB/feats.scp "ark:|gzip -c >$dir/gselect.JOB.gz"
fi

for x in $(seq 0 $((num_iters - 1))); do
  if [ "$stage" -le "$x" ]; then
    echo "$0: training pass $x"
    run_jobs "$dir/log/acc.$x.JOB.log" \
      gmm_global_acc_stats.py "--gselect=ark,s,cs:gunzip -c $dir/gselect.JOB.gz|" --subsample=$subsample \
        --vad-rspecifier=scp:$sdata/JOB/vad.scp $feat_opts "$dir/$x.dubm" scp:$sdata/JOB/feats.scp "$dir/$x.JOB.acc"
    if [ "$x" -lt $((num_iters - 1)) ]; then
      opt="--remove-low-count-gaussians=false"  # or the stored Gaussian selection would be invalidated
    else
      opt="--remove-low-count-gaussians=$remove_low_count_gaussians"
    fi
    run "$dir/log/update.$x.log" \
      gmm_global_est.py $opt --min-gaussian-weight=$min_gaussian_weight "$dir/$x.dubm" \
        "gmm_global_sum_accs.py - $dir/$x.*.acc |" "$dir/$((x + 1)).dubm"
    if $cleanup; then rm -f "$dir"/$x.*.acc "$dir/$x.dubm"; fi
  fi
done

if $cleanup; then rm -f "$dir"/gselect.*.gz; fi
if [ -f "$dir/$num_iters.dubm" ]; then mv "$dir/$num_iters.dubm" "$dir/final.dubm"; fi
[ -f "$dir/final.dubm" ] || { echo "$0: no $dir/final.dubm was produced" >&2; exit 1; }
step_stamp.py write "${stamp_opts[@]}" "$stamp"
removed=$(grep -c "removing Gaussian" "$dir/log/update.$((num_iters - 1)).log" || true)
echo "$0: trained $dir/final.dubm ($((num_gauss - removed)) Gaussians; $(grep -h 'Overall objective' "$dir/log/update.$((num_iters - 1)).log" | tail -n 1 | sed 's/.*improvement/improvement/'))"
