"""`voicecoach live` end to end: real PulseAudio devices, the real model, the real engine.

A short two-voice call with one agent interruption and one backchannel is made
with espeak-ng, played with paplay into the private daemon's stereo `call` sink,
and captured by `voicecoach live` from the `agent.monitor` and `customer.monitor`
sources through sounddevice. The events, the nudge, the words, the recording and
the call record must all arrive, in order and in number; how fast is for
benchmarks/live.py, not for a busy 2-core machine.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest
import soundfile as sf

from tools.callgen import Turn, render_call

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
RECORDING = "float32le"     # how the daemon lists a capture stream (source-output)

SCRIPT = [
    Turn("agent", "Thank you for calling, my name is Sam, how can I help you today?", "espeak-us-f", 0.3),
    Turn("customer", "Hi, my internet keeps dropping every evening and the router lights blink orange "
                     "and I have already restarted it three times this week.", "espeak-gb-m", 0.6),
    Turn("agent", "Mm-hm.", "espeak-us-f", overlap_s=4.0, label="backchannel"),
    Turn("agent", "Okay, first I will need to flush your DNS cache and then restart the router.",
         "espeak-us-f", overlap_s=1.5, label="interruption"),
    Turn("customer", "Alright.", "espeak-gb-m", 0.5),
]


@pytest.fixture(scope="module")
def short_call(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    call = render_call(SCRIPT, tail_s=1.5)
    path = tmp_path_factory.mktemp("call") / "call.wav"
    sf.write(path, call.audio, 16000, subtype="PCM_16")
    return path, call.truth


def wait_for(condition, what, deadline_s=120.0):
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def capturing(daemon) -> bool:
    """Whether a capture stream is open on the daemon (the session is listening)."""
    return RECORDING in daemon.pactl("list", "short", "source-outputs")


def start_live(args, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "live", "--console", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env=dict(os.environ))
    line = proc.stdout.readline()                      # printed once capture is about to start
    assert "VoiceCoach live" in line, line + proc.stderr.read()
    return proc


@needs_espeak
def test_live_coaches_a_call_played_into_real_devices(pulse, short_call, tmp_path):
    path, truth = short_call
    duration = truth["duration"]
    # one stereo stream from the call sink's monitor, split: left = agent, right = customer
    proc = start_live(["--agent", "call.monitor", "--customer", "call.monitor", "--customer-channel", "1",
                       "--events", "events.jsonl", "--record", "rec",
                       "--stop-after", f"{duration + 6:.1f}"], tmp_path)
    wait_for(lambda: capturing(pulse) or proc.poll() is not None, "capture to start")
    assert proc.poll() is None, proc.communicate()
    pulse.play(path, "call").wait(timeout=120)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    interruptions = [e for e in events if e["kind"] == "interruption"]
    assert [e["channel"] for e in interruptions] == ["agent"], out
    turn_events = [(e["kind"], e["channel"], e["t"]) for e in events
                   if e["kind"] in ("interruption", "backchannel", "near_miss", "status")]
    assert [e["channel"] for e in events if e["kind"] == "backchannel"] == ["agent"], (turn_events, out)
    nudges = [e for e in events if e["kind"] == "nudge"]
    assert nudges and nudges[0]["data"]["nudge"] == "let_them_finish"
    assert nudges[0]["latency"] is not None and nudges[0]["latency"] >= 0.0   # measured (benchmarks judge it)
    assert nudges[0]["t"] >= interruptions[0]["t"]                          # after what it is about
    words = " ".join(e["text"].lower() for e in events if e["kind"] == "word")
    for w in ("calling", "internet", "router", "restart"):
        assert w in words, words
    assert "jargon" in {e["data"].get("cue") for e in events if e["kind"] == "cue"}
    assert "LET THEM FINISH" in out and "Traceback" not in err
    wav = next((tmp_path / "rec").glob("call-*.wav"))
    y, sr = sf.read(wav)
    assert y.shape[1] == 2 and len(y) / sr >= duration
    record = json.loads(wav.with_suffix(".json").read_text())
    assert record["schema"] == "voicecoach.call/1" and len(record["interruptions"]) == 1
    assert kinds.count("interruption") == 1
    assert record["live"]["transcript_decoded_again"] >= 2       # each side's speech, for the record
    said = " ".join(seg["text"].lower() for seg in record["transcript"])
    for w in ("calling", "internet", "router", "restart"):
        assert w in said, said


@needs_espeak
def test_a_device_that_disappears_ends_capture_cleanly_and_keeps_the_recording(short_call, tmp_path):
    from tools.pulse import PulseDaemon, missing_programs

    if missing_programs():
        pytest.skip("PulseAudio not installed")
    path, _ = short_call
    (tmp_path / "ends.toml").write_text("[capture]\nreconnect_s = 0   # a lost input ends the shift\n")
    with PulseDaemon() as daemon, daemon.environment():
        proc = start_live(["--agent", "call.monitor", "--customer", "call.monitor", "--config", "ends.toml",
                           "--customer-channel", "1", "--record", "rec", "--no-transcript"], tmp_path)
        wait_for(lambda: capturing(daemon) or proc.poll() is not None, "capture to start")
        assert proc.poll() is None, proc.communicate()
        daemon.play(path, "call")
        # killed once the recording holds two seconds of the call (16-bit stereo)
        wait_for(lambda: any(p.stat().st_size > 44 + 2 * 16000 * 4 for p in (tmp_path / "rec").glob("call-*.wav")),
                 "two seconds of recording")
        daemon.kill()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "lost audio input" in out and "everything so far is kept" in out
    # ... and only that: not PortAudio's own lines about each failed call into ALSA
    assert "failed in 'src/" not in err and "Traceback" not in err, err
    wav = next((tmp_path / "rec").glob("call-*.wav"))
    assert sf.info(wav).duration >= 2.0
    record = json.loads(wav.with_suffix(".json").read_text())
    assert record["shift"]["ended_by"] == "device lost"      # not a shift the agent ended


@needs_espeak
def test_an_input_unplugged_mid_shift_is_waited_for_and_the_next_call_is_coached(pulse, short_call, tmp_path):
    """A headset unplugged over a break: the call audio's source goes away (its module
    unloaded), the shift says so and waits; the source comes back (loaded again) and
    the next call on it is found, coached and saved."""
    import signal

    import numpy as np

    path, truth = short_call
    audio, sr = sf.read(path, dtype="float32")
    for side, column in (("agent", 0), ("caller", 1)):
        sf.write(tmp_path / f"{side}.wav", np.concatenate([np.zeros(sr, np.float32), audio[:, column]]),
                 sr, subtype="PCM_16")
    headset = ("module-remap-sink", "sink_name=headset", "master=call", "channels=1", "channel_map=mono",
               "master_channel_map=front-right", "remix=no")
    module = pulse.pactl("load-module", *headset).strip()
    out_path = tmp_path / "out.txt"
    with open(out_path, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "live", "--console", "--no-transcript",
                                 "--agent", "agent.monitor", "--customer", "headset.monitor", "--record", "rec"],
                                stdout=out, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=dict(os.environ))
    try:
        said = out_path.read_text
        wait_for(lambda: capturing(pulse) or proc.poll() is not None, "capture to start")
        assert proc.poll() is None, proc.communicate()
        began = time.monotonic()
        time.sleep(1.0)
        pulse.pactl("unload-module", module)                     # unplugged
        wait_for(lambda: "waiting for it to come back" in said() or proc.poll() is not None, "the loss")
        time.sleep(3.0)
        assert proc.poll() is None, said()                       # the shift goes on, waiting
        module = pulse.pactl("load-module", *headset).strip()    # plugged back in
        wait_for(lambda: "listening again" in said() or proc.poll() is not None, "the input back")
        assert proc.poll() is None, said()
        wait_for(lambda: capturing(pulse), "capture to start again")
        time.sleep(1.0)
        played = time.monotonic() - began
        players = [pulse.play(tmp_path / "agent.wav", "agent"), pulse.play(tmp_path / "caller.wav", "headset")]
        for p in players:
            p.wait(timeout=120)
        wait_for(lambda: "call 1 started" in said(), "the call after the loss", deadline_s=60)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        if module in pulse.pactl("list", "short", "modules").split():
            pulse.pactl("unload-module", module)
    text = said()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "lost audio input 'headset.monitor'" in text and "is back after" in text, text
    # on the shift's clock, as the calls' headers ("0:01 into the shift"), not the source's seconds
    assert re.search(r"lost audio input 'headset.monitor' \d+:\d\d into the shift: ", text), text
    assert "Shift over: 1 call coached; `voicecoach history` lists it\n" in text, text
    (record_path,) = (tmp_path / "rec").glob("call-*.json")
    record = json.loads(record_path.read_text())
    assert record["talk_time"]["customer"] > 0.5 * truth["talk_time"]["customer"], record["talk_time"]
    # the shift's clock counts the time the input was away (its first sound: 1 s into the files)
    assert played - 0.5 < record["shift"]["start_s"] < played + 3.0, (played, record["shift"])


@needs_espeak
def test_a_call_whose_audio_arrives_as_a_playback_stream_starts_and_ends_with_it(pulse, short_call, tmp_path):
    """How a softphone call reaches a Linux desktop: a playback stream opens on the call
    output (here the `customer` sink, captured from its monitor) with the caller still
    silent, and closes at the hang-up. Shift mode takes the call's start and end from the
    stream (`[shift] playback_signal`, on by default)."""
    import numpy as np

    path, truth = short_call
    audio, sr = sf.read(path, dtype="float32")
    caller = np.concatenate([np.zeros(3 * sr, np.float32), audio[:, 1]])     # 3 s before a word
    stream = tmp_path / "caller.wav"
    sf.write(stream, caller, sr, subtype="PCM_16")
    mic = tmp_path / "agent.wav"                                              # the agent answers
    sf.write(mic, np.concatenate([np.zeros(3 * sr, np.float32), audio[:, 0]]), sr, subtype="PCM_16")
    proc = start_live(["--agent", "agent.monitor", "--customer", "customer.monitor", "--record", "rec",
                       "--no-transcript", "--stop-after", f"{len(caller) / sr + 8:.1f}"], tmp_path)
    wait_for(lambda: capturing(pulse) or proc.poll() is not None, "capture to start")
    assert proc.poll() is None, proc.communicate()
    time.sleep(1.0)
    agent = pulse.play(mic, "agent")
    pulse.play(stream, "customer").wait(timeout=120)
    agent.wait(timeout=120)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "Traceback" not in err and "internal error" not in err, err
    (record_path,) = (tmp_path / "rec").glob("call-*.json")
    record = json.loads(record_path.read_text())
    assert record["shift"]["started_by"] == "stream" and record["shift"]["ended_by"] == "stream", record["shift"]
    first_word = min(u["start"] for u in truth["utterances"] if u["channel"] == "customer") + 3.0
    assert record["duration"] > first_word + 1.0          # from the stream's start, before the first word
    assert record["talk_time"]["customer"] > 0.5 * truth["talk_time"]["customer"]


def test_live_replay_of_a_recording(short_call, tmp_path):
    path, truth = short_call
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--replay", str(path), "--console",
                          "--no-transcript", "--events", "ev.jsonl"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    events = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    (i,) = [e for e in events if e["kind"] == "interruption"]
    true_i = next(e for e in truth["events"] if e["kind"] == "interruption")
    assert abs(i["t"] - true_i["start"]) < 0.3
    assert all(e["latency"] is not None for e in events if e["kind"] in ("interruption", "nudge"))
    assert "you interrupted 1×" in res.stdout


@needs_espeak
def test_live_takes_the_agents_echo_out_of_the_call_audio(pulse, short_call, tmp_path):
    """The same call with the agent's voice coming back in the call audio (-20 dB, 180 ms
    late, as a phone line's echo), played into real devices: the caller's side must not
    hear the agent: no words of the agent's in the caller's transcript, no interruption
    by the caller, the caller's talk time as without the echo."""
    import numpy as np

    path, truth = short_call
    audio, sr = sf.read(path, dtype="float32")
    delay = int(0.18 * sr)
    echo = np.concatenate([np.zeros(delay, np.float32), audio[:-delay, 0]]) * 10 ** (-20 / 20)
    audio[:, 1] += echo
    echoed = tmp_path / "echoed.wav"
    sf.write(echoed, audio, sr, subtype="PCM_16")
    duration = truth["duration"]
    proc = start_live(["--agent", "call.monitor", "--customer", "call.monitor", "--customer-channel", "1",
                       "--events", "events.jsonl", "--record", "rec",
                       "--stop-after", f"{duration + 6:.1f}"], tmp_path)
    time.sleep(3.0)
    pulse.play(echoed, "call").wait(timeout=60)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    caller_words = {e["text"].lower().strip(".,?!") for e in events
                    if e["kind"] == "word" and e["channel"] == "customer"}
    assert caller_words & {"internet", "router", "alright"}, caller_words
    leaked = caller_words & {"thank", "sam", "today", "flush", "dns", "cache"}
    assert not leaked, (sorted(leaked), [(round(e["t"], 2), e["text"]) for e in events
                                         if e["kind"] == "word" and e["channel"] == "customer"])
    assert [e["channel"] for e in events if e["kind"] == "interruption"] == ["agent"], out
    record = json.loads(next((tmp_path / "rec").glob("call-*.json")).read_text())
    true_caller = truth["talk_time"]["customer"]
    assert abs(record["talk_time"]["customer"] - true_caller) < 0.1 * true_caller, record["talk_time"]


