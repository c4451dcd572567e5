"""A user's machine under a live shift and its files: a folder removed, a recording
still being written opened in the review, a recorder stopped mid-call while another
command looks for killed calls, a history on a read-only disk. Real components, real
files, real locks."""
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


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --------------------------------------------------------------------------- the event log

def test_an_event_log_whose_folder_is_removed_mid_shift_is_said_and_written_again(tmp_path, capsys):
    """`live --events ~/calls/events.jsonl --record ~/calls` (README): the folder is removed
    mid-shift (a clean-up script, a sync client). The recorder says so and makes the folder
    again for the next call, but the event log went on writing into its deleted file: every
    later event of the shift was lost, and nothing said so."""
    from voicecoach.events import Event
    from voicecoach.sinks.console import JsonlWriter

    folder = tmp_path / "calls"
    log = folder / "events.jsonl"
    writer = JsonlWriter(str(log))
    writer("event", Event("nudge", 1.0, "agent", "before"))
    shutil.rmtree(folder)
    writer("event", Event("nudge", 2.0, "agent", "after the folder went"))
    writer("status", "the shift goes on")
    assert writer.close() == ""
    err = capsys.readouterr().err
    assert log.is_file(), f"the event log was not written again, and stderr said: {err!r}"
    kinds = [json.loads(line).get("text") for line in log.read_text().splitlines()]
    assert "after the folder went" in kinds and "the shift goes on" in kinds
    assert "event log" in err and str(log) in err          # one warning line says what happened
    assert mode(log) == 0o600 and mode(folder) == 0o700


# --------------------------------------------------------------------------- a recording being written

def _recording_in_progress(folder: Path, seconds: float = 4.0):
    """A live call's recorder part-way through the call (the demo's first seconds)."""
    from voicecoach.sinks.recorder import Recorder
    from voicecoach.sources.audio import load_call

    call = load_call(demo_call_path())
    rec = Recorder(folder, ("agent", "customer"))
    n = int(seconds * 16000)
    for i in range(0, n, 320):
        rec.write("agent", call.agent[i:i + 320])
        rec.write("customer", call.customer[i:i + 320])
    return rec


def test_a_recording_still_being_recorded_is_not_analysed_into_a_second_call(tmp_path, capsys):
    """The agent opens the recording of the call they are on (`voicecoach report` or
    `review` of ~/calls/call-....wav, a double click in a file manager) while `live` still
    records it. It was analysed as far as its header said, and that part-call's record
    saved beside it and added to the history; when the call ended, live's own record had
    to go to records/, and the history listed the call twice (once cut short), counted
    twice in the trend. A recording in progress is said to be one, and nothing is saved."""
    from voicecoach.cli import main
    from voicecoach.store.history import History

    folder = tmp_path / "calls"
    rec = _recording_in_progress(folder)
    try:
        code = main(["report", str(rec.path), "-o", str(tmp_path / "now.html")])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "being recorded" in err
        assert not rec.path.with_suffix(".json").exists()
        assert not (tmp_path / "now.html").exists()
    finally:
        rec.close()
    db = Path(os.environ["VOICECOACH_DATA_DIR"]) / "history.sqlite"
    if db.exists():
        with History.read_only(db) as h:
            assert not [p for p in h.record_paths() if Path(p).stem == rec.path.stem]


# --------------------------------------------------------------------------- a recorder stopped mid-call

@pytest.fixture
def small_disk(own_disk):
    """A 1 MiB filesystem of its own (16 s of a recorded call); ``grow()`` gives it room."""
    disk, remount = own_disk("1m")
    return disk, lambda: remount("size=16m")


def test_a_recording_a_full_disk_stopped_is_not_taken_for_a_killed_call_while_the_call_goes_on(tmp_path,
                                                                                              small_disk):
    """The disk fills mid-call: "recording stopped: No space left on device; coaching
    continues". The agent frees some room and runs `voicecoach history` (or starts a replay
    recording to the same folder) while the call goes on. The stopped recorder had closed
    its file, and with it let go of the lock that tells a recording in progress: history
    "recovered" the part-recording as a call whose program was killed ("the program
    stopped mid-call"), and when the call ended live saved its own record too: the call
    twice in the history. The recording stays marked in progress until its call ends."""
    from voicecoach.sinks.recorder import in_progress
    from voicecoach.store.recovery import unfinished

    disk, grow = small_disk
    folder = disk / "calls"
    rec = _recording_in_progress(folder, seconds=30.0)      # more than the disk holds
    try:
        assert rec.failed and "No space left" in rec.failed
        grow()                                              # room again, the call goes on
        assert in_progress(rec.path), "the call is still going on, but its recording is not marked so"
        assert unfinished(folder) == []
    finally:
        rec.close()
    assert not in_progress(rec.path) and unfinished(folder) == [rec.path]   # the call has ended


# --------------------------------------------------------------------------- a call the mic did not hear

