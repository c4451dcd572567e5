"""Lexicons behind the language cues: loading, word normalization, phrase matching.

The phrase lists are TOML data files in ``models/lexicons/`` (shipped as the package
data ``voicecoach.models/lexicons``); ``models/lexicons/README.md`` describes each
file. A team adds its own phrases with folders of files of the same names
(:func:`load_lexicon`).

Matching works on *normalized tokens*, so that a lexicon phrase and a transcribed
word agree however they are written: lower case, punctuation stripped (and kept
aside as the word's end mark), contractions expanded (``"I'll"`` -> ``i will``,
``"can't"`` -> ``can not``, ``"let's"`` -> ``let us``), hyphens and slashes split
(``"two-factor"`` -> ``two factor``), digits split from letters (``"5pm"`` -> ``5 pm``),
dotted abbreviations joined (``"p.m."`` -> ``pm``), hesitation sounds made canonical
(``"Umm"`` -> ``um``, ``"Mm-hmm."`` -> ``mmhmm``) and masked swear words
(``"f***ing"``) turned into the token ``bleep``.

A phrase may hold *slots*: ``{number}`` (built in: one to four number tokens, digits
or words, so ``"24 hours"`` and ``"twenty-four hours"`` both match
``{number} hours``) and any slot the file defines in its ``[slots]`` table.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Optional, Sequence, Union

from voicecoach.paths import user_path

#: Lexicon file name -> the phrase sections it may hold. Every file may also hold
#: ``description`` (text), ``[slots]``, ``[unless]`` and ``remove`` (see the card).
SCHEMA: dict[str, tuple[str, ...]] = {
    "jargon.toml": ("jargon", "plain_acronyms"),
    "trade_terms.toml": ("trade_terms",),
    "scary.toml": ("scary",),
    "patronizing.toml": ("patronizing",),
    "positive.toml": ("positive", "negative"),
    "empathy.toml": ("empathy",),
    "greeting.toml": ("greeting",),
    "closing.toml": ("closing", "closing_alone"),
    "fillers.toml": ("filler",),
    "hostile.toml": ("hostile",),
    "problems.toml": ("problem",),
    "commitments.toml": ("follow_up", "action", "timed_action", "time", "immediate", "handover"),
    "questions.toml": ("open", "open_prompt", "closed", "lead_in", "not_diagnostic"),
}
_RESERVED = ("description", "slots", "unless", "remove")
NUMBER_FORMS = ("trade_terms",)
"""Sections whose phrases also match with their last word in the other number ("backing
plate" / "backing plates"): their phrases are nouns and noun phrases, said either way."""

NUMBER = "number"
"""The built-in slot: a run of number tokens."""
MAX_NUMBER_TOKENS = 4
"""Longest run of tokens the ``{number}`` slot takes ("one hundred twenty five")."""

# -- normalization ---------------------------------------------------------------
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_LEAD = re.compile(r"^[^\w*]+")
_TRAIL = re.compile(r"[^\w*]+$")
_CLAUSE_MARKS = ",;:-\u2013\u2014"
_MASKED = re.compile(r"[a-z]*\*+[a-z]*")
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_PIECES = re.compile(r"[^\w'.]+|(?<!\d)\.|\.(?!\d)")
_DIGITS_LETTERS = re.compile(r"\d+(?:\.\d+)?(?:st|nd|rd|th)?|\D+")
_NUMERAL = re.compile(r"\d+(?:\.\d+)?")
_SLOT = re.compile(r"\{(\w+)\}")
_SOUNDS = (
    (re.compile(r"m+-?h+m+|mhm+"), "mmhmm"),
    (re.compile(r"uh-?huh"), "uhhuh"),
    (re.compile(r"u+m+"), "um"),
    (re.compile(r"u+h+"), "uh"),
    (re.compile(r"e+r+m+"), "erm"),
    (re.compile(r"h+m+"), "hmm"),
)
_WHOLE = {
    "can't": ("can", "not"), "cannot": ("can", "not"), "won't": ("will", "not"),
    "shan't": ("shall", "not"), "ain't": ("is", "not"), "let's": ("let", "us"),
    "y'all": ("you", "all"), "gonna": ("going", "to"), "wanna": ("want", "to"),
    "gotta": ("got", "to"), "kinda": ("kind", "of"), "sorta": ("sort", "of"),
    "lemme": ("let", "me"), "gimme": ("give", "me"), "dunno": ("do", "not", "know"),
    "ok": ("okay",), "alright": ("all", "right"),
}
_SUFFIXES = (("n't", "not"), ("'ll", "will"), ("'re", "are"), ("'ve", "have"),
             ("'m", "am"), ("'d", "would"))
_IS_AFTER = frozenset(
    "it that what there here he she who where how when why this everything nothing "
    "something someone somebody everyone everybody nobody".split())
_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty "
    "sixty seventy eighty ninety hundred thousand".split())


