"""Warmth: voice stats, baselines, the heuristic model, the tracker and its cues."""
import json
import math

import numpy as np
import pytest
from scipy.signal import lfilter

import voicecoach.analyzers.warmth as warmth_module
from voicecoach.analyzers.prosody import ProsodyFrames, ProsodyTracker
from voicecoach.analyzers.voice import (
    FEATURES,
    Baseline,
    SustainedCondition,
    VoiceStats,
    relative_features,
    semitones,
    voice_stats,
)
from voicecoach.analyzers.warmth import (
    HeuristicWarmth,
    TrainedWarmth,
    WarmthOptions,
    WarmthTracker,
    default_model,
    load_model_file,
    population_baseline,
)
from voicecoach.events import AGENT

SR = 16000
PLAIN = dict(f0_st=3.0, move_st=1.5, f1=500.0, f2=1500.0, f3=2500.0, centroid=1200.0,
             tilt=-15.0, energy=-25.0)
WARM = dict(PLAIN, f0_st=5.0, move_st=2.6, f2=1620.0, f3=2680.0, centroid=1400.0)
COLD = dict(PLAIN, f0_st=1.5, move_st=0.4, f2=1420.0, f3=2400.0, centroid=1050.0)


def voice_frames(dur_s, t0=0.0, seed=0, f0_st=3.0, move_st=1.5, f1=500.0, f2=1500.0,
                 f3=2500.0, centroid=1200.0, tilt=-15.0, energy=-25.0):
    """Frames of a synthetic voice: a pitch contour whose robust spread is ``move_st``,
    voiced 15 frames out of 25, formants and spectrum with a little jitter."""
    rng = np.random.default_rng(seed)
    n = int(round(dur_s / 0.01))
    t = t0 + 0.02 + 0.01 * np.arange(n)
    # a sine's IQR / 1.349 is 1.048 times its amplitude
    st = f0_st + move_st / 1.048 * np.sin(2 * np.pi * 0.5 * t) + 0.05 * rng.standard_normal(n)
    voiced = (np.arange(n) % 25) < 15
    jitter = lambda v, rel: v * (1 + rel * rng.standard_normal(n))  # noqa: E731
    nan_unvoiced = lambda x: np.where(voiced, x, np.nan)  # noqa: E731
    return ProsodyFrames(
        t=t, f0_hz=nan_unvoiced(100 * 2 ** (st / 12)), voiced=voiced,
        aperiodicity=np.where(voiced, 0.05, 0.8), rms_db=energy + rng.standard_normal(n),
        centroid_hz=jitter(centroid, 0.05), tilt_db=tilt + rng.standard_normal(n),
        f1_hz=nan_unvoiced(jitter(f1, 0.03)), f2_hz=nan_unvoiced(jitter(f2, 0.03)),
        f3_hz=nan_unvoiced(jitter(f3, 0.03)))


