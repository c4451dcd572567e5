"""Coach rules: turn what the analyzers noticed into a few kind, well-timed nudges.

A nudge is private to the agent, short, and rare enough that the agent keeps the
coach on: each kind has its own cooldown, any two nudges are at least
``min_gap_s`` apart, and when two are due at once the more urgent one wins
(a lower ``priority`` number), unless it is still cooling down.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Optional

from voicecoach.events import AGENT, Event

# kind: (priority, message). Lower priority numbers are more urgent.
NUDGES = {
    "let_them_finish": (1, "Let them finish"),
    "caller_heated": (2, "The caller is heating up: stay calm, you're doing fine"),
    "slow_down": (3, "Slow down a little"),
    "smile": (4, "Smile: they can hear it"),
    "monotone": (4, "Let your voice move: vary your pitch"),
    "closing": (5, "Wrapping up? Ask if there is anything else you can help with"),
}

WRAP_UP = ("that's all", "that is all", "that's everything", "that's it", "thanks for your help",
           "thank you for your help", "you've been very helpful", "that's all i needed", "goodbye", "bye")
"""What a caller says when the call is wrapping up (lower case, after a word)."""

HOLD_ASKED = re.compile(
    r"\byou on (?:a )?(?:\w+ )?hold\b|\b(?:can|could|would) you hold\b|\bhold the line\b"
    r"|\b(?:hold|hang) on(?:[,.!?]| (?:a|one|just|please|while|for|i|i'm|let)\b)"
    r"|\bhold for (?:a|one|just)\b|\bplease hold\b|\bbear with me\b|\bstay on the line\b"
    r"|\b(?:won't|will not) be (?:long|a moment)\b"
    r"|(?<!in )(?<!about )(?<!takes )(?<!take )(?<!only )\b(?:one|a|just a|wait a|give me a) "
    r"(?:moment|minute|mo|(?<!for one )(?<!for a )sec(?:ond)?)"
    r"(?:[.,!?]| (?:please|while|and|then|i|i'll|let|whilst)\b)")
"""The agent asking the caller to wait ("let me put you on hold", "bear with me", "one
moment please"), in their words as written (lower case): a long silence after it is a
hold, not the call's end."""

HOLD_OVER = re.compile(r"\bthank(?:s| you) (?:so much |very much )?for (?:holding|waiting|your patience|"
                       r"bearing with me)|\bsorry (?:about|for) (?:the|that|keeping you) wait|\b(?:i'm|i am) back\b"
                       r"|\btransfer(?:ring)? you\b|\b(?:put|putting) you through\b|\bconnect(?:ing)? you\b")
"""The agent back from a hold ("thanks for holding"), or handing the call on ("please
hold while I transfer you": the call is over for them, and its silence is no hold)."""

HOLD_RECENT_S = 8.0
"""A silence that begins this soon (s) after the agent asked the caller to wait is the
wait (the request, the rest of its sentence and the caller's "sure" come first)."""


class HoldWatch:
    """Whether the agent has just put the caller on hold, from the agent's words.

    Fed each committed word of the agent; :attr:`asked_at` is where the latest request
    to wait ended (call clock, s), None once the agent is back. The coach holds its
    closing reminder over a hold, and shift mode keeps a call open over one
    (:class:`voicecoach.calldetect.CallDetector`).

    Examples
    --------
    >>> hold = HoldWatch()
    >>> for i, w in enumerate("Let me put you on hold for a moment.".split()):
    ...     hold.feed(w, 10.0 + 0.3 * i)
    >>> hold.asked_at, hold.holds(silent_from=13.0), hold.holds(silent_from=30.0)
    (12.4, True, False)
    """

    def __init__(self):
        self._words: deque = deque(maxlen=10)
        self.asked_at: Optional[float] = None

    def feed(self, word: str, end: float) -> None:
        self._words.append(word.strip().lower())
        said = " ".join(self._words)
        if HOLD_OVER.search(said):          # kept in view: "transferring you now, hold the line"
            self.asked_at = None
            return
        fresh = len(said) - len(self._words[-1])     # a request ends with this word: its context is in view
        if any(m.end() > fresh for m in HOLD_ASKED.finditer(said)):
            self.asked_at = end
            self._words.clear()

    def holds(self, silent_from: float) -> bool:
        """Whether a silence from ``silent_from`` (s) is a hold the agent asked for."""
        return is_hold(self.asked_at, silent_from)


def is_hold(asked_at: Optional[float], silent_from: float) -> bool:
    """Whether a silence from ``silent_from`` (s) is a hold: the agent asked the caller to
    wait at ``asked_at`` (s, None: they have not), at most :data:`HOLD_RECENT_S` before."""
    return asked_at is not None and silent_from - asked_at <= HOLD_RECENT_S


@dataclass
class CoachOptions:
    """When nudges fire.

    Attributes
    ----------
    min_gap_s : float
        At least this long (s, call clock) between any two nudges.
    interruption_cooldown_s : float
        Between two "let them finish" nudges (s).
    caller_cooldown_s : float
        Between two "the caller is heating up" nudges (s).
    pace_cooldown_s : float
        Between two "slow down" nudges (s).
    fast_for_s : float
        The agent's recent pace must stay in the fast zone this long (s) first.
    warmth_cooldown_s : float
        Between two "smile" nudges, and between two "monotone" nudges (s).
    closing_after_s : float
        The closing reminder comes only after this much call time (s), once per
        call, and only while the closing question has not been asked: when the
        caller wraps up ("thanks, that's all"), or has been quiet ``closing_quiet_s``.
    closing_quiet_s : float
        Caller silence (s) that suggests the call is ending.
    """

    min_gap_s: float = 8.0
    interruption_cooldown_s: float = 10.0
    caller_cooldown_s: float = 60.0
    pace_cooldown_s: float = 45.0
    fast_for_s: float = 8.0
    warmth_cooldown_s: float = 90.0
    closing_after_s: float = 60.0
    closing_quiet_s: float = 12.0


class CoachRules:
    """Feed every engine event and each snapshot; get nudge events back."""

    def __init__(self, options: Optional[CoachOptions] = None):
        self.options = options or CoachOptions()
        self._last: dict[str, float] = {}
        self._last_any = -1e9
        self._fast_since: Optional[float] = None
        self._closed = False                    # closing question asked, or reminded
        self._caller_words: list[str] = []
        self.hold = HoldWatch()
        self.nudges: list[Event] = []

    def _cooldown(self, kind: str) -> float:
        o = self.options
        return {"let_them_finish": o.interruption_cooldown_s, "caller_heated": o.caller_cooldown_s,
                "slow_down": o.pace_cooldown_s, "closing": 1e9}.get(kind, o.warmth_cooldown_s)

    def _due(self, kind: str, t: float) -> bool:
        return t - self._last.get(kind, -1e9) >= self._cooldown(kind)

    def _fire(self, kind: str, t: float, cause: Optional[Event]) -> list[Event]:
        priority, text = NUDGES[kind]
        urgent = priority == 1          # an interruption nudge is useless later: never held back
        if not self._due(kind, t) or (not urgent and t - self._last_any < self.options.min_gap_s):
            return []
        self._last[kind] = self._last_any = t
        if kind == "closing":
            self._closed = True
        data = {"nudge": kind, "priority": priority}
        if cause is not None:
            data["cause"] = cause.kind if cause.kind != "cue" else cause.data.get("cue")
            for key in ("decided_t",):
                if key in cause.data:
                    data[key] = cause.data[key]
        nudge = Event("nudge", t, AGENT, text, data)
        self.nudges.append(nudge)
        return [nudge]

    def feed(self, events: list[Event]) -> list[Event]:
        """Nudges caused by these engine events (most urgent first)."""
        due = []
        for e in events:
            if e.kind == "interruption" and e.channel == AGENT:
                due.append(("let_them_finish", e.data.get("decided_t", e.t), e))
            elif e.kind == "cue":
                cue = e.data.get("cue")
                kind = {"caller_heated": "caller_heated", "low_warmth": "smile",
                        "monotone": "monotone"}.get(cue)
                if kind:
                    due.append((kind, e.data.get("decided_t", e.t), e))
                if cue == "closing_question":
                    self._closed = True
            elif e.kind == "word" and e.channel == AGENT:
                self.hold.feed(e.text, e.data.get("end", e.t))
            elif e.kind == "word" and not self._closed:
                self._caller_words = (self._caller_words + [e.text.strip().lower()])[-6:]
                said = " " + " ".join(w.strip(".,!?") for w in self._caller_words)
                if e.t >= self.options.closing_after_s and any(f" {p}" in said for p in WRAP_UP):
                    due.append(("closing", e.data.get("end", e.t), e))
        out = []
        for kind, t, cause in sorted(due, key=lambda d: NUDGES[d[0]][0]):
            out += self._fire(kind, t, cause)
        return out

    def snapshot(self, snap: dict) -> list[Event]:
        """Nudges from the live metrics (pace, a quiet caller), given an engine snapshot."""
        t = snap["t"]
        quiet = snap.get("caller_quiet_s")
        if (not self._closed and quiet is not None and quiet >= self.options.closing_quiet_s
                and t >= self.options.closing_after_s and not self.hold.holds(t - quiet)):
            out = self._fire("closing", t, None)
            if out:
                self._closed = True
                return out
        zone = (snap.get("pace") or {}).get("zone")
        if zone != "fast":
            self._fast_since = None
            return []
        if self._fast_since is None:
            self._fast_since = t
        if t - self._fast_since >= self.options.fast_for_s:
            return self._fire("slow_down", t, None)
        return []
