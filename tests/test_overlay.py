"""The live overlay, offscreen: it follows a replayed call (meters, counts, a nudge that
fades), folds to its compact view, remembers where it was, never takes the focus, and
runs a shift (``ShiftController``, ``run_shift_overlay``): its menu and tray icon pause
coaching, end a call by hand and hide the overlay; a screenshot is saved at the end."""
from __future__ import annotations

import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # before Qt is imported

import signal  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pytestqt")

from PyQt6.QtCore import QEvent, QPoint, QPointF, QRect, Qt, QTimer  # noqa: E402
from PyQt6.QtGui import QMouseEvent  # noqa: E402
from PyQt6.QtWidgets import QApplication, QLineEdit, QSystemTrayIcon  # noqa: E402
from voicecoach.sinks.view import clock  # noqa: E402
from voicecoach.ui.bridge import LiveBridge, SessionRunner  # noqa: E402
from voicecoach.ui.overlay import OverlayOptions, OverlayWindow  # noqa: E402
from voicecoach.ui.shiftrun import ShiftController, run_shift_overlay  # noqa: E402
from voicecoach.ui.placement import Placement  # noqa: E402

from voicecoach.analyze import demo_call_path  # noqa: E402
from voicecoach.config import Config  # noqa: E402
from voicecoach.events import (
    SAMPLE_RATE,  # noqa: E402
    Event,  # noqa: E402
)
from voicecoach.live import LiveSession  # noqa: E402
from voicecoach.sources.audio import CallAudio, load_call  # noqa: E402
from voicecoach.sources.files import ReplaySource  # noqa: E402

QUICK = OverlayOptions(nudge_fade_in_s=0.05, nudge_hold_s=0.3, tip_hold_s=0.3, nudge_fade_out_s=0.3,
                       meter_anim_s=0.0, status_hold_s=0.3, save_delay_s=0.05)
"""Short animations so that a nudge comes and goes within a test."""


@pytest.fixture(scope="module")
def excerpt() -> CallAudio:
    """4.5 s of the demo call: the caller talks, the agent cuts in at 2.05 s (decided
    at 3.05 s, when the "let them finish" nudge fires) and keeps talking."""
    call = load_call(demo_call_path())
    part = slice(int(18.5 * SAMPLE_RATE), int(23.0 * SAMPLE_RATE))
    return CallAudio(call.agent[part], call.customer[part], "excerpt")


def replay(call: CallAudio):
    return lambda: LiveSession(ReplaySource(call), Config(), transcribe=False, name=call.name)


def shift_of(call: CallAudio, heard: list | None = None, config: Config | None = None):
    """A shift replaying ``call`` at real-time pace (no words, nothing saved); the call
    records it ends go to ``heard``."""
    from voicecoach.shift import Shift

    def make():
        shift = Shift(ReplaySource(call), config or Config(), transcribe=False, save=False)
        if heard is not None:
            shift.subscribe(lambda kind, item: kind == "call" and item.get("state") == "ended"
                            and heard.append(item["record"]))
        return shift
    return make


def session_for(call: CallAudio, transcribe: bool = False) -> LiveSession:
    """A session to attach the window to (never run): ``model`` and ``second_model`` stand
    in for loaded models."""
    stand_in = object() if transcribe else None
    return LiveSession(ReplaySource(call), Config(), transcribe=transcribe,
                       model=stand_in, second_model=stand_in)


@pytest.fixture
def window(qtbot):
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close_for_good()


def snapshot(t=10.0, warmth=None, syl=None, wpm=None, zone=None, share=None, you=0, caller=0, acks=0,
             lag=None, recording=None) -> dict:
    return {"t": t, "warmth": {"warmth": warmth},
            "pace": {"recent_syl_s": syl, "recent_wpm": wpm, "zone": zone},
            "turns": {"talk_share_agent": share, "interruptions": {"agent": you, "customer": caller},
                      "backchannels": acks},
            "stt_lag_s": lag, "recording": recording}


# --------------------------------------------------------------------------- a replayed call

def test_overlay_follows_a_replayed_call(qtbot, excerpt):
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    shares, heard = [], []
    ctl = ShiftController(shift_of(excerpt, heard), w)
    w.show()
    ctl.start()
    assert w.state == w.LOADING and not w.share.isEnabled()
    qtbot.waitUntil(lambda: w.state == w.LIVE, timeout=10_000)      # the caller spoke: a call
    assert w.share.isEnabled() and w.interruptions == {"agent": 0, "customer": 0}
    qtbot.waitUntil(lambda: w.slot.showing_nudge, timeout=10_000)
    assert w.slot.message == "Let them finish"
    qtbot.waitUntil(lambda: w.interruptions["agent"] == 1, timeout=10_000)
    shares.append(w.share.value)
    qtbot.waitUntil(lambda: not w.slot.showing, timeout=10_000)     # the nudge fades out by itself
    assert w.slot.messageOpacity == 0.0
    with qtbot.waitSignal(ctl.done, timeout=10_000):
        pass
    shares.append(w.share.value)
    assert shares[0] is not None and shares[1] > shares[0] > 0.0    # the agent kept talking
    assert "1</b> by you" in w.interruptions_value.text()
    assert ctl.error is None and len(ctl.calls) == 1 and len(heard) == 1
    assert 2.5 < heard[0]["duration"] <= 4.55                       # from the caller's first words
    assert [n["data"]["nudge"] for n in heard[0]["nudges"]] == ["let_them_finish"]
    assert w.card.isVisible() is False and not w.isVisible()        # closed with the shift


def test_screenshot_of_the_shift_shows_the_after_call_card(qapp, excerpt, tmp_path, capsys):
    shot = tmp_path / "overlay.png"
    code, calls = run_shift_overlay(shift_of(excerpt), screenshot=str(shot), stop_after_s=4.0)
    assert code == 0 and len(calls) == 1 and calls[0]["ended_by"] == "shift end"
    said = capsys.readouterr().out                             # each picture written is said
    assert f"Screenshot written to {shot}\n" in said and f"Screenshot written to {tmp_path / 'overlay-card.png'}" in said
    from PyQt6.QtGui import QImage

    img = QImage(str(shot)).convertToFormat(QImage.Format.Format_ARGB32)
    assert img.width() >= 280 and img.height() >= 150
    px = np.frombuffer(img.constBits().asstring(img.sizeInBytes()), np.uint8)
    px = px.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width()]      # B, G, R, A
    assert px[0, 0, 3] == 0                                    # rounded corner: see-through
    assert px[img.height() // 2, img.width() // 2, 3] >= 240   # the panel: nearly opaque
    assert len(np.unique(px.reshape(-1, 4), axis=0)) > 200     # text, the card: not blank
    assert shot.stat().st_mode & 0o077 == 0                    # it shows the call: the user's alone


def test_session_errors_reach_the_caller(qapp, tmp_path):
    def broken():
        raise ValueError("no such device")

    with pytest.raises(ValueError, match="no such device"):
        run_shift_overlay(broken, placement_path=tmp_path / "overlay.json")


def test_unwritable_screenshot_is_exit_code_2(qapp, excerpt, tmp_path, capsys):
    (tmp_path / "a-file").write_text("")                  # no folder can be made under a file
    code, calls = run_shift_overlay(shift_of(excerpt), screenshot=str(tmp_path / "a-file" / "x.png"),
                                    stop_after_s=1.0)
    assert code == 2 and calls is not None
    assert "cannot write the screenshot" in capsys.readouterr().err


def test_pause_ends_the_call_and_resume_waits_for_the_next(qtbot, excerpt):
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    heard, config = [], Config()
    config.shift.min_call_s = 1.0                                   # the excerpt's call is short
    ctl = ShiftController(shift_of(excerpt, heard, config), w)
    w.show()
    ctl.start()
    qtbot.waitUntil(lambda: w.state == w.LIVE, timeout=10_000)
    qtbot.wait(1500)
    ctl.mark()
    assert w.status_text == "Moment marked" and not w.status_warn      # done, not a warning
    ctl._update_menu()
    assert ctl.act_call.text() == "End this call now" and ctl.act_pause.text() == "Pause coaching"
    assert not ctl.act_review.isEnabled()                           # nothing saved yet
    ctl.act_pause.trigger()                                         # the open call ends with it
    qtbot.waitUntil(lambda: ctl.paused and len(heard) == 1, timeout=10_000)
    assert heard[0]["duration"] < 4.4
    # the record is saved on the shift's thread; the window hears "ended" through the bridge
    qtbot.waitUntil(lambda: w.state == w.IDLE and w.card.isVisible(), timeout=5_000)
    ctl._update_menu()
    assert ctl.act_pause.text() == "Resume coaching"
    assert ctl.act_call.text() == "Resume coaching and start a call now" and ctl.act_call.isEnabled()
    # the saved call's end does not hide that coaching is paused
    qtbot.waitUntil(lambda: w.status_text == "Coaching paused — resume it from the menu", timeout=5_000)
    qtbot.wait(300)
    assert w.status_text == "Coaching paused — resume it from the menu" and not w.status_warn
    ctl.act_pause.trigger()
    qtbot.waitUntil(lambda: not ctl.paused, timeout=5_000)
    qtbot.waitUntil(lambda: w.status_text == "Waiting for the next call", timeout=5_000)
    qtbot.wait(300)                                   # no "Waiting for a call" in the warning colour
    assert w.status_text == "Waiting for the next call" and not w.status_warn
    ctl._update_menu()
    assert ctl.act_call.isEnabled() and ctl.act_call.text() in ("Start a call now", "End this call now")
    ctl.quit()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)
    assert ctl.error is None

