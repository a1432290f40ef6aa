"""Lays out the embedded demo corpus as Kaldi data directories.

``make_demo_corpus(data_root, wav_dir, config, seed)`` writes (all tables C-sorted; wav.scp holds absolute paths
to 16-bit 8 kHz mono wavs under ``wav_dir/<set>/``)::

    <data-root>/demo_asr/      wav.scp utt2spk spk2utt spk2gender text utt2dur reco2dur phones.txt phone_ali.txt
    <data-root>/demo_train/    wav.scp utt2spk spk2utt spk2gender text utt2dur reco2dur
    <data-root>/demo_enroll/   wav.scp utt2spk spk2utt spk2gender text utt2dur reco2dur
    <data-root>/demo_test/     wav.scp utt2spk spk2utt spk2gender text utt2dur reco2dur trials
    <data-root>/demo_noise/    wav.scp utt2spk spk2utt utt2dur reco2dur      (recording = speaker = itself)
    <data-root>/demo_music/    wav.scp utt2spk spk2utt utt2dur reco2dur
    <data-root>/demo_speech/   wav.scp utt2spk spk2utt utt2dur reco2dur
    <data-root>/local/dict_demo/  lexicon.txt nonsilence_phones.txt silence_phones.txt optional_silence.txt
                                  extra_questions.txt

Speakers of asr (``asrNNNN``), train (``trnNNNN``), enroll/test (``evlNNNN``) and the babble speech
(``speech-NNNN``) are disjoint; sexes alternate within each set. Utterance ids start with their speaker id.
``trials`` pairs every enrolled speaker with every test utterance (``<spk> <utt> target|nontarget``).

Alignment convention (``phone_ali.txt``, ids of ``phones.txt``): every utterance has a multiple of 80 samples and
phone boundaries on multiples of 80 samples, so it has exactly T = num_samples / 80 frames, which is Kaldi's frame
count with ``--snip-edges=false`` ((num_samples + 40) // 80). Frame t is labelled with the phone that occupies
samples [80 t, 80 t + 80); that block is centred on sample 80 t + 40, the centre of Kaldi's snip-edges=false
analysis window [80 t - 60, 80 t + 140) (25 ms window, 10 ms shift). Features computed with
``--snip-edges=true`` have T - 2 frames whose frame t (window [80 t, 80 t + 200), centre 80 t + 100) matches
label t + 1 to within 2.5 ms, i.e. use ``labels[1:T-1]``.

Determinism: every speaker and every recording draws from its own ``numpy.random.default_rng`` stream keyed by
(seed, set, speaker index, utterance index), so a seed gives byte-identical wavs and identical tables whatever the
number of jobs, and changing one set's size leaves the recordings of the others unchanged.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from typing import Callable, Iterable

import numpy as np

from phonsid.data import c_sorted, utt2spk_to_spk2utt, write_list_map, write_map
from phonsid.io.atomic import atomic_write_text
from phonsid.io.wav import write_wav
from phonsid.recipes.demo import lexicon as lx
from phonsid.recipes.demo import noises
from phonsid.recipes.demo import speakers as sp
from phonsid.recipes.demo import synth

SAMPLE_RATE = synth.SAMPLE_RATE
FRAME_SHIFT = synth.FRAME_SHIFT
DEFAULT_SEED = 777


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo corpus (durations in seconds) and its channel conditions.

    Each field is the command-line option with dashes (``asr_speakers`` -> ``--asr-speakers``).
    """

    asr_speakers: int = 30
    asr_utts_per_speaker: int = 8
    asr_min_duration: float = 3.0
    asr_max_duration: float = 5.5
    train_speakers: int = 60
    train_utts_per_speaker: int = 10
    train_min_duration: float = 3.0
    train_max_duration: float = 4.5
    eval_speakers: int = 20
    enroll_utts_per_speaker: int = 3
    test_utts_per_speaker: int = 5
    eval_min_duration: float = 3.0
    eval_max_duration: float = 5.0
    noise_recordings: int = 16
    noise_min_duration: float = 8.0
    noise_max_duration: float = 15.0
    music_recordings: int = 8
    music_min_duration: float = 15.0
    music_max_duration: float = 25.0
    speech_recordings: int = 12
    speech_min_duration: float = 10.0
    speech_max_duration: float = 20.0
    channel_eq_db: float = 3.0
    snr_min: float = 25.0
    snr_max: float = 45.0

    def validate(self) -> None:
        """Raises ValueError naming the option that is out of range."""
        def opt(name: str) -> str:
            return "--" + name.replace("_", "-")

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.type in (int, "int") and v < 1:
                raise ValueError(f"{opt(f.name)}={v}: must be at least 1")
        for prefix in ("asr", "train", "eval", "noise", "music", "speech"):
            lo, hi = getattr(self, f"{prefix}_min_duration"), getattr(self, f"{prefix}_max_duration")
            if not 1.0 <= lo <= hi:
                raise ValueError(f"{opt(prefix + '_min_duration')}={lo}, {opt(prefix + '_max_duration')}={hi}: "
                                 "need 1 <= min <= max")
        if self.eval_speakers < 2:
            raise ValueError(f"--eval-speakers={self.eval_speakers}: need at least 2 for nontarget trials")
        if not 0.0 <= self.channel_eq_db <= 12.0:
            raise ValueError(f"--channel-eq-db={self.channel_eq_db}: must be within [0, 12]")
        if not self.snr_min <= self.snr_max:
            raise ValueError(f"--snr-min={self.snr_min} > --snr-max={self.snr_max}")


