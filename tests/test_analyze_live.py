"""The central claim: `analyze` (10 s blocks) and `live` (20 ms blocks) give the same
call record for the same audio and the same words.

`analyze` is :func:`voicecoach.analyze.analyze_call`; `live` is a real
:class:`voicecoach.live.LiveSession` over a :class:`ReplaySource` whose 20 ms blocks
are not paced at real time (the engine has no wall-clock logic, so pacing changes
nothing but the test's length). Words: either none (transcription off) or the words
that `analyze`'s own speech-to-text found (the real tiny.en model), handed to the
live session where its streaming workers hand theirs — as the call goes, a second
after each word was said.

Every field of the record is compared: turn events, talk time, dead air, response
gaps, warmth, pace and caller-arousal timelines, checklist, cues... Lists of events
are compared as sets (the record lists them in the order they were decided, which
depends on the block size).
"""
from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from voicecoach.analyze import analyze_call, demo_call_path
from voicecoach.analyzers.vad import WINDOW_S
from voicecoach.config import Config
from voicecoach.events import Word
from voicecoach.live import LiveSession
from voicecoach.sources.audio import CallAudio, load_call
from voicecoach.sources.files import FileSource, ReplaySource

LIVE_ONLY = {"nudges", "live"}          # what only a live record has
TOL = 2e-3                              # rounding of the record's numbers (3 decimals)


class UnpacedReplay(ReplaySource):
    """ReplaySource, 20 ms blocks stamped like a device's, without the real-time sleeps."""

    def __init__(self, call: CallAudio):
        super().__init__(call, block_s=0.02)
        self._files = FileSource(call, block_s=0.02, realtime=False)


def live_record(call: CallAudio, config: Config, words: list[Word] | None = None,
                model_name: str | None = None, commit_delay_s: float = 1.0) -> dict:
    """The live session's record; ``words`` reach it as streamed words do, ``commit_delay_s``
    after each word ends (the workers' queue is where the session takes words from)."""
    session = LiveSession(UnpacedReplay(call), config, transcribe=False, name=call.name)
    if words:
        session.model_name = model_name
        last = call.duration - 0.5                     # the session drains its queue only while frames come
        due = sorted(words, key=lambda w: min(w.end + commit_delay_s, last))
        sent = []

        def hand_over(kind, payload):
            if kind != "snapshot":
                return
            while due and min(due[0].end + commit_delay_s, last) <= payload["t"]:
                w = due.pop(0)
                session._words_q.put((w.channel, [w]))
                sent.append(w)

        session.subscribe(hand_over)
    record = session.run()
    if words:
        assert not due and len(sent) == len(words)
        assert sum(len(ws) for ws in session.words.values()) == len(words)
    return record


# -- comparison ----------------------------------------------------------------------------
def _canon(x):
    """Lists of events (dicts with a time) in time order; everything else as it is."""
    if isinstance(x, dict):
        return {k: _canon(v) for k, v in x.items()}
    if isinstance(x, list):
        items = [_canon(v) for v in x]
        if items and all(isinstance(v, dict) and ("start" in v or "t" in v) for v in items):
            items.sort(key=lambda v: (v.get("start", v.get("t")), repr(sorted(v.items()))))
        return items
    return x


