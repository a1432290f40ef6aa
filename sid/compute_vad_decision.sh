#!/usr/bin/env bash
# Computes energy-based voice activity decisions from the features of a data dir (Kaldi's
# sid/compute_vad_decision.sh): column 0 (log energy) against --vad-energy-threshold plus
# --vad-energy-mean-scale times its mean. Writes <data-dir>/vad.scp. (steps/make_mfcc.sh --vad-config
# computes the same decisions in its own pass, without reading the features again.)
#
# Usage: sid/compute_vad_decision.sh [options] <data-dir> [<log-dir> [<vad-dir>]]
#  <data-dir>  data dir with feats.scp (MFCC with energy)
#  <log-dir>   job logs (default: <data-dir>/log)
#  <vad-dir>   archives (default: <data-dir>/data)
# e.g.: sid/compute_vad_decision.sh --nj 4 --vad-config conf/vad.conf data/train exp/make_vad/train mfcc
set -euo pipefail

nj=4                           # parallel jobs
cmd=utils/run.pl               # job launcher
vad_config=conf/vad.conf       # Kaldi option file of compute_vad.py

help_message="$(sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//')"
signature="$0 $*"
. utils/parse_options.sh

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
data=$1
logdir=${2:-$data/log}
vaddir=${3:-$data/data}
name=$(basename "$data")

[ -f ./path.sh ] && . ./path.sh

for f in "$data/feats.scp" "$vad_config"; do
  [ -f "$f" ] || { echo "$0: expected file $f to exist" >&2; exit 1; }
done

# Skip when a run with the same command line finished, the features (feats.scp and its archives) and the config
# are unchanged and the VAD archives are complete (step_stamp.py).
stamp=$data/.stamps/compute_vad_decision.json
stamp_opts=(--key="$signature" --in-scp "$data/feats.scp" --in "$vad_config" --out-scp "$data/vad.scp")
if step_stamp.py check "${stamp_opts[@]}" "$stamp"; then
  echo "$0: $data/vad.scp is up to date"
  exit 0
fi

mkdir -p "$logdir" "$vaddir"
vaddir=$(cd "$vaddir" && pwd)
utils/split_data.sh "$data" "$nj" >&2
sdata=$data/split$nj
rm -f "$vaddir"/vad_$name.*.{ark,scp}

if ! $cmd JOB=1:$nj "$logdir/vad_$name.JOB.log" \
    compute_vad.py --config="$vad_config" "scp:$sdata/JOB/feats.scp" \
      "ark,scp:$vaddir/vad_$name.JOB.ark,$vaddir/vad_$name.JOB.scp"; then
  echo "$0: VAD failed for $name, see $logdir/vad_$name.*.log" >&2
  grep -h "^ERROR" "$logdir"/vad_$name.*.log | head -n 5 >&2 || true
  exit 1
fi
cat "$vaddir"/vad_$name.*.scp | LC_ALL=C sort -k1,1 > "$data/vad.scp.tmp"
mv "$data/vad.scp.tmp" "$data/vad.scp"

nf=$(wc -l < "$data/feats.scp")
nv=$(wc -l < "$data/vad.scp")
if [ "$nv" -ne "$nf" ]; then
  echo "$0: $((nf - nv)) of $nf utterances of $name got no VAD (empty features); see $logdir/vad_$name.*.log" >&2
  grep -h "^WARNING" "$logdir"/vad_$name.*.log | sed 's/^/  /' | head -n 10 >&2 || true
  if [ "$nv" -lt $((nf - nf / 20)) ]; then
    echo "$0: fewer than 95% of the utterances got VAD decisions" >&2
    exit 1
  fi
fi
voiced=$(grep -h "Proportion of voiced frames" "$logdir"/vad_$name.*.log | \
  awk '{p += $(NF-3) * $(NF-1); n += $(NF-1)} END {if (n) printf "%.3f", p / n; else print "n/a"}')
step_stamp.py write "${stamp_opts[@]}" "$stamp"
echo "$0: computed VAD for $name: $nv utterances, voiced proportion $voiced"
