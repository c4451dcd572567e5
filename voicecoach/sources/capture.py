"""Live capture: sounddevice input streams as frames on the call clock.

:class:`DeviceSource` opens the agent's input and the customer's (two devices, one
stereo device split by channel, or the agent alone) as 16 kHz float32 input
streams with a fixed block size. The PortAudio callback runs on a real-time
thread: it copies the block into a bounded queue with ``put_nowait``, counts a
drop when the queue is full, and returns. It never blocks, logs or allocates more
than the block's copy. Everything else happens in the thread that iterates the
source (the consumer; in a live session, the engine thread), except asking
PulseAudio whether the sources are still there (``pactl``, which can take up to
its 5 s timeout): a watcher thread (``capture-source-watch``) does that every
``source_check_s`` and only sets a flag that the consumer reads, so the consumer
never waits on another process.

Call clock. Each stream's first block is placed from the stream's own time
(PortAudio's ``inputBufferAdcTime``) against that stream's time read just before
the streams start; from there on its blocks follow by sample count, so every
channel's samples are contiguous (blocks dropped on a full queue come back as
silence of the same length, and are counted). The sample count is checked against
each block's ADC time (:class:`StreamClock`): a stream that delivered nothing for a
while (a source suspended for 2 s: its callbacks pause, then go on from the
present) gets that gap back as silence, and a device whose clock drifts from the
system's is brought back in steps, so the two sides stay on one clock for a whole
shift. Measured on PulseAudio's own sources (one sink's two sides as two inputs, one
suspended 1-2 s): the sides stay within 1-10 ms after one dropout; what is left
(5-12 ms a dropout, always the same way) is latency PulseAudio adds on resuming that
no timestamp shows, so a headset that drops out dozens of times a call could end a
few tenths of a second apart. Where a host API reports an ADC time of 0, the first block is placed from
the wall clock of its callback instead, and nothing is checked.

Measured through the ALSA ``pulse`` plugin (PortAudio 19.6, PulseAudio 16, 0.02 s
blocks): callbacks come every 20.0 ms (1st-99th percentile 19.9-20.2 ms) with
exactly 320 frames. The ADC time is never 0; it is ``currentTime`` (the system's
real-time clock, as ``time.time()``) minus the plugin's delay, 6-26 ms before the
callback, and it follows the stream's sample count to within ±10 ms. It stays right
when the callbacks are late (the process stopped for 1 s: PulseAudio keeps the
audio and delivers it in a burst, with its own ADC times), and jumps by exactly the
gap when the source delivered nothing (suspended for 2 s: +2.00 s). That delay
leaves out the block being read (taken literally, a block would end 10 ms after
its own callback), so call-clock times run at least 10 ms late: the same for every
stream, so two separate streams on one source still line up to within 1 ms.
``captured_at`` (the callback's ``time.monotonic()``) is what latency is measured
from.

Slow consumers. ``status.input_overflow`` is never set through the ``pulse``
plugin: PulseAudio buffers a late client on the server and delivers in a burst.
:meth:`DeviceSource.stats` therefore measures how far the consumer is behind real
time from the frames it has taken against the call clock, and counts blocks
dropped on the full queue.

A lost device ends iteration without an exception; :attr:`DeviceSource.lost`
then says why (:class:`DeviceLost`). A device is lost when its stream finishes on
its own (PulseAudio killed: the finished callback comes within 2 ms), when no block
arrives for ``stall_s``, or when its PulseAudio source disappears (PulseAudio then
moves the stream to the default source, which would silently record the wrong
input: the source's presence is checked every ``source_check_s`` on the watcher
thread). The consumer notices each of these (a flag, the callback's counters, the
clock) and ends iteration; nothing it checks blocks.
"""
from __future__ import annotations

import math
import queue
from collections import deque
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from voicecoach.config import CaptureOptions
from voicecoach.events import AGENT, CUSTOMER, SAMPLE_RATE
from voicecoach.sources.devices import (
    DeviceChoice,
    DeviceError,
    environment_set,
    import_sounddevice,
    SourceRemovals,
    playback_streams,
    pulse_source_index,
    pulse_source_present,
)
from voicecoach.sources.files import CapturedFrame, take_all

