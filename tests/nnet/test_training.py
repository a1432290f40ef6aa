"""phonsid.nnet.training.SignalCatcher: an interrupt becomes a flag the training loop checkpoints on."""

from __future__ import annotations

import os
import signal

from phonsid.nnet.training import SignalCatcher


def test_signals_are_recorded_and_handlers_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    catcher = SignalCatcher()
    try:
        assert catcher.signal is None
        os.kill(os.getpid(), signal.SIGTERM)  # would end the test process without the catcher
        assert catcher.signal == signal.SIGTERM
        os.kill(os.getpid(), signal.SIGINT)
        assert catcher.signal == signal.SIGINT
    finally:
        catcher.restore()
    assert signal.getsignal(signal.SIGTERM) == before


def test_disabled_catcher_installs_nothing() -> None:
    before = signal.getsignal(signal.SIGINT)
    catcher = SignalCatcher(enabled=False)
    assert signal.getsignal(signal.SIGINT) == before
    catcher.restore()
    assert catcher.signal is None
