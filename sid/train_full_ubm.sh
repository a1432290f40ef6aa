#!/usr/bin/env bash
# Trains a full-covariance UBM for speaker ID from a diagonal (final.dubm) or full (final.ubm) one (Kaldi's
# sid/train_full_ubm.sh): Gaussian selection once with the diagonal form of the starting model, then
# --num-iters E-M passes over every --subsample'th frame in parallel; low-count Gaussians are removed on the
# last pass only. Features as the source dir's (its delta_opts), voiced frames only.
#
# Usage: sid/train_full_ubm.sh [options] <data> <src-ubm-dir> <out-dir>
#  <data>         data dir with feats.scp and vad.scp
#  <src-ubm-dir>  dir with final.dubm (e.g. from sid/train_diag_ubm.sh) or final.ubm
#  <out-dir>      gets final.ubm, delta_opts and log/
# e.g.: sid/train_full_ubm.sh --nj 8 data/train exp/diag_ubm_2048 exp/full_ubm_2048
set -euo pipefail

cmd=utils/run.pl                 # job launcher
nj=16                            # parallel jobs
num_gselect=20                   # Gaussians selected per frame (with the diagonal form of the starting model)
subsample=5                      # use every n'th frame
num_iters=4                      # E-M passes
stage=-2                         # -2 convert, -1 Gaussian selection, 0.. E-M passes
min_gaussian_weight=1.0e-04      # Gaussians below this weight are not updated (removed on the last pass)
remove_low_count_gaussians=true  # false keeps the number of Gaussians fixed
use_gpu=no                       # yes|no|optional: compute on a GPU
cleanup=true                     # remove accumulators, intermediate models and gselect files

help_message="$(sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
data=$1; srcdir=$2; dir=$3

[ -f ./path.sh ] && . ./path.sh

for f in "$data/feats.scp" "$data/vad.scp"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done
# Skip when a run with the same command line finished, the features and VAD (the scps and their archives) and the
# starting model are unchanged and final.ubm is as written (step_stamp.py).
stamp=$dir/.stamps/train_full_ubm.json
stamp_opts=(--key="$signature" --in-scp "$data/feats.scp" --in-scp "$data/vad.scp")
for f in "$srcdir"/final.dubm "$srcdir"/final.ubm "$srcdir"/delta_opts "$srcdir"/cmn_opts; do
  [ -f "$f" ] && stamp_opts+=(--in "$f")
done
stamp_opts+=(--out "$dir/final.ubm")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $dir/final.ubm is up to date"
  exit 0
fi

mkdir -p "$dir/log"
echo "$nj" > "$dir/num_jobs"
utils/split_data.sh "$data" "$nj"
sdata=$data/split$nj

delta_opts=$(cat "$srcdir/delta_opts" 2>/dev/null || true)
cmn_opts=$(cat "$srcdir/cmn_opts" 2>/dev/null || true)
[ -f "$srcdir/delta_opts" ] && cp "$srcdir/delta_opts" "$dir/"
[ -f "$srcdir/cmn_opts" ] && cp "$srcdir/cmn_opts" "$dir/"
feat_opts="--vad-rspecifier=scp:$sdata/JOB/vad.scp $delta_opts $cmn_opts --subsample=$subsample --use-gpu=$use_gpu"
feats=scp:$sdata/JOB/feats.scp

run() {
  local log=$1; shift
  $cmd "$log" "$@" || { echo "$0: failed, see $log" >&2; tail -n 5 "$log" >&2 || true; exit 1; }
}
run_jobs() {
  local log=$1; shift
  $cmd JOB=1:$nj "$log" "$@" || { echo "$0: failed, see ${log//JOB/*}" >&2; exit 1; }
}

if [ "$stage" -le -2 ]; then
  if [ -f "$srcdir/final.dubm" ]; then
    run "$dir/log/convert_diag_to_full.log" gmm_global_to_fgmm.py "$srcdir/final.dubm" "$dir/0.ubm"
  elif [ -f "$srcdir/final.ubm" ]; then
    cp "$srcdir/final.ubm" "$dir/0.ubm"
  else
    echo "$0: in $srcdir, expecting final.ubm or final.dubm to exist" >&2
    exit 1
  fi
fi

if [ "$stage" -le -1 ]; then
  echo "$0: Gaussian selection (diagonal form of the model, top $num_gselect)"
  run_jobs "$dir/log/gselect.JOB.log" \
    gmm_gselect.py --n=$num_gselect $feat_opts "fgmm_global_to_gmm.py $dir/0.ubm - |" $feats "ark:|gzip -c >$dir/gselect.JOB.gz"
fi

x=0
while [ $x -lt "$num_iters" ]; do
  if [ "$stage" -le $x ]; then
    echo "$0: pass $x"
    run_jobs "$dir/log/acc.$x.JOB.log" \
      fgmm_global_acc_stats.py "--gselect=ark,s,cs:gunzip -c $dir/gselect.JOB.gz|" $feat_opts "$dir/$x.ubm" $feats "$dir/$x.JOB.acc"
    if [ $((x + 1)) -eq "$num_iters" ]; then
      lowcount_opt="--remove-low-count-gaussians=$remove_low_count_gaussians"
    else
      lowcount_opt="--remove-low-count-gaussians=false"  # the stored Gaussian selection must stay valid
    fi
    run "$dir/log/update.$x.log" \
      fgmm_global_est.py $lowcount_opt --min-gaussian-weight=$min_gaussian_weight --verbose=2 "$dir/$x.ubm" \
        "fgmm_global_sum_accs.py - $dir/$x.*.acc |" "$dir/$((x + 1)).ubm"
    if $cleanup; then rm -f "$dir"/$x.*.acc "$dir/$x.ubm"; fi
  fi
  x=$((x + 1))
done

if $cleanup; then rm -f "$dir"/gselect.*.gz; fi
if [ -f "$dir/$x.ubm" ]; then mv "$dir/$x.ubm" "$dir/final.ubm"; fi
[ -f "$dir/final.ubm" ] || { echo "$0: no $dir/final.ubm was produced" >&2; exit 1; }
step_stamp.py write "${stamp_opts[@]}" "$stamp"
removed=$(grep -c "removing Gaussian" "$dir/log/update.$((num_iters - 1)).log" || true)
echo "$0: trained $dir/final.ubm ($removed Gaussians removed on the last pass; $(grep -h 'Overall objective' "$dir/log/update.$((num_iters - 1)).log" | tail -n 1 | sed 's/.*improvement/improvement/'))"
