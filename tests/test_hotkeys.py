"""The overlay's hotkeys for real: pynput on a real X server (Xvfb) hears a key press
sent through XTest; where it cannot listen (no display, an X server without RECORD,
pynput missing) in-app shortcuts take over with one line saying why (on a window that
never takes the focus, as the overlay, that the hotkeys are off), and no
traceback. Each case runs in a fresh process, since pynput picks its backend once,
when it is first imported."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = r"""
import json, os, sys, time
if sys.argv[1] == "no-pynput":
    sys.modules["pynput"] = None                 # as if it were not installed
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QWidget
from voicecoach.ui.hotkeys import Hotkeys
app = QApplication([])
w = QWidget()
if "no-focus" in sys.argv:                       # as the overlay is made
    w.setWindowFlags(Qt.WindowType.Tool | Qt.WindowType.WindowDoesNotAcceptFocus)
hk = Hotkeys({"call": "Ctrl+Alt+C", "mark": "Ctrl+Alt+M", "show": ""}, w)
got = []
hk.pressed.connect(got.append)
if hk.global_:                                   # press Ctrl+Alt+C on the X server
    from Xlib import X, XK, display
    from Xlib.ext import xtest
    d = display.Display()
    codes = [d.keysym_to_keycode(XK.string_to_keysym(k)) for k in ("Control_L", "Alt_L", "c")]
    for c in codes:
        xtest.fake_input(d, X.KeyPress, c)
    for c in reversed(codes):
        xtest.fake_input(d, X.KeyRelease, c)
    d.sync()
    end = time.monotonic() + 10
    while not got and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
hk.stop()
print(json.dumps({"global": hk.global_, "note": hk.note, "pressed": got, "shortcuts": len(hk._shortcuts)}))
"""


def probe(display, mode="real", *more):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env.pop("WAYLAND_DISPLAY", None)
    if display is None:
        env.pop("DISPLAY", None)
    else:
        env["DISPLAY"] = display
    res = subprocess.run([sys.executable, "-c", PROBE, mode, *more], capture_output=True, text=True, env=env,
                         timeout=60)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def xvfb(*extra):
    """A private Xvfb; yields its display name."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb not installed (Debian: apt install xvfb)")
    r, w = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "640x480x24", "-nolisten", "tcp",
                             *extra], pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    return proc, f":{number}"


@pytest.fixture
def x_server():
    proc, name = xvfb()
    yield name
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def x_server_without_record():
    proc, name = xvfb("-extension", "RECORD")
    yield name
    proc.terminate()
    proc.wait(timeout=10)


def pynput_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("pynput") is not None


def test_system_wide_hotkey_heard_on_a_real_x_server(x_server):
    if not pynput_installed():
        pytest.skip("pynput not installed (the optional voicecoach[hotkeys] on Linux)")
    got = probe(x_server)
    assert got["global"] and got["note"] == "" and got["shortcuts"] == 0
    assert got["pressed"] == ["call"]


def test_without_a_display_the_hotkeys_work_in_the_app_and_one_line_says_so():
    got = probe(None)
    assert not got["global"] and got["shortcuts"] == 2            # the empty "show" key is left out
    assert got["note"].startswith("Hotkeys work only while VoiceCoach's window has the focus (")
    assert "\n" not in got["note"]
    if pynput_installed():
        assert "no X display" in got["note"]


def test_an_x_server_without_record_falls_back_without_a_traceback(x_server_without_record):
    if not pynput_installed():
        pytest.skip("pynput not installed")
    got = probe(x_server_without_record)
    assert not got["global"] and got["shortcuts"] == 2
    assert "RECORD" in got["note"]


def test_without_pynput_the_note_says_how_to_get_it_as_the_readme_does():
    from voicecoach.ui.hotkeys import INSTALL_PYNPUT

    got = probe(None, "no-pynput")
    assert not got["global"] and got["shortcuts"] == 2
    assert got["note"] == ("Hotkeys work only while VoiceCoach's window has the focus "
                           f"(system-wide hotkeys need pynput: {INSTALL_PYNPUT})")
    from voicecoach.ui.hotkeys import PYNPUT

    # into the Python VoiceCoach runs in (a bare pip is refused by current distributions)
    assert INSTALL_PYNPUT.endswith(f'{sys.executable} -m pip install "{PYNPUT}"')
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert extras["hotkeys"] == [PYNPUT]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f'~/.local/share/voicecoach-venv/bin/pip install "{PYNPUT}"' in readme


def test_on_a_window_that_never_takes_the_focus_the_note_says_the_hotkeys_are_off():
    """The overlay is made never to take the keyboard focus: shortcuts that need it
    cannot stand in for system-wide hotkeys, and the note must not say they do."""
    from voicecoach.ui.hotkeys import INSTALL_PYNPUT

    got = probe(None, "no-pynput", "no-focus")
    assert not got["global"]
    assert got["note"] == ("Hotkeys are off: the overlay never takes the keyboard focus "
                           f"(system-wide hotkeys need pynput: {INSTALL_PYNPUT})")
