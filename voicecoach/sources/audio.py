"""Reading a recorded call into two 16 kHz float32 channels.

A call is a stereo file (left = agent, right = customer, or swapped), two files
(one per side), or a mono file (the agent alone). Anything else, or anything
unreadable, raises :class:`AudioError` with one line a user can act on.
"""
from __future__ import annotations

import re
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from voicecoach.events import SAMPLE_RATE
from voicecoach.sources.library_noise import quiet_decoders

MAX_CALL_S = 4 * 3600.0      # read whole (review, report, live --replay): longer is almost surely a wrong file
FILE_BLOCK_S = 10.0          # a file is read and analysed in blocks this long (s): few model calls
MAX_STREAM_S = 24 * 3600.0   # read block by block (analyze): a whole shift; longer is a wrong file or a lying header
SILENCE_PEAK = 10 ** (-70 / 20)   # -70 dBFS: digital silence or a muted device
MIN_AUDIO_S = 0.5            # less in any file of a call (either side's too): too short to analyse
MIN_RATE_HZ, MAX_RATE_HZ = 4000, 384000   # outside: not a speech recording (a 1 Hz header is a bomb)
MAX_CHANNELS = 8                  # a call has 1 or 2; more are mixed down for a side's file
MAX_PEAK = 100.0                  # +40 dBFS: float samples beyond this are not audio


AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm")
"""The file names taken for recordings of calls (what the commands and the review's
Open dialog offer; :func:`read_audio` reads these and more)."""


class AudioError(Exception):
    """Input a user gave that cannot be analysed; the message is one clear line."""


class AudioWarning(UserWarning):
    """A file that is analysed with a caveat (it looks truncated); the message is one line."""


class TruncatedWarning(AudioWarning):
    """A file read only up to where it ends early (:func:`warn_truncated`)."""


@dataclass
class CallAudio:
    """Both sides of a call on one clock.

    Attributes
    ----------
    agent : np.ndarray [shape=(n,)], float32, 16 kHz
    customer : np.ndarray [shape=(n,)] or None
        None for a mono recording of the agent alone.
    name : str
        Where it came from, for reports.
    """

    agent: np.ndarray
    customer: Optional[np.ndarray]
    name: str

    sr = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.agent) / SAMPLE_RATE

    def channels(self) -> dict[str, np.ndarray]:
        out = {"agent": self.agent}
        if self.customer is not None:
            out["customer"] = self.customer
        return out


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode any common audio file.

    The header is checked (:func:`check_header`) before anything is decoded, and the
    decoders' own messages are kept off the terminal
    (:func:`~voicecoach.sources.library_noise.quiet_decoders`). A file whose start
    decodes but which ends early (cut short, or damaged part-way) is read up to where
    it breaks, with one :class:`AudioWarning` saying where.

    Returns
    -------
    audio : np.ndarray [shape=(n, channels)], float32, at the file's own rate
    sr : int

    Raises
    ------
    AudioError
        Missing, unreadable, special, empty, damaged from the start, absurd header, or
        invalid (NaN, infinite or absurdly large) samples.
    """
    path = Path(path)
    check_file(path)
    with quiet_decoders():
        info = sndfile_info(path)
        if info is None:
            audio, sr, ended = _read_with_av(path)
        else:
            check_header(path, info.samplerate, info.channels, info.frames)
            audio, sr, ended = _read_with_soundfile(path, info)
            if ended.startswith("decoding stops") or audio.shape[0] == 0:
                audio, sr, ended = _more_with_av(path, audio, sr, ended)
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: contains no audio samples (empty or truncated)")
    warn_truncated(path, ended)
    check_samples(path, audio)
    return audio, sr


def sndfile_info(path: Path):
    """libsndfile's view of the header, or None when it does not read the format (then
    PyAV does)."""
    import soundfile as sf

    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError):
        return None


def channel_count(path: str | Path) -> int:
    """How many channels :func:`read_audio` gives ``path``, from its header alone (no
    decoding): libsndfile's, else PyAV's (whose count :func:`read_audio` keeps for every
    frame it decodes); 0 when neither opens it."""
    path = Path(path)
    with quiet_decoders():
        info = sndfile_info(path)
        if info is not None:
            return int(info.channels)
        import av

        try:
            with av.open(str(path)) as container:
                return av_stream(container, path)[2]
        except Exception:          # PyAV's errors, and AudioError: no audio stream
            return 0


def warn_truncated(path: str | Path, ended: str) -> None:
    """The one :class:`AudioWarning` for a file read only up to where it ends early
    (``ended``: where and why, from :func:`ended_early`; "" says nothing)."""
    if ended:
        warnings.warn(TruncatedWarning(f"{path}: {ended}; it looks truncated, so only that much "
                                       "is analysed"), stacklevel=3)


def check_file(path: Path) -> None:
    """A path that names a readable regular file that is not empty (before opening it:
    a FIFO would block, ``/dev/zero`` never ends)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except PermissionError:
        raise AudioError(f"{path}: permission denied (a folder on the way cannot be entered)") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(f"{path}: is not a regular file (a device, pipe or socket)")
    if st.st_size == 0:
        raise AudioError(f"{path}: the file is empty")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise AudioError(f"{path}: permission denied (you may not read this file)") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def check_header(path: str | Path, sr, channels, frames=None, max_s: float = MAX_CALL_S) -> None:
    """Refuse a file from its header, before decoding: an absurd sample rate or channel
    count, or longer than ``max_s``. For every reader (whole or streaming).

    Parameters
    ----------
    sr : int
        Sample rate (Hz) the header gives.
    channels : int
    frames : int, optional
        Samples per channel the header gives; None or 0 when it does not say.
    max_s : float
        Longest recording (s) the reader takes: :data:`MAX_CALL_S` read whole,
        :data:`MAX_STREAM_S` block by block.

    Raises
    ------
    AudioError
    """
    if not sr:                       # what a decoder makes of a file that holds no audio (text, a picture)
        raise AudioError(f"{path}: not an audio file (no sample rate in it)")
    if not MIN_RATE_HZ <= sr <= MAX_RATE_HZ:
        raise AudioError(f"{path}: sample rate {sr} Hz is not a speech recording "
                         f"(expected {MIN_RATE_HZ}–{MAX_RATE_HZ} Hz)")
    if not channels or not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"{path}: has {channels} channels; a call has 1 or 2")
    if frames and frames > 0 and frames / sr > max_s:
        too_long(path, frames / sr, max_s)


