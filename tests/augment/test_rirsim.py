"""RT60 measurement and the calibrated RIR simulator (RIRS_NOISES layout)."""

from __future__ import annotations

import numpy as np
import pytest

from phonsid.augment import datadir, reverb, rirsim, rt60
from phonsid.data import write_map
from phonsid.io.wav import read_wav_spec, write_wav

FS = 8000


def _exponential_rir(t60: float, fs: int, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    # amplitude envelope 10^(-3 t / T60): energy down 60 dB after T60
    return rng.normal(size=len(t)) * 10 ** (-3 * t / t60)


@pytest.mark.parametrize("t60", [0.25, 0.6, 1.4])
def test_rt60_of_exponential_decay(t60):
    h = _exponential_rir(t60, 16000, 2.5 * t60)
    assert rt60.measure_rt60(h, 16000) == pytest.approx(t60, rel=0.05)
    assert rt60.measure_rt60(h, 16000, fit_db=(-5, -25)) == pytest.approx(t60, rel=0.05)


def test_decay_length_and_trim():
    h = _exponential_rir(0.5, FS, 1.5)
    n = rt60.decay_length(h, 60)
    edc = rt60.energy_decay_curve(h)
    assert edc[n] <= -60 < edc[n - 1]
    assert n / FS == pytest.approx(0.5, rel=0.1)  # -60 dB of remaining energy is reached about T60 in
    pcm = rirsim.finish_rir(h)
    assert len(pcm) == n and np.abs(pcm).max() == pytest.approx(0.9 * 32767, abs=1)
    with pytest.raises(rt60.Rt60Error, match="silent"):
        rt60.measure_rt60(np.zeros(100), FS)


def test_drr():
    h = np.zeros(1000)
    h[100] = 1.0
    h[500] = 0.5
    assert rt60.direct_to_reverberant_ratio(h, FS) == pytest.approx(10 * np.log10(1 / 0.25))


# A flat room (where uniform Sabine absorption overshoots by seconds), a small and a medium one.
@pytest.mark.parametrize("dims, target", [((25.0, 12.0, 3.0), 0.7), ((4.0, 3.0, 2.5), 0.35),
                                          ((14.0, 11.0, 3.5), 0.5)])
def test_calibrated_room_rt60_within_20_percent(dims, target):
    rng = np.random.default_rng(1)
    sources = [tuple(float(rng.uniform(0.5, d - 0.5)) for d in dims) for _ in range(2)]
    mic = tuple(float(rng.uniform(0.5, d - 0.5)) for d in dims)
    room = rirsim.calibrate_room(dims, target, sources, mic, FS, max_order=60)
    for h in room.rirs:
        measured = rt60.measure_rt60(rirsim.finish_rir(h), FS)
        assert abs(measured / target - 1) < 0.2, f"{dims}: RT60 {measured:.3f} s for {target} s"


def test_simulated_corpus_layout_and_use(tmp_path):
    out = tmp_path / "sim_rirs"
    records = rirsim.simulate_rirs(out, ["smallroom"], num_rooms=2, rirs_per_room=2, sample_rate=FS, seed=3,
                                   max_order=50)
    recs = records["smallroom"]
    assert len(recs) == 4
    rir_list = (out / "simulated_rirs" / "smallroom" / "rir_list").read_text().splitlines()
    assert rir_list[0].startswith("--rir-id smallroom-Room001-00001 --room-id smallroom-Room001 --rt60 ")
    info = (out / "simulated_rirs" / "smallroom" / "room_info").read_text().splitlines()
    assert len(info) == 2
    for rec in recs:
        wave = read_wav_spec(rec.path)
        assert wave.sample_rate == FS and wave.data.shape[0] == 1
        assert np.abs(wave.data).max() == pytest.approx(0.9 * 32767, abs=1)
        # the rir_list RT60 is what the written file measures, and it is near the room's target
        assert rt60.measure_rt60(wave.data[0], FS) == pytest.approx(rec.rt60, abs=1e-3)
    # same parameters: skipped; the files stay as they are
    mtime = (out / "simulated_rirs" / "smallroom" / "rir_list").stat().st_mtime_ns
    assert rirsim.simulate_rirs(out, ["smallroom"], 2, 2, FS, seed=3, max_order=50) == {"smallroom": []}
    assert (out / "simulated_rirs" / "smallroom" / "rir_list").stat().st_mtime_ns == mtime
    # the list feeds reverberate_data_dir, and the reverberated speech is aligned with the clean speech
    speech = np.sin(np.arange(3 * FS) * 0.07) * np.sin(np.arange(3 * FS) * 0.0009) * 5000
    write_wav(tmp_path / "u.wav", speech, FS)
    d = tmp_path / "data"
    d.mkdir()
    write_map(d / "wav.scp", {"u": str(tmp_path / "u.wav")})
    write_map(d / "utt2spk", {"u": "s"})
    write_map(d / "reco2dur", {"u": "3.0"})
    datadir.reverberate_data_dir(d, tmp_path / "rev", utt_suffix="reverb",
                                 rir_set_parameters=[f"{out}/simulated_rirs/smallroom/rir_list"])
    y = read_wav_spec((tmp_path / "rev" / "wav.scp").read_text().split(" ", 1)[1]).data[0]
    assert len(y) == len(speech)
    lags = [int(np.argmax(np.correlate(y[1000:20000], speech[1000 + k:20000 + k]))) for k in (0,)]
    assert lags == [0]


def test_unknown_room_type():
    with pytest.raises(rirsim.SimulationError, match="unknown room type 'hall'"):
        rirsim.simulate_rirs("/nonexistent", ["hall"], 1, 1, FS)


def test_early_window_matches_kaldi_float_arithmetic():
    h = np.zeros(2000)
    h[10] = 1
    assert reverb.early_reverb_window(h, 16000) == (0, 810)
    h[10], h[500] = 0, 1
    assert reverb.early_reverb_window(h, 8000) == (492, 900)
