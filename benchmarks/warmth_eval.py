"""Speaker-independent evaluation of the warmth model, its stability and its cost.

Reads ../shared/data/emotion/ravdess/ (and ../shared/data/read/ for stability on
ordinary read speech), beside the checkout; skips cleanly when they are missing.

- Leave-one-actor-out cross-validation: for each actor, the model is trained on the
  other actors (``tools.train_warmth``) and scores this actor's clips. ROC AUC of
  happy against neutral/calm/sad, per actor and pooled, and of happy against angry:
  calibrated (each clip against a profile of the actor's own neutral clips, never
  containing the clip) and uncalibrated (no profile: the training actors' average
  voice as the reference, with the same model and with a model trained that way),
  plus the call-style fallback (a baseline from all of the actor's clips) and the
  old heuristic.
- Which features earn their place: pooled AUCs with each feature left out, and with
  the left-out ones added.
- Stability: warmth of neutral clips against a profile of the actor's other neutral
  clip, and of live-length windows of read speech against a profile of the same
  reader's other utterances (the shipped model).
- Cost: CPU time of the warmth tracker in live use (20 ms blocks), as % of one core.

With ``--shipped``, no cross-validation: the shipped parameter file scores every clip
of ``--data`` (for actors it was not trained on), calibrated and without a profile.

    python3 -m benchmarks.warmth_eval [--data DIR] [--read DIR] [--shipped]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "emotion" / "ravdess"
DEFAULT_READ = ROOT.parent / "shared" / "data" / "read"
READERS = {"LibriVox reader (Sense and Sensibility)": "librivox-*.flac",
           "LibriSpeech speaker 1089": "librispeech-1089-*.flac"}
REST = ("neutral", "calm", "sad")


def roc_auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    p, n = np.asarray(positive, float), np.asarray(negative, float)
    if p.size == 0 or n.size == 0:
        return float("nan")
    greater = (p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()
    return float(greater / (p.size * n.size))


def aucs(scores: dict[str, float], clips) -> dict[str, float]:
    """Pooled AUCs (happy vs neutral/calm/sad, happy vs angry) over scored clips."""
    def of(emotions):
        return [scores[c.file] for c in clips if c.emotion in emotions and c.file in scores]
    return {"rest": roc_auc(of(("happy",)), of(REST)),
            "angry": roc_auc(of(("happy",)), of(("angry",)))}


def cross_validate(clips, features=None, squared=None, with_variants: bool = True) -> dict:
    """Leave-one-actor-out scores: ``{variant: {clip file: warmth}}``."""
    from tools.train_warmth import (
        MODEL_FEATURES,
        SQUARED,
        own_baselines,
        population_reference,
        train,
    )
    from voicecoach.analyzers.voice import Baseline
    from voicecoach.analyzers.warmth import HeuristicWarmth

    features = MODEL_FEATURES if features is None else features
    squared = SQUARED if squared is None else squared
    own = own_baselines(clips)
    scored = [c for c in clips if c.stats is not None]
    out: dict[str, dict[str, float]] = {"calibrated": {}}
    if with_variants:
        out.update({"no profile, model trained without": {}, "no profile, same model": {},
                    "call-style baseline (all the actor's clips)": {},
                    "heuristic-v1, calibrated": {}})
    for actor in sorted({c.actor for c in clips}):
        train_clips = [c for c in clips if c.actor != actor]
        test = [c for c in scored if c.actor == actor]
        model, _ = train(train_clips, own, features, squared)
        for c in test:
            if own[c.file] is not None:
                out["calibrated"][c.file] = model.score(c.stats, own[c.file])
        if not with_variants:
            continue
        reference = population_reference(train_clips)
        blind, _ = train(train_clips, dict.fromkeys((c.file for c in train_clips), reference),
                         features, squared)
        session = Baseline.from_stats([c.stats for c in test], source="call")
        for c in test:
            out["no profile, same model"][c.file] = model.score(c.stats, reference)
            out["no profile, model trained without"][c.file] = blind.score(c.stats, reference)
            out["call-style baseline (all the actor's clips)"][c.file] = model.score(c.stats,
                                                                                   session)
            if own[c.file] is not None:
                out["heuristic-v1, calibrated"][c.file] = HeuristicWarmth().score(c.stats,
                                                                                 own[c.file])
    return out


def report_cv(clips, results: dict, title: str = "Leave-one-actor-out ROC AUC") -> None:
    """Print pooled and per-actor AUCs; the first two variants of ``results`` are
    compared actor by actor (with a profile / without)."""
    from voicecoach.analyzers.warmth import WarmthOptions

    actors = sorted({c.actor for c in clips})
    print(f"\n## {title} (RAVDESS speech, {len(actors)} actors, {len(clips)} clips)")
    missing = {e: sum(c.stats is None for c in clips if c.emotion == e)
               for e in ("neutral", "calm", "happy", "sad", "angry")}
    print("clips without a score (too little voiced speech): "
          + ", ".join(f"{e} {n}" for e, n in missing.items()))
    print(f"\n{'variant':46s} {'happy vs n/c/s':>15s} {'happy vs angry':>15s} "
          f"{'per-actor median':>17s} {'min':>5s}")
    for name, scores in results.items():
        pooled = aucs(scores, clips)
        per = [aucs(scores, [c for c in clips if c.actor == a])["rest"] for a in actors]
        per = [p for p in per if np.isfinite(p)]
        print(f"{name:46s} {pooled['rest']:15.3f} {pooled['angry']:15.3f} "
              f"{np.median(per):17.3f} {min(per):5.2f}")
    (cal_name, cal), (blind_name, blind) = list(results.items())[:2]
    print(f"\nper actor, happy vs neutral/calm/sad ({cal_name} / {blind_name}):")
    cells = []
    for a in actors:
        mine = [c for c in clips if c.actor == a]
        sex = mine[0].sex[0].upper()
        cells.append(f"{a:2d}{sex} {aucs(cal, mine)['rest']:.2f}/{aucs(blind, mine)['rest']:.2f}")
    for i in range(0, len(cells), 4):
        print("  " + "   ".join(cells[i:i + 4]))
    by_emotion = {e: np.array([cal[c.file] for c in clips if c.emotion == e and c.file in cal])
                  for e in ("neutral", "calm", "happy", "sad", "angry")}
    low = WarmthOptions().low_warmth
    print(f"\ncalibrated warmth by emotion (mean, share under the 'smile' level {low}): "
          + ", ".join(f"{e} {v.mean():.2f} {(v < low).mean():.0%}" for e, v in by_emotion.items()))


def shipped_scores(clips) -> dict:
    """Scores of the shipped model, with each actor's neutral profile and without."""
    from tools.train_warmth import own_baselines
    from voicecoach.analyzers.warmth import TrainedWarmth, population_baseline

    model, reference = TrainedWarmth.load(), population_baseline()
    own = own_baselines(clips)
    scored = [c for c in clips if c.stats is not None]
    return {f"shipped {model.name}, calibrated": {c.file: model.score(c.stats, own[c.file])
                                                 for c in scored if own[c.file] is not None},
            f"shipped {model.name}, no profile": {c.file: model.score(c.stats, reference)
                                                 for c in scored}}


