"""The call record (schema voicecoach.call/1): the fields README.md documents are the
fields analyze and live write, saving is atomic, and loading fails with one clear line."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from voicecoach.analyze import analyze_call, demo_call_path
from voicecoach.config import Config
from voicecoach.live import LiveSession
from voicecoach.sources.audio import CallAudio, load_call
from voicecoach.sources.files import FileSource, ReplaySource
from voicecoach.store.record import SCHEMA, RecordError, load_record

try:                                   # the store may keep saving apart from the format
    from voicecoach.store.calls import save_record
except ImportError:
    from voicecoach.store.record import save_record

README = Path(__file__).resolve().parents[1] / "README.md"


# -- README's table, read as a schema ---------------------------------------------------------
def parse_shape(text: str, i: int = 0):
    """Parse README's notation (``{a, b: [{c, d?}]}``, ``[[t, v], ...]``) from ``text[i]``:
    (shape, next index). Shapes: ``("dict", {key: (optional, shape)})``, ``("list", shape)``,
    ``("pairs", None)`` or None for a value."""
    if text.startswith("[[", i):
        return ("pairs", None), text.index("...]", i) + 4
    if text[i] == "[":
        inner, i = parse_shape(text, i + 1)
        assert text[i] == "]", text[i:]
        return ("list", inner), i + 1
    assert text[i] == "{", text[i:]
    keys, i = {}, i + 1
    while text[i] != "}":
        m = re.compile(r"\s*([a-z_0-9]+)(\??)").match(text, i)
        name, optional, i = m.group(1), bool(m.group(2)), m.end()
        shape = None
        if text[i] == ":":
            i = len(text) - len(text[i + 1:].lstrip())
            shape, i = parse_shape(text, i)
        keys[name] = (optional, shape)
        i = len(text) - len(text[i:].lstrip(", "))
    return ("dict", keys), i + 1


def readme_fields() -> dict:
    """{field: shape or None} from the table under "The call record"."""
    section = README.read_text(encoding="utf-8").split("## The call record", 1)[1].split("\n## ", 1)[0]
    fields = {}
    for row in re.findall(r"^\| (`[^|]*`) \| (.*) \|$", section, re.M):
        names = re.findall(r"`([a-z_]+)`", row[0])
        shape = None
        first = re.search(r"`([\[{][^`]*)`", row[1])
        if first and not first.group(1).startswith('["'):
            shape = parse_shape(first.group(1))[0]
        for name in names:
            fields[name] = shape
    return fields


def check_shape(value, shape, where: str) -> None:
    if shape is None or value is None:
        return
    kind, inner = shape
    if kind == "pairs":
        assert isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 for p in value), where
    elif kind == "list":
        assert isinstance(value, list), where
        for j, item in enumerate(value):
            check_shape(item, inner, f"{where}[{j}]")
    else:
        assert isinstance(value, dict), where
        required = {k for k, (optional, _) in inner.items() if not optional}
        assert required <= set(value), f"{where}: missing {sorted(required - set(value))}"
        assert set(value) <= set(inner), f"{where}: undocumented {sorted(set(value) - set(inner))}"
        for k, (_, sub) in inner.items():
            if k in value:
                check_shape(value[k], sub, f"{where}.{k}")


def test_readme_notation_parses():
    assert parse_shape("{a, b: [[t, v], ...], c: [{d, e?}]}")[0] == (
        "dict", {"a": (False, None), "b": (False, ("pairs", None)),
                 "c": (False, ("list", ("dict", {"d": (False, None), "e": (True, None)})))})


# -- real records ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    return load_call(demo_call_path())


@pytest.fixture(scope="module")
def record(demo):
    """analyze's record of the demo call, with transcription (every field filled)."""
    return analyze_call(demo)


class UnpacedReplay(ReplaySource):
    def __init__(self, call):
        super().__init__(call)
        self._files = FileSource(call, block_s=0.02)


@pytest.fixture(scope="module")
def live_record(demo):
    """live's record of 4.5 s of the demo call with the agent's interruption (a nudge)."""
    part = slice(int(18.5 * 16000), int(23.0 * 16000))
    call = CallAudio(demo.agent[part], demo.customer[part], "excerpt")
    return LiveSession(UnpacedReplay(call), Config(), transcribe=False, name=call.name).run()


