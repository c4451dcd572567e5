"""The replay review: a finished call on one timeline, with its transcript, scores and playback.

``voicecoach review CALL`` opens a recording (analysed first, under a progress dialog,
when it has no call record yet: :mod:`ui.analysing`) or a call record (its audio is the
recording of ``record["source"]["name"]`` beside it or where the history says it was
made from, as long as the call; without it the window shows the record without
waveforms or playback). Which record, where a new one is saved and the history are
:mod:`voicecoach.store.calls`'s; playback is :mod:`voicecoach.sinks.playback`'s; the
window only shows. Its menus, and what it does to calls (open another, export the
report, share with the coach, delete from the History tab), are
:mod:`ui.review_actions`. Clicking anywhere on the timeline, a transcript line or a listed
item plays the call from there.

``run_review(CALL, screenshot="out.png")`` renders the window offscreen and saves it.
"""
from __future__ import annotations

import gc
import os
import re
import sys
from pathlib import Path
from typing import Callable, Optional, Union

from PyQt6.QtCore import QEvent, Qt, QTimer
from PyQt6.QtGui import QCursor, QGuiApplication
from PyQt6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from voicecoach.analyzers.voice import Baseline
from voicecoach.sinks.playback import PlaybackError, Player
from voicecoach.sinks.report import call_date
from voicecoach.sinks.view import (
    CARE_NOTE,
    REPHRASE,
    also_named,
    call_name,
    turn_legend,
    clock,
    empty_list_text,
    empty_transcript_text,
    line_at,
    mark_text,
    marks,
    transcript_lines,
)
from voicecoach.store.calls import OpenedCall
from voicecoach.store.history import History, left_out_line, trend_lines

from . import screen_problem
from .analysing import INTERRUPTED, Cancelled, ended_by_signals, open_call
from .review_actions import ReviewActions
from .style import FONT_PT, apply_style, quiet_qt
from .share import team_configured
from .widgets import (
    CUE_GLYPHS,
    plain,
    ElidedLabel,
    FitColumn,
    HistoryView,
    ScorecardPanel,
    TimedTable,
    TimelineView,
    card,
    label,
    legend,
    write_screenshot,
)

TICK_MS = 40
"""How often (ms) the playhead follows the player."""

HISTORY_ROWS = 100
"""How many of the latest calls the History tab lists (it says so when there are more)."""


# --------------------------------------------------------------------------- the window

