"""The bottleneck DNNs on a small demo corpus with its true phone alignment as targets: DNN-1 learns the phones
(held-out frame accuracy far above the majority class), the multi-task DNN-2 learns the speakers, a killed run
resumes to the same parameters, a 2-process DDP run (gloo) trains through steps/nnet/train_bnf.sh, and the step
scripts write valid bottleneck data dirs and posteriors."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from phonsid.data import read_list_map, read_map
from phonsid.io import SequentialReader, TableWriter, read_table
from phonsid.nnet.bnf import load_bnf_config, load_bnf_model
from phonsid.nnet.bnf_data import SpeakerStats, phone_targets_to_alignment_dir, prepare_bnf_egs
from phonsid.nnet.extract_bnf import BnfExtractor, extract_table
from phonsid.nnet.train_bnf import train_bnf
from phonsid.nnet.training import TrainingInterrupted
from phonsid.recipes.demo import make_demo_corpus, small_config

REPO = Path(__file__).resolve().parents[2]
SEED = 777
# demo_asr: 8 speakers x 5 utterances of 2-3 s (~9000 frames); the other sets as small as the generator allows
CORPUS = dataclasses.replace(
    small_config(), asr_speakers=8, asr_utts_per_speaker=5, asr_min_duration=2.0, asr_max_duration=3.0,
    train_speakers=1, train_utts_per_speaker=1, eval_speakers=2, enroll_utts_per_speaker=1, test_utts_per_speaker=1,
    train_min_duration=1.0, train_max_duration=1.0, eval_min_duration=1.0, eval_max_duration=1.0,
    noise_recordings=1, music_recordings=1, speech_recordings=1, noise_min_duration=1.0, noise_max_duration=1.0,
    music_min_duration=1.0, music_max_duration=1.0, speech_min_duration=1.0, speech_max_duration=1.0)
# a tiny network and a fast schedule; one speaker held out entirely, one utterance of each of the others
TINY = ["model.hidden_dim=64", "model.num_hidden_layers=3", "model.bottleneck_position=2",
        "train.minibatch_size=64", "train.num_epochs=4", "train.initial_lrate=0.004", "train.log_interval=10000",
        "data.valid_speakers=1", "data.valid_utts_per_speaker=1"]
MT_TINY = TINY + ["multitask.branch_layer=3", "multitask.speaker_weight=1.0"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One intra-op thread for everything here, the module fixtures included (spinning OpenMP threads are very
    slow on a shared machine, and bit-identical resumption needs the same thread count)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="module")
def env(script_env) -> dict[str, str]:
    e = dict(script_env)
    e["OMP_NUM_THREADS"] = "1"
    return e


@dataclasses.dataclass
class Demo:
    root: Path
    data: Path      # data dirs
    hires: Path     # data/demo_asr_hires: hires MFCC (+ vad.scp of the speaker MFCC)
    ali: Path       # alignment dir of phone targets
    egs: Path       # DNN-1's prepared frames
    dnn1: Path      # DNN-1


@pytest.fixture(scope="module")
def demo(tmp_path_factory, env) -> Demo:
    """Corpus → MFCC + VAD → hires copy (the recipe's stage 1) → phone targets → DNN-1 (trained in process)."""
    root = tmp_path_factory.mktemp("bnf_demo")
    data = root / "data"
    make_demo_corpus(data, root / "wav", CORPUS, seed=SEED)
    asr, hires = data / "demo_asr", data / "demo_asr_hires"
    _run(["bash", "-c", f"steps/make_mfcc.sh --nj 1 --mfcc-config conf/mfcc.conf --vad-config conf/vad.conf {asr} "
                        f"&& utils/copy_data_dir.sh {asr} {hires} "
                        f"&& steps/make_mfcc.sh --nj 1 --mfcc-config conf/mfcc_hires.conf {hires}"], env)
    ali = root / "phone_ali"
    phone_targets_to_alignment_dir(f"ark,t:{asr / 'phone_ali.txt'}", asr / "phones.txt", ali)
    cfg = load_bnf_config(REPO / "conf" / "bnf1.yaml", TINY)
    egs = root / "exp" / "bnf1" / "egs"
    prepare_bnf_egs(f"scp:{hires / 'feats.scp'}", hires / "utt2spk", ali, egs, cfg, log=lambda m: None)
    train_bnf(egs, root / "exp" / "bnf1", cfg, use_gpu="no", log=lambda m: None)
    return Demo(root, data, hires, ali, egs, root / "exp" / "bnf1")


def _valid(dnn: Path) -> dict[str, float]:
    return {k: float(v) for k, v in (line.split() for line in (dnn / "valid_accuracy").read_text().splitlines())}


def test_dnn1_learns_phones_on_held_out_data(demo):
    v = _valid(demo.dnn1)
    info = json.loads((demo.egs / "info.json").read_text())
    assert info["num_pdfs"] == 26 and info["feat_dim"] == 40 and info["valid_heldout_speakers"]
    # the small corpus reaches ~0.77 against a majority class (silence) of ~0.41
    assert v["majority_rate_valid"] == pytest.approx(info["majority_rate_valid"])
    assert v["valid_accuracy"] > v["majority_rate_valid"] + 0.2
    assert v["valid_accuracy_heldout_speakers"] > v["majority_rate_valid"] + 0.15
    rows = (demo.dnn1 / "log" / "train.csv").read_text().splitlines()
    assert len(rows) == 1 + 4 and rows[0].startswith("epoch,step,lrate")
    accs = [float(r.split(",")[7]) for r in rows[1:]]
    assert accs[-1] > accs[0]  # it keeps learning over the epochs


def test_kill_and_resume_gives_the_uninterrupted_parameters(demo, tmp_path):
    # checkpoints every 3 steps as well (the same training: checkpoints change nothing)
    cfg = load_bnf_config(REPO / "conf" / "bnf1.yaml", TINY + ["train.checkpoint_interval=3"])
    steps = int((demo.dnn1 / "log" / "train.csv").read_text().splitlines()[1].split(",")[1])
    out = tmp_path / "bnf1_resumed"
    # one epoch and a few steps, then the process "dies" (no checkpoint after the last mid-epoch one)
    with pytest.raises(TrainingInterrupted):
        train_bnf(demo.egs, out, cfg, use_gpu="no", stop_after_step=steps + 4, log=lambda m: None)
    latest = max(s for s in range(steps + 1, steps + 5) if s % 3 == 0)
    assert sorted(p.name for p in (out / "checkpoints").iterdir())[-1] == f"ckpt-{latest:08d}.pt"
    assert not (out / "final.pt").exists()
    messages: list[str] = []
    train_bnf(demo.egs, out, cfg, use_gpu="no", log=messages.append)
    # resumed in the middle of epoch 2, which it reports as if it had not been interrupted (rows compared below)
    assert any("resuming from" in m and f"(step {latest} of {4 * steps})" in m for m in messages)
    ref, _ = load_bnf_model(demo.dnn1)
    got, _ = load_bnf_model(out)
    ref_state, got_state = ref.state_dict(), got.state_dict()
    assert ref_state.keys() == got_state.keys()
    for k in ref_state:
        assert torch.equal(ref_state[k], got_state[k]), k
    rows = (out / "log" / "train.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    # the same diagnostics (all but the speed columns) as the uninterrupted run
    ref_rows = (demo.dnn1 / "log" / "train.csv").read_text().splitlines()
    assert [r.split(",")[:11] for r in rows[1:]] == [r.split(",")[:11] for r in ref_rows[1:]]


@pytest.fixture(scope="module")
def bnf_dir(demo, env) -> Path:
    """data/demo_asr_bnf from steps/nnet/make_bottleneck_features.sh with DNN-1."""
    out = demo.data / "demo_asr_bnf"
    _run(["steps/nnet/make_bottleneck_features.sh", "--nj", "2", str(demo.dnn1), str(demo.hires), str(out)], env)
    return out


def test_bottleneck_data_dir(demo, bnf_dir, env):
    p = _run(["utils/validate_data_dir.sh", "--no-wav", str(bnf_dir)], env)
    assert "Successfully validated" in p.stdout + p.stderr
    feats = read_table(f"scp:{bnf_dir / 'feats.scp'}")
    hires_frames = {u: int(n) for u, n in read_map(demo.hires / "utt2num_frames").items()}
    assert sorted(feats) == sorted(hires_frames)
    for utt, m in feats.items():
        assert m.shape == (hires_frames[utt], 80), utt
        assert np.all(np.isfinite(m))
    assert {u: int(n) for u, n in read_map(bnf_dir / "utt2num_frames").items()} == hires_frames
    for name in ("vad.scp", "utt2spk", "spk2utt", "text", "utt2dur"):
        assert (bnf_dir / name).read_text() == (demo.hires / name).read_text(), name
    # the compressed archive holds what the model computes
    ex = BnfExtractor(demo.dnn1)
    hires = read_table(f"scp:{demo.hires / 'feats.scp'}")
    utt = sorted(feats)[3]
    ref = ex.compute(hires[utt], None, utt)
    span = ref.max(axis=0) - ref.min(axis=0)
    assert np.all(np.abs(feats[utt] - ref) <= 0.01 * span + 1e-4)
    # a rerun finds the output up to date
    p = _run(["steps/nnet/make_bottleneck_features.sh", "--nj", "2", str(demo.dnn1), str(demo.hires), str(bnf_dir)],
             env)
    assert "nothing to do" in p.stdout


@pytest.fixture(scope="module")
def mt_dnn(demo, bnf_dir) -> Path:
    """The multi-task DNN-2 on DNN-1 BNFs (per-speaker normalisation, wide splicing), trained in process."""
    cfg = load_bnf_config(REPO / "conf" / "mt_sbnf.yaml", MT_TINY)
    out = demo.root / "exp" / "mt_sbnf"
    prepare_bnf_egs(f"scp:{bnf_dir / 'feats.scp'}", bnf_dir / "utt2spk", demo.ali, out / "egs", cfg, log=lambda m: None)
    train_bnf(out / "egs", out, cfg, use_gpu="no", log=lambda m: None)
    return out


def test_multitask_dnn2_learns_senones_and_speakers(mt_dnn):
    v = _valid(mt_dnn)
    # ~0.47 speaker accuracy over 7 training speakers (chance 0.14); senones ~0.76 against ~0.41
    assert v["speaker_chance_rate"] == pytest.approx(1 / 7, abs=1e-6)
    assert v["valid_speaker_accuracy"] > 2.0 * v["speaker_chance_rate"]
    assert v["valid_accuracy"] > v["majority_rate_valid"] + 0.2
    assert len((mt_dnn / "spk2int").read_text().splitlines()) == 7


def test_multitask_sbnf_data_dir_uses_speaker_statistics(demo, bnf_dir, mt_dnn, env):
    out = demo.data / "demo_asr_mtsbnf"
    _run(["steps/nnet/make_bottleneck_features.sh", "--nj", "2", str(mt_dnn), str(bnf_dir), str(out)], env)
    feats = read_table(f"scp:{out / 'feats.scp'}")
    bnf = read_table(f"scp:{bnf_dir / 'feats.scp'}")
    assert {u: m.shape for u, m in feats.items()} == {u: (m.shape[0], 80) for u, m in bnf.items()}
    # statistics over all of a speaker's utterances in the input dir, not over each utterance
    spk, utts = sorted(read_list_map(bnf_dir / "spk2utt").items())[2]
    st = SpeakerStats()
    for u in utts:
        st.accumulate(spk, bnf[u])
    ex = BnfExtractor(mt_dnn)
    ref = ex.compute(bnf[utts[0]], st.mean_std(spk), utts[0])
    per_utt = SpeakerStats()
    per_utt.accumulate(utts[0], bnf[utts[0]])
    other = ex.compute(bnf[utts[0]], per_utt.mean_std(utts[0]), utts[0])
    span = ref.max(axis=0) - ref.min(axis=0)
    err = np.abs(feats[utts[0]] - ref)
    assert np.all(err <= 0.01 * span + 1e-4)
    assert np.abs(feats[utts[0]] - other).max() > 10 * err.max()


def test_posteriors_sum_to_one(demo, env):
    out = demo.root / "exp" / "bnf1_post"
    _run(["steps/nnet/compute_posteriors.sh", "--nj", "2", str(demo.dnn1), str(demo.hires), str(out)], env)
    frames = {u: int(n) for u, n in read_map(demo.hires / "utt2num_frames").items()}
    n = 0
    with SequentialReader(f"scp:{out / 'logprob.scp'}") as r:
        for utt, m in r:
            assert m.shape == (frames[utt], 26)
            np.testing.assert_allclose(np.exp(m.astype(np.float64)).sum(axis=1), 1.0, atol=1e-5)
            assert np.all(m <= 1e-6)
            n += 1
    assert n == len(frames) and (out / "num_pdfs").read_text() == "26\n"


def test_voiced_frames_are_the_rows_of_the_whole_utterance(demo, tmp_path):
    frames = {u: int(n) for u, n in read_map(demo.hires / "utt2num_frames").items()}
    keys = sorted(frames)
    gone = keys[0]   # no VAD entry: skipped with a warning
    vad = {k: (np.arange(frames[k]) % 3 != 0).astype(np.float32) for k in keys[1:]}  # every third frame unvoiced
    with TableWriter(f"ark,scp:{tmp_path / 'vad.ark'},{tmp_path / 'vad.scp'}", "vector") as w:
        for k in keys[1:]:
            w.write(k, vad[k])
    for output in ("bottleneck", "log-posteriors"):
        warnings: list[str] = []
        full, voiced = tmp_path / f"{output}_all.ark", tmp_path / f"{output}_voiced.ark"
        extract_table(demo.dnn1, f"scp:{demo.hires / 'feats.scp'}", f"ark:{full}", output=output, log=lambda m: None)
        st = extract_table(demo.dnn1, f"scp:{demo.hires / 'feats.scp'}", f"ark:{voiced}", output=output,
                           vad_rspecifier=f"scp:{tmp_path / 'vad.scp'}", log=lambda m: None, warn=warnings.append)
        assert st.num_failed == 1 and warnings == [f"utterance '{gone}': no VAD; skipped"]
        whole, part = read_table(f"ark:{full}"), read_table(f"ark:{voiced}")
        assert sorted(part) == keys[1:]
        for k in keys[1:]:
            mask = vad[k] != 0
            np.testing.assert_array_equal(part[k], whole[k][mask])  # bit for bit


@pytest.mark.slow   # 1-2 min; run.sh --small in CI runs the in-job form end to end
def test_dnn_ivector_scripts_run_the_dnn_in_their_jobs_as_the_stored_log_posteriors_give(demo, env, tmp_path):
    """Kaldi's form of the DNN/i-vector scripts (the DNN in the jobs, voiced frames only, nothing stored) gives the
    bits of the form that reads steps/nnet/compute_posteriors.sh's log-posteriors of every frame."""
    spk, hires = demo.data / "demo_asr", demo.hires
    post = tmp_path / "post"
    _run(["steps/nnet/compute_posteriors.sh", "--nj", "2", str(demo.dnn1), str(hires), str(post)], env)
    logprob = str(post / "logprob.scp")
    for form, args in (("stored", [logprob]), ("in_jobs", [str(hires), str(demo.dnn1)])):
        d = tmp_path / form
        _run(["sid/init_full_ubm_from_dnn.sh", "--nj", "2", str(spk), *args, str(d / "ubm")], env)
        dnn_args = [logprob] if form == "stored" else [str(demo.dnn1)]
        data_args = [str(spk)] if form == "stored" else [str(spk), str(hires)]
        _run(["sid/train_ivector_extractor_dnn.sh", "--nj", "2", "--ivector-dim", "4", "--num-iters", "1",
              str(d / "ubm/final.ubm"), *dnn_args, *data_args, str(d / "ie")], env)
        _run(["sid/extract_ivectors_dnn.sh", "--nj", "2", str(d / "ie"), *dnn_args, *data_args, str(d / "iv")], env)
    a, b = tmp_path / "stored", tmp_path / "in_jobs"
    assert (a / "ubm/final.ubm").read_bytes() == (b / "ubm/final.ubm").read_bytes()
    assert (a / "ie/final.ie").read_bytes() == (b / "ie/final.ie").read_bytes()
    ref, got = (read_table(f"scp:{d / 'iv/ivector.scp'}", "vector") for d in (a, b))
    assert sorted(ref) == sorted(got) and len(ref) == len(read_map(spk / "utt2spk"))
    for k in ref:
        np.testing.assert_array_equal(ref[k], got[k])


def test_ddp_two_cpu_processes_train_and_extract(demo, env, tmp_path):
    dnn = tmp_path / "bnf1_ddp"
    opts = " ".join(TINY + ["train.num_epochs=2"])
    train = ["steps/nnet/train_bnf.sh", "--num-gpus", "2", "--use-gpu", "no", "--bnf-config", "conf/bnf1.yaml",
             "--bnf-opts", opts, str(demo.hires), str(demo.ali), str(dnn)]
    _run(train, env)
    # the same command again: frames and training are stamped up to date
    again = _run(train, env).stdout
    assert f"{dnn}/egs is up to date" in again and f"{dnn}/final.pt is up to date" in again
    log = (dnn / "log" / "train.log").read_text()
    assert "x 2 process(es) on cpu" in log
    assert log.count("epoch 2 (step") == 1  # rank 0 alone reports
    v = _valid(dnn)
    assert v["valid_accuracy"] > v["majority_rate_valid"] + 0.1
    # the model extracts
    ex = BnfExtractor(dnn)
    hires = read_table(f"scp:{demo.hires / 'feats.scp'}")
    for utt in sorted(hires)[:5]:
        m = ex.compute(hires[utt], None, utt)
        assert m.shape == (hires[utt].shape[0], 80) and np.all(np.isfinite(m))
