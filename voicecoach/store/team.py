"""The team store: calls an agent chooses to share, on the team's PostgreSQL server, for
the coach who helps them.

Nothing is shared by default. ``voicecoach share CALL`` sends one call record (and its
recording only with ``--with-audio``); ``share --undo`` takes it back. The coach's view
(``voicecoach team``) lists the shared calls agent by agent, opens any of them in the
review window and shows one agent's trend over their own calls. Nothing ranks agents.

The server
    Named in the config (``[team] database = "postgresql://alice@db.example/voicecoach"``);
    the password comes from ``PGPASSWORD`` or ``~/.pgpass`` (libpq reads both), never from
    the config file: a URL there that holds one is refused.

The schema (``migrations/NNN_*.sql``)
    Versioned: ``voicecoach team init`` applies the missing migrations in one
    transaction and records each in ``voicecoach.schema_version``; a client checks that
    version when it connects and says what to do when it differs from its own
    (:data:`SCHEMA_VERSION`). Each call is one row of ``voicecoach.calls``, keyed by
    (agent, call id): the record whole as JSONB beside the scores the views read, with
    an index for each view. Sharing the same call twice is one row (``ON CONFLICT DO
    NOTHING``). Agents log in as themselves, in the role ``voicecoach_agent``: row-level
    security lets them insert, read and delete their own calls only; coaches
    (``voicecoach_coach``) read every shared call and change none.

Faults
    Every failure is a :class:`TeamError` with one line for the user. A share is one
    transaction: a server that goes away halfway leaves nothing behind, and the local
    call is only ever read. Without a team store, nothing local depends on this module.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import socket
import stat
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from voicecoach.config import TeamOptions
from voicecoach.paths import user_path
from voicecoach.store.history import MIN_RATE_S, RATE_PER_S, CallScores
from voicecoach.store.record import SCHEMA as RECORD_SCHEMA
from voicecoach.store.record import check_record, is_demo

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATE_LOCK_TIMEOUT_S = 10.0
"""How long ``team init`` waits for a table that a share or a view is using before it gives up
(and changes nothing)."""
SCHEMA_VERSION = len(sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql")))
"""The team store layout this version of VoiceCoach reads and writes."""

SCORE_COLUMNS = ("name", "duration_s", "talk_share_agent", "interruptions_by_agent", "warmth_mean",
                 "agent_wpm", "checklist_done", "checklist_items", "commitments")
_LOCK_KEY = 0x766F6963   # advisory lock held while migrating ("voic")
UPLOAD_BYTES_PER_S = 100_000
"""A share waits ``[team] answer_timeout_s`` for the server's answer, and a second more for
each this many bytes of recording it sends."""


class TeamError(Exception):
    """The team store cannot do what was asked (one clear line)."""


# --------------------------------------------------------------------------- connecting

def team_configured(config) -> bool:
    """Whether a team store is set (``[team] database``): the share actions show only then,
    and deleting a call says where a shared copy of it stays."""
    return bool(config is not None and getattr(config, "team", None) and config.team.database)


def may_hold_password(url: str) -> bool:
    """Whether a connection string may carry a password (``user:secret@`` or ``password=``),
    judged without psycopg and on the safe side: ``voicecoach config`` then hides it. Use
    :func:`check_database_url` to refuse one exactly.

    >>> may_hold_password("postgresql://coach:s3cret@db/team"), may_hold_password("postgresql://coach@db/team")
    (True, False)
    """
    return re.search(r"password|://[^/@]*:[^/]*@", url, re.IGNORECASE) is not None


def check_database_url(url: str, source: str = "[team] database") -> str:
    """``url`` when it is a usable connection string without a password.

    Raises
    ------
    TeamError
        It is empty, malformed, or holds a password (which belongs in ``PGPASSWORD``
        or ``~/.pgpass``, not in a config file).
    """
    if not url:
        raise TeamError("no team store configured: set [team] database = \"postgresql://USER@HOST/DB\" "
                        "in the config file (`voicecoach config` shows where it is)")
    conninfo = _psycopg().conninfo
    try:
        parts = conninfo.conninfo_to_dict(url)
    except _psycopg().ProgrammingError as exc:
        if may_hold_password(url):        # libpq's message quotes the string, password and all
            raise TeamError(f"{source}: not a PostgreSQL connection string (postgresql://USER@HOST/DB); "
                            "and a password belongs in PGPASSWORD or ~/.pgpass, not in the config file") from None
        raise TeamError(f"{source}: not a PostgreSQL connection string ({_first_line(exc)})") from None
    if parts.get("password"):
        raise TeamError(f"{source} holds a password: remove it from the config file and give it in "
                        "PGPASSWORD or ~/.pgpass instead")
    return url


def _psycopg():
    try:
        import psycopg
        import psycopg.conninfo  # noqa: F401
    except ImportError:
        raise TeamError("the team store needs psycopg 3: pip install 'voicecoach[team]'") from None
    return psycopg


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _where(url: str) -> tuple[str, str]:
    """(the user, "host:port/database") of a connection string, for messages."""
    parts = _psycopg().conninfo.conninfo_to_dict(url)
    host = parts.get("host") or "localhost"
    user = parts.get("user") or os.environ.get("PGUSER") or _login_name()
    port = parts.get("port") or os.environ.get("PGPORT") or "5432"
    return user, f"{host}:{port}/{parts.get('dbname') or user}"


def _pgpass_problem(url: str) -> str:
    """What is wrong with the password file libpq would read (``~/.pgpass``, ``PGPASSFILE``),
    "" if nothing: one that others may read, libpq skips (its WARNING line is kept off the
    terminal: :mod:`voicecoach.sources.library_noise`), so the server's question for a
    password is not answered from it."""
    parts = _psycopg().conninfo.conninfo_to_dict(url)
    if os.name != "posix" or parts.get("password") or os.environ.get("PGPASSWORD"):
        return ""
    path = user_path(parts.get("passfile") or os.environ.get("PGPASSFILE") or "~/.pgpass")
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""
    if stat.S_ISREG(mode) and mode & 0o077:
        return f"{path} may be read by others, so PostgreSQL does not use it: chmod 600 {path}"
    return ""


def _login_name() -> str:
    """The login libpq uses when the URL names none: this computer's user name (a message
    then says whose password was wrong, not "you")."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name      # as libpq: the account, not $USER (su, sudo)
    except (ImportError, KeyError, OSError):
        import getpass

        try:
            return getpass.getuser()
        except (OSError, KeyError):
            return "you"


