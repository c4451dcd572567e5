"""Nothing blocks the engine thread: a slow disk, a slow subscriber or a PulseAudio
server that does not answer never hold the engine longer than about one block, and
still every event reaches every subscriber, in order.

The sessions replay a piece of the demo call in 20 ms blocks at real-time pace
(:class:`ReplaySource`), the real engine and coach, no speech-to-text. The source
notes when the engine asks for each block; the longest gap between two asks is
how long the engine was held. Slow parts take 0.5 s each; the bound (0.4 s) leaves
room for a loaded 2-core machine.
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from voicecoach.analyze import demo_call_path
from voicecoach.config import CaptureOptions, Config
from voicecoach.events import SAMPLE_RATE, Event
from voicecoach.live import LiveSession, _Outbox
from voicecoach.sinks.recorder import Recorder
from voicecoach.sources.audio import CallAudio, load_call
from voicecoach.sources.files import ReplaySource

SLOW_S = 0.5
HELD_MAX_S = 0.4


@pytest.fixture(scope="module")
def excerpt() -> CallAudio:
    """4.5 s of the demo call with an agent interruption (decided at 3.05 s) and its nudge."""
    call = load_call(demo_call_path())
    part = slice(int(18.5 * SAMPLE_RATE), int(23.0 * SAMPLE_RATE))
    return CallAudio(call.agent[part], call.customer[part], "excerpt")


class TimedReplay(ReplaySource):
    """A ReplaySource that notes when (``time.monotonic()``) the engine asks for each block."""

    def __init__(self, call: CallAudio):
        super().__init__(call)
        self.asked: list[float] = []

    def __iter__(self):
        frames = super().__iter__()
        while True:
            self.asked.append(time.monotonic())
            try:
                frame = next(frames)
            except StopIteration:
                return
            yield frame

    def longest_hold_s(self) -> float:
        return float(np.max(np.diff(self.asked)))


class SlowFile(io.FileIO):
    """A real file on a slow disk: every write takes ``SLOW_S``."""

    def write(self, b):
        time.sleep(SLOW_S)
        return super().write(b)


def slow_subscriber(got: list):
    def fn(kind, payload):
        got.append((kind, payload, time.monotonic()))
        time.sleep(SLOW_S)
    return fn


def test_a_slow_subscriber_never_holds_the_engine_and_gets_every_event_in_order(excerpt):
    source = TimedReplay(excerpt)
    session = LiveSession(source, Config(), transcribe=False, name="excerpt")
    fast, slow = [], []
    session.subscribe(lambda kind, payload: fast.append((kind, payload)))
    session.subscribe(slow_subscriber(slow))
    record = session.run()
    ended = time.monotonic()

    assert source.longest_hold_s() < HELD_MAX_S, source.longest_hold_s()
    # run() returned only once the slow subscriber had everything
    assert slow and slow[-1][2] <= ended
    events = [p for k, p in fast if k == "event"]
    assert [e.kind for e in events] == ["interruption", "nudge"]
    assert [p for k, p, _ in slow if k == "event"] == events          # the same events, in order
    assert [p for k, p, _ in slow if k == "status"] == [p for k, p in fast if k == "status"]
    assert len(record["nudges"]) == 1 and len(record["interruptions"]) == 1
    # snapshots: the slow one got the newest ones, in order, and the rest are counted as dropped
    fast_t = [p["t"] for k, p in fast if k == "snapshot"]
    slow_t = [p["t"] for k, p, _ in slow if k == "snapshot"]
    assert slow_t == sorted(slow_t) and set(slow_t) <= set(fast_t) and slow_t[-1] == fast_t[-1]
    assert session.dropped_snapshots == len(fast_t) - len(slow_t) > 0
    assert record["live"]["dropped_snapshots"] == session.dropped_snapshots


def test_a_slow_disk_never_holds_the_engine_and_the_recording_is_whole(excerpt, tmp_path):
    rec = Recorder(tmp_path / "calls", ("agent", "customer")).open()
    rec._file.close()
    rec._file = SlowFile(rec.path, "r+")                 # the header is already there
    rec._file.seek(0, os.SEEK_END)
    source = TimedReplay(excerpt)
    session = LiveSession(source, Config(), transcribe=False, recorder=rec, name="excerpt")
    statuses = []
    session.subscribe(lambda kind, payload: statuses.append(payload) if kind == "status" else None)
    record = session.run()

    assert source.longest_hold_s() < HELD_MAX_S, source.longest_hold_s()
    assert not rec.failed and statuses == []
    assert record["source"]["name"] == rec.path.name
    y, sr = sf.read(rec.path, dtype="float32")
    assert sr == SAMPLE_RATE and y.shape == (len(excerpt.agent), 2)
    assert np.allclose(y[:, 0], np.clip(excerpt.agent, -1, 1), atol=1e-3)
    assert np.allclose(y[:, 1], np.clip(excerpt.customer, -1, 1), atol=1e-3)


class SlowFolderRecorder(Recorder):
    """A real recorder whose folder is on a slow (network) disk: making the file takes
    ``SLOW_S``; notes the thread that made it."""

    def open(self):
        if self.path is None:
            self.opened_on = threading.current_thread().name
            time.sleep(SLOW_S)
        return super().open()


def test_the_recording_is_made_off_the_engine_thread(excerpt, tmp_path):
    rec = SlowFolderRecorder(tmp_path / "calls", ("agent", "customer"))
    assert rec.path is None and not (tmp_path / "calls").exists()   # nothing on disk yet
    source = TimedReplay(excerpt)
    session = LiveSession(source, Config(), transcribe=False, recorder=rec, name="excerpt")
    record = session.run()
    assert rec.opened_on == "recorder-writer"
    assert source.longest_hold_s() < HELD_MAX_S, source.longest_hold_s()
    assert record["source"]["name"] == rec.path.name == session.recording_path.name
    y, _ = sf.read(rec.path, dtype="float32")
    assert y.shape == (len(excerpt.agent), 2)
    assert np.allclose(y[:, 1], np.clip(excerpt.customer, -1, 1), atol=1e-3)


def test_a_folder_that_cannot_be_made_is_said_once_and_coaching_goes_on(excerpt, tmp_path):
    (tmp_path / "taken").write_text("a file where the folder should be")
    rec = Recorder(tmp_path / "taken" / "calls", ("agent", "customer"))
    session = LiveSession(TimedReplay(excerpt), Config(), transcribe=False, recorder=rec, name="excerpt")
    got = []
    session.subscribe(lambda kind, payload: got.append((kind, payload)))
    record = session.run()
    statuses = [p for k, p in got if k == "status"]
    assert len(statuses) == 1 and statuses[0].startswith(f"cannot record in {tmp_path / 'taken' / 'calls'} (")
    assert statuses[0].endswith("; coaching continues")
    assert len(record["interruptions"]) == 1 and session.recording_path is None and rec.closed


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_stops_the_recording_once_and_coaching_goes_on(excerpt, tmp_path):
    rec = Recorder(tmp_path, ("agent", "customer")).open()
    rec._file = open("/dev/full", "wb")                  # every write now fails with ENOSPC
    source = TimedReplay(excerpt)
    session = LiveSession(source, Config(), transcribe=False, recorder=rec, name="excerpt")
    got = []
    session.subscribe(lambda kind, payload: got.append((kind, payload)))
    record = session.run()
    statuses = [p for k, p in got if k == "status"]
    assert len(statuses) == 1 and "No space left" in statuses[0] and "coaching continues" in statuses[0]
    assert [p.kind for k, p in got if k == "event"] == ["interruption", "nudge"]
    after = [k for k, _ in got[[p for _, p in got].index(statuses[0]):]]
    assert "snapshot" in after                            # coaching went on
    assert len(record["interruptions"]) == 1 and rec.closed
    assert source.longest_hold_s() < HELD_MAX_S


def test_a_subscriber_that_raises_is_reported_and_coaching_goes_on(excerpt):
    source = TimedReplay(CallAudio(excerpt.agent[:SAMPLE_RATE], excerpt.customer[:SAMPLE_RATE], "x"))
    session = LiveSession(source, Config(), transcribe=False)
    got = []

    def broken(kind, payload):
        raise RuntimeError("window gone")

    session.subscribe(broken)
    session.subscribe(lambda kind, payload: got.append((kind, payload)))
    record = session.run()
    assert record["duration"] == pytest.approx(1.0, abs=0.05)
    assert [p for k, p in got if k == "status"] == ["a live view failed (window gone); coaching continues"]
    assert [type(e) for e in session.subscriber_errors] == [RuntimeError]


def test_outbox_never_drops_events_and_coalesces_snapshots():
    got = []

    def slow(kind, payload):
        got.append((kind, payload))
        time.sleep(0.005)

    box = _Outbox(slow, 0, snapshot_backlog=2)
    box.start()
    started = time.monotonic()
    for i in range(300):
        box.put("event", Event("cue", float(i), "agent"))
        box.put("snapshot", {"t": float(i)})
    put_s = time.monotonic() - started
    box.close()
    box.join(timeout=30)
    assert not box.is_alive()
    assert put_s < 0.5                                   # 600 puts never waited on the subscriber
    assert [p.t for k, p in got if k == "event"] == [float(i) for i in range(300)]
    snaps = [p["t"] for k, p in got if k == "snapshot"]
    assert snaps == sorted(snaps) and snaps[-1] == 299.0
    assert box.dropped_snapshots == 300 - len(snaps) > 0
    # each snapshot still comes after the event emitted just before it
    for i, (k, p) in enumerate(got):
        if k == "snapshot":
            assert (got[i - 1][0] == "event" and got[i - 1][1].t == p["t"])


def test_outbox_put_does_not_search_what_a_hung_subscriber_keeps_waiting():
    """A subscriber that hangs (a terminal paused with Ctrl-S, a pipe no one reads) keeps a
    shift's events waiting; a snapshot put on the engine thread must not walk through them
    (it did, under the lock, four times a second: 8 ms a put behind 200,000 events)."""
    class Walked(deque):
        walks = 0

        def __iter__(self):
            Walked.walks += 1
            return super().__iter__()

    gate = threading.Event()
    box = _Outbox(lambda kind, payload: gate.wait(), 0, snapshot_backlog=4)
    box._items = Walked()
    box.start()
    box.put("status", "taken")                 # the subscriber hangs on it
    for _ in range(10_000):
        box.put("event", None)
    for _ in range(2000):                       # far more than the backlog: most are dropped
        box.put("snapshot", {})
    walks = Walked.walks
    gate.set()
    box.close()
    box.join(timeout=30)
    assert walks <= 2, walks                    # a sweep of dropped snapshots at most
    assert box.dropped_snapshots == 2000 - 4


def test_outbox_keeps_order_when_it_sweeps_dropped_snapshots():
    got = []
    gate = threading.Event()

    def hung(kind, payload):
        gate.wait()
        got.append((kind, payload))

    box = _Outbox(hung, 0, snapshot_backlog=3)
    box.start()
    box.put("status", "first")                 # taken at once: the subscriber hangs on it
    time.sleep(0.05)
    for i in range(5000):                       # enough dropped snapshots to be swept away
        box.put("snapshot", i)
        if i % 1000 == 0:
            box.put("event", i)
    gate.set()
    box.close()
    box.join(timeout=30)
    assert got == [("status", "first"), *(("event", i) for i in range(0, 5000, 1000)),
                   ("snapshot", 4997), ("snapshot", 4998), ("snapshot", 4999)]
    assert box.dropped_snapshots == 4997


def test_recorder_writer_thread_loses_at_most_about_a_second_on_a_crash(tmp_path):
    code = f"""