def check_samples(path: str | Path, audio: np.ndarray) -> None:
    """Refuse NaN or infinite samples, or samples far outside audio's -1..1 (no float
    recording reaches +40 dBFS; they would overflow every measure downstream)."""
    with np.errstate(all="ignore"):
        peak = max(float(audio.max()), -float(audio.min())) if audio.size else 0.0   # no temporary
    if not np.isfinite(peak):
        raise AudioError(f"{path}: contains invalid (NaN or infinite) samples")
    if peak > MAX_PEAK:
        raise AudioError(f"{path}: samples reach {peak:.3g}, far outside audio's -1..1; "
                         "not a recording")


_BLOCK = 1 << 18               # frames per decoded block
_SLACK = 0.05                  # s a decoded file may fall short of its header (MP3 padding)
_PREALLOC_BYTES = 1 << 30      # a header asking for more is read block by block instead


def _read_with_soundfile(path: Path, info) -> tuple[np.ndarray, int, str]:
    """Decode with libsndfile block by block, up to where the file ends or breaks.

    Returns the audio, its rate and "" or where and why it ended early. A header's
    frame count is trusted for one allocation only when it is modest, so a forged
    header cannot reserve gigabytes."""
    import soundfile as sf

    sr, ch, expected = int(info.samplerate), int(info.channels), int(info.frames or 0)
    limit = int(MAX_CALL_S * sr)
    prealloc = 0 < expected and expected * ch * 4 <= _PREALLOC_BYTES
    out = np.empty((expected, ch), np.float32) if prealloc else None
    blocks, n, error = [], 0, None
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                want = min(_BLOCK, expected - n) if prealloc and n < expected else _BLOCK
                try:
                    if prealloc and n < expected:
                        got = len(f.read(want, dtype="float32", always_2d=True, out=out[n:n + want]))
                    else:
                        b = f.read(want, dtype="float32", always_2d=True)
                        got = len(b)
                        if got:
                            blocks.append(b)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    error = exc
                    break
                if got == 0:
                    break
                n += got
                if n > limit:
                    too_long(path, n / sr)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise undecodable(path, exc) from None
    if prealloc:
        head = out[:min(n, expected)]
        audio = np.concatenate([head] + blocks) if blocks else (head if n >= expected else head.copy())
    else:
        audio = np.concatenate(blocks) if blocks else np.zeros((0, ch), np.float32)
    return audio, sr, ended_early(sr, n, expected, error, info.extra_info or "")