def _connect_error(url: str, exc: BaseException) -> TeamError:
    user, where = _where(url)
    text = str(exc)
    if "password authentication failed" in text:
        return TeamError(f"team store {where}: wrong password for {user} (PGPASSWORD or ~/.pgpass)")
    if "no password supplied" in text or "fe_sendauth" in text:
        return TeamError(f"team store {where}: it asks {user} for a password; " +
                         (_pgpass_problem(url) or "set PGPASSWORD or add a line to ~/.pgpass"))
    if "does not exist" in text and "database" in text:
        return TeamError(f"team store {where}: no such database")
    if "role" in text and "does not exist" in text:
        return TeamError(f"team store {where}: no login {user} on the server; ask your team lead to add you")
    detail = text.split("failed:", 1)[-1].strip().splitlines()[0] if "failed:" in text else _first_line(exc)
    return TeamError(f"team store {where} not reachable ({detail})")


def _zone_name(name: str) -> bool:
    """Whether ``name`` is a time zone of the tz database ("Pacific/Auckland", "NZ", "CET")."""
    import zoneinfo

    try:
        return bool(name) and zoneinfo.ZoneInfo(name) is not None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False


def _local_zone() -> tuple[str, str]:
    """This computer's time zone for PostgreSQL's ``AT TIME ZONE``: its name (``TZ``, or what
    /etc/localtime links to) and ``"%s"``, or, when it has none, today's offset from UTC
    and ``"%s::interval"``."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not _zone_name(name):              # a POSIX rule ("EST+5") reads with the sign reversed there
        try:
            name = os.readlink("/etc/localtime").split("zoneinfo/", 1)[1]
        except (OSError, IndexError):
            name = ""
    if name:
        return name, "%s"
    offset = _dt.datetime.now().astimezone().utcoffset() or _dt.timedelta(0)
    return f"{offset.total_seconds():.0f} seconds", "%s::interval"


# --------------------------------------------------------------------------- a call's identity

def call_id(record: dict) -> str:
    """The id of a call in the team store: the call's start and its recording's name, so
    sharing twice is one row, and a new analysis of the same call (dated by its recording)
    takes the place of the one shared before -- also a call coached live analysed again from
    its recording, whose length is the whole file's, not the call's span. 32 hex digits.
    (Ids had the length in them before: a share finds its call's earlier rows by start and
    name as well, see :meth:`TeamStore.share`.)"""
    key = json.dumps([record.get("created"), record["source"]["name"]])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


SAME_CALL_S = 3.0
"""How far apart (s) two analyses of one call may date its start. A call coached live is
dated by the wall clock as it began; analysed again from its recording it is dated by the
file's last change less its length (:func:`~voicecoach.store.record.recorded_at`), which
the last write's delay puts a fraction of a second later -- sometimes into the next second."""

_THIS_CALL = ("c.agent = session_user AND (c.call_id = %(id)s OR (c.record -> 'source' ->> 'name' = %(name)s "
              "AND c.created BETWEEN %(start)s::timestamptz - make_interval(secs => %(near)s) "
              "AND %(start)s::timestamptz + make_interval(secs => %(near)s)))")
"""This agent's rows of one call: by its id, or by its name and a start within
:data:`SAME_CALL_S` (the same call analysed again, or shared by a version whose ids held
the call's length)."""


