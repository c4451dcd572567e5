"""Language cues from transcribed words (COACHING.md sections 4-8).

:class:`LanguageCues` reads the committed words of both channels and flags:

- on the agent channel, *phrase cues* the moment a phrase's last word arrives:
  ``jargon``, ``scary``, ``patronizing`` and ``negative`` (each with a plainer or
  kinder alternative), ``positive``, ``empathy``, ``greeting`` (only near the start)
  and ``filler`` (a trade term's ``jargon`` waits for its sentence to close: the
  sentence model decides it); and *sentence cues* when a sentence closes:
  ``question_open``, ``question_closed``, ``closing_question`` and ``commitment``;
- on the customer channel: ``hostile`` (phrase cue) and ``problem`` (sentence cue:
  the whole sentence becomes an item on the caller's list). Whisper often writes one
  spoken sentence as two ("I ordered a new router last week. It still hasn't
  arrived."), and neither half alone says the problem; so a caller's sentence that is
  no problem is judged again joined to the one before it, when both are one turn
  (:meth:`LanguageCues._customer_sentence`).

A sentence closes at a word ending in ``.``, ``?`` or ``!`` (not after "Mr." or "e.g.";
after "a.m." only when a capitalized word follows), at a pause of ``sentence_gap_s``
before the next word (:func:`voicecoach.events.is_pause`, the rule that also cuts the
transcript into lines), after ``max_sentence_words`` words, or at
:meth:`LanguageCues.flush`. A phrase cue waits one word more when the phrase could
still grow into a longer phrase of the same lexicon ("dns" -> "dns propagation") or
into an ``unless`` phrase that cancels it ("like" -> "like to").

The phrases are data: ``models/lexicons/*.toml`` (see its README), extended by the
folders in ``LanguageOptions.lexicon_dirs``. Beside the lists, a sentence classifier
(:mod:`voicecoach.analyzers.sentence_model`) votes when a sentence closes: a jargon,
scary, patronizing or empathetic sentence no phrase caught, a caller's problem or an agent's promise
worded as no list has it. Its cues carry ``"by": "model"`` in their data, and the whole
sentence as the phrase. The model also decides the trade terms (``trade_terms.toml``,
thousands of terms trade by trade, many with an everyday sense too): one is flagged as
jargon, with its plainer wording, when the model reads its sentence as trade talk
(:data:`TRADE_TERM_VOTE`): the sentence so far as soon as the term is heard, or else
the whole sentence when it closes. Where the model file gives a kind a
``list_threshold`` (the caller's problems since v12, commitments since v14), a list's
match counts only if the vote reaches it too, on a sentence long enough for the model to
judge (``MIN_TOKENS``; a shorter one is the list's to decide, except a caller's, which is
judged joined to the sentence before it).
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Optional

from voicecoach.analyzers.lexicon import (
    Lexicon,
    Match,
    PhraseSet,
    load_lexicon,
    tokenize_word,
)
from voicecoach.analyzers.sentence_model import MIN_TOKENS, SentenceModel
from voicecoach.analyzers.turns import TurnOptions
from voicecoach.events import AGENT, CHANNELS, CUSTOMER, SENTENCE_ENDS, Event, Word, is_pause, other

PHRASE_CUES = {
    AGENT: ("jargon", "scary", "patronizing", "negative", "positive", "empathy",
            "greeting", "filler"),
    CUSTOMER: ("hostile",),
}
"""Cues fired per phrase, by channel (each is also the lexicon section's name)."""
SENTENCE_CUES = {
    AGENT: ("question_open", "question_closed", "closing_question", "commitment"),
    CUSTOMER: ("problem",),
}
"""Cues fired per sentence, by channel."""
CUE_KINDS = frozenset(k for kinds in (*PHRASE_CUES.values(), *SENTENCE_CUES.values()) for k in kinds)
"""Every cue kind the language cues fire (``Event.data["cue"]``)."""
CHECKLIST_CUES = {"greeting": "greeting", "empathy": "empathy", "question_open": "questions",
                  "question_closed": "questions", "closing_question": "closing_question"}
"""The agent's cues that tick the call checklist: cue kind -> checklist item
(:meth:`LanguageCues.summary`'s ``checklist`` keys)."""

_LABELS = {
    "jargon": "Jargon", "scary": "Scary phrase", "patronizing": "Patronizing",
    "negative": "Negative wording", "positive": "Positive language", "empathy": "Empathy",
    "greeting": "Greeting", "filler": "Filler", "hostile": "Hostile language",
    "question_open": "Open question", "question_closed": "Closed question",
    "closing_question": "Closing question", "commitment": "Commitment to follow up",
    "problem": "Caller's problem",
}
_TERMINAL = SENTENCE_ENDS
_NO_STOPS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "e.g.", "i.e."})
_SOFT_STOPS = frozenset({"a.m.", "p.m."})
_EDGE_PUNCT = re.compile(r"^[^\w*]+|[^\w*]+$")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]{1,5}s?")
"""A word written in capitals ("ONT", "EU261", "SIMs", "HDMI-CEC", "ATOL-protected"):
Whisper writes acronyms so."""
_SOUND = re.compile(r"m+|m+-?h+m+|mhm+|h+m+|uh-?huh|u+[hm]+|e+r+m+|a+h+|o+h+", re.IGNORECASE)
"""A listener's sound Whisper may write in capitals ("MMHM", "HMM", "UH-HUH"): not an acronym."""
_REFERENCE = re.compile(r"[A-Z]{1,4}-\d{3,}[-A-Z0-9]*")
"""A reference number read out ("NW-558102", "AL-34981-B"): letters then digits, not an acronym."""
_REFERENCE_DIGITS = re.compile(r"\d{3,}")
"""The digits after a reference number's letters, read as two words ("TH 55821")."""
_RUN_ON = re.compile(r"(\S*[^\W\d]{2})\.(?=\s+[a-z][a-z'\u2019-]*(?:[\s,.;:!?]|$))")
"""A full stop after a word (not "a.m.", not a number) before a word in lower case (not
"iPhone"): Whisper broke one sentence in two ("a late fee. even though I paid on time."),
unless the word is an abbreviation (:data:`_NO_STOPS`, "etc.")."""
_POSSESSIVE = re.compile(r"['\u2019]s$")
_ACRONYM_SUGGESTION = "say what it is in plain words"
_FRAGMENT_TOKENS = 8
"""Two sentences of one turn are joined only when one of them has at most this many
tokens: a half that Whisper cut off ("It still hasn't arrived."). On the labelled
caller lines, two whole sentences joined said a problem neither said where their
writer labelled none twice as often as with this limit (dev, adjacent caller lines:
31 false items in 678 pairs without it, 15 with it, 7 with no joining)."""
_MODEL_PHRASE_KINDS = ("jargon", "scary", "patronizing", "empathy")
"""Phrase cues the sentence model may also fire on a whole sentence no phrase caught (where
the model file has the kind)."""
TRADE_TERM_VOTE = 0.5
"""The sentence model's jargon vote (0..1) a sentence needs for the trade terms in it
(``trade_terms.toml``) to be flagged: the model leaning to trade talk. Not fitted to
labelled sentences: on the calibration parts (writers the lists never saw) it kept
jargon's precision (0.892 -> 0.893) and took its recall from 0.70 to 0.78; the terms
alone, without the vote, would have cost 0.08 of precision ("guarantor", "base rate")."""
_AUXILIARIES = frozenset({"will", "would", "can", "could", "has", "have", "had", "does", "do",
                          "did", "is", "are", "was", "were", "should"})
