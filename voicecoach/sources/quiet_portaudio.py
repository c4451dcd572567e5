"""Keep PortAudio's own complaints off the terminal while capturing.

When a headset is unplugged or the sound server goes away, Debian's PortAudio prints its
internal failed checks straight to the process's standard error, under the program's
own one-line message::

    Expression 'alsa_snd_pcm_poll_descriptors_revents( ... )' failed in
    'src/hostapi/alsa/pa_linux_alsa.c', line: 3665

The library offers no switch for them (its print function is not exported), so while
:func:`portaudio_lines_dropped` is active, file descriptor 2 is a pipe read by a thread
that drops those lines and passes every other one on. Python's ``sys.stderr`` writes to
the terminal directly, so the program's own messages never wait on that thread; a C
library writing faster than the thread reads loses its lines, never blocks.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from typing import Iterator

PORTAUDIO_LINE = re.compile(rb"^(Expression '.*' failed in 'src/.*', line: \d+|PaAlsaStream\w*: .*)$")
"""A line PortAudio prints for a check that failed inside it (one per stack level)."""


@contextlib.contextmanager
def portaudio_lines_dropped() -> Iterator[None]:
    """While active, C code's lines on standard error matching :data:`PORTAUDIO_LINE`
    are dropped; other lines pass through unchanged. Does nothing where fd 2 cannot be
    duplicated (no standard error at all)."""
    try:
        terminal = os.dup(2)
        read_end, write_end = os.pipe()
    except OSError:
        yield
        return
    os.set_blocking(write_end, False)
    sys.stderr.flush()
    saved_stderr = sys.stderr
    sys.stderr = open(terminal, "w", buffering=1, encoding=saved_stderr.encoding or "utf-8",
                      errors="backslashreplace", closefd=False)
    os.dup2(write_end, 2)
    os.close(write_end)
    relay = threading.Thread(target=_relay, args=(read_end, terminal), name="stderr-filter", daemon=True)
    relay.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(terminal, 2)       # the pipe's last write end closes: the relay reads its end
        relay.join(timeout=1.0)
        sys.stderr = saved_stderr
        if not relay.is_alive():
            os.close(terminal)


def _relay(read_end: int, terminal: int) -> None:
    pending = b""
    try:
        while chunk := os.read(read_end, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not PORTAUDIO_LINE.match(line))
            if kept:
                os.write(terminal, kept)
        if pending and not PORTAUDIO_LINE.match(pending):
            os.write(terminal, pending)
    except OSError:
        pass
    finally:
        os.close(read_end)
