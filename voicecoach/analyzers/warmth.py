"""Warmth of the agent's voice against the agent's own baseline, and its two cues.

A smile shortens the vocal tract and raises the formants (F2 and F3 most) and often
F0; warm, engaged speech has livelier pitch movement and a brighter spectrum than a
flat, tired voice (COACHING.md section 1). Every few seconds of speech the tracker
summarises the trailing window of voiced frames as :class:`VoiceStats` and asks a
:class:`WarmthModel` for a score in [0, 1] against a :class:`Baseline` of the same
speaker; 0.5 is the speaker's ordinary voice.

The model is a seam. :class:`TrainedWarmth` is the default: a small logistic model
over the window's features relative to the baseline, whose parameters
(``models/warmth/model.json``, with its card) were learned from real actors by
``tools/train_warmth.py``. :class:`HeuristicWarmth` (hand-set weights) is the fallback
when that file is missing; ``state()`` and ``summary()`` name the model in use.
The baseline comes from the agent's stored voice profile (``source="profile"``) or,
without one, from the agent's first stretch of speech in the call, then follows the
voice slowly (``source="call"``).

Cues: ``low_warmth`` when the score stays under a threshold, ``monotone`` when the
pitch movement stays flat (against the profile's movement when there is a profile);
both measured in the agent's speaking time, each at most once per cooldown.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Optional, Protocol, Sequence

import numpy as np

from voicecoach.analyzers.prosody import ProsodyFrames, SpeechWindow
from voicecoach.events import AGENT, Event

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

MODEL_FILE = "model.json"
"""Name of the trained model's parameter file in ``voicecoach.models/warmth``."""

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
            ``data`` holds no feature statistics at all (not a profile).
        """
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, dict) or not any(
                isinstance(v, dict) and v.get("mean") is not None for v in features.values()):
            raise ValueError("no voice feature statistics in it")
        mean, spread = {}, {}
        for name in FEATURES:
            entry = features.get(name) or {}
            mean[name] = _float_or_nan(entry.get("mean"))
            s = _float_or_nan(entry.get("spread"))
            spread[name] = max(s, MIN_SPREAD[name]) if math.isfinite(s) else MIN_SPREAD[name]
        return cls(mean=mean, spread=spread, source=str(data.get("source", "profile")),
                   n_windows=int(data.get("n_windows", 0)))


class WarmthModel(Protocol):
    """Anything that scores warmth (:class:`TrainedWarmth`, :class:`HeuristicWarmth`)."""

    name: str

    def score(self, stats: VoiceStats, baseline: Baseline) -> float:
        """Warmth of ``stats`` against ``baseline``, in [0, 1]; 0.5 = ordinary voice."""
        ...


@dataclass
class HeuristicWarmth:
    """Warmth as a logistic of the weighted mean z-score of warmth-related features.

    Attributes
    ----------
    weights : dict[str, float]
        Feature name to weight; features missing in the stats or the baseline are
        left out of the mean.
    gain : float
        Slope of the logistic per unit of weighted mean z-score.
    z_clip : float
        Each z-score is clipped to +- this first, so one odd feature cannot decide.
    name : str
        Model name reported in summaries.
    """

    weights: dict[str, float] = field(default_factory=lambda: {
        "f0_st": 0.5, "f0_move_st": 1.0, "f2_hz": 0.75, "f3_hz": 0.75, "centroid_hz": 0.5})
    gain: float = 1.5
    z_clip: float = 3.0
    name: str = "heuristic-v1"

    def score(self, stats: VoiceStats, baseline: Baseline) -> float:
        z = baseline.z(stats)
        total = weight_sum = 0.0
        for feature, weight in self.weights.items():
            value = z.get(feature, float("nan"))
            if math.isfinite(value):
                total += weight * min(max(value, -self.z_clip), self.z_clip)
                weight_sum += weight
        mean_z = total / weight_sum if weight_sum else 0.0
        return 1.0 / (1.0 + math.exp(-self.gain * mean_z))


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


@dataclass
class TrainedWarmth:
    """A logistic model over features relative to the speaker's baseline.

    ``warmth = 1 / (1 + exp(-sum_f (weights[f] z_f + square_weights[f] z_f ** 2)))``
    with ``z_f = clip(relative_f / scale[f], -z_clip, z_clip)`` and ``relative_f``
    from :func:`relative_features`. There is no intercept: a window exactly like the
    baseline scores 0.5. A square weight below zero makes warmth fall off again
    when a feature goes far past the speaker's ordinary range (a shout is not warm).
    A feature missing from the window or the baseline counts as ``z = 0``.

    Attributes
    ----------
    scale : dict[str, float]
        Feature name to the unit its relative value is divided by (the feature's
        spread in the training data, in the unit of :func:`relative_features`).
    weights : dict[str, float]
        Feature name to the weight of ``z`` (per unit z, in logits).
    square_weights : dict[str, float]
        Feature name to the weight of ``z ** 2``; features not named have none.
    z_clip : float
        Each z is clipped to +- this before weighting.
    name : str
        Model name reported in summaries.
    """

    scale: dict[str, float]
    weights: dict[str, float]
    square_weights: dict[str, float] = field(default_factory=dict)
    z_clip: float = 3.0
    name: str = "trained"

    def z(self, stats: VoiceStats, baseline: Baseline) -> dict[str, float]:
        """Clipped z of each model feature (0 where missing)."""
        relative = relative_features(stats, baseline)
        out = {}
        for feature in self.weights.keys() | self.square_weights.keys():
            value = relative.get(feature, float("nan")) / self.scale[feature]
            out[feature] = (min(max(value, -self.z_clip), self.z_clip)
                            if math.isfinite(value) else 0.0)
        return out

    def logit(self, stats: VoiceStats, baseline: Baseline) -> float:
        """Log-odds of warmth; 0 for the baseline voice itself."""
        z = self.z(stats, baseline)
        return (sum(w * z[f] for f, w in self.weights.items())
                + sum(w * z[f] ** 2 for f, w in self.square_weights.items()))

    def score(self, stats: VoiceStats, baseline: Baseline) -> float:
        value = self.logit(stats, baseline)
        return 1.0 / (1.0 + math.exp(-min(max(value, -50.0), 50.0)))

    @classmethod
    def from_dict(cls, data: dict) -> "TrainedWarmth":
        """Model from the parameter file's mapping (see ``models/warmth/MODEL_CARD.md``)."""
        features = data["features"]
        unknown = set(features) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown warmth features {sorted(unknown)}")
        return cls(scale={f: float(v["scale"]) for f, v in features.items()},
                   weights={f: float(v["weight"]) for f, v in features.items()},
                   square_weights={f: float(v["square_weight"]) for f, v in features.items()
                                   if v.get("square_weight")},
                   z_clip=float(data["z_clip"]), name=str(data["name"]))

    @classmethod
    def load(cls, path: Optional[str | Path] = None) -> "TrainedWarmth":
        """Read the parameter file (by default the one shipped in ``voicecoach.models``).

        Raises
        ------
        FileNotFoundError
            No parameter file there.
        """
        return cls.from_dict(load_model_file(path))


