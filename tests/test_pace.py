"""Pace: syllable nuclei from the loudness envelope, word rate, windows, timeline."""
from functools import partialmethod

import numpy as np
import pytest

from voicecoach.analyzers.language import LanguageCues, LanguageOptions
from voicecoach.analyzers.pace import PaceOptions, PaceTracker
from voicecoach.analyzers.prosody import ProsodyFrames, ProsodyTracker
from voicecoach.analyzers.turns import TurnOptions
from voicecoach.events import AGENT, Word

SR = 16000


def syllable_train(n_syllables, rate_hz, f0_hz=150.0, voiced=True, seed=0):
    """``n_syllables`` loudness bumps at ``rate_hz`` on a harmonic (or noise) carrier."""
    n = int(n_syllables / rate_hz * SR)
    t = np.arange(n) / SR
    if voiced:
        carrier = sum(np.cos(2 * np.pi * h * f0_hz * t) / h for h in range(1, 20))
    else:
        carrier = np.random.default_rng(seed).standard_normal(n)
    envelope = (0.5 - 0.5 * np.cos(2 * np.pi * rate_hz * t)) ** 2 + 0.01
    y = envelope * carrier
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def frames_of(y, start_s=0.0):
    tracker = ProsodyTracker()
    return ProsodyFrames.concat([tracker.feed(start_s, y), tracker.flush()])


def words(n, start_s, end_s):
    edges = np.linspace(start_s, end_s, n + 1)
    return [Word(AGENT, float(a), float(b), " word") for a, b in zip(edges[:-1], edges[1:])]


@pytest.mark.parametrize("rate", [3.0, 4.0, 6.0])
def test_counts_syllables_of_am_voice(rate):
    pace = PaceTracker()
    pace.feed_frames(frames_of(syllable_train(20, rate)))
    pace.flush()
    assert abs(len(pace.syllable_times) - 20) <= 1
    state = pace.state()
    assert state["syllables_per_s"] == pytest.approx(rate, rel=0.1)


def test_unvoiced_bumps_are_not_syllables():
    pace = PaceTracker()
    pace.feed_frames(frames_of(syllable_train(12, 4.0, voiced=False)))
    pace.flush()
    assert len(pace.syllable_times) <= 1


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_counts_do_not_depend_on_frame_grouping(chunk):
    frames = frames_of(syllable_train(24, 4.5))
    # drop a stretch, as voice activity would for a pause
    speech = frames.select((frames.t < 2.0) | (frames.t > 2.6))
    whole = PaceTracker()
    whole.feed_frames(speech)
    whole.flush()
    pieces = PaceTracker()
    for i in range(0, len(speech), chunk):
        pieces.feed_frames(speech[i:i + chunk])
    pieces.flush()
    assert pieces.syllable_times == whole.syllable_times
    assert pieces.state() == whole.state()


def test_speaking_time_counts_speech_frames_only():
    first = frames_of(syllable_train(8, 4.0))
    later = frames_of(syllable_train(8, 4.0), start_s=30.0)
    pace = PaceTracker()
    pace.feed_frames(ProsodyFrames.concat([first, later]))
    pace.flush()
    assert pace.speaking_s == pytest.approx((len(first) + len(later)) * 0.01)
    assert abs(len(pace.syllable_times) - 16) <= 1
    # the long pause does not dilute the rate
    assert pace.state()["syllables_per_s"] == pytest.approx(4.0, rel=0.15)


def test_word_rate_overall_and_recent():
    pace = PaceTracker(PaceOptions(window_s=10.0))
    frames = frames_of(syllable_train(80, 4.0))  # 20 s of speech
    pace.feed_frames(frames)
    pace.flush()
    # 20 words in the first 10 s (120 wpm), 40 in the next 10 s (240 wpm)
    pace.feed_words(words(20, 0.0, 10.0) + words(40, 10.0, 20.0))
    pace.feed_words([Word(AGENT, 19.9, 20.0, " ,")])  # punctuation is not a word
    state = pace.state()
    assert state["wpm"] == pytest.approx(60 / (len(frames) * 0.01) * 60, rel=1e-3)
    assert state["recent_wpm"] == pytest.approx(240, rel=0.05)
    assert state["zone"] == "fast"
    assert state["speaking_s"] == pytest.approx(20.0, abs=0.1)


def test_zone_falls_back_to_syllables_and_bands():
    pace = PaceTracker(PaceOptions(band_low_syl_s=3.0, band_high_syl_s=4.5, fast_syl_s=5.0))
    pace.feed_frames(frames_of(syllable_train(30, 4.0)))
    pace.flush()
    assert pace.state()["zone"] == "comfortable"
    slow = PaceTracker(PaceOptions(band_low_syl_s=5.0, band_high_syl_s=6.0, fast_syl_s=7.0))
    slow.feed_frames(frames_of(syllable_train(30, 4.0)))
    slow.flush()
    assert slow.state()["zone"] == "slow"


def test_too_little_speech_gives_no_rate():
    pace = PaceTracker()
    assert pace.state()["syllables_per_s"] is None and pace.state()["zone"] is None
    pace.feed_frames(frames_of(syllable_train(4, 4.0)))  # 1 s < min_speech_s
    pace.flush()
    state = pace.state()
    assert state["syllables_per_s"] is None and state["recent_syl_s"] is None
    assert state["speaking_s"] == pytest.approx(1.0, abs=0.05)


def test_timeline_points_every_step():
    pace = PaceTracker(PaceOptions(timeline_step_s=5.0, timeline_window_s=10.0))
    pace.feed_frames(frames_of(syllable_train(80, 4.0)))
    pace.flush()
    pace.feed_words(words(50, 0.0, 20.0))  # 150 wpm
    points = pace.timeline()
    assert [p[0] for p in points] == [5.0, 10.0, 15.0, 20.0]
    assert all(v == pytest.approx(150, rel=0.05) for _, v in points[1:])
    syllables = pace.timeline("syllables_per_s")
    assert all(v == pytest.approx(4.0, rel=0.15) for _, v in syllables[1:])
    with pytest.raises(ValueError):
        pace.timeline("bananas")


def test_the_turn_pause_default_lives_in_the_turns_section_alone(monkeypatch):
    """Pace and the language cues take ``turns.turn_pause_s``'s default, not a copy of it."""
    monkeypatch.setattr(TurnOptions, "__init__", partialmethod(TurnOptions.__init__, turn_pause_s=0.9))
    assert PaceTracker().turn_pause_s == 0.9
    assert LanguageCues(LanguageOptions(sentence_model=False)).turn_pause_s == 0.9
