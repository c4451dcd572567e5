"""Files that hold a call, readable by the user alone: one rule for every writer (records,
reports, profiles, recordings, the events log, the history, the review's settings).

A file is written to a temporary file (created 0600) that is renamed over the target,
so a crash never leaves half of it; every folder created for it is created 0700, and
VoiceCoach's own data folder (:func:`data_dir`, with ``records/`` and
``history.sqlite``) is kept 0700. A folder the user made (``-o ~/calls/x.json``) keeps
the mode they gave it. A FIFO, a device or a folder is never written over.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Union

from voicecoach.paths import user_path

DATA_DIR_ENV = "VOICECOACH_DATA_DIR"
"""Environment variable that overrides the data folder (tests, portable installs)."""


# --------------------------------------------------------------------------- where

def data_dir() -> Path:
    """VoiceCoach's data folder: ``$VOICECOACH_DATA_DIR``, or the platform's user data folder
    (``platformdirs.user_data_path("voicecoach")``). It holds ``history.sqlite`` and ``records/``."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return user_path(override)
    import platformdirs

    return platformdirs.user_data_path("voicecoach")


def records_dir() -> Path:
    """The data folder's ``records/``: new records that cannot go beside their recording."""
    return data_dir() / "records"


def _in_data_dir(folder: Path) -> bool:
    home = data_dir().absolute()
    folder = folder.absolute()
    return folder == home or home in folder.parents


def private_folder(folder: Union[str, Path]) -> Path:
    """Make sure ``folder`` exists to hold calls, readable by the user alone.

    Folders that do not exist are created 0700 (each missing parent too). The data
    folder and folders inside it are made 0700 when they are not (they are VoiceCoach's
    own); a folder the user made keeps its mode.

    Raises
    ------
    OSError
        The folder cannot be created (or the data folder not made private).
    """
    folder = user_path(folder)
    missing = []
    p = folder
    while not os.path.lexists(p) and p.parent != p:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=0o700)
        except FileExistsError:          # made by someone else meanwhile: not ours to change
            continue
        os.chmod(p, 0o700)               # whatever the umask
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    if _in_data_dir(folder):                 # ours: private even if made before
        home = data_dir().absolute()
        p = folder.absolute()
        while True:
            _take_away_others(p)
            if p == home:
                break
            p = p.parent
    return folder


def _take_away_others(path: Union[str, Path]) -> None:
    """Clear the group and other permission bits of ``path`` if any are set."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        os.chmod(path, mode & ~0o077)


NOT_A_FILE = "it is not a regular file (a FIFO, a device or a folder)"


def writable_file(path: Union[str, Path]) -> Path:
    """The file that writing ``path`` changes: ``path``, or the file a symlink there names
    (followed: the link keeps pointing at the new contents). An existing FIFO, device
    node or folder is refused: a file renamed over it, or made 0600, would break it for
    every other program (run as root, ``-o /dev/null`` replaced /dev/null).

    Raises
    ------
    OSError
        ``path`` exists and is not a regular file (strerror :data:`NOT_A_FILE`).
    """
    path = user_path(path)
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, NOT_A_FILE, str(path))
    return real


def private_file(path: Union[str, Path]) -> Path:
    """Create ``path`` empty and 0600 if it does not exist; an existing one (and the
    SQLite ``-wal``, ``-shm`` and ``-journal`` files beside it) loses any group and
    other permissions. For files that others (SQLite, Qt) open and write.

    Raises
    ------
    OSError
        ``path`` is not a regular file (:func:`writable_file`).
    """
    path = Path(path)
    real = writable_file(path)         # a symlink's target, even one not made yet: 0600 too
    if real != path:
        private_folder(real.parent)
    try:
        fd = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _take_away_others(real)
        for p in (real.with_name(real.name + s) for s in ("-wal", "-shm", "-journal")):
            try:
                _take_away_others(p)
            except FileNotFoundError:  # none, or SQLite took it away as another process closed
                pass
    else:
        os.close(fd)
    return path


def write_private(path: Union[str, Path], text: str) -> Path:
    """Write a file that holds a call (a record, a report, a profile) atomically and
    readable by the user alone: 0600 in a folder made 0700 if missing. A symlink is
    followed (its target is written); a FIFO or a device is refused (:func:`writable_file`).

    Raises
    ------
    OSError
        It cannot be written; nothing was changed at ``path``.
    """
    path = user_path(path)
    real = writable_file(path)
    private_folder(real.parent)
    # 0600; a short name of its own: the target's name and more may be over the limit
    fd, tmp = tempfile.mkstemp(prefix=".voicecoach-", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def new_private_file(folder: Union[str, Path], stem: str, suffix: str) -> tuple[Path, int]:
    """A file no other has: ``stem + suffix`` in ``folder`` (made private if missing), else
    ``stem-2 + suffix``, ``stem-3``..., created empty, 0600 and exclusively, so that two
    programs naming a call by the same second (a shift and a replay beside it) never
    write one file. Returns the path and a descriptor open for writing.

    Raises
    ------
    OSError
        The folder cannot be made, or no name is free (999 taken).
    """
    folder = private_folder(folder)
    for n in range(1, 1000):
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            return path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no free name for {stem}{suffix}", str(folder))