def test_bridge_delivers_on_the_gui_thread(qtbot):
    bridge = LiveBridge()
    got = []
    bridge.event.connect(lambda e: got.append(("event", e.kind, threading.get_ident())))
    bridge.snapshot.connect(lambda s: got.append(("snapshot", s["t"], threading.get_ident())))
    bridge.status.connect(lambda s: got.append(("status", s, threading.get_ident())))
    worker = threading.Thread(target=lambda: [bridge("event", Event("word", 1.0, "agent", "hi")),
                                              bridge("snapshot", {"t": 1.5}), bridge("status", "behind")])
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(got) == 3)
    assert [g[:2] for g in got] == [("event", "word"), ("snapshot", 1.5), ("status", "behind")]
    assert {g[2] for g in got} == {threading.get_ident()}


def test_runner_stopped_while_loading_never_starts_the_call(qtbot, excerpt):
    bridge = LiveBridge()
    gate = threading.Event()

    def slow_session():
        gate.wait(5)
        return replay(excerpt)()

    runner = SessionRunner(slow_session, bridge)
    started = []
    bridge.started.connect(started.append)
    runner.start()
    runner.stop()
    with qtbot.waitSignal(bridge.finished, timeout=5_000) as blocker:
        gate.set()
    assert blocker.args == [None] and not started


# --------------------------------------------------------------------------- the window

def test_meters_follow_snapshots(window, excerpt):
    window.attach(session_for(excerpt))
    assert window.warmth.value is None and window.pace.value is None
    window.on_snapshot(snapshot(warmth=0.2, syl=4.0, zone="comfortable", share=0.3, you=0, caller=1))
    assert window.warmth.value == 0.2 and window.warmth_value.text() == "0.2"     # no band: one decimal
    window.on_snapshot(dict(snapshot(warmth=0.2, syl=4.0, zone="comfortable", share=0.3, caller=1),
                            warmth={"warmth": 0.2, "shown": 0.33, "band": "flat"}))
    assert window.warmth.value == 0.33 and window.warmth_value.text() == "flat"   # the smoothed value, as a word
    assert window.pace.value == 4.0 and window.pace_value.text() == "4.0 syl/s"
    assert window.pace.scale[1:4] == (3.0, 4.5, 5.0)              # the syllable band
    assert window.share_value.text() == "30 %"
    assert "1</b> by the caller" in window.interruptions_value.text()
    window.on_snapshot(snapshot(t=75.0, warmth=0.7, wpm=230.0, zone="fast", share=0.6, you=2, acks=3))
    assert window.warmth.value == 0.7 and window.pace_value.text() == "230 wpm"
    assert window.pace.scale[1:4] == (140.0, 190.0, 210.0)        # words arrived: the word band
    assert window.pace.zone == "fast" and "color" in window.pace_value.styleSheet()
    assert "2</b> by you" in window.interruptions_value.text() and "3 acks" in window.interruptions_value.text()
    assert window.clock.text() == "1:15"
    assert window.rec.isHidden()
    window.on_snapshot(snapshot(recording="call.wav", lag=9.0))
    assert not window.rec.isHidden()
    assert "behind" in window.status_text and window.status_warn


def test_captions_show_the_latest_words_of_each_side(window, excerpt):
    window.attach(session_for(excerpt, transcribe=True))
    words = [f"word{i}" for i in range(60)] + ["router."]
    for i, text in enumerate(words):
        window.on_event(Event("word", i * 0.3, "agent", " " + text))
    window.on_event(Event("word", 1.0, "customer", " Hello?"))
    agent = window.captions["agent"]
    assert agent.text().startswith("… ") and agent.text().endswith("word59 router.")
    fm = agent.fontMetrics()
    line_h = fm.boundingRect(0, 0, 10_000, 1000, 0, "Ag").height()
    used = fm.boundingRect(0, 0, agent.contentsRect().width(), 10_000, int(Qt.TextFlag.TextWordWrap),
                           agent.text()).height()
    assert line_h < used <= 2 * line_h                            # two full lines, no more
    assert window.captions["customer"].text() == "Hello?"


def test_captions_off_and_mic_only(window, excerpt):
    window.attach(session_for(CallAudio(excerpt.agent, None, "mic")))
    assert not window.share.isEnabled() and window.share_value.text() == "mic only"
    assert "mic only" in window.status_text.lower() and "warmth and pace" in window.status_text
    assert window.captions["customer"].isHidden() and "off" in window.captions["agent"].text()
    window.on_snapshot({"t": 3.0, "warmth": {"warmth": 0.5}, "pace": {"recent_syl_s": 4.2, "zone": "comfortable"},
                        "stt_lag_s": None, "recording": None})
    assert window.warmth.value == 0.5 and window.share.value is None


def test_a_mic_only_shifts_call_says_mic_only(window, excerpt):
    """Each call of a shift without --customer (or `live --replay` of a mono file) said
    "Call 1 — listening to you and the caller" and put "–" for the talk share in place of
    "mic only" (found by a helper in a `live --replay me.flac` screenshot)."""
    window.attach(session_for(CallAudio(excerpt.agent, None, "mic")))
    window.on_call({"state": "started", "index": 1, "t": 0.0, "reason": "speech"})
    assert window.status_text == "Call 1 — mic only: warmth and pace (no call audio)"
    assert window.share_value.text() == "mic only"
    assert "no call audio" in window.checklist.temperature.text()     # it said "not heard yet" all call
    assert "needs the call audio" in window.checklist.callers.text()
    window.attach(session_for(excerpt))
    window.on_call({"state": "started", "index": 2, "t": 0.0, "reason": "speech"})
    assert window.status_text == "Call 2 — listening to you and the caller"
    assert window.share_value.text() == "–"
    assert "not heard yet" in window.checklist.temperature.text()
    assert "nothing yet" in window.checklist.callers.text()


def test_loading_then_status_lines(window, excerpt):
    window.set_loading("Loading the speech model…")
    assert window.status_text == "Loading the speech model…" and window.slot.busy
    assert not window.warmth.isEnabled() and window.interruptions_value.text() == "–"
    window.attach(session_for(excerpt))
    assert not window.slot.busy and window.warmth.isEnabled()
    usual = window.status_text
    window.on_status("speech-to-text is 5.2 s behind; catching up")
    assert window.status_text.startswith("speech-to-text") and window.status_warn
    window.on_snapshot(snapshot())                                # a quiet snapshot keeps it up...
    assert window.status_text.startswith("speech-to-text")
    window._status_timer.timeout.emit()                           # ...until it has been up long enough
    assert window.status_text == usual


