"""The review window, offscreen: loads the demo call, seeks, plays from the stream callback,
exports a report, shows the history, renders a non-blank screenshot."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # before Qt is imported

import shutil  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pytestqt")

from output_streams import output_streams  # noqa: E402
from PyQt6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from voicecoach.ui.analysing import open_call  # noqa: E402
from voicecoach.ui.review import ReviewWindow, run_review  # noqa: E402
from voicecoach.ui.style import apply_style  # noqa: E402

from voicecoach.analyze import demo_call_path  # noqa: E402
from voicecoach.events import SAMPLE_RATE  # noqa: E402
from voicecoach.sinks.view import transcript_lines  # noqa: E402
from voicecoach.store.history import History  # noqa: E402
from voicecoach.store.record import load_record  # noqa: E402


@pytest.fixture(scope="module")
def demo(qapp, tmp_path_factory):
    """The demo recording in a folder of its own, opened once: no record beside it, so the
    review analyses it (progress dialog) and saves ``demo_call.json`` beside it."""
    folder = tmp_path_factory.mktemp("calls")
    shutil.copy(demo_call_path(), folder / "demo_call.flac")
    apply_style(qapp)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICECOACH_DATA_DIR", str(folder / "data"))
        source = open_call(folder / "demo_call.flac")
    return folder, source


@pytest.fixture
def window(qtbot, tmp_path, demo, monkeypatch):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    made, factory = output_streams()
    win = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=factory)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.load(demo[1])
    win.show()
    qtbot.waitExposed(win)
    win.streams = made
    return win


def test_recording_is_analysed_and_its_record_saved_beside(demo, monkeypatch):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(demo[0] / "data"))
    folder, source = demo
    assert source.record_path == folder / "demo_call.json"
    saved = load_record(folder / "demo_call.json")
    assert saved["source"]["name"] == "demo_call.flac"
    assert saved["transcript"] and saved["interruptions"]
    assert source.audio is not None and source.audio_path == folder / "demo_call.flac"
    again = open_call(folder / "demo_call.json")            # the record finds its audio beside it
    assert again.audio_path == folder / "demo_call.flac" and again.record == saved


def test_window_shows_the_call(window, demo):
    record = demo[1].record
    lines = transcript_lines(record)
    assert window.transcript.rowCount() == len(lines) > 10
    assert window.followups.rowCount() == len(record["commitments"])
    assert window.problems.rowCount() == len(record["caller_problems"])
    mine = sum(1 for i in record["interruptions"] if i["by"] == "agent")
    assert window.scores.values["Interruptions"].text() == f"{mine} by you"
    assert window.timeline.duration == pytest.approx(record["duration"])
    image = window.grab().toImage()
    assert image.width() >= 1300
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 100                     # a rendered window, not a blank one


def test_a_laptop_screen_scrolls_the_call_instead_of_squeezing_it(window, qtbot):
    """On a 1366x768 laptop the window gets about 1300x700: it must fit there, with the
    timeline at no less than its minimum (the plots' axis titles apart) and the scorecard
    reached by scrolling; at 1400x900 everything shows without a scroll bar."""
    from PyQt6.QtWidgets import QScrollArea

    column = window.findChild(QScrollArea)
    assert not column.verticalScrollBar().isVisible()
    window.resize(1300, 700)
    qtbot.waitUntil(lambda: column.verticalScrollBar().isVisible())
    assert window.width() <= 1300 and window.height() <= 700
    assert window.timeline.height() >= window.timeline.minimumHeight()
    scores = window.scores
    assert scores.visibleRegion().isEmpty() or scores.visibleRegion().boundingRect().height() < scores.height()
    column.ensureWidgetVisible(scores)
    qtbot.waitUntil(lambda: column.verticalScrollBar().value() > 0)


def test_the_legend_fits_a_1024_px_screen_whole(window, qtbot):
    """Narrow, the legend wraps onto more rows rather than running off the column's edge
    ("You interru..." at 1024 px); wide, it takes two rows."""
    from PyQt6.QtWidgets import QLabel

    def entries_fit() -> bool:
        shown = [lab for lab in window._legend.findChildren(QLabel) if lab.isVisibleTo(window) and lab.text()]
        right = window._legend.width()
        return len(shown) >= 12 and all(
            lab.mapTo(window._legend, lab.rect().topRight()).x() <= right for lab in shown)

    for width, rows in ((1024, 4), (1400, 2)):
        window.resize(width, 700)
        qtbot.waitUntil(entries_fit)
        visible = [w for w in window._wide_legend + window._middle_legend + window._narrow_legend
                   if w.isVisibleTo(window)]
        assert len(visible) == (3 if rows == 4 else 2)


def test_the_scorecard_fits_a_1024_px_screen_whole(window, qtbot):
    """At 1024 px the scorecard's values, their titles and the checklist's ticks are whole
    and lie inside the panel, the notes under the values too (four to a row cut "198
    words/min" to "198 words/r", "ACKNOWLEDGEMENTS" and "questions (1 ope…", and drew the
    pace's note over its value); at 1400 px it keeps four to a row and one checklist line."""
    from PyQt6.QtWidgets import QLabel

    scores = window.scores

    def whole() -> bool:
        shown = [lab for lab in scores.findChildren(QLabel) if lab.isVisibleTo(window) and lab.text()]
        boxes = [lab.geometry().translated(lab.parentWidget().mapTo(scores, lab.parentWidget().rect().topLeft()))
                 for lab in shown]
        fits = all(scores.rect().contains(box) for box in boxes)
        one_line = [lab for lab in shown if not lab.wordWrap()]
        untouched = all(not a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        return (len(shown) >= 8 * 3 + 5 and fits and untouched
                and all(lab.width() >= lab.sizeHint().width() for lab in one_line)
                and all(lab.height() >= lab.heightForWidth(lab.width()) for lab in shown if lab.wordWrap()))

    def columns() -> int:
        return len({value.parentWidget().x() for value in scores.values.values()})

    for width, cols in ((1024, 2), (1400, 4), (1024, 2)):
        window.resize(width, 700)
        qtbot.waitUntil(lambda: columns() == cols and whole())
    ticks = [lab for lab in scores.findChildren(QLabel) if lab.objectName() in ("chipOk", "chipNo")]
    assert len({lab.y() for lab in ticks}) == 2                 # two ticks to a line at 1024 px
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: columns() == 4 and len({lab.y() for lab in ticks}) == 1)


def test_the_header_fits_a_1024_px_screen_with_sharing(qtbot, tmp_path, demo, monkeypatch):
    """With a team store configured the header holds the title, the time, Zoom to fit,
    Share and Play: at 1024 px every button's text stays whole ("are with my coa" was
    clipped) and the date line wraps onto two lines at most (it took four); the share
    button keeps its full name as its accessible name and tooltip."""
    from voicecoach.config import Config

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    config = Config()
    config.team.database = "postgresql://alice@127.0.0.1:1/voicecoach"      # never reached here
    win = ReviewWindow(history_path=tmp_path / "h.sqlite", config=config)
    qtbot.addWidget(win)
    win.load(demo[1])
    win.show()
    qtbot.waitExposed(win)
    head = win.play_button.parentWidget()
    parts = (win.time_label, win.fit_button, win.share_button, win.play_button)

    def whole() -> bool:
        return all(w.isVisible() and w.width() >= w.sizeHint().width()
                   and head.rect().contains(w.geometry()) for w in parts) and win.title.isVisible()

    for width, height in ((1024, 700), (1400, 900), (1024, 700)):
        win.resize(width, height)
        qtbot.waitUntil(lambda: whole() and win.title.displayed() == "demo_call.flac")
        assert win.subtitle.height() <= 2.5 * win.subtitle.fontMetrics().lineSpacing()
        assert win.share_button.accessibleName() == "Share with my coach"
        assert "coach" in win.share_button.toolTip()
        assert win.share_button.text() in ("Share with my coach", "Share…")
    assert win.share_button.text() == "Share…"
    win.resize(1400, 900)
    qtbot.waitUntil(lambda: win.share_button.text() == "Share with my coach")
    win.resize(1024, 700)

    def beside() -> bool:                             # the title on the buttons' row
        return win.play_button.y() <= win.title.geometry().center().y() <= win.play_button.geometry().bottom()

    qtbot.waitUntil(lambda: whole() and beside())
    # a long file name gets a row of its own, above the buttons ("support-c…pute.flac" beside them)
    win.title.setText("a-very-long-recording-name-from-the-softphone-2026-12-04T02-01-33.flac")
    qtbot.waitUntil(lambda: whole() and win.title.geometry().bottom() < win.play_button.y())
    assert win.title.width() > head.width() * 0.9 and len(win.title.displayed()) > 40
    assert win.title.toolTip() == "" or win.title.toolTip().endswith("02-01-33.flac</qt>")
    assert win.share_button.text() == "Share with my coach"          # the row has room for it now
    win.title.setText("demo_call.flac")                              # and back beside them
    qtbot.waitUntil(lambda: whole() and beside() and win.share_button.text() == "Share…")


def test_clicking_a_transcript_line_seeks(window, qtbot, demo):
    lines = transcript_lines(demo[1].record)
    row = 8
    table = window.transcript
    table.scrollToItem(table.item(row, 2))
    rect = table.visualItemRect(table.item(row, 2))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.position_s == pytest.approx(lines[row].start, abs=1e-3)
    assert window.timeline.playheads[0].value() == pytest.approx(lines[row].start, abs=1e-3)
    assert table.currentRow() == row
    assert window.player.position_s == pytest.approx(lines[row].start, abs=1e-3)
    assert window.player.playing                  # click to listen


def test_the_line_at_the_playhead_stays_in_view_as_rows_rewrap(qtbot, tmp_path, demo, monkeypatch):
    """The transcript's line at the playhead is in view once the window is laid out, and
    after the window narrows: rows wrapped onto more lines above it pushed it out of sight
    (the screenshot showed the playhead at 1:24 and the transcript at 0:36-1:11)."""
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    lines = transcript_lines(demo[1].record)
    row = len(lines) * 2 // 3
    win.load(demo[1])
    win.show()
    win.seek(lines[row].start + 0.01)            # as `review --screenshot` does, before the rows are laid out
    table = win.transcript

    def in_view() -> bool:
        rect = table.visualItemRect(table.item(row, 2))
        return table.currentRow() == row and table.viewport().rect().contains(rect)

    qtbot.waitUntil(in_view)
    for width, height in ((1024, 700), (1400, 900), (1024, 700)):
        win.resize(width, height)
        qtbot.wait(100)
        qtbot.waitUntil(in_view)


def test_clicking_the_timeline_seeks(window, qtbot):
    vb = window.timeline.waves.getViewBox()
    target = 30.0
    scene_pos = vb.mapViewToScene(QPointF(target, 0.5))
    view_pos = window.timeline.mapFromScene(scene_pos)
    qtbot.mouseClick(window.timeline.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(view_pos.x(), view_pos.y()))
    assert window.position_s == pytest.approx(target, abs=0.5)


def test_playhead_follows_the_stream_callback(window, qtbot):
    window.seek(10.0)
    window.toggle_play()
    stream = window.streams[-1]
    assert stream.active and stream.samplerate == SAMPLE_RATE and stream.channels == 2
    out = np.empty((1600, 2), dtype=np.float32)
    for _ in range(20):                                     # 2 s of audio
        stream.callback(out, 1600, None, None)
    qtbot.waitUntil(lambda: window.position_s == pytest.approx(12.0, abs=0.01), timeout=2000)
    assert window.timeline.playheads[0].value() == pytest.approx(12.0, abs=0.01)
    audio = window.source.audio
    expected = np.stack([audio.agent, audio.customer], axis=1)[int(11.9 * SAMPLE_RATE):int(12.0 * SAMPLE_RATE)]
    np.testing.assert_array_equal(out, expected)
    window.seek(70.0)                                       # a seek while playing applies at the next block
    while not window.player.ended:
        stream.callback(out, 1600, None, None)
    qtbot.waitUntil(lambda: not window.player.playing, timeout=2000)
    assert not stream.active and "Play" in window.play_button.text()


def test_the_coloured_words_of_the_lists_are_readable(window, demo):
    """The caller's teal read 3.07:1 on white and the rephrase orange 3.58:1 (WCAG asks
    4.5:1 for text); the timeline keeps the palette's colours."""
    from voicecoach.sinks.view import contrast

    window.load(demo[1])
    for table in (window.transcript, window.rephrase):
        background = table.palette().color(table.viewport().backgroundRole()).name()
        coloured = [table.item(r, 1).foreground().color().name() for r in range(table.rowCount())]
        assert coloured and all(contrast(c, background) >= 4.5 for c in coloured), (coloured, background)


def test_no_playback_device_is_a_message_not_a_crash(qtbot, tmp_path, demo, monkeypatch):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))

    def no_device(**kwargs):
        raise RuntimeError("Error querying device -1")

    win = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=no_device)
    qtbot.addWidget(win)
    win.load(demo[1])
    win.listen_at(20.0)
    said = win.statusBar().currentMessage()
    assert said.startswith("Cannot play: no audio output device") and "press Play again" in said
    assert "connect a headset" in win.play_button.toolTip()       # the button says why, too
    assert win.position_s == pytest.approx(20.0) and not win.player.playing


