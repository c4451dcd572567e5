"""Malformed inputs for every command, generated (tests/test_fuzz.py runs them).

Each maker writes files into a folder and returns ``[(name, path), ...]``. Audio is short
(4 s) so the whole set is analysed in seconds; the point is the shape of the damage:
truncations at many cut points of each format, corrupted headers, random bytes under an
audio name, NaN/inf/huge samples, absurd rates and channel counts, special files, hostile
call records, profiles and configs.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

FORMATS = {            # extension: (libsndfile format, subtype, rate)
    "wav": ("WAV", "PCM_16", 16000),
    "flac": ("FLAC", "PCM_16", 16000),
    "mp3": ("MP3", "MPEG_LAYER_III", 16000),
    "ogg": ("OGG", "VORBIS", 16000),
    "opus": ("OGG", "OPUS", 48000),
}
CUTS = (44, 200, 2048, 0.1, 0.3, 0.5, 0.7, 0.9, -1)
"""Where each format's file is cut: bytes kept, a fraction of the file, or one byte short."""


def voice_like(seconds: float, sr: int, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A harmonic, syllable-modulated signal: voiced enough for the analyzers to measure."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    pitch = f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8))
    env = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 0.5
    return (0.2 * x * env + 0.002 * rng.standard_normal(len(t))).astype(np.float32)


def stereo(seconds: float, sr: int) -> np.ndarray:
    return np.stack([voice_like(seconds, sr, 140, 1), voice_like(seconds, sr, 210, 2)], axis=1)


def good_files(folder: Path, seconds: float = 4.0) -> dict[str, Path]:
    """One good two-channel call in each format."""
    out = {}
    for ext, (fmt, subtype, sr) in FORMATS.items():
        path = folder / f"good.{ext}"
        sf.write(path, stereo(seconds, sr), sr, format=fmt, subtype=subtype)
        out[ext] = path
    return out


def truncations(folder: Path, good: dict[str, Path]) -> list[tuple[str, Path]]:
    out = []
    for ext, path in good.items():
        data = path.read_bytes()
        for cut in CUTS:
            n = cut if isinstance(cut, int) and cut > 0 else (len(data) - 1 if cut == -1 else int(len(data) * cut))
            p = folder / f"cut-{cut}.{ext}"
            p.write_bytes(data[:n])
            out.append((f"{ext} cut at {cut}", p))
    return out


def corruptions(folder: Path, good: dict[str, Path]) -> list[tuple[str, Path]]:
    """Bytes overwritten in the header and in the middle (fixed seeds: the same every run)."""
    out = []
    for ext, path in good.items():
        data = bytearray(path.read_bytes())
        for i, (lo, hi, n) in enumerate([(0, 64, 6), (4, 48, 3), (len(data) // 3, len(data) // 3 + 256, 40),
                                         (len(data) // 2, len(data) // 2 + 4096, 400)]):
            rng = np.random.default_rng(100 + i)
            bad = bytearray(data)
            for j in rng.integers(lo, min(hi, len(data)), n):
                bad[j] = int(rng.integers(0, 256))
            p = folder / f"corrupt-{i}.{ext}"
            p.write_bytes(bytes(bad))
            out.append((f"{ext} corrupted {lo}-{hi}", p))
    return out


def not_audio(folder: Path) -> list[tuple[str, Path]]:
    rng = np.random.default_rng(7)
    out = []
    for ext in ("wav", "flac", "mp3", "ogg", "opus", "m4a"):
        p = folder / f"random.{ext}"
        p.write_bytes(rng.integers(0, 256, 30_000, dtype=np.uint8).tobytes())
        out.append((f"random bytes .{ext}", p))
    for name, text in (("page.mp3", "<!DOCTYPE html><html><body>" + "<p>not audio</p>" * 500),
                       ("notes.wav", "hello, I am not audio\n" * 300),
                       ("record.flac", json.dumps({"schema": "voicecoach.call/1"}))):
        p = folder / name
        p.write_text(text)
        out.append((name, p))
    riff = folder / "riff-only.wav"
    riff.write_bytes(b"RIFF\x24\x00\x00\x00WAVE")
    out.append(("RIFF header only", riff))
    return out


def _wav_header(sr: int, channels: int, bits: int = 16, data_bytes: int = 0, fmt_tag: int = 1) -> bytes:
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", (36 + data_bytes) & 0xFFFFFFFF) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, fmt_tag, channels, sr, (sr * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
            + b"data" + struct.pack("<I", data_bytes))


def forge_flac(data: bytes, sr: int, channels: int, total: int) -> bytes:
    """A FLAC file whose STREAMINFO claims ``sr``, ``channels`` and ``total`` samples."""
    assert data[:4] == b"fLaC"
    packed = int.from_bytes(data[18:26], "big")
    bps = (packed >> 36) & 0x1F
    packed = (sr & 0xFFFFF) << 44 | ((channels - 1) & 0x7) << 41 | bps << 36 | (total & 0xFFFFFFFFF)
    return data[:18] + packed.to_bytes(8, "big") + data[26:]


def absurd(folder: Path, good: dict[str, Path]) -> list[tuple[str, Path]]:
    """Memory bombs and nonsense headers: refused before anything big is allocated."""
    out = []
    rng = np.random.default_rng(3)
    pcm = (rng.standard_normal(14_000) * 3000).astype("<i2").tobytes()     # 28 KB of samples
    for name, sr, ch in (("1hz", 1, 1), ("0hz", 0, 1), ("4ghz", 0xFFFFFFF0, 1), ("3hz-stereo", 3, 2),
                         ("1000ch", 16000, 1000), ("0ch", 16000, 0), ("65535ch", 8000, 65535)):
        p = folder / f"absurd-{name}.wav"
        p.write_bytes(_wav_header(sr, ch, data_bytes=len(pcm)) + pcm)
        out.append((f"WAV {name}", p))
    p = folder / "absurd-datasize.wav"                          # a data chunk of 4 GB, 28 KB there
    p.write_bytes(_wav_header(16000, 2, data_bytes=0xFFFFFFF0) + pcm)
    out.append(("WAV claiming 4 GB of data", p))
    flac = good["flac"].read_bytes()
    for name, sr, ch, total in (("161gib", 384000, 8, int(3.9 * 3600 * 384000)),   # 8 ch x 5.4e9 frames
                                ("hours", 48000, 2, 2 ** 36 - 1), ("1hz", 1, 1, 14_000),
                                ("8ch-48k", 48000, 8, int(3.5 * 3600 * 48000))):
        p = folder / f"forged-{name}.flac"
        p.write_bytes(forge_flac(flac, sr, ch, total))
        out.append((f"FLAC header forged {name}", p))
    return out


def bad_samples(folder: Path) -> list[tuple[str, Path]]:
    out = []
    base = stereo(3.0, 16000)
    for name, value in (("nan", np.nan), ("inf", np.inf), ("huge", 3e38)):
        x = base.copy()
        x[1000:1200] = value
        p = folder / f"samples-{name}.wav"
        sf.write(p, x, 16000, subtype="FLOAT")
        out.append((f"{name} samples", p))
    for name, x, sr in (("silent", np.zeros((48000, 2), np.float32), 16000),
                        ("short", base[:1600], 16000),
                        ("6ch", np.repeat(base[:, :1], 6, axis=1), 16000),
                        ("8khz-mono", voice_like(3, 8000), 8000)):
        p = folder / f"{name}.wav"
        sf.write(p, x, sr)
        out.append((name, p))
    return out


def special(folder: Path) -> list[tuple[str, Path]]:
    out = []
    d = folder / "folder.wav"
    d.mkdir()
    out.append(("a folder", d))
    fifo = folder / "fifo.wav"
    os.mkfifo(fifo)
    out.append(("a FIFO", fifo))
    for dev in ("/dev/zero", "/dev/null", "/dev/urandom"):
        if os.path.exists(dev):
            out.append((dev, Path(dev)))
    link = folder / "zero.wav"
    link.symlink_to("/dev/zero")
    out.append(("symlink to /dev/zero", link))
    loop = folder / "loop.wav"
    loop.symlink_to(loop)
    out.append(("symlink loop", loop))
    out.append(("missing file", folder / "missing.wav"))
    empty = folder / "empty.wav"
    empty.write_bytes(b"")
    out.append(("empty file", empty))
    return out


def audio_inputs(folder: Path) -> tuple[dict[str, Path], list[tuple[str, Path]]]:
    """The good files and every malformed audio input."""
    folder.mkdir(parents=True, exist_ok=True)
    good = good_files(folder)
    bad = (truncations(folder, good) + corruptions(folder, good) + not_audio(folder)
           + absurd(folder, good) + bad_samples(folder) + special(folder))
    return good, bad


# --------------------------------------------------------------------------- records

def hostile_records(base: dict) -> list[tuple[str, object, bool]]:
    """``(name, content, valid)``: content is a record dict or raw text/bytes; ``valid``
    says whether it is a call record the views must show (exit 0) or refuse (exit 2)."""
    def edit(**changes):
        r = json.loads(json.dumps(base))
        for path, value in changes.items():
            obj = r
            keys = path.split("__")
            for k in keys[:-1]:
                obj = obj[int(k)] if isinstance(obj, list) else obj[k]
            last = keys[-1]
            if value is _DELETE:
                del obj[last]
            elif isinstance(obj, list):
                obj[int(last)] = value
            else:
                obj[last] = value
        return r

    seg = base["transcript"][0]
    out = [
        ("the base record", base, True),
        ("script in the text", edit(transcript__0__text="</td><script>alert(1)</script>",
                                    source__name="<img src=x onerror=alert(1)>.wav"), True),
        ("no speech at all", edit(talk_time={"agent": 0.0, "customer": 0.0},
                                  talk_share={"agent": None, "customer": None}, transcript=[], cues=[],
                                  interruptions=[], backchannels=[], near_misses=[], dead_air=[],
                                  response_gaps=[], commitments=[], caller_problems=[],
                                  warmth={"mean": None, "timeline": [], "first_minute_mean": None,
                                          "baseline": "call"},
                                  pace={"agent_wpm": None, "agent_words": 0, "syllables_per_s": None,
                                        "timeline": []}), True),
        ("absolute source.name", edit(source__name="/etc/passwd"), True),
        ("terminal escape in the name", edit(source__name="\x1b]0;pwned\x07\x1b[2J.wav"), False),
        ("terminal escape in a commitment", edit(commitments=[{"t": 1.0, "text": "\x1b[31mred"}]), False),
        ("source.name up and out", edit(source__name="../../outside.wav"), True),
        ("channel in a class attribute", edit(transcript__0__channel="agent' onmouseover='alert(1)"), False),
        ("unknown channel", edit(source__channels=["agent", "boss"]), False),
        ("channels empty", edit(source__channels=[]), False),
        ("channels doubled", edit(source__channels=["agent", "agent"]), False),
        ("duration 1e12", edit(duration=1e12), False),
        ("duration negative", edit(duration=-5), False),
        ("duration zero", edit(duration=0), False),
        ("duration a string", edit(duration="95"), False),
        ("duration true", edit(duration=True), False),
        ("duration 10**400", None, False),
        ("time 1e300", edit(cues=[{"t": 1e300, "kind": "jargon", "text": "x"}]), False),
        ("cue without t", edit(cues=[{"kind": "jargon", "text": "x"}]), False),
        ("cue kind a number", edit(cues=[{"t": 1.0, "kind": 7, "text": "x"}]), False),
        ("interruption by nobody", edit(interruptions=[{"start": 1, "end": 2, "by": "nobody"}]), False),
        ("transcript a string", edit(transcript="hello"), False),
        ("segment without start", edit(transcript=[{k: v for k, v in seg.items() if k != "start"}]), False),
        ("word text a list", edit(transcript__0__words=[{"start": 0, "end": 1, "text": ["a"]}]), False),
        ("warmth point of three", edit(warmth__timeline=[[1.0, 0.5, 9]]), False),
        ("pace point a string", edit(pace__timeline=[["1", "fast"]]), False),
        ("checklist incomplete", edit(checklist={"greeting": True}), False),
        ("questions negative", edit(questions={"open": -1, "closed": 0}), False),
        ("talk_time missing", edit(talk_time=_DELETE), False),
        ("pace missing", edit(pace=_DELETE), False),
        ("source missing", edit(source=_DELETE), False),
        ("config of the wrong type", edit(config__pace__band_low_wpm="fast"), False),
        ("config NaN threshold", None, False),
        ("a list", [1, 2, 3], False),
        ("null", None, False),
        ("schema of the future", {"schema": "voicecoach.call/9"}, False),
        ("schema only", {"schema": "voicecoach.call/1"}, False),
        ("NaN duration", None, False),
        ("Infinity talk time", None, False),
        ("1e400 duration", None, False),
        ("nested 100000 deep", None, False),
        ("not JSON", b"{\"schema\": \"voicecoach.call/1\", ", False),
        ("binary", bytes(range(256)) * 40, False),
        ("empty", b"", False),
        ("UTF-16", json.dumps(base).encode("utf-16"), False),
    ]
    text = json.dumps(base)
    raw = {
        "duration 10**400": text.replace(f'"duration": {json.dumps(base["duration"])}', '"duration": ' + "9" * 400),
        "config NaN threshold": text.replace('"band_low_wpm": 140.0', '"band_low_wpm": NaN'),
        "null": "null",
        "NaN duration": text.replace(f'"duration": {json.dumps(base["duration"])}', '"duration": NaN'),
        "Infinity talk time": text.replace('"talk_time": {"agent": ', '"talk_time": {"agent": Infinity, "x": '),
        "1e400 duration": text.replace(f'"duration": {json.dumps(base["duration"])}', '"duration": 1e400'),
        "nested 100000 deep": '{"schema": "voicecoach.call/1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    }
    return [(name, raw.get(name, content), valid) for name, content, valid in out]


class _Delete:
    pass


_DELETE = _Delete()


def write_content(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))
    return path


def hostile_configs() -> list[tuple[str, str]]:
    """Config files that must each be refused with one line."""
    return [
        ("not TOML", "[turns\nmin_overlap_s = "),
        ("unknown section", "[nosuch]\nx = 1\n"),
        ("unknown key", "[turns]\nnosuch = 1\n"),
        ("NaN threshold", "[turns]\ndead_air_s = nan\n"),
        ("infinite threshold", "[pace]\nfast_wpm = inf\n"),
        ("negative length", "[turns]\ndead_air_s = -5.0\n"),
        ("zero length", "[turns]\nbackchannel_max_s = 0.0\n"),
        ("beam_size 0", "[transcribe]\nbeam_size = 0\n"),
        ("integer 10**400", "[transcribe]\nbeam_size = " + "1" + "0" * 400 + "\n"),
        ("threshold above 1", "[vad]\nthreshold = 7.0\n"),
        ("a string for a number", "[turns]\ndead_air_s = \"five\"\n"),
        ("lexicon_dirs missing", "[language]\nlexicon_dirs = [\"/nonexistent/lexicons\"]\n"),
        ("lexicon_dirs numbers", "[language]\nlexicon_dirs = [1, 2]\n"),
        ("a section that is a value", "turns = 3\n"),
    ]


def hostile_profiles() -> list[tuple[str, object]]:
    return [
        ("not JSON", b"{\"features\": "),
        ("no features", {"source": "x"}),
        ("NaN", '{"features": {"f0_median_st": {"mean": NaN}}}'),
        ("nested deep", "[" * 100_000 + "]" * 100_000),
        ("a list", [1, 2]),
        ("n_windows a word", {"features": {"f0_median_st": {"mean": 1.0}}, "n_windows": "many"}),
    ]
