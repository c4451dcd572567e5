"""The overlay: a small always-on-top panel that coaches the agent during the call.

The agent puts it at a screen edge and forgets it. It shows a warmth ("smile")
meter, a pace meter with its comfortable band, the talk share, the interruption
counts, the latest caption line of each side, and nudges that fade in, stay a few
seconds and fade out. It never takes the keyboard focus from the agent's own tools:
it is a frameless tool window that does not accept focus and shows without
activating. It can be dragged anywhere, remembers where it was and how big, folds
into a compact view (the meters alone), and, where the desktop has a system tray,
hides into a tray icon that also starts and stops monitoring.

The window is a thin view over the engine's events and snapshots, which reach it
through :class:`~voicecoach.ui.bridge.LiveBridge`. :func:`run_overlay` ties it to a
live session running on a worker thread.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Union

from PyQt6.QtCore import (QEasingCurve, QEventLoop, QObject, QPauseAnimation, QPoint, QPropertyAnimation,
                          QRect, QRectF, QSequentialAnimationGroup, Qt, QTimer, QVariantAnimation,
                          pyqtProperty, pyqtSignal)
from PyQt6.QtGui import QColor, QFont, QGuiApplication, QIcon, QLinearGradient, QPainter, QPainterPath, QPen, QPixmap
from PyQt6.QtWidgets import (QApplication, QFrame, QGridLayout, QHBoxLayout, QLabel, QMenu, QSizeGrip,
                             QSizePolicy, QSystemTrayIcon, QToolButton, QVBoxLayout, QWidget)

from voicecoach.events import AGENT, CUSTOMER, Event
from voicecoach.report import PALETTE
from voicecoach.summary import CARE_NOTE, REPHRASE, clock

from . import has_screen
from .bridge import LiveBridge, SessionRunner
from .style import FONT_PT, color

if TYPE_CHECKING:
    from voicecoach.live import LiveSession

MODEL_LOADING_TEXT = "Loading the speech model…"
"""The status line while the session is being built."""

# The panel is dark and nearly opaque so that it reads over any background; the
# meters use the review window's colours (voicecoach.report.PALETTE).
PANEL = PALETTE["ink"]
PANEL_ALPHA = 242
TEXT = "#f1f4f7"
MUTED = "#aab4bf"
TRACK = "#3a4654"
WARN = "#ffc078"

NUDGE_ROLES = {"let_them_finish": "interruption", "caller_heated": "note", "slow_down": "pace",
               "smile": "warmth", "monotone": "voice"}
"""The colour (a PALETTE role) of each nudge kind (``voicecoach.coach.NUDGES``)."""
ZONE_ROLES = {"slow": "note", "comfortable": "backchannel", "brisk": "near_miss", "fast": "interruption"}
"""The colour of the pace marker in each pace zone."""


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


# --------------------------------------------------------------------------- placement

def placement_file() -> Path:
    """Where the overlay remembers its position, size and view:
    ``overlay.json`` in the platform's user config folder."""
    import platformdirs

    return platformdirs.user_config_path("voicecoach") / "overlay.json"


@dataclass
class Placement:
    """Where the overlay was and how it looked.

    Attributes
    ----------
    x, y : int
        Top-left corner on the virtual desktop (px).
    width : int
        Width (px), the same in both views.
    height : int
        Height of the expanded view (px); the compact view is as short as it can be.
    compact : bool
        The compact view (meters only) was on.
    """

    x: int
    y: int
    width: int
    height: int
    compact: bool = False

    @classmethod
    def load(cls, path: Path) -> Optional["Placement"]:
        """The saved placement, or None when there is none or it cannot be read."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(int(d["x"]), int(d["y"]), int(d["width"]), int(d["height"]), bool(d.get("compact")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        """Write it (a failure to write only loses the placement, so it is ignored)."""
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(asdict(self)), encoding="utf-8")
        except OSError:
            pass


# --------------------------------------------------------------------------- drawing helpers

def _qcolor(spec: str, alpha: int = 255) -> QColor:
    c = QColor(spec)
    c.setAlpha(alpha)
    return c


def _tint(role: str) -> QColor:
    """A role's colour lightened to read as text on the dark panel."""
    return color(role).lighter(135)


