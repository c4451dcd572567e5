"""Deleting a call at the agent's word: a caller asked that the recording be deleted, a
practice call, a call that holds a card number. One rule for ``voicecoach history --delete``
and the review's History tab: :func:`plan_deletion` says what goes and what stays (shown
before the agent confirms), :func:`delete_call` does it and says so in one line.

What goes
    The call record file; the recording(s) the call was read from (as the review and
    ``share --with-audio`` find them: beside the record by ``source.name``, or where the
    history says it was made from, and as long as the call,
    :func:`~voicecoach.store.calls.recording_files`); and the call's row in the history.

What stays, and is said
    A recording that another record in the history names (the same recording analysed
    twice): deleted, it would be gone from under that call. Another record of the same
    recording that the history does not list (an older analysis), a report exported
    beside the call, an event log of a live call's shift (``live --events``), and, with a
    team store set, a copy shared with the coach: the store is not reached from here,
    ``voicecoach share --undo ID`` takes it back.

Never
    The demo call, which is nobody's (it is never in the history), and a file that is not
    a call record. Nothing is deleted when a file cannot be (a folder not writable): the
    check comes first. A row whose record is already gone is taken out of the history, its
    recordings kept (without the record they cannot be checked to be that call's).
"""
from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Union

from voicecoach.paths import user_path
from voicecoach.sinks.view import call_name
from voicecoach.store.calls import not_recorded, record_places, recording_candidates, recording_files
from voicecoach.store.history import History, local_time
from voicecoach.store.record import RecordError, is_demo, load_record

DEMO_NOT_YOURS = ("the demo call is not one of your calls: it is never in your history, and "
                  "nothing of it is deleted")
"""Said when the demo call is to be deleted, by name (``demo``) or by a record of it."""


class DeleteError(Exception):
    """A call cannot be deleted (one line, saying what, if anything, was deleted)."""


@dataclass(frozen=True)
class Deletion:
    """What deleting one call removes and what stays (:func:`plan_deletion`).

    Attributes
    ----------
    record_path : Path
        The call record file (absolute, resolved).
    title : str
        The call as the agent knows it: ``call 7 (2026-11-24 10:15, monday.flac)``, its
        number in the history's lists (1 the oldest).
    record_there : bool
        The record file exists (False: only its history row is left).
    in_history : bool
        The history has a row for it.
    recordings : tuple of Path
        The recording file(s) deleted with it.
    stays : tuple of str
        What is not deleted, each a phrase with why, or the command that deletes it
        ("kept ...: ...", "no recording found ...").
    """

    record_path: Path
    title: str
    record_there: bool
    in_history: bool
    recordings: tuple
    stays: tuple

    def details(self) -> str:
        """What to show before the agent confirms (:func:`delete_call`), under "deleted for
        good:": every file that goes, one an indented line, then what stays."""
        goes = ([f"  {self.record_path}  (its call record)"] if self.record_there else []) \
            + [f"  {f}  (its recording)" for f in self.recordings] \
            + (["  its row in your history"] if self.in_history else [])
        return "\n".join([*goes, *(f"  ({s})" for s in self.stays)])


# --------------------------------------------------------------------------- which calls

def calls_to_delete(refs: Iterable[str], history_path: Union[str, Path, None] = None) -> list[Path]:
    """The record files of ``refs``: numbers as ``voicecoach history`` lists the calls (1 the
    oldest), or call record files (``.json``). Each call once, in the order given.

    Raises
    ------
    DeleteError
        A number the history does not list, a file that is not there and no row's record,
        a recording instead of its record, the demo call: nothing is deleted.
    """
    from voicecoach.analyze import demo_call_path

    with History(history_path) as history:
        rows = history.calls(None)
        indexed = set(history.record_paths())
    found: list[Path] = []
    for ref in refs:
        if re.fullmatch(r"\d+", ref.strip()):
            n = int(ref)
            if not rows:
                raise DeleteError(f"{ref}: your history has no calls")
            if not 1 <= n <= len(rows):
                raise DeleteError(f"{ref}: no call {n} in your history: its calls are numbered 1 to {len(rows)}, "
                                  f"oldest first (`voicecoach history -n {len(rows)}` lists them all)")
            path = Path(rows[n - 1].record_path)
        elif ref == "demo" or _same(ref, demo_call_path()):
            raise DeleteError(DEMO_NOT_YOURS)
        else:
            path = _absolute(ref)
            if not os.path.lexists(path) and str(path) not in indexed:
                raise DeleteError(f"{ref}: no such file, and no call in your history has that record "
                                  "(deleted already?)")
            if os.path.lexists(path) and path.suffix.lower() != ".json":
                raise DeleteError(f"{ref}: not a call record: give the call's record (.json), or its number "
                                  "in `voicecoach history`")
        if path not in found:
            found.append(path)
    return found