def test_a_nudge_appears_and_fades(qtbot, window, excerpt):
    window.attach(session_for(excerpt))
    window.on_event(Event("nudge", 5.0, "agent", "Slow down a little", {"nudge": "slow_down"}))
    assert window.slot.showing_nudge and window.slot.role == "pace"
    qtbot.waitUntil(lambda: window.slot.messageOpacity == 1.0, timeout=1_000)
    tip = Event("cue", 5.5, "agent", "", {"cue": "jargon", "phrase": "flush your DNS cache",
                                          "suggestion": "clear the saved addresses"})
    window.on_event(tip)
    assert window.slot.message == "Slow down a little"           # a tip never covers a nudge
    qtbot.waitUntil(lambda: not window.slot.showing, timeout=2_000)
    assert window.slot.messageOpacity == 0.0
    window.on_event(tip)
    assert window.slot.kind == "tip" and "clear the saved addresses" in window.slot.message
    window.on_event(Event("nudge", 6.0, "agent", "Let them finish", {"nudge": "let_them_finish"}))
    assert window.slot.kind == "nudge" and window.slot.role == "interruption"


def test_tips_that_come_together_are_shown_in_turn(qtbot, window, excerpt):
    """Two trade terms in one sentence arrive together when it closes: the second tip
    waits for the first to fade, not covering it; a nudge drops the waiting ones."""
    window.attach(session_for(excerpt))

    def tip(phrase, plainer):
        return Event("cue", 5.0, "agent", "", {"cue": "jargon", "phrase": phrase, "suggestion": plainer})

    window.on_event(tip("fused spur", "switched outlet with its own fuse"))
    window.on_event(tip("door gasket", "rubber seal around the door"))
    window.on_event(tip("door gasket", "rubber seal around the door"))          # said twice: once
    assert "fused spur" in window.slot.message
    qtbot.waitUntil(lambda: "door gasket" in window.slot.message, timeout=2_000)
    qtbot.waitUntil(lambda: not window.slot.showing, timeout=2_000)
    window.on_event(tip("fused spur", "switched outlet with its own fuse"))
    window.on_event(tip("door gasket", "rubber seal around the door"))
    window.on_event(Event("nudge", 6.0, "agent", "Let them finish", {"nudge": "let_them_finish"}))
    qtbot.waitUntil(lambda: not window.slot.showing, timeout=2_000)
    qtbot.wait(200)
    assert not window.slot.showing                                              # the waiting tip went


def test_compact_and_expanded(qtbot, window, excerpt):
    window.attach(session_for(excerpt, transcribe=True))
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)   # its new texts laid out: the panel fits them
    tall = window.height()
    window.fold_button.click()
    assert window.compact and window.act_compact.isChecked() and window.details.isHidden()
    qtbot.waitUntil(lambda: window.height() < tall - 60)
    assert window.warmth.isVisible() and window.pace.isVisible() and window.share.isVisible()
    window.act_compact.trigger()
    assert not window.compact and window.captions["agent"].isVisible()
    qtbot.waitUntil(lambda: window.height() == tall)


def test_position_size_and_view_are_remembered(qtbot, tmp_path):
    path = tmp_path / "overlay.json"
    first = OverlayWindow(QUICK, placement_path=path)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    start = first.pos()
    press = QPointF(60, 12)
    for kind, local, buttons in ((QEvent.Type.MouseButtonPress, press, Qt.MouseButton.LeftButton),
                                 (QEvent.Type.MouseMove, press + QPointF(-150, 90), Qt.MouseButton.LeftButton),
                                 (QEvent.Type.MouseButtonRelease, press + QPointF(-150, 90), Qt.MouseButton.NoButton)):
        QApplication.sendEvent(first, QMouseEvent(kind, local, QPointF(first.mapToGlobal(local)),
                                                  Qt.MouseButton.LeftButton, buttons,
                                                  Qt.KeyboardModifier.NoModifier))
    assert (first.x() - start.x(), first.y() - start.y()) == (-150, 90)    # dragged
    first.resize(400, first.height() + 30)
    first.set_compact(True)
    qtbot.waitUntil(lambda: path.exists() and Placement.load(path).compact, timeout=2_000)
    saved = Placement.load(path)
    assert (saved.x, saved.y, saved.width) == (first.x(), first.y(), 400)
    first.close_for_good()

    second = OverlayWindow(QUICK, placement_path=path)
    qtbot.addWidget(second)
    assert (second.x(), second.y(), second.width()) == (saved.x, saved.y, 400)
    assert second.compact and second.details.isHidden()
    second.set_compact(False)
    assert second.height() == saved.height
    second.close_for_good()


def test_a_new_overlay_sits_at_the_top_right(qtbot, tmp_path):
    w = OverlayWindow(QUICK, placement_path=tmp_path / "none-yet.json")
    qtbot.addWidget(w)
    area = QApplication.primaryScreen().availableGeometry()
    assert w.geometry().right() == area.right() - QUICK.edge_margin_px
    assert w.y() == area.top() + QUICK.edge_margin_px
    Placement(-5000, -5000, 300, 200).save(tmp_path / "off-screen.json")
    lost = OverlayWindow(QUICK, placement_path=tmp_path / "off-screen.json")
    qtbot.addWidget(lost)
    assert area.contains(lost.geometry().topLeft())               # a vanished screen: back on this one


def test_never_takes_the_focus(qtbot, window, excerpt):
    flags = window.windowFlags()
    for flag in (Qt.WindowType.WindowDoesNotAcceptFocus, Qt.WindowType.Tool, Qt.WindowType.FramelessWindowHint,
                 Qt.WindowType.WindowStaysOnTopHint):
        assert flags & flag
    assert window.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert window.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    tool = QLineEdit()                      # the agent's ticketing tool, typing
    qtbot.addWidget(tool)
    tool.show()
    tool.activateWindow()
    tool.setFocus()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is tool)
    window.attach(session_for(excerpt, transcribe=True))
    window.on_snapshot(snapshot(warmth=0.6, syl=4.0, zone="comfortable", share=0.5, you=1))
    window.on_event(Event("word", 1.0, "customer", "hello"))
    window.on_event(Event("nudge", 2.0, "agent", "Let them finish", {"nudge": "let_them_finish"}))
    window.on_status("speech-to-text is behind")
    window.set_compact(True)
    window.set_compact(False)
    window.activateWindow()                 # what a click asks for: refused
    qtbot.wait(50)
    assert QApplication.activeWindow() is tool and QApplication.focusWidget() is tool
    assert not window.isActiveWindow()
    for b in (window.fold_button, window.menu_button, window.close_button):
        assert b.focusPolicy() == Qt.FocusPolicy.NoFocus


def test_ctrl_c_ends_the_shift_and_keeps_the_call(qapp, excerpt, tmp_path):
    before = signal.getsignal(signal.SIGINT)
    heard = []
    QTimer.singleShot(2500, lambda: os.kill(os.getpid(), signal.SIGINT))
    code, calls = run_shift_overlay(shift_of(excerpt, heard), placement_path=tmp_path / "overlay.json")
    assert code == 0 and len(calls) == 1 and 0.5 < heard[0]["duration"] < 4.0
    assert signal.getsignal(signal.SIGINT) is before            # the caller's handler is back
    assert (tmp_path / "overlay.json").exists()                  # the placement was saved on closing


def test_tray_hides_and_shows_the_overlay(qtbot, monkeypatch, excerpt):
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(shift_of(excerpt), w)
    w.show()
    assert ctl.tray is not None and ctl.tray.contextMenu() is w.menu
    ctl._update_menu()
    assert ctl.act_visible.isVisible()                          # a tray icon to come back from
    ctl.tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert not w.isVisible()
    ctl._update_menu()
    assert ctl.act_visible.text() == "Show overlay"
    ctl.act_visible.trigger()
    assert w.isVisible()
    assert w.close_button.accessibleName() == "Hide the overlay"
    w.close_button.click()                       # the ✕ hides the panel; the shift goes on
    assert not w.isVisible() and not w._closing
    ctl.act_visible.trigger()
    assert w.isVisible()
    ctl.quit()                                   # no shift running: closes at once
    assert not w.isVisible()


