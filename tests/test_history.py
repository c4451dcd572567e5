"""The call history: SQLite index add/list/rebuild round trip, scores, text."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from voicecoach.sinks.view import CARE_NOTE
from voicecoach.store.history import (
    NO_PROFILE_NOTE,
    CallScores,
    History,
    default_db_path,
    history_text,
    trend_value,
    show_history,
    trend_line,
    warmth_note,
)
from voicecoach.store.calls import save_record
from voicecoach.store.record import SCHEMA


def make_record(name="call.flac", created="2026-11-01T09:00:00+00:00", warmth=0.5, wpm=170.0,
                by_agent=1, by_customer=0, share=0.55, mono=False, profile="p1", duration=95.5):
    ints = ([{"start": 3.0 + i, "end": 3.8 + i, "by": "agent"} for i in range(by_agent)]
            + [{"start": 20.0 + i, "end": 20.7 + i, "by": "customer"} for i in range(by_customer)])
    return {
        "schema": SCHEMA, "created": created,
        "source": {"name": name, "channels": ["agent"] if mono else ["agent", "customer"]},
        "duration": duration,
        "talk_time": {"agent": 30.0, "customer": None if mono else 25.0},
        "talk_share": None if mono else {"agent": share, "customer": round(1 - share, 3)},
        "interruptions": None if mono else ints,
        "warmth": {"mean": warmth, "baseline": "profile" if profile else "call", "profile_id": profile},
        "pace": {"agent_wpm": wpm},
        "checklist": {"greeting": True, "empathy": False, "questions": True, "closing_question": True},
        "commitments": [{"t": 50.0, "text": "I'll call you back tomorrow."}],
    }


def test_scores_from_record(tmp_path):
    row = CallScores.from_record(make_record(by_agent=2, by_customer=3), tmp_path / "a.json")
    assert row.record_path == str((tmp_path / "a.json").resolve())
    assert row.interruptions_by_agent == 2
    assert (row.checklist_done, row.checklist_items) == (3, 4)
    assert row.commitments == 1
    assert row.talk_share_agent == 0.55 and row.warmth_mean == 0.5 and row.agent_wpm == 170.0
    mono = CallScores.from_record(make_record(mono=True), tmp_path / "m.json")
    assert mono.talk_share_agent is None and mono.interruptions_by_agent is None


def live_record(index, start, problems=(), name=None, duration=95.5):
    """A record as a shift saves it: named "call N, <date>" (every shift has a call 1),
    dated by the call's start."""
    from voicecoach.store.history import local_time

    record = make_record(name or f"call {index}, {local_time(start)}", start, duration=duration)
    record.update(shift={"call": index, "start_s": 0.0, "end_s": duration, "started_by": "audio",
                         "ended_by": "audio"},
                  live={"latency_p50_s": {}}, caller_problems=[{"t": 5.0, "text": t} for t in problems])
    return record


def test_live_calls_are_named_by_the_callers_first_problem(tmp_path):
    """Each shift numbers its calls from 1: a list of "call 1, <date>" rows could not be told
    apart. A call coached live is named by what the caller first raised (its start and
    length are the rows' Date and Length); records of earlier versions are named the same."""
    from voicecoach.sinks.view import call_name

    first = live_record(1, "2026-11-02T09:15:00+00:00", ["My internet keeps dropping  every evening, since May.",
                                                         "And I was charged twice."])
    second = live_record(1, "2026-11-03T14:40:00+00:00", duration=182.0)
    recorded = live_record(2, "2026-11-03T15:05:00+00:00", ["I cannot log in."], name="call-20261103-150500.flac")
    assert call_name(first) == "live call: My internet keeps dropping every evening, since May."
    assert call_name(second) == "live call"                                 # nothing raised (or heard)
    assert call_name(recorded) == "live call: I cannot log in."
    assert call_name(make_record("monday.flac")) == "monday.flac"       # an analysed recording: its file
    rest = live_record(2, "2026-11-03T14:43:30+00:00", duration=60.0)
    rest["shift"]["started_by"] = "device back"                          # the rest of a call cut by a lost input
    assert call_name(rest) == "live call (continued)"
    rest["caller_problems"] = [{"t": 2.0, "text": "And it still drops."}]
    assert call_name(rest) == "live call (continued): And it still drops."
    with History(tmp_path / "h.sqlite") as h:
        for i, r in enumerate((first, second, recorded, make_record("monday.flac"))):
            h.add(r, tmp_path / f"{i}.json")
        text = history_text(h.calls())
    assert "live call: My internet keeps dropping…" in text          # cut after a word
    assert "live call: I cannot log in." in text and "monday.flac" in text and "call 1, " not in text


