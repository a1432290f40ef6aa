"""wav.scp reading: paths, pipes, segments, 16-bit scale, failures named."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from phonsid.io.wav import WavError, iter_wav_table, read_wav_spec, wav_bytes, write_wav


def _tone(n=8000, rate=8000):
    t = np.arange(n) / rate
    return np.round(10000 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_write_read_round_trip_in_16bit_scale(tmp_path):
    x = _tone()
    write_wav(tmp_path / "a.wav", x, 8000)
    w = read_wav_spec(str(tmp_path / "a.wav"))
    assert w.sample_rate == 8000 and w.data.shape == (1, 8000)
    np.testing.assert_array_equal(w.data[0], x)
    info = soundfile.info(str(tmp_path / "a.wav"))
    assert info.subtype == "PCM_16" and info.samplerate == 8000


def test_clipping_and_stereo(tmp_path):
    x = np.stack([np.full(10, 40000.0), np.full(10, -40000.0)])
    write_wav(tmp_path / "s.wav", x, 16000)
    w = read_wav_spec(str(tmp_path / "s.wav"))
    assert w.data.shape == (2, 10) and w.data.max() == 32767 and w.data.min() == -32768
    np.testing.assert_array_equal(w.channel(1), -32768)
    with pytest.raises(WavError, match="channel 2"):
        w.channel(2)


def test_pipe_and_flac_and_unknown_length_stream(tmp_path):
    x = _tone()
    write_wav(tmp_path / "a.wav", x, 8000)
    np.testing.assert_array_equal(read_wav_spec(f"cat {tmp_path}/a.wav |").data[0], x)
    soundfile.write(tmp_path / "a.flac", x / 32768.0, 8000, subtype="PCM_16")
    np.testing.assert_array_equal(read_wav_spec(str(tmp_path / "a.flac")).data[0], x)
    raw = bytearray(wav_bytes(x, 8000))
    raw[4:8] = b"\xff\xff\xff\xff"  # sizes unknown, as some tools write to pipes
    raw[40:44] = b"\xff\xff\xff\xff"
    (tmp_path / "p.wav").write_bytes(bytes(raw))
    np.testing.assert_array_equal(read_wav_spec(f"cat {tmp_path}/p.wav |").data[0], x)


def test_table_with_segments_and_failures(tmp_path):
    write_wav(tmp_path / "r1.wav", _tone(16000), 8000)
    (tmp_path / "wav.scp").write_text(f"r1 {tmp_path}/r1.wav\nr2 {tmp_path}/missing.wav\nr3 false |\n")
    got = dict(iter_wav_table(tmp_path / "wav.scp"))
    assert got["r1"].num_samples == 16000
    assert isinstance(got["r2"], WavError) and "missing.wav" in str(got["r2"]) and "r2" in str(got["r2"])
    assert isinstance(got["r3"], WavError) and "status 1" in str(got["r3"])
    (tmp_path / "segments").write_text("s1 r1 0.5 1.0\ns2 r1 1.5 -1\ns3 r1 1.9 9.0\ns4 r2 0 1\n")
    segs = dict(iter_wav_table(tmp_path / "wav.scp", tmp_path / "segments"))
    assert segs["s1"].num_samples == 4000 and segs["s2"].num_samples == 4000
    np.testing.assert_array_equal(segs["s1"].data[0], _tone(16000)[4000:8000])
    assert isinstance(segs["s3"], WavError) and "past the recording" in str(segs["s3"])
    assert isinstance(segs["s4"], WavError) and "s4" in str(segs["s4"])


def test_empty_and_corrupt_audio(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.wav").write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(WavError, match="empty"):
        read_wav_spec(str(tmp_path / "empty.wav"))
    with pytest.raises(WavError, match="junk.wav"):
        read_wav_spec(str(tmp_path / "junk.wav"))


@pytest.mark.parametrize("size, why", [(30, "the fmt chunk needs 16 bytes, found 10"), (36, "no data chunk"),
                                       (10, "not a RIFF/WAVE stream")])
def test_truncated_header_is_a_wav_error_naming_file_and_utterance(tmp_path, size, why):
    (tmp_path / "t.wav").write_bytes(wav_bytes(_tone(), 8000)[:size])
    with pytest.raises(WavError, match=f"t.wav: .*{why}"):
        read_wav_spec(str(tmp_path / "t.wav"))
    with pytest.raises(WavError, match=why):  # through a pipe too
        read_wav_spec(f"cat {tmp_path}/t.wav |")
    (tmp_path / "wav.scp").write_text(f"u1 {tmp_path}/t.wav\n")
    (utt, err), = iter_wav_table(tmp_path / "wav.scp")
    assert utt == "u1" and isinstance(err, WavError) and str(err).startswith(f"utterance u1: {tmp_path}/t.wav: ")


def test_data_shorter_than_the_header_promises_warns_and_reads_what_is_there(tmp_path, caplog):
    x = _tone()
    raw = wav_bytes(x, 8000)
    (tmp_path / "short.wav").write_bytes(raw[:44 + 2 * 3000 + 1])  # 3000 samples and half of one more
    with caplog.at_level("WARNING", logger="phonsid.io.wav"):
        w = read_wav_spec(str(tmp_path / "short.wav"))
        np.testing.assert_array_equal(w.data[0], x[:3000])
        assert f"{tmp_path}/short.wav: the wav header promises 8000 samples, found 3000; truncated file?" in caplog.text
        caplog.clear()
        streamed = bytearray(raw[:44 + 2 * 3000])  # unknown length (as written to a pipe): no warning
        streamed[40:44] = b"\xff\xff\xff\xff"
        (tmp_path / "stream.wav").write_bytes(bytes(streamed))
        np.testing.assert_array_equal(read_wav_spec(str(tmp_path / "stream.wav")).data[0], x[:3000])
        write_wav(tmp_path / "whole.wav", x, 8000)
        read_wav_spec(str(tmp_path / "whole.wav"))
        assert caplog.text == ""


def test_reads_real_librispeech_flac(shared_data):
    line = next(l for l in (shared_data / "librispeech" / "wav.list").read_text().splitlines() if l.strip())
    utt, rel = line.split()
    w = read_wav_spec(str(shared_data / rel))
    assert w.sample_rate == 16000 and w.duration > 1.0
    assert 100 < np.abs(w.data).max() <= 32768