import os, time, numpy as np
from voicecoach.sinks.recorder import Recorder
rec = Recorder(r"{tmp_path}", ("agent",)).start()
t0 = time.monotonic()
for i in range(200):               # 4 s in 20 ms blocks, at real-time pace
    rec.write("agent", np.full(320, 0.25, np.float32))
    time.sleep(max(0.0, t0 + (i + 1) * 0.02 - time.monotonic()))
print(rec.path, flush=True)
os._exit(1)                        # no close, no flush: as a crash
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = out.stdout.strip()
    assert path, out.stderr
    y, sr = sf.read(path, dtype="float32")
    assert 2.5 <= len(y) / sr <= 4.0
    assert np.allclose(y, 0.25, atol=1e-3)


def test_recorder_that_cannot_keep_up_stops_without_holding_the_writer(tmp_path):
    rec = Recorder(tmp_path, ("agent",), queue_blocks=10).open().start()
    rec._file.close()
    rec._file = SlowFile(rec.path, "r+")
    rec._file.seek(0, os.SEEK_END)
    started = time.monotonic()
    for _ in range(50):
        rec.write("agent", np.zeros(320, np.float32))
    assert time.monotonic() - started < HELD_MAX_S
    assert rec.failed and "did not keep up" in rec.failed
    rec.close()
    assert rec.closed and sf.info(rec.path).frames % 320 == 0


