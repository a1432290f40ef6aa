"""Fixtures of the bench tests: the bench scripts are files, not modules of the package."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> Iterator[ModuleType]:
    """bench/<name>.py imported as module bench_<name> for the duration of a test module."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def scale() -> Iterator[ModuleType]:
    yield from _load("scale")


@pytest.fixture(scope="module")
def gpu() -> Iterator[ModuleType]:
    yield from _load("gpu")