REFINE_S = 0.003
"""After a gap, the window of blocks that follows corrects the gap by what its median
says when that is more than this (s); three blocks right after a gap are within about
±15 ms, the window within 1-2 ms."""

# Streams read PULSE_SOURCE / PULSE_SERVER while they open; opens that set them
# must not interleave.
_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class DeviceLost:
    """Why live capture ended on its own.

    Attributes
    ----------
    device : str
        The input that was lost.
    reason : str
        What happened, for a user.
    t_s : float
        Call-clock time (s) of the last audio taken from the sources.
    """

    device: str
    reason: str
    t_s: float

    def __str__(self) -> str:
        return f"lost audio input {self.device!r} at {self.t_s:.1f} s: {self.reason}"


class StreamClock:
    """Places one stream's blocks on the call clock, in samples.

    The first block is placed by its ADC time (PortAudio's ``inputBufferAdcTime``)
    against the stream's time at call-clock 0; where the host API gives no ADC time
    (0), by its callback's wall clock. Later blocks follow by sample count, so a
    channel's samples stay contiguous, and each block's ADC time checks that count:

    - a **gap**: the ADC time jumps ahead by more than ``tolerance_s`` and the
      callbacks paused for about as long (a suspended or briefly stalled source
      delivers nothing, then goes on from the present). The first blocks after it
      may be read late (the machine busy just then): their ADC time is then "now",
      up to the lateness too late, until PulseAudio's backlog is delivered. So the
      clock *settles* first: it holds its answer (:meth:`place` gives None) until
      three blocks come at the normal pace, and measures the gap from their median
      (or, after ``window`` blocks without, from the smallest difference seen,
      since lateness only adds); the consumer holds those blocks meanwhile and
      puts the gap's silence before them. The median of the ``window`` blocks
      after that finishes the measure, to :data:`REFINE_S`;
    - a **clock step**: the ADC time jumps with no such pause (through the ``pulse``
      plugin the ADC time is the system's real-time clock, which NTP or a user may
      set): the stream's origin moves with it and no audio is touched;
    - **drift**: the median difference over ``window`` blocks passes
      ``tolerance_s`` (a device whose clock runs fast or slow against the system's;
      two devices' clocks commonly differ by 20-100 ppm, 1-3 s over a shift): the
      blocks are moved back by that much, and the consumer drops or adds that many
      samples.

    Where the host API gives no ADC time, nothing is checked: a callback's wall clock
    jumps whenever the machine is busy, with no audio missing.

    Parameters
    ----------
    origin_stream_s : float
        The stream clock (PortAudio's time, s) at call-clock 0.
    origin_monotonic_s : float
        ``time.monotonic()`` (s) at call-clock 0, read together with ``origin_stream_s``.
    samplerate_hz : int
    latency_s : float
        The stream's input latency (s), for placing a block by its callback's wall
        clock when the ADC time is unknown.
    tolerance_s : float
        How far (s) the sample count may stray from the ADC time before it is
        corrected: above the ADC time's jitter (±10 ms through the ``pulse`` plugin).
    window : int
        Blocks whose median difference is checked for drift; the most blocks a gap
        is settled over.

    Attributes
    ----------
    gap_s : float
        Silence (s) placed in gaps so far.
    drift_s : float
        Net correction (s) for drift so far (positive: the device ran slow).

    Examples
    --------
    >>> clock = StreamClock(1000.0, 50.0, 16000, latency_s=0.04)
    >>> clock.place(0, 320, adc_time_s=1000.25, captured_at=50.3)
    4000
    >>> clock.place(320, 320, adc_time_s=1000.27, captured_at=50.32)    # by sample count
    4320
    >>> clock.place(640, 320, adc_time_s=1002.29, captured_at=52.34) is None   # a 2 s gap: settling
    True
    >>> [clock.place(i, 320, 1002.29 + (i - 640) / 16000, 52.34 + (i - 640) / 16000)
    ...  for i in (960, 1280, 1600)]                                   # three blocks at the normal pace
    [None, None, 37600]
    >>> clock.at(640), clock.gap_s                                      # where the held blocks go
    (36640, 2.0)
    """

    def __init__(self, origin_stream_s: float, origin_monotonic_s: float, samplerate_hz: int,
                 latency_s: float, tolerance_s: float = 0.1, window: int = 50):
        self.origin_stream_s = origin_stream_s
        self.origin_monotonic_s = origin_monotonic_s
        self.samplerate_hz = samplerate_hz
        self.latency_s = latency_s
        self.tolerance_s = tolerance_s
        self.window = window
        self.offset: Optional[int] = None     # call-clock sample of the stream's sample 0
        self.gap_s = 0.0
        self.drift_s = 0.0
        self._last: Optional[tuple[float, float]] = None   # (difference s, callback time) of the last block
        self._differences: list[float] = []   # this drift window's
        self._recent: deque = deque(maxlen=window)   # the last window's, whatever window they fell in
        self._settling: Optional[dict] = None  # after a gap: what it is measured from
        self._refine: Optional[float] = None   # after a gap: the difference the next window aims at

    def place(self, sample_index: int, n_frames: int, adc_time_s: float, captured_at: float) -> Optional[int]:
        """Call-clock sample (at ``samplerate_hz``) of a block's first sample; None while
        the clock settles after a gap (the block's place is :meth:`at` once it has).

        Parameters
        ----------
        sample_index : int
            The block's first sample, counted from the stream's first callback.
        n_frames : int
            The block's length (samples).
        adc_time_s : float
            PortAudio's ``inputBufferAdcTime`` (s), 0 where unknown.
        captured_at : float
            ``time.monotonic()`` (s) in the block's callback.
        """
        if self.offset is None:
            if adc_time_s > 0:
                first = adc_time_s - self.origin_stream_s
            else:
                first = (captured_at - self.origin_monotonic_s - self.latency_s
                         - n_frames / self.samplerate_hz)
            self.offset = max(0, int(round(first * self.samplerate_hz))) - sample_index
        if adc_time_s > 0 and self._check(sample_index, n_frames, adc_time_s, captured_at):
            return None
        return self.at(sample_index)

    def at(self, sample_index: int) -> int:
        """Call-clock sample of the stream's sample ``sample_index``, as placed now."""
        return self.offset + sample_index

    def _check(self, sample_index: int, n_frames: int, adc_time_s: float, captured_at: float) -> bool:
        """Check the count against the ADC time; True while settling after a gap."""
        sr = self.samplerate_hz
        difference = (adc_time_s - self.origin_stream_s) - (self.offset + sample_index) / sr
        last, self._last = self._last, (difference, captured_at)
        if self._settling is not None:
            return self._settle(difference, captured_at - last[1] >= 0.5 * n_frames / sr)
        if last is not None:
            jump = difference - last[0]
            if abs(jump) > self.tolerance_s:
                if jump > 0 and captured_at - last[1] >= jump - self.tolerance_s:
                    # a gap: nothing was captured for a while; settle on how long
                    before = float(np.median(self._recent)) if self._recent else last[0]
                    self._settling = {"before": before, "seen": [difference], "steady": []}
                    return True
                self.origin_stream_s += jump               # the clock itself was set
                difference -= jump
                self._last = (difference, captured_at)
        self._recent.append(difference)
        self._differences.append(difference)
        if len(self._differences) >= self.window:
            median = float(np.median(self._differences))
            self._differences = []
            aim, self._refine = self._refine, None
            if aim is not None and abs(median - aim) > REFINE_S:
                # the window after a gap: its median finishes what three blocks began
                # (the plugin's delay takes a while to be what it was before the gap)
                self.gap_s += self._move(int(round((median - aim) * sr)))
            elif abs(median) > self.tolerance_s:
                self.drift_s += self._move(int(round(median * sr)))
        return False

    def _move(self, step: int, kept: bool = True) -> float:
        """Place the stream ``step`` samples later on the call clock from its last block
        on. With ``kept``, the differences kept (of blocks since the last gap) move with
        it: they say where the stream's blocks now fall. Returns the step in seconds."""
        d = step / self.samplerate_hz
        self.offset += step
        if kept:
            self._recent = deque((x - d for x in self._recent), maxlen=self.window)
            self._differences = [x - d for x in self._differences]
        if self._last is not None:
            self._last = (self._last[0] - d, self._last[1])
        return d

    def _settle(self, difference: float, steady: bool) -> bool:
        st = self._settling
        st["seen"].append(difference)
        st["steady"] = st["steady"] + [difference] if steady else []
        if len(st["steady"]) < 3 and len(st["seen"]) < self.window:
            return True
        self.settle_now()
        return False

    def settle_now(self) -> None:
        """End settling after a gap with what has been seen (at the end of capture)."""
        st, self._settling = self._settling, None
        if st is None:
            return
        level = float(np.median(st["steady"])) if len(st["steady"]) >= 3 else min(st["seen"])
        # the blocks before the gap stay where they were: the ones after it fall as they did
        self.gap_s += self._move(max(0, int(round((level - st["before"]) * self.samplerate_hz))), kept=False)
        self._differences, self._refine = [], st["before"]


