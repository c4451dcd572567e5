"""Shift mode behind the overlay: one :class:`voicecoach.shift.Shift` for as long as the
agent works, its calls shown one after another, a card after each.

The menu (the overlay's ⋯ button, its right click, and the tray icon where the
desktop has a tray) offers: start or end a call by hand, pause or resume coaching,
open the last call's review (or an earlier call's of the shift), show or hide the
overlay, and quit. Hotkeys (``[overlay]`` in the config) start or end a call, show or
hide the overlay and mark a moment. The review opens in a process of its own, so the overlay keeps coaching.
"""
from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional, Union

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from . import screen_problem
from .bridge import LiveBridge, ShiftRunner
from .hotkeys import Hotkeys
from .meters import app_icon
from .overlay import MODEL_LOADING_TEXT, OverlayWindow, run_until_done
from .placement import placement_file
from .style import FONT_PT, quiet_qt
from .widgets import write_screenshot


REPLAY_OVER = "The replay is over — ✕ closes VoiceCoach"
"""The status line once every recording of ``live --replay`` has played (the overlay stays up)."""

EARLIER_SHOWN = 10
"""Calls of this shift the menu offers to review besides the last (a card is shown for
a call only until the next one starts, so a call that followed at once never had one)."""


def call_label(item: dict) -> str:
    """A saved call as the menu names it: "Call 3 — 10:42, 4:05" (when it began, how long)."""
    record = item.get("record") or {}
    label = f"Call {item['index']}"
    try:
        began = dt.datetime.fromisoformat(record["created"]).astimezone()
        label += f" — {began:%H:%M}"
    except (KeyError, TypeError, ValueError):
        pass
    seconds = round(record.get("duration") or 0)
    return label + f", {seconds // 60}:{seconds % 60:02d}" if seconds else label


