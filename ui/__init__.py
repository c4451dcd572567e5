"""VoiceCoach's PyQt6 windows (installed as ``voicecoach.ui``): the overlay and the review.

They talk to the engine only through its events and snapshots.
"""