def windows(frames, window_s=4.0):
    n = int(window_s / frames.hop_s)
    return [frames[i:i + n] for i in range(0, len(frames) - n + 1, n // 2)]


def test_voice_stats_measures_level_and_movement():
    stats = voice_stats(voice_frames(8.0, f0_st=4.0, move_st=2.0))
    assert stats.f0_st == pytest.approx(4.0, abs=0.2)
    assert stats.f0_move_st == pytest.approx(2.0, rel=0.15)
    assert stats.f2_hz == pytest.approx(1500, rel=0.02)
    assert stats.voiced_s == pytest.approx(8.0 * 15 / 25, abs=0.05)
    assert stats.t == pytest.approx(8.01)
    assert semitones(np.array([100.0, 200.0]))[1] == pytest.approx(12.0)


def test_voice_stats_needs_enough_voiced_speech():
    assert voice_stats(voice_frames(1.0), min_voiced_s=1.0) is None  # 0.6 s voiced
    assert voice_stats(voice_frames(2.0), min_voiced_s=1.0) is not None
    assert voice_stats(ProsodyFrames.empty()) is None


def test_voice_stats_formants_missing_when_rarely_found():
    frames = voice_frames(4.0)
    frames.f2_hz[:] = np.nan
    frames.f2_hz[:20] = 1500.0
    stats = voice_stats(frames)
    assert math.isnan(stats.f2_hz) and stats.as_dict()["f2_hz"] is None


def test_baseline_round_trips_through_json():
    base = Baseline.from_stats([voice_stats(w) for w in windows(voice_frames(30.0))],
                               source="profile")
    base.mean["f1_hz"] = float("nan")
    again = Baseline.from_dict(json.loads(json.dumps(base.as_dict())))
    assert again.source == "profile" and again.n_windows == base.n_windows
    assert math.isnan(again.mean["f1_hz"])
    for name in ("f0_st", "f2_hz", "centroid_hz"):
        assert again.mean[name] == pytest.approx(base.mean[name])
        assert again.spread[name] == pytest.approx(base.spread[name])


def test_baseline_from_something_that_is_not_a_profile_is_an_error():
    for not_a_profile in ({}, {"features": {}}, {"features": {"f0_st": {"mean": None}}}, []):
        with pytest.raises(ValueError):
            Baseline.from_dict(not_a_profile)
    assert Baseline.from_dict({"features": {"f0_st": {"mean": 3.0}}}).mean["f0_st"] == 3.0


def test_baseline_spread_is_floored_and_update_moves_slowly():
    one = voice_stats(voice_frames(4.0))
    base = Baseline.from_stats([one, one])
    assert base.spread["f0_st"] >= 0.5 and base.spread["f2_hz"] >= 40.0
    warm = voice_stats(voice_frames(4.0, **WARM))
    moved = base.updated(warm, 0.1)
    assert base.mean["f2_hz"] < moved.mean["f2_hz"] < warm.f2_hz
    assert moved.mean["f2_hz"] == pytest.approx(
        base.mean["f2_hz"] + 0.1 * (warm.f2_hz - base.mean["f2_hz"]))
    with pytest.raises(ValueError):
        Baseline.from_stats([])


def plain_baseline():
    return Baseline.from_stats([voice_stats(w) for w in windows(voice_frames(40.0, seed=1))])


def test_heuristic_scores_warmer_voice_higher_and_plain_at_half():
    base, model = plain_baseline(), HeuristicWarmth()
    plain = [model.score(voice_stats(w), base) for w in windows(voice_frames(20.0, seed=2))]
    warm = [model.score(voice_stats(w), base) for w in windows(voice_frames(20.0, seed=3, **WARM))]
    cold = [model.score(voice_stats(w), base) for w in windows(voice_frames(20.0, seed=4, **COLD))]
    assert abs(np.mean(plain) - 0.5) < 0.1
    assert min(warm) > 0.75 and max(cold) < 0.25


def test_heuristic_is_bounded_and_deterministic():
    base, model = plain_baseline(), HeuristicWarmth()
    extreme = VoiceStats(f0_st=40.0, f0_move_st=30.0, f1_hz=5000.0, f2_hz=9000.0,
                         f3_hz=9999.0, centroid_hz=8000.0, tilt_db=20.0, energy_db=0.0,
                         voiced_s=3.0, t=1.0)
    high = model.score(extreme, base)
    assert 0.5 < high < 1.0 and high == model.score(extreme, base)
    nothing = VoiceStats(*([float("nan")] * 8), voiced_s=3.0, t=1.0)
    assert model.score(nothing, base) == 0.5


def synth_voice(dur_s, f0_hz, move_st, formants_hz, source_pole, seed=0):
    """A vowel-like voice with a slow pitch contour (harmonics through resonators)."""
    n = int(dur_s * SR)
    t = np.arange(n) / SR
    f0 = f0_hz * 2 ** (move_st * np.sin(2 * np.pi * 0.6 * t) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.cos(h * phase) for h in range(1, int((SR / 2 - 200) / f0.max()) + 1))
    y = lfilter([1.0], [1.0, -source_pole], y)
    for f, b in zip(formants_hz, (80, 100, 120)):
        r = np.exp(-np.pi * b / SR)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / SR), r * r], y)
    y += 1e-3 * y.std() * np.random.default_rng(seed).standard_normal(n)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def test_brighter_higher_livelier_audio_scores_warmer_against_plain_baseline():
    plain_audio = synth_voice(16.0, 120.0, 1.0, (500, 1500, 2500), 0.95)
    warm_audio = synth_voice(4.0, 135.0, 2.5, (530, 1620, 2700), 0.85, seed=1)
    plain = ProsodyTracker().feed(0.0, plain_audio)
    warm = ProsodyTracker().feed(0.0, warm_audio)
    plain_windows = windows(plain)
    base = Baseline.from_stats([voice_stats(w) for w in plain_windows])
    model = HeuristicWarmth()
    plain_scores = [model.score(voice_stats(w), base) for w in plain_windows]
    warm_score = model.score(voice_stats(warm), base)
    assert warm_score > max(plain_scores) + 0.2
    assert abs(np.mean(plain_scores) - 0.5) < 0.15


