"""The ``mufno`` command: its subcommands are wired, user errors end in one clear line."""

import subprocess
import sys

from mufno_core import __version__
from mufno_core.cli import main


def test_version_and_help(capsys):
    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 2
    help_text = capsys.readouterr().out
    assert "data" in help_text and "sweep" in help_text


def test_user_error_is_one_line_without_traceback(tmp_path):
    """A missing results folder / bad preset: exit code 2 and a message, never a traceback."""
    done = subprocess.run([sys.executable, "-m", "mufno_core.cli", "sweep", "darcy_lr", "--preset",
                           "nonsense", "--results", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "nonsense" in done.stderr