class ShiftController(QObject):
    """Runs a shift behind an overlay window (see the module docstring)."""

    done = pyqtSignal()

    def __init__(self, make_shift: Callable, window: OverlayWindow, *, extra=(),
                 stop_after_s: Optional[float] = None, screenshot=None, settings=None,
                 stay_open: bool = False, config_path=None):
        super().__init__(window)
        self.config_path = config_path         # `live --config FILE`: the review reads it too
        self.make_shift, self.window, self.extra = make_shift, window, list(extra)
        # a replay that plays out leaves the overlay up on its last card until the agent
        # closes it (closed at once, the card of the replayed call was never seen)
        self.stay_open = stay_open and screenshot is None and stop_after_s is None
        self._quitting = False
        self.stop_after_s, self.screenshot = stop_after_s, screenshot
        self._shot = False                 # the screenshot of the call is taken
        self.calls: Optional[list] = None
        self.exit_code = 0
        self.last_record_path: Optional[str] = None
        self.error: Optional[BaseException] = None
        self.paused = False
        self.runner: Optional[ShiftRunner] = None
        self._reviews: list[subprocess.Popen] = []      # review windows opened
        w = window
        w.quitRequested.connect(self.quit)
        w.card.reviewRequested.connect(self.open_review)
        menu = w.menu
        for action in menu.actions():      # not clear(): that deletes the window's own actions
            menu.removeAction(action)
        self.act_call = menu.addAction("Start a call now")
        self.act_call.triggered.connect(self.by_hand)
        self.act_pause = menu.addAction("Pause coaching")
        self.act_pause.triggered.connect(self.toggle_pause)
        self.act_review = menu.addAction("Open the last call's review")
        self.act_review.triggered.connect(lambda: self.last_record_path and self.open_review(self.last_record_path))
        self.earlier = menu.addMenu("Review an earlier call")     # filled as the menu opens
        self.saved: list[tuple[int, str, str]] = []   # (index, label, record path) of the shift's saved calls
        menu.addSeparator()
        menu.addAction(w.act_compact)
        self.act_visible = menu.addAction("Hide overlay")
        self.act_visible.triggered.connect(lambda: w.setVisible(not w.isVisible()))
        menu.addSeparator()
        menu.addAction(w.act_quit)
        menu.aboutToShow.connect(self._update_menu)
        self.tray: Optional[QSystemTrayIcon] = None
        if screenshot is None and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("VoiceCoach — waiting for a call")
            self.tray.setContextMenu(menu)
            self.tray.activated.connect(lambda r: r == QSystemTrayIcon.ActivationReason.Trigger
                                        and w.setVisible(not w.isVisible()))
            self.tray.show()
        self.hotkeys = None
        if settings is not None and screenshot is None:
            self.hotkeys = Hotkeys({"call": settings.hotkey_call, "show": settings.hotkey_show,
                                    "mark": settings.hotkey_mark}, w)
            self.hotkeys.pressed.connect(self._hotkey)
        # The panel's ✕ sits a few pixels from the after-call card's dismiss button: it
        # never ends the shift at one click. It hides the panel where the agent can bring
        # it back (a tray icon, a global show hotkey); elsewhere it asks first.
        self._told_hidden = False
        w.close_button.clicked.disconnect()
        w.close_button.clicked.connect(self.close_clicked)
        if self.can_hide():
            w.close_button.setToolTip("Hide the overlay: VoiceCoach keeps coaching your calls\n"
                                      "(show it from the tray icon; quit from the ⋯ menu)")
            w.close_button.setAccessibleName("Hide the overlay")
        else:
            w.close_button.setToolTip("Quit VoiceCoach (asks first: it ends the shift)")
            w.close_button.setAccessibleName("Quit VoiceCoach")

    # ------------------------------------------------------------------ actions
    def start(self) -> None:
        bridge = LiveBridge(self)
        w = self.window
        bridge.event.connect(w.on_event)
        bridge.snapshot.connect(w.on_snapshot)
        bridge.status.connect(w.on_status)
        bridge.call.connect(self._on_call)
        bridge.shift.connect(self._on_shift)
        bridge.started.connect(self._started)
        bridge.finished.connect(self._finished)
        bridge.failed.connect(self._failed)
        w.set_loading(MODEL_LOADING_TEXT)
        extra = self.extra

        def make():
            shift = self.make_shift()
            for fn in extra:
                shift.subscribe(fn)
            return shift
        self.runner = ShiftRunner(make, bridge, self.stop_after_s)
        self.runner.start()

    def _shift(self):
        return self.runner.session if self.runner is not None else None

    def by_hand(self) -> None:
        if self._shift() is not None:
            self._shift().by_hand()

    def toggle_pause(self) -> None:
        shift = self._shift()
        if shift is not None:
            shift.resume() if self.paused else shift.pause()

    def mark(self) -> None:
        if self._shift() is None:
            return
        if self.window.state != self.window.LIVE:        # the shift marks only a call going on
            self.window.on_status("No call going on: nothing to mark", warn=False)
            return
        self._shift().mark()
        self.window.on_status("Moment marked", warn=False)

    def review_command(self, path: str) -> list[str]:
        """How :meth:`open_review` runs the review: with the config the shift runs with
        (its text size, its team store), not the default one."""
        config = ["--config", str(self.config_path)] if self.config_path else []
        return [sys.executable, "-m", "voicecoach", "review", *config, str(path)]

    def open_review(self, path: str) -> None:
        """The review of a saved call, in a process of its own."""
        self._reviews = [p for p in self._reviews if p.poll() is None]    # reap the closed ones
        self._reviews.append(subprocess.Popen(self.review_command(path), stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, env=dict(os.environ)))

    def can_hide(self) -> bool:
        """The overlay can be hidden: a tray icon or a global show hotkey brings it back."""
        return self.tray is not None or (self.hotkeys is not None and self.hotkeys.global_
                                         and "show" in self.hotkeys.keys)

    def close_clicked(self) -> None:
        """The panel's ✕: hide it where it can come back, else ask before ending the shift."""
        if self.can_hide() and not self.over:
            self.window.hide()
            if self.tray is not None and not self._told_hidden:
                self._told_hidden = True
                self.tray.showMessage("VoiceCoach keeps coaching",
                                      "Click the tray icon to show the overlay again; quit from its menu.",
                                      QSystemTrayIcon.MessageIcon.Information, 6000)
        elif self.over or self.confirm_quit():      # a shift that is over: nothing to ask
            self.quit()

    def confirm_quit(self) -> bool:
        """Ask whether to end the shift (a call going on is saved first)."""
        in_call = self.window.state == self.window.LIVE
        box = QMessageBox(QMessageBox.Icon.Question, "Quit VoiceCoach?",
                          "Quit VoiceCoach? It stops listening for calls until you start it again."
                          + ("\n\nThe call going on now is saved first." if in_call else ""),
                          parent=self.window)
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep coaching", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is quit_button

    @property
    def over(self) -> bool:
        """The shift has ended by itself (a replay played out) and the overlay stays up."""
        return self.runner is None and self.calls is not None

    def quit(self) -> None:
        self._quitting = True
        if self.runner is None:
            self._close()
            return
        self.window.set_stopping()
        self.runner.stop()

    def _hotkey(self, name: str) -> None:
        if name == "call":
            self.by_hand()
        elif name == "show":
            self.window.setVisible(not self.window.isVisible())
        elif name == "mark":
            self.mark()

    # ------------------------------------------------------------------ from the shift
    def _started(self, shift) -> None:
        self.window.attach(shift)
        self.window.state = self.window.IDLE
        self.window._set_dot("dead_air")                 # as between calls: none is coached yet
        self.window.clock.setText("")
        self.window._usual_status = "Waiting for a call"
        self.window.set_status("Waiting for a call")
        if self.hotkeys is not None and self.hotkeys.note:
            self.window.on_status(self.hotkeys.note)     # once, quietly; then back to waiting
            print(f"voicecoach: note: {self.hotkeys.note}", file=sys.stderr, flush=True)   # whole, to copy
        self._tip("waiting for a call")

    def _on_call(self, item: dict) -> None:
        if (self.screenshot is not None and item.get("state") == "ending"
                and item.get("ended_by") == "shift end"):
            self._shoot(self.screenshot)               # the call as it was when the shift was stopped
        self.window.on_call(item)
        if item.get("state") == "started":
            self._tip(f"call {item['index']}")
        if item.get("state") in ("ended", "saved") and item.get("record_path"):
            self.saved = sorted([*self.saved, (item["index"], call_label(item), item["record_path"])])
            self.last_record_path = self.saved[-1][2]
        if item.get("state") in ("ending", "ended", "dropped"):
            if self.window.state != self.window.LIVE:     # not when the next call is already on
                self._tip("paused" if self.paused else "waiting for a call")

    def _on_shift(self, item: dict) -> None:
        if "hold" in item:                         # the open call went on hold, or is back
            self.window.set_hold(item["hold"])
            return
        if "away" in item:                         # an input went away, or is back
            self.window.set_away(item["away"])
            self._tip(item["away"] or "waiting for a call")
            return
        self.paused = bool(item.get("paused"))
        self.window.set_paused(self.paused)
        self._tip("paused" if self.paused else "waiting for a call")

    def _update_menu(self) -> None:
        in_call = self.window.state == self.window.LIVE
        self.act_call.setText("End this call now" if in_call else
                              "Resume coaching and start a call now" if self.paused else "Start a call now")
        self.act_call.setEnabled(self._shift() is not None)
        self.act_pause.setText("Resume coaching" if self.paused else "Pause coaching")
        self.act_pause.setEnabled(self._shift() is not None)
        self.act_review.setEnabled(self.last_record_path is not None)
        self.earlier.clear()
        for _, label, path in reversed(self.saved[-EARLIER_SHOWN - 1:-1]):   # newest first, the last left out
            self.earlier.addAction(label).triggered.connect(lambda _=False, p=path: self.open_review(p))
        self.earlier.menuAction().setVisible(len(self.saved) > 1)
        self.act_visible.setText("Hide overlay" if self.window.isVisible() else "Show overlay")
        self.act_visible.setVisible(self.can_hide() or not self.window.isVisible())   # only where it can come back

    def _finished(self, calls) -> None:
        self.runner = None
        self.calls = calls if calls is not None else []
        if self.screenshot is not None:
            QApplication.processEvents()
            if not self._shot:
                self._shoot(self.screenshot)
            if self.window.card.isVisible() and self.exit_code == 0:    # one error line, not two
                path = Path(self.screenshot)
                self._shoot(path.with_name(f"{path.stem}-card{path.suffix}"))
        elif self.stay_open and not self._quitting:
            self.window.set_over(REPLAY_OVER)
            self.window.close_button.setToolTip("Close VoiceCoach (the replay is over)")
            self.window.close_button.setAccessibleName("Quit VoiceCoach")
            self._tip("the replay is over")
            return
        self._close()

    def _shoot(self, path) -> None:
        self._shot = True
        if not write_screenshot(self.window, path):
            self.exit_code = 2

    def _failed(self, exc: BaseException) -> None:
        self.runner = None
        self.error = exc
        self._close()

    def _close(self) -> None:
        if self.hotkeys is not None:
            self.hotkeys.stop()
        if self.tray is not None:
            self.tray.hide()
        self.window.close_for_good()
        self.done.emit()

    def _tip(self, state: str) -> None:
        if self.tray is not None:
            self.tray.setToolTip(f"VoiceCoach — {state}")


