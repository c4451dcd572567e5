"""What the review does to calls, beside showing one: its menu bar, opening another
call, exporting the report of the call shown, sharing it with the coach or taking it
back, and deleting a call from the History tab.

:class:`ReviewActions` is a part of :class:`ui.review.ReviewWindow` (its base class),
kept here so that the window's module is the view. The rules are elsewhere: the
report is :mod:`voicecoach.sinks.report`'s, sharing :mod:`ui.share`'s and
:mod:`voicecoach.store.team`'s, deleting :mod:`voicecoach.store.delete`'s; these
methods ask, act and say the outcome on the window's status bar.
"""
from __future__ import annotations

import errno
from pathlib import Path
from typing import Callable, Optional, Union

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from voicecoach.paths import same_file
from voicecoach.sinks.report import write_report, written_line
from voicecoach.sinks.view import CARE_NOTE
from voicecoach.sources.audio import AUDIO_SUFFIXES, AudioError
from voicecoach.store.delete import DeleteError, delete_call, plan_deletion
from voicecoach.store.record import RecordError
from voicecoach.stt.whisper import ModelError

from .analysing import Cancelled, open_call
from .share import share_with_coach, team_configured
from .widgets import plain


class ReviewActions:
    """The review window's menu bar and the actions on calls it offers (a base class of
    :class:`ui.review.ReviewWindow`, which has the call shown as ``source``, the widgets
    these actions enable and disable, and :meth:`~ui.review.ReviewWindow.load`,
    ``refresh_history`` and ``_shown_call_deleted``)."""

    # ---- menus
    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Open call…", QKeySequence.StandardKey.Open, self._open_dialog)
        self.export_action = self._action(file, "&Export report…", "Ctrl+E", self._export_dialog)
        self.share_action = self._action(file, "&Share with my coach…", None, lambda: self.share())
        self.unshare_action = self._action(file, "&Take back from my coach", None, lambda: self.share(undo=True))
        for action in (self.share_action, self.unshare_action):
            action.setVisible(team_configured(self._config))
        file.addSeparator()
        self._action(file, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        play = bar.addMenu("&Playback")
        self._action(play, "Play / pause", "Space", lambda: self._on_call() and self.toggle_play())
        self._action(play, "Back 5 s", "Left", lambda: self._on_call() and self.seek(self._position - 5.0))
        self._action(play, "Forward 5 s", "Right", lambda: self._on_call() and self.seek(self._position + 5.0))
        self._action(play, "Zoom to fit", "Ctrl+0", lambda: self.timeline.zoom_to_fit())
        view = bar.addMenu("&View")
        self._action(view, "&Call", "Ctrl+1", lambda: self.tabs.setCurrentIndex(0))
        self._action(view, "&History", "Ctrl+2", lambda: self.tabs.setCurrentIndex(1))
        help_ = bar.addMenu("&Help")
        self._action(help_, "About the scores", None, lambda: QMessageBox.information(
            self, "VoiceCoach", "VoiceCoach is your own coach, on your own machine.\n\n" + CARE_NOTE +
            "\nWarmth least of all: acted or smiled speech is not a measure of a person."))

    def _on_call(self) -> bool:
        """The call is shown (not the History tab): the playback keys act on it only then."""
        return self.tabs.currentIndex() == 0

    def _action(self, menu, text, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # ---- opening
    def open_path(self, path: Union[str, Path]) -> bool:
        """Open another call (from the menu or the history); errors go to a message box."""
        try:
            source = open_call(path, self._config, self, self.history_path, self._baseline)
        except Cancelled as exc:
            self.statusBar().showMessage(str(exc), 15000)
            return False
        except (AudioError, RecordError, ModelError) as exc:      # ModelError: a recording to analyse
            QMessageBox.warning(self, "VoiceCoach", plain(str(exc)))
            return False
        self.load(source)
        self.tabs.setCurrentIndex(0)
        return True

    def _open_dialog(self) -> None:
        kinds = " ".join(f"*{suffix}" for suffix in (".json",) + AUDIO_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open a call", "", f"Calls ({kinds});;All files (*)")
        if path:
            self.open_path(path)

    # ---- report
    def export_report(self, out_path: Union[str, Path]) -> Path:
        """Write the HTML report of the call shown (raises OSError). Refused (OSError) where
        ``out_path`` is the call's record or one of its recordings, as ``voicecoach report
        -o`` refuses it: the file dialog only asks before it replaces a file."""
        for path, what in [(self.source.record_path, "the call's record")] + [
                (f, "the call's recording") for f in self.source.audio_files]:
            if path is not None and same_file(out_path, path):
                raise OSError(errno.EEXIST, f"it is {what}, and writing the report there would destroy "
                                            "it: name another file")
        notes: list = []
        out = write_report(self.source.record, self.source.audio, out_path, notes=notes)
        self.statusBar().showMessage(written_line(out, notes), 15000)
        return out

    def _export_dialog(self) -> None:
        if self.source is None:
            return
        base = self.source.record_path or self.source.audio_path
        suggested = str(base.with_suffix(".html")) if base is not None else "report.html"
        path, _ = QFileDialog.getSaveFileName(self, "Export report", suggested, "HTML (*.html)")
        if not path:
            return
        try:
            self.export_report(path)
        except OSError as exc:
            QMessageBox.warning(self, "VoiceCoach", plain(f"Cannot write {path}: {exc.strerror or exc}"))

    # ---- sharing
    def share(self, with_audio: Optional[bool] = None, undo: bool = False,
              done: Optional[Callable[[bool, str], None]] = None):
        """Share the call shown with the coach (``with_audio`` None: ask), or take it back;
        the outcome goes to the status bar (and a message box when it failed). Returns the
        worker thread, or None when nothing was started."""
        if self.source is None or self.source.shared_by or not team_configured(self._config):
            return None

        controls = (self.share_button, self.share_action, self.unshare_action)

        def finished(ok: bool, message: str) -> None:
            for widget in controls:
                widget.setEnabled(self.source is not None and not self.source.shared_by)
            self.statusBar().showMessage(message, 15000)
            if not ok:
                QMessageBox.warning(self, "VoiceCoach", message)
            if done is not None:
                done(ok, message)

        self.statusBar().showMessage("Taking the call back…" if undo else "Sharing with your coach…")
        worker = share_with_coach(self, self.source.record, self.source.audio_files or None, self._config,
                                  with_audio=with_audio, undo=undo, done=finished)
        if worker is not None:     # one at a time: a take-back would not see a share not yet committed
            for widget in controls:
                widget.setEnabled(False)
        return worker

    # ---- deleting
    def delete_from_history(self, record_path: Union[str, Path]) -> bool:
        """Delete a call of the History tab once the agent confirms, by the rule ``voicecoach
        history --delete`` follows (:mod:`voicecoach.store.delete`); the outcome goes to the
        status bar, a failure to a message box too. True when it was deleted."""
        import sqlite3

        try:
            plan = plan_deletion(record_path, self.history_path, team=team_configured(self._config))
        except (DeleteError, sqlite3.Error, OSError) as exc:
            QMessageBox.warning(self, "VoiceCoach", plain(str(exc)))
            return False
        if not self._confirm_delete(plan):
            return False
        try:
            line = delete_call(plan, self.history_path)
        except DeleteError as exc:
            QMessageBox.warning(self, "VoiceCoach", plain(str(exc)))
            self.refresh_history()
            return False
        shown = self.source.record_path if self.source is not None else None
        if shown is not None and Path(shown).resolve() == plan.record_path:
            self._shown_call_deleted()
        self.refresh_history()
        self.statusBar().showMessage(line, 30000)
        return True

    def _confirm_delete(self, plan) -> bool:
        """Ask before deleting: the call by its number, date and name, and every file that goes."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete call", plain(f"Delete {plan.title}?"),
                          QMessageBox.StandardButton.NoButton, self)
        goes = "\n".join(f"• {line.strip()}" for line in plan.details().splitlines())
        box.setInformativeText(plain(f"This deletes for good:\n{goes}"))
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.exec()
        return box.clickedButton() is delete
