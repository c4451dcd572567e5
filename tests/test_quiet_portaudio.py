"""PortAudio's failed-check lines are dropped from standard error while capturing; every
other line, from C or from Python, still reaches it."""
import subprocess
import sys
import textwrap


def test_portaudio_lines_are_dropped_and_the_rest_pass():
    script = textwrap.dedent(r"""
        import ctypes, os, sys
        from voicecoach.sources.quiet_portaudio import portaudio_lines_dropped

        libc = ctypes.CDLL(None)
        with portaudio_lines_dropped():
            os.write(2, b"Expression 'alsa_snd_pcm_poll_descriptors_revents( self->pcm )' failed in "
                        b"'src/hostapi/alsa/pa_linux_alsa.c', line: 3665\nALSA says something else\n")
            libc.dprintf(2, b"PaAlsaStream_WaitForFrames: broken\nC keeps writing\n")
            print("python's own line", file=sys.stderr)
            os.write(2, b"last words without a newline")
        print("after", file=sys.stderr)
        os.write(2, b"\nExpression 'x' failed in 'src/a.c', line: 1\n")   # not filtered any more
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "pa_linux_alsa" not in err and "PaAlsaStream" not in err
    for line in ("ALSA says something else", "C keeps writing", "python's own line",
                 "last words without a newline", "after", "Expression 'x' failed"):
        assert line in err, err
