"""Data preparation for the VoxCeleb recipe (data prefix ``vox``): VoxCeleb1/2 for speakers, LibriSpeech for ASR.

Published layouts read::

    VoxCeleb1   <voxceleb1>/wav/idNNNNN/<youtube-id>/NNNNN.wav      16 kHz wav (dev and test unpacked together),
                or <voxceleb1>/dev/wav/... and <voxceleb1>/test/wav/... (Kaldi's layout); also there:
                vox1_meta.csv   'VoxCeleb1 ID, VGGFace1 ID, Gender, Nationality, Set' (tab or comma separated)
                veri_test2.txt, list_test_all2.txt, list_test_hard2.txt   trial lists Vox1-O (cleaned), Vox1-E,
                    Vox1-H, lines 'label path1 path2' (label 1 = same speaker), paths 'idNNNNN/<yt>/NNNNN.wav'
                    (the uncleaned veri_test.txt / list_test_all.txt / list_test_hard.txt are used when the
                    cleaned ones are absent)
    VoxCeleb2   <voxceleb2>/dev/aac/idNNNNN/<youtube-id>/NNNNN.m4a  (and test/aac/...), AAC in MP4; vox2_meta.csv
                'VoxCeleb2 ID, VGGFace2 ID, Gender, Set'
    LibriSpeech <librispeech>/<part>/<reader>/<chapter>/<reader>-<chapter>-NNNN.flac with
                <reader>-<chapter>.trans.txt ('<utt> WORDS ...') per chapter, SPEAKERS.TXT ('id | sex | ...')

:func:`prepare_voxceleb` writes, under ``<data-root>`` (C-sorted tables, each dir validated with
``validate_data_dir(no_feats=True)``)::

    vox_asr/     LibriSpeech with text (upper case, as published) for the GMM-HMM and the ASR DNNs; the speaker
                 is the reader (Kaldi's LibriSpeech recipe uses reader-chapter, ``speaker_per_chapter=True``; the
                 reader is the right unit for the speaker head of the multi-task DNN-2); spk2gender
    vox_train/   the speaker-training parts: VoxCeleb2 dev by default; VoxCeleb2 test and VoxCeleb1 dev on request
    vox_enroll/  the left-hand utterances of the trial lists; VoxCeleb has no enrolment sessions, so each
                 utterance is its own model ("speaker" = utterance id)
    vox_test/    the right-hand utterances, with their real speakers, and
                 trials          the main list: Vox1-O (else the first of Vox1-E, Vox1-H present)
                 trials_vox1_o, trials_vox1_e, trials_vox1_h   each list found, '<model> <utt> target|nontarget'

Ids follow Kaldi's VoxCeleb recipe: ``id10270-x6uYqmx31kE-00001`` (speaker ``id10270``) for VoxCeleb1 and
``ID00012-21Uxsk56VDQ-00001`` (speaker upper-cased, ``ID00012``) for VoxCeleb2; LibriSpeech keeps its own
(``103-1240-0000``, speaker ``103``). Audio: VoxCeleb1 wav and LibriSpeech flac are plain paths (libsndfile reads
both; ``flac_pipe=True`` writes ``flac -c -d -s <file> |`` for real Kaldi, which reads only RIFF wav);
VoxCeleb2 is ``ffmpeg -v 8 -i <file.m4a> -f wav -acodec pcm_s16le - |`` (program path configurable). A
``sample_rate`` other than 16000 adds phonsid's resampler to each entry.

Vox1-E and Vox1-H draw their trials from all of VoxCeleb1, dev included, so a model trained on VoxCeleb1 dev
would be tested on its own training speakers: when ``vox1_dev`` is among the training parts, those two lists are
left out (with a warning; asking for them explicitly is an error) and only Vox1-O, whose 40 speakers are the
VoxCeleb1 test set, is scored. The VoxCeleb1 test speakers are taken from vox1_meta.csv's Set column, else from a
``test/wav`` folder, else from the speakers of the Vox1-O list.

Trial lists are checked: three fields, label 0 or 1 agreeing with the speakers of the two paths, every audio file
present; a pair listed twice is kept once (with a warning).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from phonsid.data import DataDirError
from phonsid.recipes.dataset import DataSet, write_data_set

RATE = 16000
TRAIN_PARTS = ("vox2_dev", "vox2_test", "vox1_dev")
LIBRISPEECH_TRAIN = ("train-clean-100", "train-clean-360", "train-other-500")
# list name -> file names, cleaned version first
VOX1_LISTS = {
    "vox1_o": ("veri_test2.txt", "veri_test.txt"),
    "vox1_e": ("list_test_all2.txt", "list_test_all.txt"),
    "vox1_h": ("list_test_hard2.txt", "list_test_hard.txt"),
}

_SPK = re.compile(r"id\d{5}", re.IGNORECASE)
_REL = re.compile(r"(id\d{5})/([^/\s]+)/(\d{5})\.wav")


@dataclasses.dataclass(frozen=True)
class Utterance:
    utt: str
    spk: str
    path: Path


@dataclasses.dataclass
class TrialList:
    name: str  # vox1_o, vox1_e, vox1_h
    path: Path
    trials: list[tuple[str, str, bool]]  # (model utt, test utt, target)

    @property
    def counts(self) -> tuple[int, int]:
        tgt = sum(1 for _, _, t in self.trials if t)
        return tgt, len(self.trials) - tgt


def vox1_utt_id(spk: str, yt: str, name: str) -> str:
    return f"{spk}-{yt}-{name}"


def vox2_utt_id(spk: str, yt: str, name: str) -> tuple[str, str]:
    """(utterance id, speaker id) as Kaldi's make_voxceleb2.pl: the speaker upper-cased."""
    up = spk.upper()
    return f"{up}-{yt}-{name}", up


