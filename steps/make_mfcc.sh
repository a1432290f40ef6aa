#!/usr/bin/env bash
# Computes MFCC features for a data dir (Kaldi's steps/make_mfcc.sh): one in-process job per part of the
# split data dir reads the audio (wav.scp paths or pipes, segments cut in process), computes MFCC and writes
# compressed ark/scp, utt2num_frames and utt2dur; with --vad-config the same pass writes energy-VAD decisions
# (vad.scp) as sid/compute_vad_decision.sh would. Utterances whose audio is empty, corrupt, shorter than one
# frame, has NaN samples or whose pipe fails are skipped with a warning in the job log and named here; the
# step fails if more than --max-failed-fraction of them did (then run utils/fix_data_dir.sh after fixing).
#
# Usage: steps/make_mfcc.sh [options] <data-dir> [<log-dir> [<mfcc-dir>]]
#  <data-dir>  data dir with wav.scp (and segments); gets feats.scp, utt2num_frames, utt2dur (and vad.scp)
#  <log-dir>   job logs (default: <data-dir>/log)
#  <mfcc-dir>  archives (default: <data-dir>/data)
# e.g.: steps/make_mfcc.sh --nj 4 --mfcc-config conf/mfcc.conf --vad-config conf/vad.conf data/train exp/make_mfcc/train mfcc
set -euo pipefail

nj=4                           # parallel jobs (the data dir is split by speaker)
cmd=utils/run.pl               # job launcher (run.pl, slurm.pl, ...)
mfcc_config=conf/mfcc.conf     # Kaldi option file of compute_mfcc_feats.py
compress=true                  # write compressed matrices (as Kaldi's copy-feats --compress)
write_utt2num_frames=true      # write <data-dir>/utt2num_frames
write_utt2dur=true             # write <data-dir>/utt2dur
vad_config=                    # phonsid: if set, also write <data-dir>/vad.scp in the same pass
max_failed_fraction=0.1        # fail if more than this fraction of utterances could not be processed
engine=numpy                   # numpy (vectorised, default) | knf (kaldi-native-fbank) | torch
feat_type=mfcc                 # mfcc | fbank (steps/make_fbank.sh sets fbank)

help_message="$(sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
data=$1
logdir=${2:-$data/log}
featdir=${3:-$data/data}
name=$(basename "$data")

[ -f ./path.sh ] && . ./path.sh

case $feat_type in
  mfcc) tool=compute_mfcc_feats.py ;;
  fbank) tool=compute_fbank_feats.py ;;
  *) echo "$0: --feat-type must be mfcc or fbank, got '$feat_type'" >&2; exit 1 ;;
esac
for f in "$data/wav.scp" "$data/utt2spk" "$mfcc_config" ${vad_config:+"$vad_config"}; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done
# Skip when a run with the same command line finished, its inputs are unchanged (tables and configs by content,
# the audio files wav.scp names by size and time) and its archives are complete (step_stamp.py).
stamp=$data/.stamps/make_${feat_type}.json
stamp_opts=(--key="$signature" --in-scp "$data/wav.scp" --in "$data/utt2spk" --in "$mfcc_config")
[ -f "$data/segments" ] && stamp_opts+=(--in "$data/segments")
stamp_opts+=(--out-scp "$data/feats.scp")
if [ -n "$vad_config" ]; then stamp_opts+=(--in "$vad_config" --out-scp "$data/vad.scp"); fi
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $data/feats.scp is up to date"
  exit 0
fi
outputs=("$data/feats.scp")
[ -n "$vad_config" ] && outputs+=("$data/vad.scp")

# Old outputs go to <data-dir>/.backup (as Kaldi does), then the data dir must be valid without them.
for o in "${outputs[@]}"; do
  if [ -f "$o" ]; then
    mkdir -p "$data/.backup"
    echo "$0: moving $o to $data/.backup" >&2
    mv "$o" "$data/.backup/"
  fi
done
utils/validate_data_dir.sh --no-text --no-feats "$data" >&2 || { echo "$0: $data is not a valid data dir" >&2; exit 1; }

