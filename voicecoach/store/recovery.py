"""Calls whose process was killed: their recording survived, their call record did not.

``live --record DIR`` writes the recording as the call goes and the call record only at
the end, so a ``kill -9``, a crash or a power cut leaves a recording without a record.
The next ``live`` (in the background, at low priority, while it coaches) and ``history``
(before it shows the list: in the config's folder, the folders of the history's live calls
and every folder ``live`` noted it records in, :func:`remember_folder`, so the first call
of a ``--record DIR`` killed mid-call is found too) look in the recording folder for such
recordings, make each
one's header whole (:func:`voicecoach.sinks.recorder.repair`), analyse it as ``analyze``
would, and save its record where ``live`` would have (beside it, else the data folder's
``records/``) and in the history, with one line each saying so. The demo's recordings
(``demo-*.wav``) are nobody's call and never recovered. A recording still being
written (locked by its recorder), or being recovered by another VoiceCoach (locked the same
way: `history` while `live` recovers in the background), is left alone; one that cannot be analysed is named
once per run and kept. A record beside its recording that never reached the history (the
program killed just after saving it, the history locked then) is added to it. A program that quits while ``live`` recovers in the background
first lets a record being saved finish, with its history row and its line
(:meth:`BackgroundRecovery.stop`), so no record is left out of the history.
"""
from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from voicecoach.paths import user_path
from voicecoach.store.calls import record_places, save_new_call
from voicecoach.store.record import RECOVERED, RecordError, date_by_recording, load_record, printable_name

Say = Callable[[str], None]


def has_record(recording: Path, indexed: frozenset = frozenset()) -> bool:
    """Whether a call record of ``recording`` (by its file name) exists in one of its
    :func:`~voicecoach.store.calls.record_places`: beside it, in the data folder's
    ``records/``, or where the history says one was made from it.

    ``indexed`` (the history's record files, :meth:`History.record_paths`) answers at once
    for a recording whose record beside it is in the history, as ``live --record`` leaves
    every call: reading each record would make a year of recordings a minute's wait."""
    try:
        if str(recording.with_suffix(".json").resolve()) in indexed:
            return True
    except (OSError, RuntimeError):
        pass
    for path in record_places(recording):
        if not path.exists():
            continue
        try:
            record = load_record(path)
            if record.get("source", {}).get("name") == recording.name:
                return True
        except (RecordError, AttributeError, OSError):
            continue
    return False


def unfinished(folder: Union[str, Path]) -> list[Path]:
    """Recordings in ``folder`` (``call-*.wav``, as ``live --record`` names them) that
    hold audio, have no call record and are not being written, oldest first."""
    from voicecoach.sinks.recorder import holds_audio, in_progress

    folder = user_path(folder)
    if not folder.is_dir():
        return []
    try:
        found = sorted(folder.glob("call-*.wav"))
    except OSError:
        return []
    indexed = _indexed() if found else frozenset()       # (:func:`has_record`)
    return [p for p in found if p.is_file() and holds_audio(p)    # an empty one has no call to recover
            and not has_record(p, indexed) and not in_progress(p)]


def _indexed() -> frozenset:
    """The record files the history indexes (none when it cannot be read: each record is
    read then)."""
    import sqlite3

    from voicecoach.store.history import History

    try:
        with History.read_only() as history:
            return frozenset(history.record_paths())
    except (sqlite3.Error, OSError):
        return frozenset()


def unindexed(folder: Union[str, Path]) -> list[Path]:
    """Call records beside the recordings of ``folder`` whose call the history does not
    hold at all (by that record, or another made from the same recording): the program
    was killed after saving one, or the history was locked then ("not added to the
    history"). None while the history cannot be read."""
    import sqlite3

    from voicecoach.store.history import History

    folder = user_path(folder)
    if not folder.is_dir():
        return []
    try:
        records = [w.with_suffix(".json") for w in sorted(folder.glob("call-*.wav"))]
    except OSError:
        return []
    records = [r for r in records if r.is_file()]
    if not records:
        return []
    try:
        with History.read_only() as history:
            indexed = frozenset(history.record_paths())
            return [r for r in records if str(r.resolve()) not in indexed
                    and not history.records_of(r.with_suffix(".wav"))]
    except (sqlite3.Error, OSError):
        return []


