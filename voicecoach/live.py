"""Live coaching: a source's frames through the engine, as the call happens.

Threads, and what each one does:

* The engine thread (the one that calls :meth:`LiveSession.run`) owns the engine:
  it takes frames from the source (live devices, or a recording replayed at
  real-time pace), feeds the analyzers and the coach rules, and puts the audio,
  events and snapshots into queues. Nothing on it waits on a disk, a pipe, a
  subscriber or another process: every hand-off is a non-blocking put.
* Each channel's streaming speech-to-text runs in a worker thread of its own
  (``stt-agent``, ``stt-customer``), fed through a queue, so a slow decode never
  holds up the audio path: prosody and turn-taking cues keep flowing, and the
  transcriber says when it is behind and catches up.
* The second pass (``stt-second``, one thread for both channels) decodes each
  channel's finished stretches of speech a second time as ``analyze`` would, once
  that channel is quiet (:mod:`voicecoach.stt.revision`), with a model of its own
  whose threads run at a low CPU priority, so it never holds up the streamed words;
  its words replace the streamed ones in the call record, and the record's language
  cues, checklist, follow-up and caller's lists are worked out again from them.
* Each subscriber is called from a dispatcher thread of its own
  (``subscriber-N``), fed by a queue, in the order things were emitted, so a slow
  overlay, terminal or events file holds up neither the engine nor the other
  subscribers. Events and status lines are never dropped; when a subscriber falls
  behind, its undelivered snapshots are coalesced (the oldest gives way to the
  newest; at most ``snapshot_backlog`` wait) and counted in
  :attr:`LiveSession.dropped_snapshots`. One that hangs (takes nothing for
  :data:`HUNG_S`) is left behind, said to the others.
* The recorder writes and syncs the file on a writer thread of its own
  (:meth:`voicecoach.sinks.recorder.Recorder.start`); the device source checks
  that its PulseAudio sources are still there on a thread of its own
  (:mod:`voicecoach.sources.capture`).

When the call ends, :meth:`LiveSession.run` finishes the engine, drains the speech-to-text
workers (waiting at most :data:`FINISH_WAIT_S` for their next words) and the recorder,
and waits until every subscriber has had everything emitted before it returns the call
record; one that takes nothing for :data:`DRAIN_STALL_S` is left behind, said on stderr.

Every event carries its latency: wall-clock seconds from the capture of the audio
that decided it to the moment it leaves the engine (is queued for the subscribers).
"""
from __future__ import annotations

import bisect
import queue
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from voicecoach.analyzers.vad import Segment
from voicecoach.coach import CoachRules
from voicecoach.engine import Engine
from voicecoach.events import SAMPLE_RATE, Event, Word, segments_from_words
from voicecoach.sinks.console import tell_failed
from voicecoach.sinks.recorder import remove_if_empty
from voicecoach.store.record import build_record
from voicecoach.stt import revision
from voicecoach.stt.revision import Revision, SecondPass, revise_words
from voicecoach.stt.streaming import StreamingTranscriber
from voicecoach.stt.whisper import load_model

if TYPE_CHECKING:
    from voicecoach.config import Config

Subscriber = Callable[[str, object], None]   # ("event", Event) | ("snapshot", dict) | ("status", str)
SNAPSHOT_BACKLOG = 4
"""Undelivered snapshots a subscriber may have waiting before the oldest gives way."""
FINISH_WAIT_S = 60.0
"""At a call's end, how long (s) to wait for speech-to-text's next words before the record
is made without the rest (a model that hangs); said in a status line."""
DRAIN_STALL_S = 10.0
"""A subscriber that takes nothing for this long (s) once the call or shift has ended (an
events file on a pipe no one reads, a view that hangs) is left behind: the program's end
must not wait on it. Not the terminal view: paused with Ctrl-S, a terminal holds the
program's own last lines too, which must come after the view's (the calls are saved
before)."""
HUNG_S = 60.0
"""A subscriber that takes nothing for this long (s) while things wait for it, during a
call or between calls, is left behind (its waiting items let go, said in a status line):
over a shift of words, a hung view would otherwise hold everything emitted since it
stopped. Not the terminal view, for the reason in :data:`DRAIN_STALL_S`. Longer than a
disk's or a desktop's stall, which a view that is only slow recovers from."""


