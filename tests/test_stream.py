"""`analyze` reads a call block by block and transcribes it in pieces.

The stream must give the same 16 kHz channels as loading the whole file (every
format, rate and layout `load_call` takes), and a call transcribed in pieces cut at
pauses must read as the call transcribed whole.
"""
import numpy as np
import pytest
import soundfile as sf

from voicecoach.analyze import analyze_call, analyze_stream, demo_call_path
from voicecoach.config import Config
from voicecoach.sources.audio import AudioError, load_call
from voicecoach.sources.stream import open_call_stream


def tone_call(seconds=23.3, sr=44100):
    t = np.arange(int(seconds * sr)) / sr
    a = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    c = 0.2 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 0.5 * t) <= 0)
    return np.stack([a, c], axis=1).astype(np.float32), sr


def streamed(stream):
    blocks = list(stream)
    assert all(len(b[ch]) == len(b["agent"]) for b in blocks for ch in stream.channels)
    return {ch: np.concatenate([b[ch] for b in blocks]) for ch in stream.channels}


@pytest.mark.parametrize("fmt,sub,sr", [("WAV", "PCM_16", 16000), ("WAV", "FLOAT", 44100),
                                         ("FLAC", "PCM_24", 48000), ("OGG", "VORBIS", 22050)])
def test_stream_matches_the_whole_file(tmp_path, fmt, sub, sr):
    audio, _ = tone_call(sr=sr)
    path = tmp_path / f"call.{fmt.lower()}"
    sf.write(path, audio, sr, format=fmt, subtype=sub)
    whole = load_call(path, agent_channel="right")
    stream = open_call_stream(path, agent_channel="right", block_s=3.0)
    got = streamed(stream)
    stream.finish()
    assert stream.channels == ("agent", "customer")
    assert abs(len(got["agent"]) - len(whole.agent)) <= 2
    n = min(len(got["agent"]), len(whole.agent))
    for ch, x in whole.channels().items():
        assert np.max(np.abs(got[ch][:n] - x[:n])) < 2e-3, ch
    assert abs(stream.duration - whole.duration) < 1e-3


def test_stream_of_a_format_libsndfile_cannot_read(tmp_path):
    av = pytest.importorskip("av")
    audio, sr = tone_call(seconds=6.0, sr=48000)
    path = tmp_path / "call.m4a"
    with av.open(str(path), "w") as out:
        s = out.add_stream("aac", rate=sr, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T), format="fltp", layout="stereo")
        frame.sample_rate = sr
        for packet in s.encode(frame):
            out.mux(packet)
        for packet in s.encode(None):
            out.mux(packet)
    whole = load_call(path)
    got = streamed(open_call_stream(path))
    n = min(len(got["agent"]), len(whole.agent))
    assert abs(len(got["agent"]) - len(whole.agent)) < 160
    assert np.max(np.abs(got["agent"][:n] - whole.agent[:n])) < 2e-3


def test_two_files_of_different_length_and_rate(tmp_path):
    audio, sr = tone_call(seconds=7.0)
    sf.write(tmp_path / "a.wav", audio[:, 0], sr)
    sf.write(tmp_path / "b.flac", audio[: 4 * sr, 1], sr)
    got = streamed(open_call_stream(agent=tmp_path / "a.wav", customer=tmp_path / "b.flac", block_s=2.0))
    whole = load_call(agent=tmp_path / "a.wav", customer=tmp_path / "b.flac")
    assert len(got["agent"]) == len(got["customer"]) and abs(len(got["agent"]) - len(whole.agent)) <= 2
    assert np.abs(got["customer"][5 * 16000:]).max() == 0.0          # the shorter side, padded


