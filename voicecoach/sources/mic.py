"""Recording the agent's ordinary voice from a microphone, for ``calibrate --mic``.

:func:`record_mic` blocks until the recording is done, calling back with the level and
the seconds to go for a meter and a countdown; :func:`check_mic` says at once when the
input cannot be recorded, before any countdown. The device callback only copies: the
level is measured on the waiting thread.
"""
from __future__ import annotations

import threading
import time
from typing import Optional

import numpy as np

from voicecoach.events import SAMPLE_RATE
from voicecoach.sources.audio import SILENCE_PEAK, AudioError
from voicecoach.sources.devices import DeviceChoice, environment_set, import_sounddevice

CALIBRATION_PASSAGE = (
    "Thanks for calling the help desk. I can see your account here, so let's take it one "
    "step at a time. First, could you tell me which version of the program you have? "
    "You'll find it under Help, then About. Good. Now save your work and close every open "
    "window, then restart the machine. While it starts, I'll check the settings on our "
    "side. If the problem comes back later today, just call us again, or answer the email "
    "I'm sending you now. Is there anything else I can help you with today?")
"""What the agent reads aloud, in an ordinary voice, for ``calibrate --mic`` (about
thirty seconds at a relaxed pace; read it twice for a longer recording)."""


def record_mic(seconds: float, device: Optional[DeviceChoice] = None,
               sr: int = SAMPLE_RATE, on_level=None, level_every_s: float = 0.1,
               channel: int = 0) -> np.ndarray:
    """Record from a microphone, blocking until done.

    Parameters
    ----------
    seconds : float
        How long to record (s).
    device : DeviceChoice or None
        The input, as :func:`voicecoach.sources.devices.resolve_device` picks it
        (``live --agent`` picks the same way; a PulseAudio source is opened through
        the ALSA ``pulse`` device with ``PULSE_SOURCE`` set); the system's default
        input when None.
    sr : int
        Sample rate to record at (Hz).
    on_level : callable, optional
        ``on_level(level_dbfs, left_s)`` every ``level_every_s`` while recording: the
        loudness of the latest block (dB full scale) and the seconds still to go, for
        a level meter and a countdown.
    channel : int
        The input's channel that carries the agent (0 = first), as ``[live]
        agent_channel`` says for ``live``.

    Returns
    -------
    np.ndarray [shape=(round(seconds * sr),)], float32
        Mono audio, full scale +-1.

    Raises
    ------
    AudioError
        No usable input device, the recording failed, or it holds only silence (a
        muted mic, the wrong input).
    """
    if not seconds > 0:
        raise AudioError(f"--seconds must be positive, not {seconds}")
    if round(seconds * sr) < 1:
        raise AudioError(f"--seconds {seconds} is shorter than one sample: nothing to record")
    sd = import_sounddevice()
    n = int(round(seconds * sr))
    audio = np.zeros(n, np.float32)
    block = int(sr * 0.05)
    state = {"pos": 0}
    done = threading.Event()

    def callback(indata, frames, _time, _status):      # copies and returns: never blocks
        pos = state["pos"]
        take = min(frames, n - pos)
        audio[pos:pos + take] = indata[:take, channel]
        state["pos"] = pos + take
        if state["pos"] >= n:
            done.set()

    def level() -> float:
        """The latest block's loudness (dB full scale), measured here, not in the callback."""
        pos = state["pos"]
        latest = audio[max(0, pos - block):pos]
        return float(10 * np.log10(np.mean(np.square(latest, dtype=np.float64)) + 1e-12)) if len(latest) else -120.0

    where = _device_name(device)
    try:
        with _opening(device):
            stream = sd.InputStream(samplerate=sr, channels=channel + 1, dtype="float32",
                                    device=device.device if device is not None else None,
                                    blocksize=block, callback=callback)
        with stream:
            give_up = time.monotonic() + seconds + 10.0      # a device that stopped delivering
            while not done.wait(level_every_s):
                if on_level is not None:
                    on_level(level(), max(0.0, (n - state["pos"]) / sr))
                if time.monotonic() > give_up:
                    raise AudioError(f"cannot record from {where}: it stopped delivering audio")
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(_mic_problem(device, exc)) from None
    if not np.max(np.abs(audio), initial=0.0) >= SILENCE_PEAK:     # not "speak more": nothing reached us
        raise AudioError(f"{where} recorded only silence (below {20 * np.log10(SILENCE_PEAK):.0f} dBFS): is the "
                         "mic muted, or is it the wrong input? `voicecoach devices` lists them; --device picks one")
    return audio


def check_mic(device: Optional[DeviceChoice] = None, sr: int = SAMPLE_RATE, channel: int = 0) -> None:
    """Raise :class:`AudioError` now, not after a countdown, when ``device`` (a
    :class:`DeviceChoice`, or the default input when None) cannot record ``channel`` at ``sr``."""
    if device is not None:
        device.check_channel(channel)        # as live refuses it: not a silent channel recorded
    sd = import_sounddevice()
    try:
        with _opening(device):
            sd.check_input_settings(device=device.device if device is not None else None,
                                    channels=channel + 1, dtype="float32", samplerate=sr)
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(_mic_problem(device, exc)) from None


def _opening(device: Optional[DeviceChoice]):
    """The environment to open ``device`` in (``PULSE_SOURCE`` for a PulseAudio source:
    libpulse reads it when the stream opens)."""
    return environment_set(device.open_env() if device is not None else {})


def _device_name(device: Optional[DeviceChoice]) -> str:
    return f"input device {device.name!r}" if device is not None else "the default input device"


def _mic_problem(device: Optional[DeviceChoice], exc: Exception) -> str:
    if device is None and "device -1" in str(exc):        # PortAudio's words for "no default input"
        return ("no microphone found (this computer has no input device): plug in your headset, "
                "or name one with --device (`voicecoach devices` lists them)")
    return f"cannot record from {_device_name(device)}: {exc}"