def ended_early(sr: int, n: int, expected: int = 0, error: Optional[BaseException] = None,
                extra_info: str = "") -> str:
    """Where and why a file that gave ``n`` frames at ``sr`` Hz ended early, or "": a
    decoder error part-way, fewer frames than the header's ``expected``, or libsndfile's
    log of the header (``extra_info``) saying the file is cut short."""
    if error is not None:
        return f"decoding stops at {_clock(n / sr)} ({_reason(error)})"
    if expected and n < expected - _SLACK * sr:
        return f"it ends at {_clock(n / sr)} but its header says {_clock(expected / sr)}"
    if _header_says_truncated(extra_info):
        return f"it ends at {_clock(n / sr)}, before the length its header gives"
    return ""


def damaged_from_start(path: str | Path, why: str | BaseException) -> AudioError:
    """Nothing of ``path`` decodes (``why``: the decoder's error, or what it said)."""
    reason = why if isinstance(why, str) else _reason(why)
    return AudioError(f"{path}: damaged from the start; nothing decodes ({reason})")


def _header_says_truncated(extra_info: str) -> bool:
    """libsndfile's log of the header: a WAV/AIFF data chunk longer than the file
    (``data : 192000 (should be 95978)``), an Ogg stream without its last page (a partial
    page at the end: "Junk after the last page")."""
    return bool(re.search(r"^\s*(data|SSND)\s*:\s*\d+\s*\(should be", extra_info, re.M)
                or "lacks an end-of-stream" in extra_info or "Junk after the last page" in extra_info)


def undecodable(path: str | Path, exc: BaseException) -> AudioError:
    """libsndfile cannot open ``path`` (``exc`` says why)."""
    return AudioError(f"{path}: not an audio file this program can decode ({_reason(exc)})")


def _reason(exc: BaseException) -> str:
    """A decoder's message as a short phrase (libsndfile's ``Error : flac decoder lost sync.``)."""
    text = " ".join(str(exc).split())
    text = re.sub(r"^(Error\s*:\s*|Error opening '.*?':\s*|\[Errno -?\d+\]\s*)", "", text)
    text = re.sub(r":\s*'[^']*'$", "", text).rstrip(".")      # FFmpeg's ": 'avcodec_send_packet()'"
    return text[:120] or exc.__class__.__name__


def _clock(t: float) -> str:
    """Seconds as m:ss.s."""
    t = max(0.0, t)
    return f"{int(t // 60)}:{t % 60:04.1f}"


def _more_with_av(path: Path, audio: np.ndarray, sr: int, ended: str) -> tuple[np.ndarray, int, str]:
    """libsndfile gave up part-way (its FLAC decoder drops the whole block that breaks):
    FFmpeg often decodes further. The longer reading wins; nothing at all is an error."""
    try:
        more, more_sr, more_ended = _read_with_av(path)
    except AudioError as exc:
        if audio.shape[0] == 0:
            reason = ended.partition("(")[2].rstrip(")") or str(exc).partition(": ")[2]
            raise damaged_from_start(path, reason) from None
        return audio, sr, ended
    if more.shape[0] / more_sr > audio.shape[0] / sr:
        return more, more_sr, further_ended(ended, more_ended, audio.shape[0] / sr, more.shape[0] / more_sr)
    return audio, sr, ended


def further_ended(ended: str, more_ended: str, t: float, more_t: float) -> str:
    """What to say when FFmpeg read on (to ``more_t`` s) where libsndfile stopped (at ``t``)."""
    return more_ended or ended.replace(f"decoding stops at {_clock(t)}", f"decoding stops at {_clock(more_t)}")


