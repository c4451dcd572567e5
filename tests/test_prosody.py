"""Prosody frames on synthetic voices: F0, voicing, formants, framing, block sizes."""
import numpy as np
import pytest
from scipy.signal import lfilter

from voicecoach.analyzers.prosody import (
    SILENCE_FLOOR_DB,
    ProsodyFrames,
    ProsodyOptions,
    ProsodyTracker,
    RawFrames,
    SpeechWindow,
)

SR = 16000


def synth_voice(dur_s, f0_hz, formants_hz=(500, 1500, 2500), bandwidths_hz=(80, 100, 120),
                amp=0.3, source_pole=0.9, seed=0):
    """Harmonic source (all harmonics below Nyquist, falling with a one-pole filter)
    through a cascade of two-pole resonators. ``f0_hz`` may be a per-sample contour."""
    n = int(dur_s * SR)
    f0 = np.broadcast_to(np.asarray(f0_hz, dtype=float), (n,))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    source = np.zeros(n)
    h = 1
    while h * f0.max() < SR / 2 - 200:
        source += np.cos(h * phase)
        h += 1
    y = lfilter([1.0], [1.0, -source_pole], source)
    for f, b in zip(formants_hz, bandwidths_hz):
        r = np.exp(-np.pi * b / SR)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / SR), r * r], y)
    y += 1e-4 * y.std() * np.random.default_rng(seed).standard_normal(n)
    ramp = min(n // 2, int(0.01 * SR))  # 10 ms fade in and out, as a voice would
    fade = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    y[:ramp] *= fade
    y[n - ramp:] *= fade[::-1]
    return (amp * y / np.abs(y).max()).astype(np.float32)


def analyse(y, start_s=0.0, options=None):
    tracker = ProsodyTracker(options)
    return ProsodyFrames.concat([tracker.feed(start_s, y), tracker.flush()])


@pytest.mark.parametrize("f0", [80.0, 120.0, 210.0, 330.0])
def test_f0_of_steady_voice_within_2_percent(f0):
    frames = analyse(synth_voice(1.0, f0))
    assert frames.voiced.mean() > 0.9
    voiced_f0 = frames.f0_hz[frames.voiced]
    assert np.all(np.abs(voiced_f0 / f0 - 1) < 0.02)
    assert np.all(np.isnan(frames.f0_hz[~frames.voiced]))


def test_f0_follows_a_glide():
    t = np.arange(2 * SR) / SR
    y = synth_voice(2.0, 100 * 2 ** (t / 2))  # one octave up over two seconds
    frames = analyse(y)
    truth = 100 * 2 ** (frames.t / 2)
    ok = frames.voiced
    assert ok.mean() > 0.9
    assert np.nanmax(np.abs(frames.f0_hz[ok] / truth[ok] - 1)) < 0.02


@pytest.mark.parametrize("f0, formants", [(120.0, (500, 1500, 2500)),
                                          (110.0, (700, 1100, 2500)),
                                          (200.0, (800, 1800, 2900)),
                                          (120.0, (300, 2200, 3000))])
def test_formants_within_10_percent(f0, formants):
    frames = analyse(synth_voice(1.0, f0, formants))
    for name, truth in zip(("f1_hz", "f2_hz", "f3_hz"), formants):
        values = getattr(frames, name)[frames.voiced]
        assert np.isfinite(values).mean() > 0.9
        assert abs(np.nanmedian(values) / truth - 1) < 0.1, name


def test_noise_and_silence_are_unvoiced():
    noise = 0.1 * np.random.default_rng(1).standard_normal(SR).astype(np.float32)
    frames = analyse(noise)
    assert frames.voiced.mean() < 0.05
    silent = analyse(np.zeros(SR, dtype=np.float32))
    assert not silent.voiced.any()
    assert np.all(silent.rms_db == SILENCE_FLOOR_DB)
    assert np.all(np.isnan(silent.centroid_hz)) and np.all(np.isnan(silent.f1_hz))


def test_quiet_voice_under_energy_gate_is_unvoiced():
    y = synth_voice(0.5, 150.0, amp=10 ** (-75 / 20))
    assert not analyse(y).voiced.any()


def test_clipped_voice_keeps_its_pitch_and_stays_finite():
    y = np.clip(3 * synth_voice(1.0, 150.0, amp=1.0), -1, 1)
    frames = analyse(y)
    assert frames.voiced.mean() > 0.9
    assert abs(np.nanmedian(frames.f0_hz) / 150 - 1) < 0.02
    assert np.all(np.isfinite(frames.rms_db)) and np.all(np.isfinite(frames.centroid_hz))
    assert np.all(frames.rms_db <= 0.0)


def test_rms_db_is_dbfs():
    t = np.arange(SR) / SR
    frames = analyse((0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))
    # a sine of amplitude 0.5 has RMS 0.354: -9.03 dBFS
    assert np.allclose(frames.rms_db[5:-5], 20 * np.log10(0.5 / np.sqrt(2)), atol=0.1)


def test_brighter_voice_has_higher_centroid_and_tilt():
    dull = analyse(synth_voice(1.0, 150.0, source_pole=0.97))
    bright = analyse(synth_voice(1.0, 150.0, source_pole=0.6))
    assert np.nanmedian(bright.centroid_hz) > np.nanmedian(dull.centroid_hz) + 100
    assert np.nanmedian(bright.tilt_db) > np.nanmedian(dull.tilt_db) + 3


def test_very_short_and_empty_input():
    tracker = ProsodyTracker()
    assert len(tracker.feed(0.0, np.zeros(0, dtype=np.float32))) == 0
    assert len(tracker.feed(0.0, synth_voice(0.01, 150.0))) == 0  # shorter than a frame
    # 10 ms of audio: the first frame is centred at 20 ms, beyond the audio
    assert len(tracker.flush()) == 0
    tracker.feed(0.0, synth_voice(0.03, 150.0))
    rest = tracker.flush()
    assert len(rest) == 1 and rest.t[0] == pytest.approx(0.02)
    assert len(ProsodyTracker().flush()) == 0


def test_frame_times_follow_the_call_clock():
    frames = analyse(synth_voice(0.5, 150.0), start_s=5.0)
    assert frames.t[0] == pytest.approx(5.02)
    assert np.allclose(np.diff(frames.t), 0.01)
    assert frames.t[-1] < 5.5


def test_gaps_are_filled_short_and_restart_long():
    y = synth_voice(1.0, 150.0)
    tracker = ProsodyTracker()
    a = tracker.feed(0.0, y[:8000])
    b = tracker.feed(0.505, y[8080:])  # 5 ms lost: filled with silence
    both = ProsodyFrames.concat([a, b])
    assert np.allclose(np.diff(both.t), 0.01)
    c = tracker.feed(10.003, y[:8000])  # long gap: the tail is flushed, framing restarts
    tail, after = c.select(c.t < 10.0), c.select(c.t > 10.0)
    assert tail.t[0] == pytest.approx(both.t[-1] + 0.01) and tail.t[-1] < 1.0
    assert after.t[0] == pytest.approx(10.01 + 0.02)
    assert np.allclose(np.diff(after.t), 0.01)


@pytest.mark.parametrize("block", [1, 160, 333, 4096, 30 * SR])
def test_results_do_not_depend_on_block_size(block):
    y = np.concatenate([synth_voice(0.6, 130.0), np.zeros(2000, np.float32),
                        synth_voice(0.7, 210.0, (700, 1700, 2700), seed=3)])
    reference = analyse(y)
    tracker = ProsodyTracker()
    parts = [tracker.feed(i / SR, y[i:i + block]) for i in range(0, len(y), block)]
    got = ProsodyFrames.concat(parts + [tracker.flush()])
    assert len(got) == len(reference)
    assert np.array_equal(got.voiced, reference.voiced)
    for name in ("t", "f0_hz", "aperiodicity", "rms_db", "centroid_hz", "tilt_db",
                 "f1_hz", "f2_hz", "f3_hz"):
        assert np.allclose(getattr(got, name), getattr(reference, name),
                           rtol=1e-5, atol=1e-6, equal_nan=True), name


@pytest.mark.parametrize("split", [0, 25, 38, 90])
def test_frames_analysed_alone_match_the_whole_analysis(split):
    """The engine analyses only the frames voice activity calls speech (each with its
    formant anchor), in batches: their values are those of analysing every frame."""
    y = np.concatenate([synth_voice(0.6, 130.0), np.zeros(2000, np.float32),
                        synth_voice(0.7, 210.0, (700, 1700, 2700), seed=3)])
    reference = analyse(y)
    tracker = ProsodyTracker()
    raw = RawFrames.concat([tracker.feed_raw(0.0, y[:7000]), tracker.feed_raw(7000 / SR, y[7000:]),
                            tracker.flush_raw()])
    assert np.array_equal(raw.t, reference.t)
    wanted = np.zeros(len(raw), bool)
    wanted[5:30] = wanted[41:44] = wanted[61:] = True      # odd starts: anchors before them
    got = []
    for part, want in ((raw[:split], wanted[:split]), (raw[split:], wanted[split:])):
        keep = tracker.anchored(part, want)
        assert not (keep & ~want).any() or (part.index[keep & ~want] % 2 == 0).all()
        got.append(tracker.analyse(part[keep]).select(want[keep]))
    got = ProsodyFrames.concat(got)
    expected = reference.select(wanted)
    assert np.array_equal(got.t, expected.t)
    assert np.array_equal(got.voiced, expected.voiced)
    assert np.isfinite(expected.f1_hz).sum() > 40
    for name in ("f0_hz", "aperiodicity", "rms_db", "centroid_hz", "tilt_db", "f1_hz", "f2_hz", "f3_hz"):
        assert np.allclose(getattr(got, name), getattr(expected, name),
                           rtol=1e-5, atol=1e-6, equal_nan=True), name


def test_split_keeps_each_frame_with_its_formant_anchor():
    tracker = ProsodyTracker()
    raw = RawFrames.concat([tracker.feed_raw(0.0, synth_voice(0.5, 150.0)), tracker.flush_raw()])
    for t in (0.0, 0.105, 0.115, 0.3, 9.0):
        ready, rest = tracker.split(raw, t)
        assert len(ready) + len(rest) == len(raw)
        assert (ready.t < t).all()
        if len(rest):
            assert rest.index[0] % 2 == 0 and rest.t[0] >= t - 0.01


def test_deterministic():
    y = synth_voice(0.5, 170.0)
    a, b = analyse(y), analyse(y)
    assert np.array_equal(a.f0_hz, b.f0_hz, equal_nan=True)
    assert np.array_equal(a.f2_hz, b.f2_hz, equal_nan=True)


def test_frame_too_short_for_fmin_is_rejected():
    with pytest.raises(ValueError):
        ProsodyTracker(ProsodyOptions(frame_s=0.02, fmin_hz=50.0))


def test_frames_select_concat_and_slices():
    frames = analyse(np.concatenate([synth_voice(0.3, 150.0), np.zeros(4800, np.float32)]))
    voiced = frames.select(frames.voiced)
    assert len(voiced) == int(frames.voiced.sum()) and voiced.voiced.all()
    assert voiced.voiced_s == pytest.approx(len(voiced) * 0.01)
    joined = ProsodyFrames.concat([frames[:10], frames[10:]])
    assert np.array_equal(joined.t, frames.t)
    assert len(ProsodyFrames.concat([])) == 0
    other = ProsodyFrames.empty(hop_s=0.02)
    with pytest.raises(ValueError):
        ProsodyFrames.concat([frames, other])


def test_speech_window_cuts_do_not_depend_on_grouping():
    frames = analyse(synth_voice(3.0, 150.0))
    whole = SpeechWindow(1.0, 0.25, 10.0).feed(frames)
    window = SpeechWindow(1.0, 0.25, 10.0)
    pieces = [w for i in range(0, len(frames), 7) for w in window.feed(frames[i:i + 7])]
    assert len(whole) == len(pieces) == len(frames) // 25
    for a, b in zip(whole, pieces):
        assert np.array_equal(a.t, b.t)
    assert all(len(w) <= 100 for w in whole)
    assert len(whole[-1]) == 100


def test_speech_window_does_not_reach_across_long_pauses():
    frames = analyse(synth_voice(1.0, 150.0))
    later = analyse(synth_voice(0.5, 150.0), start_s=30.0)
    windows = SpeechWindow(1.0, 0.5, 5.0).feed(ProsodyFrames.concat([frames, later]))
    assert windows[-1].t[0] >= 30.0


def test_speech_window_flush_ends_a_stream_at_its_last_frame():
    frames = analyse(synth_voice(3.0, 150.0))[:230]
    window = SpeechWindow(1.0, 0.25, 10.0)
    cut = window.feed(frames)
    (last,) = window.flush()
    assert cut[-1].t[-1] == frames.t[224]              # the last update point
    assert last.t[-1] == frames.t[-1] and len(last) == 100
    assert window.flush() == []                         # the stream has ended
    on_the_point = SpeechWindow(1.0, 0.25, 10.0)
    on_the_point.feed(frames[:225])
    assert on_the_point.flush() == []                   # nothing after the last cut
    short = SpeechWindow(1.0, 0.25, 10.0)
    assert short.feed(frames[:10]) == [] and len(short.flush()[0]) == 10
