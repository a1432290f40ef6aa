"""Fixtures of the GMM-HMM tests: a synthetic corpus with a known alignment, its lang dir, a trained
monophone system (shared by the tests of one session), single-threaded torch."""

from __future__ import annotations

import pytest

from helpers import hmm_synth as synth


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """The aligner runs one job per core; with torch's default threads a loaded machine crawls."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def synth_lang(tmp_path_factory):
    from phonsid.hmm.lang import prepare_lang, read_lang

    d = tmp_path_factory.mktemp("synth_lang")
    synth.write_dict_dir(d / "dict")
    prepare_lang(d / "dict", "<unk>", d / "lang")
    return read_lang(d / "lang")


@pytest.fixture(scope="session")
def synth_corpus():
    return synth.make_corpus(60, seed=1)


@pytest.fixture(scope="session")
def mono_system(synth_lang, synth_corpus):
    """Monophone training on the synthetic corpus, with the likelihood of every iteration."""
    from phonsid.hmm.train import MonoOptions, train_mono

    opts = MonoOptions(num_iters=10, tot_gauss=100, max_iter_inc=6, realign_iters=tuple(range(1, 10)))
    return train_mono(synth_lang, synth_corpus.feats, synth_corpus.texts, opts)
