"""Live coaching: a source's frames through the engine, as the call happens.

One thread (the caller's) owns the engine: it takes frames from the source (live
devices, or a recording replayed at real-time pace), feeds the analyzers and the
coach rules, and hands events and snapshots to every subscriber. Each channel's
streaming speech-to-text runs in a worker thread of its own, fed through a queue,
so a slow decode never holds up the audio path: prosody and turn-taking cues
keep flowing, and the transcriber says when it is behind and catches up.

Every event carries its latency: wall-clock seconds from the capture of the audio
that decided it to the moment it leaves the engine.
"""
from __future__ import annotations

import bisect
import queue
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Callable, Optional

from voicecoach.coach import CoachRules
from voicecoach.engine import Engine
from voicecoach.events import SAMPLE_RATE, Event, Word, segments_from_words
from voicecoach.store.record import build_record
from voicecoach.stt.streaming import StreamingTranscriber
from voicecoach.stt.whisper import load_model

if TYPE_CHECKING:
    from voicecoach.config import Config

Subscriber = Callable[[str, object], None]   # ("event", Event) | ("snapshot", dict) | ("status", str)


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


class _SttWorker(threading.Thread):
    """One channel's streaming transcriber, off the audio path."""

    def __init__(self, transcriber: StreamingTranscriber, out: queue.Queue):
        super().__init__(name=f"stt-{transcriber.channel}", daemon=True)
        self.st = transcriber
        self.inbox: queue.Queue = queue.Queue()
        self.out = out
        self.queued_s = 0.0
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        done = False
        try:
            while not done:
                items = [self.inbox.get()]
                while True:
                    try:
                        items.append(self.inbox.get_nowait())
                    except queue.Empty:
                        break
                for item in items:
                    if item is None:
                        done = True
                        break
                    self.st.insert_audio(*item)
                    self.queued_s -= len(item[1]) / SAMPLE_RATE
                words = self.st.finish() if done else self.st.process()
                if words:
                    self.out.put((self.st.channel, words))
        except BaseException as exc:  # reported by the session, never silently lost
            self.error = exc
        finally:
            self.out.put((self.st.channel, None))

    @property
    def lag_s(self) -> float:
        return self.st.lag_s + max(0.0, self.queued_s)