class _Stream:
    """One input stream, its channel map and the counters its callback keeps."""

    def __init__(self, choice: DeviceChoice, columns: dict[str, int]):
        self.choice = choice
        self.columns = columns
        self.n_channels = max(columns.values()) + 1
        self.stream = None
        self.clock: Optional[StreamClock] = None
        self.samples = 0          # frames delivered by the callback
        self.blocks = 0
        self.dropped = 0
        self.status_flags = 0
        self.last_callback = 0.0  # time.monotonic() of the last callback
        self.finished = False     # the stream ended without stop()
        self.next_at: Optional[int] = None   # consumer side: the call-clock sample expected next
        self.gone_at: Optional[float] = None  # time.monotonic() its PulseAudio source went (watcher)
        self.held: list = []      # consumer side: blocks waiting for the clock to settle after a gap

    def callback_for(self, put, stopping: threading.Event):
        """The PortAudio callback: copy, stamp, queue without blocking, count."""
        monotonic = time.monotonic
        full = queue.Full

        def callback(indata, frames, time_info, status):
            now = monotonic()
            item = (self, self.samples, frames, time_info.inputBufferAdcTime, now, indata.copy())
            self.samples += frames
            self.blocks += 1
            self.last_callback = now
            if status:
                self.status_flags += 1
            try:
                put(item)
            except full:
                self.dropped += 1

        def finished():
            if not stopping.is_set():
                self.finished = True

        return callback, finished


