"""The overlay: a small always-on-top panel that coaches the agent during the call.

The agent puts it at a screen edge and forgets it. It shows a warmth ("smile")
meter, a pace meter with its comfortable band, the talk share, the interruption
counts, the latest caption line of each side, and nudges that fade in, stay a few
seconds and fade out. It never takes the keyboard focus from the agent's own tools:
it is a frameless tool window that does not accept focus and shows without
activating. It can be dragged anywhere, remembers where it was and how big, folds
into a compact view (the meters alone), and, where the desktop has a system tray,
hides into a tray icon.

The window is a thin view over the engine's events and snapshots, which reach it
through :class:`~voicecoach.ui.bridge.LiveBridge`; :mod:`voicecoach.ui.shiftrun` runs
a shift behind it (and builds its menu and tray icon), and :func:`run_until_done`
runs Qt until the shift is over.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

from PyQt6.QtCore import QCoreApplication, QEvent, QEventLoop, QPoint, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QGuiApplication, QPainter, QPen
from PyQt6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizeGrip,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from voicecoach.calldetect import GOING_ON
from voicecoach.config import OPACITY_RANGE
from voicecoach.events import AGENT, CUSTOMER, Event
from voicecoach.sinks.view import CARE_NOTE, PALETTE, REPHRASE, ZONE_ROLES, ZONE_TEXT, clock

from .callpanel import AfterCallCard, LiveChecklist
from .meters import (
    MUTED,
    NUDGE_ROLES,
    PANEL,
    PANEL_ALPHA,
    TEXT,
    CaptionText,
    MessageSlot,
    PaceMeter,
    ShareMeter,
    WarmthMeter,
    _qcolor,
    _tint,
    app_icon,
)
from .placement import Placement, at_top_right, back_on_screen, inside
from .style import FONT_PT
from .signals import on_stop_signals
from .widgets import ElidedLabel

if TYPE_CHECKING:
    from voicecoach.live import LiveSession

MODEL_LOADING_TEXT = "Loading the speech model…"
HOLD_STATUS = "On hold — the call goes on"
"""The status line while the session is being built."""
CAPTIONS_OFF = "Captions are off (no speech-to-text)."
"""The agent's caption line when the session has no speech-to-text."""
STOPPING_STATUS = "Stopping — finishing the call…"
"""The status line once the agent quit, until the call going on is saved and the window closes."""


@dataclass
class OverlayOptions:
    """How the overlay looks and behaves.

    Attributes
    ----------
    width_px : int
        Width of a new overlay (px); the agent can resize it.
    min_width_px : int
        Narrowest the overlay can be made (px).
    edge_margin_px : int
        Gap between a new overlay and the screen's top-right corner (px).
    nudge_fade_in_s : float
        A nudge or tip fades in over this long (s).
    nudge_hold_s : float
        A nudge stays fully visible this long (s).
    tip_hold_s : float
        A plainer-words tip stays fully visible this long (s).
    nudge_fade_out_s : float
        Then it fades out over this long (s).
    status_hold_s : float
        A status line from the session stays this long (s) before the usual line returns.
    meter_anim_s : float
        Meters glide to a new value over this long (s); 0 jumps.
    save_delay_s : float
        The position and size are saved this long (s) after the last move or resize.
    """

    width_px: int = 340
    min_width_px: int = 280
    edge_margin_px: int = 24
    nudge_fade_in_s: float = 0.25
    nudge_hold_s: float = 5.0
    tip_hold_s: float = 6.0
    nudge_fade_out_s: float = 1.2
    status_hold_s: float = 15.0
    meter_anim_s: float = 0.3
    save_delay_s: float = 0.4


# --------------------------------------------------------------------------- the window

