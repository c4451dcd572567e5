"""Caller arousal against the caller's own start of call, and the caller_heated cue."""
import numpy as np
import pytest

from voicecoach.analyzers.arousal import ArousalOptions, ArousalTracker
from voicecoach.analyzers.prosody import ProsodyFrames
from voicecoach.events import CUSTOMER


def caller_frames(dur_s, t0=0.0, f0_st=2.0, energy_db=-30.0, seed=0):
    """Frames of a synthetic caller: pitch contour around ``f0_st`` (semitones re
    100 Hz), loudness around ``energy_db``, voiced 15 frames out of 25."""
    rng = np.random.default_rng(seed)
    n = int(round(dur_s / 0.01))
    t = t0 + 0.02 + 0.01 * np.arange(n)
    voiced = (np.arange(n) % 25) < 15
    st = f0_st + 1.5 * np.sin(2 * np.pi * 0.5 * t) + 0.1 * rng.standard_normal(n)
    f0 = np.where(voiced, 100 * 2 ** (st / 12), np.nan)
    rms = energy_db + 2.0 * rng.standard_normal(n)
    nan = np.full(n, np.nan)
    return ProsodyFrames(t=t, f0_hz=f0, voiced=voiced, aperiodicity=np.where(voiced, 0.05, 0.8),
                         rms_db=rms, centroid_hz=np.full(n, 1000.0), tilt_db=np.full(n, -15.0),
                         f1_hz=nan, f2_hz=nan, f3_hz=nan)


def feed(tracker, frames, chunk=None):
    chunk = chunk or len(frames)
    return [e for i in range(0, len(frames), chunk) for e in tracker.feed(frames[i:i + chunk])]


def calm_then_heated(heated_s=10.0):
    return ProsodyFrames.concat([
        caller_frames(25.0, seed=1),
        caller_frames(heated_s, t0=25.0, f0_st=7.0, energy_db=-20.0, seed=2)])


def test_heated_caller_raises_one_cue():
    tracker = ArousalTracker()
    events = feed(tracker, calm_then_heated())
    assert len(events) == 1
    event = events[0]
    assert event.kind == "cue" and event.data["cue"] == "caller_heated"
    assert event.channel == CUSTOMER
    assert 25.0 + ArousalOptions().heated_for_s <= event.t <= 25.0 + 6.0
    assert tracker.state()["arousal"] > 0.8 and tracker.state()["baseline_ready"]


def test_calm_caller_raises_none_and_stays_near_half():
    tracker = ArousalTracker()
    assert feed(tracker, caller_frames(90.0, seed=3)) == []
    summary = tracker.summary()
    assert abs(summary["mean"] - 0.5) < 0.1
    assert summary["heated_s"] < 1.0


def test_quieter_lower_caller_is_below_half():
    frames = ProsodyFrames.concat([caller_frames(25.0, seed=4),
                                   caller_frames(10.0, t0=25.0, f0_st=-1.0,
                                                 energy_db=-38.0, seed=5)])
    tracker = ArousalTracker()
    assert feed(tracker, frames) == []
    assert tracker.state()["arousal"] < 0.2


def test_cooldown_limits_cues():
    tracker = ArousalTracker(ArousalOptions(cooldown_s=40.0))
    events = feed(tracker, calm_then_heated(heated_s=60.0))
    assert len(events) == 2
    assert events[1].t - events[0].t >= 40.0


def test_no_value_before_the_start_is_learned():
    tracker = ArousalTracker()
    feed(tracker, caller_frames(10.0, f0_st=8.0, energy_db=-15.0))
    assert tracker.state() == {"arousal": None, "temperature": None, "baseline_ready": False, "heard_s": 10.0}
    assert tracker.timeline() == []
    assert tracker.summary()["mean"] is None


@pytest.mark.parametrize("chunk", [1, 17, 400])
def test_does_not_depend_on_frame_grouping(chunk):
    frames = calm_then_heated()
    whole, pieces = ArousalTracker(), ArousalTracker()
    whole_events, piece_events = feed(whole, frames), feed(pieces, frames, chunk)
    assert pieces.timeline() == whole.timeline()
    assert [e.as_dict() for e in piece_events] == [e.as_dict() for e in whole_events]
    assert all(0.0 <= v <= 1.0 for _, v in whole.timeline())


def temperatures(frames):
    """The temperature after each chunk of 0.5 s, as the overlay would show it."""
    tracker, out = ArousalTracker(), []
    step = 50
    for i in range(0, len(frames), step):
        tracker.feed(frames[i:i + step])
        out.append(tracker.state()["temperature"])
    return out


def test_the_temperature_reads_heated_only_when_the_cue_would():
    """A few seconds of a louder, higher caller: "warming up" first, then "heated",
    and never "heated" before heated_for_s of it."""
    shown = temperatures(calm_then_heated(10.0))
    assert shown[:40] == [None] * shown[:40].count(None) + ["calm"] * (40 - shown[:40].count(None))
    first_warm, first_heated = shown.index("warming up"), shown.index("heated")
    assert first_warm < first_heated
    assert (first_heated + 1) * 0.5 - 25.0 >= ArousalOptions().heated_for_s
    assert shown[-1] == "heated"


def test_one_loud_moment_is_no_change_of_temperature():
    """A loud "thanks, bye!" of half a second (the demo call's end read "heated")."""
    frames = ProsodyFrames.concat([caller_frames(25.0, seed=1),
                                   caller_frames(0.5, t0=25.0, f0_st=7.0, energy_db=-20.0, seed=2),
                                   caller_frames(5.0, t0=25.5, seed=3)])
    shown = temperatures(frames)
    assert "heated" not in shown and shown[-1] == "calm"


def test_a_calm_caller_stays_calm():
    shown = [t for t in temperatures(caller_frames(90.0, seed=3)) if t is not None]
    assert shown and set(shown) == {"calm"}


def test_warming_above_heated_is_refused():
    assert "warming_level" in ArousalOptions(warming_level=0.9, heated_level=0.8).problem()
    assert ArousalOptions().problem() == ""
