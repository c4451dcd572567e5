"""A stand-in for sounddevice.OutputStream shared by the player tests."""


class FakeStream:
    """Stands in for sounddevice.OutputStream; the test calls its callback."""

    def __init__(self, samplerate, channels, dtype, callback):
        self.samplerate, self.channels, self.callback = samplerate, channels, callback
        self.active = False
        self.closed = False

    def start(self):
        self.active = True

    def stop(self):
        self.active = False

    def close(self):
        self.closed = True


def output_streams():
    """``(made, factory)``: a stand-in ``sounddevice.OutputStream`` factory and the
    streams it made, to drive the player's callback by hand (the real device is
    exercised by test_playback's PulseAudio test)."""
    made = []

    def factory(**kwargs):
        made.append(FakeStream(**kwargs))
        return made[-1]

    return made, factory