class _CaptureTimes:
    """When (wall clock) the audio up to each call-clock time was captured."""

    def __init__(self, keep_s: float = 120.0):
        self.ends: deque[float] = deque()
        self.at: deque[float] = deque()
        self.keep_s = keep_s

    def add(self, end_t: float, captured_at: float) -> None:
        self.ends.append(end_t)
        self.at.append(captured_at)
        while self.ends and self.ends[0] < end_t - self.keep_s:
            self.ends.popleft()
            self.at.popleft()

    def __call__(self, t: float) -> Optional[float]:
        if not self.ends:
            return None
        i = bisect.bisect_left(self.ends, t - 1e-6)
        return self.at[min(i, len(self.at) - 1)]     # decided by the newest block


def _take_all(inbox: queue.Queue) -> tuple[list, bool]:
    """Wait for the next item, then take every one queued behind it: (the items before
    the ``None`` that ends the feed, whether it came)."""
    items = [inbox.get()]
    while items[-1] is not None:
        try:
            items.append(inbox.get_nowait())
        except queue.Empty:
            return items, False
    return items[:-1], True


class _SttWorker(threading.Thread):
    """One channel's streaming transcriber, off the audio path.

    The engine thread puts ``(start_s, samples, speaking)`` into :attr:`inbox` with
    :meth:`feed`; this thread inserts them into the transcriber and decodes. Every
    number read across the two threads has one writer: ``_fed`` (samples fed) is
    written by the engine thread alone, ``_taken`` (samples inserted) and
    ``_st_lag_s`` (the transcriber's own lag) by this thread alone, so
    :attr:`lag_s` needs no lock and never touches the transcriber from the engine
    thread.
    """

    def __init__(self, transcriber: StreamingTranscriber, out: queue.Queue):
        super().__init__(name=f"stt-{transcriber.channel}", daemon=True)
        self.st = transcriber
        self.inbox: queue.Queue = queue.Queue()
        self.out = out
        self._fed = 0          # samples put into the inbox (engine thread)
        self._taken = 0        # samples inserted into the transcriber (this thread)
        self._st_lag_s = 0.0   # the transcriber's lag, as of its last change (this thread)
        self.error: Optional[BaseException] = None

    def feed(self, start_s: float, samples, speaking: bool) -> None:
        """Queue one block and the voice activity after it (engine thread; never blocks)."""
        self._fed += len(samples)
        self.inbox.put((start_s, samples, speaking))

    def run(self) -> None:
        done = False
        try:
            while not done:
                items, done = _take_all(self.inbox)
                inserted = 0
                for item in items:
                    if len(item[1]):
                        self.st.insert_audio(*item)
                    inserted += len(item[1])
                self._st_lag_s = self.st.lag_s        # now counts the batch...
                self._taken += inserted               # ...which the queue no longer does
                words = self.st.finish() if done else self.st.process()
                self._st_lag_s = self.st.lag_s
                if words:
                    self.out.put((self.st.channel, words))
        except BaseException as exc:  # reported by the session, never silently lost
            self.error = exc
        finally:
            self.out.put((self.st.channel, None))

    @property
    def queued_s(self) -> float:
        """Audio (s) fed but not yet inserted into the transcriber."""
        return max(0, self._fed - self._taken) / SAMPLE_RATE

    @property
    def lag_s(self) -> float:
        return self._st_lag_s + self.queued_s


SECOND = "second pass"
"""The second pass's name in the words queue when it is done."""


