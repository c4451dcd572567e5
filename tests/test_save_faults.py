"""Saving at the end of `live`: a disk that fills up, or a folder that turns read-only, while
the call runs. The command says so in one error line and exits 2; no half-written record is
left behind (the recording that was made is kept).

A real small tmpfs needs root (mount); the unwritable folder is made with permissions, or
for root (who writes anywhere) with the immutable attribute.
"""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def small_tmpfs(path: Path, size: str = "4m"):
    path.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def start_live(call: Path, record_dir: Path, data_dir: Path, stop_after: float) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), VOICECOACH_DATA_DIR=str(data_dir))
    return subprocess.Popen([sys.executable, "-m", "voicecoach", "live", "--replay", str(call), "--console",
                             "--no-transcript", "--record", str(record_dir), "--stop-after", str(stop_after)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def call(tmp_path):
    """The demo call's first 10 s: speech on both sides, so shift mode keeps it as a call."""
    from voicecoach.analyze import demo_call_path

    path = tmp_path / "call.wav"
    sf.write(path, sf.read(demo_call_path(), frames=16000 * 10, dtype="float32")[0], 16000)
    return path


def fill(folder: Path) -> None:
    """Write into ``folder`` until the disk is full."""
    try:
        with open(folder / "filler", "wb") as f:
            block = b"\0" * 4096
            while True:
                f.write(block)
                f.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC


def wait_for_recording(folder: Path, proc: subprocess.Popen) -> None:
    """Until the call runs: its recording has some audio in it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.stat().st_size > 8000 for p in folder.glob("calls/*.wav")):
            return
        time.sleep(0.05)
    raise AssertionError(f"the call did not start: {proc.poll()}")


def check_refused(proc: subprocess.Popen, disk: Path) -> str:
    out, err = proc.communicate(timeout=120)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in out + err, err
    assert proc.returncode == 2, (proc.returncode, err)
    assert lines[-1].startswith("voicecoach: error: the record of call 1 could not be saved (said above)"), lines
    rec = next(p for p in disk.rglob("call-*.wav"))
    assert (f"{rec.name} is kept: its record is made once there is room, by `voicecoach history --rebuild "
            f"{rec.parent}` or the next `voicecoach live` recording there") in lines[-1]   # recovery's promise
    assert "Scores are for your own practice" in out              # the coaching summary still shown
    left = sorted(p.name for p in disk.rglob("*") if p.is_file())
    assert not [n for n in left if n.endswith((".json", ".tmp"))], left   # nothing half-written
    assert any(n.endswith(".wav") for n in left), left
    (said,) = [ln for ln in out.splitlines() if "could not be saved" in ln]   # when the call ended
    return said


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="a tmpfs needs root")
def test_a_full_disk_while_saving_is_one_error_and_exit_2(call, tmp_path):
    with small_tmpfs(tmp_path / "disk") as disk:
        proc = start_live(call, disk / "calls", disk / "data", stop_after=8.0)
        wait_for_recording(disk, proc)          # the call is running, the recording being written
        fill(disk)
        message = check_refused(proc, disk)
        assert "No space left on device" in message


def test_a_folder_turned_read_only_while_saving_is_one_error_and_exit_2(call, tmp_path):
    """The recording's folder stops taking new files mid-call: permissions for a user, the
    immutable attribute for root (who writes anywhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    root = os.geteuid() == 0
    if root and not shutil.which("chattr"):
        pytest.skip("root needs chattr to make a folder unwritable")
    proc = start_live(call, disk / "calls", disk / "data", stop_after=8.0)
    wait_for_recording(disk, proc)
    # the data folder too (live notes its recording folder there at the start), or the
    # record is saved in its records/ instead
    locked = [p for p in (disk / "calls", disk / "data", disk) if p.exists()]
    try:
        for folder in locked:
            if root:
                res = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
                if res.returncode != 0:
                    proc.kill()
                    pytest.skip(f"chattr +i not supported here: {res.stderr.strip()}")
            else:
                os.chmod(folder, 0o500)
        message = check_refused(proc, disk)
        assert "Operation not permitted" in message or "Permission denied" in message
    finally:
        for folder in reversed(locked):
            if root:
                subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
            else:
                os.chmod(folder, 0o700)