def test_analyze_writes_exactly_the_fields_readme_documents(record):
    fields = readme_fields()
    assert len(fields) >= 25
    assert set(record) == set(fields) - {"nudges", "live", "shift", "demo"}
    for name, shape in fields.items():
        if name in record:
            check_shape(record[name], shape, name)
    assert record["schema"] == SCHEMA and record["stt_model"] == "tiny.en" and record["unavailable"] == []
    assert record["source"] == {"name": "demo_call.flac", "channels": ["agent", "customer"]}
    for name in ("interruptions", "backchannels", "transcript", "cues", "commitments", "caller_problems"):
        assert record[name], name                    # filled, so their items were checked
    assert set(record["config"]) == set(Config().as_dict())
    json.loads(json.dumps(record, allow_nan=False))  # JSON-ready, no NaN


def test_live_adds_only_its_documented_fields(live_record):
    fields = readme_fields()
    assert set(live_record) == set(fields) - {"shift", "demo"}
    for name, shape in fields.items():
        if name in live_record:
            check_shape(live_record[name], shape, name)
    assert [n["data"]["nudge"] for n in live_record["nudges"]] == ["let_them_finish"]
    json.loads(json.dumps(live_record, allow_nan=False))


def test_a_shift_call_adds_only_its_documented_fields(demo):
    from voicecoach.shift import Shift
    from voicecoach.sources.files import PlaylistSource

    part = slice(0, 14 * 16000)
    call = CallAudio(demo.agent[part], demo.customer[part], "part")
    records = []
    shift = Shift(PlaylistSource([(2.0, call)]), Config(), transcribe=False, save=False)
    shift.subscribe(lambda kind, item: kind == "call" and item["state"] == "ended" and records.append(item["record"]))
    shift.run()
    (record,) = records
    fields = readme_fields()
    assert set(record) == set(fields) - {"demo"}
    for name, shape in fields.items():
        if name in record:
            check_shape(record[name], shape, name)
    assert record["shift"]["call"] == 1 and record["shift"]["ended_by"] == "shift end"
    assert 2.0 <= record["shift"]["start_s"] < 3.5, record["shift"]        # the call played from 2.0 s
    json.loads(json.dumps(record, allow_nan=False))


def test_mono_call_without_transcript_says_what_is_unavailable(demo):
    rec = analyze_call(CallAudio(demo.agent, None, "agent only"), transcribe=False)
    assert rec["source"]["channels"] == ["agent"] and rec["stt_model"] is None
    for name in ("interruptions", "backchannels", "near_misses", "talk_share", "dead_air",
                 "response_gaps", "caller_arousal", "caller_problems", "checklist", "questions",
                 "commitments", "language_counts"):
        assert rec[name] is None, name
    assert rec["talk_time"]["customer"] is None and rec["talk_time"]["agent"] > 20
    assert {"interruptions", "caller_arousal", "transcript", "pace.agent_wpm"} <= set(rec["unavailable"])
    assert rec["pace"]["agent_wpm"] is None and rec["transcript"] == []
    assert rec["warmth"]["timeline"]                 # voice cues need no caller and no words


# -- saving and loading ---------------------------------------------------------------------
def test_save_then_load_gives_the_same_record(record, tmp_path):
    path = tmp_path / "new" / "folder" / "call.json"      # missing folders are made
    save_record(record, path)
    assert load_record(path) == record
    assert [p.name for p in path.parent.iterdir()] == ["call.json"]