def test_the_end_of_a_recording_is_said_only_where_it_stopped_during_the_call(window, demo):
    """A click at a call's very end plays nothing (the player would start from 0:00); that
    the recording ends there, "nothing was recorded after that", was said of a whole
    recording too. It is said of one that stopped during the call."""
    import dataclasses

    from voicecoach.sources.audio import CallAudio

    bar = window.statusBar()
    window.listen_at(demo[1].record["duration"] - 0.02)
    assert "nothing was recorded" not in bar.currentMessage()
    audio, n = demo[1].audio, 30 * 16000
    window.load(dataclasses.replace(demo[1], audio=CallAudio(audio.agent[:n], audio.customer[:n], audio.name)))
    window.listen_at(40.0)
    assert bar.currentMessage() == "The recording ends at 0:30: nothing was recorded after that."
    assert not window.player.playing


def test_export_report(window, tmp_path):
    out = window.export_report(tmp_path / "report.html")
    page = out.read_text(encoding="utf-8")
    assert "demo_call.flac" in page and "<svg" in page and "data:audio/" in page
    assert "http://" not in page and "https://" not in page
    assert "Report written" in window.statusBar().currentMessage()


def test_export_does_not_write_over_the_calls_record_or_recording(window, demo):
    """File > Export report… on the call's own record or recording (the file dialog asks
    only "replace it?") is refused, as `voicecoach report -o` refuses it: the report would
    have destroyed the call."""
    source = demo[1]
    for path in (source.record_path, source.audio_path):
        before = path.read_bytes()
        with pytest.raises(OSError, match="name another file"):
            window.export_report(path)
        assert path.read_bytes() == before


