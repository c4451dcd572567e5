"""The live audio path at its edges, on real PulseAudio devices (the `pulse` fixture): one
source reached by two names, audio dropped when the computer falls behind, an ambiguous
source name."""
import os
import subprocess
import sys
import time

import pytest

from voicecoach.config import CaptureOptions, Config
from voicecoach.sources.capture import DeviceSource
from voicecoach.sources.devices import resolve_device

SR = 16000


def _live(args, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "voicecoach", "live", "--console", "--no-transcript",
                           "--stop-after", "1", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=tmp_path)


@pytest.mark.parametrize("args", [
    ["--customer", "agent.monitor"],               # the default input (agent) IS agent.monitor
    ["--agent", "pulse", "--customer", "default"],  # both ALSA devices record the default source
])
def test_the_same_source_for_both_sides_is_refused(pulse, tmp_path, args):
    """`--agent X --customer X` is refused ("agent and customer are both channel 0 of ..."),
    and so is the same PulseAudio source reached by two names (both sides coached the same audio)."""
    assert pulse.pactl("get-default-source").strip() == "agent.monitor"
    res = _live(args, tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("voicecoach: error:"), (res.returncode, res.stdout, res.stderr)


def test_dropped_audio_is_said_or_recorded(pulse, tmp_path):
    """Blocks dropped on the callback's full queue become silence: a status line says so as it
    happens, and the call record counts them (the count was in the snapshots only)."""
    from voicecoach.live import LiveSession

    config = Config()
    config.capture = CaptureOptions(queue_s=0.04)          # a 2-block queue: drops are certain
    src = DeviceSource(resolve_device("agent_mic"), resolve_device("customer_mic"), config.capture)
    session = LiveSession(src, config, transcribe=False)
    said = []
    session.subscribe(lambda kind, payload: said.append((kind, payload)))
    slow = session.engine.feed

    def stalling_feed(*a, **k):                            # a 1 s hiccup of the engine thread
        if session.engine.time > 1.0 and not stalling_feed.done:
            stalling_feed.done = True
            time.sleep(1.0)
        return slow(*a, **k)
    stalling_feed.done = False
    session.engine.feed = stalling_feed
    record = session.run(stop_after_s=4.0)
    dropped = src.stats()["dropped_blocks"]
    assert dropped > 0                                     # audio was lost (replaced by silence)
    statuses = [p for k, p in said if k == "status"]
    assert any("audio was lost" in s for s in statuses), statuses
    assert record["live"]["dropped_blocks"] == dropped


def test_an_ambiguous_source_name_is_not_told_to_give_an_index_it_does_not_have(pulse):
    """'customer' matches two PulseAudio sources; they have no index (`devices` shows "-"), so
    the error asks for the full name (it said "give the index or the full name")."""
    from voicecoach.sources.devices import DeviceError

    with pytest.raises(DeviceError) as err:
        resolve_device("customer")
    assert "index" not in str(err.value), str(err.value)


def test_an_input_that_pauses_is_said_and_recorded(pulse):
    """A source that gives nothing for 1 s (under stall_s: a headset dropping out) comes
    back as silence in its place: the status line says so, the record counts it, and the
    call goes on (it used to run that side 1 s early for the rest of the call)."""
    import threading

    from voicecoach.live import LiveSession

    src = DeviceSource(resolve_device("agent_mic"), resolve_device("customer_mic"))
    session = LiveSession(src, Config(), transcribe=False)
    said = []
    session.subscribe(lambda kind, payload: said.append((kind, payload)))

    def drop_out():
        pulse.pactl("suspend-source", "customer_mic", "1")
        time.sleep(1.0)
        pulse.pactl("suspend-source", "customer_mic", "0")
    timer = threading.Timer(1.0, drop_out)
    timer.start()
    try:
        record = session.run(stop_after_s=5.0)
    finally:
        timer.join()
    statuses = [p for k, p in said if k == "status"]
    assert any("gave no audio for 1." in s for s in statuses), statuses
    assert 0.9 <= record["live"]["gap_s"] <= 1.2
    assert record["live"]["stopped_because"] is None