class _SecondWorker(threading.Thread):
    """Every channel's second pass, on one thread (:mod:`voicecoach.stt.revision`).

    The engine thread puts each channel's blocks, the voice activity after each and
    the speech segments it closed into :attr:`inbox` with :meth:`feed`; this thread
    decodes a channel's settled speech again once that channel is quiet and the inbox
    is empty, and puts ``(channel, Revision)`` into the words queue, then
    ``(SECOND, None)`` when it is done.
    """

    def __init__(self, passes: dict[str, SecondPass], out: queue.Queue):
        super().__init__(name="stt-second", daemon=True)
        self.passes = passes
        self.inbox: queue.Queue = queue.Queue()
        self.out = out
        self.error: Optional[BaseException] = None

    def feed(self, channel: str, start_s: float, samples, speaking: bool, closed: list[Segment]) -> None:
        """Queue one block of ``channel`` (engine thread; never blocks)."""
        self.inbox.put((channel, start_s, samples, speaking, closed))

    def run(self) -> None:
        done = False
        try:
            while not done:
                items, done = _take_all(self.inbox)
                for item in items:
                    self.passes[item[0]].insert_audio(*item[1:])
                for ch, second in self.passes.items():
                    if done or (second.ready() and self.inbox.empty()):
                        revised = second.revise(final=done)
                        if revised is not None:
                            self.out.put((ch, revised))
        except BaseException as exc:  # reported by the session; the record keeps the streamed words
            self.error = exc
        finally:
            self.out.put((SECOND, None))


def behind_said(lag_s: Optional[float], warn_s: float, warned: bool) -> tuple[bool, bool]:
    """Whether to say that speech-to-text is ``lag_s`` behind, and whether it now stands said:
    said once when the lag passes ``warn_s``, and again only after it has caught up (under
    half of it): a lag going 4.1, 3.9, 4.2 s said it three times.

    >>> behind_said(4.2, 4.0, False), behind_said(3.9, 4.0, True), behind_said(4.1, 4.0, True)
    ((True, True), (False, True), (False, True))
    >>> behind_said(1.5, 4.0, True), behind_said(None, 4.0, True)
    ((False, False), (False, False))
    """
    if lag_s is not None and lag_s > warn_s:
        return not warned, True
    return False, warned and lag_s is not None and lag_s >= warn_s / 2


def _named(fn: Subscriber) -> str:
    """A subscriber's name for a message to the user: its ``label`` (``"the terminal
    view"``), else a live view named by its function or class."""
    label = getattr(fn, "label", None)
    return label or f"a live view ({getattr(fn, '__qualname__', None) or type(fn).__name__})"


