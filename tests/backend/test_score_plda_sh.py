"""sid/score_plda.sh end to end on synthetic embeddings drawn from a known PLDA model."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def _setup(tmp_path: Path, synth, rng, dim: int = 24, num_train_spk: int = 40):
    model = synth.make_model(rng, dim, between_scale=20.0)
    tr_keys, tr, tr_s2u = synth.sample(rng, model, num_train_spk, 6, "train")
    en_keys, en, en_s2u = synth.sample(rng, model, 8, 8, "spk")
    # enrolment: the first 3 utterances of each speaker (model = speaker); tests: the other 5
    enroll_s2u = {s: u[:3] for s, u in en_s2u.items()}
    enroll_keys = [k for u in enroll_s2u.values() for k in u]
    test_keys = [k for u in en_s2u.values() for k in u[3:]]
    index = {k: i for i, k in enumerate(en_keys)}
    synth.write_data_dir(tmp_path / "data/train", tr_s2u)
    synth.write_data_dir(tmp_path / "data/enroll", enroll_s2u)
    for name, keys, mat in [("train", tr_keys, tr), ("enroll", enroll_keys, en[[index[k] for k in enroll_keys]]),
                            ("test", test_keys, en[[index[k] for k in test_keys]])]:
        (tmp_path / f"exp/{name}").mkdir(parents=True)
        synth.write_ark_scp(tmp_path / f"exp/{name}/xvector.ark", keys, mat)
    with open(tmp_path / "trials", "w") as f:
        for spk in sorted(enroll_s2u):
            for t in test_keys:
                f.write(f"{spk} {t} {'target' if t.startswith(spk + '-') else 'nontarget'}\n")
    return tr_keys, tr


@pytest.mark.slow
def test_score_plda_sh_end_to_end(tmp_path, synth, rng, repo_root, script_env):
    _setup(tmp_path, synth, rng)
    out = tmp_path / "exp/scores"
    cmd = ["sid/score_plda.sh", "--lda-dim", "150", "--score-norm", "asnorm", "--cohort-vec-dir",
           str(tmp_path / "exp/train"), "--top-n", "50", str(tmp_path / "data/train"), str(tmp_path / "exp/train"),
           str(tmp_path / "data/enroll"), str(tmp_path / "exp/enroll"), str(tmp_path / "exp/test"),
           str(tmp_path / "trials"), str(out)]
    p = subprocess.run(cmd, cwd=repo_root, env=script_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "EER" in p.stdout
    # LDA clipped to the data dimension (24 < 150, and 24 < 40 speakers - 1) with a warning in the log
    from phonsid.io import read_kaldi_matrix

    assert read_kaldi_matrix(str(out / "transform.mat")).shape == (24, 25)
    assert "reduced to 24" in (out / "log/lda.log").read_text()
    scores = [l.split() for l in (out / "scores").read_text().splitlines()]
    trials = [l.split() for l in (tmp_path / "trials").read_text().splitlines()]
    assert [s[:2] for s in scores] == [t[:2] for t in trials]
    # well-separated synthetic speakers: near-perfect verification
    eer = float((out / "eer").read_text())
    assert eer < 10.0
    for p_t in ("0.01", "0.001"):
        assert 0.0 <= float((out / f"min_dcf_{p_t}").read_text()) <= 1.0
    norm = [l.split() for l in (out / "scores_asnorm").read_text().splitlines()]
    assert [s[:2] for s in norm] == [t[:2] for t in trials]
    assert (out / "eer_asnorm").exists() and (out / "min_dcf_0.001_asnorm").exists()
    results = (out / "results.txt").read_text().splitlines()
    assert results[0].startswith("scores: EER") and results[1].startswith("scores_asnorm: EER")
    nums = dict(l.split() for l in (out / "num_utts.ark").read_text().splitlines())
    assert set(nums.values()) == {"3"}


    # A trial naming an utterance without an embedding: the scoring step fails, names its log, and leaves no
    # scores behind (rerun from the scoring stage with the models already trained).
    bad_trials = tmp_path / "trials_bad"
    bad_trials.write_text((tmp_path / "trials").read_text() + "spk0000 no-such-utt target\n")
    out2 = tmp_path / "exp/scores_bad"
    out2.mkdir()
    for f in ("mean.vec", "transform.mat", "plda", "spk_xvector.ark", "spk_xvector.scp", "num_utts.ark"):
        (out2 / f).write_bytes((out / f).read_bytes())
    (out2 / "spk_xvector.scp").write_text((out / "spk_xvector.scp").read_text().replace(str(out), str(out2)))
    cmd = ["sid/score_plda.sh", "--stage", "4"] + [str(tmp_path / p) for p in (
        "data/train", "exp/train", "data/enroll", "exp/enroll", "exp/test", "trials_bad", "exp/scores_bad")]
    p = subprocess.run(cmd, cwd=repo_root, env=script_env, capture_output=True, text=True)
    assert p.returncode != 0
    assert "score.log" in p.stderr
    log = (out2 / "log/score.log").read_text()
    assert "1 of 321 trials" in log and "no-such-utt" in log
    assert not (out2 / "scores").exists()
