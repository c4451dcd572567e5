"""Offline analysis of a recorded call: the engine over a file source, then speech-to-text.

Audio analysis (echo cancellation, voice activity, prosody, turn-taking) runs
first, block by block. Then each channel's speech segments are transcribed (the
call audio as the analyzers heard it, without the agent's echo), the two channels
in parallel (faster-whisper's ``num_workers``: one core each), and the words are
fed to the engine in time order.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from voicecoach.analyzers.voice import Baseline
from voicecoach.config import Config
from voicecoach.engine import Engine
from voicecoach.events import AGENT, CUSTOMER, SAMPLE_RATE
from voicecoach.sources.audio import CallAudio
from voicecoach.sources.files import FileSource
from voicecoach.store.record import build_record
from voicecoach.stt.offline import transcribe_channel
from voicecoach.stt.whisper import load_model

# progress(stage, done, total): stage is "audio" or a channel name; units are seconds
Progress = Callable[[str, float, float], None]


def demo_call_path() -> Path:
    """The demo call that ships with the package (a generated two-voice support call)."""
    return Path(str(resources.files("voicecoach") / "data" / "demo_call.flac"))


def analyze_call(call: CallAudio, config: Optional[Config] = None, *, transcribe: bool = True,
                 baseline: Optional[Baseline] = None, progress: Optional[Progress] = None,
                 model=None) -> dict:
    """Analyse a whole call and return its call record (a JSON-ready dict).

    Parameters
    ----------
    call : CallAudio
    config : Config, optional
    transcribe : bool
        False skips speech-to-text (and so the word-based cues), for a quick look.
    baseline : voice.Baseline, optional
        The agent's voice profile.
    progress : callable, optional
        ``progress(stage, done_s, total_s)``.
    model : faster_whisper.WhisperModel, optional
        A loaded model to reuse; by default ``config.transcribe.model`` is loaded.
    """
    config = config or Config()
    channels = call.channels()
    engine = Engine(config, tuple(channels), baseline=baseline)
    # the call audio as the analyzers heard it (without the agent's echo), for speech-to-text
    heard = np.empty_like(channels[CUSTOMER]) if engine.echo is not None else None

    def keep_heard():
        for start_s, samples in engine.take_heard(CUSTOMER):
            i = int(round(start_s * SAMPLE_RATE))
            heard[i:i + len(samples)] = samples

    for frame in FileSource(call, block_s=10.0):
        engine.feed(frame.channel, frame.start_s, frame.samples)
        engine.take_heard(AGENT)
        if heard is not None and frame.channel == CUSTOMER:
            keep_heard()
        if progress and frame.channel == AGENT:
            progress("audio", min(call.duration, frame.start_s + 10.0), call.duration)
    engine.finish_audio()
    if heard is not None:
        keep_heard()
        channels[CUSTOMER] = heard

    transcript = []
    if transcribe:
        model = model or load_model(config.transcribe, num_workers=len(channels))
        segments = {ch: list(engine.vad[ch].segments) for ch in channels}

        def run(ch):
            total = sum(s.duration for s in segments[ch]) or 1.0
            report = (lambda done: progress(ch, min(done, total), total)) if progress else None
            return transcribe_channel(model, ch, channels[ch], segments[ch],
                                      config.transcribe, report)

        with ThreadPoolExecutor(max_workers=len(channels)) as pool:
            results = dict(zip(channels, pool.map(run, channels)))
        for ch, pieces in results.items():
            engine.feed_words(ch, [w for p in pieces for w in p.words])
            transcript += pieces
        engine.finish_words()
        transcript.sort(key=lambda p: p.start)
    return build_record(engine, transcript, name=call.name, duration=call.duration,
                        model=config.transcribe.model if transcribe else None)
