"""The ``voicecoach`` command."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from voicecoach import __version__

DESCRIPTION = """\
VoiceCoach: a private voice coach for support agents. It listens to both sides
of a call (your headset mic and the call audio) on this computer and coaches
warmth, interruptions, pace, plain words, and the shape of a good call.
Nothing leaves the machine."""

EPILOG = """\
examples:
  voicecoach analyze --demo                 summary of the demo call
  voicecoach analyze call.wav --json -o call.json
  voicecoach analyze --agent me.wav --customer them.wav
  voicecoach live --replay demo --console   live coaching of the demo call, in the terminal
  voicecoach live --customer call.monitor   coach a real call (your default mic + the call audio)
  voicecoach devices                        the audio inputs you can choose from
  voicecoach review demo                    replay the demo call on one timeline, click to listen
  voicecoach report call.json -o call.html  a self-contained HTML report
  voicecoach history                        your last calls and how you are trending
  voicecoach calibrate --mic --seconds 30 -o me.json   your voice profile, for warmth
  voicecoach warmth clip.wav --profile me.json --json
  voicecoach config                         where the config file is, and every setting

Thresholds and lexicons are set in a TOML config file (see `voicecoach config`)."""


class UserError(Exception):
    """Anything a user can fix; printed as one line, never a traceback."""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE",
                   help="settings file (TOML); default: the user config file if it exists")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicecoach", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser(
        "analyze", help="analyse a recorded call: every coaching cue, as a summary or JSON",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Analyse a recorded call and report every coaching cue: talk share, "
                    "interruptions and backchannels, dead air, pace, warmth, jargon and other "
                    "phrases to rephrase, the call checklist, commitments to follow up and the "
                    "caller's problems.",
        epilog="input:\n"
               "  A stereo file has the agent on the left and the customer on the right\n"
               "  (--agent-channel right swaps them); or give one file per side with --agent and\n"
               "  --customer. A mono file is the agent alone: cues that need the caller are\n"
               "  reported as unavailable. WAV, FLAC, OGG, MP3, M4A and other common formats, any\n"
               "  sample rate.")
    a.add_argument("call", nargs="?", metavar="CALL", help="the recording to analyse")
    a.add_argument("--demo", action="store_true", help="analyse the demo call that ships with VoiceCoach")
    a.add_argument("--agent", metavar="FILE", help="the agent's side, as its own file")
    a.add_argument("--customer", metavar="FILE", help="the customer's side, as its own file")
    a.add_argument("--agent-channel", choices=("left", "right"), default="left",
                   help="which side of a stereo file is the agent (default: left)")
    a.add_argument("--json", action="store_true", help="print the call record as JSON")
    a.add_argument("-o", "--output", metavar="FILE", help="write the call record JSON to FILE")
    a.add_argument("--model", metavar="NAME",
                   help="speech-to-text model: a faster-whisper name or a model folder "
                        "(default: tiny.en, installed with VoiceCoach; other names download)")
    a.add_argument("--no-transcript", action="store_true",
                   help="skip speech-to-text (fast; no word-based cues)")
    a.add_argument("--profile", metavar="FILE",
                   help="your voice profile (from `voicecoach calibrate`) for warmth")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_common(a)

    lv = sub.add_parser(
        "live", help="coach a call live: your mic and the call audio, in real time",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Listen to your microphone and the call audio and coach as you talk: "
                    "interruptions, pace, warmth, the caller's temperature, phrases to rephrase. "
                    "Runs until Ctrl-C (or --stop-after).",
        epilog="devices:\n"
               "  --agent and --customer take an index or name from `voicecoach devices`, or a\n"
               "  PulseAudio source name. On Linux the call audio is the `.monitor` source of the\n"
               "  output your softphone plays to. Without --customer only warmth and pace are\n"
               "  coached. Defaults come from [live] in the config file.\n"
               "recording:\n"
               "  --record DIR keeps both channels (left you, right the caller) and the call record\n"
               "  there, readable by you alone. Recording a call needs the caller's consent.")
    lv.add_argument("--agent", metavar="DEVICE", help="your microphone (default: the default input)")
    lv.add_argument("--customer", metavar="DEVICE", help="the call audio (e.g. a .monitor source)")
    lv.add_argument("--agent-channel", type=int, metavar="N", help="channel of the agent device (0 = left)")
    lv.add_argument("--customer-channel", type=int, metavar="N",
                    help="channel of the customer device (with one stereo device for both: 1 = right)")
    lv.add_argument("--replay", metavar="FILE",
                    help="replay a recording at real-time pace instead of devices ('demo' = the demo call)")
    lv.add_argument("--console", action="store_true", help="coach in this terminal instead of the overlay")
    lv.add_argument("--screenshot", metavar="FILE.png",
                    help="save a screenshot of the overlay when the call ends (use with --stop-after)")
    lv.add_argument("--events", metavar="FILE.jsonl", help="write every event as one JSON line")
    lv.add_argument("--record", metavar="DIR", help="record both channels and the call record in DIR")
    lv.add_argument("--stop-after", type=float, metavar="SECONDS", help="stop after this much call time")
    lv.add_argument("--no-transcript", action="store_true", help="no speech-to-text (no captions, no word cues)")
    lv.add_argument("--model", metavar="NAME", help="speech-to-text model (default tiny.en)")
    lv.add_argument("--profile", metavar="FILE", help="your voice profile for warmth")
    _add_common(lv)

    sub.add_parser("devices", help="list the audio inputs (and PulseAudio sources) to choose from",
                   description="List audio inputs by index and name, and on Linux the PulseAudio "
                               "sources, including the .monitor sources that carry the call audio.")

    rv = sub.add_parser("review", help="replay a call: waveforms, cues and transcript on one timeline",
                        description="Open the review window on a recording or a call record: both "
                                    "channels on one zoomable timeline with warmth and pace, every "
                                    "interruption, backchannel, dead air and language cue; click "
                                    "anywhere to listen. A recording without a record is analysed first.")
    rv.add_argument("call", metavar="CALL", help="a recording, a call record (.json), or 'demo'")
    rv.add_argument("--screenshot", metavar="FILE.png", help="save a screenshot of the window and exit")
    _add_common(rv)

    rp = sub.add_parser("report", help="write a self-contained HTML report of a call",
                        description="Write an HTML report (scorecard, timeline, warmth and pace, "
                                    "transcript, phrases to rephrase, follow-ups, the caller's list) "
                                    "that opens in any browser with no network.")
    rp.add_argument("call", metavar="CALL", help="a recording, a call record (.json), or 'demo'")
    rp.add_argument("-o", "--output", metavar="FILE.html", required=True, help="where to write the report")
    rp.add_argument("--no-audio", action="store_true", help="do not embed the recording in the report")
    _add_common(rp)

    hs = sub.add_parser("history", help="your last calls with their scores, and the trend",
                        description="List the last calls analysed or recorded on this machine, with "
                                    "talk share, interruptions, warmth, pace and checklist, and how "
                                    "they are trending. Scores are for your own practice.")
    hs.add_argument("-n", "--last", type=int, default=20, metavar="N", help="how many calls (default 20)")
    hs.add_argument("--rebuild", nargs="+", metavar="DIR",
                    help="rebuild the index from the call records in these folders")
    _add_common(hs)

    cb = sub.add_parser("calibrate", help="make your voice profile (the baseline warmth is judged against)",
                        description="Build your voice profile from recordings of your ordinary speech, "
                                    "or from the microphone while you read a short passage. The "
                                    "profile stores statistics of your voice, never audio.")
    cb.add_argument("audio", nargs="*", metavar="AUDIO", help="recordings of your ordinary speech")
    cb.add_argument("--mic", action="store_true", help="record from the microphone instead")
    cb.add_argument("--seconds", type=float, default=30.0, help="how long to record with --mic (default 30)")
    cb.add_argument("--device", metavar="DEVICE", help="the microphone (default: the default input)")
    cb.add_argument("-o", "--output", metavar="PROFILE.json", required=True, help="where to save the profile")
    _add_common(cb)

    wm = sub.add_parser("warmth", help="score the warmth of clips (0-1, 0.5 = your ordinary voice)",
                        description="Score each clip's warmth with the trained model, against your "
                                    "voice profile (without one: against an average voice, which is "
                                    "much less reliable).")
    wm.add_argument("clips", nargs="+", metavar="CLIP")
    wm.add_argument("--profile", metavar="FILE", help="your voice profile (from `voicecoach calibrate`)")
    wm.add_argument("--json", action="store_true", help="print a JSON list of {file, warmth}")
    _add_common(wm)

    c = sub.add_parser("config", help="show the config file's path and every setting",
                       description="Print the config file's path, then every setting with its "
                                   "current value, as TOML you can copy into that file.")
    _add_common(c)
    return parser


def _load_config(args):
    from voicecoach.config import load_config

    config = load_config(args.config)
    if getattr(args, "model", None):
        config.transcribe.model = args.model
    return config


def _load_baseline(path: Optional[str]):
    if path is None:
        return None
    from voicecoach.analyzers.voice import Baseline

    try:
        return Baseline.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise UserError(f"{path}: no such voice profile") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a voice profile ({exc})") from None


def cmd_analyze(args) -> int:
    from voicecoach.analyze import analyze_stream, demo_call_path
    from voicecoach.sinks.summary import summary_text
    from voicecoach.sources.stream import open_call_stream
    from voicecoach.store.calls import save_call
    from voicecoach.stt.whisper import limit_malloc_arenas

    limit_malloc_arenas()
    config = _load_config(args)
    baseline = _load_baseline(args.profile)
    if args.demo:
        if args.call or args.agent or args.customer:
            raise UserError("--demo analyses the demo call; give no other recording with it")
        call = open_call_stream(demo_call_path())
    else:
        call = open_call_stream(args.call, agent=args.agent, customer=args.customer,
                                agent_channel=args.agent_channel)
    record = _with_progress(lambda progress: analyze_stream(
        call, config, transcribe=not args.no_transcript, baseline=baseline, progress=progress),
        quiet=args.quiet, channels=list(call.channels))
    if args.output:
        try:
            note = save_call(record, args.output)
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        _note(note)
    if args.json:
        if not args.output:
            json.dump(record, sys.stdout, indent=1)
            sys.stdout.write("\n")
    else:
        print(summary_text(record))
        if args.output:
            print(f"\nCall record written to {args.output}")
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
    path = Path(args.config) if args.config else default_config_path()
    state = "in use" if path.exists() else "not present: defaults apply"
    print(f"# config file: {path} ({state})")
    print(to_toml(config))
    return 0


def _note(note: str) -> None:
    """A problem that does not fail the command (e.g. the history not updated), on stderr."""
    if note:
        print(f"voicecoach: note: {note}", file=sys.stderr)


def cmd_review(args) -> int:
    if args.call != "demo" and not Path(args.call).exists():
        raise UserError(f"{args.call}: no such file")
    from voicecoach.ui.review import run_review

    return run_review(args.call, screenshot=args.screenshot, config=_load_config(args))


def cmd_report(args) -> int:
    from voicecoach.sinks.report import find_audio, write_report

    config = _load_config(args)
    path = Path(args.call)
    if path.suffix.lower() == ".json":
        from voicecoach.store.record import load_record

        record = load_record(path)
        audio = None if args.no_audio else find_audio(record, path)
    else:
        from voicecoach.analyze import analyze_call, demo_call_path
        from voicecoach.sources.audio import load_call

        audio = load_call(demo_call_path() if args.call == "demo" else path)
        record = _with_progress(lambda progress: analyze_call(audio, config, progress=progress),
                                quiet=False, channels=list(audio.channels()))
        audio = None if args.no_audio else audio
    try:
        out = write_report(record, audio, args.output)
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"Report written to {out}")
    return 0


def cmd_history(args) -> int:
    from voicecoach.store.history import show_history
    from voicecoach.store.recovery import recover_folder

    # recordings whose process was killed mid-call get their records first
    config = _load_config(args)
    for folder in dict.fromkeys([*(args.rebuild or []), config.live.record_dir or None]):
        if folder:
            recover_folder(folder, config)
    print(show_history(args.last, args.rebuild))
    return 0


def _profile_settings(config) -> dict:
    """Keyword arguments that measure speech for profiles and clip scores with the
    config's settings: the live warmth meter's windows ([warmth]), [prosody], [vad]."""
    from voicecoach.store.profile import ProfileOptions

    return {"options": ProfileOptions(warmth=config.warmth),
            "prosody_options": config.prosody, "vad_options": config.vad}


def cmd_calibrate(args) -> int:
    from voicecoach.store.profile import (
        CALIBRATION_PASSAGE,
        build_profile,
        profile_from_audio,
        record_mic,
    )

    if args.mic == bool(args.audio):
        raise UserError("give recordings of your ordinary speech, or --mic (not both)")
    settings = _profile_settings(_load_config(args))
    if args.mic:
        device = args.device
        if device is not None and device.isdigit():
            device = int(device)
        print("Read this aloud in your ordinary voice, as you would to a caller:\n")
        print(CALIBRATION_PASSAGE + "\n")
        print(f"Recording {args.seconds:.0f} s from the microphone...", flush=True)
        profile = profile_from_audio([record_mic(args.seconds, device)], names=["microphone"],
                                     **settings)
    else:
        profile = build_profile(args.audio, **settings)
    from voicecoach.store.calls import write_private

    out = Path(args.output)
    try:
        write_private(out, json.dumps(profile, indent=1))
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"Voice profile written to {out}. Use it with --profile (analyze, live, warmth).")
    return 0


def cmd_warmth(args) -> int:
    from voicecoach.store.profile import score_clips

    settings = _profile_settings(_load_config(args))
    results = score_clips(args.clips, profile=_load_baseline(args.profile), **settings)
    if args.json:
        json.dump([{"file": r["file"], "warmth": r["warmth"]} for r in results], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if args.profile is None:
        print("(no --profile: scored against an average voice, which is much less reliable)")
    for r in results:
        value = f"{r['warmth']:.2f}" if r["warmth"] is not None else f"-- ({r.get('reason')})"
        print(f"{value:>6}  {r['file']}")
    return 0


def cmd_devices(args) -> int:
    from voicecoach.sources.devices import format_inputs, list_inputs

    print(format_inputs(list_inputs()))
    return 0


def cmd_live(args) -> int:
    from voicecoach.live import LiveSession
    from voicecoach.sources.files import ReplaySource
    from voicecoach.stt.whisper import limit_malloc_arenas
    from voicecoach.ui import has_screen

    limit_malloc_arenas()
    config = _load_config(args)
    baseline = _load_baseline(args.profile)
    lo = config.live
    if args.replay:
        from voicecoach.analyze import demo_call_path
        from voicecoach.sources.audio import load_call

        call = load_call(demo_call_path() if args.replay == "demo" else args.replay)
        name = call.name

        def make_source():
            return ReplaySource(call)
    else:
        from voicecoach.sources.capture import DeviceSource
        from voicecoach.sources.devices import resolve_device

        agent = resolve_device(args.agent or lo.agent_device or "default")
        customer_spec = args.customer or lo.customer_device
        customer = resolve_device(customer_spec) if customer_spec else None
        a_ch = args.agent_channel if args.agent_channel is not None else lo.agent_channel
        c_ch = args.customer_channel if args.customer_channel is not None else lo.customer_channel
        name = "live call"

        def make_source():
            return DeviceSource(agent, customer, config.capture, agent_channel=a_ch, customer_channel=c_ch)
    record_dir = args.record or lo.record_dir or None
    recorders = []
    recovery = None
    if record_dir:
        from voicecoach.store.recovery import recover_in_background

        recovery = recover_in_background(record_dir, config, baseline)

    def make_session(extra_subscribers=()):
        source = make_source()
        recorder = None
        if record_dir:
            from voicecoach.sinks.recorder import Recorder

            try:
                recorder = Recorder(record_dir, source.channels)
            except OSError as exc:
                raise UserError(f"cannot record in {record_dir}: {exc.strerror or exc}") from None
            recorders.append(recorder)
        session = LiveSession(source, config, transcribe=not args.no_transcript, baseline=baseline,
                              recorder=recorder, name=name)
        for fn in extra_subscribers:
            session.subscribe(fn)
        return session

    jsonl = None
    if args.events:
        from voicecoach.sinks.console import JsonlWriter

        try:
            jsonl = JsonlWriter(args.events)
        except OSError as exc:
            raise UserError(f"cannot write {args.events}: {exc.strerror or exc}") from None
    extra = [jsonl] if jsonl else []
    try:
        if args.console or args.screenshot is None and not has_screen():
            if not args.console:
                print("voicecoach: no screen for the overlay; coaching in the terminal", file=sys.stderr)
            record = _live_console(make_session, extra, args, record_dir)
        else:
            from voicecoach.ui.overlay import run_overlay

            code, record = run_overlay(lambda: make_session(extra), screenshot=args.screenshot,
                                       stop_after_s=args.stop_after)
            if record is None:
                return code
    finally:
        if jsonl:
            jsonl.close()
    not_saved = ""
    if recorders:
        from voicecoach.store.calls import save_new_call

        rec_path = recorders[-1].path
        out, note = save_new_call(record, rec_path)
        print(f"\nRecording: {rec_path}" + (f"\nCall record: {out}" if out else ""))
        if out is None:
            not_saved = (f"{note}; {rec_path.name} is kept, and its record is made at the next start "
                         "once there is room")
        else:
            _note(note)
    from voicecoach.sinks.summary import summary_text

    print("\n" + summary_text(record))
    if recovery is not None and recovery.is_alive():
        _note("a recording left by a stopped session is still being analysed; "
              "that is finished at the next start")
    if not_saved:      # the summary is shown; the recording is kept and recovered at the next start
        print(f"voicecoach: error: {not_saved}", file=sys.stderr)
        return 2
    return 0


def _live_console(make_session, extra, args, record_dir):
    import signal

    from voicecoach.sinks.console import ConsoleView

    session = make_session(extra)
    session.subscribe(ConsoleView(sentence_gap_s=session.config.language.sentence_gap_s))
    channels = session.source.channels
    print("VoiceCoach live — " + (f"replaying {session.name}" if args.replay else "listening") +
          ("" if "customer" in channels else " (mic only: warmth and pace; no call audio)") +
          (f"; recording to {session.recorder.path}" if session.recorder else "") + ". Ctrl-C stops.",
          flush=True)
    signal.signal(signal.SIGINT, lambda *_: session.stop())
    signal.signal(signal.SIGTERM, lambda *_: session.stop())
    return session.run(stop_after_s=args.stop_after)


COMMANDS = {"analyze": cmd_analyze, "live": cmd_live, "devices": cmd_devices, "review": cmd_review,
            "report": cmd_report, "history": cmd_history, "calibrate": cmd_calibrate,
            "warmth": cmd_warmth, "config": cmd_config}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from voicecoach.config import ConfigError
    from voicecoach.sources.audio import AudioError
    from voicecoach.sources.devices import DeviceError
    from voicecoach.store.record import RecordError
    from voicecoach.stt.whisper import ModelError

    try:
        return COMMANDS[args.command](args)
    except (UserError, AudioError, ConfigError, ModelError, RecordError, DeviceError) as exc:
        print(f"voicecoach: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("voicecoach: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
