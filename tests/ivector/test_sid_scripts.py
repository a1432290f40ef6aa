"""The sid step scripts end to end through utils/run.pl and utils/split_data.sh, on a data dir of the 100 golden
utterances (raw MFCC + VAD: the tools run the speaker-ID feature pipeline in process)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from phonsid.io import SequentialReader, TableWriter, read_table
from phonsid.ivector.extractor import read_ivector_extractor

SCRIPTS = ["train_diag_ubm.sh", "train_full_ubm.sh", "train_ivector_extractor.sh", "extract_ivectors.sh",
           "init_full_ubm_from_dnn.sh", "train_ivector_extractor_dnn.sh", "extract_ivectors_dnn.sh"]


def _recipe(repo_root: Path, root: Path) -> Path:
    """A Kaldi-style recipe dir: utils/ and sid/ linked, path.sh sourcing the checkout's."""
    root.mkdir(parents=True, exist_ok=True)
    for d in ("utils", "sid"):
        (root / d).symlink_to(repo_root / d)
    (root / "path.sh").write_text(f". {repo_root}/path.sh\n")
    return root


def _data_dir(golden: Path, root: Path) -> Path:
    data = root / "data/train"
    data.mkdir(parents=True)
    with SequentialReader(f"ark:{golden}/train_mfcc.ark") as r, \
            TableWriter(f"ark,scp:{data}/feats.ark,{data}/feats.scp") as w:
        for k, m in r:
            w.write(k, m)
    vad = read_table(f"ark:{golden}/train_vad.ark", "vector")
    with TableWriter(f"ark,scp:{data}/vad.ark,{data}/vad.scp", "vector") as w:
        for k in sorted(vad):
            w.write(k, vad[k])
    lines = sorted((golden / "train_utt2spk").read_text().splitlines())
    (data / "utt2spk").write_text("\n".join(lines) + "\n")
    spk2utt: dict[str, list[str]] = {}
    for line in lines:
        u, s = line.split()
        spk2utt.setdefault(s, []).append(u)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(us)}\n" for s, us in sorted(spk2utt.items())))
    return data


