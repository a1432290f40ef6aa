"""Synthetic embeddings drawn from a known two-covariance PLDA model, and Kaldi tables/data dirs of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


@dataclass
class TrueModel:
    mean: np.ndarray
    within: np.ndarray  # W
    between: np.ndarray  # B


def random_spd(rng: np.random.Generator, dim: int, scale: float, cond: float = 10.0) -> np.ndarray:
    """A random symmetric positive-definite matrix with eigenvalues in [scale/cond, scale]."""
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    ev = scale * np.geomspace(1.0 / cond, 1.0, dim)
    return (q * ev) @ q.T


def make_model(rng: np.random.Generator, dim: int, between_scale: float = 4.0) -> TrueModel:
    return TrueModel(rng.standard_normal(dim), random_spd(rng, dim, 1.0, 5.0), random_spd(rng, dim, between_scale))


def sample(
    rng: np.random.Generator, model: TrueModel, num_spk: int, utts_per_spk, prefix: str = "spk"
) -> tuple[list[str], np.ndarray, dict[str, list[str]]]:
    """Keys, vectors (float32) and spk2utt of ``num_spk`` speakers drawn from ``model``.

    ``utts_per_spk`` is an int or a list (one count per speaker).
    """
    dim = model.mean.shape[0]
    counts = [utts_per_spk] * num_spk if isinstance(utts_per_spk, int) else list(utts_per_spk)
    lw = np.linalg.cholesky(model.within)
    lb = np.linalg.cholesky(model.between)
    keys, rows, spk2utt = [], [], {}
    for s in range(num_spk):
        spk = f"{prefix}{s:04d}"
        y = lb @ rng.standard_normal(dim)
        utts = []
        for u in range(counts[s]):
            utt = f"{spk}-utt{u:03d}"
            rows.append(model.mean + y + lw @ rng.standard_normal(dim))
            keys.append(utt)
            utts.append(utt)
        spk2utt[spk] = utts
    return keys, np.asarray(rows, dtype=np.float32), spk2utt


def write_ark_scp(ark: Path, keys, mat) -> Path:
    """Writes vectors as ``ark,scp`` (the scp next to the ark) and returns the scp path. Vectors holding NaN or
    inf (bad input for the readers' checks) are written with kaldiio, as phonsid's table writer refuses them."""
    from phonsid.io import TableWriter

    scp = ark.with_suffix(".scp")
    if not np.isfinite(np.asarray(mat, dtype=np.float32)).all():
        import kaldiio

        with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as w:
            for k, v in zip(keys, mat):
                w(k, np.asarray(v, dtype=np.float32))
        return scp
    with TableWriter(f"ark,scp:{ark},{scp}", "vector") as w:
        for k, v in zip(keys, mat):
            w.write(k, np.asarray(v, dtype=np.float32))
    return scp


def write_data_dir(path: Path, spk2utt: dict[str, list[str]]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "spk2utt", "w") as f:
        for spk in sorted(spk2utt):
            f.write(f"{spk} {' '.join(sorted(spk2utt[spk]))}\n")
    with open(path / "utt2spk", "w") as f:
        for utt, spk in sorted((u, s) for s, us in spk2utt.items() for u in us):
            f.write(f"{utt} {spk}\n")


class Synth:
    """The helpers above, handed to tests by the ``synth`` fixture (test modules cannot import conftest)."""

    TrueModel = TrueModel
    random_spd = staticmethod(random_spd)
    make_model = staticmethod(make_model)
    sample = staticmethod(sample)
    write_ark_scp = staticmethod(write_ark_scp)
    write_data_dir = staticmethod(write_data_dir)


@pytest.fixture(scope="session")
def synth() -> type[Synth]:
    return Synth


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
