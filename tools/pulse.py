"""A private PulseAudio daemon with the call's null sinks, for real-device tests.

The daemon runs in the foreground of its own process (``--daemonize=no``) from a
generated startup script in a temporary folder: nothing is read from or written to
the user's own PulseAudio setup, and it is stopped by its own pid.

Sinks: ``call`` (stereo, 16 kHz: left = agent, right = customer) and the mono remap
sinks ``agent`` and ``customer`` that play into one side of ``call`` each.
Sources: ``call.monitor`` (stereo, sample-aligned), ``agent.monitor``,
``customer.monitor``, and their non-monitor copies ``agent_mic`` and ``customer_mic``.

A keep-alive recorder (``parec`` at 10 ms latency on ``call.monitor``) runs for the
daemon's whole life: an idle null sink renders in 2 s blocks, and without the
keep-alive a new record stream gets its first data 0.8-2 s late and garbled.

Usage::

    with PulseDaemon() as pulse:
        with pulse.environment():            # PULSE_SERVER etc. for this process
            ...                              # open sounddevice streams on "pulse"
        player = pulse.play("agent.wav", "agent")
        player.wait()
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

STARTUP_SCRIPT = """\
.fail
load-module module-native-protocol-unix auth-anonymous=1 socket={socket}
load-module module-null-sink sink_name=call rate=16000 channels=2 channel_map=front-left,front-right sink_properties=device.description=call
load-module module-remap-sink sink_name=agent master=call channels=1 channel_map=mono master_channel_map=front-left remix=no sink_properties=device.description=agent
load-module module-remap-sink sink_name=customer master=call channels=1 channel_map=mono master_channel_map=front-right remix=no sink_properties=device.description=customer
load-module module-remap-source source_name=agent_mic master=agent.monitor source_properties=device.description=agent_mic
load-module module-remap-source source_name=customer_mic master=customer.monitor source_properties=device.description=customer_mic
set-default-sink agent
set-default-source agent.monitor
"""

# libpulse client settings: never autospawn a daemon (when ours dies, clients must
# see it gone, not start another one), and keep the cookie inside the temp folder.
CLIENT_CONF = """\
autospawn = no
cookie-file = {cookie}
"""

REQUIRED_PROGRAMS = ("pulseaudio", "pactl", "parec", "paplay")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies (even by SIGKILL),
    so an interrupted test run leaves no daemon behind. Linux only; a no-op elsewhere.
    (The signal follows the thread that started the child: start daemons from the main thread.)"""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def missing_programs() -> list[str]:
    """The PulseAudio programs this helper needs that are not on PATH."""
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None]


class PulseError(RuntimeError):
    """The private daemon could not be started or queried."""


class PulseDaemon:
    """One private PulseAudio daemon and its keep-alive recorder.

    Parameters
    ----------
    start_timeout_s : float
        How long to wait for the daemon to answer ``pactl info`` (s).
    settle_s : float
        Wait after the keep-alive starts, so the null sink leaves its idle 2 s
        render cadence for the keep-alive's 10 ms one (s).
    """

    def __init__(self, start_timeout_s: float = 10.0, settle_s: float = 2.1):
        self.start_timeout_s = start_timeout_s
        self.settle_s = settle_s
        self.dir: Optional[Path] = None
        self.daemon: Optional[subprocess.Popen] = None
        self.keepalive: Optional[subprocess.Popen] = None
        self._players: list[subprocess.Popen] = []

    # -- environment -------------------------------------------------------------
    @property
    def socket(self) -> Path:
        return self.dir / "native"

    def env(self) -> dict[str, str]:
        """Client environment variables that point libpulse at this daemon only."""
        return {
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_CLIENTCONFIG": str(self.dir / "client.conf"),
            "PULSE_COOKIE": str(self.dir / "cookie"),
        }

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PULSE_SOURCE", None)
        env.pop("PULSE_SINK", None)
        env.update(self.env())
        env["HOME"] = str(self.dir / "home")
        env["XDG_RUNTIME_DIR"] = str(self.dir / "run")
        env["XDG_CONFIG_HOME"] = str(self.dir / "home" / ".config")
        return env

    @contextlib.contextmanager
    def environment(self) -> Iterator[dict[str, str]]:
        """Set :meth:`env` in ``os.environ`` for this process; restore it after."""
        from voicecoach.sources.devices import environment_set

        with environment_set(self.env()) as env:
            yield env

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> "PulseDaemon":
        """Start the daemon and the keep-alive; return once the sinks are usable."""
        missing = missing_programs()
        if missing:
            raise PulseError(f"not installed: {', '.join(missing)}")
        self.dir = Path(tempfile.mkdtemp(prefix="voicecoach-pulse-"))
        for sub in ("home", "run"):
            (self.dir / sub).mkdir(mode=0o700)
        script = self.dir / "call.pa"
        script.write_text(STARTUP_SCRIPT.format(socket=self.socket))
        (self.dir / "client.conf").write_text(CLIENT_CONF.format(cookie=self.dir / "cookie"))
        self.daemon = subprocess.Popen(
            ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
             "--disallow-exit", "-n", "-F", str(script),
             f"--log-target=file:{self.dir / 'pulse.log'}", "--log-level=info"],
            env=self._child_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        try:
            self._wait_ready()
            self.keepalive = subprocess.Popen(
                ["parec", "--device=call.monitor", "--channels=2", "--latency-msec=10"],
                env=self._child_env(), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            time.sleep(self.settle_s)
            if self.keepalive.poll() is not None:
                raise PulseError(f"keep-alive recorder exited ({self.keepalive.returncode})")
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise PulseError(f"pulseaudio exited ({self.daemon.returncode}): {self.log_tail()}")
            probe = subprocess.run(["pactl", "info"], env=self._child_env(),
                                   capture_output=True, timeout=5)
            if probe.returncode == 0:
                return
            time.sleep(0.05)
        raise PulseError(f"pulseaudio did not answer within {self.start_timeout_s} s: {self.log_tail()}")

    def log_tail(self, n_lines: int = 5) -> str:
        """The last lines of the daemon's log, for error messages."""
        try:
            lines = (self.dir / "pulse.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-n_lines:])

    def kill(self) -> None:
        """Kill the daemon at once (SIGKILL), as a crashed sound server would go."""
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGKILL)
            self.daemon.wait(timeout=5)

    def stop(self) -> None:
        """Stop players, keep-alive and daemon (by their own pids); remove the temp folder."""
        for proc in [*self._players, self.keepalive, self.daemon]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        self._players.clear()
        self.keepalive = self.daemon = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "PulseDaemon":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- clients ---------------------------------------------------------------------
    def pactl(self, *args: str) -> str:
        """Run ``pactl`` against this daemon; return its stdout."""
        done = subprocess.run(["pactl", *args], env=self._child_env(), capture_output=True,
                              text=True, timeout=10)
        if done.returncode != 0:
            raise PulseError(f"pactl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def play(self, path: str | os.PathLike, sink: str) -> subprocess.Popen:
        """Start ``paplay --device=SINK PATH``; the caller waits on the returned process."""
        proc = subprocess.Popen(["paplay", f"--device={sink}", str(path)], env=self._child_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self._players.append(proc)
        return proc
