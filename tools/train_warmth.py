"""Rebuild the warmth model's parameter file from RAVDESS.

Reads ../shared/data/emotion/ravdess/ (beside the checkout; ``labels.csv`` and the
clips) and measures every clip with the profile code (voice activity, then the
prosody features of the speech, cut by the live meter's windows): a clip is its last
window, the one that ends at its end, which for these short clips is all of its
speech. Each clip is compared with a profile of the same actor made from the actor's
neutral clips (never from the clip itself), and a small L2-regularised logistic
regression is fitted in numpy: happy (1) against neutral, calm, sad and angry (0),
angry included so that a shout does not pass for warmth. Writes
``models/warmth/model.json``. Skips cleanly when the data is missing. The RAVDESS
licence (CC BY-NC-SA 4.0) carries over to the parameters.

    python3 -m tools.train_warmth [--data DIR] [-o models/warmth/model.json]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from voicecoach.analyzers.prosody import ProsodyFrames
from voicecoach.analyzers.vad import SileroVad
from voicecoach.analyzers.voice import Baseline, VoiceStats, relative_features
from voicecoach.analyzers.warmth import TrainedWarmth
from voicecoach.sources.audio import AudioError
from voicecoach.analyzers.profile import (
    ProfileOptions,
    profile_from_frames,
    read_mono,
    speech_frames,
    window_stats,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "emotion" / "ravdess"
DEFAULT_OUT = ROOT / "models" / "warmth" / "model.json"

MODEL_FEATURES = ("f0_st", "centroid_hz", "tilt_db", "voicing", "aperiodicity",
                  "centroid_move_st")
"""Features the model weighs (see ``voicecoach.analyzers.voice.VoiceStats``), chosen by the
leave-actors-out evaluation (``benchmarks/warmth_eval.py`` prints what each adds).
The absolute level ``energy_db`` is left out on purpose: it depends on the
microphone's gain and distance. Pitch movement, the formants and the loudness and
tilt movement did not help."""

SQUARED = ("centroid_hz",)
"""Features that also get a squared term, so warmth falls again when the voice gets
far brighter than usual (shouting)."""

UNITS = {"f0_st": "semitones", "f0_move_st": "semitones", "f1_hz": "semitones (ratio)",
         "f2_hz": "semitones (ratio)", "f3_hz": "semitones (ratio)",
         "centroid_hz": "semitones (ratio)", "tilt_db": "dB", "energy_db": "dB",
         "voicing": "fraction", "centroid_move_st": "semitones", "tilt_move_db": "dB",
         "energy_move_db": "dB", "aperiodicity": "fraction"}
"""Unit of each feature's difference from the profile (``relative_features``)."""

POSITIVE = ("happy",)
NEGATIVE = {"neutral": 1.0, "calm": 1.0, "sad": 1.0, "angry": 1.0}
"""Training labels: emotion to sample weight of the negative class."""

L2 = 20.0
"""Ridge penalty on the weights (the intercept is not penalised), in the units of a
summed log-loss: scikit-learn's ``C = 1 / L2``. Strong on purpose: it spreads the
weight over the correlated pitch and brightness features, whose window-to-window
noise then partly averages out, which steadies the live meter (chosen by the
evaluation's AUC and the spread of warmth on ordinary speech)."""

Z_CLIP = 3.0
"""Each z is clipped to +- this before weighting."""

CLIP_OPTIONS = ProfileOptions(min_voiced_s=0.5, min_profile_voiced_s=0.5)
"""RAVDESS clips are about 3.5 s long with 1 s of voiced speech, so a profile here is
one or two such clips: far less than the 30 s ``calibrate`` asks an agent for."""


@dataclass
class Clip:
    """One RAVDESS clip, measured."""

    file: str
    actor: int
    sex: str
    emotion: str
    intensity: str
    frames: ProsodyFrames
    stats: Optional[VoiceStats]


