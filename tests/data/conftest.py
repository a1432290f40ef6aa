"""Fixtures for the phonsid.data tests (helpers in datadir_helpers.py, importable from the test files)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datadir_helpers import build_data_dir  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Callable[..., Path]:
    """``data_dir(counts, name="d", **files)`` builds a data dir under tmp_path and returns its path."""

    def make(counts: dict[str, int] | None = None, name: str = "d", **kwargs) -> Path:
        p = tmp_path / name
        build_data_dir(p, counts or {"spkA": 3, "spkB": 2, "spkC": 4}, **kwargs)
        return p

    return make
