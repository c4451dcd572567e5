"""A recording whose process was killed mid-call gets its call record at the next start.

The recorder is killed with ``os._exit`` (no close, no flush) in a child process, as a
crash would; `voicecoach history` then finds the recording, makes its header whole,
analyses it (the real model) and saves its record beside it and in the history.
A recording still being written is left alone.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from voicecoach.analyze import demo_call_path
from voicecoach.sinks.recorder import Recorder, in_progress, repair
from voicecoach.sources.audio import load_call
from voicecoach.store.recovery import unfinished

CRASH = """
import os, sys
from voicecoach.analyze import demo_call_path
from voicecoach.sinks.recorder import Recorder
from voicecoach.sources.audio import load_call
call = load_call(demo_call_path())
rec = Recorder(sys.argv[1], ("agent", "customer"))
n = int(float(sys.argv[2]) * 16000)
for i in range(0, n, 320):                       # 20 ms blocks, as live writes them
    rec.write("agent", call.agent[i:i + 320])
    rec.write("customer", call.customer[i:i + 320])
print(rec.path, flush=True)
os._exit(1)                                      # no close, no flush: as kill -9
"""


def crash_recording(folder, seconds: float) -> str:
    out = subprocess.run([sys.executable, "-c", CRASH, str(folder), str(seconds)],
                         capture_output=True, text=True, timeout=120)
    return out.stdout.strip()


def test_repair_counts_every_frame_that_reached_the_file(tmp_path):
    path = crash_recording(tmp_path, 12.5)
    before = sf.info(path).duration
    assert 11.0 <= before <= 12.5                 # the header as of the last sync
    assert abs(repair(path) - 12.5) < 0.03        # every whole frame written
    y, sr = sf.read(path, dtype="float32")
    assert abs(len(y) / sr - 12.5) < 0.03
    call = load_call(demo_call_path())
    assert np.allclose(y[:, 0], call.agent[:len(y)], atol=1e-4)
    other = tmp_path / "call-other.wav"
    other.write_bytes(b"x" * 60)                  # not a recording of ours: left as it is
    assert repair(other) is None and other.read_bytes() == b"x" * 60


def test_a_recording_in_progress_is_not_unfinished(tmp_path):
    rec = Recorder(tmp_path, ("agent",))
    rec.write("agent", np.zeros(32000, np.float32))
    assert in_progress(rec.path) and unfinished(tmp_path) == []
    rec.close()
    assert not in_progress(rec.path) and unfinished(tmp_path) == [rec.path]   # no record yet



def test_a_recording_that_holds_no_audio_is_not_a_call_to_recover(tmp_path):
    """A full disk can take even a recording's header: such a file is not named at
    every start as a call that cannot be analysed, and a closed one is removed."""
    from voicecoach.sinks.recorder import remove_if_empty

    empty = tmp_path / "call-20260101-090000.wav"
    empty.write_bytes(b"")
    header_only = Recorder(tmp_path, ("agent",))
    header_only.close()
    assert unfinished(tmp_path) == []
    full = Recorder(tmp_path, ("agent",))
    full.write("agent", np.zeros(1600, np.float32))
    full.close()
    assert unfinished(tmp_path) == [full.path]
    assert remove_if_empty(empty) and not empty.exists()
    assert remove_if_empty(header_only.path) and not header_only.path.exists()
    assert not remove_if_empty(full.path) and full.path.exists()

def test_killed_call_is_recovered_into_its_record_and_the_history(tmp_path):
    folder, data = tmp_path / "calls", tmp_path / "data"
    path = crash_recording(folder, 40.0)
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data))
    config = tmp_path / "config.toml"
    config.write_text(f'[live]\nrecord_dir = "{folder}"\n')
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--config", str(config)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "recovered" in lines[0] and "stopped mid-call" in lines[0], res.stderr
    record = json.loads((folder / (os.path.basename(path)[:-4] + ".json")).read_text())
    assert record["source"]["name"] == os.path.basename(path)
    assert abs(record["duration"] - 40.0) < 0.05
    words = " ".join(p["text"] for p in record["transcript"]).lower()
    assert "northwind" in words or "broadband" in words, words
    # a live call: listed in the history by the caller's first problem, as live names it
    assert record["live"]["stopped_because"].startswith("the program stopped mid-call")
    from voicecoach.sinks.view import empty_list_text
    assert "lost when the program stopped" in empty_list_text(record, "marks")     # not "none were marked"
    assert f"live call: {record['caller_problems'][0]['text']}"[:30] in res.stdout, res.stdout
    # once recovered, it is not analysed again
    again = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--config", str(config)],
                           capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0 and again.stderr == "", again.stderr


def test_quitting_lets_a_record_being_saved_reach_the_history(tmp_path, monkeypatch):
    """`live` quits while its background recovery saves a record: the quit waits for the
    save (here held up by another program writing the history), so the record is not left
    out of the history, and its line is said."""
    import sqlite3
    import threading
    import time

    from voicecoach.store.history import History
    from voicecoach.store.recovery import BackgroundRecovery

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "calls"
    path = crash_recording(folder, 12.0)
    record_path = path[:-4] + ".json"
    History().close()
    other = sqlite3.connect(str(tmp_path / "data" / "history.sqlite"), isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")                       # another program writing the history
    lines: list[str] = []
    recovery = BackgroundRecovery(unfinished(folder), say=lines.append)
    deadline = time.monotonic() + 300
    while not os.path.exists(record_path) and recovery.thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.exists(record_path), lines
    threading.Timer(1.0, other.rollback).start()           # the other program is done a second later
    assert recovery.stop() is False                        # nothing left without its record
    assert len(lines) == 1 and "added to the history" in lines[0], lines
    with History() as history:
        assert [c.record_path for c in history.calls()] == [record_path]
    other.close()


def test_quitting_mid_analysis_saves_nothing_and_leaves_it_for_the_next_start(tmp_path, monkeypatch):
    from voicecoach.store.recovery import BackgroundRecovery

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "calls"
    path = crash_recording(folder, 12.0)
    lines: list[str] = []
    recovery = BackgroundRecovery(unfinished(folder), say=lines.append)
    assert recovery.stop() is True                         # the analysis takes seconds: it was going on
    recovery.thread.join(300)
    assert lines == [] and not os.path.exists(path[:-4] + ".json")
    assert unfinished(folder) == [Path(path)]


def test_history_finds_a_killed_call_in_a_folder_given_on_the_command_line(tmp_path):
    """`live --record DIR` (not the config's record_dir) was killed mid-call: `history`
    looks in the folders its earlier calls were recorded in."""
    from voicecoach.store.calls import save_call

    folder, data = tmp_path / "calls", tmp_path / "data"
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data))
    earlier = crash_recording(folder, 8.0)
    save_call(_record_of(earlier), earlier[:-4] + ".json", data / "history.sqlite")
    path = crash_recording(folder, 12.0)
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "recovered" in lines[0] and os.path.basename(path) in lines[0], res.stderr
    assert os.path.exists(path[:-4] + ".json")


def _record_of(recording: str) -> dict:
    from voicecoach.analyze import analyze_call

    return analyze_call(load_call(recording), transcribe=False)


def test_a_recovered_call_is_judged_against_the_remembered_voice_profile(tmp_path):
    """`history` analyses a killed call as `analyze` would: warmth against the voice profile
    `calibrate` remembered, not the call's own start."""
    import hashlib

    folder, data = tmp_path / "calls", tmp_path / "data"
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data))
    config = tmp_path / "config.toml"
    config.write_text(f'[live]\nrecord_dir = "{folder}"\n')
    res = subprocess.run([sys.executable, "-m", "voicecoach", "calibrate", str(demo_call_path()),
                          "-o", str(tmp_path / "me.json"), "--config", str(config)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0 and "Set as your voice profile" in res.stdout, res.stderr
    path = crash_recording(folder, 12.0)
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--config", str(config)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0 and "recovered" in res.stderr, res.stderr
    warmth = json.loads(Path(path[:-4] + ".json").read_text())["warmth"]
    assert warmth["baseline"] == "profile"
    assert warmth["profile_id"] == hashlib.sha1((tmp_path / "me.json").read_bytes()).hexdigest()[:12]


def test_a_recovered_call_is_dated_when_it_was_recorded(tmp_path, monkeypatch):
    """A recording left by a crash on 1 November and recovered today is 1 November's call:
    mending its header keeps the file's times, and its record is dated by them as
    `analyze` dates a recording (its last change less the call's length)."""
    from datetime import datetime, timezone

    import voicecoach.analyze as analyze
    from voicecoach.store.recovery import recover

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    real = analyze.analyze_stream
    monkeypatch.setattr(analyze, "analyze_stream", lambda call, config=None, **kw: real(call, config,
                                                                                        transcribe=False, **kw))
    path = Path(crash_recording(tmp_path / "calls", 4.0))
    ended = datetime(2026, 11, 1, 9, 5, tzinfo=timezone.utc).timestamp()
    os.utime(path, (ended, ended))
    assert "recovered" in recover(path)
    assert os.stat(path).st_mtime == ended
    record = json.loads(path.with_suffix(".json").read_text())
    started = datetime.fromisoformat(record["created"]).timestamp()
    assert abs(started - (ended - record["duration"])) <= 1.0 and abs(record["duration"] - 4.0) < 0.05


def test_recordings_whose_records_are_in_the_history_are_not_read_again(tmp_path, monkeypatch):
    """`history` and every `live` start look for unfinished recordings: each record was read
    and checked whole (a year of recorded calls: a minute's wait). A record beside its
    recording that the history indexes answers at once; one it does not is still read."""
    from voicecoach.store import recovery
    from voicecoach.store.history import History
    from voicecoach.store.record import SCHEMA

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "calls"
    folder.mkdir()
    for i in range(4):
        sf.write(folder / f"call-20261101-00000{i}.wav", np.zeros((1600, 2), np.float32), 16000)
    record = {"schema": SCHEMA, "created": "2026-11-01T09:00:00+00:00", "duration": 0.1,
              "source": {"name": "call-20261101-000000.wav", "channels": ["agent", "customer"]},
              "talk_time": {"agent": 0.0, "customer": 0.0}, "pace": {"agent_wpm": None}}
    with History() as h:
        for i in (0, 1):                                         # indexed
            path = folder / f"call-20261101-00000{i}.json"
            path.write_text(json.dumps(dict(record, source=dict(record["source"], name=path.stem + ".wav"))))
            h.add(json.loads(path.read_text()), path)
    path = folder / "call-20261101-000002.json"                   # a record the history does not know
    path.write_text(json.dumps(dict(record, source=dict(record["source"], name=path.stem + ".wav"))))
    read = []
    real_load = recovery.load_record
    monkeypatch.setattr(recovery, "load_record", lambda p: read.append(Path(p).name) or real_load(p))
    assert [p.name for p in unfinished(folder)] == ["call-20261101-000003.wav"]
    assert read == ["call-20261101-000002.json"]


def _kill_live_mid_call(replay, folder, env, seconds: float) -> Path:
    """Run `voicecoach live --replay ... --record folder` and kill -9 it once its
    recording holds ``seconds`` of audio (16 kHz, two 16-bit channels)."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "live", "--replay", str(replay),
                             "--console", "--no-transcript", "--record", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = list(Path(folder).glob("*.wav"))
            if found and found[0].stat().st_size > 44 + seconds * 16000 * 4:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("live never recorded")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return found[0]


def test_history_finds_the_first_killed_call_of_a_folder_given_on_the_command_line(tmp_path):
    """The agent's first `live --record DIR` (a folder not in the config) is killed mid-call:
    no call recorded there is in the history yet, so only `live` itself can say where it
    records; `history` then recovers the call and lists it."""
    import shutil

    folder, data = tmp_path / "calls", tmp_path / "data"
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data))
    mine = tmp_path / "my-call.flac"              # the agent's own call, not the demo
    shutil.copy(demo_call_path(), mine)
    path = _kill_live_mid_call(mine, folder, env, 6.0)
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "recovered" in lines[0] and path.name in lines[0], res.stderr
    assert path.with_suffix(".json").is_file()
    assert "live call" in res.stdout, res.stdout
    # what live noted to find it is the user's alone, like everything in the data folder
    for p in data.iterdir():
        assert p.stat().st_mode & 0o077 == 0, p


def test_a_killed_replay_of_the_demo_is_not_recovered_into_the_history(tmp_path):
    """The demo replayed with --record and killed mid-call: its recording is the demo's,
    never the agent's call, so `history` (and the next `live`) leave it out of the
    history, as they do the demo's record when its call ends."""
    folder, data = tmp_path / "calls", tmp_path / "data"
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data))
    _kill_live_mid_call("demo", folder, env, 6.0)
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "recovered" not in res.stderr and "No calls in your history yet" in res.stdout, res
