"""Shift mode end to end: `voicecoach live --replay a b c --gap G`, the real CLI path.

Three short generated calls (espeak-ng voices, a phone line's noise floor) are
replayed one after another at real-time pace with silence between them, through
the real engine, call detector, speech-to-text, record store and history. Each
call must be found on its own (start and end near where it played), saved once,
added to the history once and summed up in the terminal; the shift ends with exit 0.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from tools.callgen import Turn, render_call
from voicecoach.sources.audio import CallAudio

GAP_S = 4.0
SCRIPTS = [
    [Turn("agent", "Thank you for calling, this is Sam, how can I help you today?", "espeak-us-f", 0.3),
     Turn("customer", "Hi, my internet keeps dropping every evening.", "espeak-gb-m", 0.5),
     Turn("agent", "I am sorry about that, let me check your line.", "espeak-us-f", 0.5)],
    [Turn("agent", "Good morning, you are through to support, what can I do for you?", "espeak-us-f", 0.3),
     Turn("customer", "I was charged twice on my last bill.", "espeak-gb-m", 0.5),
     Turn("agent", "I will raise a refund for the second charge today.", "espeak-us-f", 0.5)],
    [Turn("agent", "Hello, thanks for calling, how can I help?", "espeak-us-f", 0.3),
     Turn("customer", "I cannot log in to my account since yesterday.", "espeak-gb-m", 0.5),
     Turn("agent", "Okay, let us reset your password together.", "espeak-us-f", 0.5),
     Turn("customer", "Great, thanks, that is all.", "espeak-gb-m", 0.5)],
]


@pytest.fixture(scope="module")
def three_calls(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    folder = tmp_path_factory.mktemp("shift")
    paths, spans, t = [], [], 0.0
    for i, script in enumerate(SCRIPTS):
        call = render_call(script, tail_s=1.0, seed=i)
        path = folder / f"{'abc'[i]}.flac"
        sf.write(path, call.audio, 16000, subtype="PCM_16")
        duration = len(call.audio) / 16000
        paths.append(path)
        spans.append((t, t + duration))
        t += duration + GAP_S
    return paths, spans


def test_a_replayed_shift_of_three_calls_is_three_calls(three_calls, tmp_path):
    paths, spans = three_calls
    data = tmp_path / "data"
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data))
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--console", "--replay",
                          *map(str, paths), "--gap", str(GAP_S), "--events", "ev.jsonl"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=240)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    out = res.stdout

    # three records in the data folder, one per call, each cut where its call played
    records = [json.loads(p.read_text()) for p in sorted((data / "records").glob("call-*.json"))]
    assert len(records) == 3, out
    found = sorted((r["shift"]["start_s"], r["shift"]["end_s"]) for r in records)
    for (start, end), (true_start, true_end) in zip(found, spans):
        assert abs(start - true_start) < 1.0, (found, spans)
        assert abs(end - true_end) < 2.0, (found, spans)
    for r, (a, b) in zip(sorted(records, key=lambda r: r["shift"]["start_s"]), spans):
        assert abs(r["duration"] - (b - a)) < 2.0
        assert r["interruptions"] == []                      # each call coached from a fresh start
    # dated by when each call began (the replay runs at real-time pace), not by its save
    import datetime as dt

    began = sorted(dt.datetime.fromisoformat(r["created"]).timestamp() for r in records)
    for (t0, t1), (a0, a1) in zip(zip(began, began[1:]), zip(spans, spans[1:])):
        assert abs((t1 - t0) - (a1[0] - a0[0])) < 2.0, (began, spans)

    # each call heard by speech-to-text on its own: no words of one call in another's record
    texts = [" ".join(s["text"].lower() for s in r["transcript"])
             for r in sorted(records, key=lambda r: r["shift"]["start_s"])]
    for text, own, others in zip(texts, ("internet", "refund", "password"),
                                 (("refund", "password"), ("internet", "password"), ("internet", "refund"))):
        assert own in text and not any(o in text for o in others), texts

    # three history rows, one per record
    with sqlite3.connect(data / "history.sqlite") as db:
        rows = db.execute("SELECT record_path FROM calls").fetchall()
    assert sorted(Path(p).name for (p,) in rows) == sorted(p.name for p in (data / "records").glob("call-*.json"))
    # each named in the history by what its own caller raised, not "call 1, <date>" (every
    # shift has a call 1). Whether Whisper hears espeak-ng's words well enough for the caller's
    # list is not this test's matter (it heard "Hi my internet keep stopping and reading."):
    # a call with nothing on its list is a plain "live call"
    listed = subprocess.run([sys.executable, "-m", "voicecoach", "history"], capture_output=True, text=True,
                            env=env, timeout=120).stdout
    names = [ln[ln.index("live call"):] for ln in listed.splitlines() if "live call" in ln]   # oldest first
    assert len(names) == 3 and "call 1," not in listed, listed
    for name, r in zip(names, sorted(records, key=lambda r: r["shift"]["start_s"])):
        problems = r.get("caller_problems") or []
        expected = f"live call: {problems[0]['text'][:20]}" if problems else "live call "
        assert name.startswith(expected), (listed, problems)
    assert any(r.get("caller_problems") for r in records), texts

    # a summary printed for each call as it ended, then the shift's end
    for i in (1, 2, 3):
        assert f"── call {i} started" in out
        assert f"VoiceCoach — call {i}," in out, out
    assert out.count("Checklist") == 3 and out.count("Call record:") == 3
    assert "Shift over: 3 calls coached" in out

    # the events file carries each call's start, end and save, in order: a call is over
    # ("ending") before the next starts; its save ("ended") may come after the next started
    calls = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    states = [(e["data"]["state"], e["data"]["index"]) for e in calls if e["kind"] == "call"]
    assert [s for s in states if s[0] != "ended"] == [("started", 1), ("ending", 1), ("started", 2),
                                                       ("ending", 2), ("started", 3), ("ending", 3)]
    assert sorted(i for s, i in states if s == "ended") == [1, 2, 3]
    for i in (1, 2, 3):
        assert states.index(("ending", i)) < states.index(("ended", i))


def test_the_overlay_path_runs_a_shift_and_shows_the_after_call_card(tmp_path):
    """`voicecoach live` as an agent starts it (the overlay, here offscreen with a
    screenshot at the end): the shift runs, the call is saved, the card is drawn."""
    pytest.importorskip("PyQt6")
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--replay", "demo", "--no-transcript",
                          "--screenshot", "shot.png", "--stop-after", "8"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "Shift over: 1 call coached" in res.stdout
    assert len(list((tmp_path / "data" / "records").glob("call-*.json"))) == 1
    from PyQt6.QtGui import QImage

    shot, card = QImage(str(tmp_path / "shot.png")), QImage(str(tmp_path / "shot-card.png"))
    assert not shot.isNull() and shot.width() > 200 and shot.height() > 200      # the call, mid-way
    assert not card.isNull() and card.width() == shot.width() and card != shot  # then its card



def test_replayed_recordings_on_a_silent_line_are_one_call_each(tmp_path):
    """Recordings with digital silence between turns (no line noise) replayed with a gap
    shorter than the silence that ends a call: each recording is still its own call (a
    replayed recording is a playback stream, as a softphone's call is), from its first
    sample to its last."""
    import numpy as np

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    call = render_call([Turn("agent", "Thank you for calling, how can I help?", "espeak-us-f", 0.3),
                        Turn("customer", "My internet keeps dropping every evening.", "espeak-gb-m", 0.5)],
                       tail_s=0.5, seed=3)
    audio = call.audio.copy()
    audio[np.abs(audio) < 0.02] = 0.0                      # a clean line: nothing between the words
    path = tmp_path / "clean.wav"
    sf.write(path, audio, 16000, subtype="PCM_16")
    data = tmp_path / "data"
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--console", "--no-transcript",
                          "--replay", str(path), str(path), "--gap", "3"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=240,
                         env=dict(os.environ, VOICECOACH_DATA_DIR=str(data)))
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "Shift over: 2 calls coached" in res.stdout, res.stdout
    records = sorted((json.loads(p.read_text()) for p in (data / "records").glob("call-*.json")),
                     key=lambda r: r["shift"]["start_s"])
    duration = len(audio) / 16000
    assert [(r["shift"]["start_s"], r["shift"]["started_by"], r["shift"]["ended_by"]) for r in records] == [
        (0.0, "stream", "stream"), (round(duration + 3.0, 3), "stream", "stream")]
    assert all(abs(r["duration"] - duration) < 0.1 for r in records), [r["duration"] for r in records]


def test_a_call_with_a_hold_is_one_call(tmp_path):
    """The agent asks the caller to hold and the softphone then plays nothing for 25 s
    (the line is dead, as on a hang-up): the shift hears the request in the agent's
    words and keeps one call over the hold, with the words before and after it. It was
    two calls: the dead line ended the first, and the agent coming back started another,
    with no greeting and no problem in it."""
    import numpy as np

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    before = render_call([
        Turn("agent", "Thank you for calling, this is Sam, how can I help you today?", "espeak-us-f", 0.3),
        Turn("customer", "Hi, I was charged twice for my phone bill this month.", "espeak-gb-m", 0.5),
        Turn("agent", "I am sorry about that. Let me put you on hold for a moment while I check with billing.",
             "espeak-us-f", 0.5),
        Turn("customer", "Sure, no problem.", "espeak-gb-m", 0.5)], tail_s=0.5, seed=5).audio
    after = render_call([
        Turn("agent", "Thank you for holding. I have refunded the second charge today.", "espeak-us-f", 0.3),
        Turn("customer", "Great, thanks, that is all.", "espeak-gb-m", 0.5),
        Turn("agent", "You are welcome, goodbye.", "espeak-us-f", 0.5)], tail_s=0.5, seed=6).audio
    hold = np.zeros((25 * 16000, 2), np.float32)              # the caller's side: nothing at all
    hold[:, 0] = np.random.default_rng(0).normal(0.0, 10 ** (-65 / 20), len(hold))   # the agent's mic
    audio = np.concatenate([before, hold, after])
    path = tmp_path / "held.wav"
    sf.write(path, audio, 16000, subtype="PCM_16")
    data = tmp_path / "data"
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--console", "--replay", str(path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env=dict(os.environ, VOICECOACH_DATA_DIR=str(data)))
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "Shift over: 1 call coached" in res.stdout, res.stdout
    (record,) = [json.loads(p.read_text()) for p in (data / "records").glob("call-*.json")]
    assert record["shift"]["start_s"] < 1.0 and abs(record["duration"] - len(audio) / 16000) < 2.0, record["shift"]
    text = " ".join(s["text"].lower() for s in record["transcript"])
    assert "charged" in text and "refund" in text, text
    # the agent is told the call goes on through the hold, and when it is over
    on, back = res.stdout.find("On hold: the call goes on"), res.stdout.find("Back from the hold")
    assert 0 < on < back < res.stdout.find("VoiceCoach — call 1,"), res.stdout


def test_the_terminal_does_not_say_it_waits_for_a_call_once_the_replay_is_over():
    """`voicecoach live --replay a.wav b.wav --console`: the last recording's summary ended
    with "Waiting for the next call… (Ctrl-C ends the shift)", and "Shift over" came at
    once under it: the replay had no call left to wait for."""
    import io

    from voicecoach.analyze import demo_call_path
    from voicecoach.config import Config
    from voicecoach.shift import Shift
    from voicecoach.sinks.console import CallPrinter
    from voicecoach.sources.audio import CallAudio, load_call
    from voicecoach.sources.files import PlaylistSource

    demo = load_call(demo_call_path())
    part = CallAudio(demo.agent[:14 * 16000], demo.customer[:14 * 16000], "part")
    out = io.StringIO()
    shift = Shift(PlaylistSource([(0.0, part), (3.0, part)], streams=True), Config(), transcribe=False,
                  save=False)
    shift.subscribe(CallPrinter(out, ending=lambda: shift.stopping))
    calls = shift.run()
    text = out.getvalue()
    assert [c["ended_by"] for c in calls] == ["stream", "stream"], text
    last = text.split("VoiceCoach — call 2,")[-1]
    assert "Checklist" in last and "Waiting for the next call" not in last, text


def test_a_false_start_leaves_no_gap_in_the_calls_numbers(tmp_path):
    """A 2-second stream (a false start, not kept) before the first call: that call is
    "call 1", as the agent counts, in the overlay's events, its record and its file name.
    Before, it was call 2 of a shift whose summary said one call was coached."""
    from voicecoach.analyze import demo_call_path
    from voicecoach.config import Config
    from voicecoach.shift import Shift
    from voicecoach.sources.audio import CallAudio, load_call
    from voicecoach.sources.files import PlaylistSource

    demo = load_call(demo_call_path())
    blip = CallAudio(demo.agent[:2 * 16000], demo.customer[:2 * 16000], "blip")
    part = CallAudio(demo.agent[:14 * 16000], demo.customer[:14 * 16000], "part")
    shift = Shift(PlaylistSource([(1.0, blip), (3.0, part)], streams=True), Config(), transcribe=False,
                  records_folder=tmp_path / "records", history_path=tmp_path / "h.db")
    seen = []
    shift.subscribe(lambda kind, payload: kind == "call" and seen.append((payload["state"], payload["index"])))
    calls = shift.run()
    assert [(s, i) for s, i in seen if s != "saved"] == [
        ("started", 1), ("ending", 1), ("dropped", 1), ("started", 1), ("ending", 1), ("ended", 1)], seen
    assert [c["index"] for c in calls] == [1] and len(shift.dropped) == 1
    record = json.loads(Path(calls[0]["record_path"]).read_text())
    assert record["shift"]["call"] == 1 and Path(calls[0]["record_path"]).name.endswith("-001.json")


class _PausedAt:
    """A source that asks its shift to pause, then resume, when its clock reaches given
    times (on the shift's own thread, between blocks: where the menu's request lands)."""

    def __init__(self, source, at: list):
        self.source, self.at, self.shift = source, sorted(at), None

    def __getattr__(self, name):
        return getattr(self.source, name)

    def start(self):
        self.source.start()
        return self

    def __iter__(self):
        for frame in self.source:
            while self.at and frame.start_s >= self.at[0][0]:
                getattr(self.shift, self.at.pop(0)[1])()
            yield frame


def test_a_call_paused_to_take_a_card_number_goes_on_after_the_resume(tmp_path):
    """The agent pauses coaching while the caller reads a card number and resumes as the
    caller asks whether it went through: the rest is call 1 going on, not a new call. Its
    record says so, its checklist counts the greeting said before the pause, and its card
    does not ask for one. Before, the rest started as a new call whose card said "Open with
    a greeting and your name"."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    from voicecoach.config import Config
    from voicecoach.shift import Shift
    from voicecoach.sinks.view import after_call, call_name, checklist_items
    from voicecoach.sources.files import PlaylistSource

    call = render_call([
        Turn("agent", "Thank you for calling, this is Sam, how can I help you today?", "espeak-us-f", 0.3),
        Turn("customer", "Hi, I would like to pay my bill by card please.", "espeak-gb-m", 0.5),
        Turn("agent", "Of course. I will pause while you read me the card number.", "espeak-us-f", 0.5),
        Turn("customer", "Sure, it is four one one one, two two two two, three three three three.",
             "espeak-gb-m", 0.5),
        Turn("customer", "Did that go through?", "espeak-gb-m", 2.0),
        Turn("agent", "Yes, the payment went through. Is there anything else I can help you with?",
             "espeak-us-f", 0.5),
        Turn("customer", "No, that is all, thanks.", "espeak-gb-m", 0.5)], tail_s=1.0, seed=3)
    said = call.truth["utterances"]
    lead = 2.0
    pause_at = lead + said[2]["end"] + 0.3                   # the agent's "I will pause…"
    resume_at = lead + said[4]["start"] - 1.0                # before "Did that go through?"
    source = _PausedAt(PlaylistSource([(lead, CallAudio(call.audio[:, 0], call.audio[:, 1], "card"))]),
                       [(pause_at, "pause"), (resume_at, "resume")])
    shift = Shift(source, Config(), records_folder=tmp_path / "records", history_path=tmp_path / "h.db")
    source.shift = shift
    calls = shift.run()
    records = [json.loads(Path(c["record_path"]).read_text()) for c in calls]
    assert [(r["shift"]["started_by"], r["shift"]["ended_by"]) for r in records] == [
        ("line", "hand"), ("resumed", "shift end")], [r["shift"] for r in records]
    first, rest = records
    assert rest["shift"]["continues"] == 1 and abs(rest["shift"]["start_s"] - resume_at) < 1.5
    assert first["checklist"]["greeting"] and rest["checklist"]["greeting"]
    assert "greeting" in rest["shift"]["ticked_before"]
    assert ("greeting (in call 1)", True) in checklist_items(rest)
    assert not any("greeting" in text for _, text in after_call(rest).work_on), after_call(rest).work_on
    assert call_name(rest).startswith("live call (continued)")


def test_questions_asked_either_side_of_a_cut_count_together_in_the_call_going_on():
    """With ``[language] min_questions = 2`` the overlay keeps its question count over a
    pause (the call goes on) and ticks "Questions" at the second question, one asked
    before the cut and one after. Each part's record counted only its own one, and the
    card of the rest said "questions" was not done: the tick the agent saw was gone."""
    from voicecoach.analyzers.language import LanguageOptions
    from voicecoach.shift import _ticked_before

    before = {"greeting": True, "empathy": False, "questions": False, "closing_question": False}
    rest = {"checklist": {"greeting": False, "empathy": False, "questions": False, "closing_question": True},
            "questions": {"open": 1, "closed": 0}, "shift": {}}
    _ticked_before(rest, before, asked_before=1, options=LanguageOptions(min_questions=2))
    assert rest["checklist"]["questions"] and rest["checklist"]["greeting"]
    assert sorted(rest["shift"]["ticked_before"]) == ["greeting", "questions"]

    alone = {"checklist": dict(rest["checklist"], questions=False), "questions": {"open": 1, "closed": 0},
             "shift": {}}
    _ticked_before(alone, dict(before, greeting=False), asked_before=0, options=LanguageOptions(min_questions=2))
    assert not alone["checklist"]["questions"]              # one question in all: not ticked
