"""Language cues on labelled support-call sentences: precision and recall per cue kind.

The set is ``benchmarks/data/cues.txt`` (its header gives the format and the labelling
rules) and ``cues_held_out.txt`` beside it: sentences written for VoiceCoach, both sides
of a call, each with the cues it should fire; every other cue kind of its side is one it
must not fire. The first holds the ``dev`` part (looked at while writing rules), the
second the ``held-out`` part (only measured).

Each sentence is scored as one call: a fresh :class:`LanguageCues` is fed its words on
the agent or the caller channel and flushed; the cue kinds it fired are compared with
the labels. A caller's sentence comes after the line above it in its call, as written
(:func:`context_words`): whether the caller is answering the agent's question or going
on with their own turn is part of what makes a problem. Conditions:

- ``text``: the sentence as written, split into Whisper-style words (0.3 s apart);
- ``heard``: the sentence spoken by an offline voice (espeak-ng, piper ``joe``, hibari
  ``heart``, taken in turn, as ``tools/callgen.py`` renders them) and transcribed by
  Whisper tiny.en (int8, beam 1, word times), labels unchanged. The report is printed
  again by voice family, with Whisper's word error rate on each: espeak-ng's six voices
  are misheard about four times as often as the two neural ones;
- ``phone``: the caller's sentences through a narrowband µ-law phone line
  (``tools.degrade.phone_line``) before Whisper, as the call audio arrives; the
  agent's (heard from the headset mic) as in ``heard``;
- ``split``: the caller's sentences as Whisper often writes one said with a breath in
  it, as two sentences (:func:`split_words`); the agent's as written.

Speech and transcripts are cached under ``--cache`` (default
``$XDG_CACHE_HOME/voicecoach/bench-cues``), never in the repository; a second run
takes seconds.

Targets (issue 17): precision >= 0.90 and recall >= 0.80 for commitments, caller's
problems, jargon, scary and patronizing phrases; the other kinds are printed
without a target.

How far the labels themselves can be trusted: ``benchmarks/data/cues_second.txt``
holds a second labeller's labels for every held-out part (the target kinds only), given
the same rules, the calls in order and not the first labels. With ``--second``
the benchmark prints how the two labellers agree (the second scored against the
first, as if it were a cue detector), VoiceCoach scored against the second, and
VoiceCoach on the sentences both labellers label alike for that kind.

How much of a cue survives Whisper: ``benchmarks/data/cues_heard.txt`` labels what
Whisper heard of each held-out agent sentence, by helpers who saw only the transcripts
and were told to label what they show. With ``--heard --heard-labels`` the benchmark
prints the same three columns for them: the transcripts' labels against the written
ones (their recall is the share of labelled cues a reader can still find in what was
heard), VoiceCoach's heard cues against the transcripts' labels, and against the
written labels where both agree.

    python3 -m benchmarks.cues [--heard] [--phone] [--split] [--second] [--only dev|held-out]
                               [--side agent|caller] [--heard-labels]
                               [--show dev|held-out|all]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicecoach.analyzers.language import ACK_WORDS, LanguageCues, LanguageOptions  # noqa: E402
from voicecoach.analyzers.sentence_model import MIN_TOKENS  # noqa: E402
from tools.scoring import normalize_text  # noqa: E402
from voicecoach.events import AGENT, CUSTOMER, Word  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "cues.txt"
"""The dev sentences, and the set's format and labelling rules in its header."""
HELD_OUT = DATA.with_name("cues_held_out.txt")
"""The held-out sentences, writer by writer (a file of their own: one file would pass 2 MiB)."""
SET = (DATA, HELD_OUT)
SECOND = Path(__file__).resolve().parent / "data" / "cues_second.txt"
HEARD_LABELS = SECOND.with_name("cues_heard.txt")
"""What Whisper heard of each held-out agent sentence, labelled as heard (its header says how)."""
SPLITS = ("dev", "held-out")
KINDS = {
    AGENT: ("commitment", "jargon", "scary", "patronizing", "greeting", "empathy",
            "question_open", "question_closed", "closing_question"),
    CUSTOMER: ("problem",),
}
"""The cue kinds scored, by channel (filler, positive/negative wording and hostile
language are not labelled)."""
ORDER = ("commitment", "problem", "jargon", "scary", "patronizing", "greeting", "empathy",
         "question_open", "question_closed", "closing_question")
