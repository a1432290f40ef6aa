#!/usr/bin/env bash
# Trains a bottleneck ASR DNN (DNN-1 on hires MFCC, the stacked DNN-2 on DNN-1 bottleneck features, or the
# multi-task DNN-2 with a speaker head; which one is set by --bnf-config) on frame targets from an alignment dir:
# prepares memory-mapped training/validation frames (nnet_bnf_prepare.py), then trains (nnet_bnf_train.py: one
# process, GPU when available, or --num-gpus N processes under torchrun with DistributedDataParallel; gloo on CPU).
# An interrupted run resumes from its newest checkpoint when rerun; a finished one is skipped.
#
# Usage: steps/nnet/train_bnf.sh [options] <data-dir> <ali-dir> <dnn-dir>
#  <data-dir>  training features (feats.scp, utt2spk): hires MFCC for DNN-1, DNN-1 bottleneck features for DNN-2
#  <ali-dir>   --targets pdfs (default): num_pdfs and pdf_ali.scp | pdf_ali.*.ark | ali.*.ark (pdf ids per frame,
#              e.g. exp/tri3_ali from steps/align.sh or steps/import_kaldi_ali.sh);
#              --targets phones: a dir with phones.txt and phone_ali.txt | phone_ali.scp | phone_ali.*.ark
#              (per-frame phone ids, e.g. data/demo_asr with the demo's true alignment)
#  <dnn-dir>   output: final.pt, config.yaml, num_pdfs, bottleneck_dim, valid_accuracy, egs/, checkpoints/,
#              log/{prepare,train}.log, log/train.csv
# e.g.: steps/nnet/train_bnf.sh --bnf-config conf/bnf1.yaml data/train_hires exp/tri3_ali exp/bnf1
#       steps/nnet/train_bnf.sh --bnf-config conf/sbnf.yaml data/train_bnf exp/tri3_ali exp/sbnf
#       steps/nnet/train_bnf.sh --targets phones --bnf-opts "train.num_epochs=2" data/demo_asr_hires data/demo_asr exp/bnf1

cmd=utils/run.pl             # job launcher (cuda_cmd for GPUs: the job gets --gpu N)
bnf_config=conf/bnf1.yaml    # network, input processing, validation split and schedule (YAML)
bnf_opts=                    # space-separated overrides section.key=value, e.g. "train.num_epochs=2 model.hidden_dim=512"
targets=pdfs                 # pdfs (senones from the aligner) | phones (per-frame phone ids; see <ali-dir>)
phones=                      # --targets phones: the phone table (default: <ali-dir>/phones.txt)
num_gpus=1                   # >1: torchrun with this many processes (one per GPU; CPU processes with gloo)
use_gpu=auto                 # yes|no|auto
amp=false                    # mixed precision on GPU (bfloat16)
num_threads=1                # CPU threads per training process
stage=0                      # 0 phone targets, 1 frames, 2 training

echo "$0 $*"
[ -f ./path.sh ] && . ./path.sh
. utils/parse_options.sh
set -euo pipefail

if [ $# -ne 3 ]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "Options: --cmd <launcher> --bnf-config <yaml> --bnf-opts '<section.key=value ...>' --targets <pdfs|phones>" >&2
  echo "         --phones <phones.txt> --num-gpus <n> --use-gpu <yes|no|auto> --amp <true|false> --num-threads <n>" >&2
  echo "         --stage <n>" >&2
  exit 1
fi
data=$1
alidir=$2
dir=$3

for f in "$data/feats.scp" "$data/utt2spk" "$bnf_config"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done
utils/validate_data_dir.sh --no-text --no-wav "$data" >&2 || { echo "$0: $data is not a valid data dir" >&2; exit 1; }
mkdir -p "$dir/log"
set_opts=()
for o in $bnf_opts; do set_opts+=("--set=$o"); done

# Stage 0: the targets. --targets phones converts the phone alignment into an alignment dir of phone targets.
case $targets in
  pdfs) ali=$alidir ;;
  phones)
    ali=$dir/phone_targets
    [ -n "$phones" ] || phones=$alidir/phones.txt
    if [ -f "$alidir/phone_ali.txt" ]; then phone_src=$alidir/phone_ali.txt; phone_spec="ark,t:$phone_src"
    elif [ -f "$alidir/phone_ali.scp" ]; then phone_src=$alidir/phone_ali.scp; phone_spec="scp:$phone_src"
    elif ls "$alidir"/phone_ali.*.ark >/dev/null 2>&1; then
      phone_src=$(ls -t "$alidir"/phone_ali.*.ark | head -n 1)  # the newest
      phone_spec="ark:cat $(ls "$alidir"/phone_ali.*.ark | sort -t. -k2,2n | tr '\n' ' ')|"
    else
      echo "$0: --targets phones: no phone_ali.txt, phone_ali.scp or phone_ali.*.ark in $alidir" >&2; exit 1
    fi
    [ -f "$phones" ] || { echo "$0: --targets phones: no phone table $phones (give --phones)" >&2; exit 1; }
    if [ "$stage" -le 0 ]; then
      # redone unless made from the same phone alignment and table (step_stamp.py)
      stamp_opts=(--key="$phone_spec $phones" --in "$phones" --out "$ali/num_pdfs")
      case $phone_spec in
        ark,t:*) stamp_opts+=(--in "$phone_src") ;;
        scp:*) stamp_opts+=(--in-scp "$phone_src") ;;
        *) for f in "$alidir"/phone_ali.*.ark; do stamp_opts+=(--in-stat "$f"); done ;;
      esac
      if step_stamp.py check "${stamp_opts[@]}" "$ali/.stamps/phone_targets.json"; then
        echo "$0: phone targets in $ali are up to date"
      else
        $cmd "$dir/log/phone_targets.log" nnet_bnf_phone_targets.py "$phone_spec" "$phones" "$ali" || {
          echo "$0: converting the phone alignment failed; see $dir/log/phone_targets.log" >&2; exit 1; }
        [ -f "$ali/pdf_ali.scp" ] && stamp_opts+=(--out-scp "$ali/pdf_ali.scp")
        step_stamp.py write "${stamp_opts[@]}" "$ali/.stamps/phone_targets.json"
      fi
    fi ;;
  *) echo "$0: --targets must be pdfs or phones, got '$targets'" >&2; exit 1 ;;
