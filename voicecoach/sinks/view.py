"""The view model of a call: what the summary, the HTML report, the review window and the
live overlay show, computed once and free of Qt and of any output format.

:func:`call_scores` reads a call record into :class:`CallScores`; the terminal summary
(:func:`voicecoach.sinks.summary.summary_text`) and the scorecard of the report and the
review (:func:`scorecard`) only format it. The colours, the cue groups, the pace zones'
words, the transcript lines and the timeline's markers are here for the same reason:
one definition that every view reads.

See Also
--------
voicecoach.store.record : the call record this reads.
voicecoach.analyzers.pace.zone : the pace zone rule.
voicecoach.events.LineSplitter : the rule that cuts words into transcript lines.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np

from voicecoach.analyzers.pace import zone
from voicecoach.calldetect import GOING_ON
from voicecoach.events import Word, line_text, split_lines

if TYPE_CHECKING:
    from voicecoach.config import Config

PALETTE = {
    "agent": "#3b6fd8", "customer": "#12a594",
    "interruption": "#e03131", "caller_interruption": "#e64980", "backchannel": "#2f9e44",
    "near_miss": "#f59f00", "dead_air": "#868e96",
    "rephrase": "#e8590c", "good": "#2f9e44", "note": "#1c7ed6", "voice": "#ae3ec9",
    "warmth": "#f08c00", "pace": "#7048e8", "band": "#d3f9d8", "low_band": "#fff0f0",
    "ink": "#1f2933", "muted": "#66727f", "line": "#e3e7ec", "panel": "#f6f8fa",
    "watch": "#c2410c", "mark": "#343a40", "nudge": "#f2c200",
}
"""Colours by role (CSS hex), shared by the HTML report, the review window and the overlay."""

def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two CSS hex colours (1 to 21).

    >>> round(contrast("#ffffff", "#000000"), 1), round(contrast("#12a594", "#ffffff"), 2)
    (21.0, 3.07)
    """
    def luminance(hex_colour: str) -> float:
        rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable(colour: str, background: str = "#ffffff", ratio: float = 4.5) -> str:
    """``colour`` (CSS hex) as text on ``background``: darkened on a light background,
    lightened on a dark one, just enough to reach WCAG's ``ratio`` (4.5:1 for text);
    unchanged when it already does. The palette's teal caller read 3.07:1 on white.

    >>> readable("#12a594"), readable("#1f2933")
    ('#0e8476', '#1f2933')
    """
    toward = 0 if contrast(background, "#000000") > contrast(background, "#ffffff") else 255
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    out = colour
    for step in range(21):
        mixed = [round(v + (toward - v) * step / 20) for v in rgb]
        out = "#" + "".join(f"{v:02x}" for v in mixed)
        if contrast(out, background) >= ratio:
            break
    return out


REPHRASE = ("jargon", "scary", "patronizing", "negative")
"""Cue kinds that come with a plainer or kinder way to say it."""

CUE_GROUPS = {
    "rephrase": REPHRASE + ("filler",),
    "good": ("greeting", "empathy", "positive", "question_open", "question_closed", "closing_question"),
    "note": ("commitment", "problem"),
    "voice": ("low_warmth", "monotone", "fast_pace", "caller_heated", "hostile"),
    "mark": ("mark",),
    "nudge": ("nudge",),
}
"""Cue kinds by the group that colours their marker (``PALETTE[group]``). ``"mark"``: a
moment the agent marked during a live call (the overlay's mark hotkey), drawn as a star;
``"nudge"``: a nudge the overlay showed during a live call (the record's ``nudges``, put
on the timeline by :func:`timeline_cues`)."""

TURN_NAMES = {"interruption": "Interruption", "backchannel": "Acknowledgement",
              "near_miss": "Fast turn change", "dead_air": "Dead air"}
"""Turn-taking events (``Event.kind``, the record's lists) by the name every view gives them."""

TURN_LEGEND = (("agent", "You"), ("customer", "Caller"), ("interruption", "You interrupted"),
               ("caller_interruption", "Caller interrupted"), ("backchannel", TURN_NAMES["backchannel"]),
               ("near_miss", TURN_NAMES["near_miss"]), ("dead_air", TURN_NAMES["dead_air"]))
