"""A sentence classifier beside the phrase lists, for the cue kinds whose wording varies most.

A phrase list catches the wordings it holds and nothing else: on sentences written by
someone who never saw the lists, they found under half of the scary ones. People
frighten a caller, talk down to them, use trade terms, bring up problems and make
promises in more ways than any list holds, so a linear model votes beside the lists. It
reads a sentence two ways: its words, word pairs and letter groups
(:func:`sentence_features`), which know the wordings of the training sentences, and its
meaning as sentence embeddings (:mod:`.sentence_embedding`: the means of the encoder's
last and third layers, its layers fine-tuned for these kinds), which carry to wordings
they never had. A sentence cue fires
when the lists *or* the model say so (for the kinds with a ``list_threshold``, a list's
match needs a vote too); the lists alone carry a suggestion worded for the phrase, the
model's cue a general one.

The weights are data: ``models/cues/model.json`` (card beside it), learned from the
``dev`` sentences of ``benchmarks/data/cues.txt`` by ``python3 -m tools.train_cues``.
Runtime needs nothing but this module.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from voicecoach.analyzers.lexicon import tokenize_word
from voicecoach.analyzers.sentence_embedding import DIM, LAYERS, SentenceEncoder

MODEL_FILE = "model.json"
CHAR_N = (3, 5)
"""Lengths of the letter groups taken from each word (with a space at each end)."""
MIN_TOKENS = 5
"""Shorter sentences are left to the phrase lists: a few words are too little to judge
("It doesn't work.", "Really?")."""
FUNCTION_WORDS = frozenset(
    "a an the it its is are was were be been am this that these those i you we they he she "
    "me us them my your our their to of in on at for with from by and or but so do does did "
    "have has had can could will would shall should just there here what".split())
"""Words that give no word or letter-group feature of their own (they still count in
word pairs): on some 600 sentences a model would otherwise learn that "it" and
"this" are patronizing ("Is it plugged in?")."""
CONTEXT = ("after_question", "continues_turn")
"""What was said just before a sentence, for the kinds whose labels depend on it (the
caller's problems: an answer is no problem the caller brings up, "No, just shaken. The
bumper's smashed." after "Was anyone hurt?"). ``after_question``: the turn said last
before it is the other side's and ended on an open or closed question, after the
caller has brought up a problem;
``continues_turn``: it is the same side's. Found in the words by
:meth:`voicecoach.analyzers.language.LanguageCues.context_at`; in training, from the
labels of the line above in the labelled calls (``benchmarks/cues.py``)."""
NEW_ITEM_WORDS = frozenset({"also"})
"""Words by which a caller adds an item, even in an answer: ``after_question`` does not
hold of a sentence holding one ("Yes. And there is also a late fee, even though I paid on
time." after "Did you pay by card?"). On dev, each of the 7 caller answers after a
question about the problem that said "also" was labelled a problem."""


def in_context(context: Sequence[str], tokens: Sequence[str]) -> tuple[str, ...]:
    """The names of :data:`CONTEXT` that the model reads for a sentence of normalized
    ``tokens`` said in ``context``: all of them, but ``after_question`` where the sentence
    adds an item (:data:`NEW_ITEM_WORDS`).

    >>> in_context(("after_question",), ["i", "also", "need", "a", "new", "card"])
    ()
    """
    if "after_question" in context and NEW_ITEM_WORDS.intersection(tokens):
        return tuple(c for c in context if c != "after_question")
    return tuple(context)


def sentence_features(tokens: Sequence[str]) -> list[str]:
    """The binary features of one sentence, sorted, each once.

    Parameters
    ----------
    tokens : normalized tokens (:func:`voicecoach.analyzers.lexicon.tokenize_word`),
        so "can't" and "cannot" look alike

    Returns
    -------
    list of str
        ``w:`` words and ``c:`` their letter groups (not of :data:`FUNCTION_WORDS`),
        ``b:`` word pairs (``<s>`` opens the sentence, ``</s>`` closes it).

    Examples
    --------
    >>> sentence_features(["it", "is", "gone"])[:4]
    ['b:<s> it', 'b:gone </s>', 'b:is gone', 'b:it is']
    >>> [f for f in sentence_features(["it", "is", "gone"]) if f[0] != "b"]
    ['c: go', 'c: gon', 'c: gone', 'c:gon', 'c:gone', 'c:gone ', 'c:ne ', 'c:one', 'c:one ', 'w:gone']
    """
    content = [t for t in tokens if t not in FUNCTION_WORDS]
    feats = {f"w:{t}" for t in content}
    padded = ["<s>", *tokens, "</s>"]
    feats |= {f"b:{a} {b}" for a, b in zip(padded, padded[1:])}
    for t in content:
        s = f" {t} "
        feats |= {f"c:{s[i:i + n]}" for n in range(CHAR_N[0], CHAR_N[1] + 1)
                  for i in range(len(s) - n + 1)}
    return sorted(feats)


@dataclass(frozen=True)
class KindModel:
    """One cue kind's logistic model over a sentence's ``n`` binary features (a
    unit-length vector) and its unit-length embedding ``e``:
    ``p = 1 / (1 + exp(-(bias + sum(w_f) / sqrt(n) + v . e)))``."""

    bias: float
    threshold: Optional[float]
    """The vote a sentence no phrase list matches needs for the kind to fire; None: the
    model only confirms the lists' matches (commitments until v20; since v21 a promise
    no list holds fires at a vote chosen to keep 0.95 precision)."""
    weights: dict
    suggestion: str = ""
    embedding_weights: Optional[np.ndarray] = None
    """``v`` (shape ``(384 * len(layers),)``, see :attr:`SentenceModel.layers`), or None
    for a model of features alone."""
    list_threshold: Optional[float] = None
    """The vote a sentence the phrase lists match needs for the kind to fire (lower than
    :attr:`threshold`, which a sentence no list matches needs); None: the lists' match
    fires alone."""
    context_weights: Optional[dict] = None
    """A weight for each of :data:`CONTEXT` that holds of the sentence, added to ``z``;
    None: the kind reads the sentence alone."""

    def probability(self, features: Sequence[str], embedding: Optional[np.ndarray] = None,
                    context: Sequence[str] = ()) -> float:
        """The vote (0..1) on a sentence of binary ``features``, ``embedding`` and the
        names of :data:`CONTEXT` that hold of it (``context``)."""
        if not features:
            return 0.0
        z = self.bias + sum(self.weights.get(f, 0.0) for f in features) / math.sqrt(len(features))
        if self.embedding_weights is not None and embedding is not None:
            z += float(self.embedding_weights @ embedding)
        if self.context_weights:
            z += sum(self.context_weights.get(c, 0.0) for c in context)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class SentenceModel:
    """The shipped sentence classifier: which cue kinds a sentence shows.

    Examples
    --------
    >>> model = SentenceModel.shipped()
    >>> sorted(model.kinds)
    ['commitment', 'empathy', 'jargon', 'patronizing', 'problem', 'scary']
    >>> model.firing("Look, I have explained this to you twice already.",
    ...              ["patronizing", "scary"])
    ['patronizing']
    """

    def __init__(self, kinds: dict[str, KindModel], name: str = "",
                 encoder: Optional[SentenceEncoder] = None, layers: Sequence[int] = (LAYERS,)):
        self.kinds = kinds
        self.name = name
        self.encoder = encoder
        self.layers = tuple(layers)
        """The encoder layers whose means make the embedding the models read
        (:meth:`SentenceEncoder.encode`)."""
        self._last: tuple[str, Optional[np.ndarray]] = ("", None)
        """The last sentence embedded and its embedding: a sentence that closes is voted
        on for its phrase kinds, then for a commitment; it is embedded once."""

    @classmethod
    def shipped(cls) -> Optional["SentenceModel"]:
        """The model shipped with the package, read once per process (None if its file
        or the encoder it needs is missing: the phrase lists then work alone)."""
        return _shipped()

    @classmethod
    def load(cls, path: Optional[str | Path] = None) -> "SentenceModel":
        """Read the parameter file (by default the one shipped in ``voicecoach.models``);
        a model that reads embeddings gets the shipped encoder, with the fine-tuned
        arrays the file names (``"encoder_tuning"``, a file beside it) in place of its own.

        Raises
        ------
        FileNotFoundError
            No parameter file there, or it reads embeddings and no encoder is shipped,
            or the fine-tuned arrays it names are missing.
        ValueError
            Its embedding weights do not fit the layers it names, or the fine-tuned
            arrays are not those it was trained with (``"encoder_tuning_sha256"``: a
            damaged install, or ``tools/finetune_encoder.py`` run again and
            ``tools/train_cues.py`` not), or a file is not what it should be.
        """
        path = Path(path or model_file_path())
        data = json.loads(path.read_text(encoding="utf-8"))
        features = data.get("features", {})
        layers = tuple(features.get("embedding_layers", [LAYERS]))
        kinds = {k: KindModel(float(v["bias"]), v["threshold"], dict(v["weights"]),
                              str(v.get("suggestion", "")),
                              (np.asarray(v["embedding_weights"], dtype=np.float32)
                               if "embedding_weights" in v else None),
                              v.get("list_threshold"), v.get("context_weights"))
                 for k, v in data["kinds"].items()}
        for k, m in kinds.items():
            if m.context_weights and set(m.context_weights) - set(CONTEXT):
                raise ValueError(f"{path}: {k} reads context {sorted(set(m.context_weights) - set(CONTEXT))} "
                                 f"this version does not know (it knows {list(CONTEXT)})")
        for k, m in kinds.items():
            if m.embedding_weights is not None and m.embedding_weights.shape != (DIM * len(layers),):
                raise ValueError(f"{path}: {k} has {m.embedding_weights.size} embedding weights, "
                                 f"not {DIM * len(layers)} for layers {list(layers)}")
        encoder = None
        if any(m.embedding_weights is not None for m in kinds.values()):
            tuning = path.parent / features["encoder_tuning"] if features.get("encoder_tuning") else None
            if tuning is not None and features.get("encoder_tuning_sha256"):
                if file_sha256(tuning) != features["encoder_tuning_sha256"]:
                    raise ValueError(f"{tuning} is damaged or not the file {path.name} was trained with "
                                     "(another sha256): reinstall VoiceCoach (developers: run "
                                     "tools.train_cues after tools.finetune_encoder)")
            encoder = SentenceEncoder.shipped(tuning)
            if encoder is None:
                raise FileNotFoundError("the sentence model reads embeddings and no sentence encoder is shipped")
        return cls(kinds, data.get("name", ""), encoder, layers)

    def probability(self, kind: str, tokens: Sequence[str], text: str = "") -> float:
        """How sure the model is that the sentence of ``tokens`` (and words ``text``)
        shows ``kind`` (0..1); 0 for a kind it was not trained on."""
        m = self.kinds.get(kind)
        if m is None:
            return 0.0
        return m.probability(sentence_features(tokens), self._embedding([m], text or " ".join(tokens)))

    def decides(self, kind: str, text: str, tokens: Sequence[str], listed: bool,
                context: Sequence[str] = ()) -> bool:
        """Whether ``kind`` fires on the sentence ``text`` (normalized ``tokens``) that the
        phrase lists match (``listed``) or not: the vote against :attr:`KindModel.threshold`,
        or a listed sentence against :attr:`KindModel.list_threshold`. A sentence of fewer
        than :data:`MIN_TOKENS` the model does not judge; the lists decide it ("It keeps
        dropping." is a problem when the caller's list holds "keeps dropping").
        ``context``: the names of :data:`CONTEXT` that hold of the sentence (read as
        :func:`in_context` says)."""
        m = self.kinds.get(kind)
        if m is None or len(tokens) < MIN_TOKENS or (listed and m.list_threshold is None):
            return listed
        bar = m.list_threshold if listed else m.threshold
        if bar is None:
            return False
        return m.probability(sentence_features(tokens), self._embedding([m], text),
                             in_context(context, tokens)) >= bar

    def firing(self, text: str, kinds: Sequence[str], tokens: Optional[Sequence[str]] = None) -> list[str]:
        """Those of ``kinds`` whose vote passes its threshold on the sentence ``text``
        (never for fewer than :data:`MIN_TOKENS` tokens); its features and embedding
        are computed once. ``tokens``: the sentence's normalized tokens, when the
        caller has them (by default ``text`` split and normalized)."""
        kinds = [k for k in kinds if k in self.kinds and self.kinds[k].threshold is not None]
        if tokens is None:
            tokens = normalized_tokens(text)
        if len(tokens) < MIN_TOKENS or not kinds:
            return []
        features = sentence_features(tokens)
        embedding = self._embedding([self.kinds[k] for k in kinds], text)
        return [k for k in kinds if self.kinds[k].probability(features, embedding) >= self.kinds[k].threshold]

    def _embedding(self, models: Sequence[KindModel], text: str) -> Optional[np.ndarray]:
        """The sentence's embedding, computed only when one of ``models`` reads it."""
        if self.encoder is None or all(m.embedding_weights is None for m in models):
            return None
        last_text, last = self._last    # one tuple, read and replaced whole: threads may share the model
        if last is None or last_text != text:
            last = self.encoder.encode(text, self.layers)
            self._last = (text, last)
        return last


def normalized_tokens(text: str) -> list[str]:
    """The normalized tokens of a sentence, as the language cues see them."""
    out: list[str] = []
    for w in text.split():
        out += tokenize_word(w)[0]
    return out


def file_sha256(path: str | Path) -> str:
    """The hex SHA-256 of a file's bytes (``model.json`` records its tuned encoder's)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class CueModelWarning(UserWarning):
    """The shipped sentence model cannot be used (a damaged install); one line, and the
    phrase lists work alone."""


@functools.cache
def _shipped() -> Optional[SentenceModel]:
    """The shipped model; None, with a :class:`CueModelWarning`, when its files cannot
    be used (the phrase lists then work alone), and None without one when it was not
    installed."""
    if not model_file_path().is_file():
        return None
    try:
        return SentenceModel.load()
    except Exception as exc:        # whatever is wrong with the files, the call goes on
        reason = (f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.strerror
                  else f"{model_file_path()}: no {exc}" if isinstance(exc, KeyError) else str(exc))
        warnings.warn(CueModelWarning(f"the sentence model is not used ({reason}); the language cues "
                                      "use the phrase lists alone"), stacklevel=2)
        return None


def model_file_path() -> Path:
    """Where the shipped parameter file lives."""
    return Path(str(resources.files("voicecoach.models") / "cues" / MODEL_FILE))
