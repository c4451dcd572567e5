"""The look of the review window: colours (shared with the HTML report), fonts, a stylesheet."""
from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtGui import QColor, QFont
from PyQt6.QtWidgets import QApplication

from voicecoach.config import OverlaySettings
from voicecoach.sinks.view import PALETTE

FONT_PT = OverlaySettings.font_pt
"""Base font size (pt) of the windows: the config's default ``[overlay] font_pt``."""


def color(role: str, alpha: int = 255) -> QColor:
    """The colour of a role (a ``voicecoach.sinks.view.PALETTE`` key) with alpha 0–255."""
    c = QColor(PALETTE[role])
    c.setAlpha(alpha)
    return c


def stylesheet(font_pt: float = FONT_PT) -> str:
    """The window's Qt stylesheet (light, the report's colours), its headings sized from
    ``font_pt``, the text size of the window (points)."""
    return _STYLESHEET.format(ink=PALETTE["ink"], muted=PALETTE["muted"], line=PALETTE["line"],
                              agent=PALETTE["agent"], title=f"{font_pt + 6:g}", value=f"{font_pt + 5:g}",
                              small=f"{font_pt - 1:g}")


_STYLESHEET = """
QMainWindow, QWidget#page {{ background: #eef1f5; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ padding: 7px 18px; margin-right: 2px; color: {muted}; background: transparent;
               border-bottom: 2px solid transparent; font-weight: 600; }}
QTabBar::tab:selected {{ color: {ink}; border-bottom: 2px solid {agent}; }}
QTabBar#lists::tab {{ padding: 7px 9px; }}
QTabBar QToolButton {{ padding: 0px; border-radius: 3px; }}
QFrame#card {{ background: #ffffff; border: 1px solid {line}; border-radius: 8px; }}
QLabel#title {{ font-size: {title}pt; font-weight: 700; color: {ink}; }}
QLabel#subtitle {{ color: {muted}; }}
QLabel#section {{ font-weight: 700; color: {ink}; }}
QLabel#scoreLabel {{ color: {muted}; font-size: {small}pt; }}
QLabel#scoreValue {{ font-size: {value}pt; font-weight: 700; color: {ink}; }}
QLabel#scoreDetail {{ color: {muted}; font-size: {small}pt; }}
QLabel#chipOk {{ color: #1b6e2c; background: #ebfbee; border: 1px solid #b2f2bb; border-radius: 9px;
                padding: 1px 8px; }}
QLabel#chipNo {{ color: #a61e1e; background: #fff5f5; border: 1px solid #ffc9c9; border-radius: 9px;
                padding: 1px 8px; }}
QLabel#note {{ color: #7a5b00; }}
QLabel#time {{ font-family: "DejaVu Sans Mono", monospace; color: {ink}; }}
QTableWidget {{ background: #ffffff; border: none; gridline-color: transparent;
               selection-background-color: #dbe7ff; selection-color: {ink}; }}
QTableWidget::item {{ padding: 3px 0px; border-bottom: 1px solid #f1f3f5; }}
QHeaderView::section {{ background: #ffffff; color: {muted}; border: none;
                       border-bottom: 1px solid {line}; padding: 4px; font-weight: 600; }}
QPushButton, QToolButton {{ background: #ffffff; border: 1px solid {line}; border-radius: 6px;
                           padding: 5px 12px; color: {ink}; }}
QPushButton:hover, QToolButton:hover {{ background: #f1f5ff; border-color: {agent}; }}
QPushButton#play {{ background: {agent}; color: white; border: none; font-weight: 700; min-width: 84px; }}
QPushButton#play:hover {{ background: #2f5fc4; }}
QPushButton#play:disabled {{ background: #e9ecef; color: {muted}; }}
QPushButton:disabled {{ color: {muted}; }}
QPushButton:focus {{ border: 2px solid {agent}; padding: 4px 11px; }}
QPushButton#play:focus {{ border: 2px solid {ink}; }}
QTabBar::tab:focus {{ color: {agent}; text-decoration: underline; }}
QTableWidget:focus {{ border: 1px solid {agent}; }}
QGraphicsView#timeline {{ border: 2px solid transparent; border-radius: 4px; }}
QGraphicsView#timeline:focus {{ border: 2px solid {agent}; }}
QStatusBar {{ background: #ffffff; border-top: 1px solid {line}; }}
QStatusBar QLabel {{ color: {muted}; padding: 0 8px; }}
QSplitter::handle {{ background: transparent; }}
"""


def quiet_qt() -> None:
    """Keep Qt's own messages ("This plugin does not support propagateSizeHints()") off
    the user's terminal; ``VOICECOACH_DEBUG=1`` shows them."""
    import os

    from PyQt6.QtCore import qInstallMessageHandler

    if not os.environ.get("VOICECOACH_DEBUG"):
        qInstallMessageHandler(lambda *_: None)


def apply_style(app: QApplication, font_pt: float = FONT_PT) -> None:
    """Font, stylesheet and pyqtgraph defaults for the review window; ``font_pt`` is the
    config's ``[overlay] font_pt``, one text size for both windows."""
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(font_pt)
    app.setFont(font)
    app.setStyleSheet(stylesheet(font_pt))
    pg.setConfigOptions(antialias=True, background="w", foreground=PALETTE["muted"])