"""The timeline's sides and turn-taking markers as ``(PALETTE role, name)``: the legend of
the report and of the review."""


def agent_words(agent: Optional[str] = None) -> tuple[str, str]:
    """How a view names the agent, as ``(who, whose)``: ``("you", "your")`` for the agent's
    own calls, the agent's name in a coach's view of a call shared with them.

    >>> agent_words(), agent_words("alice")
    (('you', 'your'), ('alice', "alice's"))
    """
    return ("you", "your") if not agent else (agent, f"{agent}'s")


def turn_legend(agent: Optional[str] = None, record: Optional[dict] = None) -> list[tuple[str, str]]:
    """:data:`TURN_LEGEND` with the agent named as :func:`agent_words` names them; for the
    call of ``record``, only the marks it can have (a one-channel call: the agent's side
    alone, no caller and no turn-taking)."""
    names = {"agent": agent, "interruption": f"{agent} interrupted"} if agent else {}
    entries = [(role, names.get(role, text)) for role, text in TURN_LEGEND]
    if record is not None and "customer" not in record["source"]["channels"]:
        entries = entries[:1]
    return entries

ZONE_ROLES = {"slow": "note", "comfortable": "backchannel", "brisk": "near_miss", "fast": "interruption"}
"""The colour (a PALETTE role) of each pace zone (:func:`voicecoach.analyzers.pace.zone`)."""

ZONE_TEXT = {"slow": "slow", "comfortable": "comfortable",
             "brisk": "brisk: above comfortable, not yet fast",
             "fast": "fast: slow down a little"}
"""What each pace zone means, in the words every view uses."""

CARE_NOTE = "Scores are for your own practice: never a way to rank, pay or judge anyone."

TEAM_NOTE = ("Agents are listed by name, never by score. Each agent's scores are for their own "
             "practice, read against their own earlier calls: they measure one call's voice and "
             "words, not a person, so ranking, paying or judging anyone by them would be wrong.")
"""What the coach's view says where it shows scores (there are no leaderboards)."""


UNAVAILABLE_TEXT = {"interruptions": "interruptions", "backchannels": "acknowledgements",
                    "near_misses": "fast turn changes", "talk_share": "talk share", "dead_air": "dead air",
                    "response_gaps": "response gaps", "caller_arousal": "the caller's temperature",
                    "caller_problems": "the caller's list", "transcript": "the transcript",
                    "pace.agent_wpm": "words per minute", "language cues": "language cues"}
"""The record's ``unavailable`` keys as a person reads them."""


def unavailable_text(record: dict) -> str:
    """What the record could not measure, and why, in one sentence ("" if nothing).

    >>> unavailable_text({"unavailable": ["talk_share", "caller_arousal"], "source": {"channels": ["agent"]}})
    "Not measured (a recording of your side only): talk share, the caller's temperature."
    """
    keys = record.get("unavailable") or []
    if not keys:
        return ""
    reasons = []
    if list((record.get("source") or {}).get("channels") or []) == ["agent"]:
        reasons.append("a recording of your side only")
    if "transcript" in keys:
        reasons.append("speech-to-text was off")
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return (f"Not measured{why}: "
            + ", ".join(UNAVAILABLE_TEXT.get(k, k.replace("_", " ")) for k in keys) + ".")


LISTS = {"rephrase": "Nothing to rephrase: plain, kind words throughout.",
         "commitments": "No promises to follow up.",
         "caller_problems": "No problems reported by the caller were found.",
         "marks": "No moments marked in this call (Ctrl+Alt+M marks one during a live call)."}
"""The call's lists (the report's and the review's) by what each says when it was
measured and found nothing."""

_LIST_NEEDS = {"rephrase": ("transcript", "language cues"),
               "commitments": ("transcript", "language cues"),
               "caller_problems": ("caller_problems", "transcript", "language cues"),
               "marks": ()}
"""The record's ``unavailable`` keys that leave each list unmeasured, the likeliest reason first."""

_NOT_MEASURED = {"caller_problems": "Not measured: no caller channel in this recording.",
                 "transcript": "Not measured: no transcript (speech-to-text was off).",
                 "language cues": "Not measured: no transcript (speech-to-text was off)."}