"""Verbs that may stand for the verb before them ("No, we won't."): see :func:`_answers`."""
_ASKING = ("question_open", "question_closed")
"""The agent's cues that ask about the problem: the caller's next turn answers them."""
ACK_WORDS = 2
"""The other side may say this many words between two sentences of one turn (an
acknowledgement: "Mm-hm.", "I see.") and the turn goes on. Counted in words, not
seconds as turn-taking counts a backchannel: the language cues see words alone."""


def _acronym_parts(text: str, n_tokens: int) -> Optional[tuple[int, int]]:
    """The tokens ``[a, b)`` of a word as Whisper writes it that are an acronym (the
    word's own, or of its acronym parts when hyphenated: "Reception-PC" -> the "PC"),
    or None.

    >>> _acronym_parts("HDMI-CEC", 2), _acronym_parts("Reception-PC,", 2), _acronym_parts("Router", 1)
    ((0, 2), (1, 2), None)
    >>> _acronym_parts("MMHM.", 1), _acronym_parts("UH-HUH", 2)      # a listener's sounds
    (None, None)
    """
    core = _POSSESSIVE.sub("", _EDGE_PUNCT.sub("", text.strip()))
    if _REFERENCE.fullmatch(core) or _SOUND.fullmatch(core):
        return None
    parts = re.split(r"[-/]", core)
    hits = [i for i, part in enumerate(parts) if _ACRONYM.fullmatch(part)]
    if not hits:
        return None
    if len(parts) != n_tokens:
        return 0, n_tokens     # tokenized otherwise ("EU261"): the whole word
    return hits[0], hits[-1] + 1


