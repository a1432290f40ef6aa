"""The command-line tools chained as the step scripts chain them (in-process), alignments in every form,
show_alignments, importing pdf alignments; errors that name the problem."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import hmm_synth as synth
from phonsid.io import TableWriter, read_table

REPO = Path(__file__).resolve().parents[2]


def tool(name: str):
    path = REPO / "pyscripts" / f"{name}.py" if (REPO / "pyscripts" / f"{name}.py").exists() else REPO / name
    spec = importlib.util.spec_from_file_location(f"tool_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("tools")
    c = synth.make_corpus(30, seed=4)
    data = d / "data"
    data.mkdir()
    with TableWriter(f"ark,scp:{data}/feats.ark,{data}/feats.scp") as w:
        for u in sorted(c.feats):
            w.write(u, c.feats[u])
    (data / "text").write_text("".join(f"{u} {' '.join(c.texts[u])}\n" for u in sorted(c.texts)))
    (data / "utt2spk").write_text("".join(f"{u} {c.utt2spk[u]}\n" for u in sorted(c.utt2spk)))
    synth.write_dict_dir(d / "dict")
    assert tool("prepare_lang")([str(d / "dict"), "<unk>", str(d / "lang")]) == 0
    return d, c


def test_tool_chain_trains_and_aligns(setup, capsys):
    d, c = setup
    data, lang, exp = d / "data", d / "lang", d / "exp"
    exp.mkdir(exist_ok=True)
    fo = [f"--utt2spk={data}/utt2spk", "--delta-order=0"]
    feats = f"scp:{data}/feats.scp"
    assert tool("gmm_init_mono")([f"--shared-phones={lang}/phones/sets.int", f"--train-feats={feats}", *fo,
                                  f"{lang}/topo", "0", f"{exp}/0.mdl", f"{exp}/tree"]) == 0
    assert tool("gmm_align")(["--equal-align", *fo, f"{exp}/tree", f"{exp}/0.mdl", str(lang), feats,
                              f"{data}/text", f"ark:{exp}/ali.ark"]) == 0
    mdl = f"{exp}/0.mdl"
    likes = []
    for it in range(4):
        if it > 0:
            assert tool("gmm_align")([*fo, f"{exp}/tree", mdl, str(lang), feats, f"{data}/text",
                                      f"ark:{exp}/ali.ark"]) == 0
        assert tool("gmm_acc_stats_ali")([*fo, mdl, feats, f"ark:{exp}/ali.ark", f"{exp}/{it}.1.acc"]) == 0
        assert tool("gmm_sum_accs")([f"{exp}/{it}.acc", f"{exp}/{it}.1.acc"]) == 0
        assert tool("gmm_est")(["--mix-up=60", f"--write-occs={exp}/{it + 1}.occs", mdl, f"{exp}/{it}.acc",
                                f"{exp}/{it + 1}.mdl"]) == 0
        capsys.readouterr()
        from phonsid.hmm.gmm import read_gmm_accs_from
        from phonsid.io.kaldi_object import read_object_file

        acc = read_object_file(f"{exp}/{it}.acc", read_gmm_accs_from)
        likes.append(acc.tot_like / acc.tot_frames)
        mdl = f"{exp}/{it + 1}.mdl"
    assert np.all(np.diff(likes) > 0), likes
    assert tool("gmm_align")([*fo, f"{exp}/tree", mdl, str(lang), feats, f"{data}/text",
                              f"ark:{exp}/final.ali"]) == 0
    assert tool("ali_to_pdf")([mdl, f"ark:{exp}/final.ali", f"ark,scp:{exp}/pdf.ark,{exp}/pdf.scp"]) == 0
    assert tool("ali_to_phones")(["--per-frame", mdl, f"ark:{exp}/final.ali", f"ark:{exp}/phones.ark"]) == 0
    pdfs = read_table(f"scp:{exp}/pdf.scp", "int_vector")
    phones = read_table(f"ark:{exp}/phones.ark", "int_vector")
    assert set(pdfs) == set(c.feats)
    from phonsid.hmm.model import read_gmm_model
    from phonsid.hmm.lang import read_symbol_table

    num_pdfs = read_gmm_model(mdl).num_pdfs
    table = read_symbol_table(lang / "phones.txt")
    right = total = 0
    for u in pdfs:
        assert len(pdfs[u]) == len(c.feats[u]) == len(phones[u])
        assert pdfs[u].min() >= 0 and pdfs[u].max() < num_pdfs
        right += sum(table.symbol(int(p)) == t for p, t in zip(phones[u], c.true_phones[u]))
        total += len(phones[u])
    assert right / total > 0.85
    capsys.readouterr()
    assert tool("gmm_info")([mdl]) == 0
    assert f"number of pdfs {num_pdfs}" in capsys.readouterr().out
    # show_alignments: words, phones and times of one utterance
    utt = sorted(c.texts)[0]
    assert tool("show_alignments")([f"--utt={utt}", f"--lang={lang}", f"--text={data}/text",
                                    f"{lang}/phones.txt", mdl, f"ark:{exp}/final.ali"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"{utt}  {len(c.feats[utt])} frames")
    words = [ln.split()[2] for ln in lines[1:]]
    assert [w for w in words if w != "<sil>"] == c.texts[utt]
    assert lines[-1].split()[1] == f"{len(c.feats[utt]) / 100:.2f}"  # the last word ends at the end
    assert tool("show_alignments")(["--utt=nope", f"{lang}/phones.txt", mdl, f"ark:{exp}/final.ali"]) == 1


def test_tools_report_bad_input(setup, capsys):
    d, _ = setup
    data, lang, exp = d / "data", d / "lang", d / "exp2"
    exp.mkdir(exist_ok=True)
    assert tool("gmm_init_mono")([f"{lang}/topo", "7", f"{exp}/0.mdl", f"{exp}/tree"]) == 0
    rc = tool("gmm_align")(["--delta-order=0", f"{exp}/tree", f"{exp}/0.mdl", str(lang), f"scp:{data}/feats.scp",
                            f"{data}/text", f"ark:{exp}/ali.ark"])
    err = capsys.readouterr().err
    assert rc == 1 and "features have dimension 5, the model 7" in err and "utterance 'spk0-utt000'" in err
    assert tool("gmm_est")([f"{exp}/0.mdl", f"{exp}/missing.acc", f"{exp}/1.mdl"]) == 1
    assert "missing.acc" in capsys.readouterr().err


def test_import_pdf_alignments(tmp_path, capsys):
    ali = {"u1": np.array([0, 0, 3, 3, 2], np.int32), "u2": np.array([1, 4], np.int32)}
    with TableWriter(f"ark:{tmp_path}/kaldi.ark", "int_vector") as w:
        for k, v in ali.items():
            w.write(k, v)
    main = tool("import_pdf_ali")
    assert main(["5", f"ark:{tmp_path}/kaldi.ark", f"ark,scp:{tmp_path}/pdf.ark,{tmp_path}/pdf.scp"]) == 0
    back = read_table(f"scp:{tmp_path}/pdf.scp", "int_vector")
    assert set(back) == set(ali) and all(np.array_equal(back[k], ali[k]) for k in ali)
    assert main(["4", f"ark:{tmp_path}/kaldi.ark", f"ark:{tmp_path}/bad.ark"]) == 1
    assert "outside [0, 4)" in capsys.readouterr().err and not (tmp_path / "bad.ark").exists()
    (tmp_path / "utt2num_frames").write_text("u1 5\nu2 3\n")
    assert main([f"--utt2num-frames={tmp_path}/utt2num_frames", "5", f"ark:{tmp_path}/kaldi.ark",
                 f"ark:{tmp_path}/checked.ark"]) == 0
    assert list(read_table(f"ark:{tmp_path}/checked.ark", "int_vector")) == ["u1"]


def test_import_kaldi_ali_script_round_trip(setup, tmp_path, script_env):
    """steps/import_kaldi_ali.sh in both forms: an ali-to-pdf table with <num-pdfs>, and an alignment dir."""
    d, c = setup
    exp = d / "exp"
    if not (exp / "final.ali").exists():
        pytest.skip("needs test_tool_chain_trains_and_aligns")
    src = tmp_path / "kaldi_ali"
    src.mkdir()
    import shutil

    shutil.copy(exp / "4.mdl", src / "final.mdl")
    shutil.copy(exp / "final.ali", src / "ali.1.ark")
    r = subprocess.run(["bash", "steps/import_kaldi_ali.sh", str(src), str(tmp_path / "imp1")], cwd=REPO,
                       env=script_env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    num = int((tmp_path / "imp1/num_pdfs").read_text())
    r = subprocess.run(["bash", "steps/import_kaldi_ali.sh", str(num), f"scp:{tmp_path}/imp1/pdf_ali.scp",
                        str(tmp_path / "imp2")], cwd=REPO, env=script_env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a = read_table(f"scp:{tmp_path}/imp1/pdf_ali.scp", "int_vector")
    b = read_table(f"scp:{tmp_path}/imp2/pdf_ali.scp", "int_vector")
    ref = read_table(f"scp:{exp}/pdf.scp", "int_vector")
    assert set(a) == set(b) == set(ref)
    assert all(np.array_equal(a[k], ref[k]) and np.array_equal(b[k], ref[k]) for k in ref)
    assert (tmp_path / "imp1/phone_ali.scp").exists()
