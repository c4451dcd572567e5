"""Language tips during a live call: how soon after the phrase each one reaches the agent.

Issue 17 asks that a language tip (jargon, a scary or patronizing phrase: the cues that
come with a plainer way to say it, :data:`voicecoach.sinks.view.REPHRASE`) arrive
within 3 s of the phrase when the machine keeps up. This builds a call whose agent
says sentences of the labelled cue set (``benchmarks/data/``) that carry such a cue,
one or two to a turn, between lines of a caller, plays it into a private PulseAudio
daemon and coaches it live, as ``benchmarks/live.py`` does (or replays it at
real-time pace with ``--replay`` or without PulseAudio). Each tip's latency is the
wall-clock time from the capture of the audio in which the phrase ended (Whisper's
timestamp of its last word; of the sentence's last word where the sentence model
fired on the whole sentence) to the tip's emission. It prints p50, p95, the share
within 3 s, and the same split by what decided the tip: a phrase of the lists, a
trade term (decided by the sentence model's vote on the sentence so far when the term
is heard, or else on the whole sentence at its close), or the sentence model alone.

    python3 -m benchmarks.tips [--sentences 40] [--seed 1] [--agent-voice piper-joe] [--trade-terms] [--replay]

``--trade-terms`` picks only jargon sentences that hold a trade term: the tips that
wait for the sentence model's vote.

Target (issue 17): a tip within 3 s of the phrase when the machine keeps up.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.machine import machine

TARGET_S = 3.0
KINDS = ("jargon", "scary", "patronizing")


def holds_term(text: str, terms) -> bool:
    from voicecoach.analyzers.lexicon import normalize_phrase

    return bool(terms.find(normalize_phrase(text))[0])


def script(n: int, seed: int, terms=None) -> list[tuple[str, str]]:
    """``(speaker, text)`` turns: ``n`` labelled agent sentences, one or two to a turn,
    each turn answered by a caller line. With ``terms`` (the trade terms' phrase set),
    only jargon sentences that hold one of them."""
    from benchmarks.cues import load
    from tools.callgen import CUSTOMER_LINES

    rng = np.random.default_rng(seed)
    pool = [ln.text for ln in load() if ln.channel == "agent" and ln.cues & set(KINDS)
            and (terms is None or ("jargon" in ln.cues and holds_term(ln.text, terms)))]
    picked = [pool[i] for i in rng.choice(len(pool), size=min(n, len(pool)), replace=False)]
    turns, i = [], 0
    while i < len(picked):
        k = 1 + int(rng.random() < 0.5)
        turns.append(("agent", " ".join(picked[i:i + k])))
        turns.append(("customer", CUSTOMER_LINES[int(rng.integers(len(CUSTOMER_LINES)))]))
        i += k
    return turns


def make_call(turns: list[tuple[str, str]], agent_voice: str, folder: Path) -> tuple[Path, float]:
    from tools.callgen import AGENT, CUSTOMER, CallBuilder, Turn

    voices = {AGENT: agent_voice, CUSTOMER: "espeak-gb-f"}
    rng = np.random.default_rng(0)
    builder = CallBuilder()
    for speaker, text in turns:
        builder.add(Turn(speaker, text, voices[speaker], gap_s=float(rng.uniform(0.4, 1.2))))
    call = builder.build()
    path = folder / "call.wav"
    sf.write(path, call.audio, call.sr, subtype="PCM_16")
    return path, len(call.audio) / call.sr


def decided_by(event, trade_terms) -> str:
    if event.data.get("by") == "model":
        return "sentence model"
    from voicecoach.analyzers.lexicon import normalize_phrase

    tokens = normalize_phrase(event.data["phrase"])
    m = trade_terms.longest_at(tokens, 0)
    return "trade term" if m is not None and m.end == len(tokens) else "phrase list"


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=40, help="labelled agent sentences in the call")
    ap.add_argument("--seed", type=int, default=1, help="picks the sentences and their turns")
    ap.add_argument("--agent-voice", default="piper-joe", help="a tools.callgen voice name")
    ap.add_argument("--trade-terms", action="store_true",
                    help="only jargon sentences that hold a trade term (the tips that wait for a vote)")
    ap.add_argument("--replay", action="store_true", help="replay the file instead of real devices")
    args = ap.parse_args()
    if args.sentences < 1:
        ap.error("--sentences must be 1 or more")
    from benchmarks.live import device_source
    from tools.callgen import VOICES, voice_available
    from voicecoach.config import Config
    from voicecoach.live import LiveSession
    from voicecoach.sinks.view import REPHRASE
    from voicecoach.stt.whisper import tune_malloc

    if args.agent_voice not in VOICES or not voice_available(VOICES[args.agent_voice]):
        print(f"benchmarks.tips: voice {args.agent_voice!r} is not available here "
              f"(known: {', '.join(VOICES)})", file=sys.stderr)
        return 2
    tune_malloc()
    print(f"machine: {machine()}", flush=True)
    tips: list = []
    with tempfile.TemporaryDirectory(prefix="voicecoach-tips-") as tmp:
        from voicecoach.analyzers.language import LanguageCues

        config = Config()
        terms = LanguageCues(config.language).lexicon["trade_terms"] if args.trade_terms else None
        turns = script(args.sentences, args.seed, terms)
        path, duration = make_call(turns, args.agent_voice, Path(tmp))
        print(f"call: {duration / 60:.1f} min, {args.sentences} labelled agent sentences "
              f"({args.agent_voice}) in {len(turns) // 2} turns, at real-time pace", flush=True)
        with device_source(path, not args.replay) as (source, play):
            session = LiveSession(source, config, name="tips benchmark")
            trade_terms = session.engine.language.lexicon["trade_terms"]

            def watch(kind, payload):
                if kind == "event" and payload.kind == "cue" and payload.data.get("cue") in REPHRASE:
                    tips.append(payload)

            session.subscribe(watch)
            runner = threading.Thread(target=lambda: session.run(stop_after_s=duration + 2.0),
                                      name="engine (session.run)")
            runner.start()
            time.sleep(1.0)
            play()
            runner.join()
    timed = [e for e in tips if e.latency is not None]
    groups = defaultdict(list)
    for e in timed:
        groups[decided_by(e, trade_terms)].append(e.latency)
    print(f"\nlanguage tips: {len(tips)} ({len(timed)} timed)")
    for name, xs in [("all", [e.latency for e in timed])] + sorted(groups.items()):
        within = sum(x <= TARGET_S for x in xs) / len(xs) if xs else float("nan")
        print(f"  {name}: {len(xs)}, after the phrase p50 {pct(xs, 50):.2f} s, p95 {pct(xs, 95):.2f} s, "
              f"max {max(xs, default=float('nan')):.2f} s; within {TARGET_S:g} s: {within:.0%}"
              + (" (target: within 3 s)" if name == "all" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
