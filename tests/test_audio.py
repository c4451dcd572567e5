"""Reading calls: formats, rates, channel layouts, and one clear error for bad input."""
import warnings
import numpy as np
import pytest
import soundfile as sf

from voicecoach.sources.audio import AudioError, AudioWarning, load_call


def tone(seconds, sr, f=220.0, amp=0.3):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


def test_stereo_left_is_agent_and_resampled(tmp_path):
    sr = 44100
    x = np.stack([tone(2, sr, amp=0.5), tone(2, sr, amp=0.1)], axis=1)
    sf.write(tmp_path / "c.wav", x, sr)
    call = load_call(tmp_path / "c.wav")
    assert call.customer is not None
    assert call.duration == pytest.approx(2.0, abs=0.01)
    assert np.abs(call.agent).max() == pytest.approx(0.5, abs=0.02)
    assert np.abs(call.customer).max() == pytest.approx(0.1, abs=0.02)
    swapped = load_call(tmp_path / "c.wav", agent_channel="right")
    assert np.abs(swapped.agent).max() == pytest.approx(0.1, abs=0.02)


def test_two_files_of_different_rates_and_lengths(tmp_path):
    sf.write(tmp_path / "a.flac", tone(3, 48000), 48000)
    sf.write(tmp_path / "b.ogg", tone(2, 8000), 8000)
    call = load_call(agent=tmp_path / "a.flac", customer=tmp_path / "b.ogg")
    assert len(call.agent) == len(call.customer) == pytest.approx(48000, abs=20)


def test_mono_file_is_the_agent_alone(tmp_path):
    sf.write(tmp_path / "m.wav", tone(1, 16000), 16000)
    call = load_call(tmp_path / "m.wav")
    assert call.customer is None and list(call.channels()) == ["agent"]


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("hello, I am not audio\n" * 100), "not an audio file"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: sf.write(p, np.zeros((16000, 2), np.float32), 16000), "silent"),
    (lambda p: sf.write(p, np.zeros((16000, 6), np.float32) + 0.1, 16000), "6 channels"),
    (lambda p: sf.write(p, tone(0.1, 16000), 16000), "too short"),
])
def test_bad_input_gets_one_clear_line(tmp_path, make, message):
    path = tmp_path / "call.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as err:
        load_call(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["text.flac", "text.mp3", "text.ogg"])
def test_a_short_text_file_named_as_audio_is_not_an_audio_file(tmp_path, name):
    """FFmpeg opens a few words of text named .flac and gives it a sample rate of 0: that
    is "not an audio file", not "sample rate 0 Hz is not a speech recording"."""
    path = tmp_path / name
    path.write_text("hello this is not audio\n")
    with pytest.raises(AudioError, match="not an audio file"):
        load_call(path)


def test_truncated_file_reads_what_is_there(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, np.stack([tone(2, 16000)] * 2, axis=1), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.warns(AudioWarning, match=r"ends at 0:01.0.*looks truncated"):
        call = load_call(path)
    assert 0.9 < call.duration < 1.1


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_call(tmp_path / "nope.wav")


def test_hours_of_silence_is_refused_before_decoding_everything(tmp_path):
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, subtype="PCM_U8") as f:
        block = np.zeros(8000 * 600, np.float32)
        for _ in range(25):            # 4 h 10 min
            f.write(block)
    with pytest.raises(AudioError, match="hours long"):
        load_call(path)


def test_one_voice_saved_as_stereo_is_said_and_a_real_call_is_not(tmp_path):
    """A stereo file whose two channels hold the same voice (a headset app saving mono as
    stereo) read as "you 100 %, caller 0 %" with no word why: the caller's side is
    cancelled as an echo of the agent's. It is now one warning line; the demo's two real
    sides, and a call whose caller side only echoes the agent, give none."""
    from voicecoach.analyze import demo_call_path

    x, sr = sf.read(demo_call_path(), dtype="float32")
    same = tmp_path / "same.wav"
    sf.write(same, np.c_[x[:, 0], 0.5 * x[:, 0]], sr)           # the same voice, one side quieter
    with pytest.warns(AudioWarning, match=r"both sides hold the same sound \(one voice saved as stereo, or the same file twice\?\)"):
        load_call(same)
    echo = tmp_path / "echo.wav"
    sf.write(echo, np.c_[x[:, 0], 0.1 * np.r_[np.zeros(1280, np.float32), x[:-1280, 0]]], sr)   # 80 ms line echo
    for path in (demo_call_path(), echo):
        with warnings.catch_warnings():
            warnings.simplefilter("error", AudioWarning)
            load_call(path)


def _dual_mono(tmp_path, lag, rate=16000, subtype="PCM_16", name="dm.wav", sign=1.0):
    """The demo's agent on both channels, the right one ``lag`` samples late."""
    from voicecoach.analyze import demo_call_path

    x, sr = sf.read(demo_call_path(), dtype="float32")
    a = x[:, 0]
    if rate != sr:
        import soxr
        a = soxr.resample(a, sr, rate).astype(np.float32)
    late = sign * np.r_[np.zeros(lag, np.float32), a[:len(a) - lag]]
    p = tmp_path / name
    sf.write(p, np.stack([a, late], 1), rate, subtype=subtype)
    return p


@pytest.mark.parametrize("lag, rate, subtype, sign", [(1, 16000, "PCM_16", 1.0), (1, 8000, "ULAW", 1.0),
                                                     (0, 16000, "PCM_16", -1.0)])
def test_one_voice_saved_as_stereo_a_sample_late_or_inverted_is_said(tmp_path, lag, rate, subtype, sign):
    """One channel a sample late (correlation 0.94 at 16 kHz, 0.88 at 8 kHz mu-law, at no
    lag) or inverted is still one voice saved twice (found by a helper's review)."""
    with pytest.warns(AudioWarning, match="both sides hold the same sound"):
        load_call(_dual_mono(tmp_path, lag, rate, subtype, sign=sign))
