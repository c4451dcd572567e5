"""Calls read from files, as frames of ``(channel, start_s, samples)`` on the call clock.

:class:`FileSource` gives a loaded call's blocks as fast as they are asked for
(``analyze``); :class:`ReplaySource` paces them like a live device (``live --replay``).
Live device capture is :mod:`voicecoach.sources.capture`.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from voicecoach.config import CaptureOptions
from voicecoach.events import SAMPLE_RATE
from voicecoach.sources.audio import FILE_BLOCK_S, CallAudio


@dataclass
class Frame:
    """One block of one channel: mono float32 at 16 kHz starting at ``start_s``."""

    channel: str
    start_s: float
    samples: np.ndarray


class FileSource:
    """Yields a call's blocks in call-clock order, channel after channel.

    Parameters
    ----------
    call : CallAudio
    block_s : float
        Block length (s): large for offline analysis (fewer calls), 0.02 for a
        replay that behaves like a device.
    realtime : bool
        Pace the blocks at the speed of the recording ("replay as live").
    """

    def __init__(self, call: CallAudio, block_s: float = FILE_BLOCK_S, realtime: bool = False):
        self.call = call
        self.block = max(1, int(round(block_s * SAMPLE_RATE)))
        self.realtime = realtime

    def __iter__(self) -> Iterator[Frame]:
        channels = self.call.channels()
        n = len(self.call.agent)
        t0 = time.monotonic()
        for start in range(0, n, self.block):
            if self.realtime:
                delay = t0 + (start + self.block) / SAMPLE_RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            for ch, x in channels.items():
                yield Frame(ch, start / SAMPLE_RATE, x[start:start + self.block])


@dataclass
class CapturedFrame(Frame):
    """A :class:`~voicecoach.sources.files.Frame` from a device, with when it was captured.

    Attributes
    ----------
    captured_at : float
        ``time.monotonic()`` (s) in the callback that delivered the block: the
        wall-clock moment its last sample was available, for latency measurement.
    """

    captured_at: float


def take_all(queue: deque) -> list:
    """Everything ``queue`` holds, oldest first, taken out of it (another thread may
    append meanwhile: what it appends after is left for the next call)."""
    out = []
    while queue:
        out.append(queue.popleft())
    return out


class ReplaySource:
    """A recorded call fed at real-time pace, stamped like a device's frames."""

    def __init__(self, call: CallAudio, block_s: Optional[float] = None, streams: bool = False):
        self.call = call
        self.channels = tuple(call.channels())
        block_s = CaptureOptions().block_s if block_s is None else block_s   # a device's blocks
        self._files = FileSource(call, block_s=block_s, realtime=True)
        self._stop = threading.Event()
        self._playback: deque = deque([(True, 0.0)] if streams else [])   # see PlaylistSource
        self.lost = None

    def playback_changes(self) -> list[tuple[bool, float]]:
        """With ``streams``: the recording is a call from its first sample (as
        :meth:`PlaylistSource.playback_changes`)."""
        return take_all(self._playback)

    def __iter__(self) -> Iterator[CapturedFrame]:
        for f in self._files:
            if self._stop.is_set():
                return
            yield CapturedFrame(f.channel, f.start_s, f.samples, time.monotonic())

    def start(self) -> "ReplaySource":
        return self

    def stop(self) -> None:
        self._stop.set()

    def stats(self) -> dict:
        return {"dropped_blocks": 0, "behind_s": 0.0}


class PlaylistSource:
    """Calls one after another with nothing between them, as a shift's call audio:
    digital silence in the gaps, as a PulseAudio monitor delivers when no stream plays.

    Parameters
    ----------
    calls : sequence of (gap_s, call)
        Each call after ``gap_s`` seconds of silence; ``call`` is a CallAudio, a path,
        or a callable returning one (loaded when its turn comes, so a long shift
        never holds more than one call in memory). Every call needs both channels.
    block_s : float, optional
        Block length (s); default: a device's (``capture.block_s``).
    realtime : bool
        Pace the blocks like a device; False feeds them as fast as they are taken.
    streams : bool
        Also tell each call as a playback stream that opens at its first sample and
        closes after its last (:meth:`playback_changes`), as a softphone's call reaches
        PulseAudio: each recording is then one call, however quiet its line or short
        the gap after it (``voicecoach live --replay``). False: the calls are found
        from their sound alone (the shift benchmark).

    Attributes
    ----------
    spans : list of (start_s, end_s)
        Where each call played on the shift clock (filled in as they play).
    """

    def __init__(self, calls, block_s: Optional[float] = None, realtime: bool = False, streams: bool = False):
        self.calls = list(calls)
        block_s = CaptureOptions().block_s if block_s is None else block_s
        self.block = max(1, int(round(block_s * SAMPLE_RATE)))
        self.realtime = realtime
        self.streams = streams
        self.channels = ("agent", "customer")
        self.spans: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._playback: deque = deque()
        self.lost = None

    def playback_changes(self) -> list[tuple[bool, float]]:
        """Calls that began (True) or ended (False) since the last call, with their time on
        the shift clock (with ``streams``; the consumer's thread)."""
        return take_all(self._playback)

    def _load(self, call) -> CallAudio:
        if callable(call):
            call = call()
        if not isinstance(call, CallAudio):
            from voicecoach.sources.audio import load_call

            call = load_call(call)
        return call

    def __iter__(self) -> Iterator[CapturedFrame]:
        t0 = time.monotonic()
        pos = 0                                       # samples so far on the shift clock
        silence = np.zeros(self.block, np.float32)
        for gap_s, call in self.calls:
            n_gap = int(round(gap_s * SAMPLE_RATE))
            parts = [(None, n_gap)]
            for source, n in parts + [(self._load(call), None)]:
                if source is None:
                    chans = None
                else:
                    chans = source.channels()
                    n = len(source.agent)
                    self.spans.append((pos / SAMPLE_RATE, (pos + n) / SAMPLE_RATE))
                    if self.streams:
                        self._playback.append((True, pos / SAMPLE_RATE))
                for i in range(0, n, self.block):
                    if self._stop.is_set():
                        return
                    m = min(self.block, n - i)
                    if self.realtime:
                        delay = t0 + (pos + m) / SAMPLE_RATE - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                    now = time.monotonic()
                    for ch in self.channels:
                        x = silence[:m] if chans is None else chans[ch][i:i + m]
                        yield CapturedFrame(ch, pos / SAMPLE_RATE, x, now)
                    pos += m
                if source is not None and self.streams:
                    self._playback.append((False, pos / SAMPLE_RATE))

    def start(self) -> "PlaylistSource":
        return self

    def stop(self) -> None:
        self._stop.set()

    def stats(self) -> dict:
        return {"dropped_blocks": 0, "behind_s": 0.0}