def test_history_tab_lists_the_call(window, tmp_path, demo):
    assert window.open_path(demo[1].record_path)          # a call opened in the window is in its history
    window.tabs.setCurrentIndex(1)
    assert window.history.table.rowCount() == 1
    assert window.history.table.item(0, 2).text() == "demo_call.flac"
    assert window.history.table.item(0, 0).text() == "1"             # its number on the plots' axis
    with History(tmp_path / "h.sqlite") as h:
        assert [r.record_path for r in h.calls()] == [str(demo[1].record_path.resolve())]


def test_the_history_tab_says_when_it_lists_only_the_latest_calls(qtbot, tmp_path, monkeypatch):
    """The History tab lists the latest 100 calls; with more in the history it says so (it
    showed 100 rows and said nothing of the rest)."""
    import voicecoach.ui.review as review_module
    from tests.test_history import make_record

    monkeypatch.setattr(review_module, "HISTORY_ROWS", 3)     # 3 rows stand for 100 (same code path)
    with History(tmp_path / "h.sqlite") as h:
        for i in range(5):
            h.add(make_record(f"c{i}.flac", f"2026-11-0{i + 1}T09:00:00+00:00"), tmp_path / f"{i}.json")
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.refresh_history()
    assert win.history.table.rowCount() == 3
    assert "The latest 3 of your 5 calls are shown; “voicecoach history -n 5” lists them all." in \
        win.history.message.text()


def test_a_live_call_is_titled_as_the_history_lists_it(qtbot, tmp_path, demo, monkeypatch):
    """A call coached live is "live call: <what the caller raised>" in the History tab; its
    review was titled "call 1, <date>" (every shift has a call 1). The review now says what
    the list says, and its number in the shift beside the date (not the date twice)."""
    from voicecoach.sinks.view import call_name

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    record = dict(demo[1].record, source={"name": "call 1, 2026-12-01 09:15", "channels": ["agent", "customer"]},
                  shift={"call": 1, "start_s": 0.0, "end_s": 90.0, "started_by": "voice", "ended_by": "silence"},
                  caller_problems=[{"t": 4.0, "text": "My internet keeps dropping."}])
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.load(open_call(record))
    assert win.title.text() == call_name(record) == "live call: My internet keeps dropping."
    assert win.windowTitle() == "VoiceCoach — live call: My internet keeps dropping."
    assert win.subtitle.text().startswith("call 1 of its shift  ·  ")   # the date follows, once


def test_record_without_audio_opens_without_playback(qtbot, tmp_path, demo, monkeypatch):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    record = dict(demo[1].record, source={"name": "elsewhere.flac", "channels": ["agent", "customer"]})
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.load(open_call(record))
    assert win.player is None and not win.play_button.isEnabled()
    win.listen_at(5.0)
    assert win.position_s == pytest.approx(5.0)



def test_an_empty_plot_says_why(qtbot, tmp_path, demo, monkeypatch):
    """A call analysed without speech-to-text has no words/min curve: its plot showed the
    comfortable band alone, as if the pace had been lost. It says why, as the report's plot
    does; a call with its curves says nothing there."""
    import pyqtgraph as pg

    def notes(plot):
        return [item.toPlainText() for item in plot.items if isinstance(item, pg.TextItem)]

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    record = demo[1].record
    off = dict(record, stt_model=None, pace=dict(record["pace"], agent_wpm=None, agent_words=None),
               warmth=dict(record["warmth"], timeline=[]),
               unavailable=["transcript", "pace.agent_wpm", "language cues"])
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.load(open_call(off))
    assert notes(win.timeline.pace) == ["no transcript: words/min unavailable"]
    assert notes(win.timeline.warmth) == ["not enough speech for this curve"]
    win.load(demo[1])
    assert notes(win.timeline.pace) == notes(win.timeline.warmth) == []


def test_a_recording_opened_in_the_window_without_its_model_is_a_message(qtbot, tmp_path, monkeypatch):
    """File > Open call… (or a History row) on a recording with no record yet, where the
    speech-to-text model cannot be loaded (a model name offline, a folder that is gone):
    the window says so in a message box and keeps the call it shows. The error went
    past the window's handler: a traceback on the terminal, and nothing in the window."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from voicecoach.config import Config

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    config = Config()
    config.transcribe.model = str(tmp_path / "gone-model")
    shutil.copy(demo_call_path(), tmp_path / "new.flac")
    win = ReviewWindow(history_path=tmp_path / "h.sqlite", config=config)
    qtbot.addWidget(win)
    said = []

    def answer():
        box = QApplication.activeModalWidget()
        if box is None or not hasattr(box, "buttons"):          # (the progress dialog first)
            QTimer.singleShot(50, answer)
            return
        said.append(box.text())
        box.buttons()[0].click()

    QTimer.singleShot(50, answer)
    assert not win.open_path(tmp_path / "new.flac")
    assert said and "gone-model" in said[0] and "no such model" in said[0], said
    assert win.source is None and not (tmp_path / "new.json").exists()


def test_a_long_status_message_is_read_whole_at_1024_px(qtbot, tmp_path, demo, monkeypatch):
    """Why a call has no playback (its recording not found) is said in the status line: at
    1024 px the care note beside it cut it to "...no wav". The message has the bar's width
    while it shows (and its tooltip), the care note comes back once it is gone."""
    import json

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    record = dict(demo[1].record, source={"name": "recorded-on-the-other-pc.flac",
                                          "channels": ["agent", "customer"]})
    (tmp_path / "lonely.json").write_text(json.dumps(record), encoding="utf-8")
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.resize(1024, 700)
    win.show()
    qtbot.waitExposed(win)
    win.load(open_call(tmp_path / "lonely.json"))
    bar = win.statusBar()
    message = bar.currentMessage()
    assert "no waveforms or playback" in message
    qtbot.waitUntil(lambda: not win.care_note.isVisible())
    assert bar.fontMetrics().horizontalAdvance(message) <= bar.width() - 40
    assert "no waveforms or playback" in bar.toolTip()
    bar.showMessage("Report written to r.html")          # a short one: the care note stays
    qtbot.waitUntil(win.care_note.isVisible)
    bar.showMessage(message)
    qtbot.waitUntil(lambda: not win.care_note.isVisible())
    bar.clearMessage()
    qtbot.waitUntil(win.care_note.isVisible)
    assert bar.toolTip() == ""


def test_the_note_of_a_call_without_its_recording_covers_no_speech(qtbot, tmp_path, demo, monkeypatch):
    """A call shown without its recording draws its speech as spans from the transcript, with
    a note saying why; the note sat over the caller's first spans."""
    import pyqtgraph as pg

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.load(open_call(dict(demo[1].record)))                  # a record alone: no audio
    win.show()
    qtbot.waitExposed(win)
    items = win.timeline.waves.items
    (note,) = [i for i in items if isinstance(i, pg.TextItem)]
    assert note.toPlainText() == "recording not found: speech spans from the transcript"
    where = note.mapRectToView(note.boundingRect())
    spans = [i.mapRectToView(i.boundingRect()) for i in items if isinstance(i, pg.BarGraphItem)]
    assert len(spans) == 2 and not any(where.intersects(s) for s in spans), (where, spans)


