"""Batched float64 linear algebra on numpy arrays through torch.

numpy's linear algebra runs on its own BLAS thread pool, which ignores torch.set_num_threads / --num-threads
and, on a busy machine, can be many times slower than a single thread; these helpers route the small batched
decompositions of the GMM code through torch instead.
"""

from __future__ import annotations

import numpy as np
import torch


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def inv(a: np.ndarray) -> np.ndarray:
    return torch.linalg.inv(_t(a)).numpy()


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a x = b for batches of vectors b (..., D)."""
    return torch.linalg.solve(_t(a), _t(b).unsqueeze(-1)).squeeze(-1).numpy()


def slogdet(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sign, logdet = torch.linalg.slogdet(_t(a))
    return sign.numpy(), logdet.numpy()


def eigh(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s, p = torch.linalg.eigh(_t(a))
    return s.numpy(), p.numpy()


def eigvalsh(a: np.ndarray) -> np.ndarray:
    return torch.linalg.eigvalsh(_t(a)).numpy()


def cholesky(a: np.ndarray) -> np.ndarray:
    return torch.linalg.cholesky(_t(a)).numpy()
