"""Shared fixtures."""
from __future__ import annotations

import gc
import os
import sys
import tempfile

import pytest

from tools.pulse import PulseDaemon, missing_programs

# Windows are made offscreen unless told otherwise, in one file run alone as in the whole
# suite (where test_fuzz's import set it): with no display, Qt aborted the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session", autouse=True)
def private_user_dirs():
    """The suite never reads or writes the user's own config, history or records.

    Every test (and every command it runs in a subprocess, which inherits the
    environment) sees empty per-user folders of its own for the session.
    """
    saved = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}
    with tempfile.TemporaryDirectory(prefix="voicecoach-tests-home-") as home:
        os.chmod(home, 0o755)   # tests that run a command as another user find no config either
        for key in saved:
            os.environ[key] = os.path.join(home, key.lower())
        try:
            yield home
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


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


@pytest.fixture(scope="session", autouse=True)
def private_user_folders(tmp_path_factory):
    """Keep the tests out of the user's own config file and data folder: `calibrate`
    remembers a profile in the config, and live calls land in the history. Subprocesses
    inherit these; a test that needs its own folder still sets them itself."""
    import os

    root = tmp_path_factory.mktemp("user")
    saved = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "VOICECOACH_DATA_DIR")}
    os.environ["XDG_CONFIG_HOME"] = str(root / "config")
    os.environ["VOICECOACH_DATA_DIR"] = str(root / "data")
    yield root
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests():
    """Free each test's reference cycles at its end. Qt objects caught in cycles (a window,
    its signals and the lambdas connected to them) are otherwise freed whenever an
    allocation sets off Python's cycle collector, which can be inside a Qt slot of a later
    test: a segmentation fault (tests/test_overlay.py ran into it)."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _qt_widgets_live_until_closed(request, monkeypatch):
    """pytest-qt holds only weak references to the widgets a test adds (``qtbot.addWidget``),
    so a window still showing when the test function returns is garbage at once, while
    pytest-qt still processes its events (paints it) before closing it. Python's cycle
    collector can then delete the window inside its own paint event: a use-after-free of
    its paint engine, seen as a segmentation fault in ``QPainter::fillPath`` (the review's
    waveforms, tests/test_team.py). Each added widget is held here until pytest-qt has
    closed it (its teardown hook runs before fixtures are torn down)."""
    try:
        import pytestqt.qtbot as qtbot_module
    except ImportError:
        yield
        return
    held = []
    plain = qtbot_module._add_widget

    def add_widget(item, widget, **kwargs):
        held.append(widget)
        plain(item, widget, **kwargs)

    monkeypatch.setattr(qtbot_module, "_add_widget", add_widget)
    yield
    held.clear()


@pytest.fixture
def own_disk(tmp_path):
    """A small filesystem of its own (tmpfs, its folder 0700), for a full or a read-only
    disk: ``own_disk("1m")`` mounts one at ``tmp_path / "disk"`` (``name=`` another folder)
    and returns ``(path, remount)``; ``remount("size=16m")`` gives it room,
    ``remount("ro")`` makes it read-only. Unmounted after the test; the test is skipped
    where mounting is not allowed (not root)."""
    import subprocess

    mounted = []

    def mount(size: str, name: str = "disk"):
        path = tmp_path / name
        path.mkdir()
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if made.returncode:
            pytest.skip(f"a filesystem of its own needs root (mount): {made.stderr.strip()}")
        mounted.append(path)
        return path, lambda options: subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