def test_live_calls_indexed_before_are_renamed_on_upgrade(tmp_path):
    """A history of the previous version (3) lists its live calls as "call 1, <date>": they
    take their new names from their records; a row whose record is gone keeps its own."""
    import sqlite3

    db = tmp_path / "history.sqlite"
    with History(db) as h:
        record = live_record(1, "2026-11-02T09:15:00+00:00", ["My router is broken."])
        save_record(record, tmp_path / "call-1.json")
        h.add(record, tmp_path / "call-1.json")
        h.add(live_record(1, "2026-11-03T09:15:00+00:00"), tmp_path / "gone.json")
        h.add(make_record("monday.flac"), tmp_path / "monday.json")
    old = sqlite3.connect(db)                          # as version 3 indexed them
    with old:
        for path, name in ((tmp_path / "call-1.json", "call 1, 2026-11-02 09:15"),
                           (tmp_path / "gone.json", "call 1, 2026-11-03 09:15")):
            old.execute("UPDATE calls SET name = ? WHERE record_path = ?", (name, str(path)))
        old.execute("PRAGMA user_version = 3")
    old.close()
    with History(db) as h:
        names = sorted(r.name for r in h.calls())
    assert names == ["call 1, 2026-11-03 09:15", "live call: My router is broken.", "monday.flac"]


def test_add_and_list_round_trip(tmp_path):
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        h.add(make_record("b.flac", "2026-11-02T09:00:00+00:00", warmth=0.6), tmp_path / "b.json")
        h.add(make_record("a.flac", "2026-11-01T09:00:00+00:00", warmth=0.4), tmp_path / "a.json")
        h.add(make_record("c.flac", "2026-11-03T09:00:00+00:00", warmth=0.7), tmp_path / "c.json")
        # re-adding a record path replaces its row
        h.add(make_record("b.flac", "2026-11-02T09:00:00+00:00", warmth=0.65), tmp_path / "b.json")
    with History(db) as h:                           # persisted, reopened
        rows = h.calls()
        assert [r.name for r in rows] == ["a.flac", "b.flac", "c.flac"]    # oldest first
        assert [r.warmth_mean for r in rows] == [0.4, 0.65, 0.7]
        assert [r.name for r in h.calls(limit=2)] == ["b.flac", "c.flac"]  # the latest two


def test_rebuild_from_records(tmp_path):
    folder = tmp_path / "calls"
    save_record(make_record("one.flac", "2026-11-01T09:00:00+00:00", by_agent=3), folder / "one.json")
    save_record(make_record("two.flac", "2026-11-02T09:00:00+00:00", by_agent=0), folder / "week" / "two.json")
    (folder / "notes.json").write_text(json.dumps({"hello": 1}))
    (folder / "broken.json").write_text("{not json")
    elsewhere = save_record(make_record("three.flac", "2026-11-03T09:00:00+00:00"), tmp_path / "three.json")
    with History(tmp_path / "h.sqlite") as h:
        h.add(make_record("gone.flac"), tmp_path / "gone.json")     # a stale row: rebuild drops it
        h.add(make_record("three.flac", "2026-11-03T09:00:00+00:00"), elsewhere)   # kept: its file is there
        h.add(make_record("one.flac"), folder / "one.json")         # indexed again from its file
        added, kept, skipped = h.rebuild(folder)
        assert (added, kept) == (3, 1)
        assert len(skipped) == 2 and any("notes.json" in s for s in skipped)
        rows = h.calls()
    assert [(r.name, r.interruptions_by_agent) for r in rows] == [("one.flac", 3), ("two.flac", 0),
                                                                  ("three.flac", 1)]
    assert rows[1].record_path == str((folder / "week" / "two.json").resolve())
    text = show_history(rebuild=[folder], path=tmp_path / "h.sqlite")
    assert text.startswith(f"Rebuilt the history: 2 call records in {folder}, and the 1 call record it had "
                           "from other folders; 2 other JSON files skipped\n"), text


