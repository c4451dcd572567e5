"""Where the overlay was and how big: its position, size and view, kept as JSON in
the user's config folder so that the next run opens it where the agent left it.
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
