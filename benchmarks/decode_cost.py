"""Where one streaming decode's CPU goes: features, encoder, generated tokens, word alignment.

The live transcriber decodes its buffer (a few seconds of speech) about once every
``min_chunk_s`` of new speech, through faster-whisper's ``transcribe`` with word
timestamps, on a model that encodes only part of Whisper's window
(:func:`voicecoach.stt.whisper.load_model` with ``min_window_s``). This times that
call (``StreamingTranscriber._decode``) beside its parts on the same audio, called on
CTranslate2 directly: the log-mel features, the encoder, greedy generation (and so
the cost of one token) and the word alignment. What is left is faster-whisper's own code and its timestamp tokens.
The process's CPU time (run it on a quiet machine), median of ``--repeat`` calls each.

Speech: the first ``--seconds`` of the first clip in ``../shared/data/read`` when it
exists, else of the demo call's agent channel from its first speech.

    python3 -m benchmarks.decode_cost [--seconds 7] [--repeat 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine  # noqa: E402
from benchmarks.streaming_check import DEMO, READ_DIR  # noqa: E402
from voicecoach.events import SAMPLE_RATE  # noqa: E402
from voicecoach.stt.streaming import StreamingOptions, StreamingTranscriber  # noqa: E402
from voicecoach.stt.whisper import FRAMES_PER_S, TranscribeOptions, encoded_frames, load_model  # noqa: E402


def speech(seconds: float) -> tuple[str, np.ndarray]:
    """(where it is from, mono float32 16 kHz audio)."""
    clips = sorted(READ_DIR.glob("*.flac")) + sorted(READ_DIR.glob("*.wav")) if READ_DIR.is_dir() else []
    if clips:
        audio, sr = sf.read(clips[0], dtype="float32", always_2d=True)
        name = clips[0].name
    else:
        audio, sr = sf.read(DEMO, dtype="float32", always_2d=True)
        name = "demo call, agent"
    audio = audio[:, 0]
    if sr != SAMPLE_RATE:
        audio = soxr.resample(audio, sr, SAMPLE_RATE).astype(np.float32)
    voiced = np.flatnonzero(np.abs(audio) > 0.02)
    start = max(0, int(voiced[0]) - SAMPLE_RATE // 10) if voiced.size else 0
    return name, np.ascontiguousarray(audio[start:start + int(seconds * SAMPLE_RATE)])


def cpu_ms(fn, repeat: int) -> float:
    """Median CPU time of ``fn()`` (ms), the whole process's: CTranslate2 works on
    threads of its own."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=7.0, help="speech in the buffer (s)")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    if not args.seconds > 0 or args.repeat < 1:
        ap.error("--seconds must be above 0 and --repeat 1 or more")
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    options = StreamingOptions()
    model = load_model(TranscribeOptions(), num_workers=1, min_window_s=options.min_window_s)
    name, audio = speech(args.seconds)
    o = TranscribeOptions()

    st = StreamingTranscriber(model, "agent", options, o)
    st.insert_audio(0.0, audio, True)        # the whole clip is the buffer, as one speech piece

    def decode():
        return st._decode()                  # the live transcriber's own model call

    n_words = len(decode()[0])               # (and a warm-up)
    whole = cpu_ms(decode, args.repeat)

    tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language=o.language)
    features = model.feature_extractor(audio)[:, :-1]   # as faster-whisper drops the last frame
    padded = np.zeros((features.shape[0], 3000), np.float32)
    padded[:, :min(3000, features.shape[1])] = features[:, :3000]
    frames = encoded_frames(padded, int(options.min_window_s * FRAMES_PER_S))
    window = ctranslate2.StorageView.from_array(np.ascontiguousarray(padded[None, :, :frames]))
    encoded = model.model.encode(window, to_cpu=False)
    prompt = list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]
    tokens = [t for t in model.model.generate(encoded, [prompt], beam_size=1)[0].sequences_ids[0]
              if t < tokenizer.eot]
    parts = {
        "log-mel features": cpu_ms(lambda: model.feature_extractor(audio), args.repeat),
        f"encoder ({frames / FRAMES_PER_S:.0f} s window)": cpu_ms(
            lambda: model.model.encode(window, to_cpu=False), args.repeat),
        f"generation ({len(tokens)} text tokens)": cpu_ms(
            lambda: model.model.generate(encoded, [prompt], beam_size=1), args.repeat),
        "word alignment": cpu_ms(
            lambda: model.model.align(encoded, list(tokenizer.sot_sequence), [tokens],
                                      features.shape[-1]), args.repeat),
    }
    print(f"machine: {machine()}")
    print(f"speech: {name}, {len(audio) / SAMPLE_RATE:.1f} s, {n_words} words; "
          f"median process CPU of {args.repeat} calls each")
    print(f"one streaming decode (StreamingTranscriber._decode: faster-whisper transcribe): {whole:.0f} ms")
    for part, ms in parts.items():
        print(f"  {part}: {ms:.0f} ms")
    rest = whole - sum(parts.values())
    print(f"  the rest (faster-whisper's own code, timestamp tokens): {rest:.0f} ms")
    per_token = parts[f"generation ({len(tokens)} text tokens)"] / max(1, len(tokens) + 1)
    print(f"one generated token: {per_token:.1f} ms")


if __name__ == "__main__":
    main()
