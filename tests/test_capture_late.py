"""Live capture when an input pauses while the machine is busy: both sides stay on one
call clock (found by a helper's review of the clock's gap check).

Real PulseAudio devices (the ``pulse`` fixture); the capture runs in a child process of
its own so that it can be stopped (SIGSTOP) as a busy machine stops running it.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SR = 16000
ROOT = Path(__file__).resolve().parents[1]

# The capture runs in a child process of its own (started with exec, no fork of the
# test process) so that the whole process can be stopped with SIGSTOP: "the machine
# was busy and did not run us" at the moment an input comes back.
CHILD = r"""
import json, sys, threading, time
import numpy as np
import sounddevice  # noqa: F401
from voicecoach.sources.capture import DeviceSource
from voicecoach.sources.devices import resolve_device
out, run_s = sys.argv[1], float(sys.argv[2])
src = DeviceSource(resolve_device("left_in"), resolve_device("right_in")).start()
frames = []
first = threading.Event()
def consume():
    for f in src:
        frames.append(f)
        first.set()
th = threading.Thread(target=consume)
th.start()
first.wait(20)
print("ready", flush=True)
time.sleep(run_s)
src.stop()
th.join()
res = {"stats": src.stats(), "lost": str(src.lost)}
for ch in ("agent", "customer"):
    fs = [f for f in frames if f.channel == ch]
    res[ch + "_t0"] = fs[0].start_s
    np.save(out + "." + ch + ".npy", np.concatenate([f.samples for f in fs]))
json.dump(res, open(out + ".json", "w"))
"""


@pytest.fixture
def left_right_inputs(pulse):
    """Two inputs made from the two sides of the ``call`` sink: a stereo click played
    into it reaches both at the same sample (as in test_capture.py)."""
    modules = [pulse.pactl("load-module", "module-remap-source", f"source_name={name}", "master=call.monitor",
                           "channels=1", "channel_map=mono", f"master_channel_map={side}", "remix=no").strip()
               for name, side in (("left_in", "front-left"), ("right_in", "front-right"))]
    try:
        yield
    finally:
        for module in modules:
            pulse.pactl("unload-module", module)


def onsets(x, t0):
    loud = np.abs(x) > 0.3
    return t0 + (np.flatnonzero(loud[1:] & ~loud[:-1]) + 1) / SR


def test_an_input_that_comes_back_while_the_process_is_late_stays_in_step(pulse, left_right_inputs, tmp_path):
    """right_in gives nothing for 1.0 s; the process is not run from 0.3 s into that
    pause to 0.8 s after it (SIGSTOP 1.5 s: a busy machine). Each time, a click played
    into both sides 1 s later must be heard at the same call-clock time on both."""
    click = np.zeros((8000, 2), np.float32)
    click[2000:2400] = np.hanning(400)[:, None] * 0.8
    sf.write(tmp_path / "click.wav", click, SR, subtype="PCM_16")
    cycles = 3
    out = str(tmp_path / "capture")
    child = subprocess.Popen([sys.executable, "-c", CHILD, out, str(cycles * 4.5 + 1.0)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        for _ in range(cycles):
            pause = subprocess.Popen(["sh", "-c", "pactl suspend-source right_in 1; sleep 1; "
                                                  "pactl suspend-source right_in 0"], env=os.environ)
            time.sleep(0.3)
            os.kill(child.pid, signal.SIGSTOP)
            time.sleep(1.5)
            os.kill(child.pid, signal.SIGCONT)
            assert pause.wait(30) == 0
            time.sleep(1.0)
            assert pulse.play(tmp_path / "click.wav", "call").wait(60) == 0
            time.sleep(0.5)
        assert child.wait(120) == 0
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGCONT)
            child.kill()
            child.wait()
    res = json.loads(Path(out + ".json").read_text())
    agent = onsets(np.load(out + ".agent.npy"), res["agent_t0"])
    customer = onsets(np.load(out + ".customer.npy"), res["customer_t0"])
    assert res["lost"] == "None" and len(agent) == len(customer) == cycles, (res, agent, customer)
    skew_ms = np.round((customer - agent) * 1000, 1)
    gap_s = res["stats"]["gap_s"]
    # each pause was 1.0 s, and both sides must stay on one clock (the old clock: 0.76-1.5 s
    # apart; now within about 10 ms per pause: PulseAudio's own latency after a resume)
    assert np.all(np.abs(skew_ms) < 50) and abs(gap_s - cycles * 1.0) < 0.2, \
        f"skew (ms) per click: {skew_ms}; gap_s {gap_s:.2f} for {cycles} pauses of 1.0 s"
