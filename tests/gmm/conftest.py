"""Fixtures of the GMM tests: one torch thread per test. The golden training features (``train_feats``) and the
tools' environment (``cli_env``) are shared with the i-vector tests, in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every GMM test runs on one torch thread."""