def _expand(piece: str) -> tuple[str, ...]:
    """Contractions and informal spellings as separate plain tokens."""
    if piece in _WHOLE:
        return _WHOLE[piece]
    for suffix, word in _SUFFIXES:
        if piece.endswith(suffix) and len(piece) > len(suffix):
            return piece[:-len(suffix)], word
    if piece.endswith("'s") and len(piece) > 2:
        stem = piece[:-2]
        return (stem, "is") if stem in _IS_AFTER else (stem,)
    return (piece,)


def _canonical_sound(text: str) -> Optional[str]:
    for pattern, canon in _SOUNDS:
        if pattern.fullmatch(text):
            return canon
    return None


def tokenize_word(text: str) -> tuple[tuple[str, ...], str]:
    """Normalized tokens of one transcribed word, and the punctuation it ends with.

    Parameters
    ----------
    text : str
        A word as Whisper writes it, e.g. ``" I'll"``, ``" today?"``, ``" Mm-hmm."``.

    Returns
    -------
    tokens : tuple of str
        Zero or more normalized tokens (``" I'll"`` -> ``("i", "will")``); none for
        a word that is only punctuation.
    mark : str
        ``"?"``, ``"!"``, ``"."`` (also for ``"..."``), ``","`` (any clause mark:
        ``, ; : -`` and dashes) or ``""``.

    Examples
    --------
    >>> tokenize_word(" can't,")
    (('can', 'not'), ',')
    >>> tokenize_word(" 5pm.")
    (('5', 'pm'), '.')
    """
    s = text.strip().translate(_APOSTROPHES).lower()
    trail = _TRAIL.search(s)
    tail = trail.group() if trail else ""
    core = _LEAD.sub("", s[:len(s) - len(tail)]) if tail else _LEAD.sub("", s)
    mark = next((m for m in ("?", "!") if m in tail), "")
    if not mark and ("." in tail or "\u2026" in tail):
        mark = "."
    if not mark and any(c in tail for c in _CLAUSE_MARKS):
        mark = ","
    if not core:
        return (), mark
    if "*" in core and _MASKED.fullmatch(core):
        return ("bleep",), mark
    core = _THOUSANDS.sub("", core)
    if _DOTTED.fullmatch(core + "."):
        core = core.replace(".", "")
    sound = _canonical_sound(core)
    if sound:
        return (sound,), mark
    tokens: list[str] = []
    for piece in _PIECES.split(core):
        piece = piece.strip("'_")
        if not piece:
            continue
        sound = _canonical_sound(piece)
        for part in (sound,) if sound else _expand(piece):
            tokens.extend(_DIGITS_LETTERS.findall(part))
    return tuple(tokens), mark


def normalize_phrase(text: str) -> tuple[str, ...]:
    """Normalized tokens of a phrase (punctuation dropped).

    >>> normalize_phrase("I'll call you back")
    ('i', 'will', 'call', 'you', 'back')
    """
    return tuple(tok for piece in text.split() for tok in tokenize_word(piece)[0])


