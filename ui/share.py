"""Sharing a call with the coach from a window: the review's "Share with my coach" and the
after-call card's button call :func:`share_with_coach`.

The network is never touched on the GUI thread: the share runs on a worker thread and
``done(ok, message)`` is called back on the GUI thread with the line to show. The rules
(what is sent, one transaction, one clear line on failure) are
:mod:`voicecoach.store.team`'s.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional, Union

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QMessageBox, QWidget

from voicecoach.store.team import team_configured  # noqa: F401  (the share actions show only with one)


class _Done(QObject):
    finished = pyqtSignal(bool, str)


_pending: set = set()
"""Bridges whose answer has not come yet (GUI thread only): held here, not by the worker."""


def ask_with_audio(parent: Optional[QWidget], audio_path: Union[str, Path, None]) -> Optional[bool]:
    """Ask whether the recording goes too: True, False (the record alone), or None (cancelled).
    Without a recording it only asks to confirm."""
    box = QMessageBox(parent)
    box.setWindowTitle("Share with my coach")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText("Share this call with your coach?")
    box.setInformativeText("Your coach will see its scores, transcript and cues"
                           + (". The recording goes only if you choose it." if audio_path else
                              " (there is no recording to share).")
                           + " You can take it back at any time.")
    record_only = box.addButton("Share the call" if audio_path else "Share", QMessageBox.ButtonRole.AcceptRole)
    with_audio = box.addButton("Share with the recording", QMessageBox.ButtonRole.AcceptRole) if audio_path else None
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is record_only:
        return False
    if with_audio is not None and clicked is with_audio:
        return True
    return None


def share_with_coach(parent: Optional[QWidget], record: dict, audio_path: Union[str, Path, tuple, None], config, *,
                     with_audio: Optional[bool] = None, undo: bool = False,
                     done: Optional[Callable[[bool, str], None]] = None) -> Optional[threading.Thread]:
    """Share a call with the coach (or take it back, ``undo=True``) without blocking the window.

    Parameters
    ----------
    parent : QWidget or None
        The window asking (for the question box).
    record : dict
        The call record.
    audio_path : path, tuple of paths, or None
        Its recording on this machine, if there is one (one file per side: a tuple).
    config : voicecoach.config.Config
        Names the team store (``[team] database``).
    with_audio : bool, optional
        Send the recording too; None asks the agent first.
    done : callable, optional
        ``done(ok, message)``, called on the GUI thread when finished; by default a
        message box on failure.

    Returns
    -------
    threading.Thread or None
        The worker (already started), or None when the agent cancelled.
    """
    from voicecoach.store.team import TeamError, share_local_call, unshare_local_call

    if not undo and with_audio is None:
        with_audio = ask_with_audio(parent, audio_path)
        if with_audio is None:
            return None
    # Owned by the window (or kept alive until it has delivered): a QObject that Python
    # frees on the worker thread, while the GUI thread still holds its queued signal, is
    # deleted from the wrong thread.
    bridge = _Done(parent)

    def finished(ok: bool, message: str) -> None:
        bridge.deleteLater()
        _pending.discard(bridge)
        if done is not None:
            done(ok, message)
        elif not ok:
            QMessageBox.warning(parent, "VoiceCoach", message)

    bridge.finished.connect(finished)

    def work() -> None:
        try:
            if undo:
                message = unshare_local_call(config, record)
            else:
                message = share_local_call(config, record, audio_path if with_audio else None)
        except TeamError as exc:
            bridge.finished.emit(False, f"Not shared: {exc}" if not undo else f"Not taken back: {exc}")
        except Exception as exc:          # never a silent failure in a window
            bridge.finished.emit(False, f"Not shared: {exc.__class__.__name__}: {exc}")
        else:
            bridge.finished.emit(True, message)

    _pending.add(bridge)
    worker = threading.Thread(target=work, name="voicecoach-share", daemon=True)
    worker.start()
    return worker
