"""The overlay's hotkeys: system-wide where the desktop allows it.

The overlay never takes the keyboard focus, so hotkeys that only work in a focused
window do not work on it. Where pynput can listen (X11 with the RECORD extension,
Windows, macOS with the accessibility permission) they work anywhere; elsewhere
(Wayland, no X display, pynput not installed: on Linux it is the optional
``voicecoach[hotkeys]``, since its evdev dependency is compiled) there are Qt
shortcuts instead, which work only while the window given has the focus: on the
overlay, the hotkeys are off. :attr:`Hotkeys.global_` says which it is and
:attr:`Hotkeys.note` says so and why, in one line. pynput is imported only here,
when the overlay sets its hotkeys. It calls back on a thread of its own; the signal
carries the press to the GUI thread.
"""
from __future__ import annotations

import shlex
import sys
import time

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QWidget

from voicecoach.config import to_pynput

PYNPUT = "pynput>=1.7"
"""The ``hotkeys`` extra's one requirement (pyproject.toml)."""

INSTALL_PYNPUT = (f'sudo apt-get install -y gcc python3-dev && {shlex.quote(sys.executable)} -m pip '
                  f'install "{PYNPUT}"')
"""How to get pynput on Linux into the Python VoiceCoach runs in (a venv, as README
installs it: a bare ``pip`` is refused on current distributions)."""


class Hotkeys(QObject):
    """Named hotkeys; ``pressed(name)`` on the GUI thread.

    Parameters
    ----------
    keys : dict
        ``{name: Qt key sequence}``; empty sequences are left out.
    window : QWidget
        Where the fallback shortcuts live; they work only while it has the focus.
    """

    pressed = pyqtSignal(str)

    def __init__(self, keys: dict[str, str], window: QWidget):
        super().__init__(window)
        self.keys = {k: v for k, v in keys.items() if v}
        self.global_ = False
        self.note = ""
        self._listener = None
        self._shortcuts = []
        if not self.keys:
            return
        try:
            self._listener = _listen({to_pynput(seq): (lambda n=name: self.pressed.emit(n))
                                      for name, seq in self.keys.items()})
            self.global_ = True
        except _Unavailable as exc:       # in-app shortcuts instead
            if window.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus:     # the overlay
                self.note = f"Hotkeys are off: the overlay never takes the keyboard focus ({exc})"
            else:
                self.note = f"Hotkeys work only while VoiceCoach's window has the focus ({exc})"
            for name, seq in self.keys.items():   # on the overlay too: a desktop may focus it anyway
                sc = QShortcut(QKeySequence(seq), window)
                sc.setContext(Qt.ShortcutContext.ApplicationShortcut)
                sc.activated.connect(lambda n=name: self.pressed.emit(n))
                self._shortcuts.append(sc)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None


class _Unavailable(Exception):
    """System-wide hotkeys cannot be had here; the message says why, for the agent."""


def _listen(hotkeys: dict, ready_s: float = 2.0):
    """A started pynput ``GlobalHotKeys`` listener, once it is listening.

    Raises _Unavailable (never anything else) when pynput is missing, has no display
    to talk to, or its listener thread fails on start (an X server without RECORD):
    that thread's error is caught there, not printed as a traceback.
    """
    hotkeys = {k: v for k, v in hotkeys.items() if k}
    if not hotkeys:
        raise _Unavailable("no hotkeys set")
    try:
        from pynput import keyboard
    except ModuleNotFoundError:
        raise _Unavailable(f"system-wide hotkeys need pynput: {INSTALL_PYNPUT}") from None
    except Exception as exc:           # pynput raises ImportError with a long text without a display
        if "X connection" in str(exc):
            raise _Unavailable("no X display for system-wide hotkeys") from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise _Unavailable(f"no system-wide hotkeys here: {first[:100]}") from None

    class Listener(keyboard.GlobalHotKeys):
        error = None

        def run(self):
            try:
                super().run()
            except Exception as exc:   # kept for _listen to report, not a thread traceback
                self.error = exc

    try:
        listener = Listener(hotkeys)
    except Exception as exc:           # a key pynput cannot parse
        raise _Unavailable(f"pynput cannot use these hotkeys: {exc}") from None
    listener.daemon = True
    listener.start()
    deadline = time.monotonic() + ready_s
    while not listener.running or not getattr(listener, "_ready", True):
        if listener.error is not None or not listener.is_alive() or time.monotonic() > deadline:
            # not stopped: pynput's stop() waits for a ready that never comes (a daemon thread)
            why = listener.error or "its listener did not start"
            if isinstance(why, AttributeError) and "record" in str(why):
                why = "the X server has no RECORD extension"
            raise _Unavailable(f"no system-wide hotkeys here: {str(why) or why.__class__.__name__}")
        time.sleep(0.01)
    return listener
