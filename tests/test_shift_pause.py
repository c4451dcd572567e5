"""Pausing coaching in shift mode, with the real Shift, CallDetector, PlaylistSource,
Recorder and stores: the calls after a pause are found where they play, the call hotkey
while paused coaches that call, and a stream seen while paused starts no call later."""

import pytest

from voicecoach.analyze import demo_call_path
from voicecoach.config import Config
from voicecoach.shift import Shift
from voicecoach.sources.audio import CallAudio, load_call
from voicecoach.sources.files import PlaylistSource


@pytest.fixture(scope="module")
def demo_part():
    demo = load_call(demo_call_path())
    part = slice(0, 30 * 16000)
    return CallAudio(demo.agent[part], demo.customer[part], "part")


class HookedPlaylist(PlaylistSource):
    """A PlaylistSource that runs ``hooks[(t)]`` (on the engine thread) the first time a
    frame at or after ``t`` s is about to be handed out."""

    def __init__(self, calls, hooks, **kw):
        super().__init__(calls, **kw)
        self.hooks = sorted(hooks.items())

    def __iter__(self):
        for f in super().__iter__():
            while self.hooks and f.start_s >= self.hooks[0][0]:
                self.hooks.pop(0)[1]()
            yield f


def run_shift(tmp_path, monkeypatch, calls, hooks=None, streams=False, **kw):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    told = []
    holder = {}
    src = HookedPlaylist(calls, {t: (lambda fn=fn: fn(holder["shift"])) for t, fn in (hooks or {}).items()}, streams=streams)
    shift = Shift(src, Config(), transcribe=False, records_folder=tmp_path / "records",
                  history_path=tmp_path / "h.sqlite", **kw)
    holder["shift"] = shift
    shift.subscribe(lambda kind, item: kind == "call" and told.append(dict(item)))
    calls = shift.run()
    return shift, calls, told


def test_without_a_pause_the_call_is_found(tmp_path, monkeypatch, demo_part):
    shift, calls, told = run_shift(tmp_path, monkeypatch, [(30.0, demo_part)])
    assert len(calls) == 1
    c = calls[0]
    assert abs(c["t"] - 30.0) < 1.0 and c["end_t"] - c["t"] > 25, c


def test_a_call_after_a_pause_is_found_where_it_plays(tmp_path, monkeypatch, demo_part):
    """Pause at 1 s, resume at 25 s, the call plays from 30 s to 60 s. The detector's voice
    activity counts time by the samples it is fed: left unfed while paused, it ran 24 s
    behind the shift's clock, and the call was cut short and dropped as not a call."""
    shift, calls, told = run_shift(tmp_path, monkeypatch, [(30.0, demo_part)],
                                   hooks={1.0: Shift.pause, 25.0: Shift.resume})
    states = [(t["state"], t["index"], t["t"], t["end_t"], t.get("ended_by")) for t in told
              if t["state"] != "started"]
    assert len(calls) == 1, states
    c = calls[0]
    assert abs(c["t"] - 30.0) < 1.0 and c["end_t"] - c["t"] > 25, (c, states)


def test_the_call_hotkey_while_paused_resumes_and_coaches_that_call(tmp_path, monkeypatch, demo_part):
    """The agent pauses, then starts a call by hand at 31 s and ends it at 55 s: coaching
    resumes and the call is kept, recording and all. (It was dated at the pause's moment,
    dropped as not a call, and its recording deleted.)"""
    rec = tmp_path / "rec"
    shift, calls, told = run_shift(tmp_path, monkeypatch, [(30.0, demo_part)],
                                   hooks={1.0: Shift.pause, 31.0: Shift.by_hand, 55.0: Shift.by_hand},
                                   record_dir=str(rec))
    states = [(t["state"], t["index"], t["t"], t["end_t"], t.get("ended_by")) for t in told
              if t["state"] != "started"]
    assert len(calls) == 1, states
    assert abs(calls[0]["t"] - 31.0) < 0.5 and abs(calls[0]["end_t"] - 55.0) < 0.5, states
    assert list(rec.glob("call-*.wav")), "the recording of the call was deleted"
    assert not shift.paused


def test_a_stream_seen_while_paused_starts_no_call_back_in_the_pause(tmp_path, monkeypatch, demo_part):
    """With playback streams (PulseAudio; `live --replay`), a stream that appears while
    coaching is paused is let go: after resuming, only what comes from then on starts a
    call (a stale "stream appeared at 10 s" started one dated inside the pause)."""
    shift, calls, told = run_shift(tmp_path, monkeypatch, [(10.0, demo_part)], streams=True,
                                   hooks={1.0: Shift.pause, 30.0: Shift.resume})
    states = [(t["state"], t["index"], t["t"], t.get("end_t"), t.get("ended_by")) for t in told]
    started = [t for t in told if t["state"] == "started"]
    assert all(t["t"] >= 30.0 - 0.5 for t in started), states      # "only what comes from now on"


def test_after_pausing_mid_call_and_resuming_the_next_call_is_found_where_it_plays(tmp_path, monkeypatch,
                                                                                   demo_part):
    """Call 1 plays 2-32 s, the agent pauses at 10 s (call 1 ends there) and resumes at 40 s;
    call 2 plays 62-92 s. Call 2 must be one kept call starting near 62 s."""
    shift, calls, told = run_shift(tmp_path, monkeypatch, [(2.0, demo_part), (30.0, demo_part)],
                                   hooks={10.0: Shift.pause, 40.0: Shift.resume})
    states = [(t["state"], t["index"], t["t"], t.get("end_t"), t.get("ended_by")) for t in told]
    later = [c for c in calls if c["t"] > 35.0 or c["end_t"] > 35.0]
    assert len(later) == 1 and abs(later[0]["t"] - 62.0) < 1.0 and later[0]["end_t"] > 85.0, states
