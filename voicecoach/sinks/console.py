"""Where live events go besides the overlay: the terminal and a JSON-lines file."""
from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import traceback
from pathlib import Path
from typing import IO, Callable, Optional

from voicecoach.events import Event, LineSplitter, Word, line_text
from voicecoach.paths import user_path
from voicecoach.sinks.view import TURN_NAMES, clock, cue_line, not_a_call

SHOWN = {"nudge", "interruption", "backchannel", "near_miss", "dead_air", "cue"}

_TERMINAL = threading.Lock()


def say(text: str, out: IO[str]) -> None:
    """Print ``text`` as whole lines: the live view and the call printer write from two
    dispatcher threads, and a line of one must not run into a line of the other."""
    with _TERMINAL:
        out.write(text + "\n")
        out.flush()


class ConsoleView:
    """A headless view: nudges and notable events as they happen, a status line each
    ``status_s`` of call time, the caption lines when ``captions`` is on.

    A caption line ends as every transcript line does (:class:`~voicecoach.events.LineSplitter`):
    after a sentence's last word, or at a pause of ``sentence_gap_s`` (shown when the next
    word arrives). ``sentence_gap_s`` is ``language.sentence_gap_s``; None for its default.
    """

    def __init__(self, out: IO[str] = sys.stdout, status_s: float = 5.0, captions: bool = True,
                 sentence_gap_s: Optional[float] = None):
        if sentence_gap_s is None:
            from voicecoach.analyzers.language import LanguageOptions

            sentence_gap_s = LanguageOptions().sentence_gap_s
        self.out = out
        self.status_s = status_s
        self.captions = captions
        self.sentence_gap_s = sentence_gap_s
        self._next_status = 0.0
        self._lines: dict[str, LineSplitter] = {}

    def __call__(self, kind: str, payload) -> None:
        if kind == "event":
            self._event(payload)
        elif kind == "snapshot":
            self._snapshot(payload)
        elif kind == "status":           # something the agent should know: a lost device, a full disk
            self._print(f"         ! {payload}", 11)
        elif kind == "shift" and "hold" in payload:
            self._print("         On hold: the call goes on" if payload["hold"] else "         Back from the hold")
        elif kind == "shift" and "paused" in payload:
            self._print("         Coaching paused" if payload["paused"] else "         Coaching resumed: waiting for a call")
        elif kind == "call" and payload.get("state") == "started":
            self._next_status, self._lines = 0.0, {}       # a new call: its own clock and lines

    def _print(self, text: str, indent: int = 8) -> None:
        """One line; in a terminal narrower than it, wrapped at its words with the rest
        ``indent`` columns in (under its text, clear of the time column): left to the
        terminal, it broke mid-word at the first column."""
        width = _columns(self.out)
        if width is not None and len(text) > width > indent + 20:
            text = "\n".join(textwrap.wrap(text, width, subsequent_indent=" " * indent,
                                            break_on_hyphens=False))
        say(text, self.out)

    def _event(self, e: Event) -> None:
        # how long after the deciding audio it came: a delay, not a duration
        lat = f"  (+{e.latency * 1000:.0f} ms)" if e.latency is not None else ""
        if e.kind == "word" and self.captions:
            split = self._lines.setdefault(e.channel, LineSplitter(self.sentence_gap_s))
            who = "you   " if e.channel == "agent" else "caller"
            for line in split.feed(Word(e.channel, e.t, e.data.get("end", e.t), e.text)):
                self._print(f"[{clock(line[0].start):>5}] {who}: {line_text(line)}", 16)   # as the review times it
            return
        if e.kind not in SHOWN:
            return
        if e.kind == "nudge":
            self._print(f"[{clock(e.t):>5}] >>> {e.text.upper()}{lat}", 12)
        elif e.kind == "cue":          # as the review and the report word it
            cue = {"kind": e.data.get("cue", "cue"), "text": e.text, "suggestion": e.data.get("suggestion")}
            self._print(f"[{clock(e.t):>5}]     {cue_line(cue)}", 12)
        else:                          # the text says who
            self._print(f"[{clock(e.t):>5}]     {TURN_NAMES[e.kind]}: {e.text}{lat}", 12)

    def _snapshot(self, s: dict) -> None:
        if s["t"] < self._next_status:
            return
        self._next_status = s["t"] + self.status_s
        w = s["warmth"].get("warmth")
        pace = s["pace"]
        parts = [f"warmth {w:.2f}" if w is not None else "warmth --"]
        if pace.get("recent_wpm") is not None:
            parts.append(f"pace {pace['recent_wpm']:.0f} wpm ({pace.get('zone')})")
        elif pace.get("recent_syl_s") is not None:
            parts.append(f"pace {pace['recent_syl_s']:.1f} syl/s ({pace.get('zone')})")
        turns = s.get("turns")
        if turns:
            share = turns["talk_share_agent"]
            parts.append(f"you talk {share * 100:.0f} %" if share is not None else "you talk --")
            parts.append(f"interruptions you {turns['interruptions']['agent']} / "
                         f"caller {turns['interruptions']['customer']}")
        else:
            parts.append("mic only: warmth and pace")
        if s.get("stt_lag_s") is not None and s["stt_lag_s"] > 3:
            parts.append(f"captions {s['stt_lag_s']:.0f} s behind")
        self._print(f"[{clock(s['t']):>5}] " + " | ".join(parts))


