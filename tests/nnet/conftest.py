"""Fixtures for the x-vector tests: synthetic speakers, Kaldi data dirs on disk, small configs.

The sliding CMN and voiced-frame selection come from ``phonsid.features`` (the front end). Where that library
does not have them yet, ``frontend`` patches in the small reference versions below, in this process and (through a
``sitecustomize`` shim on PYTHONPATH) in the tools the tests start; with the real functions present nothing is
patched.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import phonsid.features

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_torch_thread(request):
    """Tiny networks gain nothing from intra-op threads, and on a shared machine OpenMP's spinning threads
    make them 50x slower; the x-vector tests run single-threaded (restored afterwards)."""
    import torch

    if not request.module.__name__.split(".")[-1].startswith("test_xvector"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------------------------------- front end


def reference_apply_cmvn_sliding(feats, cmn_window=600, min_cmn_window=100, center=False, norm_vars=False):
    """Kaldi's apply-cmvn-sliding with a centred window (the only mode the x-vector recipe uses)."""
    if not center:
        raise NotImplementedError("the test reference only covers --center=true")
    feats = np.asarray(feats, dtype=np.float64)
    t_total = feats.shape[0]
    out = np.empty_like(feats)
    for t in range(t_total):
        start = t - cmn_window // 2
        end = start + cmn_window
        if start < 0:
            end -= start
            start = 0
        if end > t_total:
            start = max(0, start - (end - t_total))
            end = t_total
        window = feats[start:end]
        out[t] = feats[t] - window.mean(axis=0)
        if norm_vars:
            out[t] /= np.sqrt(np.maximum(window.var(axis=0), 1e-20))
    return out.astype(np.float32)


def reference_select_voiced_frames(feats, vad):
    return np.asarray(feats)[np.asarray(vad) != 0.0]


_SHIM = """
import numpy as np
import phonsid.features as _f
{functions}
if not hasattr(_f, "apply_cmvn_sliding"):
    _f.apply_cmvn_sliding = reference_apply_cmvn_sliding
if not hasattr(_f, "select_voiced_frames"):
    _f.select_voiced_frames = reference_select_voiced_frames
"""


@pytest.fixture
def frontend(monkeypatch, tmp_path_factory):
    """Makes sure ``phonsid.features`` has the sliding CMN and voiced-frame selection (see module doc); returns
    the PYTHONPATH entry to give to subprocesses (empty when nothing is patched)."""
    missing = [n for n in ("apply_cmvn_sliding", "select_voiced_frames") if not hasattr(phonsid.features, n)]
    if not missing:
        return ""
    if "apply_cmvn_sliding" in missing:
        monkeypatch.setattr(phonsid.features, "apply_cmvn_sliding", reference_apply_cmvn_sliding, raising=False)
    if "select_voiced_frames" in missing:
        monkeypatch.setattr(phonsid.features, "select_voiced_frames", reference_select_voiced_frames, raising=False)
    shim = tmp_path_factory.mktemp("frontend_shim")
    functions = "\n".join(inspect.getsource(f) for f in (reference_apply_cmvn_sliding, reference_select_voiced_frames))
    (shim / "sitecustomize.py").write_text(_SHIM.format(functions=functions))
    return str(shim)


@pytest.fixture
def env(script_env, frontend):
    """Environment for the repo's scripts: ``script_env`` plus pyscripts/ on PATH and the front-end shim."""
    e = dict(script_env)
    e["PATH"] = os.pathsep.join([str(REPO / "pyscripts"), e["PATH"]])
    if frontend:
        e["PYTHONPATH"] = os.pathsep.join([frontend, e["PYTHONPATH"]])
    e["OMP_NUM_THREADS"] = "1"
    return e


# ----------------------------------------------------------------------------------------------- synthetic data


@dataclass
class Speakers:
    feats: dict[str, np.ndarray]
    utt2spk: dict[str, str]
    vad: dict[str, np.ndarray]

    @property
    def utt2num_frames(self) -> dict[str, int]:
        return {u: int(m.shape[0]) for u, m in self.feats.items()}


def make_speakers(num_spk=8, utts_per_spk=6, dim=8, min_len=150, max_len=300, separation=1.0, seed=0,
                  voiced_fraction=1.0) -> Speakers:
    """Speakers whose frames are their own mean plus unit noise (separable for ``separation`` ~1)."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((num_spk, dim)) * separation
    feats, utt2spk, vad = {}, {}, {}
    for s in range(num_spk):
        for u in range(utts_per_spk):
            n = int(rng.integers(min_len, max_len + 1))
            utt = f"spk{s:02d}-utt{u:02d}"
            feats[utt] = (means[s] + rng.standard_normal((n, dim))).astype(np.float32)
            utt2spk[utt] = f"spk{s:02d}"
            vad[utt] = (rng.random(n) < voiced_fraction).astype(np.float32)
    return Speakers(feats, utt2spk, vad)


@pytest.fixture
def speakers() -> Speakers:
    return make_speakers()


@pytest.fixture(name="make_speakers", scope="session")
def make_speakers_fixture():
    """The ``make_speakers`` factory (test modules cannot import this conftest under importlib mode)."""
    return make_speakers


def write_data_dir(path: Path, sp: Speakers, with_vad: bool = True) -> Path:
    """A Kaldi data dir with feats.scp/ark, vad.scp/ark, utt2spk, spk2utt, utt2num_frames."""
    from phonsid.data import utt2spk_to_spk2utt, write_list_map, write_map
    from phonsid.io import TableWriter

    path.mkdir(parents=True, exist_ok=True)
    with TableWriter(f"ark,scp:{path}/feats.ark,{path}/feats.scp") as w:
        for utt in sorted(sp.feats):
            w.write(utt, sp.feats[utt])
    if with_vad:
        with TableWriter(f"ark,scp:{path}/vad.ark,{path}/vad.scp", "vector") as w:
            for utt in sorted(sp.vad):
                w.write(utt, sp.vad[utt])
    write_map(path / "utt2spk", sp.utt2spk)
    write_list_map(path / "spk2utt", utt2spk_to_spk2utt(sp.utt2spk))
    write_map(path / "utt2num_frames", {u: str(n) for u, n in sp.utt2num_frames.items()})
    return path


@pytest.fixture(name="write_data_dir", scope="session")
def write_data_dir_fixture():
    """The ``write_data_dir`` helper."""
    return write_data_dir


# small network and fast schedule for CPU tests
TINY_MODEL = {"frame_dims": [24, 24, 24, 24, 48], "segment_dims": [24, 24]}
TINY_OVERRIDES = ["model.frame_dims=[24,24,24,24,48]", "model.segment_dims=[24,24]", "train.minibatch_size=16",
                  "train.initial_effective_lrate=0.004", "train.final_effective_lrate=0.0008",
                  "train.diagnostic_interval=20", "train.checkpoint_interval=20", "train.log_interval=10"]


@pytest.fixture
def tiny_overrides() -> list[str]:
    return list(TINY_OVERRIDES)