@dataclass
class LanguageOptions:
    """Settings of the language cues.

    Attributes
    ----------
    lexicon_dirs : list of str
        Extra folders of lexicon files named as the shipped ones (``jargon.toml``...,
        see ``models/lexicons/README.md``); their phrases are added to the shipped
        ones. ``~`` is expanded.
    replace_lexicons : bool
        If true, a file found in ``lexicon_dirs`` replaces the shipped file of the
        same name instead of extending it.
    sentence_gap_s : float
        A pause (s) between two words of one speaker that ends the sentence when no
        punctuation did; the same pause ends a transcript line (the call record's
        live transcript, the report's and the review's lines, the console's captions).
    max_sentence_words : int
        A sentence is closed after this many words (count) even without punctuation
        or pause; bounds how late a sentence cue can come.
    greeting_window_s : float
        Greeting phrases count only within this time (s) from the agent's first word.
    min_questions : int
        Open plus closed questions (count) the agent must ask for the checklist's
        ``questions`` item.
    sentence_model : bool
        Let the shipped sentence classifier (:mod:`voicecoach.analyzers.sentence_model`)
        vote beside the phrase lists for jargon, scary and patronizing sentences and
        the caller's problems. False: the lists alone, without the trade terms
        (``trade_terms.toml``), which need its vote.
    """

    lexicon_dirs: list[str] = field(default_factory=list)
    replace_lexicons: bool = False
    sentence_gap_s: float = 1.5
    max_sentence_words: int = 60
    greeting_window_s: float = 30.0
    min_questions: int = 1
    sentence_model: bool = True

    def enough_questions(self, asked: int) -> bool:
        """Whether ``asked`` questions (open and closed) tick the checklist's
        ``questions``: the one rule the record, the overlay and a call going on after a
        cut share."""
        return asked >= self.min_questions

    def problem(self) -> str:
        """What is wrong with these settings; "" if nothing."""
        if self.max_sentence_words < 1:
            return f"max_sentence_words must be 1 or more, not {self.max_sentence_words}"
        return ""


class _Sentence:
    """The words and normalized tokens of one channel's open sentence."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.tokens: list[str] = []
        self.token_word: list[int] = []     # index into words, per token
        self.clause_starts: list[int] = [0]  # token index where each clause begins
        self.emitted: dict[str, list[tuple[int, int]]] = {}  # phrase cue -> token spans
        self.acronyms: list[tuple[int, int]] = []  # token spans of words written as acronyms
        self.trade_talk = False   # the sentence model read the sentence so far as trade talk
        self.voted_to = 0         # tokens up to the end of the last trade term voted on early
        self.listed = False       # on the follow-up list (a promise)
        self.context: tuple[str, ...] = ()  # what was said before it, as the model was told (CONTEXT)

    def add(self, word: Word, tokens: tuple[str, ...], mark: str) -> None:
        acronym = _acronym_parts(word.text, len(tokens))
        if acronym is not None:
            self.acronyms.append((len(self.tokens) + acronym[0], len(self.tokens) + acronym[1]))
        self.words.append(word)
        self.tokens.extend(tokens)
        self.token_word.extend([len(self.words) - 1] * len(tokens))
        if mark == ",":
            self.clause_starts.append(len(self.tokens))

    def span(self, start: int, end: int) -> tuple[float, float, str]:
        """Call-clock start and end (s) and the words as spoken of tokens [start, end)."""
        words = self.words[self.token_word[start]:self.token_word[end - 1] + 1]
        text = " ".join(w.text.strip() for w in words)
        return words[0].start, words[-1].end, _EDGE_PUNCT.sub("", text)

    def text(self) -> str:
        return " ".join(w.text.strip() for w in self.words)

    @classmethod
    def joined(cls, first: "_Sentence", second: "_Sentence") -> "_Sentence":
        """Two sentences as one, the second a clause of its own (no phrase spans the join)."""
        s = cls()
        s.words = first.words + second.words
        s.tokens = first.tokens + second.tokens
        s.token_word = first.token_word + [i + len(first.words) for i in second.token_word]
        s.clause_starts = first.clause_starts + [c + len(first.tokens) for c in second.clause_starts]
        s.context = first.context
        return s


class _Channel:
    """Per-channel state."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sentence = _Sentence()
        self.last_end: Optional[float] = None   # end (s) of the last word seen
        self.first_start: Optional[float] = None  # start (s) of the first word
        self.pending_mark = ""  # end mark of a sentence that ended on "a.m."/"p.m."
        self.unjoined: Optional[_Sentence] = None  # the last sentence, no problem alone
        self.last: Optional[_Sentence] = None      # the last sentence
        self.turn = 0                              # turns so far (the caller's list counts them)
        self.starts: deque[float] = deque(maxlen=64)  # the latest words' starts (s): more than a turn's gap holds
        self.said: deque[list] = deque(maxlen=8)  # the latest turns: [end s, ends asking, words]


