"""wav_reverberate.py as a command: stdin/stdout and pipes, in-process reading of its own pipes, errors."""

from __future__ import annotations

import shlex
import subprocess
import sys

import numpy as np
import pytest

from phonsid.augment import command, resample
from phonsid.io.pipeline import own_stage, run_shell
from phonsid.io.wav import read_wav_spec, write_wav


@pytest.fixture()
def wavs(tmp_path):
    rng = np.random.default_rng(0)
    fs = 8000
    t = np.arange(fs * 2) / fs
    speech = (3000 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    rir = np.zeros(800, dtype=np.float32)
    rir[40] = 30000
    rir[41:] = rng.normal(size=759) * 3000 * np.exp(-np.arange(759) / 150)
    noise = (rng.normal(size=fs) * 1000).astype(np.float32)
    paths = {}
    for name, x in (("in", speech), ("rir", rir), ("noise", noise)):
        paths[name] = tmp_path / f"{name}.wav"
        write_wav(paths[name], x, fs)
    rir2 = np.stack([rir, np.roll(rir, 5)])
    paths["rir2"] = tmp_path / "rir2.wav"
    write_wav(paths["rir2"], rir2, fs)
    noise2 = np.stack([noise, noise[::-1]])
    paths["noise2"] = tmp_path / "noise2.wav"
    write_wav(paths["noise2"], noise2, fs)
    return paths


def _run(args, env, **kw):
    return subprocess.run([sys.executable, str(command.SCRIPT), *args], env=env, capture_output=True, **kw)


def test_stdin_stdout_and_pipes_give_the_same_wav(wavs, script_env, tmp_path):
    opts = [f"--impulse-response={wavs['rir']}", f"--additive-signals={wavs['noise']}", "--snrs=5",
            "--start-times=0.5"]
    assert _run([*opts, str(wavs["in"]), str(tmp_path / "a.wav")], script_env).returncode == 0
    ref = (tmp_path / "a.wav").read_bytes()
    # '-' in, '-' out
    p = _run([*opts, "-", "-"], script_env, input=wavs["in"].read_bytes())
    assert p.returncode == 0, p.stderr
    assert p.stdout == ref
    # input pipe, output pipe, RIR given as a pipe
    pipe_opts = [f"--impulse-response=cat {wavs['rir']} |", *opts[1:]]
    p = _run([*pipe_opts, f"cat {wavs['in']} |", f"| cat > {tmp_path / 'b.wav'}"], script_env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "b.wav").read_bytes() == ref


def test_own_pipes_are_read_in_process_with_the_same_samples(wavs):
    inner = command.wav_reverberate_command(["--duration=1.5", f"--impulse-response={wavs['rir']}"],
                                            f'"{wavs["noise"]}"') + " |"
    assert own_stage(inner.rstrip("|").rstrip()) is not None
    in_process = read_wav_spec(inner)
    outside = run_shell(inner.rstrip("|").rstrip())
    np.testing.assert_array_equal(in_process.data, outside.data)
    assert in_process.num_samples == 12000
    rs = command.resample_command(str(wavs["in"]), 16000) + " |"
    a = read_wav_spec(rs)
    b = run_shell(rs.rstrip("|").rstrip())
    assert a.sample_rate == b.sample_rate == 16000
    np.testing.assert_array_equal(a.data, b.data)


def test_nested_additive_pipe_matches_materialised_noise(wavs, script_env, tmp_path):
    inner = command.wav_reverberate_command(["--duration=2.0"], f'"{wavs["noise"]}"')
    assert _run(["--duration=2.0", str(wavs["noise"]), str(tmp_path / "looped.wav")], script_env).returncode == 0
    common = ["--snrs=10", "--start-times=0", str(wavs["in"]), "-"]
    a = _run([f"--additive-signals={inner} |", *common], script_env)
    b = _run([f"--additive-signals={tmp_path / 'looped.wav'}", *common], script_env)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert a.stdout == b.stdout


def test_multi_channel_output_and_channels(wavs, script_env, tmp_path):
    p = _run(["--multi-channel-output=true", f"--impulse-response={wavs['rir2']}",
              f"--additive-signals={wavs['noise2']}", "--snrs=10", "--start-times=0", str(wavs["in"]),
              str(tmp_path / "mc.wav")], script_env)
    assert p.returncode == 0, p.stderr
    out = read_wav_spec(str(tmp_path / "mc.wav"))
    assert out.data.shape == (2, 16000)
    assert not np.array_equal(out.data[0], out.data[1])
    # one output channel from RIR channel 1 and noise channel 1 is the second channel of the above
    p = _run(["--rir-channel=1", "--noise-channel=1", f"--impulse-response={wavs['rir2']}",
              f"--additive-signals={wavs['noise2']}", "--snrs=10", "--start-times=0", str(wavs["in"]),
              str(tmp_path / "c1.wav")], script_env)
    assert p.returncode == 0, p.stderr
    np.testing.assert_array_equal(read_wav_spec(str(tmp_path / "c1.wav")).data[0], out.data[1])


def test_volume_replaces_normalisation(wavs, script_env, tmp_path):
    x = read_wav_spec(str(wavs["in"])).data[0]
    p = _run(["--volume=0.5", str(wavs["in"]), "-"], script_env)
    assert p.returncode == 0
    (tmp_path / "v.wav").write_bytes(p.stdout)
    np.testing.assert_array_equal(read_wav_spec(str(tmp_path / "v.wav")).data[0], np.trunc(x * 0.5))
    p = _run(["--help"], script_env, text=True)
    assert p.returncode == 0 and "wav_reverberate.py [options...] <wav-in-rxfilename>" in p.stdout


@pytest.mark.parametrize("args, message", [
    (["--additive-signals={noise}"], "needs --snrs and --start-times"),
    (["--additive-signals={noise},{noise}", "--snrs=1", "--start-times=0,1"], "2 additive signals but 1 SNRs"),
    (["--rir-channel=3", "--impulse-response={rir}"], "--rir-channel=3 but the RIR has 1 channel"),
    (["--additive-signals={noise}", "--snrs=x", "--start-times=0"], "--snrs: 'x' is not a number"),
])
def test_errors_are_reported_with_the_file(wavs, script_env, args, message):
    argv = [a.format(**{k: str(v) for k, v in wavs.items()}) for a in args]
    p = _run([*argv, str(wavs["in"]), "-"], script_env, text=True)
    assert p.returncode == 1
    assert message in p.stderr and str(wavs["in"]) in p.stderr


def test_missing_input_is_an_error(script_env, tmp_path):
    p = _run([str(tmp_path / "nope.wav"), "-"], script_env, text=True)
    assert p.returncode == 1 and "nope.wav" in p.stderr


def test_resample_keeps_a_tone():
    fs_in, fs_out = 16000, 8000
    t = np.arange(fs_in) / fs_in
    x = np.sin(2 * np.pi * 440 * t) * 10000
    y = resample.resample(x, fs_in, fs_out)
    assert len(y) == fs_out
    ref = np.sin(2 * np.pi * 440 * np.arange(fs_out) / fs_out) * 10000
    assert np.abs(y[200:-200] - ref[200:-200]).max() < 50
    with pytest.raises(ValueError, match="integral positive rates"):
        resample.resample(x, 16000.5, 8000)


def test_command_lines_use_absolute_tool_paths():
    line = command.wav_reverberate_command(["--duration=1"], "in.wav")
    argv = shlex.split(line)
    assert argv[0] == command.python_executable() and argv[0].startswith("/")
    assert argv[1] == str(command.SCRIPT) and argv[1].startswith("/")