def differences(a, b, path="record") -> list[str]:
    """Where ``a`` and ``b`` differ (numbers within :data:`TOL`)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'analyze' if k in a else 'live'}" for k in set(a) ^ set(b)]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items (analyze) vs {len(b)} (live): {a!r:.300} vs {b!r:.300}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    numbers = (int, float)
    if (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool)
            and not isinstance(b, bool)):
        return [] if math.isclose(a, b, abs_tol=TOL) else [f"{path}: {a!r} (analyze) vs {b!r} (live)"]
    return [] if a == b else [f"{path}: {a!r:.200} (analyze) vs {b!r:.200} (live)"]


def words_by_channel(record: dict) -> dict:
    out = {}
    for seg in record["transcript"]:
        out.setdefault(seg["channel"], []).extend(seg["words"])
    return {ch: sorted(ws, key=lambda w: w["start"]) for ch, ws in out.items()}


def assert_same_record(offline: dict, live: dict) -> None:
    assert set(live) - set(offline) == LIVE_ONLY
    assert live["source"]["channels"] == offline["source"]["channels"]
    # live, the call ends with the last whole voice-activity window (32 ms)
    assert offline["duration"] - WINDOW_S <= live["duration"] <= offline["duration"]
    # transcript lines are Whisper's segments offline and pauses/sentence ends live:
    # the words must be the same
    assert words_by_channel(live) == words_by_channel(offline)
    skip = {"created", "source", "duration", "transcript"}
    a = _canon({k: v for k, v in offline.items() if k not in skip})
    b = _canon({k: v for k, v in live.items() if k not in skip | LIVE_ONLY})
    diffs = differences(a, b)
    assert not diffs, "analyze and live records differ:\n" + "\n".join(diffs)


# -- calls --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    return load_call(demo_call_path())


def generated_call(seed: int) -> CallAudio:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    from tools.callgen import random_call

    gen = random_call(seed, voices=("espeak",), minutes=1.5)
    return CallAudio(gen.audio[:, 0].copy(), gen.audio[:, 1].copy(), f"call{seed}")


def with_blips(call: CallAudio, seed: int = 5) -> CallAudio:
    """The call with short snippets of the agent's own speech dropped into the silences
    of the agent channel: voice-activity segments too short to keep (with the
    ``min_speech_s`` of :func:`blip_config`), which must count as silence both ways."""
    rng = np.random.default_rng(seed)
    agent = call.agent.copy()
    sr = 16000
    speech = agent[int(1.0 * sr):int(3.0 * sr)]
    for start in (6.5, 16.0, 45.0, 66.0):
        n = int(rng.uniform(0.1, 0.3) * sr)
        i = int(start * sr)
        agent[i:i + n] = speech[:n]
    return CallAudio(agent, call.customer, call.name + " with blips")


def blip_config() -> Config:
    config = Config()
    config.vad.min_speech_s = 0.5
    return config


# -- the tests --------------------------------------------------------------------------
def test_demo_call_without_transcript(demo):
    config = Config()
    offline = analyze_call(demo, config, transcribe=False)
    live = live_record(demo, config)
    assert offline["interruptions"] and offline["backchannels"] and offline["dead_air"]
    assert offline["warmth"]["timeline"] and offline["caller_arousal"]["timeline"]
    assert_same_record(offline, live)


def test_dropped_voice_activity_segments_count_as_silence_both_ways(demo):
    call, config = with_blips(demo), blip_config()
    offline = analyze_call(call, config, transcribe=False)
    live = live_record(call, config)
    assert_same_record(offline, live)


def test_agent_alone_without_transcript(demo):
    call = CallAudio(demo.agent, None, "agent only")
    offline = analyze_call(call, Config(), transcribe=False)
    live = live_record(call, Config())
    assert offline["interruptions"] is None
    assert_same_record(offline, live)


@pytest.mark.parametrize("seed", [11, 12])
def test_generated_calls_without_transcript(seed):
    call = generated_call(seed)
    offline = analyze_call(call, Config(), transcribe=False)
    live = live_record(call, Config())
    assert {i["by"] for i in offline["interruptions"]} == {"agent", "customer"}
    assert offline["near_misses"]
    assert_same_record(offline, live)


def test_demo_call_with_the_same_words(demo):
    """The words `analyze` transcribed, fed to the live session as the call goes: the
    word-based fields (cues, checklist, questions, commitments, caller problems, words
    per minute and its timeline) must not depend on when the words arrive."""
    config = Config()
    offline = analyze_call(demo, config)
    words = [Word(ch, w["start"], w["end"], w["text"], w["probability"])
             for ch, ws in words_by_channel(offline).items() for w in ws]
    assert len(words) > 100 and {w.channel for w in words} == {"agent", "customer"}
    # (the record's times are rounded to the millisecond: the live session gets those)
    live = live_record(demo, config, words, model_name=config.transcribe.model)
    assert offline["commitments"] and offline["caller_problems"] and offline["pace"]["agent_wpm"]
    assert {c["kind"] for c in offline["cues"]} >= {"greeting", "empathy", "jargon", "scary"}
    assert_same_record(offline, live)

