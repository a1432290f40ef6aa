"""Fixtures of the bench tests: the bench scripts, loaded from their files (helpers.scripts)."""

from __future__ import annotations

from types import ModuleType

import pytest
from helpers.scripts import load_script


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    return load_script("bench/scale.py")


@pytest.fixture(scope="module")
def gpu() -> ModuleType:
    return load_script("bench/gpu.py")