def _walk_three_levels(root: Path, suffix: str) -> Iterable[tuple[str, str, str, Path]]:
    """(speaker dir, video dir, file stem, path) for ``root/idNNNNN/<yt>/<name><suffix>``, in sorted order."""
    for spk in sorted(os.listdir(root)):
        spk_dir = root / spk
        if not _SPK.fullmatch(spk) or not spk_dir.is_dir():
            continue
        for yt in sorted(os.listdir(spk_dir)):
            yt_dir = spk_dir / yt
            if not yt_dir.is_dir():
                continue
            for name in sorted(os.listdir(yt_dir)):
                if name.endswith(suffix):
                    yield spk, yt, name[: -len(suffix)], (yt_dir / name).absolute()


def vox1_wav_dirs(root: str | os.PathLike) -> dict[str, Path]:
    """The VoxCeleb1 wav folders present: 'all' (``wav/``), 'dev' (``dev/wav``), 'test' (``test/wav``)."""
    root = Path(root)
    if not root.is_dir():
        raise DataDirError(f"{root}: no such directory (VoxCeleb1)")
    found = {k: root / sub for k, sub in (("all", "wav"), ("dev", "dev/wav"), ("test", "test/wav"))
             if (root / sub).is_dir()}
    if not found:
        raise DataDirError(f"{root}: no wav/, dev/wav/ or test/wav/ folder (expected VoxCeleb1's "
                           f"wav/idNNNNN/<youtube-id>/NNNNN.wav)")
    return found


def index_vox1(root: str | os.PathLike) -> tuple[dict[str, Utterance], dict[str, str]]:
    """All VoxCeleb1 utterances: relative path ``idNNNNN/<yt>/NNNNN.wav`` -> Utterance, and speaker -> the
    folder it was found in ('all', 'dev' or 'test'). A file under two folders is an error."""
    index: dict[str, Utterance] = {}
    where: dict[str, str] = {}
    for kind, d in vox1_wav_dirs(root).items():
        for spk, yt, name, path in _walk_three_levels(d, ".wav"):
            rel = f"{spk}/{yt}/{name}.wav"
            if rel in index:
                raise DataDirError(f"VoxCeleb1: {rel} is both {index[rel].path} and {path}")
            index[rel] = Utterance(vox1_utt_id(spk, yt, name), spk, path)
            where[spk] = kind
    if not index:
        raise DataDirError(f"{root}: no VoxCeleb1 wav files (idNNNNN/<youtube-id>/NNNNN.wav)")
    return index, where