def _this_call(record: dict) -> dict:
    try:
        start = _created(record)
    except TeamError:
        start = None                          # matched by its id alone
    return {"id": call_id(record), "name": record["source"]["name"], "start": start, "near": SAME_CALL_S}


def _created(record: dict) -> _dt.datetime:
    try:
        when = _dt.datetime.fromisoformat(record["created"])
    except (KeyError, TypeError, ValueError):
        raise TeamError("the call record has no valid 'created' time; analyse the call again") from None
    return when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)


# --------------------------------------------------------------------------- what comes back

@dataclass(frozen=True)
class SharedCall:
    """A call in the team store: who shared it, when, and its scores (``scores.record_path``
    is ``"team:AGENT/ID"``)."""

    agent: str
    call_id: str
    shared_at: _dt.datetime
    has_audio: bool
    scores: CallScores

    @property
    def short_id(self) -> str:
        return self.call_id[:8]


@dataclass(frozen=True)
class Period:
    """One week (or month) of an agent's shared calls: how many and their mean scores."""

    start: _dt.date
    calls: int
    warmth_mean: Optional[float]
    interruptions_per_10min: Optional[float]   # pooled over the period's calls of a minute or more
    talk_share_agent: Optional[float]
    agent_wpm: Optional[float]
    checklist_done: Optional[float]      # fraction of checklist items done (0-1)


@dataclass(frozen=True)
class ShareResult:
    call_id: str
    new: bool              # False: it was shared already (nothing changed, unless ``replaced``)
    audio: bool            # its recording is in the store now
    replaced: bool = False  # shared before as analysed then: this analysis took its place
    audio_added: bool = False   # its recording was sent now (not there before)


_LIST_COLUMNS = ("agent, call_id, shared_at, created, " + ", ".join(SCORE_COLUMNS) +
                 # the voice profile warmth was judged against: trends compare like with like
                 ", warmth_profile" +
                 ", EXISTS (SELECT 1 FROM voicecoach.call_audio a WHERE a.agent = c.agent "
                 "AND a.call_id = c.call_id) AS has_audio")


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _shown(value):
    """A text column as it may reach the coach's terminal: an agent writes their rows as they
    like (psql, another client), and an escape sequence must not drive the coach's screen."""
    return _CONTROL.sub("\ufffd", value) if isinstance(value, str) else value


def _shared(row) -> SharedCall:
    agent, cid, shared_at, created, *scores, has_audio = (_shown(v) for v in row)
    return SharedCall(agent, cid, shared_at, has_audio,
                      CallScores(f"team:{agent}/{cid}", created.isoformat(), *scores))


# --------------------------------------------------------------------------- the store

