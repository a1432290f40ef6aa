#!/usr/bin/env bash
# Trains an i-vector extractor (Kaldi's sid/train_ivector_extractor.sh): initialised from a full-covariance UBM
# (projections random, first column the UBM means), frame posteriors computed once (top --num-gselect Gaussians
# of the diagonal UBM, full-UBM posteriors pruned at --min-post, scaled by --posterior-scale; or, with
# --dnn and --dnn-data, the senone posteriors of a DNN run in the job on the voiced frames, or with --logprob-scp
# its stored log-posteriors, as in the DNN/i-vector system), then --num-iters E-M passes:
# statistics in parallel jobs, summed, and Kaldi's M-step (projections, variances with floor, prior).
#
# Usage: sid/train_ivector_extractor.sh [options] <fgmm-model> <data> <extractor-dir>
#  <fgmm-model>     full-covariance UBM (final.ubm of sid/train_full_ubm.sh or sid/init_full_ubm_from_dnn.sh)
#  <data>           data dir with feats.scp and vad.scp
#  <extractor-dir>  gets final.ie (-> <num-iters>.ie), final.ubm, final.dubm, delta_opts and log/
# e.g.: sid/train_ivector_extractor.sh --ivector-dim 500 --num-iters 5 exp/full_ubm/final.ubm data/train exp/extractor
set -euo pipefail

cmd=utils/run.pl              # job launcher
nj=10                         # parallel jobs (times --num-processes)
num_processes=1               # Kaldi's processes per job: here simply more jobs (nj * num_processes)
num_threads=1                 # threads per job (Kaldi: 4; keep nj x num_threads <= CPUs: oversubscribed
                              # torch threads slow down badly)
stage=-4                      # -2 init, -1 posteriors, 0.. E-M passes
num_gselect=20                # Gaussians selected per frame with the diagonal UBM
ivector_dim=400               # i-vector dimension
use_weights=false             # true: regress the log-weights on the i-vector
num_iters=10                  # E-M passes
min_post=0.025                # posteriors below this are pruned
num_samples_for_weights=3     # samples of the i-vector for the weight statistics (with --use-weights true)
posterior_scale=1.0           # scale on the posteriors (e.g. 0.1-0.3 to offset correlated frames)
dnn=                          # DNN dir (steps/nnet/train_bnf.sh) whose senone posteriors replace the UBM's ...
dnn_data=                     # ... computed from this data dir's features (the DNN's input, e.g. hires MFCC)
logprob_scp=                  # or: scp of the DNN's stored log-posteriors (all frames of each utterance)
use_gpu=no                    # yes|no|optional: compute on a GPU
batch_size=64                 # utterances per batch in the E-step
cleanup=true                  # remove statistics
srand=0                       # seed of the initial projections

help_message="$(sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -ne 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
fgmm_model=$1; data=$2; dir=$3
srcdir=$(dirname "$fgmm_model")

[ -f ./path.sh ] && . ./path.sh

if [ -n "$dnn$dnn_data" ] && { [ -z "$dnn" ] || [ -z "$dnn_data" ]; }; then
  echo "$0: --dnn and --dnn-data go together" >&2; exit 1
fi
[ -z "$dnn" ] || [ -z "$logprob_scp" ] || { echo "$0: give --dnn or --logprob-scp, not both" >&2; exit 1; }
for f in "$fgmm_model" "$data/feats.scp" "$data/vad.scp" ${logprob_scp:+"$logprob_scp"} \
         ${dnn:+"$dnn/final.pt" "$dnn_data/feats.scp"}; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done
# Skip when a run with the same command line finished, the UBM, features and VAD (the scps and their archives) are
# unchanged and final.ie is as written (step_stamp.py).
stamp=$dir/.stamps/train_ivector_extractor.json
stamp_opts=(--key="$signature" --in "$fgmm_model" --in-scp "$data/feats.scp" --in-scp "$data/vad.scp")
[ -n "$logprob_scp" ] && stamp_opts+=(--in-scp "$logprob_scp")
[ -n "$dnn" ] && stamp_opts+=(--in "$dnn/final.pt" --in-scp "$dnn_data/feats.scp")
for f in "$srcdir"/delta_opts "$srcdir"/cmn_opts; do [ -f "$f" ] && stamp_opts+=(--in "$f"); done
stamp_opts+=(--out "$dir/final.ie")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $dir/final.ie is up to date"
  exit 0
fi

mkdir -p "$dir/log"
nj_full=$((nj * num_processes))
utils/split_data.sh "$data" "$nj_full"
sdata=$data/split$nj_full

