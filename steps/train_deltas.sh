#!/usr/bin/env bash
# Trains a triphone GMM-HMM on Δ+ΔΔ features (Kaldi's steps/train_deltas.sh): context-dependent statistics
# from a previous model's alignments, phone questions by automatic clustering, a decision tree with
# <num-leaves> tied states (senones), one Gaussian per leaf, the old alignments converted to the new tree,
# then --num-iters iterations of re-estimation with re-alignment on --realign-iters and Gaussian splitting up
# to <tot-gauss>.
#
# Usage: steps/train_deltas.sh [options] <num-leaves> <tot-gauss> <data-dir> <lang-dir> <ali-dir> <exp-dir>
#  <num-leaves>  tied states wanted (the tree has exactly this many unless the data cannot support it)
#  <tot-gauss>   target total number of Gaussians
#  <ali-dir>     alignments of the source model (steps/align.sh or the last pass of steps/train_mono.sh)
#  <exp-dir>     gets final.mdl, tree, questions.int, ali.JOB.ark, phones.txt, feat_opts, like_per_frame.txt
# e.g.: steps/train_deltas.sh --cmd utils/run.pl 2000 10000 data/demo_asr data/lang_demo exp/mono_ali exp/tri1
set -euo pipefail

cmd=utils/run.pl               # job launcher
stage=-5                       # -5 tree statistics, -4 tree, -3 model, -2 convert alignments, 1.. iterations
num_iters=35                   # training iterations
max_iter_inc=25                # the number of Gaussians grows until this iteration
power=0.25                     # Gaussians per pdf grow with occupancy^power
realign_iters="10 20 30"
scale_opts="--transition-scale=1.0 --acoustic-scale=0.1 --self-loop-scale=0.1"
feat_opts=                     # feature-pipeline options (default: those of <ali-dir>)
tree_thresh=0                  # minimum likelihood gain of a tree split
tree_min_count=20              # minimum frames on each side of a tree split
cluster_thresh=0               # merge leaves cheaper than this after splitting (0: keep exactly num-leaves)
device=cpu                     # torch device of the alignment (cpu, cuda)
cleanup=true                   # remove per-iteration models and statistics

help_message="$(sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -ne 6 ]; then
  echo "$help_message" >&2
  exit 1
fi
numleaves=$1; totgauss=$2; data=$3; lang=$4; alidir=$5; dir=$6

[ -f ./path.sh ] && . ./path.sh

for f in "$data/feats.scp" "$data/text" "$data/utt2spk" "$lang/phones.txt" "$lang/topo" "$lang/phones/sets.int" \
         "$lang/phones/roots.int" "$alidir/final.mdl" "$alidir/ali.1.ark" "$alidir/num_jobs"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done
for v in numleaves totgauss; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$0: <${v//numleaves/num-leaves}> must be a number, got '${!v}'" >&2; exit 1; }
done

# Skip when a run with the same command line finished, the features (feats.scp and its archives), transcripts,
# lang dir and source model and alignments are unchanged and final.mdl is as written (step_stamp.py).
nj=$(cat "$alidir/num_jobs")
stamp=$dir/.stamps/train_deltas.json
stamp_opts=(--key="$signature" --in-scp "$data/feats.scp" --in "$data/text" --in "$data/utt2spk")
for f in "$lang"/* "$lang"/phones/*; do [ -f "$f" ] && stamp_opts+=(--in "$f"); done
stamp_opts+=(--in "$alidir/final.mdl" --in "$alidir/num_jobs")
[ -f "$alidir/feat_opts" ] && stamp_opts+=(--in "$alidir/feat_opts")
for n in $(seq "$nj"); do stamp_opts+=(--in-stat "$alidir/ali.$n.ark"); done
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
if [ -z "$feat_opts" ] && [ -f "$alidir/feat_opts" ]; then
  cp "$alidir/feat_opts" "$dir/feat_opts"
else
  echo "$feat_opts" > "$dir/feat_opts"
fi
fopts="--utt2spk=$sdata/JOB/utt2spk $(cat "$dir/feat_opts")"
feats="scp:$sdata/JOB/feats.scp"
ciphonelist=$(tr -s ' \n' ':' < "$lang/phones/context_indep.int" | sed 's/^://; s/:$//')

run() {  # <log> <command...>: one job; on failure name the log
  local log=$1; shift
  $cmd "$log" "$@" || { echo "$0: failed, see $log" >&2; tail -n 5 "$log" >&2 || true; exit 1; }
}
run_jobs() {  # <log with JOB> <command...>: nj jobs
  local log=$1; shift
  $cmd JOB=1:$nj "$log" "$@" || { echo "$0: failed, see ${log//JOB/*}" >&2; exit 1; }
}
like_of() {
  sed -n 's/.*Average like per frame of the statistics \([-0-9.e+]*\).*/\1/p' "$1" | tail -n 1
}

