"""VoiceCoach's PyQt6 windows (installed as ``voicecoach.ui``): the overlay and the review.

They talk to the engine only through its events and snapshots.
"""

import ctypes
import os
import re
import sys

# Debian/Ubuntu packages of the libraries Qt's X11 plugin loads, where the package name
# does not follow from the library's (libxcb-icccm.so.4 -> libxcb-icccm4 does).
_PACKAGES = {"libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6", "libEGL.so.1": "libegl1",
             "libGL.so.1": "libgl1", "libglib-2.0.so.0": "libglib2.0-0",
             "libgthread-2.0.so.0": "libglib2.0-0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0"}


def screen_problem() -> str:
    """"" when Qt can open a window here; else why not, as a phrase that names what to
    install or set. Checked without Qt (Qt aborts the process when its platform plugin
    cannot load or the display does not answer): the X11 plugin's libraries are loaded
    as Qt would load them, and the X server is asked for a connection."""
    if not sys.platform.startswith("linux"):
        return ""
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0]
    display = os.environ.get("DISPLAY", "")
    if platform and platform != "xcb":
        return ""                          # offscreen, wayland...: chosen by the user
    if not display:
        wayland = os.environ.get("WAYLAND_DISPLAY")
        if wayland and not platform:
            if not _wayland_answers(wayland):
                return f"the Wayland display {wayland} does not answer (and no DISPLAY)"
            return ""
        return "no screen (no DISPLAY)"
    missing = missing_xcb_library()
    if missing:
        return (f"Qt's X11 plugin cannot load: {missing} is missing "
                f"(Debian/Ubuntu: sudo apt-get install {debian_package(missing)})")
    if not _x_server_answers(display):
        return f"the X display {display} does not answer"
    return ""


def missing_xcb_library() -> str:
    """The first shared library Qt's X11 platform plugin needs and cannot find ("" if none)."""
    try:
        import PyQt6
    except ImportError:
        return ""
    plugin = os.path.join(os.path.dirname(PyQt6.__file__), "Qt6", "plugins", "platforms", "libqxcb.so")
    if not os.path.exists(plugin):
        return ""
    try:
        ctypes.CDLL(plugin, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as exc:
        m = re.search(r"([\w.+-]+\.so[\w.]*): cannot open shared object", str(exc))
        return m.group(1) if m else str(exc).split(":")[0]
    return ""


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package of a shared library (``libxcb-cursor.so.0`` -> ``libxcb-cursor0``)."""
    if soname in _PACKAGES:
        return _PACKAGES[soname]
    m = re.match(r"(lib[\w.+-]+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    name, version = m.group(1).lower(), m.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def _wayland_answers(display: str) -> bool:
    """Whether a Wayland compositor listens on ``display`` (a socket name under
    ``$XDG_RUNTIME_DIR``, or a path), as libwayland-client finds it."""
    import socket

    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    path = display if os.path.isabs(display) else os.path.join(runtime, display) if runtime else ""
    if not path:
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


def _x_server_answers(display: str) -> bool:
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True                        # cannot ask: let Qt try
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return conn is not None and xcb.xcb_connection_has_error(conn) == 0
    finally:
        if conn:
            xcb.xcb_disconnect(conn)
