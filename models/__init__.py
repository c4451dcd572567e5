"""Model artifacts VoiceCoach owns (installed as ``voicecoach.models``): lexicons, the warmth model, the language cues' sentence model and its sentence encoder."""