def test_refusals_are_one_line(tmp_path):
    sf.write(tmp_path / "quiet.wav", np.zeros((16000, 2), np.float32), 16000)
    stream = open_call_stream(tmp_path / "quiet.wav")
    list(stream)
    with pytest.raises(AudioError, match="silent"):
        stream.finish()
    sf.write(tmp_path / "six.wav", np.zeros((1600, 6), np.float32), 16000)
    with pytest.raises(AudioError, match="6 channels"):
        open_call_stream(tmp_path / "six.wav")
    bad = np.full((32000, 2), 0.1, np.float32)
    bad[20000] = np.nan
    sf.write(tmp_path / "nan.wav", bad, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        list(open_call_stream(tmp_path / "nan.wav"))


def test_a_call_transcribed_in_pieces_reads_as_the_whole(monkeypatch):
    """The demo call (74 s) in 20 s pieces: several cuts, each where a model call of the
    whole call's plan begins (10 s of packed speech per call here), the same words."""
    import voicecoach.analyze as analyze

    config = Config()
    config.transcribe.max_pack_s = 10.0
    whole = analyze_call(load_call(demo_call_path()), config)
    calls = []
    real = analyze.transcribe_channel

    def counted(model, ch, audio, segments, *args, offset_s=0.0):
        calls.append((ch, offset_s, len(audio) / 16000))
        return real(model, ch, audio, segments, *args, offset_s=offset_s)

    monkeypatch.setattr(analyze, "transcribe_channel", counted)
    config.transcribe.piece_s = 20.0
    pieces = analyze_stream(open_call_stream(demo_call_path()), config)
    agent_pieces = [c for c in calls if c[0] == "agent"]
    assert len(agent_pieces) >= 3, calls                  # cut into pieces, each kept short
    assert max(c[2] for c in calls) < 3 * 20.0 + 10.0, calls
    for ch in ("agent", "customer"):
        a = " ".join(p["text"] for p in whole["transcript"] if p["channel"] == ch).split()
        b = " ".join(p["text"] for p in pieces["transcript"] if p["channel"] == ch).split()
        from difflib import SequenceMatcher

        same = SequenceMatcher(None, a, b).ratio()
        assert same > 0.93, (ch, " ".join(a), " ".join(b))
    assert pieces["duration"] == whole["duration"]
    assert pieces["interruptions"] == whole["interruptions"]
    # every word on the call clock, in order, within the call
    words = [w for p in pieces["transcript"] for w in p["words"] if p["channel"] == "agent"]
    assert all(0 <= w["start"] <= w["end"] <= pieces["duration"] for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def test_the_record_does_not_depend_on_how_fast_the_pieces_are_transcribed(monkeypatch):
    """Pieces are transcribed in the background while the audio analysis goes on: a slow
    machine (here each piece's decode made 1.5 s slower) gives the same record."""
    import time

    import voicecoach.analyze as analyze

    config = Config()
    config.transcribe.piece_s = 20.0
    fast = analyze_stream(open_call_stream(demo_call_path()), config)
    real = analyze.transcribe_channel

    def slow(*args, **kwargs):
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(analyze, "transcribe_channel", slow)
    slowed = analyze_stream(open_call_stream(demo_call_path()), config)
    fast.pop("created"), slowed.pop("created")
    assert slowed == fast


def test_a_recording_longer_than_a_day_is_refused_before_decoding(tmp_path):
    """The header of a 25-hour WAV (a sparse file: no disk used) is enough to refuse it."""
    from voicecoach.sinks.recorder import _header

    path = tmp_path / "long.wav"
    n = 25 * 3600 * 16000
    with open(path, "wb") as f:
        f.write(_header(1, n))
        f.truncate(44 + 2 * n)
    with pytest.raises(AudioError, match="25.0 hours long") as said:
        open_call_stream(path)
    assert "reads up to" not in str(said.value)            # analyze's own limit: nowhere else to go


@pytest.mark.parametrize("fmt,sub,cut", [("FLAC", "PCM_16", 0.5), ("WAV", "PCM_16", 0.5),
                                         ("OGG", "VORBIS", 0.9), ("FLAC", "PCM_16", 200)])
def test_a_damaged_file_streams_as_read_audio_reads_it(tmp_path, fmt, sub, cut):
    """The stream makes read_audio's checks: the good part with the same one warning
    (where it ends), or the same one-line refusal when nothing decodes."""
    from voicecoach.sources.audio import AudioWarning, read_audio

    audio, sr = tone_call(seconds=12.0, sr=44100)
    path = tmp_path / f"call.{fmt.lower()}"
    sf.write(path, audio, sr, format=fmt, subtype=sub)
    data = path.read_bytes()
    path.write_bytes(data[: cut if isinstance(cut, int) else int(len(data) * cut)])
    if isinstance(cut, int):                                # cut inside the first frame
        with pytest.raises(AudioError) as whole_exc:
            read_audio(path)
        with pytest.raises(AudioError) as streamed_exc:
            list(open_call_stream(path))
        assert str(streamed_exc.value) == str(whole_exc.value)
        assert "damaged from the start" in str(whole_exc.value)
        return
    with pytest.warns(AudioWarning) as whole_said:
        whole, _ = read_audio(path)
    stream = open_call_stream(path)
    with pytest.warns(AudioWarning) as stream_said:
        streamed(stream)
    stream.finish()
    assert [str(w.message) for w in stream_said] == [str(w.message) for w in whole_said]
    assert "looks truncated" in str(stream_said[0].message)
    assert abs(stream.duration - len(whole) / sr) < 1e-3
    assert 0.4 * 12.0 < stream.duration < 12.0


def test_analyze_takes_longer_recordings_than_the_whole_file_readers(tmp_path):
    """One header check, two limits: 5 hours is refused read whole (review, report),
    taken by the stream (analyze)."""
    from voicecoach.sinks.recorder import _header

    path = tmp_path / "shift.wav"
    n = 5 * 3600 * 16000
    with open(path, "wb") as f:
        f.write(_header(1, n))
        f.truncate(44 + 2 * n)
    with pytest.raises(AudioError, match="5.0 hours long; a recording longer than 4 hours .*wrong file; "
                                         "`voicecoach analyze` reads up to 24 hours"):
        load_call(path)
    assert open_call_stream(path).duration_hint == 5 * 3600


def test_a_calls_two_sides_given_as_one_side_are_refused_not_mixed(tmp_path):
    """`analyze --agent call.wav` with a stereo call (agent left, caller right) would count
    both voices as the agent's; a side recorded in stereo (one voice on both channels, a
    little quieter and later on one) is mixed down as before."""
    call, sr = sf.read(demo_call_path(), dtype="float32")
    sf.write(tmp_path / "call.wav", call, sr)
    one = call[:, 0]
    sf.write(tmp_path / "headset.wav", np.stack([one, 0.7 * np.roll(one, 3)], axis=1), sr)
    hiss = (10 ** (-55 / 20) * np.random.default_rng(0).standard_normal(len(one))).astype(np.float32)
    sf.write(tmp_path / "hissing.wav", np.stack([one, hiss], axis=1), sr)     # a dead channel that hisses
    up = np.repeat(call, 3, axis=0)                                           # 48 kHz: judged in seconds
    sf.write(tmp_path / "call48.wav", up, 48000)
    for read in (lambda p: list(open_call_stream(agent=p)), lambda p: load_call(agent=p)):
        for refused in ("call.wav", "call48.wav"):
            with pytest.raises(AudioError, match="take turns like a call's two sides") as err:
                read(tmp_path / refused)
            assert "\n" not in str(err.value)
        for one_voice in ("headset.wav", "hissing.wav"):
            read(tmp_path / one_voice)
    mixed = load_call(agent=tmp_path / "headset.wav").agent
    assert np.corrcoef(mixed[:len(one)], one)[0, 1] > 0.95


def test_a_clipped_side_and_a_dead_caller_are_one_warning_each_read_whole_or_streamed(tmp_path):
    """A recording made too loud (a tenth of its samples at full scale), a caller's side
    with no sound at all, or the agent's (a muted mic: it was analysed as a call where the
    agent said nothing, with no word of why) analyses, with one warning line saying so;
    an ordinary call gives none."""
    import warnings

    from voicecoach.sources.audio import AudioWarning, load_call
    from voicecoach.sources.stream import open_call_stream

    rng = np.random.default_rng(3)
    t = np.arange(10 * 16000) / 16000
    voice = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32)
    caller = (0.05 * rng.standard_normal(len(t))).astype(np.float32)
    cases = {"ordinary": (voice, caller, []),
             "clipped": (np.clip(voice * 8, -1, 1), caller, ["your side is clipped"]),
             "dead": (voice, np.zeros_like(caller), ["no sound at all on the caller's side"]),
             "muted": (np.zeros_like(voice), caller, ["no sound at all on your side"])}
    for name, (a, c, expected) in cases.items():
        path = tmp_path / f"{name}.wav"
        sf.write(path, np.stack([a, c], axis=1), 16000)
        for read in (load_call, lambda p: _all_blocks(open_call_stream(p))):
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always", AudioWarning)
                read(path)
            lines = [str(w.message) for w in said if issubclass(w.category, AudioWarning)]
            assert len(lines) == len(expected) and all(e in line for e, line in zip(expected, lines)), (name, lines)


def test_a_calls_two_files_of_different_lengths_are_one_warning_read_whole_or_streamed(tmp_path):
    """`--agent me.wav --customer them.wav`, 1:14 beside 0:30: the caller was taken as silent
    after 0:30 (talk share 24 %, not 39 %) with no word of why. Files a second apart say nothing."""
    import warnings

    from voicecoach.sources.audio import AudioWarning, load_call
    from voicecoach.sources.stream import open_call_stream

    rng = np.random.default_rng(4)
    def side(seconds):
        return (0.05 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)
    for name, seconds in (("me.wav", 74.0), ("them.wav", 30.2), ("near.wav", 73.0)):
        sf.write(tmp_path / name, side(seconds), 16000)
    cut = tmp_path / "cut.wav"                     # a file cut short says so once, not twice
    data = (tmp_path / "them.wav").read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    for customer, expected in (("them.wav", ["the caller is taken as silent after 0:30"]), ("near.wav", []),
                               ("cut.wav", ["it looks truncated"])):
        for read in (lambda a, c: load_call(agent=a, customer=c),
                     lambda a, c: _all_blocks(open_call_stream(agent=a, customer=c))):
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always", AudioWarning)
                read(tmp_path / "me.wav", tmp_path / customer)
            lines = [str(w.message) for w in said if issubclass(w.category, AudioWarning)]
            assert len(lines) == len(expected) and all(e in line for e, line in zip(expected, lines)), lines


def _all_blocks(stream):
    for _ in stream:
        pass
    stream.finish()
