"""The audio libraries' own lines on stderr, kept off the user's terminal.

C libraries write to file descriptor 2 directly, past Python's ``sys.stderr``: the
decoders (libsndfile, libmpg123, FFmpeg) about a damaged file, PortAudio's ALSA host
API about every failed call when a device goes away mid-call, e.g.::

    Expression 'alsa_snd_pcm_poll_descriptors_revents( ... )' failed in 'src/hostapi/alsa/pa_linux_alsa.c', line: 3665

and alsa-lib when it cannot reach PulseAudio; libpq about a ``~/.pgpass`` that others
may read. The user is told what happened in one line of ours (``lost audio input ...``),
so these add only noise. This module is the one owner of fd 2 for that:

- :func:`filter_library_noise`, around the commands that open audio devices or reach the
  team store (``voicecoach.cli``): fd 2 becomes a pipe whose lines a thread passes on to the
  terminal, except the lines that match :data:`NOISE`. Python's own ``sys.stderr``
  (and a faulthandler dump) keeps writing to the terminal directly, so our messages
  and a Python crash's last words never wait on it; a C library's last line before
  it aborts the process may be lost, which is why only those commands are filtered.
- :func:`quiet_decoders`, around decoding a file: fd 2 goes to ``/dev/null`` for that
  short time (a decoder's lines do not follow one pattern). Calls on several threads
  nest: fd 2 is restored when the last one ends.
"""
from __future__ import annotations

import faulthandler
import io
import os
import re
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import numpy as np

NOISE = re.compile(rb"^(Expression '.*' failed in '.*', line: \d+"    # PortAudio's ALSA host API
                   rb"|ALSA lib \S+:\d+:\(\w+\) .*"                    # alsa-lib
                   rb"|Cannot connect to server (socket|request channel).*"   # libjack, when
                   rb"|jack server is not running or cannot be started"      # PortAudio looks
                   rb"|JackShmReadWritePtr::~JackShmReadWritePtr - Init not done for -?\d+, skipping unlock"
                   rb'|WARNING: password file ".*" has group or world access; '     # libpq, which then
                   rb"permissions should be u=rw \(0600\) or less)$")             # skips it: said in our line
"""A line on fd 2 that is dropped (without its newline)."""

_FORWARD_WAIT_S = 1.0   # at the end, the wait for the lines still in the pipe (s): a child
                        # process that outlives the command holds the pipe open

_fd2_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


@contextmanager
def filter_library_noise() -> Iterator[None]:
    """Drop the lines on file descriptor 2 that match :data:`NOISE`; pass on the rest.

    Nothing is filtered when fd 2 cannot be duplicated (an embedded interpreter) or
    ``VOICECOACH_DEBUG`` is set (the lines may tell a developer something)."""
    if os.environ.get("VOICECOACH_DEBUG"):
        yield
        return
    global _quiet_saved
    if sys.stderr is not None:
        sys.stderr.flush()
    with _fd2_lock:
        try:
            terminal = os.dup(2)
            read_end, write_end = os.pipe()
        except OSError:                  # no fd 2 (embedded), no file descriptors left
            terminal = None
        if terminal is not None:
            os.dup2(write_end, 2)
            os.close(write_end)
    if terminal is None:
        yield
        return
    forwarder = threading.Thread(target=_forward, args=(read_end, terminal), name="stderr-filter", daemon=True)
    forwarder.start()
    swapped = sys.stderr is sys.__stderr__ and sys.stderr is not None
    if swapped:             # Python's own lines go straight to the terminal, in order with stdout
        own = sys.stderr
        sys.stderr = io.TextIOWrapper(io.FileIO(os.dup(terminal), "w"), encoding=own.encoding,
                                      errors="backslashreplace", line_buffering=True)
        if faulthandler.is_enabled():    # a crash's dump must not die in the pipe
            faulthandler.enable(sys.stderr)
    try:
        yield
    finally:
        if swapped:
            if faulthandler.is_enabled():
                faulthandler.enable(own)
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = own
        with _fd2_lock:
            if _quiet_depth > 0 and _quiet_saved is not None:   # a decoder on another thread:
                os.close(_quiet_saved)                          # it gives fd 2 back to the terminal
                _quiet_saved = os.dup(terminal)
            else:
                os.dup2(terminal, 2)     # the pipe's last writer closes: the thread reads to its end
        forwarder.join(_FORWARD_WAIT_S)
        if not forwarder.is_alive():
            os.close(terminal)


def _forward(read_end: int, terminal: int) -> None:
    """Pass the pipe's lines on to ``terminal``, but not the noise (filter thread)."""
    pending = b""
    with io.FileIO(read_end, "r") as pipe:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            _write(terminal, b"".join(line + b"\n" for line in lines if not NOISE.match(line)))
    if pending and not NOISE.match(pending):
        _write(terminal, pending)


def _write(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data):]
        except OSError:          # the terminal went away: nothing more can be shown
            return


@contextmanager
def quiet_decoders() -> Iterator[None]:
    """Keep the decoder libraries' own messages (libsndfile, libmpg123, FFmpeg, numpy
    warnings) off stderr while decoding: they reach the user as one line or not at all.
    Redirects file descriptor 2 (C libraries write there), so only for the short time
    a file is opened and decoded."""
    global _quiet_depth, _quiet_saved
    if sys.stderr is not None:
        sys.stderr.flush()
    with _fd2_lock:
        if _quiet_depth == 0:
            try:
                saved = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
                _quiet_saved = saved
            except OSError:      # no fd 2 (embedded): nothing to keep quiet
                _quiet_saved = None
        _quiet_depth += 1
    try:
        with np.errstate(all="ignore"):          # per thread, unlike warnings.catch_warnings
            yield
    finally:
        with _fd2_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, 2)
                os.close(_quiet_saved)
                _quiet_saved = None