def test_rebuild_from_a_folder_that_is_not_there_leaves_the_history_alone(tmp_path):
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    with History(tmp_path / "data" / "history.sqlite") as h:
        h.add(make_record("kept.flac"), save_record(make_record("kept.flac"), tmp_path / "kept.json"))
    for wrong, said in ((tmp_path / "calss", "no such folder"), (tmp_path / "kept.json", "not a folder"),
                        ("~nosuchuser_calls", "a '/' missing after '~'?")):
        res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--rebuild", str(wrong)],
                             capture_output=True, text=True, env=env, timeout=120)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert said in res.stderr
    with History(tmp_path / "data" / "history.sqlite") as h:
        assert [r.name for r in h.calls()] == ["kept.flac"]


def test_default_path_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "history.sqlite"
    with History() as h:
        h.add(make_record(), tmp_path / "x.json")
    assert (tmp_path / "data" / "history.sqlite").exists()
    out = show_history(limit=5)
    assert "call.flac" in out and CARE_NOTE in out


def test_history_text_table_and_trend(tmp_path):
    rows = [CallScores.from_record(make_record(f"c{i}.flac", f"2026-11-0{i + 1}T09:00:00+00:00",
                                               warmth=0.4 + 0.1 * i, by_agent=4 - i), tmp_path / f"{i}.json")
            for i in range(4)]
    text = history_text(rows)
    lines = text.splitlines()
    assert lines[0] == "Your last 4 calls, oldest first (the newest is the last line):"
    assert lines[2].startswith("#  Date") and "Warmth" in lines[2]        # numbered: `history --delete N`
    assert lines[4].startswith("1  ") and "c0.flac" in lines[4]
    assert "c3.flac" in lines[-5] and lines[-5].startswith("4  ")
    assert history_text(rows[2:], total=9).splitlines()[4].startswith("8  ")   # the last 2 of 9
    assert all(f"c{i}.flac" in text for i in range(4))
    trend = trend_line(rows)
    assert trend in text
    # the last 2 calls against the 2 before: warmth up and fewer interruptions are both progress
    assert "warmth 0.45 ↑ 0.65 (better)" in trend
    assert "interruptions per 10 min 22.0 ↓ 9.4 (better)" in trend         # 7 and 3 in 191 s
    assert text.rstrip().endswith(CARE_NOTE)
    mono = CallScores.from_record(make_record(mono=True), tmp_path / "m.json")
    assert "–" in history_text([mono])


def test_calls_the_plots_leave_out_are_named_with_the_reason(tmp_path):
    """The History tab's interruption plot had gaps for a one-channel call and a 40 s call,
    with no word of why: it looked like a lost call."""
    from voicecoach.store.history import left_out_line

    rows = [CallScores.from_record(r, tmp_path / f"{i}.json") for i, r in enumerate(
        (make_record(), make_record(mono=True), make_record(), make_record(duration=40.0)))]
    assert left_out_line(rows) == ("Not plotted: call 2 recorded your side only (no caller: no interruptions or "
                                   "talk share); call 4 under 1 minute (too short for a rate per 10 minutes).")
    assert left_out_line(rows[:1]) == ""


def test_interruptions_are_compared_per_10_minutes_of_call(tmp_path):
    """A 10-minute call with 4 interruptions, then short calls with 1 each: fewer per call
    but more per minute, which is no progress ("4.0 ↓ 0.5 (better)" before)."""
    def row(i, by_agent, duration):
        return CallScores.from_record(make_record(f"c{i}.flac", f"2026-11-0{i + 1}T09:00:00+00:00",
                                                  by_agent=by_agent, duration=duration), tmp_path / f"{i}.json")

    rows = [row(0, 4, 600.0), row(1, 1, 60.0)]
    assert "interruptions per 10 min 4.0 ↑ 10.0" in trend_line(rows) and "(better)" not in trend_line(rows)
    assert "interruptions" not in trend_line([row(0, 4, 600.0), row(1, 1, 20.0)])   # no rate from 20 s
    assert trend_value(rows[1], "interruptions_by_agent", "p1") == 10.0


def test_warmth_trend_compares_only_calls_judged_against_the_same_profile(tmp_path):
    def rows(profiles):
        return [CallScores.from_record(make_record(f"c{i}.flac", f"2026-11-0{i + 1}T09:00:00+00:00",
                                                   warmth=0.4 + 0.1 * i, profile=p), tmp_path / f"{i}.json")
                for i, p in enumerate(profiles)]
    # judged against their own start: no warmth trend at all
    assert "warmth" not in trend_line(rows([None] * 4))
    # a new profile for the last two calls: nothing before it to compare with
    assert "warmth" not in trend_line(rows(["old", "old", "new", "new"]))
    # only the calls with the latest call's profile are compared
    assert "warmth 0.40 ↑ 0.70 (better)" in trend_line(rows(["new", "old", "old", "new"]))


