"""The benchmark scripts' command lines: a bad argument is one clear error line (argparse's,
exit status 2), missing data or programs a clean skip, never a traceback. (The runs
themselves are the benchmarks.)"""
import sys

import pytest


def run_main(monkeypatch, module, *args):
    """``python -m benchmarks.MODULE ARGS``: main()'s return value."""
    import importlib

    main = importlib.import_module(f"benchmarks.{module}").main
    monkeypatch.setattr(sys, "argv", [f"{module}.py", *args])
    return main()


@pytest.mark.parametrize("module, args, says", [
    ("speed", ["--runs", "0"], "--runs"),
    ("speed", ["--minutes", "-1"], "--minutes"),
    ("accuracy", ["--calls", "0"], "--calls"),
    ("decode_cost", ["--repeat", "0"], "--repeat"),
    ("shift", ["--calls", "0"], "--calls"),
    ("shift", ["--calls", "1"], "--calls"),
    ("team", ["--calls", "10"], "--calls"),
    ("longfile", ["--hours", "-2"], "--hours"),
    ("live", ["--minutes", "0"], "--minutes"),
    ("tips", ["--sentences", "-3"], "--sentences"),
    ("transcript", ["--sets", "read,tel"], "'tel'"),
    ("streaming_check", ["--only", "raed"], "'raed'"),
])
def test_a_bad_number_or_name_is_one_error_line(monkeypatch, capsys, module, args, says):
    with pytest.raises(SystemExit) as exit:
        run_main(monkeypatch, module, *args)
    assert exit.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"{module}.py: error:") and says in err[-1]
    assert not any("Traceback" in line for line in err)


def test_realcall_on_real_colleagues_alone_skips_in_one_line_without_the_data(tmp_path, capsys):
    from benchmarks.realcall import main

    assert main(["--conditions", "floor25-real", "--no-transcript", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err.strip() == f"floor25-real skipped: no real speech at {tmp_path}"


def test_realcall_names_an_unknown_voice(capsys):
    from benchmarks.realcall import main

    with pytest.raises(SystemExit) as exit:
        main(["--voices", "nosuch", "--no-transcript", "--quick"])
    assert exit.value.code == 2 and "--voices: unknown voice or backend 'nosuch'" in capsys.readouterr().err


def test_team_skips_in_one_line_without_postgresql(monkeypatch, capsys):
    import benchmarks.team

    monkeypatch.setattr(benchmarks.team, "find_bin_dir", lambda: None)
    assert run_main(monkeypatch, "team") is None
    assert capsys.readouterr().out.strip().splitlines() == [
        "skipped: PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed "
        "(Debian: apt install postgresql)"]


def test_wer_names_a_model_it_cannot_load(monkeypatch, capsys, tmp_path):
    (tmp_path / "transcripts.tsv").write_text("file\ttext\n")
    assert run_main(monkeypatch, "wer", "--data", str(tmp_path), "--model", "nosuch") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot load speech-to-text model 'nosuch'")


def test_prosody_check_without_the_read_speech_gives_no_verdict(monkeypatch, capsys, tmp_path):
    """The prosody targets are for the demo call and the read speech pooled: without the
    read speech the demo alone printed "FAIL" and exit 1, a failure where data was missing."""
    pytest.importorskip("librosa")
    assert run_main(monkeypatch, "prosody_check", "--data", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert f"read speech: skipped (no *.flac at {tmp_path})" in out
    assert out.rstrip().endswith("No verdict: the targets are for the demo call and the read speech "
                                 "pooled, and the read speech is missing")


def test_longfile_measures_a_too_short_long_call_as_one_whole_call(monkeypatch, capsys, tmp_path):
    """--hours shorter than one generated call wrote part of the call and scored it against
    the script of the whole call (the words never written counted as lost): it is measured
    as the one whole call, and says so in one line."""
    import json
    from types import SimpleNamespace

    import numpy as np
    import soundfile as sf

    import benchmarks.longfile as longfile
    import tools.callgen

    SR = longfile.SR
    utterances = [{"start": 0.2, "end": 0.8, "channel": "agent", "text": "hello there"},
                  {"start": 1.2, "end": 1.8, "channel": "customer", "text": "good morning"}]

    def random_call(seed, voices, minutes):                       # a 2-second call
        return SimpleNamespace(audio=np.zeros((2 * SR, 2), np.float32), truth={"utterances": utterances})

    def run_analyze(path, out):
        """A perfect transcript of the words the file holds."""
        duration = sf.info(str(path)).duration
        said = [dict(u) for u in utterances if u["end"] <= duration]
        out.write_text(json.dumps({"transcript": said}))
        return 1.0, 1.0, 100.0

    monkeypatch.setattr(tools.callgen, "random_call", random_call)
    monkeypatch.setattr(longfile, "run_analyze", run_analyze)
    monkeypatch.setattr(longfile, "machine", lambda: "test")
    assert run_main(monkeypatch, "longfile", "--hours", "0.0003", "--no-short") == 0    # 1.08 s of a 2 s call
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("--hours 0.0003: shorter than one generated call (0.0 min), so measured as that "
                      "one whole call (0.000556 h)")
    assert out[-1].split()[:2] == ["0.000556", "h"] and out[-1].split()[-2] == "0.0%", out[-1]   # WER


def test_transcript_prepares_only_the_sets_asked_for(monkeypatch, capsys, tmp_path):
    """`--sets read` generated the calls and put every clip and RAVDESS through the telephone
    line too (minutes of work) before it dropped them; it reads the read speech alone now.
    (A read set of one silent clip here, so no shared data is needed.)"""
    import numpy as np
    import soundfile as sf

    import benchmarks.transcript as transcript

    sf.write(tmp_path / "a.wav", np.zeros(16000, np.float32), 16000)
    (tmp_path / "transcripts.tsv").write_text("file\ttext\na.wav\thello there\n")
    made = []

    def refuse(what):
        def stand_in(*args, **kwargs):
            made.append(what)
            return args[0] if what == "telephone" else []
        return stand_in

    monkeypatch.setattr(transcript, "call_items", refuse("calls"))
    monkeypatch.setattr(transcript, "telephone", refuse("telephone"))
    monkeypatch.setattr(transcript, "ravdess_items", refuse("ravdess"))
    items = transcript.prepare({"read"}, tmp_path, tmp_path / "none", [1], 3.0)
    assert [(i.set, i.name, i.ref) for i in items] == [("read", "a.wav", "hello there")]
    assert made == [] and capsys.readouterr().out == ""
    items = transcript.prepare({"read joined tel"}, tmp_path, tmp_path / "none", [1], 3.0)
    assert [(i.set, i.ref) for i in items] == [("read joined tel", "hello there")]
    assert made == ["telephone"]                       # the joined clips alone went down the line
    made.clear()
    assert len(transcript.prepare(set(), tmp_path, tmp_path / "none", [1], 3.0)) == 4   # every set
    assert made == ["ravdess", "telephone", "telephone", "calls"]