TARGETS = {kind: (0.90, 0.80) for kind in ("commitment", "problem", "jargon", "scary",
                                           "patronizing")}
"""Cue kind -> (precision, recall) floor."""
_SIDES = {"A": AGENT, "C": CUSTOMER}


@dataclass(frozen=True)
class Line:
    """One labelled sentence."""

    split: str
    channel: str
    cues: frozenset
    text: str
    lineno: int
    part: str = ""     # who wrote it: the latest "# part: NAME" line above it
    source: str = ""   # the name of the file it is in
    before: Optional[tuple[str, str, frozenset]] = None
    """(channel, text, cues) of the line said last before it in its call, as
    :meth:`LanguageCues.context_at` counts turns, a line at a time: the nearest line above
    it of the other side of more than ``ACK_WORDS`` words ("Okay." is no line of its own),
    or of its own side of ``MIN_TOKENS`` words or more ("No, just shaken." is too short to
    be a turn of its own), after the last ``# ---`` (a new call) or ``# part:`` line; None
    at a call's start. (At run time two short sentences of one turn count together: "Done.
    Anything else?" is a turn; here it is not. That reads 2 of the 10,143 caller lines
    differently.)"""
    problem_before: bool = False
    """Whether a line above it in its call is labelled a caller's problem."""

    @property
    def context(self) -> tuple[str, ...]:
        """What was said before the line (:data:`voicecoach.analyzers.sentence_model.CONTEXT`)
        by its labels, as :meth:`LanguageCues.context_at` finds it in the words: the line
        above is the same side's, or the other side's labelled an open or closed question
        once the caller has brought up a problem."""
        if self.before is None:
            return ()
        if self.before[0] == self.channel:
            return ("continues_turn",)
        asks = self.before[2] & {"question_open", "question_closed"}
        return ("after_question",) if asks and self.problem_before else ()


def load(paths: Path | Sequence[Path] = SET) -> list[Line]:
    """The labelled sentences of ``paths`` (a file, or files read in turn).

    Raises
    ------
    ValueError
        A malformed line, an unknown side or a cue kind its side cannot fire.
    """
    if isinstance(paths, Path):
        paths = [paths]
    return [line for path in paths for line in _load_one(path)]


def _load_one(path: Path) -> list[Line]:
    lines: list[Line] = []
    split, part, problem = None, "", False
    before: dict[str, Optional[tuple[str, str, frozenset]]] = dict.fromkeys(KINDS)
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = raw.strip()
        if s.startswith("# part:"):
            part = s.split(":", 1)[1].strip()
        if s.startswith(("# part:", "# ---")):
            before, problem = dict.fromkeys(KINDS), False
        if not s or s.startswith("#"):
            continue
        if s.startswith("[") and s.endswith("]"):
            split, before, problem = s[1:-1], dict.fromkeys(KINDS), False
            if split not in SPLITS:
                raise ValueError(f"{path}:{n}: unknown section {s} (expected {SPLITS})")
            continue
        parts = [p.strip() for p in s.split("|", 2)]
        if split is None or len(parts) != 3 or parts[0] not in _SIDES or not parts[2]:
            raise ValueError(f"{path}:{n}: expected 'A|C | cues | text' inside a section")
        channel = _SIDES[parts[0]]
        cues = frozenset() if parts[1] == "-" else frozenset(c.strip() for c in parts[1].split(","))
        if cues - set(KINDS[channel]):
            raise ValueError(f"{path}:{n}: {sorted(cues - set(KINDS[channel]))} "
                             f"is not a {channel} cue kind {KINDS[channel]}")
        lines.append(Line(split, channel, cues, parts[2], n, part, path.name, before[channel], problem))
        words = len(parts[2].split())
        for side in before:
            if words >= (MIN_TOKENS if side == channel else ACK_WORDS + 1):
                before[side] = (channel, parts[2], cues)
        problem = problem or "problem" in cues
    return lines


def written_words(text: str, channel: str, dt: float = 0.3) -> list[Word]:
    """The sentence as Whisper-style words: leading space, punctuation attached."""
    return [Word(channel, i * dt, i * dt + 0.25, " " + w) for i, w in enumerate(text.split())]