def empty_transcript_text(record: dict) -> str:
    """What an empty transcript says: that speech-to-text was off, or, when it ran, that
    it heard no words (a call of noise or silence read "transcription was off").

    >>> empty_transcript_text({"stt_model": "tiny.en"})
    'No words were heard in this call.'
    """
    if record.get("stt_model"):
        return "No words were heard in this call."
    return "No transcript: transcription was off."


def empty_list_text(record: dict, name: str) -> str:
    """What the list ``name`` (a key of :data:`LISTS`) says when it has nothing: that it
    was not measured, and why, when the record says so; otherwise that nothing was found.
    An empty list must not read as a clean call when nobody listened for it.

    >>> empty_list_text({"unavailable": ["transcript", "language cues"]}, "commitments")
    'Not measured: no transcript (speech-to-text was off).'
    """
    if name == "marks" and not record.get("live"):
        return ("No moments marked: this call was analysed from a recording, and moments are "
                "marked during a live call (Ctrl+Alt+M).")
    if name == "marks" and _recovered(record):
        return "No moments: any marked during this call were lost when the program stopped mid-call."
    missing = set(record.get("unavailable") or [])
    for key in _LIST_NEEDS[name]:
        if key in missing:
            return _NOT_MEASURED[key]
    return LISTS[name]


def cue_group(kind: str) -> str:
    """The marker group of a cue kind (``"rephrase"``, ``"good"``, ``"note"``, ``"voice"`` or
    ``"mark"``)."""
    for group, kinds in CUE_GROUPS.items():
        if kind in kinds:
            return group
    return "voice"


def clock(t: float) -> str:
    """Seconds as m:ss ("–" for a time that is not a number: a team store row another client wrote)."""
    if not np.isfinite(t):
        return "–"
    t = max(0, int(round(t)))
    return f"{t // 60}:{t % 60:02d}"


def _recovered(record: dict) -> bool:
    """Whether ``record`` is of a live call rebuilt from its recording after a crash."""
    from voicecoach.store.record import RECOVERED

    return (record.get("live") or {}).get("stopped_because") == RECOVERED


def call_name(record: dict) -> str:
    """What the lists (``voicecoach history``, the review's History tab, ``team``) call a
    call: its recording's file name; a call coached live by the first problem the caller
    raised ("live call: my internet keeps dropping"), else "live call"; "live call
    (continued)" when it is the rest of a call cut by a lost input or a pause. Its own name says
    less: "call 1, <date>" (every shift has a call 1) or the file ``--record`` made. The
    lists show when the call began and its length beside the name already. Made from the
    record, so records of every version read alike."""
    if not (record.get("shift") or record.get("live")):
        return record["source"]["name"]
    problems = record.get("caller_problems") or []
    first = " ".join(str(problems[0].get("text") or "").split()) if problems else ""
    name = "live call (continued)" if (record.get("shift") or {}).get("started_by") in GOING_ON else "live call"
    return f"{name}: {first}" if first else name


def also_named(record: dict) -> str:
    """What the review's and the report's line under the title adds to :func:`call_name`:
    a shift's call by its number ("call 2 of its shift": the date is beside it already),
    another call by its own name where the lists name it otherwise; "" when they do not."""
    shift = record.get("shift") or {}
    if shift.get("call"):
        return f"call {shift['call']} of its shift"
    own = record["source"]["name"]
    return own if own != call_name(record) else ""


