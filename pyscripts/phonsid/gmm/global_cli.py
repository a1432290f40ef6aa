"""The command lines shared by the diagonal (gmm-global-*) and full-covariance (fgmm-global-*) GMM tools: the two
Kaldi binaries of each pair differ only in the model and statistics types they read and write."""

from __future__ import annotations

import dataclasses
import sys
from typing import Callable

import numpy as np

from phonsid.cli import KaldiOptionParser, get_logger
from phonsid.gmm.diag_gmm import read_diag_gmm, write_diag_gmm
from phonsid.gmm.full_gmm import FullGmm, read_full_gmm, write_full_gmm
from phonsid.gmm.flags import string_to_gmm_flags
from phonsid.gmm import mle
from phonsid.gmm.options import (add_compute_options, add_mle_diag_options, add_mle_full_options, mle_diag_options,
                                 mle_full_options, select_device, single_threaded)
from phonsid.gmm.sid_features import add_feature_options, feature_options, iter_features
from phonsid.gmm.tools import accumulate_table, new_accs
from phonsid.io import KaldiIOError


@dataclasses.dataclass(frozen=True)
class GmmKind:
    """What differs between the diagonal and the full-covariance tools."""

    prefix: str  # "gmm" | "fgmm"
    covariance: str  # "diagonal" | "full"
    read_gmm: Callable
    write_gmm: Callable
    read_accs: Callable
    write_accs: Callable
    update: Callable
    add_mle_options: Callable
    mle_options: Callable

    @property
    def full(self) -> bool:
        return self.prefix == "fgmm"


DIAG = GmmKind("gmm", "diagonal", read_diag_gmm, write_diag_gmm, mle.read_diag_gmm_accs, mle.write_diag_gmm_accs,
               mle.mle_diag_update, add_mle_diag_options, mle_diag_options)
FULL = GmmKind("fgmm", "full", read_full_gmm, write_full_gmm, mle.read_full_gmm_accs, mle.write_full_gmm_accs,
               mle.mle_full_update, add_mle_full_options, mle_full_options)


def acc_stats_main(kind: GmmKind, argv: list[str] | None = None) -> int:
    """``<prefix>-global-acc-stats [options] <model-in> <feature-rspecifier> <stats-out>``."""
    prog = f"{kind.prefix}-global-acc-stats"
    p = KaldiOptionParser(prog, f"""Accumulate stats for training a {kind.covariance}-covariance GMM.
Usage:  {prog} [options] <model-in> <feature-rspecifier> <stats-out>
e.g.: {prog} 1.mdl scp:train.scp 1.acc""")
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--update-flags", default="mvw", help="Which GMM parameters will be updated: subset of mvw.")
    p.add_argument("--gselect", default="", help="rspecifier for gselect objects to limit the #Gaussians accessed "
                   "on each frame.")
    p.add_argument("--weights", default="", help="rspecifier for a vector of floats for each utterance, that's a "
                   "per-frame weight.")
    if not kind.full:
        p.add_bool("--kaldi-preselect-quirk", False, "phonsid: reproduce Kaldi's DiagGmm::LogLikelihoodsPreselect, "
                   "which reads a selection whose last index is first + n - 1 as that index range (for bit-level "
                   "parity with Kaldi; the default computes the selected Gaussians)")
    add_feature_options(p)
    add_compute_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    model_in, feature_rspecifier, accs_out = a.args
    log = get_logger(prog)
    try:
        device = select_device(a, log)
        gmm = kind.read_gmm(model_in)
        accs = new_accs(gmm, string_to_gmm_flags(a.update_flags))
        s = accumulate_table(gmm, iter_features(feature_rspecifier, feature_options(a), log), accs, a.gselect,
                             a.weights, device, log, getattr(a, "kaldi_preselect_quirk", False))
        log.info(f"Done {s.num_done} files; {s.num_err} with errors.")
        log.info(f"Overall likelihood per frame = {s.tot_like / max(s.tot_weight, 1e-300):.6g} over "
                 f"{s.tot_weight:.6g} (weighted) frames.")
        kind.write_accs(accs_out, accs, a.binary)
        log.info(f"Written accs to {accs_out}")
        return 0 if s.num_done else 1
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


