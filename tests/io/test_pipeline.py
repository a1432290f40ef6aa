"""wav.scp pipes: each chain shape read in process gives the shell's samples, and own stages start no Python."""

from __future__ import annotations

import shlex
import subprocess

import numpy as np
import pytest

from phonsid.augment import command, datadir
from phonsid.data import read_map, write_map
from phonsid.io import pipeline
from phonsid.io.pipeline import OWN_PROGRAMS, own_command, own_stage, read_wav_spec, split_pipeline
from phonsid.io.sphere import sphere_to_wav
from phonsid.io.wav import WavError, decode_audio, iter_wav_table, write_wav


@pytest.fixture()
def audio(tmp_path):
    """A 16 kHz utterance, an 8 kHz RIR and noise, and a two-channel 8 kHz SPHERE-like source as WAV."""
    rng = np.random.default_rng(3)
    t = np.arange(16000 * 2) / 16000
    speech = 4000 * np.sin(2 * np.pi * 180 * t) * (1.2 + np.sin(2 * np.pi * 2.5 * t)) + rng.normal(size=t.size) * 50
    rir = np.zeros(600)
    rir[30] = 25000
    rir[31:] = rng.normal(size=569) * 2500 * np.exp(-np.arange(569) / 120)
    paths = {"speech16k": tmp_path / "speech16k.wav", "rir": tmp_path / "rir.wav", "noise": tmp_path / "noise.wav"}
    write_wav(paths["speech16k"], speech, 16000)
    write_wav(paths["rir"], rir, 8000)
    write_wav(paths["noise"], rng.normal(size=8000) * 800, 8000)
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture()
def python_starts(monkeypatch):
    """Every command the pipeline starts; fails the test if one of them runs a Python."""
    started: list[str] = []

    def run(cmd, *args, **kwargs):
        started.append(cmd)
        if "python" in cmd:
            pytest.fail(f"a Python was started: {cmd}")
        return _REAL_RUN(cmd, *args, **kwargs)

    monkeypatch.setattr(pipeline.subprocess, "run", run)
    return started


_REAL_RUN = subprocess.run


