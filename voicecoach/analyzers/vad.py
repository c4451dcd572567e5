"""Voice activity per channel with the Silero VAD model that faster-whisper ships.

The model runs through onnxruntime (no torch) on 32 ms windows and carries its
recurrent state from one block to the next, so a channel can be fed 20 ms live
blocks or 30 s file blocks and gets the same answer.

Silero hears speech at any level: a colleague two desks away in the agent's
headset mic, or what is left of the agent's echo in the call audio, is speech to
it. A headset mic holds its wearer loud and everything else quieter, so a window
counts as speech only when it is also within ``level_gate_db`` of the channel's own
running speech level (its loud end, followed quickly up and slowly down, and
only by windows that pass). The level is relative, so a quiet mic or a soft voice
is heard in full.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from voicecoach.events import SAMPLE_RATE

WINDOW_SAMPLES = 512            # the model's window at 16 kHz
CONTEXT_SAMPLES = 64            # samples of the previous window the model also sees
WINDOW_S = WINDOW_SAMPLES / SAMPLE_RATE
LEVEL_HOLD = 5                  # windows (160 ms) over which the level gate takes the loudest


@dataclass
class VadOptions:
    """Voice activity settings.

    Attributes
    ----------
    threshold : float
        Speech probability at or above which speech starts.
    neg_threshold : float
        Probability below which a window counts as silence (hysteresis).
    min_silence_s : float
        Silence (s) that ends a speech segment; shorter pauses stay inside it.
    min_speech_s : float
        Segments shorter than this (s) are clicks or breaths and are dropped
        from :attr:`VoiceActivity.segments` (turn-taking); speech-to-text still
        gets them (:attr:`VoiceActivity.transcript_segments`).
    speech_pad_s : float
        Padding (s) added to each end of a segment, as Silero's own
        ``speech_pad_ms`` does, so word edges are not clipped.
    level_gate_db : float
        A window more than this far (dB) below the channel's running speech
        level is not speech, whatever the model says: another voice further from
        the mic, or echo residue. 0 turns the gate off.
    floor_dbfs : float
        A window quieter than this (dB full scale) is never speech.
    tail_db : float
        Inside a segment, a window more than this far (dB) below the segment's
        loudest window does not keep it going: in a noisy room the model's
        hangover would otherwise stretch a short "mm-hm" past the backchannel
        limit. 0 turns it off.
    noise_margin_db : float
        Inside a segment, a window less than this far (dB) above the channel's
        noise floor does not keep it going either: with a quiet mic or a fan the
        speech is only 15-20 dB above the room, so ``tail_db`` alone lets the
        model's hangover on the room's noise stretch a segment. 0 turns it off.
    noise_window_s : float
        The noise floor is the 5th percentile of the window levels over this
        many seconds (s): in a call each side is silent much of the time.
    level_rise_s : float
        Time constant (s of speech) with which the running speech level follows
        louder speech.
    level_fall_s : float
        Time constant (s of speech) with which the running speech level follows
        quieter speech.
    """

    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_silence_s: float = 0.2
    min_speech_s: float = 0.12
    speech_pad_s: float = 0.03
    level_gate_db: float = 20.0
    floor_dbfs: float = -70.0
    tail_db: float = 30.0
    noise_margin_db: float = 6.0
    noise_window_s: float = 10.0
    level_rise_s: float = 0.5
    level_fall_s: float = 3.0

    def problem(self) -> str:
        """What is wrong with these settings together; "" if nothing."""
        if self.neg_threshold > self.threshold:
            return (f"neg_threshold ({self.neg_threshold:g}) must not be above threshold "
                    f"({self.threshold:g}): speech would end before it starts")
        if not -150.0 <= self.floor_dbfs < 0.0:      # dB full scale: a dropped minus sign makes all audio quiet
            return f"floor_dbfs ({self.floor_dbfs:g}) is a level in dB full scale: from -150 to below 0"
        return ""


@dataclass
class Segment:
    """One stretch of speech on a channel, call-clock seconds."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


