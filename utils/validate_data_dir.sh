#!/usr/bin/env bash
# Checks a data dir: sorted unique keys, files consistent with utt2spk/spk2utt (one-line errors).
# Kaldi-compatible wrapper: same name, options and file formats as Kaldi's; the logic is in
# pyscripts/validate_data_dir.py (library: phonsid.data). Run with --help for the usage.
# Works with or without path.sh sourced: prefers $PHONSID_ROOT/venv/bin/python, then this checkout's venv.
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
py=python3
for cand in "${PHONSID_ROOT:+$PHONSID_ROOT/venv/bin/python}" "$root/venv/bin/python"; do
  if [ -n "$cand" ] && [ -x "$cand" ]; then py=$cand; break; fi
done
export PYTHONPATH="$root/pyscripts${PYTHONPATH:+:$PYTHONPATH}"
export LC_ALL=C
exec "$py" "$root/pyscripts/validate_data_dir.py" "$@"
