#!/usr/bin/env bash
# Creates ./venv with torch and the phonsid package (editable) plus the dev tools.
# Usage: tools/install.sh
#   PHONSID_TORCH   torch requirement to install (default: torch==2.13.0, the CPU build)
#                   e.g. PHONSID_TORCH="torch==2.5.1" PHONSID_TORCH_INDEX=https://download.pytorch.org/whl/cu124
#   PHONSID_TORCH_INDEX  extra index URL for the torch wheel (CUDA builds)
#   PHONSID_PYTHON  interpreter used to create the venv (default: python3)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/venv
python=${PHONSID_PYTHON:-python3}
torch_req=${PHONSID_TORCH:-torch==2.13.0}

if [ ! -x "$venv/bin/python" ]; then
  echo "$0: creating $venv with $($python --version 2>&1)" >&2
  "$python" -m venv "$venv"
fi
pip="$venv/bin/python -m pip"
index_opts=()
[ -n "${PHONSID_TORCH_INDEX:-}" ] && index_opts=(--extra-index-url "$PHONSID_TORCH_INDEX")
$pip install --quiet "${index_opts[@]}" "$torch_req" 2> >(grep -v "is ignored: it is neither" >&2)
$pip install --quiet -e "$root[dev]" 2> >(grep -v "is ignored: it is neither" >&2)
"$venv/bin/python" -c "import torch, numpy, scipy, kaldiio, kaldi_native_fbank, soundfile, phonsid; print('phonsid installed; torch', torch.__version__)"
touch "$venv/.phonsid_installed"