class ReviewWindow(ReviewActions, QMainWindow):
    """The review of one call, and the history of past calls.

    Parameters
    ----------
    history_path : path, optional
        The history database (default: the user's, see :mod:`voicecoach.store.history`):
        calls opened in the window are added to it, and its tab lists it.
    stream_factory : callable, optional
        Passed to :class:`voicecoach.sinks.playback.Player` (tests drive playback with a
        stand-in stream).
    baseline : Baseline, optional
        The voice profile a recording opened without a record is analysed against.
    """

    def __init__(self, history_path: Union[str, Path, None] = None,
                 stream_factory: Optional[Callable] = None, config=None,
                 baseline: Optional[Baseline] = None):
        super().__init__()
        self.setWindowTitle("VoiceCoach — review")
        self.history_path = history_path
        self._stream_factory = stream_factory
        self._config = config
        self._baseline = baseline
        self.source: Optional[OpenedCall] = None
        self.player: Optional[Player] = None
        self.lines = []
        self._position = 0.0
        self._autoplay = True          # click-to-listen, until playback turns out impossible
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    # ---- layout
    def _build(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)

        page = QWidget()
        page.setObjectName("page")
        outer = QHBoxLayout(page)
        outer.setContentsMargins(12, 10, 12, 10)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        outer.addWidget(split)

        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 6, 0)
        col.setSpacing(10)
        self.title = ElidedLabel("", "title")       # a long file name gives way to the buttons
        self.subtitle = label("", "subtitle")
        self.subtitle.setWordWrap(True)       # a narrow window: the date and model wrap below the buttons
        self.play_button = QPushButton("▶  Play")
        self.play_button.setObjectName("play")
        self.play_button.clicked.connect(self.toggle_play)
        self.time_label = label("0:00 / 0:00", "time")
        self.fit_button = fit = QPushButton("Zoom to fit")
        fit.clicked.connect(lambda: self.timeline.zoom_to_fit())
        # the title, the time and the buttons on one row; the date line under them, the
        # whole width (beside the buttons it took four lines of a 1024 px screen)
        head = QWidget()
        rows = QVBoxLayout(head)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        hl = QHBoxLayout()
        hl.setContentsMargins(0, 0, 0, 0)
        hl.setSpacing(6)
        hl.addWidget(self.title, 1)
        hl.addWidget(self.time_label)
        hl.addSpacing(8)
        hl.addWidget(fit)
        self.share_button = QPushButton(self.SHARE_TEXT)
        self.share_button.setAccessibleName(self.SHARE_TEXT)
        self.share_button.setToolTip(f"{self.SHARE_TEXT}: send this call to your team's store, where your "
                                     "coach can open it (you choose whether the recording goes too; you "
                                     "can take it back)")
        self.share_button.clicked.connect(lambda: self.share())
        self.share_button.setVisible(team_configured(self._config))
        hl.addWidget(self.share_button)
        hl.addWidget(self.play_button)
        rows.addLayout(hl)
        rows.addWidget(self.subtitle)
        self._head, self._title_row = head, hl
        head.installEventFilter(self)
        col.addWidget(card(head, margins=10))

        self.timeline = TimelineView()
        self.timeline.setObjectName("timeline")          # its focus frame (ui/style.py)
        self.timeline.setAccessibleName("Timeline of the call")
        self.timeline.setAccessibleDescription("Click anywhere to listen from there; "
                                               "Left and Right move 5 seconds, Space plays or pauses")
        self.timeline.seekRequested.connect(self.listen_at)
        self._legend = QWidget()
        self._legend.setLayout(QVBoxLayout())
        self._legend.layout().setContentsMargins(0, 0, 0, 0)
        self._legend.installEventFilter(self)
        self._wide_legend: list[QWidget] = []
        self._middle_legend: list[QWidget] = []
        self._narrow_legend: list[QWidget] = []
        self._set_legend(None)
        timeline_card = card(self.timeline, self._legend, margins=8)
        col.addWidget(timeline_card, 3)

        self.scores = ScorecardPanel()
        col.addWidget(card(label("Scorecard", "section"), self.scores), 0)
        # a short screen (a 1366x768 laptop) scrolls the call's column rather than squeezing
        # the timeline's plots into one another
        left.setMinimumWidth(560)
        column = FitColumn(left, squeeze=timeline_card)
        column.setFocusPolicy(Qt.FocusPolicy.NoFocus)     # Tab goes to its controls, not to it
        split.addWidget(column)

        right = QSplitter(Qt.Orientation.Vertical)
        right.setChildrenCollapsible(False)
        self.transcript = TimedTable(["Who", "Said"])
        self.transcript.seekRequested.connect(self.listen_at)
        right.addWidget(card(label("Transcript", "section"), self.transcript))
        self.lists = QTabWidget()
        self.lists.tabBar().setObjectName("lists")      # tighter tabs: all four fit a 1024 px screen
        # too little room for the names (a large text size in a narrow window): every tab
        # stays in view, its name shortened ("Caller's l…", whole in its tooltip), rather
        # than some tabs hidden behind scroll arrows
        self.lists.tabBar().setElideMode(Qt.TextElideMode.ElideRight)
        self.rephrase = TimedTable(["Phrase", "Try instead"], stretch=(1, 2))
        self.followups = TimedTable(["Promise to follow up"])
        self.problems = TimedTable(["What the caller raised"])
        self.marks = TimedTable(["Marked moment"])      # the overlay's "mark a moment" (Ctrl+Alt+M)
        self.transcript.setAccessibleName("Transcript")
        for table, name, spoken in ((self.rephrase, "Rephrase", "Phrases to rephrase"),
                                    (self.followups, "Follow up", "Promises to follow up"),
                                    (self.problems, "Caller's list", "What the caller raised"),
                                    (self.marks, "Marks", "Moments you marked")):
            table.seekRequested.connect(self.listen_at)
            table.setAccessibleName(spoken)
            self.lists.setTabToolTip(self.lists.addTab(table, name), f"{name}: {spoken.lower()}")
        self.lists.tabBar().setAccessibleName("Lists")
        right.addWidget(card(self.lists, margins=6))
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setMinimumWidth(380)
        split.addWidget(right)
        split.setStretchFactor(0, 7)
        split.setStretchFactor(1, 3)
        split.setSizes([960, 440])
        self._split, self._split_moved = split, False
        split.splitterMoved.connect(lambda *_: setattr(self, "_split_moved", True))
        split.installEventFilter(self)
        self.tabs.addTab(page, "Call")

        self.history = HistoryView()
        self.history.openRequested.connect(self.open_path)
        self.history.deleteRequested.connect(self.delete_from_history)
        self.tabs.addTab(self.history, "History")
        self.tabs.currentChanged.connect(lambda i: self.refresh_history() if i == 1 else None)
        self.tabs.tabBar().setAccessibleName("Call or history")
        self._keyboard()

        self.care_note = QLabel(CARE_NOTE)
        self.care_note.setObjectName("note")
        self.statusBar().addPermanentWidget(self.care_note)
        self._status_watched = False
        self._watch_status(True)
        self._menus()

    def _keyboard(self) -> None:
        """Tab through every control in reading order: the tab bar, the header's buttons,
        the timeline, the transcript, the lists' tabs and the list shown (hidden ones are
        skipped). A button takes Space and Enter itself, and a tab bar its arrows, before
        the window's shortcuts (Space: play/pause, ←/→: 5 s) do."""
        self.play_button.setAccessibleName("Play or pause")
        self.fit_button.setAccessibleName("Zoom to fit")
        order = [self.tabs, self.fit_button, self.share_button, self.play_button, self.timeline,
                 self.transcript, self.lists, self.rephrase, self.followups, self.problems,
                 self.marks, self.history.table, self.history.delete_button]   # a tab widget stands for its tab bar
        for first, second in zip(order, order[1:]):
            QWidget.setTabOrder(first, second)
        self._own_keys = {self.lists.tabBar(): (Qt.Key.Key_Left, Qt.Key.Key_Right),
                          self.tabs.tabBar(): (Qt.Key.Key_Left, Qt.Key.Key_Right)}
        for button in (self.fit_button, self.share_button, self.play_button, self.history.delete_button):
            button.setAutoDefault(True)                       # Enter presses it, as Space does
            self._own_keys[button] = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)
        for widget in self._own_keys:
            widget.installEventFilter(self)

    # ---- loading
    def load(self, source: OpenedCall) -> None:
        """Show a call (opened by :func:`open_call`, which also saved and indexed it)."""
        if self.player is not None:
            self.player.close()
            self._timer.stop()
            self.play_button.setText("▶  Play")
        self.source = source
        record = source.record
        self.player = Player(source.audio, self._stream_factory) if source.audio is not None else None
        self._autoplay = self.player is not None
        self.play_button.setEnabled(self.player is not None)
        self.play_button.setToolTip("" if self.player else "no recording: nothing to play")
        name = call_name(record)                              # as the History tab lists it
        self.title.setText(name)
        chans = record["source"]["channels"]
        mine = not source.shared_by           # a call shared with me (the coach) is not mine to share
        agent = "you" if mine else source.shared_by
        meta = [also_named(record),
                f"shared by {source.shared_by}" if source.shared_by else "", call_date(record),
                clock(record["duration"]),
                f"{agent} + caller" if "customer" in chans else f"{agent} only (mono)",
                f"speech-to-text {record['stt_model']}" if record.get("stt_model") else "no transcript"]
        self.subtitle.setText("  ·  ".join(m for m in meta if m))
        self.setWindowTitle(f"VoiceCoach — {name}")
        self.care_note.setText(CARE_NOTE if mine else
                               f"Shared by {source.shared_by} for their own practice: read it against their own "
                               "earlier calls, never to rank, pay or judge anyone.")
        for widget in (self.share_button, self.share_action, self.unshare_action):
            widget.setEnabled(mine)
        self.export_action.setEnabled(True)        # (not after the call shown was deleted)
        self.share_button.setVisible(mine and team_configured(self._config))
        self._fit_head()
        named = None if mine else source.shared_by
        self._set_legend(named, nudges=bool(record.get("nudges")), record=record)
        self.timeline.set_call(record, source.audio, named)
        self.scores.set_record(record, named)
        self.lines = transcript_lines(record)
        speaker = "You" if mine else source.shared_by
        self.transcript.set_rows([(ln.start, [speaker if ln.channel == "agent" else "Caller", ln.text], ln.channel)
                                  for ln in self.lines],
                                 empty=empty_transcript_text(record))
        self.rephrase.set_rows([(c["t"], [f"{c['kind']}: “{c.get('phrase', c['text'])}”",
                                          c.get("suggestion", "")], "rephrase")
                                for c in record.get("cues") or [] if c["kind"] in REPHRASE],
                               empty=empty_list_text(record, "rephrase"))
        self.followups.set_rows([(c["t"], [c["text"]], None) for c in record.get("commitments") or []],
                                empty=empty_list_text(record, "commitments"))
        self.problems.set_rows([(c["t"], [c["text"]], None) for c in record.get("caller_problems") or []],
                               empty=empty_list_text(record, "caller_problems"))
        self.marks.set_rows([(c["t"], [mark_text(named)], "mark") for c in marks(record)],
                            empty=empty_list_text(record, "marks"))
        if self.tabs.currentIndex() == 1:
            self.refresh_history()
        self.seek(0.0)
        self.statusBar().showMessage(source.note, 15000)

    def _watch_status(self, on: bool) -> None:
        """Fit the status line to each message while the window is open: let go when it
        closes, before it is deleted (its status bar clears its message as it goes)."""
        if on != self._status_watched:
            signal = self.statusBar().messageChanged
            if on:
                signal.connect(self._status_changed)
            else:
                signal.disconnect(self._status_changed)
            self._status_watched = on

    def _status_changed(self, _message: str) -> None:
        self._fit_status()

    def _fit_status(self) -> None:
        """A status message too long to show beside the care note (why a call has no
        playback, a recording's warning: "...no wav" at 1024 px) has the status bar's whole
        width while it shows, the care note back once it is gone; the message whole in the
        bar's tooltip too."""
        bar = self.statusBar()
        message = bar.currentMessage()
        room = bar.width() - self.care_note.sizeHint().width() - 40        # the size grip, margins
        self.care_note.setVisible(not message or bar.fontMetrics().horizontalAdvance(message) <= room)
        bar.setToolTip(plain(message) if message else "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_status()

    SHARE_TEXT = "Share with my coach"
    SHARE_SHORT = "Share…"

    def _fit_head(self) -> None:
        """The title on the row of the buttons where it fits whole, else on a row of its
        own above them (a long file name at 1024 px showed as "support-c…pute.flac"); the
        share button's full name where the row has room for it, else "Share…" before the
        title leaves the row (its accessible name and tooltip always say it whole)."""
        row, rows, button = self._title_row, self._head.layout(), self.share_button
        items = [row.itemAt(i) for i in range(row.count())]
        others = [item.widget() for item in items if item.widget() not in (None, self.title)]
        base = (sum(item.sizeHint().width() for item in items if item.widget() not in (button, self.title))
                + max(row.spacing(), 0) * sum(not w.isHidden() for w in others))  # gaps between the widgets
        metrics = button.fontMetrics()
        share = {text: 0 if button.isHidden() else (button.sizeHint().width() - metrics.horizontalAdvance(button.text())
                                                    + metrics.horizontalAdvance(text))
                 for text in (self.SHARE_TEXT, self.SHARE_SHORT)}
        width, title = self._head.width(), self.title.sizeHint().width()
        on_row = width >= base + share[self.SHARE_SHORT] + title
        fits = base + share[self.SHARE_TEXT] + (title if on_row else 0)
        if on_row != (row.indexOf(self.title) >= 0):
            if on_row:
                rows.removeWidget(self.title)
                row.takeAt(0)                                   # the stretch that held the buttons right
                row.insertWidget(0, self.title, 1)
            else:
                row.removeWidget(self.title)
                row.insertStretch(0, 1)
                rows.insertWidget(0, self.title)
        text = self.SHARE_TEXT if width >= fits else self.SHARE_SHORT
        if not button.isHidden() and button.text() != text:
            button.setText(text)

    LEGEND_CUES = [("rephrase", "rephrase"), ("good", "good practice"),
                   ("note", "follow-up / caller's item"), ("voice", "voice"), ("mark", "marked moment")]
    LEGEND_HINT = "Click to listen · scroll to zoom · drag to pan"

    def _set_legend(self, agent: Optional[str], nudges: bool = False, record: Optional[dict] = None) -> None:
        """The timeline's legend naming ``agent`` (else "You"), made three times: in two rows
        for a wide window, in three (the hint on a row of its own) where the cues and the
        hint do not fit one row (a live call's "nudge shown" entry at 1400 px took the
        four-row legend, and the scorecard's last line out of view), in four for a narrow
        one (a 1024 px screen); the first that fits shows. ``nudges``: the call has nudges
        shown live on its cue row (their entry)."""
        cues = self.LEGEND_CUES + ([("nudge", "nudge shown")] if nudges else [])
        lay = self._legend.layout()
        while lay.count():
            old = lay.takeAt(0).widget()
            old.setParent(None)
            old.deleteLater()
        turns = turn_legend(agent, record)
        self._wide_legend = [legend(turns), legend(cues, "Cues", "●", glyphs=CUE_GLYPHS,
                                                   tail=label(self.LEGEND_HINT, "scoreDetail"))]
        self._middle_legend = [legend(turns), legend(cues, "Cues", "●", glyphs=CUE_GLYPHS),
                               label(self.LEGEND_HINT, "scoreDetail")]
        self._narrow_legend = [legend(turns, per_row=4),
                               legend(cues, "Cues", "●", per_row=3, glyphs=CUE_GLYPHS),
                               label(self.LEGEND_HINT, "scoreDetail")]
        for w in self._wide_legend + self._middle_legend + self._narrow_legend:
            # the legend never holds the column wider: the narrow one takes over instead
            w.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            lay.addWidget(w)
        self._fit_legend()

    def _fit_legend(self) -> None:
        variants = (self._wide_legend, self._middle_legend, self._narrow_legend)
        width = self._legend.width()
        shown = next((v for v in variants if width >= max(w.sizeHint().width() for w in v)), variants[-1])
        for variant in variants:
            for w in variant:
                w.setVisible(variant is shown)

    def _fit_lists(self) -> None:
        """The lists' column as wide as their tabs' names need, as far as the call's column
        can give way (down to its least width), until the agent moves the divider: at a
        14 pt text size the names did not fit the default 1400 px window and the tab bar
        scrolled. Narrower still, the names are shortened (:meth:`_build`)."""
        bar, split = self.lists.tabBar(), self._split
        if self._split_moved or not bar.isVisible():
            return
        left, right = split.sizes()
        column = split.widget(0)
        least = max(column.minimumWidth(), column.minimumSizeHint().width())
        give = min(bar.sizeHint().width() - bar.width(), left - least)
        if give > 0:
            split.setSizes([left - give, right + give])

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in getattr(self, "_own_keys", {}).get(obj, ()):
            event.accept()           # the focused button or tab bar takes the key, not the window's shortcut
            return True
        if obj is self._head and event.type() in (QEvent.Type.Resize, QEvent.Type.Show,
                                                  QEvent.Type.LayoutRequest):
            self._fit_head()
        elif obj is getattr(self, "_legend", None) and event.type() == QEvent.Type.Resize:
            self._fit_legend()
        elif obj is getattr(self, "_split", None) and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            QTimer.singleShot(0, self._fit_lists)          # once the splitter has laid out its columns
        return super().eventFilter(obj, event)

    def refresh_history(self) -> None:
        import sqlite3

        try:
            with History(self.history_path) as history:
                rows = history.calls(HISTORY_ROWS)
                total = history.count()
        except (sqlite3.Error, OSError) as exc:
            self.history.set_rows([], f"The history cannot be read: {exc}")
            return
        more = (f"The latest {len(rows)} of your {total} calls are shown; `voicecoach history -n {total}` "
                "lists them all." if total > len(rows) else "")
        first = total - len(rows) + 1                 # numbered as `voicecoach history` numbers them
        # the care note is on the status bar, always; `command` is how the terminal quotes
        lines = [re.sub(r"`([^`]*)`", r"“\1”", line)
                 for line in (more, *trend_lines(rows), left_out_line(rows, first)) if line]
        note = "\n".join(lines) if rows else \
            "No calls yet: the calls you review, coach live, or analyse with -o appear here."
        self.history.set_rows(rows, note, first)

    def _shown_call_deleted(self) -> None:
        """The call shown was just deleted: it stays on screen until another is opened, but is
        no longer played, exported or shared."""
        if self.player is not None:
            self.player.close()
            self._timer.stop()
            self.player = None
        self.play_button.setText("▶  Play")
        self.play_button.setEnabled(False)
        self.play_button.setToolTip("deleted: nothing to play")
        self.title.setText(f"{self.title.text()} (deleted)")
        self.source = None
        for widget in (self.share_button, self.share_action, self.unshare_action, self.export_action):
            widget.setEnabled(False)

    # ---- playback
    @property
    def position_s(self) -> float:
        """The playhead (s)."""
        return self._position

    def seek(self, t: float) -> None:
        """Move the playhead to ``t`` (s) without starting playback."""
        if self.source is None:
            return
        t = float(min(max(t, 0.0), self.source.record["duration"]))
        if self.player is not None:
            self.player.seek(t)
        self._show_position(t)

    def listen_at(self, t: float) -> None:
        """Click-to-listen: seek to ``t`` (s) and play from there when a player is available."""
        self.seek(t)
        if self.player is not None and t >= self.player.duration_s - 0.05:
            # at or past the recording's end: the player would start again from 0:00
            if self.player.playing:
                self.pause()
                self._show_position(t)
            if self.player.duration_s < self.source.record["duration"] - 0.5:   # it stopped during the call
                self.statusBar().showMessage(f"The recording ends at {clock(self.player.duration_s)}: "
                                             "nothing was recorded after that.")
            return
        if self._autoplay and self.player is not None and not self.player.playing:
            self.play()

    def play(self) -> bool:
        if self.player is None:
            return False
        try:
            self.player.play()
        except PlaybackError as exc:
            self._autoplay = False
            said = str(exc)
            said = said[:1].upper() + said[1:]
            self.statusBar().showMessage(f"{said}. A click on the timeline still moves there; connect a headset "
                                         "or speakers and press Play again.")
            self.play_button.setToolTip(f"{said}: connect a headset or speakers and press Play again")
            return False
        self.play_button.setToolTip("")
        self.play_button.setText("❚❚  Pause")
        self._timer.start()
        return True

    def pause(self) -> None:
        if self.player is not None:
            self.player.pause()
        self._timer.stop()
        self.play_button.setText("▶  Play")
        self._show_position(self.player.position_s if self.player else self._position)

    def toggle_play(self) -> None:
        if self.player is not None and self.player.playing:
            self.pause()
        else:
            self.play()

    def _tick(self) -> None:
        if self.player is None:
            return
        self._show_position(self.player.position_s)
        if self.player.ended:
            self.pause()

    def _show_position(self, t: float) -> None:
        self._position = t
        self.timeline.set_position(t)
        self.transcript.follow(line_at(self.lines, t))
        total = self.source.record["duration"] if self.source else 0.0
        self.time_label.setText(f"{clock(t)} / {clock(total)}")

    def showEvent(self, event) -> None:
        self._watch_status(True)
        super().showEvent(event)

    def closeEvent(self, event) -> None:
        if self.player is not None:
            self.player.close()
        self._timer.stop()
        self._watch_status(False)
        super().closeEvent(event)


def place_window(window: QWidget, size: tuple[int, int] = (1400, 900), share: float = 0.9) -> None:
    """Give ``window`` ``size`` (px), but at most ``share`` of the free area of the screen it
    opens on (the pointer's) and never less than its own minimum, centred there: at 1400x900
    a 1024x768 or 1280x720 screen lost the transcript, the scorecard and the status bar."""
    screen = QGuiApplication.screenAt(QCursor.pos()) or window.screen()
    area = screen.availableGeometry()
    least = window.minimumSizeHint()
    width = min(max(min(size[0], round(area.width() * share)), least.width()), area.width())
    height = min(max(min(size[1], round(area.height() * share)), least.height()), area.height())
    window.resize(width, height)
    window.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)


