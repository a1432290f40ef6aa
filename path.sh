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
# glibc malloc: large blocks from the heap and kept there for reuse. The networks and the statistics allocate and
# free tensors of tens to hundreds of MB on every call; by default each is a fresh mmap whose pages all fault in
# (x-vector training spent a third of its time there: bench/malloc.py). Memory freed is reused by the process,
# not returned to the system before it exits; the results are the same bits.
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-4294967296}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-68719476736}
