"""Warmth of the agent's voice against the agent's own baseline, and its two cues.

A smile shortens the vocal tract and raises the formants (F2 and F3 most) and often
F0; warm, engaged speech has livelier pitch movement and a brighter spectrum than a
flat, tired voice (COACHING.md section 1). Every few seconds of speech the tracker
summarises the trailing window of voiced frames as
:class:`~voicecoach.analyzers.voice.VoiceStats` and asks a :class:`WarmthModel` for a
score in [0, 1] against a :class:`~voicecoach.analyzers.voice.Baseline` of the same
speaker; 0.5 is the speaker's ordinary voice. The statistics and the baseline live in
:mod:`voicecoach.analyzers.voice` (shared with caller arousal and voice profiles).

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
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Optional, Protocol

import numpy as np

from voicecoach.analyzers.prosody import ProsodyFrames, SpeechWindow
from voicecoach.analyzers.voice import (
    FEATURES,
    Baseline,
    SustainedCondition,
    VoiceStats,
    relative_features,
    voice_stats,
)
from voicecoach.events import AGENT, Event

MODEL_FILE = "model.json"
"""Name of the trained model's parameter file in ``voicecoach.models/warmth``."""


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
    shown_smooth_s : float
        The value the meter shows follows the scores with this time constant (s of
        speech); the record keeps every raw score.
    shown_max_step : float
        The shown value moves at most this much per score (one each ``update_s``).
    band_flat_below, band_warm_above : float
        The meter's words: under ``band_flat_below`` "flat", over ``band_warm_above``
        "warm", between them "steady" (your ordinary voice is 0.5).
    profile : str
        Your voice profile file (set by ``voicecoach calibrate``); "" = none, warmth
        is judged against your voice earlier in the call. Calls judged against
        different profiles are not compared in the history's trend.
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
    shown_smooth_s: float = 6.0
    shown_max_step: float = 0.1
    band_flat_below: float = 0.35
    band_warm_above: float = 0.62
    profile: str = ""

    def problem(self) -> str:
        """What is wrong with these settings together; "" if nothing.

        >>> WarmthOptions(window_s=0.8).problem()
        'window_s (0.8) and max_span_s (12) must be at least min_voiced_s (1): no window could be scored'
        """
        if min(self.window_s, self.max_span_s) < self.min_voiced_s:
            return (f"window_s ({self.window_s:g}) and max_span_s ({self.max_span_s:g}) must be at least "
                    f"min_voiced_s ({self.min_voiced_s:g}): no window could be scored")
        if not 0.0 <= self.band_flat_below < self.band_warm_above <= 1.0:
            return (f"band_flat_below ({self.band_flat_below:g}) must be below band_warm_above "
                    f"({self.band_warm_above:g}), both from 0 to 1")
        if self.shown_max_step <= 0:
            return f"shown_max_step ({self.shown_max_step:g}) must be above 0: the meter would never move"
        return ""


def warmth_band(value: Optional[float], options: Optional[WarmthOptions] = None) -> Optional[str]:
    """The meter's word for a warmth value: ``"flat"``, ``"steady"`` or ``"warm"``."""
    if value is None:
        return None
    o = options or WarmthOptions()
    return "flat" if value < o.band_flat_below else "warm" if value > o.band_warm_above else "steady"


def speech_window(options: Optional[WarmthOptions] = None) -> SpeechWindow:
    """What cuts the agent's speech frames into the windows the warmth meter scores:
    ``window_s`` of speech every ``update_s``, never reaching back more than
    ``max_span_s`` of call time. Voice profiles and clip scores
    (:mod:`voicecoach.analyzers.profile`) cut recordings with it too, so that all three
    measure the same windows."""
    o = options or WarmthOptions()
    return SpeechWindow(o.window_s, o.update_s, o.max_span_s)


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
        self._window = speech_window(o)
        self._calibration: list[VoiceStats] = []
        self._calibration_speech_s = 0.0
        self._low = SustainedCondition(o.low_for_s, o.cooldown_s)
        self._flat = SustainedCondition(o.monotone_for_s, o.cooldown_s)
        self._scores: list[tuple[float, float]] = []
        self._shown: Optional[float] = None
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
            self._show(warmth)
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
        if self._calibration_speech_s <= o.baseline_s or self.baseline is None:
            # (the first window with enough voiced speech may come after baseline_s of speech)
            self._calibration.append(stats)
            self.baseline = Baseline.from_stats(self._calibration, source="call")
        elif o.baseline_update_weight > 0:
            self.baseline = self.baseline.updated(stats, o.baseline_update_weight)

    def _show(self, warmth: float) -> None:
        """The meter's value: the scores smoothed, and never more than a step at a time,
        so that a person can read it (one window's swing is not a change of voice)."""
        o = self.options
        if self._shown is None:
            self._shown = warmth
            return
        alpha = 1.0 - float(np.exp(-o.update_s / max(o.shown_smooth_s, 1e-6)))
        step = alpha * (warmth - self._shown)
        self._shown += float(np.clip(step, -o.shown_max_step, o.shown_max_step))

    def state(self) -> dict:
        """``{"warmth": latest score or None, "shown": the meter's smoothed value,
        "band": "flat" | "steady" | "warm", "pitch_movement_st": latest or None,
        "baseline": "profile" | "call", "model": model name}``."""
        shown = round(self._shown, 3) if self._shown is not None else None
        return {"warmth": round(self._scores[-1][1], 3) if self._scores else None,
                "shown": shown, "band": warmth_band(shown, self.options),
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
                "baseline": self.source, "model": self.model.name,
                "profile_id": getattr(self.baseline, "profile_id", None) if self.source == "profile" else None}
