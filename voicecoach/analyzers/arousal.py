"""The caller's temperature: vocal arousal on the customer channel.

An irate caller gets louder and higher-pitched. With no profile for a caller, the
reference is the caller's own first stretch of speech in the call (COACHING.md
section 8): loudness and F0 level of the trailing window are turned into z-scores
against that start, averaged with weights, and put through a logistic, so 0.5 means
"as at the start of the call" and values near 1 mean much louder and higher. When
arousal stays high for a few seconds of the caller's speech, a ``caller_heated`` cue
reminds the agent, privately, to stay calm; at most once per cooldown.

The temperature shown during the call (:meth:`ArousalTracker.state`) follows the same
rule: "heated" only once arousal has held at ``heated_level`` for ``heated_for_s`` of
the caller's speech, "warming up" once it has held at ``warming_level`` for
``warming_for_s``. One loud "thanks, bye!" is no change of temperature.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from voicecoach.analyzers.prosody import ProsodyFrames, SpeechWindow
from voicecoach.analyzers.voice import (
    Baseline,
    SustainedCondition,
    VoiceStats,
    voice_stats,
)
from voicecoach.events import CUSTOMER, Event


@dataclass
class ArousalOptions:
    """Settings of the caller arousal tracker.

    Attributes
    ----------
    window_s : float
        Caller speech time summarised per value (s).
    update_s : float
        Caller speech time between values (s).
    max_span_s : float
        A window never reaches back more than this much call time (s).
    min_voiced_s : float
        Least voiced time in a window to measure it (s).
    baseline_s : float
        The caller's first this-much speech time is the reference (s).
    min_baseline_windows : int
        Measurable windows the reference needs; it extends past ``baseline_s`` until
        it has them.
    loudness_weight : float
        Weight of the loudness z-score.
    pitch_weight : float
        Weight of the F0-level z-score.
    gain : float
        Slope of the logistic per unit of weighted mean z-score.
    z_clip : float
        Each z-score is clipped to +- this first.
    heated_level : float
        Arousal at or above this counts as heated (0..1).
    heated_for_s : float
        Caller speech time arousal must stay heated before the cue, and before the
        temperature reads "heated" (s).
    warming_level : float
        Arousal at or above this counts as warming up (0..1).
    warming_for_s : float
        Caller speech time arousal must stay there before the temperature reads
        "warming up" (s).
    cooldown_s : float
        Call time between two cues (s).
    """

    window_s: float = 2.0
    update_s: float = 0.5
    max_span_s: float = 6.0
    min_voiced_s: float = 0.4
    baseline_s: float = 20.0
    min_baseline_windows: int = 6
    loudness_weight: float = 1.0
    pitch_weight: float = 1.0
    gain: float = 1.5
    z_clip: float = 4.0
    heated_level: float = 0.8
    heated_for_s: float = 3.0
    warming_level: float = 0.65
    warming_for_s: float = 1.0
    cooldown_s: float = 90.0

    def problem(self) -> str:
        """What is wrong with these settings together; "" if nothing."""
        if not 0.0 < self.warming_level <= self.heated_level < 1.0:
            return (f"warming_level ({self.warming_level:g}) must be above 0 and at most "
                    f"heated_level ({self.heated_level:g}), which must be below 1")
        return ""


class ArousalTracker:
    """Arousal of the caller against the caller's own start of call.

    Parameters
    ----------
    options : ArousalOptions or None
        Settings; defaults when None.
    """

    def __init__(self, options: Optional[ArousalOptions] = None):
        self.options = options or ArousalOptions()
        o = self.options
        self._window = SpeechWindow(o.window_s, o.update_s, o.max_span_s)
        self._start: list[VoiceStats] = []
        self._speech_s = 0.0
        self.baseline: Optional[Baseline] = None
        self._collecting = True
        self._heated = SustainedCondition(o.heated_for_s, o.cooldown_s)
        self._values: list[tuple[float, float]] = []
        self._heated_s = 0.0
        self._run_s = {"heated": 0.0, "warming up": 0.0}   # caller speech time held at each level

    def feed(self, frames: ProsodyFrames) -> list[Event]:
        """Add customer speech frames (call-clock order); return ``caller_heated`` cues."""
        events = []
        for window in self._window.feed(frames):
            events.extend(self._on_window(window))
        return events

    def _on_window(self, window: ProsodyFrames) -> list[Event]:
        o = self.options
        self._speech_s += o.update_s
        stats = voice_stats(window, o.min_voiced_s)
        if stats is None:
            return []
        if self._collecting:
            self._start.append(stats)
            if self._speech_s >= o.baseline_s and len(self._start) >= o.min_baseline_windows:
                self.baseline = Baseline.from_stats(self._start, source="call")
                self._collecting = False
            return []
        value = self.arousal(stats)
        self._values.append((stats.t, value))
        heated = value >= o.heated_level
        if heated:
            self._heated_s += o.update_s
        for word, level in (("heated", o.heated_level), ("warming up", o.warming_level)):
            self._run_s[word] = self._run_s[word] + o.update_s if value >= level else 0.0
        if self._heated.update(stats.t, heated, o.update_s):
            return [Event("cue", stats.t, CUSTOMER,
                          "The caller is heating up: stay calm and courteous",
                          {"cue": "caller_heated", "arousal": round(value, 3),
                           "for_s": o.heated_for_s})]
        return []

    def arousal(self, stats: VoiceStats) -> float:
        """Arousal of ``stats`` against the caller's start, in [0, 1] (0.5 = as then)."""
        o = self.options
        z = self.baseline.z(stats)
        total = weight_sum = 0.0
        for name, weight in (("energy_db", o.loudness_weight), ("f0_st", o.pitch_weight)):
            if math.isfinite(z[name]) and weight > 0:
                total += weight * min(max(z[name], -o.z_clip), o.z_clip)
                weight_sum += weight
        mean_z = total / weight_sum if weight_sum else 0.0
        return 1.0 / (1.0 + math.exp(-o.gain * mean_z))

    def temperature(self) -> Optional[str]:
        """"heated", "warming up" or "calm" (see the module's note); None until the
        reference is made."""
        if not self._values:
            return None
        o = self.options
        if self._run_s["heated"] >= o.heated_for_s - 1e-9:
            return "heated"
        if self._run_s["warming up"] >= o.warming_for_s - 1e-9:
            return "warming up"
        return "calm"

    def state(self) -> dict:
        """``{"arousal": latest or None, "temperature": :meth:`temperature`,
        "baseline_ready": bool, "heard_s": caller speech time so far (s)}``: arousal
        and temperature are None until the reference is made."""
        return {"arousal": round(self._values[-1][1], 3) if self._values else None,
                "temperature": self.temperature(),
                "baseline_ready": self.baseline is not None, "heard_s": round(self._speech_s, 1)}

    def timeline(self) -> list[list[float]]:
        """Caller arousal over time: ``[[t, arousal], ...]`` (call-clock s, 0..1)."""
        return [[round(t, 3), round(v, 3)] for t, v in self._values]

    def summary(self) -> dict:
        """``{"mean", "max", "heated_s", "timeline"}``; ``heated_s`` is caller speech
        time at or above ``heated_level`` (s); means are None without values."""
        values = [v for _, v in self._values]
        return {"mean": round(float(np.mean(values)), 3) if values else None,
                "max": round(float(np.max(values)), 3) if values else None,
                "heated_s": round(self._heated_s, 2), "timeline": self.timeline()}
