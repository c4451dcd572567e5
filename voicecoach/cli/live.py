"""Live coaching: ``live`` (a call, or a whole shift) and ``devices``."""
from __future__ import annotations

import sys
from pathlib import Path

from voicecoach.cli.common import (
    UserError,
    _check_output,
    _is_demo,
    _load_config,
    _note,
    _profile_for,
    _settings_read,
    flush_warnings,
)
from voicecoach.cli.profile import _agent_device
from voicecoach.paths import user_path


def cmd_devices(args) -> int:
    from voicecoach.sources.devices import format_inputs, list_inputs

    print(format_inputs(list_inputs()))
    return 0


def cmd_live(args) -> int:
    from voicecoach.analyze import demo_call_path
    from voicecoach.shift import Shift
    from voicecoach.stt.whisper import tune_malloc
    from voicecoach.ui import screen_problem

    if args.screenshot is not None and args.console:
        raise UserError("--screenshot pictures the overlay; --console coaches in the terminal instead")
    if args.screenshot is not None and args.stop_after is None:
        raise UserError("--screenshot is taken when the shift is stopped: give --stop-after SECONDS too")
    tune_malloc()
    config = _load_config(args)
    read = [*((demo_call_path() if f == "demo" else f, "a recording") for f in args.replay or []),
            *_settings_read(args, config)]
    _check_output("--events", args.events, read,
                  records=("adding the event log to it", "shift.jsonl"), profiles=True)
    _check_output("--screenshot", args.screenshot, read)
    baseline = _profile_for(args, config)
    lo = config.live
    if args.replay:
        from voicecoach.sources.audio import load_call
        from voicecoach.sources.files import PlaylistSource, ReplaySource

        chosen = [o for o, v in (("--agent", args.agent), ("--customer", args.customer),
                                 ("--agent-channel", args.agent_channel),
                                 ("--customer-channel", args.customer_channel)) if v is not None]
        if chosen:
            raise UserError(f"{chosen[0]} chooses a device; --replay plays recordings, whose left "
                            "channel is you and right the caller")

        if any(_is_demo(f) for f in args.replay) and not all(_is_demo(f) for f in args.replay):
            raise UserError("--replay demo replays the demo call, which is kept out of your history; "
                            "replay your own recordings without it")
        calls = [load_call(demo_call_path() if f == "demo" else f) for f in args.replay]
        missing = [c.name for c in calls if c.customer is None]
        if len(calls) > 1 and missing:
            raise UserError(f"{missing[0]}: a shift replay needs both sides of every call (stereo)")
        what = f"replaying {calls[0].name}" if len(calls) == 1 else f"replaying {len(calls)} calls"
        flush_warnings()                       # a truncated replay: said before the shift starts

        streams = config.shift.playback_signal        # each recording a call, as a softphone's stream

        def make_source():                           # blocks as the devices would give them
            if len(calls) == 1:
                return ReplaySource(calls[0], block_s=config.capture.block_s, streams=streams)
            return PlaylistSource([(args.gap if i else 0.0, c) for i, c in enumerate(calls)], realtime=True,
                                  block_s=config.capture.block_s, streams=streams)
    else:
        from voicecoach.sources.capture import DeviceSource
        from voicecoach.sources.devices import (
            DeviceError,
            refresh_portaudio,
            resolve_device,
        )
        from voicecoach.sources.reconnect import ReconnectingSource

        held = _one_live()                      # noqa: F841  (held until the shift ends)
        agent_spec = _agent_device(args.agent, config) or "default"
        customer_spec = args.customer or lo.customer_device
        a_ch = args.agent_channel if args.agent_channel is not None else lo.agent_channel
        c_ch = args.customer_channel if args.customer_channel is not None else lo.customer_channel
        def configured(*names):          # the settings the config chose of those a step used
            return [n for n in names if getattr(args, n.split("_")[0] if n.endswith("device") else n) is None
                    and getattr(lo, n) not in ("", 0)]

        def step(what, settings):        # a device or channel the config chose says so when it fails
            try:
                return what()
            except DeviceError as exc:
                chosen = configured(*settings)
                if chosen:
                    raise DeviceError(f"{exc} ([live] {', '.join(chosen)} in the config)") from None
                raise

        agent = step(lambda: resolve_device(agent_spec), ("agent_device",))
        customer = step(lambda: resolve_device(customer_spec), ("customer_device",)) if customer_spec else None
        step(lambda: agent.check_channel(a_ch, "agent"), ("agent_device", "agent_channel"))  # said now
        if customer is not None:
            step(lambda: customer.check_channel(c_ch, "customer"), ("customer_device", "customer_channel"))
        if customer is not None and a_ch == c_ch:        # one source by two names: both sides the same audio
            from voicecoach.sources.devices import recorded_source

            source = recorded_source(agent)
            if source is not None and source == recorded_source(customer):
                raise UserError(f"your mic ({agent.name!r}) and the call audio ({customer.name!r}) are both the "
                                f"PulseAudio source {source!r}: give each its own input (`voicecoach devices` "
                                "lists them; --agent picks your mic), or, for one stereo input that carries "
                                "both sides, --customer-channel 1")
        what = "listening"

        def open_devices(agent, customer):
            return DeviceSource(agent, customer, config.capture, agent_channel=a_ch, customer_channel=c_ch,
                                watch_playback=config.shift.playback_signal)

        def open_again():                       # an input that went away, looked for again
            refresh_portaudio()                 # by name: an index may now be another device
            return open_devices(resolve_device(agent.name),
                                resolve_device(customer.name) if customer is not None else None)

        def make_source():
            first = open_devices(agent, customer)
            if config.capture.reconnect_s <= 0:
                return first
            return ReconnectingSource(first, open_again, config.capture.reconnect_s)
    if config.language.sentence_model:
        from voicecoach.analyzers.sentence_model import SentenceModel

        SentenceModel.shipped()                 # a damaged install is said now, not at the shift's end
        flush_warnings()
    record_dir = args.record or lo.record_dir or None
    recovery = None
    if record_dir:
        import tempfile

        from voicecoach.store.private import private_folder
        from voicecoach.store.recovery import recover_in_background, remember_folder

        try:
            with tempfile.TemporaryFile(dir=private_folder(record_dir)):   # said now, not at the first call
                pass
        except OSError as exc:
            raise UserError(f"cannot record in {record_dir}: {exc.strerror or exc}") from None
        remember_folder(record_dir)            # where `history` looks if this session is killed
        recovery = recover_in_background(record_dir, config, baseline)   # a call a killed session left

    demo = bool(args.replay) and all(_is_demo(f) for f in args.replay)   # not the agent's own calls

    def make_shift():
        return Shift(make_source(), config, transcribe=not args.no_transcript, baseline=baseline,
                     record_dir=record_dir, demo=demo)

    jsonl = None
    if args.events:
        from voicecoach.sinks.console import JsonlWriter

        try:
            jsonl = JsonlWriter(args.events)
        except OSError as exc:
            raise UserError(f"cannot write {args.events}: {exc.strerror or exc}") from None
    extra = [jsonl] if jsonl else []
    events_note = ""
    code = 0
    try:
        problem = "" if args.console or args.screenshot is not None else screen_problem()
        if args.console or problem:
            if not args.console:
                print(f"voicecoach: no overlay: {problem}; coaching in the terminal", file=sys.stderr)
            calls = _live_console(make_shift, extra, args, what, record_dir)
        else:
            from voicecoach.ui.shiftrun import run_shift_overlay

            code, calls = run_shift_overlay(make_shift, extra, screenshot=args.screenshot,
                                            stop_after_s=args.stop_after, config=config,
                                            stay_open=bool(args.replay),
                                            config_path=user_path(args.config) if args.config else None)
            if calls is None:
                return code
    finally:
        if jsonl:
            events_note = jsonl.close()
        left = recovery is not None and recovery.stop()    # a record being saved is saved first
    from voicecoach.sinks.view import plural

    listed = sum(bool(c.get("record_path")) and not c.get("note") for c in calls)
    print(f"\nShift over: {plural(len(calls), 'call')} coached"
          + ("" if not calls else " (the demo is kept out of your history)" if demo
             else f"; `voicecoach history` lists {'it' if listed == 1 else 'them'}" if listed == len(calls)
             else f"; `voicecoach history` lists {listed} of them" if listed else ""))
    _note(events_note)
    if left:
        _note("a recording left by a stopped session was still being analysed; "
              "that is finished at the next start")
    unsaved = [c for c in calls if c.get("note") and not c.get("record_path")]
    if unsaved:    # the disk is full or read-only: the user must know, and the exit says so
        raise UserError(_unsaved_line(unsaved, said=args.console or bool(problem)))
    return code


