"""VoiceCoach's PyQt6 windows (installed as ``voicecoach.ui``): the overlay and the review.

They talk to the engine only through its events and snapshots.
"""

import os
import sys


def has_screen() -> bool:
    """Whether a window can be shown here (a Qt platform was chosen, or a display is set).
    Qt-free, so the command line can ask before importing Qt."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