def test_warmth_left_out_for_want_of_a_profile_is_said(tmp_path):
    """Calls judged against their own start have warmth in the table but none in the trend:
    the history says why and how to change it, rather than leaving warmth out silently."""
    def rows(profiles):
        return [CallScores.from_record(make_record(f"c{i}.flac", f"2026-11-0{i + 1}T09:00:00+00:00",
                                                   warmth=0.4 + 0.1 * i, profile=p), tmp_path / f"{i}.json")
                for i, p in enumerate(profiles)]
    text = history_text(rows([None] * 4))
    assert "warmth" not in trend_line(rows([None] * 4))
    assert warmth_note(rows([None] * 4)) in text and "voicecoach calibrate" in text
    assert text.index("Trend (") < text.index(NO_PROFILE_NOTE) < text.index(CARE_NOTE)
    for kept in (["p1"] * 4, ["p1", "p1", None, "p1"], [None]):     # compared, or a single call
        assert warmth_note(rows(kept)) == "" and NO_PROFILE_NOTE not in history_text(rows(kept))


def test_empty_history_says_how_to_fill_it():
    assert "No calls" in history_text([])
    assert trend_line([]) == ""


@pytest.mark.parametrize("bad", ["not a db", ""])
def test_unreadable_database_is_an_error(tmp_path, bad):
    import sqlite3

    path = tmp_path / "h.sqlite"
    path.write_text(bad * 100)
    if bad:
        with pytest.raises(sqlite3.DatabaseError):
            History(path)
    else:                                   # an empty file is a new database
        with History(path) as h:
            assert h.calls() == []


def test_a_history_from_before_profiles_is_upgraded_in_place_and_keeps_every_row(tmp_path):
    """A history made by the previous release (schema version 1, no warmth_profile column)
    keeps all its rows on upgrade, even those whose record files are gone."""
    import sqlite3

    db = tmp_path / "history.sqlite"
    old = sqlite3.connect(db)
    old.execute("CREATE TABLE calls (record_path TEXT PRIMARY KEY, created TEXT NOT NULL, "
                "name TEXT NOT NULL, duration_s REAL NOT NULL, talk_share_agent REAL, "
                "interruptions_by_agent INTEGER, warmth_mean REAL, agent_wpm REAL, "
                "checklist_done INTEGER, checklist_items INTEGER, commitments INTEGER)")
    old.execute("CREATE INDEX calls_created ON calls (created)")
    old.execute("PRAGMA user_version = 1")
    for i in range(6):
        old.execute("INSERT INTO calls VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (f"/nowhere/old-{i}.json", f"2026-10-0{i + 1}T09:00:00+00:00", f"old-{i}.flac",
                     60.0 + i, 0.5, i, 0.3 + 0.1 * i, 150.0, 3, 4, 1))
    old.commit()
    old.close()

    with History(db) as h:
        rows = h.calls(limit=None)
        assert [r.name for r in rows] == [f"old-{i}.flac" for i in range(6)]
        assert [r.interruptions_by_agent for r in rows] == list(range(6))
        assert all(r.warmth_profile is None for r in rows)           # unknown, not guessed
        h.add(make_record("new.flac", "2026-11-01T09:00:00+00:00", profile="p1"), tmp_path / "new.json")
    with History(db) as h:                                           # reopened: upgraded once, kept
        assert h._db.execute("PRAGMA user_version").fetchone()[0] == 4
        assert h.recordings_of("/nowhere/old-1.json") == ()           # not known: none guessed
        rows = h.calls(limit=None)
    assert len(rows) == 7 and rows[-1].warmth_profile == "p1"
    text = show_history(limit=None, path=db)
    assert all(f"old-{i}.flac" in text for i in range(6)) and "new.flac" in text
    # the old rows' warmth was judged against an unknown profile: not compared with the new call's
    assert "warmth" not in trend_line(rows)
    assert "interruptions" in trend_line(rows)


