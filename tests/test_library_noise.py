"""The audio libraries' own lines on fd 2 (voicecoach.sources.library_noise)."""
import os
import subprocess
import sys
import threading

from voicecoach.sources.library_noise import NOISE, quiet_decoders

PORTAUDIO = (b"Expression 'PaAlsaStream_WaitForFrames( stream, &framesAvail, &xrun )' failed in "
             b"'src/hostapi/alsa/pa_linux_alsa.c', line: 4285")
ALSA = b"ALSA lib pulse.c:242:(pulse_connect) PulseAudio: Unable to connect: Connection refused"


def test_the_noise_pattern_takes_the_libraries_lines_and_nothing_else():
    assert NOISE.match(PORTAUDIO) and NOISE.match(ALSA)
    for jack in (b"Cannot connect to server socket err = No such file or directory",
                 b"Cannot connect to server request channel", b"jack server is not running or cannot be started",
                 b"JackShmReadWritePtr::~JackShmReadWritePtr - Init not done for -1, skipping unlock"):
        assert NOISE.match(jack), jack
    for line in (b"voicecoach: error: a.wav: no such file", b"Expression of interest",
                 b"QFont::setPointSize: Point size <= 0 (0), must be greater than 0", b""):
        assert not NOISE.match(line), line


def test_a_command_s_stderr_keeps_its_own_lines_and_loses_the_libraries(tmp_path):
    """In a process of its own: C writes to fd 2 go through the filter, Python's
    ``sys.stderr`` straight to the terminal; both arrive, the noise does not."""
    script = f"""
import os, sys
from voicecoach.sources.library_noise import filter_library_noise
with filter_library_noise():
    os.write(2, {PORTAUDIO!r} + b"\\nkept from C\\n" + {ALSA!r} + b"\\n")
    print("ours", file=sys.stderr)
    os.write(2, b"unfinished")
print("after", file=sys.stderr)
"""
    env = {k: v for k, v in os.environ.items() if k != "VOICECOACH_DEBUG"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.decode().replace("unfinished", "unfinished\n").split()
    assert sorted(lines) == sorted(["kept", "from", "C", "ours", "unfinished", "after"]), proc.stderr
    assert proc.stderr.decode().endswith("after\n")       # everything was passed on before the end

    debug = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60,
                           env=dict(env, VOICECOACH_DEBUG="1"), cwd=os.path.dirname(os.path.dirname(__file__)))
    assert PORTAUDIO in debug.stderr                     # a developer sees everything


def test_quiet_decoders_on_two_threads_gives_fd_2_back_when_the_last_one_ends():
    before = os.fstat(2)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with quiet_decoders():
            first_in.set()
            second_in.wait(10)
        first_out.set()           # leaves while the second is still inside

    t = threading.Thread(target=first)
    t.start()
    first_in.wait(10)
    with quiet_decoders():
        second_in.set()
        first_out.wait(10)
        assert os.fstat(2).st_ino == os.stat(os.devnull).st_ino    # still quiet
    t.join()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


def test_a_decoder_still_running_when_the_filter_ends_gives_fd_2_back_to_the_terminal(tmp_path):
    """A recording analysed in the background (live's recovery) may still be decoding when
    the command ends: fd 2 must end on the terminal, not on the filter's closed pipe."""
    script = """
import os, sys, threading
from voicecoach.sources.library_noise import filter_library_noise, quiet_decoders
inside, done = threading.Event(), threading.Event()
def decode():
    with quiet_decoders():
        inside.set()
        done.wait(10)
t = threading.Thread(target=decode)
with filter_library_noise():
    t.start()
    inside.wait(10)
done.set()
t.join()
os.write(2, b"after both\\n")
"""
    env = {k: v for k, v in os.environ.items() if k != "VOICECOACH_DEBUG"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0 and proc.stderr == b"after both\n", proc.stderr