def plural(n: int, word: str, many: str = "") -> str:
    """``plural(1, "stretch", "stretches") == "1 stretch"``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def text_table(rows: Sequence[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    """The lines of a terminal table, as every command prints one: the first row is the
    header, a rule goes under it, the columns are aligned, numbers (the columns in
    ``right``) to the right and names to the left; what each row is comes first."""
    right = set(right)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.insert(1, "  ".join("─" * w for w in widths))
    return lines


def record_config(record: dict) -> "Config":
    """The settings a call was analysed with: the record's ``config`` over the defaults
    of :class:`voicecoach.config.Config` (the one place they are defined). Sections and
    names the defaults do not know are ignored, so older records still read."""
    from voicecoach.config import Config     # loads every analyzer's options: only when asked

    config = Config()
    for section, values in (record.get("config") or {}).items():
        options = getattr(config, section, None)
        if not dataclasses.is_dataclass(options) or not isinstance(values, dict):
            continue
        names = {f.name for f in dataclasses.fields(options)}
        for key, value in values.items():
            if key in names:
                setattr(options, key, value)
    return config


# --------------------------------------------------------------------------- scores

@dataclass(frozen=True)
class Turns:
    """Turn-taking of a two-sided call.

    Attributes
    ----------
    mine : list of float
        Onsets (s) of the agent's interruptions.
    theirs : int
        Interruptions by the caller.
    acknowledgements : int
        The agent's backchannels ("mm-hm" while listening).
    near_misses : int
        Fast turn changes (not interruptions).
    longest_monologue_s : float
    response_gaps : list of float
        Seconds from the caller stopping to the agent answering (measured ones only).
    dead_air : list of float
        Length (s) of each dead-air stretch.
    """

    mine: list[float]
    theirs: int
    acknowledgements: int
    near_misses: int
    longest_monologue_s: float
    response_gaps: list[float]
    dead_air: list[float]


@dataclass(frozen=True)
class Pace:
    """The agent's pace over the call and its zone (:func:`voicecoach.analyzers.pace.zone`).

    ``wpm`` is None without a transcript (or too few words); ``zone`` is that of ``wpm``.
    ``low``, ``high`` are the comfortable band and ``fast`` the fast threshold (words/min).
    """

    wpm: Optional[float]
    syllables_per_s: Optional[float]
    zone: Optional[str]
    low: float
    high: float
    fast: float

    @property
    def note(self) -> str:
        """The zone and what it means: ``"fast: slow down a little; comfortable is 140–190"``."""
        return f"{ZONE_TEXT[self.zone]}; comfortable is {self.low:.0f}–{self.high:.0f}" if self.zone else ""


@dataclass(frozen=True)
class CallScores:
    """Every score of a call, unformatted (times and lengths in s, shares 0–1).

    ``talk_share`` is None for a mono call (no caller channel) and ``{agent: None, ...}``
    when nobody spoke; ``turns`` is None without the caller's channel; ``warmth_mean``
    is None with too little speech; ``checklist`` is empty without a transcript.
    """

    talk_time: dict
    talk_share: Optional[dict]
    turns: Optional[Turns]
    pace: Pace
    warmth_mean: Optional[float]
    warmth_first_minute: Optional[float]
    warmth_baseline: Optional[str]
    low_warmth: float
    checklist: list[tuple[str, bool]]
    transcribed: bool

    @property
    def spoke(self) -> bool:
        """Anyone spoke (for a two-sided call)."""
        return self.talk_share is None or self.talk_share.get("agent") is not None

    @property
    def warm_enough(self) -> bool:
        return self.warmth_mean is not None and self.warmth_mean >= self.low_warmth


def call_scores(record: dict) -> CallScores:
    """The scores of a call record (``voicecoach.call/1``)."""
    config = record_config(record)
    turns = None
    if record.get("interruptions") is not None:
        ints = record["interruptions"]
        mine = [i["start"] for i in ints if i["by"] == "agent"]
        turns = Turns(mine=mine, theirs=len(ints) - len(mine),
                      acknowledgements=sum(1 for b in record.get("backchannels") or [] if b["by"] == "agent"),
                      near_misses=len(record.get("near_misses") or []),
                      longest_monologue_s=record.get("longest_agent_monologue") or 0.0,
                      response_gaps=[g for g in record.get("response_gaps") or [] if g >= 0],
                      dead_air=[d["end"] - d["start"] for d in record.get("dead_air") or []])
    pace, o = record["pace"], config.pace
    wpm = pace.get("agent_wpm")
    warmth = record.get("warmth") or {}
    return CallScores(
        talk_time=record["talk_time"], talk_share=record.get("talk_share"), turns=turns,
        pace=Pace(wpm=wpm, syllables_per_s=pace.get("syllables_per_s"), zone=zone(wpm, o),
                  low=o.band_low_wpm, high=o.band_high_wpm, fast=o.fast_wpm),
        warmth_mean=warmth.get("mean"), warmth_first_minute=warmth.get("first_minute_mean"),
        warmth_baseline=warmth.get("baseline"), low_warmth=config.warmth.low_warmth,
        checklist=checklist_items(record), transcribed=record.get("stt_model") is not None)


def ticked_live_only(record: dict) -> dict[str, tuple[Optional[float], str]]:
    """The checklist items the live words ticked during the call and the call record's
    better transcript does not have (:attr:`voicecoach.engine.Engine.ticked_live_only`):
    item -> (call time (s) of the live tick, or None when it was ticked in the part of
    the call before a cut, and where: "at 1:23" or "in call 4")."""
    live = record.get("live")
    got = live.get("ticked_live_only") if isinstance(live, dict) else None
    if not isinstance(got, dict):
        return {}
    out: dict[str, tuple[Optional[float], str]] = {}
    for k, v in got.items():
        t = v.get("t") if isinstance(v, dict) else None
        n = v.get("in_call") if isinstance(v, dict) else None
        if isinstance(t, (int, float)) and not isinstance(t, bool):
            out[k] = (float(t), f"at {clock(t)}")
        elif isinstance(n, int) and not isinstance(n, bool):
            out[k] = (None, f"in call {n}")
    return out


def checklist_items(record: dict) -> list[tuple[str, bool]]:
    """The call checklist as ``[(label, done), ...]`` (empty without a transcript)."""
    check = record.get("checklist")
    if not check:
        return []
    q = record.get("questions") or {"open": 0, "closed": 0}
    shift = record.get("shift") or {}
    before = set(shift.get("ticked_before") or ())
    live_only = ticked_live_only(record)

    def said(key: str, label: str, counts: str = "") -> tuple[str, bool]:
        where = f"in call {shift.get('continues')}" if key in before else ""  # the part before the cut
        live = (f"ticked live {live_only[key][1]}, not in the final transcript"
                if key in live_only and not check[key] else "")
        more = "; ".join(x for x in (counts, where, live) if x)
        return (f"{label} ({more})" if more else label), check[key]

    return [said("greeting", "greeting"), said("empathy", "empathy"),
            said("questions", "questions", f"{q['open']} open, {q['closed']} closed"),
            said("closing_question", "closing question")]


def rephrase_cues(record: dict) -> list[dict]:
    """The cues that come with a better way to say it (:data:`REPHRASE`), in call order."""
    return [c for c in record.get("cues") or [] if c["kind"] in REPHRASE]


def moments(record: dict) -> list[dict]:
    """The voice cues (warmth, monotone, pace, the caller heating up), in call order."""
    return [c for c in record.get("cues") or [] if cue_group(c["kind"]) == "voice"]


def marks(record: dict) -> list[dict]:
    """The moments the agent marked during the call (cues of kind ``"mark"``), in call order."""
    return sorted((c for c in record.get("cues") or [] if c["kind"] == "mark"), key=lambda c: c["t"])


def mark_text(agent: Optional[str] = None) -> str:
    """How a list names a marked moment: "Marked by you" (``agent`` names the agent in a
    coach's view, as :func:`agent_words` does)."""
    return f"Marked by {agent_words(agent)[0]}"


@dataclass(frozen=True)
class AfterCall:
    """What the after-call card shows: a few things to work on (with their time, None
    for the whole call), the follow-ups promised and the caller's list to confirm, and
    what was not checked ("" when everything was)."""

    work_on: list
    follow_ups: list
    callers_list: list
    unchecked: str = ""


def without_audio(record: dict) -> tuple[str, str]:
    """Why a call's timeline is drawn without its recording, and what it shows instead,
    as the review's timeline and the report both say it: ("not recorded" or "recording
    not found", "speech spans from the transcript" or "the call's markers only")."""
    from voicecoach.store.calls import not_recorded

    return ("not recorded" if not_recorded(record) else "recording not found",
            "speech spans from the transcript" if record.get("transcript") else "the call's markers only")


def after_call(record: dict, most: int = 3) -> AfterCall:
    """The after-call card's content: the ``most`` things to work on, most useful first
    (cutting in, a missing closing question or empathy, words to rephrase, pace, a cold
    voice), and the follow-up and caller's lists as ``[(t, text), ...]``."""
    s = call_scores(record)
    items: list[tuple[Optional[float], str]] = []
    if s.turns is not None and s.turns.mine:
        n = len(s.turns.mine)
        items.append((s.turns.mine[0], f"Let them finish: you cut in {plural(n, 'time')}"))
    done = dict((label.split(" (")[0], ok) for label, ok in s.checklist)
    live_only = ticked_live_only(record)

    def missing(key: str, tip: str) -> tuple[Optional[float], str]:
        # the agent saw this ticked during the call: say why the card disagrees
        if key not in live_only:
            return None, tip
        t, where = live_only[key]
        return t, f"{tip} (ticked live {'here' if t is not None else where}, not in the final transcript)"

    if s.checklist and not done.get("closing question", True):
        items.append(missing("closing_question", "Ask “anything else I can help with?” before you close"))
    if s.checklist and not done.get("empathy", True):
        items.append(missing("empathy", "Acknowledge the trouble: “I'm sorry this happened”"))
    for c in rephrase_cues(record)[:1]:
        alt = f" → “{c['suggestion']}”" if c.get("suggestion") else ""
        items.append((c["t"], f"Say it plainer: “{c.get('phrase', c['text'])}”{alt}"))
    if s.pace.wpm is not None and s.pace.zone == "fast":
        items.append((None, f"Slow down a little ({s.pace.wpm:.0f} words/min)"))
    if s.warmth_mean is not None and s.warmth_mean < s.low_warmth:
        items.append((None, "Smile while you talk: it is heard"))
    if s.checklist and not done.get("greeting", True):
        items.append(missing("greeting", "Open with a greeting and your name"))
    words_off = "transcript" in (record.get("unavailable") or [])
    return AfterCall(work_on=items[:most],
                     follow_ups=[(c["t"], c["text"]) for c in record.get("commitments") or []],
                     callers_list=[(c["t"], c["text"]) for c in record.get("caller_problems") or []],
                     unchecked=("Your words were not checked (speech-to-text was off): no checklist, "
                                "rephrasing or follow-ups." if words_off else ""))


# --------------------------------------------------------------------------- scorecard

@dataclass(frozen=True)
class ScoreRow:
    """One line of the scorecard.

    Attributes
    ----------
    label : str
        What is measured ("Talk share").
    value : str
        The headline value ("59 % you").
    detail : str
        One line of context ("caller 41 %; 35 s / 24 s").
    status : str
        ``"good"``, ``"watch"`` (worth a look next call), ``"info"`` or ``"na"`` (unavailable).
    """

    label: str
    value: str
    detail: str
    status: str


def clock_list(times: Sequence[float], most: int = 4) -> str:
    """The first ``most`` of ``times`` (s) as clock times, "…" when there are more.

    >>> clock_list([43.0, 143.0, 152.0, 162.0, 261.0])
    '0:43, 2:23, 2:32, 2:42 …'
    """
    return ", ".join(clock(x) for x in times[:most]) + (" …" if len(times) > most else "")


def scorecard(record: dict, agent: Optional[str] = None) -> list[ScoreRow]:
    """The scorecard of a call (report and review): talk share, interruptions,
    acknowledgements, monologue, response gaps, dead air, warmth and pace (the
    checklist is :func:`checklist_items`); ``agent`` names the agent (a coach's view),
    else the rows say "you"."""
    who, whose = agent_words(agent)
    s = call_scores(record)
    talk, share = s.talk_time, s.talk_share
    rows = []
    if share is None:
        rows.append(ScoreRow("Talk share", f"{talk['agent']:.0f} s {who}", "no caller channel", "na"))
    elif not s.spoke:
        rows.append(ScoreRow("Talk share", "–", "no speech heard on either side", "na"))
    else:
        rows.append(ScoreRow("Talk share", f"{share['agent'] * 100:.0f} % {who}",
                             f"caller {(share.get('customer') or 0.0) * 100:.0f} %; "
                             f"{talk['agent']:.0f} s / {talk.get('customer') or 0.0:.0f} s talking", "info"))

    t = s.turns
    if t is not None:
        when = f"at {clock_list(t.mine)}; " if t.mine else ""
        rows.append(ScoreRow("Interruptions", f"{len(t.mine)} by {who}", f"{when}{t.theirs} by the caller",
                             "watch" if t.mine else "good"))
        rows.append(ScoreRow("Acknowledgements", str(t.acknowledgements),
                             f"{whose} “mm-hm”s while listening; {plural(t.near_misses, 'fast turn change')}",
                             "good" if t.acknowledgements else "info"))
        rows.append(ScoreRow("Longest monologue", f"{t.longest_monologue_s:.0f} s",
                             f"{whose} longest run with the caller only listening", "info"))
        gaps = t.response_gaps
        rows.append(ScoreRow("Response gaps",
                             f"{median(gaps):.1f} s median" if gaps else "–",
                             f"{plural(len(gaps), 'answer')}, longest {max(gaps):.1f} s" if gaps
                             else "no answers after the caller measured", "info" if gaps else "na"))
        rows.append(ScoreRow("Dead air", plural(len(t.dead_air), "stretch", "stretches"),
                             f"longest {max(t.dead_air):.1f} s" if t.dead_air else "no long silences",
                             "watch" if t.dead_air else "good"))
    else:
        rows.append(ScoreRow("Interruptions", "–", "need the caller's channel", "na"))

    if s.warmth_mean is not None:
        first = s.warmth_first_minute
        rows.append(ScoreRow("Warmth", f"{s.warmth_mean:.2f}",
                             (f"first minute {first:.2f}; " if first is not None else "")
                             + (f"0.5 = {whose} ordinary voice (voice profile)" if s.warmth_baseline == "profile"
                                else f"0.5 = {whose} voice earlier in this call"),   # as the summary says
                             "good" if s.warm_enough else "watch"))
    else:
        rows.append(ScoreRow("Warmth", "–", "not enough speech to judge", "na"))

    p = s.pace
    syl_text = f"{p.syllables_per_s:.1f} syllables/s" if p.syllables_per_s is not None else ""
    if p.wpm is not None:
        rows.append(ScoreRow("Pace", f"{p.wpm:.0f} words/min", p.note + (f"; {syl_text}" if syl_text else ""),
                             "good" if p.zone == "comfortable" else "watch"))
    elif syl_text:
        rows.append(ScoreRow("Pace", syl_text, "no transcript: words/min unavailable", "info"))
    else:
        rows.append(ScoreRow("Pace", "–", "not enough speech", "na"))
    return rows


# --------------------------------------------------------------------------- transcript

@dataclass(frozen=True)
class Line:
    """One transcript line: a sentence (or a stretch between pauses) of one side (s)."""

    channel: str
    start: float
    end: float
    text: str


def transcript_lines(record: dict, gap_s: Optional[float] = None) -> list[Line]:
    """The transcript as lines of both sides in time order.

    Each side's words are joined across segments (speech-to-text pieces often end
    mid-sentence) and cut into lines by :func:`voicecoach.events.split_lines` (after a
    sentence's last word, and at pauses), so a line stays short enough to follow while
    listening.

    Parameters
    ----------
    record : dict
    gap_s : float, optional
        A pause (s) that ends a line; default the record's ``language.sentence_gap_s``.
    """
    if gap_s is None:
        gap_s = record_config(record).language.sentence_gap_s
    lines = []
    for ch in record["source"]["channels"]:
        words = []
        for seg in sorted((s for s in record.get("transcript") or [] if s["channel"] == ch),
                          key=lambda s: s["start"]):
            for w in seg.get("words") or [{"start": seg["start"], "end": seg["end"], "text": seg["text"]}]:
                words.append(Word(ch, w["start"], w["end"], w["text"]))
        lines += [Line(ch, ws[0].start, ws[-1].end, line_text(ws)) for ws in split_lines(words, gap_s)]
    lines.sort(key=lambda ln: (ln.start, ln.channel))
    return lines


def line_at(lines: list[Line], t: float) -> int:
    """Index of the line being spoken at ``t`` (s): the latest started one, or -1."""
    current = -1
    for i, ln in enumerate(lines):
        if ln.start > t:
            break
        current = i
    return current


# --------------------------------------------------------------------------- timeline

def marker_spans(record: dict, agent: Optional[str] = None) -> list[tuple[str, float, float, str]]:
    """Turn-taking markers as ``(role, start_s, end_s, tooltip)``; ``role`` is a PALETTE key;
    ``agent`` names the agent as :func:`agent_words` does."""
    who = agent_words(agent)[0]
    spans = []
    for d in record.get("dead_air") or []:
        spans.append(("dead_air", d["start"], d["end"],
                      f"{TURN_NAMES['dead_air']} {clock(d['start'])}, {d['end'] - d['start']:.1f} s of silence"))
    for i in record.get("interruptions") or []:
        mine = i["by"] == "agent"
        by = ("You" if who == "you" else who) if mine else "The caller"
        spans.append(("interruption" if mine else "caller_interruption", i["start"], i["end"],
                      f"{by} interrupted at {clock(i['start'])}"))
    for b in record.get("backchannels") or []:
        by = who if b["by"] == "agent" else "the caller"
        spans.append(("backchannel", b["start"], b["end"],
                      f"{TURN_NAMES['backchannel']} by {by} at {clock(b['start'])} (good listening)"))
    for m in record.get("near_misses") or []:
        spans.append(("near_miss", m["start"], m["end"],
                      f"{TURN_NAMES['near_miss']} at {clock(m['start'])} (not an interruption)"))
    return spans


def cue_line(cue: dict) -> str:
    """A cue (a record's ``cues`` item: ``text``, ``kind``, ``suggestion``) as one readable
    line with its suggestion: ``'Jargon: "DNS" → a setting'``."""
    text = cue.get("text") or cue["kind"]
    if cue.get("suggestion") and "->" not in text:
        text += f" → {cue['suggestion']}"
    return text.replace(" -> ", " → ")


def timeline_cues(record: dict) -> list[dict]:
    """The cues the timeline's cue row shows: the record's ``cues``, and the nudges a live
    call showed (``nudges``) as cues of kind ``"nudge"``, so the agent sees what they were
    told and when; in call order."""
    nudges = [{"kind": "nudge", "t": float(n["t"]), "channel": n.get("channel") or "agent",
               "text": f"Nudge shown: {n.get('text') or n['kind']}"} for n in record.get("nudges") or []]
    return sorted(list(record.get("cues") or []) + nudges, key=lambda c: c["t"])


def cue_tooltip(cue: dict) -> str:
    """A cue as one readable line with its time (and suggestion)."""
    return f"{clock(cue['t'])} {cue_line(cue)}"


def pace_points(record: dict) -> list:
    """The pace curve ``[[t_s, words/min], ...]``; empty without a transcript (no words)."""
    pace = record["pace"]
    return list(pace.get("timeline") or []) if pace.get("agent_wpm") is not None else []


def pace_range(record: dict) -> tuple[float, float]:
    """The y range (words/min) that shows the pace curve, the comfortable band and the
    fast threshold."""
    o = record_config(record).pace
    values = [v for _, v in pace_points(record)]
    lo = min(values + [o.band_low_wpm])
    hi = max(values + [o.band_high_wpm, o.fast_wpm])
    return float(np.floor(lo / 20.0 - 1) * 20.0), float(np.ceil(hi / 20.0 + 1) * 20.0)


def peak_envelope(samples: np.ndarray, n_bins: int) -> np.ndarray:
    """Peak absolute amplitude in ``n_bins`` equal spans of a signal.

    Parameters
    ----------
    samples : np.ndarray [shape=(n,)], float
    n_bins : int > 0

    Returns
    -------
    peak : np.ndarray [shape=(min(n_bins, n),)], float32 (empty for no samples)
    """
    n = len(samples)
    if n == 0:
        return np.zeros(0, np.float32)
    n_bins = max(1, min(n_bins, n))
    edges = (np.arange(n_bins) * n) // n_bins
    return np.maximum.reduceat(np.abs(samples), edges).astype(np.float32)


def level_scale(peak: np.ndarray, floor_db: float = -60.0) -> np.ndarray:
    """Map peak amplitude to 0–1 on a dB scale (``floor_db`` dBFS → 0, 0 dBFS → 1), so
    quiet speech stays visible beside loud speech."""
    db = 20.0 * np.log10(np.maximum(peak, 1e-9))
    return np.clip((db - floor_db) / -floor_db, 0.0, 1.0)


def not_a_call(dropped: dict) -> str:
    """Why a stretch of sound was not kept as a call, as the agent reads it."""
    from voicecoach.calldetect import UNHEARD

    why = dropped.get("why") or "too short, or nobody spoke"
    if why == UNHEARD:
        return ("you said nothing in it: a recording played back? If you spoke, check your mic "
                "(`voicecoach devices`)")
    return why
