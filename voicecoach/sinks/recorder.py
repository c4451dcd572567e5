"""Opt-in call recording that survives a crash: a WAV file written as the call goes.

The WAV header's sizes are rewritten and the file synced every ``flush_s``, so a
crash or power cut loses at most that much audio and the file stays readable.
(Written by hand rather than with soundfile because libsndfile only fixes a WAV
header when the file is closed.) A full disk or any other write error stops the
recording with a reason in :attr:`Recorder.failed`; coaching carries on.
Recordings are readable by the user alone (folder 0700, files 0600).
"""
from __future__ import annotations

import datetime as _dt
import os
import struct
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from voicecoach.events import SAMPLE_RATE


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
    """

    def __init__(self, folder: str | Path, channels: Sequence[str], flush_s: float = 1.0):
        self.folder = Path(folder).expanduser()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.path = self.folder / f"call-{stamp}.wav"
        self.channels = tuple(channels)
        self._pending = {ch: [] for ch in self.channels}
        self._pending_n = {ch: 0 for ch in self.channels}
        self.frames_written = 0
        self._flush_frames = int(flush_s * SAMPLE_RATE)
        self._since_flush = 0
        self.failed: Optional[str] = None
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._file.write(_header(len(self.channels), 0))

    def write(self, channel: str, samples: np.ndarray) -> None:
        """Add the next block of one channel (blocks of each channel are contiguous)."""
        if self.failed or self._file is None:
            return
        self._pending[channel].append(np.asarray(samples, np.float32))
        self._pending_n[channel] += len(samples)
        n = min(self._pending_n.values())
        if n:
            self._write_frames(n)

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
            self.failed = f"recording stopped: {exc.strerror or exc} ({self.path})"
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

    def _close_quietly(self) -> None:
        try:
            self._sync()
        except (OSError, ValueError):
            pass
        try:
            self._file.close()
        except OSError:
            pass
        self._file = None

    def close(self) -> Path:
        """Write what is left (the shorter channel padded with silence) and close."""
        if self._file is not None and not self.failed:
            n = max(self._pending_n.values())
            for ch in self.channels:
                if self._pending_n[ch] < n:
                    self.write(ch, np.zeros(n - self._pending_n[ch], np.float32))
            if self._file is not None:
                try:
                    self._sync()
                    self._file.close()
                except OSError as exc:
                    self.failed = f"recording stopped: {exc.strerror or exc} ({self.path})"
                self._file = None
        return self.path