def add_share_action(window: OverlayWindow, config) -> None:
    """"Share with my coach" on the after-call card, when a team store is set
    (``[team] database``); the agent is asked whether the recording goes too."""
    from voicecoach.store.calls import recording_files

    from .share import share_with_coach, team_configured

    if not team_configured(config):
        return

    def share(record: dict, record_path: Optional[str]) -> None:
        audio = (recording_files(record, Path(record_path)) or None) if record_path else None
        share_with_coach(window, record, audio, config,
                         done=lambda ok, message: window.set_status(message, warn=not ok))

    window.card.add_action("Share with my coach", share,
                           "Share this call with my coach (the team store)")


def run_shift_overlay(make_shift: Callable, extra=(), *, screenshot: Union[str, Path, None] = None,
                      stop_after_s: Optional[float] = None, config=None,
                      placement_path: Union[str, Path, None] = None,
                      stay_open: bool = False, config_path=None) -> tuple[int, Optional[list]]:
    """Run a shift behind the overlay until the agent quits (or ``stop_after_s``).

    ``stay_open``: a shift that ends by itself (a replay played out) leaves the overlay up,
    on the last call's card, until the agent closes it. ``config_path``: the config file
    given on the command line, which the reviews opened from the overlay read too.

    Returns ``(exit code, the shift's calls)``: 2 when there is no screen or the
    screenshot cannot be written; the calls are None when nothing ran.
    Whatever building or running the shift raised is raised again here.
    """
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif QApplication.instance() is None and screen_problem():
        print(f"voicecoach: error: cannot show the overlay: {screen_problem()}; "
              "`voicecoach live --console` coaches in the terminal", file=sys.stderr)
        return 2, None
    quiet_qt()
    settings = config.overlay if config is not None else None
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("VoiceCoach")
    app.setQuitOnLastWindowClosed(False)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(settings.font_pt if settings is not None else FONT_PT)
    app.setFont(font)
    if screenshot is None and placement_path is None:
        placement_path = placement_file()
    window = OverlayWindow(placement_path=None if screenshot is not None else placement_path, settings=settings)
    controller = ShiftController(make_shift, window, extra=extra, stop_after_s=stop_after_s,
                                 screenshot=screenshot, settings=settings, stay_open=stay_open,
                                 config_path=config_path)
    add_share_action(window, config)
    run_until_done(controller, window)
    code, calls = controller.exit_code, controller.calls
    # The window, the controller and their signals hold one another in reference cycles,
    # which only Python's cycle collector frees. Left to it, they were freed whenever a
    # later allocation set it off, which can be inside a Qt slot of that very window in a
    # later event loop (a caller that runs Qt again): a segmentation fault. Freed here.
    del controller, window
    gc.collect()
    return code, calls
