"""Where call records live, how they are saved, and how a call is opened: one set of
rules for the command line (``analyze -o``, ``live --record``) and the review window.

Privacy
    Files that hold a call are readable by the user alone (:mod:`voicecoach.store.private`):
    a record is written atomically, 0600, in folders made 0700.

Where a record goes
    Where the user says (``analyze -o FILE``; overwritten: they asked for it). A new
    record of a recording (the review analysing a call, ``live --record``) goes beside
    it as ``<stem>.json`` unless that name is taken (never overwritten), the folder is
    read-only, or the recording is the packaged demo; then it goes to the data folder's
    ``records/``, named by the recording's path too (:func:`kept_record`: two
    recordings of one name never share a record).

The history
    A saved record is added to the history (:mod:`voicecoach.store.history`) in the same
    step, and so is every record the review opens: the history holds one row per record
    file. It is an index that can be rebuilt from the records, so a history that cannot
    be written never costs the call: the reason comes back as a note.

Opening a call (:func:`open_call`)
    A record file opens as it is, with its recording if that lies beside it or where the
    history says the record was made from, and is as long as the call (:func:`call_audio`).
    A recording opens with its record when there is one (``<stem>.json`` beside it, ``<stem>-<hash>.json`` in ``records/``, or a record the history knows was
    made from it, of a recording of the same name and length: :func:`record_places`);
    otherwise it is analysed and its new record saved and added to the history.

Free of Qt: the review window passes its progress dialog in as ``analyse``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Union

from voicecoach.store.private import records_dir, write_private
from voicecoach.store.record import RecordError, date_by_recording, is_demo, load_record

if TYPE_CHECKING:
    from voicecoach.analyzers.voice import Baseline
    from voicecoach.sources.audio import CallAudio

def kept_record(recording: Union[str, Path]) -> Path:
    """Where the data folder keeps the record of a recording that cannot have one beside
    it: ``records/<stem>-<hash>.json``, the hash being 8 hex digits of the recording's
    resolved path and size. Two recordings of one name (``A/call.flac`` and
    ``B/call.flac``, a share's dated folders of ``call.wav``), or two calls recorded one
    after the other into one file name, get a record each, never one over the other, and
    each recording finds its own (:func:`record_home` also never writes over a file there).
    A recording moved since is analysed again."""
    import hashlib

    recording = Path(recording)
    try:
        size = recording.stat().st_size
        where = str(recording.resolve())
    except (OSError, RuntimeError):
        size, where = -1, os.path.abspath(recording)
    key = f"{where}\0{size}".encode("utf-8", "surrogateescape")
    return records_dir() / f"{recording.stem}-{hashlib.sha1(key).hexdigest()[:8]}.json"


def call_files(recording) -> tuple[Path, ...]:
    """A recording as the files it is: ``(call,)``, or ``(agent, customer)`` for a call
    given as a file per side (``--agent``, ``--customer``)."""
    return (Path(recording),) if isinstance(recording, (str, Path)) else tuple(map(Path, recording))


def record_places(recording: Union[str, Path, tuple], history_path: Union[str, Path, None] = None,
                  *, linked: bool = True) -> Iterator[Path]:
    """Where a call record of ``recording`` (a file, or a tuple :func:`call_files` takes; a
    pair's record lives as its agent file's would) may be: ``<stem>.json`` beside it, its
    :func:`kept_record` in the data folder (or ``-2``, ``-3``... after it, where that name
    was taken), ``records/<stem>.json`` (where versions before the hash kept it: read,
    never written), then (``linked``) wherever the history says a record was made from
    it (``analyze CALL -o elsewhere.json``), looked up only when the others are passed.
    Only these are looked in (:func:`find_record`)."""
    files = call_files(recording)
    recording = files[0]
    kept = kept_record(recording)
    yield recording.with_suffix(".json")
    yield kept
    if kept.parent.is_dir():
        yield from sorted(kept.parent.glob(f"{kept.stem}-[0-9]*.json"))
    yield records_dir() / (recording.stem + ".json")
    if linked:
        yield from _linked(history_path, "records_of", files)


def find_record(recording: Union[str, Path, tuple], duration_s: float,
                history_path: Union[str, Path, None] = None,
                agent_channel: Optional[str] = None) -> Optional[Path]:
    """A call record of ``recording`` (a file, or a tuple :func:`call_files` takes: same file
    name(s) and length, s) in one of its :func:`record_places`; None when there is none.
    ``agent_channel`` ("left", "right"): only a record analysed with the agent on that side
    of the stereo file (``--agent-channel``) counts; None: any."""
    files = call_files(recording)
    name = " + ".join(p.name for p in files)
    for path in record_places(recording, history_path):
        if not path.exists():
            continue
        try:
            record = load_record(path)
        except RecordError:
            continue
        try:
            source = record.get("source", {})
            live = bool(record.get("live") or record.get("shift"))
            same = (source.get("name") == name
                    and (abs(float(record.get("duration", -1.0)) - duration_s) < 0.1
                         # a live call's recording keeps the silence in which the shift saw the
                         # call end (or a full disk stopped it): the call's, as the record opens it
                         or live and _length_fits(record, files, duration_s)[0])
                    and agent_channel in (None, source.get("agent_channel") or "left"))
        except (AttributeError, TypeError, ValueError):     # a malformed record: not this call's
            same = False
        if same:
            return path
    return None


def recording_candidates(record: dict, record_path: Union[str, Path],
                         history_path: Union[str, Path, None] = None) -> Iterator[tuple[Path, ...]]:
    """The file(s) that may hold the audio of the record at ``record_path``, most likely
    first: ``(call,)``, or ``(agent, customer)`` for a call analysed from one file per
    side. Their lengths are not checked here (:func:`recording_files`, :func:`call_audio`).

    Looked for beside the record by ``source.name`` (``call.flac``, or ``agent.flac +
    caller.flac``), then where the history says the record was made from (a record saved
    with ``-o`` to another folder, or kept in the data folder's ``records/``), then the
    demo call for the demo's record.

    Beside the record, only a plain file name that is a file in the record's own folder
    counts: a record is data someone may have crafted, so a ``source.name`` that is a path
    (``/home/x/other.wav``, ``../../secret.flac``) or names a symlink to a file elsewhere
    never makes a report embed, or the review play, a file outside that folder. The
    history is the user's own, written by this program."""
    from voicecoach.analyze import demo_call_path

    name = record["source"]["name"]
    if not isinstance(name, str):
        return
    folder = Path(record_path).parent
    try:
        real_folder = folder.resolve()
    except (OSError, RuntimeError):
        return

    def here(n: str) -> bool:
        if not is_plain_name(n) or not (folder / n).is_file():
            return False
        try:
            return (folder / n).resolve().parent == real_folder
        except (OSError, RuntimeError):
            return False

    if here(name):
        yield (folder / name,)
    parts = name.split(" + ")
    for k in range(1, len(parts)):                       # "agent.flac + caller.flac"
        pair = (" + ".join(parts[:k]), " + ".join(parts[k:]))
        if all(here(n) for n in pair):
            yield tuple(folder / n for n in pair)
    linked = _linked(history_path, "recordings_of", record_path)
    if linked and " + ".join(p.name for p in linked) == name and all(p.is_file() for p in linked):
        yield linked
    demo = demo_call_path()
    if name == demo.name and demo.is_file():
        yield (demo,)


def is_plain_name(name: str) -> bool:
    """A file name with no folder in it (no separator, not ``.`` or ``..``, no NUL)."""
    seps = {"/", "\\", "\0"} | ({os.altsep} if os.altsep else set())
    return bool(name) and name not in (".", "..") and not any(c in name for c in seps)


LENGTH_SLACK_S = 1.0
"""A recording found for a record is that call's when their lengths differ by at most this (s)."""


def _length_fits(record: dict, files: tuple, length_s: float) -> tuple[bool, str]:
    """Whether audio of ``length_s`` (s) in ``files`` can be the call of ``record``, and what
    to tell the user. A live call's recording may be longer (the recorder keeps the silence
    in which the shift saw the call end: the view cuts it) or shorter (a full disk stopped
    it: the part there is, said so); any other recording must be the call's length."""
    from voicecoach.sinks.view import clock

    duration = float(record["duration"])
    if abs(length_s - duration) <= LENGTH_SLACK_S:
        return True, ""
    said = f"{' + '.join(p.name for p in files)} lasts {clock(length_s)}"
    if record.get("live") or record.get("shift"):
        return True, (f"{said}: the recording stopped during the call" if length_s < duration else "")
    return False, (f"{said} but the call lasted {clock(duration)}: it is not this call's recording")


def _cut_to_call(record: dict, audio: CallAudio) -> CallAudio:
    """``audio`` without what a live call's recording keeps after the call: the silence in
    which the shift saw the call end (the record's ``duration`` is where it ended)."""
    from voicecoach.sources.audio import CallAudio

    end = int(round(float(record["duration"]) * audio.sr))
    if len(audio.agent) > end + LENGTH_SLACK_S * audio.sr:
        return CallAudio(audio.agent[:end].copy(),
                         None if audio.customer is None else audio.customer[:end].copy(), audio.name)
    return audio


def _header_length_s(files: tuple) -> Optional[float]:
    """The length (s) the files' headers give (the longer side), or None when one cannot say."""
    from voicecoach.sources.audio import sndfile_info

    lengths = []
    for f in files:
        info = sndfile_info(Path(f))
        if info is None or not info.samplerate or info.frames <= 0:
            return None
        lengths.append(info.frames / info.samplerate)
    return max(lengths) if lengths else None


def recording_files(record: dict, record_path: Union[str, Path],
                    history_path: Union[str, Path, None] = None) -> tuple[Path, ...]:
    """The file(s) holding the call of the record at ``record_path`` (the first of its
    :func:`recording_candidates` whose length fits the call, read from the header where
    it says, else decoded); ``()`` when none. For sharing the recording: what the review
    plays comes from :func:`call_audio`, which decodes."""
    from voicecoach.sources.audio import AudioError

    for files in recording_candidates(record, record_path, history_path):
        length = _header_length_s(files)
        if length is None:
            try:
                audio = load_files(files, record["source"].get("agent_channel") or "left")
            except AudioError:
                continue
            length = audio.duration
        if _length_fits(record, files, length)[0]:
            return files
    return ()


def load_files(files, agent_channel: str = "left") -> CallAudio:
    """The call in ``files``: one path, or a tuple ``(call,)`` or ``(agent, customer)``
    (:func:`~voicecoach.sources.audio.load_call`)."""
    from voicecoach.sources.audio import load_call

    files = (files,) if isinstance(files, (str, Path)) else tuple(files)
    if len(files) == 2:
        return load_call(agent=files[0], customer=files[1])
    return load_call(files[0], agent_channel=agent_channel)


def _linked(history_path: Union[str, Path, None], method: str, path: Union[str, Path]) -> tuple[Path, ...]:
    """``<method>(path)`` of the history opened read-only (:meth:`History.read_only`), or ()
    when there is none yet, it is older or locked, or cannot be read: a look-up never
    creates, upgrades or waits on the history."""
    import sqlite3

    from voicecoach.store.history import History

    try:
        with History.read_only(history_path) as history:
            return tuple(getattr(history, method)(path))
    except (sqlite3.Error, OSError, RuntimeError):
        return ()


def record_home(recording: Union[str, Path]) -> Path:
    """Where a new record of ``recording`` goes: ``<stem>.json`` beside it, unless that
    file exists (it is some other file: never overwritten) or the folder is read-only or
    the package's own (the demo); then the data folder's ``records/`` (:func:`kept_record`)."""
    from voicecoach.analyze import demo_call_path

    recording = Path(recording)
    beside = recording.with_suffix(".json")
    folder = recording.resolve().parent
    if (not os.path.lexists(beside) and os.access(folder, os.W_OK)
            and folder != demo_call_path().resolve().parent):
        return beside
    first = kept = kept_record(recording)
    n = 1
    while os.path.lexists(kept):                      # another call's record: never written over
        n += 1
        kept = first.with_name(f"{first.stem}-{n}.json")
    return kept


# --------------------------------------------------------------------------- saving

def save_record(record: dict, path: Union[str, Path]) -> Path:
    """Write ``record`` to ``path`` atomically (temporary file + rename: a crash never
    leaves half a record), 0600, creating missing folders 0700 (:func:`private_folder`).
    Does not touch the history (:func:`save_call` does both).

    Raises
    ------
    OSError
        It cannot be written; nothing was changed at ``path``.
    """
    import json

    return write_private(path, json.dumps(record, indent=1))


def add_to_history(record: dict, record_path: Union[str, Path],
                   history_path: Union[str, Path, None] = None,
                   recordings: tuple = (), replace: bool = True) -> str:
    """Index a saved record in the history (one row per record file: adding it again
    replaces its row). Never raises: returns "" when done, else a note saying why not
    (:func:`added_to_history`)."""
    return added_to_history(record, record_path, history_path, recordings, replace)[0]


def added_to_history(record: dict, record_path: Union[str, Path],
                     history_path: Union[str, Path, None] = None,
                     recordings: tuple = (), replace: bool = True) -> tuple[str, bool]:
    """:func:`add_to_history`'s note, and whether the history keeps a better record of the
    same call instead (made with speech-to-text; the note says so), which a caller may pass
    over without a word (it was said when the call was saved).

    Parameters
    ----------
    history_path : path, optional
        The history database (default: the user's, in :func:`data_dir`).
    recordings : tuple of paths
        The file(s) the record was made from, so that its audio is found where it is not
        beside the record (:func:`recording_candidates`).
    replace : bool
        False for a record opened, not made: the row of the same call under another
        record stays (:meth:`~voicecoach.store.history.History.add`).
    """
    import sqlite3

    from voicecoach.store.history import History

    try:
        with History(history_path) as history:
            history.add(record, record_path, recordings, replace)
            kept = history.kept
    except (sqlite3.Error, OSError) as exc:
        return f"not added to the history ({exc})", False
    except UnicodeEncodeError:       # a ValueError, but the record is whole: its name is the matter
        return ("not added to the history: a file name of this call is not UTF-8 text, which the "
                "history cannot hold; rename it and open it again (`voicecoach report`) to add it"), False
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return f"not added to the history (incomplete call record: {exc.__class__.__name__} {exc})", False
    if kept is not None:
        return (f"the history keeps this call's record made with speech-to-text ({kept}); "
                "this one, made without it, is saved but not listed"), True
    return "", False


def save_call(record: dict, path: Union[str, Path],
              history_path: Union[str, Path, None] = None, recordings: tuple = ()) -> str:
    """Save ``record`` at ``path`` (:func:`save_record`) and add it to the history, with the
    recording file(s) it was made from (:func:`add_to_history`).

    Returns
    -------
    str
        "" or a note on why the history was not updated (the record is saved anyway).

    Raises
    ------
    OSError
        The record cannot be written (then the history is not touched).
    """
    path = save_record(record, path)
    return add_to_history(record, path, history_path, recordings)


def save_new_call(record: dict, recording: Union[str, Path, tuple],
                  history_path: Union[str, Path, None] = None) -> tuple[Optional[Path], str]:
    """Save the new record of ``recording`` (a file, or a tuple :func:`call_files` takes) where
    :func:`record_home` says (a pair's: as its agent file's) and add it to the history.
    Never raises.

    When it cannot be written there (a full disk), it goes to the data folder's
    ``records/``. A record is written whole or not at all.

    Returns
    -------
    path : Path or None
        Where the record was saved; None when it could not be.
    note : str
        "" or what went wrong (the record could not be saved, or not added to the history).
    """
    files = call_files(recording)
    home = record_home(files[0])
    try:
        return home, save_call(record, home, history_path, files)
    except OSError as exc:
        first = f"the call record could not be saved to {home} ({exc.strerror or exc})"
    fallback = kept_record(files[0])          # e.g. the recording's disk is full
    if fallback == home or os.path.lexists(fallback):
        return None, first
    try:
        return fallback, save_call(record, fallback, history_path, files)
    except OSError as exc:
        return None, f"{first}, nor to {fallback} ({exc.strerror or exc})"


# --------------------------------------------------------------------------- opening

@dataclass
class OpenedCall:
    """A call to show: its record, its audio when found, where they are, and a note for
    the user ("" when there is nothing to say). ``shared_by`` names the agent when it
    is a call shared with the coach (:func:`voicecoach.store.team.open_shared`), "" for
    a call on this machine.

    ``audio_files`` are the file(s) the audio was read from: ``(call,)``, or ``(agent,
    customer)`` for a call from one file per side, whose ``audio_path`` is then None.
    ``warnings`` are what reading them warned of, which ``note`` includes: given on the
    terminal too, so a command that prints the note drops them (``report``)."""

    record: dict
    audio: Optional[CallAudio] = None
    record_path: Optional[Path] = None
    audio_path: Optional[Path] = None
    note: str = ""
    shared_by: str = ""
    audio_files: tuple = ()
    warnings: tuple = ()

    def __post_init__(self):
        if not self.audio_files and self.audio_path is not None:
            self.audio_files = (self.audio_path,)


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _call_in_shift(audio, record: dict):
    """The part of a replayed recording (the demo) that a shift's call record covers: the
    record's clock starts where the shift found the call (``shift.start_s``), not at the
    recording's start."""
    from voicecoach.events import SAMPLE_RATE
    from voicecoach.sources.audio import CallAudio

    start = int(round(float(record["shift"].get("start_s") or 0.0) * SAMPLE_RATE))
    end = start + int(round(float(record["duration"]) * SAMPLE_RATE))
    if start < 0 or end > len(audio.agent) + SAMPLE_RATE // 2:
        return None              # a later call of a shift that replayed the demo more than once
    cut = (lambda x: None if x is None else x[start:end].copy())
    return CallAudio(cut(audio.agent), cut(audio.customer), audio.name)


def _load_noted(files, agent_channel: str = "left"):
    """The call in ``files`` (one path, or a tuple: ``(call,)`` or ``(agent, customer)``)
    and what reading it warned of (a truncated file, a clipped side, a dead caller
    channel), one line each, for the window's status line; the warnings are given on as
    well, for the terminal."""
    import warnings

    from voicecoach.sources.audio import AudioWarning

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", AudioWarning)
        audio = load_files(files, agent_channel)
    notes = []
    for w in said:
        if issubclass(w.category, AudioWarning):
            notes.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return audio, tuple(notes)


NOT_RECORDED = "no recording was made of this call (recording was off): no waveforms or playback"
"""Why a call coached live with recording off has no playback (:func:`not_recorded`)."""


def not_recorded(record: dict) -> bool:
    """Whether ``record`` is of a call coached live with no recording made (recording was
    off, or a full disk refused its first second): it names no recording (its source is the session's name, "call 3, 2026-12-06 14:46", where a
    recorded call's is its file's, "call-20261206-144646.wav")."""
    if not (record.get("live") or record.get("shift")) or record.get("demo"):
        return False
    name = record["source"].get("name")
    return isinstance(name, str) and not Path(name).suffix


def call_audio(record: dict, record_path: Path, history_path: Union[str, Path, None] = None, *,
               demo: bool = False) -> tuple[tuple[Path, ...], Optional[CallAudio], str, tuple]:
    """The audio of the record at ``record_path``, to show: ``(files, audio, note, heard)``.

    The first of its :func:`recording_candidates` that decodes and whose length fits the
    call (:func:`_length_fits`; a live call's longer recording is cut to the call), read
    as it was analysed (``source.agent_channel``); the demo's part a shift covered for a
    shift's record of the demo. ``((), None, why, ())`` when there is none; ``note`` also
    carries what reading it warned of, ``heard`` (one line each)."""
    from voicecoach.analyze import demo_call_path
    from voicecoach.sources.audio import AudioError

    said = []
    for files in (*recording_candidates(record, record_path, history_path),
                  *([(demo_call_path(),)] if demo else [])):
        try:
            audio, heard = _load_noted(files, record["source"].get("agent_channel") or "left")
        except AudioError as exc:
            said.append(f"{' + '.join(p.name for p in files)} is not readable ({exc})")
            continue
        if record.get("shift") and files[0].resolve() == demo_call_path().resolve():
            audio = _call_in_shift(audio, record)         # the demo replayed in a shift, not recorded
            if audio is None:
                return ((), None, "where this call lies in the replayed demo is not known: no waveforms or playback",
                        ())
            return files, audio, _join(*heard), heard
        fits, why = _length_fits(record, files, audio.duration)
        if not fits:
            said.append(why)
            continue
        return files, _cut_to_call(record, audio), _join(*heard, why), heard
    if not said and not_recorded(record):             # nothing went missing: there never was one
        return (), None, NOT_RECORDED, ()
    if not said:
        said.append(f"{record['source']['name']} is neither beside the record nor where it was analysed")
    return (), None, _join(*dict.fromkeys(said)) + ": no waveforms or playback", ()


def _not_being_recorded(files: tuple) -> None:
    """Refuse a recording that ``voicecoach live`` is still writing (it holds the recorder's
    lock): analysed now, the part-call's record would be saved beside it and listed, and the
    call's own record, saved when it ends, listed again.

    Raises
    ------
    AudioError
        One of ``files`` is being recorded."""
    from voicecoach.sinks.recorder import in_progress
    from voicecoach.sources.audio import AudioError

    for f in files:
        if os.path.isfile(f) and in_progress(f):        # (a FIFO is never opened here: it would wait)
            raise AudioError(f"{f}: this call is still being recorded (by `voicecoach live`); "
                             "open it once the call has ended")


def open_call(call: Union[str, Path, dict, tuple], config=None, *,
              analyse: Optional[Callable] = None,
              history_path: Union[str, Path, None] = None,
              baseline: Optional[Baseline] = None,
              agent_channel: Optional[str] = None) -> OpenedCall:
    """Open ``call`` for review: ``"demo"``, a recording, a call record file, a record dict,
    or a recording as a file per side, ``(agent, customer)`` (as ``analyze --agent
    --customer`` takes it).

    A record file opens as it is, with its recording (:func:`call_audio`).
    A recording opens with its record (:func:`find_record`); without one it is analysed,
    dated when it was recorded (:func:`~voicecoach.store.record.date_by_recording`) and
    the new record saved (:func:`save_new_call`). Every record opened or saved is in
    the history afterwards (a dict, having no file, is not), but the demo call's: it is
    no call of the agent's, and would count in their trend.

    Parameters
    ----------
    config : voicecoach.config.Config, optional
        Settings for analysing a recording that has no record yet.
    analyse : callable, optional
        ``analyse(audio, config, baseline) -> record``; default
        :func:`voicecoach.analyze.analyze_call` (the review and ``report`` pass one with
        a progress display).
    history_path : path, optional
        The history database (default: the user's).
    baseline : voicecoach.analyzers.voice.Baseline, optional
        The voice profile a recording without a record is analysed against, as
        ``analyze`` and ``live`` would (the user's remembered one); None judges warmth
        against the call's own start. A record that exists keeps the warmth it has.
    agent_channel : {"left", "right"}, optional
        Which side of a stereo recording is the agent (``--agent-channel``): only a
        record analysed so is opened, else the recording is analysed so. None: as its
        record says, else left.

    Raises
    ------
    AudioError, RecordError
        The file cannot be read, or `live` is still recording it (one line).
    """
    if isinstance(call, dict):
        return OpenedCall(call, note="call record without its recording: no waveforms or playback")
    from voicecoach.analyze import demo_call_path

    files = (demo_call_path(),) if str(call) == "demo" else call_files(call)
    path = files[0]
    # the demo, or the record kept of it: opened by name (`review records/demo_call-<hash>.json`)
    demo = path.resolve() in {p.resolve() for p in (demo_call_path(),
                                                     *record_places(demo_call_path(), linked=False))}

    def indexed(record: dict, record_path: Path) -> str:
        return "" if demo else add_to_history(record, record_path, history_path, replace=False)

    if path.suffix.lower() == ".json":
        record = load_record(path)
        demo = demo or is_demo(record, path)          # e.g. a record of `live --replay demo`
        if demo:
            record["demo"] = True                     # a record an earlier version kept: not the agent's
        files, audio, note, heard = call_audio(record, path, history_path, demo=demo)
        return OpenedCall(record, audio, path, files[0] if len(files) == 1 else None,
                          _join(note, indexed(record, path)), audio_files=files, warnings=heard)
    one = path if len(files) == 1 else None           # the audio file, when the call is one
    _not_being_recorded(files)
    audio, heard = _load_noted(files, agent_channel or "left")
    found = find_record(files, audio.duration, history_path, agent_channel)
    if found is not None:
        record = load_record(found)
        if demo:
            record["demo"] = True                     # kept by an earlier version, unmarked
        if record["source"].get("agent_channel") == "right" and agent_channel is None:
            audio, heard = _load_noted(path, "right")   # as it was analysed
        audio = _cut_to_call(record, audio)
        return OpenedCall(record, audio, found, one, _join(*heard, indexed(record, found)), audio_files=files,
                          warnings=heard)
    if analyse is None:
        from voicecoach.analyze import analyze_call

        def analyse(audio, config, baseline):
            return analyze_call(audio, config, baseline=baseline)
    record = analyse(audio, config, baseline)
    if agent_channel == "right" and one is not None:
        record["source"]["agent_channel"] = "right"   # as `analyze` marks it: each side played as analysed
    if demo:                                  # kept to open at once next time; not in the history
        record["demo"] = True                 # as `analyze --demo` marks it: never indexed or shared
        home = record_home(path)
        try:
            return OpenedCall(record, audio, save_record(record, home), path, _join(*heard), warnings=heard)
        except OSError:
            return OpenedCall(record, audio, None, path, _join(*heard), warnings=heard)
    date_by_recording(record, path)           # when it was recorded, as `analyze` dates it
    home, note = save_new_call(record, files, history_path)
    if home is None:
        return OpenedCall(record, audio, None, one, _join(*heard, "analysed", note), audio_files=files,
                          warnings=heard)
    return OpenedCall(record, audio, home, one, _join(*heard, f"analysed; call record saved to {home}", note),
                      audio_files=files, warnings=heard)
