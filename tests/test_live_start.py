"""Review: starting live coaching on an agent's desk (`voicecoach live` with real devices).

Every test runs the real command (`python -m voicecoach live --console ...`) against the
private PulseAudio daemon of the `pulse` fixture (tools/pulse.py): real null sinks, real
sounddevice/PortAudio streams through the ALSA `pulse` plugin. Nothing is mocked.
"""
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SR = 16000
ROOT = Path(__file__).resolve().parent.parent


class Live:
    """`voicecoach live` in a child process; every stdout/stderr line with the time it came
    (seconds after the "VoiceCoach live — ..." line, which is printed just before capture starts)."""

    def __init__(self, args, tmp_path):
        env = dict(os.environ, HOME=str(tmp_path / "home"), VOICECOACH_DATA_DIR=str(tmp_path / "data"),
                   XDG_CONFIG_HOME=str(tmp_path / "config"), OPENBLAS_NUM_THREADS="1",
                   QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        (tmp_path / "home").mkdir(exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "live", "--console", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=env, cwd=ROOT)
        self.lines: list[tuple[float, str]] = []
        self.t0 = None
        self._new: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            now = time.monotonic()
            if self.t0 is None and line.startswith("VoiceCoach live"):
                self.t0 = now
            self.lines.append((now, line.rstrip("\n")))
            self._new.put(line)

    def wait_line(self, text, timeout_s=120.0) -> float:
        """Wait for a line containing ``text``; its time after the start line."""
        end = time.monotonic() + timeout_s
        while True:
            for at, line in list(self.lines):
                if text in line:
                    return at - (self.t0 or at)
            if self.proc.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"exited ({self.proc.returncode}) before {text!r}: {self.text()}")
            if time.monotonic() > end:
                raise AssertionError(f"no {text!r} within {timeout_s} s: {self.text()}")
            try:
                self._new.get(timeout=0.2)
            except queue.Empty:
                pass

    def exited_by(self, deadline_s) -> bool:
        """Whether the process has exited by ``deadline_s`` after the start line."""
        while time.monotonic() < self.t0 + deadline_s:
            if self.proc.poll() is not None:
                return True
            time.sleep(0.1)
        return self.proc.poll() is not None

    def finish(self, timeout_s=60.0):
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(10)
        return self.proc.returncode

    def text(self) -> str:
        return " | ".join(line for _, line in self.lines)


def _run(args, tmp_path, timeout_s=180):
    env = dict(os.environ, HOME=str(tmp_path / "home"), VOICECOACH_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), OPENBLAS_NUM_THREADS="1",
               QT_QPA_PLATFORM="offscreen")
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "voicecoach", "live", "--console", *args],
                          capture_output=True, text=True, env=env, timeout=timeout_s, cwd=ROOT)


class SuspendedCustomerMic:
    """``customer_mic`` suspended (it stays, but sends nothing) 1 s after ``live`` starts
    coaching, and resumed on :meth:`resume` or at the end of the block, whatever happened."""

    def __init__(self, pulse, live: Live):
        self.pulse, self.live, self.on = pulse, live, False

    def __enter__(self):
        self.live.wait_line("VoiceCoach live")
        time.sleep(1.0)
        self.pulse.pactl("suspend-source", "customer_mic", "1")
        self.on = True
        return self

    def resume(self) -> None:
        if self.on:
            self.pulse.pactl("suspend-source", "customer_mic", "0")
            self.on = False

    def __exit__(self, *exc) -> None:
        self.resume()