class _Outbox(threading.Thread):
    """One subscriber's dispatcher: delivers what the session emits, in order, on a
    thread of its own.

    :meth:`put` (engine thread) appends under a lock and returns at once, in constant
    time on average however much waits (dropped snapshots are swept out now and then). Events and status lines always wait their turn; a snapshot
    beyond ``snapshot_backlog`` undelivered ones takes the place of the oldest (marked
    dropped where it waits and skipped, counted in :attr:`dropped_snapshots`), so a slow
    subscriber gets the newest metrics and every event, in order. :meth:`close` lets it
    deliver what is left and end.
    A subscriber that raises gets nothing more; the error is kept in :attr:`error`
    and printed to stderr. One that takes nothing for :data:`HUNG_S` while items wait,
    unless it is ``waited_for``, is :attr:`left_behind`: what waits for it is let go
    and it gets nothing more, so its queue cannot grow for the rest of a shift.
    """

    def __init__(self, fn: Subscriber, index: int, snapshot_backlog: int):
        super().__init__(name=f"subscriber-{index}", daemon=True)
        self.fn = fn
        self.snapshot_backlog = max(1, snapshot_backlog)
        self._items: deque = deque()      # [kind, payload] in order; kind None: a dropped snapshot
        self._snapshots: deque = deque()  # the undelivered snapshots' items, oldest first
        self._dropped_waiting = 0         # dropped snapshots still in _items
        self._cond = threading.Condition()
        self._closed = False
        self.dropped_snapshots = 0
        self.delivered = 0                # items handed to the subscriber so far
        self.error: Optional[BaseException] = None
        self.left_behind = False
        self._may_hang = not getattr(fn, "waited_for", False)
        self._since = 0.0                 # monotonic time from which the first waiting item waits

    def put(self, kind: str, payload) -> bool:
        """Queue an item; True when this put found the subscriber hung (it is now
        :attr:`left_behind`)."""
        item = [kind, payload]
        with self._cond:
            if self.left_behind:
                return False
            now = time.monotonic()
            if not self._items:
                self._since = now
            elif self._may_hang and now - self._since > HUNG_S:
                self.left_behind = True
                self.dropped_snapshots += len(self._snapshots)
                self._items.clear()
                self._snapshots.clear()
                self._dropped_waiting = 0
                self._cond.notify()
                return True
            if kind == "snapshot":
                if len(self._snapshots) >= self.snapshot_backlog:
                    oldest = self._snapshots.popleft()     # found without a search: a hung
                    oldest[0] = oldest[1] = None           # subscriber's backlog is long
                    self.dropped_snapshots += 1
                    self._dropped_waiting += 1
                    if self._dropped_waiting > 1024 and 2 * self._dropped_waiting > len(self._items):
                        self._items = deque(i for i in self._items if i[0] is not None)
                        self._dropped_waiting = 0
                self._snapshots.append(item)
            self._items.append(item)
            self._cond.notify()
        return False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed and not self.left_behind:
                    self._cond.wait()
                if not self._items or self.left_behind:
                    return
                kind, payload = self._items.popleft()
                self._since = time.monotonic()
                if kind is None:
                    self._dropped_waiting -= 1
                    continue
                if kind == "snapshot":
                    self._snapshots.popleft()
                self.delivered += 1
            if self.error is not None:
                continue
            try:
                self.fn(kind, payload)
            except Exception as exc:
                self.error = exc
                tell_failed(self.fn, exc)


class Dispatcher:
    """The subscribers of a live session (or of a whole shift of them): one
    :class:`_Outbox` dispatcher thread each. :meth:`emit` never blocks."""

    def __init__(self, snapshot_backlog: int = SNAPSHOT_BACKLOG):
        self.snapshot_backlog = snapshot_backlog
        self.subscribers: list[Subscriber] = []
        self._outboxes: list[_Outbox] = []
        self._lock = threading.Lock()
        self._running = False
        self._reported_errors: set[int] = set()

    def subscribe(self, fn: Subscriber) -> None:
        with self._lock:
            self.subscribers.append(fn)
            box = _Outbox(fn, len(self._outboxes), self.snapshot_backlog)
            self._outboxes.append(box)
            if self._running:
                box.start()

    @property
    def dropped_snapshots(self) -> int:
        return sum(box.dropped_snapshots for box in self._outboxes)

    @property
    def errors(self) -> list[BaseException]:
        return [box.error for box in self._outboxes if box.error is not None]

    def emit(self, kind: str, payload) -> None:
        """Queue for every subscriber (never blocks). One found hung (:data:`HUNG_S`) is
        left behind, said to the others in a status line."""
        hung = [box for box in self._outboxes if box.put(kind, payload)]
        for box in hung:
            self.emit("status", f"{_named(box.fn)} took nothing for {HUNG_S:g} s; "
                                "it gets nothing more until VoiceCoach is restarted")

    def check(self) -> None:
        """Tell the other subscribers, once, about one that failed."""
        for i, box in enumerate(self._outboxes):
            if box.error is not None and i not in self._reported_errors:
                self._reported_errors.add(i)
                self.emit("status", f"a live view failed ({box.error}); coaching continues")

    def start(self) -> None:
        with self._lock:
            self._running = True
            for box in self._outboxes:
                if not box.is_alive():
                    box.start()

    def drain(self) -> None:
        """Let every subscriber have everything emitted, then end the dispatcher threads.
        One that takes nothing for :data:`DRAIN_STALL_S` is left behind, said on stderr,
        unless it is ``waited_for`` (the terminal view: what the program prints after it
        must come after it, and a paused terminal holds those lines too)."""
        with self._lock:
            self._running = False
            boxes = list(self._outboxes)
        for box in boxes:
            box.close()
        for box in boxes:
            if box.left_behind:                          # hung earlier, and said then
                continue
            if getattr(box.fn, "waited_for", False):     # the terminal the program itself prints to
                box.join()
                continue
            taken = -1
            while box.is_alive() and box.delivered != taken:
                taken = box.delivered
                box.join(DRAIN_STALL_S)
            if box.is_alive():
                print(f"voicecoach: {_named(box.fn)} took nothing for {DRAIN_STALL_S:g} s; "
                      "not waiting for it any longer", file=sys.stderr)


