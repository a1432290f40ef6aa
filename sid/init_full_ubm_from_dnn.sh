#!/usr/bin/env bash
# Derives a full-covariance UBM from DNN posteriors and speaker-ID features (Kaldi's
# sid/init_full_ubm_from_dnn.sh): one Gaussian per DNN output class (senone), its weight, mean and covariance
# the statistics of the speaker features weighted by the senone posteriors of the voiced frames.
# As Kaldi's, the DNN runs in each job on the voiced frames of <data-dnn> (nothing stored); or the caller ran it
# and <logprob-scp> holds, per utterance, the per-frame log-posteriors (natural log, one row per frame, all frames,
# aligned with the speaker features of <data>; steps/nnet/compute_posteriors.sh).
#
# Usage: sid/init_full_ubm_from_dnn.sh [options] <data> <data-dnn> <dnn-dir> <out-dir>
#    or: sid/init_full_ubm_from_dnn.sh [options] <data> <logprob-scp> <out-dir>
#  <data>         speaker-ID data dir with feats.scp and vad.scp
#  <data-dnn>     the same utterances with the DNN's input features (e.g. hires MFCC)
#  <dnn-dir>      from steps/nnet/train_bnf.sh (final.pt, num_pdfs)
#  <logprob-scp>  scp of the DNN log-posterior matrices (e.g. exp/dnn_post_train/logprob.scp)
#  <out-dir>      gets final.ubm, delta_opts and log/
# e.g.: sid/init_full_ubm_from_dnn.sh data/train data/train_hires exp/bnf1 exp/full_ubm_dnn
set -euo pipefail

cmd=utils/run.pl      # job launcher
nj=4                  # parallel jobs
stage=0               # 0 statistics, 1 model
delta_window=2        # add-deltas window of the speaker features
delta_order=2         # add-deltas order
cmn_window=300        # sliding CMN window
min_post=0.01         # logprob-to-post pruning (randomised, expectation-preserving)
num_components=       # number of DNN outputs (default: <dnn-dir>/num_pdfs, or the first log-posterior matrix's width)
variance_floor=0.001  # covariance eigenvalue floor
use_gpu=no            # yes|no|optional: compute on a GPU
cleanup=true          # remove the statistics

help_message="$(sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//')"
. utils/parse_options.sh

dnn=; dnn_data=; logprob_scp=
case $# in
  4) data=$1; dnn_data=$2; dnn=$3; dir=$4 ;;
  3) data=$1; logprob_scp=$2; dir=$3 ;;
  *) echo "$help_message" >&2; exit 1 ;;
esac

[ -f ./path.sh ] && . ./path.sh

for f in "$data/feats.scp" "$data/vad.scp" ${logprob_scp:+"$logprob_scp"} \
         ${dnn:+"$dnn/final.pt" "$dnn/num_pdfs" "$dnn_data/feats.scp"}; do
  [ -f "$f" ] || { echo "$0: no such file $f" >&2; exit 1; }
done

mkdir -p "$dir/log"
echo "$nj" > "$dir/num_jobs"
utils/split_data.sh "$data" "$nj"
sdata=$data/split$nj

delta_opts="--delta-window=$delta_window --delta-order=$delta_order"
echo "$delta_opts" > "$dir/delta_opts"
echo "--cmn-window=$cmn_window" > "$dir/cmn_opts"
feat_opts="--vad-rspecifier=scp:$sdata/JOB/vad.scp $delta_opts --cmn-window=$cmn_window --use-gpu=$use_gpu"
feats=scp:$sdata/JOB/feats.scp

if [ -z "$num_components" ] && [ -n "$dnn" ]; then
  num_components=$(cat "$dnn/num_pdfs")
elif [ -z "$num_components" ]; then
  num_components=$(python3 -c "import sys; from phonsid.io import SequentialReader
for _, m in SequentialReader('scp:' + sys.argv[1]): print(m.shape[1]); break" "$logprob_scp")
fi
[[ "$num_components" =~ ^[0-9]+$ ]] || { echo "$0: cannot tell the number of DNN outputs from $logprob_scp" >&2; exit 1; }

if [ "$stage" -le 0 ]; then
  echo "$0: accumulating statistics from DNN posteriors and speaker-ID features ($num_components components)"
  . sid/lib/dnn_posteriors.sh
  dnn_posteriors_cmd "$sdata" "$dir" "$nj" ark:- --min-post=$min_post
  $cmd JOB=1:$nj "$dir/log/make_stats.JOB.log" \
    "${posteriors_cmd[@]}" \| \
    fgmm_global_acc_stats_post.py $feat_opts ark,s,cs:- $num_components $feats "$dir/stats.JOB.acc" \
    || { echo "$0: failed, see $dir/log/make_stats.*.log" >&2; exit 1; }
  rm -f "$dir"/dnn_in.*.scp
fi

if [ "$stage" -le 1 ]; then
  echo "$0: initialising the GMM from the statistics"
  $cmd "$dir/log/init.log" \
    fgmm_global_init_from_accs.py --verbose=2 --variance-floor=$variance_floor \
      "fgmm_global_sum_accs.py - $dir/stats.*.acc |" $num_components "$dir/final.ubm" \
    || { echo "$0: failed, see $dir/log/init.log" >&2; tail -n 5 "$dir/log/init.log" >&2; exit 1; }
fi

if $cleanup; then rm -f "$dir"/stats.*.acc; fi
echo "$0: wrote $dir/final.ubm ($num_components Gaussians from DNN posteriors)"
