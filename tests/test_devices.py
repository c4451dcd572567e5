"""Listing inputs and resolving a user's device spec, on a real (private) PulseAudio daemon."""
import json

import pytest

from voicecoach.sources.devices import (
    MONITOR_LABEL,
    DeviceError,
    format_inputs,
    list_inputs,
    parse_sources_json,
    parse_sources_short,
    pulse_source_present,
    pulse_sources,
    resolve_device,
)

SHORT = ("0\talsa_output.usb-Headset.analog-stereo.monitor\tmodule-alsa-card.c\ts16le 2ch 48000Hz\tSUSPENDED\n"
         "1\talsa_input.usb-Headset.mono-fallback\tmodule-alsa-card.c\ts16le 1ch 44100Hz\tRUNNING\n")


def test_short_source_list_is_parsed_and_monitors_marked():
    mon, mic = parse_sources_short(SHORT, "PulseAudio")
    assert (mon.name, mon.channels, mon.default_samplerate_hz, mon.is_monitor) == \
        ("alsa_output.usb-Headset.analog-stereo.monitor", 2, 48000.0, True)
    assert (mic.channels, mic.default_samplerate_hz, mic.is_monitor) == (1, 44100.0, False)
    assert MONITOR_LABEL in mon.row[-1] and MONITOR_LABEL not in mic.row[-1]


def test_json_source_list_uses_description_and_device_class():
    text = json.dumps([
        {"name": "speakers.monitor", "description": "Monitor of Speakers",
         "sample_specification": "float32le 2ch 48000Hz", "properties": {"device.class": "monitor"}},
        {"name": "mic", "description": "Headset Mic", "sample_specification": "s16le 1ch 16000Hz",
         "properties": {"device.class": "sound"}, "monitor_source": ""}])
    mon, mic = parse_sources_json(text, "PulseAudio")
    assert mon.is_monitor and mon.description == "Monitor of Speakers" and mon.channels == 2
    assert not mic.is_monitor and "Headset Mic" in mic.row[-1]


def test_listing_shows_portaudio_pulse_device_and_every_source(pulse):
    inputs = list_inputs()
    by_name = {d.name: d for d in inputs}
    assert by_name["pulse"].index is not None and by_name["pulse"].host_api == "ALSA"
    for name in ("call.monitor", "agent.monitor", "customer.monitor"):
        assert by_name[name].is_monitor and by_name[name].index is None
    assert not by_name["agent_mic"].is_monitor
    assert by_name["call.monitor"].channels == 2 and by_name["agent.monitor"].channels == 1
    text = format_inputs(inputs)
    monitor_lines = [line for line in text.splitlines() if MONITOR_LABEL in line]
    assert len(monitor_lines) == 3 and all(".monitor" in line for line in monitor_lines)
    # a table, as every command prints one: each column starts where its header does
    head, rule, *rows = text.split("\n\n")[0].splitlines()
    assert set(rule) == {"─", " "} and len(rows) == len(inputs)
    for column in ("Input", "Through", "What it is"):
        at = head.index(column)
        assert all(row[at - 2:at] == "  " and row[at] != " " for row in rows if len(row) > at), (column, text)
    assert all(row[head.index("What it is"):].startswith("Monitor of ") for row in monitor_lines)


def test_json_and_short_listings_agree(pulse):
    via_json = pulse_sources()
    via_short = parse_sources_short(pulse.pactl("list", "short", "sources"), via_json[0].host_api)
    assert [(d.name, d.channels, d.is_monitor) for d in via_json] == \
        [(d.name, d.channels, d.is_monitor) for d in via_short]


def test_resolve_pulse_source_opens_through_the_pulse_device(pulse):
    choice = resolve_device("customer.monitor")
    pulse_index = next(d.index for d in list_inputs() if d.name == "pulse")
    assert (choice.device, choice.channels, choice.pulse_source) == (pulse_index, 1, "customer.monitor")
    assert choice.open_env() == {"PULSE_SOURCE": "customer.monitor",
                                 "PULSE_SERVER": pulse.env()["PULSE_SERVER"]}


def test_resolve_by_index_and_unique_part_of_a_name(pulse):
    pulse_index = next(d.index for d in list_inputs() if d.name == "pulse")
    by_index = resolve_device(str(pulse_index))
    assert by_index.name == "pulse" and by_index.pulse_source is None and by_index.open_env() == {}
    assert resolve_device(pulse_index) == by_index
    assert resolve_device("customer_m").pulse_source == "customer_mic"
    assert resolve_device("Monitor of call").pulse_source == "call.monitor"   # description


@pytest.mark.parametrize("spec, pattern", [
    ("no-such-mic", r"^no input device matches 'no-such-mic'; inputs: .*'agent\.monitor'"),
    ("99", r"^no input device with index 99; inputs: .*'customer\.monitor'"),
    ("agent", r"^input device 'agent' is ambiguous: 'agent\.monitor', 'agent_mic'; give the full name"),
    ("monitor", r"^input device 'monitor' is ambiguous: 'call\.monitor', 'agent\.monitor', 'customer\.monitor'"),
])
def test_resolve_errors_are_one_line_naming_what_exists(pulse, spec, pattern):
    with pytest.raises(DeviceError, match=pattern) as err:
        resolve_device(spec)
    assert "\n" not in str(err.value)


def test_source_presence(pulse):
    assert pulse_source_present("agent.monitor")
    assert not pulse_source_present("nobody.monitor")
    assert not pulse_source_present("agent.monitor", server="unix:/nonexistent/socket")
    assert pulse_sources(server="unix:/nonexistent/socket") is None


def test_no_audio_input_at_all_is_said_so_not_as_a_name_that_does_not_match(tmp_path):
    """`live --console` on a machine with no sound card and no sound server said
    "no input device matches 'default'", a name the user never typed."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PULSE_SERVER=f"unix:{tmp_path}/no-server", HOME=str(tmp_path))
    probe = subprocess.run([sys.executable, "-c", "from voicecoach.sources.devices import portaudio_inputs as p; "
                            "print(len(p()))"], capture_output=True, text=True, env=env, timeout=60)
    if probe.stdout.strip() != "0":
        pytest.skip("this machine has a sound card: an input is found without a sound server")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "live", "--console", "--stop-after", "1"],
                         capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr == ("voicecoach: error: no audio input on this computer: no sound card, and no sound "
                          "server (PulseAudio or PipeWire) answering\n")
