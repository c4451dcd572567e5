"""Windowed encoding with the real tiny.en model: the patch in ``load_model`` only works
while faster-whisper encodes every window through ``self.encode``; these tests see
what reaches the real encoder during real transcriptions."""
from __future__ import annotations

import numpy as np
import pytest

from voicecoach.analyze import demo_call_path
from voicecoach.analyzers.vad import VoiceActivity
from voicecoach.events import SAMPLE_RATE
from voicecoach.sources.audio import load_call
from voicecoach.stt.offline import transcribe_channel
from voicecoach.stt.streaming import StreamingOptions, StreamingTranscriber, normalize_word
from voicecoach.stt.whisper import WINDOW_FRAMES, TranscribeOptions, encoded_frames, load_model


@pytest.fixture(scope="module")
def greeting() -> np.ndarray:
    """The demo call's first agent turn (0.6-5.3 s: "Thank you for calling Northwind
    Broadband, my name is Dana, how can I help you today?") with silence around it."""
    agent = load_call(demo_call_path()).agent
    return agent[:int(6.0 * SAMPLE_RATE)].copy()


@pytest.fixture
def encoder_inputs(monkeypatch):
    """Shapes of the features each real ``WhisperModel.encode`` call receives (the real
    encoder still runs). Installed before the model is loaded, as the patch captures
    the bound method when it wraps it."""
    from faster_whisper import WhisperModel

    shapes = []
    real = WhisperModel.encode

    def encode(self, features):
        shapes.append(tuple(features.shape))
        return real(self, features)

    monkeypatch.setattr(WhisperModel, "encode", encode)
    return shapes


def stream(model, audio: np.ndarray) -> list[str]:
    """The live path: 20 ms blocks with voice activity into a StreamingTranscriber."""
    st = StreamingTranscriber(model, "agent", StreamingOptions(), TranscribeOptions())
    va = VoiceActivity()
    words = []
    for i in range(0, len(audio), 320):
        block = audio[i:i + 320]
        va.feed(block)
        st.insert_audio(i / SAMPLE_RATE, block, va.speaking)
        words += st.process()
    words += st.finish()
    return [normalize_word(w.text) for w in words]


def test_live_model_encodes_only_the_window_that_holds_audio(greeting, encoder_inputs):
    min_window_s = StreamingOptions().min_window_s
    assert min_window_s and min_window_s < 30
    model = load_model(TranscribeOptions(), num_workers=1, min_window_s=min_window_s)   # as live loads it
    said = stream(model, greeting)
    assert {"calling", "name", "help", "today"} <= set(said), said
    # every decode went through the patch: the real encoder saw windows shorter than
    # Whisper's 30 s (a 6 s buffer: the 10 s minimum), never the padded whole
    assert len(encoder_inputs) >= 2
    assert all(s[-1] == int(min_window_s * 100) for s in encoder_inputs), encoder_inputs
    assert all(s[-1] < WINDOW_FRAMES for s in encoder_inputs)


def test_offline_model_encodes_whole_windows(greeting, encoder_inputs):
    model = load_model(TranscribeOptions(), num_workers=1)                              # as analyze loads it
    va = VoiceActivity()
    segments = va.feed(greeting) + va.flush()
    pieces = transcribe_channel(model, "agent", greeting, segments)
    said = [normalize_word(w.text) for p in pieces for w in p.words]
    assert {"calling", "name", "help", "today"} <= set(said), said
    assert encoder_inputs and all(s[-1] == WINDOW_FRAMES for s in encoder_inputs), encoder_inputs


def test_window_length_follows_the_audio():
    f = np.zeros((80, WINDOW_FRAMES), np.float32)
    f[:, :1260] = -0.5                              # 12.6 s of audio: + 3 s tail, in 5 s steps
    assert encoded_frames(f, 1000) == 2000
    f[:, :2800] = -0.5                              # nearly full: all of it
    assert encoded_frames(f, 1000) == WINDOW_FRAMES
    assert encoded_frames(np.zeros((80, 1234), np.float32)) == 1234   # not a padded window: as it is
