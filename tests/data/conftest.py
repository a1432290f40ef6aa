"""Fixtures for the phonsid.data tests (helpers in tests/helpers/datadir.py, imported by the test files too)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from helpers.datadir import build_data_dir


@pytest.fixture
def data_dir(tmp_path: Path) -> Callable[..., Path]:
    """``data_dir(counts, name="d", **files)`` builds a data dir under tmp_path and returns its path."""

    def make(counts: dict[str, int] | None = None, name: str = "d", **kwargs) -> Path:
        p = tmp_path / name
        build_data_dir(p, counts or {"spkA": 3, "spkB": 2, "spkC": 4}, **kwargs)
        return p

    return make