def stylesheet(font_pt: float = FONT_PT) -> str:
    """The overlay's own stylesheet (dark panel, light text) at a text size (points).
    A message box the overlay opens (quit?, share?) inherits its light text, so it is
    dark too: on the default light dialog its words and buttons were all but invisible."""
    FONT_PT = font_pt  # noqa: N806
    return f"""
QWidget {{ color: {TEXT}; font-size: {FONT_PT}pt; }}
QLabel#title {{ font-weight: 700; font-size: {FONT_PT + 0.5}pt; }}
QLabel#clock {{ color: {MUTED}; font-family: "DejaVu Sans Mono", monospace; font-size: {FONT_PT - 1}pt; }}
QLabel#rec {{ color: #ffffff; background: {PALETTE["interruption"]}; border-radius: 4px; padding: 0px 4px;
             font-size: {FONT_PT - 2}pt; font-weight: 700; }}
QLabel#name {{ color: {MUTED}; font-size: {FONT_PT - 1}pt; }}
QLabel#value {{ font-weight: 700; }}
QLabel#muted {{ color: {MUTED}; font-size: {FONT_PT - 1}pt; }}
QLabel#care {{ color: {MUTED}; font-size: {FONT_PT - 2}pt; }}
QLabel#statusline {{ color: {MUTED}; font-size: {FONT_PT - 1.5}pt; }}
QLabel#statusline[warn="true"] {{ color: #ffd8a8; }}
QLabel#caption {{ font-size: {FONT_PT - 0.5}pt; }}
QFrame#rule {{ background: rgba(255, 255, 255, 30); border: none; max-height: 1px; }}
QToolButton {{ background: transparent; border: none; border-radius: 5px; color: {MUTED};
              font-size: {FONT_PT + 1}pt; padding: 0px; min-width: 22px; min-height: 22px; }}
QToolButton:hover {{ background: rgba(255, 255, 255, 28); color: {TEXT}; }}
QToolButton::menu-indicator {{ image: none; width: 0px; }}
QMenu {{ background: {PANEL}; border: 1px solid rgba(255, 255, 255, 40); padding: 4px; }}
QMenu::item {{ padding: 5px 18px; border-radius: 4px; color: {TEXT}; }}
QMenu::item:selected {{ background: {PALETTE["agent"]}; }}
QMenu::item:disabled {{ color: {MUTED}; }}
QMenu::separator {{ height: 1px; background: rgba(255, 255, 255, 30); margin: 4px 6px; }}
QSizeGrip {{ width: 12px; height: 12px; }}
QMessageBox {{ background: {PANEL}; }}
QMessageBox QPushButton {{ color: {TEXT}; background: rgba(255, 255, 255, 22); padding: 4px 14px; min-width: 64px;
                          border: 1px solid rgba(255, 255, 255, 60); border-radius: 5px; }}
QMessageBox QPushButton:hover {{ background: rgba(255, 255, 255, 40); }}
QMessageBox QPushButton:default {{ border-color: {PALETTE["agent"]}; }}
"""




