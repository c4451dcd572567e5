"""What ``pip install .`` (README's first command, not the editable install the tests
run from) puts on a newcomer's machine: every package of the source tree."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_of_the_tree_is_installed():
    """``[tool.setuptools] packages`` is a list: a package added to the tree and not to it
    (``voicecoach/cli/``, split out of ``cli.py``) works in the editable install and is
    missing from an ordinary one, where ``voicecoach`` then fails to start."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(setup["packages"])
    roots = {name: ROOT / folder for name, folder in setup["package-dir"].items()}
    in_tree = set()
    for name, folder in roots.items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            if "__pycache__" not in parts and not any(p.startswith(".") for p in parts):
                in_tree.add(".".join((name, *parts)))
    assert in_tree - listed == set(), f"packages missing from pyproject.toml: {sorted(in_tree - listed)}"
    assert "voicecoach.cli" in listed


def test_the_command_still_runs_as_python_m_voicecoach_cli():
    """``cli.py`` ran as ``python -m voicecoach.cli``; the package does too."""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "voicecoach.cli", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.startswith("voicecoach"), (res.stdout, res.stderr)
