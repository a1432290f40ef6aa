"""The in-process pipeline: audio tables (paths, pipes, segments, wav archives, flac), bad input skipped and
named, the failure limit with nothing left behind, VAD in the same pass, real recordings."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from phonsid.features import (
    FeatureFailure,
    KnfMfcc,
    Mfcc,
    compute_feature_table,
    iter_wav_rspecifier,
    read_mfcc_config,
)
from phonsid.features.options import MfccOptions, VadEnergyOptions
from phonsid.features.pipeline import SampleRateMismatch
from phonsid.io import read_table
from phonsid.io.wav import write_wav


def _opts(rate=8000) -> MfccOptions:
    o = MfccOptions()
    o.frame_opts.samp_freq, o.frame_opts.dither, o.frame_opts.snip_edges = rate, 0.0, False
    o.mel_opts.high_freq, o.num_ceps = 3700 if rate == 8000 else 7600, 20
    return o


def _speech(seconds=1.0, rate=8000, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = (np.sin(2 * np.pi * 2 * t) > 0).astype(float) * 3000 + 30  # loud / quiet halves
    return np.round(envelope * np.sin(2 * np.pi * 300 * t) + rng.standard_normal(t.size) * 20)


@pytest.fixture()
def audio_dir(tmp_path: Path) -> Path:
    d = tmp_path / "audio"
    d.mkdir()
    write_wav(d / "good.wav", _speech(), 8000)
    write_wav(d / "good2.wav", _speech(0.5, seed=1), 8000)
    write_wav(d / "stereo.wav", np.stack([_speech(seed=2), _speech(seed=3)]), 8000)
    write_wav(d / "short.wav", _speech()[:30], 8000)  # 30 samples: less than half a frame shift
    write_wav(d / "rate16k.wav", _speech(rate=16000), 16000)
    (d / "empty.wav").write_bytes(b"")
    (d / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    nan = (_speech() / 32768).astype(np.float32)
    nan[100] = np.nan
    soundfile.write(d / "nan.wav", nan, 8000, subtype="FLOAT")
    return d


def _scp(path: Path, entries: dict[str, str]) -> str:
    path.write_text("".join(f"{k} {v}\n" for k, v in sorted(entries.items())))
    return f"scp:{path}"


def test_bad_input_is_skipped_and_named(audio_dir, tmp_path, caplog):
    import logging

    d = audio_dir
    wav = _scp(tmp_path / "wav.scp", {
        "a-good": str(d / "good.wav"), "b-pipe": f"cat {d / 'good2.wav'} |", "c-stereo": str(d / "stereo.wav"),
        "d-empty": str(d / "empty.wav"), "e-corrupt": str(d / "corrupt.wav"), "f-short": str(d / "short.wav"),
        "g-nan": str(d / "nan.wav"), "h-failpipe": "false |", "i-missing": str(d / "nope.wav")})
    log = logging.getLogger("test_pipeline")
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="test_pipeline"):
        stats = compute_feature_table(
            iter_wav_rspecifier(wav), Mfcc(_opts()), f"ark,scp:{out}.ark,{out}.scp",
            vad_opts=VadEnergyOptions(5.5, 0.5), vad_wspecifier=f"ark,scp:{out}_vad.ark,{out}_vad.scp",
            num_frames_wspecifier=f"ark,t:{out}.len", max_failed_fraction=0.9, logger=log)
    assert stats.num_utts == 9 and stats.num_done == 3 and stats.num_failed == 6
    assert sorted(stats.failed) == ["d-empty", "e-corrupt", "f-short", "g-nan", "h-failpipe", "i-missing"]
    for utt in stats.failed:  # every skipped utterance is named in a warning
        assert any(utt in r.getMessage() for r in caplog.records), utt
    assert any("2 channels" in r.getMessage() for r in caplog.records)
    feats = read_table(f"scp:{out}.scp")
    vad = read_table(f"scp:{out}_vad.scp", "vector")
    lengths = read_table(f"ark:{out}.len", "int")
    assert list(feats) == ["a-good", "b-pipe", "c-stereo"] == list(vad) == list(lengths)
    assert feats["a-good"].shape == (100, 20) and feats["b-pipe"].shape == (50, 20) and lengths["b-pipe"] == 50
    assert 0.3 < vad["a-good"].mean() < 0.7  # loud half voiced, quiet half not
    assert np.allclose(feats["a-good"], Mfcc(_opts()).compute(_speech()), atol=1e-4)


def test_too_many_failures_leave_nothing_behind(audio_dir, tmp_path):
    d = audio_dir
    wav = _scp(tmp_path / "wav.scp", {"a": str(d / "good.wav"), "b": str(d / "empty.wav"), "c": "false |"})
    out = tmp_path / "out"
    with pytest.raises(FeatureFailure, match="2 of 3 utterances failed"):
        compute_feature_table(iter_wav_rspecifier(wav), Mfcc(_opts()), f"ark,scp:{out}.ark,{out}.scp",
                              vad_opts=VadEnergyOptions(), vad_wspecifier=f"ark:{out}_vad.ark",
                              max_failed_fraction=0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "wav.scp"]  # no ark, scp or temp file


@pytest.mark.parametrize("engine, scale", [(Mfcc, 1e16), (KnfMfcc, 1e16), (KnfMfcc, 1e35)])
def test_utterance_whose_features_come_out_non_finite_is_skipped_and_named(audio_dir, tmp_path, caplog, engine,
                                                                         scale):
    # finite samples so large that the energies overflow: NaN/inf features (numpy engine, kaldi-native-fbank at
    # 1e16) are refused by the table writer; kaldi-native-fbank fails outright at 1e35 ("mel energy is nan")
    import logging

    huge = (_speech() / 32768 * scale).astype(np.float32)
    soundfile.write(audio_dir / "huge.wav", huge, 8000, subtype="FLOAT")
    wav = _scp(tmp_path / "wav.scp", {"a": str(audio_dir / "good.wav"), "b-huge": str(audio_dir / "huge.wav"),
                                      "c": str(audio_dir / "good2.wav")})
    out = tmp_path / "out"
    log = logging.getLogger("test_pipeline")
    with caplog.at_level(logging.WARNING, logger="test_pipeline"), np.errstate(all="ignore"):
        stats = compute_feature_table(iter_wav_rspecifier(wav), engine(_opts()), f"ark,scp:{out}.ark,{out}.scp",
                                      vad_opts=VadEnergyOptions(), vad_wspecifier=f"ark:{out}_vad.ark",
                                      max_failed_fraction=0.5, logger=log)
    assert (stats.num_done, stats.failed) == (2, ["b-huge"])
    warning = next(r.getMessage() for r in caplog.records if "b-huge" in r.getMessage())
    if scale < 1e30 or engine is Mfcc:
        assert f"ark,scp:{out}.ark,{out}.scp: key 'b-huge': refusing to write non-finite values: " in warning
        assert " at row " in warning and ", column " in warning
    else:
        assert "kaldi-native-fbank: mel energy is nan" in warning
    assert list(read_table(f"scp:{out}.scp")) == ["a", "c"] == list(read_table(f"ark:{out}_vad.ark", "vector"))
    with pytest.raises(FeatureFailure, match="1 of 3 utterances failed.*b-huge"), np.errstate(all="ignore"):
        compute_feature_table(iter_wav_rspecifier(wav), engine(_opts()), f"ark:{tmp_path / 'x.ark'}",
                              max_failed_fraction=0.0)
    assert not (tmp_path / "x.ark").exists()


def test_sample_rate_mismatch_is_an_error(audio_dir, tmp_path):
    wav = _scp(tmp_path / "wav.scp", {"a": str(audio_dir / "good.wav"), "b": str(audio_dir / "rate16k.wav")})
    with pytest.raises(SampleRateMismatch, match="you specified 8000 but data has 16000.*Utterance is b"):
        compute_feature_table(iter_wav_rspecifier(wav), Mfcc(_opts()), f"ark:{tmp_path / 'x.ark'}")
    assert not (tmp_path / "x.ark").exists()
    opts = _opts()
    opts.frame_opts.allow_downsample = True
    stats = compute_feature_table(iter_wav_rspecifier(wav), Mfcc(opts), f"ark:{tmp_path / 'x.ark'}")
    assert stats.num_done == 2 and read_table(f"ark:{tmp_path / 'x.ark'}")["b"].shape == (100, 20)


def test_segments_channels_and_wav_archives(audio_dir, tmp_path):
    wav = _scp(tmp_path / "wav.scp", {"rec": str(audio_dir / "stereo.wav")})
    segments = tmp_path / "segments"
    segments.write_text("rec-0 rec 0.0 0.5\nrec-1 rec 0.25 1.0\n")
    out = tmp_path / "seg.ark"
    stats = compute_feature_table(iter_wav_rspecifier(wav, str(segments)), Mfcc(_opts()), f"ark:{out}", channel=1)
    feats = read_table(f"ark:{out}")
    assert stats.num_done == 2 and feats["rec-0"].shape == (50, 20) and feats["rec-1"].shape == (75, 20)
    right = _speech(seed=3)
    assert np.allclose(feats["rec-1"], Mfcc(_opts()).compute(right[2000:8000]), atol=1e-4)
    # a wav archive (key + RIFF bytes, as extract-segments writes) through a pipe
    ark = tmp_path / "wavs.ark"
    ark.write_bytes(b"u1 " + (audio_dir / "good.wav").read_bytes() + b"u2 " + (audio_dir / "good2.wav").read_bytes())
    got = [(u, w.num_samples) for u, w in iter_wav_rspecifier(f"ark:cat {ark} |")]
    assert got == [("u1", 8000), ("u2", 4000)]


def test_vtln_warp_per_utterance(audio_dir, tmp_path):
    wav = _scp(tmp_path / "wav.scp", {"a": str(audio_dir / "good.wav"), "b": str(audio_dir / "good2.wav"),
                                      "c": str(audio_dir / "good.wav")})
    warps = {"a": 0.9, "b": 1.1}
    out = tmp_path / "w.ark"
    stats = compute_feature_table(iter_wav_rspecifier(wav), Mfcc(_opts()), f"ark:{out}", vtln_warp=warps.get,
                                  max_failed_fraction=0.5)
    feats = read_table(f"ark:{out}")
    assert stats.failed == ["c"] and sorted(feats) == ["a", "b"]  # no warp factor for c
    assert np.allclose(feats["a"], Mfcc(_opts()).compute(_speech(), vtln_warp=0.9), atol=1e-4)
    assert not np.allclose(feats["a"], Mfcc(_opts()).compute(_speech()), atol=1e-2)


def test_dither_does_not_depend_on_batching(audio_dir, tmp_path):
    opts = _opts()
    opts.frame_opts.dither = 1.0
    wav = _scp(tmp_path / "wav.scp", {"a": str(audio_dir / "good.wav"), "b": str(audio_dir / "good2.wav")})
    outs = []
    for batch in (1, 100000):
        out = tmp_path / f"b{batch}.ark"
        compute_feature_table(iter_wav_rspecifier(wav), Mfcc(opts), f"ark:{out}", batch_frames=batch, dither_seed=7)
        outs.append(read_table(f"ark:{out}"))
    assert all(np.allclose(outs[0][k], outs[1][k], atol=1e-4) for k in "ab")
    clean = read_table(f"ark:{tmp_path / 'b1.ark'}")["a"]
    assert not np.array_equal(clean, Mfcc(_opts()).compute(_speech()))  # dither did something


def test_real_recordings_flac_and_wav(shared_data, tmp_path):
    """LibriSpeech flac (16 kHz, VoxCeleb config) and FSDD wav (8 kHz, SRE config), numpy vs kaldi-native-fbank."""
    flacs = [line.split() for line in (shared_data / "librispeech" / "wav.list").read_text().splitlines()
             if "test-other" in line][:3]
    wav = _scp(tmp_path / "flac.scp", {u: str(shared_data / rel) for u, rel in flacs})
    conf = Path(__file__).resolve().parents[2] / "conf" / "voxceleb" / "mfcc.conf"
    opts = read_mfcc_config(str(conf), ["--dither=0"])
    out = tmp_path / "flac.ark"
    stats = compute_feature_table(iter_wav_rspecifier(wav), Mfcc(opts), f"ark:{out}",
                                  vad_opts=VadEnergyOptions(5.5, 0.5, 2, 0.12), vad_wspecifier=f"ark:{out}.vad")
    assert stats.num_done == 3 and stats.seconds > 3
    feats = read_table(f"ark:{out}")
    knf, kaldi = KnfMfcc(opts), Mfcc(opts, kaldi_rounding="all")
    for i, (u, rel) in enumerate(flacs):
        x, rate = soundfile.read(shared_data / rel, dtype="int16")
        assert rate == 16000
        ref = knf.compute(x.astype(np.float32))
        assert feats[u].shape == ref.shape
        # two float32 FFTs: close on typical frames, apart on the few whose spectra span ten decades
        assert np.median(np.abs(feats[u] - ref).max(axis=1)) < 3e-4
        if i == 0:  # against the emulation of Kaldi's own rounding on every frame
            assert np.abs(feats[u] - kaldi.compute(x.astype(np.float32))).max() < 2e-3
    fsdd = [line.split() for line in (shared_data / "fsdd" / "wav.list").read_text().splitlines()[:5]]
    wav = _scp(tmp_path / "fsdd.scp", {u: str(shared_data / rel) for u, rel in fsdd})
    stats = compute_feature_table(iter_wav_rspecifier(wav), Mfcc(_opts()), f"ark:{tmp_path / 'fsdd.ark'}")
    assert stats.num_done == 5
    assert all(np.isfinite(f).all() and f.shape[1] == 20 for f in read_table(f"ark:{tmp_path / 'fsdd.ark'}").values())


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_sox_pipe(audio_dir, tmp_path):
    wav = _scp(tmp_path / "wav.scp", {"a": f"sox {audio_dir / 'rate16k.wav'} -r 8000 -t wav - |"})
    stats = compute_feature_table(iter_wav_rspecifier(wav), Mfcc(_opts()), f"ark:{tmp_path / 'x.ark'}")
    assert stats.num_done == 1 and read_table(f"ark:{tmp_path / 'x.ark'}")["a"].shape == (100, 20)
