"""Voice profiles, clip scores and the microphone helper, on generated arrays."""
import json
import math
import re
import shutil
import subprocess

import time

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from voicecoach.analyzers.prosody import ProsodyFrames
from voicecoach.analyzers.voice import Baseline
from voicecoach.analyzers.warmth import HeuristicWarmth, WarmthOptions, speech_window
from voicecoach.sources.audio import AudioError
from voicecoach.sources.devices import DeviceChoice, resolve_device
from voicecoach.analyzers import profile as profile_module
from voicecoach.analyzers.profile import (
    PROFILE_KIND,
    ProfileOptions,
    build_profile,
    one_stream,
    profile_from_audio,
    profile_from_frames,
    score_audio,
    score_clips,
    speech_frames,
    speech_windows,
    window_stats,
)
from voicecoach.sources import mic
from voicecoach.sources.mic import CALIBRATION_PASSAGE, record_mic

SR = 16000


class EnergyVad:
    """Stands in for Silero: a window is speech when its RMS is above -45 dBFS."""

    def reset(self):
        pass

    def __call__(self, windows):
        rms = np.sqrt(np.mean(np.asarray(windows, np.float64) ** 2, axis=1))
        return (rms > 10 ** (-45 / 20)).astype(np.float32)


def voice(dur_s, f0_hz=120.0, move_st=1.0, formants_hz=(500, 1500, 2500), tilt_pole=0.95,
          seed=0):
    """Speech-like audio: 2.5 s phrases of vowel syllables (about 4 per second) with a
    slow pitch contour, separated by 0.5 s pauses; harmonics through three resonators.
    ``tilt_pole`` is the source's one-pole low-pass: smaller is brighter."""
    rng = np.random.default_rng(seed)
    n = int(dur_s * SR)
    t = np.arange(n) / SR
    f0 = f0_hz * 2 ** (move_st * np.sin(2 * np.pi * 0.4 * t + rng.uniform(0, 6)) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.cos(h * phase) for h in range(1, int((SR / 2 - 200) / (f0.max())) + 1))
    y = lfilter([1.0], [1.0, -tilt_pole], y)
    for f, b in zip(formants_hz, (80, 100, 120)):
        r = np.exp(-np.pi * b / SR)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / SR), r * r], y)
    syllables = 0.55 + 0.45 * np.cos(2 * np.pi * 4.0 * t)
    phrases = (t % 3.0) < 2.5
    y = y * syllables * phrases
    y += 1e-4 * y.std() * rng.standard_normal(n)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


PLAIN = dict(f0_hz=120.0, move_st=1.0, formants_hz=(500, 1500, 2500), tilt_pole=0.95)
# 2 semitones higher, livelier, formants 5 % up (a shorter tract), a brighter source
BRIGHTER = dict(f0_hz=120.0 * 2 ** (2 / 12), move_st=2.0, formants_hz=(525, 1575, 2625),
                tilt_pole=0.85)


@pytest.fixture(scope="module")
def plain_profile():
    return profile_from_audio([voice(20.0, seed=1, **PLAIN), voice(12.0, seed=2, **PLAIN)],
                              vad_model=EnergyVad())


def score(audio, profile, **kwargs):
    return score_audio(audio, profile, vad_model=EnergyVad(), **kwargs)


def test_speech_frames_keep_only_what_voice_activity_calls_speech():
    audio = np.concatenate([np.zeros(SR, np.float32), voice(2.0, **PLAIN),
                            np.zeros(SR, np.float32)])
    frames = speech_frames(audio, vad_model=EnergyVad())
    assert len(frames) > 100
    assert frames.t.min() >= 0.9 and frames.t.max() <= 3.1
    assert speech_frames(np.zeros(2 * SR, np.float32), vad_model=EnergyVad()).t.size == 0


def test_speech_windows_are_the_live_meters_windows():
    frames = speech_frames(voice(12.0, **PLAIN), vad_model=EnergyVad())
    windows = speech_windows(frames)
    meter = speech_window(WarmthOptions()).feed(frames)      # what WarmthTracker scores
    assert len(windows) in (len(meter), len(meter) + 1)
    for a, b in zip(windows, meter):
        assert np.array_equal(a.t, b.t)
    assert all(len(w) == 400 for w in windows[3:]) and len(windows[0]) == 100
    assert windows[-1].t[-1] == frames.t[-1]                 # a recording has an end
    short = frames[:150]
    assert [len(w) for w in speech_windows(short)] == [100, 150]
    assert len(speech_windows(frames[:60])) == 1                # under one update step
    assert speech_windows(ProsodyFrames.empty()) == []
    two_s = speech_windows(frames, ProfileOptions(warmth=WarmthOptions(window_s=2.0)))
    assert max(len(w) for w in two_s) == 200                 # [warmth] window_s is used


