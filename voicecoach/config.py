"""The one place that knows the defaults, and the TOML file that overrides them.

Each section of the file is one component's options dataclass; each key is one
of its fields, with the unit in its name::

    [turns]
    min_overlap_s = 0.6
    backchannel_max_s = 1.2

    [language]
    lexicon_dirs = ["~/team-lexicons"]

The analyzers' and speech-to-text's options live beside their code (importing
them costs nothing). Live capture's and the live session's are defined here, so
that loading the config does not load device capture or the live session.

With no file at all, every default applies. ``voicecoach config`` prints the
path and every setting with its current value.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import re
import textwrap
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path, PureWindowsPath
from typing import Any, Optional

from voicecoach.analyzers.arousal import ArousalOptions
from voicecoach.analyzers.language import LanguageOptions
from voicecoach.analyzers.pace import PaceOptions
from voicecoach.analyzers.prosody import ProsodyOptions
from voicecoach.analyzers.turns import TurnOptions
from voicecoach.analyzers.vad import VadOptions
from voicecoach.analyzers.warmth import WarmthOptions
from voicecoach.coach import CoachOptions
from voicecoach.paths import user_path
from voicecoach.sources.echo import EchoOptions
from voicecoach.stt.streaming import StreamingOptions
from voicecoach.stt.whisper import TranscribeOptions


BLOCK_S_RANGE = (0.005, 0.2)
"""Live capture's block length (s), least and most: a block arrives whole, so a nudge
waits up to one block (the target is 0.25 s from speech to nudge); below 80 samples the
callbacks carry next to nothing."""


@dataclass
class CaptureOptions:
    """Settings of live capture (streams are opened at :data:`~voicecoach.events.SAMPLE_RATE` Hz;
    PulseAudio or PortAudio resamples from the device's own rate).

    Attributes
    ----------
    block_s : float
        Block length of each callback (s), within :data:`BLOCK_S_RANGE`; a fixed
        block size (0.02 s = 320 samples). A variable block size gives erratic
        1-139 frame callbacks through the ``pulse`` plugin.
    queue_s : float
        Audio the queue between the callback and the consumer holds (s, per
        stream) before blocks are dropped.
    latency_s : float or None
        Suggested input latency (s); None for PortAudio's low-latency default
        (0.04 s through the ``pulse`` plugin with 0.02 s blocks).
    stall_s : float
        A stream that delivers nothing for this long is lost (s).
    clock_tolerance_s : float
        How far (s) an input's audio may stray from its device's clock before it
        is put back in step: a dropout shorter than stall_s is filled with
        silence, a device clock that drifts is taken back. More than the clock's
        jitter (about 0.01 s).
    source_check_s : float
        How often a PulseAudio source's presence is checked (s).
    poll_s : float
        How long the consumer waits for a block before checking stop and loss (s).
    playback_check_s : float
        How often the playback streams on the call output are checked in shift
        mode (s), where the call audio is a PulseAudio monitor.
    reconnect_s : float
        In shift mode, how often (s) an input that went away (a headset unplugged)
        is looked for again; the shift waits for it and goes on. 0: a lost input
        ends the shift.
    """

    block_s: float = 0.02
    queue_s: float = 10.0
    latency_s: Optional[float] = None
    stall_s: float = 3.0
    clock_tolerance_s: float = 0.1
    source_check_s: float = 1.0
    poll_s: float = 0.1
    playback_check_s: float = 0.5
    reconnect_s: float = 2.0

    def problem(self) -> str:
        """What is wrong with these settings together; "" if nothing."""
        low, high = BLOCK_S_RANGE
        if not low <= self.block_s <= high:
            return f"block_s must be from {low:g} to {high:g} s, not {self.block_s:g}"
        if not 0.04 <= self.clock_tolerance_s <= 1.0:
            return f"clock_tolerance_s must be from 0.04 to 1 s, not {self.clock_tolerance_s:g}"
        if self.latency_s is not None and not 0 < self.latency_s <= 1.0:
            return f"latency_s must be more than 0 and at most 1 s (or \"\" for the default), not {self.latency_s:g}"
        return ""


@dataclass
class LiveOptions:
    """Live monitoring settings.

    Attributes
    ----------
    agent_device : str
        The agent's microphone: an index, a device name, or a PulseAudio source
        name ("" = the default input).
    customer_device : str
        The call audio (e.g. a PulseAudio ``.monitor`` source); "" = none, the
        mic alone (warmth and pace only).
    agent_channel : int
        Which channel of the agent device carries the agent (0 = first/left).
    customer_channel : int
        Which channel of the customer device carries the caller; with the same
        device for both sides, one stereo stream is split in two.
    snapshot_s : float
        How often (s) a metrics snapshot goes to the subscribers.
    behind_warn_s : float
        Speech-to-text lag (s) at which the session says it is behind.
    record_dir : str
        Folder for opt-in recordings ("" = do not record). Recording a call
        needs the caller's consent.
    """

    agent_device: str = ""
    customer_device: str = ""
    agent_channel: int = 0
    customer_channel: int = 0
    snapshot_s: float = 0.25
    behind_warn_s: float = 4.0
    record_dir: str = ""

    def problem(self) -> str:
        """What is wrong with these settings; "" if nothing."""
        for name in ("agent_channel", "customer_channel"):
            if getattr(self, name) < 0:
                return f"{name} must be 0 or more (0 = the device's first channel), not {getattr(self, name)}"
        return ""


@dataclass
class TeamOptions:
    """The team store: calls you choose to share with your coach (``voicecoach share``).

    Attributes
    ----------
    database : str
        The team's PostgreSQL server, ``postgresql://USER@HOST[:PORT]/DATABASE`` ("" = no
        team store: nothing can be shared). Never put the password here: it comes from
        ``PGPASSWORD`` or ``~/.pgpass`` (a URL with one is refused).
    connect_timeout_s : float
        How long to wait for the server before saying it is not reachable (s).
    answer_timeout_s : float
        Once connected, how long a share, a take-back or a coach's view waits for the
        server's answer before giving up with one line (s; a share's recording adds a
        second per 100 kB): a server or network that stops answering mid-command would
        keep it waiting for good.
    """

    database: str = ""
    connect_timeout_s: float = 5.0
    answer_timeout_s: float = 30.0


@dataclass
class ShiftOptions:
    """Shift mode: how ``voicecoach live`` tells one call from the next
    (:mod:`voicecoach.calldetect`).

    A call starts when the caller's channel comes alive after a stretch of nothing,
    or when the caller starts talking after the last call ended; it ends when a line
    that carried a noise floor goes dead, when neither side has said anything for
    ``end_silence_s``, when the softphone's playback stream leaves the output
    (PulseAudio / PipeWire), or by hand. A silence the agent announced ("let me put
    you on hold") is a hold, not the end.

    Attributes
    ----------
    alive_dbfs : float
        A block of call audio louder than this (dB full scale) is sound on the line
        (a line's noise floor, a ring tone, speech); quieter is nothing (a PulseAudio
        monitor with no stream playing delivers digital silence).
    start_alive_s : float
        Sound on a line that was nothing must last this long (s) to start a call.
    start_speech_s : float
        Caller speech must last this long (s) to start a call (a click does not).
    dead_s : float
        A line that carried a noise floor during the call and then falls to nothing
        for this long (s) has hung up; the call ends where it fell silent.
    floor_s : float
        Sound without caller speech (s, in one stretch) a call must have shown before
        its line going dead counts as a hang-up (a line that is nothing between words
        has no floor).
    end_silence_s : float
        Neither side has spoken for this long (s): the call has ended, at the last
        speech. While the call's own playback stream plays, the line must also be
        nothing this long to have hung up (a dropout is shorter).
    connected_silence_s : float
        The same, while the line shows the call is still up: the noise floor that came
        with the call still on, or its own playback stream still playing (a caller
        looking for a card number, a router restarting).
    hold_s : float
        A hold the agent asked for ("bear with me", "let me put you on hold") may be
        silent this long (s), the line dead or not, before the call is taken as ended.
    lead_in_s : float
        The agent's own speech up to this long (s) before the caller's first words
        (the greeting) belongs to the call.
    min_call_s : float
        Shorter "calls", and calls without speech, are not kept (s).
    end_pad_s : float
        Added after the last speech when a call ends on silence (s); 0: none.
    playback_signal : bool
        Use the call output's playback streams (PulseAudio / PipeWire) as a call's
        start and end where they can be seen; a replayed recording (``live --replay``)
        is one such stream, so each recording is one call.
    stream_join_s : float
        A playback stream seen within this long (s) after the audio started a call is
        that call's own stream (the output is polled, so it is often seen after the
        caller's first sound): the call keeps its start. Later, it starts a new call.
    mic_only_end_s : float
        With no call audio (mic only), a call starts when the agent starts talking and
        ends when they have said nothing for this long (s): the caller, unheard, may
        talk for a while in between.
    """

    alive_dbfs: float = -80.0
    start_alive_s: float = 0.3
    start_speech_s: float = 0.4
    dead_s: float = 2.0
    floor_s: float = 1.0
    end_silence_s: float = 12.0
    connected_silence_s: float = 120.0
    hold_s: float = 300.0
    lead_in_s: float = 8.0
    min_call_s: float = 4.0
    end_pad_s: float = 0.5
    playback_signal: bool = True
    stream_join_s: float = 5.0
    mic_only_end_s: float = 30.0

    def problem(self) -> str:
        """What is wrong with these settings; "" if nothing. The shift keeps ``lead_in_s``
        of both channels' audio all shift long, so it has a bound."""
        for name, most in (("lead_in_s", 60.0), ("end_silence_s", 600.0), ("hold_s", 3600.0),
                           ("connected_silence_s", 3600.0), ("dead_s", 60.0),
                           ("start_speech_s", 10.0), ("start_alive_s", 10.0), ("stream_join_s", 60.0),
                           ("mic_only_end_s", 600.0)):
            if getattr(self, name) > most:
                return f"{name} must be at most {most:g} s, not {getattr(self, name):g}"
        if not -150.0 <= self.alive_dbfs < 0.0:
            return f"alive_dbfs must be from -150 to 0 dB, not {self.alive_dbfs:g}"
        return ""


OPACITY_RANGE = (0.3, 1.0)
"""The overlay's opacity, least and most (1 = opaque): the config refuses others and the
overlay keeps to it."""


@dataclass
class OverlaySettings:
    """How the overlay looks, and its hotkeys.

    Attributes
    ----------
    font_pt : float
        Text size of the overlay and of the review window (points).
    opacity : float
        The whole panel's opacity, within :data:`OPACITY_RANGE` (1 = opaque).
    hotkey_call : str
        Start a call now, or end the open one (Qt key sequence, e.g. "Ctrl+Alt+C").
        Hotkeys work anywhere on X11 and Windows (pynput), else not at all (the
        overlay never takes the keyboard focus); "" turns one off.
    hotkey_show : str
        Show or hide the overlay.
    hotkey_mark : str
        Mark this moment of the call (it appears on the review's timeline).
    """

    font_pt: float = 10.0
    opacity: float = 0.96
    hotkey_call: str = "Ctrl+Alt+C"
    hotkey_show: str = "Ctrl+Alt+V"
    hotkey_mark: str = "Ctrl+Alt+M"

    def problem(self) -> str:
        """What is wrong with these settings; "" if nothing.

        >>> OverlaySettings(hotkey_call="Banana+Q").problem()
        'hotkey_call: "Banana+Q" is not a key combination (modifiers Ctrl, Alt, Shift, Meta, then one key, e.g. "Ctrl+Alt+C")'
        """
        if not 6 <= self.font_pt <= 40:
            return f"font_pt must be from 6 to 40, not {self.font_pt:g}"
        low, high = OPACITY_RANGE
        if not low <= self.opacity <= high:
            return f"opacity must be from {low:g} to {high:g} (1 = opaque), not {self.opacity:g}"
        taken: dict[str, str] = {}
        for name in ("hotkey_call", "hotkey_show", "hotkey_mark"):
            keys = getattr(self, name)
            if keys and to_pynput(keys) is None:
                return (f'{name}: "{keys}" is not a key combination (modifiers Ctrl, Alt, Shift, Meta, '
                        'then one key, e.g. "Ctrl+Alt+C")')
            same = taken.get(to_pynput(keys)) if keys else None
            if same:                        # one press would do both, or only one of them
                return f'{name}: "{keys}" is {same}\'s key too; give each its own (or "" to turn one off)'
            if keys:
                taken[to_pynput(keys)] = name
        return ""


_MODIFIERS = {"ctrl": "<ctrl>", "alt": "<alt>", "shift": "<shift>", "meta": "<cmd>", "win": "<cmd>"}
HOTKEY_NAMES = {"space": "space", "tab": "tab", "esc": "esc", "escape": "esc", "enter": "enter",
                "return": "enter", "backspace": "backspace", "insert": "insert", "ins": "insert",
                "delete": "delete", "del": "delete", "home": "home", "end": "end", "pgup": "page_up",
                "pageup": "page_up", "pgdown": "page_down", "pagedown": "page_down", "up": "up",
                "down": "down", "left": "left", "right": "right", "pause": "pause",
                "print": "print_screen", "menu": "menu"} | {f"f{i}": f"f{i}" for i in range(1, 21)}
"""Named keys a hotkey may end with (Qt's names, lower case) -> pynput's names: the one
table that both checks a setting and turns it into pynput's form."""


def to_pynput(keys: str) -> Optional[str]:
    """A hotkey setting ("Ctrl+Alt+C", "Ctrl+PgUp") as pynput writes it ("<ctrl>+<alt>+c",
    "<ctrl>+<page_up>"); None when it is not a key combination (modifiers, then one key).

    >>> to_pynput("Ctrl+Alt+PgUp")
    '<ctrl>+<alt>+<page_up>'
    """
    *mods, key = [p.strip().lower() for p in keys.split("+")] if keys else [""]
    if not all(m in _MODIFIERS for m in mods):
        return None
    if len(key) == 1:
        last = key
    elif key in HOTKEY_NAMES:
        last = f"<{HOTKEY_NAMES[key]}>"
    else:
        return None
    return "+".join([_MODIFIERS[m] for m in mods] + [last])


class ConfigError(Exception):
    """A config file that cannot be used (one clear line)."""


@dataclass
class Config:
    """All settings, one section per analyzer."""

    echo: EchoOptions = field(default_factory=EchoOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    turns: TurnOptions = field(default_factory=TurnOptions)
    prosody: ProsodyOptions = field(default_factory=ProsodyOptions)
    pace: PaceOptions = field(default_factory=PaceOptions)
    warmth: WarmthOptions = field(default_factory=WarmthOptions)
    arousal: ArousalOptions = field(default_factory=ArousalOptions)
    language: LanguageOptions = field(default_factory=LanguageOptions)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    streaming: StreamingOptions = field(default_factory=StreamingOptions)
    coach: CoachOptions = field(default_factory=CoachOptions)
    live: LiveOptions = field(default_factory=LiveOptions)
    capture: CaptureOptions = field(default_factory=CaptureOptions)
    team: TeamOptions = field(default_factory=TeamOptions)
    shift: ShiftOptions = field(default_factory=ShiftOptions)
    overlay: OverlaySettings = field(default_factory=OverlaySettings)

    def as_dict(self) -> dict:
        """The settings a call record keeps: every analysis and live setting, but nothing
        about the agent's machine (a shared record goes to the coach): not where the team
        store is, nor the folders, files and devices named (emptied; a model folder by its
        name alone)."""
        out = dataclasses.asdict(self)
        del out["team"]
        for section, key in MACHINE_SETTINGS:
            out[section][key] = type(out[section][key])()
        model = out["transcribe"]["model"]
        if "/" in model or "\\" in model:
            out["transcribe"]["model"] = re.split(r"[/\\]", model.rstrip("/\\"))[-1]
        return out


MACHINE_SETTINGS = (("warmth", "profile"), ("language", "lexicon_dirs"), ("live", "agent_device"),
                    ("live", "customer_device"), ("live", "record_dir"))
"""Settings that name a file, folder or device of the agent's machine (home folders, user names)."""


def default_config_path() -> Path:
    """``config.toml`` in the platform's user config folder."""
    import platformdirs

    return platformdirs.user_config_path("voicecoach") / "config.toml"


MAX_CONFIG_BYTES = 1 << 20
MAX_SETTING = 1e6
"""No number in the settings is larger than this (a 10**400 is a typo, not a threshold)."""
_POSITIVE_NAMES = ("_s", "_hz", "_wpm", "_size", "_threads", "_order", "_n", "_stride")
_ZERO_ALLOWED = {"reconnect_s": "0 (off)", "end_pad_s": "0 (none)"}
"""Lengths for which 0 is allowed, and what it means: reconnecting off, no pad after a
call's last speech."""
_OWN_RANGE = ("block_s", "font_pt", "opacity")
"""Settings whose section's ``problem()`` checks a range of their own: they get that
message alone, not a general one ("a fraction from 0 to 1") that disagrees with it."""


def _as_toml(value: Any, limit: int = 80) -> str:
    """A setting's value as the config file spells it (:func:`_toml_value`: ``true``,
    not Python's ``True``), cut to ``limit`` characters for an error line.

    >>> _as_toml(True), _as_toml("long"), _as_toml([1, "a"])
    ('true', '"long"', '[1, "a"]')
    """
    text = _toml_value(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def coerce(value: Any, default: Any, where: str) -> Any:
    """``value`` as the type of ``default``, range-checked; :class:`ConfigError` naming
    ``where`` ("FILE: [section] key") otherwise. Numbers must be finite and at most
    :data:`MAX_SETTING`; a setting whose default is positive may not be negative, nor
    zero when it is a length, rate or count (its name ends in ``_s``, ``_hz``,
    ``_size``...) unless 0 means something for it (:data:`_ZERO_ALLOWED`); one between
    0 and 1 (a threshold or fraction) stays in 0..1. Those with a range of their own
    (:data:`_OWN_RANGE`) are left to their section's check."""
    value = _coerce_type(value, default, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        key = where.rsplit(" ", 1)[-1]
        if abs(value) > MAX_SETTING or not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number of at most {MAX_SETTING:g}, not {_as_toml(value)}")
        if (isinstance(default, (int, float)) and not isinstance(default, bool) and default > 0
                and key not in _OWN_RANGE):
            if key in _ZERO_ALLOWED and value < 0:
                raise ConfigError(f"{where} must be {_ZERO_ALLOWED[key]} or more, not {_as_toml(value)}")
            if key.endswith(_POSITIVE_NAMES) and value <= 0 and key not in _ZERO_ALLOWED:
                raise ConfigError(f"{where} must be more than 0, not {_as_toml(value)}")
            if value < 0:
                raise ConfigError(f"{where} must not be negative, not {_as_toml(value)}")
            if isinstance(default, float) and default < 1 and not key.endswith(_POSITIVE_NAMES) and value > 1:
                raise ConfigError(f"{where} is a fraction from 0 to 1, not {_as_toml(value)}")
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, not {_as_toml(value)}")
    return value


def _coerce_type(value: Any, default: Any, where: str) -> Any:
    if default is None:   # an optional number; "" (as `voicecoach config` prints it) is unset
        if value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number or \"\", not {_as_toml(value)}")
        return float(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {_as_toml(value)}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, not {_as_toml(value)}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, not {_as_toml(value)}")
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(f"{where} must be a finite number of at most {MAX_SETTING:g}") from None
    if isinstance(default, str) and not isinstance(value, str):
        index = (where.endswith("_device") and isinstance(value, int) and not isinstance(value, bool))
        quoted = f' (in quotes: "{value}")' if index else ""      # a device by its index, as README allows
        raise ConfigError(f"{where} must be a string{quoted}, not {_as_toml(value)}")
    if isinstance(default, (list, tuple)) and not isinstance(value, list):
        raise ConfigError(f"{where} must be a list, not {_as_toml(value)}")
    return value


RETIRED = {("streaming", "revise_every_s"): "use second_pass = true or false"}
"""Settings earlier versions had -> what to write instead (named in the error)."""


def apply(config: Config, data: dict, source: str = "config") -> Config:
    """Override ``config`` with a parsed TOML mapping; unknown names are errors."""
    for section, values in data.items():
        if section not in {f.name for f in fields(Config)}:
            known = ", ".join(f.name for f in fields(Config))
            if not isinstance(values, dict):              # `dead_air_s = 5` above every section
                home = [f.name for f in fields(Config) if section in {g.name for g in fields(getattr(config, f.name))}]
                where = f", e.g. [{home[0]}]" if home else f" (sections: {known})"
                raise ConfigError(f"{source}: {section} must be under a section{where}")
            raise ConfigError(f"{source}: unknown section [{section}] (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{section}] must be a table of settings")
        opts = getattr(config, section)
        names = {f.name for f in fields(opts)}
        for key, value in values.items():
            if (section, key) in RETIRED:
                raise ConfigError(f"{source}: [{section}] {key} is no longer a setting: "
                                  f"{RETIRED[section, key]}")
            if key not in names:
                raise ConfigError(f"{source}: unknown setting {key!r} in [{section}] "
                                  f"(known: {', '.join(sorted(names))})")
            where = f"{source}: [{section}] {key}"
            setattr(opts, key, coerce(value, getattr(opts, key), where))
        problem = opts.problem() if hasattr(opts, "problem") else ""   # rules between settings
        if problem:
            raise ConfigError(f"{source}: [{section}] {problem}")
    return config


def load_config(path: Optional[str | Path] = None) -> Config:
    """Defaults, overridden by ``path`` or else by the user's config file if it exists."""
    config = Config()
    explicit = path is not None
    path = user_path(path) if explicit else default_config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: no such config file")
        return config
    if not path.is_file():            # a folder, a FIFO (would block), /dev/zero (never ends)
        raise ConfigError(f"{path}: not a config file (a folder or a device)")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {path.stat().st_size // 1024} KB is too large for a config file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))   # as Notepad saves it, too
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    return _from_folder(apply(config, data, str(path)), path.parent)


PATH_SETTINGS = (("warmth", "profile"), ("language", "lexicon_dirs"), ("live", "record_dir"))
"""Settings that name files or folders: relative ones are read from the config file's folder."""


def _from_folder(config: Config, folder: Path) -> Config:
    """Relative paths in ``config`` made relative to ``folder`` (the config file's), not to
    wherever a command is run from (a terminal in one folder, a desktop launcher in another)."""
    def place(value: str) -> str:
        absolute = value.startswith("~") or Path(value).is_absolute() or PureWindowsPath(value).is_absolute()
        return value if not value or absolute else str(Path(folder).absolute() / value)

    for section, key in PATH_SETTINGS:
        opts = getattr(config, section)
        value = getattr(opts, key)
        setattr(opts, key, [place(v) for v in value] if isinstance(value, list) else place(value))
    return config


def remember_setting(path: Optional[str | Path], section: str, key: str, value: str) -> str:
    """Set one string setting in the config file (``path``, or the user's), keeping
    everything else in it; return a line saying so. Raises OSError, or ConfigError when
    the file is written in a form this cannot add to (the section as an inline table, say):
    the file is then unchanged."""
    path = user_path(path) if path else default_config_path()
    text = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    line = f"{key} = {_toml_value(value)}"
    lines = text.splitlines()
    header = re.compile(rf"\s*\[\s*{re.escape(section)}\s*\]\s*(#.*)?")    # [warmth]  # a comment
    head = next((i for i, x in enumerate(lines) if header.fullmatch(x)), None)
    dotted = re.compile(rf"\s*{re.escape(section)}\s*\.\s*{re.escape(key)}\s*=.*")
    if head is None and section in _toml_or_empty(text):   # dotted keys at the top (warmth.low_warmth = ...)
        at = next((i for i, x in enumerate(lines) if dotted.fullmatch(x)), None)
        if at is None:
            lines.insert(0, f"{section}.{line}")
        else:
            lines[at] = f"{section}.{line}"
    elif head is None:
        lines += ([""] if lines else []) + [f"[{section}]", line]
    else:
        end = next((i for i in range(head + 1, len(lines)) if lines[i].strip().startswith("[")), len(lines))
        at = next((i for i in range(head + 1, end)
                   if lines[i].split("=")[0].strip().strip("\"'") == key), None)      # "profile" = ... too
        if at is None:
            lines.insert(head + 1, line)
        else:
            lines[at] = line
    new = "\n".join(lines) + "\n"
    try:
        apply(Config(), tomllib.loads(new), str(path))          # still a valid config
    except tomllib.TOMLDecodeError:
        raise ConfigError(f"{path}: its [{section}] is written in a form VoiceCoach cannot add to "
                          f"(dotted keys or an inline table); add {line} to it yourself") from None
    from voicecoach.store.private import write_private

    write_private(path, new)       # whole or not at all; the user's alone (it names their profile, their store)
    return f"Set as your voice profile in {path} ([{section}] {key})."


def _toml_or_empty(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def to_toml(config: Config, notes: bool = False) -> str:
    """Every setting as TOML, for ``voicecoach config`` (a file a user can edit).

    With ``notes``, each section and setting has a comment saying what it is
    (:func:`setting_notes`), and a setting that differs from its default says the default.
    """
    lines = []
    for f in fields(Config):
        section = getattr(config, f.name)
        default = dataclasses.asdict(f.default_factory())
        said = setting_notes(type(section)) if notes else {}
        if notes:
            lines += _comment(_first_sentence(_plain(_summary(type(section)), type(section))))
        lines.append(f"[{f.name}]")
        for k, v in dataclasses.asdict(section).items():
            if k in said:
                lines += _comment(said[k])
            changed = notes and v != default[k]
            lines.append(f"{k} = {_toml_value(v)}" + (f"  # default: {_toml_value(default[k])}" if changed else ""))
        lines.append("")
    return "\n".join(lines)


def setting_notes(options: type) -> dict[str, str]:
    """Each setting of an options class in one sentence: the first sentence of its entry
    in the class docstring's ``Attributes`` section, where every setting is explained
    (``a, b : float`` explains two at once).

    >>> setting_notes(TeamOptions)["connect_timeout_s"]
    'How long to wait for the server before saying it is not reachable (s).'
    """
    doc = inspect.getdoc(options) or ""
    unset = {f.name for f in fields(options) if f.default is None}
    found = re.search(r"^Attributes\n-+\n(.*?)(?=^\w[\w ]*\n-+\n|\Z)", doc, re.S | re.M)
    notes: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []
    for line in (found.group(1) if found else "").splitlines() + ["end :"]:
        head = re.match(r"^(\w+(?:, \w+)*) :", line)
        if not head:
            text.append(line)
            continue
        plain = _plain(" ".join(text), options)
        note = _first_sentence(plain)
        if set(names) & unset:          # what "" (unset) means, where a later sentence says
            said = re.search(r"(?:^|(?<=[.;] ))[^.;]*\bNone\b[^.;]*", plain)
            if said and "None" not in note:
                note += " " + said.group(0).strip().rstrip(".") + "."
            note = re.sub(r"\bNone\b", '""', note)
        notes.update(dict.fromkeys(names, note))
        names, text = head.group(1).split(", "), []
    return notes


def _summary(options: type) -> str:
    """The first paragraph of a class's docstring."""
    return (inspect.getdoc(options) or "").split("\n\n", 1)[0]


def _plain(text: str, options: type) -> str:
    """Docstring markup as plain text on one line, for a user: a constant of the options'
    module as its value (``:data:`OPACITY_RANGE``` -> "0.3 to 1"), a cross-reference
    dropped where it is only a pointer ("(:mod:`a.b`)", "see :func:`f`"), else its last
    name; no double backquotes."""
    module = inspect.getmodule(options)

    def value(m: re.Match) -> str:
        where, _, name = m.group(2).rpartition(".")
        v = None
        if m.group(1) == "data":
            try:
                v = getattr(importlib.import_module(where) if where else module, name, None)
            except ImportError:
                pass
        if isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
            return f"{v[0]:g} to {v[1]:g}"
        if isinstance(v, tuple):
            return ", ".join(map(str, v))
        return str(v) if isinstance(v, (int, float)) else name

    text = " ".join(text.split())
    text = re.sub(r"\s*\((?:see )?:(?:mod|func|class|meth):`[^`]+`\)|;?\s*see :\w+:`[^`]+`", "", text)
    text = re.sub(r":(\w+):`~?([^`]+)`", value, text)
    return " ".join(text.replace("``", "").split())


def _first_sentence(text: str) -> str:
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(?=\s|$)", text)
    return text[:end.end()] if end else text


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, 86, initial_indent="# ", subsequent_indent="# ") if text else []


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if v is None:
        return '""'
    return '"' + _TOML_ESCAPES.sub(lambda m: _TOML_ESCAPE.get(m.group(), f"\\u{ord(m.group()):04x}"), str(v)) + '"'


_TOML_ESCAPES = re.compile(r'["\\\x00-\x1f\x7f]')
_TOML_ESCAPE = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
"""A TOML basic string's escapes; any other control character as \\uXXXX."""
