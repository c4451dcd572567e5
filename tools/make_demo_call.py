"""Build the demo call that ships with VoiceCoach from its script.

Reads ``voicecoach/data/demo_script.toml``, speaks the agent with the first available
voice of ``[voices] agent`` (hibari's "heart") and the customer with the first of
``[voices] customer`` (piper's "joe", else espeak-ng), and writes
``voicecoach/data/demo_call.flac`` (16 kHz stereo PCM_16, left agent, right customer)
and ``demo_call.truth.json`` beside it. Prints the truth spans beside the spans
measured from the audio, and the file's size.

    python3 -m tools.make_demo_call
"""
from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Optional, Sequence

from tools.callgen import (
    VOICES,
    Call,
    Turn,
    render_call,
    span_report,
    voice_available,
    write_call,
)
from voicecoach.events import CHANNELS

DATA = Path(__file__).resolve().parent.parent / "voicecoach" / "data"
MAX_BYTES = 1_500_000
"""The committed FLAC must stay under this size (bytes)."""


def pick_voice(candidates: Sequence[str]) -> str:
    """The first available voice of ``candidates`` (names from :data:`tools.callgen.VOICES`)."""
    for name in candidates:
        if voice_available(VOICES[name]):
            return name
    raise RuntimeError(f"none of the voices {list(candidates)} can be rendered here")


def load_script(path: Path) -> tuple[list[Turn], dict, dict[str, str]]:
    """Read a demo script.

    Returns
    -------
    turns : list of Turn
        The turns, each with its side's voice.
    call : dict
        The ``[call]`` table: ``noise_dbfs``, ``tail_s``, ``seed``.
    voices : dict
        The chosen voice per side.
    """
    script = tomllib.loads(path.read_text(encoding="utf-8"))
    voices = {side: pick_voice(script["voices"][side]) for side in CHANNELS}
    turns = [Turn(t["speaker"], t["text"], voices[t["speaker"]], gap_s=t.get("gap_s", 0.5),
                  overlap_s=t.get("overlap_s"), label=t.get("label")) for t in script["turn"]]
    return turns, script["call"], voices


def make_demo_call(script: Path, output: Path) -> tuple[Call, dict[str, str]]:
    """Render ``script``, write the call and its truth to ``output`` (.flac).

    Returns
    -------
    call : Call
    voices : dict
        The voice that spoke for each side.
    """
    turns, opts, voices = load_script(script)
    call = render_call(turns, tail_s=opts["tail_s"], noise_dbfs=opts["noise_dbfs"], seed=opts["seed"])
    write_call(call, output)
    return call, voices


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line; see ``--help``."""
    p = argparse.ArgumentParser(prog="python3 -m tools.make_demo_call", description=__doc__.split("\n")[0])
    p.add_argument("--script", type=Path, default=DATA / "demo_script.toml", help="the call's script (TOML)")
    p.add_argument("-o", "--output", type=Path, default=DATA / "demo_call.flac", help="output .flac path")
    args = p.parse_args(argv)
    call, voices = make_demo_call(args.script, args.output)
    t = call.truth
    size = args.output.stat().st_size
    print("\n".join(span_report(call)))
    print(f"\n{args.output}: {t['duration']:.1f} s, {size / 1e6:.2f} MB, voices {voices}")
    print(f"talk time {t['talk_time']}, agent {t['agent_words']} words, {t['agent_wpm']:.0f} wpm")
    for e in t["events"]:
        print(f"  {e['kind']:12} by {e['by']:8} {e['start']:7.2f} .. {e['end']:7.2f}")
    if size > MAX_BYTES:
        print(f"too large: {size} bytes > {MAX_BYTES}; shorten the script or lower the noise floor")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