def est_main(kind: GmmKind, argv: list[str] | None = None) -> int:
    """``<prefix>-global-est [options] <model-in> <stats-in> <model-out>``: one EM update (and optional mix-up)."""
    prog = f"{kind.prefix}-global-est"
    p = KaldiOptionParser(prog, f"""Estimate a {kind.covariance}-covariance GMM from the accumulated stats.
Usage:  {prog} [options] <model-in> <stats-in> <model-out>""")
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("--update-flags", default="mvw", help="Which GMM parameters will be updated: subset of mvw.")
    p.add_argument("--mix-up", type=int, default=0, help="Increase number of mixture components to this overall "
                   "target.")
    p.add_argument("--perturb-factor", type=float, default=0.01, help="While mixing up, perturb means by standard "
                   "deviation times this factor.")
    p.add_argument("--srand", type=int, default=0, help="phonsid: seed for the mixing-up perturbation")
    p.add_argument("--verbose", type=int, default=0, help="Verbose level (accepted for Kaldi compatibility)")
    kind.add_mle_options(p)
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 3:
        p.print_help(sys.stderr)
        return 1
    model_in, stats_in, model_out = a.args
    log = get_logger(prog)
    single_threaded()
    try:
        gmm = kind.read_gmm(model_in)
        accs = kind.read_accs(stats_in)
        res = kind.update(gmm, accs, kind.mle_options(a), string_to_gmm_flags(a.update_flags), log)
        log.info(f"Overall objective function improvement is {res.objf_change / max(res.count, 1e-300):.6g} per "
                 f"frame over {res.count:.6g} frames.")
        gmm = res.gmm
        if a.mix_up:
            gmm = gmm.split(a.mix_up, a.perturb_factor, np.random.default_rng(a.srand))
        kind.write_gmm(model_out, gmm, a.binary)
        log.info(f"Written model to {model_out}")
        return 0
    except (ValueError, RuntimeError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


def sum_accs_main(kind: GmmKind, argv: list[str] | None = None) -> int:
    """``<prefix>-global-sum-accs [options] <stats-out> <stats-in1> <stats-in2> ...``."""
    prog = f"{kind.prefix}-global-sum-accs"
    p = KaldiOptionParser(prog, f"""Sum multiple accumulated stats files for {kind.covariance}-covariance GMM training.
Usage: {prog} [options] stats-out stats-in1 stats-in2 ...""")
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) < 2:
        p.print_help(sys.stderr)
        return 1
    log = get_logger(prog)
    single_threaded()
    try:
        total = mle.sum_accs(a.args[1:], full=kind.full)
        kind.write_accs(a.args[0], total, a.binary)
        log.info(f"Summed {len(a.args) - 1} stats, total count {total.occupancy.sum():.6g}")
        log.info(f"Written stats to {a.args[0]}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1


def convert_main(source: GmmKind, argv: list[str] | None = None) -> int:
    """``gmm-global-to-fgmm`` (``source`` = DIAG) or ``fgmm-global-to-gmm`` (FULL): the model in the other
    covariance type (a full GMM keeps its covariances' diagonals)."""
    target = DIAG if source.full else FULL
    prog = f"{source.prefix}-global-to-{target.prefix}"
    ext_in, ext_out = ("fgmm", "gmm") if source.full else ("gmm", "fgmm")
    usage = (f"Convert single {source.covariance}-covariance GMM to single {target.covariance}-covariance GMM.\n"
             f"Usage: {prog} [options] 1.{ext_in} 1.{ext_out}")
    p = KaldiOptionParser(prog, usage)
    p.add_bool("--binary", True, "Write output in binary mode")
    p.add_argument("args", nargs="*")
    a = p.parse_args(argv)
    if len(a.args) != 2:
        p.print_help(sys.stderr)
        return 1
    log = get_logger(prog)
    single_threaded()
    try:
        gmm = source.read_gmm(a.args[0])
        target.write_gmm(a.args[1], gmm.to_diag() if source.full else FullGmm.from_diag(gmm), a.binary)
        log.info(f"Written {target.covariance}-covariance GMM to {a.args[1]}")
        return 0
    except (ValueError, KaldiIOError, OSError) as e:
        log.error(str(e))
        return 1
