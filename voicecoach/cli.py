"""The ``voicecoach`` command."""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Optional, Sequence

from voicecoach import __version__
from voicecoach.paths import same_file, user_path

DESCRIPTION = """\
VoiceCoach: a private voice coach for support agents. It listens to both sides
of a call (your headset mic and the call audio) on this computer and coaches
warmth, interruptions, pace, plain words, and the shape of a good call.
Nothing leaves the machine, except a call you choose to share with your coach
(`voicecoach share`, with a team store set in the config)."""

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
  voicecoach history --delete 7             delete call 7: its record, recording and history row
  voicecoach calibrate --mic --seconds 30 -o me.json   your voice profile, for warmth
  voicecoach warmth clip.wav --profile me.json --json
  voicecoach config                         where the config file is, and every setting
  voicecoach share call.json --with-audio   share a call (and its recording) with your coach
  voicecoach team                           the coach's view: every agent's shared calls

Thresholds and lexicons are set in a TOML config file (see `voicecoach config`)."""


class UserError(Exception):
    """Anything a user can fix; printed as one line, never a traceback."""


def _add_common(p: argparse.ArgumentParser, nested: bool = False) -> None:
    """``--config``; ``nested`` for a sub-command's own sub-commands (``team list``), whose
    default must not overwrite the one given before them (``team --config F list``)."""
    p.add_argument("--config", type=_file_name, metavar="FILE", default=argparse.SUPPRESS if nested else None,
                   help="settings file (TOML); default: the user config file if it exists")


TEAM_OVERVIEW_CALLS, TEAM_LIST_CALLS = 5, 20
"""How many calls `team` shows per agent, and `team list` of one agent, unless -n says."""


def _seconds(text: str) -> float:
    """An argument in seconds: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number of seconds above 0")
    return value


def _gap_seconds(text: str) -> float:
    """Silence between replayed calls: a finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number of seconds, 0 or more")
    return value


def _count(text: str) -> int:
    """How many: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be 1 or more")
    return min(value, 1 << 62)          # "all of them" (a database's counts are 64-bit)


def _file_name(text: str) -> str:
    """A file to read or write: not empty (``Path("")`` is the folder ".")."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty file name")
    return text


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
    from voicecoach.store.profile import PROFILE_KIND
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


def _add_call_inputs(p: argparse.ArgumentParser, call_help: str) -> None:
    """The call a command analyses: CALL, or a file per side (``--agent``, ``--customer``),
    and which side of a stereo CALL is the agent. One definition for ``analyze``,
    ``review`` and ``report`` (checked by :func:`_call_given`)."""
    p.add_argument("call", nargs="?", type=_file_name, metavar="CALL", help=call_help)
    p.add_argument("--agent", type=_file_name, metavar="FILE", help="the agent's side, as its own file")
    p.add_argument("--customer", type=_file_name, metavar="FILE", help="the customer's side, as its own file")
    p.add_argument("--agent-channel", choices=("left", "right"),
                   help="which side of a stereo CALL is the agent (default: left; review and report "
                        "open a recording as its call record says)")


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


def _png(text: str) -> str:
    """A screenshot to write: a .png file name, not a folder (checked before any window opens)."""
    path = user_path(_file_name(text))
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; name the picture, e.g. {path / 'shot.png'}")
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"{text}: screenshots are PNG pictures; name it {path.stem}.png")
    return text


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (indented lists stay), but a paragraph written
    as one long line is wrapped to the terminal."""

    def _fill_text(self, text, width, indent):
        import textwrap

        out = []
        for para in text.split("\n\n"):
            one_line = "\n" not in para and not para.startswith(" ")
            out.append(textwrap.fill(para, width, initial_indent=indent, subsequent_indent=indent)
                       if one_line else super()._fill_text(para, width, indent))
        return "\n\n".join(out)