def test_a_failing_streaming_model_is_said_at_once_and_fed_no_more(short_call):
    """The streaming model breaks mid-shift (here on its first decode): the call went on
    with no words and nothing said until the call ended (the status line said instead that
    speech-to-text was ever further "behind"), the dead worker's queue took the rest of the
    call's audio (+200 MB over a 30-minute call), and the end of the call waited 60 s for a
    worker that had already ended. Now: one status line per channel as it happens, no
    more audio to it, the call ends at once, the coaching that needs no words goes on."""
    from voicecoach.config import Config
    from voicecoach.live import LiveSession
    from voicecoach.sources.audio import load_call
    from voicecoach.sources.files import ReplaySource

    class BrokenModel:
        def transcribe(self, *args, **kwargs):
            raise OSError("Input/output error")

        def __getattr__(self, name):
            raise AttributeError(name)

    path, truth = short_call
    session = LiveSession(ReplaySource(load_call(path)), Config(), model=BrokenModel(),
                          second_model=BrokenModel())
    said = []              # (kind, payload) in the order the subscriber had them
    session.subscribe(lambda kind, payload: said.append((kind, payload)))
    start = time.monotonic()
    record = session.run()
    took = time.monotonic() - start
    failed = [i for i, (kind, p) in enumerate(said) if kind == "status" and "speech-to-text on the" in p]
    assert len(failed) == 2, [p for k, p in said if k == "status"]          # one per channel
    assert all("Input/output error" in said[i][1] and "without its words" in said[i][1] for i in failed)
    snapshots = [i for i, (kind, _) in enumerate(said) if kind == "snapshot"]
    assert max(failed) < snapshots[len(snapshots) // 2], "said only at the end of the call"
    assert all(w.inbox.qsize() < 50 for w in session.workers.values())      # not fed the rest
    assert not any(k == "status" and "behind" in p for k, p in said)
    assert took < 40.0, f"the call took {took:.0f} s to end (a 60 s wait for a worker that had ended?)"
    assert [i["by"] for i in record["interruptions"]] == [e["by"] for e in truth["events"]
                                                          if e["kind"] == "interruption"]


def test_a_model_that_hangs_at_the_end_of_a_call_is_said_and_the_record_made(short_call, monkeypatch):
    """Speech-to-text that stops answering (a model stuck in a decode): the end of the call
    waited ``FINISH_WAIT_S`` for its words and then made the record without a word said.
    Now a status line says so; the coaching that needs no words is in the record."""
    import voicecoach.live as live
    from voicecoach.config import Config
    from voicecoach.live import LiveSession
    from voicecoach.sources.audio import load_call
    from voicecoach.sources.files import ReplaySource

    answer = threading.Event()

    class HungModel:
        def transcribe(self, *args, **kwargs):
            answer.wait()
            raise OSError("stopped")

    monkeypatch.setattr(live, "FINISH_WAIT_S", 1.0)
    path, truth = short_call
    session = LiveSession(ReplaySource(load_call(path)), Config(), model=HungModel(),
                          second_model=HungModel())
    said = []
    session.subscribe(lambda kind, payload: said.append(payload) if kind == "status" else None)
    try:
        record = session.run()
    finally:
        answer.set()
    ended = [p for p in said if "speech-to-text gave nothing for 1 s as the call ended" in p]
    assert len(ended) == 1, said
    assert [i["by"] for i in record["interruptions"]] == [e["by"] for e in truth["events"]
                                                          if e["kind"] == "interruption"]


def test_a_failing_second_pass_leaves_the_streamed_words_and_one_status_line(short_call):
    """The second decode's model breaks (a disk error reading it, say) on its first call:
    the session goes on, the record keeps the words streamed live, and the agent is told
    once, in a status line."""
    from voicecoach.sources.audio import load_call
    from voicecoach.config import Config
    from voicecoach.live import LiveSession
    from voicecoach.sources.files import ReplaySource

    class BrokenModel:
        calls = 0

        def transcribe(self, *args, **kwargs):
            BrokenModel.calls += 1
            raise OSError("Input/output error")

    path, _ = short_call
    session = LiveSession(ReplaySource(load_call(path)), Config(), second_model=BrokenModel())
    said = []
    session.subscribe(lambda kind, payload: said.append(payload) if kind == "status" else None)
    record = session.run()
    assert BrokenModel.calls == 1
    assert session.second.inbox.qsize() < 50                 # not fed the rest of the call's audio
    words = " ".join(s["text"] for s in record["transcript"]).lower()
    assert "router" in words and "calling" in words          # the streamed words stayed
    assert record["live"]["transcript_decoded_again"] == 0
    failed = [s for s in said if "second decode" in s]
    assert len(failed) == 1 and "Input/output error" in failed[0] and "streamed live" in failed[0]


def test_a_recording_that_cannot_be_closed_is_said_and_the_others_are_still_closed(capsys):
    """A recording whose close fails (a full disk at the last write) was swallowed; now it
    is said in one line on stderr, and every other recording is still closed."""
    import numpy as np

    from voicecoach.config import Config
    from voicecoach.live import LiveSession
    from voicecoach.sources.audio import CallAudio
    from voicecoach.sources.files import ReplaySource

    class Rec:
        def __init__(self, fails):
            self.closed, self.fails = False, fails

        def close(self):
            if self.fails:
                raise OSError(28, "No space left on device")
            self.closed = True

    call = CallAudio(np.zeros(16000, np.float32), np.zeros(16000, np.float32), "quiet")
    session = LiveSession(ReplaySource(call), Config(), transcribe=False)
    broken, whole = Rec(True), Rec(False)
    session._recorders = [broken, whole]
    session.close_recorders()
    assert whole.closed
    err = capsys.readouterr().err
    assert err == "voicecoach: a recording could not be closed ([Errno 28] No space left on device)\n", err
