"""The review window's parts: the timeline, the scorecard, timed lists and the history view.

Each is a thin view over a call record (or the history's rows): it draws what the
record says and emits ``seekRequested(t_s)`` when the agent clicks a moment.
"""
from __future__ import annotations

import html
import math
import sys
from typing import Optional

import numpy as np
import pyqtgraph as pg

from PyQt6.QtCore import QEvent, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QColor, QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from voicecoach.events import SAMPLE_RATE
from voicecoach.paths import user_path
from voicecoach.store.private import private_file, private_folder
from voicecoach.sinks.view import (
    PALETTE,
    checklist_items,
    clock,
    cue_group,
    cue_tooltip,
    level_scale,
    marker_spans,
    timeline_cues,
    pace_points,
    pace_range,
    peak_envelope,
    readable,
    without_audio,
    record_config,
    scorecard,
)
from voicecoach.sources.audio import CallAudio
from voicecoach.store.history import TREND_METRICS, CallScores, format_score, local_time, trend_value

from .style import FONT_PT, color

ENVELOPE_HOP_S = 0.01
"""Time step (s) of the drawn waveform envelopes; pyqtgraph thins them further when zoomed out."""
AXIS_WIDTH_PX = 64
"""Least width of the left axes (px), equal on every plot so their time axes line up;
wider where a side's name needs it (pyqtgraph leaves out a tick label that does not fit)."""
AXIS_TEXT_MARGIN_PX = 16
"""Room (px) the left axis keeps beside its tick labels: the ticks and the text's offset."""


FINE_SPAN_S = 5.0
"""A view of the time axis shorter than this (s) is labelled in tenths (m:ss.t), all of its
ticks; a longer one in whole seconds (m:ss), its ticks on whole clock steps."""

_FINE_STEPS = {0.1: None, 0.2: 0.1, 0.5: 0.1, 1.0: 0.5, 2.0: 1.0}
"""Tick steps (s) of a view under FINE_SPAN_S: major step -> minor step (or None)."""
_WHOLE_STEPS = {1.0: None, 2.0: 1.0, 5.0: 1.0, 10.0: 5.0, 15.0: 5.0, 30.0: 10.0, 60.0: 30.0, 120.0: 60.0,
                300.0: 60.0, 600.0: 300.0, 900.0: 300.0, 1800.0: 600.0, 3600.0: 1800.0, 7200.0: 3600.0}
"""Tick steps (s) of a longer view, on whole clock steps: major step -> minor step (or None)."""
_LABEL_PX = 70
"""Room (px) a time label needs, its gap included."""


CUE_SYMBOLS = {"mark": {"symbol": "star", "size": 17}, "nudge": {"symbol": "t", "size": 13}}
"""The cue row's marker of a cue group when it is not the round dot: the agent's own marks
are stars (:data:`CUE_GLYPHS` in the legend)."""
CUE_GLYPHS = {"mark": "★", "nudge": "▼"}
"""The legend's glyph of a cue group drawn other than as a dot (:data:`CUE_SYMBOLS`)."""


class ClockAxis(pg.AxisItem):
    """A time axis labelled in one format: m:ss, or m:ss.t on every tick when the view
    spans less than :data:`FINE_SPAN_S` (s). Ticks fall on clock steps (5 s, 15 s, 1 min,
    5 min...), never on a fraction of a second in a view labelled in whole seconds."""

    @staticmethod
    def fine(span: float) -> bool:
        return span < FINE_SPAN_S

    def tickSpacing(self, minVal, maxVal, size):
        span = abs(maxVal - minVal)
        if span <= 0 or size <= 0:
            return []
        steps = _FINE_STEPS if self.fine(span) else _WHOLE_STEPS
        room = max(2.0, size / _LABEL_PX)                     # labels that fit side by side
        major = next((s for s in steps if span / s <= room), max(steps))
        minor = steps.get(major)
        while span / major > room:                            # a call of many hours
            major, minor = major * 2, major
        return [(major, 0.0)] + ([(minor, 0.0)] if minor else [])

    def tickStrings(self, values, scale, spacing):
        lo, hi = self.range
        if self.fine(abs(hi - lo)):
            out = []
            for v in values:
                tenths = max(0, int(round(v * 10)))
                out.append(f"{tenths // 600}:{(tenths % 600) / 10:04.1f}")
            return out
        return [clock(v) for v in values]


def card(*widgets: QWidget, margins: int = 12) -> QFrame:
    """A white rounded panel holding ``widgets`` in a column."""
    frame = QFrame()
    frame.setObjectName("card")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(margins, margins, margins, margins)
    lay.setSpacing(6)
    for w in widgets:
        lay.addWidget(w)
    return frame


