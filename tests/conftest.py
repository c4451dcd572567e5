"""Shared fixtures."""
from __future__ import annotations

import sys

import pytest

from tools.pulse import PulseDaemon, missing_programs


@pytest.fixture(scope="session")
def pulse():
    """A private PulseAudio daemon with the call's null sinks (see tools/pulse.py).

    Its client environment (``PULSE_SERVER``...) is set in ``os.environ`` for the
    session and restored after. PortAudio lists devices when it initialises (at the
    first ``import sounddevice``); if that happened before this daemon ran, it is
    re-initialised so the ALSA ``pulse`` device is listed.
    """
    missing = missing_programs()
    if missing:
        pytest.skip(f"real-device tests need PulseAudio: {', '.join(missing)} not installed "
                    "(Debian: apt install pulseaudio pulseaudio-utils libasound2-plugins)")
    with PulseDaemon() as daemon, daemon.environment():
        if "sounddevice" in sys.modules:
            sd = sys.modules["sounddevice"]
            sd._terminate()
            sd._initialize()
        else:
            try:
                import sounddevice  # noqa: F401  (first import: PortAudio lists the daemon's devices)
            except OSError as exc:
                pytest.skip(f"real-device tests need PortAudio: {exc} (Debian: apt install libportaudio2)")
        yield daemon
