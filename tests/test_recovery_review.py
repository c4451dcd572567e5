"""Review: a live call with recording on, when the process dies or the disk, the folder
or the history fails under it.

Every test runs the real `voicecoach live --replay FILE --console --record DIR` in a
child process (a copy of the demo call under another name, so that it is the agent's own
call and goes to the history), with real signals, a real locked SQLite history and a
real full filesystem (a small tmpfs: needs root; skipped otherwise).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voicecoach.analyze import demo_call_path
from voicecoach.store.history import History

ROOT = Path(__file__).resolve().parents[1]
BYTES_PER_S = 16000 * 2 * 2            # the recorder's stereo 16-bit PCM


def _env(tmp_path: Path, data: Path | None = None) -> dict:
    config = tmp_path / "xdg-config"
    config.mkdir(exist_ok=True)
    return dict(os.environ, VOICECOACH_DATA_DIR=str(data or tmp_path / "data"), XDG_CONFIG_HOME=str(config),
                OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")


def _call(tmp_path: Path) -> Path:
    """The agent's own recorded call (the demo's audio under another name: the demo itself
    is kept out of the history)."""
    call = tmp_path / "monday.flac"
    if not call.exists():
        shutil.copy(demo_call_path(), call)
    return call


def _live(tmp_path: Path, env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "voicecoach", "live", "--replay", str(_call(tmp_path)),
                             "--console", "--no-transcript", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(what, timeout: float = 90.0, proc: subprocess.Popen | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"live ended early ({proc.returncode}): {out[-2000:]}\n{err[-2000:]}")
        time.sleep(0.02)
    pytest.fail("timed out")


def _recording(folder: Path, min_s: float = 0.0):
    """The call's recording in ``folder`` once it holds ``min_s`` of audio."""
    if not folder.is_dir():
        return None
    for p in folder.glob("call-*.wav"):
        try:
            if p.stat().st_size >= 44 + min_s * BYTES_PER_S:
                return p
        except FileNotFoundError:
            pass
    return None


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


# --------------------------------------------------------------------------- signals

@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_closed_terminal_saves_the_call_as_sigterm_does(tmp_path, sig):
    """SIGHUP is what a live shift in a terminal gets when the terminal window is closed
    (or an ssh session drops). SIGTERM ends the shift and saves the open call's record
    (with its live nudges and marks) beside the recording and in the history; SIGHUP kills
    the process outright: no record, nothing in the history, and what only the live
    session knew (nudges shown, marks, latencies) is gone for good."""
    folder = tmp_path / "calls"
    env = _env(tmp_path)
    proc = _live(tmp_path, env, "--record", str(folder))
    try:
        wav = _wait_for(lambda: _recording(folder, min_s=8.0), proc=proc)
        proc.send_signal(getattr(signal, sig))
        out, err = proc.communicate(timeout=180)
    finally:
        _stop(proc)
    assert proc.returncode == 0, f"live was killed by {sig} (exit {proc.returncode}); stderr: {err[-500:]}"
    record = wav.with_suffix(".json")
    assert record.is_file(), f"no call record beside {wav.name} after {sig}: {os.listdir(folder)}"
    with History.read_only(Path(env["VOICECOACH_DATA_DIR"]) / "history.sqlite") as h:
        assert str(record.resolve()) in h.record_paths()


# --------------------------------------------------------------------------- the history

LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")          # another program writing the history (a long write, a SQLite browser)
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_call_saved_while_the_history_was_locked_reaches_the_history_after_a_restart(tmp_path):
    """The history is held by another program when the call ends; live saves the record
    beside the recording and then waits (5 s) for the history. Killed in that wait (or
    simply timing out: "not added to the history (database is locked)"), the call's record
    exists but has no history row, and no later start ever adds it: recovery skips any
    recording that has a record file (has_record), whether or not the history has it. The
    call is missing from `voicecoach history` and the trend for good."""
    folder, data = tmp_path / "calls", tmp_path / "data"
    env = _env(tmp_path, data)
    db = data / "history.sqlite"
    with History(db) as h:                   # the agent's history, as any earlier call left it
        assert h.count() == 0
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db), "120"], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        proc = _live(tmp_path, env, "--record", str(folder), "--stop-after", "6")
        try:
            wav = _wait_for(lambda: _recording(folder), proc=proc)
            record = wav.with_suffix(".json")
            _wait_for(record.exists, proc=proc)      # saved; now waiting for the history
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            _stop(proc)
    finally:
        locker.kill()
        locker.wait()
    with History.read_only(db) as h:
        assert h.count() == 0                        # as expected so far: killed before its row
    # VoiceCoach is started again, recording to the same folder, twice
    for _ in range(2):
        again = _live(tmp_path, env, "--record", str(folder), "--stop-after", "3")
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
    with History.read_only(db) as h:
        paths = h.record_paths()
    assert str(record.resolve()) in paths, (
        f"the killed call's record {record.name} never reached the history; it lists {paths}")


# --------------------------------------------------------------------------- a full disk