def _empty_line(table) -> str:
    """The line a list shows instead of rows: one item across the whole row (it sat in the
    last column alone, squeezed into "Try instead" beside two empty columns)."""
    assert table.rowCount() == 1 and table.columnSpan(0, 0) == table.columnCount()
    return table.item(0, 0).text()


def test_lists_say_what_was_not_measured(qtbot, tmp_path, demo, monkeypatch):
    """Without a transcript the word-based lists were never measured (not found empty),
    and a mono call has no caller to list problems of."""
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    record = dict(demo[1].record, source={"name": "elsewhere.flac", "channels": ["agent", "customer"]},
                  transcript=[], stt_model=None, checklist=None, questions=None, commitments=None,
                  caller_problems=None, language_counts=None,
                  cues=[c for c in demo[1].record["cues"] if c["kind"] in ("low_warmth", "monotone")],
                  unavailable=["transcript", "pace.agent_wpm", "language cues"])
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.load(open_call(record))
    for table in (win.rephrase, win.followups, win.problems):
        assert _empty_line(table) == "Not measured: no transcript (speech-to-text was off)."
    assert _empty_line(win.transcript) == "No transcript: transcription was off."
    # speech-to-text ran and heard no words (a call of noise): it said "transcription was off"
    win.load(open_call(dict(record, stt_model="tiny.en", unavailable=[])))
    assert _empty_line(win.transcript) == "No words were heard in this call."

    mono = dict(demo[1].record, source={"name": "elsewhere.flac", "channels": ["agent"]}, caller_problems=None,
                unavailable=["interruptions", "backchannels", "near_misses", "talk_share", "dead_air",
                             "response_gaps", "caller_arousal", "caller_problems"])
    win.load(open_call(mono))
    assert _empty_line(win.problems) == "Not measured: no caller channel in this recording."
    assert win.followups.rowCount() == len(mono["commitments"]) > 0

@pytest.mark.parametrize("size", [(1400, 900), (1024, 700)])
def test_an_empty_lists_line_is_read_whole_without_scrolling_sideways(window, qtbot, size):
    """The Marks tab of a call analysed from a recording ("No moments marked: this call was
    analysed from a recording, …") was cut at the list's right edge behind a sideways scroll
    bar, the time column as wide as the whole sentence and "Time" adrift over it: the line
    wraps within the list instead."""
    window.resize(*size)
    table = window.marks
    window.lists.setCurrentWidget(table)
    qtbot.wait(50)
    line = _empty_line(table)
    assert line.startswith("No moments marked")
    assert table.horizontalScrollBar().maximum() == 0
    rect = table.visualRect(table.model().index(0, 0))
    assert rect.left() >= 0 and rect.right() <= table.viewport().width()
    wrapped = table.fontMetrics().boundingRect(0, 0, rect.width() - 8, 10_000, Qt.TextFlag.TextWordWrap, line)
    assert rect.height() >= wrapped.height()
    assert table.columnWidth(0) < table.viewport().width() / 3      # the time column stays a time column


