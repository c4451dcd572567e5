"""Turn-taking: who holds the floor, who cuts in, who only says "mm-hm".

Works on the speech segments of both channels (:class:`voicecoach.analyzers.vad.VoiceActivity`).
Segments of one speaker separated by pauses shorter than ``pause_merge_s`` form a
*spurt*. When a spurt of X starts while Y holds the floor (Y has been talking for
at least ``min_floor_s`` and is still talking), the onset is judged:

- **interruption** once X has talked ``backchannel_max_s`` and the two have
  overlapped for ``min_overlap_s`` — a real bid for the floor. It is decided the
  moment both hold, so the live nudge is immediate;
- **backchannel** when X stops within ``backchannel_max_s`` while Y keeps talking
  ("mm-hm", "right"): good listening, not an interruption;
- **near miss** when X takes the floor but Y was finishing anyway (overlap under
  ``min_overlap_s``): a fast turn change, not an interruption.

Overlap length alone cannot tell an "mm-hm" from a bid for the floor; the
listener's utterance length and whether the speaker yields can.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Optional

from voicecoach.analyzers.vad import VoiceActivity
from voicecoach.events import AGENT, CUSTOMER, Event, other


@dataclass
class TurnOptions:
    """Turn-taking thresholds.

    Attributes
    ----------
    min_overlap_s : float
        Overlap (s) with the speaker's ongoing turn that makes an onset a bid for
        the floor; shorter overlaps are near misses.
    backchannel_max_s : float
        A listener's utterance up to this long (s), inside the other's turn, is a
        backchannel; past it, with enough overlap, it is an interruption.
    min_floor_s : float
        The speaker must have been talking this long (s) before the onset for the
        other to be cutting into a turn (two people starting together is not one).
    pause_merge_s : float
        Pauses shorter than this (s) inside one speaker's speech join it into one
        spurt (for interruptions, backchannels and monologues).
    turn_pause_s : float
        A pause shorter than this (s) between one side's sentences, in which the
        other side says no more than a backchannel, is part of the turn: talk time
        counts it as talking (pausing between steps is how an agent slows down), and
        the caller's list reads two sentences of one turn together when neither
        alone says the problem (:class:`~voicecoach.analyzers.language.LanguageCues`).
    dead_air_s : float
        Silence on both channels at least this long (s) is dead air.
    """

    min_overlap_s: float = 0.5
    backchannel_max_s: float = 1.0
    min_floor_s: float = 0.5
    pause_merge_s: float = 0.5
    turn_pause_s: float = 1.5
    dead_air_s: float = 5.0


def talk_time_s(spans, other_spans=(), *, turn_pause_s: float, backchannel_max_s: float) -> float:
    """Seconds one side talks: the time of its turns.

    Parameters
    ----------
    spans : sequence of (start, end)
        The side's speech (segments or spurts) in time order, s.
    other_spans : sequence of (start, end)
        The other side's speech in time order (empty for a call with one side).
    turn_pause_s : float
        Pauses shorter than this are inside the turn and count as talking, unless
        the other side took the floor in them.
    backchannel_max_s : float
        The other side's utterances up to this long do not take the floor.

    Examples
    --------
    >>> talk_time_s([(0, 4), (5, 9)], turn_pause_s=1.5, backchannel_max_s=1.0)
    9.0
    >>> talk_time_s([(0, 4), (5, 9)], [(4.1, 4.9)], turn_pause_s=1.5, backchannel_max_s=1.0)
    9.0
    >>> talk_time_s([(0, 4), (4.5, 9)], [(4.0, 5.5)], turn_pause_s=1.5, backchannel_max_s=1.0)
    8.5
    """
    floor_takes = [s for s, e in other_spans if e - s > backchannel_max_s]
    total, cur = 0.0, None
    for start, end in spans:
        if cur is not None and start - cur[1] < turn_pause_s and \
                not _any_between(floor_takes, cur[1], start):
            cur[1] = max(cur[1], end)
            continue
        if cur is not None:
            total += cur[1] - cur[0]
        cur = [start, end]
    return total + (cur[1] - cur[0] if cur is not None else 0.0)


def _any_between(sorted_starts: list, a: float, b: float) -> bool:
    i = bisect.bisect_left(sorted_starts, a)
    return i < len(sorted_starts) and sorted_starts[i] < b


class _Spurts:
    """One channel's speech merged across short pauses, kept incrementally."""

    def __init__(self, va: VoiceActivity, pause_merge_s: float):
        self.va = va
        self.merge = pause_merge_s
        self.closed: list[list[float]] = []     # [start, end]
        self._cur: Optional[list[float]] = None  # from closed segments, may still grow
        self._seen = 0

    def update(self) -> None:
        segs = self.va.segments
        for seg in segs[self._seen:]:
            if self._cur is not None and seg.start - self._cur[1] < self.merge:
                self._cur[1] = seg.end
            else:
                if self._cur is not None:
                    self.closed.append(self._cur)
                self._cur = [seg.start, seg.end]
        self._seen = len(segs)
        next_start = self.va.current_start if self.va.speaking else self.va.time
        if self._cur is not None and next_start - self._cur[1] >= self.merge:
            self.closed.append(self._cur)
            self._cur = None

    def open(self) -> Optional[tuple[float, float]]:
        """The spurt still in progress as ``(start, end so far)``, or None."""
        va = self.va
        if va.speaking:
            end = va.last_voice_t + va.options.speech_pad_s
            return (self._cur[0] if self._cur is not None else va.current_start), end
        if self._cur is not None:
            return self._cur[0], self._cur[1]
        return None

    def all(self) -> list[tuple[float, float]]:
        spans = [tuple(s) for s in self.closed]
        cur = self.open()
        if cur is not None:
            spans.append(cur)
        return spans

    def find(self, start: float) -> Optional[tuple[float, float, bool]]:
        """The spurt that starts at ``start``: ``(start, end, closed)``; None if a
        provisional onset turned out to be a click and was dropped."""
        cur = self.open()
        if cur is not None and cur[0] == start:
            return cur[0], cur[1], False
        for s in reversed(self.closed):
            if s[0] == start:
                return s[0], s[1], True
            if s[0] < start:
                break
        return None

    def covering(self, t: float) -> Optional[tuple[float, float, bool]]:
        """The spurt that is in progress at time ``t``, if any.

        A spurt whose speech is still going on covers every time from its start
        to now: its end so far (the last voiced window) can lag the audio analysed.
        """
        cur = self.open()
        if cur is not None and cur[0] <= t and (t < cur[1] or self.va.speaking):
            return cur[0], cur[1], False
        for s in reversed(self.closed):
            if s[0] <= t < s[1]:
                return s[0], s[1], True
            if s[1] <= t:
                break
        return None