# -- 1. an input that stalls (delivers nothing, but is still there) hangs the whole shift ------
@pytest.mark.parametrize("how", ["stop-after", "ctrl-c"])
def test_a_stalled_input_does_not_stop_ctrl_c_or_stop_after(pulse, tmp_path, how):
    """A source that stops delivering audio without going away (suspended: a Bluetooth or USB
    headset that stalls, `pasuspender`, ...) is meant to be "lost" after [capture] stall_s (3 s)
    and waited for. Instead the shift hangs: closing the stalled stream blocks inside PortAudio
    until the source delivers again, so no "lost" line is shown, --stop-after is not honoured and
    Ctrl-C (SIGINT) does nothing for as long as the source stays stalled."""
    args = ["--agent", "agent_mic", "--customer", "customer_mic", "--no-transcript"]
    if how == "stop-after":
        args += ["--stop-after", "6"]
    live = Live(args, tmp_path)
    try:
        with SuspendedCustomerMic(pulse, live):
            if how == "ctrl-c":
                time.sleep(6.0)                     # stall_s (3 s) has passed: the input is "lost"
                live.proc.send_signal(signal.SIGINT)
            exited = live.exited_by(30.0)           # stop-after 6 s, or Ctrl-C at ~7 s: ample time
            said = live.text()
    finally:
        code = live.finish()
    assert exited, (f"still running 30 s after start with customer_mic stalled ({how}); "
                    f"it exited ({code}) only once the source was resumed. Output: {said}")


def test_a_suspended_input_is_away_until_it_sends_audio_again(pulse, tmp_path):
    """While an input is lost, the shift opens it again every 2 s. A suspended PulseAudio
    source opens and starts but sends nothing, so the shift said "is back" every time and,
    3 s later, "lost" again: a suspended input flapped lost/back every 5 s. It is back once
    it sends audio, and said so once, when the source is resumed."""
    live = Live(["--agent", "agent_mic", "--customer", "customer_mic", "--no-transcript"], tmp_path)
    try:
        with SuspendedCustomerMic(pulse, live) as mic:
            live.wait_line("lost audio input", 30)
            time.sleep(9.0)                          # four tries of the lost input
            while_away = live.text()
            mic.resume()
            live.wait_line("is back after", 30)
            time.sleep(1.0)
            live.proc.send_signal(signal.SIGINT)
            live.finish()
    finally:
        live.finish(10)
    assert "is back" not in while_away and while_away.count("lost audio input") == 1, while_away
    assert live.text().count("is back after") == 1, live.text()


# -- 2. --stop-after: the time an input was away is counted only if it never comes back --------
def test_stop_after_counts_the_time_an_input_was_away(pulse, tmp_path):
    """`--stop-after 10` ends the shift 10 s after it starts (the away timer does so when the
    input stays away). When the input comes back before that, the shift instead runs for
    10 s *plus* the time it was away: the source clock leaves the away time out."""
    module = pulse.pactl("load-module", "module-null-sink", "sink_name=softphone", "rate=48000",
                         "channels=2", "sink_properties=device.description=Softphone").strip()
    loaded = True
    live = Live(["--agent", "agent_mic", "--customer", "softphone.monitor", "--no-transcript",
                 "--stop-after", "10"], tmp_path)
    try:
        live.wait_line("VoiceCoach live")
        time.sleep(1.5)
        pulse.pactl("unload-module", module)
        loaded = False
        lost_at = live.wait_line("lost audio input", 30)
        time.sleep(5.0)
        module = pulse.pactl("load-module", "module-null-sink", "sink_name=softphone", "rate=48000",
                             "channels=2", "sink_properties=device.description=Softphone").strip()
        loaded = True
        back_at = live.wait_line("is back after", 30)
        code = live.finish(60)
        ended_at = live.lines[-1][0] - live.t0
    finally:
        live.finish(10)
        if loaded:
            pulse.pactl("unload-module", module)
    assert code == 0, live.text()
    assert back_at < 10.0, f"the input came back at {back_at:.1f} s, after the shift's end: no test"
    assert ended_at <= 10.0 + 2.5, (f"--stop-after 10 ended the shift {ended_at:.1f} s after it began "
                                    f"(input lost at {lost_at:.1f} s, back at {back_at:.1f} s)")