def test_a_placeholder_row_is_not_a_moment(window, qtbot, demo):
    """An empty list's line ("Nothing to rephrase…") is no row of the call: clicking it, or
    Enter on it, neither seeks to 0:00 nor starts playing."""
    record = dict(demo[1].record, cues=[], commitments=[])
    window.load(open_call(record))
    window.seek(40.0)
    table = window.rephrase
    window.lists.setCurrentWidget(table)
    assert _empty_line(table).startswith("Nothing to rephrase")
    asked = []
    table.seekRequested.connect(asked.append)
    rect = table.visualRect(table.model().index(0, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert asked == [] and window.position_s == pytest.approx(40.0)
    assert window.player is None or not window.player.playing


def test_time_axis_has_one_format(qapp):
    """Every tick of a view reads m:ss, or m:ss.t on all of them when the view spans only a
    few seconds ("0.5, 0:01, 1.5, 0:02" on a 3 s call); a long call's ticks fall on whole
    clock steps (1:00, 2:00, not 3:20)."""
    import re

    from voicecoach.ui.widgets import FINE_SPAN_S, ClockAxis

    axis = ClockAxis(orientation="bottom")
    for x0, span in ((0, 1.0), (0, 3.0), (40.2, 2.0), (0, 4.9), (0, 5.0), (0, 6.0), (0, 8.0), (0, 12.0),
                     (0, 113.4), (0, 600.0), (0, 3 * 3600.0)):
        for px in (300, 520, 900):
            axis.setRange(x0, x0 + span)
            labels = [text for spacing, values in axis.tickValues(x0, x0 + span, px)
                      for text in axis.tickStrings(values, 1.0, spacing)]
            fine = span < FINE_SPAN_S
            pattern = r"\d+:\d\d\.\d" if fine else r"\d+:\d\d"
            assert labels and all(re.fullmatch(pattern, t) for t in labels), (span, px, labels)
            assert len(set(labels)) == len(labels), (span, px, labels)    # no two ticks read the same
    axis.setRange(0, 600.0)
    major = axis.tickValues(0, 600.0, 520)[0]
    assert major[0] in (60.0, 120.0, 300.0)


def test_marked_moments_are_easy_to_find(window, qtbot, demo):
    """The agent's marks (Ctrl+Alt+M during the call) are stars of their own colour on the
    cue row, in the legend, and in a "Marks" list beside the others; a row seeks there.
    Without marks the list says so."""
    from PyQt6.QtWidgets import QLabel

    from voicecoach.sinks.view import PALETTE, empty_list_text

    mark = {"kind": "mark", "text": "You marked this moment", "channel": None}
    record = dict(demo[1].record, cues=demo[1].record["cues"] + [dict(mark, t=30.0), dict(mark, t=12.5)])
    window.load(open_call(record))
    table = window.marks
    assert window.lists.tabText(window.lists.indexOf(table)) == "Marks"
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["0:12", "0:30"]
    assert {table.item(r, 1).text() for r in range(table.rowCount())} == {"Marked by you"}
    stars = [p for p in window.timeline.cue_points.points()
             if window.timeline._cues[p.data()]["kind"] == "mark"]
    assert len(stars) == 2 and all(p.symbol() == "star" for p in stars)
    assert {p.brush().color().name() for p in stars} == {PALETTE["mark"]}
    others = [p for p in window.timeline.cue_points.points() if p not in stars]
    assert PALETTE["mark"] not in {p.brush().color().name() for p in others}
    legend = [lab.text() for lab in window._legend.findChildren(QLabel) if lab.isVisibleTo(window)]
    assert any("marked moment" in text and "★" in text for text in legend)
    window.lists.setCurrentWidget(table)
    rect = table.visualItemRect(table.item(1, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.position_s == pytest.approx(30.0)
    window.load(demo[1])
    assert _empty_line(window.marks) == empty_list_text(demo[1].record, "marks")


def test_every_control_is_reached_by_the_keyboard(qtbot, tmp_path, demo, monkeypatch):
    """Tab reaches every control in reading order (it cycled the timeline and the tab bar
    only): the tab bar, Zoom to fit, Share, Play, the timeline, the transcript, the lists'
    tabs and the list shown; each has an accessible name. Enter on a transcript or list row
    listens from there as a click does; Space on a button presses it and elsewhere plays or
    pauses; ←/→ move the playhead only while the call is shown; Enter on a History row opens it."""
    from PyQt6.QtWidgets import QApplication

    from voicecoach.config import Config

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    config = Config()
    config.team.database = "postgresql://alice@127.0.0.1:1/voicecoach"
    made, factory = output_streams()
    win = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=factory, config=config)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.load(demo[1])
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)          # the shortcuts act in it
    win.tabs.tabBar().setFocus()
    expected = [win.fit_button, win.share_button, win.play_button, win.timeline, win.transcript,
                win.lists.tabBar(), win.rephrase, win.tabs.tabBar()]
    chain = []
    for _ in expected:
        qtbot.keyClick(win.focusWidget(), Qt.Key.Key_Tab)
        chain.append(win.focusWidget())
    assert chain == expected
    for widget in expected + [win.followups, win.problems, win.marks, win.history.table]:
        assert widget.accessibleName(), widget
    assert win.share_button.accessibleName() == "Share with my coach"

    lines = transcript_lines(demo[1].record)
    win.transcript.setFocus()
    win.transcript.setCurrentCell(6, 2)
    qtbot.keyClick(win.transcript, Qt.Key.Key_Return)                      # Enter listens from the row
    assert win.position_s == pytest.approx(lines[6].start, abs=1e-3) and win.player.playing
    qtbot.keyClick(win.transcript, Qt.Key.Key_Space)                       # Space pauses
    assert not win.player.playing
    qtbot.keyClick(win.transcript, Qt.Key.Key_Right)                       # → 5 s on
    assert win.position_s == pytest.approx(lines[6].start + 5.0, abs=0.05)
    follow = win.followups
    win.lists.setCurrentWidget(follow)
    follow.setFocus()
    follow.setCurrentCell(0, 1)
    qtbot.keyClick(follow, Qt.Key.Key_Enter)
    assert win.position_s == pytest.approx(demo[1].record["commitments"][0]["t"], abs=0.05)
    win.pause()

    win.timeline.waves.setXRange(10.0, 20.0, padding=0.0)
    win.fit_button.setFocus()
    qtbot.keyClick(win.fit_button, Qt.Key.Key_Space)                       # Space presses the button
    assert win.timeline.waves.viewRange()[0][1] == pytest.approx(demo[1].record["duration"], abs=0.5)
    assert not win.player.playing
    win.play_button.setFocus()
    qtbot.keyClick(win.play_button, Qt.Key.Key_Return)                     # so does Enter
    assert win.player.playing
    win.pause()

    win.lists.tabBar().setFocus()
    before = win.lists.currentIndex()
    qtbot.keyClick(win.lists.tabBar(), Qt.Key.Key_Right)                   # the tab bar's own arrows
    assert win.lists.currentIndex() == before + 1

    assert win.open_path(demo[1].record_path)
    win.tabs.setCurrentIndex(1)
    win.seek(50.0)
    table = win.history.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Right)                                # the hidden call stays put
    assert win.position_s == pytest.approx(50.0)
    opened = []
    win.history.openRequested.connect(opened.append)
    table.setCurrentCell(0, 1)
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert opened == [str(demo[1].record_path.resolve())] and win.tabs.currentIndex() == 0


def test_screenshot_mode(tmp_path, demo, monkeypatch, qapp):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    shot = tmp_path / "review.png"
    assert run_review(demo[1].record_path, screenshot=shot) == 0
    from PyQt6.QtGui import QImage

    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1400, 900)
    assert shot.stat().st_mode & 0o077 == 0        # it shows the call: the user's alone


OPEN_AND_MEASURE = """
import json, sys
from PyQt6.QtCore import QTimer
from PyQt6.QtGui import QCursor
from PyQt6.QtWidgets import QApplication
from voicecoach.ui.review import ReviewWindow, run_review

app = QApplication(sys.argv[:1])
QCursor.setPos(int(sys.argv[2]), 100)        # the review opens on the screen the pointer is on

def measure():
    win = next(w for w in app.topLevelWidgets() if isinstance(w, ReviewWindow) and w.isVisible())
    print(json.dumps({"frame": win.frameGeometry().getRect(), "size": [win.width(), win.height()],
                      "area": win.screen().availableGeometry().getRect()}))
    win.close()
    app.quit()

QTimer.singleShot(300, measure)
sys.exit(run_review(sys.argv[1]))
"""


