"""What Whisper hears of the dev sentences, for training the sentence model on it.

The language cues run on Whisper's words, not on the sentences as written: "I'll also
email you a list" arrives as "I also email you at least", "Intune" as "and tune". The sentence
model (``tools/train_cues.py --heard``) can learn such wordings only from transcripts
of speech. This speaks each ``dev`` sentence of ``benchmarks/data/cues.txt`` with the
offline voice ``benchmarks.cues`` gives it (eight voices in turn, by the line's place in
its writer's part) and transcribes it with Whisper tiny.en (int8, beam 1), as
``benchmarks.cues --heard`` hears the held-out sentences, with one difference that makes
it about three times faster: the sentences of one voice are transcribed up to
:data:`PACK_S` seconds at a time, :data:`GAP_S` of silence apart, and each word goes back
to its sentence (:func:`assign`). A sentence on its own pays for a whole 30 s window.
All 13,675 agent sentences took 77 minutes on two Zen 4 cores shared with other work.

Speech is cached with the benchmark's (``--cache``); the transcripts go to
``heard-dev.jsonl`` there, a JSON object a line: ``{"voice", "text", "heard"}``. A second
run, or a second process over the other shard (``--shard 1/2``), adds only what is
missing. The held-out sentences are never read.

    python3 -m tools.hear_dev [--side agent|caller] [--shard K/N] [--cache DIR]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.cues import DATA, Hearer, default_cache, load  # noqa: E402
from voicecoach.events import AGENT, CUSTOMER, SAMPLE_RATE  # noqa: E402

PACK_S = 24.0
"""Seconds of speech transcribed at once: one 30 s Whisper window, with room to spare."""
GAP_S = 1.2
"""Silence between two packed sentences (on top of the 0.4 s each one's speech is padded
with): more than a pause inside a sentence, so no word is heard across the join."""
FILE = "heard-dev.jsonl"


def heard_file(cache: Path) -> Path:
    return cache / FILE


def read_heard(cache: Path) -> dict[str, dict[str, str]]:
    """text -> {voice: what Whisper heard}, from ``heard-dev.jsonl`` (empty if none)."""
    path = heard_file(cache)
    out: dict[str, dict[str, str]] = {}
    if path.is_file():
        for raw in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(raw)
            except ValueError:   # a line cut short by a run that was stopped
                continue
            out.setdefault(row["text"], {})[row["voice"]] = row["heard"]
    return out


def dev_voices(hearer: Hearer, data: Path = DATA) -> list[tuple[object, str]]:
    """Each dev line with the voice ``benchmarks.cues`` gives it (its place in its part)."""
    seen: Counter = Counter()
    out = []
    for line in load(data):
        place = seen[line.part]
        seen[line.part] += 1
        if line.split == "dev":
            out.append((line, hearer.voice_for(place)))
    return out


def _norm(word: str) -> str:
    return re.sub(r"[^a-z0-9']", "", word.lower())


def assign(words: Sequence[tuple[float, float, str]], bounds: Sequence[float],
           texts: Sequence[str]) -> list[list[str]]:
    """The words (start, end, text) of a packed transcript, sentence by sentence.

    A word goes to the sentence of the written word it is aligned with (``difflib``,
    case and punctuation aside), or, where the alignment spans two sentences, to the
    sentence whose span, cut at ``bounds`` (the middles of the silences between the
    sentences, s), holds its middle. Whisper's times alone are not enough: the last word
    before a silence is often placed a second late ("my name is Dana." with "Dana." at
    the start of the next sentence).

    >>> assign([(0.1, 0.4, "Hi"), (0.5, 1.9, "there."), (2.2, 2.5, "Bye.")], [1.5],
    ...        ["Hi there.", "Bye."])
    [['Hi', 'there.'], ['Bye.']]
    """
    from difflib import SequenceMatcher

    ref = [(k, _norm(w)) for k, text in enumerate(texts) for w in text.split()]
    hyp = [_norm(w[2]) for w in words]
    by_time = [int(np.searchsorted(bounds, (s + e) / 2)) for s, e, _ in words]
    owner = list(by_time)
    matcher = SequenceMatcher(None, [r for _, r in ref], hyp, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "delete":
            continue
        if op == "equal":
            owner[j1:j2] = [ref[i][0] for i in range(i1, i2)]
            continue
        near = {ref[i][0] for i in range(max(0, i1 - (i1 == i2)), min(len(ref), max(i2, i1 + 1)))}
        if len(near) == 1:
            owner[j1:j2] = [near.pop()] * (j2 - j1)
    out: list[list[str]] = [[] for _ in texts]
    for (_, _, text), k in zip(words, owner):
        out[k].append(text)
    return out


def hear_packed(hearer: Hearer, voice: str, texts: Sequence[str]) -> Iterator[tuple[list[str], list[str]]]:
    """Speak ``texts`` with ``voice`` and transcribe them :data:`PACK_S` seconds at a
    time; yields (the texts of a pack, what Whisper heard of each)."""
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)
    i = 0
    while i < len(texts):
        pack, audio, bounds, t = [], [], [], 0.0
        while i < len(texts):
            y = hearer.speak(texts[i], voice, False)
            if pack and t + len(y) / SAMPLE_RATE > PACK_S:
                break
            if pack:
                bounds.append(t + GAP_S / 2)
                audio.append(gap)
                t += GAP_S
            pack.append(texts[i])
            audio.append(y)
            t += len(y) / SAMPLE_RATE
            i += 1
        heard = assign(hearer.transcribe(np.concatenate(audio)), bounds, pack)
        yield pack, [" ".join(words) for words in heard]


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", choices=("agent", "caller"), default="agent")
    ap.add_argument("--shard", default="0/1", help="K/N: only every N-th sentence of each voice, from the K-th")
    ap.add_argument("--cache", type=Path, default=default_cache())
    ap.add_argument("--voices", default="espeak,piper,hibari")
    args = ap.parse_args(argv)
    try:
        k, n = (int(x) for x in args.shard.split("/"))
    except ValueError:
        k, n = -1, 0
    if not 0 <= k < n:
        print(f"--shard {args.shard}: expected K/N with 0 <= K < N", file=sys.stderr)
        return 2
    try:
        hearer = Hearer(args.cache, args.voices.split(","))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    side = AGENT if args.side == "agent" else CUSTOMER
    done = read_heard(args.cache)
    todo: dict[str, list[str]] = {}
    for line, voice in dev_voices(hearer):
        if line.channel == side and voice not in done.get(line.text, {}):
            todo.setdefault(voice, [])
            if line.text not in todo[voice]:
                todo[voice].append(line.text)
    todo = {v: texts[k::n] for v, texts in todo.items()}
    total = sum(map(len, todo.values()))
    print(f"{total} sentences to hear ({len(done)} heard before)", flush=True)
    out = heard_file(args.cache)
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("a", encoding="utf-8") as f:
        for voice, texts in todo.items():
            for pack, heard in hear_packed(hearer, voice, texts):
                for text, words in zip(pack, heard):
                    f.write(json.dumps({"voice": voice, "text": text, "heard": words}) + "\n")
                f.flush()
                count += len(pack)
                print(f"{count}/{total}", end="\r", flush=True)
    print(f"{count} sentences heard; {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
