"""A Kaldi data dir in memory (:class:`DataSet`) and its write-validate-rename (:func:`write_data_set`), shared by
the corpus preps."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterable, Mapping

from phonsid.data import (DataDirError, staged_dir, utt2spk_to_spk2utt, validate_data_dir, write_list_map,
                          write_map)
from phonsid.io.atomic import atomic_write_text


@dataclasses.dataclass
class DataSet:
    """The tables of one Kaldi data dir, in memory (keys need not be sorted: writing sorts them).

    ``segments`` maps utterance -> (recording, start s, end s); with it, ``wav`` is keyed by recording.
    """

    utt2spk: dict[str, str]
    wav: dict[str, str]
    text: dict[str, str] | None = None
    segments: dict[str, tuple[str, float, float]] | None = None
    reco2file_and_channel: dict[str, str] | None = None
    spk2gender: dict[str, str] | None = None

    @property
    def num_speakers(self) -> int:
        return len(set(self.utt2spk.values()))

    def hours(self) -> float | None:
        """Total duration of the segments in hours (None without segments: that would need the audio)."""
        if self.segments is None:
            return None
        return sum(e - s for _, s, e in self.segments.values()) / 3600.0

    def subset(self, utts: Iterable[str]) -> "DataSet":
        """The utterances ``utts`` (which must be in the set) with their speakers and recordings only."""
        keep = set(utts)
        missing = keep - self.utt2spk.keys()
        if missing:
            raise DataDirError(f"subset: utterance '{sorted(missing)[0]}' is not in the data set")
        utt2spk = {u: s for u, s in self.utt2spk.items() if u in keep}
        spks = set(utt2spk.values())
        if self.segments is not None:
            segments = {u: v for u, v in self.segments.items() if u in keep}
            recos = {r for r, _, _ in segments.values()}
            wav = {r: v for r, v in self.wav.items() if r in recos}
        else:
            segments, recos = None, None
            wav = {u: v for u, v in self.wav.items() if u in keep}
        return DataSet(
            utt2spk=utt2spk,
            wav=wav,
            text=None if self.text is None else {u: t for u, t in self.text.items() if u in keep},
            segments=segments,
            reco2file_and_channel=None if self.reco2file_and_channel is None or recos is None else
            {r: v for r, v in self.reco2file_and_channel.items() if r in recos},
            spk2gender=None if self.spk2gender is None else {s: g for s, g in self.spk2gender.items() if s in spks},
        )


def _time(t: float) -> str:
    return f"{t:.2f}"


def write_data_set(out_dir: str | os.PathLike, data: DataSet, extra: Mapping[str, Iterable[str]] | None = None,
                   *, sample_rate: int | None = None) -> list[str]:
    """Writes ``data`` as a Kaldi data dir at ``out_dir``, replacing whatever was there, and validates it.

    The files are written into a new directory beside ``out_dir`` and validated there (``--no-feats``; the text
    is required when the set has one; plain-path audio headers are read when ``sample_rate`` is given); only a
    valid dir is renamed into place, so a failed run leaves no half-written set for a later stage to read.
    ``extra`` adds more files given as their lines (e.g. ``trials``), written in C (byte) order as
    ``LC_ALL=C sort`` leaves them. Returns the validation warnings.
    """
    out = Path(out_dir)
    with staged_dir(out) as tmp:
        write_map(tmp / "utt2spk", data.utt2spk)
        write_list_map(tmp / "spk2utt", utt2spk_to_spk2utt(data.utt2spk))
        write_map(tmp / "wav.scp", data.wav)
        if data.text is not None:
            write_map(tmp / "text", data.text)
        if data.segments is not None:
            write_map(tmp / "segments", {u: f"{r} {_time(s)} {_time(e)}" for u, (r, s, e) in data.segments.items()})
        if data.reco2file_and_channel is not None:
            write_map(tmp / "reco2file_and_channel", data.reco2file_and_channel)
        if data.spk2gender is not None:
            write_map(tmp / "spk2gender", data.spk2gender)
        for name, lines in (extra or {}).items():
            atomic_write_text(tmp / name, "".join(ln + "\n" for ln in sorted(lines, key=lambda x: x.encode())))
        warnings = validate_data_dir(tmp, no_feats=True, no_text=data.text is None,
                                     check_wavs=sample_rate is not None, sample_rate=sample_rate)
    return [w.replace(str(tmp), str(out)) for w in warnings]
