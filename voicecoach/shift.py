"""Shift mode: one source listened to all shift, each call found, coached fresh and saved.

A :class:`Shift` owns the source (devices, or a replay) for as long as the agent
works. Its engine thread feeds every frame to the call detector
(:mod:`voicecoach.calldetect`) and, while a call is open, to that call's own
:class:`~voicecoach.live.LiveSession` (a new engine, coach and transcribers per
call; the speech model, the voice profile and the settings carry over). A call is
known to have started a moment after it did, so the last seconds of audio are kept
and the new call is fed from its true start.

When a call ends, its session is finished on the ``shift-closer`` thread (draining
speech-to-text, building the record, saving it and adding it to the history once),
so the engine thread is already listening for the next call. The call's record is
cut where the call ended, not where the end was decided.

Subscribers get what a live session sends, plus ``("call", dict)`` items:
``{"state": "started", "index", "t", "reason"}``; ``{"state": "ending", "index", "t",
"end_t", "reason", "ended_by"}`` as soon as the end is decided (from the engine
thread, so always before the next call's "started"); then, once the call is saved,
``{"state": "ended", ..., "record", "record_path", "note"}``. A stretch that was not a
call is ``{"state": "dropped", ..., "why"}`` right after its "ending" instead
(:func:`voicecoach.sinks.view.not_a_call` says why), and the next call takes its
number: the calls of a shift are numbered as the agent counts them. A record a
full disk refused (``record_path`` None) is tried again after the next call that is
saved and at the shift's end; ``{"state": "saved", ...}`` (as "ended") when it fits.
``("shift", {"hold": bool})`` says the open call went on hold (silent past
``end_silence_s`` after the agent asked the caller to wait: it goes on) and came back.
``"started"`` also gives ``shift_s``, the start on the shift's clock with the time an
input was unplugged counted (``t`` leaves it out, as the source's clock does). Saving
takes a few seconds, so a call that starts at once is "started" before the one
before it is "ended": each call's own items come in order, and a subscriber tells
calls apart by ``index``.

Other threads ask through :meth:`by_hand`, :meth:`pause`, :meth:`resume` and
:meth:`stop`; the engine thread acts on them at its next frame.
"""
from __future__ import annotations

import datetime as _dt
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from voicecoach.analyzers.language import LanguageOptions
from voicecoach.calldetect import GOING_ON, UNHEARD, CallChange, CallDetector
from voicecoach.events import AGENT, SAMPLE_RATE
from voicecoach.live import SNAPSHOT_BACKLOG, Dispatcher, LiveSession, Subscriber
from voicecoach.sources.capture import DeviceLost
from voicecoach.sources.files import CapturedFrame
from voicecoach.sources.reconnect import DeviceBack
from voicecoach.sinks.view import not_a_call
from voicecoach.stt.whisper import release_free_memory

if TYPE_CHECKING:
    from voicecoach.config import Config


class _CallView:
    """What a call's session sees of the shift's source: its channels and counters."""

    def __init__(self, source):
        self._source = source
        self.channels = source.channels
        self.lost = None

    def stats(self) -> dict:
        return self._source.stats()

    def start(self):
        return self

    def stop(self) -> None:
        pass


def _asked(record: dict) -> int:
    """The questions the agent asked in a call's record (open and closed)."""
    q = record.get("questions") or {}
    return int(q.get("open", 0) or 0) + int(q.get("closed", 0) or 0)


def _ticked_before(record: dict, before: Optional[dict], asked_before: int = 0,
                   options: Optional[LanguageOptions] = None) -> None:
    """A call going on after a cut (:data:`~voicecoach.calldetect.GOING_ON`) counts what the
    part before it ticked off on the checklist (a greeting said before the pause is not
    missing from the rest), and the questions asked in it (``asked_before``: with
    ``options.min_questions`` 2, one asked before the cut and one after tick "questions",
    as the overlay, which keeps its count, ticked it); ``record["shift"]["ticked_before"]``
    names those items."""
    check = record.get("checklist")
    if not check or not before:
        return
    ticked = [k for k, done in check.items() if not done and before.get(k)]
    if ("questions" in check and not check["questions"] and "questions" not in ticked
            and (options or LanguageOptions()).enough_questions(asked_before + _asked(record))):
        ticked.append("questions")
    record["checklist"] = dict(check, **{k: True for k in ticked})
    record["shift"]["ticked_before"] = ticked


