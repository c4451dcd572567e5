"""The overlay's hotkeys: system-wide where the desktop allows it, else in the app.

The overlay never takes the keyboard focus, so hotkeys that only work in a focused
window would be of little use. Where pynput can listen (X11, Windows, macOS with the
accessibility permission) they work anywhere; elsewhere (Wayland, no pynput) they
fall back to Qt shortcuts that work while a VoiceCoach window has the focus, and
:attr:`Hotkeys.global_` says which it is. pynput calls back on a thread of its own;
the signal carries the press to the GUI thread.
"""
from __future__ import annotations

from typing import Optional

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QWidget


def to_pynput(sequence: str) -> Optional[str]:
    """A Qt key sequence ("Ctrl+Alt+C") as pynput writes it ("<ctrl>+<alt>+c")."""
    if not sequence:
        return None
    names = {"ctrl": "<ctrl>", "alt": "<alt>", "shift": "<shift>", "meta": "<cmd>", "win": "<cmd>"}
    parts = []
    for part in sequence.split("+"):
        p = part.strip().lower()
        if not p:
            return None
        parts.append(names.get(p, p if len(p) == 1 else f"<{p}>"))
    return "+".join(parts)


class Hotkeys(QObject):
    """Named hotkeys; ``pressed(name)`` on the GUI thread.

    Parameters
    ----------
    keys : dict
        ``{name: Qt key sequence}``; empty sequences are left out.
    window : QWidget
        Where the fallback shortcuts live.
    """

    pressed = pyqtSignal(str)

    def __init__(self, keys: dict[str, str], window: QWidget):
        super().__init__(window)
        self.keys = {k: v for k, v in keys.items() if v}
        self.global_ = False
        self._listener = None
        self._shortcuts = []
        try:
            from pynput import keyboard

            mapping = {to_pynput(seq): (lambda n=name: self.pressed.emit(n)) for name, seq in self.keys.items()}
            self._listener = keyboard.GlobalHotKeys({k: v for k, v in mapping.items() if k})
            self._listener.daemon = True
            self._listener.start()
            self.global_ = True
        except Exception:           # no pynput, no X connection, Wayland: in-app shortcuts
            self._listener = None
            for name, seq in self.keys.items():
                sc = QShortcut(QKeySequence(seq), window)
                sc.setContext(Qt.ShortcutContext.ApplicationShortcut)
                sc.activated.connect(lambda n=name: self.pressed.emit(n))
                self._shortcuts.append(sc)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