# -- 3. one mono source split into "two sides" is both sides the same audio ------------------
def test_a_mono_default_input_is_not_split_into_two_sides(pulse, tmp_path, voice_file):
    """README: "A single stereo device that carries both sides can be split: --agent DEV
    --customer DEV --customer-channel 1". For DEV = the default input (ALSA `default`/`pulse`,
    listed with 32 channels) the channel check passes whatever the PulseAudio source really
    has. Here the default source is mono (agent.monitor): PulseAudio up-mixes it, and the
    caller's side is the agent's own voice, sample for sample, which `live` refuses for
    channel 0 ("your mic and the call audio are both the PulseAudio source ...")."""
    assert pulse.pactl("get-default-source").strip() == "agent.monitor"
    rec = tmp_path / "rec"
    result: dict = {}

    def run():
        result["res"] = _run(["--agent", "default", "--customer", "default", "--customer-channel", "1",
                              "--no-transcript", "--record", str(rec), "--stop-after", "12"], tmp_path)
    t = threading.Thread(target=run)
    t.start()
    time.sleep(5.0)                                # the model loads, capture starts
    assert pulse.play(voice_file, "agent").wait(60) == 0
    t.join(200)
    res = result["res"]
    recordings = sorted(rec.glob("*.wav")) if rec.exists() else []
    detail = ""
    if recordings:
        x, _ = sf.read(recordings[0], dtype="float32")
        detail = (f"; recorded {recordings[0].name}: left peak {np.abs(x[:, 0]).max():.2f}, "
                  f"left-right max difference {np.abs(x[:, 0] - x[:, 1]).max():.4f}")
    assert res.returncode == 2 and res.stderr.startswith("voicecoach: error:"), (
        f"accepted (exit {res.returncode}){detail}; stdout: {res.stdout[-600:]}")


@pytest.fixture(scope="module")
def voice_file(tmp_path_factory):
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    path = tmp_path_factory.mktemp("voice") / "agent.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(path),
                    "Hello, thank you for calling support. My name is Sam. How can I help you today?"],
                   check=True, capture_output=True)
    return path


# -- 4. a call-audio monitor whose sink goes away records the default source as the caller -----
def test_the_caller_side_never_records_another_source_when_its_sink_goes(pulse, tmp_path, caller_file,
                                                                         agent_file):
    """The capture module says a PulseAudio source that disappears is "lost", because
    PulseAudio "then moves the stream to the default source, which would silently record the
    wrong input". It is only noticed at the next presence check (every [capture]
    source_check_s, 1 s), and everything the moved stream delivered until then goes into the
    call as the caller: the engine, the transcript and the recording's right channel. Here the
    default source (agent.monitor) carries a 3 kHz tone; the caller's side is a softphone's
    monitor that goes away mid-call; the recording's caller channel must never hold the tone."""
    module = pulse.pactl("load-module", "module-null-sink", "sink_name=softphone2", "rate=48000",
                         "channels=2", "sink_properties=device.description=Softphone2").strip()
    loaded = True
    tone = tmp_path / "tone.wav"
    t = np.arange(60 * SR) / SR
    sf.write(tone, (0.5 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32), SR, subtype="PCM_16")
    rec = tmp_path / "rec"
    assert pulse.pactl("get-default-source").strip() == "agent.monitor"
    live = Live(["--agent", "customer_mic", "--customer", "softphone2.monitor", "--no-transcript",
                 "--record", str(rec), "--stop-after", "30"], tmp_path)
    players = []
    try:
        live.wait_line("VoiceCoach live")
        time.sleep(1.0)
        players.append(pulse.play(caller_file, "softphone2"))     # the caller talks, then silence
        players.append(pulse.play(agent_file, "customer"))        # the agent answers (a call of two)
        live.wait_line("call 1 started", 30)
        players.append(pulse.play(tone, "agent"))                  # the default source: a tone
        time.sleep(9.0)                                            # the caller's speech is over
        pulse.pactl("unload-module", module)
        loaded = False
        live.wait_line("lost audio input", 30)
        live.proc.send_signal(signal.SIGINT)
        code = live.finish(120)
    finally:
        for p in players:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        live.finish(10)
        if loaded:
            pulse.pactl("unload-module", module)
    assert code == 0, live.text()
    recordings = sorted(rec.glob("*.wav"))
    assert recordings, live.text()
    x, _ = sf.read(recordings[0], dtype="float32")
    right = x[:, 1]
    n = SR // 50
    toned = 0
    for i in range(0, len(right) - n, n):
        block = right[i:i + n]
        spectrum = np.abs(np.fft.rfft(block)) ** 2
        k = int(round(3000 * n / SR))
        if spectrum.sum() > 1e-6 and spectrum[k - 1:k + 2].sum() / spectrum.sum() > 0.8:
            toned += 1
    assert toned == 0, (f"the caller's channel of {recordings[0].name} holds {toned * 20} ms of the default "
                        "source's tone (the moved stream, recorded as the caller)")


