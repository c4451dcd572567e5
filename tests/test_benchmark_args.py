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
