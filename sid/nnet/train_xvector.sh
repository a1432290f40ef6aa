#!/usr/bin/env bash
# Trains the x-vector TDNN (Kaldi run_xvector_1a.sh shape and train_raw_dnn.py schedule) on egs from
# sid/nnet/get_egs.sh: one process (GPU when available), or --num-gpus N processes under torchrun with
# DistributedDataParallel, each reading its own slice of every minibatch from the memory-mapped archives.
# An interrupted run resumes from its newest checkpoint when rerun; a finished one is skipped.
#
# Usage: sid/nnet/train_xvector.sh [options] <egs-dir> <nnet-dir>
#  e.g.: sid/nnet/train_xvector.sh --cmd "$cuda_cmd" --num-gpus 4 exp/xvector_nnet_1a/egs exp/xvector_nnet_1a
# Writes <nnet-dir>/final.pt, config.yaml, diagnostics.csv, min_chunk_size, max_chunk_size, checkpoints/ and
# log/train.log.

cmd=utils/run.pl                 # job launcher (cuda_cmd for GPUs: the job gets --gpu N)
xvector_config=conf/xvector.yaml # network and schedule (YAML sections model/train/extract)
xvector_opts=                    # space-separated overrides section.key=value, e.g. "train.num_epochs=1"
num_gpus=1                       # >1: torchrun with this many processes (one per GPU; gloo on CPU)
use_gpu=auto                     # yes|no|auto
amp=false                        # mixed precision on GPU
stage=0

help_message="$(sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//')"
echo "$0 $*"
[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "Usage: $0 [options] <egs-dir> <nnet-dir>"
  echo " e.g.: $0 --num-gpus 4 exp/xvector_nnet_1a/egs exp/xvector_nnet_1a"
  echo "Options: --cmd <launcher> --xvector-config <yaml> --xvector-opts '<section.key=value ...>'"
  echo "         --num-gpus <n> --use-gpu <yes|no|auto> --amp <true|false>"
  exit 1
fi

egs=$1
dir=$2
for f in "$egs/info/num_archives" "$egs/info/feat_dim" "$egs/pdf2num" "$xvector_config"; do
  [ -f "$f" ] || { echo "$0: expected file $f" >&2; exit 1; }
done
mkdir -p "$dir/log"

# rerun-safe: skip when a run with the same config, options and egs (every file of <egs-dir> and its info/, by
# size and time) finished and final.pt is as written (step_stamp.py)
stamp=$dir/.stamps/train_xvector.json
stamp_opts=(--key="$egs opts=$xvector_opts num_gpus=$num_gpus" --in "$xvector_config")
for f in "$egs"/* "$egs"/info/*; do [ -f "$f" ] && stamp_opts+=(--in-stat "$f"); done
if step_stamp.py check "${stamp_opts[@]}" --out "$dir/final.pt" "$stamp"; then
  echo "$0: $dir/final.pt is up to date ($stamp); nothing to do"
  exit 0
fi

set_opts=()
for o in $xvector_opts; do set_opts+=("--set=$o"); done
gpu_req=()
[ "$use_gpu" = no ] || [ "$use_gpu" = false ] || gpu_req=(--gpu "$num_gpus")
train_opts=(--xvector-config="$xvector_config" --use-gpu="$use_gpu" --amp="$amp" "${set_opts[@]}")

if [ "$num_gpus" -gt 1 ]; then
  echo "$0: training with $num_gpus processes (torchrun, DistributedDataParallel); log in $dir/log/train.log"
  $cmd "${gpu_req[@]}" "$dir/log/train.log" \
    python -m torch.distributed.run --standalone --nproc_per_node="$num_gpus" \
      "$(command -v nnet_xvector_train.py)" "${train_opts[@]}" "$egs" "$dir" || {
    echo "$0: training failed; see $dir/log/train.log" >&2; exit 1; }
else
  echo "$0: training; log in $dir/log/train.log"
  $cmd "${gpu_req[@]}" "$dir/log/train.log" nnet_xvector_train.py "${train_opts[@]}" "$egs" "$dir" || {
    echo "$0: training failed; see $dir/log/train.log" >&2; exit 1; }
fi

[ -f "$dir/final.pt" ] || { echo "$0: no $dir/final.pt after training; see $dir/log/train.log" >&2; exit 1; }
for f in final.pt config.yaml min_chunk_size max_chunk_size; do [ -f "$dir/$f" ] && stamp_opts+=(--out "$dir/$f"); done
step_stamp.py write "${stamp_opts[@]}" "$stamp"
summary=$(grep -o 'valid accuracy [0-9.]*' "$dir/log/train.log" | tail -n 1 || true)
echo "$0: wrote $dir/final.pt${summary:+ ($summary)}"