class SileroVad:
    """The Silero VAD v6 ONNX model with its state carried across calls.

    ``model(windows)`` takes float32 windows of shape ``(n, 512)`` in time order
    and returns speech probabilities of shape ``(n,)``.

    The model's state is each instance's own; the onnxruntime session (read from disk,
    about 5 ms) is loaded once per process and shared, so that a shift's next call
    starts its voice activity on the engine thread without touching the disk.
    """

    _sessions: dict = {}
    _lock = threading.Lock()

    def __init__(self, path: Optional[str] = None):
        if path is None:
            from faster_whisper.utils import get_assets_path

            path = os.path.join(get_assets_path(), "silero_vad_v6.onnx")
        self._session = self._shared_session(path)
        self.reset()

    @classmethod
    def _shared_session(cls, path: str):
        import onnxruntime  # voicecoach/__init__ has switched its telemetry off

        with cls._lock:
            if path not in cls._sessions:
                opts = onnxruntime.SessionOptions()
                opts.inter_op_num_threads = 1
                opts.intra_op_num_threads = 1
                opts.log_severity_level = 4
                cls._sessions[path] = onnxruntime.InferenceSession(
                    path, providers=["CPUExecutionProvider"], sess_options=opts)
            return cls._sessions[path]

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, np.float32)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        if len(windows) == 0:
            return np.zeros(0, np.float32)
        context = np.vstack([self._context[None], windows[:-1, -CONTEXT_SAMPLES:]])
        batch = np.ascontiguousarray(np.hstack([context, windows]), dtype=np.float32)
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c})
        self._context = windows[-1, -CONTEXT_SAMPLES:].copy()
        return np.asarray(probs, np.float32).reshape(-1)