@pytest.mark.parametrize("screens, pointer_x, size", [
    ([(0, 1024, 768)], 10, (986, 691)),          # its least width (986 px) is more than 90 % of 1024
    ([(0, 1280, 720)], 10, (1152, 648)),
    ([(0, 1920, 1080)], 10, (1400, 900)),
    ([(0, 1920, 1080), (1920, 1280, 720)], 2000, (1152, 648)),   # the pointer's screen, the smaller one
])
def test_the_review_opens_within_its_screen(tmp_path, demo, screens, pointer_x, size):
    """At 1400x900 the review ran off a 1024x768 or 1280x720 screen (the transcript, the
    scorecard and the status bar out of reach): `voicecoach review` on screens of those
    sizes (Qt's offscreen platform, as configured) opens it inside the screen's free area."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [
        {"name": f"screen{i}", "x": x, "y": 0, "width": w, "height": h, "logicalDpi": 96,
         "logicalBaseDpi": 96, "dpr": 1} for i, (x, w, h) in enumerate(screens)]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}",
               VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    checkout = str(Path(__file__).resolve().parents[1])
    res = subprocess.run([sys.executable, "-c", OPEN_AND_MEASURE, str(demo[1].record_path), str(pointer_x)],
                         capture_output=True, text=True, timeout=120, cwd=checkout, env=env)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    ax, ay, aw, ah = got["area"]
    x, y, w, h = got["frame"]
    assert (ax, aw, ah) == next(s for s in screens if s[0] <= pointer_x < s[0] + s[1])
    assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah, got
    assert tuple(got["size"]) == size


def test_the_history_plots_compare_what_the_trend_line_compares(qtbot, tmp_path):
    """Warmth is drawn only for calls judged against the latest call's voice profile, and
    interruptions per 10 minutes of call, as the trend line compares them."""
    from voicecoach.store.history import CallScores
    from voicecoach.ui.widgets import HistoryView

    def row(i, profile, interruptions, duration):
        record = {"schema": "voicecoach.call/1", "created": f"2026-11-0{i + 1}T09:00:00+00:00",
                  "source": {"name": f"c{i}.flac", "channels": ["agent", "customer"]}, "duration": duration,
                  "talk_time": {"agent": 30.0, "customer": 20.0}, "talk_share": {"agent": 0.6, "customer": 0.4},
                  "interruptions": [{"start": 1.0 + k, "end": 1.5 + k, "by": "agent"} for k in range(interruptions)],
                  "warmth": {"mean": 0.4 + 0.1 * i, "baseline": "profile", "profile_id": profile},
                  "pace": {"agent_wpm": 160.0}}
        return CallScores.from_record(record, tmp_path / f"{i}.json")

    view = HistoryView()
    qtbot.addWidget(view)
    view.set_rows([row(0, "old", 4, 600.0), row(1, "new", 1, 60.0), row(2, "new", 2, 300.0)])
    plots = [view.plots.getItem(0, i) for i in range(4)]
    warmth = plots[0].listDataItems()[0].getData()[1]
    interruptions = plots[1].listDataItems()[0].getData()[1]
    assert np.isnan(warmth[0]) and list(warmth[1:]) == pytest.approx([0.5, 0.6])
    assert list(interruptions) == pytest.approx([4.0, 10.0, 4.0])


def test_the_history_tab_names_live_calls_as_the_terminal_history_does(qtbot, tmp_path):
    """Calls coached live (each shift numbers its calls from 1) are told apart in the History
    tab as in `voicecoach history`: by what the caller first raised."""
    from voicecoach.sinks.view import call_name
    from voicecoach.store.history import CallScores, local_time
    from voicecoach.ui.widgets import HistoryView

    records = []
    for day, problem in ((2, "My internet keeps dropping."), (3, "I was charged twice.")):
        created = f"2026-11-0{day}T09:15:00+00:00"
        records.append({"schema": "voicecoach.call/1", "created": created,
                        "source": {"name": f"call 1, {local_time(created)}", "channels": ["agent", "customer"]},
                        "duration": 120.0, "talk_time": {"agent": 30.0, "customer": 20.0},
                        "talk_share": {"agent": 0.6, "customer": 0.4}, "interruptions": [],
                        "warmth": {"mean": 0.5}, "pace": {"agent_wpm": 160.0},
                        "shift": {"call": 1, "start_s": 0.0, "end_s": 120.0},
                        "caller_problems": [{"t": 4.0, "text": problem}]})
    view = HistoryView()
    qtbot.addWidget(view)
    view.set_rows([CallScores.from_record(r, tmp_path / f"{i}.json") for i, r in enumerate(records)])
    shown = [view.table.item(row, 2).text() for row in range(2)]                  # newest on top
    assert shown == [call_name(records[1]), call_name(records[0])]
    assert shown[1] == "live call: My internet keeps dropping."


def test_a_call_name_the_history_tab_cuts_short_is_read_whole_in_its_tooltip(qtbot, tmp_path):
    """A live call is named by what its caller first raised, and at 1024 px the History tab
    cuts that short ("live call: Hi, my internet keeps …"), so two calls of a shift read
    alike; hovering the name said only how to open it and the record's path."""
    from voicecoach.store.history import CallScores
    from voicecoach.ui.widgets import HistoryView

    problem = "Hi, my internet keeps dropping every evening and it has been going on for a week now."
    record = {"schema": "voicecoach.call/1", "created": "2026-12-05T16:13:00+00:00",
              "source": {"name": "call 3, 2026-12-05 16:13", "channels": ["agent", "customer"]},
              "duration": 74.0, "talk_time": {"agent": 37.0, "customer": 24.0},
              "talk_share": {"agent": 0.61, "customer": 0.39}, "interruptions": [],
              "warmth": {"mean": 0.5}, "pace": {"agent_wpm": 198.0},
              "shift": {"call": 3, "start_s": 812.4, "end_s": 886.8},
              "caller_problems": [{"t": 6.0, "text": problem}]}
    view = HistoryView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    view.set_rows([CallScores.from_record(record, tmp_path / "call3.json")])
    qtbot.waitExposed(view)
    name = view.table.item(0, 2)
    assert view.table.columnWidth(2) < view.table.fontMetrics().horizontalAdvance(name.text())   # cut short
    assert name.toolTip().startswith(f"<qt>live call: {problem}<br>")
    assert str(tmp_path / "call3.json") in name.toolTip()


