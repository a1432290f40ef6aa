"""Helpers for the phonsid.data tests: small Kaldi data dirs written in tmp_path."""

from __future__ import annotations

from pathlib import Path


def write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def read(path: Path) -> list[str]:
    return path.read_text().splitlines()


def keys(path: Path) -> list[str]:
    return [line.split()[0] for line in read(path)]


def build_data_dir(path: Path, counts: dict[str, int], *, text: bool = True, wav: bool = True, feats: bool = False,
                   vad: bool = False, utt2dur: bool = False, segments: bool = False, spk2gender: bool = False,
                   cmvn: bool = False) -> list[tuple[str, str]]:
    """A data dir whose speakers ``spk`` have ``counts[spk]`` utterances ``spk-uNN`` (speaker ids are prefixes,
    so utt2spk is sorted by both fields). With ``segments`` each speaker has one recording ``rec-<spk>`` cut
    into consecutive 1.5 s segments. Returns the (utt, spk) pairs in order."""
    path.mkdir(parents=True, exist_ok=True)
    pairs = [(f"{spk}-u{i:02d}", spk) for spk in sorted(counts) for i in range(1, counts[spk] + 1)]
    write(path / "utt2spk", [f"{u} {s}" for u, s in pairs])
    by_spk: dict[str, list[str]] = {}
    for u, s in pairs:
        by_spk.setdefault(s, []).append(u)
    write(path / "spk2utt", [f"{s} {' '.join(by_spk[s])}" for s in sorted(counts)])
    if text:
        write(path / "text", [f"{u} hello world {i}" for i, (u, _) in enumerate(pairs)])
    if segments:
        write(path / "segments", [f"{u} rec-{s} {1.5 * (int(u[-2:]) - 1):.2f} {1.5 * int(u[-2:]):.2f}" for u, s in pairs])
        if wav:
            write(path / "wav.scp", [f"rec-{s} /audio/rec-{s}.wav" for s in sorted(counts)])
    elif wav:
        write(path / "wav.scp", [f"{u} /audio/{u}.wav" for u, _ in pairs])
    if feats:
        write(path / "feats.scp", [f"{u} /feats/raw.ark:{100 + 37 * i}" for i, (u, _) in enumerate(pairs)])
    if vad:
        write(path / "vad.scp", [f"{u} /feats/vad.ark:{50 + 11 * i}" for i, (u, _) in enumerate(pairs)])
    if utt2dur:
        write(path / "utt2dur", [f"{u} {1.5 + 0.25 * i:g}" for i, (u, _) in enumerate(pairs)])
    if spk2gender:
        write(path / "spk2gender", [f"{s} {'mf'[i % 2]}" for i, s in enumerate(sorted(counts))])
    if cmvn:
        write(path / "cmvn.scp", [f"{s} /feats/cmvn.ark:{10 * i}" for i, s in enumerate(sorted(counts))])
    return pairs
