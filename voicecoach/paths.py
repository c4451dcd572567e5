"""A path the user typed, with its ``~`` expanded; whether two paths name one file.

``pathlib.Path.expanduser`` raises ``RuntimeError`` for ``~name`` when no user is
called ``name`` -- most often a ``/`` forgotten after the tilde (``~me.json``), in a
command's arguments or the config. Every command would end in an internal error;
:func:`user_path` makes it an ``OSError`` naming the path, which each command
already reports in one line (and a remembered profile so named reads as missing).
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Union


def user_path(path: Union[str, os.PathLike]) -> Path:
    """``Path(path).expanduser()``; a ``~name`` naming no user is ``FileNotFoundError``.

    Examples
    --------
    >>> user_path("~/calls").name
    'calls'
    >>> user_path("~nosuchuser.json")
    Traceback (most recent call last):
    FileNotFoundError: [Errno 2] no such user's home: a '/' missing after '~'?: '~nosuchuser.json'
    """
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise FileNotFoundError(errno.ENOENT, "no such user's home: a '/' missing after '~'?",
                                os.fspath(path)) from None


def same_file(a: Union[str, os.PathLike], b: Union[str, os.PathLike]) -> bool:
    """Whether paths ``a`` and ``b`` name one file: os.path.samefile where both exist (a
    hard link, a symlink, another spelling), else their resolved paths."""
    a, b = user_path(a), user_path(b)
    try:
        return os.path.samefile(a, b)
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):     # a symlink loop: the reader says so in its own words
        return os.path.abspath(a) == os.path.abspath(b)