def _read_with_av(path: Path) -> tuple[np.ndarray, int, str]:
    """Formats libsndfile does not read (m4a, aac, wma, video files) through PyAV."""
    import av

    try:
        container = av.open(str(path))
    except Exception:
        raise AudioError(f"{path}: not an audio file this program can decode") from None
    chunks, n, error = [], 0, None
    with container:
        stream, sr, channels, frames = av_stream(container, path)
        check_header(path, sr, channels, frames)
        limit = int(MAX_CALL_S * sr)
        try:
            for frame in container.decode(stream):
                a = av_samples(frame, channels)
                chunks.append(a)
                n += a.shape[1]
                if n > limit:
                    too_long(path, n / sr)
        except AudioError:
            raise
        except Exception as exc:
            if not chunks:
                raise damaged_from_start(path, exc) from None
            error = exc
    if not chunks:
        raise AudioError(f"{path}: contains no audio samples (empty or truncated)")
    audio = np.concatenate(chunks, axis=1)       # (channels, n)
    return np.ascontiguousarray(audio.T, dtype=np.float32), int(sr), ended_early(sr, n, frames, error)


def av_stream(container, path: str | Path):
    """A PyAV container's first audio stream and what its header says: ``(stream, sr,
    channels, frames)``, frames 0 when it does not say."""
    if not container.streams.audio:
        raise AudioError(f"{path}: has no audio stream")
    stream = container.streams.audio[0]
    sr = int(stream.rate or 0)
    channels = int(stream.codec_context.channels or 0)
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        seconds = (container.duration or 0) / 1e6            # av.time_base: microseconds
    return stream, sr, channels, int(seconds * sr)


def av_samples(frame, channels: int) -> np.ndarray:
    """One decoded PyAV frame as float32 ``(channels, n)`` in -1..1."""
    a = frame.to_ndarray()
    if not frame.format.is_planar:              # packed: (1, n * channels)
        a = a.reshape(-1, len(frame.layout.channels)).T
    if a.shape[0] != channels:
        a = a[:channels] if a.shape[0] > channels else np.repeat(a[:1], channels, 0)
    if a.dtype.kind == "i":
        a = a / float(np.iinfo(a.dtype).max)
    elif a.dtype.kind == "u":
        a = (a - 128.0) / 128.0
    return a.astype(np.float32)


def too_long(path: str | Path, duration: float, max_s: float = MAX_CALL_S) -> None:
    """Refuse a recording of ``duration`` s, longer than the reader's ``max_s``."""
    whole = (f"; `voicecoach analyze` reads up to {MAX_STREAM_S / 3600:.0f} hours (a whole shift)"
             if max_s < MAX_STREAM_S and duration <= MAX_STREAM_S else "")
    raise AudioError(f"{path}: {duration / 3600:.1f} hours long; a recording longer than "
                     f"{max_s / 3600:.0f} hours is almost surely the wrong file{whole}")


def _resample(x: np.ndarray, sr: int) -> np.ndarray:
    if sr == SAMPLE_RATE:
        return np.ascontiguousarray(x, dtype=np.float32)
    import soxr

    return soxr.resample(x, sr, SAMPLE_RATE).astype(np.float32)


def _check(path: Path, audio: np.ndarray, sr: int) -> None:
    duration = audio.shape[0] / sr
    if duration > MAX_CALL_S:
        too_long(path, duration)
    check_length(path, duration)


def check_length(path: str | Path, duration: float) -> None:
    """A file of a call holds at least :data:`MIN_AUDIO_S` of audio, else :class:`AudioError`:
    one rule for every file of a call, read whole or streamed, a call's own file or either
    side's (a 100 ms ``--customer`` file is as wrong as a 100 ms call)."""
    if duration < MIN_AUDIO_S:
        raise AudioError(f"{path}: only {duration * 1000:.0f} ms of audio; too short to analyse")


def check_call_channels(path: str | Path, channels: int) -> None:
    """A call recording has 1 channel (the agent alone) or 2 (agent and customer); any
    other count is :class:`AudioError`. For every reader of a recording (whole, streaming,
    and the voice profile's), so all say the same."""
    if channels not in (1, 2):
        raise AudioError(f"{path}: has {channels} channels; expected 2 (agent and customer) "
                         "or 1 (the agent alone)")