def test_a_recorded_call_the_mic_did_not_hear_keeps_its_recording(tmp_path, monkeypatch):
    """Recording is on; VoiceCoach listens to the wrong mic (the system's default input is
    not the headset the softphone uses) or a muted one, so the agent's side is silence
    while the caller talks for a minute. The stretch is "not a call" ("you said nothing in
    it: a recording played back? If you spoke, check your mic") -- and its recording, the
    caller's whole side, is deleted. A recording the agent turned on is not thrown away
    on a guess: what was said is kept, even if the history need not list it."""
    ROOT = Path(__file__).resolve().parents[1]
    y, sr = sf.read(demo_call_path(), frames=16000 * 30, dtype="float32")      # the caller talks at 0:06, 0:15
    unheard = y.copy()
    unheard[:, 0] = np.random.default_rng(1).normal(0, 1e-4, len(y)).astype("float32")   # the mic heard nothing
    first, second = tmp_path / "tuesday-1.wav", tmp_path / "tuesday-2.wav"
    sf.write(first, unheard, sr)
    sf.write(second, y[: 16000 * 12], sr)          # the next call, heard (it ends the first by its stream)
    folder = tmp_path / "calls"
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--replay", str(first), str(second),
                          "--gap", "5", "--console", "--no-transcript", "--record", str(folder)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "you said nothing" in res.stdout + res.stderr, res.stdout[-2000:]
    unheard = sorted(folder.glob("unheard-call-*.wav"))
    assert len(unheard) == 1, ("the caller's side of a recorded call was deleted as 'not a call'; "
                               f"{folder} holds {sorted(p.name for p in folder.iterdir())}")
    assert f"its recording is kept as {unheard[0]}" in res.stdout + res.stderr
    assert mode(unheard[0]) == 0o600
    assert sf.info(unheard[0]).duration > 20                  # the caller's whole side
    assert len(list(folder.glob("call-*.wav"))) == 1          # the next call's, with its record
    from voicecoach.store.recovery import unfinished

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    assert unfinished(folder) == []           # not taken for a killed call (it would be listed)


# --------------------------------------------------------------------------- the history held by another program

LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")          # another program writing the history (a SQLite browser, a long write)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_call_not_recorded_that_missed_the_history_is_listed_later(tmp_path):
    """Recording is off (the default). The history is held by another program when the
    call ends: the record is saved in the data folder's records/ with "not added to the
    history (database is locked)". A recorded call's record is added at the next start
    (it lies beside its recording, where recovery looks); this one was never added, and
    the call was missing from `voicecoach history` and the trend for good."""
    from voicecoach.store.history import History

    ROOT = Path(__file__).resolve().parents[1]
    data = tmp_path / "data"
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    call = tmp_path / "monday.flac"
    shutil.copy(demo_call_path(), call)
    db = data / "history.sqlite"
    with History(db) as h:
        assert h.count() == 0
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db), "600"], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--replay", str(call), "--console",
                              "--no-transcript", "--stop-after", "12"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    finally:
        locker.kill()
        locker.wait()
    assert res.returncode == 0, res.stderr
    assert "not added to the history" in res.stdout + res.stderr
    records = sorted((data / "records").glob("call-*.json"))
    assert len(records) == 1
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    with History.read_only(db) as h:
        paths = h.record_paths()
    assert str(records[0].resolve()) in paths, (
        f"the call's record {records[0].name} never reached the history; `history` said: {res.stdout[-300:]!r}")


# --------------------------------------------------------------------------- deleting a call coached live

def test_deleting_a_live_call_names_the_event_log_that_still_holds_it(tmp_path):
    """`live --events shift.jsonl --record ~/calls` (README), then a caller asks that the
    call be deleted: `history --delete N` deletes its record, recording and row, and "says
    what it leaves, and why" (a report beside it, another record, a shared copy) -- but
    not the event log, which holds the call's every word and cue. The agent believes the
    call is gone for good."""
    ROOT = Path(__file__).resolve().parents[1]
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    call = tmp_path / "monday.flac"
    shutil.copy(demo_call_path(), call)
    log = tmp_path / "logs" / "shift.jsonl"
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--replay", str(call), "--console",
                          "--no-transcript", "--stop-after", "12", "--record", str(tmp_path / "calls"),
                          "--events", str(log)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert '"state": "ended"' in log.read_text()            # the call is in the log
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--delete", "1", "--yes"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "Deleted call 1" in res.stdout
    assert "event log" in res.stdout and "--events" in res.stdout, (
        f"the event log that holds the call is not said to keep it: {res.stdout!r}")


