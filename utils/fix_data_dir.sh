#!/usr/bin/env bash
# Sorts a data dir and drops the utterances/speakers/recordings not present in all its files.
# Kaldi-compatible wrapper: same name, options and file formats as Kaldi's; the logic is in
# pyscripts/fix_data_dir.py (library: phonsid.data). Run with --help for the usage.
# Works with or without path.sh sourced: prefers $PHONSID_ROOT/venv/bin/python, then this checkout's venv.
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
py=python3
for cand in "${PHONSID_ROOT:+$PHONSID_ROOT/venv/bin/python}" "$root/venv/bin/python"; do
  if [ -n "$cand" ] && [ -x "$cand" ]; then py=$cand; break; fi
done
export PYTHONPATH="$root/pyscripts${PYTHONPATH:+:$PYTHONPATH}"
export LC_ALL=C
exec "$py" "$root/pyscripts/fix_data_dir.py" "$@"