def plain(text: str) -> str:
    """``text`` for a tooltip or message box that must show it as it is: Qt renders any
    string that looks like markup as rich text, so a call record's ``<img src=...>``
    would load. Escaped inside ``<qt>``, it shows literally."""
    return "<qt>" + html.escape(str(text)).replace("\n", "<br>") + "</qt>"


def label(text: str, name: str = "", wrap: bool = False) -> QLabel:
    """A plain-text label (never rich text: record fields are data, not markup)."""
    lab = QLabel(text)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    return lab


class ElidedLabel(QLabel):
    """A one-line plain-text label that gives way to its neighbours: too narrow, it shows
    its text cut with "…" (in the middle, or where ``mode`` says; the whole text in its
    tooltip) instead of holding the row wider or pushing buttons out of sight."""

    def __init__(self, text: str = "", name: str = "", mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle):
        super().__init__()
        self._mode = mode
        self.setTextFormat(Qt.TextFormat.PlainText)
        if name:
            self.setObjectName(name)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:          # noqa: N802 (Qt's name)
        self._full = str(text)
        self.setAccessibleName(self._full)
        self._elide()
        self.updateGeometry()

    def text(self) -> str:                          # the whole text, as set
        return self._full

    def displayed(self) -> str:
        """The text as shown (cut with "…" when the label is too narrow)."""
        return super().text()

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance(self._full) + 2 * self.margin() + 4)
        return hint

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance("a…z"))
        return hint

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:           # the style sheet's font arrives after __init__
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._elide()

    def _elide(self) -> None:
        room = max(self.width() - 2 * self.margin() - 4, 0)
        shown = self.fontMetrics().elidedText(self._full, self._mode, room)
        QLabel.setText(self, shown)
        self.setToolTip(plain(self._full) if shown != self._full else "")


# --------------------------------------------------------------------------- timeline

