"""Opt-in call recording that survives a crash: a WAV file written as the call goes.

The WAV header's sizes are rewritten and the file synced every ``flush_s``, so a
crash or power cut loses at most that much audio and the file stays readable.
(Written by hand rather than with soundfile because libsndfile only fixes a WAV
header when the file is closed.) A full disk or any other write error stops the
recording with a reason in :attr:`Recorder.failed`; coaching carries on.
Recordings are readable by the user alone (folder 0700, files 0600).

While it is written, a recording is locked (``flock``), so another VoiceCoach can
tell a recording in progress from one whose process was killed (the lock is held until
:meth:`Recorder.close`, also when the recording stopped early: its call goes on): after a crash,
:func:`repair` makes the header whole again (all the audio that reached the file
counts, not only what the last sync covered) and :mod:`voicecoach.store.recovery`
analyses it into its call record.

Threads. Until :meth:`Recorder.start`, :meth:`Recorder.write` creates, writes and
syncs the file on the caller's thread. After it (the live session starts it),
nothing touches the disk on the caller's thread: :meth:`Recorder.write` only copies
the block into a bounded queue and returns, and a writer thread
(``recorder-writer``) creates the file (the folder on a slow or hung network home
holds only that thread; :attr:`Recorder.path` is None until then), takes everything
queued at once, writes it in one go and
syncs the file each ``flush_s`` of audio, so a slow disk (a sync that takes half a
second) never holds the engine, and a crash still loses only about ``flush_s``
plus what waited in the queue. The writer thread alone touches the file until
:meth:`Recorder.close`, which lets it write what is queued and end (waiting at
most ``close_wait_s`` for a disk that does not answer), then closes the file on the
caller's thread. A write error on the writer thread, or a queue
that fills because the disk cannot keep up (``queue_blocks`` blocks, 10 s of 20 ms
blocks of two channels), stops the recording: :attr:`Recorder.failed` says why.
"""
from __future__ import annotations

import datetime as _dt
import errno
import os
import queue
import struct
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from voicecoach.events import SAMPLE_RATE

try:
    import fcntl
except ImportError:                      # Windows: no lock; recovery cannot tell, and skips nothing
    fcntl = None

HEADER_BYTES = 44

def _header(n_channels: int, n_frames: int) -> bytes:
    data = n_frames * n_channels * 2
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, n_channels, SAMPLE_RATE,
                                    SAMPLE_RATE * n_channels * 2, n_channels * 2, 16)
            + b"data" + struct.pack("<I", data))