@dataclass
class _Carried:
    """What a call going on after a cut takes from the call it goes on from (the last
    call kept): its checklist, the questions asked so far and the items ticked live only
    (item -> the call they were ticked in)."""

    call: int = 0
    checklist: Optional[dict] = None
    asked: int = 0
    live_only: dict = field(default_factory=dict)


def _live_only_before(record: dict, before: dict[str, int]) -> None:
    """A call going on after a cut: an item the overlay ticked from the live words of a
    part before (``before``: item -> that part's call number) that no part's final
    transcript has stays ticked on the overlay, so this part's record says where it was
    ticked (``live.ticked_live_only[item] = {"in_call": n}``) for the card to say so."""
    check, live = record.get("checklist") or {}, record.get("live")
    if not isinstance(live, dict):
        return
    own = live.get("ticked_live_only") if isinstance(live.get("ticked_live_only"), dict) else {}
    carried = {k: {"in_call": n} for k, n in before.items() if k in check and not check[k] and k not in own}
    if carried:
        live["ticked_live_only"] = dict(own, **carried)


def _live_only(record: dict) -> dict[str, int]:
    """The items :func:`_live_only_before` carries on from ``record``: item -> the number
    of the call they were ticked live in."""
    got = (record.get("live") or {}).get("ticked_live_only")
    if not isinstance(got, dict):
        return {}
    here = (record.get("shift") or {}).get("call")
    return {k: v.get("in_call", here) for k, v in got.items() if isinstance(v, dict)}


def _keep_unheard(recording) -> Optional[Path]:
    """Keep the recording of a stretch the agent's mic did not hear (:data:`UNHEARD`): the
    agent turned recording on, and the caller's side may be a real call's. It is renamed
    ``unheard-call-….wav`` so that recovery does not take it for a killed call (which
    would list it); None when there is none, or it cannot be renamed."""
    if recording is None or not Path(recording).is_file():
        return None
    path = Path(recording)
    kept = path.with_name(f"unheard-{path.name}")
    try:
        os.rename(path, kept)                 # same folder: keeps its mode (0600)
    except OSError:
        return None
    return kept


