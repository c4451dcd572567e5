"""The overlay's call panels: what fills in during a call, and the card after it.

:class:`LiveChecklist` (the expanded view, during a call): the call checklist ticking
off as it is heard (greeting, empathy, a question, the closing question), the
caller's temperature, the caller's list and the follow-ups promised, newest last.

:class:`AfterCallCard` (after each call): two or three things to work on with their
times, the follow-ups and the caller's list to confirm, a button to the review, and
a row where other actions can be added (:meth:`AfterCallCard.add_action`, e.g. a
"Share with my coach" button). A click on the card, or the next call, dismisses it.

Both are thin views: they show engine events and the call record, nothing more.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont, QFontMetrics, QTextDocument
from PyQt6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from voicecoach.analyzers.language import CHECKLIST_CUES, LanguageOptions, said_together
from voicecoach.events import AGENT, CUSTOMER, Event
from voicecoach.sinks.view import after_call, clock

from .meters import MUTED, TEXT, _tint

CHECKLIST = (("greeting", "Greeting"), ("empathy", "Empathy"), ("questions", "Questions"),
             ("closing_question", "Closing"))
"""The live checklist's items: (key, label)."""

WORDS_OFF = "<i>No checklist, caller's list or follow-ups: speech-to-text is off</i>"
"""The live checklist's line when the call's words are not heard."""


_TEMPERATURE_ROLES = {"heated": "interruption", "warming up": "near_miss", "calm": "backchannel"}


def temperature_word(temperature: Optional[str], heard: bool = False) -> tuple[str, str]:
    """The caller's temperature (the arousal tracker's word: "calm", "warming up" or
    "heated") and its colour role; ``heard``: the caller has spoken (the temperature
    is None while their usual voice, the reference, is learned from their first
    stretch of speech)."""
    if temperature is None:
        return ("learning their voice" if heard else "not heard yet"), "dead_air"
    return temperature, _TEMPERATURE_ROLES.get(temperature, "backchannel")