def _luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def _text_on(background: QColor) -> QColor:
    """White or the panel's ink, whichever contrasts more with ``background``."""
    bg = _luminance(background)
    ink = QColor(PANEL)
    on_white = 1.05 / (bg + 0.05)
    on_ink = (bg + 0.05) / (_luminance(ink) + 0.05)
    return QColor("#ffffff") if on_white >= on_ink else ink


def app_icon(size_px: int = 64) -> QIcon:
    """VoiceCoach's icon (drawn, so nothing is shipped): a smile in the agent's blue."""
    pix = QPixmap(size_px, size_px)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size_px)
    p.setBrush(color("agent"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(0, 0, s, s), s * 0.24, s * 0.24)
    pen = QPen(QColor("#ffffff"), s * 0.09)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.drawArc(QRectF(s * 0.24, s * 0.18, s * 0.52, s * 0.52), 200 * 16, 140 * 16)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color("warmth"))
    p.drawEllipse(QRectF(s * 0.42, s * 0.74, s * 0.16, s * 0.16))
    p.end()
    return QIcon(pix)


# --------------------------------------------------------------------------- meters

class _Meter(QWidget):
    """A thin rounded bar whose value glides to each new reading; subclasses draw what
    the value means on the bar."""

    BAR_PX = 10

    def __init__(self, anim_s: float, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.value: Optional[float] = None          # the latest reading
        self.shown: Optional[float] = None          # where the bar is drawn now
        self._anim = QVariantAnimation(self)
        self._anim.setDuration(int(anim_s * 1000))
        self._anim.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._anim.valueChanged.connect(self._glide)
        self.setFixedHeight(16)
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_value(self, value: Optional[float]) -> None:
        if value == self.value:
            return
        self.value = value
        self._anim.stop()
        if value is None or self.shown is None or self._anim.duration() <= 0:
            self.shown = value
            self.update()
            return
        self._anim.setStartValue(float(self.shown))
        self._anim.setEndValue(float(value))
        self._anim.start()

    def _glide(self, v) -> None:
        self.shown = float(v)
        self.update()

    def _x(self, bar: QRectF, value: float, lo: float = 0.0, hi: float = 1.0) -> float:
        f = (value - lo) / (hi - lo) if hi > lo else 0.0
        return bar.left() + min(max(f, 0.0), 1.0) * bar.width()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.isEnabled():
            p.setOpacity(0.4)
        bar = QRectF(1.0, (self.height() - self.BAR_PX) / 2, self.width() - 2.0, self.BAR_PX)
        shape = QPainterPath()
        shape.addRoundedRect(bar, self.BAR_PX / 2, self.BAR_PX / 2)
        p.fillPath(shape, QColor(TRACK))
        p.save()
        p.setClipPath(shape)
        self._fill(p, bar)
        p.restore()
        self._mark(p, bar)
        p.end()

    def _fill(self, p: QPainter, bar: QRectF) -> None:
        """Draw inside the bar (clipped to its rounded shape)."""

    def _mark(self, p: QPainter, bar: QRectF) -> None:
        """Draw over the bar (not clipped)."""

    def _tick(self, p: QPainter, bar: QRectF, x: float, alpha: int = 150) -> None:
        p.setPen(QPen(_qcolor(TEXT, alpha), 1.5))
        p.drawLine(int(round(x)), int(bar.top()) - 2, int(round(x)), int(bar.bottom()) + 2)


class WarmthMeter(_Meter):
    """Warmth 0–1: a grey-to-orange fill; the low zone is tinted red; the tick at 0.5
    is the agent's ordinary voice."""

    low_warmth = 0.3

    def _fill(self, p: QPainter, bar: QRectF) -> None:
        p.fillRect(QRectF(bar.left(), bar.top(), self._x(bar, self.low_warmth) - bar.left(), bar.height()),
                   color("interruption", 70))
        if self.shown is None:
            return
        grad = QLinearGradient(bar.left(), 0, bar.right(), 0)
        grad.setColorAt(0.0, QColor("#7b8794"))
        grad.setColorAt(1.0, color("warmth").lighter(115))
        p.fillRect(QRectF(bar.left(), bar.top(), self._x(bar, self.shown) - bar.left(), bar.height()), grad)

    def _mark(self, p: QPainter, bar: QRectF) -> None:
        self._tick(p, bar, self._x(bar, 0.5), 110)


class PaceMeter(_Meter):
    """The agent's recent pace on a scale with its comfortable band (green) and its fast
    zone (red); the dot's colour says the zone."""

    def __init__(self, anim_s: float, parent: Optional[QWidget] = None):
        super().__init__(anim_s, parent)
        self.scale = (2.0, 3.0, 4.5, 5.0, 6.0)       # low end, band low, band high, fast, high end
        self.zone: Optional[str] = None

    def set_scale(self, band_low: float, band_high: float, fast: float) -> None:
        """The band and the fast threshold, in the unit of the values to come."""
        span = fast - band_low
        scale = (band_low - 0.6 * span, band_low, band_high, fast, fast + 0.4 * span)
        if scale != self.scale:
            self.scale = scale
            self.shown = self.value
            self._anim.stop()
            self.update()

    def _fill(self, p: QPainter, bar: QRectF) -> None:
        lo, b0, b1, fast, hi = self.scale
        x0, x1 = self._x(bar, b0, lo, hi), self._x(bar, b1, lo, hi)
        p.fillRect(QRectF(x0, bar.top(), x1 - x0, bar.height()), color("backchannel", 150))
        xf = self._x(bar, fast, lo, hi)
        p.fillRect(QRectF(xf, bar.top(), bar.right() - xf, bar.height()), color("interruption", 110))

    def _mark(self, p: QPainter, bar: QRectF) -> None:
        if self.shown is None:
            return
        lo, _, _, _, hi = self.scale
        x = self._x(bar, self.shown, lo, hi)
        x = min(max(x, bar.left() + 6), bar.right() - 6)
        p.setPen(QPen(QColor(PANEL), 2.0))
        p.setBrush(_tint(ZONE_ROLES.get(self.zone or "", "dead_air")))
        p.drawEllipse(QRectF(x - 6.5, bar.center().y() - 6.5, 13.0, 13.0))


class ShareMeter(_Meter):
    """The agent's share of the talking: the agent's blue from the left, the caller's
    teal for the rest, a tick at half."""

    def _fill(self, p: QPainter, bar: QRectF) -> None:
        if self.shown is None:
            return
        x = self._x(bar, self.shown)
        p.fillRect(QRectF(bar.left(), bar.top(), x - bar.left(), bar.height()), color("agent"))
        p.fillRect(QRectF(x, bar.top(), bar.right() - x, bar.height()), color("customer"))

    def _mark(self, p: QPainter, bar: QRectF) -> None:
        if self.shown is not None:
            self._tick(p, bar, self._x(bar, 0.5), 120)


# --------------------------------------------------------------------------- messages and captions

class MessageSlot(QWidget):
    """The line under the header: the status when all is quiet; a nudge (filled, in its
    colour) or a plainer-words tip (outlined) fades in over it, stays, and fades out."""

    HEIGHT_PX = 44

    def __init__(self, options: OverlayOptions, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.options = options
        self.status = ""
        self.status_warn = False
        self.message = ""
        self.kind = ""                 # "nudge" or "tip"
        self.role = "note"
        self._opacity = 0.0
        self.setFixedHeight(self.HEIGHT_PX)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fade_in = QPropertyAnimation(self, b"messageOpacity", self)
        self._fade_in.setDuration(int(options.nudge_fade_in_s * 1000))
        self._fade_in.setEndValue(1.0)
        self._hold = QPauseAnimation(self)
        self._fade_out = QPropertyAnimation(self, b"messageOpacity", self)
        self._fade_out.setDuration(int(options.nudge_fade_out_s * 1000))
        self._fade_out.setStartValue(1.0)
        self._fade_out.setEndValue(0.0)
        self._fade_out.setEasingCurve(QEasingCurve.Type.InQuad)
        self._seq = QSequentialAnimationGroup(self)
        for anim in (self._fade_in, self._hold, self._fade_out):
            self._seq.addAnimation(anim)
        self._seq.finished.connect(self._gone)
        self._busy = QVariantAnimation(self)
        self._busy.setStartValue(0.0)
        self._busy.setEndValue(1.0)
        self._busy.setDuration(1400)
        self._busy.setLoopCount(-1)
        self._busy.valueChanged.connect(self.update)

    def get_opacity(self) -> float:
        return self._opacity

    def set_opacity(self, value: float) -> None:
        self._opacity = float(value)
        self.update()

    messageOpacity = pyqtProperty(float, fget=get_opacity, fset=set_opacity)
    """How visible the message is (0–1), animated."""

    @property
    def showing(self) -> bool:
        """A message is on screen (fading in, held or fading out)."""
        return bool(self.message)

    @property
    def showing_nudge(self) -> bool:
        return self.showing and self.kind == "nudge"

    @property
    def busy(self) -> bool:
        return self._busy.state() == QVariantAnimation.State.Running

    def set_status(self, text: str, warn: bool = False) -> None:
        self.status, self.status_warn = text, warn
        self.update()

    def set_busy(self, busy: bool) -> None:
        """A thin sweeping line under the status while something is being waited for."""
        if busy and not self.busy:
            self._busy.start()
        elif not busy:
            self._busy.stop()
            self.update()

    def show_message(self, text: str, kind: str = "nudge", role: str = "note") -> None:
        """Show a nudge or a tip; it replaces what is shown, fading in from where it is."""
        self._seq.stop()
        self.message, self.kind, self.role = text, kind, role
        self._fade_in.setStartValue(self._opacity)
        hold_s = self.options.nudge_hold_s if kind == "nudge" else self.options.tip_hold_s
        self._hold.setDuration(int(hold_s * 1000))
        self._seq.start()

    def _gone(self) -> None:
        self.message = ""
        self.set_opacity(0.0)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 3.5, -0.5, -3.5)
        if self.status and not self.message:          # no cross-fade: two texts on top of each other blur
            font = QFont(self.font())
            font.setPointSizeF(FONT_PT - 1.0)
            p.setFont(font)
            p.setPen(QColor(WARN if self.status_warn else MUTED))
            text = p.fontMetrics().elidedText(self.status, Qt.TextElideMode.ElideRight, int(rect.width()) - 4)
            p.drawText(rect.adjusted(2, 0, -2, 0), int(Qt.AlignmentFlag.AlignVCenter), text)
            if self.busy:
                track = QRectF(rect.left() + 2, rect.bottom() - 4, rect.width() - 4, 3)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(TRACK))
                p.drawRoundedRect(track, 1.5, 1.5)
                seg = 0.3 * track.width()
                x0 = track.left() + float(self._busy.currentValue()) * (track.width() + seg) - seg
                p.setClipRect(track)
                p.setBrush(_tint("agent"))
                p.drawRoundedRect(QRectF(x0, track.top(), seg, track.height()), 1.5, 1.5)
                p.setClipping(False)
        if self.message and self._opacity > 0.0:
            p.setOpacity(self._opacity)
            font = QFont(self.font())
            if self.kind == "nudge":
                fill = color(self.role)
                p.setBrush(fill)
                p.setPen(Qt.PenStyle.NoPen)
                font.setPointSizeF(FONT_PT + 0.5)
                font.setBold(True)
                ink = _text_on(fill)
            else:
                p.setBrush(QColor(TRACK))
                p.setPen(QPen(_tint(self.role), 1.2))
                font.setPointSizeF(FONT_PT - 0.5)
                ink = QColor(TEXT)
            p.drawRoundedRect(rect, 9, 9)
            p.setFont(font)
            p.setPen(ink)
            p.drawText(rect.adjusted(10, 0, -10, 0),
                       int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)
        p.end()


