"""The call store (voicecoach.store.calls), without Qt: where records are found and saved,
the open-or-analyse policy the review uses, the history added to once per record, and
privacy: every file that holds a call is 0600 in a 0700 folder."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecoach.analyze import demo_call_path
from voicecoach.sources.audio import load_call
from voicecoach.store.calls import (
    add_to_history,
    find_record,
    kept_record,
    open_call,
    record_home,
    recording_candidates,
    recording_files,
    save_call,
    save_new_call,
    save_record,
)
from voicecoach.store.history import History
from voicecoach.store.private import data_dir
from voicecoach.store.record import SCHEMA, load_record


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def make_record(name="call.wav", duration=95.5):
    return {
        "schema": SCHEMA, "created": "2026-11-01T09:00:00+00:00",
        "source": {"name": name, "channels": ["agent", "customer"]},
        "duration": duration,
        "talk_time": {"agent": 30.0, "customer": 25.0},
        "talk_share": {"agent": 0.55, "customer": 0.45},
        "interruptions": [{"start": 3.0, "end": 3.8, "by": "agent"}],
        "warmth": {"mean": 0.5},
        "pace": {"agent_wpm": 170.0},
        "checklist": {"greeting": True, "empathy": False, "questions": True, "closing_question": True},
        "commitments": [],
    }


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def umask_022():
    old = os.umask(0o022)                      # the usual umask: what is private is so by choice
    yield
    os.umask(old)


@pytest.fixture
def recording(tmp_path):
    """A short two-channel recording in a folder of its own."""
    folder = tmp_path / "calls"
    folder.mkdir()
    rng = np.random.default_rng(3)
    path = folder / "monday.wav"
    sf.write(path, 0.1 * rng.standard_normal((16000 * 3, 2)).astype(np.float32), 16000)
    return path


def history_rows(path=None):
    with History(path) as h:
        return [r.record_path for r in h.calls(None)]


def test_where_records_are_found_and_saved(tmp_path, data):
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(demo_call_path(), folder / "demo_call.flac")
    duration = load_call(folder / "demo_call.flac").duration
    save_record(make_record("demo_call.flac", duration), folder / "demo_call.json")
    assert find_record(folder / "demo_call.flac", duration) == folder / "demo_call.json"
    assert find_record(folder / "demo_call.flac", duration + 5.0) is None     # another call of that name
    call = tmp_path / "call.wav"
    call.write_bytes(b"")
    assert record_home(call) == tmp_path / "call.json"
    (tmp_path / "call.json").write_text("{}")                  # someone else's file: never overwritten
    assert record_home(call) == kept_record(call)
    assert kept_record(call).parent == data / "records" and kept_record(call).name.startswith("call-")
    assert record_home(demo_call_path()) == kept_record(demo_call_path())
    save_record(make_record("demo_call.flac", duration), kept_record(folder / "demo_call.flac"))
    (folder / "demo_call.json").unlink()
    assert find_record(folder / "demo_call.flac", duration) == kept_record(folder / "demo_call.flac")
    kept_record(folder / "demo_call.flac").unlink()             # where earlier versions kept it: still found
    save_record(make_record("demo_call.flac", duration), data / "records" / "demo_call.json")
    assert find_record(folder / "demo_call.flac", duration) == data / "records" / "demo_call.json"


def test_two_recordings_of_one_name_keep_a_record_each(tmp_path, data):
    """A/call.wav and B/call.wav, each with a `call.json` beside it that is not its record:
    both records go to the data folder's records/, neither over the other, and each
    recording opens with its own (it was one records/call.json, each analysis replacing
    the other's)."""
    analysed = []
    for folder, seconds in (("A", 5), ("B", 3)):
        (tmp_path / folder).mkdir()
        noise = 0.1 * np.random.default_rng(seconds).standard_normal((16000 * seconds, 2))
        sf.write(tmp_path / folder / "call.wav", noise.astype(np.float32), 16000)
        (tmp_path / folder / "call.json").write_text("{}")

    def analyse(audio, config, baseline):
        analysed.append(audio.duration)
        return make_record(audio.name, audio.duration)

    a, b = (open_call(tmp_path / f / "call.wav", analyse=analyse) for f in ("A", "B"))
    assert a.record_path != b.record_path and {a.record_path.parent, b.record_path.parent} == {data / "records"}
    assert open_call(tmp_path / "A" / "call.wav", analyse=analyse).record_path == a.record_path
    assert open_call(tmp_path / "B" / "call.wav", analyse=analyse).record_path == b.record_path
    assert analysed == [5.0, 3.0]                                  # each analysed once
    assert load_record(a.record_path)["duration"] == 5.0 and load_record(b.record_path)["duration"] == 3.0
    assert sorted(history_rows()) == sorted(str(p.resolve()) for p in (a.record_path, b.record_path))


def test_open_or_analyse_and_the_history_once(recording, data):
    analysed = []

    def analyse(audio, config, baseline):
        analysed.append(audio.name)
        return make_record(recording.name, audio.duration)

    first = open_call(recording, analyse=analyse)
    beside = recording.with_suffix(".json")
    assert analysed == ["monday.wav"]
    assert first.record_path == beside and first.audio_path == recording and first.audio is not None
    assert first.note == f"analysed; call record saved to {beside}"
    assert load_record(beside) == first.record
    assert history_rows() == [str(beside.resolve())]
    again = open_call(recording, analyse=analyse)                # its record exists: not analysed again
    assert analysed == ["monday.wav"] and again.record_path == beside and again.note == ""
    by_record = open_call(beside)                                 # the record finds its recording beside it
    assert by_record.audio_path == recording and by_record.record == first.record
    assert history_rows() == [str(beside.resolve())]             # one row per record, however often opened
    unsaved = open_call(dict(first.record, source={"name": "x.wav", "channels": ["agent", "customer"]}))
    assert unsaved.record_path is None and unsaved.audio is None and "no waveforms" in unsaved.note
    assert len(history_rows()) == 1


def test_a_recording_is_analysed_against_the_voice_profile_given(recording, data):
    """`review` and `report` judge a new recording's warmth against the user's voice profile,
    as `analyze` and `live` do; a record that exists is opened as it is, not analysed again."""
    from voicecoach.analyzers.voice import Baseline

    profile = Baseline(mean={"f0_st": 3.0}, spread={"f0_st": 1.0}, source="profile", n_windows=12)
    seen = []

    def analyse(audio, config, baseline):
        seen.append(baseline)
        return make_record(recording.name, audio.duration)

    open_call(recording, analyse=analyse, baseline=profile)
    assert seen == [profile]
    open_call(recording, analyse=analyse, baseline=None)
    assert seen == [profile]


def test_the_default_analysis_uses_the_profile(tmp_path, data):
    """Without an ``analyse`` of its own, open_call analyses a recording for real (the
    shipped model, given by the config) with its warmth judged against the profile given."""
    from voicecoach.analyzers.voice import Baseline
    from voicecoach.config import Config
    from voicecoach.analyzers.profile import profile_from_audio
    from voicecoach.stt.whisper import DEFAULT_MODEL, model_path

    demo = load_call(demo_call_path())
    profile = Baseline.from_dict(profile_from_audio([demo.agent[:40 * 16000]]))
    profile.source, profile.profile_id = "profile", "0123456789ab"
    config = Config()
    config.transcribe.model = model_path(DEFAULT_MODEL)       # the same model, named by its folder
    folder = tmp_path / "calls"
    folder.mkdir()
    part = folder / "part.wav"
    sf.write(part, np.stack([demo.agent[:20 * 16000], demo.customer[:20 * 16000]], axis=1), 16000)
    opened = open_call(part, config, baseline=profile)
    record = opened.record
    assert record["warmth"]["baseline"] == "profile" and record["warmth"]["profile_id"] == "0123456789ab"
    assert record["stt_model"] == config.transcribe.model                  # analysed with the config given
    said = " ".join(p["text"] for p in record["transcript"] if p["channel"] == "agent").lower()
    assert "calling" in said, said                                          # the real analysis, words and all
    assert load_record(part.with_suffix(".json")) == record


def test_the_demo_call_opens_but_stays_out_of_the_history(data):
    """`voicecoach review demo` (and `report demo`) analyse the demo once and keep its
    record to open at once next time; it is no call of the agent's, so not in their trend."""
    analysed = []

    def analyse(audio, config, baseline):
        analysed.append(audio.name)
        return make_record("demo_call.flac", audio.duration)

    first = open_call("demo", analyse=analyse)
    assert first.record_path == kept_record(demo_call_path()) and first.note == ""
    again = open_call("demo", analyse=analyse)
    assert analysed == ["demo_call.flac"] and again.record_path == first.record_path
    assert history_rows() == []
    by_record = open_call(first.record_path)       # `review records/demo_call.json`: still the demo
    assert by_record.audio is not None and by_record.note == ""
    assert history_rows() == []


def test_a_shift_record_of_the_demo_plays_the_demo_from_where_the_call_was_found(data):
    """`live --replay demo` without --record: the record's clock starts where the shift found
    the call (``shift.start_s``), so the review plays the demo from there, not from its 0."""
    demo = load_call(demo_call_path())
    record = dict(make_record("demo_call.flac", 20.0), demo=True, shift={"call": 1, "start_s": 1.5})
    save_record(record, data / "records" / "call-1.json")
    opened = open_call(data / "records" / "call-1.json")
    assert opened.audio.duration == pytest.approx(20.0)
    assert np.array_equal(opened.audio.agent, demo.agent[24000:24000 + 320000])
    assert np.array_equal(opened.audio.customer, demo.customer[24000:24000 + 320000])
    assert history_rows() == []


def test_a_record_that_cannot_be_saved_is_a_note(recording, data, monkeypatch):
    import voicecoach.store.calls as calls

    def refuse(record, path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(calls, "save_record", refuse)
    opened = open_call(recording, analyse=lambda audio, config, baseline: make_record(recording.name, audio.duration))
    assert opened.record_path is None and opened.audio is not None
    assert opened.note.startswith("analysed; the call record could not be saved") and "Permission denied" in opened.note
    assert history_rows() == []
    assert save_new_call(opened.record, recording) == (None, opened.note.removeprefix("analysed; "))


def test_a_history_that_cannot_be_written_is_a_note_not_a_lost_call(tmp_path, data):
    bad = tmp_path / "h.sqlite"
    bad.write_text("not a db" * 100)
    note = save_call(make_record(), tmp_path / "out" / "call.json", history_path=bad)
    assert note.startswith("not added to the history (") and load_record(tmp_path / "out" / "call.json")
    incomplete = {"schema": SCHEMA, "source": {"name": "x.wav", "channels": ["agent"]}}
    assert "incomplete call record" in add_to_history(incomplete, tmp_path / "x.json")
    assert save_call(make_record(), tmp_path / "ok.json") == ""


def test_files_that_hold_a_call_are_private(tmp_path, data, recording, umask_022):
    # a record where the user says, in folders that do not exist yet
    out = tmp_path / "new" / "deeper" / "call.json"
    assert save_call(make_record(), out) == ""
    assert mode(out) == 0o600
    assert mode(tmp_path / "new") == mode(tmp_path / "new" / "deeper") == 0o700
    # the history, and its SQLite side files while it is open
    assert mode(data) == 0o700 and mode(data / "history.sqlite") == 0o600
    with History() as h:
        h.add(make_record("b.wav"), tmp_path / "b.json")
        side = [p for p in data.iterdir() if p.name != "history.sqlite"]
        assert side and all(mode(p) == 0o600 for p in side), [(p.name, oct(mode(p))) for p in side]
    # overwriting a file others could read leaves one only the user can
    loose = tmp_path / "loose.json"
    loose.write_text("{}")
    os.chmod(loose, 0o644)
    save_record(make_record(), loose)
    assert mode(loose) == 0o600
    # a folder the user made keeps its mode; the new record in it is private
    os.chmod(recording.parent, 0o755)
    path, note = save_new_call(make_record(recording.name), recording)
    assert path == recording.with_suffix(".json") and note == ""
    assert mode(path) == 0o600 and mode(recording.parent) == 0o755
    # VoiceCoach's own folders are made private even when they were not
    os.chmod(data, 0o755)
    os.chmod(data / "history.sqlite", 0o644)
    path, note = save_new_call(make_record("demo_call.flac"), demo_call_path())
    assert path == kept_record(demo_call_path()) and note == ""
    assert mode(data) == mode(data / "records") == 0o700
    assert mode(path) == 0o600 and mode(data / "history.sqlite") == 0o600
    # the review's path: a recording analysed and its record saved beside it
    other = recording.with_name("tuesday.wav")
    shutil.copy(recording, other)
    opened = open_call(other, analyse=lambda audio, config, baseline: make_record(other.name, audio.duration))
    assert opened.record_path == other.with_suffix(".json") and mode(opened.record_path) == 0o600
    assert data_dir() == data


CHECKOUT = str(Path(__file__).resolve().parents[1])


def test_analyze_writes_private_files(tmp_path):
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"),      # this checkout's voicecoach
               PYTHONPATH=os.pathsep.join(filter(None, [CHECKOUT, os.environ.get("PYTHONPATH")])))
    res = subprocess.run([sys.executable, "-m", "voicecoach", "analyze", "--demo", "--no-transcript", "-q",
                          "-o", "out/demo.json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert res.returncode == 0, res.stderr
    assert "note" not in res.stderr
    assert mode(tmp_path / "out") == 0o700 and mode(tmp_path / "out" / "demo.json") == 0o600
    assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "history.sqlite") == 0o600
    with History(tmp_path / "data" / "history.sqlite") as h:
        assert h.calls() == []               # the demo is not the agent's call (test_history.py)
    assert json.loads((tmp_path / "out" / "demo.json").read_text())["source"]["name"] == "demo_call.flac"


def test_store_and_player_import_without_qt():
    code = ("import sys, voicecoach.store.calls, voicecoach.store.history, voicecoach.sinks.playback; "
            "print(sorted(m for m in sys.modules if m.startswith('PyQt')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=CHECKOUT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_reports_event_logs_and_profiles_are_private_too(tmp_path, umask_022):
    """Every other file that holds a call: the HTML report, the live event log, and a
    voice profile (written by the same helper as `calibrate`)."""
    from voicecoach.events import Event
    from voicecoach.sinks.console import JsonlWriter
    from voicecoach.sinks.report import write_report
    from voicecoach.store.private import write_private

    from voicecoach.analyze import analyze_call, demo_call_path
    from voicecoach.sources.audio import load_call

    record = analyze_call(load_call(demo_call_path()), transcribe=False)
    report = write_report(record, None, tmp_path / "reports" / "call.html")
    assert mode(report) == 0o600 and mode(tmp_path / "reports") == 0o700
    log = tmp_path / "events.jsonl"
    log.write_text("")
    os.chmod(log, 0o644)                     # an old log others could read is taken over
    writer = JsonlWriter(str(log))
    writer("event", Event("nudge", 1.0, "agent", "slow down"))
    writer.close()
    assert mode(log) == 0o600 and "slow down" in log.read_text()
    assert mode(write_private(tmp_path / "me.json", "{}")) == 0o600


def test_an_event_log_is_added_to_not_overwritten(tmp_path):
    """`live --events FILE` again the next morning keeps yesterday's lines; each run opens
    with a session line, and a line a killed run left half written stays on its own."""
    from voicecoach.events import Event
    from voicecoach.sinks.console import JsonlWriter

    log = tmp_path / "shift.jsonl"
    for text in ("yesterday", "today"):
        writer = JsonlWriter(str(log))
        writer("event", Event("nudge", 1.0, "agent", text))
        writer.close()
        with open(log, "a") as f:
            f.write('{"kind": "nudge", "t": 2.0, "te')          # killed mid-line
    JsonlWriter(str(log)).close()
    lines = log.read_text().splitlines()
    whole = [json.loads(line) for line in lines if line.endswith("}")]
    assert [e["kind"] for e in whole] == ["session", "nudge", "session", "nudge", "session"]
    assert [e["text"] for e in whole if e["kind"] == "nudge"] == ["yesterday", "today"]
    assert len(lines) == len(whole) + 2 and all(e["data"]["started"] for e in whole if e["kind"] == "session")


def test_a_recording_without_a_record_is_dated_when_it_was_recorded(recording, data):
    """`review`/`report` of last week's recording date its new record by the recording (its
    last change less the call's length), as `analyze` does, not by today; the demo keeps
    the time it was analysed."""
    from datetime import datetime, timezone

    ended = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc).timestamp()
    os.utime(recording, (ended, ended))
    today = "2026-12-04T02:08:51+00:00"

    def analyse(audio, config, baseline):
        return dict(make_record(audio.name, audio.duration), created=today)

    opened = open_call(recording, analyse=analyse)
    assert opened.record["created"] == "2026-11-20T09:59:57+00:00"          # 3 s before it ended
    assert load_record(opened.record_path)["created"] == opened.record["created"]
    assert open_call("demo", analyse=analyse).record["created"] == today


def test_the_demos_kept_record_is_marked_demo_never_indexed_nor_shared(tmp_path, data, capsys):
    """`review demo` / `report demo` keep the demo's record in records/ marked ``"demo":
    true``, as `analyze --demo` marks it: `history --rebuild` of that folder leaves it out,
    and `share` refuses it in one line before reaching the team store."""
    from voicecoach.cli import main

    opened = open_call("demo", analyse=lambda audio, config, baseline: make_record(audio.name, audio.duration))
    assert load_record(opened.record_path)["demo"] is True
    assert main(["history", "--rebuild", str(data / "records")]) == 0
    assert history_rows() == []
    config = tmp_path / "team.toml"
    config.write_text('[team]\ndatabase = "host=/nonexistent dbname=team"\n')
    capsys.readouterr()
    assert main(["share", str(opened.record_path), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the demo call, not one of yours" in err, err
    for name in ("demo", str(demo_call_path())):    # as `review demo` names it (it said "demo: no such file")
        assert main(["share", name, "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "the demo call, not one of yours" in err, err


def test_what_a_recording_warns_of_reaches_the_review_as_its_note(tmp_path, data):
    """A clipped side or a dead caller channel (and a truncated file) was said on the terminal
    only: the review window, which shows ``note`` on its status line, said nothing."""
    import warnings

    from voicecoach.sources.audio import AudioWarning

    rng = np.random.default_rng(4)
    loud = np.clip(rng.standard_normal((16000 * 3, 2)), -1, 1).astype(np.float32)
    loud[:, 1] *= 0.1
    path = tmp_path / "loud.wav"
    sf.write(path, loud, 16000)

    def analyse(audio, config, baseline):
        return make_record("loud.wav", audio.duration)

    for _ in range(2):                                  # analysed, then opened with its record
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always", AudioWarning)
            opened = open_call(path, analyse=analyse)
        assert "your side is clipped" in opened.note
        assert [str(w.message) for w in said if w.category is AudioWarning] == [opened.note.split("; ")[0]]


def test_a_later_demo_call_of_a_shift_opens_without_audio_rather_than_crashing(data):
    """`live --replay demo demo`: the second call starts past the demo's end on the shift's
    clock; the review opened it with no samples and crashed drawing them."""
    record = dict(make_record("demo_call.flac", 20.0), demo=True, shift={"call": 2, "start_s": 85.0})
    save_record(record, data / "records" / "call-2.json")
    opened = open_call(data / "records" / "call-2.json")
    assert opened.audio is None and "not known" in opened.note


def test_a_new_call_recorded_into_the_same_file_keeps_the_old_calls_record(tmp_path, data):
    """A recorder that reuses one file name (its `.json` beside taken by something else):
    each call's record is kept in records/, the new one never over the old one."""
    folder = tmp_path / "A"
    folder.mkdir()
    (folder / "call.json").write_text("{}")                     # not a record: never written over
    rng = np.random.default_rng(6)
    kept = []

    def analyse(audio, config, baseline):
        return make_record("call.wav", audio.duration)

    for seconds in (5, 3):
        sf.write(folder / "call.wav", 0.1 * rng.standard_normal((16000 * seconds, 2)).astype(np.float32), 16000)
        kept.append(open_call(folder / "call.wav", analyse=analyse).record_path)
    assert kept[0] != kept[1] and all(p.parent == data / "records" for p in kept)
    assert [load_record(p)["duration"] for p in kept] == [5.0, 3.0]
    assert (folder / "call.json").read_text() == "{}"


def test_a_demo_record_an_earlier_version_kept_unmarked_is_still_the_demo(data):
    """records/demo_call.json from before records were marked "demo": opened by name or by
    `review demo`, it is marked, kept out of the history, and never shared."""
    from voicecoach.store.team import TeamError, share_local_call

    duration = load_call(demo_call_path()).duration
    legacy = data / "records" / "demo_call.json"
    save_record(make_record("demo_call.flac", duration), legacy)
    for opened in (open_call("demo"), open_call(legacy)):
        assert opened.record_path == legacy and opened.record.get("demo") is True
        with pytest.raises(TeamError, match="demo call"):            # the review's Share
            share_local_call(None, opened.record)
    with History() as h:                                              # `history --rebuild`
        assert h.add(load_record(legacy), legacy) is None
    assert history_rows() == []


def test_report_opens_a_shift_record_of_the_demo_as_the_review_does(data, tmp_path):
    """`report` of a record took the whole demo against a record that covers part of it
    (and of a later call, none of it); it now opens records as the review does."""
    from voicecoach.cli import main

    for n, start in ((1, 1.5), (2, 85.0)):
        record = dict(make_record("demo_call.flac", 20.0), demo=True, shift={"call": n, "start_s": start})
        save_record(record, data / "records" / f"call-{n}.json")
        assert main(["report", str(data / "records" / f"call-{n}.json"), "-o", str(tmp_path / f"r{n}.html")]) == 0
    assert "<audio" in (tmp_path / "r1.html").read_text() and "<audio" not in (tmp_path / "r2.html").read_text()


def test_a_record_saved_elsewhere_finds_its_recording_and_the_recording_its_record(tmp_path, data, recording):
    """`analyze calls/monday.wav -o out/monday.json`: the review, `report` and `share` of
    out/monday.json played nothing ("not found beside the record"), and reviewing
    calls/monday.wav analysed it again into a second record (two history rows, one call)."""
    from voicecoach.cli import main

    out = tmp_path / "out" / "monday.json"
    assert main(["analyze", str(recording), "--no-transcript", "-q", "-o", str(out)]) == 0
    opened = open_call(out)
    assert opened.audio_path == recording and opened.audio is not None and opened.note == ""

    def analyse(audio, config, baseline):
        raise AssertionError("analysed again")

    again = open_call(recording, analyse=analyse)                  # its record is found, not made again
    assert again.record_path == out and again.audio_path == recording
    assert history_rows() == [str(out.resolve())]
    with History() as h:                                           # a rebuild keeps where it came from
        h.rebuild([tmp_path / "out"])
    assert open_call(out).audio_path == recording


def test_a_record_kept_in_the_data_folder_opens_with_its_recording(tmp_path, data):
    """A record that could not go beside its recording is kept in records/; opened from the
    history (by its own path) it had no recording beside it, so no waveforms or playback."""
    folder = tmp_path / "A"
    folder.mkdir()
    (folder / "call.json").write_text("{}")                       # the name beside is taken
    sf.write(folder / "call.wav", 0.1 * np.random.default_rng(8).standard_normal((16000 * 4, 2)).astype(np.float32),
             16000)
    first = open_call(folder / "call.wav", analyse=lambda audio, c, b: make_record("call.wav", audio.duration))
    assert first.record_path.parent == data / "records"
    opened = open_call(first.record_path)
    assert opened.audio_path == folder / "call.wav" and opened.audio is not None, opened.note


def test_a_call_from_one_file_per_side_plays_beside_or_where_it_was_analysed(tmp_path, data):
    """`analyze --agent a.flac --customer b.flac -o call.json`: source.name is "a.flac + b.flac",
    which was looked for as one file, so such a call never had waveforms, playback or audio
    in its report."""
    from voicecoach.cli import main

    folder = tmp_path / "split"
    folder.mkdir()
    rng = np.random.default_rng(9)
    sf.write(folder / "agent side.flac", 0.1 * rng.standard_normal(16000 * 3).astype(np.float32), 16000)
    sf.write(folder / "caller.flac", 0.05 * rng.standard_normal(16000 * 3).astype(np.float32), 16000)
    for out in (folder / "call.json", tmp_path / "elsewhere" / "call.json"):
        assert main(["analyze", "--agent", str(folder / "agent side.flac"), "--customer",
                     str(folder / "caller.flac"), "--no-transcript", "-q", "-o", str(out)]) == 0
        opened = open_call(out)
        assert opened.audio_files == (folder / "agent side.flac", folder / "caller.flac"), opened.note
        assert opened.audio_path is None and opened.audio is not None
        agent_rms = float(np.sqrt(np.mean(opened.audio.agent ** 2)))
        assert 0.08 < agent_rms < 0.12                              # each side from its own file
        assert main(["report", str(out), "-o", str(tmp_path / "r.html")]) == 0
        assert "data:audio" in (tmp_path / "r.html").read_text()


def test_a_recording_of_another_length_is_not_played_as_the_call(tmp_path, data):
    """A 3 s file named as a record's 95.5 s recording: the review drew 3 s of waveform under a
    1:35 call and the report embedded it."""
    folder = tmp_path / "mism"
    folder.mkdir()
    sf.write(folder / "call.wav", np.zeros((16000 * 3, 2), np.float32) + 0.01, 16000)
    save_record(make_record("call.wav", 95.5), folder / "call.json")
    opened = open_call(folder / "call.json")
    assert opened.audio is None and opened.audio_files == ()
    assert opened.note == ("call.wav lasts 0:03 but the call lasted 1:36: it is not this call's recording: "
                           "no waveforms or playback")
    assert recording_files(load_record(folder / "call.json"), folder / "call.json") == ()     # nor shared
    # a live call's recording that a full disk stopped is the call's first part: played, and said
    save_record(dict(make_record("call.wav", 95.5), live={"stopped_because": None}), folder / "call.json")
    opened = open_call(folder / "call.json")
    assert opened.audio is not None and "call.wav lasts 0:03: the recording stopped during the call" in opened.note
    # a shift's call ends in the silence after it, which its recording keeps: played, cut to the call
    save_record(dict(make_record("call.wav", 1.5), shift={"call": 1, "start_s": 0.0}, live={}), folder / "call.json")
    opened = open_call(folder / "call.json")
    assert opened.audio.duration == 1.5 and opened.note == ""
    assert recording_files(load_record(folder / "call.json"), folder / "call.json") == (folder / "call.wav",)


def test_the_first_recording_that_is_the_calls_is_taken(tmp_path, data, recording):
    """A file of the record's name but another call beside a record saved elsewhere: the
    one the history knows, of the call's length, is played and shared, not refused."""
    from voicecoach.cli import main

    out = tmp_path / "out" / "monday.json"
    assert main(["analyze", str(recording), "--no-transcript", "-q", "-o", str(out)]) == 0
    sf.write(out.parent / "monday.wav", np.zeros((16000 * 9, 2), np.float32) + 0.01, 16000)
    opened = open_call(out)
    assert opened.audio_path == recording and opened.note == ""
    assert recording_files(load_record(out), out) == (recording,)


def test_a_symlink_beside_a_record_never_reaches_a_file_elsewhere(tmp_path, data, recording):
    """A record unpacked with `x.wav` a link to a file of the user's elsewhere: not played,
    embedded or shared (the history was not told of it)."""
    folder = tmp_path / "unpacked"
    folder.mkdir()
    (folder / "x.wav").symlink_to(recording)
    save_record(make_record("x.wav", 3.0), folder / "call.json")
    assert list(recording_candidates(load_record(folder / "call.json"), folder / "call.json")) == []
    assert open_call(folder / "call.json").audio is None


def test_a_recording_is_found_by_its_record_through_a_symlinked_folder(tmp_path, data, recording):
    """Analysed as linkcalls/monday.wav, reviewed as calls/monday.wav: the same file, so the
    same record (it was analysed again into a second record)."""
    from voicecoach.cli import main

    (tmp_path / "linkcalls").symlink_to(recording.parent)
    out = tmp_path / "out" / "monday.json"
    assert main(["analyze", str(tmp_path / "linkcalls" / recording.name), "--no-transcript", "-q",
                 "-o", str(out)]) == 0

    def analyse(audio, config, baseline):
        raise AssertionError("analysed again")

    assert open_call(recording, analyse=analyse).record_path == out


def test_a_record_made_elsewhere_is_an_input_of_report_and_recovery_knows_it(tmp_path, data, capsys):
    """`report call.wav -o out/call.json` would write the page over the record the history
    links to call.wav; a crash-recovery pass would analyse call-*.wav again though it has one."""
    from voicecoach.cli import main
    from voicecoach.store.recovery import has_record

    folder = tmp_path / "calls"
    folder.mkdir()
    wav = folder / "call-20261204-090000.wav"
    sf.write(wav, 0.1 * np.random.default_rng(12).standard_normal((16000 * 3, 2)).astype(np.float32), 16000)
    assert not has_record(wav)
    out = tmp_path / "out" / "call.json"
    assert main(["analyze", str(wav), "--no-transcript", "-q", "-o", str(out)]) == 0
    assert has_record(wav)
    before = out.read_text()
    capsys.readouterr()
    assert main(["report", str(wav), "-o", str(out)]) == 2
    assert "call record" in capsys.readouterr().err and out.read_text() == before


def test_a_look_up_never_creates_upgrades_or_waits_on_the_history(tmp_path, data, recording):
    import sqlite3
    import time

    from voicecoach.store.history import default_db_path

    assert find_record(recording, 3.0) is None and not default_db_path().exists()     # none made
    default_db_path().parent.mkdir(parents=True)
    old = sqlite3.connect(default_db_path())                   # a history of schema 2, locked
    old.execute("CREATE TABLE calls (record_path TEXT PRIMARY KEY, created TEXT NOT NULL, name TEXT NOT NULL, "
                "duration_s REAL NOT NULL)")
    old.execute("PRAGMA user_version = 2")
    old.commit()
    old.execute("BEGIN EXCLUSIVE")
    t0 = time.perf_counter()
    assert find_record(recording, 3.0) is None
    assert time.perf_counter() - t0 < 2.0
    old.rollback()
    assert old.execute("PRAGMA user_version").fetchone()[0] == 2
    old.close()


def test_a_right_channel_agent_is_played_as_analysed(tmp_path, data):
    """`analyze --agent-channel right`: the review read the left channel as the agent."""
    from voicecoach.cli import main

    path = tmp_path / "swapped.wav"
    rng = np.random.default_rng(10)
    sf.write(path, np.stack([0.02 * rng.standard_normal(48000), 0.2 * rng.standard_normal(48000)], axis=1)
             .astype(np.float32), 16000)
    assert main(["analyze", str(path), "--agent-channel", "right", "--no-transcript", "-q",
                 "-o", str(tmp_path / "swapped.json")]) == 0
    assert load_record(tmp_path / "swapped.json")["source"]["agent_channel"] == "right"
    for call in ("swapped.json", "swapped.wav"):                  # by its record, or by the recording
        opened = open_call(tmp_path / call)
        assert np.sqrt(np.mean(opened.audio.agent ** 2)) > 5 * np.sqrt(np.mean(opened.audio.customer ** 2))


def test_opening_another_record_of_a_recording_keeps_where_the_recording_is(tmp_path, data, recording):
    """`analyze calls/monday.wav -o out/a.json`, then `... --agent-channel right -o out/b.json`
    (b takes a's history row), then `report out/a.json` and `report out/b.json`: opening a
    re-indexed it without its recording, in place of b's row, so the history forgot which
    file both were made from. b's report then had no waveforms or playback ("monday.wav is
    neither beside the record nor where it was analysed"), and `history --delete` of the call
    deleted its record and row but said "no recording found" and left the recording behind.
    Opening a record must not lose what the history knows of its recording."""
    from voicecoach.store.delete import calls_to_delete, plan_deletion

    duration = load_call(recording).duration
    a, b = tmp_path / "out" / "a.json", tmp_path / "out" / "b.json"
    save_call(make_record(recording.name, duration), a, recordings=(recording,))
    right = make_record(recording.name, duration)
    right["source"]["agent_channel"] = "right"
    save_call(right, b, recordings=(recording,))
    assert history_rows() == [str(b.resolve())]                  # one call, one row: b's
    assert open_call(b).audio_path == recording
    open_call(a)                                                  # `report out/a.json`
    assert open_call(b).audio_path == recording                   # was None: "neither beside ... nor where analysed"
    with History() as h:
        listed = Path(h.record_paths()[0])
        assert h.recordings_of(listed) == (recording,)            # was (): the link to the recording lost
    plan = plan_deletion(calls_to_delete(["1"])[0])
    assert plan.recordings == (recording,)                         # was (): the recording stayed on disk


def test_a_live_calls_recording_opens_with_its_record(tmp_path, data):
    """`review`/`report` of a recording `live --record` made: the shift ends a call in the
    silence after it, which the recording keeps, so the recording is longer than its
    record. Its record was not found: the call was analysed again, saved a second record
    and listed twice in the history (found by a helper following the README)."""
    folder = tmp_path / "calls"
    folder.mkdir()
    sf.write(folder / "call-20261207-000152.wav", np.zeros((16000 * 14, 2), np.float32) + 0.01, 16000)
    record = dict(make_record("call-20261207-000152.wav", 2.0), live={"stopped_because": None},
                  shift={"call": 1, "start_s": 0.0, "end_s": 2.0})
    save_record(record, folder / "call-20261207-000152.json")
    assert find_record(folder / "call-20261207-000152.wav", 14.0) == folder / "call-20261207-000152.json"

    def analyse(audio, config, baseline):
        raise AssertionError("analysed again")
    opened = open_call(folder / "call-20261207-000152.wav", analyse=analyse)
    assert opened.record_path == folder / "call-20261207-000152.json"
    assert opened.audio.duration == 2.0                  # cut to the call, as the record opens it
    # a recording of another call's length still has no record: it is not this one's
    record = make_record("call.wav", 2.0)
    sf.write(folder / "call.wav", np.zeros((16000 * 14, 2), np.float32) + 0.01, 16000)
    save_record(record, folder / "call.json")
    assert find_record(folder / "call.wav", 14.0) is None


def test_two_shifts_saving_a_call_by_the_same_second_keep_both_records(tmp_path, data):
    """A shift and a replay beside it (or two shifts) that start a call in the same second
    named its record alike, ``call-<second>-001.json``: the second saved over the first."""
    import datetime as dt

    from voicecoach.config import Config
    from voicecoach.shift import Shift
    from voicecoach.sources.audio import CallAudio
    from voicecoach.sources.files import PlaylistSource

    quiet = CallAudio(np.zeros(16000, np.float32), np.zeros(16000, np.float32), "quiet")
    info = {"when": dt.datetime(2026, 12, 7, 7, 38, 27), "index": 1}
    saved = []
    for name in ("the shift's call", "the replay's call"):
        shift = Shift(PlaylistSource([(0.0, quiet)]), Config(), transcribe=False,
                      records_folder=tmp_path / "records", history_path=tmp_path / "h.db")
        path, note = shift._save(make_record(name), None, info)
        assert note == "" or "history" not in note, note
        saved.append(path)
    assert saved[0].name == "call-20261207-073827-001.json"
    assert saved[1].name == "call-20261207-073827-001-2.json"
    assert [load_record(p)["source"]["name"] for p in saved] == ["the shift's call", "the replay's call"]
    assert all(mode(p) == 0o600 for p in saved)


def test_a_new_private_file_takes_the_next_free_name_exclusively(tmp_path):
    from voicecoach.store.private import new_private_file

    made = []
    for _ in range(3):
        path, fd = new_private_file(tmp_path / "calls", "call-20261207-073827", ".wav")
        os.close(fd)
        made.append(path.name)
    assert made == ["call-20261207-073827.wav", "call-20261207-073827-2.wav", "call-20261207-073827-3.wav"]
    assert mode(tmp_path / "calls") == 0o700 and mode(tmp_path / "calls" / made[0]) == 0o600