# --small: a few speakers and seconds per set (for tests); the channel options are kept.
SMALL_OVERRIDES = dict(
    asr_speakers=3, asr_utts_per_speaker=2, asr_min_duration=1.5, asr_max_duration=2.5,
    train_speakers=4, train_utts_per_speaker=3, train_min_duration=1.5, train_max_duration=2.5,
    eval_speakers=4, enroll_utts_per_speaker=2, test_utts_per_speaker=2, eval_min_duration=1.5,
    eval_max_duration=2.5,
    noise_recordings=3, noise_min_duration=2.0, noise_max_duration=3.0,
    music_recordings=2, music_min_duration=2.0, music_max_duration=3.0,
    speech_recordings=2, speech_min_duration=2.0, speech_max_duration=3.0,
)


def small_config(config: DemoConfig | None = None) -> DemoConfig:
    """``config`` (default: the defaults) with the ``--small`` sizes."""
    return dataclasses.replace(config or DemoConfig(), **SMALL_OVERRIDES)


# ------------------------------------------------------------------------------------------------ work items


@dataclasses.dataclass(frozen=True)
class _Item:
    """One recording to render; everything it needs travels with it (items run in worker processes)."""

    dataset: str  # data dir name, e.g. demo_train
    key: str  # utterance / recording id
    kind: str  # speech | noise | music
    stream: str  # name of its random stream
    index: int  # speaker / recording index within its stream
    sub: int  # utterance index within the speaker
    min_duration: float
    max_duration: float
    seed: int
    channel_eq_db: float
    snr: tuple[float, float]
    speaker_set: str = ""
    spk_id: str = ""
    gender: str = ""
    noise_type: str = ""
    continuous: bool = False  # speech for babble: short edge silences and pauses


@dataclasses.dataclass
class _Result:
    key: str
    path: str
    num_samples: int
    words: list[str] | None = None
    frame_phones: list[str] | None = None


_LEXICON: list[lx.Word] | None = None


def _lexicon() -> list[lx.Word]:
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = lx.make_lexicon()
    return _LEXICON


def _render(item: _Item, wav_dir: str) -> _Result:
    path = os.path.join(wav_dir, item.dataset, item.key + ".wav")
    if item.kind == "speech":
        speaker = sp.make_speaker(item.spk_id, item.gender,
                                  sp.stream(item.seed, item.speaker_set, item.index, sp.KIND_SPEAKER))
        rng = sp.stream(item.seed, item.stream, item.index, sp.KIND_UTTERANCE, item.sub)
        session = sp.make_session(rng, item.channel_eq_db, item.snr)
        duration = rng.uniform(item.min_duration, item.max_duration)
        if item.continuous:
            plan = synth.plan_utterance(rng, speaker, session, _lexicon(), duration, edge_silence=(0.05, 0.2),
                                        pause=(0.1, 0.3))
        else:
            plan = synth.plan_utterance(rng, speaker, session, _lexicon(), duration)
        x = synth.synthesize(plan, speaker, session, rng)
        y = synth.apply_channel(x, plan.speech_mask(), session.channel, rng)
        write_wav(path, np.rint(y), SAMPLE_RATE)
        return _Result(item.key, path, y.shape[0], plan.words, plan.frame_phones())
    rng = sp.stream(item.seed, item.stream, item.index, sp.KIND_UTTERANCE, item.sub)
    n = FRAME_SHIFT * int(round(rng.uniform(item.min_duration, item.max_duration) * SAMPLE_RATE / FRAME_SHIFT))
    x = noises.make_music(rng, n) if item.kind == "music" else noises.make_noise(item.noise_type, rng, n)
    y = x * 32767.0 * 10.0 ** (rng.uniform(-32.0, -20.0) / 20.0)
    peak = np.max(np.abs(y))
    if peak > synth.PEAK_LIMIT:
        y *= synth.PEAK_LIMIT / peak
    write_wav(path, np.rint(y), SAMPLE_RATE)
    return _Result(item.key, path, n)