class Recorder:
    """Writes the call's channels (agent left, customer right) to ``folder``.

    Parameters
    ----------
    folder : path
        Created if needed, readable by the user alone.
    channels : sequence of str
        ``("agent", "customer")`` or ``("agent",)``.
    flush_s : float
        How often (s of audio) the file is made whole on disk.
    queue_blocks : int
        Blocks the writer thread may have waiting (after :meth:`start`); one more
        stops the recording (the disk cannot keep up).
    close_wait_s : float
        How long :meth:`close` waits for the writer thread to write what is queued
        (s); a disk that takes longer does not answer, and the recording stops there.

    Attributes
    ----------
    path : Path or None
        The recording (``call-YYYYmmdd-HHMMSS.wav``, named when the recorder is
        made), once the file is created; None before.
    failed : str or None
        Why the recording stopped (set by whichever thread met the error).
    """

    def __init__(self, folder: str | Path, channels: Sequence[str], flush_s: float = 1.0,
                 queue_blocks: int = 1000, close_wait_s: float = 15.0, prefix: str = "call"):
        self.folder = Path(folder)
        self.prefix = prefix               # "call-<stamp>.wav"; "demo-" for the demo's (never recovered)
        self.channels = tuple(channels)
        self.path: Optional[Path] = None
        self._stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self._pending = {ch: [] for ch in self.channels}
        self._pending_n = {ch: 0 for ch in self.channels}
        self.frames_written = 0
        self._flush_frames = int(flush_s * SAMPLE_RATE)
        self._since_flush = 0
        self.failed: Optional[str] = None
        self._fail_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_blocks))
        self._writer: Optional[threading.Thread] = None
        self._file = None
        self._closing = False
        self._close_wait_s = close_wait_s
        self._abandoned = False            # close() gave up waiting for the writer
        self._told_path: Optional[Path] = None   # the path close() returned then
        self._lock_fd: Optional[int] = None      # holds the file's lock until close(), after an error too
        self._lock_fd_lock = threading.Lock()     # close() and an abandoned writer may both let it go

    def open(self) -> "Recorder":
        """Create the file and write its header, on this thread (once). Raises OSError.

        The folder is made if missing, readable by the user alone (the user's own
        folder keeps its mode); the file is 0600 and locked while it is written."""
        from voicecoach.store.private import new_private_file

        if self.path is not None:
            return self
        path, fd = new_private_file(self.folder, f"{self.prefix}-{self._stamp}", ".wav")   # calls of a shift
        #                                                 may start within one second
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)     # released when the file is closed
            # and by close() alone: a recording stopped mid-call (a full disk) is this call's
            # until the call ends, not a killed call's for recovery to take
            self._lock_fd = os.dup(fd)
        self._file = os.fdopen(fd, "wb")
        self.path = path
        self._file.write(_header(len(self.channels), 0))
        return self

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (or the file was closed on an error)."""
        return self._file is None and (self._writer is None or not self._writer.is_alive())

    def start(self) -> "Recorder":
        """Move the file's creation and the writing to a writer thread (once);
        :meth:`write` then never touches the disk."""
        if self._writer is None and not self._closing:
            self._writer = threading.Thread(target=self._write_loop, name="recorder-writer", daemon=True)
            self._writer.start()
        return self

    def write(self, channel: str, samples: np.ndarray) -> None:
        """Add the next block of one channel (blocks of each channel are contiguous).

        After :meth:`start` this only queues a copy of the block (the caller's thread
        never waits on the disk); a full queue stops the recording."""
        if self.failed or self._closing:
            return
        if self._writer is not None:
            try:
                self._queue.put_nowait((channel, np.array(samples, np.float32)))
            except queue.Full:
                waiting = self._queue.maxsize * len(samples) / SAMPLE_RATE / len(self.channels)
                self._fail(f"recording stopped: the disk did not keep up ({waiting:.0f} s of audio "
                           f"waiting to be written) ({self.path or self.folder})")
            return
        if self._file is None and not self._open_or_fail():
            return
        self._add(channel, samples)

    def _open_or_fail(self) -> bool:
        try:
            self.open()
            return True
        except OSError as exc:
            self._fail(f"cannot record in {self.folder} ({exc.strerror or exc})")
            return False

    def _add(self, channel: str, samples: np.ndarray) -> None:
        self._pending[channel].append(np.asarray(samples, np.float32))
        self._pending_n[channel] += len(samples)
        n = min(self._pending_n.values())
        if n:
            self._write_frames(n)

    def _write_loop(self) -> None:
        """The writer thread: the file made, then everything queued at once, one write,
        a sync each ``flush_s``."""
        self._open_or_fail()
        with self._fail_lock:
            if self._abandoned and self._told_path is None and self._file is not None:
                # close() gave up before the file existed and named no recording: none is kept
                self._file.close()
                self._file = None
                self.path.unlink(missing_ok=True)
                self.path = None
                self._let_go()
                return
        while True:
            try:
                items = [self._queue.get(timeout=0.5)]
            except queue.Empty:
                if self._abandoned:        # close() gave up and put no end mark: what was queued is written
                    if self._file is not None:
                        self._close_quietly()
                    return
                continue
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            done = items[-1] is None
            if self._file is not None:     # after a full queue too: what was queued is still written
                try:
                    for ch, x in items[:-1] if done else items:
                        self._pending[ch].append(x)
                        self._pending_n[ch] += len(x)
                    n = min(self._pending_n.values())
                    if n:
                        self._write_frames(n)
                except Exception as exc:    # never silently: the recording stops with a reason
                    self._fail(f"recording stopped: {exc} ({self.path})")
            if self.failed and self._file is not None:
                self._close_quietly()
            if done:
                return

    def _fail(self, reason: str) -> None:
        with self._fail_lock:
            if self.failed is None:
                self.failed = reason

    def _take(self, channel: str, n: int) -> np.ndarray:
        x = np.concatenate(self._pending[channel])
        self._pending[channel] = [x[n:]] if len(x) > n else []
        self._pending_n[channel] = len(x) - n
        return x[:n]

    def _write_frames(self, n: int) -> None:
        block = np.stack([self._take(ch, n) for ch in self.channels], axis=1)
        pcm = (np.clip(block, -1.0, 1.0) * 32767).astype("<i2")
        try:
            self._file.write(pcm.tobytes())
            self.frames_written += n
            self._since_flush += n
            if self._since_flush >= self._flush_frames:
                self._sync()
        except OSError as exc:
            self._fail(f"recording stopped: {exc.strerror or exc} ({self.path})")
            self._close_quietly()

    def _sync(self) -> None:
        f = self._file
        end = f.tell()
        f.seek(0)
        f.write(_header(len(self.channels), self.frames_written))
        f.seek(end)
        f.flush()
        os.fsync(f.fileno())
        self._since_flush = 0
        if os.fstat(f.fileno()).st_nlink == 0:     # written on into a file nobody can open again
            raise FileNotFoundError(errno.ENOENT, "its file was deleted (its folder removed?)", str(self.path))

    def _close_quietly(self) -> None:
        try:
            self._sync()
            synced = True
        except (OSError, ValueError):
            synced = False       # a full disk: a failed write's bytes are still in the buffer
        try:
            self._file.close()
        except OSError:
            pass
        self._file = None
        if not synced and self.path is not None:
            try:                 # the header counts what did reach the disk
                repair(self.path)
            except OSError:
                pass

    def close(self) -> Optional[Path]:
        """Write what is left (the shorter channel padded with silence) and close;
        return :attr:`path` (None when the file could not be made).

        With a writer thread, it first lets the writer write everything queued and
        end (waiting at most ``close_wait_s``: a folder on a network home that stopped
        answering holds the writer, never the caller; the recording then stops with
        a reason, and the writer is left to end when the disk answers); the rest
        happens on the caller's thread. Without one, a recorder that was never
        written to still leaves its file (a header and no audio)."""
        if self._closing:                  # once: a second call does not wait again
            return self.path
        self._closing = True
        try:
            return self._close()
        finally:
            self._let_go()

    def _let_go(self) -> None:
        """Release the lock :meth:`open` took for the call (the writer's own file, if it
        still has it open, keeps it until it ends)."""
        with self._lock_fd_lock:
            fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _close(self) -> Optional[Path]:
        if self._writer is not None and self._writer.is_alive():
            deadline = time.monotonic() + self._close_wait_s
            while self._writer.is_alive() and time.monotonic() < deadline:
                try:
                    self._queue.put(None, timeout=0.1)    # the writer drains the queue
                    break
                except queue.Full:
                    continue
            self._writer.join(max(0.0, deadline - time.monotonic()))
            if self._writer.is_alive():
                self._fail(f"recording stopped: the disk did not answer within {self._close_wait_s:g} s "
                           f"({self.path or self.folder})")
                with self._fail_lock:      # the writer ends on its own once the disk answers
                    self._abandoned, self._told_path = True, self.path
                return self._told_path
        if self._writer is None and self.path is None and not self.failed:
            self._open_or_fail()
        if self._file is not None and not self.failed:
            n = max(self._pending_n.values())
            for ch in self.channels:
                if self._pending_n[ch] < n:
                    self._add(ch, np.zeros(n - self._pending_n[ch], np.float32))
            if self._file is not None:
                try:
                    self._sync()
                    self._file.close()
                except OSError as exc:
                    self._fail(f"recording stopped: {exc.strerror or exc} ({self.path})")
                self._file = None
        elif self._file is not None:
            self._close_quietly()
        return self.path


def holds_audio(path: str | Path) -> bool:
    """Whether the file at ``path`` holds more than a recording's header (False when it
    cannot be read)."""
    try:
        return os.path.getsize(path) > HEADER_BYTES
    except OSError:
        return False


def remove_if_empty(path: str | Path) -> bool:
    """Remove a closed recording that holds no audio (a full disk took even its first
    block), so that it is neither linked from a call record nor looked at again at every
    start. Returns whether it is gone. Never raises."""
    if holds_audio(path):
        return False
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:
        return not os.path.lexists(path)
    return True


def in_progress(path: str | Path) -> bool:
    """Whether a recorder (in this or another process) is still writing ``path``."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)                     # also releases the lock just taken
    return False


def repair(path: str | Path) -> Optional[float]:
    """Make a recording left by a killed process whole: its header's sizes are set to
    every whole frame in the file. Returns its length (s), or None when the file is not
    a recording this module wrote (then it is left as it is).

    The file's times are kept: its last change dates the call
    (:func:`voicecoach.store.record.recorded_at`), and mending the header is no change
    to the call.

    Raises
    ------
    OSError
        The file cannot be read or written.
    """
    times = os.stat(path)
    with open(path, "r+b") as f:
        head = f.read(HEADER_BYTES)
        if (len(head) < HEADER_BYTES or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt "
                or head[36:40] != b"data"):
            return None
        _, fmt, n_channels, rate, _, align, bits = struct.unpack("<IHHIIHH", head[16:36])
        if fmt != 1 or rate != SAMPLE_RATE or bits != 16 or align != 2 * n_channels or n_channels < 1:
            return None
        size = f.seek(0, os.SEEK_END)
        n_frames = (size - HEADER_BYTES) // align
        fixed = _header(n_channels, n_frames)
        if fixed != head:
            f.seek(0)
            f.write(fixed)
            f.flush()
            os.fsync(f.fileno())
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    return n_frames / SAMPLE_RATE
