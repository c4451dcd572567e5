"""The call audio without the agent's own voice in it (line echo, sidetone).

A headset call's far-end audio carries the agent back: the softphone's sidetone, the
phone network's line echo, a caller on a speakerphone. Heard as the caller, that echo
inflates the caller's talk time, invents interruptions and puts the agent's sentences
in the caller's transcript. The agent's mic is a clean reference of what the agent
said, so the echo can be taken out before any analyzer hears the call audio.

The canceller is WebRTC's AEC3 (the one in every browser), through the
``pywebrtc-audio`` bindings: it finds the echo path's delay by itself (0 to at least
500 ms), adapts to its gain and impulse response as they drift, and keeps the caller
when both speak at once (double talk: exactly an interruption). It costs about 1 %
of one core per call. ``benchmarks/realcall.py`` measures the cues with and without it.

Audio is processed in 10 ms frames counted from the start of the call, so the
result does not depend on how the channels are cut into blocks (20 ms live, 10 s
in ``analyze``). A call-audio frame waits for the agent's frame of the same time;
if the agent's input falls more than ``max_wait_s`` behind, it goes on without
that reference (nothing to cancel then) rather than hold the caller up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from voicecoach.events import SAMPLE_RATE

FRAME = SAMPLE_RATE // 100       # AEC3 works on 10 ms frames
LATENCY = 128                    # samples AEC3 holds back (two of its 4 ms blocks)
PRIME_S = 2.5                    # AEC3's cautious initial state (see EchoCanceller._prime)
QUIET_BELOW = 0.03               # loudest 10 ms frame RMS (-30 dBFS) below which a call is boosted ...
LEVEL_TARGET = 0.1               # ... to bring it to -20 dBFS
LEVEL_SECONDS = 10               # ... over the last 10 s
LEVEL_FLOOR = 0.0001             # a frame above -80 dBFS holds sound (below: digital silence) ...
LEVEL_HEARD_FRAMES = 50          # ... and 0.5 s of such frames in the last 10 s before any boost
MAX_GAIN = 64.0                  # at most +36 dB
GAIN_STEP = 10 ** (3 / 20 / 100)   # the boost moves at most 3 dB/s
HEADROOM = 0.5                   # no boosted sample above -6 dBFS


@dataclass
class EchoOptions:
    """Echo cancellation of the call audio.

    Attributes
    ----------
    cancel : bool
        Take the agent's voice out of the call audio (off only for recordings
        known to be clean, or to compare).
    max_wait_s : float
        How far (s) the call audio may run ahead of the agent's mic before it is
        processed without its reference.
    """

    cancel: bool = True
    max_wait_s: float = 0.5


class EchoCanceller:
    """Incremental echo cancellation of one call's customer channel.

    Feed the agent's samples with :meth:`reference` and the call audio with
    :meth:`process`, in any interleaving; :meth:`process` returns the cleaned
    call audio that is ready, as ``(start_sample, samples)``.

    Examples
    --------
    >>> ec = EchoCanceller()
    >>> ec.reference(np.zeros(480, np.float32))
    >>> start, clean = ec.process(np.zeros(500, np.float32))
    >>> start, len(clean)       # whole 10 ms frames, less AEC3's 8 ms latency
    (0, 352)
    >>> start, clean = ec.process(np.zeros(0, np.float32), final=True)
    >>> start, len(clean)       # the rest: as many samples out as went in
    (352, 148)
    """

    def __init__(self, options: Optional[EchoOptions] = None):
        from pywebrtc_audio import EchoCanceller as Aec3

        self.options = options or EchoOptions()
        self._aec = Aec3(sample_rate=SAMPLE_RATE, num_channels=1)
        self._prime()
        self._ref = np.zeros(0, np.float32)    # agent samples from index _ref_start
        self._ref_start = 0
        self._near = np.zeros(0, np.float32)   # call audio from index _done
        self._done = 0                         # call-audio samples through AEC3 so far
        self._received = 0                     # call-audio samples given to process()
        self._emitted = 0                      # cleaned samples returned
        self._skip = LATENCY                   # AEC3 output still to drop for its latency
        self._loudest = [0.0]                  # loudest frame RMS, either side, per second (last is running)
        self._sounding = [0]                   # frames above LEVEL_FLOOR, per second (last is running)
        self._frames = 0                       # frames seen
        self._second = 0                       # the second of the call _loudest[-1] is
        self._gain = 1.0                       # the boost of the last frame
        self._gain_tail = np.ones(LATENCY, np.float32)   # boosts of AEC3's held-back samples

    def _prime(self) -> None:
        """Start AEC3 as if it had heard the agent for ``PRIME_S`` and no echo came back.

        For its first seconds of far-end audio AEC3 assumes the worst echo and
        suppresses hard: a caller who talks over the agent's first words would be
        cut (-7 to -30 dB measured). Primed with quiet band-limited noise as the
        reference and silence as the call audio, it starts from "no echo yet" and
        still learns a real echo path within the first second (residual 42-46 dB
        below a -20 dB echo from the start).
        """
        rng = np.random.default_rng(0)
        t = np.arange(101) - 50            # a 200-3400 Hz windowed-sinc band-pass (numpy only:
        lo, hi = 200 / SAMPLE_RATE, 3400 / SAMPLE_RATE   # scipy.signal would cost 77 MB)
        band = (2 * hi * np.sinc(2 * hi * t) - 2 * lo * np.sinc(2 * lo * t)) * np.hamming(len(t))
        noise = np.convolve(rng.normal(0.0, 0.05, int(PRIME_S * SAMPLE_RATE)), band, mode="same")
        noise = noise.astype(np.float32)
        noise = noise[:len(noise) // FRAME * FRAME]
        self._aec.process(np.zeros_like(noise), noise)

    def reference(self, samples: np.ndarray) -> None:
        """The agent's next samples (the echo's source)."""
        self._ref = np.concatenate([self._ref, np.asarray(samples, np.float32).reshape(-1)])

    def process(self, samples: np.ndarray, final: bool = False) -> tuple[int, np.ndarray]:
        """Add the call audio's next samples; return ``(start_sample, cleaned)``: the
        cleaned audio of every whole frame whose reference has arrived (or is
        overdue), on the call clock (AEC3's own 8 ms latency taken out).

        ``final`` processes the rest too, so that as many samples come out in all
        as went in.
        """
        self._near = np.concatenate([self._near, np.asarray(samples, np.float32).reshape(-1)])
        self._received += len(samples)
        ref_end = self._ref_start + len(self._ref)
        near_end = self._done + len(self._near)
        if final:
            pad = -(len(self._near) + LATENCY) % FRAME + LATENCY
            self._near = np.concatenate([self._near, np.zeros(pad, np.float32)])
            until = near_end + pad
        else:
            overdue = near_end - int(self.options.max_wait_s * SAMPLE_RATE)
            until = min(near_end, max(ref_end, overdue))
        n = max(0, (until - self._done) // FRAME) * FRAME
        near, self._near = self._near[:n], self._near[n:]
        ref = self._reference_for(self._done, n)
        # AEC3 steps through the whole frames itself: one call, not one per 10 ms
        # (the same output; a quarter less CPU)
        if n:
            gain = self._boost(near, ref)
            out = self._aec.process(near * gain, ref * gain)
            held = np.concatenate([self._gain_tail, gain])
            out = out / held[:n]
            self._gain_tail = held[n:]
        else:
            out = near
        self._done += n
        skip = min(self._skip, n)
        self._skip -= skip
        out = out[skip:self._received - self._emitted + skip]
        start = self._emitted
        self._emitted += len(out)
        return start, out

    def _boost(self, near: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """One gain per sample for both sides of whole 10 ms frames (shape ``(n,)``).

        AEC3's thresholds are absolute (int16 levels): on a call recorded 24 dB low it
        takes quiet caller speech for residual echo and cuts it (-0.9 s of 24 s of caller
        talk on the demo, and its one interruption). The same gain on both sides keeps
        the echo path as it is, and it is divided out again after AEC3. When the loudest
        frame of the last ``LEVEL_SECONDS`` is under ``QUIET_BELOW``, and at least
        ``LEVEL_HEARD_FRAMES`` of them held sound, it aims at ``LEVEL_TARGET`` for that
        frame; otherwise at 1 (silence and a call's first syllables are not lifted, and an
        ordinary call stays bit for bit as it was). It moves slowly (``GAIN_STEP``): the echo reaching AEC3 now left the
        agent's mic up to half a second ago, under the gain of then. It drops at once
        only where a sample would pass ``HEADROOM``.
        """
        frames = len(near) // FRAME
        both = np.stack([near.reshape(frames, FRAME), ref.reshape(frames, FRAME)])
        rms = np.sqrt(np.mean(np.square(both, dtype=np.float64), axis=2)).max(axis=0)
        cap = np.maximum(1.0, HEADROOM / np.maximum(np.abs(both).max(axis=(0, 2)), 1e-9))
        # the loudest frame of the last LEVEL_SECONDS at each frame, and how many frames
        # held sound (above LEVEL_FLOOR) then: per-second buckets (frames counted from the
        # call's start), the current second's so far
        second = (self._frames + np.arange(frames)) // 100
        level, heard = np.empty(frames), np.empty(frames)
        loudest, sounding = self._loudest, self._sounding
        for s in range(int(second[0]), int(second[-1]) + 1):
            at = slice(*np.searchsorted(second, [s, s + 1]))
            if s > self._second:
                loudest.append(0.0)
                sounding.append(0)
                del loudest[:-LEVEL_SECONDS], sounding[:-LEVEL_SECONDS]
                self._second = s
            running = np.maximum.accumulate(np.concatenate([[loudest[-1]], rms[at]]))[1:]
            level[at] = np.maximum(running, max(loudest[:-1], default=0.0))
            loudest[-1] = float(running[-1])
            counted = sounding[-1] + np.cumsum(rms[at] >= LEVEL_FLOOR)
            heard[at] = counted + sum(sounding[:-1])
            sounding[-1] = int(counted[-1])
        self._frames += frames
        want = np.where((heard < LEVEL_HEARD_FRAMES) | (level >= QUIET_BELOW), 1.0,
                        np.clip(LEVEL_TARGET / np.maximum(level, 1e-9), 1.0, MAX_GAIN))
        if self._gain == 1.0 and np.all(want == 1.0):
            return np.ones(len(near), np.float32)       # a call at an ordinary level
        gains = np.empty(frames, np.float32)
        gain = self._gain
        for k, (w, c) in enumerate(zip(want.tolist(), cap.tolist())):
            gain = max(1.0, min(max(w, gain / GAIN_STEP), gain * GAIN_STEP, c))
            gains[k] = gain
        self._gain = gain
        return np.repeat(gains, FRAME)

    def _reference_for(self, start: int, n: int) -> np.ndarray:
        """The agent's samples ``start .. start+n`` (zeros where they have not arrived);
        older ones are dropped."""
        ref = np.zeros(n, np.float32)
        lo = max(start, self._ref_start)
        hi = min(start + n, self._ref_start + len(self._ref))
        if hi > lo:
            ref[lo - start:hi - start] = self._ref[lo - self._ref_start:hi - self._ref_start]
        drop = min(len(self._ref), max(0, start + n - self._ref_start))
        self._ref = self._ref[drop:]
        self._ref_start += drop
        return ref