def _absolute(ref: str) -> Path:
    """A path as the history keys it (resolved), or as given when it cannot be resolved."""
    path = user_path(ref)
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _same(a: Union[str, Path], b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


# --------------------------------------------------------------------------- what goes

def plan_deletion(record_path: Union[str, Path], history_path: Union[str, Path, None] = None,
                  team: bool = False) -> Deletion:
    """What deleting the call of the record at ``record_path`` removes and what stays;
    nothing is changed. ``team``: a team store is set, so a copy shared with the coach
    may stay there (named with the command that takes it back).

    Raises
    ------
    DeleteError
        Not a call record, the demo call, no such call, or a file that cannot be deleted
        (its folder is not writable): nothing is deleted.
    """
    path = _absolute(str(record_path))
    with History(history_path) as history:
        rows = history.calls(None)
        number = next((i for i, r in enumerate(rows, 1) if r.record_path == str(path)), None)
        row = rows[number - 1] if number else None
        if not path.exists():
            if row is None:
                raise DeleteError(f"{path}: no such file, and no call in your history has that record")
            stays = [f"kept {f}: the history says the call was made from it, but with its record gone "
                     "that cannot be checked (delete it yourself if it is this call's)"
                     for f in history.recordings_of(path) if f.exists()]
            plan = Deletion(path, _title(number, row.created, row.name), False, True, (), tuple(stays))
            _check_writable(plan, history.path)
            return plan
        try:
            record = load_record(path)
        except RecordError as exc:
            raise DeleteError(f"{exc}: only a call record is deleted") from None
        if is_demo(record, path):
            raise DeleteError(f"{path}: {DEMO_NOT_YOURS}")
        title = (_title(number, record.get("created") or "", call_name(record)) if number
                 else f"the call {path.name} ({local_time(record.get('created') or '')}, not in your history)")
        recordings, stays = _recordings(record, path, history, history_path, rows)
        db = history.path
    stays += _other_records(record, path, recordings, set(r.record_path for r in rows))
    stays += _reports(path, recordings)
    stays += _event_log(record)
    if team:
        from voicecoach.store.team import call_id

        stays.append("the team store is not touched: if you shared this call with your coach, "
                     f"`voicecoach share --undo {call_id(record)[:8]}` takes it back")
    plan = Deletion(path, title, True, row is not None, recordings, tuple(stays))
    _check_writable(plan, db)
    return plan


def _title(number: Optional[int], created: str, name: str) -> str:
    return f"call {number} ({local_time(created)}, {name})"


def _recordings(record: dict, path: Path, history: History, history_path: Union[str, Path, None],
                rows: list) -> tuple[tuple, list[str]]:
    """The recording(s) of the call that go with it, and what is said of those that stay:
    one another record in the history still names, a file of the name that is not the
    call's. Never the packaged demo call."""
    from voicecoach.analyze import demo_call_path

    demo = demo_call_path().resolve()
    files = tuple(f for f in recording_files(record, path, history_path) if f.resolve() != demo)
    goes, stays = [], []
    for f in files:
        others = _named_by(f, path, history, rows)
        if others:
            stays.append(f"kept {f}: the call record {others[0]} was made from it too (the recording goes "
                         "with the last record that needs it)")
        else:
            goes.append(f)
    chosen = {f.resolve() for f in files}
    for candidate in dict.fromkeys(f.resolve() for fs in recording_candidates(record, path, history_path)
                                   for f in fs):
        if candidate not in chosen and candidate != demo:
            stays.append(f"kept {candidate}: a file of that name, but not as long as this call")
    if not files and not stays and not_recorded(record):
        stays.append("no recording (none was made of this call: recording was off)")
    elif not files and not stays:
        stays.append(f"no recording found ({record['source']['name']} is neither beside the record nor "
                     "where it was analysed)")
    return tuple(goes), stays


def _named_by(recording: Path, record_path: Path, history: History, rows: list) -> list[Path]:
    """The other records in the history (``rows``) that name ``recording``: made from it
    (the history says so), or beside it under its name, as the review finds a record's
    recording. Only a record beside it listed by that name, or of its stem (a live call's),
    is read: a folder of a year's calls is not."""
    real = recording.resolve()
    others = [p for p in history.records_naming(recording) if p != record_path]
    for row in rows:
        p = Path(row.record_path)
        if p == record_path or p in others or p.parent != real.parent:
            continue
        if recording.name not in (row.name, *row.name.split(" + ")) and p.stem != recording.stem:
            continue
        try:
            name = load_record(p)["source"]["name"]
        except (RecordError, KeyError, TypeError):
            continue
        if recording.name == name or recording.name in name.split(" + "):
            others.append(p)
    return others


def _other_records(record: dict, path: Path, recordings: tuple, indexed: set) -> list[str]:
    """Records of the same recording that the history does not list (an analysis the
    history replaced with a newer one), where a record of it is kept: named, not deleted."""
    if not recordings:
        return []
    said = []
    for other in dict.fromkeys(p.resolve() for p in record_places(recordings if len(recordings) == 2
                                                                   else recordings[0], linked=False)):
        if other == path or str(other) in indexed or not other.is_file():
            continue
        try:
            same = load_record(other)["source"]["name"] == record["source"]["name"]
        except (RecordError, KeyError, TypeError):
            continue
        if same:
            said.append(f"kept {other}: another record of this recording, not in your history "
                        f"(`voicecoach history --delete {other}` deletes it)")
    return said


def _reports(path: Path, recordings: tuple) -> list[str]:
    """A report exported beside the call (the review's Export suggests ``<stem>.html``):
    it may hold the call, recording and all; named, not deleted (it is the agent's file)."""
    reports = dict.fromkeys(p.with_suffix(".html") for p in (path, *recordings))
    return [f"kept {r}: a report, which may hold this call (delete it yourself if it does)"
            for r in reports if r.is_file()]


def _event_log(record: dict) -> list[str]:
    """A call coached live may be in the event log of its shift (``live --events FILE``),
    which holds its words and cues line by line among the shift's other calls. Where that
    log is, the record does not say (it is shared with a coach, paths never are), so it is
    named by how it was made: the agent's file, not changed here."""
    if not isinstance(record.get("live"), dict):
        return []
    return ["if you kept an event log of its shift (`voicecoach live --events FILE`), that file still "
            "holds this call's words and cues: delete it, or the call's lines, yourself"]


def _check_writable(plan: Deletion, db: Path) -> None:
    """Refuse before anything is deleted when a file's folder will not let it go, or the
    history (``db``, its folder for SQLite's log) cannot be written."""
    for f in ((plan.record_path,) if plan.record_there else ()) + plan.recordings:
        if not os.access(f.parent, os.W_OK | os.X_OK):
            raise DeleteError(f"{plan.title}: {f} cannot be deleted: its folder is not writable for you; "
                              "nothing was deleted")
    if plan.in_history and not all(os.access(p, os.W_OK) for p in (db, db.parent)):
        raise DeleteError(f"{plan.title}: your history {db} cannot be written; nothing was deleted")


# --------------------------------------------------------------------------- deleting

def delete_call(plan: Deletion, history_path: Union[str, Path, None] = None) -> str:
    """Delete what ``plan`` says (its recordings, then its record, then its history row) and
    say in one line what went and what stayed.

    Raises
    ------
    DeleteError
        A file or the history could not be changed: the line says what was deleted before.
    """
    gone: list[str] = []
    history = None
    try:
        if plan.in_history:        # its write lock first: a history another program holds
            history = History(history_path)     # then deletes nothing, not the files alone
            history.hold()
        for f in plan.recordings:
            _unlink(f)
            gone.append(f"its recording {f}")
        if plan.record_there:
            _unlink(plan.record_path)
            gone.insert(0, f"its record {plan.record_path}")
        if history is not None:
            history.remove(plan.record_path)
            gone.append("its row in your history")
    except (OSError, sqlite3.Error) as exc:
        what = (f"{exc.filename}: {exc.strerror or exc}" if isinstance(exc, OSError) and exc.filename
                else f"the history: {exc}")
        done = f"deleted {_and(gone)} only" if gone else "nothing of it was deleted"
        raise DeleteError(f"{plan.title}: could not delete {what}; {done}") from None
    finally:
        if history is not None:
            history.close()
    return "; ".join([f"Deleted {plan.title}: {_and(gone)}", *plan.stays]) + "."


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:         # gone meanwhile: what was asked is done
        pass


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