def run_tracker(frames, chunk=None, **kwargs):
    tracker = WarmthTracker(**kwargs)
    chunk = chunk or len(frames)
    events = [e for i in range(0, len(frames), chunk) for e in tracker.feed(frames[i:i + chunk])]
    return tracker, events


def plain_then_cold():
    return ProsodyFrames.concat([voice_frames(40.0, seed=5),
                                 voice_frames(40.0, t0=40.0, seed=6, **COLD)])


def test_tracker_learns_call_baseline_then_cues_low_warmth_and_monotone_once():
    tracker, events = run_tracker(plain_then_cold(), model=HeuristicWarmth())
    cues = [e.data["cue"] for e in events]
    assert cues.count("low_warmth") == 1 and cues.count("monotone") == 1
    assert all(e.kind == "cue" and e.channel == AGENT and e.t > 40.0 for e in events)
    low = next(e for e in events if e.data["cue"] == "low_warmth")
    assert low.t >= 40.0 + WarmthOptions().low_for_s
    state = tracker.state()
    assert state["warmth"] < 0.3 and state["pitch_movement_st"] < 1.0
    assert state["baseline"] == "call"
    summary = tracker.summary()
    assert set(summary) == {"mean", "timeline", "first_minute_mean", "baseline", "profile_id", "model"}
    assert summary["profile_id"] is None            # judged against its own start: in no trend
    assert summary["baseline"] == "call" and summary["model"] == "heuristic-v1"
    first = [w for t, w in tracker.timeline() if t <= 0.02 + 60.0]
    assert summary["first_minute_mean"] == pytest.approx(np.mean(first), abs=1e-3)
    assert abs(np.mean([w for t, w in tracker.timeline() if t < 40.0]) - 0.5) < 0.1
    assert summary["timeline"] == tracker.timeline()
    assert all(0.0 <= w <= 1.0 for _, w in tracker.timeline())


def test_plain_voice_gives_no_cues():
    _, events = run_tracker(voice_frames(80.0, seed=7))
    assert events == []


@pytest.mark.parametrize("chunk", [1, 13, 250])
def test_tracker_does_not_depend_on_frame_grouping(chunk):
    frames = plain_then_cold()
    whole, whole_events = run_tracker(frames)
    pieces, piece_events = run_tracker(frames, chunk=chunk)
    assert pieces.timeline() == whole.timeline()
    assert [e.as_dict() for e in piece_events] == [e.as_dict() for e in whole_events]


def test_profile_baseline_scores_from_the_first_window():
    profile = Baseline.from_dict(json.loads(json.dumps(
        Baseline.from_stats([voice_stats(w) for w in windows(voice_frames(40.0))],
                            source="profile").as_dict())))
    tracker, _ = run_tracker(voice_frames(6.0, seed=8, **WARM), baseline=profile,
                             model=HeuristicWarmth())
    timeline = tracker.timeline()
    assert timeline and timeline[0][0] < 3.0
    assert tracker.state()["baseline"] == "profile"
    assert tracker.summary()["baseline"] == "profile"
    assert all(w > 0.7 for _, w in timeline)


def test_a_trained_model_plugs_into_the_same_seam():
    class Constant:
        name = "constant"

        def score(self, stats, baseline):
            return 1.7  # out of range on purpose: the tracker clips

    tracker, _ = run_tracker(voice_frames(20.0), model=Constant())
    assert tracker.summary()["model"] == "constant"
    assert {w for _, w in tracker.timeline()} == {1.0}


