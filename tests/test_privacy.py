"""Nothing leaves the machine: `analyze` and `live` open no network connection.

strace records every connect/sendto of the whole process tree, including native
code (onnxruntime's telemetry is C++ and invisible to Python-level hooks). The
control run shows the harness catches the look-ups onnxruntime makes when its
telemetry is left on.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")

NETWORK = re.compile(r"sa_family=AF_INET6?|nscd/socket")
WAIT_S = 12   # onnxruntime's telemetry look-up comes about 9 s after start


def traced(code, tmp_path, env=None):
    log = tmp_path / "strace.log"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log),
                    sys.executable, "-c", code], check=True, env=env, timeout=300,
                   stdout=subprocess.DEVNULL)
    return [line for line in log.read_text().splitlines() if NETWORK.search(line)]


def test_analyze_opens_no_network_connection(tmp_path):
    code = ("import time; from voicecoach.cli import main; t = time.time(); "
            f"assert main(['analyze', '--demo', '--quiet', '-o', r'{tmp_path / 'rec.json'}']) == 0; "
            f"time.sleep(max(0, {WAIT_S} - (time.time() - t)))")
    assert traced(code, tmp_path) == []
    assert (tmp_path / "rec.json").stat().st_size > 1000


def test_live_opens_no_network_connection(tmp_path):
    code = ("from voicecoach.cli import main; "
            "assert main(['live', '--replay', 'demo', '--console', '--stop-after', '14']) == 0")
    assert traced(code, tmp_path) == []


def test_the_harness_sees_onnxruntime_telemetry_when_it_is_on(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    code = ("import time, onnxruntime, faster_whisper.vad as v; v.get_vad_model(); "
            f"time.sleep({WAIT_S})")
    hits = traced(code, tmp_path, env)
    if not hits:
        pytest.skip("this onnxruntime made no look-up even with telemetry on")
    assert hits