def said_together(*parts: str) -> str:
    """Pieces of one speaker's turn as one text, a full stop Whisper put inside a
    sentence read as the comma it was.

    >>> said_together("Yes, and there's also a late fee.", "even though I paid on time.")
    "Yes, and there's also a late fee, even though I paid on time."
    >>> said_together("It stops at 5 p.m. every day.", "Since Monday.")
    'It stops at 5 p.m. every day. Since Monday.'
    >>> said_together("The basic plan vs. the premium one.")
    'The basic plan vs. the premium one.'
    """
    def comma(m: re.Match) -> str:
        word = m.group(1).lower().lstrip("\"'(") + "."
        return m.group(0) if word in _NO_STOPS or word == "etc." else m.group(1) + ","

    return _RUN_ON.sub(comma, " ".join(p for p in parts if p))


def _opens_sentence(text: str, tokens: tuple[str, ...]) -> bool:
    """A capitalized word other than "I": likely the start of a new sentence."""
    t = text.strip().lstrip("\"'([")
    return t[:1].isupper() and tokens[:1] != ("i",)


def _select(ps: PhraseSet, s: _Sentence, final: bool,
            taken: list[tuple[int, int]]) -> list[tuple[Match, bool]]:
    """Leftmost-longest matches of ``ps`` that overlap nothing in ``taken``, do not
    reach across a comma ("Oh, no, that's fine" is no "oh no") and that no ``unless``
    phrase cancels, each with whether it is decided (no longer or cancelling phrase
    can still complete)."""
    matches, alive_starts = ps.find(s.tokens)
    taken = list(taken)
    out = []
    for m in sorted(matches, key=lambda m: (m.start, -m.end)):
        if any(m.start < e and s < m.end for s, e in taken):
            continue
        if any(m.start < b < m.end for b in s.clause_starts):
            continue
        excluded = m.pattern.excluded(s.tokens, m.start, m.end, final, s.clause_starts)
        if excluded:
            continue
        taken.append((m.start, m.end))
        decided = final or (excluded is False and not any(a <= m.start for a in alive_starts))
        out.append((m, decided))
    return out


def _answers(m: Match, s: _Sentence) -> bool:
    """Whether the match ``m`` is an auxiliary and "not" that ends the sentence ``s``:
    the verb it negates was said before, by the agent ("Will you use the old card again?"
    "No, we won't."); an answer, not the caller's problem, which names what does not
    work ("It won't turn on.")."""
    words = s.tokens[m.start:m.end]
    return m.end == len(s.tokens) and len(words) == 2 and words[0] in _AUXILIARIES and words[1] == "not"