def _unsaved_line(unsaved: list[dict], said: bool) -> str:
    """The shift's last line when call records could not be saved: what is kept and what
    is lost. ``said``: each call's own note was printed when it ended (the terminal view),
    so it is not repeated."""
    def calls(items: list[dict]) -> str:
        numbers = [str(c["index"]) for c in items]
        listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
        return f"the record of call {listed}" if len(items) == 1 else f"the records of calls {listed}"

    head = calls(unsaved) + " could not be saved" + (" (said above)" if said else f": {unsaved[0]['note']}")
    kept = [c for c in unsaved if c.get("recording")]
    lost = [c for c in unsaved if not c.get("recording")]
    tail = []
    if kept:
        names = [Path(c["recording"]).name for c in kept]
        folder = Path(kept[0]["recording"]).parent
        tail.append(f"{' and '.join(names)} {'is' if len(kept) == 1 else 'are'} kept: "
                    f"{'its record is' if len(kept) == 1 else 'their records are'} made once there is room, "
                    f"by `voicecoach history --rebuild {folder}` or the next `voicecoach live` recording there")
    if lost and not kept:
        return head + f"; {'it is' if len(lost) == 1 else 'they are'} lost (not recorded)"
    if lost:
        tail.append(f"{calls(lost)} {'is' if len(lost) == 1 else 'are'} lost (not recorded)")
    return head + "; " + "; ".join(tail)