@pytest.fixture(scope="module")
def caller_file(tmp_path_factory):
    return _spoken(tmp_path_factory, "caller", "en-gb+f3",
                   "Hi, my internet keeps dropping every evening and it has been going on for a week.")


@pytest.fixture(scope="module")
def agent_file(tmp_path_factory):
    return _spoken(tmp_path_factory, "agent", "en-us", "I am sorry to hear that, let me check your line for you.")


def _spoken(tmp_path_factory, who: str, voice: str, text: str):
    """``text`` said by espeak-ng's ``voice``, then 40 s of silence."""
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    folder = tmp_path_factory.mktemp(who)
    speech = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(speech), text],
                   check=True, capture_output=True)
    x, sr = sf.read(speech, dtype="float32")
    path = folder / f"{who}.wav"
    sf.write(path, np.concatenate([x, np.zeros(40 * sr, np.float32)]), sr, subtype="PCM_16")
    return path


def test_a_device_or_channel_from_the_config_that_does_not_work_says_it_came_from_there(pulse, tmp_path):
    """The agent did not type it: "customer channel 1 is not on 'customer_mic'" alone sends
    them looking at the command line, not at [live] in their config file."""
    config = tmp_path / "c.toml"
    config.write_text('[live]\ncustomer_device = "customer_mic"\ncustomer_channel = 1\n')
    res = _run(["--agent", "agent_mic", "--no-transcript", "--config", str(config)], tmp_path, timeout_s=60)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "customer channel 1" in res.stderr and "[live] customer_device, customer_channel in the config" \
        in res.stderr, res.stderr


def _client_connects(pulse, seconds: float) -> int:
    """How many PulseAudio clients connected in ``seconds`` (a pactl subscribe of our own)."""
    env = dict(os.environ, **pulse.env())
    proc = subprocess.Popen(["pactl", "subscribe"], stdout=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    time.sleep(seconds)
    proc.kill()
    proc.wait(5)
    reader.join(5)
    return sum("Event 'new' on client" in ln for ln in lines)


def test_shift_mode_watcher_runs_pactl_in_a_loop_on_its_own_events(pulse):
    """In shift mode (watch_playback: the call audio is a sink's monitor) the watcher now
    checks the playback streams on every wake-up of `pactl subscribe`, and each check is a
    pactl client whose connect and disconnect are themselves subscribe events: a feedback
    loop that starts a pactl process back to back for the whole shift, instead of one
    every playback_check_s (0.5 s)."""
    from voicecoach.sources.capture import DeviceSource
    from voicecoach.sources.devices import resolve_device

    time.sleep(0.5)
    idle = _client_connects(pulse, 3.0)
    source = DeviceSource(resolve_device("agent_mic"), resolve_device("customer.monitor"),
                          watch_playback=True).start()
    drain = threading.Thread(target=lambda: [None for _ in source], daemon=True)
    drain.start()
    try:
        time.sleep(1.5)
        busy = _client_connects(pulse, 3.0)
    finally:
        source.stop()
        drain.join(10)
    # 3 s: 6 playback checks + 3 presence checks of 2 sources = about 12 pactl runs
    assert busy - idle < 30, f"{busy} pactl clients in 3 s while capturing (idle: {idle})"


def test_live_blames_the_config_for_a_device_given_on_the_command_line(pulse, tmp_path):
    """5d659c2: "a device or channel the config chose that does not work says it came from
    [live] in the config". The suffix lists every [live] setting the config set, whichever
    one failed: `--agent nosuchmic` with a working customer_device in the config is said
    to be the config's fault ("([live] customer_device in the config)")."""
    import sys
    from pathlib import Path

    cfg = tmp_path / "config.toml"
    cfg.write_text('[live]\ncustomer_device = "customer.monitor"\n')
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--console", "--no-transcript",
                           "--agent", "nosuchmic", "--config", str(cfg)], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode == 2 and "nosuchmic" in done.stderr, done.stderr
    assert "in the config" not in done.stderr, done.stderr.strip()
