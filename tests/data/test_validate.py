"""validate_data_dir: good dirs pass; each kind of bad dir gets one line naming the file, the line and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from helpers.datadir import read, write

from phonsid.data import DataDirError, validate_data_dir


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(DataDirError) as e:
        validate_data_dir(path, **kwargs)
    msg = str(e.value)
    assert "\n" not in msg, "errors must be one line"
    return msg


def test_good_dirs_pass(data_dir):
    d = data_dir(feats=True, vad=True, utt2dur=True, spk2gender=True, cmvn=True)
    assert validate_data_dir(d) == []
    s = data_dir(name="seg", segments=True)
    assert validate_data_dir(s, no_feats=True) == []


def test_required_files(data_dir):
    d = data_dir(text=False)
    msg = _error(d, no_feats=True)
    assert f"{d}/text: no such file" in msg and "--no-text" in msg
    msg = _error(d, no_text=True)
    assert "feats.scp: no such file" in msg and "--no-feats" in msg
    assert validate_data_dir(d, no_text=True, no_feats=True) == []
    (d / "wav.scp").unlink()
    assert "--no-wav" in _error(d, no_text=True, no_feats=True)
    assert validate_data_dir(d, no_text=True, no_feats=True, no_wav=True) == []


def test_unsorted_file(data_dir):
    d = data_dir()
    lines = read(d / "text")
    lines[2], lines[3] = lines[3], lines[2]
    write(d / "text", lines)
    msg = _error(d, no_feats=True)
    assert msg.startswith(f"{d}/text:4: not sorted")
    assert "'spkA-u03'" in msg and "'spkB-u01'" in msg and "line 3" in msg


def test_c_locale_order(data_dir):
    # In the C locale upper case sorts before lower case and '-' before digits; a dictionary order would not.
    d = data_dir({"B": 1, "a": 1})
    assert validate_data_dir(d, no_feats=True) == []
    write(d / "wav.scp", ["a-u01 /x.wav", "B-u01 /y.wav"])
    assert "wav.scp:2: not sorted" in _error(d, no_feats=True)


def test_duplicate_key(data_dir):
    d = data_dir(feats=True)
    lines = read(d / "feats.scp")
    write(d / "feats.scp", lines[:3] + [lines[2].replace(":", ":9")] + lines[3:])
    msg = _error(d)
    assert msg.startswith(f"{d}/feats.scp:4: duplicate key 'spkA-u03'") and "line 3" in msg


def test_utt2spk_spk2utt_mismatch(data_dir):
    d = data_dir()
    spk2utt = read(d / "spk2utt")
    # an utterance moved to another speaker in spk2utt
    write(d / "spk2utt", ["spkA spkA-u01 spkA-u02", "spkB spkA-u03 spkB-u01 spkB-u02", spk2utt[2]])
    msg = _error(d, no_feats=True)
    assert msg.startswith(f"{d}/spk2utt:2: utterance 'spkA-u03' is listed under speaker 'spkB'")
    assert "utt2spk line 3 gives speaker 'spkA'" in msg and "do not match" in msg
    # an utterance missing from spk2utt
    write(d / "spk2utt", ["spkA spkA-u01 spkA-u02"] + spk2utt[1:])
    msg = _error(d, no_feats=True)
    assert msg.startswith(f"{d}/utt2spk:3: utterance 'spkA-u03' (speaker 'spkA') is not listed in")
    # an utterance spk2utt has but utt2spk has not
    write(d / "spk2utt", [spk2utt[0] + " spkA-u09"] + spk2utt[1:])
    msg = _error(d, no_feats=True)
    assert msg.startswith(f"{d}/spk2utt:1: utterance 'spkA-u09' of speaker 'spkA' is not in")


def test_utt2spk_must_be_sorted_by_speaker_too(data_dir):
    d = data_dir({"s1": 1, "s2": 1})
    write(d / "utt2spk", ["u1 s2", "u2 s1"])
    write(d / "spk2utt", ["s1 u2", "s2 u1"])
    for name in ("text", "wav.scp"):
        write(d / name, ["u1 a", "u2 b"])
    msg = _error(d, no_feats=True)
    assert msg.startswith(f"{d}/utt2spk:2: not sorted by speaker") and "--no-spk-sort" in msg
    assert validate_data_dir(d, no_feats=True, no_spk_sort=True) == []


def test_key_sets_must_match(data_dir):
    d = data_dir(feats=True, vad=True)
    write(d / "vad.scp", read(d / "vad.scp")[:-1])
    msg = _error(d)
    assert msg.startswith(f"{d}/vad.scp: utterance 'spkC-u04' (line 9 of utt2spk) is missing")
    assert "1 utterance(s) of utt2spk missing, 0 not in utt2spk" in msg
    d = data_dir(name="e", feats=True)
    write(d / "feats.scp", read(d / "feats.scp") + ["zzz /feats/raw.ark:1"])
    assert _error(d).startswith(f"{d}/feats.scp:10: utterance 'zzz' is not in utt2spk")


def test_speaker_files(data_dir):
    d = data_dir(spk2gender=True)
    write(d / "spk2gender", ["spkA m", "spkB x", "spkC f"])
    assert _error(d, no_feats=True).startswith(f"{d}/spk2gender:2: expected '<speaker> <m|f>'")
    write(d / "spk2gender", ["spkA m", "spkC f"])
    assert "speaker 'spkB' (line 2 of spk2utt) is missing" in _error(d, no_feats=True)


def test_segments_and_recordings(data_dir):
    d = data_dir(segments=True)
    seg = read(d / "segments")
    write(d / "segments", seg[:1] + [seg[1].replace("rec-spkA", "rec-nope")] + seg[2:])
    assert _error(d, no_feats=True) == (f"{d}/segments:2: segment 'spkA-u02' refers to recording 'rec-nope' "
                                        f"which is not in {d}/wav.scp")
    write(d / "segments", seg[:1] + [seg[1].replace(" 1.50 3.00", " 3.00 1.50")] + seg[2:])
    assert _error(d, no_feats=True).startswith(f"{d}/segments:2: bad segment")
    write(d / "segments", seg)
    write(d / "wav.scp", read(d / "wav.scp") + ["rec-unused /audio/u.wav"])
    assert _error(d, no_feats=True).startswith(f"{d}/wav.scp:4: recording 'rec-unused' is not used by any segment")


def test_text_problems(data_dir):
    d = data_dir()
    lines = read(d / "text")
    write(d / "text", lines[:1] + [lines[1] + " <s>"] + lines[2:])
    assert _error(d, no_feats=True).startswith(f"{d}/text:2: utterance 'spkA-u02' contains the illegal symbol <s>")
    write(d / "text", lines[:1] + [lines[1] + " bad\x07bell"] + lines[2:])
    msg = _error(d, no_feats=True)
    assert msg.startswith(f"{d}/text:2: utterance 'spkA-u02' contains the non-printable character U+0007")
    assert validate_data_dir(d, no_feats=True, non_print=True) == []
    write(d / "text", lines[:1] + [lines[1] + "\u00a0x"] + lines[2:])
    assert "disallowed whitespace U+00A0" in _error(d, no_feats=True)


def test_blank_line_and_missing_newline(data_dir):
    d = data_dir()
    lines = read(d / "wav.scp")
    write(d / "wav.scp", lines[:2] + [""] + lines[2:])
    assert _error(d, no_feats=True) == f"{d}/wav.scp:3: empty line"
    (d / "wav.scp").write_text("\n".join(lines))
    assert _error(d, no_feats=True) == f"{d}/wav.scp:9: last line has no newline at the end"


def test_single_speaker_is_a_warning(data_dir):
    d = data_dir({"only": 2})
    warnings = validate_data_dir(d, no_feats=True)
    assert len(warnings) == 1 and "only one speaker" in warnings[0]


def _audio_dir(tmp_path: Path, data_dir, rates: dict[str, int]) -> Path:
    d = data_dir({"spkA": 1, "spkB": 1})
    wav = []
    for utt, rate in rates.items():
        p = tmp_path / f"{utt}.wav"
        soundfile.write(p, np.zeros(rate // 10, dtype=np.int16), rate, subtype="PCM_16")
        wav.append(f"{utt} {p}")
    write(d / "wav.scp", wav)
    return d


def test_missing_wav_file(tmp_path, data_dir):
    d = _audio_dir(tmp_path, data_dir, {"spkA-u01": 8000, "spkB-u01": 8000})
    assert validate_data_dir(d, no_feats=True, check_wavs=True, sample_rate=8000) == []
    missing = tmp_path / "spkB-u01.wav"
    missing.unlink()
    assert validate_data_dir(d, no_feats=True) == []  # not checked unless asked
    msg = _error(d, no_feats=True, check_wavs=True)
    assert msg == f"{d}/wav.scp:2: utterance 'spkB-u01': audio file '{missing}' does not exist"


def test_wrong_sample_rate(tmp_path, data_dir):
    d = _audio_dir(tmp_path, data_dir, {"spkA-u01": 8000, "spkB-u01": 16000})
    msg = _error(d, no_feats=True, sample_rate=8000)
    assert msg == (f"{d}/wav.scp:2: utterance 'spkB-u01': '{tmp_path}/spkB-u01.wav' has sample rate 16000 Hz, "
                   f"expected 8000 Hz")
    assert validate_data_dir(d, no_feats=True, check_wavs=True) == []  # any rate without --sample-rate


def test_pipes_are_not_opened(tmp_path, data_dir):
    d = _audio_dir(tmp_path, data_dir, {"spkA-u01": 8000, "spkB-u01": 8000})
    write(d / "wav.scp", [f"spkA-u01 {tmp_path}/spkA-u01.wav", "spkB-u01 false |"])
    assert validate_data_dir(d, no_feats=True, sample_rate=8000) == []


def test_segment_past_end_of_recording(tmp_path, data_dir):
    d = data_dir({"spkA": 2}, segments=True)
    p = tmp_path / "rec.wav"
    soundfile.write(p, np.zeros(8000 * 2, dtype=np.int16), 8000, subtype="PCM_16")  # 2 s, segments go to 3 s
    write(d / "wav.scp", [f"rec-spkA {p}"])
    msg = _error(d, no_feats=True, check_wavs=True)
    assert msg.startswith(f"{d}/segments:2: segment 'spkA-u02' ends at 3.00 s, past the end of recording 'rec-spkA'")
