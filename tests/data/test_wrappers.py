"""The utils/ wrappers with Kaldi's names, run as a step script would run them (subprocess)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import soundfile
from helpers.datadir import keys, read, write


def run(repo_root: Path, env: dict, tool: str, *args, stdin: bytes | None = None, cwd: Path | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    cmd = [str(repo_root / "utils" / tool), *map(str, args)]
    if tool.endswith(".pl") and args and args[0] == "--via-perl":
        cmd = ["perl", cmd[0], *map(str, args[1:])]
    p = subprocess.run(cmd, input=stdin, capture_output=True, env=env, cwd=cwd, timeout=120)
    if check:
        assert p.returncode == 0, (cmd, p.stdout.decode(), p.stderr.decode())
    return p


def test_validate_and_fix(repo_root, script_env, data_dir):
    d = data_dir(feats=True)
    p = run(repo_root, script_env, "validate_data_dir.sh", d)
    assert f"Successfully validated data-directory {d}" in p.stdout.decode()
    write(d / "feats.scp", read(d / "feats.scp")[1:])
    p = run(repo_root, script_env, "validate_data_dir.sh", d, check=False)
    assert p.returncode == 1
    err = p.stderr.decode().splitlines()
    assert err == [f"validate_data_dir.sh: error: {d}/feats.scp: utterance 'spkA-u01' (line 1 of utt2spk) is missing "
                   f"(1 utterance(s) of utt2spk missing, 0 not in utt2spk)"]
    p = run(repo_root, script_env, "fix_data_dir.sh", d)
    assert "fix_data_dir.sh: kept 8 utterances out of 9 (dropped 1)" in p.stdout.decode()
    run(repo_root, script_env, "validate_data_dir.sh", d)


def test_validate_sample_rate_option(repo_root, script_env, data_dir, tmp_path):
    d = data_dir({"a": 1, "b": 1})
    for u in keys(d / "utt2spk"):
        soundfile.write(tmp_path / f"{u}.wav", np.zeros(800, dtype=np.int16), 16000, subtype="PCM_16")
    write(d / "wav.scp", [f"{u} {tmp_path}/{u}.wav" for u in keys(d / "utt2spk")])
    p = run(repo_root, script_env, "validate_data_dir.sh", "--no-feats", "--sample-rate", "8000", d, check=False)
    assert p.returncode == 1 and "wav.scp:1: utterance 'a-u01'" in p.stderr.decode()
    run(repo_root, script_env, "validate_data_dir.sh", "--no-feats", "--sample-rate=16000", d)


def test_split_data(repo_root, script_env, data_dir):
    d = data_dir()
    run(repo_root, script_env, "split_data.sh", d, 2)
    assert keys(d / "split2/1/utt2spk") + keys(d / "split2/2/utt2spk") == keys(d / "utt2spk")
    run(repo_root, script_env, "split_data.sh", "--per-utt", d, 9)
    assert (d / "split9utt" / "9" / "text").is_file()
    p = run(repo_root, script_env, "split_data.sh", d, 4, check=False)
    assert p.returncode == 1 and "number of speakers 3 is less than the number of splits 4" in p.stderr.decode()


def test_subset_combine_copy(repo_root, script_env, data_dir, tmp_path):
    d = data_dir()
    write(tmp_path / "list", ["spkB-u02", "spkC-u01"])
    run(repo_root, script_env, "subset_data_dir.sh", "--utt-list", tmp_path / "list", d, tmp_path / "u")
    assert keys(tmp_path / "u" / "utt2spk") == ["spkB-u02", "spkC-u01"]
    p = run(repo_root, script_env, "subset_data_dir.sh", d, 4, tmp_path / "n")
    assert "reducing #utt from 9 to 4" in p.stdout.decode()
    # Kaldi recipes pass suffixes starting with a dash as a separate word (sre16/v2: --utt-suffix "-reverb")
    run(repo_root, script_env, "copy_data_dir.sh", "--utt-suffix", "-reverb", d, tmp_path / "r")
    assert read(tmp_path / "r" / "utt2spk")[0] == "spkA-u01-reverb spkA"
    assert read(tmp_path / "r" / "utt2uniq")[0] == "spkA-u01-reverb spkA-u01"
    write(d / "utt2extra", [f"{u} 1" for u in keys(d / "utt2spk")])
    write(tmp_path / "r" / "utt2extra", [f"{u} 2" for u in keys(tmp_path / "r" / "utt2spk")])
    p = run(repo_root, script_env, "combine_data.sh", "--extra-files", "utt2extra", tmp_path / "c", d, tmp_path / "r")
    assert "combined utt2extra" in p.stdout.decode()
    assert len(keys(tmp_path / "c" / "utt2spk")) == 18 == len(keys(tmp_path / "c" / "utt2extra"))
    run(repo_root, script_env, "copy_data_dir.sh", d, tmp_path / "same")
    p = run(repo_root, script_env, "combine_data.sh", tmp_path / "c2", d, tmp_path / "same", check=False)
    assert p.returncode == 1
    assert p.stderr.decode().splitlines() == [
        f"combine_data.sh: error: {tmp_path}/same/utt2spk:1: utterance id 'spkA-u01' is also in {d}/utt2spk (line 1); "
        "combined data dirs must not share utterance ids (use copy_data_dir.sh --utt-prefix/--utt-suffix to make "
        "them unique)"]


def test_perl_named_tools(repo_root, script_env, tmp_path):
    utt2spk = b"a-1 a\na-2 a\nb-1 b\n"
    spk2utt = run(repo_root, script_env, "utt2spk_to_spk2utt.pl", stdin=utt2spk).stdout
    assert spk2utt == b"a a-1 a-2\nb b-1\n"
    (tmp_path / "spk2utt").write_bytes(spk2utt)
    assert run(repo_root, script_env, "spk2utt_to_utt2spk.pl", tmp_path / "spk2utt").stdout == utt2spk
    (tmp_path / "ids").write_bytes(b"b\n")
    (tmp_path / "utt2spk").write_bytes(utt2spk)
    out = run(repo_root, script_env, "filter_scp.pl", "--via-perl", "-f", 2, tmp_path / "ids", tmp_path / "utt2spk")
    assert out.stdout == b"b-1 b\n"
    out = run(repo_root, script_env, "filter_scp.pl", "--exclude", tmp_path / "spk2utt", stdin=b"a 1\nc 2\n")
    assert out.stdout == b"c 2\n"
    p = run(repo_root, script_env, "utt2spk_to_spk2utt.pl", stdin=b"bad line here\n", check=False)
    assert p.returncode == 1 and b"stdin:1: invalid line in utt2spk file" in p.stderr


def test_durations(repo_root, script_env, data_dir, tmp_path):
    d = data_dir({"a": 2}, segments=True)
    run(repo_root, script_env, "data/get_utt2dur.sh", d)
    assert read(d / "utt2dur") == ["a-u01 1.5", "a-u02 1.5"]
    run(repo_root, script_env, "data/get_utt2num_frames.sh", d)
    assert read(d / "utt2num_frames") == ["a-u01 148", "a-u02 148"]


def test_wrappers_work_without_path_sh(repo_root, data_dir, tmp_path):
    """No venv on PATH, no PYTHONPATH, another working directory: the wrapper finds the repo by itself."""
    d = data_dir()
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    p = run(repo_root, env, "validate_data_dir.sh", "--no-feats", d, cwd=tmp_path)
    assert "Successfully validated" in p.stdout.decode()
    assert run(repo_root, env, "utt2spk_to_spk2utt.pl", d / "utt2spk", cwd=tmp_path).stdout == (d / "spk2utt").read_bytes()
    # through a symlinked utils/ (Kaldi recipes link utils from elsewhere)
    (tmp_path / "recipe").mkdir()
    (tmp_path / "recipe" / "utils").symlink_to(repo_root / "utils")
    p = subprocess.run(["utils/split_data.sh", str(d), "3"], cwd=tmp_path / "recipe", env=env, capture_output=True)
    assert p.returncode == 0, p.stderr.decode()
    assert (d / "split3" / "3" / "utt2spk").is_file()
