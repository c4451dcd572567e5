"""The ``voicecoach`` command: :func:`main` reads the arguments and runs one of
:data:`COMMANDS`, each in a module of its own, saying what went wrong in one line."""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from typing import Optional, Sequence

from voicecoach.cli.calls import cmd_analyze, cmd_config, cmd_history, cmd_report, cmd_review
from voicecoach.cli.common import _PENDING, _SHOWN, UserError, _error, _keep_warning, flush_warnings
from voicecoach.cli.live import cmd_devices, cmd_live
from voicecoach.cli.parser import build_parser
from voicecoach.cli.profile import cmd_calibrate, cmd_warmth
from voicecoach.cli.team import cmd_share, cmd_team

COMMANDS = {"analyze": cmd_analyze, "live": cmd_live, "devices": cmd_devices, "review": cmd_review,
            "report": cmd_report, "history": cmd_history, "calibrate": cmd_calibrate,
            "warmth": cmd_warmth, "config": cmd_config, "share": cmd_share, "team": cmd_team}


_FILTERED = ("live", "calibrate", "devices", "share", "team")
"""Commands that may open audio devices or reach the team store: PortAudio's, alsa-lib's
and libpq's own lines are filtered from their stderr (:mod:`voicecoach.sources.library_noise`)."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:       # Ctrl-C while the program is still loading
        print("voicecoach: stopped", file=sys.stderr)
        return 130


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:                     # said with the command's own usage, not the program's
        command = parser.commands.get(args.command) if args.command else None
        (command or parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return 2
    from voicecoach.analyzers.sentence_model import CueModelWarning
    from voicecoach.config import ConfigError
    from voicecoach.sources.audio import AudioError, AudioWarning
    from voicecoach.sources.devices import DeviceError
    from voicecoach.sources.library_noise import filter_library_noise
    from voicecoach.store.record import RecordError
    from voicecoach.store.team import TeamError
    from voicecoach.stt.whisper import ModelError

    filtered = args.command in _FILTERED
    with warnings.catch_warnings(), filter_library_noise() if filtered else contextlib.nullcontext():
        warnings.simplefilter("ignore")                 # libraries' chatter is not for the user
        warnings.simplefilter("always", AudioWarning)   # ours are: one line each
        warnings.simplefilter("always", CueModelWarning)
        warnings.showwarning = _keep_warning
        _PENDING.clear()
        _SHOWN.clear()
        try:
            code = COMMANDS[args.command](args)
            flush_warnings()
            return code
        except (UserError, AudioError, ConfigError, ModelError, RecordError, DeviceError,
                TeamError) as exc:
            return _error(str(exc))
        except KeyboardInterrupt:
            print("voicecoach: stopped", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0
        except OSError as exc:        # a permission, a full disk, a read-only folder: the user's to fix
            where = f"{exc.filename}: " if exc.filename else ""
            return _error(f"{where}{exc.strerror or exc}")
        except MemoryError:
            return _error("not enough memory for this input")
        except Exception as exc:      # a bug: one line, and the traceback only when asked for
            if os.environ.get("VOICECOACH_DEBUG"):
                raise
            print(f"voicecoach: internal error: {exc.__class__.__name__}: {' '.join(str(exc).split())[:200]} "
                  "(please report it; VOICECOACH_DEBUG=1 shows where)", file=sys.stderr)
            return 70