@pytest.mark.parametrize("answer", ["Keep coaching", "Quit"])
def test_without_a_tray_the_close_button_asks_before_ending_the_shift(qtbot, monkeypatch, excerpt, answer):
    """The ✕ sat a few pixels from the after-call card's dismiss button and ended the
    shift at one click."""
    from PyQt6.QtWidgets import QMessageBox

    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(shift_of(excerpt), w)
    w.show()
    assert not ctl.can_hide()
    assert w.close_button.accessibleName() == "Quit VoiceCoach" and "asks first" in w.close_button.toolTip()
    asked = []

    def answer_the_box():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_the_box)
            return
        asked.append(box.text())
        next(b for b in box.buttons() if b.text() == answer).click()

    QTimer.singleShot(20, answer_the_box)
    w.close_button.click()
    assert asked and asked[0].startswith("Quit VoiceCoach?")
    assert w.isVisible() == (answer == "Keep coaching")


def _contrast(widget) -> float:
    """The WCAG contrast ratio between a widget's commonest colour (its background) and
    the colour that stands out most from it (its text), as drawn in its window (a child
    grabbed alone has the default background)."""
    window = widget.window()
    img = window.grab(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())).toImage()

    def lum(rgb):
        c = [(v / 255) / 12.92 if v <= 10 else (((v / 255) + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    pixels = [img.pixelColor(x, y) for x in range(img.width()) for y in range(img.height())]
    rgbs = [(c.red(), c.green(), c.blue()) for c in pixels]
    background = max(set(rgbs), key=rgbs.count)
    lb = lum(background)
    lt = max((lum(c) for c in set(rgbs)), key=lambda v: abs(v - lb))
    return (max(lb, lt) + 0.05) / (min(lb, lt) + 0.05)


def test_the_quit_question_is_readable(qtbot, monkeypatch, excerpt):
    """The box the ✕ opens inherited the overlay's light text on the default light dialog:
    "Quit VoiceCoach? …", "Quit" and "Keep coaching" were near-white on light grey
    (seen under Xvfb: contrast about 1.1)."""
    from PyQt6.QtWidgets import QLabel, QMessageBox

    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ShiftController(shift_of(excerpt), w)
    w.show()
    seen = {}

    def look_and_keep():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, look_and_keep)
            return
        seen["text"] = _contrast(box.findChild(QLabel, "qt_msgbox_label"))
        seen["buttons"] = {b.text(): _contrast(b) for b in box.buttons()}
        next(b for b in box.buttons() if b.text() == "Keep coaching").click()

    QTimer.singleShot(20, look_and_keep)
    w.close_button.click()
    assert seen["text"] >= 4.5, seen
    assert all(c >= 4.5 for c in seen["buttons"].values()), seen


# --------------------------------------------------------------------------- shift mode

def test_status_goes_to_the_quiet_line_and_the_slot_carries_coaching_only(window, excerpt):
    window.attach(session_for(excerpt))
    window.on_status("speech-to-text is 4.2 s behind; catching up")
    assert window.status_line.text().startswith("speech-to-text") and not window.slot.message
    window.on_event(Event("nudge", 2.0, "agent", "Let them finish", {"nudge": "let_them_finish"}))
    assert window.slot.message == "Let them finish"
    assert window.slot.status == ""                           # nothing but coaching in the slot


def test_a_hold_is_said_on_the_quiet_line_and_the_call_line_comes_back(window, excerpt):
    """The agent asked the caller to hold and the call went quiet: the status line says
    the call goes on (not in the warning colour), snapshots meanwhile do not undo it,
    and the call's own line comes back with the caller. Between calls it is no news."""
    window.attach(session_for(excerpt))
    window.on_call({"state": "started", "index": 3, "t": 0.0, "reason": "speech"})
    window.set_hold(True)
    assert window.status_text == "On hold — the call goes on" and not window.status_warn
    window.on_snapshot(snapshot(t=40.0))
    assert window.status_text == "On hold — the call goes on"
    window.set_hold(False)
    assert window.status_text == "Call 3 — listening to you and the caller"
    window.on_call({"state": "ending", "index": 3, "t": 0.0, "end_t": 60.0, "reason": "speech",
                    "ended_by": "silence"})
    window.set_hold(True)
    assert window.status_text == "Waiting for the next call"


def test_a_long_status_line_is_cut_not_wrapped_so_the_panel_keeps_its_height(qtbot, window, excerpt):
    window.attach(session_for(excerpt))
    window.on_call({"state": "started", "index": 1, "t": 0.0, "reason": "speech"})
    qtbot.wait(50)
    height, width = window.height(), window.width()
    long = ("recording stopped: No space left on device (/home/agent/VoiceCoach recordings/2026/"
            "december/a folder with a long name/call-20261204-101500.wav); coaching continues")
    window.on_status(long)
    qtbot.wait(50)
    assert (window.height(), window.width()) == (height, width)
    line = window.status_line
    assert line.text() == long and line.displayed().endswith("…") and line.displayed().startswith("recording")
    assert long in line.toolTip()                             # the whole line is a hover away


def test_live_checklist_and_lists_fill_in(window, excerpt):
    window.attach(session_for(excerpt, transcribe=True))
    c = window.checklist
    assert not any(c.done.values()) and "not heard yet" in c.temperature.text()
    window.on_event(Event("cue", 1.0, "agent", 'Greeting: "thank you for calling"', {"cue": "greeting"}))
    window.on_event(Event("cue", 9.0, "agent", 'Open question: "What happens?"', {"cue": "question_open"}))
    window.on_event(Event("cue", 12.0, "customer", 'Caller\'s problem: "My router blinks."', {"cue": "problem", "item": 0}))
    window.on_event(Event("cue", 13.0, "customer", 'Caller\'s problem: "It\'s orange."', {"cue": "problem", "item": 0}))
    assert c.caller_items == [(12.0, "My router blinks. It's orange.")]   # one turn, one item
    window.on_event(Event("cue", 30.0, "agent", 'Commitment: "I\'ll call you back."', {"cue": "commitment"}))
    assert c.done == {"greeting": True, "empathy": False, "questions": True, "closing_question": False}
    assert "My router blinks." in c.callers.text() and "0:12" in c.callers.text()
    assert "call you back" in c.follow_ups.text()
    long = "My internet keeps dropping every evening and it has been going on for a week now, and " * 2
    window.on_event(Event("cue", 14.0, "customer", f'Caller\'s problem: "{long}"', {"cue": "problem"}))
    lines = c.callers.text().split("<br>")
    assert len(lines) == 3 and "…" in lines[-1]                 # the title, two items, each one line
    one_line = c.callers.fontMetrics().lineSpacing()
    assert c.callers.heightForWidth(c.callers.width()) <= 3 * one_line + 6   # not wrapped, so not clipped
    window.on_snapshot(dict(snapshot(), caller={"arousal": None, "heard_s": 6.5}))
    assert "learning their voice" in c.temperature.text()     # heard, the reference not made yet
    window.on_snapshot(dict(snapshot(), caller={"arousal": 0.85, "temperature": "calm", "heard_s": 30.0}))
    assert "calm" in c.temperature.text()                     # one loud moment: the tracker's word stands
    window.on_snapshot(dict(snapshot(), caller={"arousal": 0.85, "temperature": "heated", "heard_s": 34.0}))
    assert "heated" in c.temperature.text()
    window.on_call({"state": "started", "index": 2, "t": 100.0, "reason": "line"})
    assert not any(c.done.values()) and "nothing yet" in c.callers.text()    # the next call starts fresh
    assert "not heard yet" in c.temperature.text()


def test_the_questions_chip_ticks_as_the_call_record_counts(window, excerpt):
    """With ``[language] min_questions = 2`` the record ticks "questions" at the second
    question; the chip ticked at the first, and the card then said otherwise."""
    config = Config()
    config.language.min_questions = 2
    stand_in = object()
    window.attach(LiveSession(ReplaySource(excerpt), config, transcribe=True, model=stand_in,
                              second_model=stand_in))
    c = window.checklist
    window.on_event(Event("cue", 9.0, "agent", 'Open question: "What happens?"', {"cue": "question_open"}))
    assert not c.done["questions"] and "○ Questions" in c.items["questions"].text()
    window.on_event(Event("cue", 15.0, "agent", 'Closed question: "Is it on?"', {"cue": "question_closed"}))
    assert c.done["questions"] and "✓ Questions" in c.items["questions"].text()
    window.on_call({"state": "started", "index": 2, "t": 100.0, "reason": "line"})
    window.on_event(Event("cue", 109.0, "agent", 'Open question: "What happens?"', {"cue": "question_open"}))
    assert not c.done["questions"]                     # the count starts again with the call


def test_a_call_going_on_after_a_pause_keeps_what_its_checklist_and_lists_had(window, excerpt):
    """Coaching paused mid-call and resumed as the caller talks on: the rest is the same call
    (``"resumed"``), so the greeting said before the pause stays ticked and the caller's
    list stays; the status line says whose call goes on."""
    window.attach(session_for(excerpt, transcribe=True))
    c = window.checklist
    window.on_call({"state": "started", "index": 1, "t": 0.0, "reason": "line"})
    window.on_event(Event("cue", 1.0, "agent", 'Greeting: "thank you for calling"', {"cue": "greeting"}))
    window.on_event(Event("cue", 12.0, "customer", 'Caller\'s problem: "My router blinks."', {"cue": "problem"}))
    window.on_call({"state": "ending", "index": 1, "t": 0.0, "end_t": 40.0, "reason": "line",
                    "ended_by": "hand"})
    window.on_call({"state": "started", "index": 2, "t": 52.0, "reason": "resumed"})
    assert c.done["greeting"] and "My router blinks." in c.callers.text()
    assert window.status_text == "Call 2 (call 1 going on) — listening to you and the caller"


def test_the_checklist_takes_two_rows_where_one_would_cut_it(qtbot, window, excerpt):
    """At the narrowest panel (280 px) one row cut "✓ Greeting" to "✓ Greetin"."""
    window.attach(session_for(excerpt, transcribe=True))
    c = window.checklist

    def whole() -> bool:
        return all(chip.width() >= chip.sizeHint().width() for chip in c.items.values())

    window.resize(window.options.width_px, window.height())
    qtbot.waitUntil(lambda: c.columns == len(c.items) and whole(), timeout=2000)
    window.resize(window.minimumWidth(), window.height())
    qtbot.waitUntil(lambda: c.columns == 2 and whole(), timeout=2000)
    window.on_event(Event("cue", 12.0, "customer", 'Caller\'s problem: "My router blinks orange every '
                          'evening and the internet drops when my son does his homework."',
                          {"cue": "problem", "item": 0}))
    assert "…" in c.callers.text() and "when my son does his homework." in c.callers.toolTip()   # whole on hover


def overlay_at(qtbot, font_pt: float) -> OverlayWindow:
    """A shown overlay at a text size, as ``voicecoach live`` makes it (the app's font too)."""
    from PyQt6.QtGui import QFont

    from voicecoach.config import OverlaySettings

    font = QFont(QApplication.font())
    font.setPointSizeF(font_pt)
    QApplication.setFont(font)
    w = OverlayWindow(QUICK, settings=OverlaySettings(font_pt=font_pt, opacity=1.0))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def app_font():
    """The app's font is put back after a test that sets it (as ``voicecoach live`` does)."""
    from PyQt6.QtGui import QFont

    saved = QFont(QApplication.font())
    yield
    QApplication.setFont(saved)


@pytest.mark.parametrize("font_pt", [10.0, 16.0])
@pytest.mark.parametrize("callers, promised, shown", [(5, 0, (5, 0)), (3, 3, (3, 3)), (0, 4, (0, 4)),
                                                       (8, 7, (3, 3))])
def test_the_lists_share_their_room_and_no_line_is_cut(qtbot, app_font, font_pt, callers, promised, shown):
    """With nothing promised, the caller's list showed 2 of its items and cut the third in
    half; with three of each, the last line of both was cut: the panel kept the height it
    had with both lists empty. Now the lists share six item lines (an empty list gives
    its share to the other), their room is kept from the start, and every line shows."""
    from PyQt6.QtCore import QPoint

    w = overlay_at(qtbot, font_pt)
    c = w.checklist
    for i in range(callers):
        w.on_event(Event("cue", 10.0 + i, "customer", f'Caller\'s problem: "Problem number {i}."', {"cue": "problem"}))
    for i in range(promised):
        w.on_event(Event("cue", 40.0 + i, "agent", f'Commitment: "Promise number {i}."', {"cue": "commitment"}))
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    for label, count, total in ((c.callers, shown[0], callers), (c.follow_ups, shown[1], promised)):
        text = label.text()
        assert text.count("number") == count, text
        assert (f"(+{total - count} earlier)" in text) == (total > count), text
        assert label.height() >= label.heightForWidth(label.width()), text             # no line cut
        bottom = label.mapTo(w, QPoint(0, label.height())).y()
        assert bottom <= w.care.mapTo(w, QPoint(0, 0)).y(), text                        # nor covered
    assert w.height() >= w.layout().totalMinimumSize().height()


def test_a_panel_made_narrower_grows_taller_for_its_wrapped_text(qtbot, window):
    """Qt sizes a window for its text unwrapped: the care note wrapped onto two lines took
    its line from the lists above it. Made as narrow as it goes, the panel grows instead."""
    for i in range(3):
        window.on_event(Event("cue", 10.0 + i, "customer", f'Caller\'s problem: "Problem {i}."', {"cue": "problem"}))
        window.on_event(Event("cue", 20.0 + i, "agent", f'Commitment: "Promise {i}."', {"cue": "commitment"}))
    window.resize(window.minimumWidth(), window.minimumHeight())
    care, c = window.care, window.checklist
    qtbot.waitUntil(lambda: care.height() >= care.heightForWidth(care.width()) > care.fontMetrics().height())
    qtbot.waitUntil(lambda: c.height() >= c.minimumSizeHint().height())       # not squeezed for the note
    for label in (c.callers, c.follow_ups):
        assert label.height() >= label.heightForWidth(label.width())


@pytest.mark.parametrize("font_pt", [10.0, 16.0])
def test_every_text_of_the_overlay_and_its_card_follows_the_text_size(qtbot, app_font, excerpt, font_pt):
    """At 16 pt the card's ✕ was a 4 px sliver (a 24 px button with the buttons' padding),
    the nudges, the "You"/"Caller" tags and the interruption counts stayed at 10 pt sizes."""
    import re

    from PyQt6.QtWidgets import QAbstractButton, QLabel

    w = overlay_at(qtbot, font_pt)
    w.attach(session_for(excerpt))
    w.on_snapshot(snapshot(you=2, caller=1))
    for tag in w.caption_tags.values():
        assert tag.font().pointSizeF() == font_pt - 1
    counts = re.findall(r"font-size:([\d.]+)pt", w.interruptions_value.text())
    assert counts and all(float(pt) == font_pt + 1 for pt in counts)
    assert w.slot.height() >= 44 * font_pt / 10 - 1                     # room for the larger nudge
    w.on_call({"state": "ended", "index": 1, "t": 0.0, "end_t": 95.0, "record": CARD_RECORD,
               "record_path": "/tmp/x.json"})
    close = next(b for b in w.card.findChildren(QAbstractButton) if b.accessibleName() == "Dismiss the summary")
    assert close.isVisible() and close.size().expandedTo(close.sizeHint()) == close.size()       # not cut
    assert close.text() == "Dismiss"            # a word: a second ✕ sat a few pixels from the panel's own
    texts = [x for x in w.findChildren(QLabel) + w.findChildren(QAbstractButton) if x.text()]
    too_small = [(x.text()[:20], x.font().pointSizeF()) for x in texts if x.font().pointSizeF() < font_pt - 2]
    assert not too_small
    assert w.slot.text_font("nudge").pointSizeF() == font_pt + 0.5     # the slot's painted texts
    assert w.slot.text_font("status").pointSizeF() == font_pt - 1


@pytest.mark.parametrize("font_pt", [10.0, 14.0])
def test_a_long_plainer_words_tip_fits_the_slot(qtbot, app_font, excerpt, font_pt):
    """The demo call's first tip ("flush your DNS cache" → "reset a setting so your computer
    finds websites again") took three lines in a slot of two: cut at the top and the bottom
    (found by a helper in `live --replay` screenshots); 221 of the lexicons' tips are as long."""
    from PyQt6.QtCore import QRectF, Qt
    from PyQt6.QtGui import QFontMetricsF

    w = overlay_at(qtbot, font_pt)
    w.attach(session_for(excerpt))
    for phrase, suggestion in (("flush your DNS cache", "reset a setting so your computer finds websites again"),
                               ("emotionally unstable personality disorder",
                                "condition causing intense emotions and unstable relationships")):
        w.slot._waiting.clear()
        w.slot.message = ""
        w.on_event(Event("cue", 5.5, "agent", "", {"cue": "jargon", "phrase": phrase, "suggestion": suggestion}))
        assert w.slot.kind == "tip" and suggestion in w.slot.message
        font = w.slot.message_font()
        room = QRectF(w.slot.rect()).adjusted(10.5, 3.5, -10.5, -3.5)
        needed = QFontMetricsF(font).boundingRect(QRectF(0, 0, room.width(), 10_000),
                                                  int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                                                  w.slot.message)
        assert needed.height() <= room.height(), (font.pointSizeF(), needed, room)
        assert font.pointSizeF() >= w.slot.MIN_PT
    w.slot._waiting.clear()
    w.slot.message = ""
    w.on_event(Event("nudge", 6.0, "agent", "Let them finish", {"nudge": "let_them_finish"}))
    assert w.slot.message_font().pointSizeF() == font_pt + 0.5          # a short nudge keeps its size


CARD_RECORD = {"duration": 95.0, "talk_share": {"agent": 0.5, "customer": 0.5},
               "talk_time": {"agent": 40.0, "customer": 40.0},
               "interruptions": [{"start": 12.0, "end": 13.0, "by": "agent"}], "backchannels": [],
               "near_misses": [], "dead_air": [], "response_gaps": [], "longest_agent_monologue": 10.0,
               "pace": {"agent_wpm": 150.0}, "warmth": {"mean": 0.5}, "stt_model": "tiny.en",
               "checklist": {"greeting": True, "empathy": True, "questions": True, "closing_question": False},
               "questions": {"open": 1, "closed": 0}, "cues": [],
               "commitments": [{"t": 60.0, "text": "I'll email you the label today."}],
               "caller_problems": [{"t": 8.0, "text": "The parcel never arrived."}], "config": {}}
"""A call record for the after-call card."""


def test_after_call_card_shows_and_is_dismissed(qtbot, window, excerpt):
    record = dict(CARD_RECORD)
    window.attach(session_for(excerpt))
    shared = []
    window.card.add_action("Share with my coach", lambda rec, path: shared.append(path))
    window.on_call({"state": "ended", "index": 3, "t": 0.0, "end_t": 95.0, "record": record,
                    "record_path": "/tmp/x.json"})
    card = window.card
    assert card.isVisible() and card.title.text() == "Call 3 — 1:35"
    assert not window.slot.isVisible()                   # no empty nudge band above the card
    text = card.body.text()
    assert "0:12" in text and "cut in" in text and "anything else" in text       # things to work on, with times
    assert "email you the label" in text and "parcel never arrived" in text
    long_list = dict(record, caller_problems=[
        {"t": 8.0 * i, "text": "The parcel never arrived and nobody answered my three emails about it."}
        for i in range(1, 5)])
    window.on_call({"state": "ended", "index": 3, "t": 0.0, "end_t": 95.0, "record": long_list,
                    "record_path": "/tmp/x.json"})
    body = card.body                                                       # every wrapped line shows
    qtbot.waitUntil(lambda: body.height() >= body.heightForWidth(body.width()) > 0, timeout=2000)
    with qtbot.waitSignal(card.reviewRequested) as got:
        card.review_button.click()
    assert got.args == ["/tmp/x.json"]
    share = [b for b in card.findChildren(type(card.review_button)) if b.text() == "Share with my coach"][0]
    share.click()
    assert shared == ["/tmp/x.json"]
    qtbot.mouseClick(card.body, Qt.MouseButton.LeftButton)                       # a click dismisses it
    assert not card.isVisible()
    window.on_call({"state": "ended", "index": 4, "t": 0.0, "end_t": 95.0, "record": record, "record_path": None})
    window.on_call({"state": "started", "index": 5, "t": 200.0, "reason": "speech"})   # ...or the next call
    assert not card.isVisible() and window.slot.isVisible()

    # call 5 is over and call 6 starts before call 5 is saved: the live call stays as it is
    window.on_call({"state": "ending", "index": 5, "t": 200.0, "end_t": 300.0, "reason": "speech",
                    "ended_by": "silence"})
    assert window.state == window.IDLE and "Waiting for the next call" in window.status_text
    assert window.clock.text() == clock(100.0)        # the call's length, as its card and record say
    window.on_call({"state": "started", "index": 6, "t": 305.0, "reason": "speech"})
    window.on_call({"state": "ended", "index": 5, "t": 200.0, "end_t": 300.0, "record": record,
                    "record_path": "/tmp/5.json"})
    assert window.state == window.LIVE and not card.isVisible() and window.slot.isVisible()
    assert "Call 5 saved" in window.status_text
    # a record a full disk refused, saved once there is room: said quietly, the live call left alone
    window.on_call({"state": "saved", "index": 4, "t": 0.0, "end_t": 95.0, "record": record,
                    "record_path": "/tmp/4.json"})
    assert window.status_text == "Call 4's record is saved after all — its review is in the menu"
    assert window.state == window.LIVE and not card.isVisible()


def test_the_after_call_card_fits_on_the_screen_at_a_large_text_size(qtbot, app_font, excerpt):
    """At 18 pt on a 1280x720 screen the card made the panel 853 px tall: its foot, with
    the meters and "Open the review", was off the screen. Fewer items of each list show."""
    w = overlay_at(qtbot, 18.0)
    w.attach(session_for(excerpt))
    record = dict(CARD_RECORD,
                  caller_problems=[{"t": 8.0 * i, "text": "The parcel never arrived and nobody answered "
                                    "my three emails about it."} for i in range(1, 7)],
                  commitments=[{"t": 60.0 + i, "text": "I'll email you the label and the tracking number "
                                "today."} for i in range(6)])
    w.on_call({"state": "ended", "index": 2, "t": 0.0, "end_t": 95.0, "record": record, "record_path": "/tmp/x.json"})
    qtbot.wait(50)
    area = w._screen_area()
    assert area.contains(w.frameGeometry())                      # all of it on the screen
    assert w.card.items < w.card.ITEMS and "more in the review" in w.card.body.text()
    assert w.card.review_button.isVisible()
    w.on_call({"state": "ended", "index": 3, "t": 0.0, "end_t": 95.0, "record": CARD_RECORD, "record_path": None})
    assert w.card.items == w.card.ITEMS                          # a short card: the usual lists again


def test_a_panel_dragged_past_an_edge_is_snapped_back_and_remembered(qtbot, tmp_path):
    w = OverlayWindow(QUICK, placement_path=tmp_path / "overlay.json")
    qtbot.addWidget(w)
    w.show()
    area = QApplication.primaryScreen().availableGeometry()
    w.move(area.right() - 40, area.bottom() - 30)           # mostly off the bottom-right corner
    assert w.keep_on_screen()
    assert w.x() + w.width() - 1 == area.right() and w.y() + w.height() - 1 == area.bottom()
    w.move(area.left() - 200, area.top() + 50)
    w._settle()
    assert w.x() == area.left()
    saved = Placement.load(tmp_path / "overlay.json")
    assert (saved.x, saved.y) == (w.x(), w.y())
    w.close_for_good()


def test_every_control_has_an_accessible_name(window):
    from PyQt6.QtWidgets import QAbstractButton, QLabel

    controls = [c for c in window.findChildren(QAbstractButton)] + [
        c for c in window.findChildren(QLabel) if c.objectName() in ("value", "statusline", "title", "clock")]
    controls += [window.warmth, window.pace, window.share, window.slot]
    missing = [repr(c) for c in controls if not c.accessibleName()]
    assert not missing, missing


def test_font_size_and_opacity_come_from_the_config(qtbot):
    from voicecoach.config import OverlaySettings

    w = OverlayWindow(QUICK, settings=OverlaySettings(font_pt=14.0, opacity=0.7))
    qtbot.addWidget(w)
    assert "font-size: 14.0pt" in w.styleSheet() and abs(w.windowOpacity() - 0.7) < 0.01


@pytest.mark.parametrize("font_pt", [10.0, 12.0, 16.0])
def test_a_larger_text_size_widens_the_panel_so_no_label_is_cut(qtbot, tmp_path, font_pt):
    """At 12 pt the 340 px panel cut the checklist to "Greetir", at 16 pt "Interruptio":
    the panel grows with the text, and every label shows its whole text."""
    from PyQt6.QtWidgets import QLabel

    from voicecoach.config import OverlaySettings

    for placed in (None, 340):            # a new panel, and one whose width was saved at 10 pt
        where = None
        if placed:
            where = tmp_path / f"placement-{font_pt:g}.json"
            Placement(40, 40, placed, 300, False).save(where)
        w = OverlayWindow(QUICK, placement_path=where, settings=OverlaySettings(font_pt=font_pt, opacity=1.0))
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        cut = [lab.text() for lab in w.findChildren(QLabel)
               if lab.isVisible() and lab.text() and not lab.wordWrap()
               and lab.sizeHint().width() > lab.width()]
        assert not cut, (placed, cut)


def test_hotkey_names_as_pynput_writes_them():
    from voicecoach.config import OverlaySettings
    from voicecoach.ui.hotkeys import to_pynput

    assert to_pynput("Ctrl+Alt+C") == "<ctrl>+<alt>+c"
    assert to_pynput("Ctrl+Shift+F9") == "<ctrl>+<shift>+<f9>"
    assert to_pynput("Ctrl+Alt+PgUp") == "<ctrl>+<alt>+<page_up>"        # Qt's name -> pynput's
    assert to_pynput("Alt+Escape") == "<alt>+<esc>" and to_pynput("Ctrl+Del") == "<ctrl>+<delete>"
    assert to_pynput("") is None and to_pynput("Banana+Q") is None and to_pynput("Ctrl+F24") is None
    # what the config accepts is exactly what can be handed to pynput
    assert OverlaySettings(hotkey_call="Ctrl+Alt+PgUp").problem() == ""
    assert OverlaySettings(hotkey_call="Ctrl+F24").problem() != ""


def test_a_shift_behind_the_overlay_cards_each_call_and_opens_the_last_review(qtbot, tmp_path, monkeypatch):
    """Two calls of the demo, one after another, through a real Shift behind the overlay
    (as `voicecoach live` runs it): each call found and saved, the card of the last call
    shown, the menu's review item pointing at its record, and, with no display for
    system-wide hotkeys, one status line saying the hotkeys are off (the overlay never
    takes the keyboard focus, so in-app shortcuts cannot stand in)."""
    from voicecoach.shift import Shift
    from voicecoach.sources.files import PlaylistSource
    from voicecoach.store.history import History
    from voicecoach.ui.shiftrun import ShiftController

    monkeypatch.delenv("DISPLAY", raising=False)          # pynput: no X server to listen on
    demo = load_call(demo_call_path())
    calls = [CallAudio(demo.agent[a * SAMPLE_RATE:b * SAMPLE_RATE], demo.customer[a * SAMPLE_RATE:b * SAMPLE_RATE],
                       f"part {a}") for a, b in ((0, 14), (30, 44))]
    config = Config()
    db = tmp_path / "history.sqlite"

    def make_shift():
        return Shift(PlaylistSource([(2.0, calls[0]), (20.0, calls[1])]), config, transcribe=False,
                     records_folder=tmp_path / "records", history_path=db)

    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    shown = []
    plain_on_status = w.on_status
    monkeypatch.setattr(w, "on_status", lambda text: (shown.append(text), plain_on_status(text)))
    ctl = ShiftController(make_shift, w, settings=config.overlay)
    w.show()
    with qtbot.waitSignal(ctl.done, timeout=60_000):
        ctl.start()
    assert ctl.error is None
    assert [c["index"] for c in ctl.calls] == [1, 2]
    records = sorted((tmp_path / "records").glob("call-*.json"))
    assert len(records) == 2 and ctl.last_record_path == ctl.calls[-1]["record_path"]
    assert ctl.last_record_path.endswith("-002.json")
    with History(db) as h:
        assert len(h.calls(None)) == 2
    assert w.card.title.text().startswith("Call 2")
    ctl._update_menu()
    assert ctl.act_review.isEnabled()
    # call 1's card went when call 2 started: the menu still reviews it
    (earlier,) = ctl.earlier.actions()
    assert ctl.earlier.menuAction().isVisible()
    assert re.fullmatch(r"Call 1 — \d\d:\d\d, 0:1\d", earlier.text()), earlier.text()
    opened = []
    monkeypatch.setattr(ctl, "open_review", opened.append)     # not a review process in a test
    earlier.trigger()
    assert opened == [ctl.calls[0]["record_path"]]
    # a call saved late (a full disk refused it at first) takes its place by number
    late = {"state": "saved", "index": 0, "t": 0.0, "end_t": 9.0, "record": {"duration": 9.0},
            "record_path": "/tmp/0.json"}
    first = earlier.text()
    ctl._on_call(late)
    ctl._update_menu()
    assert [a.text() for a in ctl.earlier.actions()] == [first, "Call 0, 0:09"]
    assert ctl.last_record_path == ctl.calls[-1]["record_path"]
    assert ctl.hotkeys is not None and not ctl.hotkeys.global_
    assert [s for s in shown if s.startswith("Hotkeys are off: the overlay never takes the keyboard focus (")
            ] == [ctl.hotkeys.note]
    assert not any("Traceback" in s for s in shown)


def test_the_card_of_a_call_saved_after_a_dropped_false_start_is_shown(window, excerpt):
    """Call 1 ends; a false start (call 2) begins while call 1 is still being saved and is
    dropped: call 1's card shows once it is saved (it was left out: an earlier call's end
    came after a later call's start)."""
    window.attach(session_for(excerpt))
    window.on_call({"state": "started", "index": 1, "t": 0.0, "reason": "speech"})
    window.on_call({"state": "ending", "index": 1, "t": 0.0, "end_t": 95.0, "reason": "speech",
                    "ended_by": "silence"})
    window.on_call({"state": "started", "index": 2, "t": 97.0, "reason": "speech"})
    window.on_call({"state": "ending", "index": 2, "t": 97.0, "end_t": 99.0, "reason": "speech",
                    "ended_by": "silence"})
    window.on_call({"state": "ended", "index": 1, "t": 0.0, "end_t": 95.0, "record": dict(CARD_RECORD),
                    "record_path": "/tmp/1.json"})
    window.on_call({"state": "dropped", "index": 2, "t": 97.0, "end_t": 99.0, "reason": "speech",
                    "ended_by": "silence"})
    assert window.state == window.IDLE
    assert window.card.isVisible(), "no after-call card for call 1, though no call is going on"


def test_expanding_the_compact_view_while_the_card_shows_keeps_the_card_alone(qtbot, window, excerpt):
    """The card takes the captions' place: unfolding the compact view while it shows keeps
    the last call's captions, checklist and care note away (they showed under the card)."""
    window.attach(session_for(excerpt))
    window.set_compact(True)
    window.on_call({"state": "ended", "index": 1, "t": 0.0, "end_t": 95.0, "record": dict(CARD_RECORD),
                    "record_path": "/tmp/1.json"})
    assert window.card.isVisible() and not window.details.isVisible()
    window.set_compact(False)                     # the ▾ button
    qtbot.wait(50)
    assert window.card.isVisible()
    assert not window.details.isVisible(), "captions/checklist shown under the after-call card"


def test_hide_overlay_is_not_offered_when_nothing_can_show_it_again(qtbot, monkeypatch, excerpt):
    """No tray icon and no system-wide hotkeys (Wayland, no pynput, an X server without
    RECORD): the ✕ asks before quitting, and the ⋯ menu offers no "Hide overlay" (hidden,
    nothing would bring it back: the in-app Show shortcut needs the focus the overlay
    never takes)."""
    from PyQt6.QtWidgets import QSystemTrayIcon

    from voicecoach.config import Config
    from voicecoach.ui.shiftrun import ShiftController

    monkeypatch.delenv("DISPLAY", raising=False)          # pynput: no system-wide hotkeys
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(shift_of(excerpt), w, settings=Config().overlay)
    w.show()
    assert ctl.tray is None and not ctl.hotkeys.global_ and not ctl.can_hide()
    ctl._update_menu()                                     # as the ⋯ menu opens
    offered = ctl.act_visible.isVisible() and ctl.act_visible.isEnabled()
    if offered:
        ctl.act_visible.trigger()
    assert w.isVisible(), "'Hide overlay' hid the overlay with no tray icon and no global hotkey to show it"
    w.close_for_good()


# --------------------------------------------------------------------------- a new agent's shift

def shift_after(call: CallAudio, gap_s: float, config: Config | None = None, streams: bool = False,
                realtime: bool = True):
    """A shift that plays ``call`` after ``gap_s`` of a silent line (nothing saved)."""
    from voicecoach.shift import Shift
    from voicecoach.sources.files import PlaylistSource

    return lambda: Shift(PlaylistSource([(gap_s, call)], realtime=realtime, streams=streams),
                         config or Config(), transcribe=False, save=False)


def waiting_for(call: CallAudio, qtbot):
    """The overlay, shown, of a shift started and waiting for ``call`` (4 s of a silent
    line before it), and its controller."""
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(shift_after(call, 4.0), w)
    w.show()
    ctl.start()
    qtbot.waitUntil(lambda: ctl._shift() is not None and w.state == w.IDLE, timeout=10_000)
    return w, ctl


def test_marking_a_moment_between_calls_does_not_say_it_is_marked(qtbot, excerpt):
    """The mark hotkey (Ctrl+Alt+M) while waiting for a call: the shift marks nothing (no
    call to mark it in), yet the status line said "Moment marked"."""
    w, ctl = waiting_for(excerpt, qtbot)
    ctl.mark()
    assert w.status_text != "Moment marked", "said marked, with no call to mark"
    assert "no call" in w.status_text.lower()
    qtbot.waitUntil(lambda: w.state == w.LIVE, timeout=10_000)
    ctl.mark()                                             # in a call it is marked, and said so
    assert w.status_text == "Moment marked"
    ctl.quit()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)


def test_the_status_dot_says_no_call_while_waiting_for_the_first_one(qtbot, excerpt):
    """Before the shift's first call the dot was green, as during a call (and the clock
    read 0:00), while between later calls it is grey: the agent could not tell from the
    dot whether a call was being coached."""
    from voicecoach.ui.meters import _tint

    w, ctl = waiting_for(excerpt, qtbot)
    assert w.status_text == "Waiting for a call"
    waiting = w.dot.styleSheet()
    assert _tint("dead_air").name() in waiting, waiting             # as between calls
    assert _tint("backchannel").name() not in waiting               # not the in-call green
    assert w.clock.text() == ""                                     # no call, no call time
    qtbot.waitUntil(lambda: w.state == w.LIVE, timeout=10_000)
    assert _tint("backchannel").name() in w.dot.styleSheet()
    ctl.quit()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)