class TimelineView(pg.GraphicsLayoutWidget):
    """Both sides' waveforms on one zoomable time axis, with warmth and pace linked under them.

    The agent's envelope rises above the centre line and the caller's hangs below it;
    coloured bands mark interruptions (red), acknowledgements (green), fast turn
    changes (amber) and dead air (grey); dots above the waves mark every cue (hover
    for its text, click to listen there). Clicking anywhere asks to seek there.
    """

    seekRequested = pyqtSignal(float)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        # each plot row keeps room for its axis title, at any text size
        self.setMinimumHeight(round(380 * max(1.0, self.font().pointSizeF() / FONT_PT)))
        self.ci.layout.setSpacing(0)
        self.ci.setContentsMargins(4, 8, 12, 4)
        self.waves = self._plot(0, "")
        self.warmth = self._plot(1, "warmth")
        self.pace = self._plot(2, "words/min", bottom=True)
        for p in (self.warmth, self.pace):
            p.setXLink(self.waves)
        self.ci.layout.setRowStretchFactor(0, 5)
        self.ci.layout.setRowStretchFactor(1, 2)
        self.ci.layout.setRowStretchFactor(2, 2)
        self.playheads = []
        for p in (self.waves, self.warmth, self.pace):
            line = pg.InfiniteLine(0.0, angle=90, movable=False,
                                   pen=pg.mkPen(PALETTE["ink"], width=1.5))
            line.setZValue(50)
            p.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        self.duration = 0.0
        self._cues: list[dict] = []
        self.scene().sigMouseClicked.connect(self._clicked)

    def _plot(self, row: int, title: str, bottom: bool = False) -> pg.PlotItem:
        axes = {"bottom": ClockAxis(orientation="bottom")}
        plot = self.addPlot(row=row, col=0, axisItems=axes)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=True, y=False)
        plot.getAxis("left").setWidth(AXIS_WIDTH_PX)
        plot.showAxis("bottom", bottom)
        if title:
            plot.setLabel("left", title)
        plot.showGrid(x=True, y=False, alpha=0.12)
        return plot

    def clear_call(self) -> None:
        """Remove everything but the playheads."""
        for p in (self.waves, self.warmth, self.pace):
            for item in list(p.items):
                if item not in self.playheads:
                    p.removeItem(item)

    def set_call(self, record: dict, audio: Optional[CallAudio], agent: Optional[str] = None) -> None:
        """Draw a call: envelopes from ``audio`` (or speech spans from the transcript);
        ``agent`` names the agent's side (a coach's view), else it is "You"."""
        self.clear_call()
        dur = self.duration = float(record["duration"])
        self._draw_waves(record, audio, agent)
        self._draw_markers(record, agent)
        self._draw_cues(record)
        self._draw_curves(record)
        for p in (self.waves, self.warmth, self.pace):
            p.setLimits(xMin=0.0, xMax=dur, minXRange=min(2.0, dur))
        self.waves.setXRange(0.0, dur, padding=0.0)

    def _draw_waves(self, record: dict, audio: Optional[CallAudio], agent: Optional[str]) -> None:
        w = self.waves
        two = "customer" in record["source"]["channels"]
        w.setYRange(-1.05 if two else -0.1, 1.35, padding=0.0)
        ticks = [(0.5, agent or "You"), (1.18, "cues")] + ([(-0.5, "Caller")] if two else [])
        w.getAxis("left").setTicks([ticks])
        names = max(self.fontMetrics().horizontalAdvance(name) for _, name in ticks)
        for p in (self.waves, self.warmth, self.pace):
            p.getAxis("left").setWidth(max(AXIS_WIDTH_PX, names + AXIS_TEXT_MARGIN_PX))
        w.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen(PALETTE["line"], width=1)))
        sign = {"agent": 1.0, "customer": -1.0}
        channels = record["source"]["channels"]
        if audio is not None:
            hop = int(ENVELOPE_HOP_S * SAMPLE_RATE)
            for ch, samples in audio.channels().items():
                level = level_scale(peak_envelope(samples, max(1, len(samples) // hop)))
                t = (np.arange(len(level)) + 0.5) * len(samples) / len(level) / SAMPLE_RATE
                curve = pg.PlotDataItem(t, sign[ch] * level, pen=pg.mkPen(color(ch), width=1),
                                        fillLevel=0.0, brush=pg.mkBrush(color(ch, 170)))
                w.addItem(curve)           # into the plot first: pyqtgraph's clipping needs its view
                curve.setDownsampling(auto=True, method="peak")
                curve.setClipToView(True)
        else:
            for ch in channels:
                segs = [s for s in record.get("transcript") or [] if s["channel"] == ch]
                if segs:
                    w.addItem(pg.BarGraphItem(x0=[s["start"] for s in segs], x1=[s["end"] for s in segs],
                                              y0=0.0, y1=sign[ch] * 0.7, pen=pg.mkPen(None),
                                              brush=pg.mkBrush(color(ch, 170))))
            text = pg.TextItem(": ".join(without_audio(record)), color=PALETTE["muted"], anchor=(0, 0.5))
            text.setPos(0.0, 0.95)     # above your lane's spans, below the cues': over no bar
            w.addItem(text)

    def _draw_markers(self, record: dict, agent: Optional[str]) -> None:
        for role, t0, t1, tip in marker_spans(record, agent):
            region = pg.LinearRegionItem((t0, max(t1, t0 + 0.15)), movable=False,
                                         brush=pg.mkBrush(color(role, 45 if role == "dead_air" else 80)),
                                         pen=pg.mkPen(color(role, 160), width=1))
            region.setToolTip(plain(tip))
            region.setZValue(-5)
            self.waves.addItem(region)

    def _draw_cues(self, record: dict) -> None:
        self._cues = timeline_cues(record)
        if not self._cues:
            return
        spots = [{"pos": (c["t"], 1.18), "data": i, "brush": pg.mkBrush(PALETTE[cue_group(c["kind"])]),
                  "pen": pg.mkPen("w", width=1.2), **CUE_SYMBOLS.get(cue_group(c["kind"]), {"size": 11})}
                 for i, c in enumerate(self._cues)]
        spots.sort(key=lambda spot: cue_group(self._cues[spot["data"]]["kind"]) == "mark")   # marks on top
        for c in self._cues:
            if cue_group(c["kind"]) == "mark":     # the agent's own mark: a dotted line down the call too
                line = pg.InfiniteLine(c["t"], angle=90, movable=False,
                                       pen=pg.mkPen(color("mark", 150), width=1, style=Qt.PenStyle.DotLine))
                line.setZValue(-4)
                self.waves.addItem(line, ignoreBounds=True)
        self.cue_points = pg.ScatterPlotItem(spots=spots, hoverable=True, hoverSize=15,
                                             tip=lambda x, y, data: plain(cue_tooltip(self._cues[data])))
        self.cue_points.sigClicked.connect(self._cue_clicked)
        self.cue_points.setZValue(20)
        self.waves.addItem(self.cue_points)

    def _draw_curves(self, record: dict) -> None:
        config = record_config(record)
        low = config.warmth.low_warmth
        self.warmth.setYRange(0.0, 1.0, padding=0.05)
        self.warmth.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        self.warmth.addItem(pg.LinearRegionItem((0.0, low), orientation="horizontal", movable=False,
                                                brush=pg.mkBrush(color("low_band", 255)),
                                                pen=pg.mkPen(None)))
        self.warmth.addItem(pg.InfiniteLine(0.5, angle=0, pen=pg.mkPen(PALETTE["dead_air"], width=1,
                                                                        style=Qt.PenStyle.DashLine)))
        self._curve(self.warmth, (record.get("warmth") or {}).get("timeline") or [], "warmth", 0.75)
        lo, hi = pace_range(record)
        self.pace.setYRange(lo, hi, padding=0.05)
        self.pace.addItem(pg.LinearRegionItem((config.pace.band_low_wpm, config.pace.band_high_wpm),
                                              orientation="horizontal", movable=False,
                                              brush=pg.mkBrush(color("band", 200)), pen=pg.mkPen(None)))
        # an empty plot says why, as the report's does (it showed the band alone, unexplained)
        self._curve(self.pace, pace_points(record), "pace", (lo + hi) / 2,
                    "not enough speech for this curve" if record.get("stt_model")
                    else "no transcript: words/min unavailable")

    def _curve(self, plot: pg.PlotItem, points: list, role: str, middle: float = 0.0,
               empty: str = "not enough speech for this curve") -> None:
        if not points:
            note = pg.TextItem(empty, color=PALETTE["muted"], anchor=(0.5, 0.5))
            note.setPos(self.duration / 2, middle)
            plot.addItem(note)
            return
        t, v = np.asarray(points, dtype=float).T
        plot.addItem(pg.PlotDataItem(t, v, pen=pg.mkPen(color(role), width=2.2), symbol="o",
                                     symbolSize=5, symbolBrush=color(role), symbolPen=None))

    def set_position(self, t: float) -> None:
        """Move the playhead to ``t`` (s); scroll the view when it leaves a zoomed-in range."""
        for line in self.playheads:
            line.setValue(t)
        x0, x1 = self.waves.viewRange()[0]
        if not x0 <= t <= x1 and x1 - x0 < self.duration:
            width = x1 - x0
            start = min(max(t - 0.1 * width, 0.0), max(self.duration - width, 0.0))
            self.waves.setXRange(start, start + width, padding=0.0)

    def zoom_to_fit(self) -> None:
        self.waves.setXRange(0.0, self.duration, padding=0.0)

    def _cue_clicked(self, item, points, ev) -> None:
        if len(points):
            ev.accept()
            self.seekRequested.emit(float(self._cues[points[0].data()]["t"]))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.isAccepted() or self.duration <= 0:
            return
        for plot in (self.waves, self.warmth, self.pace):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(ev.scenePos()):
                t = vb.mapSceneToView(ev.scenePos()).x()
                self.seekRequested.emit(float(min(max(t, 0.0), self.duration)))
                return


# --------------------------------------------------------------------------- panels

class ScorecardPanel(QWidget):
    """The scorecard as small labelled values, and the checklist as ticks: four values to
    a row, and the checklist on one line, where the width allows; else two to a row, the
    checklist two ticks to a line (a 1024 px screen cut "193 words/min" to "193 words/r",
    the labels and ticks with it, and drew the pace's note over its value)."""

    COLS = 4

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(18)
        self._grid.setVerticalSpacing(10)
        self.values: dict[str, QLabel] = {}
        self._cells: list[tuple[QWidget, list[QLabel]]] = []    # each value's cell, its one-line labels
        self._chips: Optional[QWidget] = None
        self.cols = self.COLS
        self._shown = (self.COLS, True)

    def set_record(self, record: dict, agent: Optional[str] = None) -> None:
        """Show ``record``'s scorecard; ``agent`` names the agent (a coach's view)."""
        while self._grid.count():
            old = self._grid.takeAt(0).widget()
            old.setParent(None)             # gone at once; deleted when the event loop runs
            old.deleteLater()
        self.values = {}
        self._cells = []
        for row in scorecard(record, agent):
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(0)
            value = label(row.value, "scoreValue")
            if row.status == "watch":
                value.setStyleSheet(f"color: {PALETTE['watch']};")
            elif row.status == "na":
                value.setStyleSheet(f"color: {PALETTE['muted']};")
            detail = label(row.detail, "scoreDetail", wrap=True)
            detail.setToolTip(plain(row.detail))
            head = label(row.label.upper(), "scoreLabel")
            for w in (head, value, detail):
                box.addWidget(w)
            box.addStretch(1)
            self._cells.append((cell, [head, value]))
            self.values[row.label] = value
        chips = QWidget()
        line = QGridLayout(chips)
        line.setContentsMargins(0, 4, 0, 0)
        line.setHorizontalSpacing(6)
        line.setVerticalSpacing(4)
        line.addWidget(label("Checklist", "section"), 0, 0)
        items = checklist_items(record)
        for text, ok in items:
            line.addWidget(label(("✓ " if ok else "✗ ") + text, "chipOk" if ok else "chipNo"))
        if not items:
            line.addWidget(label("transcription was off: no checklist", "scoreDetail"))
        self._chips = chips
        self._arrange()

    def _needs(self, cols: int) -> int:
        """The width (px) the values need ``cols`` to a row, their one-line texts whole."""
        widest = max((lab.sizeHint().width() for _cell, labs in self._cells for lab in labs), default=0)
        return cols * widest + (cols - 1) * self._grid.horizontalSpacing()

    def _chips_need(self) -> int:
        """The width (px) the checklist needs on one line."""
        line = self._chips.layout()
        widgets = [line.itemAt(i).widget() for i in range(line.count())]
        return sum(w.sizeHint().width() for w in widgets) + line.horizontalSpacing() * (len(widgets) - 1)

    def _shape(self, width: int) -> tuple[int, bool]:
        """(values to a row, the checklist on one line) at ``width`` px."""
        cols = self.COLS if width >= self._needs(self.COLS) else 2
        return cols, cols == self.COLS and self._chips is not None and width >= self._chips_need()

    def _arrange(self) -> None:
        self._shown = self._shape(self.width())
        cols, one_line = self._shown
        self.cols = cols
        for cell, _labs in self._cells:
            self._grid.removeWidget(cell)
        for i, (cell, _labs) in enumerate(self._cells):
            self._grid.addWidget(cell, i // cols, i % cols)
        for c in range(self.COLS):
            self._grid.setColumnStretch(c, 1 if c < cols else 0)
        if self._chips is None:
            return
        self._grid.removeWidget(self._chips)
        self._grid.addWidget(self._chips, (len(self._cells) + cols - 1) // cols, 0, 1, cols)
        line = self._chips.layout()
        chips = [line.itemAt(i).widget() for i in range(1, line.count())]   # after "Checklist"
        per_line = max(len(chips), 1) if one_line else 2
        for chip in chips:
            line.removeWidget(chip)
        for i, chip in enumerate(chips):
            line.addWidget(chip, i // per_line, 1 + i % per_line, Qt.AlignmentFlag.AlignLeft)
        for c in range(1, len(chips) + 2):
            line.setColumnStretch(c, 1 if c == 1 + min(per_line, len(chips)) else 0)   # ticks to the left

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._shape(event.size().width()) != self._shown:
            self._arrange()


class RowTable(QTableWidget):
    """A table whose rows are chosen with the keyboard too: Enter (or Return) on the
    current row emits ``rowEntered(row)``, as a click or double-click would act on it."""

    rowEntered = pyqtSignal(int)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self.rowEntered.emit(self.currentRow())
            event.accept()
            return
        super().keyPressEvent(event)


class TimedTable(RowTable):
    """A table of timed lines (time, then text columns); clicking a row, or Enter on it,
    asks to seek there.

    Parameters
    ----------
    headers : list of str
        Column titles after the time column.
    stretch : tuple of int
        Columns (0 = time) that share the free width; the others fit their content.
    """

    seekRequested = pyqtSignal(float)

    def __init__(self, headers: list[str], stretch: tuple[int, ...] = (-1,),
                 parent: Optional[QWidget] = None):
        super().__init__(0, 1 + len(headers), parent)
        self.setHorizontalHeaderLabels(["Time"] + headers)
        self.verticalHeader().hide()
        self.setShowGrid(False)
        self.setWordWrap(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(False)      # Tab leaves the table for the next control
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.horizontalHeader()
        stretched = {c % self.columnCount() for c in stretch}
        for c in range(self.columnCount()):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch if c in stretched
                                        else QHeaderView.ResizeMode.ResizeToContents)
        self._time_mode = header.sectionResizeMode(0)
        # after the layout settles (a scroll bar appearing narrows the text column again)
        header.sectionResized.connect(lambda *_: QTimer.singleShot(0, self._fit_rows))
        self.times: list[float] = []          # one per row of the call: a placeholder line has none
        self.cellClicked.connect(lambda row, _col: self._seek_row(row))
        self.rowEntered.connect(self._seek_row)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        if self.times and not self.selectionModel().hasSelection():   # reached by Tab: a row shows
            self.selectRow(max(self.currentRow(), 0))

    def _seek_row(self, row: int) -> None:
        if 0 <= row < len(self.times):
            self.seekRequested.emit(self.times[row])

    def set_rows(self, rows: list[tuple[float, list[str], Optional[str]]], empty: str = "") -> None:
        """Fill the table.

        Parameters
        ----------
        rows : list of (t_s, cells, role)
            ``cells`` fill the columns after the time; ``role`` (a PALETTE key or None)
            colours the first of them.
        empty : str
            A line shown when there are no rows.
        """
        self.clearContents()
        self.clearSpans()
        # the time column fits its times, not the line across the row (it widened to the whole
        # sentence, which ran past the list's edge behind a sideways scroll bar)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, self._time_mode if rows or not empty else QHeaderView.ResizeMode.Fixed)
        if not rows and empty:
            header.resizeSection(0, header.sectionSizeHint(0))
        self.times = [t for t, _, _ in rows]
        self.setRowCount(len(rows))
        bold = QFont(self.font())
        bold.setBold(True)
        background = self.palette().color(self.viewport().backgroundRole()).name()   # coloured words read on it
        for r, (t, cells, role) in enumerate(rows):
            when = QTableWidgetItem(clock(t))
            when.setForeground(QColor(PALETTE["muted"]))
            self.setItem(r, 0, when)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain(text))
                if c == 0 and role is not None:
                    item.setForeground(QColor(readable(PALETTE[role], background)))
                    if len(cells) > 1:
                        item.setFont(bold)
                self.setItem(r, 1 + c, item)
        if not rows and empty:
            self.setRowCount(1)              # not a moment of the call: no time, not seekable
            item = QTableWidgetItem(empty)
            item.setForeground(QColor(PALETTE["muted"]))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.setSpan(0, 0, 1, self.columnCount())   # the whole row's width, not the last column's
            self.setItem(0, 0, item)
        self.resizeRowsToContents()

    def _fit_rows(self) -> None:
        """Rows as tall as their wrapped text; the line at the playhead kept in view (rows
        re-wrapped above it, as the window opens or narrows, pushed it out of sight)."""
        self.resizeRowsToContents()
        row = self.currentRow()
        if row >= 0 and self.selectionModel().isRowSelected(row) and self.item(row, 0) is not None:
            self.scrollToItem(self.item(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    def follow(self, row: int) -> None:
        """Select ``row`` (the line at the playhead) and keep it in view; -1 clears."""
        if row >= self.rowCount() or (row == self.currentRow() and self.selectionModel().isRowSelected(row)):
            return
        if row < 0:
            self.clearSelection()
            return
        self.selectRow(row)
        self.scrollToItem(self.item(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)


# --------------------------------------------------------------------------- history

TREND_PLOTS = {
    # field: (title, colour role, y range shown at least); short titles: the four plots side
    # by side fit a 1024 px window (longer ones pushed the pace off its right edge)
    "warmth_mean": ("warmth (0–1)", "warmth", 0.0, 1.0),
    "interruptions_by_agent": ("you interrupted, per 10 min", "interruption", 0.0, 3.0),
    "talk_share_agent": ("your talk share (%)", "agent", 0.0, 100.0),
    "agent_wpm": ("pace (words/min)", "pace", 120.0, 220.0),
}
"""How the history draws each trend (``voicecoach.store.history.TREND_METRICS``)."""
NO_WARMTH_TREND = "no voice profile:\nnot compared"
"""What the warmth plot says when no call is judged against the latest call's voice profile."""
HISTORY_ROWS_SHOWN = 4
"""The past calls the history's table shows at least, however short the window."""


class HistoryView(QWidget):
    """Past calls: a table of their scores and trend plots (warmth, interruptions, talk
    share, pace per call), oldest to newest. A call is opened with a double-click or
    Enter (``openRequested(record_path)``); "Delete call…", its context menu or the Delete
    key asks for the highlighted call (one at a time) to be deleted
    (``deleteRequested(record_path)``: the window confirms)."""

    openRequested = pyqtSignal(str)
    deleteRequested = pyqtSignal(str)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.setSpacing(10)
        self.message = label("", "subtitle", wrap=True)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setMinimumHeight(260)
        self.plots.ci.setContentsMargins(6, 6, 12, 6)
        self.plots.setFocusPolicy(Qt.FocusPolicy.NoFocus)          # a picture: nothing to do there
        self.table = RowTable(0, 10)
        self.table.setAccessibleName("Your past calls")
        self.table.setTabKeyNavigation(False)
        # "#": the call's number on the plots' axis (1 = the oldest), so a point is found here
        self.table.setHorizontalHeaderLabels(["#", "Date", "Call", "Length", "You talk", "Interruptions",
                                              "Warmth", "Words/min", "Checklist", "Follow-ups"])
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)   # one call at a time
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._open)
        self.table.rowEntered.connect(lambda row: self._open(row, 0))
        self.table.setToolTip("Double-click a call, or press Enter on it, to open it")
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.open_action = QAction("Open", self.table)
        self.open_action.triggered.connect(lambda: self._open(self.table.currentRow(), 0))
        self.delete_action = QAction("Delete call…\tDel", self.table)      # the key: eventFilter
        self.delete_action.triggered.connect(self._delete)
        self.table.installEventFilter(self)
        self.table.addActions([self.open_action, self.delete_action])
        self.delete_button = QPushButton("Delete call…")
        self.delete_button.setAccessibleName("Delete the selected call")
        self.delete_button.setToolTip("Delete the selected call for good: its record, its recording and "
                                      "its row here (you are asked first)")
        self.delete_button.clicked.connect(self._delete)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        # a short window (1280x720, 1024x768) gave the plots all its height and the table one row
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height()
                                    + HISTORY_ROWS_SHOWN * self.table.verticalHeader().defaultSectionSize()
                                    + 2 * self.table.frameWidth())
        # the button on the title's row: a row of its own under the table made the window
        # taller than a 1280x720 screen has room for
        head = QWidget()
        row = QHBoxLayout(head)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(label("Your progress, call by call", "title"), 1)
        row.addWidget(self.delete_button, 0, Qt.AlignmentFlag.AlignBottom)
        lay.addWidget(card(head, self.message, self.plots), 1)
        lay.addWidget(card(self.table), 1)
        self.rows: list[CallScores] = []
        self.first = 1
        self._selection_changed()

    def set_rows(self, rows: list[CallScores], note: str = "", first: int = 1) -> None:
        """Show ``rows`` (oldest first) with a line of ``note`` above the plots, numbered
        from ``first`` (the oldest shown's number in the whole history, as ``voicecoach
        history`` numbers it)."""
        self.rows, self.first = rows, first
        self.message.setText(note)
        self.table.clearSelection()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(reversed(rows)):          # newest on top
            check = f"{row.checklist_done}/{row.checklist_items}" if row.checklist_items else "–"
            cells = [str(first + len(rows) - 1 - r), local_time(row.created), row.name, clock(row.duration_s),
                     format_score(row.talk_share_agent, ".0%"), format_score(row.interruptions_by_agent, "d"),
                     format_score(row.warmth_mean, ".2f"), format_score(row.agent_wpm, ".0f"), check,
                     format_score(row.commitments, "d")]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0 or c >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                tip = f"Double-click, or press Enter, to open this call\n{row.record_path}"
                item.setToolTip(plain(f"{row.name}\n{tip}" if c == 2 else tip))   # a long name is cut short
                self.table.setItem(r, c, item)
        self._plot_trends(rows)
        self._selection_changed()

    def _plot_trends(self, rows: list[CallScores]) -> None:
        self.plots.clear()
        self.no_warmth: Optional[pg.TextItem] = None
        first = self.first
        x = np.arange(first, first + len(rows))
        profile = rows[-1].warmth_profile if rows else None
        for i, (field, _label, _spec, _good) in enumerate(TREND_METRICS):
            title, role, lo, hi = TREND_PLOTS[field]
            values = np.array([np.nan if v is None else v
                               for v in (trend_value(r, field, profile) for r in rows)], dtype=float)
            if field == "talk_share_agent":
                values = values * 100.0
            finite = values[np.isfinite(values)]
            if finite.size:            # fixed ranges, widened only by an outlier: no drama from noise
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
            plot = self.plots.addPlot(row=0, col=i, title=title)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.getAxis("bottom").setLabel("call")
            plot.getAxis("left").setWidth(44)
            plot.showGrid(x=False, y=True, alpha=0.15)
            if field == "warmth_mean":
                plot.addItem(pg.InfiniteLine(0.5, angle=0, pen=pg.mkPen(PALETTE["dead_air"], width=1,
                                                                         style=Qt.PenStyle.DashLine)))
                ordinary = pg.TextItem("your ordinary voice", color=PALETTE["muted"], anchor=(0, 1))
                ordinary.setPos(first - 0.45, 0.5)
                plot.addItem(ordinary)
                if len(rows) and not finite.size:      # an empty plot says why
                    self.no_warmth = pg.TextItem(NO_WARMTH_TREND, color=PALETTE["muted"], anchor=(0.5, 0.5))
                    self.no_warmth.setPos(first - 1 + (len(rows) + 1) / 2, 0.78)
                    plot.addItem(self.no_warmth)
            if len(rows):
                plot.plot(x, values, pen=pg.mkPen(color(role), width=2), symbol="o", symbolSize=7,
                          symbolBrush=color(role), symbolPen=None, connect="finite")
            plot.setXRange(first - 0.5, first - 1 + max(len(rows), 1) + 0.5, padding=0.0)
            plot.setYRange(lo, hi, padding=0.08)
            plot.getAxis("bottom").setTickSpacing(major=max(1, math.ceil(len(rows) / 6)), minor=1)
            self.plots.ci.layout.setColumnStretchFactor(i, 1)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.table and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Delete:
            self._delete()
            return True
        return super().eventFilter(obj, event)

    def selected(self) -> Optional[CallScores]:
        """The call chosen in the table (None when none is)."""
        chosen = self.table.selectionModel().selectedRows()
        row = chosen[0].row() if len(chosen) == 1 else -1
        return self.rows[len(self.rows) - 1 - row] if 0 <= row < len(self.rows) else None

    def _selection_changed(self) -> None:
        chosen = self.selected() is not None
        for widget in (self.delete_button, self.delete_action, self.open_action):
            widget.setEnabled(chosen)

    def _delete(self) -> None:
        call = self.selected()
        if call is not None:
            self.deleteRequested.emit(call.record_path)

    def _open(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.rows):
            self.openRequested.emit(self.rows[len(self.rows) - 1 - row].record_path)


def legend(entries: list[tuple[str, str]], title: str = "", mark: str = "■", per_row: int = 0,
           tail: Optional[QWidget] = None, glyphs: Optional[dict] = None) -> QWidget:
    """Coloured marks with labels, ``[(role, text), ...]``, after ``title``, in rows of at
    most ``per_row`` (0: one row); ``tail`` ends the last row. ``glyphs``: another mark
    than ``mark`` for some roles (``{"mark": "★"}``)."""
    box = QWidget()
    rows = QVBoxLayout(box)
    rows.setContentsMargins(0, 0, 0, 0)
    rows.setSpacing(2)
    per_row = per_row or max(len(entries), 1)
    glyph_pt = box.font().pointSizeF() + 3         # the marks a little larger than the text
    for first in range(0, max(len(entries), 1), per_row):
        lay = QHBoxLayout()
        lay.setSpacing(12)
        if title:
            lead = label(title, "scoreLabel")
            lead.setMinimumWidth(lead.sizeHint().width())
            if first:
                lead.setText("")           # the title's column stays empty on the later rows
            lay.addWidget(lead)
        for role, text in entries[first:first + per_row]:
            glyph = glyphs.get(role, mark) if glyphs else mark
            lab = QLabel(f"<span style='color:{PALETTE[role]}; font-size:{glyph_pt:g}pt'>{glyph}</span> {text}")
            lab.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
            lab.setObjectName("scoreDetail")
            lay.addWidget(lab)
        lay.addStretch(1)
        if tail is not None and first + per_row >= len(entries):
            lay.addWidget(tail)
        rows.addLayout(lay)
    return box


def save_screenshot(widget: QWidget, path) -> bool:
    """Save a picture of ``widget`` as the PNG ``path``, readable by the user alone (it
    shows the call: the caller's words, the scores). False if it cannot be written."""
    try:
        private_folder(user_path(path).parent)       # made 0700 if missing, as -o does
        private_file(user_path(path))                 # 0600 before Qt writes into it
    except OSError:
        return False
    return widget.grab().save(str(user_path(path)))


def write_screenshot(widget: QWidget, path) -> bool:
    """:func:`save_screenshot`, saying what became of it as every command that writes a
    file does: "Screenshot written to PATH", or one error line on stderr. False if it
    could not be written."""
    if not save_screenshot(widget, path):
        print(f"voicecoach: error: cannot write the screenshot {path}", file=sys.stderr)
        return False
    print(f"Screenshot written to {path}", flush=True)
    return True


class FitColumn(QScrollArea):
    """A column that fills the height it is given and scrolls when that is too little:
    ``squeeze`` (the timeline) gives up height first, down to its minimum, and the rest
    keep their preferred height (wrapped text stays whole). A short screen (a 1366x768
    laptop) then scrolls the call's column instead of drawing its plots over one another."""

    def __init__(self, widget: QWidget, squeeze: QWidget):
        super().__init__()
        self._squeeze = squeeze
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        widget.setAutoFillBackground(False)
        self.setWidget(widget)
        self.setMinimumWidth(widget.minimumWidth() + self.verticalScrollBar().sizeHint().width())
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self._fit)            # its content changed (a call loaded)
        return super().eventFilter(obj, event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        widget, width = self.widget(), self.viewport().width()
        layout = widget.layout()
        preferred = (layout.totalHeightForWidth(width) if layout.hasHeightForWidth()
                     else widget.sizeHint().height())
        give = max(0, self._squeeze.sizeHint().height() - self._squeeze.minimumSizeHint().height())
        widget.resize(width, max(self.viewport().height(), preferred - give))