class LiveSession:
    """Coach one call live.

    Parameters
    ----------
    source : DeviceSource or ReplaySource
        Yields frames with ``captured_at``; has ``channels``, ``stop()``, ``lost``.
    config : Config, optional
    model : faster_whisper.WhisperModel, optional
        Loaded once (``num_workers=2``); None with ``transcribe=False``.
    recorder : Recorder, optional
        Opt-in recording of both channels.
    """

    def __init__(self, source, config: Optional[Config] = None, *, transcribe: bool = True,
                 model=None, baseline=None, recorder=None, name: str = "live call"):
        if config is None:
            from voicecoach.config import Config

            config = Config()
        self.config = config
        self.source = source
        self.name = name
        self.engine = Engine(config, source.channels, baseline=baseline)
        self.coach = CoachRules(config.coach)
        self.recorder = recorder
        self.subscribers: list[Subscriber] = []
        self._times = _CaptureTimes()
        self._words_q: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self.model_name = config.transcribe.model if transcribe else None
        self.workers: dict[str, _SttWorker] = {}
        if transcribe:
            model = model or load_model(config.transcribe, num_workers=len(source.channels),
                                        min_window_s=config.streaming.min_window_s or None)
            for ch in source.channels:
                st = StreamingTranscriber(model, ch, config.streaming, config.transcribe)
                self.workers[ch] = _SttWorker(st, self._words_q)
        self.words: dict[str, list[Word]] = {ch: [] for ch in source.channels}
        self.latencies: dict[str, list[float]] = {}
        self.stopped_because: Optional[str] = None

    def subscribe(self, fn: Subscriber) -> None:
        self.subscribers.append(fn)

    def stop(self) -> None:
        """Ask the session to end (from any thread, e.g. a signal handler or the overlay)."""
        self._stop.set()
        self.source.stop()

    def _emit(self, kind: str, payload) -> None:
        for fn in self.subscribers:
            fn(kind, payload)

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
        time pass; return the call record (the same format ``analyze`` writes)."""
        for w in self.workers.values():
            w.start()
        next_snapshot = 0.0
        warned_behind = False
        self.source.start()
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                ch = frame.channel
                end_t = frame.start_s + len(frame.samples) / SAMPLE_RATE
                if ch == self.engine.channels[-1]:
                    self._times.add(end_t, frame.captured_at)
                if self.recorder is not None:
                    self.recorder.write(ch, frame.samples)
                    if self.recorder.failed:
                        self._emit("status", self.recorder.failed + "; coaching continues")
                        self.recorder = None
                events = self.engine.feed(ch, frame.start_s, frame.samples)
                for start_s, heard in self.engine.take_heard(ch):   # without the agent's echo
                    if ch in self.workers:
                        w = self.workers[ch]
                        w.queued_s += len(heard) / SAMPLE_RATE
                        w.inbox.put((start_s, heard, self.engine.vad[ch].speaking))
                events += self._take_words()
                events += self.coach.feed(events)
                self._send(events)
                t = self.engine.time
                if t >= next_snapshot and ch == self.engine.channels[-1]:
                    next_snapshot = t + self.config.live.snapshot_s
                    snap = self.snapshot()
                    self._send(self.coach.snapshot(snap))
                    self._emit("snapshot", snap)
                    behind = snap["stt_lag_s"] is not None and snap["stt_lag_s"] > self.config.live.behind_warn_s
                    if behind and not warned_behind:
                        self._emit("status", f"speech-to-text is {snap['stt_lag_s']:.1f} s behind; catching up")
                    warned_behind = behind
                if stop_after_s is not None and t >= stop_after_s:
                    break
        finally:
            self.source.stop()
        if getattr(self.source, "lost", None):
            self.stopped_because = str(self.source.lost)
            self._emit("status", self.stopped_because + "; everything so far is kept")
        return self._finish()

    def _take_words(self, block: bool = False) -> list[Event]:
        events = []
        while True:
            try:
                ch, words = self._words_q.get(block=block, timeout=60 if block else None)
            except queue.Empty:
                return events
            if words is None:
                if block:
                    return events + [Event("_worker_done", 0.0, ch)]
                continue
            self.words[ch] += words
            events += self.engine.feed_words(ch, words)

    def snapshot(self) -> dict:
        snap = self.engine.snapshot()
        lags = [w.lag_s for w in self.workers.values()]
        snap["stt_lag_s"] = round(max(lags), 2) if lags else None
        stats = self.source.stats()
        snap["dropped_blocks"] = stats.get("dropped_blocks", 0)
        snap["behind_s"] = round(stats.get("behind_s", 0.0), 3)
        snap["recording"] = self.recorder.path.name if self.recorder is not None else None
        return snap

    def _finish(self) -> dict:
        events = self.engine.finish_audio()
        for ch, w in self.workers.items():
            for start_s, heard in self.engine.take_heard(ch):     # the echo canceller's tail
                w.inbox.put((start_s, heard, False))
            w.inbox.put(None)
        pending = set(self.workers)
        while pending:
            got = self._take_words(block=True)
            for e in got:
                if e.kind == "_worker_done":
                    pending.discard(e.channel)
            events += [e for e in got if e.kind != "_worker_done"]
            if not got:
                break
        for ch, w in self.workers.items():
            if w.error is not None:
                self._emit("status", f"speech-to-text on the {ch} channel failed: {w.error}")
        events += self.engine.finish_words()
        events += self.coach.feed(events)
        self._send(events)
        transcript = sorted((seg for ch, ws in self.words.items() for seg in segments_from_words(ch, ws, self.config.language.sentence_gap_s)),
                            key=lambda s: s.start)
        record = build_record(self.engine, transcript, name=self.name, duration=self.engine.time,
                              model=self.model_name)
        record["nudges"] = [e.as_dict() for e in self.coach.nudges]
        record["live"] = {"latency_p50_s": {k: _pct(v, 50) for k, v in self.latencies.items()},
                          "latency_p95_s": {k: _pct(v, 95) for k, v in self.latencies.items()},
                          "stopped_because": self.stopped_because}
        if self.recorder is not None:
            path = self.recorder.close()
            record["source"]["name"] = path.name       # the review finds the audio beside the record
            if self.recorder.failed:
                self._emit("status", self.recorder.failed)
        return record


def _pct(values: list[float], q: float) -> Optional[float]:
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(len(v) * q / 100))], 4)