def model_file_path() -> Path:
    """Where the shipped parameter file of :class:`TrainedWarmth` lives."""
    return Path(str(resources.files("voicecoach.models") / "warmth" / MODEL_FILE))


def load_model_file(path: Optional[str | Path] = None) -> dict:
    """The parsed parameter file: the model plus its population reference voice."""
    return json.loads(Path(path or model_file_path()).read_text(encoding="utf-8"))


def population_baseline(path: Optional[str | Path] = None) -> Baseline:
    """An average ordinary voice of the training speakers (``source="population"``),
    for scoring a clip when the speaker has no profile; far less reliable than a
    profile, since voices differ more between people than within one."""
    return Baseline.from_dict(load_model_file(path)["population_reference"])


def default_model() -> WarmthModel:
    """The trained model if its parameter file is present, else the heuristic."""
    try:
        return TrainedWarmth.load()
    except FileNotFoundError:
        return HeuristicWarmth()


@dataclass
class WarmthOptions:
    """Settings of the warmth tracker.

    Attributes
    ----------
    window_s : float
        Speech time summarised per score (s).
    update_s : float
        Speech time between scores (s).
    max_span_s : float
        A window never reaches back more than this much call time (s).
    min_voiced_s : float
        Least voiced time in a window to score it (s).
    baseline_s : float
        Without a profile: speech time at the start of the call that forms the
        baseline (s); after it, the baseline only follows slowly.
    min_baseline_windows : int
        Without a profile: windows needed before the first score.
    baseline_update_weight : float
        Without a profile, after ``baseline_s``: how far each new window moves the
        baseline (0 = frozen).
    low_warmth : float
        The "smile" cue considers warmth under this low.
    low_for_s : float
        Agent speaking time warmth must stay low before the cue (s).
    monotone_st : float
        Without a profile, the "monotone" cue considers pitch movement under this
        flat (semitones).
    monotone_fraction : float
        With a profile, the "monotone" cue considers pitch movement flat under this
        fraction of the profile's own pitch movement.
    monotone_for_s : float
        Agent speaking time pitch movement must stay flat before the cue (s).
    cooldown_s : float
        Call time between two cues of the same kind (s).
    first_minute_s : float
        Length of the opening stretch, from the agent's first speech, whose mean the
        summary reports separately (s).
    """

    window_s: float = 4.0
    update_s: float = 1.0
    max_span_s: float = 12.0
    min_voiced_s: float = 1.0
    baseline_s: float = 30.0
    min_baseline_windows: int = 3
    baseline_update_weight: float = 0.02
    low_warmth: float = 0.3
    low_for_s: float = 20.0
    monotone_st: float = 1.0
    monotone_fraction: float = 0.6
    monotone_for_s: float = 15.0
    cooldown_s: float = 90.0
    first_minute_s: float = 60.0


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