def check_call_args(path, agent, customer, agent_channel: str) -> None:
    """The call's files and channel choice make sense together (else :class:`AudioError`)."""
    if agent_channel not in ("left", "right"):
        raise AudioError(f"--agent-channel must be 'left' or 'right', not {agent_channel!r}")
    if path is not None and (agent is not None or customer is not None):
        raise AudioError("give either one call file or --agent/--customer files, not both")
    if path is None and agent is None and customer is not None:
        raise AudioError("--customer needs --agent: the file of your side (a call with you alone is "
                         "a mono recording: `voicecoach analyze me.wav`)")


def load_call(path: str | Path | None = None, *, agent: str | Path | None = None,
              customer: str | Path | None = None, agent_channel: str = "left") -> CallAudio:
    """Load a call from one file or from one file per side.

    Parameters
    ----------
    path : path, optional
        A stereo recording (``agent_channel`` says which side is the agent) or a
        mono recording of the agent alone.
    agent, customer : path, optional
        One file per side instead of ``path`` (``customer`` may be omitted).
    agent_channel : {"left", "right"}

    Returns
    -------
    CallAudio
        Both channels at 16 kHz, padded to the same length.

    Raises
    ------
    AudioError
        Unreadable, empty, silent, too long, or with the wrong channel count.
    """
    check_call_args(path, agent, customer, agent_channel)
    cut = False
    if path is not None:
        path = Path(path)
        audio, sr = read_audio(path)
        _check(path, audio, sr)
        check_call_channels(path, audio.shape[1])
        if audio.shape[1] == 1:
            a, c = audio[:, 0], None
        else:
            a, c = (audio[:, 0], audio[:, 1]) if agent_channel == "left" else (audio[:, 1], audio[:, 0])
        a, c = np.ascontiguousarray(a), (None if c is None else np.ascontiguousarray(c))
        del audio                        # keep one copy of a long call in memory, not two
        a, c = _resample(a, sr), (None if c is None else _resample(c, sr))
        name = path.name
    elif agent is not None:
        with warnings.catch_warnings(record=True) as said:      # passed on below, in order
            warnings.simplefilter("always", AudioWarning)
            a = _load_side(Path(agent))
            c = _load_side(Path(customer)) if customer is not None else None
        for w in said:
            warnings.warn(w.message, stacklevel=2)
        cut = any(issubclass(w.category, TruncatedWarning) for w in said)   # its length was said then
        name = Path(agent).name + (f" + {Path(customer).name}" if customer else "")
    else:
        raise AudioError("no call given: name a recording, or --agent FILE [--customer FILE], or --demo")
    differ = ""
    if c is not None:
        if customer is not None and not cut:
            differ = lengths_differ(Path(agent).name, len(a) / SAMPLE_RATE, Path(customer).name, len(c) / SAMPLE_RATE)
        n = max(len(a), len(c))
        a, c = np.pad(a, (0, n - len(a))), np.pad(c, (0, n - len(c)))
    peak = max(_peak(a), _peak(c) if c is not None else 0.0)
    if peak < SILENCE_PEAK:
        raise AudioError(f"{name}: the recording is silent (peak below -70 dBFS); nothing to analyse")
    levels = LevelCheck()
    levels.feed("agent", a)
    if c is not None:
        levels.feed("customer", c)
        levels.compare(a, c)
    levels.warn(name)
    if differ:
        warnings.warn(AudioWarning(differ), stacklevel=2)
    return CallAudio(a, c, name)


LENGTHS_DIFFER_S = 2.0
"""Two files of one call (``--agent``, ``--customer``) whose lengths differ by more are
said to (:func:`lengths_differ`)."""


def lengths_differ(agent: str, agent_s: float, customer: str, customer_s: float) -> str:
    """The warning for a call's two files of different lengths (names, lengths in s), or "".

    The shorter side is padded with silence, so every turn-taking figure after its end
    reads as if that side never spoke: a caller's 0:30 beside 1:14 of the agent gave a
    talk share of 24 %, not 39 %, with no word of why.

    >>> lengths_differ("me.wav", 74.0, "them.wav", 30.2)
    'me.wav (you) is 1:14 long and them.wav (the caller) 0:30: the caller is taken as silent after 0:30. Were they recorded together?'
    """
    if abs(agent_s - customer_s) <= LENGTHS_DIFFER_S:
        return ""
    from voicecoach.sinks.view import clock

    who = "you are" if agent_s < customer_s else "the caller is"
    return (f"{agent} (you) is {clock(agent_s)} long and {customer} (the caller) {clock(customer_s)}: "
            f"{who} taken as silent after {clock(min(agent_s, customer_s))}. Were they recorded together?")


