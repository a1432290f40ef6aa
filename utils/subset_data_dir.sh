#!/usr/bin/env bash
# Makes a data dir with a subset of the utterances (N uniform, --first/--last/--shortest/--per-spk, or lists).
# Kaldi-compatible wrapper: same name, options and file formats as Kaldi's; the logic is in
# pyscripts/subset_data_dir.py (library: phonsid.data). Run with --help for the usage.
# Works with or without path.sh sourced: prefers $PHONSID_ROOT/venv/bin/python, then this checkout's venv.
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
py=python3
for cand in "${PHONSID_ROOT:+$PHONSID_ROOT/venv/bin/python}" "$root/venv/bin/python"; do
  if [ -n "$cand" ] && [ -x "$cand" ]; then py=$cand; break; fi
done
export PYTHONPATH="$root/pyscripts${PYTHONPATH:+:$PYTHONPATH}"
export LC_ALL=C
exec "$py" "$root/pyscripts/subset_data_dir.py" "$@"