class WarmthTracker:
    """Warmth of the agent's speech over the call, with "smile" and "monotone" cues.

    Parameters
    ----------
    options : WarmthOptions or None
        Settings; defaults when None.
    model : WarmthModel or None
        Scoring model; when None, :func:`default_model` (the trained model, or the
        heuristic if its parameter file is missing).
    baseline : Baseline or None
        The agent's profile baseline; without one the call's own start is used.
    """

    def __init__(self, options: Optional[WarmthOptions] = None,
                 model: Optional[WarmthModel] = None, baseline: Optional[Baseline] = None):
        self.options = options or WarmthOptions()
        self.model = model or default_model()
        self.baseline = baseline
        self.source = baseline.source if baseline is not None else "call"
        o = self.options
        self._window = SpeechWindow(o.window_s, o.update_s, o.max_span_s)
        self._calibration: list[VoiceStats] = []
        self._calibration_speech_s = 0.0
        self._low = SustainedCondition(o.low_for_s, o.cooldown_s)
        self._flat = SustainedCondition(o.monotone_for_s, o.cooldown_s)
        self._scores: list[tuple[float, float]] = []
        self._movement: Optional[float] = None
        self._first_speech_t: Optional[float] = None

    def feed(self, frames: ProsodyFrames) -> list[Event]:
        """Add agent speech frames (call-clock order); return the cues they trigger."""
        if len(frames) == 0:
            return []
        if self._first_speech_t is None:
            self._first_speech_t = float(frames.t[0])
        events = []
        for window in self._window.feed(frames):
            events.extend(self._on_window(window))
        return events

    def _on_window(self, window: ProsodyFrames) -> list[Event]:
        o = self.options
        from_call = self.source == "call"
        if from_call:
            self._calibration_speech_s += o.update_s
        stats = voice_stats(window, o.min_voiced_s)
        if stats is None:
            return []
        self._movement = stats.f0_move_st
        events = []
        if self.baseline is not None and (not from_call
                                          or self.baseline.n_windows >= o.min_baseline_windows):
            warmth = float(min(max(self.model.score(stats, self.baseline), 0.0), 1.0))
            self._scores.append((stats.t, warmth))
            if self._low.update(stats.t, warmth < o.low_warmth, o.update_s):
                events.append(Event("cue", stats.t, AGENT,
                                    "Warmth has been low for a while: try a smile",
                                    {"cue": "low_warmth", "warmth": round(warmth, 3),
                                     "for_s": o.low_for_s}))
        if self._flat.update(stats.t, stats.f0_move_st < self._flat_below_st(), o.update_s):
            events.append(Event("cue", stats.t, AGENT,
                                "Your pitch has gone flat: let your voice move",
                                {"cue": "monotone",
                                 "pitch_movement_st": round(stats.f0_move_st, 2),
                                 "for_s": o.monotone_for_s}))
        if from_call:
            self._learn(stats)
        return events

    def _flat_below_st(self) -> float:
        """Pitch movement (st) under which speech counts as flat: a fraction of the
        profile's own movement, or the fixed ``monotone_st`` without a profile."""
        o = self.options
        if self.source == "call" or self.baseline is None:
            return o.monotone_st
        usual = self.baseline.mean.get("f0_move_st", float("nan"))
        return o.monotone_fraction * usual if math.isfinite(usual) else o.monotone_st

    def _learn(self, stats: VoiceStats) -> None:
        """Grow the call baseline over its first ``baseline_s``, then follow slowly."""
        o = self.options
        if self._calibration_speech_s <= o.baseline_s:
            self._calibration.append(stats)
            self.baseline = Baseline.from_stats(self._calibration, source="call")
        elif o.baseline_update_weight > 0:
            self.baseline = self.baseline.updated(stats, o.baseline_update_weight)

    def state(self) -> dict:
        """``{"warmth": latest score or None, "pitch_movement_st": latest or None,
        "baseline": "profile" | "call", "model": model name}``."""
        return {"warmth": round(self._scores[-1][1], 3) if self._scores else None,
                "pitch_movement_st": None if self._movement is None
                else round(self._movement, 2),
                "baseline": self.source, "model": self.model.name}

    def timeline(self) -> list[list[float]]:
        """Warmth over time: ``[[t, warmth], ...]`` (call-clock s, 0..1)."""
        return [[round(t, 3), round(w, 3)] for t, w in self._scores]

    def summary(self) -> dict:
        """``{"mean", "timeline", "first_minute_mean", "baseline", "model"}``; means are
        None without scores."""
        values = [w for _, w in self._scores]
        first = []
        if self._first_speech_t is not None:
            end = self._first_speech_t + self.options.first_minute_s
            first = [w for t, w in self._scores if t <= end]
        return {"mean": round(float(np.mean(values)), 3) if values else None,
                "timeline": self.timeline(),
                "first_minute_mean": round(float(np.mean(first)), 3) if first else None,
                "baseline": self.source, "model": self.model.name}


def _json_float(value: Optional[float]) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else float(value)


def _float_or_nan(value) -> float:
    return float("nan") if value is None else float(value)
