"""Fixtures shared by the GMM and i-vector tests (their conftests import them): the golden training features
(Kaldi's sid pipeline on the 100 golden utterances) and one CPU thread per test (the shared test machine is small;
torch's thread pool only adds contention)."""

from __future__ import annotations

import pytest
import torch

from sid_feats_ref import load_golden_train_feats


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def train_feats(golden) -> dict:
    """utterance → (T, 60) float32 features the golden UBMs and extractor were trained on (archive order)."""
    return load_golden_train_feats(golden)


@pytest.fixture(scope="session")
def cli_env(script_env) -> dict:
    env = dict(script_env)
    env["OMP_NUM_THREADS"] = "1"
    return env
