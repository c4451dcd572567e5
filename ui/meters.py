"""The overlay's painted parts: its meters, message slot and captions, and the app's icon.

The warmth, pace and talk-share meters glide to each new reading; the message slot
shows the status line and fades nudges and plainer-words tips in and out over it; a
caption shows the latest words of one side. They draw on the overlay's dark panel in
the review window's colours and know nothing of the engine: the window feeds them.
"""
from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Optional

from PyQt6.QtCore import (
    QEasingCurve,
    QPauseAnimation,
    QPropertyAnimation,
    QRect,
    QRectF,
    QSequentialAnimationGroup,
    Qt,
    QVariantAnimation,
    pyqtProperty,
)
from PyQt6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QIcon,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget

from voicecoach.sinks.view import PALETTE, ZONE_ROLES, contrast

from .style import FONT_PT, color

if TYPE_CHECKING:
    from .overlay import OverlayOptions

# The panel is dark and nearly opaque so that it reads over any background; the
# meters use the review window's colours (voicecoach.sinks.view.PALETTE).
PANEL = PALETTE["ink"]
PANEL_ALPHA = 242
TEXT = "#f1f4f7"
MUTED = "#aab4bf"
TRACK = "#3a4654"
WARN = "#ffc078"

NUDGE_ROLES = {"let_them_finish": "interruption", "caller_heated": "note", "slow_down": "pace",
               "smile": "warmth", "monotone": "voice"}
"""The colour (a PALETTE role) of each nudge kind (``voicecoach.coach.NUDGES``)."""


# --------------------------------------------------------------------------- drawing helpers

def _qcolor(spec: str, alpha: int = 255) -> QColor:
    c = QColor(spec)
    c.setAlpha(alpha)
    return c


def _tint(role: str) -> QColor:
    """A role's colour lightened to read as text on the dark panel."""
    return color(role).lighter(135)


def _text_on(background: QColor) -> QColor:
    """White or the panel's ink, whichever contrasts more with ``background``."""
    bg = background.name()
    return QColor("#ffffff") if contrast("#ffffff", bg) >= contrast(bg, PANEL) else QColor(PANEL)


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
    colour) or a plainer-words tip (outlined) fades in over it, stays, and fades out.

    A tip that comes while another is shown waits its turn (several terms of one
    sentence arrive together, when it closes); at most :attr:`WAITING` wait, the oldest
    dropped. A nudge replaces what is shown and the waiting tips go.
    """

    WAITING = 2

    HEIGHT_PX = 44
    """Its height at FONT_PT; a larger text size makes it taller with the text."""

    def __init__(self, options: OverlayOptions, font_pt: float = FONT_PT, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.options = options
        self.font_pt = font_pt
        self.status = ""
        self.status_warn = False
        self.message = ""
        self.kind = ""                 # "nudge" or "tip"
        self._fitted: Optional[tuple] = None   # (what it was fitted for, the font)
        self.role = "note"
        self._waiting: deque[tuple[str, str]] = deque(maxlen=self.WAITING)   # tips: (text, role)
        self._opacity = 0.0
        self.setFixedHeight(round(self.HEIGHT_PX * max(1.0, font_pt / FONT_PT)))
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
        """Show a nudge or a tip, fading in from where the slot is: a nudge replaces what
        is shown, a tip waits while another tip is shown."""
        if kind == "tip" and self.kind == "tip" and self.showing:
            if text != self.message and (text, role) not in self._waiting:
                self._waiting.append((text, role))
            return
        if kind == "nudge":
            self._waiting.clear()
        self._seq.stop()
        self.message, self.kind, self.role = text, kind, role
        self._fade_in.setStartValue(self._opacity)
        hold_s = self.options.nudge_hold_s if kind == "nudge" else self.options.tip_hold_s
        self._hold.setDuration(int(hold_s * 1000))
        self._seq.start()

    def _gone(self) -> None:
        self.message = ""
        self.set_opacity(0.0)
        if self._waiting:
            text, role = self._waiting.popleft()
            self.show_message(text, "tip", role)

    def text_font(self, kind: str) -> QFont:
        """The font of a "status" line, a "nudge" or a "tip": sized from the overlay's text
        size (its painted text does not follow the style sheet)."""
        font = QFont(self.font())
        font.setPointSizeF(self.font_pt + {"status": -1.0, "nudge": 0.5}.get(kind, -0.5))
        font.setBold(kind == "nudge")
        return font

    MIN_PT = 7.0
    """The smallest text size a long message is set in to fit the slot."""

    def _band(self) -> QRectF:
        return QRectF(self.rect()).adjusted(0.5, 3.5, -0.5, -3.5)

    def message_font(self) -> QFont:
        """The message's font (:meth:`text_font`), made smaller, down to :attr:`MIN_PT`,
        until the wrapped message fits the slot: a plainer-words tip of a long phrase and
        its alternative took three lines, cut at the top and bottom."""
        font = self.text_font(self.kind)
        box = self._band().adjusted(10, 0, -10, 0)
        key = (self.message, font.key(), box.width(), box.height())
        if self._fitted is not None and self._fitted[0] == key:   # painted often while it fades
            return QFont(self._fitted[1])
        flags = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
        while font.pointSizeF() > self.MIN_PT and QFontMetricsF(font).boundingRect(
                QRectF(0, 0, box.width(), 10_000), flags, self.message).height() > box.height():
            font.setPointSizeF(max(self.MIN_PT, font.pointSizeF() - 0.5))
        self._fitted = (key, QFont(font))
        return font

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self._band()
        if self.status and not self.message:          # no cross-fade: two texts on top of each other blur
            p.setFont(self.text_font("status"))
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
            if self.kind == "nudge":
                fill = color(self.role)
                p.setBrush(fill)
                p.setPen(Qt.PenStyle.NoPen)
                ink = _text_on(fill)
            else:
                p.setBrush(QColor(TRACK))
                p.setPen(QPen(_tint(self.role), 1.2))
                ink = QColor(TEXT)
            p.drawRoundedRect(rect, 9, 9)
            p.setFont(self.message_font())
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
