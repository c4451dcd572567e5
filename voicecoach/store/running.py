"""One live coach per user: a second ``voicecoach live`` on the same devices would
coach every call twice, record it twice and add it to the history twice.

``live`` on devices holds an exclusive lock on ``live.lock`` in the data folder for as
long as it runs; the operating system lets it go when the process ends, however it
ends (a crash or ``kill -9`` leaves no stale lock). The file holds the holder's
process id, so the second start can name it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Optional

try:
    import fcntl
except ImportError:                      # Windows: no lock, as before
    fcntl = None

LOCK_NAME = "live.lock"


class AlreadyRunning(Exception):
    """Another process holds the lock; ``pid`` is its process id (None when unknown)."""

    def __init__(self, pid: Optional[int]):
        super().__init__(pid)
        self.pid = pid


def claim_live(folder: Path) -> Optional[IO]:
    """Take the live lock in ``folder`` (created 0700 if missing); keep the returned file
    open while coaching. None where locks are not available.

    Raises
    ------
    AlreadyRunning
        Another ``live`` holds it.
    OSError
        The lock file cannot be made.
    """
    if fcntl is None:
        return None
    from voicecoach.store.calls import private_folder

    path = private_folder(folder) / LOCK_NAME
    f = open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+", encoding="ascii")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        text = f.read().strip()
        f.close()
        raise AlreadyRunning(int(text) if text.isdigit() else None) from None
    except OSError:
        f.close()
        raise
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f
