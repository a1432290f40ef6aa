#!/usr/bin/env bash
# Runs bench/gpu.py on a CUDA machine: every accelerator row at full size, then the CPU rows for the ratio column,
# in under 8 minutes (a 420 s budget, rows that would not fit are skipped, a hard stop at 465 s); writes
# bench/results/gpu.md and gpu.json (rewritten after every row, so a stopped run keeps what it measured) and, when
# $OUT is set, copies them and the log there.
#
# Usage: bash bench/gpu.sh [bench/gpu.py options]      (from anywhere; it runs in the repo root)
#   e.g. bash bench/gpu.sh
#        bash bench/gpu.sh --rows xvec_train_bf16,ivec_extract --no-cpu
#
# Python packages: the image's python3 has torch, numpy, scipy, pyyaml and tqdm. The i-vector rows import
# phonsid.gmm / phonsid.ivector, which import phonsid.io's Kaldi readers and with them kaldiio (pure Python, 29 kB),
# which the image lacks; bench/gpu.py imports nothing else from outside the image. Carry its wheel
# (/work/.library/device/README.md): once, here, in the repo root,
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux2014_x86_64 -d .whl kaldiio==2.18.1
# and run `bash bench/gpu.sh` with carry [".whl"] and timeout_s 600. Every wheel in .whl/ is installed into
# /tmp/site when kaldiio is not importable. Without the wheel the i-vector rows fail, saying so, and the others are
# still measured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

py=${PYTHON:-python3}
budget=420      # seconds for bench/gpu.py's rows (it skips what would not fit)
hard_stop=465   # seconds after which the run is stopped outright (8 minutes less start-up)
log=${OUT:-/tmp}/gpu.log

export PYTHONPATH="$PWD/pyscripts${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

if ! "$py" -c "import kaldiio" 2>/dev/null; then
  if compgen -G ".whl/*.whl" >/dev/null; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site:$PYTHONPATH"
  else
    echo "bench/gpu.sh: kaldiio is not installed and no .whl/*.whl was carried: the i-vector rows will fail" \
      "(see this script's header)" >&2
  fi
fi

rm -f bench/results/gpu.md bench/results/gpu.json  # no stale results copied or reported
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,power.limit --format=csv 2>&1 | tee "$log" \
  || true
rc=0
timeout --signal=TERM --kill-after=10 "$hard_stop" \
  "$py" bench/gpu.py --device cuda --budget-s "$budget" --out bench/results/gpu.md "$@" 2>&1 | tee -a "$log" \
  || rc=$?
if [ -n "${OUT:-}" ]; then
  cp bench/results/gpu.md bench/results/gpu.json "$OUT"/ 2>/dev/null || echo "bench/gpu.sh: no results to copy" >&2
fi
if [ -f bench/results/gpu.md ]; then
  echo "bench/gpu.sh: exit status $rc; results in bench/results/gpu.md${OUT:+ and $OUT}" >&2
else
  echo "bench/gpu.sh: exit status $rc; no results written" >&2
fi
exit "$rc"
