"""The call record: everything about a finished call, as versioned JSON.

``analyze --json``, ``live --record``, the review window, the HTML report and the
history all read and write this one format (README.md documents every field); where
records are saved, and how, is :mod:`voicecoach.store.calls`.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Optional

from voicecoach import __version__
from voicecoach.analyzers.turns import talk_time_s

SCHEMA = "voicecoach.call/1"


class RecordError(Exception):
    """A file that is not a call record this version can read (one clear line)."""


def printable_name(name: str) -> str:
    """A file name as a call record keeps it: text every reader can store and print. A
    byte that is not UTF-8 (``os.fsdecode`` gives it as a surrogate) becomes "\ufffd", a
    control character (a newline, a carriage return, an escape) "?".

    >>> printable_name("caf\udce9.wav"), printable_name("a\rb.wav")
    ('caf\ufffd.wav', 'a?b.wav')
    """
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"[\x00-\x1f\x7f]", "?", name)


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
        "source": {"name": printable_name(name), "channels": list(engine.channels)},
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
            # no rate from a fragment, as for syllables: it would move the pace trend
            "agent_wpm": (round(n_agent_words / agent_minutes, 1)
                          if model is not None and talk["agent"] >= engine.config.pace.min_speech_s
                          and agent_minutes > 0 else None),
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


MAX_RECORD_BYTES = 64 * 1024 * 1024
"""A larger file is not a call record (a 4-hour call's record is a few MB)."""
MAX_RECORD_S = 24 * 3600.0
"""No time in a record may exceed this (s): bounds every loop over a call's length."""

_T = {"type": "number", "minimum": 0, "maximum": MAX_RECORD_S}          # a time on the call clock
_NUM = {"type": "number", "minimum": -1e9, "maximum": 1e9}
_OPT_NUM = {"anyOf": [_NUM, {"type": "null"}]}
_PRINTABLE = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$"    # no terminal escapes (ESC [ ...)
_TEXT = {"type": "string", "maxLength": 100_000, "pattern": _PRINTABLE}
_CHANNEL = {"enum": ["agent", "customer"]}
_POINTS = {"type": "array", "items": {"type": "array", "prefixItems": [_T, _NUM], "minItems": 2, "maxItems": 2}}


def recorded_at(path: str | Path, duration: float) -> Optional[str]:
    """When the call in the recording at ``path`` started, as a record's ``created``
    (UTC, ISO 8601): the file's last change less the call's ``duration`` (s), since a
    recording is written until the call ends. None when the file cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     os.utime(f.name, (0, 1_764_000_090))
    ...     recorded_at(f.name, 90.0)
    '2025-11-24T16:00:00+00:00'
    """
    try:
        end = Path(path).stat().st_mtime
    except OSError:
        return None
    return _dt.datetime.fromtimestamp(end - duration, _dt.timezone.utc).isoformat(timespec="seconds")


RECOVERED = "the program stopped mid-call: recovered from its recording"
"""``live.stopped_because`` of a live call rebuilt from its recording after a crash
(:mod:`voicecoach.store.recovery`): what happened during the call itself, such as the
moments the agent marked, went with the program."""


def date_by_recording(record: dict, recording: str | Path) -> dict:
    """Date a record just made from ``recording`` by when its call was recorded
    (:func:`recorded_at`), not when it was analysed: last week's recording opened today
    is last week's call in the history and the trend, and shared twice it is one call
    (its id is made from ``created``). The one rule for ``analyze``, ``review``/``report``
    of a recording without a record, and a recording recovered after a crash. The demo
    keeps the time it was analysed (it is nobody's call). Returns ``record``."""
    if not record.get("demo"):
        record["created"] = recorded_at(recording, record["duration"]) or record["created"]
    return record


def is_demo(record: dict, record_path: str | Path | None = None) -> bool:
    """Whether ``record`` is of the packaged demo call, not one of the agent's: marked
    ``"demo"``, or (given ``record_path``) the data folder's ``records/demo_call.json``,
    where versions before the mark kept the demo's record, so no path puts the demo in
    the history or shares it."""
    if record.get("demo"):
        return True
    if record_path is None or (record.get("source") or {}).get("name") != "demo_call.flac":
        return False
    from voicecoach.store.private import records_dir

    try:
        return Path(record_path).resolve() == (records_dir() / "demo_call.json").resolve()
    except (OSError, RuntimeError):
        return False


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _spans(by: bool) -> dict:
    item = {"type": "object", "required": ["start", "end"] + (["by"] if by else []),
            "properties": {"start": _T, "end": _T, **({"by": _CHANNEL} if by else {})}}
    return _nullable({"type": "array", "items": item})


_FRACTION = _nullable({"type": "number", "minimum": 0, "maximum": 1})   # warmth: 0-1

_NOTES = _nullable({"type": "array", "items": {"type": "object", "required": ["t", "text"],
                                                "properties": {"t": _T, "text": _TEXT}}})

RECORD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "source", "duration", "talk_time", "pace"],
    "properties": {
        "schema": {"const": SCHEMA},
        "created": {"type": ["string", "null"], "maxLength": 64,
                    "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"},      # ISO 8601, as written
        "source": {"type": "object", "required": ["name", "channels"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": _PRINTABLE},
            "channels": {"type": "array", "items": _CHANNEL, "minItems": 1, "maxItems": 2,
                         "uniqueItems": True, "prefixItems": [{"const": "agent"}]},
            "agent_channel": {"enum": ["left", "right"]}}},      # absent: left
        "duration": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RECORD_S},
        "stt_model": {"type": ["string", "null"], "maxLength": 1000},
        "unavailable": _nullable({"type": "array", "items": _TEXT}),
        "talk_time": {"type": "object", "required": ["agent"],
                      "properties": {"agent": _T, "customer": _nullable(_T)}},
        "talk_share": _nullable({"type": "object", "properties": {
            "agent": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "customer": _nullable({"type": "number", "minimum": 0, "maximum": 1})}}),
        "interruptions": _spans(True), "backchannels": _spans(True), "near_misses": _spans(True),
        "dead_air": _spans(False),
        "response_gaps": _nullable({"type": "array", "items": _NUM}),
        "longest_agent_monologue": _nullable(_T),
        "pace": {"type": "object", "properties": {
            "agent_wpm": _OPT_NUM, "agent_words": _OPT_NUM, "syllables_per_s": _OPT_NUM,
            "timeline": _nullable(_POINTS)}},
        "warmth": _nullable({"type": "object", "properties": {
            "mean": _FRACTION, "first_minute_mean": _FRACTION, "timeline": _nullable(_POINTS),
            "baseline": {"type": ["string", "null"], "maxLength": 1000}}}),
        "caller_arousal": {"type": ["object", "null"]},
        "checklist": _nullable({"type": "object",
                                "required": ["greeting", "empathy", "questions", "closing_question"],
                                "additionalProperties": {"type": "boolean"}}),
        "questions": _nullable({"type": "object", "required": ["open", "closed"], "properties": {
            "open": {"type": "integer", "minimum": 0, "maximum": 1e6},
            "closed": {"type": "integer", "minimum": 0, "maximum": 1e6}}}),
        "commitments": _NOTES, "caller_problems": _NOTES,
        "language_counts": {"type": ["object", "null"]},
        "transcript": _nullable({"type": "array", "items": {
            "type": "object", "required": ["channel", "start", "end", "text"], "properties": {
                "channel": _CHANNEL, "start": _T, "end": _T, "text": _TEXT,
                "words": _nullable({"type": "array", "items": {
                    "type": "object", "required": ["start", "end", "text"], "properties": {
                        "start": _T, "end": _T, "text": _TEXT, "probability": _OPT_NUM}}})}}}),
        "cues": _nullable({"type": "array", "items": {
            "type": "object", "required": ["t", "kind"], "properties": {
                "t": _T, "end": _T, "kind": {"type": "string", "maxLength": 100}, "text": _TEXT,
                "channel": _nullable(_CHANNEL), "suggestion": _nullable(_TEXT),
                "phrase": _nullable(_TEXT), "by": _nullable(_TEXT)}}}),
        "config": {"type": ["object", "null"],
                   "additionalProperties": {"type": "object"}},
        "nudges": {"type": ["array", "null"]},
        "live": {"type": ["object", "null"]},
        "shift": {"type": ["object", "null"]},
    },
}
"""What every view may rely on in a call record (JSON Schema, draft 2020-12): types,
the two channel names, and every time within :data:`MAX_RECORD_S`."""