class CaptionText(QLabel):
    """The latest words of one side, cut at the front (with "…") to fit its lines."""

    def __init__(self, lines: int = 2, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.full = ""
        self.placeholder = "…"
        self.lines = lines
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit()

    def set_caption(self, text: str, placeholder: str = "…") -> None:
        """Show ``text`` (its tail, if it is long); ``placeholder``, muted, when it is empty."""
        self.full = text
        self.placeholder = placeholder
        self.setStyleSheet(f"color: {MUTED};" if not text.strip() else "")
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        fm = self.fontMetrics()
        width = max(1, self.contentsRect().width())
        room = self.lines * fm.boundingRect(QRect(0, 0, width, 1000), 0, "Ag").height()
        if self.height() != room + 2:
            self.setFixedHeight(room + 2)
        words = self.full.split()
        start = 0
        while start < len(words) - 1:
            text = ("… " if start else "") + " ".join(words[start:])
            if fm.boundingRect(QRect(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap), text).height() <= room:
                break
            start += 1
        else:
            text = ("… " if start else "") + " ".join(words[start:])
        self.setText(text or self.placeholder)


# --------------------------------------------------------------------------- the window

STYLESHEET = f"""
QWidget {{ color: {TEXT}; font-size: {FONT_PT}pt; }}
QLabel#title {{ font-weight: 700; font-size: {FONT_PT + 0.5}pt; }}
QLabel#clock {{ color: {MUTED}; font-family: "DejaVu Sans Mono", monospace; font-size: {FONT_PT - 1}pt; }}
QLabel#rec {{ color: #ffffff; background: {PALETTE["interruption"]}; border-radius: 4px; padding: 0px 4px;
             font-size: {FONT_PT - 2}pt; font-weight: 700; }}
QLabel#name {{ color: {MUTED}; font-size: {FONT_PT - 1}pt; }}
QLabel#value {{ font-weight: 700; }}
QLabel#muted {{ color: {MUTED}; font-size: {FONT_PT - 1}pt; }}
QLabel#care {{ color: {MUTED}; font-size: {FONT_PT - 2}pt; }}
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
"""
"""The overlay's own stylesheet (dark panel, light text)."""


class OverlayWindow(QWidget):
    """The overlay panel.

    Feed it from a live session: :meth:`attach` once the session exists, then
    :meth:`on_event`, :meth:`on_snapshot` and :meth:`on_status` (connect them to a
    :class:`~voicecoach.ui.bridge.LiveBridge`). It asks its owner to stop or start
    monitoring, or to quit, through its signals; closing it asks to quit.

    Parameters
    ----------
    options : OverlayOptions, optional
    placement_path : path, optional
        Where to remember the position, size and view (see :func:`placement_file`);
        None remembers nothing.
    """

    stopRequested = pyqtSignal()
    startRequested = pyqtSignal()
    quitRequested = pyqtSignal()

    LOADING, LIVE, STOPPING, IDLE, ENDED = "loading", "live", "stopping", "idle", "ended"
    CAPTION_WORDS = 40
    """Words kept per side for its caption (the label shows the latest that fit)."""

    def __init__(self, options: Optional[OverlayOptions] = None,
                 placement_path: Union[str, Path, None] = None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.options = options or OverlayOptions()
        self.placement_path = Path(placement_path) if placement_path is not None else None
        self.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                            | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)   # macOS hides tool windows otherwise
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWindowTitle("VoiceCoach")
        self.setWindowIcon(app_icon())
        self.setStyleSheet(STYLESHEET)
        self.setMinimumWidth(self.options.min_width_px)
        self.state = self.LOADING
        self.compact = False
        self.two_sided = True
        self.captions_on = True
        self.behind_warn_s = 4.0
        self.interruptions = {AGENT: 0, CUSTOMER: 0}
        self.backchannels = 0
        self._line: dict[str, list[str]] = {AGENT: [], CUSTOMER: []}
        self._usual_status = ""
        self._drag: Optional[QPoint] = None
        self._closing = False
        self._expanded_h = 0
        self._pace_options = None
        self._restored = False
        self._build()
        self._status_timer = QTimer(self, singleShot=True, interval=int(self.options.status_hold_s * 1000))
        self._status_timer.timeout.connect(lambda: self.slot.set_status(self._usual_status))
        self._save_timer = QTimer(self, singleShot=True, interval=int(self.options.save_delay_s * 1000))
        self._save_timer.timeout.connect(self.save_placement)
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
        self.fold_button.clicked.connect(lambda: self.set_compact(not self.compact))
        self.menu_button = self._button("⋯", "Menu")
        self.close_button = self._button("✕", "Stop monitoring and close")
        self.close_button.clicked.connect(self.close)
        head.addWidget(self.dot)
        head.addWidget(self.title)
        head.addWidget(self.clock)
        head.addWidget(self.rec)
        head.addStretch(1)
        for b in (self.fold_button, self.menu_button, self.close_button):
            head.addWidget(b)
        root.addLayout(head)

        self.slot = MessageSlot(self.options)
        root.addWidget(self.slot)

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
            tag.setStyleSheet(f"color: {_tint(ch).name()}; font-weight: 700; font-size: {FONT_PT - 1}pt;")
            tag.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            text = CaptionText()
            text.setObjectName("caption")
            cap.addWidget(tag, r, 0)
            cap.addWidget(text, r, 1)
            self.captions[ch], self.caption_tags[ch] = text, tag
        details.addLayout(cap)
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
        self.act_monitor = self.menu.addAction("Stop monitoring")
        self.act_monitor.triggered.connect(self._monitor_clicked)
        self.act_visible = self.menu.addAction("Hide overlay")
        self.act_visible.triggered.connect(lambda: self.setVisible(not self.isVisible()))
        self.act_visible.setVisible(False)          # only with a tray icon to bring it back
        self.menu.addSeparator()
        self.act_quit = self.menu.addAction("Quit VoiceCoach")
        self.act_quit.triggered.connect(self.quitRequested)
        self.menu.aboutToShow.connect(self._update_menu)
        self.menu_button.setMenu(self.menu)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)

        self._set_dot("near_miss")
        self._reset_metrics()

    def _button(self, glyph: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(glyph)
        b.setToolTip(tip)
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
    def _reset_metrics(self) -> None:
        self.interruptions = {AGENT: 0, CUSTOMER: 0}
        self.backchannels = 0
        for m in (self.warmth, self.pace, self.share):
            m.set_value(None)
        self.warmth_value.setText("–")
        self.pace_value.setText("–")
        self.pace_value.setStyleSheet("")
        self.share_value.setText("–")
        self._show_interruptions()
        for ch in (AGENT, CUSTOMER):
            self._line[ch] = []
            self.captions[ch].set_caption("")

    def set_loading(self, text: str = MODEL_LOADING_TEXT) -> None:
        """Before the session exists: meters greyed out, ``text`` as the status."""
        self.state = self.LOADING
        self._reset_metrics()
        self.clock.setText("")
        self._set_dot("near_miss")
        for m in (self.warmth, self.pace, self.share):
            m.setEnabled(False)
        self._usual_status = text
        self.slot.set_status(text)
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
        if not self.captions_on:
            self.captions[AGENT].set_caption("", "Captions are off (no speech-to-text).")
        self._usual_status = ("Listening to you and the caller" if self.two_sided
                              else "Mic only — warmth and pace (no call audio)")
        self._status_timer.stop()
        self.slot.set_status(self._usual_status)
        self.slot.set_busy(False)
        self.clock.setText(clock(0.0))

    def set_stopping(self) -> None:
        """Monitoring is ending: the call is being finished and saved."""
        if self.state in (self.LIVE, self.LOADING):
            self.state = self.STOPPING
            self._set_dot("dead_air")
            self._usual_status = "Stopping — finishing the call…"
            self._status_timer.stop()
            self.slot.set_status(self._usual_status)
            self.slot.set_busy(True)

    def set_idle(self, can_start: bool = True) -> None:
        """The call is over; with ``can_start`` the agent can start monitoring again."""
        self.state = self.IDLE if can_start else self.ENDED
        self._set_dot("dead_air")
        self._usual_status = ("Not monitoring — ⋯ › Start monitoring for the next call" if can_start
                              else "The call has ended")
        self._status_timer.stop()
        self.slot.set_status(self._usual_status)
        self.slot.set_busy(False)

    # ----------------------------------------------------------------- live input
    def on_event(self, e: Event) -> None:
        """An engine event: words feed the captions; nudges and plainer-words tips show."""
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
        warmth = (s.get("warmth") or {}).get("warmth")
        self.warmth.set_value(warmth)
        self.warmth_value.setText(f"{warmth:.2f}" if warmth is not None else "learning")
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
                self.slot.set_status(f"Captions are {lag:.0f} s behind — catching up", warn=True)
            else:
                self.slot.set_status(self._usual_status)

    def on_status(self, text: str) -> None:
        """A status line from the session; it stays ``status_hold_s``."""
        self.slot.set_status(text, warn=True)
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
        self.pace_value.setToolTip(f"pace: {self.pace.zone}" if self.pace.zone else "")

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
            f"<b style='color:{you_colour}; font-size:{FONT_PT + 1}pt'>{you}</b> by you &nbsp;·&nbsp; "
            f"<b style='color:{TEXT}; font-size:{FONT_PT + 1}pt'>{caller}</b> by the caller{acks}")

    # ----------------------------------------------------------------- view and placement
    def set_compact(self, compact: bool) -> None:
        """The compact view shows the meters alone; the expanded view adds the captions."""
        if compact == self.compact:
            return
        if not self.compact:
            self._expanded_h = self.height()
        self.compact = compact
        self.act_compact.setChecked(compact)
        self.details.setVisible(not compact)
        self.fold_button.setText("▾" if compact else "▴")
        self.fold_button.setToolTip("Expanded view: with captions" if compact else "Compact view: the meters only")
        self.layout().activate()
        height = self.minimumSizeHint().height()
        if not compact:
            height = max(height, self._expanded_h)
        self.resize(self.width(), height)
        self._schedule_save()

    def _restore(self) -> None:
        saved = Placement.load(self.placement_path) if self.placement_path is not None else None
        self.layout().activate()
        natural_h = self.minimumSizeHint().height()
        width = max(saved.width if saved else self.options.width_px, self.options.min_width_px)
        self._expanded_h = max(saved.height if saved else natural_h, natural_h)
        self.resize(width, self._expanded_h)
        if saved is not None and saved.compact:
            self.set_compact(True)
        screen = QGuiApplication.screenAt(QPoint(saved.x + 20, saved.y + 20)) if saved else None
        if saved is not None and screen is not None:
            area = screen.availableGeometry()
            self.move(min(max(saved.x, area.left()), area.right() - 60),
                      min(max(saved.y, area.top()), area.bottom() - 40))
        else:
            area = QGuiApplication.primaryScreen().availableGeometry()
            self.move(area.right() - width - self.options.edge_margin_px + 1,
                      area.top() + self.options.edge_margin_px)
        self._restored = True

    def placement(self) -> Placement:
        return Placement(self.x(), self.y(), self.width(),
                         self._expanded_h if self.compact else self.height(), self.compact)

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
        self._schedule_save()

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
    def _update_menu(self) -> None:
        live = self.state in (self.LOADING, self.LIVE)
        self.act_monitor.setText("Start monitoring" if self.state == self.IDLE
                                 else "Stopping…" if self.state == self.STOPPING else "Stop monitoring")
        self.act_monitor.setEnabled(live or self.state == self.IDLE)
        self.act_visible.setText("Hide overlay" if self.isVisible() else "Show overlay")

    def _monitor_clicked(self) -> None:
        if self.state == self.IDLE:
            self.startRequested.emit()
        elif self.state in (self.LOADING, self.LIVE):
            self.stopRequested.emit()

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