def is_number(token: str) -> bool:
    """True for a numeral (``"24"``, ``"2.5"``) or a number word (``"twenty"``)."""
    return token in _NUMBER_WORDS or bool(_NUMERAL.fullmatch(token))


def _phrase_elements(text: str) -> tuple[str, ...]:
    """Tokens of a lexicon phrase, keeping ``{slot}`` pieces as they are."""
    out: list[str] = []
    for piece in text.split():
        if _SLOT.fullmatch(piece):
            out.append(piece)
        else:
            out.extend(tokenize_word(piece)[0])
    return tuple(out)


# -- patterns ----------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """A place in a phrase that any of several token sequences fills.

    ``options`` is empty for the built-in ``{number}`` slot.
    """

    name: str
    options: tuple[tuple[str, ...], ...] = ()

    def advance(self, tokens: Sequence[str], i: int) -> tuple[list[int], bool]:
        """Positions just after this slot filled from ``tokens[i]``, and whether
        more tokens could still fill it (the tokens ran out mid-way)."""
        n = len(tokens)
        if i >= n:
            return [], True
        if self.name == NUMBER:
            j = i
            while j < n and j - i < MAX_NUMBER_TOKENS and is_number(tokens[j]):
                j += 1
            return list(range(i + 1, j + 1)), j == n and j > i
        ends: list[int] = []
        alive = False
        for opt in self.options:
            seg = tuple(tokens[i:i + len(opt)])
            if seg == opt:
                ends.append(i + len(opt))
            elif len(seg) < len(opt) and seg == opt[:len(seg)]:
                alive = True
        return ends, alive

    @property
    def max_tokens(self) -> int:
        return MAX_NUMBER_TOKENS if self.name == NUMBER else max(len(o) for o in self.options)


Element = Union[str, Slot]


@dataclass(frozen=True)
class Pattern:
    """One lexicon phrase, compiled.

    Attributes
    ----------
    text : str
        The phrase as the lexicon writes it.
    elements : tuple of (str or Slot)
        Normalized tokens and slots, in order.
    suggestion : str
        The plainer or kinder alternative ("" when the section has none).
    unless : tuple of Pattern
        Longer phrases containing this one in which it does not count
        (``"like"`` in ``"would you like"``).
    source : str
        The file the phrase came from (for error messages).
    """

    text: str
    elements: tuple[Element, ...]
    suggestion: str = ""
    unless: tuple["Pattern", ...] = ()
    source: str = ""

    @property
    def max_tokens(self) -> int:
        """Most tokens a match can span."""
        return sum(1 if isinstance(e, str) else e.max_tokens for e in self.elements)

    def match(self, tokens: Sequence[str], start: int) -> tuple[list[int], bool]:
        """Match at ``tokens[start]``.

        Returns
        -------
        ends : list of int
            Token indices just past each complete match, ascending.
        alive : bool
            True if the tokens ran out while the phrase was still matching, i.e. a
            (longer) match may complete when more words arrive.
        """
        states = {start}
        alive = False
        for el in self.elements:
            nxt: set[int] = set()
            for i in states:
                if isinstance(el, Slot):
                    ends, more = el.advance(tokens, i)
                    nxt.update(ends)
                    alive |= more
                elif i >= len(tokens):
                    alive = True
                elif tokens[i] == el:
                    nxt.add(i + 1)
            states = nxt
            if not states:
                break
        return sorted(states), alive

    def excluded(self, tokens: Sequence[str], start: int, end: int, final: bool,
                 breaks: Sequence[int] = ()) -> Optional[bool]:
        """Whether a match over ``tokens[start:end]`` sits inside an ``unless`` phrase.

        ``breaks`` are token indices where a clause starts (after a comma): an unless
        phrase does not reach across one ("you know, the box" is a filler; "you
        know the box" is not).

        Returns True (excluded), False (counts) or None (not yet known: an unless
        phrase is still matching at the end of ``tokens`` and ``final`` is False).
        """
        undecided = False
        for u in self.unless:
            for s in range(max(0, start - u.max_tokens + 1), start + 1):
                ends, alive = u.match(tokens, s)
                if any(e >= end and not any(s < b < e for b in breaks) for e in ends):
                    return True
                undecided |= alive and not any(b > s for b in breaks)
        return None if undecided and not final else False


@dataclass(frozen=True)
class Match:
    """A complete phrase match over tokens ``[start, end)``."""

    start: int
    end: int
    pattern: Pattern


class PhraseSet:
    """The compiled phrases of one lexicon section, indexed by first token.

    Parameters
    ----------
    patterns : sequence of Pattern
    """

    def __init__(self, patterns: Sequence[Pattern]):
        self.patterns = tuple(patterns)
        self._by_first: dict[str, list[Pattern]] = {}
        self._any_first: list[Pattern] = []
        for p in self.patterns:
            first = p.elements[0]
            if isinstance(first, str):
                self._by_first.setdefault(first, []).append(p)
            elif first.name == NUMBER:
                self._any_first.append(p)
            else:
                for opt in {o[0] for o in first.options}:
                    self._by_first.setdefault(opt, []).append(p)

    def __len__(self) -> int:
        return len(self.patterns)

    def at(self, tokens: Sequence[str], start: int) -> tuple[list[Match], bool]:
        """Complete matches starting at ``tokens[start]``, and whether any phrase is
        still matching there when the tokens run out."""
        matches: list[Match] = []
        alive = False
        for p in self._by_first.get(tokens[start], []) + self._any_first:
            ends, more = p.match(tokens, start)
            matches += [Match(start, e, p) for e in ends]
            alive |= more
        return matches, alive

    def find(self, tokens: Sequence[str]) -> tuple[list[Match], list[int]]:
        """All complete matches in ``tokens``, and the starts of phrases still
        matching at the end of ``tokens``."""
        matches: list[Match] = []
        alive_starts: list[int] = []
        for i in range(len(tokens)):
            found, alive = self.at(tokens, i)
            matches += found
            if alive:
                alive_starts.append(i)
        return matches, alive_starts

    def first(self, tokens: Sequence[str], breaks: Sequence[int] = ()) -> Optional[Match]:
        """The leftmost, then longest, match that no ``unless`` phrase excludes
        (tokens taken as complete; ``breaks`` as in :meth:`Pattern.excluded`)."""
        for i in range(len(tokens)):
            found = sorted(self.at(tokens, i)[0], key=lambda m: -m.end)
            for m in found:
                if not m.pattern.excluded(tokens, m.start, m.end, True, breaks):
                    return m
        return None

    def longest_at(self, tokens: Sequence[str], start: int) -> Optional[Match]:
        """The longest match starting exactly at ``tokens[start]``, if any."""
        if start >= len(tokens):
            return None
        found = self.at(tokens, start)[0]
        return max(found, key=lambda m: m.end) if found else None


# -- loading -----------------------------------------------------------------------
class Lexicon:
    """Every lexicon section, compiled: ``lexicon["jargon"]`` is a :class:`PhraseSet`."""

    def __init__(self, sections: dict[str, PhraseSet]):
        self.sections = sections

    def __getitem__(self, name: str) -> PhraseSet:
        return self.sections[name]

    def sizes(self) -> dict[str, int]:
        """Number of phrases per section."""
        return {name: len(ps) for name, ps in self.sections.items()}


def shipped_lexicon_dir() -> Traversable:
    """The lexicon folder shipped with the package (source tree as a fallback)."""
    try:
        folder = resources.files("voicecoach.models") / "lexicons"
        if folder.is_dir():
            return folder
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "models" / "lexicons"


@dataclass
class _Raw:
    """One lexicon file's content after merging its sources."""

    sections: dict[str, dict[str, tuple[str, str, str]]]  # kind -> key -> (text, suggestion, source)
    slots: dict[str, dict[tuple[str, ...], str]]          # name -> option tokens -> source
    unless: dict[str, dict[str, tuple[str, str]]]         # key -> unless key -> (text, source)


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _key(text: str) -> str:
    return " ".join(_phrase_elements(text))


def _read(source: Union[Path, Traversable], kinds: tuple[str, ...], raw: _Raw,
          removed: set[str]) -> None:
    """Parse one lexicon file, check its shape and merge it into ``raw``."""
    where = str(source)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML ({exc})") from None
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}: lexicon file not found") from None
    for name, value in data.items():
        if name == "description":
            if not isinstance(value, str):
                raise ValueError(f"{where}: description must be a string")
        elif name == "slots":
            if not isinstance(value, dict) or not all(_strings(v) for v in value.values()):
                raise ValueError(f"{where}: [slots] must map a slot name to a list of phrases")
            for slot, options in value.items():
                if slot == NUMBER:
                    raise ValueError(f"{where}: [slots] {NUMBER!r} is built in and cannot be redefined")
                if not options:
                    raise ValueError(f"{where}: [slots] {slot}: the list is empty")
                for opt in options:
                    toks = normalize_phrase(opt)
                    if not toks:
                        raise ValueError(f"{where}: [slots] {slot}: {opt!r} has no words")
                    raw.slots.setdefault(slot, {})[toks] = where
        elif name == "unless":
            if not isinstance(value, dict) or not all(_strings(v) for v in value.values()):
                raise ValueError(f"{where}: [unless] must map a phrase to a list of longer phrases")
            for phrase, longer in value.items():
                entry = raw.unless.setdefault(_key(phrase), {})
                for text in longer:
                    entry[_key(text)] = (text, where)
        elif name == "remove":
            if not _strings(value):
                raise ValueError(f"{where}: remove must be a list of phrases")
            removed.update(_key(text) for text in value)
        elif name in kinds:
            if _strings(value):
                items = {text: "" for text in value}
            elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                items = value
            else:
                raise ValueError(f"{where}: {name!r} must be a list of phrases or a table "
                                 f"of phrase = \"alternative\"")
            section = raw.sections.setdefault(name, {})
            for text, suggestion in items.items():
                key = _key(text)
                if not key:
                    raise ValueError(f"{where}: {name!r}: phrase {text!r} has no words")
                old = section.get(key)
                section[key] = (text, suggestion or (old[1] if old else ""), where)
        else:
            known = ", ".join(kinds + _RESERVED)
            raise ValueError(f"{where}: unknown key {name!r} (this file takes: {known})")