def check_record(record, where: str = "call record") -> dict:
    """Refuse a record the views cannot show safely (wrong types, unknown channels, times
    out of range, settings of the wrong type): one :class:`RecordError` line naming the
    first problem. The single check that ``report``, ``review`` and ``history`` share.

    Returns
    -------
    dict
        ``record``, unchanged.
    """
    import jsonschema

    if not isinstance(record, dict):
        kind = {list: "a list", str: "a string", bool: "true or false", int: "a number",
                float: "a number", type(None): "null"}.get(type(record), type(record).__name__)
        raise RecordError(f"{where}: not a VoiceCoach call record (its JSON is {kind}, not an object)")
    schema = record.get("schema")
    if not isinstance(schema, str) or not schema.startswith("voicecoach.call/"):
        from voicecoach.analyzers.profile import PROFILE_KIND

        if record.get("kind") == PROFILE_KIND:
            raise RecordError(f"{where}: a voice profile (from `voicecoach calibrate`), not a call record")
        why = "no schema field" if schema is None else f"its schema is {_short(repr(schema), 40)}, not {SCHEMA}"
        raise RecordError(f"{where}: not a VoiceCoach call record ({why})")
    if schema != SCHEMA:
        raise RecordError(f"{where}: call record format {schema[:40]}; this version reads {SCHEMA}")
    error = jsonschema.exceptions.best_match(_validator().iter_errors(record))
    if error is not None:
        field = error.json_path.removeprefix("$.") if error.json_path != "$" else "the record"
        raise RecordError(f"{where}: not a valid call record: {field}: {_short(error.message)}")
    _check_settings(record.get("config") or {}, where)
    return record


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


