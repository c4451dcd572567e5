"""Where audio comes from: frames of ``(channel, start_s, samples)`` on the call clock.

:class:`FileSource` replays a loaded call; live device capture has its own module.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .audio import SAMPLE_RATE, CallAudio


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

    def __init__(self, call: CallAudio, block_s: float = 10.0, realtime: bool = False):
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