def report_features(clips) -> None:
    from tools.train_warmth import MODEL_FEATURES, SQUARED

    print("\n## Which features earn their place (pooled calibrated AUC)")
    print(f"{'model':34s} {'happy vs n/c/s':>15s} {'happy vs angry':>15s}")
    variants = [("shipped", MODEL_FEATURES, SQUARED)]
    variants += [(f"without {f}", tuple(x for x in MODEL_FEATURES if x != f),
                  tuple(x for x in SQUARED if x != f)) for f in MODEL_FEATURES]
    variants += [("without the squared term", MODEL_FEATURES, ())]
    variants += [(f"with {f}", MODEL_FEATURES + (f,), SQUARED)
                 for f in ("f1_hz", "f2_hz", "f3_hz", "energy_db")]
    for name, features, squared in variants:
        scores = cross_validate(clips, features, squared, with_variants=False)["calibrated"]
        pooled = aucs(scores, clips)
        print(f"{name:34s} {pooled['rest']:15.3f} {pooled['angry']:15.3f}")


def report_stability(clips, calibrated: dict[str, float], read_dir: Path) -> None:
    from voicecoach.analyzers.voice import Baseline, voice_stats
    from voicecoach.analyzers.warmth import TrainedWarmth, WarmthOptions
    from voicecoach.analyzers.profile import (
        ProfileOptions,
        profile_from_frames,
        read_mono,
        speech_frames,
        speech_windows,
    )

    print("\n## Stability")
    per_actor: dict[int, list[float]] = {}
    for c in clips:
        if c.emotion == "neutral" and c.file in calibrated:
            per_actor.setdefault(c.actor, []).append(calibrated[c.file])
    values = np.array([w for v in per_actor.values() for w in v])
    gaps = [abs(v[0] - v[1]) for v in per_actor.values() if len(v) == 2]
    print("RAVDESS neutral clips against a profile of the actor's other neutral clip, "
          f"model trained without the actor (n={values.size}):")
    print(f"  mean {values.mean():.2f}, SD {values.std(ddof=1):.2f}, "
          f"5-95% {np.percentile(values, 5):.2f}-{np.percentile(values, 95):.2f}; "
          f"median gap between one actor's two clips {np.median(gaps):.2f}")
    files = {name: sorted(read_dir.glob(pattern)) for name, pattern in READERS.items()}
    if not any(files.values()):
        print(f"  (no read speech at {read_dir}: skipped the live-window check)")
        return
    model = TrainedWarmth.load()
    live = WarmthOptions()
    window = ProfileOptions(warmth=live, min_profile_voiced_s=2.0)  # a few short utterances
    print(f"Read speech, {live.window_s:.0f} s live windows against a profile of the same "
          f"reader's other utterances (shipped model {model.name}; speakers not in its "
          "training data):")
    for name, paths in files.items():
        if len(paths) < 2:
            continue
        frames = [speech_frames(read_mono(p)) for p in paths]
        scores = []
        for i in range(len(frames)):
            others = frames[:i] + frames[i + 1:]
            base = Baseline.from_dict(profile_from_frames(others, window))
            for w in speech_windows(frames[i], window):
                stats = voice_stats(w, live.min_voiced_s)
                if stats is not None:
                    scores.append(model.score(stats, base))
        s = np.array(scores)
        print(f"  {name}: {len(paths)} utterances, {s.size} windows: mean {s.mean():.2f}, "
              f"SD {s.std(ddof=1):.2f}, under the 'smile' level {live.low_warmth}: "
              f"{(s < live.low_warmth).mean():.0%}")


