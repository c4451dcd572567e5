"""What every command shares: the user's errors in one line, warnings shown once each,
the config and voice profile the options name, and outputs checked before any work."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

from voicecoach.paths import same_file, user_path


class UserError(Exception):
    """Anything a user can fix; printed as one line, never a traceback."""


def _is_demo(name) -> bool:
    """Whether a recording named on the command line is the packaged demo call: the word
    ``demo`` or the demo's file itself (by any path): its calls are never the agent's."""
    from voicecoach.analyze import demo_call_path

    return name is not None and (str(name) == "demo" or same_file(name, demo_call_path()))


def _check_output(option: str, output, inputs, recordings: bool = True,
                  records: Optional[tuple[str, str]] = None, profiles: bool = False) -> None:
    """Refuse, before any work, an output that cannot be written (a folder, a folder
    without write permission, a read-only disk: found after minutes of analysis, it
    wasted them) or that is one of the command's own inputs: writing it would destroy
    the recording or the record being read (``report call.json -o call.json`` right after
    ``analyze … -o call.json``). ``inputs``: (path or None, what it is) pairs, e.g.
    ``(args.call, "the recording")``. A recording it does not read is refused too: none of
    these outputs is audio, and an option's value mistaken for an input (``calibrate -o
    me1.wav me2.wav``) overwrote the agent's recording (``recordings=False``: not yet, a
    later call names the recordings read). A folder that is not there yet is made later.

    ``records``: (what writing the output does to a file, a name to give instead), e.g.
    ``("writing the voice profile over it", "me.json")``, for an output that is not a
    call record: a call record is refused too (``calibrate call.wav -o call.json``, the
    name ``analyze`` gives that call's record, destroyed the record the history lists),
    and with ``profiles`` a voice profile (``live --events call.json`` added its lines to
    the record, or to a profile, which no longer opened)."""
    if output is None:
        return
    out = Path(output)
    if out.is_dir():
        raise UserError(f"{option} {output} is a folder: name a file in it")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UserError(f"cannot write {output}: {folder} is a file, not a folder")
    if (out.exists() and not os.access(out, os.W_OK)) or not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {output}: Permission denied (or a read-only disk): "
                        "name a file in a folder you can write to")
    for path, what in inputs:
        if path is not None and str(path) != "" and same_file(output, path):
            raise UserError(f"{option} {output} is {what} this command reads, and writing it would "
                            "destroy it: name another file")
    from voicecoach.sources.audio import AUDIO_SUFFIXES

    if recordings and out.is_file() and out.resolve().suffix.lower() in AUDIO_SUFFIXES:  # a link's too
        raise UserError(f"{option} {output} is a recording, and writing it would destroy it: "
                        "name another file")
    if records is None:
        return
    from voicecoach.analyzers.profile import PROFILE_KIND
    from voicecoach.store.record import MAX_RECORD_BYTES

    path = user_path(output)
    try:
        if not path.is_file() or path.stat().st_size > MAX_RECORD_BYTES:
            return
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return                          # not a record: a file the user may replace
    if isinstance(data, dict) and ("schema" in data or profiles and data.get("kind") == PROFILE_KIND):
        what = "a call record" if "schema" in data else "a voice profile"
        writing, example = records
        raise UserError(f"{option} {output} is {what}, and {writing} would destroy it: "
                        f"name another file, e.g. {example}")


def _settings_read(args, config, profile: bool = True) -> list:
    """The settings files a command reads, as :func:`_check_output` takes them: the config
    file, and with ``profile`` the voice profile (``--profile``, else the one remembered)."""
    from voicecoach.config import default_config_path

    read = [(args.config or default_config_path(), "the config file")]
    if profile:
        read.append((getattr(args, "profile", None) or config.warmth.profile or None, "the voice profile"))
    return read


def _call_given(args):
    """The call :func:`_add_call_inputs`' arguments name, checked before any work: CALL as
    given, ``(agent,)`` or ``(agent, customer)`` files, or None when none is named."""
    from voicecoach.sources.audio import check_call_args

    check_call_args(args.call, args.agent, args.customer, args.agent_channel or "left")
    if args.agent_channel and args.call is None and args.agent is not None:
        raise UserError("--agent-channel chooses the agent's side of one stereo CALL; with --agent "
                        "and --customer each side is a file of its own")
    if args.agent_channel and args.call is not None and _is_demo(args.call):
        raise UserError("--agent-channel is for your own recordings; the demo call has the agent on the left")
    if args.agent_channel and args.call is not None and Path(args.call).suffix.lower() == ".json":
        raise UserError(f"--agent-channel says how to analyse a recording; {args.call} is a call record, "
                        "analysed already: name its recording")
    if args.call is not None or args.agent is None:
        return args.call
    return (args.agent, args.customer) if args.customer else (args.agent,)


def _load_config(args):
    from voicecoach.config import load_config

    config = load_config(args.config)
    if getattr(args, "model", None):
        config.transcribe.model = args.model
    if config.language.lexicon_dirs:          # a missing folder or a bad file: now, in one line
        from voicecoach.analyzers.lexicon import load_lexicon
        from voicecoach.config import default_config_path

        try:
            load_lexicon(config.language.lexicon_dirs, config.language.replace_lexicons)
        except (OSError, ValueError, TypeError) as exc:
            where = user_path(args.config) if args.config else default_config_path()
            raise UserError(f"{where}: [language] lexicon_dirs: {exc}") from None
    return config


def _profile_for(args, config):
    """The voice profile warmth is judged against, for every command that judges it:
    ``--profile`` (where the command has it), else the one remembered in the config."""
    if getattr(args, "profile", None):
        return _load_baseline(args.profile)
    if not config.warmth.profile:
        return None
    try:
        return _load_baseline(config.warmth.profile)
    except UserError as exc:
        raise UserError(f"{exc} (your remembered profile, [warmth] profile in the config: "
                        "run `voicecoach calibrate` again or remove that line)") from None


def _profile_or_none(args, config):
    """:func:`_profile_for` for commands whose job is showing calls (``review``,
    ``history``): a remembered profile that is gone is a warning, and warmth of a
    recording analysed then is judged against the call's own start."""
    try:
        return _profile_for(args, config)
    except UserError as exc:
        print(f"voicecoach: warning: {exc}; warmth of a recording analysed now is judged without it",
              file=sys.stderr)
        return None


def _load_baseline(path: Optional[str]):
    if path is None:
        return None
    import hashlib

    from voicecoach.analyzers.profile import PROFILE_KIND
    from voicecoach.analyzers.voice import Baseline
    from voicecoach.sources.audio import AUDIO_SUFFIXES

    try:
        p = user_path(path)
        if p.exists() and (not p.is_file() or p.stat().st_size > 1 << 20):
            what = ("a recording" if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
                    else "a folder, a device or too large")
            raise UserError(f"{path}: not a voice profile ({what}; `voicecoach calibrate` makes one)")
        raw = p.read_bytes()
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        if isinstance(data, dict) and data.get("kind", PROFILE_KIND) != PROFILE_KIND:
            raise ValueError(f"it is a {str(data.get('kind'))[:40]!r}")
        baseline = Baseline.from_dict(data)
        baseline.source = "profile"          # whatever the file says: it is judged as a profile
        baseline.profile_id = hashlib.sha1(raw).hexdigest()[:12]   # trends compare like with like
    except FileNotFoundError as exc:
        why = f" ({exc.strerror})" if exc.filename == str(path) and str(path).startswith("~") else ""
        raise UserError(f"{path}: no such voice profile{why}") from None
    except RecursionError:
        raise UserError(f"{path}: not a voice profile (nested too deep)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the voice profile ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        what = "a recording" if p.suffix.lower() in AUDIO_SUFFIXES else "not a file `calibrate` wrote"
        raise UserError(f"{path}: not a voice profile ({what}; `voicecoach calibrate` makes one)") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: not a voice profile ({' '.join(str(exc).split())[:100] or 'a field is wrong'}; "
                        "`voicecoach calibrate` makes one)") from None
    return baseline


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


def _note(note: str) -> None:
    """A problem that does not fail the command (e.g. the history not updated), on stderr."""
    if note:
        print(f"voicecoach: note: {note}", file=sys.stderr)


_PENDING: list[str] = []
"""Warnings (a file looks truncated) not yet shown: a command that then fails says all in
its one error line."""


def _error(message: str) -> int:
    """One line on stderr (a message is never more), exit status 2; a pending warning
    is added to it."""
    also = "".join(f" (also: {w})" for w in _PENDING)
    _PENDING.clear()
    print(f"voicecoach: error: {' '.join((message + also).split())}", file=sys.stderr)
    return 2


_SHOWN: set[str] = set()
"""Warnings this command has shown: a file read twice (analysed, then drawn) warns once."""


def _keep_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = " ".join(str(message).split())
    if text not in _PENDING and text not in _SHOWN:
        _PENDING.append(text)


def _said(given) -> None:
    """The warnings a printed line already gave (:attr:`OpenedCall.warnings
    <voicecoach.store.calls.OpenedCall>`) are not given again."""
    given = {" ".join(str(w).split()) for w in given}       # as _keep_warning keeps them
    _SHOWN.update(given)
    _PENDING[:] = [w for w in _PENDING if w not in given]


def flush_warnings() -> None:
    """Show the pending warnings, one line each (once the input is known to be usable)."""
    for w in _PENDING:
        print(f"voicecoach: warning: {w}", file=sys.stderr)
    _SHOWN.update(_PENDING)
    _PENDING.clear()
