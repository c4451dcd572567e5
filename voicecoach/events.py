"""The one event type and the word type that flow from the engine to every sink.

Every time is in seconds on the call clock (seconds since the call started, both
channels). ``latency`` is wall-clock seconds from the capture of the audio that
caused the event to its emission; it is ``None`` for offline analysis.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Sequence

SAMPLE_RATE = 16000
"""The pipeline's one sample rate (Hz): every source delivers mono float32 at this rate."""

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


@dataclass
class TranscriptSegment:
    """One Whisper segment on the call clock."""

    channel: str
    start: float
    end: float
    text: str
    words: list[Word]

    def as_dict(self) -> dict:
        return {"channel": self.channel, "start": round(self.start, 3), "end": round(self.end, 3),
                "text": self.text, "words": [w.as_dict() for w in self.words]}


def segments_from_words(channel: str, words: Sequence[Word], gap_s: float = 1.0) -> list[TranscriptSegment]:
    """Group streamed words into transcript lines: a new line after a sentence end
    (``.``, ``?``, ``!``) or a pause of ``gap_s`` seconds."""
    lines: list[list[Word]] = []
    for w in words:
        if (not lines or w.start - lines[-1][-1].end >= gap_s
                or lines[-1][-1].text.endswith((".", "?", "!"))):
            lines.append([])
        lines[-1].append(w)
    return [TranscriptSegment(channel, ws[0].start, ws[-1].end, " ".join(w.text for w in ws), list(ws))
            for ws in lines]