delta_opts=$(cat "$srcdir/delta_opts" 2>/dev/null || true)
cmn_opts=$(cat "$srcdir/cmn_opts" 2>/dev/null || true)
[ -f "$srcdir/delta_opts" ] && cp "$srcdir/delta_opts" "$dir/"
[ -f "$srcdir/cmn_opts" ] && cp "$srcdir/cmn_opts" "$dir/"
feat_opts="--vad-rspecifier=scp:$sdata/JOB/vad.scp $delta_opts $cmn_opts --use-gpu=$use_gpu"
feats=scp:$sdata/JOB/feats.scp

. sid/lib/dnn_posteriors.sh

run() {
  local log=$1; shift
  $cmd "$log" "$@" || { echo "$0: failed, see $log" >&2; tail -n 5 "$log" >&2 || true; exit 1; }
}
run_jobs() {
  local log=$1; shift
  $cmd --num-threads $num_threads JOB=1:$nj_full "$log" "$@" || { echo "$0: failed, see ${log//JOB/*}" >&2; exit 1; }
}

if [ "$stage" -le -2 ]; then
  cp "$fgmm_model" "$dir/final.ubm"
  run "$dir/log/convert.log" fgmm_global_to_gmm.py "$dir/final.ubm" "$dir/final.dubm"
  run "$dir/log/init.log" \
    ivector_extractor_init.py --ivector-dim=$ivector_dim --use-weights=$use_weights --srand=$srand \
      "$dir/final.ubm" "$dir/0.ie"
fi

if [ "$stage" -le -1 ]; then
  echo "$nj_full" > "$dir/num_jobs"
  if [ -n "$dnn$logprob_scp" ]; then
    echo "$0: posteriors from ${dnn:+the DNN $dnn on $dnn_data}${logprob_scp:+the DNN log-posteriors in $logprob_scp}"
    dnn_posteriors_cmd "$sdata" "$dir" "$nj_full" "ark:|gzip -c >$dir/post.JOB.gz" \
      --min-post=$min_post --posterior-scale=$posterior_scale
    run_jobs "$dir/log/post.JOB.log" "${posteriors_cmd[@]}"
    rm -f "$dir"/dnn_in.*.scp
  else
    echo "$0: Gaussian selection and posteriors"
    run_jobs "$dir/log/post.JOB.log" \
      sid_ubm_post.py --n=$num_gselect --min-post=$min_post --posterior-scale=$posterior_scale --num-threads=$num_threads \
        $feat_opts "$dir/final.dubm" "$dir/final.ubm" $feats "ark:|gzip -c >$dir/post.JOB.gz"
  fi
elif [ "$nj_full" -ne "$(cat "$dir/num_jobs")" ]; then
  echo "$0: number of jobs $nj_full differs from $(cat "$dir/num_jobs") of the stored posteriors" >&2
  exit 1
fi

x=0
while [ $x -lt "$num_iters" ]; do
  if [ "$stage" -le $x ]; then
    echo "$0: accumulating statistics (pass $x)"
    run_jobs "$dir/log/acc.$x.JOB.log" \
      ivector_extractor_acc_stats.py --num-threads=$num_threads --num-samples-for-weights=$num_samples_for_weights \
        --batch-size=$batch_size $feat_opts "$dir/$x.ie" $feats "ark,s,cs:gunzip -c $dir/post.JOB.gz|" "$dir/acc.$x.JOB"
    accs=$(for j in $(seq "$nj_full"); do printf '%s ' "$dir/acc.$x.$j"; done)
    run "$dir/log/sum_acc.$x.log" ivector_extractor_sum_accs.py $accs "$dir/acc.$x"
    rm -f "$dir"/acc.$x.[0-9]*
    echo "$0: updating the model (pass $x)"
    run "$dir/log/update.$x.log" \
      ivector_extractor_est.py --num-threads=$num_threads --use-gpu=$use_gpu "$dir/$x.ie" "$dir/acc.$x" "$dir/$((x + 1)).ie"
    if $cleanup; then rm -f "$dir/acc.$x"; fi
  fi
  x=$((x + 1))
done

[ -f "$dir/$x.ie" ] || { echo "$0: no $dir/$x.ie was produced" >&2; exit 1; }
ln -sf "$x.ie" "$dir/final.ie"
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: trained $dir/final.ie ($(grep -h 'auxf/frame on training data' "$dir/log/update.$((num_iters - 1)).log" | sed 's/.*(ivector-extractor-est) //'))"