def split_words(text: str, channel: str) -> list[Word]:
    """The sentence as two, cut at the comma or conjunction (and, but, so, because)
    nearest its middle, as Whisper often writes a sentence said with a breath in it:
    "I ordered a new router last week. And it still hasn't arrived." A sentence with
    no such place, two words from either end, stays whole.

    >>> [w.text for w in split_words("It broke, and I want a refund.", "customer")]
    [' It', ' broke.', ' And', ' I', ' want', ' a', ' refund.']
    """
    ws = text.split()
    cuts = [i for i in range(2, len(ws) - 1)
            if ws[i - 1].endswith(",") or ws[i].lower() in ("and", "but", "so", "because")]
    if not cuts:
        return written_words(text, channel)
    i = min(cuts, key=lambda i: abs(i - len(ws) / 2))
    first = " ".join(ws[:i]).rstrip(",;:") + "."
    second = " ".join(ws[i:])
    return written_words(f"{first} {second[:1].upper()}{second[1:]}", channel)


_LEXICONS: dict = {}


CONTEXT_GAP_S = 2.0
"""Silence (s) between the line before and the line scored: a new sentence, and more than
a turn's pause (``TurnOptions.turn_pause_s``), so the two are never joined as one turn."""


EARLIER_PROBLEM = "My internet keeps dropping every evening."
"""Said first, when a caller's problem came earlier in the line's call (``problem_before``):
the analyzer then knows the caller has brought one up."""


def context_words(line: Line) -> list[Word]:
    """What comes before a caller's line, as written words ending ``CONTEXT_GAP_S``
    before its first word (at 0 s): its ``before`` line, after
    :data:`EARLIER_PROBLEM` when a problem came earlier in its call. None for the
    agent's lines, whose cues read each sentence alone."""
    if line.before is None or line.channel != CUSTOMER:
        return []
    said = [(line.before[0], line.before[1])]
    if line.problem_before:
        said.insert(0, (CUSTOMER, EARLIER_PROBLEM))
    words: list[Word] = []
    for channel, text in said:
        t0 = words[-1].end + CONTEXT_GAP_S if words else 0.0
        words += [Word(w.channel, w.start + t0, w.end + t0, w.text) for w in written_words(text, channel)]
    shift = -CONTEXT_GAP_S - words[-1].end
    return [Word(w.channel, w.start + shift, w.end + shift, w.text) for w in words]


def fired(words: Sequence[Word], channel: str,
          options: Optional[LanguageOptions] = None, before: Sequence[Word] = ()) -> frozenset:
    """The scored cue kinds one sentence (``words``, starting at 0 s or later) fires in a
    fresh call, after the words ``before`` it (their cues are not counted). The
    lexicons are loaded once per ``options``."""
    options = options or LanguageOptions()
    key = repr(options)
    if key not in _LEXICONS:
        _LEXICONS[key] = LanguageCues(options).lexicon
    cues = LanguageCues(options, _LEXICONS[key])
    cues.feed(list(before))
    events = cues.feed(list(words)) + cues.flush()
    return frozenset(e.data["cue"] for e in events if e.channel == channel and e.t >= 0) & set(KINDS[channel])


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> Optional[float]:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> Optional[float]:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def score(lines: Iterable[Line], predicted: Iterable[frozenset]) -> dict[str, Score]:
    """Per cue kind: true positives, false positives, false negatives."""
    out = {kind: Score() for kind in ORDER}
    for line, got in zip(lines, predicted):
        for kind in KINDS[line.channel]:
            want, has = kind in line.cues, kind in got
            s = out[kind]
            s.tp += want and has
            s.fp += has and not want
            s.fn += want and not has
    return out


