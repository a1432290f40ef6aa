"""Small helpers shared by the GMM-HMM command-line tools (reading the model/tree pair, running a tool body
with Kaldi-style error reporting)."""

from __future__ import annotations

import logging
import os
import sys
from typing import Callable

from phonsid.io.xfilename import KaldiIOError

#: errors a tool reports as "ERROR (tool) message" and exit status 1 (bad input, not a bug)
USER_ERRORS = (ValueError, OSError, KaldiIOError, KeyError)


def run_tool(log: logging.Logger, body: Callable[[], int | None]) -> int:
    try:
        rc = body()
        return 0 if rc is None else rc
    except USER_ERRORS as e:
        msg = str(e)
        if isinstance(e, KeyError):
            msg = f"missing key {e}"
        log.error(msg)
        return 1
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130


def set_threads(n: int) -> None:
    """Limits torch's (and BLAS's) threads per job — jobs run in parallel already. Before torch is imported
    this sets the environment it reads at import time; afterwards it calls ``torch.set_num_threads``."""
    n = max(1, int(n))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    else:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)
