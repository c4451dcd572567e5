"""The one crossing between the engine's thread and the Qt GUI thread.

A :class:`LiveBridge` is a :class:`voicecoach.live.LiveSession` subscriber: the
engine calls it on its own thread, and it re-emits what it gets as Qt signals.
The bridge lives in the GUI thread, so slots of GUI objects connected to it run
there (Qt queues the signal across threads); the engine never waits on the GUI.

A :class:`SessionRunner` builds a session (which loads the speech model, so it
takes a while) and runs the call on a worker thread, reporting through the same
bridge: ``started`` once the session exists, then its events, snapshots and
status lines, then ``finished`` with the call record, or ``failed``.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Optional

from PyQt6.QtCore import QObject, pyqtSignal

if TYPE_CHECKING:
    from voicecoach.live import LiveSession


class LiveBridge(QObject):
    """Signals for a live session's output; call the bridge as a session subscriber.

    Signals
    -------
    event(Event)
        Something the engine noticed (a word, an interruption, a nudge...).
    snapshot(dict)
        The live metrics (``LiveSession.snapshot()``), every ``snapshot_s`` of call time.
    status(str)
        A line for the agent ("speech-to-text is 5.2 s behind; catching up").
    call(dict)
        Shift mode: a call started, ended (with its record) or was not a call.
    shift(dict)
        Shift mode: coaching paused or resumed (``{"paused": bool}``), an input went
        away and is waited for (``{"away": "what to say"}``) or is back (``{"away": None}``).
    started(LiveSession or Shift)
        The session is built (the model is loaded) and the call is starting.
    finished(object)
        The call ended: its record (dict), or None when it was stopped before it began.
    failed(object)
        Building or running the session raised this exception.
    """

    event = pyqtSignal(object)
    snapshot = pyqtSignal(object)
    call = pyqtSignal(object)
    shift = pyqtSignal(object)
    status = pyqtSignal(str)
    started = pyqtSignal(object)
    finished = pyqtSignal(object)
    failed = pyqtSignal(object)

    def __call__(self, kind: str, payload) -> None:
        """The session subscriber: ``("event", Event)``, ``("snapshot", dict)`` or
        ``("status", str)``, on the engine's thread."""
        if kind == "event":
            self.event.emit(payload)
        elif kind == "snapshot":
            self.snapshot.emit(payload)
        elif kind == "status":
            self.status.emit(str(payload))
        elif kind == "call":
            self.call.emit(payload)
        elif kind == "shift":
            self.shift.emit(payload)


class SessionRunner:
    """Build a live session and run its call on a worker thread.

    Parameters
    ----------
    make_session : callable
        Returns a new :class:`~voicecoach.live.LiveSession` (loading the model
        if it transcribes); called on the worker thread.
    bridge : LiveBridge
        Subscribed to the session; carries ``started``, ``finished`` and ``failed``.
    stop_after_s : float, optional
        End the call after this much call time (s).
    """

    def __init__(self, make_session: Callable[[], "LiveSession"], bridge: LiveBridge,
                 stop_after_s: Optional[float] = None):
        self.make_session = make_session
        self.bridge = bridge
        self.stop_after_s = stop_after_s
        self.session: Optional[LiveSession] = None
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="voicecoach-live", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the call (from any thread); before the session exists, it will not start."""
        with self._lock:
            self._stopping = True
            session = self.session
        if session is not None:
            session.stop()

    def _work(self) -> None:
        try:
            session = self.make_session()
            with self._lock:
                self.session = session
                stopping = self._stopping
            if stopping:
                self.bridge.finished.emit(None)
                return
            session.subscribe(self.bridge)
            self.bridge.started.emit(session)
            self.bridge.finished.emit(session.run(stop_after_s=self.stop_after_s))
        except BaseException as exc:  # handed to the GUI thread, which re-raises it
            self.bridge.failed.emit(exc)


class ShiftRunner(SessionRunner):
    """Build a :class:`voicecoach.shift.Shift` (loading the model) and run it on a worker
    thread, as :class:`SessionRunner` runs a call; ``finished`` carries the list of the
    shift's calls."""