def index_vox2(root: str | os.PathLike, part: str) -> dict[str, Utterance]:
    """VoxCeleb2 ``part`` ('dev' or 'test'): utterance id -> Utterance, from ``<root>/<part>/aac`` (or
    ``<root>/aac`` for the dev part when that is all there is)."""
    root = Path(root)
    d = root / part / "aac"
    if not d.is_dir() and part == "dev" and (root / "aac").is_dir() and not (root / "test").exists():
        d = root / "aac"
    if not d.is_dir():
        raise DataDirError(f"{d}: no such directory (VoxCeleb2 {part}: {part}/aac/idNNNNN/<youtube-id>/NNNNN.m4a)")
    out: dict[str, Utterance] = {}
    for spk, yt, name, path in _walk_three_levels(d, ".m4a"):
        utt, up = vox2_utt_id(spk, yt, name)
        out[utt] = Utterance(utt, up, path)
    if not out:
        raise DataDirError(f"{d}: no .m4a files (VoxCeleb2 {part})")
    return out


def read_vox_meta(path: str | os.PathLike) -> dict[str, tuple[str, str]]:
    """A vox1_meta.csv / vox2_meta.csv: speaker -> (gender m|f, set dev|test). Fields are tab- or
    comma-separated with stray spaces; the header line is skipped."""
    out: dict[str, tuple[str, str]] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            fields = [x.strip() for x in (line.split("\t") if "\t" in line else line.split(","))]
            if not _SPK.fullmatch(fields[0]):
                if lineno == 1:
                    continue  # header
                raise DataDirError(f"{path}:{lineno}: expected a speaker id idNNNNN first, got '{line.strip()}'")
            if len(fields) < 4:
                raise DataDirError(f"{path}:{lineno}: expected 'id, name, gender, [nationality,] set', got "
                                   f"'{line.strip()}'")
            gender, split = fields[2].lower(), fields[-1].lower()
            if gender not in ("m", "f") or split not in ("dev", "test"):
                raise DataDirError(f"{path}:{lineno}: expected gender m|f and set dev|test, got '{line.strip()}'")
            out[fields[0].lower()] = (gender, split)
    return out


def read_trial_list(path: str | os.PathLike, name: str, index: Mapping[str, Utterance], log=None) -> TrialList:
    """A VoxCeleb1 trial list as (model utt, test utt, target) triples, checked (see the module docstring)."""
    trials: dict[tuple[str, str], bool] = {}
    repeated = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3 or fields[0] not in ("0", "1"):
                raise DataDirError(f"{path}:{lineno}: expected '<0|1> <path1> <path2>', got '{line.strip()}'")
            utts = []
            for rel in fields[1:]:
                if not _REL.fullmatch(rel):
                    raise DataDirError(f"{path}:{lineno}: '{rel}' is not a VoxCeleb1 path idNNNNN/<yt>/NNNNN.wav")
                if rel not in index:
                    raise DataDirError(f"{path}:{lineno}: audio '{rel}' is not in the VoxCeleb1 folders")
                utts.append(index[rel])
            target = fields[0] == "1"
            if target != (utts[0].spk == utts[1].spk):
                raise DataDirError(f"{path}:{lineno}: label {fields[0]} but the speakers are {utts[0].spk} and "
                                   f"{utts[1].spk}")
            key = (utts[0].utt, utts[1].utt)
            if key in trials:  # the label is the same: it follows from the speakers, checked above
                repeated += 1
                continue
            trials[key] = target
    if not trials:
        raise DataDirError(f"{path}: no trials")
    if repeated and log is not None:
        log.warning(f"{path}: {repeated} repeated trials kept once")
    return TrialList(name, Path(path), [(m, t, tgt) for (m, t), tgt in trials.items()])