def test_recordings_are_windowed_as_one_stream():
    first = speech_frames(voice(3.0, seed=1, **PLAIN), vad_model=EnergyVad())
    second = speech_frames(voice(3.0, seed=2, **PLAIN), vad_model=EnergyVad())
    joined = one_stream([first, ProsodyFrames.empty(), second])
    assert len(joined) == len(first) + len(second)
    assert np.all(np.diff(joined.t) > 0) and joined.t[0] == 0.0
    assert joined.t[len(first)] == pytest.approx(joined.t[len(first) - 1] + first.hop_s)
    assert np.allclose(np.diff(joined.t[len(first):]), np.diff(second.t))
    o = ProfileOptions(min_profile_voiced_s=1.0)
    p = profile_from_frames([first, second], o)
    assert p["n_windows"] == len(window_stats(joined, o))


def test_profile_holds_statistics_not_audio_and_round_trips(plain_profile):
    p = json.loads(json.dumps(plain_profile))
    assert p["kind"] == PROFILE_KIND and p["source"] == "profile"
    assert p["voiced_s"] > 10 and p["n_windows"] > 10
    assert set(p) == {"kind", "source", "n_windows", "features", "speech_s", "voiced_s",
                      "window_s", "recordings", "without_speech"}
    base = Baseline.from_dict(p)
    assert base.source == "profile"
    assert base.mean["f0_st"] == pytest.approx(12 * math.log2(120 / 100), abs=0.5)
    assert all(isinstance(v["mean"], (float, type(None))) for v in p["features"].values())


def test_brighter_higher_livelier_voice_scores_above_the_same_voice(plain_profile):
    plain = score(voice(8.0, seed=3, **PLAIN), plain_profile)
    warm = score(voice(8.0, seed=4, **BRIGHTER), plain_profile)
    assert plain["reason"] is None and warm["reason"] is None
    assert abs(plain["warmth"] - 0.5) < 0.1
    assert warm["warmth"] > plain["warmth"] + 0.08
    assert plain["baseline"] == "profile" and plain["windows"] >= 1
    # the heuristic, on the same scale, agrees on the direction
    heur_plain = score(voice(8.0, seed=3, **PLAIN), plain_profile, model=HeuristicWarmth())
    heur_warm = score(voice(8.0, seed=4, **BRIGHTER), plain_profile, model=HeuristicWarmth())
    assert heur_warm["warmth"] > heur_plain["warmth"]


def test_score_is_bounded_deterministic_and_survives_clipping(plain_profile):
    audio = voice(6.0, seed=5, **PLAIN)
    first, again = score(audio, plain_profile), score(audio, plain_profile)
    assert first == again
    clipped = np.clip(audio * 20, -0.3, 0.3)     # hard clipping, most peaks cut
    hot = score(clipped, plain_profile)
    assert hot["reason"] is None and 0.0 <= hot["warmth"] <= 1.0


def test_silence_and_very_short_clips_give_a_reason_not_a_number(plain_profile):
    silent = score(np.zeros(3 * SR, np.float32), plain_profile)
    assert silent["warmth"] is None and "not enough speech" in silent["reason"]
    assert silent["voiced_s"] == 0.0
    blip = np.concatenate([np.zeros(SR, np.float32), voice(0.3, **PLAIN),
                           np.zeros(SR, np.float32)])
    short = score(blip, plain_profile)
    assert short["warmth"] is None and "not enough speech" in short["reason"]
    noise = (0.05 * np.random.default_rng(0).standard_normal(3 * SR)).astype(np.float32)
    assert score(noise, plain_profile)["warmth"] is None


def test_profile_needs_enough_speech():
    with pytest.raises(AudioError, match="not enough speech"):
        profile_from_audio([voice(3.0, **PLAIN)], vad_model=EnergyVad())
    with pytest.raises(AudioError, match="not enough speech"):
        profile_from_audio([np.zeros(10 * SR, np.float32)], vad_model=EnergyVad())
    with pytest.raises(AudioError, match="^quiet.wav: not enough speech"):        # which recording
        profile_from_audio([np.zeros(10 * SR, np.float32)], vad_model=EnergyVad(), names=["quiet.wav"])
    small = profile_from_audio([voice(3.0, **PLAIN)], vad_model=EnergyVad(),
                               options=ProfileOptions(min_profile_voiced_s=1.0))
    assert small["n_windows"] >= 1


