"""The commands on the agent's voice: ``calibrate`` (a voice profile) and ``warmth`` (clips scored)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

from voicecoach.cli.common import (
    UserError,
    _check_output,
    _load_config,
    _note,
    _profile_for,
    _settings_read,
)
from voicecoach.cli.parser import MIC_SECONDS
from voicecoach.paths import user_path


def _profile_settings(config) -> dict:
    """Keyword arguments that measure speech for profiles and clip scores with the
    config's settings: the live warmth meter's windows ([warmth]), [prosody], [vad]."""
    from voicecoach.analyzers.profile import ProfileOptions

    return {"options": ProfileOptions(warmth=config.warmth),
            "prosody_options": config.prosody, "vad_options": config.vad}


def _agent_device(given: Optional[str], config) -> Optional[str]:
    """The agent's microphone: as given on the command line, else ``[live] agent_device``;
    None: the system's default input."""
    return given or config.live.agent_device or None


def cmd_calibrate(args) -> int:
    from voicecoach.analyzers.profile import profile_from_audio, read_mono
    from voicecoach.sources.audio import AudioError
    from voicecoach.sources.mic import CALIBRATION_PASSAGE, check_mic, record_mic

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
    from voicecoach.store.private import write_private

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
    from voicecoach.analyzers.profile import score_clips

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
