"""steps/make_mfcc.sh, steps/make_fbank.sh and sid/compute_vad_decision.sh on a small data dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from phonsid.io import read_table


def _data_dir(golden: Path, root: Path, extra: dict[str, str] | None = None) -> Path:
    data = root / "data" / "test"
    data.mkdir(parents=True)
    wav = {line.split()[0]: str(golden / line.split()[1]) for line in (golden / "wav8k.scp").read_text().splitlines()}
    wav.update(extra or {})
    keys = sorted(wav)
    (data / "wav.scp").write_text("".join(f"{k} {wav[k]}\n" for k in keys))
    (data / "utt2spk").write_text("".join(f"{k} {k.split('-')[0]}\n" for k in keys))
    spk: dict[str, list[str]] = {}
    for k in keys:
        spk.setdefault(k.split("-")[0], []).append(k)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(u)}\n" for s, u in sorted(spk.items())))
    return data


def _bash(repo_root: Path, env, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", *cmd], cwd=repo_root, env=env, capture_output=True, text=True)


def test_make_mfcc_with_vad_failures_and_rerun(repo_root, golden, script_env, tmp_path):
    conf = tmp_path / "mfcc.conf"
    conf.write_text((golden / "conf" / "mfcc_sre10.conf").read_text())
    data = _data_dir(golden, tmp_path, {"zz-bad": "false |"})
    args = ["steps/make_mfcc.sh", "--nj", "2", "--mfcc-config", str(conf), "--vad-config", "conf/vad.conf",
            "--max-failed-fraction", "0.2", str(data), str(tmp_path / "log"), str(tmp_path / "mfcc")]
    proc = _bash(repo_root, script_env, *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 of 11 utterances of test have no features" in proc.stderr and "zz-bad" in proc.stderr
    assert "made mfcc features for test: 10 utterances (1 failed), with VAD" in proc.stdout
    feats = read_table(f"scp:{data / 'feats.scp'}")
    kaldi = read_table(f"ark:{golden / 'mfcc_sre10.ark'}")
    assert sorted(feats) == sorted(kaldi)
    # compressed on disk: within the 8-bit quantisation of Kaldi's features
    assert all(np.abs(feats[k] - kaldi[k]).max() < (kaldi[k].max(0) - kaldi[k].min(0)).max() / 100 for k in kaldi)
    vad = read_table(f"scp:{data / 'vad.scp'}", "vector")
    assert sorted(vad) == sorted(kaldi) and all(len(vad[k]) == len(kaldi[k]) for k in kaldi)
    num_frames = dict(line.split() for line in (data / "utt2num_frames").read_text().splitlines())
    assert {k: int(v) for k, v in num_frames.items()} == {k: v.shape[0] for k, v in kaldi.items()}
    assert len((data / "utt2dur").read_text().splitlines()) == 10
    assert (data / "feats.scp").read_text().splitlines() == sorted((data / "feats.scp").read_text().splitlines())
    # the same command again: up to date, nothing recomputed
    again = _bash(repo_root, script_env, *args)
    assert again.returncode == 0 and "is up to date" in again.stdout

    # VAD from the stored features with sid/compute_vad_decision.sh agrees with the fused pass
    (data / "vad.scp").rename(data / "vad_fused.scp")
    proc = _bash(repo_root, script_env, "sid/compute_vad_decision.sh", "--nj", "2", "--vad-config", "conf/vad.conf",
                 str(data), str(tmp_path / "log"), str(tmp_path / "vad"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "computed VAD for test: 10 utterances" in proc.stdout
    separate = read_table(f"scp:{data / 'vad.scp'}", "vector")
    agree = sum(int((separate[k] == vad[k]).sum()) for k in vad) / sum(len(v) for v in vad.values())
    assert agree >= 0.995  # the stored features are compressed: a few frames at the threshold may flip


def test_make_mfcc_fails_above_the_limit_and_make_fbank(repo_root, golden, script_env, tmp_path):
    conf = tmp_path / "fbank.conf"
    conf.write_text((golden / "conf" / "fbank80.conf").read_text().replace("16000", "8000"))
    data = _data_dir(golden, tmp_path, {"zz-bad1": "false |", "zz-bad2": str(tmp_path / "missing.wav")})
    proc = _bash(repo_root, script_env, "steps/make_fbank.sh", "--nj", "1", "--fbank-config", str(conf),
                 "--max-failed-fraction", "0.1", str(data))
    assert proc.returncode != 0
    assert "zz-bad1" in (proc.stdout + proc.stderr) + "".join(p.read_text() for p in (data / "log").glob("*.log"))
    assert not (data / "feats.scp").exists()
    proc = _bash(repo_root, script_env, "steps/make_fbank.sh", "--nj", "1", "--fbank-config", str(conf),
                 "--max-failed-fraction", "0.2", "--compress", "false", str(data))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    feats = read_table(f"scp:{data / 'feats.scp'}")
    assert len(feats) == 10 and all(f.shape[1] == 80 for f in feats.values())
    assert (data / "data").is_dir() and (data / "log").is_dir()  # Kaldi's default log and archive dirs


def test_make_mfcc_with_segments(repo_root, golden, script_env, tmp_path):
    data = tmp_path / "seg"
    data.mkdir()
    recs = ["1688-142285-0000", "1998-15444-0000"]
    (data / "wav.scp").write_text("".join(f"{r} {golden / 'wav8k' / r}.wav\n" for r in recs))
    segs = [(f"{r}-{i}", r, 2.0 * i, 2.0 * i + 1.5) for r in recs for i in range(2)]
    (data / "segments").write_text("".join(f"{s} {r} {b} {e}\n" for s, r, b, e in segs))
    (data / "utt2spk").write_text("".join(f"{s} {r.split('-')[0]}\n" for s, r, _, _ in segs))
    (data / "spk2utt").write_text("".join(f"{r.split('-')[0]} {r}-0 {r}-1\n" for r in recs))
    conf = tmp_path / "mfcc.conf"
    conf.write_text((golden / "conf" / "mfcc_sre10.conf").read_text())
    proc = _bash(repo_root, script_env, "steps/make_mfcc.sh", "--nj", "2", "--mfcc-config", str(conf),
                 "--compress", "false", str(data))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    feats = read_table(f"scp:{data / 'feats.scp'}")
    kaldi = read_table(f"ark:{golden / 'mfcc_sre10.ark'}")
    assert sorted(feats) == [s for s, _, _, _ in segs] and all(f.shape == (150, 20) for f in feats.values())
    # away from the segment edges the frames are those of the whole recording
    assert np.abs(feats["1998-15444-0000-1"][10:140] - kaldi["1998-15444-0000"][210:340]).max() < 2e-3