class DeviceSource:
    """Frames from live devices, in arrival order, on the call clock.

    Parameters
    ----------
    agent : DeviceChoice
        The agent's input (their headset mic).
    customer : DeviceChoice, optional
        The customer's input (the call's far end, e.g. a sink monitor). The same
        choice as ``agent`` opens one stream and splits it by channel.
    options : CaptureOptions, optional
    agent_channel, customer_channel : int
        Which channel of each input carries that side (0 = first/left).
    watch_playback : bool
        When the call audio is a PulseAudio sink's ``.monitor``, also watch the
        playback streams on that sink (shift mode's stronger call signal): the
        watcher thread notes each time the first stream appears or the last one
        leaves, and :meth:`playback_changes` hands those over.

    Attributes
    ----------
    channels : tuple of str
        ``("agent", "customer")`` or ``("agent",)``: the sides this source yields.
    started_at : float
        ``time.monotonic()`` (s) at call-clock 0, once started.
    lost : DeviceLost or None
        Why iteration ended on its own; None while running or after :meth:`stop`.

    Iterating yields :class:`CapturedFrame` objects (each stream block gives one
    frame per call channel it carries) until :meth:`stop` or a lost device
    (:attr:`lost`). Blocks already captured when that happens are still yielded.

    Examples
    --------
    >>> with DeviceSource(resolve_device("agent_mic"), resolve_device("call.monitor"),
    ...                   customer_channel=1) as source:       # doctest: +SKIP
    ...     for frame in source:
    ...         engine.feed(frame.channel, frame.start_s, frame.samples)
    ...     if source.lost:
    ...         print(source.lost)
    """

    def __init__(self, agent: DeviceChoice, customer: Optional[DeviceChoice] = None,
                 options: Optional[CaptureOptions] = None, agent_channel: int = 0,
                 customer_channel: int = 0, watch_playback: bool = False):
        self.options = options or CaptureOptions()
        src = customer.pulse_source if customer is not None else None
        self._playback_sink = (src[:-len(".monitor")] if watch_playback and src and src.endswith(".monitor")
                               else None)
        self._playback_server = customer.pulse_server if customer is not None else None
        self._playback: deque = deque()            # (present, shift time), from the watcher thread
        wanted = [(AGENT, agent, agent_channel)]
        if customer is not None:
            wanted.append((CUSTOMER, customer, customer_channel))
        self._streams: list[_Stream] = []
        for channel, choice, column in wanted:
            choice.check_channel(column, channel)
            same = next((s for s in self._streams if s.choice == choice), None)
            if same is None:
                self._streams.append(_Stream(choice, {channel: column}))
            elif column in same.columns.values():
                raise DeviceError(f"agent and customer are both channel {column} of {choice.name!r}")
            else:
                same.columns[channel] = column
                same.n_channels = max(same.columns.values()) + 1
        self.channels = tuple(ch for ch, _, _ in wanted)
        self.block = max(1, int(round(self.options.block_s * SAMPLE_RATE)))
        per_stream = max(1, int(round(self.options.queue_s / self.options.block_s)))
        self._queue: queue.Queue = queue.Queue(maxsize=per_stream * len(self._streams))
        self._stopping = threading.Event()
        self._lock = threading.RLock()   # re-entrant: a signal handler's stop() runs on the thread
                                         # it interrupts, maybe inside start() or stop()
        self._started = False
        self._closed = False
        self.started_at = 0.0
        self._stopped_at: Optional[float] = None
        self._consumed_s = {ch: 0.0 for ch in self.channels}
        self._gone: Optional[_Stream] = None     # set by the watcher thread, read by the consumer
        self.lost: Optional[DeviceLost] = None

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> "DeviceSource":
        """Open and start every stream (once). Raises DeviceError when one cannot be opened."""
        with self._lock:
            if self._started:
                return self
            self._started = True
            sd = import_sounddevice()
            try:
                for s in self._streams:
                    s.stream = self._open(sd, s)
                # call-clock 0 on each stream's own clock (host APIs may differ) and the wall clock
                origins = [s.stream.time for s in self._streams]
                self.started_at = time.monotonic()
                for s, origin in zip(self._streams, origins):
                    s.clock = StreamClock(origin, self.started_at, SAMPLE_RATE,
                                          s.stream.latency, self.options.clock_tolerance_s)
                    s.last_callback = self.started_at
                for s in self._streams:
                    if self._closed:               # stopped (Ctrl-C) while opening
                        self._close_left_open(sd)
                        return self
                    s.stream.start()
            except sd.PortAudioError as exc:
                if self._closed:
                    self._close_left_open(sd)
                    return self
                self._close_streams()
                raise DeviceError(f"cannot start {s.choice.name!r}: {exc}") from None
            except DeviceError:
                if self._closed:
                    self._close_left_open(sd)
                    return self
                self._close_streams()
                raise
            watched = [s for s in self._streams if s.choice.pulse_source is not None]
            if watched or self._playback_sink:
                threading.Thread(target=self._watch_sources, args=(watched,), daemon=True,
                                 name="capture-source-watch").start()
        return self

    def _watch_sources(self, watched: list[_Stream]) -> None:
        """The watcher thread, until stopped: PulseAudio's source removals as they happen
        (and every ``source_check_s`` whether each watched source is still there); the
        first one gone is put in ``_gone`` for the consumer, with the time it went, and the
        watcher ends. Also every ``playback_check_s`` the playback streams on the call's
        sink (shift mode). Each check is on its own schedule: the checks' own pactl clients
        are events too, and must not set off more checks."""
        playing = None
        removals = SourceRemovals(watched[0].choice.pulse_server) if watched else None
        index = {}
        for s in watched:
            i = pulse_source_index(s.choice.pulse_source, s.choice.pulse_server)
            if i is not None:
                index[i] = s
        now = time.monotonic()
        next_source = now + self.options.source_check_s
        next_playback = now + self.options.playback_check_s if self._playback_sink else math.inf
        try:
            while not self._stopping.is_set():
                wait_s = max(0.0, min(next_source, next_playback) - time.monotonic())
                if removals is not None and removals.running:
                    removed = removals.wait(wait_s)
                else:
                    removed = []
                    self._stopping.wait(wait_s)
                if self._stopping.is_set():
                    return
                for i, at in removed:
                    if i in index:
                        self._went(index[i], at)
                        return
                now = time.monotonic()
                if now >= next_playback:
                    next_playback = now + self.options.playback_check_s
                    n = playback_streams(self._playback_sink, self._playback_server)
                    if n is not None and (n > 0) != playing:
                        if playing is not None:
                            self._playback.append((n > 0, now - self.started_at))
                        playing = n > 0
                if now >= next_source:
                    next_source = now + self.options.source_check_s
                    for s in watched:
                        if not pulse_source_present(s.choice.pulse_source, s.choice.pulse_server):
                            self._went(s, now)
                            return
        finally:
            if removals is not None:
                removals.close()

    def _went(self, s: _Stream, at: float) -> None:
        """A watched source is gone since ``at``: what its stream delivers from then on is the
        default source's (PulseAudio moved the stream there), and is not the call's."""
        if not self._stopping.is_set():
            s.gone_at = at
            self._gone = s

    def playback_changes(self) -> list[tuple[bool, float]]:
        """Playback streams that appeared (True) on or left (False) the call output since
        the last call, with the shift-clock time they were seen (consumer thread)."""
        return take_all(self._playback)

    def _open(self, sd, s: _Stream):
        callback, finished = s.callback_for(self._queue.put_nowait, self._stopping)
        with _OPEN_LOCK, environment_set(s.choice.open_env()):
            try:
                return sd.InputStream(device=s.choice.device, samplerate=SAMPLE_RATE,
                                      channels=s.n_channels, dtype="float32", blocksize=self.block,
                                      latency=self.options.latency_s or "low",
                                      callback=callback, finished_callback=finished)
            except sd.PortAudioError as exc:
                source = s.choice.pulse_source
                if source is not None and not pulse_source_present(source, s.choice.pulse_server):
                    raise DeviceError(f"cannot open {s.choice.name!r}: PulseAudio has no source {source!r} "
                                      "any more (unplugged?); `voicecoach devices` lists the inputs") from None
                raise DeviceError(f"cannot open {s.choice.name!r}: {exc}") from None

    def stop(self) -> None:
        """Stop and close every stream. Idempotent and safe from any thread."""
        self._stopping.set()
        with self._lock:
            if self._stopped_at is None:
                self._stopped_at = time.monotonic()
            self._close_streams()

    def _close_streams(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        sd = import_sounddevice()
        quiet_s = max(0.25, 10 * self.options.block_s)
        for s in self._streams:
            if s.stream is None:
                continue
            try:
                if s.blocks == 0 or time.monotonic() - s.last_callback > quiet_s:
                    s.stream.abort()   # stalled, or never started (a suspended source): stop() would wait for a block
                else:
                    s.stream.stop()    # lets the last buffered block through
                s.stream.close()
            except sd.PortAudioError:
                pass   # a device that is gone cannot be stopped any further

    def _close_left_open(self, sd) -> None:
        """Close the streams a stop() during start() did not see (opened after it ran)."""
        for s in self._streams:
            if s.stream is not None and not s.stream.closed:
                try:
                    s.stream.close()
                except sd.PortAudioError:
                    pass

    def __enter__(self) -> "DeviceSource":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- frames ---------------------------------------------------------------------
    def __iter__(self) -> Iterator[CapturedFrame]:
        self.start()
        while True:
            try:
                item = self._queue.get(timeout=self.options.poll_s)
            except queue.Empty:
                if self._stopping.is_set():
                    for s in self._streams:      # blocks held while a clock settled
                        if s.held:
                            s.clock.settle_now()
                            yield from self._release(s)
                    return
                self._check_lost()
                continue
            yield from self._frames(*item)
            if not self._stopping.is_set():
                self._check_lost()

    def _frames(self, s: _Stream, index: int, n: int, adc: float, captured_at: float,
                block: np.ndarray) -> Iterator[CapturedFrame]:
        if s.gone_at is not None and captured_at >= s.gone_at:
            return                # another input's audio: the stream was moved off its source
        s.held.append((index, captured_at, block))
        if s.clock.place(index, n, adc, captured_at) is None:
            return                # the clock settles after a gap: held until it has
        yield from self._release(s)

    def _release(self, s: _Stream) -> Iterator[CapturedFrame]:
        """The stream's held blocks, at their places on the call clock."""
        held, s.held = s.held, []
        for index, captured_at, block in held:
            at = s.clock.at(index)
            if s.next_at is None:
                s.next_at = at
            if at > s.next_at:      # blocks dropped on a full queue, or a gap in the stream: silence
                gap = np.zeros(at - s.next_at, np.float32)
                for ch in s.columns:
                    yield self._taken(CapturedFrame(ch, s.next_at / SAMPLE_RATE, gap, captured_at))
                s.next_at = at
            elif at < s.next_at:    # the device ran fast: what the call clock already has goes
                block = block[s.next_at - at:]
                if not len(block):
                    continue
            t = s.next_at / SAMPLE_RATE
            s.next_at += len(block)
            for ch, col in s.columns.items():
                samples = np.ascontiguousarray(block[:, col])
                yield self._taken(CapturedFrame(ch, t, samples, captured_at))

    def _taken(self, frame: CapturedFrame) -> CapturedFrame:
        self._consumed_s[frame.channel] = frame.start_s + len(frame.samples) / SAMPLE_RATE
        return frame

    def _check_lost(self) -> None:
        """On the consumer: end capture when a stream finished or stalled, or the
        watcher found its PulseAudio source gone. Reads flags and clocks only."""
        now = time.monotonic()
        for s in self._streams:
            if s.finished:
                self._lose(s, "the device stopped (its stream ended)")
                return
            if now - s.last_callback > self.options.stall_s:
                self._lose(s, f"no audio for {now - s.last_callback:.1f} s")
                return
        gone = self._gone
        if gone is not None:
            self._lose(gone, f"PulseAudio source {gone.choice.pulse_source!r} went away")

    def _lose(self, s: _Stream, reason: str) -> None:
        self.lost = DeviceLost(s.choice.name, reason, min(self._consumed_s.values()))
        self.stop()

    # -- measurements ----------------------------------------------------------------
    def stats(self) -> dict:
        """Counters of the capture so far.

        Returns
        -------
        dict
            ``blocks``: blocks delivered by all callbacks; ``dropped_blocks``:
            blocks lost on a full queue; ``status_flags``: callbacks with a
            PortAudio status flag set; ``gap_s``: silence (s) put where a stream
            delivered nothing for a while, all streams; ``behind_s``: how far (s)
            the consumer's slowest channel is behind real time, from the frames
            taken against the call clock (0.02-0.06 s for a consumer that keeps up).
        """
        now_s = (self._stopped_at or time.monotonic()) - self.started_at
        return {
            "blocks": sum(s.blocks for s in self._streams),
            "dropped_blocks": sum(s.dropped for s in self._streams),
            "status_flags": sum(s.status_flags for s in self._streams),
            "gap_s": sum(s.clock.gap_s for s in self._streams if s.clock is not None),
            "behind_s": max(0.0, now_s - min(self._consumed_s.values())) if self._started else 0.0,
        }
