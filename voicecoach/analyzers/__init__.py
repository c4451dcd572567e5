"""Incremental analyzers, each fed in call-clock order and testable on plain arrays.

Voice activity and prosody per channel; turn-taking across channels; warmth, pace
and caller arousal from prosody frames; language cues from words. None of them
owns a thread or does I/O.
"""