mkdir -p "$logdir" "$featdir"
featdir=$(cd "$featdir" && pwd)  # the scp files point into it: make it absolute
utils/split_data.sh "$data" "$nj" >&2
sdata=$data/split$nj

opts=(--config="$mfcc_config" --compress="$compress" --max-failed-fraction="$max_failed_fraction" --engine="$engine"
      --write-num-frames="ark,t:$featdir/utt2num_frames_$name.JOB" --write-utt2dur="ark,t:$featdir/utt2dur_$name.JOB")
[ -f "$data/segments" ] && opts+=(--segments="$sdata/JOB/segments")
if [ -n "$vad_config" ]; then
  opts+=(--vad-config="$vad_config" --write-vad="ark,scp:$featdir/vad_$name.JOB.ark,$featdir/vad_$name.JOB.scp")
fi
rm -f "$featdir"/raw_${feat_type}_$name.*.{ark,scp} "$featdir"/vad_$name.*.{ark,scp} \
      "$featdir"/utt2num_frames_$name.* "$featdir"/utt2dur_$name.*

if ! $cmd JOB=1:$nj "$logdir/make_${feat_type}_$name.JOB.log" \
    $tool "${opts[@]}" "scp:$sdata/JOB/wav.scp" \
      "ark,scp:$featdir/raw_${feat_type}_$name.JOB.ark,$featdir/raw_${feat_type}_$name.JOB.scp"; then
  echo "$0: feature extraction failed for $name, see $logdir/make_${feat_type}_$name.*.log; the failed jobs say:" >&2
  # Each failed job's ERROR lines, or the last line of a log that has none (a crash).
  while IFS= read -r log; do
    { grep "^ERROR" "$log" || grep -v "^#" "$log" | tail -n 1; } | head -n 3 | sed "s|^|  $log: |" >&2 || true
  done < <(grep -L "^# Ended (code 0)" "$logdir"/make_${feat_type}_$name.*.log)
  exit 1
fi

# Merge the jobs' outputs (C-sorted, as data-dir files must be).
merge() {  # <pattern> <target>
  local files
  files=$(ls $1 2>/dev/null || true)
  [ -n "$files" ] || { echo "$0: no output matches $1" >&2; exit 1; }
  # shellcheck disable=SC2086
  cat $files | LC_ALL=C sort -k1,1 > "$2.tmp" && mv "$2.tmp" "$2"
}
merge "$featdir/raw_${feat_type}_$name.*.scp" "$data/feats.scp"
[ -n "$vad_config" ] && merge "$featdir/vad_$name.*.scp" "$data/vad.scp"
if $write_utt2num_frames; then merge "$featdir/utt2num_frames_$name.*" "$data/utt2num_frames"; else rm -f "$data/utt2num_frames"; fi
if $write_utt2dur; then merge "$featdir/utt2dur_$name.*" "$data/utt2dur"; else rm -f "$data/utt2dur"; fi
rm -f "$featdir"/utt2num_frames_$name.* "$featdir"/utt2dur_$name.*

# Report the utterances that were skipped.
nu=$(wc -l < "$data/utt2spk")
nf=$(wc -l < "$data/feats.scp")
failed=$((nu - nf))
if [ "$failed" -gt 0 ]; then
  echo "$0: $failed of $nu utterances of $name have no features; run utils/fix_data_dir.sh $data. Reasons:" >&2
  grep -h "^WARNING ($tool) utterance" "$logdir"/make_${feat_type}_$name.*.log | sed 's/^/  /' | head -n 10 >&2 || true
  if awk -v f="$failed" -v n="$nu" -v m="$max_failed_fraction" 'BEGIN{exit !(f > m * n)}'; then
    echo "$0: more than $max_failed_fraction of the utterances failed" >&2
    exit 1
  fi
fi
$write_utt2num_frames && stamp_opts+=(--out "$data/utt2num_frames")
$write_utt2dur && stamp_opts+=(--out "$data/utt2dur")
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: made ${feat_type} features for $name: $nf utterances ($failed failed)$( [ -n "$vad_config" ] && echo ", with VAD")"