def test_the_tray_tip_says_waiting_after_a_stretch_that_was_not_a_call(qtbot, monkeypatch, excerpt):
    """A 2-second stream (a false start) is dropped as not a call: the tray icon's tip
    went on saying "VoiceCoach — call 1" while the overlay said it was waiting."""
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    short = CallAudio(excerpt.agent[:2 * SAMPLE_RATE], excerpt.customer[:2 * SAMPLE_RATE], "blip")
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(shift_after(short, 1.0, streams=True, realtime=False), w)
    w.show()
    seen = []
    ctl.start()
    ctl.runner.bridge.call.connect(lambda item: seen.append((item["state"], ctl.tray.toolTip(), w.status_text)))
    with qtbot.waitSignal(ctl.done, timeout=20_000):
        pass
    dropped = [s for s in seen if s[0] == "dropped"]
    assert dropped, seen
    assert dropped[0][1] == "VoiceCoach — waiting for a call", dropped
    assert "Waiting for" in dropped[0][2]


def test_quitting_mid_call_keeps_saying_the_shift_is_stopping(qtbot, excerpt):
    """Quit while a call goes on: the call is finished and saved first. The status line
    said "Stopping — finishing the call…", then, once the call's end was decided, "Waiting
    for the next call" until the window closed: a shift that was quitting said it waited
    for the next call."""
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(shift_of(excerpt), w)
    w.show()
    told = []
    ctl.start()
    ctl.runner.bridge.call.connect(lambda item: told.append((item["state"], w.status_text)))
    qtbot.waitUntil(lambda: w.state == w.LIVE, timeout=10_000)
    qtbot.wait(500)
    ctl.quit()
    assert w.status_text.startswith("Stopping")
    with qtbot.waitSignal(ctl.done, timeout=20_000):
        pass
    after = [t for t in told if t[0] in ("ending", "ended")]
    assert [s for s, _ in after] == ["ending", "ended"], told
    assert all(text.startswith("Stopping") for _, text in after), after