class JsonlWriter:
    """Every event and status line as one JSON line (flushed at once, so a crash loses
    nothing). In a shift, each call's start, end and save are lines too (``{"kind":
    "call", "t": shift time, "data": {"state", "index", ...}}``, states "started",
    "ending", then "ended" or "dropped"): the events between a call's "started" and
    "ending" are that call's, on its own clock. A status line (what the agent was told: a
    lost device, a full disk) is ``{"kind": "status", "text": ...}``.

    An existing log is added to, never overwritten (yesterday's shift stays): each run
    starts with ``{"kind": "session", "t": 0.0, "data": {"started": local ISO time}}``.

    A write error (a full disk) stops the log with one warning on stderr; the file is
    cut back to its last whole line, and coaching goes on. A log whose file is deleted
    mid-shift (its folder removed) is made again at its path, with one warning."""

    label = "the events file (--events)"     # what a message about it calls it

    def __init__(self, path: str):
        import datetime as _dt

        from voicecoach.store.private import private_folder, writable_file

        self.path = user_path(path)
        writable_file(self.path)              # a FIFO or a device is refused, never made 0600
        private_folder(self.path.parent)                                # made 0700 if missing
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)   # holds the call
        os.fchmod(fd, 0o600)
        self._whole = os.fstat(fd).st_size   # bytes up to the end of the last line written whole
        self.file: Optional[IO[str]] = os.fdopen(fd, "a", encoding="utf-8")
        self.failed: Optional[str] = None
        if self._whole and not _ends_a_line(self.path):
            self._write("\n")                  # a line a killed run left half written stays apart
        started = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        self._write(json.dumps({"kind": "session", "t": 0.0, "data": {"started": started}}) + "\n")

    def __call__(self, kind: str, payload) -> None:
        if self.file is None:
            return
        if kind == "event":
            line = payload.as_dict()
        elif kind == "call":
            data = {k: v for k, v in payload.items() if k not in ("record", "when")}
            line = {"kind": "call", "t": data.get("end_t", data.get("t")), "data": data}
        elif kind == "status":          # what the agent was told (a lost device, a full disk)
            line = {"kind": "status", "t": None, "channel": None, "text": str(payload), "data": {},
                    "latency": None}
        else:
            return
        self._write(json.dumps(line) + "\n")

    def _write(self, text: str) -> None:
        if self.file is None:
            return
        try:
            if os.fstat(self.file.fileno()).st_nlink == 0 and not self._still_there():
                self._open_again()
            self.file.write(text)
            self.file.flush()
        except OSError as exc:
            self._fail(exc)
            return
        self._whole += len(text.encode("utf-8"))

    def _still_there(self) -> bool:
        """Whether the log's path still names the file written (a filesystem that counts no
        links is not taken for a deleted log)."""
        try:
            here, mine = os.stat(self.path), os.fstat(self.file.fileno())
        except OSError:
            return False
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    def _open_again(self) -> None:
        """The log's file was deleted while it was written (its folder removed by a clean-up
        script, a sync client): what is written on would go with it, unseen. It is made again
        at its path (0600, its folder 0700), said once. Raises OSError."""
        from voicecoach.store.private import private_folder

        try:
            self.file.close()
        except OSError:
            pass
        self.file = None
        private_folder(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self._whole = os.fstat(fd).st_size
        self.file = os.fdopen(fd, "a", encoding="utf-8")
        print(f"voicecoach: warning: the event log {self.path} was deleted (its folder removed?) during "
              "the shift; it is written again from here", file=sys.stderr, flush=True)

    def _fail(self, exc: OSError) -> None:
        self.failed = f"event log stopped: {exc.strerror or exc} ({self.path})"
        print(f"voicecoach: warning: {self.failed}; coaching continues", file=sys.stderr, flush=True)
        self._stop()

    def _stop(self) -> None:
        """Drop the file after a write error, cut back to its last whole line."""
        try:
            if self.file is not None:
                self.file.close()                  # what is buffered may not be written either
        except OSError:
            pass
        self.file = None
        try:
            os.truncate(self.path, self._whole)    # no half line
        except OSError:
            pass

    def close(self) -> str:
        """Close the file; "" or why its end could not be written (never raises; the
        file then ends at its last whole line)."""
        if self.file is None:
            return ""
        try:
            self.file.close()
        except OSError as exc:
            self._stop()
            return f"the event log {self.path} may be incomplete ({exc.strerror or exc})"
        self.file = None
        return ""


def _ends_a_line(path: Path) -> bool:
    """Whether the file's last byte is a newline."""
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"
    except OSError:
        return True


def in_order(*subscribers: Callable[[str, object], None],
             on_gone: Optional[Callable[[], None]] = None) -> Callable[[str, object], None]:
    """Subscribers that write to one terminal, as one subscriber: each given everything
    in turn. Subscribed apart, each has a dispatcher thread of its own and their lines
    interleave at random (a call's first status line before the call's header). One that
    raises is told on stderr and dropped; the others go on, as they would apart.
    ``on_gone`` is called (once) when the terminal's reader is gone (``| head``, a pager
    quit): the shift then ends, as a program whose output is cut off does, rather than
    coaching on unseen until Ctrl-C."""
    alive = list(subscribers)
    gone: list = []

    def each(kind: str, payload) -> None:
        for fn in list(alive):
            try:
                fn(kind, payload)
            except Exception as exc:
                alive.remove(fn)
                tell_failed(fn, exc)
                if isinstance(exc, BrokenPipeError) and on_gone is not None and not gone:
                    gone.append(exc)
                    on_gone()
    each.label = "the terminal view"     # what a message about it calls it (not in_order.<locals>.each)
    each.waited_for = True               # its lines are the program's own: paused with Ctrl-S, the
    return each                          # program's last lines wait too, and come after it, in order


def tell_failed(fn: Callable, exc: BaseException) -> None:
    """Say on stderr, with its traceback, that the live subscriber ``fn`` failed and
    gets nothing more (the others go on). A terminal whose reader is gone (``live --console
    | head``, a pager quit) is no failure to tell: it printed two tracebacks."""
    if isinstance(exc, BrokenPipeError):
        return
    print(f"voicecoach: a live subscriber ({fn!r}) failed and gets nothing more:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)


def _columns(out: IO[str]) -> Optional[int]:
    """The width of the terminal ``out`` is, or None (a pipe, a file: lines stay whole)."""
    try:
        if not out.isatty():
            return None
        return os.get_terminal_size(out.fileno()).columns or None
    except (AttributeError, OSError, ValueError):
        return None


class CallPrinter:
    """Shift mode in the terminal: a line when each call starts, and its summary (with
    where its record went) when it ends. ``ending`` says whether the shift is ending (a
    call that ended by itself may be saved after Ctrl-C: no "waiting" line then)."""

    def __init__(self, out: IO[str] = sys.stdout, ending: Callable[[], bool] = lambda: False):
        self.out = out
        self.ending = ending
        self.latest = 0           # the last call started: a summary can come after it began
        self.open = 0             # the call going on now, 0 for none

    def __call__(self, kind: str, payload) -> None:
        if kind != "call":
            return
        from voicecoach.sinks.summary import summary_text

        state = payload.get("state")
        if state == "ending" and payload.get("index") == self.open:
            self.open = 0
            return
        if state == "started":
            self.latest = self.open = payload["index"]
            going_on = {"device back": "; the call going on now the input is back",
                        "resumed": f"; call {payload['index'] - 1} going on, coached again"}
            text = (f"\n── call {payload['index']} started ({clock(payload.get('shift_s', payload['t']))} "
                    f"into the shift{going_on.get(payload.get('reason'), '')}) ──")
        elif state == "ended":
            text = "\n" + summary_text(payload["record"], width=_columns(self.out))
            if payload.get("record_path"):
                text += f"\n\nCall record: {payload['record_path']}"
            if payload.get("note"):
                text += f"\nvoicecoach: note: {payload['note']}"
            if (payload["index"] == self.latest and not self.ending()
                    and payload.get("ended_by") not in ("shift end", "device lost")):
                text += "\n\nWaiting for the next call… (Ctrl-C ends the shift)"
            if self.open and self.open != payload["index"]:   # saved while the next call goes on
                text += f"\n\n── call {self.open} goes on ──"
        elif state == "saved":
            text = f"\nCall {payload['index']}'s record is saved after all: {payload['record_path']}"
        elif state == "dropped":
            text = (f"\n── {clock(payload['end_t'] - payload['t'])} of sound at {clock(payload['t'])} "
                    f"was not a call ({not_a_call(payload)}); not kept ──")
        else:
            return
        say(text, self.out)
