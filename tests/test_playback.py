"""Playback (voicecoach.sinks.playback, the review's player; no Qt): the stream callback
against a stand-in stream, and through a real PulseAudio null sink, what it plays is
what is heard.

Through the sink, the Player plays the demo call from 20 s into the private daemon's
stereo `call` sink; the sink's monitor is captured through DeviceSource and compared
with the call's own channels (left = agent, right = caller).
"""
import threading
import time

import numpy as np
import pytest
from output_streams import output_streams
from scipy.signal import correlate

from voicecoach.events import SAMPLE_RATE
from voicecoach.sinks.playback import Player
from voicecoach.sources.audio import CallAudio


def test_player_callback_without_qt():
    agent = np.arange(8000, dtype=np.float32) / 8000
    call = CallAudio(agent, -agent, "x")
    made, factory = output_streams()
    player = Player(call, factory)
    player.seek(0.1)
    player.play()
    out = np.empty((3000, 2), dtype=np.float32)
    made[0].callback(out, 3000, None, None)
    assert player.position_s == pytest.approx(0.1 + 3000 / SAMPLE_RATE)
    np.testing.assert_array_equal(out[:, 0], agent[1600:4600])
    np.testing.assert_array_equal(out[:, 1], -agent[1600:4600])
    player.seek(0.45)                                       # while playing: applied by the callback
    assert player.position_s == pytest.approx(0.45)
    made[0].callback(out, 3000, None, None)                 # runs past the end: silence after it
    assert player.ended and player.position_s == pytest.approx(0.5)
    np.testing.assert_array_equal(out[:800, 0], agent[7200:])
    assert np.all(out[800:] == 0.0)


def _xcorr_peak(a, b):
    a = (a - a.mean()) / (a.std() * len(a))
    b = (b - b.mean()) / b.std()
    return float(np.max(np.abs(correlate(b, a, mode="valid"))))


def test_review_player_plays_both_channels_into_a_real_sink(pulse, monkeypatch):
    from voicecoach.analyze import demo_call_path
    from voicecoach.sources.audio import load_call
    from voicecoach.sources.capture import DeviceSource
    from voicecoach.sources.devices import resolve_device

    call = load_call(demo_call_path())
    monkeypatch.setenv("PULSE_SINK", "call")              # read by libpulse when the stream opens
    mon = resolve_device("call.monitor")
    captured = {"agent": [], "customer": []}
    source = DeviceSource(mon, mon, customer_channel=1).start()

    def take():
        for frame in source:
            captured[frame.channel].append(frame.samples)

    reader = threading.Thread(target=take)
    reader.start()
    player = Player(call)
    player.seek(20.0)
    player.play()
    # played on until well past the stretch compared below (no wall-clock bounds:
    # a busy machine may take longer, never less)
    deadline = time.monotonic() + 60
    while player.position_s < 23.2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert player.position_s >= 23.2, player.position_s
    player.close()
    time.sleep(0.3)
    source.stop()
    reader.join(10)
    assert player.position_s < call.duration            # stopped by close(), not by the end
    for ch, original in (("agent", call.agent), ("customer", call.customer)):
        got = np.concatenate(captured[ch])
        played = original[int(20.5 * 16000):int(22.5 * 16000)]        # well inside what was played
        assert np.abs(got).max() > 0.05, ch
        assert _xcorr_peak(played, got) > 0.8, ch
    # left and right are not swapped: the agent's audio is not on the caller's channel
    got_c = np.concatenate(captured["customer"])
    assert _xcorr_peak(call.agent[int(20.5 * 16000):int(21.5 * 16000)], got_c) < 0.5
