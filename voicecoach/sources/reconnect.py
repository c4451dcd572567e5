"""Capture that outlives an unplugged headset: a shift waits for a lost input and goes on.

A USB headset unplugged over a break, a Bluetooth headset out of range, PulseAudio
restarted: a :class:`~voicecoach.sources.capture.DeviceSource` ends when one of its
inputs goes away. For one call that is the right end; for a shift it is not, since
the agent plugs the headset back in and expects to be coached on the next call.

:class:`ReconnectingSource` yields the :class:`~voicecoach.sources.capture.DeviceLost`
in its frame stream (the shift ends the open call there), opens the inputs again every
``retry_s`` until they start and each sends audio, yields a :class:`DeviceBack`, and goes on with the new
streams' frames on the same clock. The time away is not on that clock (nothing was
heard then): each channel's clock stays the audio taken so far, as a device source's
is, so the voice activity and the call detector see one unbroken stream.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Optional, Union

import numpy as np

from voicecoach.events import SAMPLE_RATE
from voicecoach.sources.capture import DeviceLost, DeviceSource
from voicecoach.sources.devices import DeviceError
from voicecoach.sources.files import CapturedFrame


@dataclass(frozen=True)
class DeviceBack:
    """The inputs capture again after a loss.

    Attributes
    ----------
    device : str
        The input that had been lost.
    away_s : float
        How long (s, wall clock) capture was away.
    t_s : float
        The source's clock (s) where capture goes on.
    """

    device: str
    away_s: float
    t_s: float

    def __str__(self) -> str:
        away = f"{self.away_s:.0f} s" if self.away_s < 120 else f"{self.away_s / 60:.0f} min"
        return f"audio input {self.device!r} is back after {away}; listening again"


class ReconnectingSource:
    """A device source for a whole shift: reopened when an input goes away.

    Parameters
    ----------
    first : DeviceSource
        The inputs as chosen at start (their errors are the user's to see at once).
    reopen : callable
        Builds a new, unstarted :class:`DeviceSource` for the same inputs; it and its
        ``start()`` may raise :class:`DeviceError` while an input is still away.
    retry_s : float
        How often (s) the inputs are tried again while away.

    Attributes
    ----------
    channels : tuple of str
    lost : DeviceLost or None
        Always None once iteration ends: a loss is waited out until :meth:`stop`.

    Iterating yields :class:`CapturedFrame` objects on one clock, and between them a
    :class:`DeviceLost` when an input goes away (with zero frames that bring every
    channel to the same time) and a :class:`DeviceBack` when capture goes on.
    """

    def __init__(self, first: DeviceSource, reopen: Callable[[], DeviceSource], retry_s: float = 2.0):
        self.channels = first.channels
        self.lost: Optional[DeviceLost] = None
        self.retry_s = retry_s
        self._reopen = reopen
        self._current = first
        self._offset = 0.0                       # this clock at the current source's 0
        self._ends = {ch: 0.0 for ch in self.channels}
        self._earlier = {"dropped_blocks": 0, "gap_s": 0.0}   # counted by earlier sources
        self._stop = threading.Event()
        self._lock = threading.RLock()           # stop() may come from a signal handler

    def start(self) -> "ReconnectingSource":
        self._current.start()
        return self

    def stop(self) -> None:
        """Stop capture, or the wait for a lost input. Idempotent; any thread."""
        self._stop.set()
        with self._lock:
            self._current.stop()

    def stats(self) -> dict:
        stats = dict(self._current.stats())
        for key, before in self._earlier.items():
            stats[key] = stats.get(key, 0) + before
        return stats

    def playback_changes(self) -> list[tuple[bool, float]]:
        return [(present, t + self._offset) for present, t in self._current.playback_changes()]

    def __iter__(self) -> Iterator[Union[CapturedFrame, DeviceLost, DeviceBack]]:
        self.start()
        back: Optional[DeviceBack] = None     # to say once every reopened input has sent audio
        held: list[CapturedFrame] = []        # the reopened inputs' frames until then
        away = t = 0.0                        # when (monotonic) and where (this clock) the loss began
        while True:
            source = self._current
            for frame in source:
                frame = replace(frame, start_s=frame.start_s + self._offset)
                if back is not None:
                    held.append(frame)
                    if {f.channel for f in held} != set(self.channels):
                        continue
                    yield replace(back, away_s=time.monotonic() - away)
                    back = None
                    for f in held:
                        self._ends[f.channel] = f.start_s + len(f.samples) / SAMPLE_RATE
                        yield f
                    held = []
                    continue
                self._ends[frame.channel] = frame.start_s + len(frame.samples) / SAMPLE_RATE
                yield frame
            if source.lost is None or self._stop.is_set():
                return
            if back is None:                  # a new loss (not inputs that opened and stayed silent)
                away = time.monotonic()
                t = max(self._ends.values())
                yield replace(source.lost, t_s=t)
                for ch, end in self._ends.items():     # every channel up to the same time
                    n = int(round((t - end) * SAMPLE_RATE))
                    if n > 0:
                        yield CapturedFrame(ch, end, np.zeros(n, np.float32), time.monotonic())
            held = []                         # the other inputs' audio while one was still away
            if not self._open_again():
                return
            lost_stats = source.stats()                 # the new source's counts start at 0
            for key in self._earlier:
                self._earlier[key] += lost_stats.get(key, 0)
            self._offset = t
            self._ends = dict.fromkeys(self.channels, t)
            # A suspended PulseAudio source opens and starts but sends nothing: an input is
            # back only once audio comes from every input, and until then it is still away.
            back = DeviceBack(back.device if back is not None else source.lost.device, 0.0, t)

    def _open_again(self) -> bool:
        """Try the inputs every ``retry_s`` until they start (True) or :meth:`stop` (False)."""
        while not self._stop.wait(self.retry_s):
            try:
                source = self._reopen()
                source.start()
            except DeviceError:
                continue
            with self._lock:
                if self._stop.is_set():
                    source.stop()
                    return False
                self._current = source
                return True
        return False
