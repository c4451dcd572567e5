"""The warmth meter is steady: on steady speech the value shown moves by at most 0.15
between updates 1 s apart, while the raw scores the record keeps swing more."""
from __future__ import annotations

import numpy as np

from voicecoach.analyze import demo_call_path
from voicecoach.analyzers.warmth import WarmthOptions, warmth_band
from voicecoach.config import Config
from voicecoach.engine import Engine
from voicecoach.sources.audio import load_call
from voicecoach.sources.files import FileSource


def test_shown_warmth_moves_at_most_0_15_per_second_on_steady_speech():
    call = load_call(demo_call_path())
    engine = Engine(Config(), ("agent", "customer"))
    shown, raw, next_t = [], [], 1.0
    for f in FileSource(call, block_s=0.02):
        engine.feed(f.channel, f.start_s, f.samples)
        if f.channel == "customer" and engine.time >= next_t:
            next_t += 1.0
            w = engine.snapshot()["warmth"]
            if w["shown"] is not None:
                shown.append(w["shown"])
                raw.append(w["warmth"])
    assert len(shown) > 30
    steps = np.abs(np.diff(shown))
    assert steps.max() <= 0.15, steps.max()
    assert np.abs(np.diff(raw)).max() > steps.max()         # the raw timeline swings more
    timeline = engine.warmth.summary()["timeline"]
    assert {round(v, 3) for v in raw} <= {v for _, v in timeline}   # the record keeps the raw scores


def test_bands():
    o = WarmthOptions()
    assert [warmth_band(v, o) for v in (None, 0.2, 0.5, 0.8)] == [None, "flat", "steady", "warm"]