def test_the_history_tab_fits_a_short_and_narrow_window(qtbot, tmp_path, monkeypatch):
    """At 1024x768 and 1280x720 the History tab shows its four trend plots whole and at
    least four past calls in its table (the plots' long titles pushed the pace plot off the
    right edge, and the plots took the height, leaving the table one row); a warmth plot
    with nothing to compare says why, as the line above it does."""
    from voicecoach.store.history import NO_PROFILE_NOTE
    from voicecoach.ui.widgets import HISTORY_ROWS_SHOWN, NO_WARMTH_TREND

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    with History(tmp_path / "h.sqlite") as history:
        for i in range(8):
            record = {"schema": "voicecoach.call/1", "created": f"2026-11-0{i + 1}T09:00:00+00:00",
                      "source": {"name": f"c{i}.flac", "channels": ["agent", "customer"]}, "duration": 180.0,
                      "talk_time": {"agent": 60.0, "customer": 50.0},
                      "talk_share": {"agent": 0.55, "customer": 0.45},
                      "interruptions": [{"start": 10.0, "end": 11.0, "by": "agent"}],
                      "warmth": {"mean": 0.5, "baseline": "call", "profile_id": None},
                      "pace": {"agent_wpm": 170.0 + i}}
            history.add(record, tmp_path / f"c{i}.json")
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.tabs.setCurrentIndex(1)
    view = win.history
    table = view.table

    def fits() -> bool:
        plots = [view.plots.getItem(0, i) for i in range(4)]
        right = max(p.mapRectToScene(p.boundingRect()).right() for p in plots)
        shown = table.viewport().height() // table.rowHeight(0)
        return right <= view.plots.viewport().width() and shown >= HISTORY_ROWS_SHOWN

    for width, height in ((1024, 768), (1280, 720), (1920, 1080)):
        win.resize(width, height)
        qtbot.waitUntil(fits)
    assert table.rowCount() == 8
    # the newest on top, numbered as the plots number it (1 = the oldest)
    assert [table.item(r, 0).text() for r in range(8)] == [str(8 - r) for r in range(8)]
    assert [table.item(r, 2).text() for r in (0, 7)] == ["c7.flac", "c0.flac"]
    assert view.no_warmth is not None and view.no_warmth.toPlainText() == NO_WARMTH_TREND
    assert NO_PROFILE_NOTE.replace("`voicecoach calibrate`", "“voicecoach calibrate”") in view.message.text()


def test_the_nudges_a_live_call_showed_are_on_the_review_timeline(window, demo, qtbot):
    """The review shows what the overlay told the agent and when: the record's nudges on the
    cue row (with a legend entry only for a call that has them)."""
    import copy

    from PyQt6.QtWidgets import QLabel

    from voicecoach.store.calls import OpenedCall

    record = copy.deepcopy(demo[1].record)
    assert "nudge shown" not in [lab.text().split("</span> ")[-1] for lab in window._legend.findChildren(QLabel)]
    record["nudges"] = [{"kind": "nudge", "t": 21.7, "channel": "agent", "text": "Let them finish",
                         "data": {"nudge": "let_them_finish"}, "latency": 0.02}]
    window.load(OpenedCall(record, demo[1].audio))
    spots = [p.data() for p in window.timeline.cue_points.points()]
    nudges = [window.timeline._cues[i] for i in spots if window.timeline._cues[i]["kind"] == "nudge"]
    assert [(c["t"], c["text"]) for c in nudges] == [(21.7, "Nudge shown: Let them finish")]
    assert "nudge shown" in [lab.text().split("</span> ")[-1] for lab in window._legend.findChildren(QLabel)]


def test_a_live_calls_legend_keeps_the_whole_call_in_view_at_1400_px(window, demo, qtbot):
    """A live call's "nudge shown" entry made the cues' row and the hint too long for one
    row at 1400x900: the legend fell back to its four-row form, and the scorecard's
    checklist went out of view (a scroll bar). The hint now takes a row of its own first."""
    import copy

    from PyQt6.QtWidgets import QScrollArea

    from voicecoach.store.calls import OpenedCall

    record = copy.deepcopy(demo[1].record)
    record["nudges"] = [{"kind": "nudge", "t": 21.7, "channel": "agent", "text": "Let them finish",
                         "data": {"nudge": "let_them_finish"}, "latency": 0.02}]
    window.load(OpenedCall(record, demo[1].audio))
    column = window.findChild(QScrollArea)

    def shown(variant) -> bool:
        return all(w.isVisibleTo(window) for w in variant)

    qtbot.waitUntil(lambda: shown(window._middle_legend) and not column.verticalScrollBar().isVisible())
    assert not shown(window._narrow_legend) and not shown(window._wide_legend)
    window.load(demo[1])                                   # no nudges: two rows, as before
    qtbot.waitUntil(lambda: shown(window._wide_legend))


def test_the_analysis_of_a_call_being_opened_can_be_cancelled(qtbot, tmp_path, monkeypatch):
    """A long recording opened by mistake: the progress dialog's Cancel (here Esc) stops the
    analysis, nothing is saved, and the window says so; before, Esc only hid the dialog and
    the analysis ran on for minutes with nothing on screen."""
    import time

    import soundfile as sf
    from PyQt6.QtCore import QTimer
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication, QProgressDialog

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    rng = np.random.default_rng(5)
    path = tmp_path / "long.wav"
    sf.write(path, (0.05 * rng.standard_normal((16000 * 600, 2))).astype(np.float32), 16000, subtype="PCM_16")
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.show()
    pressed = []

    def press_escape():
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog) and w.isVisible()]
        if not dialogs:
            QTimer.singleShot(100, press_escape)
            return
        QTest.keyClick(dialogs[0], Qt.Key.Key_Escape)
        pressed.append(time.monotonic())

    QTimer.singleShot(300, press_escape)
    assert win.open_path(path) is False
    assert pressed and time.monotonic() - pressed[0] < 10.0          # stopped, not run to the end
    assert "analysis cancelled" in win.statusBar().currentMessage()
    assert not list(tmp_path.glob("*.json")) and not (tmp_path / "data" / "records").exists()


def test_the_configs_text_size_sizes_the_review(qtbot, qapp, demo, tmp_path):
    """`[overlay] font_pt` is the review's text size too: its text, its headings, and a
    timeline tall enough that the plots' axis titles do not run into each other."""
    try:
        apply_style(qapp, 16)
        win = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=output_streams()[1])
        qtbot.addWidget(win)
        win.load(demo[1])
        win.show()
        qtbot.waitExposed(win)
        assert win.font().pointSizeF() == 16
        assert win.title.font().pointSizeF() == 22          # the title 6 pt over the text
        assert win.timeline.minimumHeight() == round(380 * 16 / 10)
    finally:
        apply_style(qapp)
    plain = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=output_streams()[1])
    qtbot.addWidget(plain)
    assert plain.font().pointSizeF() == 10 and plain.timeline.minimumHeight() == 380


def test_the_lists_tabs_fit_at_a_large_text_size(qtbot, qapp, demo, tmp_path):
    """At [overlay] font_pt = 14 the four lists' names did not fit the default 1400 px
    window: the tab bar scrolled, "Marks" out of sight behind two arrows. Now the lists'
    column takes the width the names need from the call's column; in a window too narrow
    for that (1024 px) every tab is still in view, its name shortened and whole in its
    tooltip. At the default text size nothing moves."""
    from PyQt6.QtWidgets import QToolButton

    def shown(size, font_pt):
        apply_style(qapp, font_pt)
        win = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=output_streams()[1])
        qtbot.addWidget(win)
        win.resize(*size)
        win.load(demo[1])
        win.show()
        qtbot.waitExposed(win)
        qtbot.wait(20)
        bar = win.lists.tabBar()
        assert not [b for b in bar.findChildren(QToolButton) if b.isVisible()]      # no scroll arrows
        assert all(bar.rect().contains(bar.tabRect(i)) for i in range(bar.count()))
        return win, bar

    try:
        win, bar = shown((1400, 900), 14)
        assert bar.tabRect(bar.count() - 1).right() + 1 >= bar.sizeHint().width()   # every name whole
        assert win._split.widget(0).width() >= 560
        win, bar = shown((1024, 768), 14)
        assert win._split.widget(0).width() >= 560                  # the call's column keeps its least width
        assert bar.tabToolTip(2) == "Caller's list: what the caller raised"
    finally:
        apply_style(qapp)
    win, bar = shown((1400, 900), 10)
    assert win._split.sizes()[1] < 460                              # as before: the call's column has the room


