"""Speech-to-text: Whisper loading and windowed encoding (:mod:`.whisper`), whole
calls offline (:mod:`.offline`) and live streaming (:mod:`.streaming`)."""