def _compile_elements(key: str, text: str, source: str,
                      slots: dict[str, Slot]) -> tuple[Element, ...]:
    out: list[Element] = []
    for piece in key.split():
        m = _SLOT.fullmatch(piece)
        if not m:
            out.append(piece)
        elif m.group(1) == NUMBER:
            out.append(Slot(NUMBER))
        elif m.group(1) in slots:
            out.append(slots[m.group(1)])
        else:
            raise ValueError(f"{source}: phrase {text!r} uses unknown slot {piece} "
                             f"(define it under [slots])")
    return tuple(out)


def _contains(longer: tuple[Element, ...], shorter: tuple[Element, ...]) -> bool:
    n = len(shorter)
    return any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))


def _compile(raw: _Raw, kinds: tuple[str, ...], removed: set[str]) -> dict[str, PhraseSet]:
    slots = {name: Slot(name, tuple(opts)) for name, opts in raw.slots.items()}
    keys = {key for section in raw.sections.values() for key in section}
    for key, longer in raw.unless.items():
        if key not in keys:
            source = next(iter(longer.values()))[1]
            raise ValueError(f"{source}: [unless] {key!r} is not a phrase of this file")
    out: dict[str, PhraseSet] = {}
    for kind in kinds:
        patterns = []
        for key, (text, suggestion, source) in raw.sections.get(kind, {}).items():
            if key in removed:
                continue
            elements = _compile_elements(key, text, source, slots)
            unless = []
            for ukey, (utext, usource) in raw.unless.get(key, {}).items():
                uel = _compile_elements(ukey, utext, usource, slots)
                if not _contains(uel, elements):
                    raise ValueError(f"{usource}: [unless] {utext!r} does not contain {text!r}")
                unless.append(Pattern(utext, uel, source=usource))
            patterns.append(Pattern(text, elements, suggestion, tuple(unless), source))
        out[kind] = PhraseSet(patterns)
    return out


