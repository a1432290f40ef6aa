"""Shared fixtures: the ../shared data and golden folders (tests skip cleanly when absent), the repo root; tests/ on
the import path for the ``helpers`` package."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "pyscripts"))
sys.path.insert(0, str(REPO / "tests"))  # tests/helpers: helpers shared by tests in several folders


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
