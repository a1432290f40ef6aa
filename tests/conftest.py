"""Fixtures shared by tests in several folders: the ../shared data and golden folders (tests skip cleanly when
absent), the repo root, environments for the repo's tools, the golden training features of the GMM and i-vector
tests, one torch thread. Helper functions shared across folders are in the ``helpers`` package (tests/helpers,
importable through the ``pythonpath`` setting of pytest in pyproject.toml)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from helpers.sid_feats_ref import load_golden_train_feats

REPO = Path(__file__).resolve().parents[1]


def _shared_root() -> Path:
    return Path(os.environ.get("PHONSID_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The phonsid checkout."""
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real recordings); skips the test when it is absent."""
    path = _shared_root() / "data"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def golden() -> Path:
    """../shared/golden (outputs of real Kaldi binaries); skips the test when it is absent."""
    path = _shared_root() / "golden"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def script_env() -> dict[str, str]:
    """Environment for running the repo's shell and Python tools from tests (venv python first on PATH)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(REPO / "utils"), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "pyscripts"), env.get("PYTHONPATH", "")])
    env["LC_ALL"] = "C"
    return env


@pytest.fixture(scope="session")
def cli_env(script_env) -> dict[str, str]:
    """``script_env`` with one OpenMP thread per tool (the GMM and i-vector CLI tests)."""
    env = dict(script_env)
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture(scope="session")
def train_feats(golden) -> dict:
    """utterance → (T, 60) float32 features the golden UBMs and extractor were trained on (archive order): Kaldi's
    sid pipeline on the 100 golden training utterances."""
    return load_golden_train_feats(golden)


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test, the previous count restored after it (the shared test machine is small;
    torch's thread pool only adds contention)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