def load_lexicon(extra_dirs: Sequence[Union[str, Path]] = (), replace: bool = False) -> Lexicon:
    """Load the shipped lexicons, extended (or replaced) by a team's own folders.

    Parameters
    ----------
    extra_dirs : sequence of str or Path
        Folders holding lexicon files named as the shipped ones (``jargon.toml``...).
        Their phrases are added to the shipped ones, in folder order; a phrase given
        again takes the later alternative; ``remove = [...]`` drops phrases.
    replace : bool
        If True, a file found in ``extra_dirs`` replaces the shipped file of the same
        name instead of extending it (files not found there stay as shipped).

    Returns
    -------
    Lexicon

    Raises
    ------
    FileNotFoundError
        A folder in ``extra_dirs`` does not exist.
    ValueError
        A lexicon file is malformed or has an unknown name; the message names it.
    """
    dirs = [user_path(d) for d in extra_dirs]
    for d in dirs:
        if not d.is_dir():
            raise FileNotFoundError(f"{d}: " + ("not a folder (lexicon_dirs lists folders of lexicon files)"
                                                if d.exists() else "lexicon folder not found"))
        for f in sorted(d.glob("*.toml")):
            if f.name not in SCHEMA:
                raise ValueError(f"{f}: unknown lexicon file name "
                                 f"(expected one of: {', '.join(SCHEMA)})")
    shipped = shipped_lexicon_dir()
    sections: dict[str, PhraseSet] = {}
    for name, kinds in SCHEMA.items():
        own = [d / name for d in dirs if (d / name).is_file()]
        sources = own if (replace and own) else [shipped / name] + own
        raw = _Raw({}, {}, {})
        removed: set[str] = set()
        for source in sources:
            _read(source, kinds, raw, removed)
        sections.update(_compile(raw, kinds, removed))
    listed = {p.elements for ps in sections.values() for p in ps.patterns}
    for name in NUMBER_FORMS:
        sections[name] = _with_other_number(sections[name], listed, sections["jargon"])
    return Lexicon(sections)


