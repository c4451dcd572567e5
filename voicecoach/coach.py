"""Coach rules: turn what the analyzers noticed into a few kind, well-timed nudges.

A nudge is private to the agent, short, and rare enough that the agent keeps the
coach on: each kind has its own cooldown, any two nudges are at least
``min_gap_s`` apart, and when two are due at once the more urgent one wins
(a lower ``priority`` number), unless it is still cooling down.
"""
from __future__ import annotations

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
}


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
    """

    min_gap_s: float = 8.0
    interruption_cooldown_s: float = 10.0
    caller_cooldown_s: float = 60.0
    pace_cooldown_s: float = 45.0
    fast_for_s: float = 8.0
    warmth_cooldown_s: float = 90.0


class CoachRules:
    """Feed every engine event and each snapshot; get nudge events back."""

    def __init__(self, options: Optional[CoachOptions] = None):
        self.options = options or CoachOptions()
        self._last: dict[str, float] = {}
        self._last_any = -1e9
        self._fast_since: Optional[float] = None
        self.nudges: list[Event] = []

    def _cooldown(self, kind: str) -> float:
        o = self.options
        return {"let_them_finish": o.interruption_cooldown_s, "caller_heated": o.caller_cooldown_s,
                "slow_down": o.pace_cooldown_s}.get(kind, o.warmth_cooldown_s)

    def _due(self, kind: str, t: float) -> bool:
        return t - self._last.get(kind, -1e9) >= self._cooldown(kind)

    def _fire(self, kind: str, t: float, cause: Optional[Event]) -> list[Event]:
        priority, text = NUDGES[kind]
        urgent = priority == 1          # an interruption nudge is useless later: never held back
        if not self._due(kind, t) or (not urgent and t - self._last_any < self.options.min_gap_s):
            return []
        self._last[kind] = self._last_any = t
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
        out = []
        for kind, t, cause in sorted(due, key=lambda d: NUDGES[d[0]][0]):
            out += self._fire(kind, t, cause)
        return out

    def snapshot(self, snap: dict) -> list[Event]:
        """Nudges from the live metrics (pace), given an engine snapshot."""
        t = snap["t"]
        zone = (snap.get("pace") or {}).get("zone")
        if zone != "fast":
            self._fast_since = None
            return []
        if self._fast_since is None:
            self._fast_since = t
        if t - self._fast_since >= self.options.fast_for_s:
            return self._fire("slow_down", t, None)
        return []
