"""Ctrl-C, SIGTERM and SIGHUP while a Qt window runs from a terminal.

Qt's event loop runs in C++: Python runs a signal handler only when the loop hands
control back to it, which an idle window never does. A timer that fires every 200 ms
does, so a stop signal takes effect within a fifth of a second.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from PyQt6.QtCore import QTimer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, a polite kill, and the terminal it ran from closing."""


@contextmanager
def on_stop_signals(handler: Callable[[], None]) -> Iterator[None]:
    """While the block runs Qt: each of :data:`STOP_SIGNALS` calls ``handler()`` (on the
    GUI thread, between events); the handlers before are put back after. Off the main
    thread Python cannot set signal handlers: the block then runs without them."""
    restore = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            restore[sig] = signal.signal(sig, lambda *_: handler())
    wake = QTimer(interval=200)
    wake.timeout.connect(lambda: None)
    wake.start()
    try:
        yield
    finally:
        wake.stop()
        for sig, previous in restore.items():
            signal.signal(sig, previous)