def _run(recipe: Path, env: dict, *args: str) -> str:
    proc = subprocess.run(["bash", *args], cwd=recipe, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_print_usage_on_bad_arguments(repo_root, script_env, script):
    proc = subprocess.run(["bash", f"sid/{script}"], cwd=repo_root, env=script_env, capture_output=True, text=True)
    assert proc.returncode == 1 and "Usage: sid/" + script in proc.stderr


@pytest.mark.slow
def test_ubm_ivector_chain(repo_root, golden, cli_env, tmp_path, monkeypatch):
    recipe = _recipe(repo_root, tmp_path / "r")
    _data_dir(golden, recipe)
    common = ["--nj", "2"]
    out = _run(recipe, cli_env, "sid/train_diag_ubm.sh", *common, "--num-threads", "1", "--num-iters", "2",
               "--num-iters-init", "4", "--num-frames", "30000", "data/train", "16", "exp/diag_ubm")
    assert "trained exp/diag_ubm/final.dubm" in out
    again = _run(recipe, cli_env, "sid/train_diag_ubm.sh", *common, "--num-threads", "1", "--num-iters", "2",
                 "--num-iters-init", "4", "--num-frames", "30000", "data/train", "16", "exp/diag_ubm")
    assert "up to date" in again
    _run(recipe, cli_env, "sid/train_full_ubm.sh", *common, "--num-iters", "2", "data/train", "exp/diag_ubm",
         "exp/full_ubm")
    _run(recipe, cli_env, "sid/train_ivector_extractor.sh", *common, "--num-threads", "1", "--ivector-dim", "10",
         "--num-iters", "2", "exp/full_ubm/final.ubm", "data/train", "exp/extractor")
    ext = read_ivector_extractor(str(recipe / "exp/extractor/final.ie"))
    assert (ext.num_gauss, ext.feat_dim, ext.ivector_dim) == (16, 60, 10)
    log = (recipe / "exp/extractor/log/update.1.log").read_text()
    assert "Overall auxf/frame on training data" in log and "# Ended (code 0)" in log
    out = _run(recipe, cli_env, "sid/extract_ivectors.sh", *common, "exp/extractor", "data/train", "exp/ivectors")
    assert "extracted 100 utterance and 10 speaker i-vectors" in out
    monkeypatch.chdir(recipe)  # scp entries are relative to the recipe dir, as Kaldi's
    ivecs = read_table(f"scp:{recipe}/exp/ivectors/ivector.scp", "vector")
    spk = read_table(f"scp:{recipe}/exp/ivectors/spk_ivector.scp", "vector")
    assert len(ivecs) == 100 and len(spk) == 10
    assert all(np.linalg.norm(v) == pytest.approx(np.sqrt(10), rel=1e-4) for v in spk.values())
    assert set(read_table(f"ark:{recipe}/exp/ivectors/num_utts.ark", "int").values()) == {10}


@pytest.mark.slow
def test_extraction_script_with_kaldis_models_matches_kaldi(repo_root, golden, cli_env, tmp_path, monkeypatch):
    recipe = _recipe(repo_root, tmp_path / "r")
    _data_dir(golden, recipe)
    models = recipe / "exp/extractor_kaldi"
    models.mkdir(parents=True)
    for src, dst in (("ie/final.ie", "final.ie"), ("ubm/final.ubm", "final.ubm"), ("ubm/final.dubm", "final.dubm")):
        (models / dst).write_bytes((golden / src).read_bytes())
    (models / "delta_opts").write_text("--delta-window=2 --delta-order=2\n")
    _run(recipe, cli_env, "sid/extract_ivectors.sh", "--nj", "2", "exp/extractor_kaldi", "data/train", "exp/iv")
    monkeypatch.chdir(recipe)
    ours = read_table(f"scp:{recipe}/exp/iv/ivector.scp", "vector")
    ref = read_table(f"ark:{golden}/ivectors.ark", "vector")
    assert set(ours) == set(ref)
    rel = np.array([np.linalg.norm(ours[k] - ref[k]) / np.linalg.norm(ref[k]) for k in ref])
    # posteriors equal Kaldi's except on the 0.01% of frames with a near-tie in the Gaussian selection
    assert np.median(rel) < 1e-4 and rel.max() < 1e-2


@pytest.mark.slow
def test_dnn_ivector_chain(repo_root, golden, cli_env, tmp_path):
    recipe = _recipe(repo_root, tmp_path / "r")
    data = _data_dir(golden, recipe)
    # stand-in "DNN": 8-class log-softmax of a fixed projection of each (raw, all-frames) MFCC frame
    rng = np.random.default_rng(0)
    proj = rng.standard_normal((20, 8)) * 0.3
    post_dir = recipe / "exp/dnn_post"
    post_dir.mkdir(parents=True)
    with SequentialReader(f"scp:{data}/feats.scp") as r, \
            TableWriter(f"ark,scp:{post_dir}/logprob.ark,{post_dir}/logprob.scp") as w:
        for k, m in r:
            z = (m - m.mean(0)) @ proj
            w.write(k, (z - np.log(np.exp(z).sum(1, keepdims=True))).astype(np.float32))
    scp = "exp/dnn_post/logprob.scp"
    _run(recipe, cli_env, "sid/init_full_ubm_from_dnn.sh", "--nj", "2", "data/train", scp, "exp/full_ubm_dnn")
    _run(recipe, cli_env, "sid/train_ivector_extractor_dnn.sh", "--nj", "2", "--num-threads", "1", "--ivector-dim",
         "6", "--num-iters", "2", "exp/full_ubm_dnn/final.ubm", scp, "data/train", "exp/extractor_dnn")
    ext = read_ivector_extractor(str(recipe / "exp/extractor_dnn/final.ie"))
    assert (ext.num_gauss, ext.ivector_dim) == (8, 6)
    out = _run(recipe, cli_env, "sid/extract_ivectors_dnn.sh", "--nj", "2", "exp/extractor_dnn", scp, "data/train",
               "exp/ivectors_dnn")
    assert "extracted 100 utterance and 10 speaker i-vectors" in out
