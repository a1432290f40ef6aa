"""staged_dir / replace_dir: a data dir appears whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phonsid.data import staged_dir


def test_clean_exit_replaces_the_old_dir(tmp_path: Path) -> None:
    out = tmp_path / "data" / "train"
    out.mkdir(parents=True)
    (out / "feats.scp").write_text("stale\n")
    with staged_dir(out) as tmp:
        assert tmp.parent == out.parent and tmp != out and not any(tmp.iterdir())
        (tmp / "utt2spk").write_text("a-1 a\n")
    assert sorted(p.name for p in out.iterdir()) == ["utt2spk"]
    assert [p.name for p in out.parent.iterdir()] == ["train"]
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask


def test_exception_leaves_the_old_dir_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "train"
    out.mkdir()
    (out / "utt2spk").write_text("old\n")
    with pytest.raises(ValueError):
        with staged_dir(out) as tmp:
            (tmp / "utt2spk").write_text("new\n")
            raise ValueError("validation failed")
    assert (out / "utt2spk").read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train"]


def test_a_file_or_link_in_the_way_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "train").symlink_to(tmp_path / "elsewhere")
    with staged_dir(tmp_path / "train") as tmp:
        (tmp / "wav.scp").write_text("a-1 a.wav\n")
    assert not (tmp_path / "train").is_symlink() and (tmp_path / "train" / "wav.scp").is_file()
    assert (tmp_path / "elsewhere").is_dir()