def test_the_demo_call_is_never_in_the_history(tmp_path):
    """The demo is not the agent's call: `analyze --demo -o` saves its record (marked
    "demo") but neither that nor a rebuild over its folder puts it in the trend."""
    from voicecoach.store.history import History

    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               OPENBLAS_NUM_THREADS="1")
    out = tmp_path / "calls" / "demo.json"
    res = subprocess.run([sys.executable, "-m", "voicecoach", "analyze", "--demo", "--no-transcript", "-q",
                          "-o", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text())["demo"] is True
    listed = subprocess.run([sys.executable, "-m", "voicecoach", "history"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert "No calls in your history yet" in listed.stdout, listed.stdout
    with History(tmp_path / "h.db") as h:
        added, _, skipped = h.rebuild(tmp_path / "calls")
        assert (added, skipped, h.calls()) == (0, [], [])


def test_a_recording_analysed_again_is_one_call(tmp_path):
    """`analyze call.flac -o a.json`, then again with `-o b.json`: one call in the history
    and the trend (it was two rows, the call counted twice), the later record standing for
    it, over a rebuild too; another call of the same name stays a call of its own."""
    import os

    db = tmp_path / "h.sqlite"
    out = tmp_path / "out"
    out.mkdir()
    flac = tmp_path / "calls" / "call.flac"
    first = make_record("call.flac", "2026-11-01T09:00:00+00:00", by_agent=3)
    again = make_record("call.flac", "2026-11-01T09:00:00+00:00", by_agent=2)
    other = make_record("call.flac", "2026-11-02T09:00:00+00:00")
    for i, (name, record) in enumerate((("a.json", first), ("b.json", again), ("other.json", other))):
        (out / name).write_text(json.dumps(record))
        os.utime(out / name, (1_000_000 + i, 1_000_000 + i))      # written in that order
    with History(db) as h:
        h.add(first, out / "a.json", [flac])
        h.add(again, out / "b.json", [flac])
        h.add(other, out / "other.json", [tmp_path / "elsewhere" / "call.flac"])
        rows = h.calls()
        assert [os.path.basename(r.record_path) for r in rows] == ["b.json", "other.json"]
        assert rows[0].interruptions_by_agent == 2
        assert h.records_of(flac) == [(out / "b.json").resolve()]
        assert "Your last 2 calls" in history_text(rows)
        added, kept, _ = h.rebuild([out])      # a.json is still there: b.json, written later, stands
        assert sorted(os.path.basename(r.record_path) for r in h.calls()) == ["b.json", "other.json"]
        assert (added, kept) == (2, 0)                                  # calls, not records read


def test_a_quick_look_without_speech_to_text_does_not_replace_the_full_record(tmp_path):
    """`analyze call.flac -o full.json`, then `analyze --no-transcript call.flac -o quick.json`:
    the history's row lost its pace, checklist and promises, and `report call.flac` read the
    quick record. The full record stays the call's row; the other way round still replaces."""
    from voicecoach.store.calls import add_to_history

    db = tmp_path / "h.sqlite"
    flac = tmp_path / "call.flac"
    full = make_record()
    quick = dict(make_record(), checklist=None, pace={"agent_wpm": None}, commitments=None)
    for name, record in (("full.json", full), ("quick.json", quick)):
        (tmp_path / name).write_text(json.dumps(record))
    assert add_to_history(full, tmp_path / "full.json", db, (flac,)) == ""
    note = add_to_history(quick, tmp_path / "quick.json", db, (flac,))
    assert "keeps this call's record made with speech-to-text" in note and "full.json" in note
    with History(db) as h:
        rows = h.calls()
        assert [os.path.basename(r.record_path) for r in rows] == ["full.json"] and rows[0].agent_wpm == 170.0
        assert h.records_of(flac) == [(tmp_path / "full.json").resolve()]
        h.add(full, tmp_path / "full2.json", [flac])           # a full record replaces as before
        assert [os.path.basename(r.record_path) for r in h.calls()] == ["full2.json"] and h.kept is None


def test_where_a_record_was_made_from_is_kept_over_re_adds_and_rebuilds(tmp_path):
    """The recording(s) given once stay known when the record is indexed again without them
    (opened by the review) and over `history --rebuild`; records_of finds the record of a
    one-file recording, not of a call from two files that include it."""
    db = tmp_path / "h.sqlite"
    rec = tmp_path / "out" / "a.json"
    rec.parent.mkdir()
    record = make_record("a.flac", "2026-11-01T09:00:00+00:00")
    rec.write_text(json.dumps(record))
    two = tmp_path / "out" / "b.json"
    two.write_text(json.dumps(make_record("a.flac + c.flac", "2026-11-02T09:00:00+00:00")))
    with History(db) as h:
        h.add(record, rec, [tmp_path / "calls" / "a.flac"])
        h.add(json.loads(two.read_text()), two, [tmp_path / "calls" / "a.flac", tmp_path / "calls" / "c.flac"])
        h.add(record, rec)                                           # the review opening it
        assert h.recordings_of(rec) == (tmp_path / "calls" / "a.flac",)
        assert h.records_of(tmp_path / "calls" / "a.flac") == [rec.resolve()]
        h.rebuild([tmp_path / "out"])
        assert h.recordings_of(rec) == (tmp_path / "calls" / "a.flac",)
        assert len(h.recordings_of(two)) == 2


def test_a_record_moved_by_hand_keeps_its_recording_over_a_rebuild(tmp_path, monkeypatch):
    """A live call's record moved by hand, then `history --rebuild` of its new folder (as the
    README says): the rebuilt row still knows the recording, so the review finds the audio
    and the next `history` does not "recover" the recording as a call a killed session left
    (it was analysed again and the call listed twice)."""
    from voicecoach.store.recovery import has_record

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    wav = tmp_path / "calls" / "call-20261101-090000.wav"
    wav.parent.mkdir()
    wav.write_bytes(b"")
    record = make_record(wav.name, "2026-11-01T09:00:00+00:00")
    rec = wav.with_suffix(".json")
    rec.write_text(json.dumps(record))
    with History() as h:
        h.add(record, rec, [wav])
        h.add(make_record("other.flac", "2026-11-02T09:00:00+00:00"), tmp_path / "gone.json",
              [tmp_path / "other.flac"])                      # deleted by hand: nothing takes its files
        (tmp_path / "keep").mkdir()
        moved = rec.rename(tmp_path / "keep" / rec.name)
        assert h.rebuild([tmp_path / "keep"])[0] == 1
        assert h.recordings_of(moved) == (wav,)
        assert h.records_of(wav) == [moved.resolve()]
    assert has_record(wav)


def test_a_history_longer_than_the_list_says_how_many_it_holds(tmp_path):
    """`history` lists the latest 20 (or -n N): it says when the history holds more, and
    how to list them all; it said only "Your last 20 calls"."""
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        for i in range(23):
            h.add(make_record(f"c{i}.flac", f"2026-11-{i + 1:02d}T09:00:00+00:00"), tmp_path / f"{i}.json")
        assert h.count() == 23
    lines = show_history(20, path=db).splitlines()
    assert lines[0] == ("Your last 20 of 23 calls (`voicecoach history -n 23` lists them all), "
                        "oldest first (the newest is the last line):")
    assert show_history(23, path=db).splitlines()[0].startswith("Your last 23 calls, oldest first")


def test_records_of_calls_not_recorded_that_missed_the_history_are_added_one_line_each(tmp_path, monkeypatch):
    """`history` adds the records a shift saved in records/ while the history could not be
    written: one line each, and none for a record the history leaves out because it keeps
    the same call's record made with speech-to-text (that was said when it was saved)."""
    from voicecoach.store.calls import add_to_history
    from voicecoach.store.recovery import unrecorded_added

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    records = tmp_path / "data" / "records"
    records.mkdir(parents=True)
    live = {"latency_p50_s": {}, "latency_p95_s": {}}
    full = make_record("call 1, 2026-11-01 09:00") | {"live": live}
    assert add_to_history(full, tmp_path / "full.json") == ""
    quick = full | {"checklist": None, "pace": {"agent_wpm": None}, "commitments": None}
    other = make_record("call 2, 2026-11-01 10:00", created="2026-11-01T10:00:00+00:00") | {"live": live}
    for name, record in (("call-20261101-090000-001.json", quick), ("call-20261101-100000-002.json", other),
                         ("call-20261101-110000-003.json", {"schema": "no such", "live": live})):
        (records / name).write_text(json.dumps(record))
    lines = list(unrecorded_added())
    assert len(lines) == 2, lines
    assert lines[0] == ("added call-20261101-100000-002.json to the history "
                        "(it could not be written when the call ended)")
    assert lines[1].startswith(f"{records / 'call-20261101-110000-003.json'}: not added to the history ("), lines
    with History.read_only() as h:
        assert len(h.calls()) == 2                # the full record's and call 2's
    assert list(unrecorded_added()) == [lines[1]]   # added once; the unreadable one is named each time