def test_sustained_condition_needs_duration_and_respects_cooldown():
    cond = SustainedCondition(for_s=3.0, cooldown_s=10.0)
    fired = [cond.update(t, True, 1.0) for t in range(1, 20)]
    assert [t for t, f in zip(range(1, 20), fired) if f] == [3, 13]
    cond = SustainedCondition(for_s=3.0, cooldown_s=0.0)
    pattern = [True, True, False, True, True, True]
    assert [cond.update(t, c, 1.0) for t, c in enumerate(pattern)] == [
        False, False, False, False, False, True]


# -- the trained model ------------------------------------------------------------

def test_voice_stats_measures_voicing_and_movement_of_brightness_and_loudness():
    frames = voice_frames(8.0)
    stats = voice_stats(frames)
    assert stats.voicing == pytest.approx(15 / 25, abs=0.01)
    # rms_db jitter is N(0, 1 dB): its robust spread is about 1 dB
    assert stats.energy_move_db == pytest.approx(1.0, abs=0.15)
    assert stats.tilt_move_db == pytest.approx(1.0, abs=0.15)
    # centroid jitter of 5 % is about 0.85 semitones
    assert stats.centroid_move_st == pytest.approx(12 * math.log2(1.05), abs=0.15)
    assert 0.04 < stats.aperiodicity < 0.06
    flat = voice_frames(8.0)
    flat.rms_db[:] = -25.0
    assert voice_stats(flat).energy_move_db == 0.0


def test_relative_features_use_semitone_ratios_for_frequencies():
    base = plain_baseline()
    stats = voice_stats(voice_frames(8.0, seed=9, f0_st=5.0, centroid=2400.0, tilt=-12.0))
    rel = relative_features(stats, base)
    assert rel["centroid_hz"] == pytest.approx(12 * math.log2(stats.centroid_hz
                                                              / base.mean["centroid_hz"]))
    assert rel["centroid_hz"] == pytest.approx(12.0, abs=0.3)   # an octave brighter
    assert rel["f0_st"] == pytest.approx(stats.f0_st - base.mean["f0_st"])
    assert rel["tilt_db"] == pytest.approx(3.0, abs=0.3)
    base.mean["f2_hz"] = float("nan")
    assert math.isnan(relative_features(stats, base)["f2_hz"])


def tiny_model():
    return TrainedWarmth(scale={"f0_st": 2.0, "centroid_hz": 4.0},
                         weights={"f0_st": 1.0, "centroid_hz": 0.5},
                         square_weights={"centroid_hz": -0.25}, z_clip=3.0, name="tiny")


def test_trained_model_formula_and_centre():
    base = plain_baseline()
    model = tiny_model()
    same = VoiceStats(**{**{f: base.mean[f] for f in FEATURES}, "voiced_s": 3.0, "t": 1.0})
    assert model.score(same, base) == pytest.approx(0.5)
    higher = VoiceStats(**{**{f: base.mean[f] for f in FEATURES}, "voiced_s": 3.0, "t": 1.0,
                           "f0_st": base.mean["f0_st"] + 2.0,
                           "centroid_hz": base.mean["centroid_hz"] * 2 ** (4 / 12)})
    # z_f0 = 1, z_centroid = 1: logit = 1 + 0.5 - 0.25
    assert model.logit(higher, base) == pytest.approx(1.25)
    assert model.score(higher, base) == pytest.approx(1 / (1 + math.exp(-1.25)))
    much = VoiceStats(**{**higher.__dict__, "centroid_hz": base.mean["centroid_hz"] * 4})
    assert model.z(much, base)["centroid_hz"] == 3.0                 # clipped
    assert model.logit(much, base) == pytest.approx(1 + 1.5 - 2.25)  # a shout falls back


def test_shipped_model_file_is_complete_and_honest():
    data = load_model_file()
    assert set(data["features"]) <= set(FEATURES)
    assert "CC BY-NC-SA 4.0" in data["licence"]
    for entry in data["features"].values():
        assert entry["scale"] > 0 and math.isfinite(entry["weight"])
    model = TrainedWarmth.from_dict(data)
    assert model.name == data["name"] and model.weights
    assert population_baseline().source == "population"
    card = warmth_module.model_file_path().with_name("MODEL_CARD.md").read_text(encoding="utf-8")
    for must in ("CC BY-NC-SA", "not a smile", "rank", "python3 -m tools.train_warmth"):
        assert must in card