def test_a_save_that_fails_half_way_leaves_the_old_record_whole(record, tmp_path):
    path = tmp_path / "call.json"
    save_record(record, path)
    before = path.read_bytes()
    broken = dict(record, cues=record["cues"] + [{"t": 1.0, "kind": "x", "text": object()}])
    with pytest.raises(TypeError):                       # json.dump fails after writing most of it
        save_record(broken, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["call.json"]     # no temporary file left
    assert load_record(path) == record


@pytest.mark.parametrize("content, message", [
    (None, r"no such file"),
    (b'{"schema": "voicecoach.call/1", "duration": ', r"not a call record \(not JSON: expecting value at line 1"),
    (b"", r"not a call record \(the file is empty\)"),
    (b"\xff\xfe{}", r"not a call record \(not text: a recording or another binary file\?\)"),
    (b"[1, 2, 3]", r"not a VoiceCoach call record \(its JSON is a list, not an object\)"),
    (b'{"duration": 12.0}', r"not a VoiceCoach call record \(no schema field\)"),
    (b'{"schema": "otherapp.call/1"}', r"not a VoiceCoach call record \(its schema is 'otherapp.call/1', "
                                       r"not voicecoach.call/1\)"),
    (b'{"schema": 99}', r"not a VoiceCoach call record \(its schema is 99, not voicecoach.call/1\)"),
    (b'{"kind": "voicecoach-voice-profile", "f0_median": 180.0}',
     r"a voice profile \(from `voicecoach calibrate`\), not a call record"),
    (b'{"schema": "voicecoach.call/2"}',
     r"call record format voicecoach.call/2; this version reads voicecoach.call/1"),
])
def test_load_errors_are_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "call.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RecordError, match=message) as err:
        load_record(path)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


@pytest.mark.parametrize("change, message", [
    (lambda r: r["warmth"].update(mean=7.0), r"warmth"),          # warmth is 0-1: shown as "7.00"
    (lambda r: r.update(created="yesterday"), r"created"),        # listed in the history's Date column
])
def test_values_the_views_would_show_wrongly_are_refused(record, tmp_path, change, message):
    import copy
    import json

    bad = copy.deepcopy(record)
    change(bad)
    path = tmp_path / "call.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(RecordError, match=message) as err:
        load_record(path)
    assert "\n" not in str(err.value)


def test_a_folder_is_not_a_record(tmp_path):
    with pytest.raises(RecordError, match=r"not a call record \(Is a directory\)"):
        load_record(tmp_path)


def _said(channel: str, t0: float, text: str) -> list:
    from voicecoach.events import Word

    return [Word(channel, t0 + 0.3 * i, t0 + 0.3 * i + 0.25, " " + w) for i, w in enumerate(text.split())]


def test_words_decoded_again_redo_the_records_language_and_keep_the_voice_cues():
    """Live, the second pass's words replace the streamed ones in the record: the
    follow-up list, the caller's list, the checklist and the language cues follow
    them, and a cue that does not come from words stays."""
    from voicecoach.engine import Engine
    from voicecoach.events import Event
    from voicecoach.store.record import build_record

    engine = Engine()
    streamed = {"agent": _said("agent", 1.0, "Thank you for calling, this is Sam.")
                + _said("agent", 9.0, "Oil cold you back to Maro.")
                + _said("agent", 14.0, "You're DNS cash is stale."),
                "customer": _said("customer", 4.0, "My bell was double.")}
    for t0, ch in ((1.0, "agent"), (4.0, "customer"), (9.0, "agent")):
        engine.feed_words(ch, [w for w in streamed[ch] if t0 <= w.start < t0 + 5.0])
    engine.feed_words("agent", streamed["agent"][-5:])
    engine.finish_words()
    engine.events.append(Event("cue", 12.0, "agent", "Warmth dropped", {"cue": "low_warmth"}))
    before = build_record(engine, [], name="call", duration=20.0, model="tiny.en")
    assert before["commitments"] == [] and before["caller_problems"] == []

    better = {"agent": _said("agent", 1.0, "Thank you for calling, this is Sam.")
              + _said("agent", 9.0, "I'll call you back tomorrow.")
              + _said("agent", 14.0, "Your connection is fine now."),
              "customer": _said("customer", 4.0, "My bill was charged twice this month.")}
    engine.words_decoded_again(better)
    after = build_record(engine, [], name="call", duration=20.0, model="tiny.en")
    assert [c["text"] for c in after["commitments"]] == ["I'll call you back tomorrow."]
    assert [c["text"] for c in after["caller_problems"]] == ["My bill was charged twice this month."]
    kinds = [c["kind"] for c in after["cues"]]
    assert "jargon" in [c["kind"] for c in before["cues"]] and "jargon" not in kinds
    assert "low_warmth" in kinds and "greeting" in kinds and kinds.count("greeting") == 1
    assert after["pace"]["agent_words"] == len(better["agent"])


def test_words_fed_at_once_make_the_record_of_words_fed_as_they_come():
    """``analyze`` feeds every channel's words at the end (feed_words_in_order): the same
    record as feeding each turn's words as the conversation goes."""
    from voicecoach.engine import Engine
    from voicecoach.store.record import build_record

    turns = [("agent", 1.0, "Thank you for calling, this is Sam. How can I help?"),
             ("customer", 5.0, "My bill was charged twice this month."),
             ("agent", 9.0, "I'm sorry about that. I'll call you back tomorrow."),
             ("customer", 14.0, "Okay, thanks, that's all."),
             ("agent", 17.0, "Is there anything else I can help you with?")]
    as_they_come, at_once = Engine(), Engine()
    for ch, t0, text in turns:
        as_they_come.feed_words(ch, _said(ch, t0, text))
    words = {"agent": [], "customer": []}
    for ch, t0, text in turns:
        words[ch] += _said(ch, t0, text)
    at_once.feed_words_in_order(words)
    records = []
    for engine in (as_they_come, at_once):
        engine.finish_words()
        record = build_record(engine, [], name="call", duration=22.0, model="tiny.en")
        records.append({k: v for k, v in record.items() if k != "created"})
    assert records[0] == records[1]
    assert records[1]["commitments"] and records[1]["caller_problems"]
