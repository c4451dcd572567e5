"""The readable summary of a call record, for the terminal."""
from __future__ import annotations

from statistics import median

REPHRASE = ("jargon", "scary", "patronizing", "negative")
CARE_NOTE = "Scores are for your own practice: never a way to rank, pay or judge anyone."


def clock(t: float) -> str:
    """Seconds as m:ss."""
    t = max(0, int(round(t)))
    return f"{t // 60}:{t % 60:02d}"


def plural(n: int, word: str, many: str = "") -> str:
    """``plural(1, "stretch", "stretches") == "1 stretch"``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def summary_text(rec: dict) -> str:
    """Format a call record as a short report (plain text, one screen)."""
    chans = rec["source"]["channels"]
    who = "agent + customer" if "customer" in chans else "agent only"
    lines = [f"VoiceCoach — {rec['source']['name']} ({clock(rec['duration'])}, {who})", ""]

    def row(label, text):
        lines.append(f"{label:<12}{text}")

    talk = rec["talk_time"]
    if rec["talk_share"] and rec["talk_share"]["agent"] is None:
        row("Talk", "no speech heard on either side")
    elif rec["talk_share"]:
        share = rec["talk_share"]
        row("Talk", f"you {share['agent'] * 100:.0f} % ({talk['agent']:.0f} s), "
                    f"caller {share['customer'] * 100:.0f} % ({talk['customer']:.0f} s)")
    else:
        row("Talk", f"you {talk['agent']:.0f} s (no caller channel: turn-taking unavailable)")

    if rec["interruptions"] is not None:
        mine = [i for i in rec["interruptions"] if i["by"] == "agent"]
        theirs = len(rec["interruptions"]) - len(mine)
        when = (" at " + ", ".join(clock(i["start"]) for i in mine[:5])) if mine else ""
        row("Turns", f"you interrupted {len(mine)}×{when}; the caller interrupted {theirs}×")
        bc = sum(1 for b in rec["backchannels"] if b["by"] == "agent")
        row("", f"{plural(bc, 'acknowledgement')} while listening (good); "
                f"{plural(len(rec['near_misses']), 'fast turn change')} (not interruptions)")
        gaps = [g for g in rec["response_gaps"] if g >= 0]
        gap = f"answers after {median(gaps):.1f} s (median)" if gaps else "no response gaps measured"
        dead = (f"{plural(len(rec['dead_air']), 'dead-air stretch', 'dead-air stretches')}, longest "
                f"{max(d['end'] - d['start'] for d in rec['dead_air']):.0f} s"
                if rec["dead_air"] else "no dead air")
        row("", f"longest monologue {rec['longest_agent_monologue']:.0f} s; {gap}; {dead}")

    pace = rec["pace"]
    parts = []
    if pace["agent_wpm"] is not None:
        band = rec["config"]["pace"]
        wpm = pace["agent_wpm"]
        zone = ("fast: slow down a little" if wpm > band["band_high_wpm"] else
                "slow" if wpm < band["band_low_wpm"] else "comfortable")
        parts.append(f"{wpm:.0f} words/min ({zone}; comfortable is "
                     f"{band['band_low_wpm']:.0f}–{band['band_high_wpm']:.0f})")
    if pace.get("syllables_per_s") is not None:
        parts.append(f"{pace['syllables_per_s']:.1f} syllables/s")
    row("Pace", ", ".join(parts) if parts else "not enough speech")

    w = rec["warmth"]
    if w.get("mean") is not None:
        base = "your voice profile" if w.get("baseline") == "profile" else "your voice earlier in this call"
        first = (f", first minute {w['first_minute_mean']:.2f}"
                 if w.get("first_minute_mean") is not None else "")
        row("Warmth", f"{w['mean']:.2f} on 0–1 (0.5 = your ordinary voice){first}; against {base}")
    else:
        row("Warmth", "not enough speech to judge")

    if rec.get("checklist"):
        c, q = rec["checklist"], rec["questions"]
        mark = lambda ok: "✓" if ok else "✗"  # noqa: E731
        row("Checklist", f"{mark(c['greeting'])} greeting  {mark(c['empathy'])} empathy  "
                         f"{mark(c['questions'])} questions ({q['open']} open, {q['closed']} closed)  "
                         f"{mark(c['closing_question'])} closing question")
    elif rec["stt_model"] is None:
        row("Checklist", "transcription was off: word-based cues unavailable")

    rephrase = [c for c in rec["cues"] if c["kind"] in REPHRASE]
    for i, c in enumerate(rephrase[:8]):
        alt = f" → {c['suggestion']}" if c.get("suggestion") else ""
        row("Rephrase" if i == 0 else "", f"{clock(c['t'])} {c['kind']}: “{c.get('phrase', c['text'])}”{alt}")
    if len(rephrase) > 8:
        row("", f"… and {len(rephrase) - 8} more (see --json)")

    for i, c in enumerate(rec.get("commitments") or []):
        row("Follow up" if i == 0 else "", f"{clock(c['t'])} “{c['text']}”")
    for i, c in enumerate(rec.get("caller_problems") or []):
        row("Caller said" if i == 0 else "", f"{clock(c['t'])} “{c['text']}”")

    nudges = [c for c in rec["cues"] if c["kind"] in ("low_warmth", "monotone", "caller_heated", "fast_pace")]
    for i, c in enumerate(nudges[:6]):
        row("Moments" if i == 0 else "", f"{clock(c['t'])} {c['text']}")
    if rec["unavailable"]:
        lines.append("")
        lines.append("Unavailable for this recording: " + ", ".join(rec["unavailable"]))
    lines += ["", CARE_NOTE]
    return "\n".join(lines)
