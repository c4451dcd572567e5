"""Which audio inputs exist, and turning what a user typed into one of them.

Two kinds of input:

- PortAudio devices, as python-sounddevice lists them (index, name, host API).
- PulseAudio sources. Debian's PortAudio 19.6 has no PulseAudio host API: it
  reaches PulseAudio only through the ALSA ``pulse`` device, which records from the
  default source. Where that is the case, the sources themselves are listed (from
  ``pactl``) and a source is opened as device ``pulse`` with ``PULSE_SOURCE`` set
  while the stream opens (libpulse reads it then). Monitor sources (``*.monitor``:
  what a sink plays, e.g. the far end of a softphone call) are listed too and marked
  as call audio.

PortAudio enumerates devices once, when ``sounddevice`` is first imported; a sound
server started later is not seen by that process.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

PULSE_DEVICE = "pulse"
MONITOR_LABEL = "call audio (monitor)"
PACTL_TIMEOUT_S = 5.0


@contextlib.contextmanager
def environment_set(values: dict[str, str]) -> Iterator[dict[str, str]]:
    """Set ``values`` in ``os.environ`` for the ``with`` block, then restore what was there.

    libpulse reads ``PULSE_SOURCE``/``PULSE_SERVER`` when a stream opens, so a source is
    chosen by setting them around the open."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield values
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class DeviceError(Exception):
    """An input that cannot be found or opened; the message is one line naming it."""


@dataclass(frozen=True)
class InputDevice:
    """One input a user can pick.

    Attributes
    ----------
    name : str
        The sounddevice name, or the PulseAudio source name.
    index : int or None
        The sounddevice index; None for a PulseAudio source.
    host_api : str
        ``ALSA``, ``PulseAudio``..., or ``PulseAudio (via ALSA pulse)`` for a source.
    channels : int
        Input channels.
    default_samplerate_hz : float
        The device's own rate (Hz); streams are opened at 16 kHz regardless.
    description : str
        A longer human name (PulseAudio's description), or ``""``.
    is_monitor : bool
        A monitor source: what a sink plays, not a microphone.
    """

    name: str
    index: Optional[int]
    host_api: str
    channels: int
    default_samplerate_hz: float
    description: str = ""
    is_monitor: bool = False

    @property
    def row(self) -> tuple[str, ...]:
        """Its row in ``voicecoach devices``' table (:data:`TABLE_HEAD`)."""
        about = [self.description] if self.description and self.description != self.name else []
        about += [MONITOR_LABEL] if self.is_monitor else []
        return ("-" if self.index is None else str(self.index), self.name, str(self.channels),
                f"{self.default_samplerate_hz:g}", self.host_api, ": ".join(about))


TABLE_HEAD = ("Index", "Input", "Channels", "Hz", "Through", "What it is")


@dataclass(frozen=True)
class DeviceChoice:
    """How to open one input.

    Attributes
    ----------
    device : int
        The sounddevice index to open.
    name : str
        What the user picked, for messages.
    channels : int
        Input channels the input really has.
    pulse_source : str or None
        PulseAudio source to record from (set as ``PULSE_SOURCE`` while opening).
    pulse_server : str or None
        PulseAudio server the source was found on (``PULSE_SERVER`` then); None for
        the default server.
    """

    device: int
    name: str
    channels: int
    pulse_source: Optional[str] = None
    pulse_server: Optional[str] = None

    def check_channel(self, column: int, side: str = "agent") -> None:
        """DeviceError unless ``column`` (0 = first) is one of this input's channels: the
        channel ``side`` (agent, customer) is taken from, as ``live`` and ``calibrate --mic``
        take it."""
        if not 0 <= column < self.channels:
            raise DeviceError(f"{side} channel {column} is not on {self.name!r} "
                              f"({self.channels} channel{'s' if self.channels != 1 else ''})")

    def open_env(self) -> dict[str, str]:
        """Environment variables to set while this input's stream is opened."""
        env = {}
        if self.pulse_source is not None:
            env["PULSE_SOURCE"] = self.pulse_source
            if self.pulse_server is not None:
                env["PULSE_SERVER"] = self.pulse_server
        return env