def _render_job(args: tuple[_Item, str]) -> _Result:
    return _render(*args)


def _speech_items(config: DemoConfig, seed: int) -> list[_Item]:
    snr = (config.snr_min, config.snr_max)
    common = dict(seed=seed, channel_eq_db=config.channel_eq_db, snr=snr, kind="speech")
    items: list[_Item] = []

    def speakers(prefix: str, count: int) -> Iterable[tuple[int, str, str]]:
        for i in range(count):
            yield i, f"{prefix}{i + 1:04d}", "f" if i % 2 == 0 else "m"

    for i, spk, g in speakers("asr", config.asr_speakers):
        for j in range(config.asr_utts_per_speaker):
            items.append(_Item("demo_asr", f"{spk}-{j + 1:03d}", stream="asr", index=i, sub=j,
                               min_duration=config.asr_min_duration, max_duration=config.asr_max_duration,
                               speaker_set="asr", spk_id=spk, gender=g, **common))
    for i, spk, g in speakers("trn", config.train_speakers):
        for j in range(config.train_utts_per_speaker):
            items.append(_Item("demo_train", f"{spk}-{j + 1:03d}", stream="train", index=i, sub=j,
                               min_duration=config.train_min_duration, max_duration=config.train_max_duration,
                               speaker_set="train", spk_id=spk, gender=g, **common))
    for i, spk, g in speakers("evl", config.eval_speakers):
        for j in range(config.enroll_utts_per_speaker):
            items.append(_Item("demo_enroll", f"{spk}-enr{j + 1:02d}", stream="enroll", index=i, sub=j,
                               min_duration=config.eval_min_duration, max_duration=config.eval_max_duration,
                               speaker_set="eval", spk_id=spk, gender=g, **common))
        for j in range(config.test_utts_per_speaker):
            items.append(_Item("demo_test", f"{spk}-tst{j + 1:02d}", stream="test", index=i, sub=j,
                               min_duration=config.eval_min_duration, max_duration=config.eval_max_duration,
                               speaker_set="eval", spk_id=spk, gender=g, **common))
    for i, spk, g in speakers("speech-", config.speech_recordings):
        items.append(_Item("demo_speech", spk, stream="babble", index=i, sub=0,
                           min_duration=config.speech_min_duration, max_duration=config.speech_max_duration,
                           speaker_set="babble", spk_id=spk, gender=g, continuous=True, **common))
    return items


def _source_items(config: DemoConfig, seed: int) -> list[_Item]:
    common = dict(seed=seed, channel_eq_db=config.channel_eq_db, snr=(config.snr_min, config.snr_max), sub=0)
    items = []
    for i in range(config.noise_recordings):
        kind = noises.NOISE_TYPES[i % len(noises.NOISE_TYPES)]
        items.append(_Item("demo_noise", f"noise-{i + 1:04d}-{kind}", kind="noise", stream="noise", index=i,
                           min_duration=config.noise_min_duration, max_duration=config.noise_max_duration,
                           noise_type=kind, **common))
    for i in range(config.music_recordings):
        items.append(_Item("demo_music", f"music-{i + 1:04d}", kind="music", stream="music", index=i,
                           min_duration=config.music_min_duration, max_duration=config.music_max_duration,
                           **common))
    return items


# ------------------------------------------------------------------------------------------------ writing


def _duration(num_samples: int) -> str:
    return f"{num_samples / SAMPLE_RATE:g}"  # Kaldi prints floats with 6 significant digits