class Shift:
    """Coach every call of a shift.

    Parameters
    ----------
    source : DeviceSource, ReplaySource or PlaylistSource
        Frames on the shift clock; with ``playback_changes()`` (PulseAudio), the
        call output's playback streams are used as a stronger signal.
    config : Config
    transcribe : bool
    model : faster_whisper.WhisperModel, optional
        Loaded once for the whole shift (loaded here when None and ``transcribe``).
    baseline : voice.Baseline, optional
        The agent's voice profile.
    record_dir : str, optional
        Record each call there (opt-in; the caller's consent is needed).
    save : bool
        Save each call's record and add it to the history (default True).
    demo : bool
        The packaged demo call is replayed: its records are marked ``"demo"`` and so
        kept out of the history (it is not the agent's call).
    records_folder : path, optional
        Where records of unrecorded calls go (default: the data folder's ``records/``).
    history_path : path, optional
        The history database (default: the user's).

    Attributes
    ----------
    calls : list of dict
        Every kept call: ``index``, ``t``, ``end_t`` (the source's clock), ``reason``,
        ``ended_by``, ``record_path`` (None: not saved), ``note``, ``recording``.
    """

    def __init__(self, source, config: Optional["Config"] = None, *, transcribe: bool = True,
                 model=None, baseline=None, record_dir: Optional[str] = None, save: bool = True,
                 demo: bool = False,
                 records_folder=None, history_path=None, snapshot_backlog: int = SNAPSHOT_BACKLOG):
        if config is None:
            from voicecoach.config import Config

            config = Config()
        self.config = config
        self.source = source
        self.transcribe = transcribe
        if transcribe and model is None:
            from voicecoach.stt.whisper import load_model

            model = load_model(config.transcribe, num_workers=len(source.channels),
                               min_window_s=config.streaming.min_window_s or None)
        self.model = model
        self.second_model = None                # the calls' second pass shares one, loaded once
        if transcribe and config.streaming.second_pass:
            from voicecoach.stt import revision

            self.second_model = revision.load_model(config.transcribe)
        self.baseline = baseline
        from voicecoach.analyzers.lexicon import load_lexicon

        # every call's language cues share one: reading and compiling the lists takes half a
        # second, on the engine thread at each call's start otherwise
        self.lexicon = load_lexicon(config.language.lexicon_dirs, config.language.replace_lexicons)
        self.record_dir = record_dir
        self.save = save
        self._stop_after_s: Optional[float] = None
        self._away: Optional[threading.Timer] = None    # ends a --stop-after shift while an input is away
        self.demo = demo
        self.records_folder = records_folder
        self.history_path = history_path
        self.detector = CallDetector(config.shift, config.vad, channels=source.channels)
        self.dispatch = Dispatcher(snapshot_backlog)
        self.call: Optional[LiveSession] = None
        self.calls: list[dict] = []
        self.dropped: list[dict] = []
        self._unsaved: list[tuple] = []         # (summary, record, recording, info) to save again at the end
        self.paused = False
        self._paused_in_call = False            # the pause ended a call, which may go on after it
        self._carried = _Carried()
        self._index = 0
        self._offset = 0.0
        self._started: dict = {}
        self._fed_until: dict[str, float] = {}
        self._away_s = 0.0                      # wall-clock time devices were away, so far
        self._holding = False                   # the open call is on hold (said to subscribers)
        keep_s = config.shift.lead_in_s + config.shift.start_speech_s + 4.0
        self._buffer: deque = deque()
        self._buffer_s = keep_s
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._over = threading.Event()          # the source has ended
        self._closing: queue.Queue = queue.Queue()
        self._closer = threading.Thread(target=self._close_loop, name="shift-closer", daemon=True)
        self.error: Optional[BaseException] = None

    # ------------------------------------------------------------------ other threads
    def subscribe(self, fn: Subscriber) -> None:
        self.dispatch.subscribe(fn)

    def by_hand(self) -> None:
        """Start a call now (resuming coaching if it was paused), or end the open one (the
        agent's hotkey); any thread."""
        self._requests.put("hand")

    def mark(self) -> None:
        """Mark this moment of the open call (shown on the review's timeline); any thread."""
        self._requests.put("mark")

    def pause(self) -> None:
        """Stop coaching: the open call ends and no call starts until :meth:`resume`."""
        self._requests.put("pause")

    def resume(self) -> None:
        self._requests.put("resume")

    def stop(self) -> None:
        """End the shift (the open call is finished and saved); any thread."""
        self._stop.set()
        self.source.stop()

    @property
    def stopping(self) -> bool:
        """:meth:`stop` was asked for, or the source has ended (a replay played out): no
        call comes after the ones being saved."""
        return self._stop.is_set() or self._over.is_set()

    # ------------------------------------------------------------------ the engine thread
    @property
    def model_name(self) -> Optional[str]:
        return self.config.transcribe.model if self.transcribe else None

    def run(self, stop_after_s: Optional[float] = None) -> list[dict]:
        """Listen until the source ends, :meth:`stop` or ``stop_after_s`` of shift time;
        return :attr:`calls` once every call is saved and every subscriber has had everything
        (or been left behind: :meth:`voicecoach.live.Dispatcher.drain`)."""
        self.dispatch.start()
        self._closer.start()
        self._stop_after_s = stop_after_s
        try:
            self.source.start()
            try:
                for frame in self.source:
                    if self._stop.is_set():
                        break
                    if isinstance(frame, DeviceLost):      # a reconnecting source waits for it
                        self._device_lost(frame)
                        continue
                    if isinstance(frame, DeviceBack):
                        self._away_s += frame.away_s
                        self._away_timer(None)
                        self.dispatch.emit("shift", {"away": None})
                        self.dispatch.emit("status", str(frame))
                        continue
                    self._step(frame)
                    if stop_after_s is not None and frame.start_s + self._away_s >= stop_after_s:
                        break             # shift time: the source's clock leaves out the time away
            finally:
                self.source.stop()
            self._over.set()                             # nothing more to listen to: no next call
            self._apply(self._playback_changes())        # a replay's last recording ends with its stream
            lost = getattr(self.source, "lost", None)
            if lost:
                self.dispatch.emit("status", f"{self._lost(lost)}; everything so far is kept")
            self._apply(self.detector.finish("device lost" if lost else "shift end"))
        finally:
            self._away_timer(None)
            if self.call is not None:                     # after an error: keep what there is
                self._end(CallChange("end", self.detector.time, "shift end"))
            self._closing.put(None)
            self._closer.join()
            for kind, payload in self._save_again():
                self.dispatch.emit(kind, payload)
            self.dispatch.drain()
        if self.error is not None:
            raise self.error
        return self.calls

    def _step(self, frame) -> None:
        self._take_requests()
        self._apply(self._playback_changes())
        self._buffer.append(frame)
        while self._buffer and self._buffer[0].start_s < frame.start_s - self._buffer_s:
            self._buffer.popleft()
        self._apply(self.detector.feed(frame.channel, frame.start_s, frame.samples, decide=not self.paused))
        if self.call is not None:
            self._feed(frame)
            self._agent_words()
        if self.detector.holding != self._holding:         # said, so the agent knows the call goes on
            self._holding = not self._holding
            self.dispatch.emit("shift", {"hold": self._holding})

    def _device_lost(self, lost: DeviceLost) -> None:
        """An input went away mid-shift: the open call ends there and is saved; the
        source looks for the input again."""
        self.dispatch.emit("status", f"{self._lost(lost)}; everything so far is kept; waiting for it to come back")
        if self._stop_after_s is not None:    # frames tell the shift's time, and none come now
            self._away_timer(max(0.0, self._stop_after_s - lost.t_s - self._away_s))
        self._apply(self.detector.finish("device lost"))
        self.dispatch.emit("shift", {"away": f"Lost {lost.device} — waiting for it to come back"})

    def _lost(self, lost: DeviceLost) -> str:
        """The loss as the agent reads it: on the shift's clock, as the calls' headers are
        (the source's clock leaves out the time a device was away)."""
        from voicecoach.sinks.view import clock

        return f"lost audio input {lost.device!r} {clock(lost.t_s + self._away_s)} into the shift: {lost.reason}"

    def _away_timer(self, after_s: Optional[float]) -> None:
        """End the shift ``after_s`` from now (wall clock) unless the input is back first;
        None: no such end."""
        if self._away is not None:
            self._away.cancel()
            self._away = None
        if after_s is not None:
            self._away = threading.Timer(after_s, self.stop)
            self._away.daemon = True
            self._away.start()

    def _take_requests(self) -> None:
        while True:
            try:
                what = self._requests.get_nowait()
            except queue.Empty:
                return
            if what == "hand":
                if self.paused:                             # the call hotkey while paused: coach this call
                    self._resume(call_cut=False)
                self._apply(self.detector.by_hand())
            elif what == "mark" and self.call is not None:
                from voicecoach.events import Event

                t = self.call.engine.time
                e = Event("cue", t, None, "You marked this moment", {"cue": "mark"})
                self.call.engine.events.append(e)
                self.call._send([e])
            elif what == "pause" and not self.paused:
                self._paused_in_call = self.call is not None
                if self.call is not None:
                    self._apply(self.detector.by_hand())
                self.paused = True
                self.dispatch.emit("shift", {"paused": True})
            elif what == "resume" and self.paused:
                self._resume(call_cut=self._paused_in_call)

    def _resume(self, call_cut: bool) -> None:
        self.paused = False
        self.detector.resume(call_cut)                      # only what comes from now on
        self.dispatch.emit("shift", {"paused": False})

    def _playback_changes(self) -> list[CallChange]:
        take = getattr(self.source, "playback_changes", None)
        if take is None:
            return []
        out = []
        for present, t in take():                           # taken while paused too, and let go:
            if not self.paused:                             # a stream seen then starts no call later
                out += self.detector.stream(present, t)
        return out

    def _apply(self, changes: list[CallChange]) -> None:
        for c in changes:
            if c.kind == "start":
                self._begin(c)
            elif self.call is not None:
                self._end(c)

    def _begin(self, c: CallChange) -> None:
        self._index += 1
        recorder = None
        if self.record_dir:
            from voicecoach.sinks.recorder import Recorder

            # its writer thread makes the file; the demo's is named apart ("demo-..."): a
            # killed session's recording of it is nobody's call, never recovered (``call-*.wav``)
            recorder = Recorder(self.record_dir, self.source.channels, prefix="demo" if self.demo else "call")
        when = _dt.datetime.now() - _dt.timedelta(seconds=max(0.0, self.detector.time - c.t))  # the call's start
        session = LiveSession(_CallView(self.source), self.config, transcribe=self.transcribe,
                              model=self.model, second_model=self.second_model, baseline=self.baseline,
                              recorder=recorder, lexicon=self.lexicon,
                              name=f"call {self._index}, {when:%Y-%m-%d %H:%M}", dispatcher=self.dispatch)
        session.begin()
        self.call = session
        self._offset = c.t
        self._started = {"index": self._index, "t": c.t, "reason": c.reason, "when": when,
                         "away_s": self._away_s}
        if c.reason in GOING_ON:                    # the call before, cut, going on
            self._started["continues"] = self._index - 1
        self._fed_until = {}
        self.dispatch.emit("call", {"state": "started", "index": self._index, "t": c.t, "reason": c.reason,
                                    "shift_s": c.t + self._away_s})
        for f in self._buffer:                      # from the call's true start
            self._feed(f)

    def _feed(self, frame) -> None:
        ch = frame.channel
        if ch not in self.call.engine.channels:
            return
        n = len(frame.samples)
        start = frame.start_s - self._offset
        done = self._fed_until.get(ch)
        if done is None:                             # the channel's first block starts at 0.0
            if start + n / SAMPLE_RATE <= 0:
                return
            cut = max(0, int(round(-start * SAMPLE_RATE)))
            samples, start = frame.samples[cut:], max(0.0, start + cut / SAMPLE_RATE)
        elif start < done - 1e-6:                    # already fed (the lookback)
            return
        else:
            samples = frame.samples
        if not len(samples):
            return
        self._fed_until[ch] = start + len(samples) / SAMPLE_RATE
        self.call.feed_frame(CapturedFrame(ch, start, samples,
                                           getattr(frame, "captured_at", time.monotonic())))

    def _agent_words(self) -> None:
        """Tell the call detector what the open call's agent words say (on the shift's
        clock): where the latest ends, and where they last asked the caller to hold."""
        if not self.transcribe or AGENT not in self.call.words:
            return
        words, asked = self.call.words[AGENT], self.call.coach.hold.asked_at
        self.detector.words_t = self._offset + (words[-1].end if words else 0.0)
        self.detector.hold_at = None if asked is None else self._offset + asked

    def _end(self, c: CallChange) -> None:
        session, self.call = self.call, None
        self._holding = False                    # a hold ends with its call: nothing more to say
        info = dict(self._started, end_t=c.t, ended_by=c.reason, keep=c.keep, why=c.why)
        self.dispatch.emit("call", {"state": "ending", "index": info["index"], "t": info["t"],
                                    "end_t": c.t, "reason": info["reason"], "ended_by": c.reason})
        if not c.keep:                          # said before the next call takes its number
            self._index -= 1
            self.dispatch.emit("call", {"state": "dropped", "index": info["index"], "t": info["t"],
                                        "end_t": c.t, "reason": info["reason"], "ended_by": c.reason,
                                        "why": c.why})
        self._closing.put((session, info))

    def _save_again(self) -> list:
        """Try again to save the records that could not be saved when their call ended (a
        disk that was full may have room now): after a call that could be, and at the
        shift's end. Closer thread, or the engine thread once the closer has ended.
        Returns a ``"saved"`` item to tell for each record saved now."""
        told = []
        for summary, record, recording, info in self._unsaved:
            path, note = self._save(record, recording, info)
            if path is not None:
                summary.update(record_path=str(path), note=note)
                told.append(("call", dict(summary, state="saved", record=record)))
        self._unsaved = [u for u in self._unsaved if u[0]["record_path"] is None]
        return told

    # ------------------------------------------------------------------ the closer thread
    def _close_loop(self) -> None:
        while True:
            item = self._closing.get()
            if item is None:
                return
            try:
                told = self._close(*item)
            except BaseException as exc:       # raised again by run()
                self.error = self.error or exc
                told = []
            item = None                        # the call's engine and transcribers go now, and
            release_free_memory()              # their memory back to the system: a shift stays flat
            for kind, payload in told:
                self.dispatch.emit(kind, payload)

    def _close(self, session: LiveSession, info: dict) -> list:
        """Finish and save one call; return what to tell the subscribers."""
        end_s = info["end_t"] - info["t"]
        try:
            record = session.end(end_s=end_s, quiet=True)
        finally:
            session.close_recorders()
        base = {"index": info["index"], "t": info["t"], "end_t": info["end_t"],
                "reason": info["reason"], "ended_by": info["ended_by"]}
        if not info["keep"]:
            kept = _keep_unheard(session.recording_path) if info["why"] == UNHEARD else None
            if session.recording_path is not None and kept is None:
                try:
                    Path(session.recording_path).unlink(missing_ok=True)   # nothing worth keeping
                except OSError:
                    pass                                # a folder that no longer takes changes
            base["why"] = info["why"]
            self.dropped.append(base)
            also = f"; its recording is kept as {kept}" if kept is not None else ""
            return [("status", f"That was not a call ({not_a_call(base)}); not kept{also}")]
        # the history lists a call by when it began, not when its record was saved
        record["created"] = info["when"].astimezone(_dt.timezone.utc).isoformat(timespec="seconds")
        away = info["away_s"]                 # the source's clock leaves out time a device was away
        record["shift"] = {"call": info["index"], "start_s": round(info["t"] + away, 3),
                           "end_s": round(info["end_t"] + away, 3), "started_by": info["reason"],
                           "ended_by": info["ended_by"]}
        asked = _asked(record)                # counted over the parts of a call that goes on
        if info.get("continues") is not None:
            record["shift"]["continues"] = info["continues"]
            before = self._carried
            if before.call == info["continues"]:
                _ticked_before(record, before.checklist, before.asked, self.config.language)
                _live_only_before(record, before.live_only)
                asked += before.asked
        self._carried = _Carried(info["index"], record.get("checklist"), asked, _live_only(record))
        if self.demo:
            record["demo"] = True
        path, note = self._save(record, session.recording_path, info)
        summary = dict(base, record_path=str(path) if path else None, note=note,
                       recording=str(session.recording_path) if session.recording_path else None)
        self.calls.append(summary)
        told = [("call", dict(summary, state="ended", record=record))]
        if path is None and self.save:
            self._unsaved.append((summary, record, session.recording_path, info))
        elif self._unsaved:                   # this one fitted: those before it may now
            told += self._save_again()
        return told

    def _save(self, record: dict, recording, info: dict):
        if not self.save:
            return None, ""
        from voicecoach.store.calls import save_call, save_new_call
        from voicecoach.store.private import new_private_file, records_dir

        if recording is not None:                  # beside its recording, even one a full disk stopped
            return save_new_call(record, recording, self.history_path)
        folder = Path(self.records_folder) if self.records_folder else records_dir()
        stamp = info["when"].strftime("%Y%m%d-%H%M%S")
        path = folder / f"call-{stamp}-{info['index']:03d}.json"
        try:                                       # a name of its own: another shift, or a replay
            path, fd = new_private_file(folder, path.stem, ".json")     # beside it, may start
            os.close(fd)                                                 # a call in the same second
            try:
                return path, save_call(record, path, self.history_path)
            except OSError:
                path.unlink(missing_ok=True)
                raise
        except OSError as exc:
            return None, f"the call record could not be saved to {path} ({exc.strerror or exc})"
