"""Recording survives a crash, a full disk, and stays private."""
import os
import stat
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from voicecoach.sinks.recorder import Recorder


def test_both_channels_written_private_and_readable(tmp_path):
    rec = Recorder(tmp_path / "calls", ("agent", "customer"))
    a = np.linspace(-0.5, 0.5, 16000, dtype=np.float32)
    for i in range(0, 16000, 320):
        rec.write("agent", a[i:i + 320])
        rec.write("customer", -a[i:i + 320])
    path = rec.close()
    y, sr = sf.read(path, dtype="float32")
    assert sr == 16000 and y.shape == (16000, 2)
    assert np.allclose(y[:, 0], a, atol=1e-4) and np.allclose(y[:, 1], -a, atol=1e-4)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "calls").st_mode) == 0o700


def test_a_crash_loses_at_most_the_last_second(tmp_path):
    code = f"""
import os, numpy as np
from voicecoach.sinks.recorder import Recorder
rec = Recorder(r"{tmp_path}", ("agent",))
for i in range(300):               # 6 s in 20 ms blocks
    rec.write("agent", np.full(320, 0.25, np.float32))
print(rec.path, flush=True)
os._exit(1)                        # no close, no flush: as a crash
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    path = out.stdout.strip()
    y, sr = sf.read(path, dtype="float32")
    assert 5.0 <= len(y) / sr <= 6.0
    assert np.allclose(y, 0.25, atol=1e-3)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_full_disk_stops_recording_with_a_reason(tmp_path):
    rec = Recorder(tmp_path, ("agent",)).open()
    rec._file = open("/dev/full", "wb")               # every write now fails with ENOSPC
    for _ in range(100):
        rec.write("agent", np.zeros(320, np.float32))
    assert rec.failed and "No space left" in rec.failed
    rec.write("agent", np.zeros(320, np.float32))      # later writes are ignored, no exception
    rec.close()


class _StalledDisk:
    """The recording's real file behind a disk that stalls until ``go`` is set: nothing else
    here can hold a writer up for seconds on end."""

    def __init__(self, f):
        import threading

        self.f, self.go = f, threading.Event()

    def write(self, data):
        self.go.wait(10)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


def test_a_disk_that_does_not_keep_up_still_gets_what_was_queued(tmp_path):
    """A full queue stops the recording; the blocks already waiting in it are written,
    not thrown away (they were up to 10 s of the call)."""
    rec = Recorder(tmp_path, ("agent",), queue_blocks=50).open()
    disk = rec._file = _StalledDisk(rec._file)
    rec.start()
    for i in range(60):                                # 1.2 s: more than the queue holds
        rec.write("agent", np.full(320, 0.25, np.float32))
    assert rec.failed and "did not keep up" in rec.failed
    disk.go.set()
    path = rec.close()
    y, sr = sf.read(path, dtype="float32")
    assert len(y) >= 50 * 320                          # all that was queued (the stalled block too)
    assert np.allclose(y, 0.25, atol=1e-3)


class HungFolderRecorder(Recorder):
    """A real recorder whose folder is on a network home that stopped answering: making
    the file waits until ``answer`` is set (found by a helper's review)."""

    answer = threading.Event()

    def open(self):
        if self.path is None:
            self.answer.wait()
        return super().open()


def test_closing_a_recording_whose_folder_hangs_does_not_hold_the_caller(tmp_path):
    """close() is what a call's end (the shift's closer thread) calls: it waited forever
    for a writer stuck making the file (put(None) on the full queue, then join())."""
    rec = HungFolderRecorder(tmp_path / "calls", ("agent", "customer"), queue_blocks=10, close_wait_s=1.0).start()
    for _ in range(20):                       # more than the queue holds: the recording stops
        rec.write("agent", np.zeros(320, np.float32))
        rec.write("customer", np.zeros(320, np.float32))
    assert rec.failed and "did not keep up" in rec.failed
    closer = threading.Thread(target=rec.close, daemon=True)
    closer.start()
    closer.join(5.0)
    held = closer.is_alive()
    started = time.monotonic()
    assert rec.close() is None and time.monotonic() - started < 0.5      # once: it does not wait again
    HungFolderRecorder.answer.set()           # let the writer end
    assert not held, "close() waited on the writer's open()"


def test_closing_waits_for_a_slow_disk_to_write_what_is_queued(tmp_path):
    rec = Recorder(tmp_path, ("agent",), close_wait_s=30.0).open().start()
    slow = rec._file

    class Slow:
        def __getattr__(self, name):
            return getattr(slow, name)

        def write(self, b):
            time.sleep(0.3)
            return slow.write(b)
    rec._file = Slow()
    for _ in range(5):
        rec.write("agent", np.full(320, 0.25, np.float32))
    assert rec.close() == rec.path and not rec.failed
    y, _ = sf.read(rec.path, dtype="float32")
    assert len(y) == 5 * 320 and np.allclose(y, 0.25, atol=1e-3)


class _HungOpen(Recorder):
    """A real recorder whose folder does not answer until ``answer`` is set."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.answer = threading.Event()

    def open(self):
        if self.path is None:
            self.answer.wait()
        return super().open()


def test_a_recording_closed_while_its_folder_hung_is_not_made_later_and_its_writer_ends(tmp_path):
    """close() gave up on the writer (None: no recording) and the call was saved without
    one; when the folder answers again the writer must neither make a recording that no
    call record names (the next start offers it as an unfinished call) nor wait forever
    on a queue that close() could not put its end mark into (found by a helper's review)."""
    folder = tmp_path / "calls"
    rec = _HungOpen(folder, ("agent", "customer"), queue_blocks=10, close_wait_s=0.5).start()
    for _ in range(20):
        rec.write("agent", np.full(320, 0.25, np.float32))
        rec.write("customer", np.full(320, 0.25, np.float32))
    assert rec.close() is None and rec.failed
    rec.answer.set()
    rec._writer.join(5.0)
    made = sorted(p.name for p in folder.glob("call-*.wav")) if folder.exists() else []
    assert not made and not rec._writer.is_alive() and rec.path is None, made