CLIP_LEVEL = 0.98          # |sample| at or above: at full scale (after resampling's ripple)
CLIP_SHARE = 0.001         # a side with more of its samples there was recorded too loud
PIECE = 1 << 20            # samples at a time over a whole side: no float64 copy of a 4-hour side


def _pieces(*sides: np.ndarray):
    """Aligned stretches of ``PIECE`` samples of each of ``sides``."""
    for i in range(0, len(sides[0]), PIECE):
        yield tuple(side[i:i + PIECE] for side in sides)


def clipped_samples(x: np.ndarray) -> int:
    """How many samples of ``x`` are at full scale (:data:`CLIP_LEVEL`); over
    :data:`CLIP_SHARE` of them, the side was recorded too loud."""
    n = 0
    for piece, in _pieces(x):
        n += int(np.count_nonzero(piece >= CLIP_LEVEL)) + int(np.count_nonzero(piece <= -CLIP_LEVEL))
    return n


class LevelCheck:
    """What a call's levels say about the recording, as one warning line each: a side
    recorded too loud (clipped: its voice measures harsher and less warm than it was),
    one side with no sound at all while the other has (a wrong file, channel or device,
    a muted mic: every turn-taking figure would read as if that side never spoke), or
    both channels holding the same sound (one voice saved as stereo: the caller's side is
    then cancelled as an echo of the agent's, and reads as silent). Fed ``(channel,
    samples)`` as the call is read, and both sides of each stretch to :meth:`compare`;
    :meth:`warn` once it is all read."""

    SAME_CORRELATION = 0.95    # waveform correlation above which the two sides are one sound
    SAME_LAG = 4               # ... at any lag up to this many samples (0.25 ms) either way

    def __init__(self):
        self.peak: dict[str, float] = {}
        self.clipped: dict[str, int] = {}
        self.samples: dict[str, int] = {}
        self._sums = np.zeros(5)              # n, sums of agent, caller, agent**2, caller**2
        self._cross = np.zeros(2 * self.SAME_LAG + 1)   # sums of agent[t] * caller[t + lag]

    def feed(self, channel: str, x: np.ndarray) -> None:
        if not len(x):
            return
        self.peak[channel] = max(self.peak.get(channel, 0.0), _peak(x))
        self.clipped[channel] = self.clipped.get(channel, 0) + clipped_samples(x)
        self.samples[channel] = self.samples.get(channel, 0) + len(x)

    def compare(self, agent: np.ndarray, customer: np.ndarray) -> None:
        """Compare the two sides over the same stretch of the call (equal lengths)."""
        L = self.SAME_LAG
        for a, c in _pieces(agent, customer):
            a, c = a.astype(np.float64), c.astype(np.float64)
            self._sums += (len(a), a.sum(), c.sum(), float(a @ a), float(c @ c))
            if len(a) > 2 * L:     # (the few products across a piece's edge are left out)
                self._cross += [float(a[max(0, -k):len(a) - max(0, k)] @ c[max(0, k):len(c) - max(0, -k)])
                                for k in range(-L, L + 1)]

    def _same_sound(self) -> bool:
        n, sa, sc, saa, scc = self._sums
        if n == 0:
            return False
        var_a, var_c = saa - sa * sa / n, scc - sc * sc / n          # around the means: a DC
        if var_a <= 0 or var_c <= 0:                                  # offset is no sound
            return False
        best = float(np.max(np.abs(self._cross - sa * sc / n)))       # (a side inverted too)
        return best / np.sqrt(var_a * var_c) > self.SAME_CORRELATION

    def messages(self, name: str) -> list[str]:
        out = []
        for ch, n in self.samples.items():
            share = self.clipped[ch] / n
            if share > CLIP_SHARE:
                side, read = (("your side", "your warmth and pace") if ch == "agent"
                              else ("the caller's side", "the caller's words and temperature"))
                out.append(f"{name}: {side} is clipped ({share:.1%} of its samples at full scale): it was "
                           f"recorded too loud, and {read} are read from distorted speech")
        if "customer" in self.samples and self.peak["customer"] < SILENCE_PEAK <= self.peak.get("agent", 0.0):
            out.append(f"{name}: no sound at all on the caller's side: is it the right recording, channel or "
                       "--customer file? The caller is taken as silent throughout")
        if "customer" in self.samples and self.peak.get("agent", 0.0) < SILENCE_PEAK <= self.peak["customer"]:
            out.append(f"{name}: no sound at all on your side (a muted mic, or the wrong channel or "
                       "--agent file?); you are taken as silent throughout")
        elif self._same_sound():
            out.append(f"{name}: both sides hold the same sound (one voice saved as stereo, or the same "
                       "file twice?): the caller's side is taken as an echo of yours and reads as silent; "
                       "for your voice alone, give a mono file")
        return out

    def warn(self, name: str) -> None:
        for message in self.messages(name):
            warnings.warn(AudioWarning(message), stacklevel=3)


