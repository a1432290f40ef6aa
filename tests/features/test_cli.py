"""The front-end CLIs run as subprocesses on Kaldi's golden inputs, compared with Kaldi's outputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from phonsid.io import read_table


def _run(repo_root: Path, env, tool: str, *args: str, cwd=None, check=True, shell_input: str | None = None):
    cmd = [sys.executable, str(repo_root / "pyscripts" / tool), *args]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{tool} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def _max_err(ours: dict, kaldi: dict) -> float:
    assert list(ours) == list(kaldi)
    for k in kaldi:
        assert ours[k].shape == kaldi[k].shape, k
    return max(float(np.abs(ours[k] - kaldi[k]).max()) for k in kaldi)


def test_compute_mfcc_feats_with_vad_and_lengths(repo_root, golden, script_env, tmp_path):
    out = tmp_path / "mfcc"
    proc = _run(repo_root, script_env, "compute_mfcc_feats.py", "--config=conf/mfcc_sre10.conf",
                "--vad-config=conf/vad_sre10.conf", f"--write-vad=ark,scp:{out}_vad.ark,{out}_vad.scp",
                f"--write-num-frames=ark,t:{out}.len", f"--write-utt2dur=ark,t:{out}.dur",
                "scp:wav8k.scp", f"ark,scp:{out}.ark,{out}.scp", cwd=golden)
    assert "Done 10 out of 10 utterances" in proc.stderr
    kaldi = read_table(f"ark:{golden / 'mfcc_sre10.ark'}")
    assert _max_err(read_table(f"scp:{out}.scp"), kaldi) <= 2e-3
    vad, kaldi_vad = read_table(f"scp:{out}_vad.scp", "vector"), read_table(f"ark:{golden / 'vad_sre10.ark'}", "vector")
    assert sum(int((vad[k] == kaldi_vad[k]).sum()) for k in vad) >= 0.999 * sum(len(v) for v in kaldi_vad.values())
    lengths = read_table(f"ark:{out}.len", "int")
    assert lengths == {k: v.shape[0] for k, v in kaldi.items()}
    assert read_table(f"ark:{out}.dur", "float")["1688-142285-0000"] == pytest.approx(15.0)


def test_compute_fbank_feats(repo_root, golden, script_env, tmp_path):
    out = tmp_path / "fbank.ark"
    _run(repo_root, script_env, "compute_fbank_feats.py", "--config=conf/fbank80.conf", "scp:wav16k.scp",
         f"ark:{out}", cwd=golden)
    assert _max_err(read_table(f"ark:{out}"), read_table(f"ark:{golden / 'fbank80.ark'}")) <= 2e-3


def test_compute_vad(repo_root, golden, script_env, tmp_path):
    out = tmp_path / "vad.ark"
    _run(repo_root, script_env, "compute_vad.py", f"--config={golden / 'conf' / 'vad_sre16.conf'}",
         f"ark:{golden / 'mfcc_vox.ark'}", f"ark:{out}")
    ours, kaldi = read_table(f"ark:{out}", "vector"), read_table(f"ark:{golden / 'vad_sre16_on_vox.ark'}", "vector")
    assert list(ours) == list(kaldi) and all(np.array_equal(ours[k], kaldi[k]) for k in kaldi)


def test_compute_vad_refuses_non_finite_energies(repo_root, script_env, tmp_path):
    import kaldiio

    feats = np.ones((20, 13), dtype=np.float32) * 10
    feats[5, 0] = np.nan  # a NaN C0 would make the threshold NaN and every frame unvoiced, silently
    kaldiio.save_ark(str(tmp_path / "f.ark"), {"u1": feats})
    proc = _run(repo_root, script_env, "compute_vad.py", f"ark:{tmp_path / 'f.ark'}", f"ark:{tmp_path / 'vad.ark'}",
                check=False)
    assert proc.returncode == 1
    assert "key 'u1'" in proc.stderr and "NaN at row 5, column 0" in proc.stderr


def test_ivector_feature_pipeline_through_pipes(repo_root, golden, script_env, tmp_path):
    py, tools = sys.executable, repo_root / "pyscripts"
    out = tmp_path / "ivf.ark"
    cmd = (f"{py} {tools}/add_deltas.py ark:{golden}/mfcc_sre10.ark ark:- | "
           f"{py} {tools}/apply_cmvn_sliding.py --norm-vars=false --center=true --cmn-window=300 ark:- ark:- | "
           f"{py} {tools}/select_voiced_frames.py ark:- ark:{golden}/vad_sre10.ark ark:{out}")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=script_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "processed 10 utterances, 0 had errors" in proc.stderr
    assert _max_err(read_table(f"ark:{out}"), read_table(f"ark:{golden / 'ivector_feats.ark'}")) <= 1e-4


def test_copy_feats_compress_and_dims(repo_root, golden, script_env, tmp_path):
    src = f"ark:{golden / 'mfcc_sre10.ark'}"
    out = tmp_path / "c"
    _run(repo_root, script_env, "copy_feats.py", "--compress=true", f"--write-num-frames=ark,t:{out}.len", src,
         f"ark,scp:{out}.ark,{out}.scp")
    kaldi = read_table(src)
    ours = read_table(f"scp:{out}.scp")
    assert (out.with_suffix(".ark")).stat().st_size < (golden / "mfcc_sre10.ark").stat().st_size / 3
    for k, v in kaldi.items():  # 8-bit per-column quantisation
        assert np.abs(ours[k] - v).max() <= (v.max(0) - v.min(0)).max() / 100
    assert read_table(f"ark:{out}.len", "int") == {k: v.shape[0] for k, v in kaldi.items()}
    # single-matrix mode (rxfilename -> wxfilename), text output
    one = f"{golden / 'mfcc_sre10.ark'}:17"  # offset of the first matrix
    _run(repo_root, script_env, "copy_feats.py", "--binary=false", one, str(tmp_path / "one.txt"))
    assert (tmp_path / "one.txt").read_text().startswith(" [")
    dim = _run(repo_root, script_env, "feat_to_dim.py", src, "-").stdout
    total = _run(repo_root, script_env, "feat_to_len.py", f"scp:{out}.scp").stdout
    per_utt = _run(repo_root, script_env, "feat_to_len.py", src, "ark,t:-").stdout
    assert dim.strip() == "20" and int(total) == sum(v.shape[0] for v in kaldi.values())
    assert per_utt.splitlines()[0].split() == ["1688-142285-0000", "1500"]


def test_failures_exit_nonzero_and_write_nothing(repo_root, golden, script_env, tmp_path):
    wav = tmp_path / "wav.scp"
    wav.write_text(f"a {golden / 'wav8k' / '1688-142285-0000.wav'}\nb false |\nc {tmp_path / 'missing.wav'}\n")
    out = tmp_path / "m"
    proc = _run(repo_root, script_env, "compute_mfcc_feats.py", f"--config={golden / 'conf' / 'mfcc_sre10.conf'}",
                f"scp:{wav}", f"ark,scp:{out}.ark,{out}.scp", check=False)
    assert proc.returncode == 1
    assert "utterance b" in proc.stderr and "utterance c" in proc.stderr and "2 of 3 utterances failed" in proc.stderr
    assert not list(tmp_path.glob("m*"))
    proc = _run(repo_root, script_env, "compute_mfcc_feats.py", f"--config={golden / 'conf' / 'mfcc_sre10.conf'}",
                "--sample-frequency=16000", f"scp:{wav}", f"ark:{out}.ark", check=False)
    assert proc.returncode == 1 and "sample frequency mismatch" in proc.stderr and "Utterance is a" in proc.stderr
    help_text = _run(repo_root, script_env, "compute_mfcc_feats.py", "--help").stdout
    assert "<wav-rspecifier> <feats-wspecifier>" in help_text and "--num-ceps" in help_text


def test_truncated_wavs_skip_or_warn_naming_utterance_and_file(repo_root, script_env, tmp_path):
    from phonsid.io.wav import wav_bytes

    good = wav_bytes(np.round(8000 * np.sin(np.arange(16000) * 0.3)), 8000)
    (tmp_path / "good.wav").write_bytes(good)
    (tmp_path / "header.wav").write_bytes(good[:30])  # the header cut inside the fmt chunk
    (tmp_path / "short.wav").write_bytes(good[:44 + 2 * 4000])  # the header promises 16000 samples
    wav = tmp_path / "wav.scp"
    wav.write_text(f"a {tmp_path}/good.wav\nb {tmp_path}/header.wav\nc {tmp_path}/short.wav\n")
    out = tmp_path / "m"
    proc = _run(repo_root, script_env, "compute_mfcc_feats.py", "--config=conf/mfcc.conf", "--max-failed-fraction=0.5",
                f"scp:{wav}", f"ark,scp:{out}.ark,{out}.scp", f"--write-num-frames=ark,t:{out}.len",
                cwd=repo_root)
    assert (f"WARNING (compute_mfcc_feats.py) utterance b: {tmp_path}/header.wav: truncated wav header: the fmt "
            "chunk needs 16 bytes, found 10 (the file has 30 bytes); skipping it") in proc.stderr
    assert (f"WARNING (phonsid.io.wav) {tmp_path}/short.wav: the wav header promises 16000 samples, found 4000; "
            "truncated file?") in proc.stderr
    assert "Done 2 out of 3 utterances; 1 failed" in proc.stderr
    assert (tmp_path / "m.len").read_text().split() == ["a", "200", "c", "50"]  # c: the 4000 samples there are


@pytest.mark.parametrize("tool, extra", [("copy_feats.py", []), ("add_deltas.py", []),
                                         ("apply_cmvn_sliding.py", ["--center=true"])])
def test_feature_tools_refuse_non_finite_output_naming_key_file_and_place(repo_root, script_env, tmp_path, tool,
                                                                          extra):
    import kaldiio

    good = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    bad = good.copy()
    bad[7, 2] = np.nan  # bad input from elsewhere (phonsid's own writers refuse it)
    kaldiio.save_ark(str(tmp_path / "in.ark"), {"u1": good, "u2-bad": bad})
    out = tmp_path / "out"
    proc = _run(repo_root, script_env, tool, *extra, f"ark:{tmp_path / 'in.ark'}", f"ark,scp:{out}.ark,{out}.scp",
                check=False)
    assert proc.returncode == 1
    assert f"ark,scp:{out}.ark,{out}.scp: key 'u2-bad': refusing to write non-finite values: NaN at row " in proc.stderr
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".out*"))