def find_trial_lists(root: str | os.PathLike, given: Mapping[str, str | os.PathLike | None] | None = None
                     ) -> dict[str, Path]:
    """The trial lists to use: ``given[name]`` when set (it must exist), else the first of the list's file names
    found in ``<root>`` or ``<root>/meta``."""
    root = Path(root)
    out: dict[str, Path] = {}
    for name, files in VOX1_LISTS.items():
        if given and given.get(name):
            p = Path(given[name])
            if not p.is_file():
                raise DataDirError(f"{p}: no such file (trial list {name})")
            out[name] = p
            continue
        for fname in files:
            hits = [d / fname for d in (root, root / "meta") if (d / fname).is_file()]
            if hits:
                out[name] = hits[0]
                break
    return out


def ffmpeg_pipe(ffmpeg: str, path: str | os.PathLike) -> str:
    """The wav.scp value decoding an m4a file to 16-bit WAV on stdout."""
    return f"{shlex.quote(ffmpeg)} -v 8 -i {shlex.quote(str(path))} -f wav -acodec pcm_s16le - |"


def _spec(path: Path, sample_rate: int | None) -> str:
    spec = str(path)
    if len(spec.split()) != 1:
        raise DataDirError(f"{spec}: audio paths with white space cannot go in wav.scp")
    if sample_rate is None:
        return spec
    from phonsid.augment.datadir import resampled_spec

    return resampled_spec(spec, sample_rate)


def _pipe_spec(pipe: str, sample_rate: int | None) -> str:
    if sample_rate is None:
        return pipe
    from phonsid.augment.datadir import resampled_spec

    return resampled_spec(pipe, sample_rate)


def _genders(spks: Iterable[str], meta: Mapping[str, tuple[str, str]]) -> dict[str, str] | None:
    """spk2gender when the meta data covers every speaker, else None."""
    out = {}
    for s in spks:
        g = meta.get(s.lower())
        if g is None:
            return None
        out[s] = g[0]
    return out


# ----------------------------------------------------------------------------------------- LibriSpeech