class OverlayController(QObject):
    """Runs calls behind an overlay: each session is built and run on a worker thread
    (:class:`~voicecoach.ui.bridge.SessionRunner`) and its output routed to the window.

    Without ``on_call_end`` the first call's end (its source ended, ``stop_after_s``
    passed, or the agent stopped monitoring or closed the overlay) ends everything.
    With it, the ended call's record is handed over and the overlay stays, not
    monitoring, until the agent starts the next call or quits.
    """

    done = pyqtSignal()

    def __init__(self, make_session: Callable[[], "LiveSession"], window: OverlayWindow, *,
                 stop_after_s: Optional[float] = None, screenshot: Union[str, Path, None] = None,
                 on_call_end: Optional[Callable[[dict], None]] = None,
                 model_loading_text: str = MODEL_LOADING_TEXT):
        super().__init__(window)
        self.make_session = make_session
        self.window = window
        self.stop_after_s = stop_after_s
        self.screenshot = screenshot
        self.on_call_end = None if screenshot is not None else on_call_end
        self.model_loading_text = model_loading_text
        self.record: Optional[dict] = None
        self.error: Optional[BaseException] = None
        self.exit_code = 0
        self.runner: Optional[SessionRunner] = None
        self._quitting = False
        window.stopRequested.connect(self.stop)
        window.startRequested.connect(self.start)
        window.quitRequested.connect(self.quit)
        self.tray: Optional[QSystemTrayIcon] = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("VoiceCoach")
            self.tray.setContextMenu(window.menu)
            self.tray.activated.connect(self._tray_clicked)
            window.act_visible.setVisible(True)
            self.tray.show()

    def start(self) -> None:
        """Build a session and run its call (the overlay shows the loading state first)."""
        if self.runner is not None:
            return
        bridge = LiveBridge(self)          # one per call: nothing late from an old call mixes in
        w = self.window
        bridge.event.connect(w.on_event)
        bridge.snapshot.connect(w.on_snapshot)
        bridge.status.connect(w.on_status)
        bridge.started.connect(w.attach)
        bridge.finished.connect(self._finished)
        bridge.failed.connect(self._failed)
        w.set_loading(self.model_loading_text)
        self._tip("loading")
        self.runner = SessionRunner(self.make_session, bridge, self.stop_after_s)
        bridge.started.connect(lambda _s: self._tip("monitoring"))
        self.runner.start()

    def stop(self) -> None:
        """End the current call (its record still arrives)."""
        if self.runner is not None:
            self.window.set_stopping()
            self._tip("stopping")
            self.runner.stop()

    def quit(self) -> None:
        """End the call if there is one, then close."""
        self._quitting = True
        if self.runner is None:
            self._close()
        else:
            self.stop()

    def _finished(self, record: Optional[dict]) -> None:
        self.runner = None
        if record is not None:
            self.record = record
        if self.screenshot is not None:
            QApplication.processEvents()
            if not self.window.grab().save(str(self.screenshot)):
                print(f"voicecoach: error: cannot write the screenshot {self.screenshot}", file=sys.stderr)
                self.exit_code = 2
        if self.on_call_end is not None and record is not None:
            try:
                self.on_call_end(record)
            except Exception as exc:       # raised again by run_overlay, after the window closes
                self._failed(exc)
                return
        if self.on_call_end is None or self._quitting:
            self.window.set_idle(can_start=False)
            self._close()
        else:
            self.window.set_idle(can_start=True)
            self._tip("not monitoring")

    def _failed(self, exc: BaseException) -> None:
        self.runner = None
        self.error = exc
        self._close()

    def _close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        self.window.close_for_good()
        self.done.emit()

    def _tip(self, state: str) -> None:
        if self.tray is not None:
            self.tray.setToolTip(f"VoiceCoach — {state}")

    def _tray_clicked(self, reason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.window.setVisible(not self.window.isVisible())


def run_overlay(make_session: Callable[[], "LiveSession"], *, screenshot: Union[str, Path, None] = None,
                stop_after_s: Optional[float] = None, model_loading_text: str = MODEL_LOADING_TEXT,
                on_call_end: Optional[Callable[[dict], None]] = None,
                options: Optional[OverlayOptions] = None,
                placement_path: Union[str, Path, None] = None) -> tuple[int, Optional[dict]]:
    """Coach a call in the overlay.

    The overlay shows ``model_loading_text`` while ``make_session`` builds the
    session on a worker thread; the call then runs there (``LiveSession.run``) and
    the overlay follows it. Ctrl-C or SIGTERM end the call like "Stop monitoring".

    Parameters
    ----------
    make_session : callable
        Returns a new :class:`~voicecoach.live.LiveSession`; called on the worker.
    screenshot : path, optional
        Save the overlay as PNG just before it closes (rendered offscreen when no
        platform is chosen); nothing about its placement is remembered.
    stop_after_s : float, optional
        End the call after this much call time (s).
    model_loading_text : str
        The status line while the session is being built.
    on_call_end : callable, optional
        ``on_call_end(record)`` for each ended call, on the GUI thread; the overlay
        then stays, not monitoring, and the agent can start the next call from its
        menu or tray icon until quitting. Without it the first call's end closes
        the overlay. Ignored with ``screenshot``.
    options : OverlayOptions, optional
    placement_path : path, optional
        Where the position, size and view are remembered (default :func:`placement_file`).

    Returns
    -------
    exit_code : int
        0; 2 when there is no screen or the screenshot cannot be written.
    record : dict or None
        The (last) call's record, or None when no call ran.

    Raises
    ------
    Exception
        Whatever building or running the session raised (re-raised on this thread).
    """
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif QApplication.instance() is None and not has_screen():
        print("voicecoach: error: no screen to show the overlay on (no DISPLAY); "
              "`voicecoach live --console` coaches in the terminal", file=sys.stderr)
        return 2, None
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("VoiceCoach")
    app.setQuitOnLastWindowClosed(False)
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSize(FONT_PT)
    app.setFont(font)
    if screenshot is None and placement_path is None:
        placement_path = placement_file()
    window = OverlayWindow(options, placement_path=None if screenshot is not None else placement_path)
    controller = OverlayController(make_session, window, stop_after_s=stop_after_s, screenshot=screenshot,
                                   on_call_end=on_call_end, model_loading_text=model_loading_text)
    loop = QEventLoop()
    controller.done.connect(loop.quit)
    restore = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            restore[sig] = signal.signal(sig, lambda *_: controller.quit())
    wake = QTimer(interval=200)                     # lets Python run its signal handlers
    wake.timeout.connect(lambda: None)
    wake.start()
    window.show()
    controller.start()
    try:
        loop.exec()
    finally:
        wake.stop()
        for sig, handler in restore.items():
            signal.signal(sig, handler)
    if controller.error is not None:
        raise controller.error
    return controller.exit_code, controller.record
