# Environment for phonsid: the venv made by tools/install.sh and the library on PYTHONPATH.
# Sourced by run.sh, tests/run.sh and the step scripts; creates the venv on first use and updates it when
# pyproject.toml (the dependencies) changed since.
PHONSID_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PHONSID_ROOT
if [ ! -f "$PHONSID_ROOT/venv/.phonsid_installed" ] \
   || [ "$PHONSID_ROOT/pyproject.toml" -nt "$PHONSID_ROOT/venv/.phonsid_installed" ]; then
  bash "$PHONSID_ROOT/tools/install.sh" || { echo "path.sh: tools/install.sh failed" >&2; return 1 2>/dev/null || exit 1; }
fi
# shellcheck disable=SC1091
. "$PHONSID_ROOT/venv/bin/activate"
export PATH="$PHONSID_ROOT/utils:$PHONSID_ROOT/pyscripts:$PATH"
export PYTHONPATH="$PHONSID_ROOT/pyscripts${PYTHONPATH:+:$PYTHONPATH}"
export LC_ALL=C
export PYTHONUNBUFFERED=1
# One thread per process unless a tool is told otherwise (--num-threads): steps run --nj jobs side by side, and
# BLAS/OpenMP threads spinning beside another job can slow both down.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
