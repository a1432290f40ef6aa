#!/usr/bin/env bash
# Imports senone (pdf) alignments made with Kaldi, so the DNN stages run on Kaldi's targets unchanged: the
# output dir has the same layout as steps/align.sh's (pdf_ali.scp + pdf_ali.ark, num_pdfs; with a Kaldi
# alignment dir also phone_ali.scp and phones.txt).
#
# Usage: steps/import_kaldi_ali.sh [options] <num-pdfs> <pdf-ali-rspecifier> <out-dir>
#    or: steps/import_kaldi_ali.sh [options] <kaldi-ali-dir> <out-dir>
#  <num-pdfs>            number of pdfs of the Kaldi model (gmm-info / tree-info: "number of pdfs")
#  <pdf-ali-rspecifier>  pdf ids per frame, e.g. "ark:ali-to-pdf final.mdl 'ark:gunzip -c ali.*.gz|' ark:- |"
#  <kaldi-ali-dir>       a Kaldi alignment dir (final.mdl, ali.*.gz or ali.*.ark, optionally phones.txt): its
#                        transition-id alignments are converted here with ali_to_pdf.py (no Kaldi needed)
# e.g.: steps/import_kaldi_ali.sh --data data/train 3456 ark:kaldi_pdf_ali.ark exp/kaldi_tri3_ali
#       steps/import_kaldi_ali.sh --data data/train /path/to/kaldi/exp/tri3_ali exp/kaldi_tri3_ali
set -euo pipefail

data=                  # data dir: check frame counts against its utt2num_frames (or feats.scp)
length_tolerance=0     # allowed frame-count difference per utterance

help_message="$(sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//')"
. utils/parse_options.sh

if [ $# -ne 2 ] && [ $# -ne 3 ]; then
  echo "$help_message" >&2
  exit 1
fi

[ -f ./path.sh ] && . ./path.sh

dir=${!#}
mkdir -p "$dir/log"
check_opts=()
if [ -n "$data" ]; then
  if [ ! -f "$data/utt2num_frames" ] && [ -f "$data/feats.scp" ]; then
    feat_to_len=$(command -v feat-to-len || command -v feat_to_len.py || true)
    [ -n "$feat_to_len" ] && "$feat_to_len" "scp:$data/feats.scp" "ark,t:$dir/utt2num_frames" 2> "$dir/log/feat_to_len.log"
    [ -f "$dir/utt2num_frames" ] && check_opts=(--utt2num-frames="$dir/utt2num_frames")
  elif [ -f "$data/utt2num_frames" ]; then
    check_opts=(--utt2num-frames="$data/utt2num_frames")
  fi
  [ ${#check_opts[@]} -gt 0 ] || echo "$0: warning: no utt2num_frames for $data; frame counts not checked" >&2
fi

if [ $# -eq 3 ]; then
  num_pdfs=$1; rspec=$2
  [[ "$num_pdfs" =~ ^[0-9]+$ ]] || { echo "$0: <num-pdfs> must be a number, got '$num_pdfs'" >&2; exit 1; }
else
  src=$1
  [ -f "$src/final.mdl" ] || { echo "$0: expected $src/final.mdl" >&2; exit 1; }
  if ls "$src"/ali.*.gz > /dev/null 2>&1; then
    tids="ark:gunzip -c $src/ali.*.gz |"
  elif ls "$src"/ali.*.ark > /dev/null 2>&1; then
    tids="ark:cat $src/ali.*.ark |"
  else
    echo "$0: no ali.*.gz or ali.*.ark in $src" >&2; exit 1
  fi
  num_pdfs=$(gmm_info.py "$src/final.mdl" 2> "$dir/log/gmm_info.log" | awk '/number of pdfs/{print $NF}') || true
  [ -n "$num_pdfs" ] || { echo "$0: cannot read $src/final.mdl (see $dir/log/gmm_info.log)" >&2; exit 1; }
  rspec="ark:ali_to_pdf.py $src/final.mdl '$tids' ark:- 2> $dir/log/ali_to_pdf.log |"
  ali_to_phones.py --per-frame "$src/final.mdl" "$tids" "ark,scp:$dir/phone_ali.ark,$dir/phone_ali.scp" \
    2> "$dir/log/ali_to_phones.log" || { echo "$0: failed, see $dir/log/ali_to_phones.log" >&2; exit 1; }
  [ -f "$src/phones.txt" ] && cp "$src/phones.txt" "$dir/phones.txt"
  [ -f "$src/tree" ] && cp "$src/tree" "$dir/tree"
  cp "$src/final.mdl" "$dir/final.mdl"
fi

import_pdf_ali.py "${check_opts[@]}" --length-tolerance="$length_tolerance" "$num_pdfs" "$rspec" \
  "ark,scp:$dir/pdf_ali.ark,$dir/pdf_ali.scp" 2> "$dir/log/import.log" ||
  { echo "$0: import failed, see $dir/log/import.log" >&2; tail -n 3 "$dir/log/import.log" >&2; exit 1; }
echo "$num_pdfs" > "$dir/num_pdfs"
echo "$0: $(grep -h 'Imported' "$dir/log/import.log" | sed 's/^LOG ([^)]*) //') -> $dir/pdf_ali.scp"