def unindexed_unrecorded() -> list[Path]:
    """Records of calls coached live without recording (the shift saves each in the data
    folder's ``records/`` as ``call-YYYYmmdd-HHMMSS-NNN.json``) that the history does not
    hold: it was locked, full or read-only when the call ended ("not added to the history").
    Records of the demo are not the agent's and stay out. None while the history cannot be
    read."""
    import json
    import re
    import sqlite3

    from voicecoach.store.private import records_dir
    from voicecoach.store.history import History
    from voicecoach.store.record import is_demo

    folder = records_dir()
    try:
        found = [p for p in sorted(folder.glob("call-*.json"))
                 if re.fullmatch(r"call-\d{8}-\d{6}-\d{3,6}\.json", p.name) and p.is_file()]
    except OSError:
        return []
    if not found:
        return []
    try:
        with History.read_only() as history:
            indexed = frozenset(history.record_paths())
    except (sqlite3.Error, OSError):
        return []
    left = []
    for p in found:
        if str(p.resolve()) in indexed:
            continue
        try:                           # parsed only (a demo replayed often leaves many)
            with open(p, encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue                   # not one the shift saved whole: not ours to add
        if isinstance(record, dict) and record.get("live") and not is_demo(record, p):
            left.append(p)
    return left


def unrecorded_added() -> Iterator[str]:
    """Add the records :func:`unindexed_unrecorded` finds to the history, one line each. One
    the history does not list because it keeps a better record of the same call (made with
    speech-to-text) is passed over without a word: it was said when the call was saved."""
    from voicecoach.store.calls import added_to_history

    for record_path in unindexed_unrecorded():
        try:
            record = load_record(record_path)
        except (RecordError, OSError) as exc:
            yield f"{record_path}: not added to the history ({exc})"
            continue
        note, kept = added_to_history(record, record_path)
        if not kept:
            yield (f"{record_path}: {note}" if note else
                   f"added {record_path.name} to the history (it could not be written when the call ended)")


def index_again(record_path: Path) -> str:
    """Add a call record that is beside its recording, and not in the history, to it; the line
    that says so (or why not)."""
    from voicecoach.store.calls import add_to_history

    try:
        record = load_record(record_path)
    except (RecordError, OSError) as exc:
        return f"{record_path} is not in the history and cannot be read ({exc})"
    recording = record_path.with_suffix(".wav")
    note = add_to_history(record, record_path, recordings=(recording,) if recording.exists() else ())
    return note and f"{record_path}: {note}" or (
        f"added {record_path.name} to the history (the program stopped before it could)")


@contextlib.contextmanager
def _claimed(recording: Path) -> Iterator[bool]:
    """Lock ``recording`` for the time it is recovered, as its recorder locked it while it was
    written: another VoiceCoach (`history` while `live` recovers in the background, two
    starts at once) then leaves it alone (:func:`unfinished`). Yields False when another
    holds it; True when it is ours, or no lock can be had (the analysis says why not)."""
    try:
        import fcntl
    except ImportError:                  # Windows: no lock
        yield True
        return
    try:
        fd = os.open(recording, os.O_RDONLY)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def recover(recording: Path, config=None, baseline=None) -> str:
    """Analyse one unfinished recording into its call record and the history.

    Returns
    -------
    str
        The line that says what was done (or why it could not be); "" when another
        VoiceCoach is recovering it, or has since.
    """
    with _claimed(recording) as mine:
        if not mine or has_record(recording):
            return ""
        analysed = _analyse(recording, config, baseline)
        return analysed if isinstance(analysed, str) else _save(recording, *analysed)


def _analyse(recording: Path, config, baseline) -> Union[str, tuple[dict, str]]:
    """The recording's call record and its length as m:ss, or the line why there is none."""
    from voicecoach.analyze import analyze_stream
    from voicecoach.sinks.recorder import repair
    from voicecoach.sources.audio import AudioError
    from voicecoach.sources.stream import open_call_stream

    copy = None
    try:
        try:
            length = repair(recording)
        except OSError as exc:          # a read-only folder (remounted so after a crash): mend a copy
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            copy = _private_copy(recording)
            length = repair(copy)
        record = analyze_stream(open_call_stream(copy or recording), config, baseline=baseline)
        record["source"]["name"] = printable_name(recording.name)   # not the copy's
        record = date_by_recording(record, recording)
    except (AudioError, OSError) as exc:
        return f"{recording} has no call record and cannot be analysed ({exc}); it is kept as it is"
    finally:
        if copy is not None:
            copy.unlink(missing_ok=True)
    # a live call, as the lists name it (the caller's first problem), with no latencies to give
    record["live"] = {"latency_p50_s": {}, "latency_p95_s": {}, "stopped_because": RECOVERED}
    seconds = round(length if length is not None else record["duration"])
    return record, f"{seconds // 60}:{seconds % 60:02d}"


def _private_copy(recording: Path) -> Path:
    """A copy of ``recording`` in the data folder, readable by the user alone (it holds a call)."""
    import shutil
    import tempfile

    from voicecoach.store.private import data_dir, private_folder

    fd, name = tempfile.mkstemp(suffix=".wav", prefix=".recovering-", dir=private_folder(data_dir()))
    with os.fdopen(fd, "wb") as out, open(recording, "rb") as src:
        shutil.copyfileobj(src, out)
    return Path(name)


def _save(recording: Path, record: dict, minutes: str) -> str:
    """Save the recovered record and say where."""
    home, note = save_new_call(record, recording)
    if home is None:
        return f"recovered {recording} ({minutes}, the program stopped mid-call), but {note}"
    line = (f"recovered {recording.name} ({minutes}, the program stopped mid-call): "
            f"call record saved to {home}")
    return line + (f"; {note}" if note else "; added to the history")


def recover_folder(folder: Union[str, Path], config=None, baseline=None,
                   say: Optional[Say] = None) -> int:
    """Recover every unfinished recording in ``folder``; ``say`` gets one line each.
    Returns how many there were."""
    say = say or _stderr
    for line in left_out_added(folder):
        say(line)
    found = unfinished(folder)
    for path in found:
        line = recover(path, config, baseline)
        if line:
            say(line)
    return len(found)


FOLDERS_NAME = "recording-folders.txt"
"""In the data folder: every folder ``live`` has recorded in, one a line (its real path)."""


def remember_folder(folder: Union[str, Path]) -> None:
    """Note in the data folder that ``live`` records in ``folder`` (``--record DIR`` too),
    before its first call: a session killed mid-call before any call recorded there
    reached the history leaves a recording only this note leads ``history`` to
    (:func:`remembered_folders`). Best effort: a full or read-only data folder does not
    keep anyone from coaching."""
    from voicecoach.store.private import data_dir, write_private

    try:
        real = os.path.realpath(user_path(folder))
        known = [str(p) for p in remembered_folders()]
        if real in known or "\n" in real:
            return
        write_private(data_dir() / FOLDERS_NAME, "".join(f"{p}\n" for p in (*known, real)))
    except (OSError, RuntimeError):
        pass


def remembered_folders() -> list[Path]:
    """The folders :func:`remember_folder` noted (none when the note cannot be read)."""
    from voicecoach.store.private import data_dir

    try:
        text = (data_dir() / FOLDERS_NAME).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [Path(line) for line in text.splitlines() if line.strip()]


def left_out_added(folder: Union[str, Path]) -> Iterator[str]:
    """Add the records of ``folder`` the history left out (:func:`unindexed`) to it, one
    line each, said as it is done."""
    for record_path in unindexed(folder):
        yield index_again(record_path)


class BackgroundRecovery:
    """:func:`recover_folder` on a daemon thread at the lowest CPU priority (threads it
    starts, speech-to-text's included, inherit it), so live coaching keeps the CPU it
    needs, and live start-up does not wait for a year's calls to be looked through. Call
    :meth:`stop` before the program ends.

    Parameters
    ----------
    found : list of Path, optional
        The unfinished recordings, when known (then ``folder`` is not looked through).
    folder : path, optional
    """

    def __init__(self, found: Optional[list[Path]] = None, config=None, baseline=None,
                 say: Optional[Say] = None, folder: Union[str, Path, None] = None):
        self.found = found
        self.folder = folder
        self.config, self.baseline = config, baseline
        self.say = say or _stderr
        self.lock = threading.Lock()       # held while a record is saved and its line said
        self.stopped = False
        self.left = None if found is None else len(found)   # recordings not yet handled (None: not looked for)
        self.thread = threading.Thread(target=self._run, name="recovery", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        if hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)   # this thread only (Linux)
            except OSError:
                pass
        if self.found is None:
            for line in left_out_added(self.folder):
                with self.lock:
                    if self.stopped:
                        return
                    self.say(line)
            found = unfinished(self.folder)
            with self.lock:
                self.found, self.left = found, len(found)
        for path in self.found:
            with _claimed(path) as mine:       # held until its record is saved
                try:
                    ours = mine and path.exists() and not has_record(path)   # (another VoiceCoach's)
                    analysed = _analyse(path, self.config, self.baseline) if ours else None
                except Exception as exc:        # a bug must not end coaching with a traceback
                    analysed = (f"{path} has no call record and could not be analysed (internal error: "
                                f"{exc.__class__.__name__}: {' '.join(str(exc).split())[:160]}); it is kept")
                with self.lock:
                    if self.stopped:
                        return
                    if analysed is not None:
                        self.say(analysed if isinstance(analysed, str) else _save(path, *analysed))
                    self.left -= 1

    def stop(self) -> bool:
        """Save no more records: wait until a record being saved is saved (it is quick: a
        file, a history row and a line), then stop. Returns whether a recording was left
        without its record; it is recovered at the next start (a record is saved whole
        or not at all)."""
        with self.lock:
            self.stopped = True
            return bool(self.left)


def recover_in_background(folder: Union[str, Path], config=None, baseline=None,
                          say: Optional[Say] = None) -> BackgroundRecovery:
    """Start a :class:`BackgroundRecovery` of ``folder``."""
    return BackgroundRecovery(None, config, baseline, say, folder=folder)


def _stderr(line: str) -> None:
    print(f"voicecoach: {line}", file=sys.stderr, flush=True)