def _peak(x: np.ndarray) -> float:
    return max(float(x.max()), -float(x.min()))


def _load_side(path: Path) -> np.ndarray:
    """One side's file: mono, or several channels mixed down to one."""
    audio, sr = read_audio(path)
    _check(path, audio, sr)
    if audio.shape[1] > 1:
        check = OneVoice(path, sr)
        check.feed(audio)
        check.finish()
    return _resample(audio.mean(axis=1), sr)


class OneVoice:
    """Checks that a side's file with several channels holds one voice, not a call's two
    sides (left the agent, right the caller), which mixed down would count both voices as
    one side's.

    A call's two sides take turns: for seconds at a time each channel carries speech while
    the other is far quieter. One voice on two channels (a headset recorded in stereo, a
    copy a little quieter or later, or a dead channel that only hisses) never has both. So the file is two sides when each channel has been the one with
    sound (above -45 dBFS) and at least 15 dB louder than the first for ``DOMINANT_S``.
    Fed block by block, in 50 ms frames at the file's rate.
    """

    DOMINANT_S = 2.0       # seconds each side must lead (at the end of the file)
    EARLY_S = 6.0          # ... or this long, to refuse a long file before its end
    LEVEL_DBFS = -45.0
    LEAD_DB = 15.0
    FRAME_S = 0.05

    def __init__(self, path: Path, sr: int):
        self.path = path
        self.frame = max(1, int(sr * self.FRAME_S))
        self._lead: Optional[np.ndarray] = None   # [channel 0 leads, channel k leads] (s), per k
        self.judged = False

    def feed(self, x: np.ndarray) -> None:
        """The next block, ``[shape=(n, channels)]``; raises :class:`AudioError` as soon as
        both sides have led for ``EARLY_S`` (a long file is not read to its end first)."""
        if self.judged or x.ndim != 2 or x.shape[1] < 2:
            return
        chunk = self.frame * 20                        # a second at a time: little memory
        for i in range(0, len(x) - self.frame + 1, chunk):
            part = x[i:i + chunk]
            n = len(part) // self.frame * self.frame
            power = np.square(part[:n].reshape(-1, self.frame, x.shape[1]), dtype=np.float64).mean(axis=1)
            level = 10 * np.log10(power + 1e-12)       # [frames, channels] dBFS
            loud = level > self.LEVEL_DBFS
            first, rest = level[:, :1], level[:, 1:]
            lead = np.stack([((first - rest >= self.LEAD_DB) & loud[:, :1]).sum(axis=0),
                             ((rest - first >= self.LEAD_DB) & loud[:, 1:]).sum(axis=0)]) * self.FRAME_S
            self._lead = lead if self._lead is None else self._lead + lead
        if self._lead is not None and (self._lead.min(axis=0) >= self.EARLY_S).any():
            self.finish()

    def finish(self) -> None:
        """Raise :class:`AudioError` when the channels hold a call's two sides."""
        if self._lead is None or self.judged:
            return
        self.judged = True
        if (self._lead.min(axis=0) >= self.DOMINANT_S).any():
            raise AudioError(f"{self.path}: its channels take turns like a call's two sides; give it as "
                             f"the call (`voicecoach analyze {self.path}`), or one file per side")
