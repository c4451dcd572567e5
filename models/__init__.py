"""Model artifacts VoiceCoach owns (installed as ``voicecoach.models``): lexicons and the warmth model."""