def load_clips(data: Path, options: ProfileOptions = CLIP_OPTIONS) -> list[Clip]:
    """Every clip of ``labels.csv``, with its speech frames and the stats of its last
    window, the one that ends at the clip's end (None when the clip has too little
    voiced speech). RAVDESS clips hold under 3 s of speech, shorter than a window, so
    that window is the whole clip."""
    vad = SileroVad()
    clips = []
    with open(data / "labels.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            frames = speech_frames(read_mono(data / row["file"]), vad_model=vad)
            stats = window_stats(frames, options)
            clips.append(Clip(row["file"], int(row["actor"]), row["sex"], row["emotion"],
                              row["intensity"], frames, stats[-1] if stats else None))
    return clips


def neutral_profile(clips: Sequence[Clip], actor: int, leave_out: Optional[str] = None,
                    options: ProfileOptions = CLIP_OPTIONS) -> Optional[Baseline]:
    """The actor's profile from their neutral clips (except ``leave_out``), or None."""
    frames = [c.frames for c in clips
              if c.actor == actor and c.emotion == "neutral" and c.file != leave_out]
    try:
        return Baseline.from_dict(profile_from_frames(frames, options))
    except AudioError:  # too little speech in them
        return None


def own_baselines(clips: Sequence[Clip]) -> dict[str, Optional[Baseline]]:
    """For each clip, its actor's neutral profile, made without the clip itself."""
    whole = {a: neutral_profile(clips, a) for a in {c.actor for c in clips}}
    return {c.file: (neutral_profile(clips, c.actor, leave_out=c.file)
                     if c.emotion == "neutral" else whole[c.actor]) for c in clips}


def population_reference(clips: Sequence[Clip]) -> Baseline:
    """The average neutral voice of the actors of ``clips`` (``source="population"``)."""
    stats = [c.stats for c in clips if c.emotion == "neutral" and c.stats is not None]
    return Baseline.from_stats(stats, source="population")


def relative_scale(clips: Sequence[Clip], baselines: dict[str, Optional[Baseline]],
                   features: Sequence[str] = MODEL_FEATURES) -> dict[str, float]:
    """Standard deviation of each feature's difference from the profile over ``clips``."""
    rows = [relative_features(c.stats, baselines[c.file]) for c in clips
            if c.stats is not None and baselines.get(c.file) is not None]
    scale = {}
    for f in features:
        values = np.array([r[f] for r in rows], dtype=float)
        values = values[np.isfinite(values)]
        scale[f] = float(values.std()) if values.size > 1 and values.std() > 0 else 1.0
    return scale


def design(model: TrainedWarmth, stats: Sequence[VoiceStats], baselines: Sequence[Baseline],
           features: Sequence[str] = MODEL_FEATURES, squared: Sequence[str] = SQUARED
           ) -> np.ndarray:
    """Model inputs, shape ``(len(stats), len(features) + len(squared))``: the clipped z
    of each feature (exactly as :meth:`TrainedWarmth.z` computes them at run time),
    then the squares."""
    rows = []
    for s, b in zip(stats, baselines):
        z = model.z(s, b)
        rows.append([z[f] for f in features] + [z[f] ** 2 for f in squared])
    return np.array(rows, dtype=float).reshape(len(rows), len(features) + len(squared))


def fit_logistic(x: np.ndarray, y: np.ndarray, sample_weight: Optional[np.ndarray] = None,
                 l2: float = L2, max_iter: int = 100) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression by Newton's method.

    Minimises ``sum_i s_i logloss(y_i, b + x_i . w) + l2 / 2 * |w| ** 2``.

    Parameters
    ----------
    x : np.ndarray [shape=(n, d)]
    y : np.ndarray [shape=(n,)]
        0 or 1.
    sample_weight : np.ndarray [shape=(n,)] or None
    l2 : float
    max_iter : int

    Returns
    -------
    intercept : float
    weights : np.ndarray [shape=(d,)]
    """
    n, d = x.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    a = np.hstack([np.ones((n, 1)), x])
    penalty = np.full(d + 1, l2)
    penalty[0] = 0.0
    w = np.zeros(d + 1)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (s * (p - y)) + penalty * w
        hess = (a * (s * p * (1 - p))[:, None]).T @ a + np.diag(penalty)
        step = np.linalg.solve(hess + 1e-9 * np.eye(d + 1), grad)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(w[0]), w[1:]


def train(clips: Sequence[Clip], baselines: dict[str, Optional[Baseline]],
          features: Sequence[str] = MODEL_FEATURES, squared: Sequence[str] = SQUARED,
          negative: Optional[dict[str, float]] = None, l2: float = L2,
          name: str = "trained") -> tuple[TrainedWarmth, float]:
    """Fit the model on ``clips``, each against ``baselines[clip.file]``.

    Returns
    -------
    model : TrainedWarmth
    intercept : float
        The fitted intercept (the happy-vs-rest threshold of the training set); the
        run-time score leaves it out so that the profile's own voice scores 0.5.
    """
    negative = NEGATIVE if negative is None else negative
    use = [c for c in clips if c.stats is not None and baselines.get(c.file) is not None
           and (c.emotion in POSITIVE or c.emotion in negative)]
    scale = relative_scale(use, baselines, features)
    probe = TrainedWarmth(scale=scale, weights=dict.fromkeys(features, 0.0),
                          square_weights=dict.fromkeys(squared, 0.0), z_clip=Z_CLIP)
    x = design(probe, [c.stats for c in use], [baselines[c.file] for c in use],
               features, squared)
    y = np.array([c.emotion in POSITIVE for c in use], dtype=float)
    weight = np.array([1.0 if c.emotion in POSITIVE else negative[c.emotion] for c in use])
    intercept, w = fit_logistic(x, y, weight, l2)
    model = TrainedWarmth(scale=scale, weights=dict(zip(features, w[:len(features)])),
                          square_weights=dict(zip(squared, w[len(features):])),
                          z_clip=Z_CLIP, name=name)
    return model, intercept


def model_file(model: TrainedWarmth, intercept: float, reference: Baseline,
               clips: Sequence[Clip]) -> dict:
    """The parameter file's content."""
    used = [c for c in clips if c.stats is not None]
    counts = {e: sum(c.emotion == e for c in used) for e in (*POSITIVE, *NEGATIVE)}
    return {
        "name": model.name,
        "description": "Warmth of a speech window against the speaker's voice profile: "
                       "a logistic model over feature differences from the profile. "
                       "See MODEL_CARD.md.",
        "licence": "Parameters learned from RAVDESS (Livingstone & Russo 2018), "
                   "CC BY-NC-SA 4.0: non-commercial use only, share alike.",
        "formula": "warmth = 1 / (1 + exp(-sum_f (weight_f z_f + square_weight_f z_f^2))); "
                   "z_f = clip(relative_f / scale_f, -z_clip, z_clip); relative_f = the "
                   "window's feature minus the profile's mean (frequencies as a ratio in "
                   "semitones); no intercept, so the profile's own voice scores 0.5",
        "z_clip": model.z_clip,
        "features": {f: {"unit": UNITS[f], "scale": round(model.scale[f], 6),
                         "weight": round(float(model.weights[f]), 6),
                         "square_weight": round(float(model.square_weights.get(f, 0.0)), 6)}
                     for f in model.weights},
        "population_reference": reference.as_dict(),
        "training": {"data": "RAVDESS speech, actors "
                             f"{min(c.actor for c in used)}-{max(c.actor for c in used)}",
                     "clips": counts, "positive": list(POSITIVE),
                     "negative_weights": NEGATIVE, "l2": L2,
                     "fitted_intercept": round(intercept, 6),
                     "rebuild": "python3 -m tools.train_warmth"},
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if not (args.data / "labels.csv").exists():
        print(f"skipped: no RAVDESS data at {args.data} (labels.csv missing)")
        return 0
    clips = load_clips(args.data)
    baselines = own_baselines(clips)
    model, intercept = train(clips, baselines, name="ravdess-logistic-v1")
    content = model_file(model, intercept, population_reference(clips), clips)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    dropped = sum(c.stats is None for c in clips)
    print(f"wrote {args.out}: {len(clips) - dropped} clips used, {dropped} with too little "
          "voiced speech")
    for f, v in content["features"].items():
        print(f"  {f:18s} scale {v['scale']:8.3f} {v['unit']:18s} weight {v['weight']:+.3f}"
              + (f"  square {v['square_weight']:+.3f}" if v["square_weight"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