class TeamStore:
    """A connection to the team store.

    Parameters
    ----------
    url : str
        The server (``postgresql://USER@HOST[:PORT]/DB``); the password comes from
        ``PGPASSWORD`` or ``~/.pgpass``.
    connect_timeout_s : float, optional
        How long to wait for the server (s; default ``[team] connect_timeout_s``'s).
    check_version : bool
        Check the store's schema version against this client's (False for ``init``).
    answer_timeout_s : float, optional
        Once connected, how long to wait for each answer (s; default ``[team] answer_timeout_s``'s).

    Raises
    ------
    TeamError
        The server cannot be reached, refuses the login, or its layout does not fit.
    """

    def __init__(self, url: str, connect_timeout_s: Optional[float] = None, check_version: bool = True,
                 answer_timeout_s: Optional[float] = None):
        defaults = TeamOptions()
        connect_timeout_s = defaults.connect_timeout_s if connect_timeout_s is None else connect_timeout_s
        answer_timeout_s = defaults.answer_timeout_s if answer_timeout_s is None else answer_timeout_s
        psycopg = _psycopg()
        if not url:
            check_database_url(url)
        self.url = url
        self.answer_timeout_s = answer_timeout_s
        try:
            self._db = psycopg.connect(self.url, connect_timeout=max(1, round(connect_timeout_s)),
                                       application_name="voicecoach", autocommit=False)
        except psycopg.OperationalError as exc:
            raise _connect_error(self.url, exc) from None
        self.user = self._db.info.user
        self._timed_out: Optional[float] = None      # seconds, when the server stopped answering
        if check_version:
            try:
                self._check_version()
            except BaseException:
                self.close()
                raise

    @classmethod
    def from_config(cls, config, **kw) -> "TeamStore":
        """The store named in ``config.team`` (:class:`voicecoach.config.TeamOptions`); a URL
        there that holds a password is refused (:func:`check_database_url`)."""
        return cls(check_database_url(config.team.database), config.team.connect_timeout_s,
                   answer_timeout_s=config.team.answer_timeout_s, **kw)

    # ---- schema
    def version(self) -> Optional[int]:
        """The store's schema version; None when it has not been set up."""
        psycopg = _psycopg()
        try:
            with self._answer_within(self.answer_timeout_s), self._db.transaction():
                row = self._db.execute("SELECT max(version) FROM voicecoach.schema_version").fetchone()
        except psycopg.errors.UndefinedTable:
            return None
        except psycopg.errors.InsufficientPrivilege:
            raise TeamError(f"{self.user} may not use the team store: ask your team lead to "
                            f"GRANT voicecoach_agent (or voicecoach_coach) TO {self.user}") from None
        except psycopg.OperationalError as exc:
            raise self._failed(exc) from None
        return row[0]

    def _check_version(self) -> None:
        have = self.version()
        if have is None:
            raise TeamError("the team store is not set up yet: your team lead runs `voicecoach team init`")
        if have > SCHEMA_VERSION:
            raise TeamError(f"the team store is at version {have}, newer than this VoiceCoach knows "
                            f"({SCHEMA_VERSION}): update VoiceCoach")
        if have < SCHEMA_VERSION:
            raise TeamError(f"the team store is at version {have} and this VoiceCoach needs {SCHEMA_VERSION}: "
                            "your team lead runs `voicecoach team init` to bring it up to date")

    def migrate(self) -> tuple[int, int]:
        """Apply the migrations the store lacks, in one transaction (``team init``).

        Returns
        -------
        (before, after) : versions (0 for a store that was not set up).
        """
        psycopg = _psycopg()
        try:
            with self._db.transaction():
                # a migration may rewrite a table under a lock that every share and view waits
                # for: it does not queue behind an open transaction for long, nor they behind it
                self._db.execute(f"SET LOCAL lock_timeout = '{MIGRATE_LOCK_TIMEOUT_S * 1000:.0f}ms'")
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                exists = self._db.execute("SELECT to_regclass('voicecoach.schema_version')").fetchone()[0]
                before = 0
                if exists:
                    before = self._db.execute("SELECT coalesce(max(version), 0) FROM "
                                              "voicecoach.schema_version").fetchone()[0]
                if before > SCHEMA_VERSION:
                    raise TeamError(f"the team store is at version {before}, newer than this VoiceCoach "
                                    f"knows ({SCHEMA_VERSION}): update VoiceCoach before `team init`")
                for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql")):
                    version = int(path.name[:3])
                    if version <= before:
                        continue
                    self._db.execute(path.read_text(encoding="utf-8"))      # ends recording its version
                    done = self._db.execute("SELECT max(version) FROM voicecoach.schema_version").fetchone()[0]
                    if done != version:
                        raise TeamError(f"migration {path.name} did not record version {version}")
        except psycopg.errors.InsufficientPrivilege as exc:
            raise TeamError(f"{self.user} may not set up the team store ({_first_line(exc)}): run "
                            "`voicecoach team init` as the database's owner, with CREATEROLE") from None
        except psycopg.errors.LockNotAvailable:
            raise TeamError(f"the team store is in use (a share or a coach's view held it for more than "
                            f"{MIGRATE_LOCK_TIMEOUT_S:g} s); nothing was changed: run `voicecoach team init` "
                            "again when no one is sharing or viewing calls") from None
        except psycopg.OperationalError as exc:
            raise self._gone(exc) from None
        return before, SCHEMA_VERSION

    # ---- the agent's side
    def share(self, record: dict, audio_path: Union[str, Path, tuple, None] = None) -> ShareResult:
        """Share one call record (and its recording when ``audio_path`` is given), in one
        transaction. Sharing a call again adds its recording if it was not there, and
        otherwise changes nothing. ``audio_path`` may also be a tuple of files: ``(call,)``,
        or ``(agent, customer)``, which are shared as one stereo FLAC (left: the agent).

        Raises
        ------
        TeamError
            Not shared (nothing of it is in the store).
        """
        psycopg = _psycopg()
        if record.get("schema") != RECORD_SCHEMA:
            raise TeamError(f"not a {RECORD_SCHEMA} call record")
        scores = CallScores.from_record(record, "")
        cid = call_id(record)
        audio, audio_name = _recording_bytes(audio_path)
        cols = ("call_id", "created") + SCORE_COLUMNS + ("record",)
        values = (cid, _created(record)) + tuple(getattr(scores, c) for c in SCORE_COLUMNS) + \
                 (psycopg.types.json.Jsonb(record),)
        try:
            with self._answer_within(self.answer_timeout_s + len(audio or b"") / UPLOAD_BYTES_PER_S), \
                    self._db.transaction():
                before = self._db.execute(
                    "SELECT c.call_id, c.record = %(record)s, a.file_name IS NOT NULL FROM voicecoach.calls c "
                    f"LEFT JOIN voicecoach.call_audio a USING (agent, call_id) WHERE {_THIS_CALL} "
                    "ORDER BY c.call_id = %(id)s DESC, abs(extract(epoch FROM c.created - %(start)s::timestamptz))",
                    {"record": values[-1], **_this_call(record)}).fetchone()
                replaced = before is not None and (not before[1] or before[0] != cid)
                keep = replaced and audio is None and before[2]
                if keep:                  # its recording stays shared: moved inside the server, not
                    self._db.execute(     # downloaded and sent again (a call's recording is large)
                        "CREATE TEMP TABLE voicecoach_kept ON COMMIT DROP AS SELECT file_name, data "
                        "FROM voicecoach.call_audio WHERE agent = session_user AND call_id = %s", (before[0],))
                if replaced:              # analysed again since: this analysis takes its place
                    self._db.execute("DELETE FROM voicecoach.calls WHERE agent = session_user "   # (agents may
                                     "AND call_id = %s", (before[0],))                            # not update)
                new = self._db.execute(
                    f"INSERT INTO voicecoach.calls ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
                    "ON CONFLICT (agent, call_id) DO NOTHING", values).rowcount == 1
                if keep:
                    self._db.execute("INSERT INTO voicecoach.call_audio (call_id, file_name, data) "
                                     "SELECT %s, file_name, data FROM voicecoach_kept", (cid,))
                audio_added = audio is not None and self._db.execute(
                    "INSERT INTO voicecoach.call_audio (call_id, file_name, data) VALUES (%s, %s, %s) "
                    "ON CONFLICT (agent, call_id) DO NOTHING", (cid, audio_name, audio)).rowcount == 1
                has_audio = audio_added or self._db.execute(
                    "SELECT EXISTS (SELECT 1 FROM voicecoach.call_audio WHERE agent = session_user "
                    "AND call_id = %s)", (cid,)).fetchone()[0]
        except psycopg.errors.InsufficientPrivilege as exc:
            raise TeamError(f"{self.user} may not share calls ({_first_line(exc)}): ask your team lead to "
                            f"GRANT voicecoach_agent TO {self.user}") from None
        except psycopg.Error as exc:
            raise self._failed(exc, "nothing was shared; try again") from None
        return ShareResult(cid, new and not replaced, has_audio, replaced, audio_added)

    def unshare(self, record: dict) -> bool:
        """Take a shared call back (record and recording). False when it was not shared."""
        psycopg = _psycopg()
        try:
            with self._answer_within(self.answer_timeout_s), self._db.transaction():
                return self._db.execute(f"DELETE FROM voicecoach.calls c WHERE {_THIS_CALL}",
                                        _this_call(record)).rowcount > 0
        except psycopg.errors.InsufficientPrivilege as exc:
            raise TeamError(f"{self.user} may not take calls back ({_first_line(exc)})") from None
        except psycopg.Error as exc:
            raise self._failed(exc, "nothing was taken back; try again") from None

    def unshare_id(self, ref: str) -> SharedCall:
        """Take back one of this agent's shared calls by its id (or its first characters),
        when its local record is gone; the call taken back."""
        call = self.find(ref)
        psycopg = _psycopg()
        try:
            with self._answer_within(self.answer_timeout_s), self._db.transaction():
                gone = self._db.execute("DELETE FROM voicecoach.calls WHERE agent = session_user "
                                        "AND call_id = %s", (call.call_id,)).rowcount > 0
        except psycopg.errors.InsufficientPrivilege as exc:
            raise TeamError(f"{self.user} may not take calls back ({_first_line(exc)})") from None
        except psycopg.Error as exc:
            raise self._failed(exc, "nothing was taken back; try again") from None
        if not gone:
            raise TeamError(f"{ref}: {call.agent}'s call, not yours: only the agent who shared a call "
                            "takes it back")
        return call

    # ---- the coach's side
    def _query(self, sql: str, params=()) -> list:
        psycopg = _psycopg()
        try:
            with self._answer_within(self.answer_timeout_s), self._db.transaction():
                return self._db.execute(sql, params).fetchall()
        except psycopg.errors.InsufficientPrivilege as exc:
            raise TeamError(f"{self.user} may not read the team store ({_first_line(exc)})") from None
        except psycopg.Error as exc:
            raise self._failed(exc) from None

    def sees_own_calls_only(self) -> bool:
        """Whether this login is an agent's, not a coach's: row-level security shows it its
        own shared calls alone, so another agent's seem to be none."""
        return bool(self._query("SELECT pg_has_role('voicecoach_agent', 'MEMBER') "
                                "AND NOT pg_has_role('voicecoach_coach', 'MEMBER')")[0][0])

    def agents(self) -> list[tuple[str, int, _dt.datetime]]:
        """Every agent with shared calls (that this login may see), by name:
        ``(agent, calls, latest call's time)``."""
        # one index probe per agent (a loose index scan), not a pass over every call
        return [tuple(r) for r in self._query("""
            WITH RECURSIVE a AS (
                SELECT min(agent) AS agent FROM voicecoach.calls
                UNION ALL
                SELECT (SELECT min(agent) FROM voicecoach.calls WHERE agent > a.agent) FROM a
                WHERE a.agent IS NOT NULL)
            SELECT a.agent,
                   (SELECT count(*) FROM voicecoach.calls c WHERE c.agent = a.agent),
                   (SELECT max(created) FROM voicecoach.calls c WHERE c.agent = a.agent)
            FROM a WHERE a.agent IS NOT NULL ORDER BY a.agent""")]

    def calls(self, agent: str, limit: Optional[int] = 20) -> list[SharedCall]:
        """One agent's latest shared calls (all with None), oldest first."""
        rows = self._query(f"SELECT {_LIST_COLUMNS} FROM voicecoach.calls c WHERE agent = %s "
                           "ORDER BY created DESC, call_id DESC LIMIT %s", (agent, limit))
        return [_shared(r) for r in rows][::-1]

    def trend(self, agent: str, by: str = "week") -> list[Period]:
        """One agent's shared calls by week or month (oldest first), with mean scores; warmth
        only of the calls judged against the voice profile of their latest call (as the
        agent's own history compares it: none when that call had no profile)."""
        if by not in ("week", "month"):
            raise ValueError(by)
        zone, zone_sql = _local_zone()     # the weeks of the dates `team list` shows
        rows = self._query(
            f"SELECT date_trunc(%s, created AT TIME ZONE {zone_sql})::date, count(*), "
            "avg(warmth_mean) FILTER (WHERE warmth_profile = (SELECT warmth_profile FROM voicecoach.calls "
            "WHERE agent = %s ORDER BY created DESC, call_id DESC LIMIT 1)), "
            # interruptions as the history compares them: per RATE_PER_S of call, calls under MIN_RATE_S apart
            "sum(interruptions_by_agent) FILTER (WHERE duration_s >= %s) * %s "
            "/ nullif(sum(duration_s) FILTER (WHERE duration_s >= %s AND interruptions_by_agent IS NOT NULL), 0), "
            "avg(talk_share_agent), avg(agent_wpm), "
            "sum(checklist_done)::float8 / nullif(sum(checklist_items), 0) "
            "FROM voicecoach.calls WHERE agent = %s GROUP BY 1 ORDER BY 1",
            (by, zone, agent, MIN_RATE_S, RATE_PER_S, MIN_RATE_S, agent))
        return [Period(r[0], r[1], *(None if v is None else float(v) for v in r[2:])) for r in rows]

    def find(self, ref: str) -> SharedCall:
        """The shared call named by ``ref``: an id or its first characters (as listed),
        optionally ``AGENT/ID`` when two agents shared calls whose ids begin alike."""
        agent, _, prefix = ref.rpartition("/")
        prefix = prefix.lower()
        if len(prefix) < 4 or any(ch not in "0123456789abcdef" for ch in prefix):
            raise TeamError(f"{ref}: not a shared call's id (`voicecoach team` lists them)")
        sql = f"SELECT {_LIST_COLUMNS} FROM voicecoach.calls c WHERE call_id LIKE %s"
        params: tuple = (prefix + "%",)
        if agent:
            sql += " AND agent = %s"
            params += (agent,)
        rows = self._query(sql + " ORDER BY agent, call_id LIMIT 10", params)
        if not rows:
            raise TeamError(f"{ref}: no such shared call (it may have been taken back)")
        if len(rows) > 1 and len({r[1] for r in rows}) == 1:    # one record, shared by more than one agent
            raise TeamError(f"{ref} was shared by {' and '.join(r[0] for r in rows)}: give AGENT/ID "
                            f"({rows[0][0]}/{prefix})")
        if len(rows) > 1:
            names = ", ".join(f"{r[0]}/{r[1][:12]}" for r in rows)
            raise TeamError(f"{ref} names more than one call ({names}): give more of the id, or AGENT/ID")
        return _shared(rows[0])

    def fetch(self, call: SharedCall) -> tuple[dict, Optional[tuple[str, bytes]]]:
        """A shared call's record, and its recording ``(file name, bytes)`` when shared."""
        rows = self._query("SELECT c.record, a.file_name, a.data FROM voicecoach.calls c "
                           "LEFT JOIN voicecoach.call_audio a USING (agent, call_id) "
                           "WHERE c.agent = %s AND c.call_id = %s", (call.agent, call.call_id))
        if not rows:
            raise TeamError(f"{call.agent}/{call.short_id}: no longer shared")
        record, file_name, data = rows[0]
        if not isinstance(record, dict) or record.get("schema") != RECORD_SCHEMA:
            schema = record.get("schema") if isinstance(record, dict) else None
            raise TeamError(f"{call.agent}/{call.short_id}: call record format {schema}; this VoiceCoach "
                            f"reads {RECORD_SCHEMA} (update VoiceCoach)")
        check_record(record, f"{call.agent}/{call.short_id}")     # as review, report and history check
        return record, ((file_name, bytes(data)) if data is not None else None)

    # ---- plumbing
    def _gone(self, exc: BaseException, what: str = "") -> TeamError:
        _, where = _where(self.url)
        return TeamError(f"lost the team store {where} ({_first_line(exc)})" + (f": {what}" if what else ""))

    def _failed(self, exc: BaseException, what: str = "") -> TeamError:
        """What the agent is told when the server did not do it: it stopped answering
        (:meth:`_answer_within`), went away, or refused (read-only after a fail-over,
        its disk full)."""
        _, where = _where(self.url)
        then = f": {what}" if what else ""
        if self._timed_out is not None:
            return TeamError(f"the team store {where} did not answer within {self._timed_out:.0f} s{then}")
        if isinstance(exc, _psycopg().OperationalError) and not isinstance(exc, _psycopg().errors.QueryCanceled):
            return self._gone(exc, what)
        return TeamError(f"the team store {where} refused it ({_first_line(exc)}){then}")

    @contextmanager
    def _answer_within(self, seconds: float):
        """Give up on the server after ``seconds``: the connection's socket is shut, so the
        wait for its answer ends (with an error :meth:`_failed` words)."""
        self._timed_out = None
        fd = self._db.pgconn.socket

        def give_up() -> None:
            self._timed_out = seconds
            try:
                with socket.socket(fileno=os.dup(fd)) as s:   # the copy is closed, the connection's shut
                    s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        timer = threading.Timer(seconds, give_up)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def close(self) -> None:
        try:
            self._db.close()
        except Exception:       # closing a connection the server already dropped
            pass

    def __enter__(self) -> "TeamStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------- for the windows