def second_labels(lines: Sequence[Line], path: Path = SECOND, data: Sequence[Path] = SET,
                  channel: Optional[str] = None) -> tuple[list[int], list[frozenset]]:
    """Where in ``lines`` the held-out sentences a second labeller labelled are (those of
    the writers' parts ``path`` names), and its cues for each (the target kinds only), in
    their order: ``path`` holds those sentences, in the same order, in the format of
    ``cues.txt``. With ``channel``, that side's sentences alone (``lines`` holds no other).

    Raises
    ------
    ValueError
        ``path`` does not hold the same sentences (``cues_held_out.txt`` changed since).
    """
    second = [l for l in load(path) if channel is None or l.channel == channel]
    parts = {l.part for l in second}
    pick = [i for i, l in enumerate(lines) if l.split == "held-out" and l.part in parts]
    if [(l.part, l.channel, l.text) for l in second] != [(lines[i].part, lines[i].channel, lines[i].text)
                                                         for i in pick]:
        raise ValueError(f"{path} does not label the held-out sentences of "
                         f"{', '.join(p.name for p in data)} as they are now")
    return pick, [l.cues & set(TARGETS) for l in second]


def heard_labels(lines: Sequence[Line], heard: Sequence[str],
                 path: Path = HEARD_LABELS) -> tuple[list[int], list[frozenset], int]:
    """Where in ``lines`` the held-out agent sentences are that were heard here in the
    words ``path`` labels (``heard[i]``: what Whisper heard of ``lines[i]``; case and
    punctuation aside), the labels of each, and how many were heard otherwise (left out).

    ``path`` holds, in the format of ``cues.txt``, one line per held-out agent sentence
    of the writers' parts it names, in order, its text what Whisper heard.

    Raises
    ------
    ValueError
        ``path`` does not hold one line for each of those sentences.
    """
    labelled = load(path)
    parts = {l.part for l in labelled}
    pick = [i for i, l in enumerate(lines) if l.split == "held-out" and l.channel == AGENT and l.part in parts]
    if [l.part for l in labelled] != [lines[i].part for i in pick] or {l.channel for l in labelled} != {AGENT}:
        raise ValueError(f"{path} does not label the held-out agent sentences as they are now")
    same = [(i, l.cues & set(TARGETS)) for i, l in zip(pick, labelled)
            if normalize_text(heard[i]) == normalize_text(l.text)]
    return [i for i, _ in same], [c for _, c in same], len(pick) - len(same)


def agreement_report(lines: Sequence[Line], second: Sequence[frozenset],
                     got: Sequence[frozenset], kinds: Sequence[str] = ORDER,
                     names: tuple[str, str] = ("2nd", "VC")) -> str:
    """Three columns for the target kinds: the second labels scored against the first;
    ``got`` (VoiceCoach's cues) against the second; ``got`` against the first on the
    sentences both label alike for the kind. ``names`` names the second labels and
    ``got`` in the columns' heads."""
    first = [line.cues & set(TARGETS) for line in lines]
    kinds = [k for k in kinds if k in TARGETS]
    against_second = [Line(l.split, l.channel, s, l.text, l.lineno, l.part, l.source)
                      for l, s in zip(lines, second)]
    other, vc = names
    cols = {f"{other} vs 1st": score(lines, second), f"{vc} vs {other}": score(against_second, got)}
    both: dict[str, Score] = {}
    for kind in kinds:
        pick = [i for i, l in enumerate(lines)
                if kind in KINDS[l.channel] and (kind in first[i]) == (kind in second[i])]
        both[kind] = score([lines[i] for i in pick], [got[i] for i in pick])[kind]
    cols[f"{vc}, both agree"] = both
    return report(cols, kinds)


# -- Whisper-heard transcripts --------------------------------------------------------
def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "voicecoach" / "bench-cues"


