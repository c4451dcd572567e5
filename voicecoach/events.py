"""The one event type and the word type that flow from the engine to every sink, and the
one rule that cuts words into transcript lines.

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


SENTENCE_ENDS = (".", "?", "!")
"""Marks that end a sentence when a word ends with one."""


def ends_sentence(text: str) -> bool:
    """Whether a word ends its sentence (it ends in ``.``, ``?`` or ``!``)."""
    return text.rstrip().endswith(SENTENCE_ENDS)


def is_pause(prev_end: Optional[float], start: float, gap_s: float) -> bool:
    """The pause rule: a silence of ``gap_s`` or more between two words of one side ends
    the line (and the sentence) before the second. ``prev_end`` is None before the first word.

    ``gap_s`` is the one setting ``language.sentence_gap_s``, for the language cues'
    sentences, the live and offline transcript lines and the console's captions alike.
    """
    return prev_end is not None and start - prev_end >= gap_s


class LineSplitter:
    """Cuts one side's words, fed in order, into transcript lines: a line ends after a
    word that ends a sentence (:func:`ends_sentence`) and before a pause
    (:func:`is_pause`).

    Parameters
    ----------
    gap_s : float
        The pause (s) that ends a line: ``language.sentence_gap_s``.

    Examples
    --------
    >>> split = LineSplitter(gap_s=1.5)
    >>> split.feed(Word("agent", 0.0, 0.3, "Hello."))
    [[Word(channel='agent', start=0.0, end=0.3, text='Hello.', probability=1.0)]]
    """

    def __init__(self, gap_s: float):
        self.gap_s = gap_s
        self.words: list[Word] = []   # the open line

    def feed(self, word: Word) -> list[list[Word]]:
        """Add the next word; returns the lines it completes (none, one or two)."""
        done = []
        if self.words and is_pause(self.words[-1].end, word.start, self.gap_s):
            done.append(self.words)
            self.words = []
        self.words.append(word)
        if ends_sentence(word.text):
            done.append(self.words)
            self.words = []
        return done

    def flush(self) -> list[list[Word]]:
        """The open line, if any (end of the words)."""
        done, self.words = ([self.words] if self.words else []), []
        return done


def split_lines(words: Sequence[Word], gap_s: float) -> list[list[Word]]:
    """One side's words cut into lines by :class:`LineSplitter`."""
    split = LineSplitter(gap_s)
    return [line for w in words for line in split.feed(w)] + split.flush()


def line_text(words: Sequence[Word]) -> str:
    """The words of a line as one string, single-spaced."""
    return " ".join(w.text.strip() for w in words if w.text.strip())


def segments_from_words(channel: str, words: Sequence[Word], gap_s: float) -> list[TranscriptSegment]:
    """Group one side's streamed words into transcript lines (:func:`split_lines`);
    ``gap_s`` is ``language.sentence_gap_s``."""
    return [TranscriptSegment(channel, ws[0].start, ws[-1].end, line_text(ws), list(ws))
            for ws in split_lines(words, gap_s)]
