"""Playing a call back: both sides (left = agent, right = caller) from any point.

The review window's player, free of Qt: a sounddevice output stream whose callback
copies the next block and advances the position the window polls. Tests drive it with
a stand-in stream (``stream_factory``).
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Optional

import numpy as np

from voicecoach.events import SAMPLE_RATE
from voicecoach.sources.audio import CallAudio


class PlaybackError(Exception):
    """No way to play sound here (no PortAudio, no output device); one line for the status bar."""


class Player:
    """Plays a call (left = agent, right = caller) from any point, through a callback stream.

    The stream's callback copies the next block from the array and advances
    :attr:`position_s`; it never blocks or allocates. A window polls the position.

    Parameters
    ----------
    audio : CallAudio
    stream_factory : callable, optional
        ``factory(samplerate=, channels=, dtype=, callback=)`` returning a stream with
        ``start()``, ``stop()`` and ``close()``; default ``sounddevice.OutputStream``.
    """

    def __init__(self, audio: CallAudio, stream_factory: Optional[Callable] = None):
        chans = audio.channels()
        self._data = np.ascontiguousarray(
            np.stack([chans["agent"], chans.get("customer", chans["agent"])], axis=1), dtype=np.float32)
        self._factory = stream_factory
        self._stream = None
        self._pos = 0                  # next sample the callback plays
        self._seeks: deque = deque(maxlen=1)   # a seek for the callback: append and popleft
        #                                        are atomic, so one made while it runs is kept
        self.playing = False
        self.ended = False             # set by the callback at the end of the call

    @property
    def duration_s(self) -> float:
        return len(self._data) / SAMPLE_RATE

    @property
    def position_s(self) -> float:
        try:
            return self._seeks[-1] / SAMPLE_RATE
        except IndexError:                    # none waiting (or the callback just took it)
            return self._pos / SAMPLE_RATE

    def callback(self, outdata: np.ndarray, frames: int, time, status) -> None:
        """The stream callback: the next ``frames`` samples (n, 2) into ``outdata``."""
        try:
            pos = self._pos = self._seeks.popleft()     # position_s reads it at once
        except IndexError:
            pos = self._pos
        chunk = self._data[pos:pos + frames]
        n = len(chunk)
        outdata[:n] = chunk
        if n < frames:
            outdata[n:] = 0.0
            self.ended = True
        self._pos = pos + n

    def _open(self):
        factory = self._factory
        if factory is None:
            try:
                import sounddevice
            except OSError:
                raise PlaybackError("cannot play: the PortAudio library is not installed "
                                    "(Debian: apt install libportaudio2)") from None
            factory = sounddevice.OutputStream
        try:
            return factory(samplerate=SAMPLE_RATE, channels=2, dtype="float32", callback=self.callback)
        except Exception as exc:     # PortAudioError, ValueError: no (such) output device
            raise PlaybackError(f"cannot play: no audio output device ({exc})") from None

    def play(self) -> None:
        """Start (or resume) playing from :attr:`position_s`; raises :class:`PlaybackError`."""
        if self.playing:
            return
        if self.position_s >= self.duration_s - 0.05:
            self.seek(0.0)
        if self._stream is None:
            self._stream = self._open()
        self.ended = False
        try:
            self._stream.start()
        except Exception as exc:
            self._stream = None
            raise PlaybackError(f"cannot play: {exc}") from None
        self.playing = True

    def pause(self) -> None:
        if self._stream is not None and self.playing:
            self._stream.stop()
        self.playing = False

    def seek(self, t: float) -> None:
        """Jump to ``t`` (s); a playing stream continues from there."""
        n = int(min(max(t, 0.0), self.duration_s) * SAMPLE_RATE)
        if self.playing:
            self._seeks.append(n)
        else:
            self._seeks.clear()
            self._pos = n

    def close(self) -> None:
        self.pause()
        if self._stream is not None:
            self._stream.close()
            self._stream = None