def run_review(call: Union[str, Path, dict, tuple, OpenedCall], screenshot: Union[str, Path, None] = None, *,
               config=None, baseline: Optional[Baseline] = None, agent_channel: Optional[str] = None,
               size: tuple[int, int] = (1400, 900)) -> int:
    """Open the review window on ``call`` (``"demo"``, a recording, a call record or a record dict).

    Parameters
    ----------
    call : str, Path, dict, tuple or OpenedCall
        What to open (:func:`open_call`); an :class:`OpenedCall` (a call shared with the
        coach, :func:`voicecoach.store.team.open_shared`) is shown as it is.
    screenshot : path, optional
        Render the window offscreen at ``size`` (px) with the playhead at the first
        interruption, save it as PNG and return instead of running the window.
    size : (int, int)
        The window's size (px); shown on a screen, no more than fits it (:func:`place_window`).
    config : voicecoach.config.Config, optional
        Settings for analysing a recording that has no record yet.
    baseline : Baseline, optional
        The voice profile such a recording is analysed against (the user's remembered
        one, as ``analyze`` and ``live`` use).
    agent_channel : {"left", "right"}, optional
        Which side of a stereo recording is the agent (:func:`voicecoach.store.calls.open_call`).

    Returns
    -------
    int
        Exit status: 0, or 2 when there is no screen or the screenshot cannot be written.

    Raises
    ------
    AudioError, RecordError
        ``call`` cannot be read.
    """
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif screen_problem():
        print(f"voicecoach: error: cannot show the review: {screen_problem()}; "
              "`voicecoach report CALL -o report.html` writes the same review as a web page",
              file=sys.stderr)
        return 2
    if isinstance(call, (str, Path)) and str(call).lower().endswith(".json"):
        from voicecoach.store.record import load_record

        load_record(call)                # a bad record is refused before any window is built
    quiet_qt()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("VoiceCoach")
    apply_style(app, config.overlay.font_pt if config is not None else FONT_PT)
    window = ReviewWindow(config=config, baseline=baseline)
    window.resize(*size)
    if screenshot is None:
        with ended_by_signals(app):
            try:
                window.load(call if isinstance(call, OpenedCall)
                            else open_call(call, config, window, window.history_path, baseline, agent_channel))
            except Cancelled as exc:
                if INTERRUPTED.is_set():
                    return 130                      # said as KeyboardInterrupt on the way out
                print(f"voicecoach: {exc}", file=sys.stderr)
                return 1
            place_window(window, size)
            window.show()
            return app.exec()
    try:
        window.load(call if isinstance(call, OpenedCall)
                    else open_call(call, config, window, window.history_path, baseline, agent_channel))
    except Cancelled as exc:
        print(f"voicecoach: {exc}", file=sys.stderr)
        return 1
    window.show()
    first = [i["start"] for i in window.source.record.get("interruptions") or [] if i["by"] == "agent"]
    window.seek(first[0] if first else 0.0)
    for _ in range(3):
        app.processEvents()
    ok = write_screenshot(window, screenshot)
    window.close()
    del window
    gc.collect()    # the window's reference cycles go now, not in a later event loop (ui/shiftrun.py)
    return 0 if ok else 2
