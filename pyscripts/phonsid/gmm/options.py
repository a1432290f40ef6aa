"""Command-line option groups shared by the GMM and i-vector tools (Kaldi's names and defaults)."""

from __future__ import annotations

import argparse
import logging
import os

import torch

from phonsid.cli import KaldiOptionParser
from phonsid.gmm.mle import MleDiagGmmOptions, MleFullGmmOptions


def add_mle_diag_options(p: KaldiOptionParser) -> None:
    p.add_argument("--min-gaussian-weight", type=float, default=1.0e-5,
                   help="MleDiagGmmOptions: Min Gaussian weight before we remove it.")
    p.add_argument("--min-gaussian-occupancy", type=float, default=10.0,
                   help="MleDiagGmmOptions: Minimum occupancy to update a Gaussian.")
    p.add_argument("--min-variance", type=float, default=0.001,
                   help="MleDiagGmmOptions: Variance floor (absolute variance).")
    p.add_bool("--remove-low-count-gaussians", True,
               "MleDiagGmmOptions: If true, remove Gaussians that fall below the floors.")


def mle_diag_options(a: argparse.Namespace) -> MleDiagGmmOptions:
    return MleDiagGmmOptions(a.min_gaussian_weight, a.min_gaussian_occupancy, a.min_variance,
                             a.remove_low_count_gaussians)


def add_mle_full_options(p: KaldiOptionParser) -> None:
    p.add_argument("--min-gaussian-weight", type=float, default=1.0e-5,
                   help="MleFullGmmOptions: Min Gaussian weight before we remove it.")
    p.add_argument("--min-gaussian-occupancy", type=float, default=100.0,
                   help="MleFullGmmOptions: Minimum count before we remove a Gaussian.")
    p.add_argument("--variance-floor", type=float, default=0.001,
                   help="MleFullGmmOptions: Minimum eigenvalue of covariance matrix.")
    p.add_argument("--max-condition", type=float, default=1.0e4,
                   help="MleFullGmmOptions: Maximum condition number of covariance matrix (use it to floor).")
    p.add_bool("--remove-low-count-gaussians", True,
               "MleFullGmmOptions: If true, remove Gaussians that fall below the floors.")


def mle_full_options(a: argparse.Namespace) -> MleFullGmmOptions:
    return MleFullGmmOptions(a.min_gaussian_weight, a.min_gaussian_occupancy, a.variance_floor, a.max_condition,
                             a.remove_low_count_gaussians)


def add_compute_options(p: KaldiOptionParser, threads_default: int = 1, with_threads: bool = True) -> None:
    """--use-gpu (Kaldi nnet3 spelling: yes|no|optional|wait), --num-threads and --verbose."""
    p.add_argument("--use-gpu", default="no", choices=("yes", "no", "optional", "wait"),
                   help="phonsid: compute on a CUDA GPU (yes|no|optional) (default: no)")
    if with_threads:
        p.add_argument("--num-threads", type=int, default=threads_default,
                       help=f"Number of CPU threads (default: {threads_default})")
    p.add_argument("--verbose", type=int, default=0, help="Verbose level (accepted for Kaldi compatibility)")


def select_device(a: argparse.Namespace, log: logging.Logger | None = None) -> torch.device:
    """The device from --use-gpu; sets torch's CPU thread count from --num-threads."""
    threads = getattr(a, "num_threads", None)
    if threads and threads > 0:
        torch.set_num_threads(min(threads, os.cpu_count() or threads))  # more threads than CPUs only contend
    if a.use_gpu in ("yes", "wait", "optional") and torch.cuda.is_available():
        dev = torch.device("cuda", torch.cuda.current_device())
        if log:
            log.info(f"Using GPU {torch.cuda.get_device_name(dev)}")
        return dev
    if a.use_gpu in ("yes", "wait"):
        raise SystemExit("ERROR: --use-gpu=yes but no CUDA device is available")
    return torch.device("cpu")


def single_threaded() -> None:
    """For tools that, like their Kaldi counterparts, run on one thread: torch's default pool (one thread per
    core) only adds contention when run.pl runs many jobs on the machine."""
    torch.set_num_threads(1)


def env_threads() -> int:
    """A default thread count: $OMP_NUM_THREADS, else all CPUs."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:
        return os.cpu_count() or 1