if [ "$stage" -le -5 ]; then
  echo "$0: accumulating tree statistics"
  # shellcheck disable=SC2086
  run_jobs "$dir/log/acc_tree.JOB.log" acc_tree_stats.py --ci-phones="$ciphonelist" $fopts "$alidir/final.mdl" \
    "$feats" "ark:$alidir/ali.JOB.ark" "$dir/JOB.treeacc"
  run "$dir/log/sum_tree_acc.log" sum_tree_stats.py "$dir/treeacc" "$dir"/*.treeacc
  rm -f "$dir"/[0-9]*.treeacc
fi

if [ "$stage" -le -4 ]; then
  echo "$0: getting questions and building a tree with $numleaves leaves"
  run "$dir/log/questions.log" cluster_phones.py "$dir/treeacc" "$lang/phones/sets.int" "$dir/questions.int"
  [ -f "$lang/phones/extra_questions.int" ] && cat "$lang/phones/extra_questions.int" >> "$dir/questions.int"
  run "$dir/log/build_tree.log" build_tree.py --max-leaves="$numleaves" --thresh="$tree_thresh" \
    --min-count="$tree_min_count" --cluster-thresh="$cluster_thresh" "$dir/treeacc" "$lang/phones/roots.int" \
    "$dir/questions.int" "$lang/topo" "$dir/tree"
  grep -h "Tree has" "$dir/log/build_tree.log" | sed "s|^.*Tree has|$0: tree has|"
fi

if [ "$stage" -le -3 ]; then
  run "$dir/log/init_model.log" gmm_init_model.py --write-occs="$dir/1.occs" "$dir/tree" "$dir/treeacc" \
    "$lang/topo" "$dir/1.mdl"
  run "$dir/log/mixup.log" gmm_mixup.py --mix-up="$numleaves" --power="$power" "$dir/1.mdl" "$dir/1.occs" \
    "$dir/1.mdl"
  rm -f "$dir/1.occs"
fi

if [ "$stage" -le -2 ]; then
  echo "$0: converting alignments from $alidir to the new tree"
  run_jobs "$dir/log/convert.JOB.log" convert_ali.py "$alidir/final.mdl" "$dir/1.mdl" "$dir/tree" \
    "ark:$alidir/ali.JOB.ark" "ark:$dir/ali.JOB.ark"
fi

numgauss=$numleaves
incgauss=$(( (totgauss - numgauss) / max_iter_inc ))
[ "$incgauss" -ge 0 ] || incgauss=0
: > "$dir/like_per_frame.txt.tmp"
[ "$stage" -gt 1 ] && [ -f "$dir/like_per_frame.txt" ] && cp "$dir/like_per_frame.txt" "$dir/like_per_frame.txt.tmp"
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
    echo "$x $(like_of "$dir/log/update.$x.log")" >> "$dir/like_per_frame.txt.tmp"
    if $cleanup; then
      rm -f "$dir/$x.mdl" "$dir"/$x.*.acc "$dir/$x.occs"
    fi
  fi
  [ "$x" -le "$max_iter_inc" ] && numgauss=$((numgauss + incgauss))
  x=$((x + 1))
done
mv "$dir/like_per_frame.txt.tmp" "$dir/like_per_frame.txt"

ln -sf "$x.mdl" "$dir/final.mdl"
for n in $(seq "$nj"); do stamp_opts+=(--out "$dir/ali.$n.ark"); done
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: done training triphones in $dir: $(gmm_info.py "$dir/final.mdl" | awk '/pdfs|gaussians/{printf "%s %s; ", $3, $NF}')log-likelihood per frame $(awk 'NR==1{a=$2} END{print a " -> " $2}' "$dir/like_per_frame.txt")"
