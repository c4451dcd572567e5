"""A sentence classifier beside the phrase lists, for the cue kinds whose wording varies most.

A phrase list catches the wordings it holds and nothing else: on sentences written by
someone who never saw the lists, they found under half of the scary ones. People
frighten a caller, talk down to them and bring up problems in more
ways than any list holds, so a linear model over a sentence's words, word pairs and
letter groups (:func:`sentence_features`) votes beside the lists. A sentence cue
fires when the lists *or* the model say so; the lists alone carry a suggestion
worded for the phrase, the model's cue a general one.

The weights are data: ``models/cues/model.json`` (card beside it), learned from the
``dev`` sentences of ``benchmarks/data/cues.txt`` by ``python3 -m tools.train_cues``.
Runtime needs nothing but this module.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

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
    """One cue kind's logistic model: ``p = 1 / (1 + exp(-(bias + sum(w_f) / sqrt(n))))``
    over the ``n`` features of the sentence (a unit-length binary vector)."""

    bias: float
    threshold: float
    weights: dict
    suggestion: str = ""

    def probability(self, features: Sequence[str]) -> float:
        if not features:
            return 0.0
        z = self.bias + sum(self.weights.get(f, 0.0) for f in features) / math.sqrt(len(features))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class SentenceModel:
    """The shipped sentence classifier: which cue kinds a sentence shows.

    Examples
    --------
    >>> model = SentenceModel.load()
    >>> sorted(model.kinds)
    ['patronizing', 'problem', 'scary']
    """

    def __init__(self, kinds: dict[str, KindModel], name: str = ""):
        self.kinds = kinds
        self.name = name

    @classmethod
    def shipped(cls) -> Optional["SentenceModel"]:
        """The model shipped with the package, read once per process (None if its file
        is missing: the phrase lists then work alone)."""
        return _shipped()

    @classmethod
    def load(cls, path: Optional[str | Path] = None) -> "SentenceModel":
        """Read the parameter file (by default the one shipped in ``voicecoach.models``).

        Raises
        ------
        FileNotFoundError
            No parameter file there.
        """
        data = json.loads(Path(path or model_file_path()).read_text(encoding="utf-8"))
        return cls({k: KindModel(float(v["bias"]), float(v["threshold"]), dict(v["weights"]),
                                 str(v.get("suggestion", "")))
                    for k, v in data["kinds"].items()}, data.get("name", ""))

    def probability(self, kind: str, tokens: Sequence[str]) -> float:
        """How sure the model is that the sentence of ``tokens`` shows ``kind`` (0..1);
        0 for a kind it was not trained on."""
        m = self.kinds.get(kind)
        return 0.0 if m is None else m.probability(sentence_features(tokens))

    def firing(self, tokens: Sequence[str], kinds: Sequence[str]) -> list[str]:
        """Those of ``kinds`` whose vote passes its threshold (never for fewer than
        :data:`MIN_TOKENS` tokens); the sentence's features are computed once."""
        kinds = [k for k in kinds if k in self.kinds]
        if len(tokens) < MIN_TOKENS or not kinds:
            return []
        features = sentence_features(tokens)
        return [k for k in kinds if self.kinds[k].probability(features) >= self.kinds[k].threshold]


@functools.cache
def _shipped() -> Optional[SentenceModel]:
    try:
        return SentenceModel.load()
    except FileNotFoundError:
        return None


def model_file_path() -> Path:
    """Where the shipped parameter file lives."""
    return Path(str(resources.files("voicecoach.models") / "cues" / MODEL_FILE))