def _small(text: str = "", name: str = "muted", wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName(name)
    lab.setWordWrap(wrap)
    lab.setTextFormat(Qt.TextFormat.RichText)
    return lab


class LiveChecklist(QWidget):
    """The checklist, the caller's temperature and the two lists, filling in live."""

    LIST_LINES = 6
    """Item lines the two lists share (the newest items of each, see :func:`list_shares`)."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setAccessibleName("Call checklist and lists")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(4)
        # one row, or two where the panel is too narrow for one (at 280 px the row cut
        # "✓ Greeting" to "✓ Greetin")
        self.chips = QGridLayout()
        self.chips.setHorizontalSpacing(6)
        self.chips.setVerticalSpacing(2)
        self.items: dict[str, QLabel] = {}
        for key, label in CHECKLIST:
            chip = QLabel()
            chip.setAccessibleName(f"Checklist: {label}")
            self.items[key] = chip
        self.columns = 0
        self._arrange(len(CHECKLIST))
        lay.addLayout(self.chips)
        # without speech-to-text nothing here can fill in (the card says the same at the end):
        # an empty checklist would read as a greeting not yet said
        self.words_off = _small(WORDS_OFF)
        self.words_off.setAccessibleName("Checklist unavailable")
        self.words_off.hide()
        lay.addWidget(self.words_off)
        self.words_on = True
        self.caller_on = True                 # the call audio is heard (not mic only)
        self.options = LanguageOptions()       # the session's (set_options)
        self.temperature = _small()
        self.temperature.setAccessibleName("Caller's temperature")
        lay.addWidget(self.temperature)
        self.callers = _small()
        self.callers.setAccessibleName("Caller's list")
        self.follow_ups = _small()
        self.follow_ups.setAccessibleName("Follow-ups")
        self.lists_box = QWidget()                     # both lists, in the room kept for them
        box = QVBoxLayout(self.lists_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(lay.spacing())
        for w in (self.callers, self.follow_ups):
            w.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            box.addWidget(w)
        box.addStretch(1)
        lay.addWidget(self.lists_box)
        self.reset()

    def set_words(self, on: bool) -> None:
        """Whether the call's words are heard (speech-to-text on): without them the
        checklist and the two lists are replaced by one line saying why; the caller's
        temperature, from their voice, stays."""
        self.words_on = on
        for chip in self.items.values():
            chip.setVisible(on)
        self.lists_box.setVisible(on)
        self.words_off.setVisible(not on)

    def set_caller(self, on: bool) -> None:
        """Whether the call audio is heard: mic only, the caller has no temperature to
        learn ("not heard yet" would wait all call)."""
        self.caller_on = on
        self.set_temperature(None)
        self._lists()

    def set_options(self, options: LanguageOptions) -> None:
        """The session's language options: "Questions" ticks here as it does in the call
        record (:meth:`LanguageOptions.enough_questions`)."""
        self.options = options

    def reset(self) -> None:
        self.done = {key: False for key, _ in CHECKLIST}
        self.questions = 0
        self.caller_items: list[tuple[float, str]] = []
        self.follow_up_items: list[tuple[float, str]] = []
        for key, _ in CHECKLIST:
            self._paint(key)
        self.set_temperature(None)
        self._lists()

    def _paint(self, key: str) -> None:
        label = dict(CHECKLIST)[key]
        done = self.done[key]
        colour = _tint("good").name() if done else MUTED
        self.items[key].setText(f"<span style='color:{colour}'>{'✓' if done else '○'} {label}</span>")
        self.items[key].setToolTip(f"{label}: {'done' if done else 'not yet'}")

    def on_event(self, e: Event) -> None:
        if e.kind != "cue":
            return
        cue = e.data.get("cue")
        item = CHECKLIST_CUES.get(cue) if e.channel == AGENT else None
        if item == "questions":
            self.questions += 1
        if item is not None and not self.done[item] and (item != "questions"
                                                         or self.options.enough_questions(self.questions)):
            self.done[item] = True
            self._paint(item)
        elif e.channel == AGENT and cue == "commitment":
            self.follow_up_items.append((e.t, e.text.split(": ", 1)[-1].strip('"')))
            self._lists()
        elif e.channel == CUSTOMER and cue == "problem":
            said = e.text.split(": ", 1)[-1].strip('"')
            i = e.data.get("item", len(self.caller_items))
            if i < len(self.caller_items):       # the caller's turn goes on: one item
                t, text = self.caller_items[i]
                self.caller_items[i] = (t, said_together(text, said))
            else:
                self.caller_items.append((e.t, said))
            self._lists()

    def set_temperature(self, temperature: Optional[str], heard: bool = False) -> None:
        word, role = temperature_word(temperature, heard) if self.caller_on else ("no call audio", "dead_air")
        self.temperature.setText(f"Caller: <span style='color:{_tint(role).name()}'><b>{word}</b></span>")

    def _lists(self) -> None:
        self.callers.ensurePolished()                  # the style sheet's font, not the default
        metrics = QFontMetrics(self.callers.font())
        width = max(120, self.callers.contentsRect().width() if self.isVisible() else 300)
        # the panel keeps its height through a call: the lists' whole room is kept from the
        # start (their titles and every item line), so a list that fills in is never cut
        self.lists_box.setMinimumHeight((2 + self.LIST_LINES) * _line_height(self.callers.font())
                                        + self.lists_box.layout().spacing())

        def line(t: float, text: str) -> str:
            # one line per item, cut to the panel's width (the card and the review show it
            # whole): a wrapped item would take a line of the room kept for the lists
            stamp = clock(t)
            room = width - metrics.horizontalAdvance(stamp + "  ")
            text = metrics.elidedText(_short(text), Qt.TextElideMode.ElideRight, room)
            return f"<span style='color:{MUTED}'>{stamp}</span> <span style='color:{TEXT}'>{_esc(text)}</span>"

        def fmt(title, items, shown, empty):
            if not items:
                return f"{title}: <i>{empty}</i>"
            more = f" (+{len(items) - shown} earlier)" if len(items) > shown else ""
            return f"{title}{more}:<br>" + "<br>".join(line(t, x) for t, x in items[len(items) - shown:])
        def whole(items):                  # a cut item is a hover away, whole
            return "\n".join(f"{clock(t)}  {x}" for t, x in items)
        n_callers, n_follow_ups = list_shares(len(self.caller_items), len(self.follow_up_items), self.LIST_LINES)
        self.callers.setText(fmt("Caller's list", self.caller_items, n_callers,
                                 "nothing yet" if self.caller_on else "needs the call audio"))
        self.follow_ups.setText(fmt("Follow up", self.follow_up_items, n_follow_ups, "nothing yet"))
        self.callers.setToolTip(whole(self.caller_items))
        self.follow_ups.setToolTip(whole(self.follow_up_items))

    def _arrange(self, columns: int) -> None:
        """The checklist's items in ``columns`` columns (the last column stretches)."""
        if columns == self.columns:
            return
        for key, _ in CHECKLIST:
            self.chips.removeWidget(self.items[key])
        for i, (key, _) in enumerate(CHECKLIST):
            self.chips.addWidget(self.items[key], i // columns, i % columns)
        for c in range(len(CHECKLIST) + 1):
            self.chips.setColumnStretch(c, 1 if c == columns else 0)
        self.columns = columns

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        need = (sum(self.items[k].sizeHint().width() for k, _ in CHECKLIST)
                + self.chips.horizontalSpacing() * (len(CHECKLIST) - 1))
        self._arrange(len(CHECKLIST) if need <= self.contentsRect().width() else 2)
        self._lists()                                  # cut to the new width


def list_shares(first: int, second: int, lines: int) -> tuple[int, int]:
    """How many items of two lists (the newest) show in ``lines`` shared lines: half each,
    and what one list leaves unused goes to the other (an empty list takes no item line).

    >>> list_shares(5, 0, 6), list_shares(3, 3, 6), list_shares(8, 8, 6), list_shares(1, 9, 6)
    ((5, 0), (3, 3), (3, 3), (1, 5))
    """
    mine = min(first, max(lines // 2, lines - second))
    return mine, min(second, lines - mine)


def _line_height(font: QFont) -> int:
    """Height (px) of one line of a list as a QLabel lays out its rich text (a little more
    than the font's line spacing: a room of line spacings cut the last line at 6 pt)."""
    doc = QTextDocument()
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setHtml("Xg <i>Xg</i>")
    return math.ceil(doc.size().height())


def _short(text: str, limit: int = 60) -> str:
    """One line of a live list: a long item is cut at a word and marked (the card and the
    review show it whole), so the overlay keeps its size."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AfterCallCard(QFrame):
    """The summary of the call that just ended.

    Signals
    -------
    reviewRequested(str)
        The agent asked for the review of the record at this path.
    dismissed()
        A click on the card or its close button.
    """

    reviewRequested = pyqtSignal(str)
    dismissed = pyqtSignal()

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("card")
        self.setAccessibleName("After-call summary")
        self.setStyleSheet(f"QFrame#card {{ background: rgba(255, 255, 255, 16); border-radius: 8px; }}"
                           f"QPushButton {{ color: {TEXT}; background: rgba(255, 255, 255, 30); border: none;"
                           f" border-radius: 5px; padding: 4px 10px; }}"
                           f"QPushButton:hover {{ background: rgba(255, 255, 255, 55); }}"
                           f"QPushButton:disabled {{ color: {MUTED}; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(4)
        head = QHBoxLayout()
        self.title = QLabel("")
        self.title.setObjectName("title")
        self.title.setAccessibleName("Call that ended")
        # a word, not a second ✕ a few pixels below the overlay's own (which hides or
        # quits); a tool button, sized with its text like the overlay's own buttons
        self.close_button = close = QToolButton()
        close.setText("Dismiss")
        close.setAutoRaise(True)
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.setToolTip("Put the summary away (the next call does too)")
        close.setAccessibleName("Dismiss the summary")
        close.clicked.connect(self.dismiss)
        head.addWidget(self.title, 1)
        head.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(head)
        self.body = _small()
        self.body.setAccessibleName("Summary")
        lay.addWidget(self.body)
        self.actions = QHBoxLayout()
        self.actions.setSpacing(6)
        self.review_button = QPushButton("Open the review")
        self.review_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.review_button.setAccessibleName("Open the review of this call")
        self.review_button.clicked.connect(lambda: self.record_path and self.reviewRequested.emit(self.record_path))
        self.actions.addWidget(self.review_button)
        self.actions.addStretch(1)
        lay.addLayout(self.actions)
        self.record: Optional[dict] = None
        self.record_path: Optional[str] = None
        self.index, self.items = 0, self.ITEMS
        self.hide()

    def add_action(self, text: str, on_click: Callable[[dict, Optional[str]], None],
                   accessible_name: str = "") -> QPushButton:
        """Add a button to the card (e.g. "Share with my coach"); ``on_click(record,
        record_path)`` is called with the card's call."""
        b = QPushButton(text)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.setAccessibleName(accessible_name or text)
        b.clicked.connect(lambda: self.record is not None and on_click(self.record, self.record_path))
        self.actions.insertWidget(self.actions.count() - 1, b)
        return b

    ITEMS = 4
    """Items of each list the card shows (the rest: "… N more in the review")."""

    def show_call(self, record: dict, record_path: Optional[str], index: int, items: int = ITEMS) -> None:
        """Show the call of ``record``: at most ``items`` items of each list (fewer when
        the panel would not fit on the screen, :meth:`OverlayWindow._fit_height`)."""
        self.record, self.record_path, self.index, self.items = record, record_path, index, items
        card = after_call(record)
        self.title.setText(f"Call {index} — {clock(record['duration'])}")
        parts = []
        if card.work_on:
            parts.append("<b>Work on</b><br>" + "<br>".join(
                (f"<span style='color:{MUTED}'>{clock(t)}</span> " if t is not None else "• ") + _esc(text)
                for t, text in card.work_on))
        else:
            parts.append("<b>Nicely done</b> — nothing stood out to work on." if not card.unchecked
                         else "<b>Nothing stood out</b> in what was checked.")
        if card.unchecked:
            parts.append(f"<span style='color:{MUTED}'>{_esc(card.unchecked)}</span>")
        for title, items in (("Follow up", card.follow_ups), ("Caller's list", card.callers_list)):
            if items:
                parts.append(f"<b>{title}</b><br>" + "<br>".join(
                    f"<span style='color:{MUTED}'>{clock(t)}</span> {_esc(x)}" for t, x in items[:self.items])
                    + (f"<br><i>… {len(items) - self.items} more in the review</i>"
                       if len(items) > self.items else ""))
        self.body.setText("<br><br>".join(parts))
        self.review_button.setEnabled(record_path is not None)
        self.show()

    def dismiss(self) -> None:
        if self.isVisible():
            self.hide()
            self.dismissed.emit()

    def mousePressEvent(self, event) -> None:
        self.dismiss()
        event.accept()