def test_opening_another_call_while_playing_resets_the_play_button(window, demo):
    window.listen_at(10.0)
    assert window.player.playing and "Pause" in window.play_button.text()
    assert window.open_path(demo[1].record_path)       # e.g. from the History tab or File > Open
    assert window.player is not None and not window.player.playing
    assert "Play" in window.play_button.text(), window.play_button.text()


def test_the_transcript_line_at_the_playhead_is_highlighted_again_after_a_seek_before_the_first_line(window):
    first = window.lines[0].start
    assert first > 0.0
    row = 3
    window.seek(window.lines[row].start + 0.1)
    assert window.transcript.selectionModel().isRowSelected(row)
    window.seek(0.0)                                # before the first line: nothing highlighted
    assert not window.transcript.selectionModel().hasSelection()
    window.seek(window.lines[row].start + 0.1)      # back to that line (timeline click, Right key...)
    assert window.transcript.selectionModel().isRowSelected(row), "line at the playhead not highlighted"


def test_clicking_where_a_stopped_recording_has_no_audio_does_not_play_from_the_start(qtbot, tmp_path, demo,
                                                                                       monkeypatch):
    """A live call whose recording stopped part-way (a full disk) opens with the part there is
    (calls._length_fits: "the recording stopped during the call"). A click on the timeline
    after the recording's end says so, and does not play from 0:00."""
    import json

    import soundfile as sf

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    record = dict(demo[1].record, live={"latency_p50_s": {}, "latency_p95_s": {}})
    audio = demo[1].audio
    cut = int(40 * SAMPLE_RATE)                       # the recording stopped at 0:40
    sf.write(tmp_path / "demo_call.flac", np.stack([audio.agent[:cut], audio.customer[:cut]], axis=1), SAMPLE_RATE)
    (tmp_path / "demo_call.json").write_text(json.dumps(record))
    made, factory = output_streams()
    win = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=factory)
    qtbot.addWidget(win)
    assert win.open_path(tmp_path / "demo_call.json")
    assert win.player is not None and "recording stopped during the call" in win.statusBar().currentMessage()
    assert record["duration"] > 60
    win.listen_at(55.0)                             # a click on the timeline at 0:55
    qtbot.wait(200)                                 # the playhead follows the player (TICK_MS)
    assert win.position_s >= 39.0, f"clicked at 0:55, playhead went to {win.position_s:.1f} s"
    assert not win.player.playing and "recording ends at 0:40" in win.statusBar().currentMessage()


def _left_labels(axis) -> list[str]:
    from PyQt6.QtGui import QImage, QPainter

    img = QImage(10, 10, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    try:
        return [spec[2] for spec in axis.generateDrawSpecs(p)[2]]
    finally:
        p.end()


@pytest.mark.parametrize("font_pt, agent", [(16, None), (10, "Christopher")])
def test_the_timelines_side_names_are_drawn_at_every_text_size(qtbot, qapp, demo, tmp_path, font_pt, agent):
    """pyqtgraph leaves out a tick label that does not fit its axis: at a fixed 64 px, at
    [overlay] font_pt = 16 the caller's half of the waveform had no "Caller", and in a
    coach's view an agent named "Christopher" had no name at 10 pt."""
    from voicecoach.ui.style import apply_style

    try:
        apply_style(qapp, font_pt)
        win = ReviewWindow(history_path=tmp_path / "h.sqlite", stream_factory=output_streams()[1])
        qtbot.addWidget(win)
        win.resize(1400, 900)
        win.load(demo[1])
        if agent:
            win.timeline.set_call(demo[1].record, demo[1].audio, agent)   # as load() does for a shared call
        win.show()
        qtbot.waitExposed(win)
        qtbot.wait(50)
        drawn = _left_labels(win.timeline.waves.getAxis("left"))
        assert sorted(drawn) == sorted([agent or "You", "cues", "Caller"]), drawn
    finally:
        apply_style(qapp)


@pytest.mark.parametrize("when", ["window open", "while analysing"])
def test_ctrl_c_in_the_terminal_ends_the_review_without_a_traceback(tmp_path, demo, when):
    """`voicecoach review CALL` run from a terminal, then Ctrl-C: with the window open it
    went on running (Qt's loop never let Python see the signal until some callback ran);
    while a recording was being analysed, a "Traceback ... KeyboardInterrupt" from a Qt
    slot (`update` of the progress dialog) was printed and the analysis went on. Ctrl-C
    must end the review (as it ends `live`'s overlay), with no traceback."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    if when == "window open":
        call, wait_s = str(demo[1].record_path), 6.0
    else:
        call, wait_s = str(tmp_path / "fresh.flac"), 3.0        # no record yet: analysed first
        shutil.copy(demo_call_path(), call)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    checkout = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "review", call], cwd=checkout, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(wait_s)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"Ctrl-C did not end the review ({when}); stderr: {err[-500:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_a_live_call_coached_with_recording_off_says_it_was_not_recorded(qtbot, tmp_path, monkeypatch):
    """The after-call card's "Open the review" on a call coached with recording off (the
    default): the status line said "call 1, 2026-12-06 14:46 is neither beside the record
    nor where it was analysed" and the timeline "recording not found", as if a file had
    gone missing, where no call is recorded unless the agent turns recording on."""
    import pyqtgraph as pg

    from voicecoach.config import Config
    from voicecoach.shift import Shift
    from voicecoach.sources.audio import CallAudio, load_call
    from voicecoach.sources.files import PlaylistSource

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    demo = load_call(demo_call_path())
    part = CallAudio(demo.agent[:14 * SAMPLE_RATE], demo.customer[:14 * SAMPLE_RATE], "mine")
    shift = Shift(PlaylistSource([(1.0, part)], streams=True), Config(), transcribe=False,
                  records_folder=tmp_path / "records", history_path=tmp_path / "h.sqlite")
    (call,) = shift.run()
    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    win.load(open_call(call["record_path"]))
    message = win.statusBar().currentMessage()
    assert "neither beside the record" not in message and "no recording was made" in message, message
    notes = [i.textItem.toPlainText() for i in win.timeline.waves.items if isinstance(i, pg.TextItem)]
    assert notes and not any("not found" in n for n in notes), notes
    assert any(n.startswith("not recorded") for n in notes), notes
