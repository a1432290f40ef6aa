"""phonsid.nnet.training: an interrupt becomes a flag the training loop checkpoints on (SignalCatcher); mixed
precision set-up (setup_amp, amp_dtype)."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from phonsid.nnet.training import SignalCatcher, amp_dtype, setup_amp


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


def test_amp_is_off_on_cpu_with_a_warning() -> None:
    warnings: list[str] = []
    use_amp, dtype, scaler, autocast = setup_amp(True, "auto", torch.device("cpu"), warnings.append)
    assert (use_amp, dtype, scaler.is_enabled()) == (False, torch.float32, False)
    assert warnings and "GPU" in warnings[0]
    with autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    assert setup_amp(False, "auto", torch.device("cpu"), warnings.append)[0] is False and len(warnings) == 1


def test_amp_dtype_names() -> None:
    cpu = torch.device("cpu")
    assert amp_dtype("bf16", cpu) == amp_dtype("bfloat16", cpu) == amp_dtype("auto", cpu) == torch.bfloat16
    assert amp_dtype("fp16", cpu) == amp_dtype("half", cpu) == torch.float16
    with pytest.raises(ValueError, match="--amp-dtype"):
        amp_dtype("int8", cpu)


def test_models_and_checkpoints_with_non_finite_parameters_are_not_saved(tmp_path) -> None:
    from phonsid.io import NonFiniteError
    from phonsid.nnet.training import Checkpointer
    from phonsid.nnet.xvector import XvectorModelConfig, XvectorTDNN, save_xvector_model

    torch.manual_seed(0)
    model = XvectorTDNN(5, 3, XvectorModelConfig(frame_dims=[8, 8, 8, 8, 16], segment_dims=[6, 6]))
    ckpt = Checkpointer(tmp_path / "checkpoints")
    first = ckpt.save(1, {"step": 1, "model": model.state_dict()})
    name, param = next(iter(model.named_parameters()))
    with torch.no_grad():
        param.view(-1)[3] = float("nan")
    with pytest.raises(NonFiniteError, match=rf"ckpt-00000002\.pt: refusing to save a checkpoint with non-finite "
                                             rf"parameters: {name} has 1 of \d+ values NaN or inf; the last "
                                             rf"checkpoint written is .*ckpt-00000001\.pt"):
        ckpt.save(2, {"step": 2, "model": model.state_dict()})
    with pytest.raises(NonFiniteError, match=rf"final\.pt: refusing to save a model .*: {name} has 1 of"):
        save_xvector_model(tmp_path / "final.pt", model)
    assert ckpt.latest() == first and not (tmp_path / "final.pt").exists()