def open_shared(store: TeamStore, ref: str):
    """A shared call, ready for the review window (:class:`voicecoach.store.calls.OpenedCall`).

    The recording, when it was shared, is written to a private temporary file (0600),
    decoded, and deleted: it stays in memory only while the window shows it.
    """
    from voicecoach.sources.audio import AudioError, load_call
    from voicecoach.store.calls import OpenedCall

    call = store.find(ref)
    record, audio_file = store.fetch(call)
    note = f"shared by {call.agent} on {call.shared_at.astimezone():%Y-%m-%d %H:%M}"
    audio = None
    if audio_file is None:
        note += "; the recording was not shared: no waveforms or playback"
    else:
        name, data = audio_file
        # 0600; the name's "suffix" is all after its last dot, which may fill a file name ("call.<230 characters>")
        fd, tmp = tempfile.mkstemp(prefix="voicecoach-shared-", suffix=Path(name).suffix[:16])
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            audio = load_call(tmp, agent_channel=record["source"].get("agent_channel") or "left")
            audio.name = name
        except AudioError as exc:
            note += f"; the shared recording is not readable ({exc})"
        finally:
            Path(tmp).unlink(missing_ok=True)
    return OpenedCall(record, audio, None, None, note, shared_by=call.agent)


def _recording_bytes(files: Union[str, Path, tuple, None]) -> tuple[Optional[bytes], str]:
    """(the bytes to share, their file name) of a recording: one file as it is, one file per
    side as one stereo FLAC; (None, "") for none.

    Raises
    ------
    TeamError
        It cannot be read.
    """
    if files is None:
        return None, ""
    files = (Path(files),) if isinstance(files, (str, Path)) else tuple(Path(f) for f in files)
    if not files:
        return None, ""
    if len(files) == 1:
        try:
            return files[0].read_bytes(), files[0].name
        except OSError as exc:
            raise TeamError(f"cannot read the recording {files[0]}: {exc.strerror or exc}") from None
    import io

    import numpy as np
    import soundfile as sf

    from voicecoach.events import SAMPLE_RATE
    from voicecoach.sources.audio import AudioError
    from voicecoach.store.calls import load_files

    try:
        call = load_files(files)
    except AudioError as exc:
        raise TeamError(f"cannot read the recording: {exc}") from None
    buf = io.BytesIO()
    sf.write(buf, np.stack([call.agent, call.customer], axis=1), SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return buf.getvalue(), f"{files[0].stem} + {files[1].stem}.flac"


DEMO_REFUSED = "this is the demo call, not one of yours: it is never shared with your coach"
"""Said when the demo call is to be shared, named by its record or (``share demo``) as other
commands name it."""


def share_local_call(config, record: dict, audio_path: Union[str, Path, tuple, None] = None) -> str:
    """Share one call with the coach (what the review window and the after-call card call):
    the line to show the agent. Blocks for the network: call it off the GUI thread.
    ``audio_path``: the recording, or its files (:meth:`TeamStore.share`).

    Raises
    ------
    TeamError
        Nothing was shared (the reason in one line). The demo call (``record["demo"]``)
        is refused before the store is reached: it is nobody's call, and shared it would
        count as the agent's in their coach's view and trend.
    """
    if is_demo(record):
        raise TeamError(DEMO_REFUSED)
    with TeamStore.from_config(config) as store:
        result = store.share(record, audio_path)
    what = "call and its recording" if result.audio else "call (without its recording)"
    if result.replaced:
        return f"Shared this analysis of the {what} with your coach, in place of the one before (id {result.call_id[:8]})"
    if result.new:
        return f"Shared the {what} with your coach (id {result.call_id[:8]})"
    if result.audio_added:
        return f"Added the recording to the call your coach has (id {result.call_id[:8]})"
    return f"Already shared with your coach (id {result.call_id[:8]})"


def unshare_local_call(config, record: dict) -> str:
    """Take a call back from the coach: the line to show the agent (see :func:`share_local_call`)."""
    with TeamStore.from_config(config) as store:
        gone = store.unshare(record)
    return "Taken back: your coach no longer sees this call" if gone else "This call was not shared"


def unshare_shared_call(config, ref: str) -> str:
    """Take a call back by its id in the store (``voicecoach team`` lists an agent's own):
    the line to show the agent."""
    from voicecoach.store.history import local_time

    with TeamStore.from_config(config) as store:
        call = store.unshare_id(ref)
    return (f"Taken back: your coach no longer sees {call.scores.name} of "
            f"{local_time(call.scores.created)} (id {call.short_id})")


# --------------------------------------------------------------------------- text

def team_text(store: TeamStore, agents: Optional[list[str]] = None, last: Optional[int] = 5) -> str:
    """The coach's view: each agent (by name) and their latest ``last`` shared calls, oldest
    first, with the ids ``voicecoach team open`` takes. ``agents`` limits it to those
    (:func:`no_calls` for one who has shared none)."""
    from voicecoach.sinks.view import TEAM_NOTE
    from voicecoach.store.history import local_time, scores_table

    known = {a: (n, latest) for a, n, latest in store.agents()} if agents is None else None
    names = sorted(known) if agents is None else agents
    if not names:
        return "No calls have been shared with you yet (agents share one with `voicecoach share CALL`)."
    out = []
    for agent in names:
        rows = store.calls(agent, last)
        if known is not None:
            n, latest = known[agent]
            head = f"{agent} — {n} shared call{'s' if n != 1 else ''}, latest {local_time(latest.isoformat())}"
        elif not rows:
            raise no_calls(store, agent)
        else:
            head = f"{agent} — the latest {len(rows)} shared call{'s' if len(rows) != 1 else ''}"
        out += [head]
        out += scores_table([r.scores for r in rows], talk="Talk share",      # the agent's, read by their coach
                            ids=[r.short_id + (" ♪" if r.has_audio else "") for r in rows])
        out.append("")
    out += [("♪ the recording was shared too. `voicecoach team open ID` opens a call in the review; "
             "`voicecoach team trend AGENT` shows one agent's calls over time."), "", TEAM_NOTE]
    return "\n".join(out)


def no_calls(store: TeamStore, agent: str) -> TeamError:
    """The one line for ``team list`` or ``team trend`` of an agent with no shared calls
    (a misspelt login, most often): an error, not an empty table under the view's notes."""
    if not agent.strip():
        return TeamError("no agent named: give an agent's login (`voicecoach team` lists who shares)")
    if agent != store.user and store.sees_own_calls_only():
        return TeamError(f"{store.user} sees only their own shared calls, not {agent}'s: "
                         "`voicecoach team` is your coach's view")
    return TeamError(f"{agent} has shared no calls{who_shares(store, agent)}")


def who_shares(store: TeamStore, agent: str) -> str:
    """For an agent with no shared calls: the names that have some, so that a misspelt or
    differently cased login ("Alice" for ``alice``) is seen as such ("" when none share)."""
    names = [a for a, _, _ in store.agents()]
    if not names:
        return ""
    close = [a for a in names if a.lower() == agent.lower()]
    if close:
        return f" (logins are case-sensitive: did you mean {close[0]}?)"
    return f" (agents who share calls: {', '.join(names[:8])}{' …' if len(names) > 8 else ''})"


def trend_text(agent: str, periods: list[Period], latest: list[SharedCall], by: str = "week") -> str:
    """One agent's trend: their shared calls by week or month (``periods``: at least one),
    and their latest calls against the ones before
    (:func:`voicecoach.store.history.trend_line`)."""
    from voicecoach.sinks.view import TEAM_NOTE, text_table
    from voicecoach.store.history import format_score, trend_lines

    head = ("Week of" if by == "week" else "Month", "Calls", "Warmth", "Interr./10 min", "Talk share",
            "Words/min", "Checklist")
    table = [head]
    for p in periods:
        table.append((p.start.isoformat() if by == "week" else p.start.strftime("%Y-%m"), str(p.calls),
                      format_score(p.warmth_mean, ".2f"), format_score(p.interruptions_per_10min, ".1f"),
                      format_score(p.talk_share_agent, ".0%"), format_score(p.agent_wpm, ".0f"),
                      format_score(p.checklist_done, ".0%")))
    n = sum(p.calls for p in periods)
    lines = [f"{agent} — {n} shared call{'s' if n != 1 else ''} by {by}", ""]
    lines += text_table(table, right=range(1, len(head)))
    if any(p.warmth_mean is not None for p in periods):
        lines += ["", f"Warmth: the calls judged against {agent}'s latest voice profile (warmth judged "
                      "against another voice is not comparable)."]
    under = trend_lines([c.scores for c in latest], agent)
    lines += ["", *under] if under else []           # as under the agent's own history
    lines += ["", TEAM_NOTE]
    return "\n".join(lines)
