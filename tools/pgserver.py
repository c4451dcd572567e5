"""A throwaway PostgreSQL server for the team store's tests and benchmark.

``initdb`` in a temporary folder, a free port on 127.0.0.1, password (SCRAM)
authentication over TCP like a real team server, its socket inside the folder; stopped
and removed afterwards. Nothing of the machine's own PostgreSQL is used but its
programs (Debian: ``apt install postgresql``; they live in
``/usr/lib/postgresql/<version>/bin``, not on ``PATH``).

PostgreSQL refuses to run as root; run as root (CI), the folder is given to the
``postgres`` user that Debian's package creates (else ``nobody``) and the server's
programs run as that user. The server is this process's child and is told to stop at
once if this process dies (``PR_SET_PDEATHSIG``), so a crashed test leaves none behind.

Usage::

    with PgServer() as pg:
        pg.create_login("alice", "secret", "voicecoach_agent")   # after `team init`
        dsn = pg.dsn("alice")                                    # postgresql://alice@127.0.0.1:PORT/voicecoach
"""
from __future__ import annotations

import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

PR_SET_PDEATHSIG = 1
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
    def _demote(self) -> None:
        """In the child, before exec: become the server's user (when root), then ask for
        SIGQUIT (PostgreSQL's immediate shutdown) when this process dies."""
        if self._user:
            pw = pwd.getpwnam(self._user)
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)

    def _run(self, program: str, *args: str) -> None:
        out = subprocess.run([str(self.bin / program), *args], capture_output=True, text=True,
                             cwd=self.folder, preexec_fn=self._demote)
        if out.returncode != 0:
            raise RuntimeError(f"{program} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")

    def start(self, timeout_s: float = 60.0) -> "PgServer":
        """Start the server (initdb first, the first time) and wait until it accepts logins."""
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
        settings = {"port": self.port, "listen_addresses": "127.0.0.1", "unix_socket_directories": self.folder,
                    "max_connections": 40, "shared_buffers": "128MB"}
        if not self.durable:
            settings["fsync"] = "off"
        args = [str(self.bin / "postgres"), "-D", str(self.data)]
        for k, v in settings.items():
            args += ["-c", f"{k}={v}"]
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
                                     preexec_fn=self._demote)
        log.close()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.admin_sql("SELECT 1", database="postgres")
                break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop("immediate")
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log.read_text()[-2000:]}") from None
                time.sleep(0.1)
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``"fast"`` (roll back, shut down cleanly) or ``"immediate"`` (a
        server that goes away: no clean shutdown, recovery at the next start)."""
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
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
