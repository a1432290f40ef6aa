"""Fixtures of the GMM tests: those of tests/gmm/sid_fixtures.py (golden training features, one thread)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sid_fixtures import _one_thread, cli_env, train_feats  # noqa: E402,F401
