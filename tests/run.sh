#!/usr/bin/env bash
# Runs the phonsid test suite in the project venv (created on first use by tools/install.sh).
# Usage: bash tests/run.sh [pytest args...]     e.g. bash tests/run.sh -m "not slow" -x tests/io
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. ./path.sh
python -m pytest "$@"
# pytest exits 5 when no test was collected: that is a failure too.
