"""Fixtures of the i-vector tests: one torch thread per test. The golden training features (``train_feats``) and
the tools' environment (``cli_env``) are shared with the GMM tests, in tests/conftest.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every i-vector test runs on one torch thread."""