def other_number(word: str) -> Optional[str]:
    """The plural of a singular noun, or the singular of a plural, by the regular English
    rules; None for a short word or one whose number the spelling does not tell.

    Examples
    --------
    >>> other_number("rotor"), other_number("batteries"), other_number("flush")
    ('rotors', 'battery', 'flushes')
    >>> other_number("skeins"), other_number("boxes"), other_number("status")
    ('skein', 'box', None)
    """
    if len(word) < 4 or not word.isalpha():
        return None
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "xes", "zes")):
        return word[:-2]
    if word.endswith(("ss", "sh", "ch", "x", "z")):
        return word + "es"
    if word.endswith(("us", "is")):
        return None
    if word.endswith("s"):
        return word[:-1]
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _with_other_number(ps: PhraseSet, listed: set, jargon: PhraseSet) -> PhraseSet:
    """``ps`` with each phrase that ends in a word also matching its other number
    (:func:`other_number`), where no phrase of any section (``listed``: their elements)
    already says it and no ``jargon`` phrase is inside it, which would take its words
    first ("licence entitlements" holds "entitlements")."""
    forms = []
    for p in ps.patterns:
        last = p.elements[-1]
        other = other_number(last) if isinstance(last, str) else None
        elements = p.elements[:-1] + (other,)
        if other and elements not in listed and not jargon.find(elements)[0]:
            listed.add(elements)
            forms.append(Pattern(p.text, elements, p.suggestion, p.unless, p.source))
    return PhraseSet(list(ps.patterns) + forms)