def test_files_to_profile_to_scores(tmp_path):
    paths = []
    for i, (kind, seconds) in enumerate([(PLAIN, 15.0), (PLAIN, 10.0)]):
        path = tmp_path / f"ordinary{i}.wav"
        sf.write(path, np.stack([voice(seconds, seed=10 + i, **kind)] * 2, axis=1), SR)
        paths.append(path)
    p = build_profile(paths, vad_model=EnergyVad())
    assert p["recordings"] == ["ordinary0.wav", "ordinary1.wav"]
    clips = {"plain.flac": voice(5.0, seed=20, **PLAIN),
             "warm.flac": voice(5.0, seed=21, **BRIGHTER),
             "silent.flac": np.zeros(2 * SR, np.float32)}
    for name, audio in clips.items():
        sf.write(tmp_path / name, audio, SR)
    results = score_clips([tmp_path / n for n in clips], profile=p, vad_model=EnergyVad())
    assert [r["file"] for r in results] == [str(tmp_path / n) for n in clips]
    by_name = {n: r for n, r in zip(clips, results)}
    assert by_name["warm.flac"]["warmth"] > by_name["plain.flac"]["warmth"]
    assert by_name["silent.flac"]["warmth"] is None and by_name["silent.flac"]["reason"]
    json.dumps(results)
    as_baseline = score_clips([tmp_path / "warm.flac"], profile=Baseline.from_dict(p),
                              vad_model=EnergyVad())
    assert as_baseline[0]["warmth"] == by_name["warm.flac"]["warmth"]
    with pytest.raises(AudioError):
        score_clips([tmp_path / "missing.wav"], profile=p, vad_model=EnergyVad())
    with pytest.raises(AudioError):
        build_profile([], vad_model=EnergyVad())


def test_a_call_recording_gives_its_left_channel_and_three_channels_are_refused(tmp_path):
    """A stereo file is a call (left = the agent, as everywhere in VoiceCoach): the profile
    and the scores are the left channel's, never the caller's voice mixed in; a file with
    three channels is the one-line error every command gives."""
    agent = voice(12.0, seed=30, **PLAIN)
    caller = voice(12.0, seed=31, **BRIGHTER)
    sf.write(tmp_path / "call.wav", np.stack([agent, caller], axis=1), SR)
    sf.write(tmp_path / "agent.wav", agent, SR)
    from_call = build_profile([tmp_path / "call.wav"], vad_model=EnergyVad())
    from_agent = build_profile([tmp_path / "agent.wav"], vad_model=EnergyVad())
    assert {k: v for k, v in from_call.items() if k != "recordings"} == \
        {k: v for k, v in from_agent.items() if k != "recordings"}
    scores = score_clips([tmp_path / "call.wav", tmp_path / "agent.wav"], profile=from_agent,
                         vad_model=EnergyVad())
    assert scores[0]["warmth"] == scores[1]["warmth"]
    sf.write(tmp_path / "three.wav", np.stack([agent, caller, agent], axis=1), SR)
    message = "three.wav: has 3 channels; expected 2 (agent and customer) or 1 (the agent alone)"
    with pytest.raises(AudioError, match=re.escape(message)):
        build_profile([tmp_path / "three.wav"], vad_model=EnergyVad())
    with pytest.raises(AudioError, match="has 3 channels"):
        score_clips([tmp_path / "three.wav"], vad_model=EnergyVad())


def test_without_a_profile_clips_are_scored_against_the_population():
    result = score(voice(5.0, seed=6, **PLAIN), None)
    assert result["baseline"] == "population" and 0.0 <= result["warmth"] <= 1.0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_real_voice_activity_on_synthetic_speech(tmp_path):
    sentences = ["Thanks for calling, let's take it one step at a time.",
                 "Please save your work and close every open window.",
                 "Now restart the machine and wait for the light on the front.",
                 "I'll check the settings on our side while it starts."]
    paths = []
    for i, text in enumerate(sentences):
        path = tmp_path / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
        paths.append(path)
    p = build_profile(paths[:3], options=ProfileOptions(min_profile_voiced_s=3.0))
    assert p["voiced_s"] > 3.0
    (result,) = score_clips([paths[3]], profile=p)
    assert result["reason"] is None and 0.2 < result["warmth"] < 0.8


