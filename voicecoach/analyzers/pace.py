"""Speaking pace of the agent: syllable rate from the audio, words per minute from words.

The syllable rate is available as soon as the audio is, before any word is
transcribed: syllable nuclei are the prominent, voiced peaks of the smoothed loudness
envelope (after de Jong & Wempe, 2009). Both rates are per second (or minute) of
*talking time*: the agent's speech and the pauses inside a turn (between sentences,
shorter than ``[turns] turn_pause_s``), the time talk time counts. Pausing between
steps is how an agent slows down, so it lowers the pace; longer pauses and the
caller's turns do not dilute it.

The tracker is fed only the agent's speech frames (the engine drops non-speech using
voice activity); a jump in frame time marks a pause, and the loudness envelope is not
smoothed or searched across it. A nucleus is decided once the frames it depends on
have arrived (a fraction of a second later), so counts do not depend on how the
frames were grouped.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional

import numpy as np

from voicecoach.analyzers.turns import TurnOptions
from voicecoach.events import Word

if TYPE_CHECKING:   # the pace zone's readers (summary, report, review) need no signal code
    from voicecoach.analyzers.prosody import ProsodyFrames


@dataclass
class PaceOptions:
    """Settings of the pace tracker.

    Attributes
    ----------
    band_low_syl_s : float
        Lower edge of the comfortable syllable rate (syllables per second of talking).
    band_high_syl_s : float
        Upper edge of the comfortable syllable rate (syllables per second of talking).
    fast_syl_s : float
        Syllable rate above which the pace is "fast" (syllables per second of talking);
        between the band and this it is "brisk" (see :func:`zone`).
    band_low_wpm : float
        Lower edge of the comfortable word rate (words per minute of talking).
    band_high_wpm : float
        Upper edge of the comfortable word rate (words per minute of talking).
    fast_wpm : float
        Word rate above which the pace is "fast" (words per minute of talking);
        between the band and this it is "brisk" (see :func:`zone`).
    window_s : float
        Speaking time the recent rates are taken over (s).
    min_speech_s : float
        No rate is given from less speaking time than this (s).
    timeline_step_s : float
        Call time between points of the timeline (s).
    timeline_window_s : float
        Trailing call time each timeline point is taken over (s).
    smooth_s : float
        Length of the moving average applied to the loudness envelope (s).
    peak_radius_s : float
        A nucleus is the loudest point of the smoothed envelope within +- this (s);
        it bounds the syllable rate at ``1 / peak_radius_s``.
    prominence_window_s : float
        The dips either side of a peak are looked for within this distance (s).
    min_prominence_db : float
        A peak must stand this far above the higher of its two dips (dB).
    min_peak_db : float
        A peak must be at least this loud (dBFS).
    voiced_radius_s : float
        A peak must have a voiced frame within +- this (s).
    """

    band_low_syl_s: float = 3.0
    band_high_syl_s: float = 4.5
    fast_syl_s: float = 5.0
    band_low_wpm: float = 140.0
    band_high_wpm: float = 190.0
    fast_wpm: float = 210.0
    window_s: float = 20.0
    min_speech_s: float = 3.0
    timeline_step_s: float = 5.0
    timeline_window_s: float = 30.0
    smooth_s: float = 0.02
    peak_radius_s: float = 0.05
    prominence_window_s: float = 0.3
    min_prominence_db: float = 1.0
    min_peak_db: float = -55.0
    voiced_radius_s: float = 0.02

    def problem(self) -> str:
        """What is wrong with these settings together; "" if nothing: each scale's
        comfortable band and its fast mark must be in order.

        >>> print(PaceOptions(band_low_wpm=200.0, band_high_wpm=100.0).problem())
        band_low_wpm (200) must be below band_high_wpm (100), and that at most fast_wpm (210)
        """
        for unit in ("wpm", "syl_s"):
            low, high, fast = (getattr(self, f"{name}_{unit}") for name in ("band_low", "band_high", "fast"))
            if not low < high <= fast:
                return (f"band_low_{unit} ({low:g}) must be below band_high_{unit} ({high:g}), "
                        f"and that at most fast_{unit} ({fast:g})")
        if not -150.0 <= self.min_peak_db < 0.0:      # dB full scale: a dropped minus sign makes all audio quiet
            return f"min_peak_db ({self.min_peak_db:g}) is a level in dB full scale: from -150 to below 0"
        return ""


class PaceTracker:
    """Syllable rate and word rate of one speaker, over the whole call and recently.

    Parameters
    ----------
    options : PaceOptions or None
        Settings; defaults when None.
    turn_pause_s : float, optional
        A pause this long (s) or longer ends a turn: talk time leaves it out
        (``turns.turn_pause_s``, whose default it takes).

    Examples
    --------
    >>> pace = PaceTracker()
    >>> pace.feed_frames(speech_frames)            # doctest: +SKIP
    >>> pace.feed_words(words)                     # doctest: +SKIP
    >>> pace.state()["recent_wpm"]                 # doctest: +SKIP
    """

    def __init__(self, options: Optional[PaceOptions] = None, turn_pause_s: Optional[float] = None):
        self.options = options or PaceOptions()
        self.turn_pause_s = TurnOptions().turn_pause_s if turn_pause_s is None else turn_pause_s
        self.hop_s: Optional[float] = None
        self._runs: list[list] = []        # [t_first, t_last, n_frames] of contiguous speech
        self._talk: list[list[float]] = []  # [start, end] (s) of talking: speech and the
                                            # pauses inside a turn (< turn_pause_s)
        self._n_frames = 0
        self._t_decided = -np.inf          # call time up to which nuclei are final
        self._syllables: list[float] = []  # nucleus times (s), increasing
        self._words: list[float] = []      # word mid times (s), sorted
        self._words_end = -np.inf          # latest word end (s)
        # the current run's tail, kept for deciding nuclei
        self._env = np.zeros(0)
        self._voiced = np.zeros(0, dtype=bool)
        self._t = np.zeros(0)
        self._next = 0                     # index in the tail of the first undecided frame

    # -- feeding ----------------------------------------------------------------
    def feed_frames(self, frames: ProsodyFrames) -> None:
        """Add speech frames (call-clock order; gaps in ``t`` are pauses)."""
        if len(frames) == 0:
            return
        if self.hop_s is None:
            self.hop_s = frames.hop_s
            self._set_sizes()
        t = frames.t
        breaks = np.flatnonzero(np.diff(t) > 1.5 * self.hop_s) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(t)]):
            piece = frames[lo:hi]
            if self._runs and piece.t[0] - self._runs[-1][1] <= 1.5 * self.hop_s:
                self._runs[-1][1] = float(piece.t[-1])
                self._runs[-1][2] += len(piece)
            else:
                self._end_run()
                self._runs.append([float(piece.t[0]), float(piece.t[-1]), len(piece)])
            self._n_frames += len(piece)
            start, end = float(piece.t[0]) - 0.5 * self.hop_s, float(piece.t[-1]) + 0.5 * self.hop_s
            if self._talk and start - self._talk[-1][1] < self.turn_pause_s:
                self._talk[-1][1] = end
            else:
                self._talk.append([start, end])
            self._env = np.r_[self._env, piece.rms_db]
            self._voiced = np.r_[self._voiced, piece.voiced]
            self._t = np.r_[self._t, piece.t]
            self._decide(final=False)

    def feed_words(self, words: Iterable[Word]) -> None:
        """Add transcribed words; only words with a letter or digit count."""
        for word in words:
            if any(ch.isalnum() for ch in word.text):
                bisect.insort(self._words, 0.5 * (word.start + word.end))
                self._words_end = max(self._words_end, word.end)

    def flush(self) -> None:
        """Decide the nuclei of the frames still pending (end of the call)."""
        self._end_run()

    # -- queries ----------------------------------------------------------------
    @property
    def speaking_s(self) -> float:
        """Talking time so far (s): the speech fed, and the pauses inside a turn
        (shorter than ``turn_pause_s``) between it, as talk time counts them."""
        return sum(e - s for s, e in self._talk)

    @property
    def syllable_times(self) -> list[float]:
        """Call-clock times of the syllable nuclei found so far (s)."""
        return list(self._syllables)

    def state(self) -> dict:
        """Current pace.

        Returns
        -------
        dict
            ``syllables_per_s`` and ``wpm`` over the whole call, ``recent_syl_s`` and
            ``recent_wpm`` over the last ``window_s`` of talking (None while there is
            less than ``min_speech_s`` of it), ``speaking_s`` (s), and ``zone``:
            "slow" | "comfortable" | "brisk" | "fast" | None (:func:`zone`) of the recent
            word rate when there are words, else of the recent syllable rate.
        """
        o = self.options
        decided_s = self._speech_between(-np.inf, self._t_decided)   # talking time, as for words
        syl = len(self._syllables) / decided_s if decided_s >= o.min_speech_s else None
        wpm = 60.0 * len(self._words) / self.speaking_s \
            if self._words and self.speaking_s >= o.min_speech_s else None
        recent_syl = self._recent_rate(self._syllables, self._t_decided)
        recent_wpm = self._recent_rate(self._words, self._words_end)
        recent_wpm = None if recent_wpm is None else 60.0 * recent_wpm
        return {"syllables_per_s": _round(syl, 2), "wpm": _round(wpm, 1),
                "recent_syl_s": _round(recent_syl, 2), "recent_wpm": _round(recent_wpm, 1),
                "speaking_s": round(self.speaking_s, 2),
                "zone": zone(recent_wpm, o) if recent_wpm is not None
                else zone(recent_syl, o, "syllables_per_s")}

    def timeline(self, metric: str = "wpm") -> list[list[float]]:
        """Rate over time: ``[[t, value], ...]`` every ``timeline_step_s`` of call time.

        Parameters
        ----------
        metric : {"wpm", "syllables_per_s"}
            Words per minute of speech, or syllables per second of speech.

        Returns
        -------
        list of [float, float]
            Call time (s) and the rate over the trailing ``timeline_window_s``; points
            with less than ``min_speech_s`` of speech in their window are left out.
        """
        o = self.options
        if metric == "wpm":
            times, scale, end = self._words, 60.0, max(self._words_end, self._t_decided)
        elif metric == "syllables_per_s":
            times, scale, end = self._syllables, 1.0, self._t_decided
        else:
            raise ValueError(f"metric must be 'wpm' or 'syllables_per_s', not {metric!r}")
        points = []
        if not np.isfinite(end):
            return points
        for k in range(1, int(end // o.timeline_step_s) + 1):
            t_end = k * o.timeline_step_s
            t_start = t_end - o.timeline_window_s
            speech = self._speech_between(t_start, t_end)
            if speech >= o.min_speech_s:
                count = bisect.bisect_right(times, t_end) - bisect.bisect_right(times, t_start)
                points.append([round(t_end, 3), round(scale * count / speech, 2)])
        return points

    # -- internals --------------------------------------------------------------
    def _set_sizes(self) -> None:
        o, hop = self.options, self.hop_s
        self._smooth_n = max(0, int(round(o.smooth_s / hop / 2)))
        self._radius_n = max(1, int(round(o.peak_radius_s / hop)))
        self._prom_n = max(1, int(round(o.prominence_window_s / hop)))
        self._voiced_n = max(0, int(round(o.voiced_radius_s / hop)))
        # frames either side a decision depends on
        self._reach = self._smooth_n + max(self._radius_n, self._prom_n, self._voiced_n)

    def _end_run(self) -> None:
        if self._t.size:
            self._decide(final=True)
        self._env = np.zeros(0)
        self._voiced = np.zeros(0, dtype=bool)
        self._t = np.zeros(0)
        self._next = 0

    def _decide(self, final: bool) -> None:
        """Decide the nuclei of the pending frames whose context is complete."""
        n = self._env.size
        stop = n if final else n - self._reach
        if stop <= self._next:
            return
        env = _moving_average(self._env, self._smooth_n)
        # outside the run the envelope does not exist; outside the kept tail it is
        # never needed, because the tail keeps `reach` frames before `_next`
        lo, hi = self._next, stop
        idx = np.arange(lo, hi)
        pad = max(self._radius_n, self._prom_n, self._voiced_n)
        padded = np.r_[np.full(pad, np.nan), env, np.full(pad, np.nan)]
        win = np.lib.stride_tricks.sliding_window_view
        centre = env[lo:hi]
        left_r = win(padded, self._radius_n)[idx + pad - self._radius_n]
        right_r = win(padded, self._radius_n)[idx + pad + 1]
        is_peak = (centre > _nanmax(left_r)) & (centre >= _nanmax(right_r))
        left_p = win(padded, self._prom_n)[idx + pad - self._prom_n]
        right_p = win(padded, self._prom_n)[idx + pad + 1]
        dip = np.fmax(_nanmin(left_p, centre), _nanmin(right_p, centre))
        prominent = centre - dip >= self.options.min_prominence_db
        vpad = np.r_[np.zeros(pad, bool), self._voiced, np.zeros(pad, bool)]
        near_voiced = win(vpad, 2 * self._voiced_n + 1)[idx + pad - self._voiced_n].any(axis=1)
        nuclei = is_peak & prominent & near_voiced & (centre >= self.options.min_peak_db)
        self._syllables.extend(float(x) for x in self._t[lo:hi][nuclei])
        self._t_decided = float(self._t[hi - 1])
        self._next = hi
        drop = max(0, self._next - self._reach - self._smooth_n)
        if drop:
            self._env = self._env[drop:]
            self._voiced = self._voiced[drop:]
            self._t = self._t[drop:]
            self._next -= drop

    def _speech_between(self, t_start: float, t_end: float) -> float:
        """Talking time inside ``(t_start, t_end]`` (s)."""
        total = 0.0
        for first, last in reversed(self._talk):
            if last <= t_start:
                break
            total += max(0.0, min(last, t_end) - max(first, t_start))
        return total

    def _start_for_speech(self, t_end: float, amount_s: float) -> float:
        """Call time from which ``amount_s`` of talking ends at ``t_end`` (s)."""
        need = amount_s
        for first, last in reversed(self._talk):
            if first >= t_end:
                continue
            usable = min(last, t_end) - first
            if usable >= need:
                return min(last, t_end) - need
            need -= usable
        return -np.inf

    def _recent_rate(self, times: list[float], t_end: float) -> Optional[float]:
        """Events per second of speech over the last ``window_s`` of speech to ``t_end``."""
        if not np.isfinite(t_end) or not self._talk:
            return None
        t_start = self._start_for_speech(t_end, self.options.window_s)
        speech = self._speech_between(t_start, t_end)
        if speech < self.options.min_speech_s:
            return None
        count = bisect.bisect_right(times, t_end) - bisect.bisect_right(times, t_start)
        return count / speech



def zone(value: Optional[float], options: PaceOptions, metric: str = "wpm") -> Optional[str]:
    """The pace zone of a rate: the one rule the tracker (and so the coach's "slow down"
    and the overlay), the summary, the report and the review share.

    Parameters
    ----------
    value : float or None
        A rate in the unit of ``metric``.
    options : PaceOptions
        The comfortable band and the fast threshold.
    metric : {"wpm", "syllables_per_s"}
        Words per minute of speech, or syllables per second of speech.

    Returns
    -------
    str or None
        ``"slow"`` under the comfortable band, ``"comfortable"`` in it (edges
        included), ``"brisk"`` above it up to the fast threshold (no nudge), ``"fast"``
        above that; None when ``value`` is None.

    Examples
    --------
    >>> [zone(v, PaceOptions()) for v in (120, 190, 200, 210, 211)]
    ['slow', 'comfortable', 'brisk', 'brisk', 'fast']
    """
    if value is None:
        return None
    o = options
    if metric == "wpm":
        low, high, fast = o.band_low_wpm, o.band_high_wpm, o.fast_wpm
    elif metric == "syllables_per_s":
        low, high, fast = o.band_low_syl_s, o.band_high_syl_s, o.fast_syl_s
    else:
        raise ValueError(f"metric must be 'wpm' or 'syllables_per_s', not {metric!r}")
    if value < low:
        return "slow"
    if value <= high:
        return "comfortable"
    return "brisk" if value <= fast else "fast"


def _moving_average(x: np.ndarray, half: int) -> np.ndarray:
    """Centred moving average of ``2 * half + 1`` points, shortened at the ends."""
    if half == 0 or x.size == 0:
        return x.astype(float)
    c = np.r_[0.0, np.cumsum(x)]
    i = np.arange(x.size)
    lo = np.maximum(i - half, 0)
    hi = np.minimum(i + half + 1, x.size)
    return (c[hi] - c[lo]) / (hi - lo)


def _nanmax(a: np.ndarray) -> np.ndarray:
    """Row maximum ignoring NaN; -inf for an all-NaN row."""
    return np.max(np.where(np.isnan(a), -np.inf, a), axis=1)


def _nanmin(a: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Row minimum ignoring NaN; ``fallback`` for an all-NaN row."""
    m = np.min(np.where(np.isnan(a), np.inf, a), axis=1)
    return np.where(np.isfinite(m), m, fallback)


def _round(value: Optional[float], digits: int) -> Optional[float]:
    return None if value is None else round(float(value), digits)
