"""The call record: everything about a finished call, as versioned JSON.

``analyze --json``, ``live --record``, the review window, the HTML report and the
history all read and write this one format (README.md documents every field); where
records are saved, and how, is :mod:`voicecoach.store.calls`.
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Optional

from voicecoach import __version__
from voicecoach.analyzers.turns import talk_time_s

SCHEMA = "voicecoach.call/1"


class RecordError(Exception):
    """A file that is not a call record this version can read (one clear line)."""


def build_record(engine, transcript: list, *, name: str, duration: float,
                 model: Optional[str]) -> dict:
    """Assemble the record from a finished :class:`voicecoach.engine.Engine`."""
    two = engine.turns is not None
    turns = engine.turns.summary() if two else None
    if two:
        talk = turns["talk_time"]
    else:
        o = engine.config.turns
        spans = [(seg.start, seg.end) for seg in engine.vad["agent"].segments]
        talk = {"agent": round(talk_time_s(spans, turn_pause_s=o.turn_pause_s,
                                           backchannel_max_s=o.backchannel_max_s), 3),
                "customer": None}
    n_agent_words = len(engine.words.get("agent", []))
    pace_state = engine.pace.state()
    agent_minutes = talk["agent"] / 60.0
    language = engine.language.summary()
    unavailable = [] if two else ["interruptions", "backchannels", "near_misses", "talk_share",
                                   "dead_air", "response_gaps", "caller_arousal", "caller_problems"]
    if model is None:
        unavailable += ["transcript", "pace.agent_wpm", "language cues"]
    return {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "voicecoach_version": __version__,
        "source": {"name": name, "channels": list(engine.channels)},
        "duration": round(duration, 3),
        "stt_model": model,
        "unavailable": unavailable,
        "talk_time": talk,
        "talk_share": turns["talk_share"] if two else None,
        "interruptions": turns["interruptions"] if two else None,
        "backchannels": turns["backchannels"] if two else None,
        "near_misses": turns["near_misses"] if two else None,
        "dead_air": turns["dead_air"] if two else None,
        "response_gaps": turns["response_gaps"] if two else None,
        "longest_agent_monologue": turns["longest_agent_monologue"] if two else None,
        "pace": {
            "agent_wpm": (round(n_agent_words / agent_minutes, 1)
                          if model is not None and agent_minutes > 0 else None),
            "agent_words": n_agent_words if model is not None else None,
            "syllables_per_s": pace_state.get("syllables_per_s"),
            "timeline": engine.pace.timeline(),
        },
        "warmth": engine.warmth.summary(),
        "caller_arousal": engine.arousal.summary() if engine.arousal is not None else None,
        "checklist": language["checklist"] if model is not None else None,
        "questions": language["questions"] if model is not None else None,
        "commitments": language["commitments"] if model is not None else None,
        "caller_problems": language["caller_problems"] if (model is not None and two) else None,
        "language_counts": language["counts"] if model is not None else None,
        "transcript": [seg.as_dict() for seg in transcript],
        "cues": engine.cues(),
        "config": engine.config.as_dict(),
    }


def load_record(path: str | Path) -> dict:
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: not a call record ({exc.__class__.__name__})") from None
    schema = record.get("schema") if isinstance(record, dict) else None
    if not isinstance(schema, str) or not schema.startswith("voicecoach.call/"):
        raise RecordError(f"{path}: not a VoiceCoach call record (no schema field)")
    if schema != SCHEMA:
        raise RecordError(f"{path}: call record format {schema}; this version reads {SCHEMA}")
    return record