def test_record_mic_records_a_real_input_with_a_level_meter_and_explains_failures(pulse, tmp_path):
    """`calibrate --mic` on a real (PulseAudio) input, picked as `live --agent` picks it: a
    tone played into the monitor source is recorded as mono float32 of the asked length
    (not the default source's silence), the level meter hears it and counts down."""
    import soundfile as sf

    t = np.arange(4 * SR) / SR
    sf.write(tmp_path / "tone.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SR)
    player = pulse.play(tmp_path / "tone.wav", "customer")          # not the default source's sink
    time.sleep(0.5)
    levels = []
    audio = record_mic(1.5, device=resolve_device("customer.monitor"),
                       on_level=lambda db, left: levels.append((db, left)))
    player.wait(30)
    assert audio.shape == (24000,) and audio.dtype == np.float32
    assert np.abs(audio).max() > 0.1                               # the tone, not silence
    assert len(levels) >= 5 and max(db for db, _ in levels) > -20.0
    lefts = [left for _, left in levels]
    assert lefts == sorted(lefts, reverse=True) and lefts[0] <= 1.5
    with pytest.raises(AudioError, match="input device '999'"):
        record_mic(1.0, device=DeviceChoice(device=999, name="999", channels=1))
    with pytest.raises(AudioError):
        record_mic(0.0)
    with pytest.raises(AudioError, match="shorter than one sample"):      # not a traceback on no audio
        record_mic(1e-6)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_calibrate_mic_takes_a_pulseaudio_source_by_name_as_live_does(pulse, tmp_path):
    """`calibrate --mic --device agent_mic` records from that PulseAudio source, as `live
    --agent agent_mic` would (it said "no microphone found"); a name that matches nothing
    gets the device list's one line, before the countdown."""
    import os
    import sys

    passage = tmp_path / "passage.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(passage), CALIBRATION_PASSAGE], check=True)
    (tmp_path / "c.toml").write_text("")
    out = tmp_path / "me.json"
    cmd = [sys.executable, "-m", "voicecoach", "calibrate", "--mic", "--seconds", "15", "-o", str(out),
           "--config", str(tmp_path / "c.toml")]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    res = subprocess.run(cmd + ["--device", "no_such_mic"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("voicecoach: error: no input device matches 'no_such_mic'; inputs:")
    assert "'agent_mic'" in res.stderr and "Starting in" not in res.stdout
    (tmp_path / "mic.toml").write_text('[live]\nagent_device = "no_such_mic"\n')   # the mic live uses
    res = subprocess.run(cmd[:-1] + [str(tmp_path / "mic.toml")], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 2 and "no input device matches 'no_such_mic'" in res.stderr, res.stderr
    proc = subprocess.Popen(cmd + ["--device", "agent_mic"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        while True:                                  # read the passage once the recording starts
            line = proc.stdout.readline()
            if not line or "Recording" in line:
                break
        player = pulse.play(passage, "agent")
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        proc.kill()
    player.terminate()
    player.wait(10)
    assert proc.returncode == 0, stderr
    assert "Set as your voice profile" in stdout
    profile = json.loads(out.read_text())
    assert profile["recordings"] == ["microphone"] and profile["voiced_s"] >= 5.0

    # a stereo input with the agent on its second channel, as [live] agent_channel says: the
    # passage read into the other channel is not heard (a mono stream of it mixed both)
    (tmp_path / "right.toml").write_text('[live]\nagent_device = "call.monitor"\nagent_channel = 1\n')
    for sink, heard in (("agent", False), ("customer", True)):          # left, then right of `call`
        proc = subprocess.Popen(cmd[:-1] + [str(tmp_path / "right.toml"), "--no-remember"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            while True:
                line = proc.stdout.readline()
                if not line or "Recording" in line:
                    break
            player = pulse.play(passage, sink)
            stdout, stderr = proc.communicate(timeout=180)
        finally:
            proc.kill()
        player.terminate()
        player.wait(10)
        if heard:
            assert proc.returncode == 0 and json.loads(out.read_text())["voiced_s"] >= 5.0, stderr
        else:
            assert proc.returncode == 2 and "recorded only silence" in stderr, stderr     # the wrong channel


def calibrate_mic(tmp_path, device: str, config: str = "") -> subprocess.CompletedProcess:
    """`voicecoach calibrate --mic --seconds 1 --device DEVICE` with ``config`` as its config file."""
    import os
    import sys

    (tmp_path / "c.toml").write_text(config)
    return subprocess.run([sys.executable, "-m", "voicecoach", "calibrate", "--mic", "--seconds", "1",
                           "--device", device, "-o", str(tmp_path / "p.json"), "--config", str(tmp_path / "c.toml")],
                          capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"),
                          timeout=120)


def test_calibrate_mic_from_a_silent_input_says_so_on_a_line_of_its_own(pulse, tmp_path):
    """A muted mic or the wrong input (a monitor nothing plays into) is said to be silent, not
    "record more of your ordinary voice", and the error starts a line of its own, not the end
    of the level meter's."""
    res = calibrate_mic(tmp_path, "customer.monitor")
    assert res.returncode == 2 and "s left" in res.stdout and res.stdout.endswith("\n"), res.stdout[-200:]
    assert res.stderr == ("voicecoach: error: input device 'customer.monitor' recorded only silence (below "
                          "-70 dBFS): is the mic muted, or is it the wrong input? `voicecoach devices` lists "
                          "them; --device picks one\n")
    assert not (tmp_path / "p.json").exists()


def test_calibrate_mic_refuses_an_agent_channel_the_input_lacks_as_live_does(pulse, tmp_path):
    """[live] agent_channel = 1 on a mono source: one line before the countdown, as `live`
    says it (it recorded a silent upmixed channel for the whole --seconds)."""
    res = calibrate_mic(tmp_path, "agent.monitor", "[live]\nagent_channel = 1\n")
    assert res.returncode == 2 and "Starting in" not in res.stdout, res.stdout
    assert res.stderr == "voicecoach: error: agent channel 1 is not on 'agent.monitor' (1 channel)\n"


def test_calibrate_mic_without_an_input_says_so_before_the_countdown(tmp_path):
    """No sound server and no sound card: one line, and no "Starting in 3…" first."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE")}
    env["PULSE_SERVER"] = f"unix:{tmp_path}/no-server"                   # nothing answers there
    probe = subprocess.run([sys.executable, "-c", "import sounddevice as sd; "
                            "print(any(d['max_input_channels'] > 0 for d in sd.query_devices()))"],
                           capture_output=True, text=True, env=env, timeout=60)
    if probe.stdout.strip() != "False":
        pytest.skip("this machine has an input device (a sound card)")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "calibrate", "--mic", "-o", str(tmp_path / "p.json")],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 2 and "Starting in" not in res.stdout, (res.stdout, res.stderr)
    assert res.stderr.startswith("voicecoach: error: no microphone found") and res.stderr.count("\n") == 1


def test_calibration_passage_takes_about_half_a_minute_to_read():
    words = len(CALIBRATION_PASSAGE.split())
    assert 70 <= words <= 110       # 30 s at 140-220 words per minute



def test_profile_windows_are_as_long_as_the_live_meter_windows():
    assert profile_module.ProfileOptions().warmth.window_s == WarmthOptions().window_s


def test_a_profile_with_no_feature_this_version_reads_is_refused():
    """Renamed features (another version's) or none at all: every clip read as exactly 0.5."""
    from voicecoach.analyzers.voice import Baseline

    for features in ({"f0_median_st": {"mean": 12.0, "spread": 1.0}}, {"anything": {"mean": 1}},
                     {"f0_st": {"mean": "12"}}):
        with pytest.raises(ValueError, match="no voice feature"):
            Baseline.from_dict({"features": features})


def test_a_window_count_that_is_not_a_count_is_not_a_profile(tmp_path):
    from voicecoach.cli import main

    p = tmp_path / "p.json"
    p.write_text('{"features": {"f0_st": {"mean": 12.0, "spread": 1.0}}, "n_windows": 1e400}')
    sf.write(tmp_path / "a.wav", np.zeros(16000, np.float32), 16000)
    (tmp_path / "c.toml").write_text("")
    assert main(["warmth", str(tmp_path / "a.wav"), "--profile", str(p), "--config", str(tmp_path / "c.toml")]) == 2


def test_calibrating_from_a_clipped_recording_says_so(tmp_path, capsys):
    from voicecoach.analyze import demo_call_path
    from voicecoach.cli import main

    x, sr = sf.read(demo_call_path(), dtype="float32")
    sf.write(tmp_path / "loud.wav", np.clip(x[:, 0] * 6, -1, 1), sr)     # the agent's side, far too loud
    (tmp_path / "c.toml").write_text("")
    assert main(["calibrate", str(tmp_path / "loud.wav"), "-o", str(tmp_path / "me.json"),
                 "--config", str(tmp_path / "c.toml")]) == 0
    err = capsys.readouterr().err
    assert "is clipped" in err and "too loud" in err, err


def test_ctrl_c_in_the_mic_countdown_ends_its_line_before_stopped(tmp_path, monkeypatch, capsys):
    """Ctrl-C during "Starting in 2…" left the cursor on that line: "voicecoach: stopped"
    was printed on the end of it. The countdown's line ends first, as the level meter's does."""
    import time

    from voicecoach import cli

    monkeypatch.setattr(mic, "check_mic", lambda *a, **k: None)

    def interrupted(_s):
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupted)
    assert cli.main(["calibrate", "--mic", "--no-remember", "-o", str(tmp_path / "p.json")]) == 130
    out = capsys.readouterr()
    assert "Starting in 3…" in out.out and out.out.endswith("\n"), out.out
    assert out.err == "voicecoach: stopped\n"


def test_calibrating_from_a_call_with_the_agent_on_the_right_says_which_side_it_measured(tmp_path, capsys):
    """A softphone's recording with the agent on the right gave "not enough speech … record
    more of your ordinary voice" for 40 s of it: the line now says only the left side was
    measured and names --agent-channel right (the note of a recording without speech too)."""
    from voicecoach.analyze import demo_call_path
    from voicecoach.cli import main

    x, sr = sf.read(demo_call_path(), dtype="float32", frames=16000 * 40)
    sf.write(tmp_path / "right.wav", np.stack([np.zeros_like(x[:, 0]), x[:, 0]], 1), sr)
    sf.write(tmp_path / "mine.wav", x[:, 0], sr)
    hint = ("right.wav is stereo and only the left side was measured: if you are on the right, "
            "add --agent-channel right")
    (tmp_path / "c.toml").write_text("")
    common = ["-o", str(tmp_path / "me.json"), "--config", str(tmp_path / "c.toml"), "--no-remember"]
    assert main(["calibrate", str(tmp_path / "right.wav"), *common]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("voicecoach: error: ") and hint in err, err
    assert main(["calibrate", str(tmp_path / "right.wav"), str(tmp_path / "mine.wav"), *common]) == 0
    err = capsys.readouterr().err
    assert "right.wav gave no speech" in err and hint in err, err
    assert main(["calibrate", str(tmp_path / "right.wav"), "--agent-channel", "right", *common]) == 0
    assert main(["calibrate", str(tmp_path / "mine.wav"), str(tmp_path / "mine.wav"), *common]) == 0
    assert "stereo" not in capsys.readouterr().err


def test_calibrate_never_writes_its_profile_over_a_call_record(tmp_path, capsys, monkeypatch):
    """`calibrate call.wav -o call.json`, the name `analyze` gives the call's record, wrote the
    profile over the record the history lists; an old profile is still replaced."""
    from voicecoach.analyze import demo_call_path
    from voicecoach.cli import main

    monkeypatch.chdir(tmp_path)
    x, sr = sf.read(demo_call_path(), dtype="float32", frames=16000 * 40)
    sf.write(tmp_path / "call.wav", x, sr)
    (tmp_path / "c.toml").write_text("")
    common = ["--config", "c.toml", "--no-remember"]
    assert main(["analyze", "call.wav", "--no-transcript", "-q", "-o", "call.json", *common[:2]]) == 0
    record = (tmp_path / "call.json").read_bytes()
    capsys.readouterr()
    assert main(["calibrate", "call.wav", "-o", "call.json", *common]) == 2
    assert capsys.readouterr().err == ("voicecoach: error: -o call.json is a call record, and writing the "
                                       "voice profile over it would destroy it: name another file, e.g. "
                                       "me.json\n")
    assert (tmp_path / "call.json").read_bytes() == record
    (tmp_path / "me.json").write_text('{"kind": "an old profile"}')
    assert main(["calibrate", "call.wav", "-o", "me.json", *common]) == 0
    assert json.loads((tmp_path / "me.json").read_text())["kind"] == PROFILE_KIND