MIC_SECONDS = 30.0
"""How long ``calibrate --mic`` records when not told (s): the passage read at a relaxed pace."""
MAX_MIC_SECONDS = 600.0
"""The longest ``calibrate --mic`` records (s): the passage read many times over; more is a
typo (``--seconds 3000`` for 30), and the recording is held in memory."""


def _mic_seconds(text: str) -> float:
    """``calibrate --seconds``: :func:`_seconds`, at most :data:`MAX_MIC_SECONDS`."""
    value = _seconds(text)
    if value > MAX_MIC_SECONDS:
        raise argparse.ArgumentTypeError(f"{text} is longer than calibrate records "
                                         f"({MAX_MIC_SECONDS:g} s at most; {MIC_SECONDS:g} s is enough)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicecoach", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.commands = sub.choices           # name -> its parser, for errors in its own usage

    a = sub.add_parser(
        "analyze", help="analyse a recorded call: every coaching cue, as a summary or JSON",
        formatter_class=_HelpFormatter,
        description="Analyse a recorded call and report every coaching cue: talk share,\n"
                    "interruptions and backchannels, dead air, pace, warmth, jargon and other\n"
                    "phrases to rephrase, the call checklist, commitments to follow up and the\n"
                    "caller's problems.",
        epilog="input:\n"
               "  A stereo file has the agent on the left and the customer on the right\n"
               "  (--agent-channel right swaps them); or give one file per side with --agent and\n"
               "  --customer. A mono file is the agent alone: cues that need the caller are\n"
               "  reported as unavailable. WAV, FLAC, OGG, MP3, M4A and other common formats, any\n"
               "  sample rate.")
    _add_call_inputs(a, "the recording to analyse")
    a.add_argument("--demo", action="store_true", help="analyse the demo call that ships with VoiceCoach")
    a.add_argument("--json", action="store_true", help="print the call record as JSON")
    a.add_argument("-o", "--output", type=_file_name, metavar="FILE", help="write the call record JSON to FILE")
    a.add_argument("--model", metavar="NAME",
                   help="speech-to-text model: a faster-whisper name or a model folder "
                        "(default: tiny.en, installed with VoiceCoach; other names download)")
    a.add_argument("--no-transcript", action="store_true",
                   help="skip speech-to-text (fast; no word-based cues)")
    a.add_argument("--profile", type=_file_name, metavar="FILE",
                   help="your voice profile (from `voicecoach calibrate`) for warmth")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_common(a)

    lv = sub.add_parser(
        "live", help="coach a call live: your mic and the call audio, in real time",
        formatter_class=_HelpFormatter,
        description="Listen to your microphone and the call audio for your whole shift, and coach each call "
                    "as you talk: interruptions, pace, warmth, the caller's temperature, phrases to "
                    "rephrase. Each call is found by itself (the call audio coming alive, a playback "
                    "stream on the call output; a hotkey or the menu starts or ends one by hand), "
                    "saved, added to your history and summed up when it ends. Runs until you quit "
                    "(Ctrl-C, the menu, or --stop-after).",
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
    lv.add_argument("--replay", type=_file_name, metavar="FILE", nargs="+",
                    help="replay recordings at real-time pace instead of devices, one call after "
                         "another ('demo' = the demo call)")
    lv.add_argument("--gap", type=_gap_seconds, default=10.0, metavar="SECONDS",
                    help="silence between replayed calls (default 10)")
    lv.add_argument("--console", action="store_true", help="coach in this terminal instead of the overlay")
    lv.add_argument("--screenshot", type=_png, metavar="FILE.png",
                    help="with --stop-after: save a screenshot of the overlay when the shift is stopped "
                         "(the call as it is then), and of its after-call card as FILE-card.png")
    lv.add_argument("--events", type=_file_name, metavar="FILE.jsonl", help="write every event as one JSON line")
    lv.add_argument("--record", type=_file_name, metavar="DIR", help="record both channels and the call record in DIR")
    lv.add_argument("--stop-after", type=_seconds, metavar="SECONDS", help="end the shift after this much time")
    lv.add_argument("--no-transcript", action="store_true", help="no speech-to-text (no captions, no word cues)")
    lv.add_argument("--model", metavar="NAME", help="speech-to-text model (default tiny.en)")
    lv.add_argument("--profile", type=_file_name, metavar="FILE", help="your voice profile for warmth")
    _add_common(lv)

    sub.add_parser("devices", help="list the audio inputs (and PulseAudio sources) to choose from",
                   description="List audio inputs by index and name, and on Linux the PulseAudio "
                               "sources, including the .monitor sources that carry the call audio.")

    rv = sub.add_parser("review", help="replay a call: waveforms, cues and transcript on one timeline",
                        description="Open the review window on a recording or a call record: both "
                                    "channels on one zoomable timeline with warmth and pace, every "
                                    "interruption, backchannel, dead air and language cue; click "
                                    "anywhere to listen. A recording without a record is analysed "
                                    "first, read as `analyze` reads it (--agent-channel, or --agent "
                                    "and --customer).")
    _add_call_inputs(rv, "a recording, a call record (.json), or 'demo'")
    rv.add_argument("--screenshot", type=_png, metavar="FILE.png", help="save a screenshot of the window and exit")
    _add_common(rv)

    rp = sub.add_parser("report", help="write a self-contained HTML report of a call",
                        description="Write an HTML report (scorecard, timeline, warmth and pace, "
                                    "transcript, phrases to rephrase, follow-ups, the caller's list) "
                                    "that opens in any browser with no network. A recording is "
                                    "reported from its call record when it has one, as `review` "
                                    "opens it; one without a record is analysed first, read as "
                                    "`analyze` reads it (--agent-channel, or --agent and "
                                    "--customer), and its record saved.")
    _add_call_inputs(rp, "a recording, a call record (.json), or 'demo'")
    rp.add_argument("-o", "--output", type=_file_name, metavar="FILE.html", required=True, help="where to write the report")
    rp.add_argument("--no-audio", action="store_true", help="do not embed the recording in the report")
    _add_common(rp)

    hs = sub.add_parser("history", help="your last calls with their scores, and the trend; delete a call",
                        description="List the last calls analysed or recorded on this machine, with "
                                    "talk share, interruptions, warmth, pace and checklist, and how "
                                    "they are trending. Scores are for your own practice. --delete "
                                    "deletes calls for good: each call's record, its recording (unless "
                                    "another call's record needs it) and its row; it asks first.")
    hs.add_argument("-n", "--last", type=_count, default=20, metavar="N", help="how many calls (default 20)")
    hs.add_argument("--rebuild", nargs="+", type=_file_name, metavar="DIR",
                    help="rebuild the index from the call records in these folders")
    hs.add_argument("--delete", nargs="+", type=_file_name, metavar="CALL",
                    help="delete these calls: their numbers in the list (# column; 1 is the oldest) "
                         "or their call records (.json)")
    hs.add_argument("-y", "--yes", action="store_true", help="with --delete: do not ask first")
    _add_common(hs)

    cb = sub.add_parser("calibrate", help="make your voice profile (the baseline warmth is judged against)",
                        description="Build your voice profile from recordings of your ordinary speech, "
                                    "or from the microphone while you read a short passage. The "
                                    "profile stores statistics of your voice, never audio. A stereo "
                                    "recording is a call: only your side (left, or --agent-channel) "
                                    "is measured.")
    cb.add_argument("audio", nargs="*", type=_file_name, metavar="AUDIO",
                    help="recordings of your ordinary speech (mono, or stereo with you on the left)")
    cb.add_argument("--mic", action="store_true", help="record from the microphone instead")
    cb.add_argument("--seconds", type=_mic_seconds, metavar="SECONDS",
                    help=f"how long to record with --mic (default {MIC_SECONDS:g}, at most {MAX_MIC_SECONDS:g})")
    cb.add_argument("--device", metavar="DEVICE",
                    help="the microphone, named as for `live --agent`: an index or name from "
                         "`voicecoach devices`, or a PulseAudio source (default: [live] agent_device "
                         "in the config, else the default input)")
    cb.add_argument("-o", "--output", type=_file_name, metavar="PROFILE.json", required=True, help="where to save the profile")
    cb.add_argument("--no-remember", action="store_true",
                    help="do not set it as your profile ([warmth] profile in the config file)")
    cb.add_argument("--agent-channel", choices=("left", "right"),
                    help="which side of a stereo recording is you (default: left, as VoiceCoach "
                         "records calls)")
    _add_common(cb)

    wm = sub.add_parser("warmth", help="score the warmth of clips (0-1, 0.5 = your ordinary voice)",
                        description="Score each clip's warmth with the trained model, against your "
                                    "voice profile (--profile, else the one `calibrate` remembered; "
                                    "without one: against an average voice, which is much less "
                                    "reliable). A stereo clip is a call: only your side (left, or "
                                    "--agent-channel) is scored.")
    wm.add_argument("clips", nargs="+", type=_file_name, metavar="CLIP",
                    help="clips of your voice (mono, or stereo with you on the left or --agent-channel)")
    wm.add_argument("--agent-channel", choices=("left", "right"),
                    help="which side of a stereo clip is you (default: left, as VoiceCoach records calls)")
    wm.add_argument("--profile", type=_file_name, metavar="FILE",
                    help="your voice profile (default: the one `voicecoach calibrate` remembered)")
    wm.add_argument("--json", action="store_true", help="print a JSON list of {file, warmth, reason, baseline}: "
                    "reason says why a clip has no warmth (null when it has); baseline is what it "
                    "was judged against (\"profile\", or \"average voice\", much less reliable)")
    _add_common(wm)

    sh = sub.add_parser(
        "share", help="share a call with your coach (the team store), or take it back",
        formatter_class=_HelpFormatter,
        description="Send one call record to your team's store, where your coach can open it. "
                    "The record holds the call's scores, transcript and cues; the recording goes "
                    "only with --with-audio. Nothing else leaves this machine.",
        epilog="The team store is [team] database in the config file\n"
               "(postgresql://YOU@HOST/DATABASE); the password comes from PGPASSWORD or ~/.pgpass.")
    sh.add_argument("call", type=_file_name, metavar="CALL", help="a call record (.json), or a recording that has one; "
                    "with --undo also a shared call's id (`voicecoach team` lists yours)")
    sh.add_argument("--with-audio", action="store_true", help="share the recording as well")
    sh.add_argument("--undo", action="store_true", help="take the call (and its recording) back")
    _add_common(sh)

    tm = sub.add_parser(
        "team", help="the coach's view: calls your agents shared, their trends",
        formatter_class=_HelpFormatter,
        description="The calls agents shared with you, agent by agent, newest last; open any of "
                    "them in the review window; one agent's trend over their own calls. Agents "
                    "are listed by name, never ranked.",
        epilog="commands:\n"
               "  voicecoach team                 every agent and their latest shared calls\n"
               "  voicecoach team list AGENT      one agent's shared calls\n"
               "  voicecoach team open ID         open a shared call in the review window\n"
               "  voicecoach team trend AGENT     one agent's calls by week (or --by month)\n"
               "  voicecoach team init            set up the store, or bring it up to date (team lead)")
    _add_common(tm)
    tm.add_argument("-n", "--last", type=_count, metavar="N",
                    help=f"calls per agent in the overview (default {TEAM_OVERVIEW_CALLS}), or in `list` "
                         f"(default {TEAM_LIST_CALLS})")
    tsub = tm.add_subparsers(dest="team_command", metavar="COMMAND")
    tl = tsub.add_parser("list", help="one agent's shared calls",
                         description="One agent's shared calls, newest last, each with the id `team open` takes.")
    tl.add_argument("agent", metavar="AGENT", help="the agent's name, as `voicecoach team` lists it")
    tl.add_argument("-n", "--last", type=_count, default=argparse.SUPPRESS, metavar="N",   # `team -n 3 list A` too
                    help=f"how many calls (default {TEAM_LIST_CALLS})")
    _add_common(tl, nested=True)
    to = tsub.add_parser("open", help="open a shared call in the review window",
                         description="Open a shared call (its record, and its recording when the agent "
                                     "shared it) in the review window.")
    to.add_argument("ref", metavar="ID", help="the call's id as listed (or AGENT/ID)")
    to.add_argument("--screenshot", type=_png, metavar="FILE.png", help="save a screenshot of the window and exit")
    _add_common(to, nested=True)
    tt = tsub.add_parser("trend", help="one agent's shared calls by week or month",
                         description="One agent's shared calls by week or month (warmth, interruptions "
                                     "per 10 minutes, talk share, pace, checklist), and their latest calls "
                                     "against the ones before.")
    tt.add_argument("agent", metavar="AGENT", help="the agent's name, as `voicecoach team` lists it")
    tt.add_argument("--by", choices=("week", "month"), default="week", help="one line per week (default) or month")
    _add_common(tt, nested=True)
    ti = tsub.add_parser("init", help="set up the team store, or migrate it to this version (team lead)",
                         description="Create the team store's tables in the database named by "
                                     "`[team] database`, or bring a store made by an older version up to "
                                     "date. Run once by the team lead; agents only share.")
    _add_common(ti, nested=True)

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
    from voicecoach.analyzers.voice import Baseline
    from voicecoach.sources.audio import AUDIO_SUFFIXES
    from voicecoach.store.profile import PROFILE_KIND

    import hashlib

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


"""Names that say a file is a recording (for the hint when one is given as a profile)."""


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number")


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
        import copy                   # a password in [team] database (share and team refuse it)
        shown = copy.deepcopy(config)
        shown.team.database = "(hidden: it holds a password; put that in PGPASSWORD or ~/.pgpass)"
    print(to_toml(shown, notes=True))
    try:                                # where an agent looks when warmth reads oddly
        _profile_for(argparse.Namespace(), config)
    except UserError as exc:
        _note(str(exc))
    return 0


def _note(note: str) -> None:
    """A problem that does not fail the command (e.g. the history not updated), on stderr."""
    if note:
        print(f"voicecoach: note: {note}", file=sys.stderr)


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
    from voicecoach.store.recovery import recover_folder, unrecorded_added

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
    for folder in (*(args.rebuild or []), config.live.record_dir, *map(str, known)):
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

    from voicecoach.store.delete import DeleteError, calls_to_delete, delete_call, plan_deletion
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


def _profile_settings(config) -> dict:
    """Keyword arguments that measure speech for profiles and clip scores with the
    config's settings: the live warmth meter's windows ([warmth]), [prosody], [vad]."""
    from voicecoach.store.profile import ProfileOptions

    return {"options": ProfileOptions(warmth=config.warmth),
            "prosody_options": config.prosody, "vad_options": config.vad}


def _agent_device(given: Optional[str], config) -> Optional[str]:
    """The agent's microphone: as given on the command line, else ``[live] agent_device``;
    None: the system's default input."""
    return given or config.live.agent_device or None


def cmd_calibrate(args) -> int:
    from voicecoach.sources.audio import AudioError
    from voicecoach.store.profile import (
        CALIBRATION_PASSAGE,
        check_mic,
        profile_from_audio,
        read_mono,
        record_mic,
    )

    if args.mic and args.audio:
        raise UserError("give recordings of your ordinary speech or --mic, not both")
    if not args.mic and not args.audio:
        raise UserError("nothing to calibrate from: give recordings of your ordinary speech "
                        "(`calibrate me1.wav me2.wav -o me.json`), or --mic to read a passage aloud")
    mic_only = [o for o, v in (("--seconds", args.seconds), ("--device", args.device)) if v is not None]
    if mic_only and not args.mic:       # not ignored: the user meant something by it
        raise UserError(f"{mic_only[0]} is for recording with --mic; recordings given are measured whole")
    if args.mic and args.agent_channel:
        raise UserError("--agent-channel chooses your side of a stereo recording; --mic records the "
                        "microphone's channel [live] agent_channel in the config")
    config = _load_config(args)
    _check_output("-o", args.output, [*((a, "a recording") for a in args.audio),
                                      *_settings_read(args, config, profile=False)],   # it makes the profile
                  records=("writing the voice profile over it", "me.json"))
    settings = _profile_settings(config)
    if args.mic:
        from voicecoach.sources.devices import resolve_device

        spec = _agent_device(args.device, config)
        device = resolve_device(spec) if spec is not None else None     # as live --agent
        channel = config.live.agent_channel   # as live takes the agent from that input
        check_mic(device, channel=channel)   # before the countdown, not after it
        print("Read this aloud in your ordinary voice, as you would to a caller:\n")
        print(CALIBRATION_PASSAGE + "\n")
        seconds = args.seconds if args.seconds is not None else MIC_SECONDS
        try:
            for n in (3, 2, 1):
                print(f"\rStarting in {n}…", end="", flush=True)
                time.sleep(1.0)
            print("\rRecording — read now." + " " * 10, flush=True)
            audio = record_mic(seconds, device, on_level=_level_meter, channel=channel)
        finally:
            print()    # the countdown's or the level meter's line ends, before any error line (Ctrl-C)
        recordings, names = [audio], ["microphone"]
    else:
        recordings = [read_mono(p, args.agent_channel or "left") for p in args.audio]
        names = [Path(p).name for p in args.audio]
    for name, audio in zip(names, recordings):
        _note(_clipped(name, audio))
    try:
        profile = profile_from_audio(recordings, names=names, **settings)
    except AudioError as exc:
        raise AudioError(f"{exc}{_other_side(args, args.audio)}") from None
    for name in profile["without_speech"]:
        _note(f"{name} gave no speech (a muted take, or the wrong file?); the profile is made from the "
              "other recordings" + _other_side(args, [p for p in args.audio if Path(p).name == name]))
    from voicecoach.store.calls import write_private

    out = args.output
    try:
        write_private(out, json.dumps(profile, indent=1))
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    note = ""
    if not args.no_remember:
        from voicecoach.config import ConfigError, remember_setting

        try:      # where it was written: a "~" that the shell left (--output=~/me.json) expanded
            note = remember_setting(args.config, "warmth", "profile", str(user_path(out).resolve()))
        except ConfigError as exc:
            note = f"Could not remember it in the config: {exc}; until then, use --profile."
        except OSError as exc:
            note = f"Could not remember it in the config ({exc.strerror or exc}); until then, use --profile."
        except UnicodeEncodeError:
            note = ("Could not remember it in the config: its folder's name is not UTF-8 text, which the "
                    "config file cannot hold; until then, use --profile (or move it to another folder).")
    print(f"Voice profile written to {out} ({profile['voiced_s']:.0f} s of voiced speech). "
          + (note or "Use it with --profile (analyze, live, warmth)."))
    return 0


def _other_side(args, paths) -> str:
    """The hint when recordings gave too little speech and one of them is stereo: only one
    side was measured, and a softphone that records the agent on the right gave "record
    more of your ordinary voice" for a recording full of it."""
    from voicecoach.sources.audio import channel_count

    stereo = [Path(p).name for p in paths if channel_count(p) == 2]
    if not stereo:
        return ""
    side, other, fix = (("right", "left", "leave out --agent-channel right") if args.agent_channel == "right"
                        else ("left", "right", "add --agent-channel right"))
    return (f"; {', '.join(stereo)} {'is' if len(stereo) == 1 else 'are'} stereo and only the {side} side "
            f"was measured: if you are on the {other}, {fix}")


def _clipped(name, audio) -> str:
    """A note when a recording a voice profile is made from was recorded too loud."""
    from voicecoach.sources.audio import CLIP_SHARE, clipped_samples

    share = clipped_samples(audio) / len(audio) if len(audio) else 0.0
    if share <= CLIP_SHARE:
        return ""
    return (f"{name} is clipped ({share:.1%} of its samples at full scale): it was recorded too loud, so the "
            "profile holds a harsher voice than yours; record it again a little quieter or further from the mic")


def _level_meter(level_dbfs: float, left_s: float) -> None:
    """One terminal line: the mic's level as a bar (-60..0 dBFS) and the seconds to go."""
    cells = 30
    n = int(round(min(max((level_dbfs + 60.0) / 60.0, 0.0), 1.0) * cells))
    hint = "speak up" if level_dbfs < -45 else "too loud" if level_dbfs > -3 else "good"
    print(f"\r  [{'█' * n}{'·' * (cells - n)}] {level_dbfs:5.0f} dB  {hint:<9} {left_s:4.0f} s left",
          end="", flush=True)


def cmd_warmth(args) -> int:
    from voicecoach.store.profile import score_clips

    config = _load_config(args)
    baseline = _profile_for(args, config)
    results = score_clips(args.clips, profile=baseline, channel=args.agent_channel or "left",
                          **_profile_settings(config))
    if args.json:
        against = "profile" if baseline is not None else "average voice"     # much less reliable
        json.dump([{"file": r["file"], "warmth": r["warmth"], "reason": r["reason"], "baseline": against}
                   for r in results], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if baseline is None:
        print("(no voice profile: scored against an average voice, which is much less reliable; "
              "`voicecoach calibrate` makes yours)")
    from voicecoach.sinks.view import text_table
    from voicecoach.store.history import format_score

    why = any(r["warmth"] is None for r in results)           # a column of its own only when needed
    table = [("Clip", "Warmth", *(("Why none",) if why else ()))]
    table += [(r["file"], format_score(r["warmth"], ".2f"), *((r.get("reason") or "",) if why else ()))
              for r in results]
    print("\n".join(text_table(table, right={1})))
    return 0


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

        def make_source():
            if len(calls) == 1:
                return ReplaySource(calls[0], streams=streams)
            return PlaylistSource([(args.gap if i else 0.0, c) for i, c in enumerate(calls)], realtime=True,
                                  streams=streams)
    else:
        from voicecoach.sources.capture import DeviceSource
        from voicecoach.sources.devices import DeviceError, refresh_portaudio, resolve_device
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
        from voicecoach.store.calls import private_folder
        from voicecoach.store.recovery import recover_in_background

        import tempfile

        try:
            with tempfile.TemporaryFile(dir=private_folder(record_dir)):   # said now, not at the first call
                pass
        except OSError as exc:
            raise UserError(f"cannot record in {record_dir}: {exc.strerror or exc}") from None
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
    from voicecoach.store.calls import data_dir
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
                             ConsoleView(sentence_gap_s=shift.config.language.sentence_gap_s)))
    channels = shift.source.channels
    print(f"VoiceCoach live — {what}" +
          ("" if "customer" in channels else " (mic only: warmth and pace; no call audio)") +
          (f"; recording each call to {record_dir}" if record_dir else "") +
          ". Each call is found by itself; Ctrl-C ends the shift.", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):     # SIGHUP: its terminal was closed
        signal.signal(sig, lambda *_: shift.stop())
    return shift.run(stop_after_s=args.stop_after)


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
    from voicecoach.store.record import RecordError
    from voicecoach.store.team import TeamError
    from voicecoach.stt.whisper import ModelError

    from voicecoach.sources.library_noise import filter_library_noise

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


if __name__ == "__main__":
    sys.exit(main())
