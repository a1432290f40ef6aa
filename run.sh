#!/usr/bin/env bash
# phonsid recipe: speaker recognition with phonetic bottleneck features (Rahman et al., Interspeech 2018).
# Usage: bash run.sh [--stage N] [--stop-stage M] [--corpus demo] [--nj J]
#   Stage 0  data preparation (Kaldi data dirs)
#   Later stages are added as they are implemented; see the README.
# The first run creates ./venv (tools/install.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stage=0          # first stage to run
stop_stage=100   # last stage to run
corpus=demo      # demo (generated here, no download)
nj=2             # parallel jobs per step
small=false      # demo only: the tiny --small corpus (seconds of audio; for smoke tests)
seed=777         # demo only: generator seed

help_message="Usage: bash run.sh [options]
Runs the phonsid recipe stage by stage; see README.md."
. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

log() {
  # Timestamped stage banner: "2026-11-26 23:59:59 (run.sh:NN:main) message"
  local fname=${BASH_SOURCE[1]##*/}
  echo -e "$(date '+%Y-%m-%d %H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

case $corpus in
  demo) ;;
  *) echo "run.sh: unknown --corpus '$corpus' (available: demo)" >&2; exit 1 ;;
esac

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "Stage 0: data preparation ($corpus)"
  size_opt=""; [ "$small" = true ] && size_opt="--small"
  python local/make_demo_corpus.py --config conf/demo.conf $size_opt --seed $seed data data/local/demo_wav
  for s in demo_asr demo_train demo_enroll demo_test; do
    utils/validate_data_dir.sh --no-feats data/$s
  done
fi

log "Done (stages $stage..$stop_stage)."
