"""VoiceCoach: a private, on-device voice coach for support agents.

Importing the package switches off onnxruntime's usage telemetry before anything
can import onnxruntime (faster-whisper's VAD and ours use it): nothing leaves the
machine.
"""
import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"

# Installed, setuptools maps the checkout's top-level ui/ and models/ folders to
# voicecoach.ui and voicecoach.models (pyproject's package-dir). Run from a source
# checkout, the same names resolve to those folders beside this one.
_checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isfile(os.path.join(_checkout, "pyproject.toml")) and os.path.isdir(
        os.path.join(_checkout, "models")):
    __path__.append(_checkout)  # noqa: F821 (the package's own __path__)
