"""The team store: ``share`` a call with a coach, and ``team`` to read the shared calls."""
from __future__ import annotations

import os
import re
from pathlib import Path

from voicecoach.cli.common import UserError, _is_demo, _load_config
from voicecoach.cli.parser import TEAM_LIST_CALLS, TEAM_OVERVIEW_CALLS


def _local_call(call: str):
    """A call on this machine: (its record, the record file). A recording counts when it has
    a record (:func:`~voicecoach.store.calls.find_record`: beside it, in the data folder, or
    where the history says one was made from it)."""
    from voicecoach.store.record import load_record

    path = Path(call)
    if path.suffix.lower() == ".json":
        return load_record(path), path
    if not path.exists():
        raise UserError(f"{call}: no such file")
    from voicecoach.sources.audio import load_call
    from voicecoach.store.calls import find_record

    found = find_record(path, load_call(path).duration)
    if found is None:
        beside = path.with_suffix(".json")
        if not os.path.lexists(beside):
            raise UserError(f"{call} has no call record yet: `voicecoach analyze {call} -o {beside}` makes one")
        n = 2                # beside it is another call's record (one side of a call of two files)
        while os.path.lexists(free := path.with_name(f"{path.stem}-{n}.json")):
            n += 1
        raise UserError(f"{call} has no call record of its own: {beside} is another call's record "
                        f"(`voicecoach share {beside}` shares that call); `voicecoach analyze {call} -o {free}` "
                        "makes one of this file")
    return load_record(found), found


def cmd_share(args) -> int:
    from voicecoach.store.calls import recording_files
    from voicecoach.store.record import is_demo
    from voicecoach.store.team import share_local_call, unshare_local_call

    config = _load_config(args)
    if _is_demo(args.call):          # the word or the demo's file, as `review demo` names it: no record to find
        from voicecoach.store.team import DEMO_REFUSED

        raise UserError(DEMO_REFUSED)
    if args.undo and not Path(args.call).exists() and re.fullmatch(r"[0-9a-fA-F]{4,32}", args.call):
        from voicecoach.store.team import unshare_shared_call

        if args.with_audio:       # its local record gone: by the id `voicecoach team` lists
            raise UserError("--undo takes the whole call back; give no --with-audio with it")
        print(unshare_shared_call(config, args.call) + ".")
        return 0
    if args.undo and not Path(args.call).exists() and Path(args.call).suffix.lower() != ".json":
        raise UserError(f"{args.call}: no such file, nor a shared call's id (at least its first 4 "
                        "hex digits, as `voicecoach team` lists them)")
    record, path = _local_call(args.call)
    if is_demo(record, path):
        record["demo"] = True                     # a demo record an earlier version kept unmarked
    if args.undo:
        if args.with_audio:
            raise UserError("--undo takes the whole call back; give no --with-audio with it")
        print(unshare_local_call(config, record) + ".")
        return 0
    audio = None
    if args.with_audio:
        audio = recording_files(record, path)
        if not audio:
            name = record["source"]["name"]
            raise UserError(f"no recording of this call's length named {name} beside {path} or where it was "
                            "analysed: share without --with-audio, or put the call's recording beside its record")
    print(share_local_call(config, record, audio) + ".")
    return 0


def cmd_team(args) -> int:
    from voicecoach.store.team import TeamStore

    config = _load_config(args)
    command = args.team_command
    with TeamStore.from_config(config, check_version=command != "init") as store:
        if command == "init":
            before, after = store.migrate()
            print(f"The team store is at version {after}" +
                  (" (it was already)." if before == after else f" (was {before or 'not set up'})."))
            if before != after or not store.sees_own_calls_only():     # the team lead's next step
                print("Add each agent and coach as a login of their own, e.g.:\n"
                      "  CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE voicecoach_agent;\n"
                      "  CREATE ROLE carol LOGIN PASSWORD '…' IN ROLE voicecoach_coach;")
            return 0
        if command != "open":
            from voicecoach.store.team import no_calls, team_text, trend_text

            if command == "list":
                print(team_text(store, [args.agent], args.last or TEAM_LIST_CALLS))
            elif command == "trend":
                if args.last is not None:
                    raise UserError("-n chooses how many calls `team` and `team list` show; `team trend` "
                                    "shows every week (or --by month) of the agent's calls")
                periods = store.trend(args.agent, args.by)
                if not periods:
                    raise no_calls(store, args.agent)
                print(trend_text(args.agent, periods, store.calls(args.agent, 10), args.by))
            else:
                print(team_text(store, None, args.last or TEAM_OVERVIEW_CALLS))
            return 0
        from voicecoach.store.team import open_shared

        opened = open_shared(store, args.ref)
    from voicecoach.ui.review import run_review

    return run_review(opened, screenshot=args.screenshot, config=config)