def saved_replay(call: CallAudio, tmp_path):
    """A shift that replays ``call`` once and saves its record under ``tmp_path``."""
    from voicecoach.shift import Shift

    return lambda: Shift(ReplaySource(call), Config(), transcribe=False, records_folder=tmp_path / "records",
                         history_path=tmp_path / "h.sqlite")


def test_the_overlay_stays_up_on_the_last_card_once_a_replay_is_over(qtbot, excerpt, tmp_path):
    """`voicecoach live --replay demo`, the first command README gives a new user: the
    overlay closed the moment the replayed call was saved, so its after-call card (and the
    review it opens) was never seen. It stays up on the card until the agent closes it."""
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(saved_replay(excerpt, tmp_path), w, stay_open=True)
    w.show()
    done = []
    ctl.done.connect(lambda: done.append(True))
    ctl.start()
    qtbot.waitUntil(lambda: ctl.calls is not None, timeout=20_000)
    qtbot.wait(300)
    assert w.isVisible() and not done, "the overlay closed as soon as the replay was over"
    assert w.card.isVisible() and w.card.review_button.isEnabled()
    assert "replay is over" in w.status_text and w.state == w.IDLE
    ctl._update_menu()
    assert ctl.act_review.isEnabled() and not ctl.act_call.isEnabled() and not ctl.act_pause.isEnabled()
    w.close_button.click()                  # nothing left to end: closes without asking
    assert done and not w.isVisible()
    assert len(ctl.calls) == 1 and ctl.calls[0]["record_path"]


