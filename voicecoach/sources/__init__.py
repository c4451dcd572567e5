"""Where audio comes from: files (decoded and replayed) and live devices.

Every source yields frames ``(channel, start_s, samples)``: mono float32 at
:data:`voicecoach.events.SAMPLE_RATE`, stamped on the call clock.
"""