@pytest.fixture
def small_disk(own_disk):
    """A 1 MiB filesystem (16 s of a recorded call), made bigger with ``grow()``."""
    disk, remount = own_disk("1m")
    return disk, lambda: remount("size=16m")


def test_the_full_disk_promise_that_history_makes_the_record_is_kept(tmp_path, small_disk):
    """One disk (the home folder) holds the recordings and the data folder, and it fills
    mid-call. The shift's last line said the recording "is kept: its record is made once
    there is room, by the next `voicecoach history` ..." -- but plain `history` does not look
    in DIR (only in the config's record_dir and the folders the history already has recorded
    calls in, and this was the first). It now names `history --rebuild DIR`, which does."""
    disk, grow = small_disk
    folder, data = disk / "calls", disk / "data"
    env = _env(tmp_path, data)
    proc = _live(tmp_path, env, "--record", str(folder), "--stop-after", "22")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, (out, err)
    assert f"by `voicecoach history --rebuild {folder}`" in err, err
    wav = _recording(folder)
    assert wav is not None and not wav.with_suffix(".json").exists()
    grow()                                           # room again: the agent does as told
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--rebuild", str(folder)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert wav.with_suffix(".json").exists() or "recovered" in res.stderr, (
        f"`voicecoach history` made no record of {wav.name}, as the shift's error line promised; "
        f"it said: {res.stderr!r} / {res.stdout[:200]!r}")


# --------------------------------------------------------------------------- the folder goes

def test_a_record_folder_removed_mid_call_is_said(tmp_path):
    """The record folder is removed while a call is recorded (a clean-up script, a sync
    client, the agent in a file manager). The recorder goes on writing into the removed
    file, so everything from then on is lost too, and nothing says so: the call ends with
    its record quietly put in the data folder, named as an unrecorded call, and no line
    mentions the recording."""
    folder = tmp_path / "calls"
    env = _env(tmp_path)
    proc = _live(tmp_path, env, "--record", str(folder), "--stop-after", "16")
    try:
        _wait_for(lambda: _recording(folder, min_s=5.0), proc=proc)
        shutil.rmtree(folder)
        out, err = proc.communicate(timeout=180)
    finally:
        _stop(proc)
    assert proc.returncode == 0, err
    lines = (out + err).splitlines()[1:]             # after the "recording each call to" banner
    told = [line for line in lines if "recording" in line.lower() or "recorded" in line.lower()]
    assert told, "the recording of the call was lost and no line said so:\n" + "\n".join(
        line for line in lines if not line.startswith("[ "))


# --------------------------------------------------------------------------- a read-only folder

@pytest.fixture
def disk(own_disk):
    """An 8 MiB filesystem of its own, made read-only with ``readonly()`` (as ext4's
    errors=remount-ro does after a crash, or a backup disk mounted read-only)."""
    path, remount = own_disk("8m")
    return path, lambda: remount("ro")


def test_a_killed_call_in_a_read_only_folder_is_still_recovered(tmp_path, disk):
    """live is killed mid-call; the recording's folder is read-only when VoiceCoach starts
    again. A record that cannot go beside its recording goes to the data folder's
    records/ (README), but recovery first insists on mending the recording's header in
    place (repair opens it "r+b"): "cannot be analysed (Read-only file system); it is kept
    as it is", at every start, for ever, although the audio reads fine."""
    mnt, readonly = disk
    folder = mnt / "calls"
    env = _env(tmp_path)
    proc = _live(tmp_path, env, "--record", str(folder))
    try:
        wav = _wait_for(lambda: _recording(folder, min_s=8.0), proc=proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _stop(proc)
    readonly()
    config = tmp_path / "config.toml"
    config.write_text(f'[live]\nrecord_dir = "{folder}"\n')
    res = subprocess.run([sys.executable, "-m", "voicecoach", "history", "--config", str(config)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "recovered" in res.stderr, f"{wav.name} was not recovered: {res.stderr.strip()}"
    assert list((Path(env["VOICECOACH_DATA_DIR"]) / "records").glob(f"{wav.stem}-*.json"))


def test_a_recording_stopped_by_a_full_disk_plays_all_the_audio_it_holds(tmp_path, small_disk):
    """The disk fills mid-call (the data folder elsewhere, so the record is saved there).
    Everything the recorder wrote before the failure is in the file, but the header still
    says what the last sync said: the failed write's bytes stay in Python's buffer, so the
    closing sync (seek: flush) fails too and the header is never brought up to date; the
    recording has a record, so recovery never mends it either. Players and the review
    stop at the header: the last part recorded before the disk filled is not heard."""
    import soundfile as sf

    disk, _ = small_disk
    folder = disk / "calls"
    env = _env(tmp_path)                               # the data folder on another disk
    proc = _live(tmp_path, env, "--record", str(folder), "--stop-after", "22")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "No space left on device" in out + err
    wav = _recording(folder)
    on_disk_s = (wav.stat().st_size - 44) // 4 / 16000
    header_s = sf.info(str(wav)).frames / 16000
    assert header_s >= on_disk_s - 0.05, (
        f"{wav.name} holds {on_disk_s:.2f} s of audio but its header says {header_s:.2f} s")
