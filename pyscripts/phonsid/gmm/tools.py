"""Table-level loops behind the GMM command-line tools (per-utterance checks and warnings as Kaldi's)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Iterable

import numpy as np
import torch

from phonsid.gmm.diag_gmm import DiagGmm
from phonsid.gmm.full_gmm import FullGmm
from phonsid.gmm.gselect import gselect_to_tensor
from phonsid.gmm.mle import DiagGmmAccs, FullGmmAccs, accumulate_diag, accumulate_full
from phonsid.gmm.sid_features import grouped
from phonsid.io import RandomReader


@dataclasses.dataclass
class AccSummary:
    num_done: int = 0
    num_err: int = 0
    tot_like: float = 0.0
    tot_weight: float = 0.0


def accumulate_table(gmm: DiagGmm | FullGmm, features: Iterable[tuple[str, np.ndarray]], accs,
                     gselect_rspecifier: str = "", weights_rspecifier: str = "",
                     device: torch.device | str = "cpu", log: logging.Logger | None = None,
                     emulate_kaldi_quirk: bool = False) -> AccSummary:
    """gmm-global-acc-stats / fgmm-global-acc-stats over a feature table (utterances without gselect or
    weights, or with the wrong number of frames, are skipped with a warning)."""
    summary = AccSummary()
    gsel_reader = RandomReader(gselect_rspecifier, "int_vector_vector") if gselect_rspecifier else None
    w_reader = RandomReader(weights_rspecifier, "vector") if weights_rspecifier else None
    full = isinstance(gmm, FullGmm)

    def valid():
        for key, feats in features:
            t = feats.shape[0]
            weights = None
            if w_reader is not None:
                if key not in w_reader:
                    _warn(log, f"No per-frame weights available for utterance {key}")
                    summary.num_err += 1
                    continue
                weights = np.asarray(w_reader[key], dtype=np.float64)
                if weights.shape[0] != t:
                    _warn(log, f"Weights for utterance {key} have wrong dim {weights.shape[0]} vs. {t}")
                    summary.num_err += 1
                    continue
            gsel = None
            if gsel_reader is not None:
                if key not in gsel_reader:
                    _warn(log, f"No gselect information for utterance {key}")
                    summary.num_err += 1
                    continue
                gsel = gselect_to_tensor(gsel_reader[key])
                if gsel.shape[0] != t:
                    _warn(log, f"gselect information for utterance {key} has wrong size {gsel.shape[0]} vs. {t}")
                    summary.num_err += 1
                    continue
            yield key, feats, gsel, weights

    try:
        # utterances are independent frame by frame: accumulate many at once
        for group in grouped(valid()):
            x = torch.as_tensor(np.concatenate([f for _, f, _, _ in group]), device=device)
            fw = None
            if w_reader is not None:
                fw = torch.as_tensor(np.concatenate([w for _, _, _, w in group]), device=device)
            gsel = None
            if gsel_reader is not None:
                width = max(g.shape[1] for _, _, g, _ in group)
                gsel = torch.cat([torch.nn.functional.pad(g, (0, width - g.shape[1]), value=-1)
                                  for _, _, g, _ in group]).to(device)
            if full:
                like, weight = accumulate_full(gmm, x, accs, gsel, fw)
            else:
                like, weight = accumulate_diag(gmm, x, accs, gsel, fw, emulate_kaldi_quirk=emulate_kaldi_quirk)
            summary.tot_like += like
            summary.tot_weight += weight
            summary.num_done += len(group)
    finally:
        for r in (gsel_reader, w_reader):
            if r is not None:
                r.close()
    return summary


def _warn(log: logging.Logger | None, msg: str) -> None:
    if log is not None:
        log.warning(msg)


def new_accs(gmm: DiagGmm | FullGmm, flags: int) -> DiagGmmAccs | FullGmmAccs:
    if isinstance(gmm, FullGmm):
        return FullGmmAccs.zeros(gmm.num_gauss, gmm.dim, flags)
    return DiagGmmAccs.zeros(gmm.num_gauss, gmm.dim, flags)
