"""Real speech (slow): DNN-1 and DNN-2 trained on ../shared/data/speechocean762 (1,500 read English utterances,
125 speakers) with senone targets from the alignment stage reach held-out-speaker frame accuracy clearly above the
majority class, and bottleneck features (BNF and SBNF) extract for every utterance of speechocean762 and of the
LibriSpeech samples (16 kHz, downsampled to the DNNs' 8 kHz hires MFCC).

The senone alignment of speechocean762 comes from stage 3 (the GMM-HMM aligner) of `bash run.sh --corpus
speechocean762`: give its alignment dir (num_pdfs + pdf_ali.scp; utterance ids '<spk>-<utt>' as the data prep
makes them; it covers the training speakers of the recipe's split) in PHONSID_BNF_SO762_ALI. The DNNs train on the
aligned utterances and hold out 10 of their speakers. Run with:
PHONSID_BNF_SO762_ALI=<so762 checkout>/exp/tri1_ali ./venv/bin/python -m pytest tests/nnet/test_bnf_real.py -m slow
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from phonsid.data import read_map, utt2spk_to_spk2utt, write_list_map, write_map

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

# a 256-wide network for 1.7 h of speech (~10 min per DNN on one CPU thread); 10 speakers held out
OPTS = ["model.hidden_dim=256", "train.num_epochs=3", "data.valid_speakers=10", "data.valid_utts_per_speaker=0",
        "train.log_interval=1000"]


def _run(cmd: list[str], env: dict[str, str]) -> str:
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p.stdout


def _data_dir(shared: Path, name: str, out: Path) -> Path:
    """All of a ../shared corpus as a data dir; utterance ids get their speaker as prefix ('<spk>-<utt>') where
    they do not start with it, as the speechocean762 data prep (stage 0) names them."""
    wavs = {k: str(shared / v) for k, v in read_map(shared / name / "wav.list").items()}
    utt2spk = {u: s for u, s in read_map(shared / name / "utt2spk").items() if u in wavs}
    new_id = {u: u if u.startswith(s) else f"{s}-{u}" for u, s in utt2spk.items()}
    out.mkdir(parents=True)
    write_map(out / "wav.scp", {new_id[u]: w for u, w in wavs.items()})
    write_map(out / "utt2spk", {new_id[u]: s for u, s in utt2spk.items()})
    write_list_map(out / "spk2utt", utt2spk_to_spk2utt({new_id[u]: s for u, s in utt2spk.items()}))
    return out


def _absolute_alignment(ali: Path, out: Path) -> Path:
    """A copy of the alignment dir's small files whose pdf_ali.scp points at the arks by absolute path (the
    recipe's scps name them relative to its own root, two levels above <ali-dir>)."""
    root = ali.parent.parent
    out.mkdir()
    (out / "num_pdfs").write_text((ali / "num_pdfs").read_text())
    entries = read_map(ali / "pdf_ali.scp")
    write_map(out / "pdf_ali.scp", {u: v if os.path.isabs(v) else str(root / v) for u, v in entries.items()})
    return out


def _valid(dnn: Path) -> dict[str, float]:
    return {k: float(v) for k, v in (line.split() for line in (dnn / "valid_accuracy").read_text().splitlines())}


def test_real_speech_bnf_sbnf(shared_data, script_env, tmp_path):
    ali = os.environ.get("PHONSID_BNF_SO762_ALI", "")
    if not ali:
        pytest.skip("needs senone alignments of speechocean762 from the aligner (stage 3): set "
                    "PHONSID_BNF_SO762_ALI=<alignment dir>")
    ali = str(_absolute_alignment(Path(ali).resolve(), tmp_path / "ali"))
    env = dict(script_env, OMP_NUM_THREADS="1")
    so = _data_dir(shared_data, "speechocean762", tmp_path / "so762_hires")
    ls = _data_dir(shared_data, "librispeech", tmp_path / "libri_hires")
    (tmp_path / "mfcc_hires_16k.conf").write_text("--config=conf/mfcc_hires.conf\n--allow-downsample=true\n")
    _run(["steps/make_mfcc.sh", "--nj", "2", "--mfcc-config", "conf/mfcc_hires.conf", str(so)], env)
    _run(["steps/make_mfcc.sh", "--nj", "2", "--mfcc-config", str(tmp_path / "mfcc_hires_16k.conf"), str(ls)], env)
    opts = " ".join(OPTS)
    exp = tmp_path / "exp"

    _run(["steps/nnet/train_bnf.sh", "--use-gpu", "auto", "--bnf-config", "conf/bnf1.yaml", "--bnf-opts", opts,
          str(so), ali, str(exp / "bnf1")], env)
    v1 = _valid(exp / "bnf1")
    assert v1["valid_accuracy_heldout_speakers"] > v1["majority_rate_valid"] + 0.1, v1
    for data in (so, ls):
        _run(["steps/nnet/make_bottleneck_features.sh", "--nj", "2", str(exp / "bnf1"), str(data),
              str(data.parent / data.name.replace("_hires", "_bnf"))], env)
    so_bnf, ls_bnf = tmp_path / "so762_bnf", tmp_path / "libri_bnf"

    _run(["steps/nnet/train_bnf.sh", "--use-gpu", "auto", "--bnf-config", "conf/sbnf.yaml", "--bnf-opts", opts,
          str(so_bnf), ali, str(exp / "sbnf")], env)
    v2 = _valid(exp / "sbnf")
    assert v2["valid_accuracy_heldout_speakers"] > v2["majority_rate_valid"] + 0.1, v2
    for data in (so_bnf, ls_bnf):
        _run(["steps/nnet/make_bottleneck_features.sh", "--nj", "2", str(exp / "sbnf"), str(data),
              str(data.parent / data.name.replace("_bnf", "_sbnf"))], env)
    for name, src in (("so762", "speechocean762"), ("libri", "librispeech")):
        n_wav = len(read_map(shared_data / src / "wav.list"))
        for kind in ("bnf", "sbnf"):
            assert len(read_map(tmp_path / f"{name}_{kind}" / "feats.scp")) == n_wav, (name, kind)
    print(f"DNN-1 held-out speakers {v1['valid_accuracy_heldout_speakers']:.3f}, DNN-2 "
          f"{v2['valid_accuracy_heldout_speakers']:.3f}, majority {v1['majority_rate_valid']:.3f}")
