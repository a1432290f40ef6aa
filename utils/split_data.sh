#!/usr/bin/env bash
# Splits a data dir into <data>/split<N>/{1..N} by speaker (or split<N>utt with --per-utt).
# Kaldi-compatible wrapper: same name, options and file formats as Kaldi's; the logic is in
# pyscripts/split_data.py (library: phonsid.data). Run with --help for the usage.
# Works with or without path.sh sourced: prefers $PHONSID_ROOT/venv/bin/python, then this checkout's venv.
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
py=python3
for cand in "${PHONSID_ROOT:+$PHONSID_ROOT/venv/bin/python}" "$root/venv/bin/python"; do
  if [ -n "$cand" ] && [ -x "$cand" ]; then py=$cand; break; fi
done
export PYTHONPATH="$root/pyscripts${PYTHONPATH:+:$PYTHONPATH}"
export LC_ALL=C
exec "$py" "$root/pyscripts/split_data.py" "$@"