class LiveSession:
    """Coach one call live.

    Parameters
    ----------
    source : DeviceSource or ReplaySource
        Yields frames with ``captured_at``; has ``channels``, ``stop()``, ``lost``.
    config : Config, optional
    model : faster_whisper.WhisperModel, optional
        Loaded once (``num_workers=2``); None with ``transcribe=False``.
    second_model : faster_whisper.WhisperModel, optional
        The second pass's (:func:`voicecoach.stt.revision.load_model`), when
        ``[streaming] second_pass`` is on; loaded here if not given.
    recorder : Recorder, optional
        Opt-in recording of both channels; :meth:`run` starts its writer thread
        (``recorder.start()``) and closes it when the call ends.
    snapshot_backlog : int
        Undelivered snapshots a subscriber may have waiting before the oldest is
        dropped for the newest (events are never dropped).
    dispatcher : Dispatcher, optional
        Subscribers shared with others (a shift's calls); the session then neither
        starts nor drains it.
    lexicon : Lexicon, optional
        The language cues' phrase lists, when already loaded (a shift loads them once).

    Attributes
    ----------
    dropped_snapshots : int
        Snapshots that slow subscribers never got (coalesced), over all subscribers.
    subscriber_errors : list of BaseException
        What subscribers raised; each one that raised got nothing more.
    """

    def __init__(self, source, config: Optional[Config] = None, *, transcribe: bool = True,
                 model=None, second_model=None, baseline=None, recorder=None, name: str = "live call",
                 snapshot_backlog: int = SNAPSHOT_BACKLOG, dispatcher: Optional[Dispatcher] = None,
                 lexicon=None):
        if config is None:
            from voicecoach.config import Config

            config = Config()
        self.config = config
        self.source = source
        self.name = name
        self.engine = Engine(config, source.channels, baseline=baseline, lexicon=lexicon)
        self.coach = CoachRules(config.coach)
        self.recorder = recorder
        self.recording_path = None          # the recorder's file, once the call has ended (kept when
                                            # the recording stops early; the writer thread makes it)
        self._recorders = [recorder] if recorder is not None else []    # closed when the call ends
        self._own_dispatch = dispatcher is None
        self.dispatch = dispatcher or Dispatcher(snapshot_backlog)
        self._times = _CaptureTimes()
        self._words_q: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self.model_name = config.transcribe.model if transcribe else None
        self.workers: dict[str, _SttWorker] = {}
        self.second: Optional[_SecondWorker] = None
        if transcribe:
            model = model or load_model(config.transcribe, num_workers=len(source.channels),
                                        min_window_s=config.streaming.min_window_s or None)
            self.engine.language.model    # loaded now, not on the engine thread at the first sentence
            for ch in source.channels:
                st = StreamingTranscriber(model, ch, config.streaming, config.transcribe)
                self.workers[ch] = _SttWorker(st, self._words_q)
            if config.streaming.second_pass:
                second_model = second_model or revision.load_model(config.transcribe)
                self.second = _SecondWorker({ch: SecondPass(second_model, ch, config.transcribe)
                                             for ch in source.channels}, self._words_q)
        self.words: dict[str, list[Word]] = {ch: [] for ch in source.channels}
        self.revisions: dict[str, list[Revision]] = {ch: [] for ch in source.channels}
        self._closed_n = dict.fromkeys(source.channels, 0)   # VAD segments handed to the workers
        self.latencies: dict[str, list[float]] = {}
        self.stopped_because: Optional[str] = None
        self._next_snapshot = 0.0
        self._warned_behind = False
        self._failed_said: set[str] = set()   # channels whose speech-to-text failure was said
        stats = source.stats()                                   # a shift's source counts all day
        self._dropped_before = stats.get("dropped_blocks", 0)
        self._dropped_said = 0
        self._gap_before = self._gap_said = stats.get("gap_s", 0.0)
        self._quiet = False

    def subscribe(self, fn: Subscriber) -> None:
        """Have ``fn(kind, payload)`` called, on a dispatcher thread of its own, with every
        event, snapshot and status line from now on, in order."""
        self.dispatch.subscribe(fn)

    @property
    def subscribers(self) -> list[Subscriber]:
        return self.dispatch.subscribers

    @property
    def dropped_snapshots(self) -> int:
        return self.dispatch.dropped_snapshots

    @property
    def subscriber_errors(self) -> list[BaseException]:
        return self.dispatch.errors

    def stop(self) -> None:
        """Ask the session to end (from any thread, e.g. a signal handler or the overlay)."""
        self._stop.set()
        self.source.stop()

    def _emit(self, kind: str, payload) -> None:
        """Queue for every subscriber (engine thread; never blocks)."""
        if self._quiet and kind != "status":
            return
        self.dispatch.emit(kind, payload)

    def _send(self, events: list[Event]) -> None:
        now = time.monotonic()
        for e in events:
            if e.latency is None:
                decided = e.data.get("decided_t", e.data.get("end", e.t))
                captured = self._times(decided)
                if captured is not None:
                    e.latency = round(max(0.0, now - captured), 4)
                    self.latencies.setdefault(e.kind, []).append(e.latency)
            self._emit("event", e)

    def run(self, stop_after_s: Optional[float] = None) -> dict:
        """Coach until the source ends, :meth:`stop` is called or ``stop_after_s`` of call
        time pass; return the call record (the same format ``analyze`` writes) once every
        subscriber has had everything emitted (or been left behind: :meth:`Dispatcher.drain`)."""
        if self._own_dispatch:
            self.dispatch.start()
        try:
            self.begin()
            self._coach(stop_after_s)
            return self.end()
        finally:
            self.close_recorders()
            if self._own_dispatch:
                self.dispatch.drain()

    def begin(self) -> None:
        """Start the call's helpers (the recorder's writer, the speech-to-text workers);
        then :meth:`feed_frame` each frame and :meth:`end` (what :meth:`run` does)."""
        if self.recorder is not None and hasattr(self.recorder, "start"):
            self.recorder.start()
        for w in self.workers.values():
            w.start()
        if self.second is not None:
            self.second.start()

    def close_recorders(self) -> None:
        """Make every recording whole on disk (also after an error)."""
        for rec in self._recorders:
            if not getattr(rec, "closed", True):
                try:
                    rec.close()
                except Exception as exc:        # the others are still closed
                    print(f"voicecoach: a recording could not be closed ({exc})", file=sys.stderr)

    def _coach(self, stop_after_s: Optional[float]) -> None:
        """The engine thread's loop: one frame at a time, every hand-off a non-blocking put."""
        self.source.start()
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                self.feed_frame(frame)
                if stop_after_s is not None and self.engine.time >= stop_after_s:
                    break
        finally:
            self.source.stop()
        if getattr(self.source, "lost", None):
            self.stopped_because = str(self.source.lost)
            self._emit("status", self.stopped_because + "; everything so far is kept")

    def feed_frame(self, frame) -> None:
        """Coach one frame (engine thread): every hand-off a non-blocking put."""
        ch = frame.channel
        end_t = frame.start_s + len(frame.samples) / SAMPLE_RATE
        if ch == self.engine.channels[-1]:
            self._times.add(end_t, frame.captured_at)
        if self.recorder is not None:
            self.recorder.write(ch, frame.samples)     # queued for the writer thread
            if self.recorder.failed:                    # set by the writer thread
                self._emit("status", self.recorder.failed + "; coaching continues")
                self.recorder = None
        events = self.engine.feed(ch, frame.start_s, frame.samples)
        self._feed_worker(ch)
        events += self._take_words()
        events += self.coach.feed(events)
        self._send(events)
        t = self.engine.time
        if t >= self._next_snapshot and ch == self.engine.channels[-1]:
            self._next_snapshot = t + self.config.live.snapshot_s
            snap = self.snapshot()
            self._send(self.coach.snapshot(snap))
            self._emit("snapshot", snap)
            say, self._warned_behind = behind_said(snap["stt_lag_s"], self.config.live.behind_warn_s,
                                                   self._warned_behind)
            if say:
                self._emit("status", f"speech-to-text is {snap['stt_lag_s']:.1f} s behind; catching up")
            dropped = snap["dropped_blocks"] - self._dropped_before
            if dropped > self._dropped_said:            # the callback's queue was full: never silently
                lost_s = (dropped - self._dropped_said) * self.config.capture.block_s
                self._emit("status", f"the computer fell behind and {lost_s:.1f} s of audio was lost "
                                     "(heard as silence)")
                self._dropped_said = dropped
            if snap["gap_s"] > self._gap_said + 0.05:   # an input paused (a headset dropping out)
                self._emit("status", f"an input gave no audio for {snap['gap_s'] - self._gap_said:.1f} s "
                                     "(heard as silence; both sides stay in step)")
                self._gap_said = snap["gap_s"]
            self.dispatch.check()

    def _feed_worker(self, ch: str) -> None:
        """Hand the channel's worker the audio the analyzers heard (without the agent's
        echo), the voice activity after it and the speech segments it closed."""
        blocks = self.engine.take_heard(ch)
        if ch not in self.workers or self.workers[ch].error is not None:
            return
        va = self.engine.vad[ch]
        segs = va.transcript_segments
        closed, self._closed_n[ch] = segs[self._closed_n[ch]:], len(segs)
        second = self.second if self.second is not None and self.second.error is None else None
        for i, (start_s, heard) in enumerate(blocks):
            self.workers[ch].feed(start_s, heard, va.speaking)
            if second is not None:                # (one that failed is fed no more audio)
                second.feed(ch, start_s, heard, va.speaking, closed if i == len(blocks) - 1 else [])
        if closed and not blocks and second is not None:
            second.feed(ch, va.time, np.zeros(0, np.float32), va.speaking, closed)

    def _take_words(self, block: bool = False) -> list[Event]:
        events = []
        while True:
            try:
                ch, words = self._words_q.get(block=block, timeout=FINISH_WAIT_S if block else None)
            except queue.Empty:
                return events
            if words is None:
                if block:
                    return events + [Event("_worker_done", 0.0, ch)]
                self._stt_failed(ch)                  # a worker ends mid-call only when it fails
                continue
            if isinstance(words, Revision):
                self.revisions[ch].append(words)      # for the record; the live view keeps its words
                continue
            self.words[ch] += words
            events += self.engine.feed_words(ch, words)

    def _stt_failed(self, ch: str) -> None:
        """Said at once, and once: the channel's words stop, the coaching that needs none
        goes on. The worker is fed no more audio (a queue no one takes from grows)."""
        w = self.workers.get(ch)
        if w is not None and w.error is not None and ch not in self._failed_said:
            self._failed_said.add(ch)
            self._emit("status", f"speech-to-text on the {ch} channel failed: {w.error}; "
                                 "coaching goes on without its words")

    def snapshot(self) -> dict:
        snap = self.engine.snapshot()
        lags = [w.lag_s for w in self.workers.values() if w.error is None]
        snap["stt_lag_s"] = round(max(lags), 2) if lags else None
        stats = self.source.stats()
        snap["dropped_blocks"] = stats.get("dropped_blocks", 0)
        snap["gap_s"] = round(stats.get("gap_s", 0.0), 3)
        snap["behind_s"] = round(stats.get("behind_s", 0.0), 3)
        path = self.recorder.path if self.recorder is not None else None
        snap["recording"] = path.name if path is not None else None
        return snap

    def end(self, end_s: Optional[float] = None, quiet: bool = False) -> dict:
        """End the call: finish the engine, drain the speech-to-text workers and the
        recorder, and return the call record. With ``end_s`` the record ends there
        (call clock): a call whose end was decided after it happened (shift mode)
        does not keep the silence that decided it. ``quiet`` sends the subscribers no
        more events (the next call may already be showing); the record has them."""
        self._quiet = quiet
        record = self._finish()
        if end_s is not None and end_s < record["duration"]:
            record["duration"] = round(max(0.0, end_s), 3)
            record["nudges"] = [n for n in record["nudges"] if n["t"] <= end_s]
        return record

    def _finish(self) -> dict:
        events = self.engine.finish_audio()
        for ch, w in self.workers.items():
            self._feed_worker(ch)         # the echo canceller's tail, the last segments
            w.inbox.put(None)
        pending = {ch for ch, w in self.workers.items() if w.error is None}   # one that failed has ended
        if self.second is not None:
            self.second.inbox.put(None)
            pending.add(SECOND)
        while pending:
            got = self._take_words(block=True)
            for e in got:
                if e.kind == "_worker_done":
                    pending.discard(e.channel)
            events += [e for e in got if e.kind != "_worker_done"]
            if not got:
                self._emit("status", f"speech-to-text gave nothing for {FINISH_WAIT_S:g} s as the call "
                                     "ended; the record keeps the words heard until then")
                break
        for ch in self.workers:
            self._stt_failed(ch)
        if self.second is not None and self.second.error is not None:
            self._emit("status", f"the second decode of the transcript failed ({self.second.error}); "
                                 "the call record keeps the words streamed live")
        events += self.engine.finish_words()
        events += self.coach.feed(events)
        self._send(events)
        words = {ch: revise_words(ws, self.revisions[ch]) for ch, ws in self.words.items()}
        if any(self.revisions.values()):
            self.engine.words_decoded_again(words)     # the record's cues from the better words
        transcript = sorted((seg for ch, ws in words.items()
                             for seg in segments_from_words(ch, ws, self.config.language.sentence_gap_s)),
                            key=lambda s: s.start)
        record = build_record(self.engine, transcript, name=self.name, duration=self.engine.time,
                              model=self.model_name)
        record["nudges"] = [e.as_dict() for e in self.coach.nudges]
        stats = self.source.stats()
        record["live"] = {"latency_p50_s": {k: _pct(v, 50) for k, v in self.latencies.items()},
                          "latency_p95_s": {k: _pct(v, 95) for k, v in self.latencies.items()},
                          "stopped_because": self.stopped_because,
                          "transcript_decoded_again": sum(len(r) for r in self.revisions.values()),
                          "ticked_live_only": self.engine.ticked_live_only,
                          "dropped_snapshots": self.dropped_snapshots,
                          "dropped_blocks": stats.get("dropped_blocks", 0) - self._dropped_before,
                          "gap_s": round(stats.get("gap_s", 0.0) - self._gap_before, 2)}
        for rec in self._recorders:
            if rec is not self.recorder:
                rec.close()                             # stopped during the call: its writer ends
        if self.recorder is not None:
            self.recorder.close()                       # what the writer thread holds is written first
            if self.recorder.failed:
                self._emit("status", self.recorder.failed)
        self.recording_path = self._recorders[0].path if self._recorders else None
        if self.recording_path is not None and remove_if_empty(self.recording_path):
            self.recording_path = None                  # a full disk took even its first block
        if self.recording_path is not None:             # also one that stopped early: it is this call's
            record["source"]["name"] = Path(self.recording_path).name   # the review finds it beside the record
        return record


def _pct(values: list[float], q: float) -> Optional[float]:
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * q / 100))], 4)