class Hearer:
    """Speaks sentences with offline voices and transcribes them with Whisper, cached."""

    def __init__(self, cache: Path, voices: Sequence[str], model: str = "tiny.en"):
        from tools.callgen import expand_voices

        self.cache = cache
        self.voices = expand_voices(voices)
        self.model_name = model
        self._model = None
        self._synth = None

    def voice_for(self, i: int) -> str:
        return self.voices[i % len(self.voices)]

    def words(self, i: int, line: Line, phone: bool) -> list[Word]:
        voice = self.voice_for(i)
        key = hashlib.sha1(f"{voice}|{phone}|{self.model_name}|{line.text}".encode()).hexdigest()
        path = self.cache / "heard" / f"{key}.json"
        if path.exists():
            heard = json.loads(path.read_text())
        else:
            heard = self.transcribe(self.speak(line.text, voice, phone))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")   # a stopped run leaves no half file
            tmp.write_text(json.dumps(heard))
            os.replace(tmp, path)
        return [Word(line.channel, s, e, " " + w) for s, e, w in heard]

    def speak(self, text: str, voice: str, phone: bool):
        """The sentence spoken by ``voice`` (16 kHz, 0.4 s of silence each side; through the
        phone line if ``phone``), cached."""
        import numpy as np
        import soundfile as sf

        from tools.callgen import VOICES, Synthesizer
        from tools.degrade import phone_line
        from voicecoach.events import SAMPLE_RATE

        key = hashlib.sha1(f"{voice}|{text}".encode()).hexdigest()
        path = self.cache / "audio" / f"{key}.flac"
        if path.exists():
            y, _ = sf.read(path, dtype="float32")
        else:
            self._synth = self._synth or Synthesizer()
            speech = self._synth.render(text, VOICES[voice])
            pad = np.zeros(int(0.4 * SAMPLE_RATE), np.float32)
            y = np.concatenate([pad, speech, pad])
            y += np.random.default_rng(len(text)).normal(0, 1e-4, len(y)).astype(np.float32)
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, y, SAMPLE_RATE)
        return phone_line(y) if phone else y

    def transcribe(self, audio) -> list[tuple[float, float, str]]:
        """Whisper's words (start s, end s, text) of ``audio``, with the benchmark's settings."""
        from voicecoach.stt.whisper import TranscribeOptions, load_model

        o = TranscribeOptions(model=self.model_name)
        if self._model is None:
            self._model = load_model(o, num_workers=1)
        pieces, _ = self._model.transcribe(
            audio, language=o.language, beam_size=o.beam_size, word_timestamps=True,
            vad_filter=False, condition_on_previous_text=False, without_timestamps=False)
        return [(float(w.start), float(w.end), w.word.strip())
                for p in pieces for w in (p.words or []) if w.word.strip()]


# -- report -----------------------------------------------------------------------------
def _pr(s: Score, kind: str) -> str:
    p, r = s.precision, s.recall
    target = TARGETS.get(kind)

    def cell(v: Optional[float], floor: Optional[float]) -> str:
        if v is None:
            return "   - "
        return f"{v:4.2f}{'*' if floor is not None and v < floor else ' '}"

    return (cell(p, target[0] if target else None) + cell(r, target[1] if target else None)
            + f"{s.tp + s.fn:>3}")


def report(columns: dict[str, dict[str, Score]], kinds: Sequence[str] = ORDER) -> str:
    names = list(columns)
    head = f"{'cue':<17}" + "".join(f"{n:>16}" for n in names) + "   target P  R"
    sub = f"{'':<17}" + "".join(f"{'P     R    n':>16}" for _ in names)
    rows = [head, sub]
    for kind in kinds:
        t = TARGETS.get(kind)
        rows.append(f"{kind:<17}" + "".join(f"{_pr(columns[n][kind], kind):>16}" for n in names)
                    + (f"   >= {t[0]:.2f} {t[1]:.2f}" if t else ""))
    return "\n".join(rows)


def _columns(lines: Sequence[Line], conditions: dict[str, list[frozenset]],
             groups: dict[str, Callable[[Line], bool]]) -> dict[str, dict[str, Score]]:
    """One report column per condition and group of lines (a split, a writer's part)."""
    columns = {}
    for cond, got in conditions.items():
        for name, keep in groups.items():
            pick = [i for i, line in enumerate(lines) if keep(line)]
            columns[f"{cond} {name}"] = score([lines[i] for i in pick], [got[i] for i in pick])
    return columns


VOICE_FAMILIES = {"espeak": lambda v: v.startswith("espeak"),
                  "neural": lambda v: not v.startswith("espeak")}
"""The heard sentences in two groups: espeak-ng's six formant voices, of which Whisper
tiny.en mishears about a quarter of the words, and the two neural ones (piper ``joe``,
hibari ``heart``), about as well heard as a person reading (a sixteenth)."""