esac
[ -f "$ali/num_pdfs" ] || { echo "$0: $ali/num_pdfs is missing: not an alignment dir" >&2; exit 1; }

# The alignment dir as the frame preparation reads it: num_pdfs and pdf_ali.scp, or else the per-job archives.
ali_opts=(--in "$ali/num_pdfs")
if [ -f "$ali/pdf_ali.scp" ]; then
  ali_opts+=(--in-scp "$ali/pdf_ali.scp")
else
  for f in "$ali"/pdf_ali.*.ark "$ali"/ali.*.ark; do [ -f "$f" ] && ali_opts+=(--in-stat "$f"); done
fi

# Stage 1: training/validation frames; redone unless made from the same features (feats.scp and its archives),
# speakers, targets, config and overrides, and complete (step_stamp.py).
signature="$bnf_config $bnf_opts | $data | $ali"
if [ "$stage" -le 1 ]; then
  stamp=$dir/.stamps/bnf_egs.json
  stamp_opts=(--key="$signature" --in "$bnf_config" --in-scp "$data/feats.scp" --in "$data/utt2spk" "${ali_opts[@]}")
  if step_stamp.py check "${stamp_opts[@]}" --out "$dir/egs/info.json" "$stamp"; then
    echo "$0: $dir/egs is up to date"
  else
    rm -rf "$dir/egs"
    echo "$0: preparing frames in $dir/egs; log in $dir/log/prepare.log"
    $cmd "$dir/log/prepare.log" nnet_bnf_prepare.py --bnf-config="$bnf_config" "${set_opts[@]}" \
      "$data" "$ali" "$dir/egs" || { echo "$0: preparing frames failed; see $dir/log/prepare.log" >&2; exit 1; }
    for f in "$dir"/egs/*; do [ -f "$f" ] && stamp_opts+=(--out "$f"); done
    step_stamp.py write "${stamp_opts[@]}" "$stamp"
    # new frames: the checkpoints of an earlier run do not apply
    rm -rf "$dir/checkpoints" "$dir/final.pt"
  fi
fi

# Stage 2: training (resumes from the newest checkpoint); redone unless trained on these frames (egs/info.json as
# written by stage 1) with the same config and overrides, and final.pt is as written (step_stamp.py).
if [ "$stage" -le 2 ]; then
  stamp=$dir/.stamps/train_bnf.json
  stamp_opts=(--key="$signature" --in "$bnf_config" --in-stat "$dir/egs/info.json")
  if step_stamp.py check "${stamp_opts[@]}" --out "$dir/final.pt" "$stamp"; then
    echo "$0: $dir/final.pt is up to date; nothing to do"
  else
    gpu_req=()
    [ "$use_gpu" = no ] || [ "$use_gpu" = false ] || gpu_req=(--gpu "$num_gpus")
    train_opts=(--bnf-config="$bnf_config" "${set_opts[@]}" --use-gpu="$use_gpu" --amp="$amp" --num-threads="$num_threads")
    if [ "$num_gpus" -gt 1 ]; then
      echo "$0: training with $num_gpus processes (torchrun, DistributedDataParallel); log in $dir/log/train.log"
      $cmd "${gpu_req[@]}" "$dir/log/train.log" \
        python -m torch.distributed.run --standalone --nproc_per_node="$num_gpus" \
          "$(command -v nnet_bnf_train.py)" "${train_opts[@]}" "$dir/egs" "$dir" || {
        echo "$0: training failed; see $dir/log/train.log" >&2; exit 1; }
    else
      echo "$0: training; log in $dir/log/train.log"
      $cmd "${gpu_req[@]}" "$dir/log/train.log" nnet_bnf_train.py "${train_opts[@]}" "$dir/egs" "$dir" || {
        echo "$0: training failed; see $dir/log/train.log" >&2; exit 1; }
    fi
    [ -f "$dir/final.pt" ] || { echo "$0: no $dir/final.pt after training; see $dir/log/train.log" >&2; exit 1; }
    stamp_opts+=(--out "$dir/final.pt")
    for f in config.yaml num_pdfs bottleneck_dim feat_dim valid_accuracy; do
      [ -f "$dir/$f" ] && stamp_opts+=(--out "$dir/$f")
    done
    step_stamp.py write "${stamp_opts[@]}" "$stamp"
  fi
fi

summary=$(awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}' "$dir/valid_accuracy" 2>/dev/null || true)
echo "$0: trained $dir/final.pt${summary:+ ($summary)}"