def test_the_review_opened_from_the_overlay_reads_the_config_the_shift_runs_with(qtbot, excerpt, tmp_path):
    """`voicecoach live --config work.toml`: the card's "Open the review" (and the menu's)
    ran `voicecoach review CALL` without it, so the review came up with the default
    settings (its text size, which README says follows the overlay's; no team store)."""
    import subprocess

    cfg = tmp_path / "work.toml"
    cfg.write_text("[overlay]\nfont_pt = 14\n", encoding="utf-8")
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(saved_replay(excerpt, tmp_path), w, config_path=cfg)
    w.show()
    with qtbot.waitSignal(ctl.done, timeout=20_000):
        ctl.start()
    record = ctl.calls[0]["record_path"]
    command = ctl.review_command(record)
    assert command[command.index("--config") + 1] == str(cfg) and command[-1] == record, command
    shot = tmp_path / "review.png"
    res = subprocess.run([*command, "--screenshot", str(shot)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data")))
    assert res.returncode == 0 and shot.is_file(), res.stderr


def test_without_speech_to_text_a_calls_live_view_says_what_is_off(qtbot, excerpt):
    """`voicecoach live --no-transcript`: at each call of the shift the caption line lost
    its "Captions are off" (it read "…", as if words were coming), and the checklist showed
    "○ Greeting ○ Empathy ○ Questions ○ Closing" and "nothing yet" all call long, as if the
    agent had not greeted; only the after-call card said words were not checked."""
    w = OverlayWindow(QUICK)
    qtbot.addWidget(w)
    ctl = ShiftController(shift_after(excerpt, 1.0), w)
    w.show()
    ctl.start()
    qtbot.waitUntil(lambda: w.state == w.LIVE, timeout=10_000)
    qtbot.wait(300)
    c = w.checklist
    assert "off" in w.captions["agent"].text(), w.captions["agent"].text()
    assert not any(chip.isVisible() for chip in c.items.values()), "an empty checklist that cannot fill in"
    assert not c.callers.isVisible() and not c.follow_ups.isVisible()
    assert c.words_off.isVisible() and "speech-to-text is off" in c.words_off.text()
    assert c.temperature.isVisible()                        # the caller's voice is still heard
    ctl.quit()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)
