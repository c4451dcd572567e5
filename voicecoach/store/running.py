"""One live coach per user and computer: a second ``voicecoach live`` on the same devices
would coach every call twice, record it twice and add it to the history twice.

``live`` on devices holds an exclusive lock on ``live.lock`` in the data folder for as
long as it runs; the operating system lets it go when the process ends, however it
ends (a crash or ``kill -9`` leaves no stale lock). The file names the holder (computer
and process id), so the second start can name it. The lock only ever keeps a coach from
starting when it is sure: where it cannot be taken (no locks on Windows or on some
network folders, a full or read-only data folder) coaching starts anyway, and a data
folder shared by two computers (a home folder on the network) is no reason to refuse.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import IO, Optional

try:
    import fcntl
except ImportError:                      # Windows: no lock
    fcntl = None

LOCK_NAME = "live.lock"


class AlreadyRunning(Exception):
    """Another ``live`` on this computer holds the lock; ``pid`` is its process id."""

    def __init__(self, pid: Optional[int]):
        super().__init__(pid)
        self.pid = pid


def claim_live(folder: Path) -> Optional[IO]:
    """Take the live lock in ``folder`` (created 0700 if missing); keep the returned file
    open while coaching. None when no lock could be taken and coaching may go on.

    Raises
    ------
    AlreadyRunning
        Another ``live`` on this computer holds it.
    """
    if fcntl is None:
        return None
    from voicecoach.store.private import private_folder

    try:
        path = private_folder(folder) / LOCK_NAME
        f = open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+", encoding="utf-8", errors="replace")
    except OSError:
        return None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        host, _, pid = f.read().strip().rpartition(" ")
        f.close()
        if host and host != socket.gethostname():       # a shared data folder, another computer
            return None
        raise AlreadyRunning(int(pid) if pid.isdigit() else None) from None
    except OSError:                                     # a folder that cannot lock (ENOLCK...)
        f.close()
        return None
    try:
        f.seek(0)
        f.truncate()
        f.write(f"{socket.gethostname()} {os.getpid()}\n")
        f.flush()
    except OSError:                                     # a full disk: the lock still holds
        pass
    return f
