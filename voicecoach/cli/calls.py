"""The commands on recorded calls: ``analyze``, ``review``, ``report``, ``history``, ``config``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from voicecoach.cli.common import (
    UserError,
    _call_given,
    _check_output,
    _is_demo,
    _load_config,
    _note,
    _profile_for,
    _profile_or_none,
    _said,
    _settings_read,
)
from voicecoach.paths import user_path


def cmd_analyze(args) -> int:
    from voicecoach.analyze import analyze_stream, demo_call_path
    from voicecoach.sinks.summary import summary_text
    from voicecoach.sources.stream import open_call_stream
    from voicecoach.store.calls import save_call
    from voicecoach.store.record import date_by_recording
    from voicecoach.stt.whisper import tune_malloc

    tune_malloc(keep_large_blocks=True)
    if args.call == "demo":                  # as `review demo`, `report demo`, `live --replay demo`
        args.demo, args.call = True, None
    if args.demo and (args.call or args.agent or args.customer or args.agent_channel):
        raise UserError("--demo analyses the demo call; give no other recording or --agent-channel with it")
    _call_given(args)
    config = _load_config(args)
    _check_output("-o", args.output, [(args.call, "the recording"), (args.agent, "the agent's recording"),
                                      (args.customer, "the customer's recording"),
                                      (demo_call_path() if args.demo else None, "the demo call"),
                                      *_settings_read(args, config)])
    baseline = _profile_for(args, config)
    if args.demo:
        call = open_call_stream(demo_call_path())
    else:
        call = open_call_stream(args.call, agent=args.agent, customer=args.customer,
                                agent_channel=args.agent_channel or "left")
        if args.agent_channel and list(call.channels) == ["agent"]:
            _note(f"--agent-channel {args.agent_channel} does nothing here: {call.name} has one channel, "
                  "taken as yours")
    record = _with_progress(lambda progress: analyze_stream(
        call, config, transcribe=not args.no_transcript, baseline=baseline, progress=progress),
        quiet=args.quiet, channels=list(call.channels))
    if args.demo or (args.call and _is_demo(args.call)):   # not the agent's call: out of their history
        record["demo"] = True
    else:
        date_by_recording(record, args.call or args.agent)
    if args.call and args.agent_channel == "right":
        record["source"]["agent_channel"] = "right"       # so the review plays each side as analysed
    if args.output:
        recordings = (args.call,) if args.call else tuple(p for p in (args.agent, args.customer) if p)
        try:
            note = save_call(record, args.output, recordings=recordings)
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        _note(note)
    if args.json and not args.output:          # the record itself is the output
        json.dump(record, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if not args.json:
        print(summary_text(record))
    if args.output:                            # with --json too: where the record went
        print(("" if args.json else "\n") + f"Call record written to {args.output}")
    return 0


def _with_progress(work, quiet: bool, channels: list[str]):
    """Run ``work(progress)`` under a progress bar on stderr (when it is a terminal)."""
    if quiet or not sys.stderr.isatty():
        return work(None)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description:<22}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        tasks = {"audio": bar.add_task("listening", total=1.0)}
        for ch in channels:
            tasks[ch] = bar.add_task(f"transcribing {ch}", total=1.0)

        def progress(stage, done, total):
            bar.update(tasks[stage], completed=done, total=total or 1.0)

        return work(progress)


def cmd_config(args) -> int:
    from voicecoach.config import default_config_path, to_toml

    config = _load_config(args)
    path = user_path(args.config) if args.config else default_config_path()
    state = "in use" if path.exists() else "not present: defaults apply"
    print(f"# config file: {path} ({state})")
    from voicecoach.store.team import may_hold_password

    shown = config
    if may_hold_password(config.team.database):
        import copy  # a password in [team] database (share and team refuse it)
        shown = copy.deepcopy(config)
        shown.team.database = "(hidden: it holds a password; put that in PGPASSWORD or ~/.pgpass)"
    print(to_toml(shown, notes=True))
    try:                                # where an agent looks when warmth reads oddly
        _profile_for(argparse.Namespace(), config)
    except UserError as exc:
        _note(str(exc))
    return 0


def _call_to_open(args):
    """The call ``review`` and ``report`` open (:func:`_call_given`), its files checked to be there."""
    call = _call_given(args)
    if call is None:
        raise UserError("no call given: name a recording, a call record (.json) or 'demo', "
                        "or --agent FILE [--customer FILE]")
    for f in ((call,) if isinstance(call, str) else call):
        if f != "demo" and not Path(f).exists():
            raise UserError(f"{f}: no such file")
    return call


def _call_read(call) -> list:
    """The files opening ``call`` (:func:`_call_to_open`) reads (``review``, ``report``), as
    :func:`_check_output` takes them: the record, or the recording and where its record is
    looked for (and a new one saved)."""
    from voicecoach.analyze import demo_call_path
    from voicecoach.store.calls import record_places

    if not isinstance(call, str):
        return [*((Path(f), "a recording") for f in call),
                *((p, "the recording's call record") for p in record_places(call))]
    path = demo_call_path() if call == "demo" else Path(call)
    if path.suffix.lower() == ".json":
        return [(path, "the call record")]
    return [(path, "the recording"), *((p, "the recording's call record") for p in record_places(path))]


def cmd_review(args) -> int:
    call = _call_to_open(args)
    from voicecoach.ui.review import run_review

    config = _load_config(args)
    _check_output("--screenshot", args.screenshot, [*_call_read(call), *_settings_read(args, config)])
    baseline = _profile_or_none(args, config)
    return run_review(call, screenshot=args.screenshot, config=config, baseline=baseline,
                      agent_channel=args.agent_channel)


def cmd_report(args) -> int:
    from voicecoach.sinks.report import write_report, written_line
    from voicecoach.store.calls import recording_candidates

    call = _call_to_open(args)
    config = _load_config(args)
    path = Path(call) if isinstance(call, str) else None
    is_record = path is not None and path.suffix.lower() == ".json"
    _check_output("-o", args.output, [*_call_read(call), *_settings_read(args, config)],
                  recordings=not is_record)         # a record's own recordings are named below
    note, heard = "", ()           # the note printed, and the warnings it gives
    if is_record:
        from voicecoach.store.record import load_record

        record = load_record(path)
        _check_output("-o", args.output, [(f, "the record's recording")
                                          for files in recording_candidates(record, path) for f in files])
        audio = None
        if not args.no_audio:           # as the review opens it (the demo's part of a shift, too)
            from voicecoach.store.calls import open_call

            opened = open_call(path, config)
            record, audio, note, heard = opened.record, opened.audio, opened.note, opened.warnings
    else:                        # opened as the review opens it: its record, else analysed and saved
        from voicecoach.analyze import analyze_call
        from voicecoach.store.calls import open_call

        def analyse(audio, config, _baseline):
            baseline = _profile_for(args, config)    # only now: a call with a record keeps its warmth
            return _with_progress(lambda progress: analyze_call(audio, config, baseline=baseline,
                                                                progress=progress),
                                  quiet=False, channels=list(audio.channels()))

        opened = open_call(call, config, analyse=analyse, agent_channel=args.agent_channel)
        record, audio, note = opened.record, (None if args.no_audio else opened.audio), opened.note
        heard = opened.warnings
    notes = [note] if note else []
    if Path(args.output).suffix.lower() not in (".html", ".htm"):     # `-o call.pdf` gave no hint
        notes.append("a web page: open it in a browser, or name it .html")
    try:
        out = write_report(record, audio, args.output, notes=notes)
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(written_line(out, notes))
    _said(heard)
    return 0


def cmd_history(args) -> int:
    import sqlite3

    from voicecoach.store.history import default_db_path, show_history
    from voicecoach.store.recovery import recover_folder, remembered_folders, unrecorded_added

    config = _load_config(args)
    if args.delete or args.yes:
        return _delete_calls(args, config)
    # recordings whose process was killed mid-call get their records first
    baseline = _profile_or_none(args, config)
    for folder in args.rebuild or []:          # a mistyped folder must not empty the history
        try:
            path = user_path(folder)
            what = "not a folder" if path.exists() else "no such folder"
        except FileNotFoundError as exc:             # ~name: no such user
            path, what = None, exc.strerror
        if path is None or not path.is_dir():
            raise UserError(f"{folder}: {what} (--rebuild takes the folders that hold your call records); "
                            "the history is unchanged")
    known = []            # the folders live has recorded calls in (`--record DIR` too)
    if default_db_path().is_file():
        try:
            from voicecoach.store.history import History

            with History() as history:
                known = history.recording_folders()
        except sqlite3.Error:
            pass          # said below, where the history is read
    seen = set()
    for folder in (*(args.rebuild or []), config.live.record_dir, *map(str, known),
                   *map(str, remembered_folders())):      # `live --record DIR` notes DIR
        try:
            real = folder and os.path.realpath(user_path(folder))
        except FileNotFoundError:
            continue                                  # ~name in the config: `live` says so
        if real and real not in seen:                 # each folder once, however it is spelt
            seen.add(real)
            recover_folder(folder, config, baseline)
    for line in unrecorded_added():    # calls not recorded whose history row was not written
        print(f"voicecoach: {line}", file=sys.stderr)
    try:
        print(show_history(args.last, args.rebuild))
    except sqlite3.Error as exc:
        raise UserError(f"{default_db_path()}: the history database cannot be read ({exc}); move it "
                        "away and `voicecoach history --rebuild FOLDER` makes it again from your "
                        "call records") from None
    return 0


def _delete_calls(args, config) -> int:
    """``history --delete CALL ...``: every call checked first, shown and confirmed (on a
    terminal; ``--yes`` without), then deleted, one line each
    (:mod:`voicecoach.store.delete`)."""
    import sqlite3

    from voicecoach.store.delete import (
        DeleteError,
        calls_to_delete,
        delete_call,
        plan_deletion,
    )
    from voicecoach.store.team import team_configured

    if not args.delete:
        raise UserError("--yes goes with --delete CALL: it deletes without asking")
    if args.rebuild:
        raise UserError("--delete and --rebuild are two runs: rebuild first, then delete by the new numbers")
    try:
        plans = [plan_deletion(p, team=team_configured(config)) for p in calls_to_delete(args.delete)]
        if not args.yes and not _confirmed("\n\n".join(f"{p.title[0].upper()}{p.title[1:]}, deleted for good:\n{p.details()}"
                                                       for p in plans),
                                           "it" if len(plans) == 1 else f"these {len(plans)} calls"):
            print("Nothing was deleted.")
            return 1
        for plan in plans:
            print(delete_call(plan), flush=True)
    except DeleteError as exc:
        raise UserError(str(exc)) from None
    except sqlite3.Error as exc:
        raise UserError(f"the history cannot be read ({exc}); nothing was deleted") from None
    return 0


def _confirmed(question: str, what: str) -> bool:
    """The agent's yes to ``question``, asked on the terminal; refused (one line) without one."""
    if not sys.stdin.isatty():
        raise UserError("history --delete asks before it deletes, and there is no terminal to ask on: "
                        "add --yes to delete without asking")
    print(question)
    try:
        answer = input(f"Delete {what}? [y/N] ")
    except EOFError:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")
