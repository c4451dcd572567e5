"""The history of analysed calls: a SQLite index of call records, for progress across calls.

The call records (JSON files) stay the source of truth; the index keeps one row of
scores per record file and can always be rebuilt from the records
(:meth:`History.rebuild`). It lives in the user's data folder
(``platformdirs.user_data_path("voicecoach") / "history.sqlite"``), or in
``$VOICECOACH_DATA_DIR`` when that is set (tests, portable installs); see
:mod:`voicecoach.store.calls`. Like the records, it is readable by the user alone
(0600 in a 0700 folder).

Scores are for the agent's own practice: never to rank, pay or judge anyone.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Union

from voicecoach.paths import user_path
from voicecoach.sinks.view import CARE_NOTE, call_name, clock, plural, text_table
from voicecoach.store.calls import call_files
from voicecoach.store.private import data_dir, private_file, private_folder
from voicecoach.store.record import RecordError, is_demo, load_record

_VERSION = 4
_COLUMNS = ("record_path", "created", "name", "duration_s", "talk_share_agent",
            "interruptions_by_agent", "warmth_mean", "agent_wpm", "checklist_done",
            "checklist_items", "commitments", "warmth_profile")


def default_db_path() -> Path:
    return data_dir() / "history.sqlite"


@dataclass(frozen=True)
class CallScores:
    """One call's row in the history (None where the record cannot say).

    Attributes
    ----------
    record_path : str
        The call record file (absolute); the key of the row.
    created : str
        When the record was made (ISO 8601, as in the record).
    name : str
        What the lists call it (:func:`voicecoach.sinks.view.call_name`).
    duration_s : float
        Length of the call (s).
    talk_share_agent : float or None
        The agent's share of the talking (0–1); None for a mono call.
    interruptions_by_agent : int or None
        Interruptions of the caller by the agent (count).
    warmth_mean : float or None
        Mean warmth (0–1, 0.5 = the agent's ordinary voice).
    agent_wpm : float or None
        The agent's pace (words/min); None without a transcript.
    checklist_done, checklist_items : int or None
        Checklist items done, out of how many (count); None without a transcript.
    commitments : int or None
        Promises to follow up (count); None without a transcript.
    warmth_profile : str or None
        The voice profile warmth was judged against (its fingerprint); None when it
        was judged against the call's own start, or is unknown (a row indexed before
        profiles were kept): such warmth is not compared across calls.
    """

    record_path: str
    created: str
    name: str
    duration_s: float
    talk_share_agent: Optional[float]
    interruptions_by_agent: Optional[int]
    warmth_mean: Optional[float]
    agent_wpm: Optional[float]
    checklist_done: Optional[int]
    checklist_items: Optional[int]
    commitments: Optional[int]
    warmth_profile: Optional[str] = None

    @classmethod
    def from_record(cls, record: dict, record_path: Union[str, Path]) -> "CallScores":
        """The scores of one call record saved at ``record_path``."""
        share = record.get("talk_share")
        ints = record.get("interruptions")
        check = record.get("checklist")
        commitments = record.get("commitments")
        return cls(
            record_path=str(Path(record_path).resolve()),
            created=record.get("created") or "",
            name=call_name(record),
            duration_s=float(record["duration"]),
            talk_share_agent=share["agent"] if share else None,
            interruptions_by_agent=(sum(1 for i in ints if i["by"] == "agent")
                                    if ints is not None else None),
            warmth_mean=(record.get("warmth") or {}).get("mean"),
            agent_wpm=record["pace"].get("agent_wpm"),
            checklist_done=sum(bool(v) for v in check.values()) if check else None,
            checklist_items=len(check) if check else None,
            commitments=len(commitments) if commitments is not None else None,
            warmth_profile=(record.get("warmth") or {}).get("profile_id"),
        )


class History:
    """The SQLite index of call records.

    Parameters
    ----------
    path : path, optional
        The database file; default :func:`default_db_path`. It is created 0600 (SQLite
        gives its ``-wal`` and ``-shm`` files the same mode), its folder 0700
        (:func:`voicecoach.store.private.private_folder`).

    Examples
    --------
    >>> with History(tmp / "h.sqlite") as h:            # doctest: +SKIP
    ...     h.add(record, "calls/monday.json")
    ...     print(history_text(h.calls(10)))
    """

    def __init__(self, path: Union[str, Path, None] = None):
        self.path = Path(path) if path is not None else default_db_path()
        self.kept: Optional[str] = None     # see :meth:`add`
        private_folder(self.path.parent)
        private_file(self.path)
        self._db = sqlite3.connect(str(self.path))
        try:
            _write_ahead_log(self._db)
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def read_only(cls, path: Union[str, Path, None] = None) -> "History":
        """The index opened for looking up only (:meth:`recordings_of`, :meth:`records_of`):
        never created, upgraded or written, and not waited on for long when another
        process is writing it.

        Raises
        ------
        sqlite3.Error
            There is no index there, or it cannot be read now.
        """
        self = cls.__new__(cls)
        self.path = Path(path) if path is not None else default_db_path()
        uri = self.path.resolve().as_uri()
        self._db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=0.5)
        if read_only_disk(self.path):
            try:
                self._db.execute("PRAGMA user_version").fetchone()
            except sqlite3.OperationalError:  # its write-ahead log's index cannot be made on that disk;
                self._db.close()               # nothing can write there either: read it as it lies
                self._db = sqlite3.connect(f"{uri}?immutable=1", uri=True)
        return self

    def _migrate(self) -> None:
        """Bring the index to this version in place: every row an agent has stays
        (a row's record may be gone, or elsewhere, so a rebuild could lose it)."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version >= _VERSION:       # current (or newer: read by column name)
            return
        with self._db:
            # another process (two commands' first runs) may be upgrading it too: take the
            # write lock first, then read the version again
            self._db.execute("BEGIN IMMEDIATE")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version >= _VERSION:
                return
            if version < 1:
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS calls (record_path TEXT PRIMARY KEY, created TEXT NOT NULL, "
                    "name TEXT NOT NULL, duration_s REAL NOT NULL, talk_share_agent REAL, "
                    "interruptions_by_agent INTEGER, warmth_mean REAL, agent_wpm REAL, "
                    "checklist_done INTEGER, checklist_items INTEGER, commitments INTEGER)")
                self._db.execute("CREATE INDEX IF NOT EXISTS calls_created ON calls (created)")
            if version < 2:
                # NULL: the profile is unknown, so the row's warmth is in no trend across calls
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(calls)")}
                if "warmth_profile" not in columns:
                    self._db.execute("ALTER TABLE calls ADD COLUMN warmth_profile TEXT")
            if version < 3:
                # the recording(s) a record was made from, where they are not beside it (`analyze
                # CALL -o elsewhere.json`, a record kept in records/): a JSON list of absolute paths
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(calls)")}
                if "recordings" not in columns:
                    self._db.execute("ALTER TABLE calls ADD COLUMN recordings TEXT")
            if version < 4:
                self._rename_live_calls()
            self._db.execute(f"PRAGMA user_version = {_VERSION}")

    def _rename_live_calls(self) -> None:
        """Rows of calls coached live, indexed before they were named by their caller's
        problem (:func:`~voicecoach.sinks.view.call_name`), renamed from their records; a
        row whose record is gone keeps its name."""
        # the names shift mode gave ("call 1, <date>") and its recordings' ("call-<date>.wav");
        # each record is only parsed, not checked against the schema (30 times faster: a
        # long history is upgraded in a second or two, inside this transaction)
        rows = self._db.execute("SELECT record_path FROM calls WHERE name GLOB 'call [0-9]*, *' "
                                "OR name GLOB 'call-[0-9]*'").fetchall()
        for (path,) in rows:
            try:
                with open(path, encoding="utf-8") as f:
                    name = call_name(json.load(f))
            except (OSError, AttributeError, KeyError, TypeError, ValueError, IndexError):
                continue
            self._db.execute("UPDATE calls SET name = ? WHERE record_path = ?", (name, path))

    def add(self, record: dict, record_path: Union[str, Path],
            recordings: Iterable[Union[str, Path]] = (), replace: bool = True) -> Optional[CallScores]:
        """Index one call record (saved at ``record_path``); re-adding a path replaces its row.
        The packaged demo call (``record["demo"]``) is not the agent's: it is not indexed
        (None), so it never counts in their trend.

        ``recordings`` are the file(s) the record was made from (one, or the agent's and the
        caller's), remembered so that the review and ``report`` find the audio of a record
        saved away from it (:meth:`recordings_of`); re-adding a record without them keeps
        those already known. A call is one row: a record of the same call (its recording's
        name, the time it was recorded and its length) replaces the row of the one indexed
        before it (a recording analysed again with ``-o`` elsewhere was listed, and counted
        in the trend, twice). Except that a record made without speech-to-text does not
        replace one made with it: it is not indexed (None), and :attr:`kept` names the
        record the row stays with (a quick ``--no-transcript`` look took the pace, the
        checklist and the promises out of the history).

        ``replace=False`` (a record being opened, not made): a call the history lists
        under another record stays as it is (None): opening an older analysis of a
        recording must not change which one the history keeps."""
        with self._db:
            return self._add(record, record_path, recordings, replace)

    def _add(self, record: dict, record_path: Union[str, Path],
             recordings: Iterable[Union[str, Path]] = (), replace: bool = True) -> Optional[CallScores]:
        """:meth:`add`, inside the caller's transaction."""
        self.kept = None
        if is_demo(record, record_path):
            return None
        row = CallScores.from_record(record, record_path)
        files = [os.path.abspath(p) for p in recordings]
        same = self._same_call(row, files)
        if same and not replace:
            return None
        if row.checklist_items is None:                     # no transcript
            richer = [path for path, items in same if items is not None]
            if richer:
                self.kept = richer[0]
                return None
        # one call, one row: a record of the same call (a recording analysed again, its
        # record dated by the recording) replaces the row of the one before
        if not files and same:      # a record opened without its recording: the row knew it
            known = self._db.execute(
                f"SELECT recordings FROM calls WHERE recordings IS NOT NULL "
                f"AND record_path IN ({', '.join('?' * len(same))})", [path for path, _ in same]).fetchone()
            files = [str(p) for p in _paths(known[0])] if known else []
        self._db.executemany("DELETE FROM calls WHERE record_path = ?", [(path,) for path, _ in same])
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
        self._db.execute(f"INSERT INTO calls ({', '.join(_COLUMNS)}, recordings) "
                         f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))}) "
                         f"ON CONFLICT (record_path) DO UPDATE SET {updates}, "
                         "recordings = COALESCE(excluded.recordings, recordings)",
                         (*(getattr(row, c) for c in _COLUMNS), json.dumps(files) if files else None))
        return row

    def _same_call(self, row: CallScores, files: list[str]) -> list[tuple[str, Optional[int]]]:
        """``(record_path, checklist_items)`` of the other rows of the call ``row`` is of:
        begun at the same time, as long, and made from the same recording, known by its
        name or by a file both were made from (the name differs for a recording analysed
        through a symlink, or recovered after a crash, named as a live call, and then
        analysed again)."""
        mine = {os.path.realpath(f) for f in files}
        rows = self._db.execute("SELECT record_path, name, checklist_items, recordings FROM calls "
                                "WHERE created = ? AND duration_s = ? AND record_path != ?",
                                (row.created, row.duration_s, row.record_path)).fetchall()
        return [(path, items) for path, name, items, recordings in rows
                if name == row.name or mine & {os.path.realpath(p) for p in _paths(recordings)}]

    def record_paths(self) -> list[str]:
        """Every indexed record file (absolute, resolved)."""
        return [p for (p,) in self._db.execute("SELECT record_path FROM calls")]

    def recordings_of(self, record_path: Union[str, Path]) -> tuple[Path, ...]:
        """The recording file(s) the record at ``record_path`` was made from, as given to
        :meth:`add` (they may have moved since); () when not known."""
        row = self._db.execute("SELECT recordings FROM calls WHERE record_path = ?",
                               (str(Path(record_path).resolve()),)).fetchone()
        return _paths(row[0]) if row else ()

    def records_naming(self, recording: Union[str, Path]) -> list[Path]:
        """The records made from ``recording`` alone or with another file (one side of a call
        given as a file per side), as :meth:`add` was told, through a symlink of any name
        too: the records that still need it (:mod:`voicecoach.store.delete`). Every row's
        files are resolved (a few ms for a year of calls)."""
        try:
            real = Path(recording).resolve()
        except (OSError, RuntimeError):
            return []
        rows = self._db.execute("SELECT record_path, recordings FROM calls WHERE recordings IS NOT NULL").fetchall()
        found = []
        for record_path, files in rows:
            try:
                if real in {p.resolve() for p in _paths(files)}:
                    found.append(Path(record_path))
            except (OSError, RuntimeError):
                continue
        return found

    def hold(self) -> None:
        """Take the history's write lock now (waiting as any write does), for a change that
        must not fail on the history after it has changed files (:mod:`voicecoach.store.delete`):
        :meth:`remove` commits it, :meth:`close` lets it go. Raises sqlite3.Error (locked)."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")

    def remove(self, record_path: Union[str, Path]) -> bool:
        """Take the row of the record at ``record_path`` out of the history (the agent deleted
        the call: :mod:`voicecoach.store.delete`); False when there was none. The row is
        overwritten, not only let go (SQLite's ``secure_delete``), and the write-ahead log
        emptied (once no other program is reading the history): a live call's name is its
        caller's words, which may be a card number."""
        self._db.execute("PRAGMA secure_delete = ON")
        with self._db:
            gone = self._db.execute("DELETE FROM calls WHERE record_path = ?",
                                    (str(Path(record_path).resolve()),)).rowcount > 0
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")   # another reader: emptied when it is done
        return gone

    def records_of(self, recording: Union[str, Path, tuple]) -> list[Path]:
        """The records made from ``recording`` (newest first): one file, or a tuple of the
        files of one call (``(agent, customer)``), as :meth:`add` was told, however the
        paths were spelt (through a symlinked folder, say); the caller checks each is
        still that recording's (name and length)."""
        given = call_files(recording)
        recording = given[0]
        real = [p.resolve() for p in given]
        # only rows naming a file of that name are looked at: `/mon.wav"` inside the JSON list
        named = json.dumps(os.sep)[1:-1] + json.dumps(recording.name)[1:]
        rows = self._db.execute("SELECT record_path, recordings FROM calls WHERE instr(recordings, ?) > 0 "
                                "ORDER BY created DESC", (named,)).fetchall()
        found = []
        for record_path, files in rows:
            files = _paths(files)
            try:
                if [p.resolve() for p in files] == real:
                    found.append(Path(record_path))
            except (OSError, RuntimeError):
                continue
        return found

    def count(self) -> int:
        """How many calls the history holds."""
        return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def calls(self, limit: Optional[int] = 20) -> list[CallScores]:
        """The latest ``limit`` calls (all with None), oldest first, so trends read left to right.
        A call's number in the lists (``history``, the History tab, ``history --delete N``) is
        its place in all of them, 1 the oldest: the latest ``limit`` are numbered from
        ``count() - len(rows) + 1``."""
        query = f"SELECT {', '.join(_COLUMNS)} FROM calls ORDER BY created DESC, record_path DESC"
        params: tuple = ()
        if limit is not None:
            query += " LIMIT ?"
            params = (int(limit),)
        rows = [CallScores(*r) for r in self._db.execute(query, params)]
        return rows[::-1]

    def recording_folders(self) -> list[Path]:
        """The folders of the indexed records ``live --record`` made (``call-*.json``),
        where a recording a killed session left may lie (:mod:`voicecoach.store.recovery`)."""
        rows = self._db.execute("SELECT record_path FROM calls").fetchall()
        return sorted({Path(p).parent for (p,) in rows if Path(p).name.startswith("call-")})

    def rebuild(self, folders: Union[str, Path, Iterable[Union[str, Path]]]) -> tuple[int, int, list[str]]:
        """Index again every call record found under ``folders``, and the records the
        index already has elsewhere; rows whose record is gone (or no longer a call
        record) are dropped.

        Every ``*.json`` file below each folder is tried; files that are not call
        records are skipped and named in the result.

        Returns
        -------
        added : int
            Records indexed, those from elsewhere included.
        kept : int
            Of them, records from outside ``folders`` that were in the index before.
        skipped : list of str
            ``"<path>: <reason>"`` for each JSON file that is not a readable call record.
        """
        if isinstance(folders, (str, Path)):
            folders = [folders]
        found: dict[str, tuple[dict, Path]] = {}
        skipped = []
        for folder in folders:
            for path in sorted(user_path(folder).rglob("*.json")):
                try:
                    found[str(path.resolve())] = (load_record(path), path)
                except RecordError as exc:
                    skipped.append(str(exc))
                except (KeyError, TypeError, ValueError) as exc:
                    skipped.append(f"{path}: incomplete call record ({exc.__class__.__name__})")
        elsewhere = set()
        known_recordings = dict(self._db.execute(
            "SELECT record_path, recordings FROM calls WHERE recordings IS NOT NULL").fetchall())
        for (known,) in self._db.execute("SELECT record_path FROM calls").fetchall():
            if known in found or not os.path.isfile(known):
                continue
            try:
                found[known] = (load_record(known), Path(known))
                elsewhere.add(known)
            except (RecordError, KeyError, TypeError, ValueError):
                pass                                  # no longer a call record: its row goes
        # a record moved by hand takes the recording(s) its old row knew (the same call: begun
        # then, as long, the same name): without them its audio was lost to the review, and its
        # recording was "recovered" as a call a killed session left, listed twice
        moved = {}
        for path, created, length, name, files in self._db.execute(
                "SELECT record_path, created, duration_s, name, recordings FROM calls "
                "WHERE recordings IS NOT NULL").fetchall():
            if path not in found and not os.path.isfile(path):
                moved.setdefault((created, length, name), files)
        with self._db:                                # all or nothing: a rebuild cut short
            self._db.execute("DELETE FROM calls")     # (a full disk, an error) leaves the rows as they were
            # the record written last stands for its call (add: one row a call)
            for key, (record, path) in sorted(found.items(), key=lambda item: _written(item[1][1])):
                try:
                    files = known_recordings.get(key)
                    if files is None and moved:
                        row = CallScores.from_record(record, path)
                        files = moved.get((row.created, row.duration_s, row.name))
                    self._add(record, path, _paths(files))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    skipped.append(f"{path}: incomplete call record ({exc.__class__.__name__})")
        # a call is one row (add): count the rows, not the records read
        rows = [p for (p,) in self._db.execute("SELECT record_path FROM calls")]
        return len(rows), sum(p in elsewhere for p in rows), skipped

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_only_disk(path: Union[str, Path]) -> bool:
    """Whether the file at ``path`` lies on a filesystem mounted read-only (a disk remounted
    so after errors, a backup mounted read-only): False when it cannot be told."""
    try:
        return bool(os.statvfs(Path(path).parent).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _write_ahead_log(db: sqlite3.Connection, wait_s: float = 5.0) -> None:
    """Put the database in WAL mode (readers never wait for a writer; it stays so). On a
    new database another process may be doing the same, and SQLite does not wait for
    that lock as it waits for others ("database is locked" at once): try again for up to
    ``wait_s``, as long as other locks are waited for."""
    end = time.monotonic() + wait_s
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > end:
                raise
            time.sleep(0.05)


def _written(path: Path) -> float:
    """When ``path`` was last written (0 when it cannot be told)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _paths(text: Optional[str]) -> tuple[Path, ...]:
    """The ``recordings`` column: a JSON list of paths (or NULL, or damaged: none)."""
    try:
        files = json.loads(text) if text else []
    except ValueError:
        return ()
    return tuple(Path(p) for p in files if isinstance(p, str)) if isinstance(files, list) else ()


# --------------------------------------------------------------------------- text

def local_time(created: str) -> str:
    """An ISO 8601 time as local ``YYYY-MM-DD HH:MM`` (the text itself when unparsable)."""
    try:
        when = _dt.datetime.fromisoformat(created)
    except ValueError:
        return created[:16]
    if when.tzinfo is not None:
        try:
            when = when.astimezone()
        except OverflowError:     # year 1 or 9999 (a team store row), beyond the calendar in this zone
            pass
    return when.strftime("%Y-%m-%d %H:%M")


def format_score(value, spec: str) -> str:
    """``value`` formatted with ``spec``, or "–" when it is None."""
    return "–" if value is None else format(value, spec)


TREND_METRICS = (
    # (field, label, format, which way is progress: +1 up, -1 down, 0 neither)
    ("warmth_mean", "warmth", ".2f", +1),
    ("interruptions_by_agent", "interruptions per 10 min", ".1f", -1),
    ("talk_share_agent", "talk share", ".0%", 0),
    ("agent_wpm", "pace", ".0f", 0),
)
"""The per-call scores whose trend the history shows, in display order."""

RATE_PER_S = 600.0
"""Interruptions are compared per this much call time (s): a long call has more of them."""
MIN_RATE_S = 60.0
"""Calls shorter than this (s) give no interruption rate: one interruption in 20 s is not
30 in 10 minutes."""


def trend_value(row: CallScores, field: str, profile: Optional[str]) -> Optional[float]:
    """A call's ``field`` as the trends compare it (the trend line and the history's plots):
    interruptions per :data:`RATE_PER_S` of call, warmth only when judged against ``profile``
    (the latest call's voice profile); None where it is not compared."""
    value = getattr(row, field)
    if value is None:
        return None
    if field == "interruptions_by_agent":
        return value * RATE_PER_S / row.duration_s if row.duration_s >= MIN_RATE_S else None
    if field == "warmth_mean" and (profile is None or row.warmth_profile != profile):
        return None
    return value


def left_out_line(rows: list[CallScores], first: int = 1) -> str:
    """Which calls (numbered oldest first from ``first``, as the history's plots and table
    number them) the interruption and talk-share plots leave out, and why; "" when none is.
    A plot with a gap and no word of it looked like a lost call."""
    one_side = [i for i, r in enumerate(rows, first) if r.talk_share_agent is None]
    short = [i for i, r in enumerate(rows, first)
             if r.talk_share_agent is not None and r.interruptions_by_agent is not None
             and r.duration_s < MIN_RATE_S]
    parts = []
    if one_side:
        parts.append(f"{_calls(one_side)} recorded your side only (no caller: no interruptions or talk share)")
    if short:
        parts.append(f"{_calls(short)} under {MIN_RATE_S / 60:g} minute{'s' if MIN_RATE_S > 60 else ''} "
                     "(too short for a rate per 10 minutes)")
    return ("Not plotted: " + "; ".join(parts) + ".") if parts else ""


def _calls(numbers: list[int]) -> str:
    return ("call " if len(numbers) == 1 else "calls ") + ", ".join(map(str, numbers))


def trend_lines(rows: list[CallScores], agent: Optional[str] = None) -> list[str]:
    """What the history says under its table (``history``, the History tab): the trend, and
    why warmth is left out of it when it is; of ``agent``'s shared calls for their coach
    (``team trend``) when given."""
    if agent is None:
        return [line for line in (trend_line(rows), warmth_note(rows)) if line]
    return [line for line in (trend_line(rows, title=f"{agent}'s trend"),
                              warmth_note(rows, latest=f"{agent}'s latest shared call")) if line]


def trend_line(rows: list[CallScores], window: int = 5, title: str = "Trend") -> str:
    """One line, opening with ``title``, comparing the mean of the latest ``window`` calls
    with the ``window`` before.

    ``rows`` are oldest first (as :meth:`History.calls` returns them). Empty when there
    are fewer than two calls.
    """
    if len(rows) < 2:
        return ""
    n = min(window, len(rows) // 2)
    recent, before = rows[-n:], rows[-2 * n:-n]
    parts = []
    profile = rows[-1].warmth_profile

    def mean(group: list[CallScores], field: str) -> Optional[float]:
        kept = [r for r in group if trend_value(r, field, profile) is not None]
        if not kept:
            return None
        if field == "interruptions_by_agent":         # pooled: a rate over all those calls' time
            return sum(r.interruptions_by_agent for r in kept) * RATE_PER_S / sum(r.duration_s for r in kept)
        return sum(trend_value(r, field, profile) for r in kept) / len(kept)

    for field, label, spec, good in TREND_METRICS:
        ma, mb = mean(before, field), mean(recent, field)
        if ma is None or mb is None:
            continue
        same_shown = format(ma, spec) == format(mb, spec)          # 61 % and 61 %: no change to show
        arrow = "→" if same_shown else ("↑" if mb > ma else "↓")
        better = good != 0 and arrow != "→" and (mb > ma) == (good > 0)
        parts.append(f"{label} {format(ma, spec)} {arrow} {format(mb, spec)}" + (" (better)" if better else ""))
    if not parts:
        return ""
    span = f"last {n} call{'s' if n > 1 else ''} vs the {n} before"
    return f"{title} ({span}): " + ", ".join(parts)


def _shortened(text: str, most: int) -> str:
    """``text`` in at most ``most`` characters: cut after a whole word where it has one, "…" added."""
    if len(text) <= most:
        return text
    cut = text[:most - 1]
    if " " in cut and text[most - 1] != " ":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


NO_PROFILE = ("Warmth is not compared from call to call: {latest} was judged against its own start, "
              "not a voice profile{hint}.")
NO_PROFILE_NOTE = NO_PROFILE.format(latest="your latest call", hint=" (`voicecoach calibrate` makes one)")
"""Said under the trend where the latest call has warmth but no voice profile, so the trend
and the history's warmth plot leave warmth out (:func:`warmth_note`)."""


def warmth_note(rows: list[CallScores], latest: Optional[str] = None) -> str:
    """:data:`NO_PROFILE_NOTE` when warmth is left out of the trend for want of a voice
    profile (the latest call of ``rows``, oldest first, had none), else "". ``latest``
    names that call for someone else than the agent (the coach's view: "alice's latest
    shared call"), without the agent's hint."""
    if len(rows) < 2 or rows[-1].warmth_profile is not None or rows[-1].warmth_mean is None:
        return ""
    return NO_PROFILE_NOTE if latest is None else NO_PROFILE.format(latest=latest, hint="")


def scores_table(rows: list[CallScores], ids: Optional[list[str]] = None, talk: str = "You talk",
                 first: Optional[int] = None) -> list[str]:
    """The calls as the lines of a table, one per call (oldest first), under a header;
    ``ids`` (one per row) adds a first column that names each call, ``first`` a "#" column
    that numbers them from it (the agent's own history: the numbers ``history --delete``
    takes). ``talk`` heads the agent's talk share: "You talk" for the agent's own history."""
    head = ("Date", "Call", "Length", talk, "Interr.", "Warmth", "Words/min", "Checklist", "Follow-ups")
    table = [head]
    for r in rows:
        name = _shortened(r.name, 40)
        check = f"{r.checklist_done}/{r.checklist_items}" if r.checklist_items else "–"
        table.append((local_time(r.created), name, clock(r.duration_s),
                      format_score(r.talk_share_agent, ".0%"), format_score(r.interruptions_by_agent, "d"),
                      format_score(r.warmth_mean, ".2f"), format_score(r.agent_wpm, ".0f"), check,
                      format_score(r.commitments, "d")))
    right = {2, 3, 4, 5, 6, 7, 8}
    if ids is not None:
        table = [("Id", *table[0])] + [(i, *row) for i, row in zip(ids, table[1:])]
        right = {c + 1 for c in right}
    elif first is not None:
        table = [("#", *table[0])] + [(str(n), *row) for n, row in enumerate(table[1:], first)]
        right = {0} | {c + 1 for c in right}
    return text_table(table, right)


def history_text(rows: list[CallScores], total: Optional[int] = None) -> str:
    """The history as a readable table (oldest first), a trend line and the care note;
    ``total``: how many calls the history holds, said when ``rows`` are fewer."""
    if not rows:
        return ("No calls in your history yet. `voicecoach analyze CALL -o CALL.json` adds one; "
                "`voicecoach history --rebuild FOLDER` indexes records you already have.")
    n = len(rows)
    if total is not None and total > n:
        head = f"Your last {n} of {total} calls (`voicecoach history -n {total}` lists them all)"
    else:
        head = f"Your {'call' if n == 1 else f'last {n} calls'}"
    lines = [f"{head}, oldest first (the newest is the last line):", ""]
    lines += scores_table(rows, first=max(total or n, n) - n + 1)
    trend = trend_lines(rows)
    lines += ["", *trend] if trend else []
    lines += ["", CARE_NOTE]
    return "\n".join(lines)


def show_history(limit: Optional[int] = 20, rebuild: Optional[list] = None,
                 path: Union[str, Path, None] = None) -> str:
    """What ``voicecoach history [--rebuild FOLDER ...] [-n LIMIT]`` prints.

    Parameters
    ----------
    limit : int or None
        How many of the latest calls to list (None: all).
    rebuild : list of paths, optional
        Folders of call records to rebuild the index from first.
    path : path, optional
        The database (default :func:`default_db_path`).
    """
    head = []
    try:
        history = History(path)
    except sqlite3.OperationalError:
        where = Path(path) if path is not None else default_db_path()
        if rebuild or not read_only_disk(where):
            raise
        history = History.read_only(where)      # listed as it is; nothing can be added now
        head = [f"Your history is on a read-only disk ({where.parent}): listed as it is; nothing is "
                "added to it until that disk can be written again.", ""]
    with history:
        if rebuild:
            added, kept, skipped = history.rebuild(rebuild)
            head.append(f"Rebuilt the history: {plural(added - kept, 'call record')} in "
                        f"{', '.join(map(str, rebuild))}"
                        + (f", and the {plural(kept, 'call record')} it had from other folders" if kept else "")
                        + (f"; {plural(len(skipped), 'other JSON file')} skipped" if skipped else ""))
            head.append("")
        return "\n".join(head) + history_text(history.calls(limit), history.count())