def import_sounddevice():
    """The ``sounddevice`` module; DeviceError when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError as exc:   # the PortAudio library itself is missing
        raise DeviceError(f"cannot use audio devices: {exc} (Debian: apt install libportaudio2)") from None
    return sounddevice


def refresh_portaudio() -> None:
    """List the devices again: PortAudio lists them once, when it starts, so a headset
    plugged in later is only seen after this. Only while no stream is open."""
    sd = import_sounddevice()
    try:
        sd._terminate()
        sd._initialize()
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list the audio devices again: {exc}") from None


def portaudio_inputs() -> list[InputDevice]:
    """Every PortAudio device with at least one input channel."""
    sd = import_sounddevice()
    apis = sd.query_hostapis()
    return [InputDevice(name=d["name"], index=d["index"], host_api=apis[d["hostapi"]]["name"],
                        channels=d["max_input_channels"],
                        default_samplerate_hz=d["default_samplerate"])
            for d in sd.query_devices() if d["max_input_channels"] > 0]


def _pactl(server: Optional[str], *args: str) -> Optional[str]:
    """``pactl`` output, or None when pactl is missing or the server does not answer."""
    if shutil.which("pactl") is None:
        return None
    cmd = ["pactl", *(["--server", server] if server else []), *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PACTL_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _parse_spec(spec: str) -> tuple[int, float]:
    """``"s16le 2ch 16000Hz"`` -> ``(2, 16000.0)``."""
    channels, rate = 0, 0.0
    for part in spec.split():
        if part.endswith("ch") and part[:-2].isdigit():
            channels = int(part[:-2])
        elif part.endswith("Hz") and part[:-2].isdigit():
            rate = float(part[:-2])
    return channels, rate


def parse_sources_json(text: str, host_api: str) -> list[InputDevice]:
    """Sources from ``pactl --format=json list sources``."""
    out = []
    for s in json.loads(text):
        channels, rate = _parse_spec(s.get("sample_specification", ""))
        props = s.get("properties") or {}
        monitor = (props.get("device.class") == "monitor" or bool(s.get("monitor_source"))
                   or s["name"].endswith(".monitor"))
        out.append(InputDevice(name=s["name"], index=None, host_api=host_api, channels=channels,
                               default_samplerate_hz=rate, description=s.get("description", ""),
                               is_monitor=monitor))
    return out


def parse_sources_short(text: str, host_api: str) -> list[InputDevice]:
    """Sources from ``pactl list short sources`` (tab-separated: index, name, driver, spec, state)."""
    out = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) < 4:
            continue
        channels, rate = _parse_spec(cols[3])
        out.append(InputDevice(name=cols[1], index=None, host_api=host_api, channels=channels,
                               default_samplerate_hz=rate, is_monitor=cols[1].endswith(".monitor")))
    return out


def pulse_sources(server: Optional[str] = None) -> Optional[list[InputDevice]]:
    """The PulseAudio sources, or None when no PulseAudio server answers ``pactl``.

    Parameters
    ----------
    server : str, optional
        A server address (``unix:/path``); default: libpulse's choice (``PULSE_SERVER``...).
    """
    host_api = "PulseAudio (via ALSA pulse)"
    text = _pactl(server, "--format=json", "list", "sources")
    if text is not None:
        try:
            return parse_sources_json(text, host_api)
        except (ValueError, KeyError, TypeError):
            pass
    text = _pactl(server, "list", "short", "sources")
    return None if text is None else parse_sources_short(text, host_api)


def _pulse_index(inputs: Sequence[InputDevice]) -> Optional[int]:
    """The ALSA ``pulse`` device's index where PortAudio has no PulseAudio host API."""
    if any(d.host_api == "PulseAudio" for d in inputs):
        return None
    return next((d.index for d in inputs if d.name == PULSE_DEVICE and d.host_api == "ALSA"), None)


def list_inputs() -> list[InputDevice]:
    """PortAudio's inputs, then (when they are reached only via ALSA ``pulse``) the PulseAudio sources."""
    inputs = portaudio_inputs()
    if _pulse_index(inputs) is not None:
        inputs += pulse_sources() or []
    return inputs


def format_inputs(inputs: Sequence[InputDevice]) -> str:
    """The text of ``voicecoach devices``: one line per input, with a hint at the end."""
    from voicecoach.sinks.view import text_table

    if not inputs:
        return "No audio inputs found (no sound card, and no sound server answering)."
    lines = text_table([TABLE_HEAD, *(d.row for d in inputs)], right={0, 2, 3})
    lines.append("")
    lines.append("Pick one by index or name (a unique part of a name is enough); "
                 "a PulseAudio source by its name.")
    return "\n".join(lines)


def resolve_device(spec: int | str) -> DeviceChoice:
    """Turn a user's device spec into a :class:`DeviceChoice`.

    Parameters
    ----------
    spec : int or str
        A sounddevice index (``3`` or ``"3"``), a PulseAudio source name
        (``"alsa_output.usb-headset.monitor"``), or a name or unique part of one
        (case-insensitive) among the devices and sources.

    Returns
    -------
    DeviceChoice

    Raises
    ------
    DeviceError
        Nothing or more than one input matches; the message names what was asked
        and what exists.
    """
    inputs = portaudio_inputs()
    pulse_index = _pulse_index(inputs)
    server = os.environ.get("PULSE_SERVER") or None
    sources = (pulse_sources() or []) if pulse_index is not None else []
    text = str(spec).strip()
    if not inputs and not sources:       # whatever was asked for ('default' when nothing was)
        raise DeviceError("no audio input on this computer: no sound card, and no sound server "
                          "(PulseAudio or PipeWire) answering")

    if text.isdigit():
        index = int(text)
        for d in inputs:
            if d.index == index:
                return DeviceChoice(device=index, name=d.name, channels=d.channels)
        raise DeviceError(f"no input device with index {index}; inputs: {_names(inputs, sources)}")

    exact = [d for d in [*inputs, *sources] if d.name == text]
    matches = exact or [d for d in [*inputs, *sources]
                        if text.lower() in d.name.lower() or text.lower() in d.description.lower()]
    if not matches:
        raise DeviceError(f"no input device matches {text!r}; inputs: {_names(inputs, sources)}")
    if len(matches) > 1:
        raise DeviceError(f"input device {text!r} is ambiguous: {_names(matches, [])}; give "
                          + ("the index or the full name" if any(d.index is not None for d in matches)
                             else "the full name"))
    d = matches[0]
    if d.index is not None:
        return DeviceChoice(device=d.index, name=d.name, channels=_channels_heard(d, sources, server))
    return DeviceChoice(device=pulse_index, name=d.name, channels=d.channels,
                        pulse_source=d.name, pulse_server=server)