class TurnTaking:
    """Incremental turn-taking analyzer over two :class:`VoiceActivity` objects.

    Call :meth:`update` after feeding audio to both channels; it returns the new
    ``interruption``, ``backchannel``, ``near_miss`` and ``dead_air`` events.
    """

    def __init__(self, agent: VoiceActivity, customer: VoiceActivity,
                 options: Optional[TurnOptions] = None):
        self.options = options or TurnOptions()
        self.spurts = {AGENT: _Spurts(agent, self.options.pause_merge_s),
                       CUSTOMER: _Spurts(customer, self.options.pause_merge_s)}
        self.judged: dict[str, set[float]] = {AGENT: set(), CUSTOMER: set()}
        self.pending: dict[str, dict[float, tuple[float, float]]] = {AGENT: {}, CUSTOMER: {}}
        self.interruptions: list[dict] = []
        self.backchannels: list[dict] = []
        self.near_misses: list[dict] = []
        self._checked = {AGENT: 0, CUSTOMER: 0}
        self._dead_air_from: Optional[float] = None
        self.horizon = 0.0

    def update(self) -> list[Event]:
        for sp in self.spurts.values():
            sp.update()
        self.horizon = min(sp.va.time for sp in self.spurts.values())
        events: list[Event] = []
        for x in (AGENT, CUSTOMER):
            self._find_onsets(x)
            events += self._judge(x)
        events += self._dead_air()
        return events

    def finish(self) -> list[Event]:
        """End of call: close open segments and judge what is left."""
        for sp in self.spurts.values():
            sp.va.flush()
            sp.update()
            if sp._cur is not None:
                sp.closed.append(sp._cur)
                sp._cur = None
        self.horizon = float("inf")
        events = []
        for x in (AGENT, CUSTOMER):
            self._find_onsets(x)
            events += self._judge(x, final=True)
        return events

    # -- onsets -------------------------------------------------------------
    def _find_onsets(self, x: str) -> None:
        o = self.options
        y = other(x)
        sp = self.spurts[x]
        new = sp.closed[self._checked[x]:]
        cur = sp.open()
        for i, (start, _) in enumerate(new + ([cur] if cur else [])):
            if start >= self.horizon:        # the other side is not analysed that far yet
                break
            self._checked[x] += i < len(new)
            if start in self.judged[x] or start in self.pending[x]:
                continue
            floor = self.spurts[y].covering(start)
            if floor is None or start - floor[0] < o.min_floor_s:
                self.judged[x].add(start)        # not inside the other's turn
                continue
            self.pending[x][start] = (floor[0], start)

    def _judge(self, x: str, final: bool = False) -> list[Event]:
        o = self.options
        y = other(x)
        events = []
        for t0, (y_start, _) in list(self.pending[x].items()):
            xs, ys = self.spurts[x].find(t0), self.spurts[y].find(y_start)
            if xs is None or ys is None:         # an onset that was a dropped click
                del self.pending[x][t0]
                continue
            _, x_end, x_closed = xs
            _, y_end, y_closed = ys
            x_len = x_end - t0
            overlap = min(x_end, y_end) - t0
            kind = None
            if x_len >= o.backchannel_max_s and overlap >= o.min_overlap_s:
                kind = "interruption"
            elif (x_closed or final) and x_len < o.backchannel_max_s:
                kind = "backchannel" if y_end >= x_end - 0.1 else "reply"
            elif (y_closed or final) and x_len >= o.backchannel_max_s:
                kind = "near_miss"
            if kind is None:
                continue
            del self.pending[x][t0]
            self.judged[x].add(t0)
            if kind == "reply":
                continue
            item = {"start": round(t0, 3), "end": round(min(x_end, y_end), 3), "by": x,
                    "_onset": t0, "_floor": y_start}
            who = "You" if x == AGENT else "The caller"
            if kind == "interruption":
                self.interruptions.append(item)
                text = ("You cut in while the caller was talking" if x == AGENT
                        else "The caller cut in while you were talking")
                decided = t0 + max(o.backchannel_max_s, o.min_overlap_s)
            elif kind == "backchannel":
                self.backchannels.append(item)
                text = f"{who} acknowledged without taking over"
                decided = x_end
            else:
                self.near_misses.append(item)
                text = ("You came in just as the caller finished (not an interruption)" if x == AGENT
                        else "The caller came in just as you finished (not an interruption)")
                decided = y_end
            events.append(Event(kind, t0, x, text, {"end": item["end"], "decided_t": round(decided, 3)}))
        return events

    # -- dead air -------------------------------------------------------------
    def _dead_air(self) -> list[Event]:
        if any(sp.va.speaking for sp in self.spurts.values()):
            self._dead_air_from = None
            return []
        last = max((sp.va.segments[-1].end for sp in self.spurts.values() if sp.va.segments),
                   default=None)
        if last is None or self.horizon - last < self.options.dead_air_s:
            return []
        if self._dead_air_from == last:
            return []
        self._dead_air_from = last
        return [Event("dead_air", last, None, f"{self.options.dead_air_s:.0f} s of silence on the line",
                      {"decided_t": round(last + self.options.dead_air_s, 3)})]

    # -- summary --------------------------------------------------------------
    def _final_end(self, item: dict) -> float:
        x, y = item["by"], other(item["by"])
        xs, ys = self.spurts[x].find(item["_onset"]), self.spurts[y].find(item["_floor"])
        if xs is None or ys is None:
            return item["end"]
        return round(min(xs[1], ys[1]), 3)

    def _public(self, items: list[dict]) -> list[dict]:
        return [{"start": i["start"], "end": self._final_end(i), "by": i["by"]} for i in items]

    def talk_time(self) -> dict[str, float]:
        """Seconds each side talks: its turns, pauses between its sentences included
        (:func:`talk_time_s`)."""
        o = self.options
        spans = {ch: sp.all() for ch, sp in self.spurts.items()}
        return {ch: round(talk_time_s(spans[ch], spans[other(ch)], turn_pause_s=o.turn_pause_s,
                                      backchannel_max_s=o.backchannel_max_s), 3)
                for ch in spans}

    def summary(self) -> dict:
        """Everything the call record needs about turns (JSON-ready)."""
        o = self.options
        spans = {ch: sp.all() for ch, sp in self.spurts.items()}
        talk = self.talk_time()
        total = talk[AGENT] + talk[CUSTOMER]
        timeline = sorted((s, e, ch) for ch, sp in spans.items() for s, e in sp)
        # response gaps: a customer spurt ends, and the agent is the next to take the floor
        gaps = []
        for (s, e, ch), (s2, e2, ch2) in zip(timeline, timeline[1:]):
            if ch == CUSTOMER and ch2 == AGENT and e2 - s2 >= o.backchannel_max_s and s2 >= e - 0.5:
                if not any(ch3 == CUSTOMER and s3 > e for s3, e3, ch3 in timeline if s3 < s2):
                    gaps.append(round(s2 - e, 3))
        # monologues: agent speech while the customer says at most backchannels; a short
        # reply in the agent's pause ("Yes, it is.") is the caller taking a turn, and a
        # pause of turn_pause_s or more (a hold) ends it, as it ends a turn for talk time
        listening = {round(b["_onset"], 3) for b in self.backchannels if b["by"] == CUSTOMER}
        longest, run_start, run_end = 0.0, None, None
        for s, e, ch in timeline:
            if ch == AGENT:
                if run_end is not None and s - run_end >= o.turn_pause_s:
                    run_start = run_end = None
                run_start = s if run_start is None else run_start
                run_end = e if run_end is None else max(run_end, e)
                longest = max(longest, run_end - run_start)
            elif round(s, 3) not in listening:
                run_start = run_end = None
        # dead air: silent stretches on both channels between the first and last speech
        dead, last_end = [], None
        for s, e, _ in timeline:
            if last_end is not None and s - last_end >= o.dead_air_s:
                dead.append({"start": round(last_end, 3), "end": round(s, 3)})
            last_end = e if last_end is None else max(last_end, e)
        return {
            "talk_time": talk,
            "talk_share": {ch: round(v / total, 3) if total else None for ch, v in talk.items()},
            "interruptions": self._public(self.interruptions),
            "backchannels": self._public(self.backchannels),
            "near_misses": self._public(self.near_misses),
            "longest_agent_monologue": round(longest, 3),
            "response_gaps": gaps,
            "dead_air": dead,
        }

    def state(self) -> dict:
        """Live metrics: talk share so far, counts, the agent's current run."""
        talk = self.talk_time()
        total = talk[AGENT] + talk[CUSTOMER]
        return {
            "talk_share_agent": talk[AGENT] / total if total else None,
            "interruptions": {ch: sum(1 for i in self.interruptions if i["by"] == ch)
                              for ch in (AGENT, CUSTOMER)},
            "backchannels": len(self.backchannels),
            "agent_speaking": self.spurts[AGENT].va.speaking,
            "customer_speaking": self.spurts[CUSTOMER].va.speaking,
        }