def report_cost(read_dir: Path) -> None:
    from voicecoach.analyzers.prosody import ProsodyTracker
    from voicecoach.analyzers.warmth import WarmthTracker
    from voicecoach.analyzers.profile import read_mono

    paths = sorted(read_dir.glob("*.flac"))
    if paths:
        audio = np.concatenate([read_mono(p) for p in paths])
        what = f"{len(paths)} read-speech files"
    else:
        rng = np.random.default_rng(0)
        t = np.arange(60 * 16000) / 16000
        audio = (0.1 * np.sin(2 * np.pi * 150 * t * (1 + 0.05 * np.sin(t)))
                 + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
        what = "a synthetic tone"
    block = 320  # 20 ms
    tracker = ProsodyTracker()
    start = time.process_time()
    frames = [tracker.feed(i / 16000, audio[i:i + block]) for i in range(0, audio.size, block)]
    prosody_cost = time.process_time() - start
    warmth = WarmthTracker()
    start = time.process_time()
    for f in frames:   # every frame counted as speech: the busiest case
        warmth.feed(f)
    cost = time.process_time() - start
    duration = audio.size / 16000
    print(f"\n## Cost in live use ({what}, {duration:.0f} s, 20 ms blocks, all speech)")
    print(f"warmth scoring ({warmth.model.name}, window stats + model, "
          f"{len(warmth.timeline())} scores): {1000 * cost:.0f} ms CPU = "
          f"{100 * cost / duration:.2f} % of one core")
    print(f"(for scale: the prosody frames it reads, shared with pace and caller arousal, "
          f"cost {100 * prosody_cost / duration:.1f} % of one core)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--read", type=Path, default=DEFAULT_READ)
    ap.add_argument("--shipped", action="store_true",
                    help="score --data with the shipped model instead of cross-validating")
    args = ap.parse_args(argv)
    if not (args.data / "labels.csv").exists():
        print(f"skipped: no RAVDESS data at {args.data} (labels.csv missing)")
        return 0
    from tools.train_warmth import load_clips

    clips = load_clips(args.data)
    if args.shipped:
        report_cv(clips, shipped_scores(clips), "ROC AUC of the shipped model")
        return 0
    results = cross_validate(clips)
    report_cv(clips, results)
    report_features(clips)
    report_stability(clips, results["calibrated"], args.read)
    report_cost(args.read)
    return 0


if __name__ == "__main__":
    sys.exit(main())
