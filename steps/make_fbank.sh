#!/usr/bin/env bash
# Computes log mel filter-bank features for a data dir (Kaldi's steps/make_fbank.sh); the same in-process
# jobs, outputs and failure handling as steps/make_mfcc.sh (which does the work), with compute_fbank_feats.py.
#
# Usage: steps/make_fbank.sh [options] <data-dir> [<log-dir> [<fbank-dir>]]
#  <data-dir>   data dir with wav.scp (and segments); gets feats.scp, utt2num_frames, utt2dur
#  <log-dir>    job logs (default: <data-dir>/log)
#  <fbank-dir>  archives (default: <data-dir>/data)
# e.g.: steps/make_fbank.sh --nj 4 --fbank-config conf/fbank.conf data/train exp/make_fbank/train fbank
set -euo pipefail

nj=4                           # parallel jobs (the data dir is split by speaker)
cmd=utils/run.pl               # job launcher
fbank_config=conf/fbank.conf   # Kaldi option file of compute_fbank_feats.py
compress=true                  # write compressed matrices
write_utt2num_frames=true      # write <data-dir>/utt2num_frames
write_utt2dur=true             # write <data-dir>/utt2dur
max_failed_fraction=0.1        # fail if more than this fraction of utterances could not be processed
engine=numpy                   # numpy | knf | torch

help_message="$(sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//')"
. utils/parse_options.sh

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "$help_message" >&2
  exit 1
fi
exec "$(dirname "$0")/make_mfcc.sh" --feat-type fbank --mfcc-config "$fbank_config" --nj "$nj" --cmd "$cmd" \
  --compress "$compress" --write-utt2num-frames "$write_utt2num_frames" --write-utt2dur "$write_utt2dur" \
  --max-failed-fraction "$max_failed_fraction" --engine "$engine" "$@"