def test_a_pulseaudio_server_that_does_not_answer_never_holds_capture(pulse, tmp_path):
    from voicecoach.sources.capture import DeviceSource
    from voicecoach.sources.devices import resolve_device

    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)    # accepts, never answers
    stuck.bind(str(tmp_path / "stuck"))
    stuck.listen(8)
    try:
        source = DeviceSource(resolve_device("customer.monitor"),
                              options=CaptureOptions(source_check_s=0.2)).start()
        for s in source._streams:                # from now on, pactl asks a server that hangs
            s.choice = replace(s.choice, pulse_server=f"unix:{tmp_path / 'stuck'}")
        stopper = threading.Timer(2.0, source.stop)
        stopper.start()
        taken = [time.monotonic() for _ in source]
        stopper.join()
    finally:
        stuck.close()
    assert float(np.max(np.diff(taken))) < HELD_MAX_S       # was 5 s: pactl's timeout, on the consumer
    assert len(taken) > 50 and source.lost is None


def test_a_subscriber_that_never_takes_anything_does_not_keep_the_call_from_ending(excerpt, monkeypatch, capfd):
    """A terminal paused with Ctrl-S (its writes block) held the end of the call, and so
    the program, for ever: drain() waited on it without end. It is left behind after
    ``DRAIN_STALL_S`` of taking nothing, said once; the others get everything."""
    import voicecoach.live as live

    monkeypatch.setattr(live, "DRAIN_STALL_S", 0.5)
    paused = threading.Event()                  # never set: the terminal stays paused
    fast = []
    session = LiveSession(TimedReplay(excerpt), Config(), transcribe=False, name="excerpt")
    session.subscribe(lambda kind, payload: paused.wait())
    session.subscribe(lambda kind, payload: fast.append(kind))
    done = []
    runner = threading.Thread(target=lambda: done.append(session.run()), daemon=True)
    runner.start()
    runner.join(60)
    assert not runner.is_alive(), "the call never ended"
    assert done and len(done[0]["interruptions"]) == 1
    assert fast.count("event") == 2
    err = capfd.readouterr().err
    assert err.count("took nothing for 0.5 s; not waiting for it any longer") == 1, err