class LanguageCues:
    """Language cues of one call, fed committed words in call-clock order.

    Parameters
    ----------
    options : LanguageOptions, optional
        Defaults when omitted. The lexicons are loaded here
        (:func:`voicecoach.analyzers.lexicon.load_lexicon`); a malformed lexicon file raises
        ``ValueError`` naming the file.
    lexicon : Lexicon, optional
        Lexicons already loaded with ``options`` (a new call reuses the last call's).
    turn_pause_s : float, optional
        A pause shorter than this (s) between two sentences of one side is inside its
        turn (``turns.turn_pause_s``, whose default it takes).

    Examples
    --------
    >>> cues = LanguageCues()
    >>> words = [Word("agent", 0.3 * i, 0.3 * i + 0.25, w) for i, w in
    ...          enumerate([" Let's", " reboot", " the", " router."])]
    >>> [(e.data["cue"], e.data["phrase"]) for e in cues.feed(words)]
    [('positive', "Let's"), ('jargon', 'reboot')]
    """

    def __init__(self, options: Optional[LanguageOptions] = None,
                 lexicon: Optional[Lexicon] = None, turn_pause_s: Optional[float] = None):
        self.options = options = options or LanguageOptions()
        self.turn_pause_s = TurnOptions().turn_pause_s if turn_pause_s is None else turn_pause_s
        self.lexicon: Lexicon = lexicon or load_lexicon(options.lexicon_dirs,
                                                        options.replace_lexicons)
        self._channels = {ch: _Channel(ch) for ch in CHANNELS}
        self._counts = {kind: 0 for ch in CHANNELS
                        for kind in PHRASE_CUES[ch] + SENTENCE_CUES[ch]}
        self._commitments: list[dict] = []
        self._problems: list[dict] = []
        self._problem_turn: Optional[int] = None   # the caller's turn of the latest list item

    @property
    def model(self) -> Optional[SentenceModel]:
        """The shipped sentence model, or None when it is off or not installed. Read at
        the first sentence that needs it, not before: ``analyze`` then loads it after
        speech-to-text has given its memory back."""
        return SentenceModel.shipped() if self.options.sentence_model else None

    # -- feeding ------------------------------------------------------------------------
    def feed(self, words: list[Word]) -> list[Event]:
        """Take the next committed words and return the new cue events.

        Parameters
        ----------
        words : list of Word
            Words of one channel (``agent`` or ``customer``) in call-clock order; the
            channels may alternate between calls.

        Returns
        -------
        list of Event
            ``Event(kind="cue", t=<phrase start, s>, channel, text, data)`` with
            ``data = {"cue", "phrase", "end"}`` plus ``"suggestion"`` for cues with an
            alternative, ``"action"``/``"when"`` for commitments, ``"matches"`` and
            ``"item"`` (its index in the caller's list, see :meth:`_customer_sentence`)
            for caller problems, and ``"by": "model"`` where the sentence classifier
            alone fired the cue. Sentence cues come when their sentence closes (a trade
            term's as soon as it is heard, when the model reads the sentence so far as
            trade talk), so events are not always in ``t`` order.
        """
        events: list[Event] = []
        for word in words:
            if word.channel not in self._channels:
                raise ValueError(f"word {word.text!r} has unknown channel {word.channel!r} "
                                 f"(expected one of {CHANNELS})")
            events += self._add(self._channels[word.channel], word)
        return events

    def flush(self) -> list[Event]:
        """End of the call: close the open sentences of both channels."""
        events: list[Event] = []
        for st in self._channels.values():
            if st.sentence.words:
                events += self._close(st, st.pending_mark)
            st.pending_mark = ""
        return events

    def _add(self, st: _Channel, word: Word) -> list[Event]:
        tokens, mark = tokenize_word(word.text)
        events: list[Event] = []
        if st.sentence.words and tokens and (
                is_pause(st.last_end, word.start, self.options.sentence_gap_s)
                or (st.pending_mark and _opens_sentence(word.text, tokens))):
            events += self._close(st, st.pending_mark)
        st.pending_mark = ""
        st.last_end = word.end
        st.starts.append(word.start)
        if not tokens:
            if mark in _TERMINAL and st.sentence.words:
                events += self._close(st, mark)
            elif mark == ",":
                st.sentence.clause_starts.append(len(st.sentence.tokens))
            return events
        if st.first_start is None:
            st.first_start = word.start
        raw = word.text.strip().lower()
        if mark == "." and raw in _SOFT_STOPS:
            st.pending_mark, mark = ".", ""
        elif mark == "." and raw in _NO_STOPS:
            mark = ""
        st.sentence.add(word, tokens, mark)
        if mark in _TERMINAL:
            return events + self._close(st, mark)
        events += self._scan(st, final=False)
        if st.name == AGENT:
            events += self._trade_terms(st.sentence, final=False)
        if len(st.sentence.words) >= self.options.max_sentence_words:
            events += self._close(st, st.pending_mark)
            st.pending_mark = ""
        return events

    def _close(self, st: _Channel, mark: str) -> list[Event]:
        """Close the channel's sentence: decide its phrase cues, then its sentence cues."""
        events = self._scan(st, final=True)
        if st.name == AGENT:
            events += self._trade_terms(st.sentence, final=True)
            events += self._model_phrase_cues(st.sentence)
            events += self._agent_sentence(st.sentence, mark)
            st.last = st.sentence
        else:
            events += self._customer_sentence(st.sentence)
        if st.sentence.words:
            self._note_turn(st, st.sentence, any(e.data["cue"] in _ASKING for e in events))
        st.sentence = _Sentence()
        return events

    def _note_turn(self, st: _Channel, s: _Sentence, asks: bool) -> None:
        """Add a closed sentence (that asked a question about the problem, or not) to its
        side's turns: the same turn while the other side has said no turn of more than
        ``ACK_WORDS`` words since."""
        said = [t for t in self._channels[other(st.name)].said if t[2] > ACK_WORDS]
        turn = st.said[-1] if st.said else None
        if turn is not None and not (said and said[-1][0] > turn[0]):
            turn[0], turn[1], turn[2] = s.words[-1].end, asks, turn[2] + len(s.words)
        else:
            st.said.append([s.words[-1].end, asks, len(s.words)])

    def context_at(self, start: float, side: str) -> tuple[str, ...]:
        """Which of :data:`~voicecoach.analyzers.sentence_model.CONTEXT` hold of a
        sentence of ``side`` starting at ``start`` (call clock, s): whose turn came last
        before it, and whether that turn ended on a question about the problem (an open or
        closed question, once the caller has brought up a problem: an answer to "How can
        I help?", "Anything else?" or to "What's going on?" before any problem is the
        caller's to bring up). A turn of ``ACK_WORDS`` words or fewer ("Mm-hm.") is no
        turn; nor is a turn of the sentence's own side too short for the sentence model
        (fewer than ``MIN_TOKENS`` words): "The bumper is smashed." after "No, just
        shaken." answers "Was anyone hurt?", as its labelled line does, where the two are
        one line. The other side's sentence still open counts, as not asking.

        >>> cues = LanguageCues(LanguageOptions(sentence_model=False))
        >>> _ = cues.feed([Word("agent", 0.0, 0.3, " Is"), Word("agent", 0.4, 0.6, " it"),
        ...                Word("agent", 0.7, 1.0, " plugged"), Word("agent", 1.1, 1.4, " in?")])
        >>> cues.context_at(2.0, "customer")       # no problem brought up yet
        ()
        """
        last: Optional[tuple[float, str, bool]] = None
        for name, st in self._channels.items():
            least = MIN_TOKENS if name == side else ACK_WORDS + 1
            said = [(end, asks) for end, asks, n in st.said if n >= least]
            if name != side and len(st.sentence.words) > ACK_WORDS:
                said.append((st.sentence.words[-1].end, False))
            for end, asks in said:
                if end <= start and (last is None or end > last[0]):
                    last = (end, name, asks)
        if last is None:
            return ()
        if last[1] == side:
            return ("continues_turn",)
        return ("after_question",) if last[2] and self._problems else ()

    # -- phrase cues ---------------------------------------------------------------------
    def _scan(self, st: _Channel, final: bool) -> list[Event]:
        s = st.sentence
        events: list[Event] = []
        for kind in PHRASE_CUES[st.name]:
            emitted = s.emitted.setdefault(kind, [])
            for m, decided in _select(self.lexicon[kind], s, final, emitted):
                if not decided:
                    continue
                emitted.append((m.start, m.end))
                t0, t1, spoken = s.span(m.start, m.end)
                if kind == "greeting" and t0 - st.first_start > self.options.greeting_window_s:
                    continue
                events.append(self._event(kind, st.name, t0, t1, spoken,
                                          suggestion=m.pattern.suggestion))
            if kind == "jargon":
                events += self._acronyms(s, final)
        return sorted(events, key=lambda e: e.t)

    def _acronyms(self, s: _Sentence, final: bool) -> list[Event]:
        """Acronyms that no jargon phrase holds and callers do not know (jargon.toml), each
        with the plainer wording of the trade term it is, if it is one ("FTTP")."""
        emitted = s.emitted["jargon"]
        todo = [(a, b) for a, b in s.acronyms if not any(x < b and a < y for x, y in emitted)]
        if not todo:
            return []
        pending = [] if final else self.lexicon["jargon"].find(s.tokens)[1]
        events = []
        for a, b in todo:
            if any(p <= a for p in pending):
                continue   # a phrase that may still complete could hold it
            if b == len(s.tokens) and not final:
                continue   # the next word may show it is a reference number's letters
            emitted.append((a, b))
            reference = b < len(s.tokens) and _REFERENCE_DIGITS.fullmatch(s.tokens[b])
            if not reference and self.lexicon["plain_acronyms"].longest_at(s.tokens[a:b], 0) is None:
                t0, t1, spoken = s.span(a, b)
                term = self.lexicon["trade_terms"].longest_at(s.tokens[a:b], 0)
                events.append(self._event("jargon", AGENT, t0, t1, spoken, suggestion=(
                    term.pattern.suggestion if term and term.end == b - a else _ACRONYM_SUGGESTION)))
        return events

    def _event(self, kind: str, channel: str, t0: float, t1: float, phrase: str,
               suggestion: str = "", **extra) -> Event:
        self._counts[kind] += 1
        data = {"cue": kind, "phrase": phrase, "end": round(t1, 3)}
        text = f'{_LABELS[kind]}: "{phrase}"'
        if suggestion:
            data["suggestion"] = suggestion
            text += f" -> {suggestion}"
        data.update(extra)
        return Event("cue", t0, channel, text, data)

    def _trade_terms(self, s: _Sentence, final: bool) -> list[Event]:
        """Trade terms in an agent sentence, outside the words a jargon phrase or an
        acronym took, when the sentence model reads the sentence as trade talk
        (:data:`TRADE_TERM_VOTE`).

        While the sentence is open (``final`` false), a term is decided as soon as it is
        heard, by a vote on the sentence so far (of :data:`MIN_TOKENS` or more), so that
        its tip comes within seconds of the term and not when a long sentence ends; each
        term is voted on once this way. A sentence found to be trade talk stays so; one
        not found so is voted on again, whole, when it closes."""
        if self.model is None:
            return []
        emitted = s.emitted.setdefault("jargon", [])
        found = [m for m, decided in _select(self.lexicon["trade_terms"], s, final, emitted) if decided]
        if not found or (not final and len(s.tokens) < MIN_TOKENS):
            return []
        if not s.trade_talk and (final or found[-1].end > s.voted_to):
            s.voted_to = found[-1].end
            s.trade_talk = self.model.probability("jargon", s.tokens, s.text()) >= TRADE_TERM_VOTE
        if not s.trade_talk:
            return []
        events = []
        for m in found:
            emitted.append((m.start, m.end))
            t0, t1, spoken = s.span(m.start, m.end)
            events.append(self._event("jargon", AGENT, t0, t1, spoken, suggestion=m.pattern.suggestion))
        return events

    def _model_phrase_cues(self, s: _Sentence) -> list[Event]:
        """Jargon, scary, patronizing or empathetic sentences that no phrase of the lists caught."""
        if self.model is None:
            return []
        events = []
        open_kinds = [k for k in _MODEL_PHRASE_KINDS if not s.emitted.get(k)]
        for kind in self.model.firing(s.text(), open_kinds, s.tokens):
            s.emitted[kind] = [(0, len(s.tokens))]
            events.append(self._event(kind, AGENT, s.words[0].start, s.words[-1].end, s.text(),
                                      suggestion=self.model.kinds[kind].suggestion, by="model"))
        return events

    # -- sentence cues -------------------------------------------------------------------
    def _agent_sentence(self, s: _Sentence, mark: str) -> list[Event]:
        lx = self.lexicon
        toks = s.tokens
        breaks = s.clause_starts
        t0, t1 = s.words[0].start, s.words[-1].end
        text = s.text()
        question = None if s.emitted.get("patronizing") else self._question_kind(s, mark)  # a put-down asks nothing
        last_clause = max((b for b in breaks if b < len(toks)), default=0)
        alone = lx["closing_alone"].longest_at(toks, last_clause)   # "Okay, anything else?"
        if lx["closing"].first(toks, breaks) or (mark == "?" and alone is not None and alone.end == len(toks)):
            return [self._event("closing_question", AGENT, t0, t1, text)]
        if question:
            if lx["not_diagnostic"].first(toks, breaks) or lx["greeting"].first(toks):
                return []
            return [self._event(f"question_{question}", AGENT, t0, t1, text)]
        action = lx["follow_up"].first(toks, breaks)
        when = lx["time"].first(toks, breaks)
        if action is None and (when is not None or lx["immediate"].first(toks, breaks) is None):
            action = lx["action"].first(toks, breaks)
        if action is None and when is not None:
            action = lx["timed_action"].first(toks, breaks)
        if action is None and lx["handover"].first(toks, breaks) is not None:
            return []   # "I'll transfer you to billing": done there and then, whatever the vote
        if not self._decides("commitment", s, action is not None):
            return []
        when_text = s.span(when.start, when.end)[2] if when else None
        t0, text = self._with_opening(s, t0, text)
        self._commitments.append({"t": round(t0, 3), "text": text})
        s.listed = True
        by = {} if action is not None else {"by": "model"}
        return [self._event("commitment", AGENT, t0, t1, text, when=when_text, **by,
                            action=None if action is None else s.span(action.start, action.end)[2])]

    def _with_opening(self, s: _Sentence, t0: float, text: str) -> tuple[float, str]:
        """A promise Whisper wrote as the rest of the agent's sentence before ("and I'll
        call you back tomorrow."), with that sentence's words, so the follow-up list reads
        whole: ``(start s, text)``. Not when the sentence before is a listed promise (it
        has its own item) or a question or an exclamation (a sentence of its own)."""
        before = self._channels[AGENT].last
        if (before is None or not s.words[0].text.strip()[:1].islower() or not self._same_turn(before, s)
                or before.listed or before.words[-1].text.strip().endswith(("?", "!"))):
            return t0, text
        return before.words[0].start, said_together(before.text(), text)

    def _decides(self, kind: str, s: _Sentence, listed: bool) -> bool:
        """Whether the sentence cue ``kind`` fires on ``s``, which the lists match or not
        (``listed``): their verdict alone, or with the model's vote
        (:meth:`SentenceModel.decides`), told what was said before it (``s.context``)."""
        return listed if self.model is None else self.model.decides(kind, s.text(), s.tokens, listed,
                                                                     s.context)

    def _question_kind(self, s: _Sentence, mark: str) -> Optional[str]:
        """``"open"``, ``"closed"`` or None (not a question); see questions.toml.

        A question mark after one or two words with no question starter ("Sorry?",
        "Really?", a backchannel misheard as "Mama?") asks nothing about the problem.
        """
        heads = [self._starter(s.tokens, c) for c in s.clause_starts if c < len(s.tokens)]
        if not (mark == "?" or "open_prompt" in heads or (mark == "" and any(heads))):
            return None
        if not any(heads) and len(s.tokens) < 3:
            return None
        for head in reversed(heads):
            if head:
                return "closed" if head == "closed" else "open"
        return "closed"

    def _starter(self, tokens: list[str], i: int) -> Optional[str]:
        """The question-starter section matching longest at clause start ``i``,
        after lead-in words ("okay, so ...")."""
        lead_in = self.lexicon["lead_in"]
        while (m := lead_in.longest_at(tokens, i)) and m.end < len(tokens):
            i = m.end
        best, best_end = None, i
        for name in ("open", "open_prompt", "closed"):
            m = self.lexicon[name].longest_at(tokens, i)
            if m and m.end > best_end:
                best, best_end = name, m.end
        return best

    def _customer_sentence(self, s: _Sentence) -> list[Event]:
        """The caller's problem in ``s``, or in ``s`` joined to the sentence before it when
        neither says it alone and both are one turn (:meth:`_same_turn`) and one of them
        a fragment (:data:`_FRAGMENT_TOKENS`).

        A sentence too short for the model to judge (fewer than :data:`MIN_TOKENS` tokens)
        is listed only joined to the sentence before it: with the model on, the lists alone
        were right on 1 of the 14 such caller lines they matched on dev ("Nobody told me
        that.", "Sorry, I'm lost.", "It says error 809."), and on none of 3 held out.

        The caller's list has one item per turn that states a problem: a sentence stating
        one in the turn of the latest item is added to that item's text ("It keeps
        dropping. It went three times last night."), as a caller restates and details a
        problem within a turn. The event's ``item`` is the item's index in the list."""
        st = self._channels[CUSTOMER]
        if st.last is None or not self._same_turn(st.last, s):
            st.turn += 1
        st.last = s
        before, st.unjoined = st.unjoined, None
        found = self._problem_matches(s)
        if self.model is not None and len(s.tokens) < MIN_TOKENS:
            found = []                   # too short for the vote: judged joined to the one before
        s.context = self.context_at(s.words[0].start, CUSTOMER)
        if not self._decides("problem", s, bool(found)):
            if (before is None or not self._same_turn(before, s)
                    or min(len(before.tokens), len(s.tokens)) > _FRAGMENT_TOKENS):
                st.unjoined = s
                return []
            both = _Sentence.joined(before, s)
            found = self._problem_matches(both)
            if not self._decides("problem", both, bool(found)):
                st.unjoined = s
                return []
            s = both
        t0, t1, text = s.words[0].start, s.words[-1].end, said_together(s.text())
        if self._problems and self._problem_turn == st.turn:
            self._problems[-1]["text"] = said_together(self._problems[-1]["text"], text)
        else:
            self._problems.append({"t": round(t0, 3), "text": text})
            self._problem_turn = st.turn
        item = len(self._problems) - 1
        if not found:
            return [self._event("problem", CUSTOMER, t0, t1, text, matches=[], by="model", item=item)]
        return [self._event("problem", CUSTOMER, t0, t1, text, item=item,
                            matches=[s.span(m.start, m.end)[2] for m, _ in found])]

    def _problem_matches(self, s: _Sentence) -> list[tuple[Match, bool]]:
        """The caller's-list phrases in ``s`` that are not a short answer ("No, we won't.")."""
        return [f for f in _select(self.lexicon["problem"], s, True, []) if not _answers(f[0], s)]

    def _same_turn(self, first: _Sentence, second: _Sentence) -> bool:
        """Whether two sentences of one side, ``second`` after ``first``, are one turn: no
        more than a pause of ``turn_pause_s`` between them, and no more than an
        acknowledgement (:data:`ACK_WORDS`) from the other side."""
        gap_from, gap_to = first.words[-1].end, second.words[0].start
        if gap_to - gap_from >= self.turn_pause_s:
            return False
        side = self._channels[other(second.words[0].channel)]
        return sum(gap_from <= t < gap_to for t in side.starts) <= ACK_WORDS

    # -- results -------------------------------------------------------------------------
    def summary(self) -> dict:
        """The call so far, JSON-ready (open sentences count after :meth:`flush`).

        Returns
        -------
        dict
            ``checklist`` (``greeting``, ``empathy``, ``questions``,
            ``closing_question``: bool), ``questions`` (``open``, ``closed``: count),
            ``counts`` (cue kind -> count), ``commitments`` (``{"t": s, "text":
            sentence}`` each), ``caller_problems`` (``{"t": s, "text": the sentences of one
            caller's turn that state a problem}`` each) and ``fillers`` (count).
        """
        c = self._counts
        questions = {"open": c["question_open"], "closed": c["question_closed"]}
        return {
            "checklist": {
                "greeting": c["greeting"] > 0,
                "empathy": c["empathy"] > 0,
                "questions": self.options.enough_questions(questions["open"] + questions["closed"]),
                "closing_question": c["closing_question"] > 0,
            },
            "questions": questions,
            "counts": dict(c),
            "commitments": [dict(x) for x in self._commitments],
            "caller_problems": [dict(x) for x in self._problems],
            "fillers": c["filler"],
        }