class OverlayWindow(QWidget):
    """The overlay panel.

    Feed it from a live session: :meth:`attach` once the session exists, then
    :meth:`on_event`, :meth:`on_snapshot` and :meth:`on_status` (connect them to a
    :class:`~voicecoach.ui.bridge.LiveBridge`); a shift also sends :meth:`on_call`.
    Its owner (:class:`voicecoach.ui.shiftrun.ShiftController`) fills its menu and
    decides what the ✕ does (hide, or ask before quitting); closing the window, or
    "Quit VoiceCoach", emits ``quitRequested``.

    Parameters
    ----------
    options : OverlayOptions, optional
    placement_path : path, optional
        Where to remember the position, size and view (see :func:`voicecoach.ui.placement.placement_file`);
        None remembers nothing.
    """

    quitRequested = pyqtSignal()

    LOADING, LIVE, STOPPING, IDLE = "loading", "live", "stopping", "idle"
    CAPTION_WORDS = 40
    """Words kept per side for its caption (the label shows the latest that fit)."""

    def __init__(self, options: Optional[OverlayOptions] = None,
                 placement_path: Union[str, Path, None] = None, parent: Optional[QWidget] = None,
                 settings=None):
        super().__init__(parent)
        self.options = options or OverlayOptions()
        self.font_pt = float(settings.font_pt) if settings is not None else float(FONT_PT)
        self.placement_path = Path(placement_path) if placement_path is not None else None
        self.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                            | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)   # macOS hides tool windows otherwise
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWindowTitle("VoiceCoach")
        self.setWindowIcon(app_icon())
        self.setStyleSheet(stylesheet(self.font_pt))
        if settings is not None:
            low, high = OPACITY_RANGE
            self.setWindowOpacity(min(max(float(settings.opacity), low), high))
        self.setAccessibleName("VoiceCoach overlay")
        # a larger text size (an agent who needs it) widens the panel with it: the widths
        # are set for FONT_PT, and the labels' text would be cut ("Interruptio", "Gree")
        self._scale = max(1.0, self.font_pt / FONT_PT)
        # at a larger size the panel keeps at least its natural width (a width saved at 10 pt
        # is widened too); at the usual size it can be made narrower, to min_width_px
        self.setMinimumWidth(round(self.options.width_px * self._scale) if self._scale > 1.0
                             else self.options.min_width_px)
        self.state = self.LOADING
        self.compact = False
        self.two_sided = True
        self.captions_on = True
        self.behind_warn_s = 4.0
        self.interruptions = {AGENT: 0, CUSTOMER: 0}
        self.backchannels = 0
        self._line: dict[str, list[str]] = {AGENT: [], CUSTOMER: []}
        self._usual_status = ""
        self._before_hold = ""                    # the status line a hold replaced
        self._away: Optional[str] = None     # shift mode: an input went away (what to say)
        self._paused = False                 # shift mode: coaching paused by the agent
        self._stopping = False               # the shift is ending (the agent quit)
        self._drag: Optional[QPoint] = None
        self._closing = False
        self._expanded_h = 0
        self._call_index = None            # shift mode: the call shown now
        self._pace_options = None
        self._restored = False
        self._build()
        self._status_timer = QTimer(self, singleShot=True, interval=int(self.options.status_hold_s * 1000))
        self._status_timer.timeout.connect(self._restore_status)
        self._save_timer = QTimer(self, singleShot=True, interval=int(self.options.save_delay_s * 1000))
        self._save_timer.timeout.connect(self._settle)
        self._restore()

    # ----------------------------------------------------------------- building
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(14, 10, 12, 10)
        root.setSpacing(4)

        head = QHBoxLayout()
        head.setSpacing(6)
        self.dot = QLabel()
        self.dot.setFixedSize(10, 10)
        self.title = QLabel("VoiceCoach")
        self.title.setObjectName("title")
        self.clock = QLabel("")
        self.clock.setObjectName("clock")
        self.rec = QLabel("REC")
        self.rec.setObjectName("rec")
        self.rec.setToolTip("This call is being recorded (you turned recording on)")
        self.rec.hide()
        self.fold_button = self._button("▴", "Compact view: the meters only")
        self.fold_button.clicked.connect(self._toggle_compact)
        self.menu_button = self._button("⋯", "Menu")
        self.close_button = self._button("✕", "Quit VoiceCoach")
        self.close_button.clicked.connect(self.close)
        head.addWidget(self.dot)
        head.addWidget(self.title)
        head.addWidget(self.clock)
        head.addWidget(self.rec)
        head.addStretch(1)
        for b in (self.fold_button, self.menu_button, self.close_button):
            head.addWidget(b)
        root.addLayout(head)

        self.slot = MessageSlot(self.options, self.font_pt)
        self.slot.setAccessibleName("Coaching nudge")
        root.addWidget(self.slot)
        # one line, cut with "…" (the whole line in its tooltip): a long status wrapping
        # would make the panel grow for a few seconds and keep that height
        self.status_line = ElidedLabel("", "statusline", Qt.TextElideMode.ElideRight)
        self.status_line.setAccessibleName("Status")
        root.addWidget(self.status_line)
        self.status_text, self.status_warn = "", False
        self.card = AfterCallCard()
        self.card.dismissed.connect(self._card_dismissed)
        root.addWidget(self.card)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(5)
        grid.setColumnStretch(1, 1)
        self.warmth = WarmthMeter(self.options.meter_anim_s)
        self.pace = PaceMeter(self.options.meter_anim_s)
        self.share = ShareMeter(self.options.meter_anim_s)
        self.warmth_value, self.pace_value, self.share_value = (self._value_label() for _ in range(3))
        self.interruptions_value = QLabel()
        self.interruptions_value.setTextFormat(Qt.TextFormat.RichText)
        self.interruptions_value.setObjectName("muted")
        self.interruptions_value.setToolTip("Times you cut in while the caller was talking, and times the caller\n"
                                            "cut in on you; acks are short acknowledgements (mm-hm, right)\n"
                                            "while listening: good listening, not interruptions")
        rows = [("Warmth", self.warmth, self.warmth_value), ("Pace", self.pace, self.pace_value),
                ("You talk", self.share, self.share_value), ("Interruptions", None, self.interruptions_value)]
        for r, (name, meter, value) in enumerate(rows):
            lab = QLabel(name)
            lab.setObjectName("name")
            grid.addWidget(lab, r, 0)
            if meter is None:
                grid.addWidget(value, r, 1, 1, 2)
            else:
                grid.addWidget(meter, r, 1)
                grid.addWidget(value, r, 2)
        for w, name in ((self.warmth, "Warmth meter"), (self.pace, "Pace meter"), (self.share, "Talk share meter"),
                        (self.warmth_value, "Warmth"), (self.pace_value, "Pace"), (self.share_value, "You talk"),
                        (self.interruptions_value, "Interruptions"), (self.clock, "Call time"),
                        (self.rec, "Recording"), (self.title, "VoiceCoach"), (self.dot, "Monitoring state")):
            w.setAccessibleName(name)
        self.warmth.setToolTip("How warm your voice sounds, against your own ordinary voice (the tick);\n"
                               f"the red end is flat or tired. A smile is heard.\n\n{CARE_NOTE}")
        self.share.setToolTip(f"Your share of the talking (blue) and the caller's (teal)\n\n{CARE_NOTE}")
        self.setToolTip(CARE_NOTE)
        root.addLayout(grid)

        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 4, 0, 0)
        details.setSpacing(3)
        rule = QFrame()
        rule.setObjectName("rule")
        rule.setFixedHeight(1)
        details.addWidget(rule)
        cap = QGridLayout()
        cap.setContentsMargins(0, 4, 0, 0)
        cap.setHorizontalSpacing(10)
        cap.setVerticalSpacing(8)
        cap.setColumnStretch(1, 1)
        self.captions: dict[str, CaptionText] = {}
        self.caption_tags: dict[str, QLabel] = {}
        for r, (ch, who) in enumerate(((AGENT, "You"), (CUSTOMER, "Caller"))):
            tag = QLabel(who)
            tag.setStyleSheet(f"color: {_tint(ch).name()}; font-weight: 700; font-size: {self.font_pt - 1}pt;")
            tag.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            text = CaptionText()
            text.setObjectName("caption")
            text.setAccessibleName("Your latest words" if ch == AGENT else "The caller's latest words")
            cap.addWidget(tag, r, 0)
            cap.addWidget(text, r, 1)
            self.captions[ch], self.caption_tags[ch] = text, tag
        details.addLayout(cap)
        self.checklist = LiveChecklist()
        details.addWidget(self.checklist)
        details.addStretch(1)
        details.addSpacing(10)
        foot = QHBoxLayout()
        foot.setSpacing(4)
        self.care = QLabel(CARE_NOTE)
        self.care.setObjectName("care")
        self.care.setWordWrap(True)
        foot.addWidget(self.care, 1)
        grip = QSizeGrip(self)
        foot.addWidget(grip, 0, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight)
        details.addLayout(foot)
        root.addWidget(self.details, 1)

        self.menu = QMenu(self)
        self.act_compact = self.menu.addAction("Compact view")
        self.act_compact.setCheckable(True)
        self.act_compact.toggled.connect(self.set_compact)
        self.menu.addSeparator()
        self.act_quit = self.menu.addAction("Quit VoiceCoach")
        self.act_quit.triggered.connect(self.quitRequested)
        self.menu_button.setMenu(self.menu)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)

        self._set_dot("near_miss")
        self._reset_metrics()

    def set_status(self, text: str, warn: bool = False) -> None:
        """The quiet status line (the nudge slot above it carries coaching only)."""
        self.status_text, self.status_warn = text, warn
        self.status_line.setText(text)
        self.status_line.setProperty("warn", "true" if warn else "false")
        self.status_line.style().unpolish(self.status_line)
        self.status_line.style().polish(self.status_line)

    # Slots are bound methods, not lambdas holding ``self``: PyQt disconnects a bound
    # method when its window is destroyed, while a lambda's proxy outlived a test's window
    # and the next test (tests/test_overlay.py) crashed inside that lambda.
    def _restore_status(self) -> None:
        self.set_status(self._usual_status, warn=self._away is not None)

    def set_away(self, text: Optional[str]) -> None:
        """Shift mode: an input went away (``text`` says which; the shift waits for it)
        or is back (None)."""
        self._away = text
        self._usual_status = self._waiting_text()
        self._set_dot("near_miss" if text else "dead_air")
        self._status_timer.stop()
        self.set_status(self._usual_status, warn=text is not None)

    def set_hold(self, on: bool) -> None:
        """Shift mode: the open call is on hold (the agent asked the caller to wait; the
        call goes on through the silence) or back."""
        if self.state != self.LIVE or on == (self._usual_status == HOLD_STATUS):
            return
        if on:
            self._before_hold = self._usual_status
        self._usual_status = HOLD_STATUS if on else self._before_hold
        self._status_timer.stop()
        self.set_status(self._usual_status)

    def set_paused(self, paused: bool) -> None:
        """Shift mode: the agent paused coaching (no call starts until resumed) or resumed.
        Between calls the status line says so until it changes."""
        self._paused = paused
        if self.state != self.LIVE:
            self._usual_status = self._waiting_text()
            self._status_timer.stop()
            self.set_status(self._usual_status, warn=self._away is not None)

    def _waiting_text(self) -> str:
        """The status line between calls: an input away, coaching paused, or waiting."""
        if self._stopping:
            return STOPPING_STATUS
        if self._away:
            return self._away
        return "Coaching paused — resume it from the menu" if self._paused else "Waiting for the next call"

    def _toggle_compact(self) -> None:
        self.set_compact(not self.compact)

    def _card_dismissed(self) -> None:
        self.details.setVisible(not self.compact)

    def _button(self, glyph: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(glyph)
        b.setToolTip(tip)
        b.setAccessibleName(tip.split(":")[0])
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.setAutoRaise(True)
        return b

    def _value_label(self) -> QLabel:
        lab = QLabel("–")
        lab.setObjectName("value")
        lab.setMinimumWidth(64)
        lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return lab

    def _set_dot(self, role: str) -> None:
        self.dot.setStyleSheet(f"background: {_tint(role).name()}; border-radius: 5px;")

    # ----------------------------------------------------------------- states
    def _reset_metrics(self, going_on: bool = False) -> None:
        """Fresh meters for a call; ``going_on``: the call before, cut by a pause or a lost
        input, goes on, and its checklist and lists stay."""
        self.interruptions = {AGENT: 0, CUSTOMER: 0}
        self.backchannels = 0
        for m in (self.warmth, self.pace, self.share):
            m.set_value(None)
        self.warmth_value.setText("–")
        self.pace_value.setText("–")
        self.pace_value.setStyleSheet("")
        self.share_value.setText("–" if self.two_sided else "mic only")
        self._show_interruptions()
        for ch in (AGENT, CUSTOMER):
            self._line[ch] = []
            self.captions[ch].set_caption("")
        if not self.captions_on:                  # each call of a shift says it again
            self.captions[AGENT].set_caption("", CAPTIONS_OFF)
        if not going_on:
            self.checklist.reset()

    def set_loading(self, text: str = MODEL_LOADING_TEXT) -> None:
        """Before the session exists: meters greyed out, ``text`` as the status."""
        self.state = self.LOADING
        self._reset_metrics()
        self.clock.setText("")
        self._set_dot("near_miss")
        for m in (self.warmth, self.pace, self.share):
            m.setEnabled(False)
        self._usual_status = text
        self.set_status(text)
        self.slot.set_busy(True)

    def attach(self, session: "LiveSession") -> None:
        """The session is built and its call starts: take its channels, bands and captions."""
        cfg = session.config
        self.two_sided = CUSTOMER in session.source.channels
        self.captions_on = session.model_name is not None
        self.behind_warn_s = cfg.live.behind_warn_s
        self.warmth.low_warmth = cfg.warmth.low_warmth
        self._pace_options = cfg.pace
        self.pace.set_scale(cfg.pace.band_low_syl_s, cfg.pace.band_high_syl_s, cfg.pace.fast_syl_s)
        self.pace.setToolTip(f"Your recent pace; comfortable: {cfg.pace.band_low_wpm:.0f}–"
                             f"{cfg.pace.band_high_wpm:.0f} words/min ({cfg.pace.band_low_syl_s:g}–"
                             f"{cfg.pace.band_high_syl_s:g} syllables/s before the words arrive)")
        self.state = self.LIVE
        self._reset_metrics()
        self._set_dot("backchannel")
        self.warmth.setEnabled(True)
        self.pace.setEnabled(True)
        self.share.setEnabled(self.two_sided)
        self.share_value.setStyleSheet("" if self.two_sided else f"color: {MUTED}; font-weight: 400;")
        if not self.two_sided:
            self.share_value.setText("mic only")
        self.captions[CUSTOMER].setVisible(self.two_sided and self.captions_on)
        self.caption_tags[CUSTOMER].setVisible(self.two_sided and self.captions_on)
        self.checklist.set_options(cfg.language)
        self.checklist.set_words(self.captions_on)
        self.checklist.set_caller(self.two_sided)
        if not self.captions_on:
            self.captions[AGENT].set_caption("", CAPTIONS_OFF)
        self._usual_status = ("Listening to you and the caller" if self.two_sided
                              else "Mic only — warmth and pace (no call audio)")
        self._status_timer.stop()
        self.set_status(self._usual_status)
        self.slot.set_busy(False)
        self.clock.setText(clock(0.0))

    def set_over(self, text: str) -> None:
        """Shift mode: the shift has ended by itself (``text`` says so); the panel stays up
        with the last call's card until the agent closes it."""
        self.state = self.IDLE
        self._set_dot("dead_air")
        self.rec.setVisible(False)
        self.slot.set_busy(False)
        self._usual_status = text
        self._status_timer.stop()
        self.set_status(text)

    def set_stopping(self) -> None:
        """Monitoring is ending: the call is being finished and saved."""
        self._stopping = True               # the call's end and save to come say so too
        if self.state in (self.LIVE, self.LOADING):
            self.state = self.STOPPING
            self._set_dot("dead_air")
            self._usual_status = STOPPING_STATUS
            self._status_timer.stop()
            self.set_status(self._usual_status)
            self.slot.set_busy(True)
        elif self.state == self.IDLE:       # a call that just ended may still be being saved
            self._usual_status = STOPPING_STATUS
            self._status_timer.stop()
            self.set_status(self._usual_status)

    def on_call(self, item: dict) -> None:
        """Shift mode: a call started (fresh meters, the card goes), is over (waiting),
        or was saved (its card). A call saved after the next one started (saving takes a
        few seconds) leaves the live call alone: a quiet status line, no card."""
        state, index = item.get("state"), item.get("index")
        if state == "saved":                                # a full disk refused it at first
            self.set_status(f"Call {index}'s record is saved after all — its review is in the menu")
            self._status_timer.start()
        elif state == "started":
            self._call_index = index
            self.card.hide()
            self.slot.show()
            self.details.setVisible(not self.compact)
            self.state = self.LIVE
            going_on = item.get("reason") in GOING_ON
            self._reset_metrics(going_on)
            self._set_dot("backchannel")
            self._usual_status = (f"Call {index}{f' (call {index - 1} going on)' if going_on else ''}"
                                  + (" — listening to you and the caller" if self.two_sided
                                     else " — mic only: warmth and pace (no call audio)"))
            self.set_status(self._usual_status)
            self.clock.setText(clock(0.0))
            self._fit_height()
        elif (self._call_index is not None and index is not None and index < self._call_index
              and not (state == "ended" and self.state == self.IDLE)):
            # an earlier call saved while a later one is live (a later one that is over, a
            # false start dropped, leaves the panel free for the earlier call's card)
            if state == "ended":
                self.set_status(f"Call {index} saved — its review is in the menu")
                self._status_timer.start()
        elif state in ("ending", "ended", "dropped"):
            if state == "ending":                           # the call's length, as its record and card say
                self.clock.setText(clock(max(0.0, item["end_t"] - item["t"])))
            self.state = self.IDLE
            self._set_dot("dead_air")
            self.rec.setVisible(False)                      # nothing is recorded between calls
            self._usual_status = self._waiting_text()
            self.set_status(self._usual_status, warn=self._away is not None)
            if state == "ended":
                if not self.compact and not self.card.isVisible():
                    self._expanded_h = self.height()        # given back at the next call
                self.card.show_call(item["record"], item.get("record_path"), index)
                self.slot.hide()                            # no nudges between calls: no empty band
                self.details.setVisible(False)              # the card takes the captions' place
                self._fit_height()

    # ----------------------------------------------------------------- live input
    def on_event(self, e: Event) -> None:
        """An engine event: words feed the captions; nudges and plainer-words tips show."""
        self.checklist.on_event(e)
        if e.kind == "word" and e.channel in self._line:
            line = self._line[e.channel]
            line.append(e.text.strip())
            del line[:-self.CAPTION_WORDS]
            if self.captions_on:
                self.captions[e.channel].set_caption(" ".join(line))
        elif e.kind == "nudge":
            self.slot.show_message(e.text, "nudge", NUDGE_ROLES.get(e.data.get("nudge", ""), "note"))
        elif (e.kind == "cue" and e.channel == AGENT and e.data.get("cue") in REPHRASE
              and e.data.get("suggestion") and not self.slot.showing_nudge):
            self.slot.show_message(f"“{e.data.get('phrase', '')}” → try “{e.data['suggestion']}”",
                                   "tip", "rephrase")

    def on_snapshot(self, s: dict) -> None:
        """A metrics snapshot (``LiveSession.snapshot()``): meters, counts, clock."""
        if self.state not in (self.LIVE, self.STOPPING):
            return
        self.clock.setText(clock(s["t"]))
        w = s.get("warmth") or {}
        shown = w.get("shown", w.get("warmth"))           # smoothed for reading; the record keeps the raw
        self.warmth.set_value(shown)
        self.warmth_value.setText(w.get("band") or ("learning" if shown is None else f"{shown:.1f}"))
        caller = s.get("caller")
        if caller is not None:
            self.checklist.set_temperature(caller.get("temperature"), bool(caller.get("heard_s")))
        self._show_pace(s.get("pace") or {})
        turns = s.get("turns")
        if turns:
            share = turns.get("talk_share_agent")
            self.share.set_value(share)
            self.share_value.setText(f"{share * 100:.0f} %" if share is not None else "–")
            self.interruptions = {AGENT: turns["interruptions"]["agent"],
                                  CUSTOMER: turns["interruptions"]["customer"]}
            self.backchannels = turns.get("backchannels", self.backchannels)
            self._show_interruptions()
        self.rec.setVisible(bool(s.get("recording")))
        lag = s.get("stt_lag_s")
        if self.state == self.LIVE and not self._status_timer.isActive():
            if lag is not None and lag > self.behind_warn_s:
                self.set_status(f"Captions are {lag:.0f} s behind — catching up", warn=True)
            else:
                self.set_status(self._usual_status)

    def on_status(self, text: str, warn: bool = True) -> None:
        """A status line from the session (``warn``: something is wrong, in the warning
        colour); it stays ``status_hold_s``."""
        self.set_status(text, warn=warn)
        self._status_timer.start()

    def _show_pace(self, pace: dict) -> None:
        o = self._pace_options
        if pace.get("recent_wpm") is not None:
            value, text = pace["recent_wpm"], f"{pace['recent_wpm']:.0f} wpm"
            if o is not None:
                self.pace.set_scale(o.band_low_wpm, o.band_high_wpm, o.fast_wpm)
        elif pace.get("recent_syl_s") is not None:
            value, text = pace["recent_syl_s"], f"{pace['recent_syl_s']:.1f} syl/s"
            if o is not None:
                self.pace.set_scale(o.band_low_syl_s, o.band_high_syl_s, o.fast_syl_s)
        else:
            value, text = None, "–"
        self.pace.zone = pace.get("zone")
        self.pace.set_value(value)
        self.pace_value.setText(text)
        zone_colour = _tint(ZONE_ROLES[self.pace.zone]).name() if self.pace.zone in ZONE_ROLES else TEXT
        self.pace_value.setStyleSheet(f"color: {zone_colour};")
        self.pace_value.setToolTip(f"pace: {ZONE_TEXT[self.pace.zone]}" if self.pace.zone in ZONE_TEXT else "")

    def _show_interruptions(self) -> None:
        if self.state == self.LOADING:
            self.interruptions_value.setText("–")
            return
        if not self.two_sided:
            self.interruptions_value.setText("need the call audio")
            return
        you, caller = self.interruptions[AGENT], self.interruptions[CUSTOMER]
        you_colour = _tint("interruption").name() if you else TEXT
        acks = (f" &nbsp;·&nbsp; <span style='color:{_tint('backchannel').name()}'>{self.backchannels} "
                f"ack{'s' if self.backchannels != 1 else ''}</span>") if self.backchannels else ""
        self.interruptions_value.setText(
            f"<b style='color:{you_colour}; font-size:{self.font_pt + 1}pt'>{you}</b> by you &nbsp;·&nbsp; "
            f"<b style='color:{TEXT}; font-size:{self.font_pt + 1}pt'>{caller}</b> by the caller{acks}")

    # ----------------------------------------------------------------- view and placement
    def set_compact(self, compact: bool) -> None:
        """The compact view shows the meters alone; the expanded view adds the captions."""
        if compact == self.compact:
            return
        card = self.card.isVisible()                # the card has the captions' place until the next call
        if not self.compact and not card:
            self._expanded_h = self.height()
        self.compact = compact
        self.act_compact.setChecked(compact)
        self.details.setVisible(not compact and not card)
        self.fold_button.setText("▾" if compact else "▴")
        self.fold_button.setToolTip("Expanded view: with captions" if compact else "Compact view: the meters only")
        if card:
            self._fit_height()
        else:
            self.layout().activate()
            height = self._least_height()
            if not compact:
                height = max(height, self._expanded_h)
            self.resize(self.width(), height)
        self._schedule_save()

    def _least_height(self, width: Optional[int] = None) -> int:
        """The least height (px) the panel needs at ``width`` (default: its own). Qt gives a
        window the least height of its text unwrapped, so the care note wrapped onto two
        lines took its line from the lists above it, cutting their last item."""
        width = self.width() if width is None else width
        return max(self.minimumSizeHint().height(), self.layout().minimumHeightForWidth(width))

    def _grow_to_fit(self) -> None:
        """Taller when the panel's text needs it (never shorter: the agent's height stays)."""
        if self.height() < self._least_height():
            self.resize(self.width(), self._least_height())

    def _restore(self) -> None:
        saved = Placement.load(self.placement_path) if self.placement_path is not None else None
        self.layout().activate()
        width = max(saved.width if saved else round(self.options.width_px * self._scale), self.minimumWidth())
        natural_h = self._least_height(width)
        self._expanded_h = max(saved.height if saved else natural_h, natural_h)
        self.resize(width, self._expanded_h)
        if saved is not None and saved.compact:
            self.set_compact(True)
        screen = QGuiApplication.screenAt(QPoint(saved.x + 20, saved.y + 20)) if saved else None
        if saved is not None and screen is not None:
            self.move(*back_on_screen(saved.x, saved.y, screen.availableGeometry().getRect()))
        else:
            area = QGuiApplication.primaryScreen().availableGeometry()
            self.move(*at_top_right(width, area.getRect(), self.options.edge_margin_px))
        self._restored = True

    def placement(self) -> Placement:
        return Placement(self.x(), self.y(), self.width(),
                         self._expanded_h if self.compact else self.height(), self.compact)

    def keep_on_screen(self) -> bool:
        """Snap the panel back inside the screen it is (mostly) on, against the edge it
        was dragged past; True when it moved."""
        if QGuiApplication.primaryScreen() is None:
            return False
        x, y = inside((self.x(), self.y(), self.width(), self.height()), self._screen_area().getRect())
        if (x, y) == (self.x(), self.y()):
            return False
        self.move(x, y)
        return True

    def _settle(self) -> None:
        if self._drag is None and QApplication.mouseButtons() == Qt.MouseButton.NoButton:
            self.keep_on_screen()
            self.save_placement()
        else:
            self._save_timer.start()                # still being dragged

    def _fit_height(self) -> None:
        """The panel's height for what it shows: the after-call card fits snugly (no empty
        band); a call in the expanded view gets back the height the panel had."""
        # New text (the card's lists) posts layout requests; its wrapped lines count in
        # the height for the panel's width only once those are through.
        def needed() -> int:
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            layout = self.layout()
            layout.activate()
            return max(self.minimumSizeHint().height(), layout.totalHeightForWidth(self.width()))

        height = needed()
        if self.card.isVisible():
            # a large text size on a small screen: fewer items of each list (the review
            # has them all) rather than a panel whose foot is off the screen
            room = self._screen_area().height()
            while height > room and self.card.items > 1:
                self.card.show_call(self.card.record, self.card.record_path, self.card.index, self.card.items - 1)
                height = needed()
            height = min(height, room)
        elif not self.compact:
            height = max(height, self._expanded_h)
        self.resize(self.width(), height)
        if self.card.isVisible():
            self.keep_on_screen()

    def _screen_area(self):
        """The available geometry of the screen the panel is (mostly) on."""
        screen = QGuiApplication.screenAt(self.frameGeometry().center()) or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def save_placement(self) -> None:
        """Remember the position, size and view now (also done shortly after each change)."""
        if self.placement_path is not None:
            self.placement().save(self.placement_path)

    def _schedule_save(self) -> None:
        if self._restored and self.placement_path is not None:
            self._save_timer.start()

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        self._schedule_save()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._grow_to_fit()                            # made narrower: its text wraps more
        self._schedule_save()

    def event(self, event) -> bool:
        done = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:  # new text, or its font arrived
            self._grow_to_fit()
        return done

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            handle = self.windowHandle()
            if handle is not None and handle.startSystemMove():
                self._drag = None                   # the window manager moves it
            else:
                self._drag = event.globalPosition().toPoint() - self.pos()
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag)
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event) -> None:
        self.menu.popup(event.globalPos())

    # ----------------------------------------------------------------- menu, closing, painting
    def close_for_good(self) -> None:
        """Close without asking (the owner has finished)."""
        self._closing = True
        self.save_placement()
        self.close()

    def closeEvent(self, event) -> None:
        if self._closing:
            self._save_timer.stop()
            super().closeEvent(event)
            return
        event.ignore()                              # the owner ends the call, then closes
        self.quitRequested.emit()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(255, 255, 255, 38), 1.0))
        p.setBrush(_qcolor(PANEL, PANEL_ALPHA))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 12, 12)
        p.end()


# --------------------------------------------------------------------------- running it

def run_until_done(controller, window) -> None:
    """Show ``window``, start ``controller`` and run Qt until it emits ``done``; Ctrl-C,
    SIGTERM and SIGHUP ask it to quit. Whatever the controller met is raised again here."""
    loop = QEventLoop()
    controller.done.connect(loop.quit)
    with on_stop_signals(controller.quit):
        window.show()
        controller.start()
        loop.exec()
    if controller.error is not None:
        raise controller.error
