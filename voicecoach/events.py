"""The one event type and the word type that flow from the engine to every sink.

Every time is in seconds on the call clock (seconds since the call started, both
channels). ``latency`` is wall-clock seconds from the capture of the audio that
caused the event to its emission; it is ``None`` for offline analysis.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

AGENT = "agent"
CUSTOMER = "customer"
CHANNELS = (AGENT, CUSTOMER)


def other(channel: str) -> str:
    """The other side of the call: ``other("agent") == "customer"``."""
    return CUSTOMER if channel == AGENT else AGENT


@dataclass(frozen=True)
class Word:
    """One transcribed word with its call-clock span (s)."""

    channel: str
    start: float
    end: float
    text: str
    probability: float = 1.0

    def as_dict(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3),
                "text": self.text, "probability": round(self.probability, 3)}


@dataclass
class Event:
    """Something the engine noticed.

    kind : str
        ``speech_start``, ``speech_end``, ``interruption``, ``backchannel``,
        ``near_miss``, ``dead_air``, ``word``, ``cue`` (a language or prosody cue;
        ``data["cue"]`` names it) or ``nudge`` (a coaching message for the agent).
    t : float
        Call-clock time the event refers to (s), e.g. an interruption's onset.
    channel : str or None
        ``agent``/``customer`` for one side (for turn events: who did it).
    text : str
        A short human-readable line.
    data : dict
        Kind-specific fields (``end``, ``suggestion``, ``cue``...), JSON-ready.
    latency : float or None
        Wall-clock seconds from capture of the deciding audio to emission.
    """

    kind: str
    t: float
    channel: Optional[str] = None
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    latency: Optional[float] = None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["t"] = round(self.t, 3)
        return d
