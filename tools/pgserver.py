"""A throwaway PostgreSQL server for the team store's tests and benchmark.

``initdb`` in a temporary folder, a free port on 127.0.0.1, password (SCRAM)
authentication over TCP like a real team server, its socket inside the folder; stopped
and removed afterwards. Nothing of the machine's own PostgreSQL is used but its
programs (Debian: ``apt install postgresql``; they live in
``/usr/lib/postgresql/<version>/bin``, not on ``PATH``).

PostgreSQL refuses to run as root; run as root (CI), the folder is given to the
``postgres`` user that Debian's package creates (else ``nobody``) and the server's
programs run as that user through ``runuser``.

Usage::

    with PgServer() as pg:
        pg.create_login("alice", "secret", "voicecoach_agent")   # after `team init`
        dsn = pg.dsn("alice")                                    # postgresql://alice@127.0.0.1:PORT/voicecoach
"""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

ADMIN = "voicecoach_admin"
ADMIN_PASSWORD = "admin-secret"
DATABASE = "voicecoach"
BIN_ENV = "VOICECOACH_PG_BIN"
"""Environment variable naming the folder of initdb/pg_ctl/postgres, to choose another install."""


def find_bin_dir() -> Optional[Path]:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: ``$VOICECOACH_PG_BIN``, the
    ``PATH``, the newest ``/usr/lib/postgresql/*/bin`` (Debian, Ubuntu), or ``pg_config
    --bindir``; None when PostgreSQL's server programs are not installed."""
    def complete(d) -> bool:
        return all((Path(d) / p).is_file() for p in ("initdb", "pg_ctl", "postgres"))

    candidates = []
    if os.environ.get(BIN_ENV):
        candidates.append(os.environ[BIN_ENV])
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))

    def version(d: str) -> tuple:
        return tuple(int(x) for x in re.findall(r"\d+", Path(d).parent.name)) or (0,)

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates += sorted(glob.glob("/usr/pgsql-*/bin"), key=version, reverse=True)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(out.stdout.strip())
    for d in candidates:
        if complete(d):
            return Path(d)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """A private PostgreSQL server (see the module docstring).

    Parameters
    ----------
    durable : bool
        False (tests) turns fsync off for speed; True (the benchmark) keeps a real
        server's settings.
    """

    def __init__(self, durable: bool = False):
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL's server programs (initdb, pg_ctl, postgres) are not "
                                    "installed (Debian: apt install postgresql)")
        self.bin = bin_dir
        self.durable = durable
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="voicecoach-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._user: Optional[str] = None
        if os.geteuid() == 0:
            self._user = "postgres" if _user_exists("postgres") else "nobody"
            pw = pwd.getpwnam(self._user)
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
        self.running = False

    # ---- running the server's programs
    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / program), *args]
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=self.folder)
        if check and out.returncode != 0:
            raise RuntimeError(f"{program} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}"
                               + (f"\n{self.log.read_text()[-2000:]}" if self.log.exists() else ""))
        return out

    def start(self) -> "PgServer":
        if not self.data.exists():
            pwfile = self.folder / "pw"
            pwfile.write_text(ADMIN_PASSWORD + "\n")
            if self._user:
                pw = pwd.getpwnam(self._user)
                os.chown(pwfile, pw.pw_uid, pw.pw_gid)
            os.chmod(pwfile, 0o600)
            self._run("initdb", "-D", str(self.data), "-U", ADMIN, f"--pwfile={pwfile}",
                      "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
                      "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C")
            pwfile.unlink()
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
                f"-c max_connections=40 -c shared_buffers=128MB" + ("" if self.durable else " -c fsync=off"))
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", opts)
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` is a server that goes away (no clean shutdown)."""
        if self.running:
            self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode, check=False)
            self.running = False

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "PgServer":
        try:
            self.start()
            self.admin_sql(f"CREATE DATABASE {DATABASE}", database="postgres")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- connecting
    def dsn(self, user: str = ADMIN, database: str = DATABASE) -> str:
        """A connection URL without a password (give it in PGPASSWORD, as a user would)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def admin_dsn(self, database: str = DATABASE) -> str:
        """The administrator's URL with its password (for the tests' own set-up only)."""
        return f"postgresql://{ADMIN}:{ADMIN_PASSWORD}@127.0.0.1:{self.port}/{database}"

    def admin_sql(self, sql: str, params=None, database: str = DATABASE):
        """Run ``sql`` as the administrator (autocommit); the rows, if it returns any."""
        import psycopg

        with psycopg.connect(self.admin_dsn(database), autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def create_login(self, role: str, password: str, group: str) -> None:
        """A login role in ``group`` (``voicecoach_agent`` or ``voicecoach_coach``)."""
        from psycopg import sql

        self.admin_sql(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(role), sql.Literal(password), sql.Identifier(group)))


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _has_c_utf8() -> bool:
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True)
    return any(x.lower() in ("c.utf8", "c.utf-8") for x in out.stdout.split())
