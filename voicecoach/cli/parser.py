"""The command line: every command, its options and their help."""
from __future__ import annotations

import argparse
import math

from voicecoach import __version__
from voicecoach.paths import user_path

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


def _add_common(p: argparse.ArgumentParser, nested: bool = False) -> None:
    """``--config``; ``nested`` for a sub-command's own sub-commands (``team list``), whose
    default must not overwrite the one given before them (``team --config F list``)."""
    p.add_argument("--config", type=_file_name, metavar="FILE", default=argparse.SUPPRESS if nested else None,
                   help="settings file (TOML); default: the user config file if it exists")


TEAM_OVERVIEW_CALLS, TEAM_LIST_CALLS = 5, 20
"""How many calls `team` shows per agent, and `team list` of one agent, unless -n says."""


def _number_of_seconds(text: str, zero: bool) -> float:
    """A finite number of seconds: above 0, or 0 or more when ``zero``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise argparse.ArgumentTypeError(f"{text} must be a number of seconds, 0 or more" if zero
                                         else f"{text} must be a number of seconds above 0")
    return value


def _seconds(text: str) -> float:
    """An argument in seconds: a finite number above 0."""
    return _number_of_seconds(text, zero=False)


def _gap_seconds(text: str) -> float:
    """Silence between replayed calls: a finite number of seconds, 0 or more."""
    return _number_of_seconds(text, zero=True)


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
