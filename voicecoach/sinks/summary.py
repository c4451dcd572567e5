"""The readable summary of a call record, for the terminal: the view model
(:mod:`voicecoach.sinks.view`) as plain text, one screen."""
from __future__ import annotations

import textwrap
from statistics import median
from typing import Optional

from voicecoach.sinks.view import (
    CARE_NOTE,
    call_scores,
    clock,
    clock_list,
    moments,
    plural,
    rephrase_cues,
    unavailable_text,
)


def summary_text(rec: dict, width: Optional[int] = None) -> str:
    """Format a call record as a short report (plain text, one screen). ``width``: the
    terminal's columns, when shown in one: a row longer than that is wrapped at its words,
    under its text (left to the terminal, it broke mid-word at the line's first column)."""
    s = call_scores(rec)
    chans = rec["source"]["channels"]
    who = "agent + customer" if "customer" in chans else "agent only"
    lines = [f"VoiceCoach — {rec['source']['name']} ({clock(rec['duration'])}, {who})", ""]

    def row(label, text):
        if width is None or width - 12 < 20:      # too narrow to keep the label column
            lines.append(f"{label:<12}{text}")
            return
        for i, part in enumerate(textwrap.wrap(text, width - 12, break_on_hyphens=False) or [""]):
            lines.append(f"{label if i == 0 else '':<12}{part}")

    talk, share = s.talk_time, s.talk_share
    if share is None:
        row("Talk", f"you {talk['agent']:.0f} s (no caller channel: turn-taking unavailable)")
    elif not s.spoke:
        row("Talk", "no speech heard on either side")
    else:
        row("Talk", f"you {share['agent'] * 100:.0f} % ({talk['agent']:.0f} s), "
                    f"caller {share['customer'] * 100:.0f} % ({talk['customer']:.0f} s)")

    t = s.turns
    if t is not None:
        when = f" at {clock_list(t.mine)}" if t.mine else ""
        row("Turns", f"you interrupted {len(t.mine)}×{when}; the caller interrupted {t.theirs}×")
        row("", f"{plural(t.acknowledgements, 'acknowledgement')} while listening"
                f"{' (good)' if t.acknowledgements else ''}; "
                f"{plural(t.near_misses, 'fast turn change')} (not interruptions)")
        gap = (f"answers after {median(t.response_gaps):.1f} s (median)" if t.response_gaps
               else "no response gaps measured")
        dead = (f"{plural(len(t.dead_air), 'dead-air stretch', 'dead-air stretches')}, longest "
                f"{max(t.dead_air):.1f} s" if t.dead_air else "no dead air")
        row("", f"longest monologue {t.longest_monologue_s:.0f} s; {gap}; {dead}")

    p = s.pace
    parts = []
    if p.wpm is not None:
        parts.append(f"{p.wpm:.0f} words/min ({p.note})")
    if p.syllables_per_s is not None:
        parts.append(f"{p.syllables_per_s:.1f} syllables/s")
    row("Pace", ", ".join(parts) if parts else "not enough speech")

    if s.warmth_mean is not None:
        base = "your voice profile" if s.warmth_baseline == "profile" else "your voice earlier in this call"
        first = (f", first minute {s.warmth_first_minute:.2f}"
                 if s.warmth_first_minute is not None else "")
        row("Warmth", f"{s.warmth_mean:.2f} on 0–1 (0.5 = your ordinary voice){first}; against {base}")
    else:
        row("Warmth", "not enough speech to judge")

    if s.checklist:
        row("Checklist", "  ".join(f"{'✓' if ok else '✗'} {label}" for label, ok in s.checklist))
    elif not s.transcribed:
        row("Checklist", "transcription was off: word-based cues unavailable")

    rephrase = rephrase_cues(rec)
    for i, c in enumerate(rephrase[:8]):
        alt = f" → {c['suggestion']}" if c.get("suggestion") else ""
        row("Rephrase" if i == 0 else "", f"{clock(c['t'])} {c['kind']}: “{c.get('phrase', c['text'])}”{alt}")
    if len(rephrase) > 8:
        row("", f"… and {len(rephrase) - 8} more (see --json)")

    for i, c in enumerate(rec.get("commitments") or []):
        row("Follow up" if i == 0 else "", f"{clock(c['t'])} “{c['text']}”")
    for i, c in enumerate(rec.get("caller_problems") or []):
        row("Caller said" if i == 0 else "", f"{clock(c['t'])} “{c['text']}”")

    for i, c in enumerate(moments(rec)[:6]):
        row("Moments" if i == 0 else "", f"{clock(c['t'])} {c['text']}")
    if rec["unavailable"]:
        lines.append("")
        lines.append(unavailable_text(rec))
    lines += ["", CARE_NOTE]
    if width is not None and width >= 32:     # the header, the notes: wrapped at words too
        lines = [part for line in lines
                 for part in (textwrap.wrap(line, width, subsequent_indent=" " * (12 if line[:12].isspace() else 0),
                                            break_on_hyphens=False) or [""])]
    return "\n".join(lines)