_VALIDATOR = None


def _validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        import jsonschema

        _VALIDATOR = jsonschema.Draft202012Validator(RECORD_SCHEMA)
    return _VALIDATOR


def _check_settings(settings: dict, where: str) -> None:
    """The record's settings, as the views read them over the defaults: each known one
    must pass the config file's own checks (unknown ones are ignored: older records)."""
    import dataclasses

    from voicecoach.config import Config, ConfigError, coerce

    config = Config()
    for section, values in settings.items():
        options = getattr(config, section, None)
        if not dataclasses.is_dataclass(options):
            continue
        names = {f.name for f in dataclasses.fields(options)}
        for key, value in values.items():
            if key in names and not (value is None and getattr(options, key) is None):
                try:
                    coerce(value, getattr(options, key), f"config [{section}] {key}")
                except ConfigError as exc:
                    raise RecordError(f"{where}: not a valid call record: {_short(str(exc))}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number a call record may hold")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):            # 1e400 parses as infinity
        raise ValueError(f"{text[:40]} is not a number a call record may hold")
    return value


def load_record(path: str | Path) -> dict:
    """Read and check (:func:`check_record`) a call record file.

    Raises
    ------
    RecordError
        Missing, unreadable, too large, not JSON (NaN and Infinity are not JSON), nested
        too deep, or not a valid call record: one line.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise RecordError(f"{path}: {path.stat().st_size / 2**20:.0f} MB is too large to be a call record")
        if not path.is_file() and not path.is_dir():     # a FIFO would block, a device never end
            raise RecordError(f"{path}: not a call record (a device, pipe or socket)")
        text = path.read_text(encoding="utf-8")
        record = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except FileNotFoundError:
        raise RecordError(f"{path}: no such file") from None
    except PermissionError:
        raise RecordError(f"{path}: permission denied") from None
    except RecursionError:
        raise RecordError(f"{path}: not a call record (nested too deep)") from None
    except json.JSONDecodeError as exc:
        if not exc.doc.strip():
            raise RecordError(f"{path}: not a call record (the file is empty)") from None
        raise RecordError(f"{path}: not a call record (not JSON: {exc.msg.lower()} at line {exc.lineno}, "
                          f"column {exc.colno})") from None
    except UnicodeDecodeError:
        raise RecordError(f"{path}: not a call record (not text: a recording or another binary file?)") from None
    except (OSError, ValueError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else _short(str(exc), 80)
        raise RecordError(f"{path}: not a call record ({detail})") from None
    return check_record(record, str(path))