def _one_live():
    """The live lock (:mod:`voicecoach.store.running`): a second coach on the same devices
    would coach, record and save every call twice."""
    from voicecoach.store.private import data_dir
    from voicecoach.store.running import AlreadyRunning, claim_live

    try:
        return claim_live(data_dir())
    except AlreadyRunning as exc:
        raise UserError("VoiceCoach is already coaching your calls"
                        + (f" (process {exc.pid})" if exc.pid else "")
                        + "; quit it first (tray icon or overlay menu: Quit, or Ctrl-C in its terminal), "
                          "or every call would be coached and saved twice") from None


def _live_console(make_shift, extra, args, what, record_dir):
    import signal

    from voicecoach.sinks.console import CallPrinter, ConsoleView, in_order

    shift = make_shift()
    for fn in extra:
        shift.subscribe(fn)
    shift.subscribe(in_order(CallPrinter(ending=lambda: shift.stopping),
                             ConsoleView(sentence_gap_s=shift.config.language.sentence_gap_s),
                             on_gone=shift.stop))      # `| head`, a pager quit: the shift ends
    channels = shift.source.channels
    print(f"VoiceCoach live — {what}" +
          ("" if "customer" in channels else " (mic only: warmth and pace; no call audio)") +
          (f"; recording each call to {record_dir}" if record_dir else "") +
          ". Each call is found by itself; Ctrl-C ends the shift.", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):     # SIGHUP: its terminal was closed
        signal.signal(sig, lambda *_: shift.stop())
    return shift.run(stop_after_s=args.stop_after)