class VoiceActivity:
    """Incremental voice activity for one channel.

    Feed blocks of any length with :meth:`feed`; it returns the speech segments
    that closed in that block (:attr:`segments`, for turn-taking).
    :attr:`transcript_segments` also holds the closed segments shorter than
    ``min_speech_s``: on a band-limited phone line the model's probability dips
    inside words, and the short burst it leaves is often a word that speech-to-text
    would lose, though too short to be a turn. Onsets are known at once
    (:attr:`speaking`, :attr:`current_start`); an end is known ``min_silence_s``
    after the last speech window. :attr:`last_voice_t` is the end of the newest speech window,
    for analyzers that need finer detail than segments. Nothing grows with the
    length of the call but the list of closed segments.

    Examples
    --------
    >>> va = VoiceActivity()
    >>> segments = va.feed(np.zeros(16000, np.float32)) + va.flush()
    >>> segments
    []
    """

    def __init__(self, options: Optional[VadOptions] = None, model: Optional[SileroVad] = None):
        self.options = options or VadOptions()
        self.model = model or SileroVad()
        self._pending = np.zeros(0, np.float32)
        self.n_windows = 0                      # windows processed so far
        self.segments: list[Segment] = []       # closed segments
        self.transcript_segments: list[Segment] = []   # closed segments, short ones too
        self.current_start: Optional[float] = None  # onset of the open segment
        self.last_voice_t: float = -np.inf      # end of the newest speech window
        self.speech_level_db: float = -np.inf   # running level of this channel's speech
        self._recent_levels = np.full(LEVEL_HOLD - 1, -np.inf)
        self._silent_windows = 0
        self._segment_peak_db = -np.inf        # loudest window of the open segment
        n_noise = max(1, round(self.options.noise_window_s / WINDOW_S))
        self._noise_levels = np.full(n_noise, np.nan)   # ring of recent window levels (dB)
        self.noise_floor_db: float = -np.inf    # 5th percentile of the ring

    @property
    def time(self) -> float:
        """Call-clock time (s) up to which this channel has been analysed."""
        return self.n_windows * WINDOW_S

    @property
    def speaking(self) -> bool:
        return self.current_start is not None

    def feed(self, samples: np.ndarray) -> list[Segment]:
        """Add the next block of 16 kHz float32 samples; return segments that closed."""
        audio = np.concatenate([self._pending, np.asarray(samples, np.float32).reshape(-1)])
        n = len(audio) // WINDOW_SAMPLES
        self._pending = audio[n * WINDOW_SAMPLES:]
        if n == 0:
            return []
        windows = audio[: n * WINDOW_SAMPLES].reshape(n, WINDOW_SAMPLES)
        levels = 10 * np.log10(np.mean(np.square(windows, dtype=np.float64), axis=1) + 1e-12)
        return self._update(self._gate(self.model(windows), levels), levels)

    def step_probs(self, probs: np.ndarray) -> list[Segment]:
        """Advance on precomputed window probabilities (for tests and replays)."""
        return self._update(np.asarray(probs, np.float32))

    def flush(self) -> list[Segment]:
        """End of audio: close an open segment."""
        if self.current_start is None:
            return []
        return self._close()

    def _gate(self, probs: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """Zero the probability of windows too quiet for this channel's speaker."""
        o = self.options
        if o.level_gate_db <= 0:
            return probs
        # a syllable's level, not a window's: the loudest of the last HOLD windows, so
        # the soft end of a word is judged with its vowel
        recent = np.concatenate([self._recent_levels, levels])
        self._recent_levels = recent[-(LEVEL_HOLD - 1):]
        levels = recent[LEVEL_HOLD - 1:].copy()     # the running max, a few ufunc calls
        for k in range(1, LEVEL_HOLD):              # (live feeds one window at a time)
            np.maximum(levels, recent[LEVEL_HOLD - 1 - k:len(recent) - k], out=levels)
        rise, fall = min(1.0, WINDOW_S / o.level_rise_s), min(1.0, WINDOW_S / o.level_fall_s)
        probs = probs.copy()
        for i, (p, level) in enumerate(zip(probs, levels)):   # one comparison per 32 ms window
            if level < o.floor_dbfs or level < self.speech_level_db - o.level_gate_db:
                probs[i] = 0.0
            elif p >= o.threshold:
                ref = self.speech_level_db
                self.speech_level_db = (level if ref == -np.inf else
                                        ref + (rise if level > ref else fall) * (level - ref))
        return probs

    def _update(self, probs: np.ndarray, levels: Optional[np.ndarray] = None) -> list[Segment]:
        o = self.options
        min_silence = max(1, round(o.min_silence_s / WINDOW_S))
        closed = []
        if levels is None or o.tail_db <= 0:
            levels = np.full(len(probs), np.inf)
        track_noise = o.noise_margin_db > 0 and np.isfinite(levels).any()
        for p, level in zip(probs, levels):  # one comparison per 32 ms window: cheap
            t0 = self.n_windows * WINDOW_S
            if track_noise:
                self._noise_levels[self.n_windows % len(self._noise_levels)] = level
                if self.n_windows % 8 == 0:   # every quarter second is often enough
                    self.noise_floor_db = _nanpercentile(self._noise_levels, 5)
            self.n_windows += 1
            if self.current_start is None:
                if p >= o.threshold:
                    self.current_start = max(0.0, t0 - o.speech_pad_s)
                    self.last_voice_t = t0 + WINDOW_S
                    self._silent_windows = 0
                    self._segment_peak_db = level
                continue
            self._segment_peak_db = max(self._segment_peak_db, level)
            if p >= o.neg_threshold and level >= self._segment_peak_db - o.tail_db \
                    and level >= self.noise_floor_db + o.noise_margin_db:
                self.last_voice_t = t0 + WINDOW_S
                self._silent_windows = 0
            else:
                self._silent_windows += 1
                if self._silent_windows >= min_silence:
                    closed += self._close()
        return closed

    def forget(self, keep: int) -> None:
        """Keep only the latest ``keep`` closed segments (a shift-long listener)."""
        del self.segments[:-keep]
        del self.transcript_segments[:-keep]

    def _close(self) -> list[Segment]:
        o = self.options
        start, end = self.current_start, min(self.last_voice_t + o.speech_pad_s, self.time)
        self.current_start = None
        self._silent_windows = 0
        _append_after(self.transcript_segments, start, end)
        if end - start < o.min_speech_s + o.speech_pad_s:
            return []
        seg = _append_after(self.segments, start, end)
        return [seg] if seg is not None else []


def _append_after(segments: list[Segment], start: float, end: float) -> Optional[Segment]:
    """Append the segment ``start``-``end`` (s), starting no earlier than the last one
    ends (the padding of two segments may overlap); return it, or None if nothing is left."""
    if segments:
        start = max(start, segments[-1].end)
    if end <= start:
        return None
    segments.append(Segment(start, end))
    return segments[-1]


def _nanpercentile(values: np.ndarray, q: float) -> float:
    """``np.nanpercentile(values, q)`` (linear), the same value 15x faster on the VAD's
    ring of a few hundred levels: numpy's general version costs 0.1 ms a call."""
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return float("nan")
    x = q / 100 * (len(values) - 1)
    lo = int(x)
    hi, t = min(lo + 1, len(values) - 1), x - lo
    part = np.partition(values, [lo, hi])
    a, b = part[lo], part[hi]
    return float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t)   # numpy's own lerp
