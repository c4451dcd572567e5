"""Where the overlay goes on the screen: where it was and how big (its position, size
and view, kept as JSON in the user's config folder so that the next run opens it where
the agent left it), and where it is put back on a screen, as plain arithmetic on
rectangles that needs no window.

A rectangle is ``(x, y, width, height)`` in px on the virtual desktop, as Qt's
``QRect.getRect()`` gives it; a screen's ``area`` is its available geometry (without
the task bar).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional


def placement_file() -> Path:
    """Where the overlay remembers its position, size and view:
    ``overlay.json`` in the platform's user config folder."""
    import platformdirs

    return platformdirs.user_config_path("voicecoach") / "overlay.json"


@dataclass
class Placement:
    """Where the overlay was and how it looked.

    Attributes
    ----------
    x, y : int
        Top-left corner on the virtual desktop (px).
    width : int
        Width (px), the same in both views.
    height : int
        Height of the expanded view (px); the compact view is as short as it can be.
    compact : bool
        The compact view (meters only) was on.
    """

    x: int
    y: int
    width: int
    height: int
    compact: bool = False

    @classmethod
    def load(cls, path: Path) -> Optional["Placement"]:
        """The saved placement, or None when there is none or it cannot be read."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(int(d["x"]), int(d["y"]), int(d["width"]), int(d["height"]), bool(d.get("compact")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        """Write it (a failure to write only loses the placement, so it is ignored)."""
        from voicecoach.store.private import write_private

        try:   # the user's alone, as the config file beside it: a folder others may write is one
            write_private(path, json.dumps(asdict(self)))   # where they can swap that file (umask 000)
        except OSError:
            pass


Rect = tuple[int, int, int, int]
"""``(x, y, width, height)`` (px) on the virtual desktop."""

GRIP_PX = (60, 40)
"""How far in from its screen's right and bottom edges (px) the top-left corner of a
panel put back where it was saved stays: enough of it to grab and drag into view."""


def at_top_right(width: int, area: Rect, margin_px: int) -> tuple[int, int]:
    """Where a new panel ``width`` px wide goes: ``margin_px`` from the top-right corner
    of ``area``. Returns its top-left corner (px)."""
    x, y, area_width, _ = area
    return x + area_width - width - margin_px, y + margin_px


def back_on_screen(x: int, y: int, area: Rect) -> tuple[int, int]:
    """Where a panel saved with its top-left corner at ``(x, y)`` (px) goes on the screen
    it was on (``area``): where it was, inside the screen's top and left edges and at
    least :data:`GRIP_PX` in from its right and bottom ones (the screen is smaller now,
    or the task bar moved). Returns its top-left corner (px)."""
    left, top, width, height = area
    grip_w, grip_h = GRIP_PX
    return (min(max(x, left), left + width - 1 - grip_w),
            min(max(y, top), top + height - 1 - grip_h))


def inside(rect: Rect, area: Rect) -> tuple[int, int]:
    """Where ``rect`` goes to be wholly inside ``area``: against the edge it was past,
    unmoved along an axis it is inside of. Returns its top-left corner (px)."""
    x, y, width, height = rect
    left, top, area_width, area_height = area
    return (min(max(x, left), left + area_width - width),
            min(max(y, top), top + area_height - height))