def _call_in_history(tmp_path: Path, data: Path) -> tuple[Path, dict]:
    """A 20-second call, ``monday.wav``, whose record beside it is in the history of the data
    folder ``data``, and the environment that runs voicecoach with that data folder."""
    from voicecoach.store.calls import save_call

    wav = tmp_path / "monday.wav"
    sf.write(wav, np.random.default_rng(0).normal(0, 0.05, (16000 * 20, 2)).astype("float32"), 16000)
    record = {"schema": "voicecoach.call/1", "created": "2026-11-02T09:00:00+00:00",
              "source": {"name": wav.name, "channels": ["agent", "customer"]}, "duration": 20.0,
              "talk_time": {"agent": 8.0, "customer": 6.0}, "talk_share": {"agent": 0.57, "customer": 0.43},
              "interruptions": [], "warmth": {"mean": 0.5}, "pace": {"agent_wpm": 160.0}}
    assert save_call(record, wav.with_suffix(".json"), data / "history.sqlite", recordings=(wav,)) == ""
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    return wav, env


def test_deleting_a_call_while_another_program_holds_the_history_deletes_nothing(tmp_path, monkeypatch):
    """`history --delete 1 --yes` while another program writes the history (a long write, a
    SQLite browser): the recording and the record were deleted first, then the row could
    not be ("database is locked"), so the history went on listing a call whose files are
    gone. The history's lock is taken first: nothing is deleted, and the next try deletes
    all of it."""
    from voicecoach.store.history import History

    ROOT = Path(__file__).resolve().parents[1]
    data = tmp_path / "data"
    db = data / "history.sqlite"
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(data))
    wav, env = _call_in_history(tmp_path, data)
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db), "600"], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--delete", "1", "--yes"], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=120)
    finally:
        locker.kill()
        locker.wait()
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert wav.exists() and wav.with_suffix(".json").exists(), (
        f"the call's files were deleted, its history row was not: {res.stderr.strip()}")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--delete", "1", "--yes"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert not wav.exists() and not wav.with_suffix(".json").exists()
    with History.read_only(db) as h:
        assert h.count() == 0


# --------------------------------------------------------------------------- a history on a read-only disk

def test_a_history_on_a_read_only_disk_is_still_listed(tmp_path, own_disk):
    """The disk that holds the data folder is remounted read-only (ext4 does so after
    errors; a home restored from a read-only backup). `voicecoach history` said "the
    history database cannot be read (unable to open database file); move it away and
    `voicecoach history --rebuild FOLDER` makes it again" -- the database is whole, it
    only cannot be written, and on that disk it cannot be moved either. It is listed."""
    ROOT = Path(__file__).resolve().parents[1]
    data, remount = own_disk("8m", name="data")
    wav, env = _call_in_history(tmp_path, data)
    remount("ro")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "monday.wav" in res.stdout and "read-only" in res.stdout, res.stdout


# --------------------------------------------------------------------------- the config folder, umask 000

def test_the_overlay_never_makes_the_config_folder_writable_by_others(tmp_path):
    """With a umask of 000, the first `voicecoach live` with the overlay made the user config
    folder (~/.config/voicecoach, and ~/.config when missing) 0777 to remember where the
    panel was: any other user of the computer could then replace config.toml, which
    `calibrate` writes 0600 -- point `[team] database` at their own server ("Share with my
    coach") or `[live] record_dir` at their folder. The folder is made 0700, the file 0600."""
    from ui.placement import Placement

    old = os.umask(0)
    try:
        path = tmp_path / "config" / "voicecoach" / "overlay.json"
        Placement(10, 20, 300, 200).save(path)
    finally:
        os.umask(old)
    assert Placement.load(path) == Placement(10, 20, 300, 200)
    assert {str(p): oct(mode(p)) for p in (tmp_path / "config", path.parent) if mode(p) != 0o700} == {}
    assert mode(path) == 0o600


# --------------------------------------------------------------------------- two recoveries at once

def test_a_killed_call_is_recovered_once_when_two_commands_look_at_once(tmp_path):
    """After a crash the agent starts `live` again (it recovers the killed call in the
    background, slowly, at low priority) and runs `voicecoach history` to see where the
    call went. Both analysed the recording, both saved a record (the second in records/,
    beside being taken) and both said "recovered ...": two records of one call, one of
    them left behind when the call is deleted. A recording being recovered is locked as
    one being recorded is, and is recovered once."""
    from tests.test_recovery import crash_recording

    ROOT = Path(__file__).resolve().parents[1]
    folder, data = tmp_path / "calls", tmp_path / "data"
    wav = Path(crash_recording(folder, 12.5))
    config = tmp_path / "config.toml"
    config.write_text(f'[live]\nrecord_dir = "{folder}"\n')
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(data), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    runs = [subprocess.Popen([sys.executable, "-m", "voicecoach", "history", "--config", str(config)], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    said = [p.communicate(timeout=600) for p in runs]
    assert all(p.returncode == 0 for p in runs), said
    recovered = [line for _, err in said for line in err.splitlines() if line.startswith("voicecoach: recovered")]
    records = [*folder.glob("*.json"), *(data / "records").glob("*.json")]
    assert len(recovered) == 1 and len(records) == 1, (recovered, records)
    assert records[0] == wav.with_suffix(".json")