def _write_data_dir(path: str, items: list[_Item], results: dict[str, _Result]) -> None:
    keys = [it.key for it in items]
    write_map(os.path.join(path, "wav.scp"), {k: results[k].path for k in keys})
    utt2spk = {it.key: (it.spk_id or it.key) for it in items}
    write_map(os.path.join(path, "utt2spk"), utt2spk)
    write_list_map(os.path.join(path, "spk2utt"), utt2spk_to_spk2utt(utt2spk))
    durations = {k: _duration(results[k].num_samples) for k in keys}
    write_map(os.path.join(path, "utt2dur"), durations)
    write_map(os.path.join(path, "reco2dur"), durations)
    speech = [it for it in items if it.kind == "speech" and not it.continuous]
    if speech:
        write_map(os.path.join(path, "text"), {it.key: " ".join(results[it.key].words or []) for it in speech})
        write_map(os.path.join(path, "spk2gender"), {it.spk_id: it.gender for it in speech})


def _write_alignment(path: str, items: list[_Item], results: dict[str, _Result]) -> None:
    table = lx.phone_table()
    atomic_write_text(os.path.join(path, "phones.txt"),
                      "".join(f"{sym} {i}\n" for sym, i in sorted(table.items(), key=lambda kv: kv[1])))
    ali = {it.key: [str(table[p]) for p in results[it.key].frame_phones or []] for it in items}
    write_list_map(os.path.join(path, "phone_ali.txt"), ali)


def _write_trials(path: str, enroll: list[_Item], test: list[_Item]) -> list[str]:
    models = c_sorted({it.spk_id for it in enroll})
    lines = [f"{m} {t.key} {'target' if t.spk_id == m else 'nontarget'}" for m in models for t in test]
    lines = c_sorted(lines)
    atomic_write_text(os.path.join(path, "trials"), "".join(line + "\n" for line in lines))
    return lines


@dataclasses.dataclass
class SetSummary:
    name: str
    speakers: int
    recordings: int
    seconds: float


def make_demo_corpus(data_root: str | os.PathLike, wav_dir: str | os.PathLike, config: DemoConfig | None = None,
                     seed: int = DEFAULT_SEED, num_jobs: int = 1,
                     progress: Callable[[Iterable[_Result], int], Iterable[_Result]] | None = None,
                     sources_only: bool = False) -> list[SetSummary]:
    """Generates the demo corpus (see the module docstring for the layout); returns a summary per data dir.

    ``sources_only`` writes only the augmentation sources (demo_noise, demo_music, demo_speech): the noise sets
    of a real corpus's recipe when no MUSAN is given.

    ``num_jobs`` > 1 renders recordings in that many processes (same output). ``progress`` optionally wraps the
    stream of finished recordings (e.g. ``lambda it, n: tqdm(it, total=n)``).
    """
    config = config or DemoConfig()
    config.validate()
    if seed < 0:
        raise ValueError(f"--seed={seed}: must be non-negative")
    data_root = os.path.abspath(data_root)
    wav_dir = os.path.abspath(wav_dir)
    items = _speech_items(config, seed) + _source_items(config, seed)
    if sources_only:
        items = [it for it in items if it.dataset in ("demo_noise", "demo_music", "demo_speech")]
    for name in {it.dataset for it in items}:
        os.makedirs(os.path.join(wav_dir, name), exist_ok=True)

    jobs = [(it, wav_dir) for it in items]
    if num_jobs > 1:
        with concurrent.futures.ProcessPoolExecutor(max_workers=num_jobs) as pool:
            stream = pool.map(_render_job, jobs, chunksize=8)
            results_list = list(progress(stream, len(jobs)) if progress else stream)
    else:
        stream = map(_render_job, jobs)
        results_list = list(progress(stream, len(jobs)) if progress else stream)
    results = {r.key: r for r in results_list}

    by_set: dict[str, list[_Item]] = {}
    for it in items:
        by_set.setdefault(it.dataset, []).append(it)
    summaries = []
    names = ["demo_noise", "demo_music", "demo_speech"]
    if not sources_only:
        names = ["demo_asr", "demo_train", "demo_enroll", "demo_test"] + names
    for name in names:
        set_items = by_set[name]
        path = os.path.join(data_root, name)
        _write_data_dir(path, set_items, results)
        summaries.append(SetSummary(name, len({it.spk_id or it.key for it in set_items}), len(set_items),
                                    sum(results[it.key].num_samples for it in set_items) / SAMPLE_RATE))
    if sources_only:
        return summaries
    _write_alignment(os.path.join(data_root, "demo_asr"), by_set["demo_asr"], results)
    _write_trials(os.path.join(data_root, "demo_test"), by_set["demo_enroll"], by_set["demo_test"])
    lx.write_dict_dir(os.path.join(data_root, "local", "dict_demo"), _lexicon())
    return summaries