def by_voice(lines: Sequence[Line], conditions: dict[str, list[frozenset]],
             heard_text: dict[str, list[str]], voices: Sequence[str], splits: Sequence[str],
             kinds: Sequence[str] = ORDER) -> str:
    """The report again for each voice family, with Whisper's word error rate on its
    sentences beside it: how much of what the heard columns lose is Whisper's."""
    from tools.scoring import word_errors

    out = []
    for split in splits:
        columns, rates = {}, []
        for name, family in VOICE_FAMILIES.items():
            pick = [i for i, (l, v) in enumerate(zip(lines, voices)) if l.split == split and family(v)]
            for cond, got in conditions.items():
                columns[f"{cond} {name}"] = score([lines[i] for i in pick], [got[i] for i in pick])
            for cond, texts in heard_text.items():
                errors = [word_errors(lines[i].text, texts[i]) for i in pick]
                rate = sum(e for e, _ in errors) / max(1, sum(n for _, n in errors))
                rates.append(f"{cond} {name} {rate:.1%} ({len(pick)} sentences)")
        out += [f"{split}, by voice (espeak: espeak-ng's voices; neural: piper and hibari); "
                "Whisper's word error rate on the sentences: " + "; ".join(rates),
                report(columns, kinds)]
    return "\n".join(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", default=list(SET),
                    help="labelled sentence files (default: cues.txt and cues_held_out.txt)")
    ap.add_argument("--heard", action="store_true", help="also score Whisper-heard speech")
    ap.add_argument("--phone", action="store_true", help="also score speech through a phone line")
    ap.add_argument("--split", action="store_true",
                    help="also score the caller's sentences written as two, as Whisper often writes them")
    ap.add_argument("--voices", default="espeak,piper,hibari",
                    help="voices or backends, comma-separated (tools/callgen.py)")
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--cache", type=Path, default=default_cache())
    ap.add_argument("--show", choices=SPLITS + ("all",),
                    help="print each wrong sentence of this split")
    ap.add_argument("--only", choices=SPLITS, help="score this split alone (a first --heard run "
                    "of the held-out part takes about two hours on two cores, the whole set eight)")
    ap.add_argument("--side", choices=("agent", "caller"),
                    help="score one side's sentences alone (the caller's problems are the caller's: "
                         "a first --heard run of the caller's held-out lines takes about 45 minutes)")
    ap.add_argument("--second", nargs="?", type=Path, const=SECOND, metavar="LABELS",
                    help="also compare the held-out labels with a second labeller's "
                         f"(default {SECOND.relative_to(ROOT)})")
    ap.add_argument("--heard-labels", nargs="?", type=Path, const=HEARD_LABELS, metavar="LABELS",
                    help="with --heard: also score the held-out agent sentences against labels of "
                         f"what Whisper heard (default {HEARD_LABELS.relative_to(ROOT)})")
    ap.add_argument("--lists-only", action="store_true",
                    help="the phrase lists alone, without the sentence model")
    args = ap.parse_args(argv)
    if args.heard_labels and not args.heard:
        print("error: --heard-labels scores the heard sentences; add --heard", file=sys.stderr)
        return 2
    options = LanguageOptions(sentence_model=not args.lists_only)
    try:
        lines = load(args.data)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # the voice goes by the line's place in its writer's part, so adding a part or
    # scoring one side changes no line's voice and the cached transcripts stay good
    seen: Counter = Counter()
    places = []
    for line in lines:
        places.append(seen[line.part])
        seen[line.part] += 1
    side = {"agent": AGENT, "caller": CUSTOMER}.get(args.side)
    kinds = [k for k in ORDER if side is None or k in KINDS[side]]
    keep = [i for i, l in enumerate(lines)
            if (not args.only or l.split == args.only) and (side is None or l.channel == side)]
    lines, places = [lines[i] for i in keep], [places[i] for i in keep]
    if args.second:
        if args.only == "dev":
            print("error: --second compares the held-out labels; leave out --only dev", file=sys.stderr)
            return 2
        try:
            pick, second = second_labels(lines, args.second, args.data, side)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.heard_labels:
        if args.only == "dev" or side == CUSTOMER:
            print("error: --heard-labels labels the held-out agent sentences; leave out --only dev "
                  "and --side caller", file=sys.stderr)
            return 2
        try:   # the file checked before the hours a first heard run can take
            heard_labels(lines, [l.text for l in lines], args.heard_labels)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    conditions = {"text": [fired(written_words(l.text, l.channel), l.channel, options, context_words(l))
                           for l in lines]}
    if args.split:
        conditions["split"] = [fired(split_words(l.text, l.channel), l.channel, options, context_words(l))
                               if l.channel == CUSTOMER else got for l, got in zip(lines, conditions["text"])]
    heard_text: dict[str, list[str]] = {}
    voices: list[str] = []
    if args.heard or args.phone:
        try:
            hearer = Hearer(args.cache, args.voices.split(","), args.model)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        voices = [hearer.voice_for(i) for i in places]
        for cond in ("heard", "phone"):
            if not getattr(args, cond):
                continue
            got, texts = [], []
            for i, line in zip(places, lines):
                phone = cond == "phone" and line.channel == CUSTOMER
                words = hearer.words(i, line, phone=phone)
                got.append(fired(words, line.channel, options, context_words(line)))
                texts.append(" ".join(w.text.strip() for w in words))
            conditions[cond], heard_text[cond] = got, texts
    n = {s: sum(l.split == s for l in lines) for s in SPLITS}
    print(f"Language cues on {len(lines)} labelled sentences ({n['dev']} dev, "
          f"{n['held-out']} held-out) from {', '.join(p.name for p in args.data)}; * = below target")
    if args.split:
        print("split: each caller's sentence written as two, at the comma or conjunction nearest its middle")
    if args.heard or args.phone:
        print(f"heard: Whisper {args.model} of speech by {', '.join(hearer.voices)} in turn"
              + ("; phone: the caller's through a 300-3400 Hz µ-law line" if args.phone else ""))
    splits = [args.only] if args.only else SPLITS
    print(report(_columns(lines, conditions, {s: (lambda l, s=s: l.split == s) for s in splits}), kinds))
    held = list(dict.fromkeys(l.part for l in lines if l.split == "held-out"))
    if len(held) > 1:
        print("\nheld-out, by writer:")
        print(report(_columns(lines, conditions, {
            p: (lambda l, p=p: l.split == "held-out" and l.part == p) for p in held}), kinds))
    if voices:
        print("\n" + by_voice(lines, conditions, heard_text, voices, splits, kinds))
    if args.second:
        first = [lines[i] for i in pick]
        parts = ", ".join(dict.fromkeys(l.part for l in first))
        for cond, got in conditions.items():
            print(f"\nheld-out ({cond}), the labels beside a second labeller's "
                  f"({args.second.name}: {len(first)} sentences of {parts}):")
            print(agreement_report(first, second, [got[i] for i in pick], kinds))
    if args.heard_labels:
        heard_pick, heard_seen, left = heard_labels(lines, heard_text["heard"], args.heard_labels)
        print(f"\nheld-out agent sentences (heard), the labels beside labels of the transcripts "
              f"({args.heard_labels.name}: {len(heard_pick)} sentences; {left} heard otherwise here, left out).\n"
              "'seen vs 1st': the transcripts' labels scored against the written ones; its recall is "
              "the share of the labelled cues still there to be seen in what Whisper heard:")
        agent_kinds = [k for k in kinds if k in KINDS[AGENT]]
        print(agreement_report([lines[i] for i in heard_pick], heard_seen, [conditions["heard"][i] for i in heard_pick],
                               agent_kinds, names=("seen", "VC")))
        for family, of in VOICE_FAMILIES.items():
            mine = [j for j, i in enumerate(heard_pick) if of(voices[i])]
            print(f"\nthe same, {family} voices ({len(mine)} sentences):")
            print(agreement_report([lines[heard_pick[j]] for j in mine], [heard_seen[j] for j in mine],
                                   [conditions["heard"][heard_pick[j]] for j in mine], agent_kinds, names=("seen", "VC")))
    if args.show:
        for cond, got in conditions.items():
            print(f"\nwrong ({cond}):")
            for i, line in enumerate(lines):
                if args.show not in ("all", line.split) or got[i] == line.cues:
                    continue
                missed = ",".join(sorted(line.cues - got[i])) or "-"
                extra = ",".join(sorted(got[i] - line.cues)) or "-"
                said = f"  [heard: {heard_text[cond][i]}]" if cond in heard_text else ""
                print(f"  {line.source}:{line.lineno:<5} {line.channel[0].upper()} missed {missed:<18} "
                      f"extra {extra:<18} {line.text}{said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
