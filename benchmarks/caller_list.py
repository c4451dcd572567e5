"""The caller's list of whole calls: one item per problem, or one per sentence that states one?

``benchmarks/cues.py`` scores each sentence alone: does it state a problem. The caller's
list the agent confirms at the end of a call (the after-call card, the summary, the
review) is made of those sentences, so a problem the caller states three times in other
words is three items. This reads ``benchmarks/data/caller_lists.txt`` and
``caller_lists_2.txt`` (two writers, each file scored alone): whole calls, both sides,
whose caller sentences carry the id of the problem they state (``P1``, ``P2``... within
a call; ``-`` for none). Each call is fed to :class:`LanguageCues` in order (the written
words 0.3 s apart, 0.8 s between sentences) and its list
(``summary()["caller_problems"]``) is read against the ids. It prints:

- items: the list's length over all calls;
- first mentions: items that hold a problem's first item (what a list of one item per
  problem would hold), repeats (every problem they hold already listed) and items that
  state no problem (an item's problems are the ids of the caller's sentences in it);
- the problems the list covers, of the distinct problems the calls hold.

    python3 -m benchmarks.caller_list [--data FILE...] [--show]

No target of its own: issue 17 asks for the caller's list to confirm; these figures say
how much of it is repeats.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach.events import AGENT, CUSTOMER, Word

DATA = Path(__file__).resolve().parent / "data" / "caller_lists.txt"
SECOND = DATA.with_name("caller_lists_2.txt")
"""A second set, written blind in session 50 by another writer (other businesses, more
problems per call), for the list's figures on calls no rule was looked at against."""
WORD_S, GAP_S = 0.3, 0.8


@dataclass
class Call:
    name: str
    lines: list[tuple[str, str, str]] = field(default_factory=list)   # (channel, id or "-", text)


def load(path: Path = DATA) -> list[Call]:
    """The calls of ``path``.

    Raises
    ------
    ValueError
        A line that is not ``A | - | text`` or ``C | P<n> or - | text`` inside a call.
    """
    calls: list[Call] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if raw.startswith("# ---"):
            calls.append(Call(raw[5:].strip()))
            continue
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = [p.strip() for p in raw.split("|", 2)]
        if not calls or len(parts) != 3 or parts[0] not in ("A", "C") or not parts[2] or not (
                parts[1] == "-" or (parts[0] == "C" and parts[1][:1] == "P" and parts[1][1:].isdigit())):
            raise ValueError(f"{path}:{n}: expected 'A | - | text' or 'C | P1 | text' inside a call")
        calls[-1].lines.append((AGENT if parts[0] == "A" else CUSTOMER, parts[1], parts[2]))
    return calls


def caller_list(call: Call) -> list[tuple[frozenset, str]]:
    """The call's caller's list as ``(the problem ids its sentences carry, item text)``, in
    order: an item holds the caller's sentences of one turn that state a problem."""
    from voicecoach.analyzers.language import LanguageCues

    cues, t = LanguageCues(), 0.0
    for channel, _, text in call.lines:
        words = [Word(channel, t + i * WORD_S, t + i * WORD_S + 0.25, " " + w)
                 for i, w in enumerate(text.split())]
        cues.feed(words)
        t = words[-1].end + GAP_S
    cues.flush()
    said = [(pid, text) for channel, pid, text in call.lines if channel == CUSTOMER]
    return [(frozenset(pid for pid, text in said if pid != "-" and holds(item["text"], text)), item["text"])
            for item in cues.summary()["caller_problems"]]


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def holds(item: str, line: str) -> bool:
    """Whether a list item holds a labelled line: the line whole, or one of its sentences
    of three words or more (a line of two sentences whose first states no problem, "And
    there's something else. I paid for an extra legroom seat...", is listed as its second
    alone). Words are compared, not punctuation (joining a turn's sentences may turn a
    full stop into a comma).

    >>> holds("I paid for a seat and got another.", "Something else. I paid for a seat, and got another.")
    True
    >>> holds("It still hasn't arrived.", "Yes. It still has not arrived.")
    False
    """
    said = _words(item)
    return _words(line) in said or any(
        len(s.split()) >= 3 and s in said
        for s in (_words(x) for x in re.split(r"(?<=[.!?])\s+", line)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", default=[DATA, SECOND],
                    help="call files (default: both shipped sets, each scored alone)")
    ap.add_argument("--show", action="store_true", help="print each call's list beside the ids")
    args = ap.parse_args()
    for path in args.data:
        try:
            calls = load(path)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        report(calls, path, args.show)
    return 0


def report(calls: list[Call], path: Path, show: bool) -> None:
    """Print the figures of one file's calls (and, with ``show``, each list)."""
    items = first = repeats = none = problems = covered = 0
    for call in calls:
        ids = {pid for ch, pid, _ in call.lines if ch == CUSTOMER and pid != "-"}
        seen: set[str] = set()
        if show:
            print(f"\n{call.name} ({len(ids)} problems)")
        for pids, text in caller_list(call):
            items += 1
            what = "no problem" if not pids else "repeat" if pids <= seen else "first"
            none, repeats, first = none + (what == "no problem"), repeats + (what == "repeat"), first + (what == "first")
            seen |= pids
            if show:
                print(f"  {','.join(sorted(pids)) or '-':>6} {what:<10} {text}")
        problems, covered = problems + len(ids), covered + len(ids & seen)
    lines = sum(len(c.lines) for c in calls)
    print(f"caller's lists of {len(calls)} calls ({lines} lines) from {path.name}: {problems} distinct problems")
    print(f"items {items}: first mentions {first} ({first / max(1, items):.0%}), repeats {repeats} "
          f"({repeats / max(1, items):.0%}), stating no problem {none} ({none / max(1, items):.0%})")
    print(f"problems on the list: {covered} of {problems} ({covered / max(1, problems):.0%}); "
          f"items per problem listed: {(first + repeats) / max(1, covered):.2f}")


if __name__ == "__main__":
    sys.exit(main())