def read_librispeech_speakers(path: str | os.PathLike) -> dict[str, str]:
    """SPEAKERS.TXT: reader -> gender (m|f); ';' starts a comment line."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith(";"):
                continue
            fields = [x.strip() for x in line.split("|")]
            if len(fields) < 3 or not fields[0].isdigit() or fields[1].lower() not in ("m", "f"):
                raise DataDirError(f"{path}:{lineno}: expected 'ID | SEX | SUBSET | ...', got '{line.strip()}'")
            out[fields[0]] = fields[1].lower()
    return out


def librispeech_data_set(root: str | os.PathLike, parts: Sequence[str] | None = None,
                         speaker_per_chapter: bool = False, flac_pipe: bool = False,
                         sample_rate: int | None = None, log=None) -> DataSet:
    """LibriSpeech ``parts`` (default: the training parts present) with text and spk2gender."""
    root = Path(root)
    if (root / "LibriSpeech").is_dir():
        root = root / "LibriSpeech"
    if not root.is_dir():
        raise DataDirError(f"{root}: no such directory (LibriSpeech)")
    if parts is None:
        parts = [p for p in LIBRISPEECH_TRAIN if (root / p).is_dir()]
        if not parts:
            raise DataDirError(f"{root}: none of {', '.join(LIBRISPEECH_TRAIN)} is there")
        missing = [p for p in LIBRISPEECH_TRAIN if p not in parts]
        if missing and log is not None:
            log.warning(f"{root}: LibriSpeech parts {', '.join(missing)} are absent; using {', '.join(parts)}")
    genders = None
    if (root / "SPEAKERS.TXT").is_file():
        genders = read_librispeech_speakers(root / "SPEAKERS.TXT")
    ds = DataSet(utt2spk={}, wav={}, text={})
    untranscribed = 0
    for part in parts:
        pdir = root / part
        if not pdir.is_dir():
            raise DataDirError(f"{pdir}: no such directory (LibriSpeech part {part})")
        for reader in sorted(os.listdir(pdir)):
            rdir = pdir / reader
            if not rdir.is_dir():
                continue
            if not reader.isdigit():
                raise DataDirError(f"{rdir}: a reader folder must be a number")
            for chapter in sorted(os.listdir(rdir)):
                cdir = rdir / chapter
                if not cdir.is_dir():
                    continue
                if not chapter.isdigit():
                    raise DataDirError(f"{cdir}: a chapter folder must be a number")
                trans = cdir / f"{reader}-{chapter}.trans.txt"
                if not trans.is_file():
                    raise DataDirError(f"{trans}: missing (each chapter has its transcript)")
                flacs = {n[:-5] for n in os.listdir(cdir) if n.endswith(".flac")}
                spk = f"{reader}-{chapter}" if speaker_per_chapter else reader
                seen = set()
                with open(trans, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        fields = line.split(maxsplit=1)
                        if not fields:
                            continue
                        utt = fields[0]
                        if not utt.startswith(f"{reader}-{chapter}-") or len(fields) < 2:
                            raise DataDirError(f"{trans}:{lineno}: expected '{reader}-{chapter}-NNNN WORDS...', "
                                               f"got '{line.strip()}'")
                        if utt not in flacs:
                            raise DataDirError(f"{trans}:{lineno}: no audio {cdir / (utt + '.flac')}")
                        if utt in ds.utt2spk:
                            raise DataDirError(f"{trans}:{lineno}: utterance '{utt}' seen before")
                        seen.add(utt)
                        path = (cdir / f"{utt}.flac").absolute()
                        if flac_pipe:
                            spec = _pipe_spec(f"flac -c -d -s {shlex.quote(str(path))} |", sample_rate)
                        else:
                            spec = _spec(path, sample_rate)
                        ds.utt2spk[utt] = spk
                        ds.wav[utt] = spec
                        ds.text[utt] = " ".join(fields[1].split())
                untranscribed += len(flacs - seen)
    if not ds.utt2spk:
        raise DataDirError(f"{root}: no LibriSpeech utterances in {', '.join(parts)}")
    if untranscribed and log is not None:
        log.warning(f"{root}: {untranscribed} flac files without a transcript line are left out")
    if genders is not None:
        spk2g = {}
        for spk in set(ds.utt2spk.values()):
            g = genders.get(spk.split("-")[0])
            if g is None:
                spk2g = None
                if log is not None:
                    log.warning(f"{root / 'SPEAKERS.TXT'}: reader {spk.split('-')[0]} is not listed; no spk2gender")
                break
            spk2g[spk] = g
        ds.spk2gender = spk2g
    return ds


# ----------------------------------------------------------------------------------------- the recipe


def _find_meta(root: Path | None, name: str, given: str | os.PathLike | None) -> Path | None:
    if given:
        p = Path(given)
        if not p.is_file():
            raise DataDirError(f"{p}: no such file ({name})")
        return p
    if root is None:
        return None
    for p in (root / name, root / "meta" / name):
        if p.is_file():
            return p
    return None


def _utterance_set(utts: Iterable[Utterance], wav_of, genders: Mapping[str, tuple[str, str]]) -> DataSet:
    ds = DataSet(utt2spk={}, wav={})
    for u in utts:
        ds.utt2spk[u.utt] = u.spk
        ds.wav[u.utt] = wav_of(u)
    ds.spk2gender = _genders(set(ds.utt2spk.values()), genders)
    return ds


def prepare_voxceleb(data_root: str | os.PathLike, *, voxceleb1: str | os.PathLike,
                     voxceleb2: str | os.PathLike | None = None, librispeech: str | os.PathLike | None = None,
                     train_parts: Sequence[str] = ("vox2_dev",), trial_lists: Sequence[str] | None = None,
                     list_paths: Mapping[str, str | os.PathLike | None] | None = None,
                     vox1_meta: str | os.PathLike | None = None, vox2_meta: str | os.PathLike | None = None,
                     librispeech_parts: Sequence[str] | None = None, speaker_per_chapter: bool = False,
                     flac_pipe: bool = False, make_asr: bool = True, ffmpeg: str = "ffmpeg", prefix: str = "vox",
                     sample_rate: int | None = None, log=None) -> dict[str, DataSet]:
    """Writes ``<prefix>_asr`` (unless ``make_asr`` is False), ``<prefix>_train``, ``<prefix>_enroll`` and
    ``<prefix>_test`` (with its trials files) under ``data_root``; returns the sets by name.

    ``train_parts``: any of ``vox2_dev``, ``vox2_test``, ``vox1_dev``. ``trial_lists``: any of ``vox1_o``,
    ``vox1_e``, ``vox1_h`` (None: every list found, less E and H when VoxCeleb1 dev is trained on).
    ``list_paths`` gives a list's file instead of looking in the VoxCeleb1 folder.
    """
    if sample_rate == RATE:
        sample_rate = None
    data_root = Path(data_root)
    bad = [p for p in train_parts if p not in TRAIN_PARTS]
    if bad or not train_parts:
        raise DataDirError(f"training parts must be among {', '.join(TRAIN_PARTS)}, got '{','.join(train_parts)}'")
    if trial_lists is not None:
        bad = [t for t in trial_lists if t not in VOX1_LISTS]
        if bad or not trial_lists:
            raise DataDirError(f"trial lists must be among {', '.join(VOX1_LISTS)}, got '{','.join(trial_lists)}'")
    vox1_root = Path(voxceleb1)
    index, where = index_vox1(vox1_root)
    meta1_path = _find_meta(vox1_root, "vox1_meta.csv", vox1_meta)
    meta1 = read_vox_meta(meta1_path) if meta1_path else {}

    # trial lists
    found = find_trial_lists(vox1_root, list_paths)
    vox1_trained = "vox1_dev" in train_parts
    if trial_lists is None:
        names = list(found)
        if vox1_trained:
            dropped = [n for n in names if n != "vox1_o"]
            names = [n for n in names if n == "vox1_o"]
            if dropped and log is not None:
                log.warning(f"VoxCeleb1 dev is in the training data, so {', '.join(dropped)} (drawn from all of "
                            f"VoxCeleb1) are left out; train on VoxCeleb2 only to score them")
    else:
        names = list(trial_lists)
        missing = [n for n in names if n not in found]
        if missing:
            raise DataDirError(f"{vox1_root}: trial list {missing[0]} ({' or '.join(VOX1_LISTS[missing[0]])}) "
                               f"not found")
        if vox1_trained and any(n != "vox1_o" for n in names):
            raise DataDirError("Vox1-E and Vox1-H use all of VoxCeleb1: they cannot be scored when VoxCeleb1 dev "
                               "is in the training data (drop vox1_dev from the training parts)")
    if not names:
        why = " (Vox1-E/H are left out when VoxCeleb1 dev is trained on)" if found else ""
        raise DataDirError(f"{vox1_root}: no trial list to score: Vox1-O (veri_test2.txt) not found{why}")
    names = [n for n in VOX1_LISTS if n in names]  # canonical order: the main list (Vox1-O if used) first
    lists = [read_trial_list(found[n], n, index, log) for n in names]

    # VoxCeleb1 test speakers (needed to take VoxCeleb1 dev for training)
    sets: dict[str, DataSet] = {}
    vox1_wav = lambda u: _spec(u.path, sample_rate)  # noqa: E731
    train_utts: list[Utterance] = []
    train_wav: dict[str, str] = {}
    genders: dict[str, tuple[str, str]] = dict(meta1)
    if vox1_trained:
        if meta1:
            test_spks = {s for s, (_, split) in meta1.items() if split == "test"}
            how = f"the Set column of {meta1_path}"
        elif "test" in where.values():
            test_spks = {s for s, k in where.items() if k == "test"}
            how = f"{vox1_root / 'test/wav'}"
        else:  # the lists are then Vox1-O alone, whose speakers are the test set
            by_utt = {u.utt: u for u in index.values()}
            test_spks = {by_utt[x].spk for m, t, _ in lists[0].trials for x in (m, t)}
            how = f"the speakers of {lists[0].path}"
        dev = [u for u in index.values() if u.spk not in test_spks]
        if log is not None:
            log.info(f"VoxCeleb1 dev: {len(dev)} utterances of {len({u.spk for u in dev})} speakers (test speakers "
                     f"from {how})")
        train_utts += dev
        train_wav.update({u.utt: vox1_wav(u) for u in dev})
    for part in ("dev", "test"):
        if f"vox2_{part}" not in train_parts:
            continue
        if not voxceleb2:
            raise DataDirError(f"VoxCeleb2 {part} is a training part but 'voxceleb2' is not set")
        utts = index_vox2(voxceleb2, part)
        if log is not None:
            log.info(f"VoxCeleb2 {part}: {len(utts)} utterances of {len({u.spk for u in utts.values()})} speakers")
        train_utts += utts.values()
        train_wav.update({u.utt: _pipe_spec(ffmpeg_pipe(ffmpeg, u.path), sample_rate) for u in utts.values()})
    if any(p.startswith("vox2") for p in train_parts):
        meta2_path = _find_meta(Path(voxceleb2) if voxceleb2 else None, "vox2_meta.csv", vox2_meta)
        if meta2_path:
            genders.update(read_vox_meta(meta2_path))
    sets[f"{prefix}_train"] = _utterance_set(train_utts, lambda u: train_wav[u.utt], genders)

    # enrolment (each left-hand utterance its own model) and test
    by_utt = {u.utt: u for u in index.values()}
    models = {m for tl in lists for m, _, _ in tl.trials}
    tests = {t for tl in lists for _, t, _ in tl.trials}
    enroll = _utterance_set((by_utt[m] for m in models), vox1_wav, genders)
    enroll.utt2spk = {m: m for m in enroll.utt2spk}
    if enroll.spk2gender is not None:
        enroll.spk2gender = {m: genders[by_utt[m].spk.lower()][0] for m in models}
    sets[f"{prefix}_enroll"] = enroll
    sets[f"{prefix}_test"] = _utterance_set((by_utt[t] for t in tests), vox1_wav, genders)
    trials = {f"trials_{tl.name}": [f"{m} {t} {'target' if g else 'nontarget'}" for m, t, g in tl.trials]
              for tl in lists}
    trials["trials"] = trials[f"trials_{lists[0].name}"]

    if make_asr:
        if not librispeech:
            raise DataDirError("LibriSpeech is needed for the ASR DNNs: set 'librispeech' (or skip the ASR set)")
        sets[f"{prefix}_asr"] = librispeech_data_set(librispeech, librispeech_parts, speaker_per_chapter, flac_pipe,
                                                     sample_rate, log)

    for name, ds in sets.items():
        warnings = write_data_set(data_root / name, ds, trials if name == f"{prefix}_test" else None)
        if log is not None:
            for w in warnings:
                log.warning(w)
            log.info(f"{data_root / name}: {len(ds.utt2spk)} utterances, {ds.num_speakers} "
                     f"{'models' if name.endswith('_enroll') else 'speakers'}"
                     f"{'' if ds.spk2gender is not None else ' (no spk2gender: gender unknown for some)'}")
    if log is not None:
        for tl in lists:
            tgt, non = tl.counts
            log.info(f"{data_root / f'{prefix}_test' / ('trials_' + tl.name)} (from {tl.path}): {tgt + non} trials, "
                     f"{tgt} target, {non} nontarget")
        log.info(f"{data_root / f'{prefix}_test' / 'trials'} is trials_{lists[0].name}")
    return sets


__all__ = [
    "LIBRISPEECH_TRAIN", "TRAIN_PARTS", "TrialList", "Utterance", "VOX1_LISTS", "ffmpeg_pipe", "find_trial_lists",
    "index_vox1", "index_vox2", "librispeech_data_set", "prepare_voxceleb", "read_librispeech_speakers",
    "read_trial_list", "read_vox_meta", "vox1_utt_id", "vox1_wav_dirs", "vox2_utt_id",
]
