"""A speaker's voice in numbers, against their own ordinary voice.

:func:`voice_stats` summarises the voiced frames of a stretch of speech as
:class:`VoiceStats` (pitch level and movement, formants, brightness, tilt, loudness,
voicing). A :class:`Baseline` is one speaker's ordinary voice: the mean and spread of
those statistics over windows of speech, from a stored voice profile or from the
speaker's own start of the call; :func:`relative_features` and :meth:`Baseline.z`
compare a window with it. :class:`SustainedCondition` times a condition over
speaking time, with a cooldown, for the cues built on these numbers.

Shared by the warmth meter (:mod:`voicecoach.analyzers.warmth`), caller arousal
(:mod:`voicecoach.analyzers.arousal`) and voice profiles
(:mod:`voicecoach.analyzers.profile`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional, Sequence

import numpy as np

from voicecoach.analyzers.prosody import ProsodyFrames

FEATURES = ("f0_st", "f0_move_st", "f1_hz", "f2_hz", "f3_hz", "centroid_hz", "tilt_db",
            "energy_db", "voicing", "centroid_move_st", "tilt_move_db", "energy_move_db",
            "aperiodicity")
"""Names of the :class:`VoiceStats` features a :class:`Baseline` holds."""

MIN_SPREAD = {"f0_st": 0.5, "f0_move_st": 0.25, "f1_hz": 20.0, "f2_hz": 40.0, "f3_hz": 50.0,
              "centroid_hz": 40.0, "tilt_db": 1.0, "energy_db": 1.5, "voicing": 0.03,
              "centroid_move_st": 0.2, "tilt_move_db": 0.3, "energy_move_db": 0.5,
              "aperiodicity": 0.01}
"""Smallest spread a baseline uses per feature, so that a very steady calibration does
not turn small changes into huge z-scores (feature units)."""

RATIO_FEATURES = ("f1_hz", "f2_hz", "f3_hz", "centroid_hz")
"""Features compared with the baseline as a frequency ratio, in semitones
(``12 log2(x / baseline)``); the others are compared as plain differences."""

_IQR_TO_STD = 1.349  # interquartile range of a normal distribution, in standard deviations



def semitones(f0_hz: np.ndarray) -> np.ndarray:
    """F0 in semitones re 100 Hz: ``12 * log2(f0_hz / 100)`` (NaN stays NaN)."""
    return 12.0 * np.log2(np.asarray(f0_hz, dtype=float) / 100.0)


@dataclass(frozen=True)
class VoiceStats:
    """Summary of the voiced frames of a stretch of speech.

    Attributes
    ----------
    f0_st : float
        Median F0 in semitones re 100 Hz.
    f0_move_st : float
        Pitch movement: interquartile range of F0 in semitones divided by 1.349 (a
        robust standard deviation; about 2-3 for lively speech, under 1 for a
        monotone).
    f1_hz, f2_hz, f3_hz : float
        Median formants (Hz); NaN if too few frames had them.
    centroid_hz : float
        Median spectral centroid of the voiced frames (Hz).
    tilt_db : float
        Median alpha ratio of the voiced frames (dB).
    energy_db : float
        Median RMS level of the voiced frames (dBFS).
    voiced_s : float
        Voiced time summarised (s).
    t : float
        Call-clock time of the last frame (s).
    voicing : float
        Fraction of all the frames given (speech frames) that are voiced (0..1).
    centroid_move_st : float
        Robust spread (IQR / 1.349) of the voiced frames' spectral centroid, in
        semitones: how much the brightness moves.
    tilt_move_db : float
        Robust spread of the voiced frames' alpha ratio (dB).
    energy_move_db : float
        Robust spread of the voiced frames' RMS level (dB): loudness movement, which
        does not depend on the microphone's gain.
    aperiodicity : float
        Median YIN aperiodicity of the voiced frames (0 = periodic; higher = rougher
        or breathier).
    """

    f0_st: float
    f0_move_st: float
    f1_hz: float
    f2_hz: float
    f3_hz: float
    centroid_hz: float
    tilt_db: float
    energy_db: float
    voiced_s: float
    t: float
    voicing: float = float("nan")
    centroid_move_st: float = float("nan")
    tilt_move_db: float = float("nan")
    energy_move_db: float = float("nan")
    aperiodicity: float = float("nan")

    def as_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else round(v, 3))
                for k, v in asdict(self).items()}


def voice_stats(frames: ProsodyFrames, min_voiced_s: float = 1.0) -> Optional[VoiceStats]:
    """Summarise the voiced frames of ``frames``.

    Parameters
    ----------
    frames : ProsodyFrames
        Frames of one speaker (typically speech frames only).
    min_voiced_s : float
        Least voiced time to summarise (s).

    Returns
    -------
    VoiceStats or None
        None when there is not enough voiced speech.
    """
    is_voiced = frames.voiced & np.isfinite(frames.f0_hz)
    voiced = frames.select(is_voiced)
    voiced_s = len(voiced) * frames.hop_s
    if len(voiced) == 0 or voiced_s < min_voiced_s:
        return None
    st = semitones(voiced.f0_hz)
    q25, q50, q75 = np.percentile(st, [25, 50, 75])

    def median(values: np.ndarray, min_fraction: float = 0.0) -> float:
        ok = values[np.isfinite(values)]
        if ok.size == 0 or ok.size < min_fraction * len(voiced):
            return float("nan")
        return float(np.median(ok))

    def spread(values: np.ndarray) -> float:
        ok = values[np.isfinite(values)]
        if ok.size < 2:
            return float("nan")
        lo, hi = np.percentile(ok, [25, 75])
        return float((hi - lo) / _IQR_TO_STD)

    with np.errstate(divide="ignore", invalid="ignore"):
        centroid_st = semitones(voiced.centroid_hz)
    return VoiceStats(f0_st=float(q50), f0_move_st=float((q75 - q25) / _IQR_TO_STD),
                      f1_hz=median(voiced.f1_hz, 0.25), f2_hz=median(voiced.f2_hz, 0.25),
                      f3_hz=median(voiced.f3_hz, 0.25), centroid_hz=median(voiced.centroid_hz),
                      tilt_db=median(voiced.tilt_db), energy_db=median(voiced.rms_db),
                      voiced_s=float(voiced_s), t=float(frames.t[-1]),
                      voicing=float(is_voiced.mean()), centroid_move_st=spread(centroid_st),
                      tilt_move_db=spread(voiced.tilt_db), energy_move_db=spread(voiced.rms_db),
                      aperiodicity=median(voiced.aperiodicity))


@dataclass
class Baseline:
    """Per-feature mean and spread of one speaker's ordinary voice.

    Attributes
    ----------
    mean : dict[str, float]
        Feature name (see ``FEATURES``) to mean, in the feature's unit.
    spread : dict[str, float]
        Feature name to spread (standard deviation across windows, at least
        ``MIN_SPREAD``), in the feature's unit.
    source : str
        "profile" (the agent's stored voice profile) or "call" (this call's speech).
    n_windows : int
        Number of windows it was made from.
    """

    mean: dict[str, float]
    spread: dict[str, float]
    source: str = "call"
    n_windows: int = 0

    @classmethod
    def from_stats(cls, stats: Sequence[VoiceStats], source: str = "call") -> "Baseline":
        """Baseline from the stats of several windows of ordinary speech."""
        if not stats:
            raise ValueError("a baseline needs at least one window of speech")
        mean, spread = {}, {}
        for name in FEATURES:
            values = np.array([getattr(s, name) for s in stats], dtype=float)
            values = values[np.isfinite(values)]
            mean[name] = float(values.mean()) if values.size else float("nan")
            sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
            spread[name] = max(sd, MIN_SPREAD[name])
        return cls(mean=mean, spread=spread, source=source, n_windows=len(stats))

    def updated(self, stats: VoiceStats, weight: float) -> "Baseline":
        """Baseline moved towards ``stats`` by ``weight`` (exponential forgetting)."""
        mean, spread = dict(self.mean), dict(self.spread)
        for name in FEATURES:
            x = getattr(stats, name)
            if not math.isfinite(x):
                continue
            m = mean.get(name, float("nan"))
            if not math.isfinite(m):
                mean[name] = x
                continue
            d = x - m
            mean[name] = m + weight * d
            var = (1 - weight) * (spread[name] ** 2 + weight * d * d)
            spread[name] = max(math.sqrt(var), MIN_SPREAD[name])
        return Baseline(mean=mean, spread=spread, source=self.source,
                        n_windows=self.n_windows + 1)

    def z(self, stats: VoiceStats) -> dict[str, float]:
        """z-score of each feature of ``stats`` (NaN where either side is missing)."""
        out = {}
        for name in FEATURES:
            x, m = getattr(stats, name), self.mean.get(name, float("nan"))
            s = max(self.spread.get(name, 0.0), MIN_SPREAD[name])
            out[name] = (x - m) / s if math.isfinite(x) and math.isfinite(m) else float("nan")
        return out

    def as_dict(self) -> dict:
        """JSON-ready form: ``{"source", "n_windows", "features": {name: {"mean", "spread"}}}``."""
        return {"source": self.source, "n_windows": self.n_windows,
                "features": {name: {"mean": _json_float(self.mean.get(name)),
                                    "spread": _json_float(self.spread.get(name))}
                             for name in FEATURES}}

    @classmethod
    def from_dict(cls, data: dict) -> "Baseline":
        """Inverse of :meth:`as_dict`; missing features are NaN (ignored when scoring).

        Raises
        ------
        ValueError
            ``data`` holds no statistics of a feature this version reads (not a profile,
            or one whose features were named otherwise: every clip would read as 0.5),
            or a window count that is not a count.
        """
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, dict) or not any(
                isinstance(features.get(name), dict) and math.isfinite(_float_or_nan(features[name].get("mean")))
                for name in FEATURES):
            raise ValueError("no voice feature statistics in it")
        mean, spread = {}, {}
        for name in FEATURES:
            entry = features.get(name)
            entry = entry if isinstance(entry, dict) else {}
            mean[name] = _float_or_nan(entry.get("mean"))
            s = _float_or_nan(entry.get("spread"))
            spread[name] = max(s, MIN_SPREAD[name]) if math.isfinite(s) else MIN_SPREAD[name]
        n = _float_or_nan(data.get("n_windows", 0))
        if not (math.isfinite(n) and 0 <= n <= 1e9):
            raise ValueError(f"n_windows is not a count of windows ({data.get('n_windows')!r})")
        return cls(mean=mean, spread=spread, source=str(data.get("source", "profile")), n_windows=int(n))


def relative_features(stats: VoiceStats, baseline: Baseline) -> dict[str, float]:
    """Each feature of ``stats`` against the baseline's mean, in a unit that means the
    same for every speaker.

    Frequencies of :data:`RATIO_FEATURES` become ratios in semitones
    (``12 log2(x / mean)``; F0 is already in semitones); the others become plain
    differences in their own unit (dB, semitones, fraction).

    Parameters
    ----------
    stats : VoiceStats
        One window of speech.
    baseline : Baseline
        The same speaker's ordinary voice.

    Returns
    -------
    dict[str, float]
        Feature name (see ``FEATURES``) to its difference from the baseline; NaN where
        either side is missing.
    """
    out = {}
    for name in FEATURES:
        x, m = getattr(stats, name), baseline.mean.get(name, float("nan"))
        if not (math.isfinite(x) and math.isfinite(m)):
            out[name] = float("nan")
        elif name in RATIO_FEATURES:
            out[name] = 12.0 * math.log2(x / m) if x > 0 and m > 0 else float("nan")
        else:
            out[name] = x - m
    return out


class SustainedCondition:
    """Fires when a condition has held for a stretch of speaking time, with cooldown.

    Parameters
    ----------
    for_s : float
        Speaking time the condition must hold without a break (s).
    cooldown_s : float
        Least call time between two firings (s).
    """

    def __init__(self, for_s: float, cooldown_s: float):
        self.for_s = for_s
        self.cooldown_s = cooldown_s
        self.held_s = 0.0
        self._last_fired = -math.inf

    def update(self, t: float, condition: bool, dt_s: float) -> bool:
        """Record ``dt_s`` seconds of speech ending at call time ``t``; True = fire now."""
        self.held_s = self.held_s + dt_s if condition else 0.0
        if self.held_s >= self.for_s - 1e-9 and t - self._last_fired >= self.cooldown_s:
            self._last_fired = t
            self.held_s = 0.0
            return True
        return False


def _json_float(value: Optional[float]) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else float(value)


def _float_or_nan(value) -> float:
    """A number from a profile file; NaN for anything that is not one (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)
