#!/usr/bin/env bash
# Forced alignment of a data dir's transcripts with a trained GMM-HMM (Kaldi's steps/align_si.sh), writing
# the alignments in every form later stages need: transition ids (ali.JOB.ark, for GMM training), pdf ids
# per frame (the senone targets: pdf_ali.scp) and phone ids per frame (phone_ali.scp), plus num_pdfs.
# Features go through the source model's pipeline (<src-dir>/feat_opts) unless --feat-opts is given.
#
# Usage: steps/align.sh [options] <data-dir> <lang-dir> <src-dir> <align-dir>
#  <data-dir>   data dir with feats.scp, text, utt2spk
#  <lang-dir>   lang dir the model was trained with
#  <src-dir>    experiment dir with final.mdl, tree, feat_opts
#  <align-dir>  gets ali.JOB.ark, pdf_ali.scp (+ pdf_ali.JOB.ark), phone_ali.scp, num_pdfs, final.mdl, tree,
#               phones.txt, feat_opts, num_jobs and log/
# e.g.: steps/align.sh --nj 4 data/demo_asr data/lang_demo exp/tri1 exp/tri1_ali
set -euo pipefail

cmd=utils/run.pl               # job launcher
nj=4                           # parallel jobs (the data is split by speaker)
scale_opts="--transition-scale=1.0 --acoustic-scale=0.1 --self-loop-scale=0.1"
feat_opts=                     # feature-pipeline options (default: those of <src-dir>)
device=cpu                     # torch device (cpu, cuda)

help_message="$(sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -ne 4 ]; then
  echo "$help_message" >&2
  exit 1
fi
data=$1; lang=$2; srcdir=$3; dir=$4

[ -f ./path.sh ] && . ./path.sh

for f in "$data/feats.scp" "$data/text" "$data/utt2spk" "$lang/phones.txt" "$srcdir/final.mdl" "$srcdir/tree"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done

# Skip when a run with the same command line finished, the features (feats.scp and its archives), transcripts,
# lang dir and model are unchanged and the alignments are complete (step_stamp.py).
stamp=$dir/.stamps/align.json
stamp_opts=(--key="$signature" --in-scp "$data/feats.scp" --in "$data/text" --in "$data/utt2spk")
for f in "$lang"/* "$lang"/phones/*; do [ -f "$f" ] && stamp_opts+=(--in "$f"); done
stamp_opts+=(--in "$srcdir/final.mdl" --in "$srcdir/tree")
for f in "$srcdir/feat_opts" "$srcdir/final.mat"; do [ -f "$f" ] && stamp_opts+=(--in "$f"); done
stamp_opts+=(--out-scp "$dir/pdf_ali.scp" --out-scp "$dir/phone_ali.scp" --out "$dir/num_pdfs")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $dir is up to date"
  exit 0
fi

mkdir -p "$dir/log"
utils/split_data.sh "$data" "$nj"
sdata=$data/split$nj
echo "$nj" > "$dir/num_jobs"
cp -L "$srcdir/final.mdl" "$dir/final.mdl"
cp "$srcdir/tree" "$dir/tree"
cp "$lang/phones.txt" "$dir/phones.txt"
if [ -z "$feat_opts" ] && [ -f "$srcdir/feat_opts" ]; then
  cp "$srcdir/feat_opts" "$dir/feat_opts"
else
  echo "$feat_opts" > "$dir/feat_opts"
fi
[ -f "$srcdir/final.mat" ] && cp "$srcdir/final.mat" "$dir/final.mat"
fopts="--utt2spk=$sdata/JOB/utt2spk $(cat "$dir/feat_opts")"

echo "$0: aligning $data with $srcdir"
# shellcheck disable=SC2086
$cmd JOB=1:$nj "$dir/log/align.JOB.log" \
  gmm_align.py $scale_opts --device="$device" $fopts "$dir/tree" "$dir/final.mdl" "$lang" \
    "scp:$sdata/JOB/feats.scp" "$sdata/JOB/text" "ark:$dir/ali.JOB.ark" \&\& \
  ali_to_pdf.py "$dir/final.mdl" "ark:$dir/ali.JOB.ark" "ark,scp:$dir/pdf_ali.JOB.ark,$dir/pdf_ali.JOB.scp" \&\& \
  ali_to_phones.py --per-frame "$dir/final.mdl" "ark:$dir/ali.JOB.ark" \
    "ark,scp:$dir/phone_ali.JOB.ark,$dir/phone_ali.JOB.scp" \
  || { echo "$0: alignment failed, see $dir/log/align.*.log" >&2; exit 1; }

for n in $(seq "$nj"); do cat "$dir/pdf_ali.$n.scp"; done | LC_ALL=C sort > "$dir/pdf_ali.scp"
for n in $(seq "$nj"); do cat "$dir/phone_ali.$n.scp"; done | LC_ALL=C sort > "$dir/phone_ali.scp"
gmm_info.py "$dir/final.mdl" | awk '/number of pdfs/{print $NF}' > "$dir/num_pdfs"

total=$(wc -l < "$data/feats.scp")
aligned=$(wc -l < "$dir/pdf_ali.scp")
like=$(cat "$dir"/log/align.*.log | sed -n 's/.*Overall log-likelihood per frame is \([-0-9.e+]*\) over \([0-9]*\) frames.*/\1 \2/p' |
       awk '{s += $1 * $2; n += $2} END{if (n > 0) printf "%.4f", s / n; else print "n/a"}')
[ "$aligned" -gt 0 ] || { echo "$0: no utterance was aligned, see $dir/log/align.*.log" >&2; exit 1; }
for n in $(seq "$nj"); do stamp_opts+=(--out "$dir/ali.$n.ark"); done
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: aligned $aligned of $total utterances ($((total - aligned)) failed, see $dir/log/align.*.log);" \
     "$(cat "$dir/num_pdfs") pdfs; log-likelihood per frame $like"