def test_shipped_model_scores_brighter_higher_voice_warmer_and_ordinary_at_half():
    base, model = plain_baseline(), TrainedWarmth.load()
    plain = [model.score(voice_stats(w), base) for w in windows(voice_frames(20.0, seed=2))]
    warm = [model.score(voice_stats(w), base) for w in windows(voice_frames(20.0, seed=3, **WARM))]
    cold = [model.score(voice_stats(w), base) for w in windows(voice_frames(20.0, seed=4, **COLD))]
    assert abs(np.mean(plain) - 0.5) < 0.05
    assert min(warm) > max(plain) + 0.05 and max(cold) < min(plain) - 0.05


def test_shipped_model_is_bounded_deterministic_and_ignores_missing_features():
    base, model = plain_baseline(), TrainedWarmth.load()
    extreme = VoiceStats(f0_st=40.0, f0_move_st=30.0, f1_hz=5000.0, f2_hz=9000.0,
                         f3_hz=9999.0, centroid_hz=8000.0, tilt_db=20.0, energy_db=0.0,
                         voiced_s=3.0, t=1.0, voicing=1.0, centroid_move_st=20.0,
                         tilt_move_db=20.0, energy_move_db=20.0, aperiodicity=1.0)
    high = model.score(extreme, base)
    assert 0.0 < high < 1.0 and high == model.score(extreme, base)
    nothing = VoiceStats(*([float("nan")] * 8), voiced_s=3.0, t=1.0)
    assert model.score(nothing, base) == 0.5
    old_profile = base.as_dict()
    for name in ("voicing", "aperiodicity", "centroid_move_st"):
        del old_profile["features"][name]       # a profile from before these features
    stats = voice_stats(voice_frames(8.0, seed=10, **WARM))
    assert 0.5 < model.score(stats, Baseline.from_dict(old_profile)) < 1.0


def test_brighter_higher_livelier_audio_scores_warmer_with_the_shipped_model():
    plain_audio = synth_voice(16.0, 120.0, 1.0, (500, 1500, 2500), 0.95)
    warm_audio = synth_voice(4.0, 135.0, 2.5, (530, 1620, 2700), 0.85, seed=1)
    plain_windows = windows(ProsodyTracker().feed(0.0, plain_audio))
    base = Baseline.from_stats([voice_stats(w) for w in plain_windows])
    model = TrainedWarmth.load()
    plain_scores = [model.score(voice_stats(w), base) for w in plain_windows]
    warm_score = model.score(voice_stats(ProsodyTracker().feed(0.0, warm_audio)), base)
    assert warm_score > max(plain_scores) + 0.1
    assert abs(np.mean(plain_scores) - 0.5) < 0.05


def test_tracker_uses_the_trained_model_and_falls_back_without_its_file(monkeypatch, tmp_path):
    tracker, _ = run_tracker(voice_frames(10.0))
    assert isinstance(default_model(), TrainedWarmth)
    name = load_model_file()["name"]
    assert tracker.state()["model"] == name and tracker.summary()["model"] == name
    monkeypatch.setattr(warmth_module, "model_file_path", lambda: tmp_path / "missing.json")
    assert isinstance(default_model(), HeuristicWarmth)
    tracker, _ = run_tracker(voice_frames(10.0))
    assert tracker.state()["model"] == "heuristic-v1"
    assert tracker.summary()["model"] == "heuristic-v1"


def test_monotone_is_judged_against_the_profile_movement():
    lively = Baseline.from_stats([voice_stats(w) for w in windows(voice_frames(40.0, move_st=3.0))],
                                 source="profile")
    calmer = voice_frames(40.0, seed=11, move_st=1.5)   # flat for this speaker only
    _, events = run_tracker(calmer, baseline=lively)
    assert [e.data["cue"] for e in events].count("monotone") == 1
    _, events = run_tracker(calmer)                      # no profile: 1.5 st is not flat
    assert "monotone" not in [e.data["cue"] for e in events]
    steady = Baseline.from_stats([voice_stats(w) for w in windows(voice_frames(40.0, move_st=1.5))],
                                 source="profile")
    _, events = run_tracker(calmer, baseline=steady)
    assert "monotone" not in [e.data["cue"] for e in events]
