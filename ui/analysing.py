"""Opening a call for the review: a recording with no record yet is analysed on a worker
thread under a progress dialog, which Cancel (or Esc) stops at the analysis's next
progress report, as Ctrl-C, SIGTERM and SIGHUP do (:func:`ended_by_signals`); which
record, where a new one is saved and the history are :mod:`voicecoach.store.calls`'s."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Optional, Union

from PyQt6.QtCore import QEventLoop, QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import QApplication, QProgressDialog, QWidget

from voicecoach.analyze import analyze_call
from voicecoach.analyzers.voice import Baseline
from voicecoach.sources.audio import CallAudio
from voicecoach.store import calls
from voicecoach.store.calls import OpenedCall

from .signals import on_stop_signals


class Cancelled(Exception):
    """The agent cancelled the analysis of a call being opened (its progress dialog)."""


INTERRUPTED = threading.Event()
"""Ctrl-C (or SIGTERM, SIGHUP) came while :func:`run_review` runs: an analysis under way
stops at its next progress report, and the review ends."""


@contextlib.contextmanager
def ended_by_signals(app: QApplication):
    """While the review runs from a terminal: Ctrl-C, SIGTERM and SIGHUP end it (raised
    after as KeyboardInterrupt, which the command line says in one line)."""
    INTERRUPTED.clear()

    def stop() -> None:
        INTERRUPTED.set()
        app.exit(130)              # every event loop: the window's and an analysis's

    with on_stop_signals(stop):
        yield
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


class _Bridge(QObject):
    progressed = pyqtSignal(str, float)
    done = pyqtSignal()


def analyse_with_progress(call: CallAudio, config=None, parent: Optional[QWidget] = None,
                          baseline: Optional[Baseline] = None) -> dict:
    """Analyse a call on a worker thread under a progress dialog; returns its record.
    ``baseline``: the voice profile warmth is judged against (None: the call's own start).

    Raises
    ------
    Cancelled
        The dialog's Cancel (or Esc): the analysis stops at its next progress report, so
        a long recording opened by mistake does not hold the window for minutes."""
    dialog = QProgressDialog(f"Analysing {call.name}…", "Cancel", 0, 1000, parent)
    dialog.setAutoReset(False)
    dialog.setAutoClose(False)
    cancelled = threading.Event()
    dialog.canceled.connect(cancelled.set)        # the Cancel button, Esc, closing it
    dialog.rejected.connect(cancelled.set)
    dialog.setWindowTitle("VoiceCoach")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setValue(0)
    stages = {"audio": 0.0, **{ch: 0.0 for ch in call.channels()}}
    weight = {"audio": 0.25, **{ch: 0.75 / len(call.channels()) for ch in call.channels()}}
    dialog.setMinimumWidth(420)
    bridge = _Bridge()
    result: dict = {}

    def update(stage: str, fraction: float) -> None:
        stages[stage] = fraction
        dialog.setLabelText("Listening to both sides…" if stages["audio"] < 1.0
                            else "Transcribing what was said…")
        dialog.setValue(int(1000 * sum(weight[s] * f for s, f in stages.items())))

    def report(stage: str, done: float, total: float) -> None:
        if cancelled.is_set() or INTERRUPTED.is_set():
            raise Cancelled(f"{call.name}: analysis cancelled")
        bridge.progressed.emit(stage, done / total if total else 1.0)

    def work() -> None:
        try:
            result["record"] = analyze_call(call, config, baseline=baseline, progress=report)
        except BaseException as exc:          # re-raised on the GUI thread below
            result["error"] = exc
        finally:
            bridge.done.emit()

    loop = QEventLoop()
    bridge.progressed.connect(update)
    bridge.done.connect(loop.quit)
    worker = threading.Thread(target=work, name="voicecoach-analyse", daemon=True)
    worker.start()
    loop.exec()
    worker.join()
    stopped = cancelled.is_set()
    dialog.canceled.disconnect(cancelled.set)     # closing a QProgressDialog emits canceled too
    dialog.rejected.disconnect(cancelled.set)
    dialog.close()
    if stopped:
        raise Cancelled(f"{call.name}: analysis cancelled; nothing opened")
    if "error" in result:
        raise result["error"]
    return result["record"]


def open_call(call: Union[str, Path, dict, tuple], config=None, parent: Optional[QWidget] = None,
              history_path: Union[str, Path, None] = None,
              baseline: Optional[Baseline] = None, agent_channel: Optional[str] = None) -> OpenedCall:
    """What to review for ``call``: ``"demo"``, a recording, a call record file, a record
    dict or a recording as ``(agent, customer)`` files.

    :func:`voicecoach.store.calls.open_call`'s rules (a record if there is one, else the
    recording analysed against ``baseline``, the voice profile, and its new record saved
    and added to the history), analysing under a progress dialog.

    Raises
    ------
    AudioError, RecordError
        The file cannot be read (one line).
    """
    return calls.open_call(call, config, history_path=history_path, baseline=baseline,
                           agent_channel=agent_channel, analyse=lambda audio, cfg, base: analyse_with_progress(audio, cfg, parent, base))