def test_a_left_behind_view_is_named_as_the_user_knows_it_and_the_terminal_is_waited_for(monkeypatch, capfd):
    """The line said when a view is left behind names it as the agent knows it ("the events
    file (--events)"), not by an inner function's name. The terminal view is never left
    behind: paused with Ctrl-S, the program's own last lines ("Shift over") wait in the
    same terminal, and came out spliced into the view's when it was."""
    import voicecoach.live as live
    from voicecoach.live import Dispatcher
    from voicecoach.sinks.console import in_order

    monkeypatch.setattr(live, "DRAIN_STALL_S", 0.2)
    paused = threading.Event()

    class Stuck:
        label = "the events file (--events)"

        def __call__(self, kind, payload):
            paused.wait()

    order = []
    dispatch = Dispatcher()
    dispatch.subscribe(Stuck())
    dispatch.subscribe(in_order(lambda kind, payload: (paused.wait(), order.append("view"))))
    dispatch.start()
    dispatch.emit("status", "hello")
    drained = threading.Thread(target=lambda: (dispatch.drain(), order.append("drained")), daemon=True)
    drained.start()
    drained.join(1.0)
    assert drained.is_alive(), "the terminal view was left behind"
    paused.set()
    drained.join(30)
    assert order == ["view", "drained"]
    err = capfd.readouterr().err
    assert err.count("voicecoach: the events file (--events) took nothing for 0.2 s") == 1, err
    assert "terminal view" not in err, err