def _channels_heard(d: InputDevice, sources: Sequence[InputDevice], server: Optional[str]) -> int:
    """The channels of ``d`` that carry sound of their own. ALSA's ``pulse`` and ``default``
    offer 32, up-mixed from the server's default source: a mono headset mic split "by
    channel" would give both sides the same audio."""
    if d.name not in ("pulse", "default") or not sources:
        return d.channels
    default = _default_source(server)
    source = next((x for x in sources if x.name == default), None)
    return min(d.channels, source.channels) if source is not None and source.channels else d.channels


def playback_streams(sink: str, server: Optional[str] = None) -> Optional[int]:
    """How many playback streams play to PulseAudio sink ``sink`` now; None when
    PulseAudio does not answer or has no such sink."""
    sinks = _pactl(server, "list", "short", "sinks")
    inputs = _pactl(server, "list", "short", "sink-inputs")
    if sinks is None or inputs is None:
        return None
    index = next((line.split("\t")[0] for line in sinks.splitlines()
                  if len(line.split("\t")) > 1 and line.split("\t")[1] == sink), None)
    if index is None:
        return None
    return sum(1 for line in inputs.splitlines() if len(line.split("\t")) > 1 and line.split("\t")[1] == index)


def recorded_source(choice: DeviceChoice) -> Optional[str]:
    """The PulseAudio source ``choice`` records: the one it names, or for the ALSA devices
    ``pulse`` and ``default`` the server's default source; None when not known."""
    if choice.pulse_source is not None:
        return choice.pulse_source
    if choice.name not in ("pulse", "default"):
        return None
    return _default_source(choice.pulse_server)


def _default_source(server: Optional[str]) -> Optional[str]:
    """The PulseAudio server's default source; None when not known."""
    found = re.search(r"^Default Source:\s*(\S+)", _pactl(server, "info") or "", re.MULTILINE)
    return found.group(1) if found else None


def pulse_source_index(name: str, server: Optional[str] = None) -> Optional[int]:
    """PulseAudio's index of the source ``name``; None when it has none (or does not answer)."""
    for line in (_pactl(server, "list", "short", "sources") or "").splitlines():
        cols = line.split("\t")
        if len(cols) > 1 and cols[1] == name and cols[0].isdigit():
            return int(cols[0])
    return None


class SourceRemovals:
    """The PulseAudio sources removed, as it happens (``pactl subscribe``).

    When a source goes, PulseAudio moves the streams recording it to the default source
    at once; polling for the source every second let up to a second of that other input
    through. Read on one thread; :meth:`wait` returns ``(index, time.monotonic())`` of
    each source removed since, waiting at most ``timeout_s`` for one. Without ``pactl``
    (or a server), :attr:`running` is False and :meth:`wait` only waits.
    """

    _EVENT = re.compile(r"Event 'remove' on source #(\d+)")

    def __init__(self, server: Optional[str] = None):
        self._proc = None
        self._pending = b""
        if shutil.which("pactl") is None:
            return
        try:
            self._proc = subprocess.Popen(["pactl", *(["--server", server] if server else []), "subscribe"],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          stdin=subprocess.DEVNULL)
        except OSError:
            self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait(self, timeout_s: float) -> list[tuple[int, float]]:
        import select
        import time

        if not self.running:
            time.sleep(timeout_s)
            return []
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout_s)
        if not ready:
            return []
        now = time.monotonic()
        data = os.read(self._proc.stdout.fileno(), 65536)
        if not data:                     # the server went away: pactl ended
            self.close()
            return []
        *lines, self._pending = (self._pending + data).split(b"\n")
        return [(int(m.group(1)), now) for line in lines
                if (m := self._EVENT.search(line.decode("utf-8", "replace")))]

    def close(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self._proc.wait(timeout=2)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None


def pulse_source_present(name: str, server: Optional[str] = None) -> bool:
    """Whether PulseAudio still has the source ``name`` (False when the server is gone)."""
    text = _pactl(server, "list", "short", "sources")
    return text is not None and any(d.name == name for d in parse_sources_short(text, ""))


def _names(inputs: Sequence[InputDevice], sources: Sequence[InputDevice]) -> str:
    items = [f"{d.index} {d.name!r}" if d.index is not None else repr(d.name) for d in [*inputs, *sources]]
    return ", ".join(items) if items else "none (no sound card, and no sound server answering)"