def _shell(spec: str):
    """What bash running the pipe gives (the reference every in-process read must equal)."""
    proc = _REAL_RUN(["bash", "-c", spec.strip().rstrip("|")], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    return decode_audio(proc.stdout, spec)


def _reverb(audio, wav_in: str) -> str:
    nested_noise = command.wav_reverberate_command(["--duration=1"], audio["noise"]) + " |"
    return command.wav_reverberate_command(
        [f"--impulse-response={audio['rir']}", f"--additive-signals='{nested_noise}'", "--snrs=5",
         "--start-times=0.25"], wav_in)


def _shapes(audio) -> dict[str, str]:
    resample = command.resample_command(audio["speech16k"], 8000)
    return {
        "own": resample + " |",
        "own | own": f"{resample} | {_reverb(audio, '-')} |",  # the augmented published-layout entry
        "foreign | own": f"cat {audio['speech16k']} | {command.resample_command('-', 8000)} |",
        "foreign | own | own": f"cat {audio['speech16k']} | {command.resample_command('-', 8000)} | "
                               f"{_reverb(audio, '-')} |",  # sph2pipe/ffmpeg | resample | reverberate
        "own | foreign": f"{resample} | cat |",
        "own | foreign | own": f"{resample} | cat | cat | {_reverb(audio, '-')} |",
        "own with own inputs": _reverb(audio, f"'{resample} |'") + " |",
    }


@pytest.mark.parametrize("shape", ["own", "own | own", "foreign | own", "foreign | own | own", "own | foreign",
                                   "own | foreign | own", "own with own inputs"])
def test_every_chain_shape_reads_as_the_shell_runs_it(audio, python_starts, shape):
    spec = _shapes(audio)[shape]
    shell = _shell(spec)
    wave = read_wav_spec(spec)
    assert wave.sample_rate == shell.sample_rate == 8000
    np.testing.assert_array_equal(wave.data, shell.data)
    foreign = [s for s in split_pipeline(spec.rstrip().rstrip("|")) if own_stage(s) is None]
    assert [c.count("cat") for c in python_starts] == ([len(foreign)] if foreign else [])


def test_sphere_program_and_its_former_module_name_run_in_process(tmp_path, python_starts):
    header = b"NIST_1A\n   1024\nsample_rate -i 8000\nchannel_count -i 2\nsample_n_bytes -i 2\n" \
             b"sample_coding -s3 pcm\nsample_byte_format -s2 01\nend_head\n"
    x = (np.random.default_rng(1).normal(size=(800, 2)) * 3000).astype("<i2")
    path = tmp_path / "call.sph"
    path.write_bytes(header.ljust(1024, b" ") + x.tobytes())
    spec = own_command("sph2wav", ["-c", "2", str(path)]) + " |"
    wave = read_wav_spec(spec)
    np.testing.assert_array_equal(wave.data[0], x[:, 1].astype(np.float32))
    former = spec.replace("-m phonsid.io.sphere", "-m phonsid.recipes.sre")
    np.testing.assert_array_equal(read_wav_spec(former).data, wave.data)
    assert sphere_to_wav(path, 2)[44:] == x[:, 1].tobytes()
    assert python_starts == []


def test_reading_an_augmented_piped_data_dir_starts_no_python(audio, tmp_path, python_starts):
    """The published speechocean762 layout: 16 kHz files resampled in wav.scp, then reverberated and noised."""
    clean = tmp_path / "clean"
    clean.mkdir()
    wav = {f"spk{i}-utt{i}": command.resample_command(audio["speech16k"], 8000) + " |" for i in range(3)}
    write_map(clean / "wav.scp", wav)
    write_map(clean / "utt2spk", {u: u.split("-")[0] for u in wav})
    write_map(clean / "utt2dur", {u: "2.0" for u in wav})
    rirs = tmp_path / "rir_list"
    rirs.write_text(f"--rir-id rir1 --room-id room1 {audio['rir']}\n")
    datadir.reverberate_data_dir(clean, tmp_path / "reverb", rir_set_parameters=[f"1.0, {rirs}"],
                                 speech_rvb_probability=1.0, pointsource_noise_addition_probability=0.0,
                                 isotropic_noise_addition_probability=0.0, num_replications=1,
                                 source_sampling_rate=8000, utt_suffix="reverb")
    noises = tmp_path / "noise"
    noises.mkdir()
    write_map(noises / "wav.scp", {"n1": audio["noise"]})
    write_map(noises / "utt2spk", {"n1": "n1"})
    write_map(noises / "utt2dur", {"n1": "1.0"})
    datadir.augment_data_dir(clean, tmp_path / "babble", bg_noise_dir=str(noises), bg_snrs="13:20",
                             num_bg_noises="3", utt_suffix="babble")
    for aug in ("reverb", "babble"):
        entries = read_map(tmp_path / aug / "wav.scp")
        assert all(v.count("python") >= 2 for v in entries.values())  # resample and wav-reverberate at least
        read = dict(iter_wav_table(tmp_path / aug / "wav.scp"))
        for utt, value in entries.items():
            np.testing.assert_array_equal(read[utt].data, _shell(value).data)
    assert python_starts == []


def test_split_pipeline_leaves_other_shell_syntax_to_the_shell():
    assert split_pipeline("a x | b 'y|z' \"w|v\" | c") == ["a x", "b 'y|z' \"w|v\"", "c"]
    assert split_pipeline("sph2pipe -f wav f.sph 2>/dev/null | sox - -t wav -") == \
        ["sph2pipe -f wav f.sph 2>/dev/null", "sox - -t wav -"]
    for command_line in ("a; b | c", "a || b", "a |& b", "(a | b) | c", "a $(b) | c", "a `b` | c", "a \"$X\" | c",
                         "a | ", "a 'unterminated | b", "a &"):
        assert split_pipeline(command_line) is None, command_line


def test_a_pipe_with_other_syntax_still_runs_in_a_shell(audio):
    spec = f"true && cat {audio['noise']} |"
    np.testing.assert_array_equal(read_wav_spec(spec).data, read_wav_spec(audio["noise"]).data)


def test_own_program_with_unusual_arguments_runs_as_the_shell_would(audio, tmp_path, monkeypatch):
    out = tmp_path / "written.wav"
    writes_a_file = command.resample_command(audio["speech16k"], 8000, wav_out=str(out))
    assert own_stage(writes_a_file) is None  # a side effect: leave it to the program
    bad = command.wav_reverberate_command(["--no-such-option=1"], audio["noise"])
    assert own_stage(bad) is None
    with pytest.raises(WavError, match="failed with status"):
        read_wav_spec(bad + " |")


def test_in_process_errors_name_the_command(audio):
    spec = command.wav_reverberate_command([f"--additive-signals={audio['noise']}"], audio["noise"]) + " |"
    with pytest.raises(WavError, match=r"command '.*wav_reverberate\.py.*' failed: .*needs --snrs"):
        read_wav_spec(spec)
    with pytest.raises(WavError, match="reads standard input, but nothing precedes it"):
        read_wav_spec(command.resample_command("-", 8000) + " |")


def test_every_own_program_has_an_in_process_stage_and_a_runnable_command(audio):
    for program in OWN_PROGRAMS:
        argv = shlex.split(program.command(["x"]))
        assert argv[0] == pipeline.python_executable() and program.program_args(argv) == ["x"]
        assert callable(__import__(program.module, fromlist=["pipe_stage"]).pipe_stage)