def test_falling_behind_is_said_once_until_speech_to_text_has_caught_up():
    """A lag hovering about the limit (4.1, 3.9, 4.2 s...) said "speech-to-text is 4.x s
    behind" at every crossing, 3-6 times a call on a busy machine."""
    from voicecoach.live import behind_said

    warned, said = False, []
    for lag in (2.0, 4.1, 3.9, 4.2, 3.95, 4.3, 1.0, 4.5, None, 4.4):
        say, warned = behind_said(lag, 4.0, warned)
        said.append(say)
    assert said == [False, True, False, False, False, False, False, True, False, True]


def test_a_view_that_hangs_mid_shift_is_left_behind_and_holds_nothing_more(monkeypatch):
    """A view that stopped taking anything mid-shift (an events file on a network share
    that hangs) kept every event emitted after it, for the rest of the shift: its queue
    only grew. After ``HUNG_S`` of taking nothing it is left behind, what waited for it is
    let go, the others are told in a status line, and the end does not wait for it. The
    terminal view, however long it is paused, is not."""
    import voicecoach.live as live
    from voicecoach.live import Dispatcher
    from voicecoach.sinks.console import in_order

    monkeypatch.setattr(live, "HUNG_S", 0.3)
    paused, held = threading.Event(), threading.Event()

    class Stuck:
        label = "the events file (--events)"

        def __call__(self, kind, payload):
            paused.wait()

    seen, terminal = [], []
    dispatch = Dispatcher()
    dispatch.subscribe(Stuck())
    dispatch.subscribe(lambda kind, payload: seen.append((kind, payload)))
    dispatch.subscribe(in_order(lambda kind, payload: (held.wait(), terminal.append(payload))))
    stuck_box, _, terminal_box = dispatch._outboxes
    dispatch.start()
    for i in range(20):                         # 1 s of events, the stuck view hung from the first
        dispatch.emit("event", i)
        time.sleep(0.05)
    assert stuck_box.left_behind and not terminal_box.left_behind
    for i in range(20, 5000):                   # the rest of the shift: nothing more piles up
        dispatch.emit("event", i)
    assert len(stuck_box._items) == 0
    assert len(terminal_box._items) > 4000      # paused, not hung: everything waits for it
    held.set()
    started = time.monotonic()
    dispatch.drain()
    assert time.monotonic() - started < 5.0
    said = [p for k, p in seen if k == "status"]
    assert said == ["the events file (--events) took nothing for 0.3 s; "
                    "it gets nothing more until VoiceCoach is restarted"]
    assert [p for k, p in seen if k == "event"] == list(range(5000))
    assert terminal[:3] == [0, 1, 2] and len(terminal) == 5001
    paused.set()


def test_a_slow_view_that_keeps_taking_is_not_left_behind(monkeypatch):
    """Slow is not hung: a view that takes an item every so often, with more waiting,
    gets everything."""
    import voicecoach.live as live
    from voicecoach.live import Dispatcher

    monkeypatch.setattr(live, "HUNG_S", 0.3)
    got = []
    dispatch = Dispatcher()
    dispatch.subscribe(lambda kind, payload: (time.sleep(0.05), got.append(payload)))
    dispatch.start()
    for i in range(20):
        dispatch.emit("event", i)
    time.sleep(0.6)                              # longer than HUNG_S with items waiting throughout
    dispatch.emit("event", 20)
    dispatch.drain()
    assert got == list(range(21))
    assert not dispatch._outboxes[0].left_behind
